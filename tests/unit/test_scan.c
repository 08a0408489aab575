/*
 * test_scan.c - the scanner's pure parts: grading against the profiles,
 * table-driven from tests/data/scan/<case>/ (a scan result as `dbssl scan
 * --json` writes it, the profile, and the expected findings), the JSON form
 * read back, and HOST[:PORT] parsing.  The scanning itself is tested
 * against real servers with sslscan as the oracle
 * (tests/integration/test_scan.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/x509.h>

#include "scan/scan.h"
#include "scan/scan_profile.h"
#include "testutil.h"
#include "util.h"

#define WARN_DAYS 30

static struct dbssl_scan_result *load_scan(const char *path)
{
    struct dbssl_error e;
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    struct dbssl_scan_result *r;

    if (j == NULL)
        fail_msg("%s: %s", path, je.text);
    dbssl_error_clear(&e);
    r = dbssl_scan_from_json(j, &e);
    if (r == NULL)
        fail_msg("%s: %s", path, e.message);
    json_decref(j);
    return r;
}

/* The case's profile: the first line of ./profile that is not a comment. */
static const struct dbssl_tls_profile *case_profile(void)
{
    char line[128] = "";
    FILE *f = fopen("profile", "r");

    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL && line[0] == '#')
        ;
    fclose(f);
    line[strcspn(line, "\n")] = '\0';
    return dbssl_tls_profile_find(line);
}

/* The grade as the lines of the case's "expected" file. */
static char *run_grade(const char *name)
{
    const struct dbssl_tls_profile *p = case_profile();
    struct dbssl_scan_result *r = load_scan("scan.json");
    struct dbssl_scan_grade g;
    struct strbuf sb;

    (void)name;
    assert_non_null(p);
    assert_int_equal(dbssl_scan_grade(r, p, WARN_DAYS, &g, NULL), 0);
    strbuf_init(&sb);
    strbuf_printf(&sb, "profile %s: %s\n", p->name, g.passed ? "met" : "not met");
    for (size_t i = 0; i < g.n; i++) {
        const struct dbssl_scan_finding *f = &g.v[i];
        strbuf_printf(&sb, "%s %s: %s\n", dbssl_scan_severity_name(f->severity), f->id, f->message);
        for (size_t k = 0; k < f->n_items; k++)
            strbuf_printf(&sb, "  %s%s%s\n", f->items[k].name, f->items[k].why[0] ? ": " : "",
                          f->items[k].why);
        if (f->fix[0])
            strbuf_printf(&sb, "  fix: %s\n", f->fix);
        /* every finding tells what to do */
        assert_true(f->hint[0] != '\0');
    }
    dbssl_scan_grade_free(&g);
    dbssl_scan_result_free(r);
    return strbuf_take(&sb);
}

static void test_grading_cases(void **state)
{
    (void)state;
    tu_data_cases("scan", run_grade, 20);
}

static char *dump(const struct dbssl_scan_result *r)
{
    json_t *j = dbssl_scan_to_json(r, NULL, WARN_DAYS);
    char *s;

    assert_non_null(j);
    s = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(1));
    json_decref(j);
    assert_non_null(s);
    return s;
}

/* What `dbssl scan --json` wrote reads back to the same JSON, byte for byte. */
static void test_json_round_trip(void **state)
{
    static const char *const captured[] = {"pg-default-intermediate", "guide-intermediate",
                                           "pgconfig-intermediate", "pgconfig-system-store"};
    const char *data = getenv("DBSSL_TEST_DATA");

    (void)state;
    for (size_t i = 0; i < sizeof(captured) / sizeof(captured[0]); i++) {
        char path[4096];
        json_t *file;
        char *want, *got;
        struct dbssl_scan_result *r;

        snprintf(path, sizeof(path), "%s/scan/%s/scan.json", data, captured[i]);
        file = json_load_file(path, 0, NULL);
        assert_non_null(file);
        want = json_dumps(file, JSON_SORT_KEYS | JSON_INDENT(1));
        r = load_scan(path);
        got = dump(r);
        if (strcmp(want, got) != 0)
            fail_msg("%s does not read back the same:\n%s\n---\n%s", captured[i], want, got);
        free(want);
        free(got);
        json_decref(file);
        dbssl_scan_result_free(r);
    }
}

/* The grade is part of the JSON, with the profile's source. */
static void test_json_grade(void **state)
{
    char path[4096];
    struct dbssl_scan_result *r;
    struct dbssl_scan_grade g;
    json_t *j, *grade, *f0;

    (void)state;
    snprintf(path, sizeof(path), "%s/scan/pg-default-intermediate/scan.json",
             getenv("DBSSL_TEST_DATA"));
    r = load_scan(path);
    assert_int_equal(
        dbssl_scan_grade(r, dbssl_tls_profile_find("intermediate"), WARN_DAYS, &g, NULL), 0);
    j = dbssl_scan_to_json(r, &g, WARN_DAYS);
    grade = json_object_get(j, "grade");
    assert_string_equal(json_string_value(json_object_get(grade, "source")),
                        DBSSL_TLS_PROFILE_SOURCE);
    assert_true(json_is_false(json_object_get(grade, "passed")));
    f0 = json_array_get(json_object_get(grade, "findings"), 0);
    assert_string_equal(json_string_value(json_object_get(f0, "id")), "tls12_suites");
    assert_string_equal(json_string_value(json_object_get(f0, "severity")), "fail");
    assert_int_equal(json_array_size(json_object_get(f0, "items")), 12);
    json_decref(j);
    dbssl_scan_grade_free(&g);
    dbssl_scan_result_free(r);
}

static void test_json_errors(void **state)
{
    struct dbssl_error e;
    json_t *j = json_pack("{s:s, s:i}", "host", "db", "port", 5432);

    (void)state;
    dbssl_error_clear(&e);
    assert_null(dbssl_scan_from_json(j, &e));
    assert_int_equal(e.code, DBSSL_ERR_USAGE);
    assert_non_null(strstr(e.message, "field \"address\""));
    json_decref(j);
}

static void test_parse_target(void **state)
{
    static const struct {
        const char *in;
        const char *host; /* NULL: invalid */
        int port;
    } cases[] = {
        {"db.example.com", "db.example.com", 5432},
        {"db:6432", "db", 6432},
        {"127.0.0.1:5433", "127.0.0.1", 5433},
        {"[::1]:5433", "::1", 5433},
        {"[::1]", "::1", 5432},
        {"::1", "::1", 5432},
        {"fe80::1:2", "fe80::1:2", 5432},
        {"", NULL, 0},
        {":5432", NULL, 0},
        {"db:0", NULL, 0},
        {"db:65536", NULL, 0},
        {"db:54x", NULL, 0},
        {"db:", NULL, 0},
        {"[::1", NULL, 0},
        {"[::1]5432", NULL, 0},
        {"[]:5432", NULL, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char host[256], msg[256];
        int port = -1;
        bool ok = dbssl_scan_parse_target(cases[i].in, host, sizeof(host), &port, msg, sizeof(msg));
        if (ok != (cases[i].host != NULL))
            fail_msg("\"%s\": %s", cases[i].in, ok ? "accepted" : msg);
        if (ok && (strcmp(host, cases[i].host) != 0 || port != cases[i].port))
            fail_msg("\"%s\": got %s port %d", cases[i].in, host, port);
        if (!ok)
            assert_true(msg[0] != '\0');
    }
}

static void test_profiles(void **state)
{
    const struct dbssl_tls_profile *p = dbssl_tls_profile_find(DBSSL_TLS_PROFILE_DEFAULT);

    (void)state;
    assert_non_null(p);
    assert_string_equal(p->name, "intermediate");
    assert_non_null(dbssl_tls_profile_find("modern"));
    assert_non_null(dbssl_tls_profile_find("compat"));
    assert_null(dbssl_tls_profile_find("old"));
    assert_null(dbssl_tls_profile_find(NULL));
    /* pg-config writes the suites the scan allows */
    assert_string_equal(p->pg_ciphers, p->tls12_suites);
    assert_true(dbssl_tls_list_has(p->tls12_suites, "ECDHE-ECDSA-AES128-GCM-SHA256"));
    assert_true(dbssl_tls_list_has(p->tls12_suites, "DHE-RSA-CHACHA20-POLY1305"));
    assert_false(dbssl_tls_list_has(p->tls12_suites, "ECDHE-ECDSA-AES128-GCM"));
    assert_false(dbssl_tls_list_has(p->tls12_suites, "ECDHE-ECDSA-AES128-SHA"));
    assert_string_equal(dbssl_tls_pg_version(DBSSL_SCAN_TLS1_0), "TLSv1");
    assert_string_equal(dbssl_tls_pg_version(DBSSL_SCAN_TLS1_3), "TLSv1.3");
    assert_null(dbssl_tls_profile_find("intermediate")->warning);
    assert_non_null(strstr(dbssl_tls_profile_find("compat")->warning, "CCM8"));
    assert_string_equal(dbssl_tls_profile_find("compat")->pg_ciphers, "HIGH:!aNULL:!MD5");
}

/*
 * The scanner's trust store comes from x509's one loader of CA files: a file
 * validation refuses (text after the last PEM block) is refused, naming it;
 * no file means the system's default locations.
 */
static void test_ca_store(void **state)
{
    char dir[] = "/tmp/dbssl-test-scan.XXXXXX";
    struct dbssl_error e;
    struct x509_store_st *store;
    char *pem = NULL, *junk;
    size_t len = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    tu_make_client_pki(dir, "scan ca");
    dbssl_error_clear(&e);
    store = dbssl_ca_store_new(&FILE_AT_PATH(tu_path(dir, "ca.crt")), &e);
    assert_non_null(store);
    X509_STORE_free(store);

    assert_int_equal(read_file(tu_path(dir, "ca.crt"), "CA", 1 << 20, &pem, &len, NULL), 0);
    junk = xasprintf("%snot a certificate\n", pem);
    assert_non_null(junk);
    tu_write(tu_path(dir, "junk.crt"), junk, 0644);
    store = dbssl_ca_store_new(&FILE_AT_PATH(tu_path(dir, "junk.crt")), &e);
    assert_null(store);
    assert_non_null(strstr(e.message, "junk.crt"));

    dbssl_error_clear(&e);
    store = dbssl_ca_store_new(NULL, &e);
    assert_non_null(store);
    X509_STORE_free(store);
    free(pem);
    free(junk);
    assert_int_equal(remove_tree_at(AT_FDCWD, dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grading_cases), cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_grade),    cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_parse_target),  cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_ca_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
