/*
 * test_libpq17.c - the newer libpq options where the linked libpq has them.
 *
 * The machine's libpq is 15, so this test links a double of libpq 17 in
 * its place (in this test binary only): PQconndefaults() returns the real
 * table plus sslcertmode, require_auth (16), sslnegotiation (17) and
 * oauth_client_secret (18, marked secret, which PQconninfoParse() then
 * accepts), and PQlibVersion() says 17.2.  Against it, validation accepts
 * DB_SSL_NEGOTIATION=direct, DB_SSL_CERT_MODE, DB_REQUIRE_AUTH and
 * DB_SSL_CA_CERT=system (the refusals on the real libpq 15 are
 * tests/cli/test_libpq_options.sh), and conn and connenv pass them through.
 */
#include <dlfcn.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "config.h"
#include "conn_int.h"
#include "connenv.h"
#include "libpqcaps.h"
#include "util.h"

/* ---- the libpq 17 double ---------------------------------------------------------- */

static const PQconninfoOption newer[] = {
    {"sslcertmode", "PGSSLCERTMODE", "allow", NULL, "SSL-Client-Cert-Mode", "", 8},
    {"require_auth", "PGREQUIREAUTH", NULL, NULL, "Require-Auth", "", 14},
    {"sslnegotiation", "PGSSLNEGOTIATION", "postgres", NULL, "SSL-Negotiation", "", 9},
    /* libpq 18's, a secret by its table ("*") */
    {"oauth_client_secret", NULL, NULL, NULL, "OAuth-Client-Secret", "*", 40},
};
#define N_NEWER (sizeof(newer) / sizeof(newer[0]))

PQconninfoOption *PQconndefaults(void)
{
    PQconninfoOption *(*real)(void) =
        (PQconninfoOption * (*)(void)) dlsym(RTLD_NEXT, "PQconndefaults");
    PQconninfoOption *opts = real(), *more;
    size_t n = 0;

    while (opts[n].keyword != NULL)
        n++;
    /* PQconninfoFree frees each val and the array: malloc'd like libpq's own */
    more = realloc(opts, (n + N_NEWER + 1) * sizeof(*more));
    assert_non_null(more);
    memcpy(&more[n], newer, sizeof(newer));
    memset(&more[n + N_NEWER], 0, sizeof(*more));
    return more;
}

/* libpq 18 parses oauth_client_secret: the real (older) parser sees the string without it */
PQconninfoOption *PQconninfoParse(const char *conninfo, char **errmsg)
{
    PQconninfoOption *(*real)(const char *, char **) =
        (PQconninfoOption * (*)(const char *, char **)) dlsym(RTLD_NEXT, "PQconninfoParse");
    const char *k = strstr(conninfo, "oauth_client_secret=");
    char *without;
    PQconninfoOption *opts;

    if (k == NULL || k == conninfo || (k[-1] != '?' && k[-1] != '&'))
        return real(conninfo, errmsg);
    without = strdup(conninfo);
    assert_non_null(without);
    /* drop "oauth_client_secret=...", and the "?" or "&" before it when nothing follows */
    {
        size_t at = (size_t)(k - conninfo), end = at + strcspn(k, "&");
        if (conninfo[end] == '&')
            end++;
        else
            at--;
        memmove(without + at, without + end, strlen(without + end) + 1);
    }
    opts = real(without, errmsg);
    free(without);
    return opts;
}

int PQlibVersion(void)
{
    return 170002;
}

/* ---- the tests ---------------------------------------------------------------------- */

static struct dbssl_config *load(const char *const *envp)
{
    struct dbssl_error e;
    struct dbssl_config *cfg;

    dbssl_error_clear(&e);
    cfg = dbssl_config_load_from(NULL, false, envp, &e);
    if (cfg == NULL)
        fail_msg("load: %s", e.message);
    return cfg;
}

/* The findings of envp as "setting: message" lines. */
static char *findings(const char *const *envp)
{
    struct dbssl_config *cfg = load(envp);
    struct dbssl_findings *f = dbssl_config_validate(cfg, NULL);
    struct strbuf sb;

    assert_non_null(f);
    strbuf_init(&sb);
    strbuf_append(&sb, "");
    for (size_t i = 0; i < dbssl_findings_count(f); i++)
        strbuf_printf(&sb, "%s: %s\n", dbssl_findings_setting(f, i), dbssl_findings_message(f, i));
    dbssl_findings_free(f);
    dbssl_config_free(cfg);
    return strbuf_take(&sb);
}

static const char *const newer_env[] = {"DATABASE_URL=postgresql://app@db.example.com/app",
                                        "DB_SSL_MODE=verify-full",
                                        "DB_SSL_REQUIRED=true",
                                        "DB_SSL_CA_CERT=system",
                                        "DB_SSL_NEGOTIATION=direct",
                                        "DB_SSL_CERT_MODE=disable",
                                        "DB_REQUIRE_AUTH=scram-sha-256",
                                        NULL};

static void test_validation_accepts_where_libpq_has_them(void **state)
{
    char *got;

    (void)state;
    got = findings(newer_env);
    assert_string_equal(got, "");
    free(got);
}

static void test_libpq_rules_still_apply(void **state)
{
    const char *const weak[] = {"DATABASE_URL=postgresql://app@db.example.com/app",
                                "DB_SSL_MODE=prefer",
                                "DB_SSL_CA_CERT=system",
                                "DB_SSL_NEGOTIATION=direct",
                                "DB_SSL_CERT_MODE=require",
                                NULL};
    char *got;

    (void)state;
    got = findings(weak);
    assert_non_null(strstr(got, "DB_SSL_MODE: DB_SSL_CA_CERT \"system\" (the system's CA store) "
                                "needs DB_SSL_MODE \"verify-full\", not \"prefer\"\n"));
    assert_non_null(strstr(got, "DB_SSL_NEGOTIATION: DB_SSL_NEGOTIATION \"direct\" needs a "
                                "DB_SSL_MODE that requires TLS, not \"prefer\"\n"));
    assert_non_null(strstr(got, "DB_SSL_CERT_MODE: DB_SSL_CERT_MODE \"require\" but no client "
                                "certificate is configured\n"));
    assert_null(strstr(got, "needs libpq"));
    free(got);
}

static void test_passed_to_libpq_and_the_application(void **state)
{
    struct dbssl_config *cfg = load(newer_env);
    struct dbssl_conn_params p;
    struct dbssl_connenv env;
    const char *url;

    (void)state;
    assert_int_equal(dbssl_conn_build_params(cfg, NULL, &p, NULL), 0);
    assert_string_equal(dbssl_conn_params_get(&p, "sslrootcert"), "system");
    assert_string_equal(dbssl_conn_params_get(&p, "sslnegotiation"), "direct");
    assert_string_equal(dbssl_conn_params_get(&p, "sslcertmode"), "disable");
    assert_string_equal(dbssl_conn_params_get(&p, "require_auth"), "scram-sha-256");
    dbssl_conn_params_free(&p);

    assert_int_equal(dbssl_connenv_build(cfg, false, NULL, &env, NULL), 0);
    url = dbssl_connenv_get(&env, "DATABASE_URL");
    assert_non_null(strstr(url, "sslrootcert=system"));
    assert_non_null(strstr(url, "sslnegotiation=direct"));
    assert_non_null(strstr(url, "sslcertmode=disable"));
    assert_non_null(strstr(url, "require_auth=scram-sha-256"));
    assert_string_equal(dbssl_connenv_get(&env, "PGSSLROOTCERT"), "system");
    dbssl_connenv_free(&env);
    dbssl_config_free(cfg);
}

/* What every libpq does is not passed: the defaults reach no libpq as parameters. */
static void test_defaults_are_not_passed(void **state)
{
    const char *const plain[] = {"DATABASE_URL=postgresql://app@db.example.com/app", NULL};
    struct dbssl_config *cfg = load(plain);
    struct dbssl_conn_params p;

    (void)state;
    assert_int_equal(dbssl_conn_build_params(cfg, NULL, &p, NULL), 0);
    assert_null(dbssl_conn_params_get(&p, "sslnegotiation"));
    assert_null(dbssl_conn_params_get(&p, "sslcertmode"));
    assert_null(dbssl_conn_params_get(&p, "require_auth"));
    dbssl_conn_params_free(&p);
    dbssl_config_free(cfg);
}

/* The secrets are libpq's own list: its two passwords, and whatever a newer libpq marks. */
static void test_secret_keywords(void **state)
{
    (void)state;
    assert_true(dbssl_libpq_is_secret("password"));
    assert_true(dbssl_libpq_is_secret("sslpassword"));
    assert_true(dbssl_libpq_is_secret("oauth_client_secret"));
    assert_false(dbssl_libpq_is_secret("host"));
    assert_false(dbssl_libpq_is_secret("sslnegotiation"));
    assert_false(dbssl_libpq_is_secret("no_such_keyword"));
}

/* A newer libpq's secret in DATABASE_URL is masked wherever dbssl masks passwords. */
static void test_newer_secret_is_masked(void **state)
{
    const char *envp[] = {
        "DATABASE_URL=postgresql://app@db.example.com/app?oauth_client_secret=0auth5ecret",
        "DB_SSL_MODE=verify-full", NULL};
    struct dbssl_config *cfg = load(envp);
    char *r = dbssl_config_redact(cfg, "libpq: oauth_client_secret=0auth5ecret was refused");

    (void)state;
    assert_non_null(r);
    assert_null(strstr(r, "0auth5ecret"));
    free(r);
    dbssl_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation_accepts_where_libpq_has_them),
        cmocka_unit_test(test_secret_keywords),
        cmocka_unit_test(test_newer_secret_is_masked),
        cmocka_unit_test(test_libpq_rules_still_apply),
        cmocka_unit_test(test_passed_to_libpq_and_the_application),
        cmocka_unit_test(test_defaults_are_not_passed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
