/*
 * test_sessions.c - session coverage and channel binding (issue 13, items 2
 * and 3) without a database: how watched sessions are counted, the status
 * rules and the body and metrics a user gets for them, and the
 * classification of libpq 15's channel binding failures.  The same paths
 * against a real server: tests/integration/test_sessions.sh and
 * test_channel_binding.sh.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "conn_int.h"

#include "conn_sessions.h"
#include "health.h"
#include "util.h"

#define NOW 1900000000LL /* 2030-03-17 */

static const char *const URL = "DATABASE_URL=postgresql://app@127.0.0.1/db";

static struct dbssl_session_row row(const char *addr, const char *app, bool ssl,
                                    const char *version)
{
    return (struct dbssl_session_row){addr, app,     "app", NOW - 60, addr[0] == '\0',
                                      ssl,  version, false};
}

/* One TLS 1.3 session and one plaintext session of "web" from 10.0.0.7. */
static struct dbssl_sessions one_plaintext(void)
{
    struct dbssl_sessions s;
    struct dbssl_session_row tls = row("10.0.0.5", "api", true, "TLSv1.3");
    struct dbssl_session_row plain = row("10.0.0.7", "web", false, "");

    dbssl_sessions_begin(&s);
    dbssl_sessions_add(&s, &tls, DBSSL_TLS_1_2);
    dbssl_sessions_add(&s, &plain, DBSSL_TLS_1_2);
    return s;
}

/* The snapshot for settings envp and sessions ss; the caller unrefs it. */
static struct dbssl_snapshot *snap(const char *const *envp, const struct dbssl_sessions *ss)
{
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_tls_state t;
    struct dbssl_snapshot_extra x = {NULL, NULL, false, 0, NULL, ss};
    struct dbssl_snapshot *s;

    tu_tls_ok(&t, NOW);
    s = tu_snapshot(cfg, &t, NULL, NOW, NOW, &x);
    dbssl_config_free(cfg);
    return s;
}

static json_t *body_of(const struct dbssl_snapshot *s)
{
    json_error_t je;
    json_t *j = json_loads(s->ssl_json.data, 0, &je);

    if (j == NULL)
        fail_msg("invalid JSON: %s", je.text);
    return j;
}

static void test_counting(void **state)
{
    struct dbssl_sessions s;
    struct dbssl_session_row r;

    (void)state;
    dbssl_sessions_begin(&s);
    r = row("", "psql", false, ""); /* a Unix-domain socket: counted, never judged */
    dbssl_sessions_add(&s, &r, DBSSL_TLS_1_3);
    r = row("10.0.0.1", "a", true, "TLSv1.3");
    r.client_cert = true;
    dbssl_sessions_add(&s, &r, DBSSL_TLS_1_3);
    r = row("10.0.0.2", "b", true, "TLSv1.2");
    dbssl_sessions_add(&s, &r, DBSSL_TLS_1_3);
    r = row("10.0.0.3", "c", true, "TLSv1.2");
    dbssl_sessions_add(&s, &r, DBSSL_TLS_1_2); /* the floor is TLSv1.2 here: fine */
    r = row("10.0.0.4", "d", false, "");
    dbssl_sessions_add(&s, &r, DBSSL_TLS_1_3);
    assert_int_equal(s.state, DBSSL_SESSIONS_CHECKED);
    assert_int_equal(s.total, 5);
    assert_int_equal(s.local, 1);
    assert_int_equal(s.encrypted, 3);
    assert_int_equal(s.plaintext, 1);
    assert_int_equal(s.below_min_protocol, 1);
    assert_int_equal(s.without_client_certificate, 2);
    assert_int_equal(s.n_versions, 2);
    assert_string_equal(s.by_version[0].version, "TLSv1.3");
    assert_int_equal(s.by_version[0].n, 1);
    assert_string_equal(s.by_version[1].version, "TLSv1.2");
    assert_int_equal(s.by_version[1].n, 2);
    assert_int_equal(s.n_offenders, 2);
    assert_string_equal(s.offenders[0].application_name, "b");
    assert_int_equal(s.offenders[0].reason, DBSSL_SESSION_BELOW_MIN_PROTOCOL);
    assert_string_equal(s.offenders[0].version, "TLSv1.2");
    assert_string_equal(s.offenders[1].client_addr, "10.0.0.4");
    assert_int_equal(s.offenders[1].reason, DBSSL_SESSION_PLAINTEXT);
}

/* Many offenders: all counted, the first DBSSL_SESSIONS_MAX_OFFENDERS described. */
static void test_offenders_are_capped_not_lost(void **state)
{
    struct dbssl_sessions s;
    struct dbssl_snapshot *sn;
    const char *envp[] = {URL, NULL};
    json_t *j;

    (void)state;
    dbssl_sessions_begin(&s);
    for (int i = 0; i < 40; i++) {
        struct dbssl_session_row r = row("10.0.0.9", "batch", false, "");
        dbssl_sessions_add(&s, &r, DBSSL_TLS_1_2);
    }
    assert_int_equal(s.plaintext, 40);
    assert_int_equal(s.n_offenders, DBSSL_SESSIONS_MAX_OFFENDERS);
    sn = snap(envp, &s);
    j = body_of(sn);
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "sessions"), "offenders")),
                     DBSSL_SESSIONS_MAX_OFFENDERS);
    /* five named, the rest summed up in one line */
    assert_non_null(tu_warning_with(j, "35 more of the application's sessions"));
    assert_int_equal(json_array_size(json_object_get(j, "warnings")), 6);
    json_decref(j);
    dbssl_snapshot_unref(sn);
}

static void test_plaintext_session_degrades_and_names_the_client(void **state)
{
    struct dbssl_sessions ss = one_plaintext();
    const char *envp[] = {URL, "DB_SSL_MODE=require", "DB_SSL_REQUIRED=true", NULL};
    struct dbssl_snapshot *s = snap(envp, &ss);
    json_t *j = body_of(s), *js = json_object_get(j, "sessions"), *o;
    const char *w;

    (void)state;
    assert_int_equal(s->status, DBSSL_HEALTH_DEGRADED);
    assert_int_equal(s->http_status, 200);
    assert_true(json_is_true(json_object_get(js, "checked")));
    assert_int_equal(json_integer_value(json_object_get(js, "total")), 2);
    assert_int_equal(json_integer_value(json_object_get(js, "encrypted")), 1);
    assert_int_equal(json_integer_value(json_object_get(js, "plaintext")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(js, "by_version"), "TLSv1.3")), 1);
    o = json_array_get(json_object_get(js, "offenders"), 0);
    assert_string_equal(json_string_value(json_object_get(o, "client_addr")), "10.0.0.7");
    assert_string_equal(json_string_value(json_object_get(o, "application_name")), "web");
    assert_string_equal(json_string_value(json_object_get(o, "reason")), "plaintext");
    assert_string_equal(json_string_value(json_object_get(o, "backend_start")),
                        "2030-03-17T17:45:40Z");
    w = tu_warning_with(j, "10.0.0.7");
    assert_non_null(w);
    assert_non_null(strstr(w, "application_name \"web\""));
    assert_non_null(strstr(w, "not encrypted"));
    json_decref(j);
    dbssl_snapshot_unref(s);
}

/* Unhealthy only when both DB_SSL_REQUIRED and DB_SSL_SESSIONS_ENFORCE are true. */
static void test_enforce_needs_required(void **state)
{
    struct dbssl_sessions ss = one_plaintext();
    const char *both[] = {URL, "DB_SSL_MODE=require", "DB_SSL_REQUIRED=true",
                          "DB_SSL_SESSIONS_ENFORCE=true", NULL};
    const char *enforce_only[] = {URL, "DB_SSL_MODE=require", "DB_SSL_SESSIONS_ENFORCE=true", NULL};
    struct dbssl_snapshot *s;

    (void)state;
    s = snap(both, &ss);
    assert_int_equal(s->status, DBSSL_HEALTH_UNHEALTHY);
    assert_int_equal(s->http_status, 503);
    dbssl_snapshot_unref(s);
    s = snap(enforce_only, &ss);
    assert_int_equal(s->status, DBSSL_HEALTH_DEGRADED);
    dbssl_snapshot_unref(s);
}

static void test_below_min_protocol_degrades(void **state)
{
    struct dbssl_sessions ss;
    struct dbssl_session_row r = row("10.0.0.8", "legacy", true, "TLSv1.2");
    const char *envp[] = {URL, "DB_SSL_MODE=require", "DB_SSL_MIN_PROTOCOL_VERSION=TLSv1.3", NULL};
    struct dbssl_snapshot *s;
    json_t *j;
    const char *w;

    (void)state;
    dbssl_sessions_begin(&ss);
    dbssl_sessions_add(&ss, &r, DBSSL_TLS_1_3);
    s = snap(envp, &ss);
    j = body_of(s);
    assert_int_equal(s->status, DBSSL_HEALTH_DEGRADED);
    w = tu_warning_with(j, "legacy");
    assert_non_null(w);
    assert_non_null(strstr(w, "uses TLSv1.2, below DB_SSL_MIN_PROTOCOL_VERSION \"TLSv1.3\""));
    json_decref(j);
    dbssl_snapshot_unref(s);
}

/* No privilege: "not checked" with the GRANT, counts null, never a clean zero. */
static void test_not_checked_is_never_ok(void **state)
{
    struct dbssl_sessions ss;
    const char *envp[] = {URL, "DB_SSL_MODE=require", NULL};
    const char *enforce[] = {URL, "DB_SSL_MODE=require", "DB_SSL_SESSIONS_ENFORCE=true", NULL};
    struct dbssl_snapshot *s;
    json_t *j, *js;

    (void)state;
    memset(&ss, 0, sizeof(ss));
    ss.state = DBSSL_SESSIONS_NOT_CHECKED;
    snprintf(ss.note, sizeof(ss.note),
             "role \"app\" may not see the sessions of every watched role");
    snprintf(ss.hint, sizeof(ss.hint), "GRANT pg_read_all_stats TO \"app\";");
    s = snap(envp, &ss);
    j = body_of(s);
    js = json_object_get(j, "sessions");
    assert_int_equal(s->status, DBSSL_HEALTH_HEALTHY);
    assert_true(json_is_false(json_object_get(js, "checked")));
    assert_string_equal(json_string_value(json_object_get(js, "state")), "not_checked");
    assert_true(json_is_null(json_object_get(js, "plaintext")));
    assert_true(json_is_null(json_object_get(js, "total")));
    assert_true(json_is_null(json_object_get(js, "offenders")));
    assert_non_null(strstr(json_string_value(json_object_get(js, "hint")), "GRANT"));
    assert_non_null(tu_warning_with(j, "not checked"));
    /* and no sample that reads as zero plaintext sessions */
    assert_non_null(strstr(s->metrics.data, "\ndbssl_sessions_checked 0\n"));
    assert_null(strstr(s->metrics.data, "\ndbssl_sessions_plaintext "));
    json_decref(j);
    dbssl_snapshot_unref(s);
    s = snap(enforce, &ss);
    assert_int_equal(s->status, DBSSL_HEALTH_DEGRADED);
    dbssl_snapshot_unref(s);
}

static void test_metrics(void **state)
{
    struct dbssl_sessions ss = one_plaintext();
    const char *envp[] = {URL, NULL};
    struct dbssl_snapshot *s = snap(envp, &ss);

    (void)state;
    assert_non_null(strstr(s->metrics.data, "\ndbssl_sessions_checked 1\n"));
    assert_non_null(strstr(s->metrics.data, "\ndbssl_sessions_watched 2\n"));
    assert_non_null(strstr(s->metrics.data, "\ndbssl_sessions_plaintext 1\n"));
    assert_non_null(strstr(s->metrics.data, "\ndbssl_sessions_encrypted 1\n"));
    assert_non_null(strstr(s->metrics.data, "\ndbssl_sessions_below_min_protocol 0\n"));
    assert_non_null(
        strstr(s->metrics.data, "\ndbssl_sessions_tls_version{version=\"TLSv1.3\"} 1\n"));
    dbssl_snapshot_unref(s);
}

/* Not connected: no sessions object at all. */
static void test_unread_is_null(void **state)
{
    const char *envp[] = {URL, NULL};
    struct dbssl_snapshot *s = snap(envp, NULL);
    json_t *j = body_of(s);

    (void)state;
    assert_true(json_is_null(json_object_get(j, "sessions")));
    assert_string_equal(json_string_value(json_object_get(j, "channel_binding")), "prefer");
    json_decref(j);
    dbssl_snapshot_unref(s);
}

/* The JSON form reads back to the same JSON (kept audit evidence), and bad input is named. */
static void test_json_round_trip(void **state)
{
    struct dbssl_sessions in = one_plaintext(), back, not_checked;
    struct dbssl_session_row r = row("10.0.0.8", "legacy", true, "TLSv1.2");
    json_t *j, *j2, *bad;
    struct dbssl_error e;

    (void)state;
    dbssl_sessions_add(&in, &r, DBSSL_TLS_1_3);
    memset(&not_checked, 0, sizeof(not_checked));
    not_checked.state = DBSSL_SESSIONS_NOT_CHECKED;
    snprintf(not_checked.note, sizeof(not_checked.note), "hidden");
    snprintf(not_checked.hint, sizeof(not_checked.hint), "GRANT it.");
    for (int k = 0; k < 2; k++) {
        j = dbssl_sessions_to_json(k == 0 ? &in : &not_checked);
        assert_int_equal(dbssl_sessions_from_json(j, &back, NULL), 0);
        j2 = dbssl_sessions_to_json(&back);
        assert_true(json_equal(j, j2));
        json_decref(j);
        json_decref(j2);
    }
    assert_int_equal(dbssl_sessions_from_json(json_null(), &back, NULL), 0);
    assert_int_equal(back.state, DBSSL_SESSIONS_UNREAD);
    j = dbssl_sessions_to_json(&in);
    bad = json_deep_copy(j);
    json_object_set_new(bad, "plaintext", json_string("1"));
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_sessions_from_json(bad, &back, &e), -1);
    assert_non_null(strstr(e.message, "\"plaintext\""));
    json_decref(bad);
    json_decref(j);
}

/* libpq 15's messages when channel_binding=require cannot be met (strings from libpq.so.5). */
static void test_channel_binding_classified(void **state)
{
    static const char *const msgs[] = {
        "connection to server at \"127.0.0.1\", port 5432 failed: channel binding required, but "
        "server authenticated client without channel binding",
        "channel binding required but not supported by server's authentication request",
        "channel binding required, but SSL not in use",
        "channel binding is required, but server did not offer an authentication method that "
        "supports channel binding",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        struct dbssl_conn_diagnosis d = dbssl_conn_classify(msgs[i]);
        assert_int_equal(d.cls, DBSSL_CONN_AUTH_FAILED);
        assert_string_equal(dbssl_verify_reason_name(d.reason), "channel_binding_unavailable");
        assert_non_null(strstr(d.hint, "SCRAM-SHA-256-PLUS"));
    }
    /* a wrong password stays a wrong password */
    assert_int_equal(dbssl_conn_classify("password authentication failed for user \"app\"").reason,
                     DBSSL_VERIFY_NONE);
}

/* The failure's reason reaches the body although the class is not a certificate one. */
static void test_channel_binding_reason_in_body(void **state)
{
    const char *envp[] = {URL, "DB_SSL_MODE=require", "DB_SSL_CHANNEL_BINDING=require", NULL};
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_tls_state t;
    struct dbssl_snapshot *s;
    json_t *j, *e;

    (void)state;
    memset(&t, 0, sizeof(t));
    t.error_class = DBSSL_CONN_AUTH_FAILED;
    t.verify_reason = DBSSL_VERIFY_CHANNEL_BINDING_UNAVAILABLE;
    snprintf(t.error_message, sizeof(t.error_message), "could not connect to the server");
    snprintf(t.error_hint, sizeof(t.error_hint), "Use scram-sha-256.");
    s = tu_snapshot(cfg, &t, NULL, NOW, 0, NULL);
    j = body_of(s);
    e = json_object_get(j, "error");
    assert_string_equal(json_string_value(json_object_get(e, "class")), "authentication_failed");
    assert_string_equal(json_string_value(json_object_get(e, "reason")),
                        "channel_binding_unavailable");
    assert_string_equal(json_string_value(json_object_get(j, "channel_binding")), "require");
    json_decref(j);
    dbssl_snapshot_unref(s);
    dbssl_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counting),
        cmocka_unit_test(test_offenders_are_capped_not_lost),
        cmocka_unit_test(test_plaintext_session_degrades_and_names_the_client),
        cmocka_unit_test(test_enforce_needs_required),
        cmocka_unit_test(test_below_min_protocol_degrades),
        cmocka_unit_test(test_not_checked_is_never_ok),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_unread_is_null),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_channel_binding_classified),
        cmocka_unit_test(test_channel_binding_reason_in_body),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
