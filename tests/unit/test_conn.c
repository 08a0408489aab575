/*
 * test_conn.c - the connection's pure parts: classifying libpq 15's failure
 * messages (texts captured from a real libpq 15 / PostgreSQL 15 pair) and
 * building the conninfo keyword/value arrays from the settings; and the TLS
 * state as applications read it (dbssl_tls_attribute() and the getters).
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
    /* PostgreSQL 15.18 and libpq 15, as tests/integration/test_failures.sh sees them */
    {"connection to server at \"127.0.0.1\", port 57111 failed: SSL error: sslv3 alert "
     "certificate revoked\n",
     "client_certificate_rejected", "revoked"},
    {"connection to server at \"127.0.0.1\", port 57111 failed: FATAL:  certificate "
     "authentication failed for user \"app\"\n",
     "client_certificate_rejected", "none"},
    {"connection to server at \"127.0.0.1\", port 57111 failed: FATAL:  \"trust\" authentication "
     "failed for user \"app3\"\n",
     "client_certificate_rejected", "none"},
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
    /* revocation and a CN that is not the user each say what to do */
    assert_non_null(
        strstr(dbssl_conn_classify("SSL error: sslv3 alert certificate revoked").hint, "CRL"));
    assert_non_null(strstr(
        dbssl_conn_classify("FATAL:  certificate authentication failed for user \"app\"").hint,
        "pg_ident.conf"));
    /* no free slot: the two ways out */
    assert_non_null(strstr(dbssl_conn_classify("FATAL:  sorry, too many clients already").hint,
                           "max_connections"));
    assert_non_null(strstr(dbssl_conn_classify("FATAL:  sorry, too many clients already").hint,
                           "PgBouncer"));
}

/* libpq 15's multi-line messages, as PQerrorMessage returns them, on one line */
static void test_message_one_line(void **state)
{
    static const struct {
        const char *in, *out;
    } lines[] = {
        {"connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the "
         "server running on that host and accepting TCP/IP connections?\n",
         "connection to server at \"127.0.0.1\", port 1 failed: Connection refused; Is the server "
         "running on that host and accepting TCP/IP connections?"},
        /* two hosts: one attempt per line, each with its continuation */
        {"connection to server at \"localhost\" (::1), port 1 failed: Connection refused\n\tIs "
         "the server running on that host and accepting TCP/IP connections?\nconnection to "
         "server at \"localhost\" (127.0.0.1), port 1 failed: Connection refused\n\tIs the "
         "server running on that host and accepting TCP/IP connections?\n",
         "connection to server at \"localhost\" (::1), port 1 failed: Connection refused; Is the "
         "server running on that host and accepting TCP/IP connections?; connection to server at "
         "\"localhost\" (127.0.0.1), port 1 failed: Connection refused; Is the server running on "
         "that host and accepting TCP/IP connections?"},
        {"server closed the connection unexpectedly\n\tThis probably means the server terminated "
         "abnormally\n\tbefore or while processing the request.\n",
         "server closed the connection unexpectedly; This probably means the server terminated "
         "abnormally; before or while processing the request."},
        /* the server's "FATAL:  " keeps one space; a single line is unchanged */
        {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password "
         "authentication failed for user \"app\"\n",
         "connection to server at \"127.0.0.1\", port 5432 failed: FATAL: password authentication "
         "failed for user \"app\""},
        {"\r\n  \n", ""},
        {"", ""},
    };
    char out[1024], small[12];

    (void)state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        dbssl_conn_message_one_line(out, sizeof(out), lines[i].in);
        assert_string_equal(out, lines[i].out);
    }
    /* truncated to fit, never a dangling separator */
    dbssl_conn_message_one_line(small, sizeof(small), "abcdefghi\n\tjk");
    assert_string_equal(small, "abcdefghi");
    dbssl_conn_message_one_line(small, sizeof(small), "abcdefgh\n\tijk");
    assert_string_equal(small, "abcdefgh; i");
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
    assert_int_equal(dbssl_conn_build_params(cfg, NULL, &p, NULL), 0);
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
    assert_int_equal(dbssl_conn_build_params(cfg, NULL, &p, NULL), 0);
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
    assert_int_equal(dbssl_conn_build_params(cfg, NULL, &p, NULL), 0);
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
    assert_int_equal(dbssl_conn_build_params(cfg, NULL, &p, NULL), 0);
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
    assert_int_equal(dbssl_conn_build_params(cfg, NULL, &p, NULL), 0);
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
    assert_int_equal(dbssl_conn_build_params(cfg, NULL, &p, &e), -1);
    assert_string_equal(e.message, "invalid DATABASE_URL");
    assert_true(e.detail[0] != '\0'); /* libpq's reason */
    assert_null(strstr(e.detail, "Sup3rSecret"));
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
    /* PostgreSQL's split: a short primary, libpq's text as the detail */
    assert_string_equal(st.error_message, "could not connect to the server");
    assert_non_null(strstr(st.error_detail, "Connection refused"));
    assert_null(strchr(st.error_detail, '\n'));
    /* libpq's continuation line stays a sentence of its own */
    assert_non_null(strstr(st.error_detail, "Connection refused; Is the server running"));
    assert_null(strstr(e.message, "Sup3rSecret"));
    assert_null(strstr(e.detail, "Sup3rSecret"));
    assert_int_equal(e.code, DBSSL_ERR_CONNECT);
    assert_string_equal(e.message, st.error_message);
    assert_string_equal(e.detail, st.error_detail);
    assert_true(st.error_hint[0] != '\0');
    assert_string_equal(e.hint, st.error_hint);
    dbssl_config_free(cfg);
}

/* ---- the TLS state as applications read it ------------------------------------------- */

/*
 * Every name the header documents, in the order dbssl_tls_attribute_names()
 * lists them, and what it must read for the state test_attribute_every_name() fills.
 */
static const char *const documented[][2] = {
    {"connected", "true"},
    {"ssl_in_use", "true"},
    {"protocol", "TLSv1.3"},
    {"cipher", "TLS_AES_256_GCM_SHA384"},
    {"alpn", "postgresql"},
    {"key_bits", "256"},
    {"server_host", "db.example.com"},
    {"server_port", "5433"},
    {"server_version", "15.18"},
    {"client_cert_sent", "false"},
    {"server_sees_ssl", "true"},
    {"server_cert_subject", "CN=db.example.com"},
    {"server_cert_serial", "0A1B"},
    {"server_cert_not_before", "2026-01-01T00:00:00Z"},
    {"server_cert_not_after", "2027-01-01T12:30:05Z"},
    {"latency_ms", "12.346"},
    {"error_class", "certificate_verification_failed"},
    {"verify_reason", "hostname_mismatch"},
    {"error_message", "primary"},
    {"error_detail", "what libpq said"},
    {"error_hint", "Do this."},
};
#define N_DOCUMENTED (sizeof(documented) / sizeof(documented[0]))

static void test_attribute_names(void **state)
{
    const char *const *names = dbssl_tls_attribute_names();
    size_t n = 0;

    (void)state;
    assert_non_null(names);
    for (; names[n] != NULL; n++) {
        assert_true(n < N_DOCUMENTED);
        assert_string_equal(names[n], documented[n][0]);
    }
    assert_int_equal(n, N_DOCUMENTED);
    /* the same array every time: applications may keep it */
    assert_ptr_equal(dbssl_tls_attribute_names(), names);
}

static void test_attribute_fresh_null_and_unknown(void **state)
{
    struct dbssl_tls_state *s = dbssl_tls_state_new();

    (void)state;
    assert_non_null(s);
    /* a fresh state: every known name answers, never NULL */
    for (size_t i = 0; i < N_DOCUMENTED; i++) {
        assert_non_null(dbssl_tls_attribute(s, documented[i][0]));
        /* a NULL state answers nothing */
        assert_null(dbssl_tls_attribute(NULL, documented[i][0]));
    }
    assert_string_equal(dbssl_tls_attribute(s, "connected"), "false");
    assert_string_equal(dbssl_tls_attribute(s, "protocol"), "");
    assert_string_equal(dbssl_tls_attribute(s, "key_bits"), "");
    assert_string_equal(dbssl_tls_attribute(s, "server_cert_not_after"), "");
    assert_string_equal(dbssl_tls_attribute(s, "latency_ms"), "0.000");
    assert_string_equal(dbssl_tls_attribute(s, "error_class"), "ok");
    assert_string_equal(dbssl_tls_attribute(s, "verify_reason"), "none");
    assert_string_equal(dbssl_tls_attribute(s, "error_detail"), "");
    /* unknown names: NULL, as PQsslAttribute; names are exact */
    assert_null(dbssl_tls_attribute(s, "nope"));
    assert_null(dbssl_tls_attribute(s, ""));
    assert_null(dbssl_tls_attribute(s, "PROTOCOL"));
    assert_null(dbssl_tls_attribute(s, "protocol "));
    assert_null(dbssl_tls_attribute(s, "text"));
    assert_null(dbssl_tls_attribute(s, NULL));
    /* typed getters: a NULL state reads as a fresh one */
    assert_false(dbssl_tls_connected(NULL));
    assert_false(dbssl_tls_ssl_in_use(NULL));
    assert_int_equal(dbssl_tls_key_bits(NULL), 0);
    assert_false(dbssl_tls_client_cert_sent(NULL));
    assert_false(dbssl_tls_server_sees_ssl(NULL));
    assert_int_equal(dbssl_tls_server_cert_not_before(NULL), 0);
    assert_int_equal(dbssl_tls_server_cert_not_after(NULL), 0);
    assert_true(dbssl_tls_latency_ms(NULL) == 0.0);
    assert_int_equal(dbssl_tls_error_class(NULL), DBSSL_CONN_OK);
    assert_int_equal(dbssl_tls_verify_reason(NULL), DBSSL_VERIFY_NONE);
    dbssl_tls_state_free(s);
    dbssl_tls_state_free(NULL);
}

static void test_attribute_every_name(void **state)
{
    struct dbssl_tls_state t;

    (void)state;
    memset(&t, 0, sizeof(t));
    t.connected = t.ssl_in_use = t.server_sees_ssl = true;
    snprintf(t.protocol, sizeof(t.protocol), "TLSv1.3");
    snprintf(t.cipher, sizeof(t.cipher), "TLS_AES_256_GCM_SHA384");
    snprintf(t.alpn, sizeof(t.alpn), "postgresql");
    t.key_bits = 256;
    snprintf(t.server_host, sizeof(t.server_host), "db.example.com");
    snprintf(t.server_port, sizeof(t.server_port), "5433");
    snprintf(t.server_version, sizeof(t.server_version), "15.18");
    snprintf(t.server_cert_subject, sizeof(t.server_cert_subject), "CN=db.example.com");
    snprintf(t.server_cert_serial, sizeof(t.server_cert_serial), "0A1B");
    t.server_cert_not_before = 1767225600LL; /* 2026-01-01T00:00:00Z */
    t.server_cert_not_after = 1798806605LL;  /* 2027-01-01T12:30:05Z */
    t.latency_ms = 12.3456;
    t.error_class = DBSSL_CONN_CERT_VERIFY_FAILED;
    t.verify_reason = DBSSL_VERIFY_HOSTNAME_MISMATCH;
    snprintf(t.error_message, sizeof(t.error_message), "primary");
    snprintf(t.error_detail, sizeof(t.error_detail), "what libpq said");
    snprintf(t.error_hint, sizeof(t.error_hint), "Do this.");
    dbssl_tls_state_format(&t);
    for (size_t i = 0; i < N_DOCUMENTED; i++) {
        const char *got = dbssl_tls_attribute(&t, documented[i][0]);
        if (got == NULL || strcmp(got, documented[i][1]) != 0)
            fail_msg("attribute \"%s\": got \"%s\", want \"%s\"", documented[i][0],
                     got ? got : "(null)", documented[i][1]);
    }
    assert_true(dbssl_tls_connected(&t));
    assert_true(dbssl_tls_ssl_in_use(&t));
    assert_int_equal(dbssl_tls_key_bits(&t), 256);
    assert_false(dbssl_tls_client_cert_sent(&t));
    assert_true(dbssl_tls_server_sees_ssl(&t));
    assert_int_equal(dbssl_tls_server_cert_not_before(&t), 1767225600LL);
    assert_int_equal(dbssl_tls_server_cert_not_after(&t), 1798806605LL);
    assert_true(dbssl_tls_latency_ms(&t) > 12.345 && dbssl_tls_latency_ms(&t) < 12.346);
    assert_int_equal(dbssl_tls_error_class(&t), DBSSL_CONN_CERT_VERIFY_FAILED);
    assert_int_equal(dbssl_tls_verify_reason(&t), DBSSL_VERIFY_HOSTNAME_MISMATCH);
}

/* The whole failure path through the public API only: opaque state and error. */
static void test_connect_refused_through_accessors(void **state)
{
    const char *envp[] = {"DATABASE_URL=postgresql://app:Sup3rSecret@127.0.0.1:1/db",
                          "DB_SSL_MODE=require", "DB_CONNECT_TIMEOUT=2", NULL};
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_tls_state *s = dbssl_tls_state_new();
    struct dbssl_error *err = dbssl_error_new();

    (void)state;
    assert_non_null(s);
    assert_non_null(err);
    assert_null(dbssl_connect(cfg, s, err));
    assert_false(dbssl_tls_connected(s));
    assert_int_equal(dbssl_tls_error_class(s), DBSSL_CONN_REFUSED);
    assert_string_equal(dbssl_tls_attribute(s, "error_class"), "connection_refused");
    assert_string_equal(dbssl_tls_attribute(s, "error_message"), "could not connect to the server");
    assert_non_null(strstr(dbssl_tls_attribute(s, "error_detail"), "Connection refused"));
    assert_string_equal(dbssl_tls_attribute(s, "error_detail"), dbssl_error_detail(err));
    assert_string_equal(dbssl_tls_attribute(s, "error_hint"), dbssl_error_hint(err));
    assert_int_equal(dbssl_error_code(err), DBSSL_ERR_CONNECT);
    for (const char *const *n = dbssl_tls_attribute_names(); *n; n++)
        assert_null(strstr(dbssl_tls_attribute(s, *n), "Sup3rSecret"));

    /* the same state is refreshed, not added to, by the next call; NULL state is fine */
    assert_false(dbssl_conn_check(NULL, cfg, s));
    assert_string_equal(dbssl_tls_attribute(s, "error_message"), "not connected");
    assert_string_equal(dbssl_tls_attribute(s, "error_detail"), "");
    assert_false(dbssl_conn_check(NULL, cfg, NULL));
    dbssl_error_clear(err);
    assert_null(dbssl_connect(cfg, NULL, err));
    assert_int_equal(dbssl_error_code(err), DBSSL_ERR_CONNECT);
    dbssl_error_free(err);
    dbssl_tls_state_free(s);
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
        cmocka_unit_test(test_message_one_line),
        cmocka_unit_test(test_connect_refused_is_classified),
        cmocka_unit_test(test_attribute_names),
        cmocka_unit_test(test_attribute_fresh_null_and_unknown),
        cmocka_unit_test(test_attribute_every_name),
        cmocka_unit_test(test_connect_refused_through_accessors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
