/*
 * test_config.c - loading settings: precedence (env over .env over default),
 * value parsing through the option table, DATABASE_URL via libpq, and the
 * password never appearing in what can be displayed.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "validate.h"

#define dir      tu_dir
#define setup    tu_setup_dir
#define teardown tu_teardown_dir

static struct dbssl_config *load(const char *dotenv, const char *const *envp)
{
    struct dbssl_error e;
    struct dbssl_config *cfg;
    const char *path = tu_path(dir, "t.env");

    tu_write(path, dotenv, 0600);
    dbssl_error_clear(&e);
    cfg = dbssl_config_load_from(path, true, envp, &e);
    assert_non_null(cfg);
    return cfg;
}

static void test_defaults(void **state)
{
    struct dbssl_config *cfg = load("", NULL);

    (void)state;
    assert_null(cfg->database_url);
    assert_int_equal(cfg->ssl_mode, DBSSL_SSLMODE_PREFER);
    assert_false(cfg->ssl_required);
    assert_false(cfg->auto_generate);
    assert_true(cfg->auto_generate_ca);
    assert_false(cfg->auto_generate_client);
    assert_string_equal(cfg->auto_cert_dir, "./ssl_certs/db");
    assert_int_equal(cfg->auto_cert_validity_days, 365);
    assert_int_equal(cfg->min_protocol, DBSSL_TLS_1_2);
    assert_int_equal(cfg->connect_timeout, 5);
    assert_int_equal(cfg->expiry_warn_days, 30);
    assert_int_equal(cfg->app_env, DBSSL_ENV_DEVELOPMENT);
    assert_string_equal(cfg->http_listen, "127.0.0.1:8000");
    assert_int_equal(cfg->settings[OPT_DB_SSL_MODE].source, DBSSL_SOURCE_DEFAULT);
    /* every default parses with the same code as user input */
    for (int i = 0; i < DBSSL_OPTION_COUNT; i++)
        assert_null(cfg->settings[i].error);
    dbssl_config_free(cfg);
}

static void test_env_wins_over_dotenv(void **state)
{
    const char *envp[] = {"DB_SSL_MODE=verify-full", "UNRELATED=1", NULL};
    struct dbssl_config *cfg = load("DB_SSL_MODE=require\nDB_SSL_REQUIRED=true\n", envp);

    (void)state;
    assert_int_equal(cfg->ssl_mode, DBSSL_SSLMODE_VERIFY_FULL);
    assert_int_equal(cfg->settings[OPT_DB_SSL_MODE].source, DBSSL_SOURCE_ENV);
    assert_true(cfg->ssl_required);
    assert_int_equal(cfg->settings[OPT_DB_SSL_REQUIRED].source, DBSSL_SOURCE_DOTENV);
    /* where, as a person reads it: the environment, the very line of .env */
    assert_string_equal(dbssl_config_source(cfg, OPT_DB_SSL_MODE), "environment");
    assert_string_equal(dbssl_config_source(cfg, OPT_DB_SSL_REQUIRED), ".env line 2");
    assert_string_equal(dbssl_config_source(cfg, OPT_APP_ENV), "default");
    assert_null(dbssl_config_source(cfg, DBSSL_OPTION_COUNT));
    assert_null(dbssl_config_source(NULL, 0));
    dbssl_config_free(cfg);
}

/*
 * The effective value: a URL's sslmode names the URL and where the URL was
 * set; the generated set's files stand in for unset certificate settings,
 * while the typed fields keep saying "not named by the user".
 */
static void test_effective_sources(void **state)
{
    const char *envp[] = {"DATABASE_URL=postgresql://app:pw@db/app?sslmode=verify-ca", NULL};
    struct dbssl_config *cfg = load(
        "# generated set\nDB_SSL_AUTO_GENERATE=true\nDB_SSL_AUTO_GENERATE_CLIENT=true\n", envp);
    enum dbssl_source src;

    (void)state;
    assert_string_equal(dbssl_config_source(cfg, OPT_DB_SSL_MODE), "DATABASE_URL (environment)");
    assert_string_equal(dbssl_config_display_value(cfg, OPT_DB_SSL_CA_CERT, &src),
                        "./ssl_certs/db/ca.crt");
    assert_int_equal(src, DBSSL_SOURCE_AUTOGEN);
    assert_string_equal(dbssl_config_source(cfg, OPT_DB_SSL_CA_CERT), "auto-generate");
    assert_string_equal(dbssl_config_display_value(cfg, OPT_DB_SSL_CLIENT_KEY, &src),
                        "./ssl_certs/db/client.key");
    assert_int_equal(src, DBSSL_SOURCE_AUTOGEN);
    assert_null(cfg->ca_cert);
    assert_null(cfg->client_cert);
    assert_string_equal(dbssl_config_source(cfg, OPT_DB_SSL_AUTO_GENERATE_CLIENT), ".env line 3");
    assert_string_equal(dbssl_config_display_value(cfg, OPT_DB_SSL_CRL, &src), "");
    assert_int_equal(src, DBSSL_SOURCE_DEFAULT);
    dbssl_config_free(cfg);
}

static void test_booleans(void **state)
{
    static const char *const yes[] = {"true", "TRUE", "1", "yes", "On", NULL};
    static const char *const no[] = {"false", "False", "0", "no", "OFF", NULL};
    char line[64];

    (void)state;
    for (int i = 0; yes[i]; i++) {
        struct dbssl_config *cfg;
        snprintf(line, sizeof(line), "DB_SSL_REQUIRED=%s\n", yes[i]);
        cfg = load(line, NULL);
        assert_true(cfg->ssl_required);
        dbssl_config_free(cfg);
        snprintf(line, sizeof(line), "DB_SSL_REQUIRED=%s\n", no[i]);
        cfg = load(line, NULL);
        assert_false(cfg->ssl_required);
        assert_null(cfg->settings[OPT_DB_SSL_REQUIRED].error);
        dbssl_config_free(cfg);
    }
    {
        struct dbssl_config *cfg = load("DB_SSL_REQUIRED=maybe\n", NULL);
        assert_string_equal(cfg->settings[OPT_DB_SSL_REQUIRED].error,
                            "invalid boolean value \"maybe\"");
        dbssl_config_free(cfg);
    }
}

static void test_integers_range_checked(void **state)
{
    struct dbssl_config *cfg;

    (void)state;
    cfg = load("DB_SSL_AUTO_CERT_VALIDITY_DAYS=3650\nDB_CONNECT_TIMEOUT=12\n", NULL);
    assert_int_equal(cfg->auto_cert_validity_days, 3650);
    assert_int_equal(cfg->connect_timeout, 12);
    dbssl_config_free(cfg);
    cfg = load("DB_SSL_AUTO_CERT_VALIDITY_DAYS=3651\nDB_CONNECT_TIMEOUT=5s\n", NULL);
    assert_string_equal(cfg->settings[OPT_DB_SSL_AUTO_CERT_VALIDITY_DAYS].error,
                        "value 3651 is out of range (must be between 1 and 3650)");
    assert_string_equal(cfg->settings[OPT_DB_CONNECT_TIMEOUT].error,
                        "invalid integer value \"5s\"");
    dbssl_config_free(cfg);
    cfg = load("DB_SSL_AUTO_CERT_VALIDITY_DAYS=99999999999999999999999\n", NULL);
    assert_string_equal(cfg->settings[OPT_DB_SSL_AUTO_CERT_VALIDITY_DAYS].error,
                        "invalid integer value \"99999999999999999999999\"");
    dbssl_config_free(cfg);
}

static void test_enums(void **state)
{
    struct dbssl_config *cfg =
        load("DB_SSL_MODE=Verify-Full\nDB_SSL_MIN_PROTOCOL_VERSION=TLSv1.3\n", NULL);

    (void)state;
    assert_int_equal(cfg->ssl_mode, DBSSL_SSLMODE_VERIFY_FULL);
    assert_int_equal(cfg->min_protocol, DBSSL_TLS_1_3);
    dbssl_config_free(cfg);
    cfg = load("DB_SSL_MODE=verify_full\nDB_SSL_MIN_PROTOCOL_VERSION=TLSv1.1\n", NULL);
    assert_string_equal(cfg->settings[OPT_DB_SSL_MODE].error,
                        "invalid value \"verify_full\" (valid values are disable, allow, prefer, "
                        "require, verify-ca, verify-full)");
    assert_string_equal(cfg->settings[OPT_DB_SSL_MIN_PROTOCOL_VERSION].error,
                        "invalid value \"TLSv1.1\" (valid values are TLSv1.2, TLSv1.3)");
    dbssl_config_free(cfg);
}

static void test_url_uri_and_keyvalue(void **state)
{
    struct dbssl_config *cfg;

    (void)state;
    cfg = load("DATABASE_URL=postgresql://app:p%40ss@db1:5432,db2:5433/"
               "appdb?target_session_attrs=read-write\n",
               NULL);
    assert_true(cfg->url.parsed);
    assert_string_equal(cfg->url.host, "db1,db2");
    assert_string_equal(cfg->url.port, "5432,5433");
    assert_string_equal(cfg->url.user, "app");
    assert_string_equal(cfg->url.dbname, "appdb");
    assert_string_equal(cfg->url.password, "p@ss");
    assert_string_equal(
        cfg->settings[OPT_DATABASE_URL].display,
        "postgresql://app:***@db1:5432,db2:5433/appdb?target_session_attrs=read-write");
    dbssl_config_free(cfg);

    cfg = load("DATABASE_URL=\"host=localhost user=app password='se cret' dbname=x\"\n", NULL);
    assert_true(cfg->url.parsed);
    assert_string_equal(cfg->url.password, "se cret");
    assert_string_equal(cfg->settings[OPT_DATABASE_URL].display,
                        "host=localhost user=app password=*** dbname=x");
    dbssl_config_free(cfg);

    cfg = load("DATABASE_URL=postgresql://app@h/db?password=qwerty&sslmode=require\n", NULL);
    assert_string_equal(cfg->settings[OPT_DATABASE_URL].display,
                        "postgresql://app@h/db?password=***&sslmode=require");
    dbssl_config_free(cfg);
}

static void test_url_ssl_keywords_adopted(void **state)
{
    struct dbssl_config *cfg = load("DATABASE_URL=postgresql://u@h/d?sslmode=verify-ca\n", NULL);

    (void)state;
    assert_int_equal(cfg->ssl_mode, DBSSL_SSLMODE_VERIFY_CA);
    assert_int_equal(cfg->settings[OPT_DB_SSL_MODE].source, DBSSL_SOURCE_URL);
    dbssl_config_free(cfg);
    /* ssl=true in a URI is libpq's spelling of sslmode=require */
    cfg = load("DATABASE_URL=postgresql://u@h/d?ssl=true\n", NULL);
    assert_int_equal(cfg->ssl_mode, DBSSL_SSLMODE_REQUIRE);
    dbssl_config_free(cfg);
}

/* ${NAME} in .env: the environment first, then the lines above (python-dotenv) */
static void test_dotenv_references(void **state)
{
    const char *envp[] = {"DB_PASSWORD=fr0m-env", NULL};
    struct dbssl_config *cfg =
        load("DB_PASSWORD=fr0m-file\nDATABASE_URL=postgresql://app:${DB_PASSWORD}@db/app\n"
             "DB_SSL_AUTO_CERT_DIR=${CERTS:-/srv/certs}/db\n",
             envp);

    (void)state;
    assert_string_equal(cfg->url.password, "fr0m-env");
    assert_string_equal(cfg->settings[OPT_DATABASE_URL].display, "postgresql://app:***@db/app");
    assert_string_equal(cfg->auto_cert_dir, "/srv/certs/db");
    assert_int_equal(cfg->n_env_notes, 0);
    dbssl_config_free(cfg);
}

static void test_redact(void **state)
{
    struct dbssl_config *cfg = load("DATABASE_URL=postgresql://u:Tr0ub4dor@h/d\n", NULL);
    char *s;

    (void)state;
    s = dbssl_config_redact(cfg, "password authentication failed: Tr0ub4dor!");
    assert_string_equal(s, "password authentication failed: ***!");
    free(s);
    dbssl_config_free(cfg);
}

static void test_env_file_rules(void **state)
{
    struct dbssl_error e;
    struct dbssl_config *cfg;
    char cwd[4096];

    (void)state;
    dbssl_error_clear(&e);
    cfg = dbssl_config_load_from(tu_path(dir, "missing.env"), true, NULL, &e);
    assert_null(cfg);
    assert_int_equal(e.code, DBSSL_ERR_IO);
    assert_non_null(strstr(e.message, "does not exist"));
    assert_non_null(strstr(e.message, "missing.env"));

    /* a missing default ./.env is fine */
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    dbssl_error_clear(&e);
    cfg = dbssl_config_load_from(NULL, false, NULL, &e);
    assert_non_null(cfg);
    assert_null(dbssl_config_env_file(cfg));
    dbssl_config_free(cfg);
    /* ... but a broken one is an error naming file:line */
    tu_write(tu_path(dir, ".env"), "A=1\nnot valid\n", 0644);
    dbssl_error_clear(&e);
    cfg = dbssl_config_load_from(NULL, false, NULL, &e);
    assert_null(cfg);
    assert_non_null(strstr(e.message, "\"./.env:2\""));
    assert_int_equal(chdir(cwd), 0);
}

static void test_option_table(void **state)
{
    (void)state;
    assert_int_equal(dbssl_config_option_count(), DBSSL_OPTION_COUNT);
    for (size_t i = 0; i < dbssl_config_option_count(); i++) {
        assert_int_equal(dbssl_option_find(dbssl_config_option_name(i)), (int)i);
        assert_non_null(dbssl_config_option_description(i));
    }
    assert_true(dbssl_config_option_sensitive(OPT_DATABASE_URL));
    assert_int_equal(dbssl_option_find("NOPE"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_env_wins_over_dotenv),
        cmocka_unit_test(test_effective_sources),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_integers_range_checked),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_url_uri_and_keyvalue),
        cmocka_unit_test(test_url_ssl_keywords_adopted),
        cmocka_unit_test(test_dotenv_references),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_env_file_rules),
        cmocka_unit_test(test_option_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
