/*
 * test_health.c - the status rules and the exact JSON a user gets from
 * /health/database/ssl and /health/database, for constructed check results.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "clock.h"
#include "health.h"
#include "util.h"

#define NOW 1900000000LL /* 2030-03-17, a fixed "now" */
#define DAY SECONDS_PER_DAY

static struct dbssl_tls_state tls_ok(void)
{
    struct dbssl_tls_state t;

    tu_tls_ok(&t, NOW);
    return t;
}

static struct dbssl_tls_state tls_plain(void)
{
    struct dbssl_tls_state t = tls_ok();

    t.ssl_in_use = t.server_sees_ssl = false;
    t.protocol[0] = t.cipher[0] = t.server_cert_subject[0] = '\0';
    t.key_bits = 0;
    t.server_cert_not_after = 0;
    return t;
}

/* Builds a snapshot for mode/extra settings and returns its parsed SSL body. */
static json_t *check(const char *const *envp, const struct dbssl_tls_state *t,
                     const struct dbssl_inuse_certs *certs, int *http, const char **status)
{
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_snapshot *s = tu_snapshot(cfg, t, certs, NOW, NOW, NULL);
    json_error_t je;
    json_t *j;

    assert_non_null(s);
    j = json_loads(s->ssl_json.data, 0, &je);
    if (j == NULL)
        fail_msg("invalid JSON: %s", je.text);
    *http = s->http_status;
    *status = dbssl_health_status_name(s->status);
    /* the body says the same as the snapshot */
    assert_string_equal(json_string_value(json_object_get(j, "status")), *status);
    dbssl_snapshot_unref(s);
    dbssl_config_free(cfg);
    return j;
}

static const char *jstr(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);

    if (!json_is_string(v))
        fail_msg("\"%s\" is not a string", key);
    return json_string_value(v);
}

static bool has_warning(json_t *j, const char *needle)
{
    json_t *w = json_object_get(j, "warnings"), *v;
    size_t i;

    json_array_foreach(w, i, v)
    {
        if (strstr(json_string_value(v), needle) != NULL)
            return true;
    }
    return false;
}

static void test_verify_full_tls13_is_healthy_with_exact_fields(void **state)
{
    static const char *const keys[] = {"ssl_enabled",
                                       "ssl_mode",
                                       "ssl_version",
                                       "ssl_cipher",
                                       "certificate_validation",
                                       "status",
                                       "hostname_verification",
                                       "ssl_bits",
                                       "client_certificate",
                                       "channel_binding",
                                       "ssl_negotiation",
                                       "alpn",
                                       "ssl_cert_mode",
                                       "require_auth",
                                       "server",
                                       "server_certificate",
                                       "hosts",
                                       "certificates",
                                       "server_settings",
                                       "sessions",
                                       "pgbouncer",
                                       "warnings",
                                       "checked_at",
                                       "error",
                                       "last_reload_error"};
    const char *envp[] = {"DATABASE_URL=postgresql://app@127.0.0.1/db", "DB_SSL_MODE=verify-full",
                          "DB_SSL_CA_CERT=/nonexistent/ca.crt", NULL};
    struct dbssl_tls_state t = tls_ok();
    const char *status;
    int http;
    json_t *j, *sc;
    const char *key;
    json_t *v;
    size_t i = 0;

    (void)state;
    j = check(envp, &t, NULL, &http, &status);
    assert_int_equal(http, 200);
    assert_string_equal(status, "healthy");
    /* exactly these fields, in this order */
    assert_int_equal(json_object_size(j), sizeof(keys) / sizeof(keys[0]));
    json_object_foreach(j, key, v)
    {
        (void)v;
        assert_string_equal(key, keys[i]);
        i++;
    }
    assert_true(json_is_true(json_object_get(j, "ssl_enabled")));
    /* libpq 15 negotiates the PostgreSQL way, without ALPN; nothing else asked for */
    assert_string_equal(json_string_value(json_object_get(j, "ssl_negotiation")), "postgres");
    assert_true(json_is_null(json_object_get(j, "alpn")));
    assert_string_equal(json_string_value(json_object_get(j, "ssl_cert_mode")), "allow");
    assert_true(json_is_null(json_object_get(j, "require_auth")));
    /* read by the checker now and then; a snapshot without it says null */
    assert_true(json_is_null(json_object_get(j, "server_settings")));
    assert_string_equal(jstr(j, "ssl_mode"), "verify-full");
    assert_string_equal(jstr(j, "ssl_version"), "TLSv1.3");
    assert_string_equal(jstr(j, "ssl_cipher"), "TLS_AES_256_GCM_SHA384");
    assert_string_equal(jstr(j, "certificate_validation"), "enabled");
    assert_true(json_is_true(json_object_get(j, "hostname_verification")));
    assert_int_equal(json_integer_value(json_object_get(j, "ssl_bits")), 256);
    assert_true(json_is_false(json_object_get(j, "client_certificate")));
    assert_string_equal(jstr(j, "server"), "127.0.0.1:5432");
    assert_string_equal(jstr(j, "checked_at"), "2030-03-17T17:46:40Z");
    assert_true(json_is_null(json_object_get(j, "error")));
    sc = json_object_get(j, "server_certificate");
    assert_string_equal(jstr(sc, "subject"), "CN=localhost");
    assert_int_equal(json_integer_value(json_object_get(sc, "days_remaining")), 200);
    assert_non_null(jstr(sc, "not_after"));
    json_decref(j);
}

static void test_failed_connection_is_unhealthy_with_error(void **state)
{
    const char *envp[] = {"DATABASE_URL=postgresql://app@127.0.0.1/db", "DB_SSL_MODE=verify-full",
                          NULL};
    struct dbssl_tls_state t;
    const char *status;
    int http;
    json_t *j, *e;

    (void)state;
    memset(&t, 0, sizeof(t));
    t.error_class = DBSSL_CONN_CERT_VERIFY_FAILED;
    t.verify_reason = DBSSL_VERIFY_UNKNOWN_CA;
    snprintf(t.error_message, sizeof(t.error_message), "could not connect to the server");
    snprintf(t.error_detail, sizeof(t.error_detail), "SSL error: certificate verify failed");
    snprintf(t.error_hint, sizeof(t.error_hint), "Check the CA.");
    j = check(envp, &t, NULL, &http, &status);
    assert_int_equal(http, 503);
    assert_string_equal(status, "unhealthy");
    assert_true(json_is_false(json_object_get(j, "ssl_enabled")));
    assert_true(json_is_null(json_object_get(j, "ssl_version")));
    assert_true(json_is_null(json_object_get(j, "server")));
    assert_true(json_is_null(json_object_get(j, "server_certificate")));
    e = json_object_get(j, "error");
    assert_string_equal(jstr(e, "class"), "certificate_verification_failed");
    assert_string_equal(jstr(e, "reason"), "unknown_ca");
    assert_string_equal(jstr(e, "message"), "could not connect to the server");
    assert_string_equal(jstr(e, "detail"), "SSL error: certificate verify failed");
    assert_string_equal(jstr(e, "hint"), "Check the CA.");
    json_decref(j);

    /* reason is only for certificate failures */
    t.error_class = DBSSL_CONN_REFUSED;
    t.verify_reason = DBSSL_VERIFY_NONE;
    t.error_detail[0] = '\0';
    j = check(envp, &t, NULL, &http, &status);
    e = json_object_get(j, "error");
    assert_string_equal(jstr(e, "class"), "connection_refused");
    assert_true(json_is_null(json_object_get(e, "reason")));
    /* no detail: null, as reason, not "" */
    assert_true(json_is_null(json_object_get(e, "detail")));
    json_decref(j);
}

static void test_plaintext_by_mode(void **state)
{
    const char *disable[] = {"DB_SSL_MODE=disable", NULL};
    const char *prefer[] = {"DB_SSL_MODE=prefer", NULL};
    const char *require[] = {"DB_SSL_MODE=require", NULL};
    const char *required[] = {"DB_SSL_MODE=allow", "DB_SSL_REQUIRED=true", NULL};
    struct dbssl_tls_state t = tls_plain();
    const char *status;
    int http;
    json_t *j;

    (void)state;
    /* a deliberate disable is healthy, but says so */
    j = check(disable, &t, NULL, &http, &status);
    assert_string_equal(status, "healthy");
    assert_int_equal(http, 200);
    assert_true(json_is_false(json_object_get(j, "ssl_enabled")));
    assert_string_equal(jstr(j, "certificate_validation"), "disabled");
    assert_true(json_is_false(json_object_get(j, "hostname_verification")));
    assert_true(has_warning(j, "disable"));
    json_decref(j);
    /* a silent fallback is degraded */
    j = check(prefer, &t, NULL, &http, &status);
    assert_string_equal(status, "degraded");
    assert_int_equal(http, 200);
    assert_true(json_is_false(json_object_get(j, "ssl_enabled")));
    assert_true(has_warning(j, "fell back"));
    json_decref(j);
    /* plaintext where TLS is required can never be reported as fine */
    j = check(require, &t, NULL, &http, &status);
    assert_string_equal(status, "unhealthy");
    assert_int_equal(http, 503);
    json_decref(j);
    j = check(required, &t, NULL, &http, &status);
    assert_string_equal(status, "unhealthy");
    json_decref(j);
}

/*
 * certificate_validation says what libpq does: it verifies the chain in a
 * verify mode, and in require (or prefer, allow) once it has a CA file;
 * never in disable.  Host names only in verify-full.
 */
static void test_validation_by_mode_and_ca(void **state)
{
    static const struct {
        const char *mode, *ca, *validation;
        bool hostname;
    } cases[] = {
        {"DB_SSL_MODE=require", NULL, "disabled", false},
        {"DB_SSL_MODE=require", "DB_SSL_CA_CERT=/c/ca.crt", "enabled", false},
        {"DB_SSL_MODE=prefer", "DB_SSL_CA_CERT=/c/ca.crt", "enabled", false},
        {"DB_SSL_MODE=verify-ca", NULL, "enabled", false},
        {"DB_SSL_MODE=verify-full", NULL, "enabled", true},
        {"DB_SSL_MODE=disable", "DB_SSL_CA_CERT=/c/ca.crt", "disabled", false},
    };
    struct dbssl_tls_state t = tls_ok();
    const char *status;
    int http;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *envp[] = {cases[i].mode, cases[i].ca, NULL};
        struct dbssl_config *cfg = test_config_from(envp);
        json_t *j = check(envp, &t, NULL, &http, &status);

        assert_string_equal(jstr(j, "certificate_validation"), cases[i].validation);
        assert_int_equal(json_is_true(json_object_get(j, "hostname_verification")),
                         cases[i].hostname);
        assert_int_equal(dbssl_config_verifies_server(cfg),
                         strcmp(cases[i].validation, "enabled") == 0);
        json_decref(j);
        dbssl_config_free(cfg);
    }
    /* prefer verifies the TLS sessions it makes: a plaintext fallback was not verified */
    {
        const char *envp[] = {"DB_SSL_MODE=prefer", "DB_SSL_CA_CERT=/c/ca.crt", NULL};
        struct dbssl_tls_state plain = tls_plain();
        json_t *j = check(envp, &plain, NULL, &http, &status);

        assert_true(json_is_false(json_object_get(j, "ssl_enabled")));
        assert_string_equal(jstr(j, "certificate_validation"), "disabled");
        json_decref(j);
    }
}

static void test_certificate_expiry_rules(void **state)
{
    const char *envp[] = {"DB_SSL_MODE=verify-full", "DB_SSL_EXPIRY_WARN_DAYS=30", NULL};
    struct dbssl_inuse_cert c[2] = {
        {"ca", "/c/ca.crt", "CN=ca", "01", NOW - DAY, NOW + 400 * DAY},
        {"client", "/c/client.crt", "CN=app", "02", NOW - DAY, NOW + 10 * DAY},
    };
    struct dbssl_inuse_certs certs = {c, 2, NULL, 0};
    struct dbssl_tls_state t = tls_ok();
    const char *status;
    int http;
    json_t *j, *list;

    (void)state;
    j = check(envp, &t, &certs, &http, &status);
    assert_string_equal(status, "degraded");
    assert_int_equal(http, 200);
    list = json_object_get(j, "certificates");
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(jstr(json_array_get(list, 1), "role"), "client");
    assert_string_equal(jstr(json_array_get(list, 1), "path"), "/c/client.crt");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 1), "days_remaining")),
                     10);
    assert_true(has_warning(j, "/c/client.crt"));
    json_decref(j);

    /* expired an hour ago: unhealthy, -1 days */
    c[1].not_after = NOW - 3600;
    j = check(envp, &t, &certs, &http, &status);
    assert_string_equal(status, "unhealthy");
    assert_int_equal(http, 503);
    list = json_object_get(j, "certificates");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 1), "days_remaining")),
                     -1);
    assert_true(has_warning(j, "expired"));
    json_decref(j);

    /* expiry.h's boundaries: exactly 30 days before is not yet expiring, one
     * second less is; at not_after itself it is still valid, a second later not */
    {
        static const struct {
            long long left;
            const char *status;
            long long days;
        } b[] = {{30 * DAY, "healthy", 30},
                 {30 * DAY - 1, "degraded", 29},
                 {0, "degraded", 0},
                 {-1, "unhealthy", -1}};
        for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
            c[1].not_after = NOW + b[i].left;
            j = check(envp, &t, &certs, &http, &status);
            assert_string_equal(status, b[i].status);
            list = json_object_get(j, "certificates");
            assert_int_equal(
                json_integer_value(json_object_get(json_array_get(list, 1), "days_remaining")),
                b[i].days);
            json_decref(j);
        }
    }

    /* the server's certificate counts too */
    c[1].not_after = NOW + 400 * DAY;
    t.server_cert_not_after = NOW + 5 * DAY;
    j = check(envp, &t, &certs, &http, &status);
    assert_string_equal(status, "degraded");
    assert_true(has_warning(j, "server certificate"));
    json_decref(j);
}

static void test_database_body(void **state)
{
    const char *envp[] = {"DB_SSL_MODE=verify-full", NULL};
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_tls_state t = tls_ok();
    struct dbssl_snapshot *s;
    json_t *j;

    (void)state;
    s = tu_snapshot(cfg, &t, NULL, NOW, NOW - 10, NULL);
    assert_non_null(s);
    j = json_loads(s->db_json.data, 0, NULL);
    assert_non_null(j);
    assert_true(json_is_true(json_object_get(j, "connected")));
    assert_string_equal(jstr(j, "server"), "127.0.0.1:5432");
    assert_string_equal(jstr(j, "server_version"), "15.18");
    assert_true(json_real_value(json_object_get(j, "latency_ms")) > 1.2);
    assert_non_null(strstr(s->db_json.data, "\n  \"latency_ms\": 1.25,\n"));
    assert_string_equal(jstr(j, "last_success"), "2030-03-17T17:46:30Z");
    assert_true(json_is_null(json_object_get(j, "error")));
    assert_int_equal(s->db_json.len, strlen(s->db_json.data));
    json_decref(j);
    dbssl_snapshot_unref(s);

    /* the bytes a person reads: rounded to the microsecond, and printed as rounded
     * (jansson's default would print 1.303 as 1.3029999999999999) */
    {
        static const struct {
            double ms;
            const char *text;
        } nums[] = {{1.3029996, "1.303"}, {1.303, "1.303"},     {0.0004, "0.0"},
                    {2.0, "2.0"},         {4999.9995, "5000.0"}, {123456.7891, "123456.789"}};
        for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
            char want[64];
            t.latency_ms = nums[i].ms;
            s = tu_snapshot(cfg, &t, NULL, NOW, NOW - 10, NULL);
            assert_non_null(s);
            snprintf(want, sizeof(want), "\n  \"latency_ms\": %s,\n", nums[i].text);
            if (strstr(s->db_json.data, want) == NULL)
                fail_msg("latency %.17g: want %s in %s", nums[i].ms, nums[i].text, s->db_json.data);
            dbssl_snapshot_unref(s);
        }
    }

    /* never connected: no last_success */
    memset(&t, 0, sizeof(t));
    t.error_class = DBSSL_CONN_REFUSED;
    s = tu_snapshot(cfg, &t, NULL, NOW, 0, NULL);
    j = json_loads(s->db_json.data, 0, NULL);
    assert_true(json_is_false(json_object_get(j, "connected")));
    assert_true(json_is_null(json_object_get(j, "last_success")));
    assert_string_equal(jstr(json_object_get(j, "error"), "class"), "connection_refused");
    assert_int_equal(s->http_status, 503);
    json_decref(j);
    dbssl_snapshot_unref(s);
    dbssl_config_free(cfg);
}

static void test_board_keeps_old_snapshot_alive(void **state)
{
    const char *envp[] = {NULL};
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_tls_state t = tls_ok();
    struct dbssl_board b;
    struct dbssl_snapshot *s1, *s2, *held;

    (void)state;
    dbssl_board_init(&b);
    assert_null(dbssl_board_get(&b));
    s1 = tu_snapshot(cfg, &t, NULL, NOW, NOW, NULL);
    dbssl_board_publish(&b, s1);
    held = dbssl_board_get(&b);
    assert_ptr_equal(held, s1);
    t.connected = false;
    s2 = tu_snapshot(cfg, &t, NULL, NOW + 1, NOW, NULL);
    dbssl_board_publish(&b, s2);
    /* a response still sending s1's bytes can read them */
    assert_non_null(strstr(held->ssl_json.data, "\"healthy\""));
    dbssl_snapshot_unref(held);
    held = dbssl_board_get(&b);
    assert_ptr_equal(held, s2);
    dbssl_snapshot_unref(held);
    dbssl_board_destroy(&b);
    dbssl_config_free(cfg);
}

static void test_collect_reads_files_and_notes_missing(void **state)
{
    char dir[] = "/tmp/test_health.XXXXXX", cmd[1024], ca[600], client[600];
    struct dbssl_inuse_certs certs;
    struct dbssl_config *cfg;
    int rc;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
    snprintf(client, sizeof(client), "%s/missing.crt", dir);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 10 "
             "-subj /CN=testca -keyout %s/ca.key -out %s >/dev/null 2>&1",
             dir, ca);
    rc = system(cmd);
    assert_int_equal(rc, 0);
    {
        char e1[700], e2[700], e3[700];
        const char *envp[] = {e1, e2, e3, "DB_SSL_MODE=verify-full", NULL};
        snprintf(e1, sizeof(e1), "DB_SSL_CA_CERT=%s", ca);
        snprintf(e2, sizeof(e2), "DB_SSL_CLIENT_CERT=%s", client);
        snprintf(e3, sizeof(e3), "DB_SSL_CLIENT_KEY=%s/missing.key", dir);
        cfg = test_config_from(envp);
    }
    assert_int_equal(dbssl_inuse_certs_collect(cfg, &certs, NULL), 0);
    assert_int_equal(certs.n, 1);
    assert_string_equal(certs.v[0].role, "ca");
    assert_string_equal(certs.v[0].path, ca);
    assert_string_equal(certs.v[0].subject, "CN=testca");
    assert_true(certs.v[0].not_after - dbssl_now() > 9 * DAY);
    assert_int_equal(certs.n_notes, 1);
    assert_non_null(strstr(certs.notes[0], "missing.crt"));
    dbssl_inuse_certs_free(&certs);
    dbssl_config_free(cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    rc = system(cmd);
    (void)rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_full_tls13_is_healthy_with_exact_fields),
        cmocka_unit_test(test_failed_connection_is_unhealthy_with_error),
        cmocka_unit_test(test_plaintext_by_mode),
        cmocka_unit_test(test_validation_by_mode_and_ca),
        cmocka_unit_test(test_certificate_expiry_rules),
        cmocka_unit_test(test_database_body),
        cmocka_unit_test(test_board_keeps_old_snapshot_alive),
        cmocka_unit_test(test_collect_reads_files_and_notes_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
