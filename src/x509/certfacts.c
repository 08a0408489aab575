/*
 * certfacts.c - the generated set's record of what its files hold
 * (certfacts.h says why and when it is trusted).
 *
 * The record is JSON:
 *   {"format": 1, "dbssl": VERSION, "openssl": OpenSSL_version(),
 *    "files": {"ca.crt": {"id": IDENTITY, "certs": [CERT...], "chain_ok": false},
 *              "ca.key": {"id": IDENTITY, "key": {"type", "bits", "spki"}}, ...}}
 * where IDENTITY is "dev:ino:size:mtime:ctime" (times with nanoseconds) and
 * CERT holds every field of struct dbssl_certinfo but the OpenSSL object,
 * the public key in hex.  Strings that are not UTF-8 are not recorded (that
 * file is then parsed each time): a record gives back exactly what was
 * parsed, or nothing.
 */
#include "certfacts.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certinfo_int.h"
#include "util.h"

#define FACTS_FORMAT 1
/* a set of six files records a few KiB; anything far larger is not ours */
#define FACTS_MAX    (256 * 1024)
#define FACTS_TMP    DBSSL_CERTFACTS_FILE ".tmp"
#define IDENTITY_BUF 128

struct dbssl_certfacts {
    json_t *files; /* name -> entry */
};

static void identity(const struct stat *st, char *buf, size_t len)
{
    snprintf(buf, len, "%ju:%ju:%jd:%lld.%09ld:%lld.%09ld", (uintmax_t)st->st_dev,
             (uintmax_t)st->st_ino, (intmax_t)st->st_size, (long long)st->st_mtim.tv_sec,
             (long)st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, (long)st->st_ctim.tv_nsec);
}

/* The entry of name when st is its recorded identity; NULL otherwise. */
static json_t *entry(const struct dbssl_certfacts *k, const char *name, const struct stat *st)
{
    json_t *e = k != NULL && st != NULL ? json_object_get(k->files, name) : NULL;
    const char *id = json_string_value(json_object_get(e, "id"));
    char now[IDENTITY_BUF];

    if (id == NULL)
        return NULL;
    identity(st, now, sizeof(now));
    return strcmp(id, now) == 0 ? e : NULL;
}

/* ---- hex ---------------------------------------------------------------------- */

static json_t *hex_of(const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * n + 1);
    json_t *j;

    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 0xf];
    }
    s[2 * n] = '\0';
    j = json_string(s);
    free(s);
    return j;
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The bytes of hex string j, malloc'ed; NULL when j is not one (or is empty). */
static unsigned char *bytes_of(const json_t *j, size_t *n)
{
    const char *s = json_string_value(j);
    size_t len = s ? strlen(s) : 0;
    unsigned char *p;

    if (len == 0 || len % 2 != 0 || (p = malloc(len / 2)) == NULL)
        return NULL;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(p);
            return NULL;
        }
        p[i] = (unsigned char)(hi << 4 | lo);
    }
    *n = len / 2;
    return p;
}

/* ---- certificates ------------------------------------------------------------- */

/* The string fields of a certificate, in the record and in the struct. */
#define CERT_STRINGS(X) X(subject) X(issuer) X(common_name) X(serial) X(sans) X(fingerprint)

static json_t *cert_json(const struct dbssl_certinfo *ci)
{
    json_t *j = json_object();
    bool ok = j != NULL;

#define PUT_STRING(f)                                                                              \
    ok = ok && ci->f != NULL && json_object_set_new(j, #f, json_string(ci->f)) == 0;
    CERT_STRINGS(PUT_STRING)
#undef PUT_STRING
    ok = ok && json_object_set_new(j, "key_type", json_string(ci->key_type)) == 0 &&
         json_object_set_new(j, "key_bits", json_integer(ci->key_bits)) == 0 &&
         json_object_set_new(j, "not_before", json_integer(ci->not_before)) == 0 &&
         json_object_set_new(j, "not_after", json_integer(ci->not_after)) == 0 &&
         json_object_set_new(j, "spki", hex_of(ci->spki, ci->spki_len)) == 0 &&
         json_object_set_new(j, "is_ca", json_boolean(ci->is_ca)) == 0 &&
         json_object_set_new(j, "self_signed", json_boolean(ci->self_signed)) == 0;
    if (!ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static char *dup_string(const json_t *j)
{
    const char *s = json_string_value(j);

    return s != NULL ? strdup(s) : NULL;
}

static bool cert_from(const json_t *j, struct dbssl_certinfo *ci)
{
    const char *type = json_string_value(json_object_get(j, "key_type"));
    json_t *bits = json_object_get(j, "key_bits"), *nb = json_object_get(j, "not_before"),
           *na = json_object_get(j, "not_after"), *ca = json_object_get(j, "is_ca"),
           *self = json_object_get(j, "self_signed");
    bool ok = true;

    memset(ci, 0, sizeof(*ci));
#define GET_STRING(f) ok = ok && (ci->f = dup_string(json_object_get(j, #f))) != NULL;
    CERT_STRINGS(GET_STRING)
#undef GET_STRING
    ok = ok && type != NULL && strlen(type) < sizeof(ci->key_type) && json_is_integer(bits) &&
         json_is_integer(nb) && json_is_integer(na) && json_is_boolean(ca) &&
         json_is_boolean(self) &&
         (ci->spki = bytes_of(json_object_get(j, "spki"), &ci->spki_len)) != NULL;
    if (!ok)
        return false;
    memcpy(ci->key_type, type, strlen(type) + 1);
    ci->key_bits = (int)json_integer_value(bits);
    ci->not_before = json_integer_value(nb);
    ci->not_after = json_integer_value(na);
    ci->is_ca = json_is_true(ca);
    ci->self_signed = json_is_true(self);
    return true;
}

bool dbssl_certfacts_certs(const struct dbssl_certfacts *k, const char *name, const struct stat *st,
                           struct dbssl_certlist *out)
{
    json_t *certs = json_object_get(entry(k, name, st), "certs");
    struct dbssl_certlist l = {NULL, 0};
    size_t n = json_array_size(certs);

    if (n == 0 || (l.certs = calloc(n, sizeof(*l.certs))) == NULL)
        return false;
    for (; l.n < n; l.n++) {
        if (!cert_from(json_array_get(certs, l.n), &l.certs[l.n])) {
            l.n++; /* what it holds so far is freed too */
            dbssl_certlist_free(&l);
            return false;
        }
    }
    *out = l;
    return true;
}

bool dbssl_certfacts_chain_ok(const struct dbssl_certfacts *k, const char *name,
                              const struct stat *st)
{
    return json_is_true(json_object_get(entry(k, name, st), "chain_ok"));
}

bool dbssl_certfacts_key(const struct dbssl_certfacts *k, const char *name, const struct stat *st,
                         struct dbssl_keyinfo *out, unsigned char **spki, size_t *spki_len)
{
    json_t *key = json_object_get(entry(k, name, st), "key");
    const char *type = json_string_value(json_object_get(key, "type"));
    json_t *bits = json_object_get(key, "bits");

    if (type == NULL || strlen(type) >= sizeof(out->key_type) || !json_is_integer(bits) ||
        (*spki = bytes_of(json_object_get(key, "spki"), spki_len)) == NULL)
        return false;
    memset(out, 0, sizeof(*out));
    memcpy(out->key_type, type, strlen(type) + 1);
    out->bits = (int)json_integer_value(bits);
    return true;
}

/* ---- making and keeping a record --------------------------------------------------- */

struct dbssl_certfacts *dbssl_certfacts_new(void)
{
    struct dbssl_certfacts *k = calloc(1, sizeof(*k));

    if (k != NULL && (k->files = json_object()) == NULL) {
        free(k);
        k = NULL;
    }
    return k;
}

void dbssl_certfacts_free(struct dbssl_certfacts *k)
{
    if (k == NULL)
        return;
    json_decref(k->files);
    free(k);
}

/* Adds name's entry, its identity set; false when it could not be made. */
static bool note(struct dbssl_certfacts *k, const char *name, const struct stat *st, json_t *e)
{
    char id[IDENTITY_BUF];

    if (k == NULL || st == NULL || e == NULL) {
        json_decref(e);
        return false;
    }
    identity(st, id, sizeof(id));
    if (json_object_set_new(e, "id", json_string(id)) != 0) {
        json_decref(e);
        return false;
    }
    return json_object_set_new(k->files, name, e) == 0;
}

void dbssl_certfacts_note_certs(struct dbssl_certfacts *k, const char *name, const struct stat *st,
                                const struct dbssl_certlist *list, bool chain_ok)
{
    json_t *e = json_pack("{s:[], s:b}", "certs", "chain_ok", chain_ok);
    json_t *certs = json_object_get(e, "certs");

    for (size_t i = 0; e != NULL && i < list->n; i++) {
        if (json_array_append_new(certs, cert_json(&list->certs[i])) != 0) {
            json_decref(e);
            e = NULL;
        }
    }
    (void)note(k, name, st, e);
}

void dbssl_certfacts_note_key(struct dbssl_certfacts *k, const char *name, const struct stat *st,
                              const struct dbssl_keyinfo *ki, const struct dbssl_certinfo *cert)
{
    if (ki->encrypted || ki->der || cert == NULL || cert->spki == NULL)
        return;
    (void)note(k, name, st,
               json_pack("{s:{s:s, s:i, s:o}}", "key", "type", ki->key_type, "bits", ki->bits,
                         "spki", hex_of(cert->spki, cert->spki_len)));
}

static const char *openssl_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}

struct dbssl_certfacts *dbssl_certfacts_read(const struct file_at *f)
{
    struct file_at at = *f;
    struct dbssl_certfacts *k = NULL;
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    json_t *root = NULL;

    at.flags |= FILE_AT_NOFOLLOW;
    /* absent (the usual case before the first full check) is no error */
    if (read_file_at(&at, "record", FACTS_MAX, &text, &len, &st, NULL) != 0)
        goto out;
    if (st.st_uid != geteuid() || (st.st_mode & 077) != 0)
        goto out;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    if (json_integer_value(json_object_get(root, "format")) != FACTS_FORMAT ||
        !json_is_object(json_object_get(root, "files")) ||
        json_string_value(json_object_get(root, "dbssl")) == NULL ||
        strcmp(json_string_value(json_object_get(root, "dbssl")), DBSSL_VERSION) != 0 ||
        json_string_value(json_object_get(root, "openssl")) == NULL ||
        strcmp(json_string_value(json_object_get(root, "openssl")), openssl_version()) != 0)
        goto out;
    if ((k = calloc(1, sizeof(*k))) != NULL)
        k->files = json_incref(json_object_get(root, "files"));
out:
    json_decref(root);
    free(text);
    return k;
}

int dbssl_certfacts_write(const struct dbssl_certfacts *k, int dir, struct dbssl_error *err)
{
    json_t *root = json_pack("{s:i, s:s, s:s, s:O}", "format", FACTS_FORMAT, "dbssl", DBSSL_VERSION,
                             "openssl", openssl_version(), "files", k->files);
    char *text = root ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    struct file_at tmp = {dir, FACTS_TMP, NULL, FILE_AT_NOFOLLOW};
    int ret = -1;

    if (text == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    /* a temporary file left by a process that died is ours to replace */
    if (unlinkat(dir, FACTS_TMP, 0) != 0 && errno != ENOENT) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not remove \"%s\": %s", FACTS_TMP,
                        strerror(errno));
        goto out;
    }
    if (write_file_at(&tmp, text, strlen(text), 0600, (uid_t)-1, (gid_t)-1, err) != 0)
        goto out;
    if (renameat(dir, FACTS_TMP, dir, DBSSL_CERTFACTS_FILE) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not rename \"%s\": %s", FACTS_TMP,
                        strerror(errno));
        (void)unlinkat(dir, FACTS_TMP, 0);
        goto out;
    }
    ret = 0;
out:
    free(text);
    json_decref(root);
    return ret;
}

/* ---- readers that ask the record first ------------------------------------------- */

/* The file name of f inside its directory: the record is keyed by it. */
static const char *base_name(const struct file_at *f)
{
    const char *slash = strrchr(f->name, '/');

    return slash ? slash + 1 : f->name;
}

int dbssl_certlist_load_known(const struct dbssl_certfacts *known, const struct file_at *f,
                              const char *what, struct dbssl_certlist *out, struct stat *st,
                              bool *hit, struct dbssl_error *err)
{
    char *pem = NULL;
    size_t len = 0;
    char name[PATH_TEXT_BUF];
    struct stat own;
    int ret = -1;

    out->certs = NULL;
    out->n = 0;
    *hit = false;
    if (st == NULL)
        st = &own;
    if (dbssl_read_pem_at(f, what, &pem, &len, st, name, sizeof(name), err) != 0)
        return -1;
    if (known != NULL && dbssl_certfacts_certs(known, base_name(f), st, out))
        *hit = true, ret = 0;
    else
        ret = dbssl_certlist_parse(pem, len, name, out, err);
    free(pem);
    return ret;
}

int dbssl_key_load_known(const struct dbssl_certfacts *known, const struct file_at *f,
                         const struct dbssl_key_pass *pass, const struct dbssl_certinfo *cert,
                         struct dbssl_keyinfo *out, bool *match, struct stat *st, bool *hit,
                         struct dbssl_error *err)
{
    char *pem = NULL;
    size_t len = 0;
    char name[PATH_TEXT_BUF];
    unsigned char *spki = NULL;
    size_t spki_len = 0;
    struct stat own;
    int ret;

    memset(out, 0, sizeof(*out));
    *hit = false;
    if (st == NULL)
        st = &own;
    if (dbssl_read_pem_at(f, "private key file", &pem, &len, st, name, sizeof(name), err) != 0)
        return -1;
    if (known != NULL && dbssl_certfacts_key(known, base_name(f), st, out, &spki, &spki_len)) {
        *hit = true;
        if (cert != NULL)
            *match = cert->spki != NULL && cert->spki_len == spki_len &&
                     memcmp(cert->spki, spki, spki_len) == 0;
        free(spki);
        ret = 0;
    } else {
        ret = dbssl_key_parse_for(pem, len, name, pass, cert, out, match, err);
    }
    OPENSSL_cleanse(pem, len);
    free(pem);
    return ret;
}
