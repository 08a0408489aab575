/*
 * certs.c - issuing the certificates of the generated set with OpenSSL 3
 * (EVP/X509 APIs only, in process: no `openssl` program is run).
 *
 * Profile, chosen for what PostgreSQL and libpq check:
 *   CA      self-signed; basicConstraints=critical,CA:TRUE;
 *           keyUsage=critical,keyCertSign,cRLSign; SKID/AKID.
 *   server  signed by the CA; CN = the first name; SANs DNS:localhost,
 *           IP:127.0.0.1, IP:::1, every DATABASE_URL host and
 *           DB_SSL_AUTO_CERT_HOSTS (libpq's verify-full matches SANs only
 *           when there are any); EKU serverAuth.
 *   client  CN = the database role, which PostgreSQL's "cert" method maps;
 *           EKU clientAuth.
 * Leaves have basicConstraints=critical,CA:FALSE and keyUsage
 * digitalSignature (plus keyEncipherment for RSA, which TLS 1.2 RSA key
 * exchange needs).  Without a CA (DB_SSL_AUTO_GENERATE_CA=false) the leaves
 * are self-signed; OpenSSL accepts a self-signed leaf as its own trust anchor.
 *
 * Serials are 128 random bits, signatures SHA-256, notBefore is backdated 5
 * minutes so that a peer whose clock lags a little accepts a fresh set.
 *
 * NOTES
 * OpenSSL's error queue is per thread; it is cleared before and after each
 * operation so that a message names this failure.
 */
#include "certs.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certinfo.h"
#include "clock.h"
#include "util.h"

#define BACKDATE_SECONDS 300

void certs_pem_clear(struct certs_pem *p)
{
    if (p == NULL)
        return;
    free(p->cert);
    if (p->key) {
        OPENSSL_cleanse(p->key, p->key_len);
        free(p->key);
    }
    memset(p, 0, sizeof(*p));
}

void certs_key_type_info(enum dbssl_key_type t, const char **name, int *bits)
{
    switch (t) {
    case DBSSL_KEY_RSA_2048:
        *name = "RSA";
        *bits = 2048;
        return;
    case DBSSL_KEY_RSA_3072:
        *name = "RSA";
        *bits = 3072;
        return;
    case DBSSL_KEY_EC_P256:
        break;
    }
    *name = "EC";
    *bits = 256;
}

static void ossl_fail(struct dbssl_error *err, const char *what)
{
    char ebuf[256];

    dbssl_error_setx(err, DBSSL_ERR_INTERNAL, dbssl_openssl_errstr(ebuf, sizeof(ebuf)), NULL,
                     "could not %s", what);
    ERR_clear_error();
}

/* ---- names ----------------------------------------------------------------- */

void certs_names_free(char **names)
{
    if (names == NULL)
        return;
    for (size_t i = 0; names[i]; i++)
        free(names[i]);
    free(names);
}

/* Canonical SAN text of one host ("IP:::1", "DNS:db.example"), or NULL when it is not a name. */
static char *san_of_host(const char *h, size_t n)
{
    char host[256], txt[INET6_ADDRSTRLEN];
    unsigned char bin[16];

    while (n > 0 && isspace((unsigned char)*h)) {
        h++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)h[n - 1]))
        n--;
    /* a Unix socket directory is not a certificate name */
    if (host_is_socket(h, n) || n >= sizeof(host))
        return xstrdup("");
    memcpy(host, h, n);
    host[n] = '\0';
    if (host[0] == '[' && host[n - 1] == ']') {
        memmove(host, host + 1, n - 2);
        host[n - 2] = '\0';
    }
    if (inet_pton(AF_INET, host, bin) == 1)
        return xasprintf("IP:%s", inet_ntop(AF_INET, bin, txt, sizeof(txt)));
    if (inet_pton(AF_INET6, host, bin) == 1)
        return xasprintf("IP:%s", inet_ntop(AF_INET6, bin, txt, sizeof(txt)));
    for (char *p = host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return xasprintf("DNS:%s", host);
}

static int names_add(char ***names, size_t *n, char *san)
{
    char **grown;

    if (san == NULL)
        return -1;
    if (san[0] == '\0') {
        free(san);
        return 0;
    }
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*names)[i], san) == 0) {
            free(san);
            return 0;
        }
    }
    grown = realloc(*names, (*n + 2) * sizeof(*grown));
    if (grown == NULL) {
        free(san);
        return -1;
    }
    *names = grown;
    grown[(*n)++] = san;
    grown[*n] = NULL;
    return 0;
}

static int names_add_list(char ***names, size_t *n, const char *list)
{
    for (size_t i = 0, len = 0; i < list_count(list); i++) {
        const char *p = list_item(list, i, &len);
        if (names_add(names, n, san_of_host(p, len)) != 0)
            return -1;
    }
    return 0;
}

char **certs_server_names(const struct dbssl_certs_opts *opts, struct dbssl_error *err)
{
    char **names = calloc(1, sizeof(*names));
    size_t n = 0;

    /* a host's own set names its host alone: a standby's certificate must not pass for the
     * primary's */
    bool own = opts->ca_dir != NULL;

    if (names == NULL || (!own && names_add_list(&names, &n, "localhost,127.0.0.1,::1") != 0) ||
        (!own && names_add_list(&names, &n, opts->url_hosts) != 0) ||
        (!own && names_add_list(&names, &n, opts->url_hostaddr) != 0) ||
        names_add_list(&names, &n, opts->extra_hosts) != 0) {
        certs_names_free(names);
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    return names;
}

int certs_client_cn(const struct dbssl_certs_opts *opts, char *buf, size_t len,
                    struct dbssl_error *err)
{
    const struct passwd *pw;

    if (opts->client_cn != NULL && opts->client_cn[0] != '\0') {
        snprintf(buf, len, "%s", opts->client_cn);
        return 0;
    }
    /* libpq's default user name is the OS user's */
    pw = getpwuid(geteuid());
    if (pw == NULL || pw->pw_name == NULL) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG,
                        "Put the database role in DATABASE_URL, e.g. "
                        "postgresql://app@localhost/app.",
                        "cannot choose the client certificate's common name: DATABASE_URL "
                        "names no user and the current user has no name");
        return -1;
    }
    snprintf(buf, len, "%s", pw->pw_name);
    return 0;
}

/* ---- keys and certificates -------------------------------------------------- */

static EVP_PKEY *new_key(enum dbssl_key_type t, struct dbssl_error *err)
{
    EVP_PKEY *k;
    const char *name;
    int bits;

    ERR_clear_error();
    certs_key_type_info(t, &name, &bits);
    if (strcmp(name, "RSA") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    else
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (k == NULL)
        ossl_fail(err, "generate a private key");
    return k;
}

struct certs_keys {
    EVP_PKEY **v;
    unsigned n, next;
};

/*
 * RSA keys are made by a race: more prime searches than keys needed run at
 * once, and the first n to finish are the keys; the others are stopped
 * through OpenSSL's progress callback.  A prime search takes a random
 * time, so with two cores four searches for three keys finish sooner than
 * three (about 8 % by simulation, 30 % with four cores; on one core there
 * is no race).  The keys are equally random whichever search wins.
 */
struct keygen_race {
    atomic_uint done; /* searches finished; the first `need` are the keys */
    unsigned need;
    EVP_PKEY **slot; /* need of them, filled in the order they finish */
};

struct keygen_job {
    struct keygen_race *race;
    int bits;
    struct dbssl_error err;
};

/* Called by OpenSSL during the search: 0 stops it once enough keys are made. */
static int keygen_progress(EVP_PKEY_CTX *ctx)
{
    struct keygen_race *r = EVP_PKEY_CTX_get_app_data(ctx);

    return atomic_load(&r->done) < r->need;
}

static void *keygen_main(void *arg)
{
    struct keygen_job *j = arg;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *key = NULL;
    unsigned place;

    dbssl_error_clear(&j->err);
    ERR_clear_error();
    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, j->bits) <= 0) {
        ossl_fail(&j->err, "generate a private key");
        goto out;
    }
    EVP_PKEY_CTX_set_app_data(ctx, j->race);
    EVP_PKEY_CTX_set_cb(ctx, keygen_progress);
    if (EVP_PKEY_generate(ctx, &key) <= 0) {
        if (atomic_load(&j->race->done) < j->race->need) /* not stopped: a failure */
            ossl_fail(&j->err, "generate a private key");
        goto out;
    }
    place = atomic_fetch_add(&j->race->done, 1);
    if (place < j->race->need) {
        j->race->slot[place] = key; /* a place of its own: no other thread writes it */
        key = NULL;
    }
out:
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return NULL;
}

/* Makes n RSA keys of `bits` into slot[]; -1 (err set) when fewer were made. */
static int rsa_race(int bits, unsigned n, EVP_PKEY **slot, struct dbssl_error *err)
{
    long cpus = usable_cpus();
    /* one more search than there are keys or cores, at most four more than keys */
    unsigned jobs = cpus < 2 ? n : (unsigned)(cpus > (long)n ? cpus : (long)n) + 1;
    struct keygen_race race = {.need = n, .slot = slot};
    struct keygen_job *j;
    pthread_t *threads;
    bool *started;
    int ret = -1;

    if (jobs > n + 4)
        jobs = n + 4;
    atomic_init(&race.done, 0);
    j = calloc(jobs, sizeof(*j));
    threads = calloc(jobs, sizeof(*threads));
    started = calloc(jobs, sizeof(*started));
    if (j == NULL || threads == NULL || started == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    for (unsigned i = 0; i < jobs; i++) {
        j[i].race = &race;
        j[i].bits = bits;
        /* a single search runs on this thread; so does one that cannot get a thread */
        if (jobs > 1 && pthread_create(&threads[i], NULL, keygen_main, &j[i]) == 0)
            started[i] = true;
        else
            keygen_main(&j[i]);
    }
    for (unsigned i = 0; i < jobs; i++)
        if (started[i])
            pthread_join(threads[i], NULL);
    if (atomic_load(&race.done) >= n) {
        ret = 0;
        goto out;
    }
    for (unsigned i = 0; i < jobs; i++) {
        if (j[i].err.message[0] != '\0') {
            dbssl_error_setx(err, j[i].err.code, j[i].err.detail, j[i].err.hint, "%s",
                             j[i].err.message);
            goto out;
        }
    }
    dbssl_error_set(err, DBSSL_ERR_INTERNAL, NULL, "could not generate a private key");
out:
    free(j);
    free(threads);
    free(started);
    return ret;
}

struct certs_keys *certs_keys_make(enum dbssl_key_type t, unsigned n, struct dbssl_error *err)
{
    struct certs_keys *k = calloc(1, sizeof(*k));

    if (k == NULL || (k->v = calloc(n + 1, sizeof(*k->v))) == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        goto fail;
    }
    k->n = n;
    if (t == DBSSL_KEY_EC_P256) {
        /* an EC key is made quicker than a thread is started */
        for (unsigned i = 0; i < n; i++)
            if ((k->v[i] = new_key(t, err)) == NULL)
                goto fail;
    } else {
        const char *name;
        int bits;
        certs_key_type_info(t, &name, &bits);
        if (rsa_race(bits, n, k->v, err) != 0)
            goto fail;
    }
    return k;
fail:
    certs_keys_free(k);
    return NULL;
}

void certs_keys_free(struct certs_keys *k)
{
    if (k == NULL)
        return;
    for (unsigned i = 0; i < k->n; i++)
        EVP_PKEY_free(k->v[i]);
    free(k->v);
    free(k);
}

static int set_serial(X509 *x)
{
    unsigned char rnd[16];
    BIGNUM *bn = NULL;
    int ok = 0;

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        goto out;
    rnd[0] |= 0x01; /* never zero: a zero serial is invalid */
    bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
        goto out;
    ok = 1;
out:
    BN_free(bn);
    return ok;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return 0;
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* SANs built as GENERAL_NAMEs, not parsed from a string, so no name can inject syntax. */
static int add_sans(X509 *x, char *const *names)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    int ok = 0;

    if (gens == NULL)
        return 0;
    for (size_t i = 0; names && names[i]; i++) {
        GENERAL_NAME *gn = NULL;
        if (strncmp(names[i], "IP:", 3) == 0) {
            ASN1_OCTET_STRING *ip = a2i_IPADDRESS(names[i] + 3);
            if (ip == NULL || (gn = GENERAL_NAME_new()) == NULL) {
                ASN1_OCTET_STRING_free(ip);
                goto out;
            }
            GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
        } else {
            ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
            if (dns == NULL || !ASN1_STRING_set(dns, names[i] + 4, -1) ||
                (gn = GENERAL_NAME_new()) == NULL) {
                ASN1_IA5STRING_free(dns);
                goto out;
            }
            GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
        }
        if (!sk_GENERAL_NAME_push(gens, gn)) {
            GENERAL_NAME_free(gn);
            goto out;
        }
    }
    ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
out:
    GENERAL_NAMES_free(gens);
    return ok;
}

static int set_subject(X509 *x, const char *cn)
{
    X509_NAME *name = X509_get_subject_name(x);

    return X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                      (const unsigned char *)"dbssl development", -1, -1, 0) &&
           X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                      0);
}

static int pem_out(X509 *x, EVP_PKEY *key, struct certs_pem *out)
{
    BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
    char *data;
    long n;
    int ok = 0;

    if (cb == NULL || kb == NULL || PEM_write_bio_X509(cb, x) != 1 ||
        PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) != 1)
        goto out;
    n = BIO_get_mem_data(cb, &data);
    if (n <= 0 || (out->cert = strndup(data, (size_t)n)) == NULL)
        goto out;
    out->cert_len = (size_t)n;
    n = BIO_get_mem_data(kb, &data);
    if (n <= 0 || (out->key = strndup(data, (size_t)n)) == NULL)
        goto out;
    out->key_len = (size_t)n;
    ok = 1;
out:
    BIO_free(cb);
    BIO_free_all(kb); /* a mem BIO's buffer is cleansed on free */
    return ok;
}

/* Reads the issuer's certificate and key back from PEM. */
static int load_issuer(const struct certs_pem *issuer, X509 **cert, EVP_PKEY **key,
                       struct dbssl_error *err)
{
    BIO *b = BIO_new_mem_buf(issuer->cert, (int)issuer->cert_len);
    int ret = -1;

    if (b == NULL || (*cert = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
        ossl_fail(err, "read the CA certificate");
        goto out;
    }
    BIO_free(b);
    b = BIO_new_mem_buf(issuer->key, (int)issuer->key_len);
    if (b == NULL || (*key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL) {
        ossl_fail(err, "read the CA private key");
        goto out;
    }
    if (EVP_PKEY_eq(X509_get0_pubkey(*cert), *key) != 1) {
        dbssl_error_set(err, DBSSL_ERR_CERT, NULL,
                        "the CA private key does not match the CA certificate");
        goto out;
    }
    ret = 0;
out:
    BIO_free(b);
    ERR_clear_error();
    return ret;
}

int certs_issue(enum certs_kind kind, const struct dbssl_certs_opts *opts,
                const struct certs_pem *issuer, char *const *names, const char *cn,
                struct certs_keys *keys, struct certs_pem *out, struct dbssl_error *err)
{
    EVP_PKEY *key = NULL, *ikey = NULL;
    X509 *x = NULL, *icert = NULL;
    bool rsa = opts->key_type != DBSSL_KEY_EC_P256;
    const char *subject_cn = cn;
    long long now = dbssl_now();
    int ret = -1;

    memset(out, 0, sizeof(*out));
    ERR_clear_error();
    if (issuer != NULL && load_issuer(issuer, &icert, &ikey, err) != 0)
        goto out;
    if (keys != NULL && keys->next < keys->n) {
        key = keys->v[keys->next]; /* ours now */
        keys->v[keys->next++] = NULL;
    } else if ((key = new_key(opts->key_type, err)) == NULL) {
        goto out;
    }
    if (kind == CERTS_KIND_CA)
        subject_cn = "dbssl development CA";
    else if (kind == CERTS_KIND_SERVER)
        subject_cn = (names && names[0]) ? strchr(names[0], ':') + 1 : "localhost";
    if ((x = X509_new()) == NULL || X509_set_version(x, X509_VERSION_3) != 1 || !set_serial(x) ||
        ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(now - BACKDATE_SECONDS)) == NULL ||
        ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(now + opts->days * SECONDS_PER_DAY)) ==
            NULL ||
        !set_subject(x, subject_cn) || X509_set_pubkey(x, key) != 1 ||
        X509_set_issuer_name(x, icert ? X509_get_subject_name(icert) : X509_get_subject_name(x)) !=
            1) {
        ossl_fail(err, "build a certificate");
        goto out;
    }
    {
        X509 *signer = icert ? icert : x;
        int ok = add_ext(x, signer, NID_subject_key_identifier, "hash") &&
                 add_ext(x, signer, NID_authority_key_identifier, "keyid:always");
        if (kind == CERTS_KIND_CA) {
            ok = ok && add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE") &&
                 add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
        } else {
            ok = ok && add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE") &&
                 add_ext(x, signer, NID_key_usage,
                         rsa ? "critical,digitalSignature,keyEncipherment"
                             : "critical,digitalSignature") &&
                 add_ext(x, signer, NID_ext_key_usage,
                         kind == CERTS_KIND_SERVER ? "serverAuth" : "clientAuth");
        }
        if (ok && kind == CERTS_KIND_SERVER)
            ok = add_sans(x, names);
        if (!ok) {
            ossl_fail(err, "add the certificate extensions");
            goto out;
        }
    }
    if (X509_sign(x, ikey ? ikey : key, EVP_sha256()) <= 0) {
        ossl_fail(err, "sign the certificate");
        goto out;
    }
    if (!pem_out(x, key, out)) {
        ossl_fail(err, "encode the certificate");
        goto out;
    }
    ret = 0;
out:
    if (ret != 0)
        certs_pem_clear(out);
    ERR_clear_error();
    X509_free(x);
    X509_free(icert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ikey);
    return ret;
}
