/*
 * test_certs.c - the generated certificate set: what a user finds on disk
 * after dbssl_certs_generate()/dbssl_certs_ensure(), checked with the
 * project's own reader (certinfo.c) and OpenSSL's verifier.
 */
#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certinfo.h"
#include "certs.h"
#include "clock.h"
#include "config.h"
#include "util.h"

#define _XOPEN_SOURCE_EXTENDED_FTW
#include <ftw.h>

struct fixture {
    char root[64];
    char dir[128];
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    assert_non_null(fx);
    snprintf(fx->root, sizeof(fx->root), "/tmp/dbssl-test-certs-XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    snprintf(fx->dir, sizeof(fx->dir), "%s/ssl/db", fx->root);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    nftw(fx->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static void path_of(const struct fixture *fx, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", fx->dir, name);
}

static void opts_init(struct dbssl_certs_opts *o, const struct fixture *fx)
{
    memset(o, 0, sizeof(*o));
    o->dir = fx->dir;
    o->days = 365;
    o->key_type = DBSSL_KEY_EC_P256;
    o->with_ca = true;
    o->with_client = true;
    o->client_cn = "app";
    o->renew_within_days = 30;
}

static void generate_ok(const struct dbssl_certs_opts *o, struct dbssl_certs_result *res)
{
    struct dbssl_error e;

    dbssl_error_clear(&e);
    if (dbssl_certs_generate(o, res, &e) != 0)
        fail_msg("generate failed: %s", e.message);
}

static char *fingerprint(const struct fixture *fx, const char *name)
{
    char path[256];
    struct dbssl_certlist list;
    char *fp;

    path_of(fx, name, path, sizeof(path));
    assert_int_equal(dbssl_certlist_load(path, "certificate file", &list, NULL), 0);
    fp = xstrdup(list.certs[0].fingerprint);
    dbssl_certlist_free(&list);
    return fp;
}

static unsigned mode_of(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

static long long mtime_ns(const struct fixture *fx, const char *name)
{
    char path[256];
    struct stat st;

    path_of(fx, name, path, sizeof(path));
    assert_int_equal(stat(path, &st), 0);
    return (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

static void assert_chains(const struct fixture *fx, const char *leaf)
{
    char cpath[256], capath[256], reason[256];
    bool ok = false;

    path_of(fx, leaf, cpath, sizeof(cpath));
    path_of(fx, "ca.crt", capath, sizeof(capath));
    assert_int_equal(dbssl_cert_verify_chain(cpath, capath, &ok, reason, sizeof(reason), NULL), 0);
    if (!ok)
        fail_msg("%s does not verify against ca.crt: %s", leaf, reason);
}

static void assert_pair_matches(const struct fixture *fx, const char *crt, const char *key)
{
    char cpath[256], kpath[256];
    bool match = false;

    path_of(fx, crt, cpath, sizeof(cpath));
    path_of(fx, key, kpath, sizeof(kpath));
    assert_int_equal(dbssl_key_matches_cert(cpath, kpath, &match, NULL), 0);
    assert_true(match);
}

static void test_fresh_set_verifies_with_safe_modes(void **state)
{
    struct fixture *fx = *state;
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;
    char path[256];

    opts_init(&o, fx);
    generate_ok(&o, &res);
    assert_false(res.up_to_date);
    assert_int_equal(res.written, (1u << DBSSL_CERTS_NFILES) - 1);
    assert_int_equal(res.replaced, 0);
    assert_int_equal(mode_of(fx->dir), 0700);
    for (int f = 0; f < DBSSL_CERTS_NFILES; f++) {
        const char *name = dbssl_certs_file_name((enum dbssl_certs_file)f);
        path_of(fx, name, path, sizeof(path));
        assert_int_equal(mode_of(path), strstr(name, ".key") ? 0600 : 0644);
    }
    assert_chains(fx, "server.crt");
    assert_chains(fx, "client.crt");
    assert_pair_matches(fx, "ca.crt", "ca.key");
    assert_pair_matches(fx, "server.crt", "server.key");
    assert_pair_matches(fx, "client.crt", "client.key");
    /* nothing of the staging area is left behind */
    path_of(fx, ".pending", path, sizeof(path));
    assert_int_not_equal(access(path, F_OK), 0);
}

static void test_profile(void **state)
{
    struct fixture *fx = *state;
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;
    struct dbssl_certlist ca, server, client;
    char path[256];

    opts_init(&o, fx);
    generate_ok(&o, &res);
    path_of(fx, "ca.crt", path, sizeof(path));
    assert_int_equal(dbssl_certlist_load(path, "c", &ca, NULL), 0);
    path_of(fx, "server.crt", path, sizeof(path));
    assert_int_equal(dbssl_certlist_load(path, "c", &server, NULL), 0);
    path_of(fx, "client.crt", path, sizeof(path));
    assert_int_equal(dbssl_certlist_load(path, "c", &client, NULL), 0);
    assert_true(ca.certs[0].is_ca);
    assert_true(ca.certs[0].self_signed);
    assert_false(server.certs[0].is_ca);
    assert_string_equal(client.certs[0].common_name, "app");
    assert_string_equal(server.certs[0].issuer, ca.certs[0].subject);
    /* 128-bit serials: 32 hex digits unless the top nibble happens to be 0 */
    assert_true(strlen(server.certs[0].serial) >= 28);
    assert_string_not_equal(server.certs[0].serial, client.certs[0].serial);
    /* backdated for clock skew, valid for the days asked */
    assert_true(server.certs[0].not_before <= dbssl_now() - 240);
    assert_true(server.certs[0].not_after - dbssl_now() > 364 * 86400LL);
    assert_true(server.certs[0].not_after - dbssl_now() <= 365 * 86400LL);
    dbssl_certlist_free(&ca);
    dbssl_certlist_free(&server);
    dbssl_certlist_free(&client);
}

static void test_second_run_changes_nothing(void **state)
{
    struct fixture *fx = *state;
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;
    char *fp1[DBSSL_CERTS_NFILES] = {0}, *fp2;
    long long mt[DBSSL_CERTS_NFILES];

    opts_init(&o, fx);
    generate_ok(&o, &res);
    for (int f = 0; f < DBSSL_CERTS_NFILES; f++) {
        const char *name = dbssl_certs_file_name((enum dbssl_certs_file)f);
        mt[f] = mtime_ns(fx, name);
        if (strstr(name, ".crt"))
            fp1[f] = fingerprint(fx, name);
    }
    usleep(20000);
    generate_ok(&o, &res);
    assert_true(res.up_to_date);
    assert_int_equal(res.written, 0);
    for (int f = 0; f < DBSSL_CERTS_NFILES; f++) {
        const char *name = dbssl_certs_file_name((enum dbssl_certs_file)f);
        assert_int_equal(mtime_ns(fx, name), mt[f]);
        if (fp1[f] == NULL)
            continue;
        fp2 = fingerprint(fx, name);
        assert_string_equal(fp1[f], fp2);
        free(fp2);
        free(fp1[f]);
    }
}

static void test_missing_client_reissued_from_same_ca(void **state)
{
    struct fixture *fx = *state;
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;
    char path[256];
    char *ca1, *server1, *client1, *ca2, *server2, *client2;
    long long ca_mt, server_mt;

    opts_init(&o, fx);
    generate_ok(&o, &res);
    ca1 = fingerprint(fx, "ca.crt");
    server1 = fingerprint(fx, "server.crt");
    client1 = fingerprint(fx, "client.crt");
    ca_mt = mtime_ns(fx, "ca.key");
    server_mt = mtime_ns(fx, "server.key");
    path_of(fx, "client.crt", path, sizeof(path));
    assert_int_equal(unlink(path), 0);

    generate_ok(&o, &res);
    assert_int_equal(res.written, (1u << DBSSL_CERTS_CLIENT_CRT) | (1u << DBSSL_CERTS_CLIENT_KEY));
    assert_int_equal(res.replaced, 1u << DBSSL_CERTS_CLIENT_KEY);
    ca2 = fingerprint(fx, "ca.crt");
    server2 = fingerprint(fx, "server.crt");
    client2 = fingerprint(fx, "client.crt");
    assert_string_equal(ca1, ca2);
    assert_string_equal(server1, server2);
    assert_string_not_equal(client1, client2);
    assert_int_equal(mtime_ns(fx, "ca.key"), ca_mt);
    assert_int_equal(mtime_ns(fx, "server.key"), server_mt);
    assert_chains(fx, "client.crt");
    assert_pair_matches(fx, "client.crt", "client.key");
    free(ca1);
    free(server1);
    free(client1);
    free(ca2);
    free(server2);
    free(client2);
}

static void test_one_day_set_is_renewed(void **state)
{
    struct fixture *fx = *state;
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;
    char *before, *after;

    opts_init(&o, fx);
    o.days = 1;
    generate_ok(&o, &res);
    /* under the settings that made it, a 1-day set is not churned */
    generate_ok(&o, &res);
    assert_true(res.up_to_date);
    before = fingerprint(fx, "server.crt");
    o.days = 365;
    generate_ok(&o, &res);
    assert_false(res.up_to_date);
    assert_int_equal(res.replaced, (1u << DBSSL_CERTS_NFILES) - 1);
    assert_non_null(strstr(res.reason[DBSSL_CERTS_CA_CRT], "expires in "));
    after = fingerprint(fx, "server.crt");
    assert_string_not_equal(before, after);
    assert_chains(fx, "server.crt");
    free(before);
    free(after);
}

/* A self-signed certificate that expired yesterday, as a user might still have. */
static void write_expired_cert(const char *path)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = X509_new();
    FILE *fp;

    assert_non_null(k);
    assert_non_null(x);
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                               (const unsigned char *)"old-ca", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(dbssl_now() - 10 * 86400));
    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(dbssl_now() - 86400));
    X509_set_pubkey(x, k);
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    fp = fopen(path, "w");
    assert_non_null(fp);
    PEM_write_X509(fp, x);
    fclose(fp);
    X509_free(x);
    EVP_PKEY_free(k);
}

static struct dbssl_config *load_env(const char *const *envp)
{
    struct dbssl_error e;
    struct dbssl_config *cfg;

    dbssl_error_clear(&e);
    cfg = dbssl_config_load_from(NULL, false, envp, &e);
    if (cfg == NULL)
        fail_msg("config: %s", e.message);
    return cfg;
}

static void test_user_supplied_cert_reported_not_replaced(void **state)
{
    struct fixture *fx = *state;
    char user_ca[256], env_ca[300], env_dir[300];
    struct dbssl_certs_result res;
    struct dbssl_config *cfg;
    struct stat before, after;
    char *pem_before = NULL, *pem_after = NULL;

    snprintf(user_ca, sizeof(user_ca), "%s/user-ca.crt", fx->root);
    write_expired_cert(user_ca);
    assert_int_equal(stat(user_ca, &before), 0);
    assert_int_equal(read_file(user_ca, "f", 1 << 20, &pem_before, NULL, NULL), 0);
    snprintf(env_ca, sizeof(env_ca), "DB_SSL_CA_CERT=%s", user_ca);
    snprintf(env_dir, sizeof(env_dir), "DB_SSL_AUTO_CERT_DIR=%s", fx->dir);
    {
        const char *envp[] = {"DATABASE_URL=postgresql://app@localhost/app",
                              "DB_SSL_AUTO_GENERATE=true", env_ca, env_dir, NULL};
        cfg = load_env(envp);
    }
    assert_int_equal(dbssl_certs_ensure(cfg, &res, NULL), 0);
    /* ensure never reads it (validation reports it); certs generate asks for the note */
    assert_int_equal(res.n_notes, 0);
    dbssl_certs_report_user_files(cfg, &res);
    assert_int_equal(res.n_notes, 1);
    assert_non_null(strstr(res.notes[0], user_ca));
    assert_non_null(strstr(res.notes[0], "DB_SSL_CA_CERT"));
    assert_non_null(strstr(res.notes[0], "expired"));
    assert_non_null(strstr(res.notes[0], "not replaced"));
    assert_int_equal(stat(user_ca, &after), 0);
    assert_int_equal(read_file(user_ca, "f", 1 << 20, &pem_after, NULL, NULL), 0);
    assert_string_equal(pem_before, pem_after);
    assert_true(before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
                before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);
    /* the generated server set exists all the same */
    assert_chains(fx, "server.crt");
    free(pem_before);
    free(pem_after);
    dbssl_config_free(cfg);
}

static void test_user_supplied_client_pair_not_generated(void **state)
{
    struct fixture *fx = *state;
    char env_dir[300];
    struct dbssl_certs_result res;
    struct dbssl_config *cfg;
    char path[256];
    const char *envp[] = {"DATABASE_URL=postgresql://app@localhost/app",
                          "DB_SSL_AUTO_GENERATE=true",
                          "DB_SSL_AUTO_GENERATE_CLIENT=true",
                          "DB_SSL_CLIENT_CERT=/nonexistent/client.crt",
                          "DB_SSL_CLIENT_KEY=/nonexistent/client.key",
                          env_dir,
                          NULL};

    snprintf(env_dir, sizeof(env_dir), "DB_SSL_AUTO_CERT_DIR=%s", fx->dir);
    cfg = load_env(envp);
    assert_int_equal(dbssl_certs_ensure(cfg, &res, NULL), 0);
    path_of(fx, "client.crt", path, sizeof(path));
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_equal(res.n_notes, 0);
    dbssl_certs_report_user_files(cfg, &res);
    assert_int_equal(res.n_notes, 1);
    assert_non_null(strstr(res.notes[0], "DB_SSL_CLIENT_CERT"));
    dbssl_config_free(cfg);
}

static void test_ensure_off_and_production(void **state)
{
    struct fixture *fx = *state;
    char env_dir[300];
    struct dbssl_certs_result res;
    struct dbssl_config *cfg;
    struct dbssl_error e;
    const char *off[] = {"DATABASE_URL=postgresql://app@localhost/app", env_dir, NULL};
    const char *prod[] = {"DATABASE_URL=postgresql://app@localhost/app", env_dir,
                          "DB_SSL_AUTO_GENERATE=true", "APP_ENV=production", NULL};

    snprintf(env_dir, sizeof(env_dir), "DB_SSL_AUTO_CERT_DIR=%s", fx->dir);
    cfg = load_env(off);
    assert_int_equal(dbssl_certs_ensure(cfg, &res, NULL), 0);
    assert_true(res.up_to_date);
    assert_int_not_equal(access(fx->dir, F_OK), 0);
    dbssl_config_free(cfg);

    cfg = load_env(prod);
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_certs_ensure(cfg, &res, &e), -1);
    assert_int_equal(e.code, DBSSL_ERR_CONFIG);
    assert_non_null(strstr(e.message, "production"));
    assert_int_not_equal(access(fx->dir, F_OK), 0);
    dbssl_config_free(cfg);
}

static void check_key_type(struct fixture *fx, enum dbssl_key_type t, const char *name, int bits)
{
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;
    struct dbssl_keyinfo ki;
    struct dbssl_certlist list;
    char path[256];

    struct dbssl_certlist seen[DBSSL_CERTS_NFILES / 2];
    bool match = false;

    opts_init(&o, fx);
    o.key_type = t;
    generate_ok(&o, &res);
    for (int f = 0; f < DBSSL_CERTS_NFILES; f += 2) {
        path_of(fx, dbssl_certs_file_name((enum dbssl_certs_file)f), path, sizeof(path));
        assert_int_equal(dbssl_certlist_load(path, "c", &list, NULL), 0);
        assert_string_equal(list.certs[0].key_type, name);
        path_of(fx, dbssl_certs_file_name((enum dbssl_certs_file)(f + 1)), path, sizeof(path));
        assert_int_equal(dbssl_key_load_for(path, &list.certs[0], &ki, &match, NULL), 0);
        assert_string_equal(ki.key_type, name);
        assert_int_equal(ki.bits, bits);
        assert_true(match);
        seen[f / 2] = list;
    }
    /* the keys are made at once (RSA by a race of searches): each pair has its own */
    for (int i = 0; i < DBSSL_CERTS_NFILES / 2; i++)
        for (int j = i + 1; j < DBSSL_CERTS_NFILES / 2; j++)
            assert_false(seen[i].certs[0].spki_len == seen[j].certs[0].spki_len &&
                         memcmp(seen[i].certs[0].spki, seen[j].certs[0].spki,
                                seen[i].certs[0].spki_len) == 0);
    for (int i = 0; i < DBSSL_CERTS_NFILES / 2; i++)
        dbssl_certlist_free(&seen[i]);
    assert_chains(fx, "server.crt");
    assert_chains(fx, "client.crt");
}

static void test_key_types(void **state)
{
    struct fixture *fx = *state;
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;

    check_key_type(fx, DBSSL_KEY_EC_P256, "EC", 256);
    /* changing the key type is a reason to re-issue, without --force */
    check_key_type(fx, DBSSL_KEY_RSA_2048, "RSA", 2048);
    opts_init(&o, fx);
    o.key_type = DBSSL_KEY_RSA_2048;
    generate_ok(&o, &res);
    assert_true(res.up_to_date);
}

static void test_sans_cover_database_url_hosts(void **state)
{
    struct fixture *fx = *state;
    char env_dir[300], path[256];
    struct dbssl_certs_result res;
    struct dbssl_config *cfg;
    struct dbssl_certlist list;
    const char *envp[] = {
        "DATABASE_URL=postgresql://app@DB.Example.com:5432,10.0.0.7:5433,[fd00::5]:5434/app",
        "DB_SSL_AUTO_GENERATE=true", "DB_SSL_AUTO_CERT_HOSTS=extra.internal,192.168.1.9", env_dir,
        NULL};

    snprintf(env_dir, sizeof(env_dir), "DB_SSL_AUTO_CERT_DIR=%s", fx->dir);
    cfg = load_env(envp);
    assert_int_equal(dbssl_certs_ensure(cfg, &res, NULL), 0);
    path_of(fx, "server.crt", path, sizeof(path));
    assert_int_equal(dbssl_certlist_load(path, "c", &list, NULL), 0);
    assert_string_equal(list.certs[0].sans,
                        "DNS:localhost, IP:127.0.0.1, IP:::1, DNS:db.example.com, IP:10.0.0.7, "
                        "IP:fd00::5, DNS:extra.internal, IP:192.168.1.9");
    dbssl_certlist_free(&list);
    dbssl_config_free(cfg);

    /* a new name in the settings re-issues the server pair only */
    {
        const char *envp2[] = {"DATABASE_URL=postgresql://app@new.example/app",
                               "DB_SSL_AUTO_GENERATE=true", env_dir, NULL};
        cfg = load_env(envp2);
        assert_int_equal(dbssl_certs_ensure(cfg, &res, NULL), 0);
        assert_int_equal(res.written,
                         (1u << DBSSL_CERTS_SERVER_CRT) | (1u << DBSSL_CERTS_SERVER_KEY));
        assert_non_null(strstr(res.reason[DBSSL_CERTS_SERVER_CRT], "DNS:new.example"));
        dbssl_config_free(cfg);
    }
}

static void test_without_ca(void **state)
{
    struct fixture *fx = *state;
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;
    struct dbssl_certlist list;
    char path[256];

    opts_init(&o, fx);
    o.with_ca = false;
    generate_ok(&o, &res);
    path_of(fx, "ca.key", path, sizeof(path));
    assert_int_not_equal(access(path, F_OK), 0);
    path_of(fx, "ca.crt", path, sizeof(path));
    assert_int_equal(dbssl_certlist_load(path, "c", &list, NULL), 0);
    assert_int_equal(list.n, 2); /* server and client, each self-signed */
    assert_true(list.certs[0].self_signed);
    assert_true(list.certs[1].self_signed);
    dbssl_certlist_free(&list);
    assert_chains(fx, "server.crt");
    assert_chains(fx, "client.crt");
    generate_ok(&o, &res);
    assert_true(res.up_to_date);
}

/* Copies a fresh set into dir/.pending as a killed update would have left it. */
static void stage_new_set(struct fixture *fx, bool commit, bool half_moved)
{
    struct fixture other = *fx;
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;
    char from[256], to[256], cmd[1024];

    snprintf(other.dir, sizeof(other.dir), "%s/other", fx->root);
    opts_init(&o, &other);
    generate_ok(&o, &res);
    snprintf(cmd, sizeof(cmd), "mkdir -m 700 %s/.pending && cp -p %s/*.crt %s/*.key %s/.pending/",
             fx->dir, other.dir, other.dir, fx->dir);
    assert_int_equal(system(cmd), 0);
    if (commit) {
        snprintf(cmd, sizeof(cmd),
                 "printf 'dbssl-certs 1\\nca.crt\\nca.key\\nserver.crt\\nserver.key\\n"
                 "client.crt\\nclient.key\\n' > %s/.pending/COMMIT",
                 fx->dir);
        assert_int_equal(system(cmd), 0);
    }
    if (half_moved) {
        snprintf(from, sizeof(from), "%s/.pending/ca.crt", fx->dir);
        path_of(fx, "ca.crt", to, sizeof(to));
        assert_int_equal(rename(from, to), 0);
    }
}

static void test_recovery_discards_uncommitted_update(void **state)
{
    struct fixture *fx = *state;
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;
    char *ca1, *ca2;

    opts_init(&o, fx);
    generate_ok(&o, &res);
    ca1 = fingerprint(fx, "ca.crt");
    stage_new_set(fx, false, false);
    generate_ok(&o, &res);
    assert_true(res.recovered);
    assert_true(res.up_to_date);
    ca2 = fingerprint(fx, "ca.crt");
    assert_string_equal(ca1, ca2);
    free(ca1);
    free(ca2);
}

static void test_recovery_completes_committed_update(void **state)
{
    struct fixture *fx = *state;
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;
    char *ca1, *ca2, path[256];

    opts_init(&o, fx);
    generate_ok(&o, &res);
    ca1 = fingerprint(fx, "ca.crt");
    stage_new_set(fx, true, true); /* killed after the commit, one file moved */
    generate_ok(&o, &res);
    assert_true(res.recovered);
    assert_true(res.up_to_date); /* the completed new set is valid: nothing more to do */
    ca2 = fingerprint(fx, "ca.crt");
    assert_string_not_equal(ca1, ca2);
    assert_chains(fx, "server.crt");
    assert_chains(fx, "client.crt");
    assert_pair_matches(fx, "server.crt", "server.key");
    path_of(fx, ".pending", path, sizeof(path));
    assert_int_not_equal(access(path, F_OK), 0);
    free(ca1);
    free(ca2);
}

/* ---- a directory or staging area another user could have planted -------------- */

#define NOBODY 65534

static void sh(const char *fmt, ...) DBSSL_PRINTF(1, 2);

/* Runs a shell command (with the fixture's paths already in it); it must succeed. */
static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static bool file_exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/*
 * How .pending may be found after someone other than dbssl had a hand in it.
 * Every case: generate refuses, names what it found, adopts nothing (the CA
 * is the one before) and deletes nothing (what .pending holds or points to
 * is still there).  {p} is .pending, {v} a victim directory outside the set.
 */
static const struct planted {
    const char *what;
    const char *plant;  /* shell, after a committed new set was staged in {p} (unless noted) */
    const char *expect; /* in the error message */
    const char *kept;   /* a path that must still exist afterwards */
    bool needs_root;
} planted[] = {
    {"a symlink to another directory", "rm -rf {p} && ln -s {v} {p}",
     "staging directory \"{d}/.pending\" is a symbolic link", "{v}/precious", false},
    {"a staged file that is a symlink", "rm {p}/ca.key && ln -s {v}/precious {p}/ca.key",
     "staged file \"{d}/.pending/ca.key\" is a symbolic link", "{v}/precious", false},
    {"a staged file linked from elsewhere", "rm {p}/ca.key && ln {v}/precious {p}/ca.key",
     "staged file \"{d}/.pending/ca.key\" is linked from elsewhere", "{v}/precious", false},
    {"a file dbssl never writes", "touch {p}/evil.so", "staged file \"{d}/.pending/evil.so\"",
     "{p}/evil.so", false},
    {"a staged CA key of another user", "chown 65534 {p}/ca.key",
     "staged file \"{d}/.pending/ca.key\" is owned by another user", "{p}/ca.key", true},
    {"a staging directory of another user", "chown -R 65534 {p}",
     "staging directory \"{d}/.pending\" is owned by another user", "{p}/COMMIT", true},
};

static void expand_planted(const char *s, const struct fixture *fx, char *out, size_t len)
{
    size_t n = 0;

    for (; *s && n + 1 < len; s++) {
        const char *with = NULL;
        char buf[300];
        if (s[0] == '{' && s[2] == '}') {
            if (s[1] == 'p')
                snprintf(buf, sizeof(buf), "%s/.pending", fx->dir), with = buf;
            else if (s[1] == 'v')
                snprintf(buf, sizeof(buf), "%s/victim", fx->root), with = buf;
            else if (s[1] == 'd')
                with = fx->dir;
        }
        if (with != NULL) {
            n += (size_t)snprintf(out + n, len - n, "%s", with);
            s += 2;
        } else {
            out[n++] = *s;
        }
    }
    out[n < len ? n : len - 1] = '\0';
}

static void test_planted_pending_is_refused_untouched(void **state)
{
    struct fixture *fx = *state;
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;
    int failed = 0;

    opts_init(&o, fx);
    for (size_t i = 0; i < sizeof(planted) / sizeof(planted[0]); i++) {
        const struct planted *c = &planted[i];
        char cmd[1024], want[1024], kept[512], *ca1, *ca2;
        struct dbssl_error e;
        if (c->needs_root && geteuid() != 0)
            continue;
        sh("rm -rf %s %s/victim %s/other && mkdir -p %s/victim && echo keep > "
           "%s/victim/precious",
           fx->dir, fx->root, fx->root, fx->root, fx->root);
        generate_ok(&o, &res);
        ca1 = fingerprint(fx, "ca.crt");
        stage_new_set(fx, true, false); /* would install another CA if rolled forward */
        expand_planted(c->plant, fx, cmd, sizeof(cmd));
        sh("%s", cmd);
        expand_planted(c->expect, fx, want, sizeof(want));
        expand_planted(c->kept, fx, kept, sizeof(kept));
        dbssl_error_clear(&e);
        if (dbssl_certs_generate(&o, &res, &e) == 0 || strstr(e.message, want) == NULL) {
            fprintf(stderr, "case \"%s\": expected \"%s\", got \"%s\"\n", c->what, want, e.message);
            failed++;
        }
        ca2 = fingerprint(fx, "ca.crt");
        if (strcmp(ca1, ca2) != 0 || !file_exists(kept) || e.hint[0] == '\0') {
            fprintf(stderr, "case \"%s\": CA changed, \"%s\" deleted or no hint\n", c->what, kept);
            failed++;
        }
        free(ca1);
        free(ca2);
    }
    assert_int_equal(failed, 0);
}

/* root stages the server pair already owned by --owner: a later run still completes it */
static void test_recovery_of_a_pair_staged_for_owner(void **state)
{
    struct fixture *fx = *state;
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;

    if (geteuid() != 0)
        skip();
    opts_init(&o, fx);
    generate_ok(&o, &res);
    stage_new_set(fx, true, false);
    sh("chown %d %s/.pending/server.crt %s/.pending/server.key", NOBODY, fx->dir, fx->dir);
    generate_ok(&o, &res);
    assert_true(res.recovered);
    assert_pair_matches(fx, "server.crt", "server.key");
}

/* A directory another user can change is refused before anything is written. */
static void test_unsafe_directory_is_refused(void **state)
{
    struct fixture *fx = *state;
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;
    struct dbssl_error e;
    char want[512], path[256];

    opts_init(&o, fx);
    sh("mkdir -p %s && chmod 0777 %s", fx->dir, fx->dir);
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_certs_generate(&o, &res, &e), -1);
    assert_int_equal(e.code, DBSSL_ERR_CONFIG);
    snprintf(want, sizeof(want),
             "certificate directory \"%s\" is writable by other users (mode 0777)", fx->dir);
    assert_string_equal(e.message, want);
    snprintf(want, sizeof(want), "chmod 0700 \"%s\"", fx->dir);
    assert_non_null(strstr(e.hint, want));
    path_of(fx, "ca.key", path, sizeof(path));
    assert_false(file_exists(path));
    /* the parent: writable by others without the sticky bit */
    sh("chmod 0700 %s && chmod 0777 %s/ssl", fx->dir, fx->root);
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_certs_generate(&o, &res, &e), -1);
    snprintf(want, sizeof(want), "directory \"%s/ssl\" above certificate directory \"%s\"",
             fx->root, fx->dir);
    assert_non_null(strstr(e.message, want));
    /* with the sticky bit (as /tmp) it is fine */
    sh("chmod 1777 %s/ssl", fx->root);
    generate_ok(&o, &res);
    assert_false(res.up_to_date);
}

/* A symlink in the set is never followed: it is replaced, its target left alone. */
static void test_symlink_in_set_is_replaced_not_followed(void **state)
{
    struct fixture *fx = *state;
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;
    char path[256];
    struct stat st;

    opts_init(&o, fx);
    generate_ok(&o, &res);
    sh("cp %s/ca.crt %s/outside.crt && rm %s/ca.crt && ln -s %s/outside.crt %s/ca.crt", fx->dir,
       fx->root, fx->dir, fx->root, fx->dir);
    generate_ok(&o, &res);
    assert_true(res.written & (1u << DBSSL_CERTS_CA_CRT));
    assert_non_null(strstr(res.reason[DBSSL_CERTS_CA_CRT], "is a symbolic link"));
    path_of(fx, "ca.crt", path, sizeof(path));
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    snprintf(path, sizeof(path), "%s/outside.crt", fx->root);
    assert_true(file_exists(path));
    assert_chains(fx, "server.crt");
}

static void test_bad_owner_and_days(void **state)
{
    struct fixture *fx = *state;
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;
    struct dbssl_error e;

    opts_init(&o, fx);
    o.owner = "no-such-user-dbssl";
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_certs_generate(&o, &res, &e), -1);
    assert_int_equal(e.code, DBSSL_ERR_USAGE);
    assert_non_null(strstr(e.message, "no-such-user-dbssl"));
    assert_int_not_equal(access(fx->dir, F_OK), 0);
    opts_init(&o, fx);
    o.days = 0;
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_certs_generate(&o, &res, &e), -1);
    assert_int_equal(e.code, DBSSL_ERR_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_set_verifies_with_safe_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_run_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_client_reissued_from_same_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_day_set_is_renewed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_supplied_cert_reported_not_replaced, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_user_supplied_client_pair_not_generated, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ensure_off_and_production, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sans_cover_database_url_hosts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_discards_uncommitted_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_completes_committed_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_planted_pending_is_refused_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_of_a_pair_staged_for_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsafe_directory_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_in_set_is_replaced_not_followed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_owner_and_days, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
