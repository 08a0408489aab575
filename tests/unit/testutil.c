/*
 * testutil.c - temp files and a certificate factory for the unit tests.
 */
#include "testutil.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <dirent.h>
#include <jansson.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "dbssl/config.h"
#include "health.h"
#include "render.h"
#include "util.h"

static long long tu_now; /* 0: the real clock */

void tu_set_now(long long t)
{
    tu_now = t;
}

/* clock.h: the unit tests' definition of the hook no shipped object has */
long long dbssl_clock_test_now(long long real)
{
    return tu_now != 0 ? tu_now : real;
}

char *tu_mkdtemp(void)
{
    char tmpl[] = "/tmp/dbssl-test-XXXXXX";
    char *d = mkdtemp(tmpl);

    assert_non_null(d);
    assert_int_equal(chmod(d, 0755), 0);
    return strdup(d);
}

char *tu_dir;

int tu_setup_dir(void **state)
{
    (void)state;
    tu_dir = tu_mkdtemp();
    return 0;
}

int tu_teardown_dir(void **state)
{
    (void)state;
    tu_rmrf(tu_dir);
    free(tu_dir);
    tu_dir = NULL;
    return 0;
}

void tu_rmrf(const char *path)
{
    if (path)
        remove_tree(path);
}

const char *tu_path(const char *dir, const char *name)
{
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];

    snprintf(b, 4096, "%s/%s", dir, name);
    return b;
}

void tu_write(const char *path, const char *text, mode_t mode)
{
    int fd;
    size_t len = strlen(text);

    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static EVP_PKEY *read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k;

    assert_non_null(f);
    k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(k);
    return k;
}

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x;

    assert_non_null(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    return x;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* Writes k to path (mode 0600): PEM, encrypted PEM (PKCS#8, AES-256) with pass, or DER. */
static void write_key(const char *path, EVP_PKEY *k, const char *pass, bool der)
{
    FILE *f;
    int fd;

    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    if (der)
        assert_int_equal(i2d_PrivateKey_fp(f, k), 1);
    else if (pass != NULL)
        assert_int_equal(
            PEM_write_PKCS8PrivateKey(f, k, EVP_aes_256_cbc(), pass, (int)strlen(pass), NULL, NULL),
            1);
    else
        assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
}

void tu_make_cert(const char *cert_path, const char *key_path, const struct tu_cert_opts *o)
{
    EVP_PKEY *key = o->key_from ? read_key(o->key_from) : EVP_EC_gen("P-256");
    X509 *x = X509_new(), *issuer = NULL;
    EVP_PKEY *ikey = NULL;
    X509_NAME *name;
    unsigned char serial[16];
    BIGNUM *bn;
    FILE *f;

    assert_non_null(key);
    assert_non_null(x);
    X509_set_version(x, 2);
    assert_int_equal(RAND_bytes(serial, sizeof(serial)), 1);
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), o->not_before_days * 86400L);
    X509_gmtime_adj(X509_getm_notAfter(x), o->not_after_days * 86400L);
    X509_set_pubkey(x, key);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)o->cn, -1, -1, 0);
    if (o->issuer_cert) {
        issuer = read_cert(o->issuer_cert);
        ikey = read_key(o->issuer_key);
        X509_set_issuer_name(x, X509_get_subject_name(issuer));
    } else {
        X509_set_issuer_name(x, name);
    }
    add_ext(x, issuer, NID_subject_key_identifier, "hash");
    if (o->is_ca) {
        add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
    }
    if (o->san)
        add_ext(x, issuer, NID_subject_alt_name, o->san);
    assert_true(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);

    unlink(cert_path);
    f = fopen(cert_path, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509(f, x), 1);
    fclose(f);
    chmod(cert_path, 0644);
    if (key_path)
        write_key(key_path, key, NULL, false);
    X509_free(issuer);
    EVP_PKEY_free(ikey);
    X509_free(x);
    EVP_PKEY_free(key);
}

void tu_make_encrypted_key(const char *key_path)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");

    write_key(key_path, k, "secret", false);
    EVP_PKEY_free(k);
}

void tu_convert_key(const char *in, const char *out, const char *pass)
{
    EVP_PKEY *k = read_key(in);

    write_key(out, k, pass, pass == NULL);
    EVP_PKEY_free(k);
}

void tu_make_crl(const char *crl_path, const char *ca_cert, const char *ca_key, long next_days)
{
    X509 *ca = read_cert(ca_cert);
    EVP_PKEY *k = read_key(ca_key);
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_new();
    FILE *f;

    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));
    X509_gmtime_adj(t, next_days < 0 ? (next_days - 1) * 86400L : -3600L);
    X509_CRL_set1_lastUpdate(crl, t);
    X509_gmtime_adj(t, next_days * 86400L);
    X509_CRL_set1_nextUpdate(crl, t);
    assert_true(X509_CRL_sign(crl, k, EVP_sha256()) > 0);
    f = fopen(crl_path, "w");
    assert_non_null(f);
    PEM_write_X509_CRL(f, crl);
    fclose(f);
    ASN1_TIME_free(t);
    X509_CRL_free(crl);
    EVP_PKEY_free(k);
    X509_free(ca);
}

struct dbssl_config *test_config_from(const char *const *envp)
{
    char path[] = "/tmp/dbssl_test_env.XXXXXX";
    int fd = mkstemp(path);
    struct dbssl_error e;
    struct dbssl_config *cfg;

    assert_true(fd >= 0);
    close(fd);
    dbssl_error_clear(&e);
    cfg = dbssl_config_load_from(path, true, envp, &e);
    unlink(path);
    if (cfg == NULL)
        fail_msg("loading the settings failed: %s", e.message);
    return cfg;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* 0 when got is what the case expects (or was written as such), 1 otherwise. */
static int compare_expected(const char *name, const char *got, bool update)
{
    char *expected = NULL;
    int failed = 0;

    if (update) {
        FILE *out = fopen("expected", "w");
        assert_non_null(out);
        fputs(got, out);
        fclose(out);
    } else if (read_file("expected", "expected file", 65536, &expected, NULL, NULL) != 0) {
        fprintf(stderr, "case %s: no expected file\n", name);
        failed = 1;
    } else if (strcmp(expected, got) != 0) {
        fprintf(stderr, "case %s:\n--- expected\n%s--- got\n%s", name, expected, got);
        failed = 1;
    }
    free(expected);
    return failed;
}

void tu_data_cases(const char *module, char *(*run)(const char *name), int min)
{
    const char *data = getenv("DBSSL_TEST_DATA");
    char base[4096], cwd[4096];
    struct dirent **names;
    int n, ran = 0, failed = 0;
    bool update = getenv("DBSSL_UPDATE_EXPECTED") != NULL;

    assert_non_null(data);
    snprintf(base, sizeof(base), "%s/%s", data, module);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    n = scandir(base, &names, NULL, by_name);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        char casedir[8192], *got;

        if (names[i]->d_name[0] == '.') {
            free(names[i]);
            continue;
        }
        snprintf(casedir, sizeof(casedir), "%s/%s", base, names[i]->d_name);
        assert_int_equal(chdir(casedir), 0);
        got = run(names[i]->d_name);
        assert_non_null(got);
        failed += compare_expected(names[i]->d_name, got, update);
        ran++;
        free(got);
        free(names[i]);
    }
    free(names);
    assert_int_equal(chdir(cwd), 0);
    assert_true(ran >= min);
    assert_int_equal(failed, 0);
}

void tu_make_client_pki(const char *dir, const char *ca_cn)
{
    struct tu_cert_opts ca = {ca_cn, true, -1, 365, NULL, NULL, NULL, NULL};
    struct tu_cert_opts client = {"app", false, -1, 365, NULL, NULL, NULL, NULL};
    char ca_crt[4096], ca_key[4096];

    snprintf(ca_crt, sizeof(ca_crt), "%s", tu_path(dir, "ca.crt"));
    snprintf(ca_key, sizeof(ca_key), "%s", tu_path(dir, "ca.key"));
    tu_make_cert(ca_crt, ca_key, &ca);
    client.issuer_cert = ca_crt;
    client.issuer_key = ca_key;
    tu_make_cert(tu_path(dir, "client.crt"), tu_path(dir, "client.key"), &client);
}

void tu_tls_ok(struct dbssl_tls_state *t, long long now)
{
    memset(t, 0, sizeof(*t));
    t->connected = true;
    t->ssl_in_use = true;
    t->server_sees_ssl = true;
    snprintf(t->protocol, sizeof(t->protocol), "TLSv1.3");
    snprintf(t->cipher, sizeof(t->cipher), "TLS_AES_256_GCM_SHA384");
    t->key_bits = 256;
    snprintf(t->server_host, sizeof(t->server_host), "127.0.0.1");
    snprintf(t->server_port, sizeof(t->server_port), "5432");
    snprintf(t->server_version, sizeof(t->server_version), "15.18");
    snprintf(t->server_cert_subject, sizeof(t->server_cert_subject), "CN=localhost");
    t->server_cert_not_after = now + 200 * SECONDS_PER_DAY;
    t->latency_ms = 1.25;
}

struct dbssl_snapshot *tu_snapshot(const struct dbssl_config *cfg,
                                   const struct dbssl_tls_state *tls,
                                   const struct dbssl_inuse_certs *certs, long long now,
                                   long long last_success, const struct dbssl_snapshot_extra *x)
{
    struct dbssl_snapshot *s = dbssl_snapshot_new(cfg, tls, certs, now, last_success, x, NULL);

    assert_non_null(s);
    assert_int_equal(dbssl_render_snapshot(s, NULL), 0);
    return s;
}

const char *tu_warning_with(json_t *j, const char *needle)
{
    json_t *v;
    size_t i;

    json_array_foreach(json_object_get(j, "warnings"), i, v)
    {
        if (strstr(json_string_value(v), needle) != NULL)
            return json_string_value(v);
    }
    return NULL;
}
