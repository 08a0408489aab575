/*
 * test_serverinfo.c - what does not need a server: when the health checker
 * reads the server's settings again (a slow refresh, never every check),
 * the JSON of settings and rules both ways, and the object the health
 * endpoint shows (the findings, not the rules; "not checked" states kept),
 * and a rule's netmask read bit by bit.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hbarules.h"
#include "serverinfo.h"
#include "testutil.h"

static void test_due(void **state)
{
    const long long t0 = 1800000000LL;

    (void)state;
    assert_true(dbssl_serverinfo_due(0, 0, t0)); /* never read */
    assert_false(dbssl_serverinfo_due(t0, 0, t0));
    assert_false(dbssl_serverinfo_due(t0, DBSSL_SERVERINFO_REFRESH_CHECKS - 1, t0 + 10));
    assert_true(dbssl_serverinfo_due(t0, DBSSL_SERVERINFO_REFRESH_CHECKS, t0 + 10));
    assert_false(dbssl_serverinfo_due(t0, 1, t0 + DBSSL_SERVERINFO_REFRESH_SECONDS - 1));
    assert_true(dbssl_serverinfo_due(t0, 1, t0 + DBSSL_SERVERINFO_REFRESH_SECONDS));
    /* a clock set back: read again rather than trust a time in the future */
    assert_true(dbssl_serverinfo_due(t0, 1, t0 - 60));
}

static void expect_mask(const char *mask, size_t bytes, int leading_ones, int prefix)
{
    struct dbssl_hba_netmask m;

    assert_true(dbssl_hba_netmask_parse(mask, &m));
    assert_int_equal(m.bytes, bytes);
    assert_int_equal(m.leading_ones, leading_ones);
    assert_int_equal(m.prefix, prefix);
}

/* Only a contiguous mask has a prefix length; any mask has its leading ones. */
static void test_netmask(void **state)
{
    struct dbssl_hba_netmask m;

    (void)state;
    expect_mask("255.255.255.255", 4, 32, 32);
    expect_mask("255.255.255.0", 4, 24, 24);
    expect_mask("255.254.0.0", 4, 15, 15);
    expect_mask("0.0.0.0", 4, 0, 0);
    expect_mask("255.255.0.255", 4, 16, -1);
    expect_mask("0.255.255.255", 4, 0, -1);
    expect_mask("255.255.255.254", 4, 31, 31);
    expect_mask("255.255.255.253", 4, 30, -1);
    expect_mask("ffff:ffff:ffff:ffff::", 16, 64, 64);
    expect_mask("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 16, 128, 128);
    expect_mask("::", 16, 0, 0);
    expect_mask("ffff::ffff", 16, 16, -1);
    assert_false(dbssl_hba_netmask_parse("", &m));
    assert_false(dbssl_hba_netmask_parse("255.255.255", &m));
    assert_false(dbssl_hba_netmask_parse("/24", &m));
    assert_false(dbssl_hba_netmask_parse("samenet", &m));
}

/* A role that sees ssl but not ssl_ciphers, and two rules, one of them open to the network. */
static void sample(struct dbssl_serverinfo *si)
{
    memset(si, 0, sizeof(*si));
    si->read_at = 1800000000LL;
    snprintf(si->role, sizeof(si->role), "app");
    si->server_version_num = 150010;
    si->settings = calloc(2, sizeof(*si->settings));
    si->n_settings = 2;
    snprintf(si->settings[0].name, sizeof(si->settings[0].name), "ssl");
    snprintf(si->settings[0].value, sizeof(si->settings[0].value), "on");
    snprintf(si->settings[1].name, sizeof(si->settings[1].name), "ssl_ciphers");
    si->settings[1].state = DBSSL_SI_NOT_CHECKED;
    snprintf(si->settings[1].privilege, sizeof(si->settings[1].privilege), "%s",
             DBSSL_SI_PRIV_SETTINGS);
    si->hba = calloc(2, sizeof(*si->hba));
    si->n_hba = 2;
    for (int i = 0; i < 2; i++) {
        struct dbssl_hba_rule *r = &si->hba[i];
        r->line_number = 90 + i;
        snprintf(r->type, sizeof(r->type), "%s", i ? "host" : "hostssl");
        snprintf(r->database, sizeof(r->database), "all");
        snprintf(r->user_name, sizeof(r->user_name), "all");
        snprintf(r->address, sizeof(r->address), "0.0.0.0");
        snprintf(r->netmask, sizeof(r->netmask), "0.0.0.0");
        snprintf(r->auth_method, sizeof(r->auth_method), "scram-sha-256");
        dbssl_hba_rule_rebuild(r, r->line, sizeof(r->line));
    }
}

static void test_json_roundtrip(void **state)
{
    struct dbssl_serverinfo si, back;
    struct dbssl_error e;
    json_t *a, *b;

    (void)state;
    sample(&si);
    a = dbssl_serverinfo_to_json(&si);
    assert_non_null(a);
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_serverinfo_from_json(a, &back, &e), 0);
    b = dbssl_serverinfo_to_json(&back);
    assert_true(json_equal(a, b));
    assert_int_equal(back.settings[1].state, DBSSL_SI_NOT_CHECKED);
    assert_string_equal(back.hba[1].line, "host all all 0.0.0.0/0 scram-sha-256");
    /* a state that is not one of the names is refused, not read as "read" */
    json_object_set_new(json_array_get(json_object_get(a, "settings"), 0), "state",
                        json_string("passed"));
    dbssl_serverinfo_free(&back);
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_serverinfo_from_json(a, &back, &e), -1);
    assert_string_equal(e.message, "server settings: field \"state\" is not one of its names");
    json_decref(a);
    json_decref(b);
    dbssl_serverinfo_free(&si);
}

static void test_health_object(void **state)
{
    struct dbssl_serverinfo si;
    json_t *j;
    char *s;

    (void)state;
    sample(&si);
    j = dbssl_server_settings_json(&si, false);
    assert_non_null(j);
    assert_null(json_object_get(j, "hba"));
    assert_int_equal(json_integer_value(json_object_get(j, "hba_rules")), 2);
    s = json_dumps(json_object_get(j, "hba_findings"), JSON_COMPACT);
    assert_string_equal(s, "[{\"check\":\"plaintext_network\",\"severity\":\"fail\","
                           "\"line_number\":91,\"line\":\"host all all 0.0.0.0/0 scram-sha-256\","
                           "\"why\":\"host accepts TCP sessions without TLS from 0.0.0.0/0\"}]");
    free(s);
    s = json_dumps(json_array_get(json_object_get(j, "settings"), 1), JSON_COMPACT);
    assert_string_equal(s, "{\"name\":\"ssl_ciphers\",\"state\":\"not_checked\",\"value\":null,"
                           "\"privilege\":\"pg_read_all_settings (or superuser)\"}");
    free(s);
    json_decref(j);
    /* rules the role may not read: no findings to show, null rather than an empty list */
    si.hba_state = DBSSL_SI_NOT_CHECKED;
    j = dbssl_server_settings_json(&si, true);
    assert_true(json_is_null(json_object_get(j, "hba_findings")));
    json_decref(j);
    dbssl_serverinfo_free(&si);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due),
        cmocka_unit_test(test_json_roundtrip),
        cmocka_unit_test(test_health_object),
        cmocka_unit_test(test_netmask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
