/*
 * pemtext.c - the shape of a PEM text, before OpenSSL reads it: the label of
 * its first block, and what stands outside its blocks.
 *
 * OpenSSL skips whatever stands before, between and after PEM blocks, so a
 * block with a damaged BEGIN line (and the certificate in it) would vanish
 * without a word.  The certificate, key and CRL readers (certinfo.c) check
 * the text here first.  Nothing here quotes the text: a key file's text is
 * secret.
 */
#include "pemtext.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* the shortest line outside a block taken for a lost block's body (they are 64 long) */
#define PEM_BODY_LINE_MIN 40

static const char not_pem_hint[] =
    "The file must be in PEM format (text starting with \"-----BEGIN\"); convert a DER file "
    "with \"openssl x509 -inform der -in FILE -out FILE.pem\".";

static bool starts_with(const char *s, const char *end, const char *prefix)
{
    size_t n = strlen(prefix);

    return (size_t)(end - s) >= n && memcmp(s, prefix, n) == 0;
}

/* A line like a block's body: base64 only ("=" only as padding at its end), and long. */
static bool is_base64_line(const char *s, const char *end)
{
    int pad = 0;

    if (end - s < PEM_BODY_LINE_MIN)
        return false;
    while (pad < 2 && end > s && end[-1] == '=') {
        end--;
        pad++;
    }
    for (; s < end; s++)
        if (!isalnum((unsigned char)*s) && *s != '+' && *s != '/')
            return false;
    return true;
}

/* A walk over the lines of a PEM text, knowing which are inside a block. */
struct pem_walk {
    const char *p, *end;
    const char *line, *line_end; /* the current line, without trailing whitespace */
    int n;                       /* its number, from 1 */
    bool in_block;               /* it is a block's BEGIN, body or END line */
    bool closes;                 /* it is a block's END line */
};

static bool pem_next_line(struct pem_walk *w)
{
    const char *eol;

    if (w->p >= w->end)
        return false;
    eol = memchr(w->p, '\n', (size_t)(w->end - w->p));
    w->line = w->p;
    w->line_end = eol ? eol : w->end;
    w->p = eol ? eol + 1 : w->end;
    w->n++;
    while (w->line_end > w->line && isspace((unsigned char)w->line_end[-1]))
        w->line_end--;
    w->closes = w->in_block && starts_with(w->line, w->line_end, "-----END ");
    /* OpenSSL's rule: the line starts with "-----BEGIN " and ends with "-----" */
    if (!w->in_block)
        w->in_block = starts_with(w->line, w->line_end, "-----BEGIN ") &&
                      w->line_end - w->line > 16 && memcmp(w->line_end - 5, "-----", 5) == 0;
    return true;
}

/* After pem_next_line: whether the next line starts outside any block. */
static void pem_line_done(struct pem_walk *w)
{
    if (w->closes)
        w->in_block = false;
}

/*
 * Text outside the PEM blocks.  OpenSSL skips whatever stands before, between
 * and after blocks, so a block with a damaged BEGIN line (and the certificate
 * in it) vanishes without a word, and so does a file cut short and glued to
 * something else.  Accepted, as OpenSSL accepts it: text before and between
 * blocks, which real files carry ("openssl x509 -text" output, the "Bag
 * Attributes" and "subject=" lines of a PKCS#12 export, "# Issuer:" comments
 * of CA bundles).  Junk: anything but whitespace after the last END line
 * (nothing writes there), and, anywhere outside a block, a line holding
 * "-----" (a damaged BEGIN or END line), a line of base64 only as long as a
 * block's body lines (a block that lost its BEGIN line), or control
 * characters (binary data such as appended DER).  Never quotes the text: a
 * key file's text is secret.
 */
static int check_pem_text(const char *pem, size_t len, const char *name, struct dbssl_error *err)
{
    struct pem_walk w = {pem, pem + len, NULL, NULL, 0, false, false};
    int last_end = 0;

    while (pem_next_line(&w)) {
        if (w.closes)
            last_end = w.n;
        pem_line_done(&w);
    }
    w = (struct pem_walk){pem, pem + len, NULL, NULL, 0, false, false};
    while (pem_next_line(&w)) {
        const char *why = NULL;
        bool blank = true, control = false;

        for (const char *c = w.line; c < w.line_end && !w.in_block; c++) {
            blank = blank && isspace((unsigned char)*c);
            control = control || (iscntrl((unsigned char)*c) && !isspace((unsigned char)*c));
        }
        pem_line_done(&w);
        if (w.in_block || w.closes || blank)
            continue;
        if (control)
            why = "has binary data outside its PEM blocks";
        else if (memmem(w.line, (size_t)(w.line_end - w.line), "-----", 5) != NULL ||
                 is_base64_line(w.line, w.line_end))
            why = "has a damaged PEM block that would be ignored";
        else if (w.n > last_end)
            why = "has text after its last PEM block";
        else
            continue;
        dbssl_error_set(err, DBSSL_ERR_CERT,
                        "Keep only PEM blocks, each from its \"-----BEGIN ...-----\" line to its "
                        "\"-----END ...-----\" line (comments may stand before and between "
                        "them); when the file was cut short or pasted together, obtain a fresh "
                        "copy.",
                        "%s %s (line %d)", name, why, w.n);
        return -1;
    }
    return 0;
}

/*
 * The start of every reader: the label of the first block (e.g. "PRIVATE
 * KEY", from its BEGIN line alone: never text past that line, which may be a
 * key) into label, and no junk outside the blocks (check_pem_text).  A file
 * without a block is "not in PEM format", unless it has a damaged BEGIN line.
 */
int pemtext_check(const char *pem, size_t len, const char *name, char *label, size_t labellen,
                  struct dbssl_error *err)
{
    struct pem_walk w = {pem, pem + len, NULL, NULL, 0, false, false};

    label[0] = '\0';
    while (pem_next_line(&w) && !w.in_block)
        ;
    if (w.in_block)
        snprintf(label, labellen, "%.*s", (int)(w.line_end - w.line - 16), w.line + 11);
    /* a damaged BEGIN line says so; without any, the file is something else */
    if ((w.in_block || memmem(pem, len, "-----BEGIN", 10) != NULL) &&
        check_pem_text(pem, len, name, err) != 0)
        return -1;
    if (!w.in_block) {
        dbssl_error_set(err, DBSSL_ERR_CERT, not_pem_hint, "%s is not in PEM format", name);
        return -1;
    }
    return 0;
}

/* pemtext.h: the certificate BEGIN lines, as OpenSSL counts blocks */
int pemtext_cert_block_after(const char *pem, size_t len, size_t n)
{
    static const char *const labels[] = {"-----BEGIN CERTIFICATE-----",
                                         "-----BEGIN X509 CERTIFICATE-----",
                                         "-----BEGIN TRUSTED CERTIFICATE-----"};
    struct pem_walk w = {pem, pem + len, NULL, NULL, 0, false, false};
    size_t seen = 0;

    for (bool was_in = false; pem_next_line(&w); was_in = w.in_block) {
        bool begins = !was_in && w.in_block;
        for (size_t i = 0; begins && i < sizeof(labels) / sizeof(labels[0]); i++)
            if ((size_t)(w.line_end - w.line) == strlen(labels[i]) &&
                memcmp(w.line, labels[i], strlen(labels[i])) == 0 && seen++ == n)
                return w.n;
        pem_line_done(&w);
    }
    return 0;
}
