/*
 * test_conn.c - the connection's pure parts: classifying libpq 15's failure
 * messages (texts captured from a real libpq 15 / PostgreSQL 15 pair) and
 * building the conninfo keyword/value arrays from the settings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "conn_int.h"

struct msg_case {
    const char *message;
    const char *cls;
    const char *reason;
};

/* Verbatim PQerrorMessage() texts of libpq 15.18 (see tests/integration). */
static const struct msg_case cases[] = {
    /* the reviewer's reproduction: a client key replaced by one that does not match */
    {"connection to server at \"127.0.0.1\", port 59432 failed: could not load private key file "
     "\"/tmp/rv/u/client.key\": key values mismatch\n",
     "other", "none"},
    {"connection to server at \"127.0.0.1\", port 56432 failed: server does not support SSL, but "
     "SSL was required\n",
     "ssl_unavailable", "none"},
    {"connection to server at \"127.0.0.1\", port 56432 failed: SSL error: certificate verify "
     "failed\n",
     "certificate_verification_failed", "unknown_ca"},
    {"connection to server at \"127.0.0.1\", port 56432 failed: server certificate for "
     "\"localhost\" (and 1 other name) does not match host name \"127.0.0.1\"\n",
     "certificate_verification_failed", "hostname_mismatch"},
    {"connection to server at \"db.example.com\" (10.0.0.5), port 5432 failed: server "
     "certificate for \"other.example.com\" does not match host name \"db.example.com\"\n",
     "certificate_verification_failed", "hostname_mismatch"},
    {"connection to server at \"127.0.0.1\", port 5432 failed: SSL error: certificate has "
     "expired\n",
     "certificate_verification_failed", "expired"},
    {"connection to server at \"127.0.0.1\", port 56432 failed: FATAL:  connection requires a "
     "valid client certificate\n",
     "client_certificate_rejected", "none"},
    {"connection to server at \"127.0.0.1\", port 56432 failed: FATAL:  certificate "
     "authentication failed for user \"postgres\"\n",
     "client_certificate_rejected", "none"},
    {"connection to server at \"127.0.0.1\", port 56432 failed: SSL error: tlsv1 alert unknown "
     "ca\n",
     "client_certificate_rejected", "none"},
    {"connection to server at \"127.0.0.1\", port 56432 failed: SSL error: sslv3 alert bad "
     "certificate\n",
     "client_certificate_rejected", "none"},
    {"connection to server at \"127.0.0.1\", port 56432 failed: SSL error: tlsv13 alert "
     "certificate required\n",
     "client_certificate_rejected", "none"},
    {"connection to server at \"127.0.0.1\", port 56432 failed: FATAL:  password authentication "
     "failed for user \"dbssl_test\"\n",
     "authentication_failed", "none"},
    {"connection to server at \"127.0.0.1\", port 56432 failed: fe_sendauth: no password "
     "supplied\n",
     "authentication_failed", "none"},
    {"connection to server at \"127.0.0.1\", port 56432 failed: FATAL:  no pg_hba.conf entry for "
     "host \"127.0.0.1\", user \"dbssl_test\", database \"postgres\", no encryption\n",
     "server_rejected", "none"},
    {"connection to server at \"127.0.0.1\", port 56999 failed: timeout expired\n", "timeout",
     "none"},
    {"connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the server "
     "running on that host and accepting TCP/IP connections?\n",
     "connection_refused", "none"},
    {"could not translate host name \"nonexistent.invalid\" to address: Name or service not "
     "known\n",
     "host_not_found", "none"},
    {"server closed the connection unexpectedly\n\tThis probably means the server terminated "
     "abnormally\n\tbefore or while processing the request.\n",
     "other", "none"},
    {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  database \"nope\" does not "
     "exist\n",
     "other", "none"},
    {"connection to server at \"127.0.0.1\", port 56432 failed: FATAL:  sorry, too many clients "
     "already\n",
     "too_many_connections", "none"},
    {"connection to server at \"127.0.0.1\", port 56432 failed: FATAL:  remaining connection slots "
     "are reserved for non-replication superuser connections\n",
     "too_many_connections", "none"},
    /* PostgreSQL 16's wording */
    {"connection to server at \"127.0.0.1\", port 56432 failed: FATAL:  remaining connection slots "
     "are reserved for roles with the SUPERUSER attribute\n",
     "too_many_connections", "none"},
    {"connection to server at \"127.0.0.1\", port 56432 failed: FATAL:  too many connections for "
     "role \"dbssl_test\"\n",
     "too_many_connections", "none"},
    {"connection to server at \"127.0.0.1\", port 56432 failed: FATAL:  too many connections for "
     "database \"postgres\"\n",
     "too_many_connections", "none"},
};

static void test_classify_libpq15_messages(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dbssl_conn_diagnosis d = dbssl_conn_classify(cases[i].message);
        if (strcmp(dbssl_conn_class_name(d.cls), cases[i].cls) != 0 ||
            strcmp(dbssl_verify_reason_name(d.reason), cases[i].reason) != 0)
            fail_msg("message %zu \"%s\": got %s/%s, want %s/%s", i, cases[i].message,
                     dbssl_conn_class_name(d.cls), dbssl_verify_reason_name(d.reason), cases[i].cls,
                     cases[i].reason);
        assert_non_null(d.hint);
        /* hints are full sentences */
        assert_true(d.hint[0] >= 'A' && d.hint[0] <= 'Z');
        assert_int_equal(d.hint[strlen(d.hint) - 1], '.');
    }
    /* a problem with our own files names the settings to fix */
    assert_non_null(strstr(dbssl_conn_classify(cases[0].message).hint, "DB_SSL_CLIENT_KEY"));
    /* no free slot: the two ways out */
    assert_non_null(strstr(dbssl_conn_classify("FATAL:  sorry, too many clients already").hint,
                           "max_connections"));
    assert_non_null(strstr(dbssl_conn_classify("FATAL:  sorry, too many clients already").hint,
                           "PgBouncer"));
}

static void test_classify_null_and_empty(void **state)
{
    struct dbssl_conn_diagnosis d = dbssl_conn_classify(NULL);

    (void)state;
    assert_string_equal(dbssl_conn_class_name(d.cls), "other");
    d = dbssl_conn_classify("");
    assert_string_equal(dbssl_conn_class_name(d.cls), "other");
}

/* ---- conninfo ---------------------------------------------------------------- */

static void expect(const struct dbssl_conn_params *p, const char *kw, const char *want)
{
    const char *got = dbssl_conn_params_get(p, kw);

    if (want == NULL) {
        if (got != NULL)
            fail_msg("keyword %s: got \"%s\", want none", kw, got);
        return;
    }
    if (got == NULL || strcmp(got, want) != 0)
        fail_msg("keyword %s: got \"%s\", want \"%s\"", kw, got ? got : "(none)", want);
}

static void test_params_keep_url_keywords(void **state)
{
    const char *envp[] = {
        "DATABASE_URL=postgresql://app:pw@h1:5432,h2:5433/appdb?target_session_attrs=read-write"
        "&options=-c%20search_path%3Dx&keepalives_idle=30",
        "DB_SSL_MODE=verify-full", "DB_SSL_CA_CERT=/etc/ssl/ca.crt", "DB_SSL_REQUIRED=true", NULL};
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_conn_params p;

    (void)state;
    assert_int_equal(dbssl_conn_build_params(cfg, &p, NULL), 0);
    expect(&p, "host", "h1,h2");
    expect(&p, "port", "5432,5433");
    expect(&p, "user", "app");
    expect(&p, "password", "pw");
    expect(&p, "dbname", "appdb");
    expect(&p, "target_session_attrs", "read-write");
    expect(&p, "options", "-c search_path=x");
    expect(&p, "keepalives_idle", "30");
    expect(&p, "sslmode", "verify-full");
    expect(&p, "sslrootcert", "/etc/ssl/ca.crt");
    expect(&p, "sslcert", NULL);
    expect(&p, "ssl_min_protocol_version", "TLSv1.2");
    expect(&p, "connect_timeout", "5");
    expect(&p, "application_name", "dbssl");
    expect(&p, "gssencmode", "disable");
    /* NULL-terminated and each keyword once */
    assert_null(p.keywords[p.n]);
    for (size_t i = 0; i < p.n; i++)
        for (size_t j = i + 1; j < p.n; j++)
            assert_string_not_equal(p.keywords[i], p.keywords[j]);
    dbssl_conn_params_free(&p);
    dbssl_config_free(cfg);
}

static void test_params_weak_mode_keeps_app_name(void **state)
{
    const char *envp[] = {"DATABASE_URL=postgresql://app@localhost/db?application_name=billing",
                          "DB_SSL_MODE=prefer", "DB_SSL_REQUIRED=false", NULL};
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_conn_params p;

    (void)state;
    assert_int_equal(dbssl_conn_build_params(cfg, &p, NULL), 0);
    expect(&p, "application_name", "billing");
    expect(&p, "sslmode", "prefer");
    /* GSSAPI may stand in only when TLS is not a requirement */
    expect(&p, "gssencmode", NULL);
    expect(&p, "sslrootcert", NULL);
    dbssl_conn_params_free(&p);
    dbssl_config_free(cfg);
}

static void test_params_required_forces_gssenc_off(void **state)
{
    const char *envp[] = {"DATABASE_URL=postgresql://app@localhost/db?gssencmode=prefer",
                          "DB_SSL_MODE=require", "DB_SSL_REQUIRED=false", NULL};
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_conn_params p;

    (void)state;
    assert_int_equal(dbssl_conn_build_params(cfg, &p, NULL), 0);
    expect(&p, "gssencmode", "disable");
    dbssl_conn_params_free(&p);
    dbssl_config_free(cfg);
}

static void test_params_client_files_and_overrides(void **state)
{
    const char *envp[] = {"DATABASE_URL=postgresql://app@localhost/db?connect_timeout=60",
                          "DB_SSL_MODE=verify-ca",
                          "DB_SSL_CA_CERT=/c/ca.crt",
                          "DB_SSL_CLIENT_CERT=/c/client.crt",
                          "DB_SSL_CLIENT_KEY=/c/client.key",
                          "DB_SSL_CRL=/c/root.crl",
                          "DB_SSL_MIN_PROTOCOL_VERSION=TLSv1.3",
                          "DB_CONNECT_TIMEOUT=7",
                          NULL};
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_conn_params p;

    (void)state;
    assert_int_equal(dbssl_conn_build_params(cfg, &p, NULL), 0);
    expect(&p, "sslmode", "verify-ca");
    expect(&p, "sslcert", "/c/client.crt");
    expect(&p, "sslkey", "/c/client.key");
    expect(&p, "sslcrl", "/c/root.crl");
    expect(&p, "ssl_min_protocol_version", "TLSv1.3");
    /* the setting wins over the URL's keyword */
    expect(&p, "connect_timeout", "7");
    dbssl_conn_params_free(&p);
    dbssl_config_free(cfg);
}

static void test_params_generated_files(void **state)
{
    const char *envp[] = {"DATABASE_URL=postgresql://app@localhost/db",
                          "DB_SSL_MODE=verify-full",
                          "DB_SSL_AUTO_GENERATE=true",
                          "DB_SSL_AUTO_GENERATE_CLIENT=true",
                          "DB_SSL_AUTO_CERT_DIR=/gen",
                          NULL};
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_conn_params p;

    (void)state;
    assert_int_equal(dbssl_conn_build_params(cfg, &p, NULL), 0);
    expect(&p, "sslrootcert", "/gen/ca.crt");
    expect(&p, "sslcert", "/gen/client.crt");
    expect(&p, "sslkey", "/gen/client.key");
    dbssl_conn_params_free(&p);
    dbssl_config_free(cfg);
}

static void test_params_bad_url_hides_password(void **state)
{
    const char *envp[] = {"DATABASE_URL=postgresql://app:Sup3rSecret@[::1/db", NULL};
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_conn_params p;
    struct dbssl_error e;

    (void)state;
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_conn_build_params(cfg, &p, &e), -1);
    assert_non_null(strstr(e.message, "DATABASE_URL"));
    assert_null(strstr(e.message, "Sup3rSecret"));
    dbssl_conn_params_free(&p);
    dbssl_config_free(cfg);
}

static void test_connect_refused_is_classified(void **state)
{
    /* port 1 on loopback: nothing listens there, so libpq fails at once */
    const char *envp[] = {"DATABASE_URL=postgresql://app:Sup3rSecret@127.0.0.1:1/db",
                          "DB_SSL_MODE=require", "DB_CONNECT_TIMEOUT=2", NULL};
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_tls_state st;
    struct dbssl_error e;
    PGconn *conn;

    (void)state;
    dbssl_error_clear(&e);
    conn = dbssl_connect(cfg, &st, &e);
    assert_null(conn);
    assert_false(st.connected);
    assert_string_equal(dbssl_conn_class_name(st.error_class), "connection_refused");
    assert_non_null(strstr(st.error_message, "Connection refused"));
    assert_null(strchr(st.error_message, '\n'));
    assert_null(strstr(e.message, "Sup3rSecret"));
    assert_int_equal(e.code, DBSSL_ERR_CONNECT);
    assert_true(st.error_hint[0] != '\0');
    dbssl_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_libpq15_messages),
        cmocka_unit_test(test_classify_null_and_empty),
        cmocka_unit_test(test_params_keep_url_keywords),
        cmocka_unit_test(test_params_weak_mode_keeps_app_name),
        cmocka_unit_test(test_params_required_forces_gssenc_off),
        cmocka_unit_test(test_params_client_files_and_overrides),
        cmocka_unit_test(test_params_generated_files),
        cmocka_unit_test(test_params_bad_url_hides_password),
        cmocka_unit_test(test_connect_refused_is_classified),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
