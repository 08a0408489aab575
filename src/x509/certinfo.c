/*
 * certinfo.c - inspection of PEM certificates, private keys and CRLs with
 * OpenSSL 3 (EVP/X509 APIs only).
 *
 * NOTES
 * OpenSSL's error queue is per thread and sticky: it is cleared before each
 * operation so that a message reports this failure, not an older one.
 */
#include "certinfo.h"

#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "certfacts.h"
#include "certinfo_int.h"
#include "pemtext.h"
#include "util.h"

const char *dbssl_openssl_errstr(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();

    if (e == 0)
        return "unknown error";
    ERR_error_string_n(e, buf, len);
    return buf;
}

static char *bio_to_string(BIO *bio)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);

    return n >= 0 ? strndup(data ? data : "", (size_t)n) : NULL;
}

static char *name_to_string(const X509_NAME *name)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *s = NULL;

    if (bio == NULL)
        return NULL;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
        s = bio_to_string(bio);
    BIO_free(bio);
    return s;
}

static char *common_name(const X509_NAME *name)
{
    int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    const ASN1_STRING *data;
    unsigned char *utf8 = NULL;
    int n;
    char *s;

    if (idx < 0)
        return strdup("");
    data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    n = ASN1_STRING_to_UTF8(&utf8, data);
    if (n < 0)
        return strdup("");
    s = strndup((const char *)utf8, (size_t)n);
    OPENSSL_free(utf8);
    return s;
}

static char *sans_to_string(X509 *x)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    struct strbuf sb;

    strbuf_init(&sb);
    strbuf_append(&sb, "");
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (sb.len > 0)
            strbuf_append(&sb, ", ");
        if (gn->type == GEN_DNS) {
            const ASN1_IA5STRING *s = gn->d.dNSName;
            strbuf_append(&sb, "DNS:");
            strbuf_append_n(&sb, (const char *)ASN1_STRING_get0_data(s),
                            (size_t)ASN1_STRING_length(s));
        } else if (gn->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *ip = gn->d.iPAddress;
            char txt[INET6_ADDRSTRLEN] = "?";
            int len = ASN1_STRING_length(ip);
            if (len == 4)
                inet_ntop(AF_INET, ASN1_STRING_get0_data(ip), txt, sizeof(txt));
            else if (len == 16)
                inet_ntop(AF_INET6, ASN1_STRING_get0_data(ip), txt, sizeof(txt));
            strbuf_append(&sb, "IP:");
            strbuf_append(&sb, txt);
        } else if (gn->type == GEN_EMAIL) {
            strbuf_append(&sb, "email:");
            strbuf_append_n(&sb, (const char *)ASN1_STRING_get0_data(gn->d.rfc822Name),
                            (size_t)ASN1_STRING_length(gn->d.rfc822Name));
        } else {
            strbuf_append(&sb, "other");
        }
    }
    GENERAL_NAMES_free(names);
    return strbuf_take(&sb);
}

static long long asn1_time_epoch(const ASN1_TIME *t)
{
    struct tm tm;

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (long long)timegm(&tm);
}

void dbssl_key_describe(EVP_PKEY *pkey, char *type, size_t typelen, int *bits)
{
    const char *name = "unknown";

    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
        name = "RSA";
        break;
    case EVP_PKEY_EC:
        name = "EC";
        break;
    case EVP_PKEY_ED25519:
        name = "ED25519";
        break;
    case EVP_PKEY_ED448:
        name = "ED448";
        break;
    case EVP_PKEY_DSA:
        name = "DSA";
        break;
    default:
        break;
    }
    snprintf(type, typelen, "%s", name);
    *bits = EVP_PKEY_get_bits(pkey);
}

/* The serial number in upper-case hex ("" when it cannot be read); NULL on out-of-memory. */
static char *serial_hex(const X509 *x)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    char *s = xstrdup(hex ? hex : "");

    OPENSSL_free(hex);
    BN_free(bn);
    return s;
}

int dbssl_cert_brief(const struct x509_st *x, char *subject, size_t subject_len, char *serial,
                     size_t serial_len, long long *not_before, long long *not_after)
{
    char *sub = name_to_string(X509_get_subject_name(x));
    char *ser = serial_hex(x);
    int ret = sub != NULL && ser != NULL ? 0 : -1;

    snprintf(subject, subject_len, "%s", sub ? sub : "");
    snprintf(serial, serial_len, "%s", ser ? ser : "");
    *not_before = asn1_time_epoch(X509_get0_notBefore(x));
    *not_after = asn1_time_epoch(X509_get0_notAfter(x));
    free(sub);
    free(ser);
    ERR_clear_error();
    return ret;
}

static int fill_info(X509 *x, struct dbssl_certinfo *ci)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_PKEY *pub = X509_get0_pubkey(x);
    uint32_t flags = X509_get_extension_flags(x);
    struct strbuf fp;

    memset(ci, 0, sizeof(*ci));
    ci->subject = name_to_string(X509_get_subject_name(x));
    ci->issuer = name_to_string(X509_get_issuer_name(x));
    ci->common_name = common_name(X509_get_subject_name(x));
    ci->sans = sans_to_string(x);
    ci->serial = serial_hex(x);

    strbuf_init(&fp);
    if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1)
        for (unsigned i = 0; i < mdlen; i++)
            strbuf_printf(&fp, i ? ":%02X" : "%02X", md[i]);
    else
        strbuf_append(&fp, "");
    ci->fingerprint = strbuf_take(&fp);

    if (pub)
        dbssl_key_describe(pub, ci->key_type, sizeof(ci->key_type), &ci->key_bits);
    ci->not_before = asn1_time_epoch(X509_get0_notBefore(x));
    ci->not_after = asn1_time_epoch(X509_get0_notAfter(x));
    {
        unsigned char *der = NULL;
        int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
        if (n > 0) {
            ci->spki = malloc((size_t)n);
            if (ci->spki != NULL) {
                memcpy(ci->spki, der, (size_t)n);
                ci->spki_len = (size_t)n;
            }
        }
        OPENSSL_free(der);
    }
    if (X509_up_ref(x) == 1)
        ci->x509 = x;
    ci->is_ca = (flags & EXFLAG_CA) != 0;
    ci->self_signed = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0 &&
                      pub != NULL && X509_verify(x, pub) == 1;
    ERR_clear_error();
    if (!ci->subject || !ci->issuer || !ci->common_name || !ci->sans || !ci->serial ||
        !ci->fingerprint || !ci->spki)
        return -1;
    return 0;
}

static void certinfo_clear(struct dbssl_certinfo *ci)
{
    free(ci->subject);
    free(ci->issuer);
    free(ci->common_name);
    free(ci->serial);
    free(ci->sans);
    free(ci->fingerprint);
    free(ci->spki);
    X509_free(ci->x509);
}

void dbssl_certlist_free(struct dbssl_certlist *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->n; i++)
        certinfo_clear(&list->certs[i]);
    free(list->certs);
    list->certs = NULL;
    list->n = 0;
}

int dbssl_certlist_parse(const char *pem, size_t len, const char *name, struct dbssl_certlist *out,
                         struct dbssl_error *err)
{
    BIO *bio = NULL;
    X509 *x = NULL;
    char label[64];
    char ebuf[256];
    int ret = -1, line;

    out->certs = NULL;
    out->n = 0;
    if (pemtext_check(pem, len, name, label, sizeof(label), err) != 0)
        goto out;
    ERR_clear_error();
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        goto oom;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        struct dbssl_certinfo *n = realloc(out->certs, (out->n + 1) * sizeof(*n));
        if (n == NULL)
            goto oom;
        out->certs = n;
        if (fill_info(x, &out->certs[out->n]) != 0) {
            certinfo_clear(&out->certs[out->n]);
            goto oom;
        }
        out->n++;
        X509_free(x);
        x = NULL;
    }
    if (ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE)
        ERR_clear_error(); /* normal end of input */
    if (ERR_peek_last_error() != 0) {
        dbssl_error_setx(err, DBSSL_ERR_CERT, dbssl_openssl_errstr(ebuf, sizeof(ebuf)),
                         "The certificate is damaged; obtain a fresh copy from its issuer.",
                         "could not parse certificate in %s", name);
        goto out;
    }
    if (out->n == 0) {
        dbssl_error_set(err, DBSSL_ERR_CERT,
                        "Point the setting at a file that holds a certificate "
                        "(\"-----BEGIN CERTIFICATE-----\").",
                        "%s does not contain an X.509 certificate (found \"%s\")", name, label);
        goto out;
    }
    /* OpenSSL may stop at a damaged block without an error: every block counts */
    if ((line = pemtext_cert_block_after(pem, len, out->n)) > 0) {
        dbssl_error_set(
            err, DBSSL_ERR_CERT, "The certificate is damaged; obtain a fresh copy from its issuer.",
            "%s has a damaged certificate block that would be ignored (line %d)", name, line);
        goto out;
    }
    ret = 0;
    goto out;
oom:
    dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
out:
    X509_free(x);
    BIO_free(bio);
    ERR_clear_error();
    if (ret != 0)
        dbssl_certlist_free(out);
    return ret;
}

/*
 * Reads a PEM file with read_file_at() (a regular file only, at most
 * CONFIG_FILE_MAX; *st gets its fstat() when st is not NULL); name gets what
 * names it in messages: what "path".
 */
int dbssl_read_pem_at(const struct file_at *f, const char *what, char **pem, size_t *len,
                      struct stat *st, char *name, size_t namelen, struct dbssl_error *err)
{
    if (read_file_at(f, what, CONFIG_FILE_MAX, pem, len, st, err) != 0)
        return -1;
    snprintf(name, namelen, "%s \"%s\"", what, f->shown ? f->shown : f->name);
    return 0;
}

int dbssl_certlist_load_at(const struct file_at *f, const char *what, struct dbssl_certlist *out,
                           struct stat *st, struct dbssl_error *err)
{
    bool hit;

    return dbssl_certlist_load_known(NULL, f, what, out, st, &hit, err);
}

int dbssl_certlist_load(const char *path, const char *what, struct dbssl_certlist *out,
                        struct dbssl_error *err)
{
    return dbssl_certlist_load_at(&FILE_AT_PATH(path), what, out, NULL, err);
}

X509 *dbssl_load_first_cert(const struct file_at *f, struct dbssl_error *err)
{
    const char *path = f->shown ? f->shown : f->name;
    char *pem = NULL;
    size_t len = 0;
    BIO *bio;
    X509 *x = NULL;

    if (read_file_at(f, "certificate file", CONFIG_FILE_MAX, &pem, &len, NULL, err) != 0)
        return NULL;
    ERR_clear_error();
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio != NULL)
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (x == NULL)
        dbssl_error_set(err, DBSSL_ERR_CERT, NULL,
                        "certificate file \"%s\" does not contain an X.509 certificate", path);
    BIO_free(bio);
    free(pem);
    ERR_clear_error();
    return x;
}
/*
 * The CA file is read as every certificate file is (dbssl_certlist_load_at:
 * regular files only, never blocking, junk outside the PEM blocks refused),
 * so that a file validation refuses is refused here too; X509_STORE_load_file()
 * would fopen() a FIFO and wait for a writer.
 */
struct x509_store_st *dbssl_ca_store_new(const struct file_at *f, struct dbssl_error *err)
{
    struct dbssl_certlist cas = {NULL, 0};
    X509_STORE *store = X509_STORE_new();

    if (store == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    if (f == NULL) {
        if (X509_STORE_set_default_paths(store) != 1) {
            dbssl_error_set(err, DBSSL_ERR_CERT, NULL, "could not load the system trust store");
            goto fail;
        }
        ERR_clear_error();
        return store;
    }
    if (dbssl_certlist_load_at(f, "CA certificate file", &cas, NULL, err) != 0)
        goto fail;
    for (size_t i = 0; i < cas.n; i++)
        if (cas.certs[i].x509 == NULL || X509_STORE_add_cert(store, cas.certs[i].x509) != 1) {
            dbssl_error_set(err, DBSSL_ERR_INTERNAL, NULL,
                            "could not add the certificates of \"%s\" to a trust store",
                            f->shown ? f->shown : f->name);
            goto fail;
        }
    dbssl_certlist_free(&cas);
    return store;
fail:
    dbssl_certlist_free(&cas);
    X509_STORE_free(store);
    ERR_clear_error();
    return NULL;
}

/* X509_verify_cert() of x against store (taken over); the one verification of both entry points. */
static int verify_in_store(X509 *x, X509_STORE *store, bool *ok, char *reason, size_t reason_len,
                           struct dbssl_error *err)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ret = -1;

    if (ctx == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    if (X509_STORE_CTX_init(ctx, store, x, NULL) != 1) {
        dbssl_error_set(err, DBSSL_ERR_INTERNAL, NULL, "could not set up certificate verification");
        goto out;
    }
    *ok = X509_verify_cert(ctx) == 1;
    snprintf(reason, reason_len, "%s",
             *ok ? "ok" : X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    ret = 0;
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ret;
}

int dbssl_cert_verify_chain_at(const struct file_at *cert, const struct file_at *ca, bool *ok,
                               char *reason, size_t reason_len, struct dbssl_error *err)
{
    X509 *x = dbssl_load_first_cert(cert, err);
    X509_STORE *store = NULL;
    int ret = -1;

    if (x == NULL)
        goto out;
    if ((store = dbssl_ca_store_new(ca, err)) == NULL)
        goto out;
    ret = verify_in_store(x, store, ok, reason, reason_len, err);
out:
    ERR_clear_error();
    X509_free(x);
    return ret;
}

int dbssl_cert_verify_in(const struct dbssl_certinfo *cert, const struct dbssl_certlist *cas,
                         bool *ok, char *reason, size_t reason_len, struct dbssl_error *err)
{
    X509_STORE *store = X509_STORE_new();

    if (store == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < cas->n; i++)
        if (cas->certs[i].x509 == NULL || X509_STORE_add_cert(store, cas->certs[i].x509) != 1)
            goto bad;
    if (cert->x509 != NULL)
        return verify_in_store(cert->x509, store, ok, reason, reason_len, err);
bad:
    X509_STORE_free(store);
    ERR_clear_error();
    dbssl_error_set(err, DBSSL_ERR_INTERNAL, NULL, "could not set up certificate verification");
    return -1;
}

int dbssl_cert_verify_chain(const char *cert_path, const char *ca_path, bool *ok, char *reason,
                            size_t reason_len, struct dbssl_error *err)
{
    return dbssl_cert_verify_chain_at(&FILE_AT_PATH(cert_path), &FILE_AT_PATH(ca_path), ok, reason,
                                      reason_len, err);
}

int dbssl_crl_parse(const char *pem, size_t len, const char *name, long long *last_update,
                    long long *next_update, struct dbssl_error *err)
{
    char label[64];
    BIO *bio = NULL;
    X509_CRL *crl = NULL;
    int ret = -1;

    if (pemtext_check(pem, len, name, label, sizeof(label), err) != 0)
        goto out;
    ERR_clear_error();
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL || (crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) == NULL) {
        dbssl_error_set(
            err, DBSSL_ERR_CERT,
            "Point DB_SSL_CRL at a PEM file starting with \"-----BEGIN X509 CRL-----\".",
            "%s does not contain a certificate revocation list (found \"%s\")", name, label);
        goto out;
    }
    *last_update = asn1_time_epoch(X509_CRL_get0_lastUpdate(crl));
    *next_update = asn1_time_epoch(X509_CRL_get0_nextUpdate(crl));
    ret = 0;
out:
    ERR_clear_error();
    X509_CRL_free(crl);
    BIO_free(bio);
    return ret;
}

int dbssl_crl_load(const char *path, long long *last_update, long long *next_update,
                   struct dbssl_error *err)
{
    char *pem = NULL;
    size_t len = 0;
    char name[PATH_TEXT_BUF];
    int ret;

    if (dbssl_read_pem_at(&FILE_AT_PATH(path), "CRL file", &pem, &len, NULL, name, sizeof(name),
                          err) != 0)
        return -1;
    ret = dbssl_crl_parse(pem, len, name, last_update, next_update, err);
    free(pem);
    return ret;
}

int dbssl_crl_lists_cert(const char *crl_path, const char *cert_pem, size_t cert_len, bool *revoked,
                         struct dbssl_error *err)
{
    char *pem = NULL;
    size_t len = 0;
    char name[PATH_TEXT_BUF];
    BIO *cb = NULL, *bio = NULL;
    X509 *x = NULL;
    X509_CRL *crl = NULL;
    int ret = -1;

    *revoked = false;
    if (dbssl_read_pem_at(&FILE_AT_PATH(crl_path), "CRL file", &pem, &len, NULL, name, sizeof(name),
                          err) != 0)
        return -1;
    ERR_clear_error();
    if ((cb = BIO_new_mem_buf(cert_pem, (int)cert_len)) == NULL ||
        (x = PEM_read_bio_X509(cb, NULL, NULL, NULL)) == NULL ||
        (bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
        dbssl_error_set(err, DBSSL_ERR_CERT, NULL, "could not read the certificate to check");
        goto out;
    }
    /* a CRL file may hold the CRLs of several CAs, as OpenSSL loads it for libpq */
    while (!*revoked && (crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
        X509_REVOKED *entry = NULL;
        *revoked = X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(x)) == 0 &&
                   X509_CRL_get0_by_cert(crl, &entry, x) == 1;
        X509_CRL_free(crl);
    }
    ret = 0;
out:
    ERR_clear_error();
    X509_free(x);
    BIO_free(cb);
    BIO_free(bio);
    free(pem);
    return ret;
}

bool dbssl_file_group_world_writable(const char *path, unsigned *mode)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return false;
    if (mode)
        *mode = (unsigned)(st.st_mode & 07777);
    return (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

void dbssl_sha256_base64(const void *data, size_t len, char out[DBSSL_SHA256_B64_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    out[0] = '\0';
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32)
        EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
    ERR_clear_error();
}
