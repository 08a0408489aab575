/*
 * test_reload.c - replacing the settings in use: a valid new set (a
 * rotated CA) is swapped in while a reader's reference to the old set stays
 * usable; an invalid one (a file that is not a certificate, a bad .env
 * value) is rejected, counted and described, and the set in use is kept.
 * A weaker one is refused with what would weaken, case by case from
 * tests/data/reload/<case>/ (in_use.env, new.env, expected: the
 * description, empty when nothing weakens), and the refusal stays in
 * last_reload_error across reloads that find the settings in use unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "clock.h"
#include "conn_int.h"
#include "pin.h"
#include "reload.h"
#include "util.h"

static void write_env(const char *env, const char *ca, const char *mode)
{
    char text[2048];

    snprintf(text, sizeof(text),
             "DATABASE_URL=postgresql://app@127.0.0.1/db\nDB_SSL_MODE=%s\nDB_SSL_CA_CERT=%s\n",
             mode, ca);
    tu_write(env, text, 0600);
}

static void make_ca(const char *path, const char *cn)
{
    struct tu_cert_opts o = {cn, true, -1, 365, NULL, NULL, NULL, NULL};

    tu_make_cert(path, tu_path(tu_dir, "ca.key"), &o);
}

static void test_valid_swapped_invalid_kept(void **state)
{
    char env[1024], ca[1024];
    struct dbssl_runtime rt;
    struct dbssl_reload_stats st;
    struct dbssl_loaded *held, *cur;
    struct dbssl_error e;
    struct dbssl_config *cfg;

    (void)state;
    snprintf(env, sizeof(env), "%s", tu_path(tu_dir, "app.env"));
    snprintf(ca, sizeof(ca), "%s", tu_path(tu_dir, "ca.crt"));
    make_ca(ca, "first ca");
    write_env(env, ca, "verify-ca");
    dbssl_error_clear(&e);
    cfg = dbssl_config_load(env, &e);
    assert_non_null(cfg);
    assert_int_equal(dbssl_runtime_init(&rt, env, cfg, &e), 0);

    /* a reader (the checker) holds the first set across the reload */
    held = dbssl_runtime_get(&rt, &st);
    assert_int_equal(held->generation, 1);
    assert_int_equal(st.success, 0);
    assert_true(st.last_success_at > 0);
    make_ca(ca, "second ca");
    assert_true(dbssl_runtime_reload(&rt, "test"));
    cur = dbssl_runtime_get(&rt, &st);
    assert_int_equal(cur->generation, 2);
    assert_int_equal(cur->certs.n, 1);
    assert_string_equal(cur->certs.v[0].subject, "CN=second ca");
    assert_string_equal(held->certs.v[0].subject, "CN=first ca"); /* still readable */
    assert_int_equal(held->cfg->ssl_mode, DBSSL_SSLMODE_VERIFY_CA);
    assert_int_equal(st.success, 1);
    assert_int_equal(st.last_error_at, 0);
    dbssl_loaded_unref(held);
    dbssl_loaded_unref(cur);

    /* the CA file is replaced by something that is not a certificate */
    tu_write(ca, "not a certificate\n", 0644);
    assert_false(dbssl_runtime_reload(&rt, "test"));
    cur = dbssl_runtime_get(&rt, &st);
    assert_int_equal(cur->generation, 2);
    assert_string_equal(cur->certs.v[0].subject, "CN=second ca");
    assert_int_equal(st.failure, 1);
    assert_true(st.last_error_at > 0);
    assert_non_null(strstr(st.last_error.detail, "DB_SSL_CA_CERT: "));
    dbssl_loaded_unref(cur);

    /* a bad value in the .env file: rejected too; a good set clears the error */
    make_ca(ca, "third ca");
    write_env(env, ca, "verify-everything");
    assert_false(dbssl_runtime_reload(&rt, "test"));
    dbssl_loaded_unref(dbssl_runtime_get(&rt, &st));
    assert_int_equal(st.failure, 2);
    assert_non_null(strstr(st.last_error.detail, "DB_SSL_MODE: "));
    write_env(env, ca, "verify-ca");
    assert_true(dbssl_runtime_reload(&rt, "test"));
    cur = dbssl_runtime_get(&rt, &st);
    assert_string_equal(cur->certs.v[0].subject, "CN=third ca");
    assert_int_equal(st.success, 2);
    assert_int_equal(st.last_error_at, 0);
    assert_false(dbssl_renewal_due(cur, dbssl_now() + 400 * 86400LL)); /* not generated */
    dbssl_loaded_unref(cur);

    /* the .env file disappears: its settings would fall back to defaults; refused */
    assert_int_equal(unlink(env), 0);
    assert_false(dbssl_runtime_reload(&rt, "test"));
    cur = dbssl_runtime_get(&rt, &st);
    assert_int_equal(cur->cfg->ssl_mode, DBSSL_SSLMODE_VERIFY_CA);
    assert_non_null(strstr(st.last_error.message, "app.env\" does not exist"));
    dbssl_loaded_unref(cur);
    dbssl_runtime_destroy(&rt);
}

static char *slurp(const char *path)
{
    char *s = NULL;

    assert_int_equal(read_file(path, "file", 1 << 20, &s, NULL, NULL), 0);
    return s;
}

/*
 * libpq reads its files at every connect: after a refused reload the files
 * on disk are the refused ones, so a reconnect must use the pinned copies of
 * the accepted set.
 */
static void test_refused_files_never_reach_libpq(void **state)
{
    struct tu_cert_opts ca = {"pin ca", true, -1, 365, NULL, NULL, NULL, NULL};
    struct tu_cert_opts client = {"app", false, -1, 365, NULL, NULL, NULL, NULL};
    struct tu_cert_opts other = {"app", false, -1, 365, NULL, NULL, NULL, NULL};
    char env[1024], text[4096], pinned_dir[4096];
    char *good_key, *pinned_key;
    struct dbssl_runtime rt;
    struct dbssl_loaded *cur;
    struct dbssl_conn_params p;
    struct dbssl_conn_files files;
    struct dbssl_error e;
    struct dbssl_config *cfg;

    (void)state;
    tu_make_cert(tu_path(tu_dir, "ca.crt"), tu_path(tu_dir, "ca.key"), &ca);
    client.issuer_cert = other.issuer_cert = tu_path(tu_dir, "ca.crt");
    client.issuer_key = other.issuer_key = tu_path(tu_dir, "ca.key");
    tu_make_cert(tu_path(tu_dir, "client.crt"), tu_path(tu_dir, "client.key"), &client);
    snprintf(env, sizeof(env), "%s", tu_path(tu_dir, "app.env"));
    snprintf(text, sizeof(text),
             "DATABASE_URL=postgresql://app@127.0.0.1/db\nDB_SSL_MODE=verify-full\n"
             "DB_SSL_CA_CERT=%s/ca.crt\nDB_SSL_CLIENT_CERT=%s/client.crt\n"
             "DB_SSL_CLIENT_KEY=%s/client.key\n",
             tu_dir, tu_dir, tu_dir);
    tu_write(env, text, 0600);
    dbssl_error_clear(&e);
    cfg = dbssl_config_load(env, &e);
    assert_non_null(cfg);
    assert_int_equal(dbssl_runtime_init(&rt, env, cfg, &e), 0);
    good_key = slurp(tu_path(tu_dir, "client.key"));

    /* a key that does not match the certificate replaces the good one on disk */
    tu_make_cert(tu_path(tu_dir, "other.crt"), tu_path(tu_dir, "client.key"), &other);
    assert_false(dbssl_runtime_reload(&rt, "test"));

    cur = dbssl_runtime_get(&rt, NULL);
    assert_non_null(cur->pinned.dir);
    snprintf(pinned_dir, sizeof(pinned_dir), "%s", cur->pinned.dir);
    files = dbssl_loaded_files(cur);
    assert_int_equal(dbssl_conn_build_params(cur->cfg, &files, &p, &e), 0);
    assert_string_equal(dbssl_conn_params_get(&p, "sslkey"), cur->pinned.key.path);
    assert_string_equal(dbssl_conn_params_get(&p, "sslcert"), cur->pinned.cert.path);
    assert_string_equal(dbssl_conn_params_get(&p, "sslrootcert"), cur->pinned.ca.path);
    pinned_key = slurp(dbssl_conn_params_get(&p, "sslkey"));
    assert_string_equal(pinned_key, good_key); /* the accepted key, not the refused one */
    /* a /tmp cleaner deletes the copies: they come back before the next connect */
    unlink(cur->pinned.key.path);
    unlink(cur->pinned.cert.path);
    unlink(cur->pinned.ca.path);
    assert_int_equal(rmdir(pinned_dir), 0);
    assert_int_equal(dbssl_pin_restore(&cur->pinned, &e), 0);
    free(pinned_key);
    pinned_key = slurp(cur->pinned.key.path);
    assert_string_equal(pinned_key, good_key);
    dbssl_conn_params_free(&p);
    dbssl_loaded_unref(cur);
    dbssl_runtime_destroy(&rt);
    /* the copies leave with the last reference */
    assert_int_not_equal(access(pinned_dir, F_OK), 0);
    free(good_key);
    free(pinned_key);
}

/*
 * The default ./.env vanishes while serve runs with DATABASE_URL in the
 * environment: reloading would quietly fall back to the defaults (prefer).
 */
static void test_default_env_file_vanishing_is_refused(void **state)
{
    char cwd[4096], text[2048];
    const char *envp[] = {"DATABASE_URL=postgresql://app@127.0.0.1/db", NULL};
    struct dbssl_runtime rt;
    struct dbssl_reload_stats st;
    struct dbssl_loaded *cur;
    struct dbssl_error e;
    struct dbssl_config *cfg;

    (void)state;
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(tu_dir), 0);
    make_ca("ca.crt", "env ca");
    snprintf(text, sizeof(text), "DB_SSL_MODE=verify-ca\nDB_SSL_CA_CERT=%s/ca.crt\n", tu_dir);
    tu_write(".env", text, 0600);
    dbssl_error_clear(&e);
    cfg = dbssl_config_load_from(NULL, false, envp, &e);
    assert_non_null(cfg);
    assert_int_equal(dbssl_runtime_init(&rt, NULL, cfg, &e), 0);
    assert_int_equal(unlink(".env"), 0);
    assert_false(dbssl_runtime_reload(&rt, "test"));
    cur = dbssl_runtime_get(&rt, &st);
    assert_int_equal(cur->cfg->ssl_mode, DBSSL_SSLMODE_VERIFY_CA);
    assert_non_null(strstr(st.last_error.message,
                           "env file \"./.env\" of the running settings no longer exists"));
    dbssl_loaded_unref(cur);
    dbssl_runtime_destroy(&rt);
    assert_int_equal(chdir(cwd), 0);
}

/* ---- weakening: one data-driven case per rule and edge -------------------------- */

#define SECRET "Sup3rS3cret"

static struct dbssl_config *load_case_file(const char *name)
{
    struct dbssl_error e;
    struct dbssl_config *cfg;

    dbssl_error_clear(&e);
    cfg = dbssl_config_load_from(name, true, NULL, &e);
    if (cfg == NULL)
        fail_msg("%s: %s", name, e.message);
    return cfg;
}

/* A case: what replacing in_use.env by new.env would weaken, one line, or nothing. */
static char *run_weakening_case(const char *name)
{
    struct dbssl_config *cur = load_case_file("in_use.env");
    struct dbssl_config *fresh = load_case_file("new.env");
    struct strbuf why;
    size_t count;
    char *got;

    (void)name;
    strbuf_init(&why);
    count = dbssl_settings_weakening(cur, fresh, &why);
    if (why.len > 0)
        strbuf_append_c(&why, '\n');
    got = strbuf_take(&why);
    assert_non_null(got);
    /* the count and the description agree; NULL asks for the count alone */
    assert_int_equal(count == 0, got[0] == '\0');
    assert_int_equal(dbssl_settings_weakening(cur, fresh, NULL), count);
    assert_null(strstr(got, SECRET));
    dbssl_config_free(cur);
    dbssl_config_free(fresh);
    return got;
}

static void test_weakening_cases(void **state)
{
    (void)state;
    tu_data_cases("reload", run_weakening_case, 20);
}

/* ---- a running set: refusal, its record, and what clears it ---------------------- */

struct pki {
    char env[1024];
    char base[8192]; /* the settings in use */
};

static void make_pki(struct pki *p)
{
    tu_make_client_pki(tu_dir, "reload ca");
    snprintf(p->env, sizeof(p->env), "%s", tu_path(tu_dir, "app.env"));
    snprintf(p->base, sizeof(p->base),
             "DATABASE_URL=postgresql://app@127.0.0.1/db\nDB_SSL_MODE=verify-full\n"
             "DB_SSL_REQUIRED=true\nDB_SSL_CA_CERT=%s/ca.crt\nDB_SSL_CLIENT_CERT=%s/client.crt\n"
             "DB_SSL_CLIENT_KEY=%s/client.key\n",
             tu_dir, tu_dir, tu_dir);
}

/* A runtime on p's settings (written to p->env). */
static void start_runtime(struct pki *p, struct dbssl_runtime *rt)
{
    struct dbssl_error e;
    struct dbssl_config *cfg;

    make_pki(p);
    tu_write(p->env, p->base, 0600);
    dbssl_error_clear(&e);
    cfg = dbssl_config_load(p->env, &e);
    assert_non_null(cfg);
    assert_int_equal(dbssl_runtime_init(rt, p->env, cfg, &e), 0);
}

static void expect_in_use(struct dbssl_runtime *rt, unsigned long long generation,
                          struct dbssl_reload_stats *st)
{
    struct dbssl_loaded *cur = dbssl_runtime_get(rt, st);

    assert_int_equal(cur->generation, generation);
    assert_int_equal(cur->cfg->ssl_mode, DBSSL_SSLMODE_VERIFY_FULL);
    assert_true(cur->cfg->ssl_required);
    assert_non_null(cur->cfg->client_cert);
    dbssl_loaded_unref(cur);
}

#define WEAKEN_REFUSAL "refused: the new settings weaken TLS"
#define TWO_WRITE_WEAKENING                                                                        \
    "DB_SSL_MODE \"verify-full\" -> \"prefer\"; DB_SSL_REQUIRED true -> false; client "            \
    "certificate dropped; server certificate no longer verified (CA certificate dropped)"

/* st shows the refusal of a weakening: primary, what weakens (detail), how to apply it */
static void expect_weakening(const struct dbssl_reload_stats *st, const char *weakening)
{
    assert_string_equal(st->last_error.message, WEAKEN_REFUSAL);
    assert_string_equal(st->last_error.detail, weakening);
    assert_string_equal(st->last_error.hint, "Restart dbssl serve to apply them deliberately.");
}

static void test_downgrade_refused_and_remembered(void **state)
{
    struct pki p;
    struct dbssl_runtime rt;
    struct dbssl_reload_stats st;
    long long refused_at;
    char text[9000];

    (void)state;
    start_runtime(&p, &rt);

    /* the first write of a two-write edit: refused, the set in use kept */
    tu_write(p.env, "DATABASE_URL=postgresql://app@127.0.0.1/db\nDB_SSL_MODE=prefer\n", 0600);
    assert_false(dbssl_runtime_reload(&rt, "test"));
    expect_in_use(&rt, 1, &st);
    assert_int_equal(st.failure, 1);
    expect_weakening(&st, TWO_WRITE_WEAKENING);
    assert_true(st.last_error_at > 0);
    refused_at = st.last_error_at;

    /* the second write restores the settings in use: unchanged, a success, the
     * record of the refusal stays; nothing swapped (no reconnect) */
    tu_write(p.env, p.base, 0600);
    assert_true(dbssl_runtime_reload(&rt, "test"));
    expect_in_use(&rt, 1, &st);
    assert_int_equal(st.success, 1);
    expect_weakening(&st, TWO_WRITE_WEAKENING);
    assert_int_equal(st.last_error_at, refused_at);

    /* an ordinary refusal shows while it is the latest; put right, the
     * downgrade shows again rather than nothing */
    snprintf(text, sizeof(text), "%sDB_SSL_MIN_PROTOCOL_VERSION=TLSv1.1\n", p.base);
    tu_write(p.env, text, 0600);
    assert_false(dbssl_runtime_reload(&rt, "test"));
    dbssl_loaded_unref(dbssl_runtime_get(&rt, &st));
    assert_string_equal(st.last_error.message, "refused: the new settings are invalid");
    assert_non_null(strstr(st.last_error.detail, "DB_SSL_MIN_PROTOCOL_VERSION: "));
    assert_null(strstr(st.last_error.detail, "weaken"));
    tu_write(p.env, p.base, 0600);
    assert_true(dbssl_runtime_reload(&rt, "test"));
    expect_in_use(&rt, 1, &st);
    expect_weakening(&st, TWO_WRITE_WEAKENING);
    assert_int_equal(st.last_error_at, refused_at);

    /* a stronger set is a different valid set: adopted, the record cleared */
    snprintf(text, sizeof(text), "%sDB_SSL_MIN_PROTOCOL_VERSION=TLSv1.3\n", p.base);
    tu_write(p.env, text, 0600);
    assert_true(dbssl_runtime_reload(&rt, "test"));
    expect_in_use(&rt, 2, &st);
    assert_int_equal(st.last_error_at, 0);
    assert_string_equal(st.last_error.message, "");
    assert_string_equal(st.last_error.detail, "");

    /* back to TLSv1.2 is now a weakening of its own */
    tu_write(p.env, p.base, 0600);
    assert_false(dbssl_runtime_reload(&rt, "test"));
    expect_in_use(&rt, 2, &st);
    expect_weakening(&st, "DB_SSL_MIN_PROTOCOL_VERSION \"TLSv1.3\" -> \"TLSv1.2\"");
    dbssl_runtime_destroy(&rt);
}

/* Without a refused downgrade, putting a bad file right clears the error, as always. */
static void test_unchanged_clears_an_ordinary_error(void **state)
{
    struct pki p;
    struct dbssl_runtime rt;
    struct dbssl_reload_stats st;
    char *good;

    (void)state;
    start_runtime(&p, &rt);
    assert_int_equal(read_file(tu_path(tu_dir, "ca.crt"), "CA", 1 << 20, &good, NULL, NULL), 0);
    tu_write(tu_path(tu_dir, "ca.crt"), "not a certificate\n", 0644);
    assert_false(dbssl_runtime_reload(&rt, "test"));
    dbssl_loaded_unref(dbssl_runtime_get(&rt, &st));
    assert_non_null(strstr(st.last_error.detail, "DB_SSL_CA_CERT: "));
    tu_write(tu_path(tu_dir, "ca.crt"), good, 0644);
    assert_true(dbssl_runtime_reload(&rt, "test"));
    expect_in_use(&rt, 1, &st); /* the same bytes: nothing swapped */
    assert_int_equal(st.last_error_at, 0);
    assert_string_equal(st.last_error.message, "");
    assert_string_equal(st.last_error.detail, "");
    assert_int_equal(st.success, 1);
    free(good);
    dbssl_runtime_destroy(&rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid_swapped_invalid_kept, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_refused_files_never_reach_libpq, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_default_env_file_vanishing_is_refused, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test(test_weakening_cases),
        cmocka_unit_test_setup_teardown(test_downgrade_refused_and_remembered, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_unchanged_clears_an_ordinary_error, tu_setup_dir,
                                        tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
