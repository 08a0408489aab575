/*
 * fuzz_pem.c - the certificate, private key and CRL readers on arbitrary
 * bytes (as each file setting's content), with two oracles:
 *
 * - nothing silently dropped: when the certificate reader accepts the input,
 *   it has read a certificate for every certificate block in it (a BEGIN
 *   line of CERTIFICATE, X509 CERTIFICATE or TRUSTED CERTIFICATE outside any
 *   block), so that no damaged or misplaced block is skipped without a word
 *   (OpenSSL may read more: it stops a line at a NUL byte);
 * - nothing echoed: no message, detail or hint of any reader contains a line
 *   of the input (16 characters or more; not a BEGIN or END line, nor a piece
 *   of the PEM armor a hint quotes: those are the format's words), unless
 *   the line is part of the first BEGIN line, whose label the readers name: a
 *   key file's lines are the key.
 *
 * With clang and -DDBSSL_FUZZ=ON this is a libFuzzer target; otherwise
 * replay.c's main() replays the committed seeds (tests/fuzz/corpus/pem),
 * which is what CTest runs.
 */
#include "certinfo.h"
#include "fuzz_common.h"

#define LINE_MIN 16

static bool starts(const char *s, const char *e, const char *prefix)
{
    size_t n = strlen(prefix);

    return (size_t)(e - s) >= n && memcmp(s, prefix, n) == 0;
}

static bool is_begin(const char *s, const char *e)
{
    return starts(s, e, "-----BEGIN ") && e - s > 16 && memcmp(e - 5, "-----", 5) == 0;
}

/* The certificate blocks of text as OpenSSL finds them: BEGIN lines outside blocks. */
static size_t count_cert_blocks(const char *text, size_t len)
{
    static const char *const labels[] = {"-----BEGIN CERTIFICATE-----",
                                         "-----BEGIN X509 CERTIFICATE-----",
                                         "-----BEGIN TRUSTED CERTIFICATE-----"};
    const char *p = text, *end = text + len;
    bool in_block = false;
    size_t n = 0;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *e = eol ? eol : end;
        while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        if (in_block) {
            in_block = !starts(p, e, "-----END ");
        } else if (is_begin(p, e)) {
            in_block = true;
            for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
                if ((size_t)(e - p) == strlen(labels[i]) &&
                    memcmp(p, labels[i], (size_t)(e - p)) == 0)
                    n++;
        }
        p = eol ? eol + 1 : end;
    }
    return n;
}

enum reader { CERTS, KEY, CRL };
static const char *const reader_names[] = {"certificate", "private key", "CRL"};

/* Runs one reader on text (NUL-terminated at len); *ncerts: certificates read. */
static int run_reader(enum reader r, const char *text, size_t len, size_t *ncerts,
                      struct dbssl_error *e)
{
    struct dbssl_certlist list;
    struct dbssl_keyinfo key;
    long long last, next;
    int ret = -1;

    dbssl_error_clear(e);
    *ncerts = 0;
    switch (r) {
    case CERTS:
        ret = dbssl_certlist_parse(text, len, "certificate file \"fuzz.crt\"", &list, e);
        if (ret == 0) {
            *ncerts = list.n;
            dbssl_certlist_free(&list);
        }
        break;
    case KEY:
        ret = dbssl_key_parse(text, len, "private key file \"fuzz.key\"", &key, e);
        break;
    case CRL:
        ret = dbssl_crl_parse(text, len, "CRL file \"fuzz.crl\"", &last, &next, e);
        break;
    }
    return ret;
}

/*
 * hint with the PEM armor it quotes cut out: "-----BEGIN PRIVATE
 * KEY-----" in a hint is the format's words, not the input's, so an input
 * line that is a piece of it ("---BEGIN PRIVATE KEY") is no echo.
 */
static void hint_without_armor(const char *hint, char *buf, size_t len)
{
    snprintf(buf, len, "%s", hint);
    for (char *p = buf; (p = strstr(p, "-----")) != NULL;) {
        char *close = strstr(p + 5, "-----"), *end = p + 5;
        if ((strncmp(p + 5, "BEGIN", 5) == 0 || strncmp(p + 5, "END", 3) == 0) && close != NULL)
            end = close + 5;
        memset(p, '\n', (size_t)(end - p)); /* no input line holds one */
        p = end;
    }
}

static bool holds(const struct dbssl_error *e, const char *line)
{
    char hint[sizeof(e->hint)];

    hint_without_armor(e->hint, hint, sizeof(hint));
    return strstr(e->message, line) != NULL || strstr(e->detail, line) != NULL ||
           strstr(hint, line) != NULL;
}

/* The first BEGIN line outside a block (the readers quote its label), or NULL. */
static const char *first_begin(const char *text, size_t len, size_t *n)
{
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *e = eol ? eol : end;
        while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        if (is_begin(p, e)) {
            *n = (size_t)(e - p);
            return p;
        }
        p = eol ? eol + 1 : end;
    }
    return NULL;
}

/*
 * Aborts when r's error echoes a line of text (LINE_MIN+ long), unless the
 * line is part of the first BEGIN line: the readers name the first block's
 * label ("found \"CERTIFICATE\""), which is no secret.
 */
static void check_no_echo(enum reader r, const char *text, size_t len, const struct dbssl_error *e)
{
    const char *p = text, *end = text + len, *begin;
    size_t begin_len = 0;

    begin = first_begin(text, len, &begin_len);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *le = eol ? eol : end;
        size_t n = (size_t)(le - p);
        char line[256];

        /* BEGIN and END lines are the format's words, which hints quote */
        if (n >= LINE_MIN && n < sizeof(line) && memchr(p, '\0', n) == NULL &&
            memmem(p, n, "-----", 5) == NULL) {
            memcpy(line, p, n);
            line[n] = '\0';
            if (holds(e, line) && (begin == NULL || memmem(begin, begin_len, line, n) == NULL)) {
                fprintf(stderr, "fuzz_pem: the %s reader echoes the input line \"%s\" in: %s\n",
                        reader_names[r], line, e->message);
                abort();
            }
        }
        p = eol ? eol + 1 : end;
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    /* the readers take a file's content, which read_file ends with a NUL */
    char *text = malloc(size + 1);
    struct dbssl_error e;
    size_t ncerts;

    if (text == NULL)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    for (enum reader r = CERTS; r <= CRL; r++) {
        if (run_reader(r, text, size, &ncerts, &e) != 0) {
            check_no_echo(r, text, size, &e);
        } else if (r == CERTS && ncerts < count_cert_blocks(text, size)) {
            fprintf(stderr, "fuzz_pem: %zu certificate blocks, but %zu certificates read\n",
                    count_cert_blocks(text, size), ncerts);
            abort();
        }
    }
    free(text);
    return 0;
}
