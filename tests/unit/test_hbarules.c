/*
 * test_hbarules.c - the judgement of pg_hba.conf rules (hbarules.c),
 * data-driven: each case of tests/data/hbarules/<case>/ is a rules.tsv (the
 * columns of pg_hba_file_rules) and a policy ("mutual_tls" or
 * "no_client_cert"); the expected output is each rule rebuilt as a line and
 * every finding.  Plus the address classification and the line rebuilding
 * on their own, and the JSON of findings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hbarules.h"
#include "testutil.h"
#include "util.h"

static void field(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", strcmp(src, "-") == 0 ? "" : src);
}

/* rules.tsv of the case directory (the working directory) */
static size_t read_rules(struct dbssl_hba_rule *rules, size_t max)
{
    FILE *f = fopen("rules.tsv", "r");
    char line[2048];
    size_t n = 0;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL && n < max) {
        char *col[9], *p = line;
        struct dbssl_hba_rule *r = &rules[n];
        size_t k = 0;
        long num;
        if (line[0] == '#')
            continue;
        line[strcspn(line, "\n")] = '\0';
        for (; k < 9 && p != NULL; k++) {
            col[k] = p;
            if ((p = strchr(p, '\t')) != NULL)
                *p++ = '\0';
        }
        assert_int_equal(k, 9);
        assert_null(p);
        memset(r, 0, sizeof(*r));
        assert_true(parse_long(col[0], 1, 100000, &num));
        r->line_number = (int)num;
        field(r->type, sizeof(r->type), col[1]);
        field(r->database, sizeof(r->database), col[2]);
        field(r->user_name, sizeof(r->user_name), col[3]);
        field(r->address, sizeof(r->address), col[4]);
        field(r->netmask, sizeof(r->netmask), col[5]);
        field(r->auth_method, sizeof(r->auth_method), col[6]);
        field(r->options, sizeof(r->options), col[7]);
        field(r->error, sizeof(r->error), col[8]);
        dbssl_hba_rule_rebuild(r, r->line, sizeof(r->line));
        n++;
    }
    fclose(f);
    return n;
}

static char *run_case(const char *name)
{
    struct dbssl_hba_rule rules[64];
    struct dbssl_hba_findings hf;
    struct strbuf sb;
    char policy[64] = "";
    FILE *f = fopen("policy", "r");
    size_t n;

    (void)name;
    assert_non_null(f);
    assert_non_null(fgets(policy, sizeof(policy), f));
    fclose(f);
    policy[strcspn(policy, "\n")] = '\0';
    n = read_rules(rules, 64);
    assert_int_equal(dbssl_hba_check(rules, n, strcmp(policy, "mutual_tls") == 0, &hf, NULL), 0);
    strbuf_init(&sb);
    for (size_t i = 0; i < n; i++) {
        strbuf_printf(&sb, "%d: %s\n", rules[i].line_number, rules[i].line);
        for (size_t k = 0; k < hf.n; k++)
            if (hf.v[k].line_number == rules[i].line_number)
                strbuf_printf(&sb, "  %s %s: %s\n", hf.v[k].fail ? "fail" : "warn",
                              dbssl_hba_check_name(hf.v[k].check), hf.v[k].why);
    }
    dbssl_hba_findings_free(&hf);
    return strbuf_take(&sb);
}

static void test_cases(void **state)
{
    (void)state;
    tu_data_cases("hbarules", run_case, 3);
}

static void test_address_local(void **state)
{
    (void)state;
    assert_true(dbssl_hba_address_local("127.0.0.1", "255.255.255.255"));
    assert_true(dbssl_hba_address_local("127.1.2.3", ""));
    assert_true(dbssl_hba_address_local("127.0.0.0", "255.0.0.0"));
    assert_true(dbssl_hba_address_local("::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    assert_true(dbssl_hba_address_local("::ffff:127.0.0.1", ""));
    assert_true(dbssl_hba_address_local("LOCALHOST", ""));
    assert_true(dbssl_hba_address_local("samehost", ""));
    /* 126.0.0.0/7 reaches 126/8 as well */
    assert_false(dbssl_hba_address_local("127.0.0.0", "254.0.0.0"));
    assert_false(dbssl_hba_address_local("::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0"));
    assert_false(dbssl_hba_address_local("::", "::"));
    assert_false(dbssl_hba_address_local("0.0.0.0", "0.0.0.0"));
    assert_false(dbssl_hba_address_local("all", ""));
    assert_false(dbssl_hba_address_local("samenet", ""));
    assert_false(dbssl_hba_address_local("127.example.com", ""));
    /* a netmask of the other family is no loopback */
    assert_false(dbssl_hba_address_local("127.0.0.1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
}

static void test_rebuild(void **state)
{
    struct dbssl_hba_rule r;
    char out[1024];

    (void)state;
    memset(&r, 0, sizeof(r));
    snprintf(r.type, sizeof(r.type), "hostssl");
    snprintf(r.database, sizeof(r.database), "app,reports");
    snprintf(r.user_name, sizeof(r.user_name), "+staff");
    snprintf(r.address, sizeof(r.address), "fe80::");
    snprintf(r.netmask, sizeof(r.netmask), "ffff:ffff:ffff:ffff::");
    snprintf(r.auth_method, sizeof(r.auth_method), "scram-sha-256");
    snprintf(r.options, sizeof(r.options), "clientcert=verify-full");
    dbssl_hba_rule_rebuild(&r, out, sizeof(out));
    assert_string_equal(out, "hostssl app,reports +staff fe80::/64 scram-sha-256 "
                             "clientcert=verify-full");
    snprintf(r.netmask, sizeof(r.netmask), "255.0.255.0");
    snprintf(r.address, sizeof(r.address), "10.0.0.0");
    r.options[0] = '\0';
    dbssl_hba_rule_rebuild(&r, out, sizeof(out));
    assert_string_equal(out, "hostssl app,reports +staff 10.0.0.0 255.0.255.0 scram-sha-256");
}

static void test_findings_json(void **state)
{
    struct dbssl_hba_rule r;
    struct dbssl_hba_findings hf;
    json_t *j;
    char *s;

    (void)state;
    memset(&r, 0, sizeof(r));
    r.line_number = 3;
    snprintf(r.type, sizeof(r.type), "host");
    snprintf(r.database, sizeof(r.database), "all");
    snprintf(r.user_name, sizeof(r.user_name), "all");
    snprintf(r.address, sizeof(r.address), "0.0.0.0");
    snprintf(r.netmask, sizeof(r.netmask), "0.0.0.0");
    snprintf(r.auth_method, sizeof(r.auth_method), "scram-sha-256");
    dbssl_hba_rule_rebuild(&r, r.line, sizeof(r.line));
    assert_int_equal(dbssl_hba_check(&r, 1, false, &hf, NULL), 0);
    j = dbssl_hba_findings_to_json(&hf);
    s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "[{\"check\":\"plaintext_network\",\"severity\":\"fail\","
                           "\"line_number\":3,\"line\":\"host all all 0.0.0.0/0 scram-sha-256\","
                           "\"why\":\"host accepts TCP sessions without TLS from 0.0.0.0/0\"}]");
    free(s);
    json_decref(j);
    dbssl_hba_findings_free(&hf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_address_local),
        cmocka_unit_test(test_rebuild),
        cmocka_unit_test(test_findings_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
