/*
 * test_http_route.c - the route table and the refresh parameter, from the
 * data-driven cases in tests/data/http_route/cases.txt (one request a line:
 * method, path, query or "-", the endpoint and whether it refreshes), and the
 * decoding of /probe's parameters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "http_route.h"

static const char *const endpoint_names[] = {
    [DBSSL_EP_NOT_FOUND] = "not_found",
    [DBSSL_EP_NOT_ALLOWED] = "not_allowed",
    [DBSSL_EP_SSL] = "ssl",
    [DBSSL_EP_DATABASE] = "database",
    [DBSSL_EP_ALIVE] = "alive",
    [DBSSL_EP_READY] = "ready",
    [DBSSL_EP_METRICS] = "metrics",
    [DBSSL_EP_PROBE] = "probe",
    [DBSSL_EP_PROBE_OVERVIEW] = "probe_overview",
};

static void test_cases(void **state)
{
    char path[4096], line[512];
    FILE *f;
    int n = 0;

    (void)state;
    snprintf(path, sizeof(path), "%s/http_route/cases.txt", getenv("DBSSL_TEST_DATA"));
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        char method[32], target[256], query[256], want[32];
        int refresh;
        struct dbssl_http_route r;

        if (line[0] == '#' || line[0] == '\n')
            continue;
        assert_int_equal(
            sscanf(line, "%31s %255s %255s %31s %d", method, target, query, want, &refresh), 5);
        r = dbssl_http_route(method, target, strcmp(query, "-") == 0 ? NULL : query);
        if (strcmp(endpoint_names[r.endpoint], want) != 0 || r.refresh != (refresh != 0))
            fail_msg("%s %s ? %s: got %s refresh=%d, want %s refresh=%d", method, target, query,
                     endpoint_names[r.endpoint], r.refresh, want, refresh);
        n++;
    }
    fclose(f);
    assert_true(n >= 30);
}

static void test_null_inputs(void **state)
{
    (void)state;
    assert_int_equal(dbssl_http_route(NULL, "/health", NULL).endpoint, DBSSL_EP_NOT_FOUND);
    assert_int_equal(dbssl_http_route("GET", NULL, NULL).endpoint, DBSSL_EP_NOT_FOUND);
    assert_false(dbssl_http_query_refresh(NULL));
    assert_false(dbssl_http_query_refresh(""));
    assert_false(dbssl_http_query_refresh("&&&"));
    assert_true(dbssl_http_query_refresh("&&refresh=1&&"));
}

/* /probe's target and module: decoded as libmicrohttpd would, refused when cut or NUL-bearing. */
static void test_query_param(void **state)
{
    char v[16];

    (void)state;
    assert_true(dbssl_http_query_param("target=127.0.0.1:5432", "target", v, sizeof(v)));
    assert_string_equal(v, "127.0.0.1:5432");
    assert_true(dbssl_http_query_param("module=tls&target=%5B%3A%3A1%5D", "target", v, 16));
    assert_string_equal(v, "[::1]");
    assert_true(dbssl_http_query_param("TARGET=a+b&target=c", "target", v, sizeof(v)));
    assert_string_equal(v, "a b"); /* the first, its name without case */
    assert_true(dbssl_http_query_param("target=", "target", v, sizeof(v)));
    assert_string_equal(v, "");
    assert_true(dbssl_http_query_param("target", "target", v, sizeof(v)));
    assert_string_equal(v, "");
    assert_true(dbssl_http_query_param("target=%zz%4", "target", v, sizeof(v)));
    assert_string_equal(v, "%zz%4"); /* malformed escapes kept as they are */
    assert_false(dbssl_http_query_param("target=a%00b", "target", v, sizeof(v)));
    assert_false(dbssl_http_query_param("target=0123456789abcdef", "target", v, sizeof(v)));
    assert_true(dbssl_http_query_param("target=0123456789abcde", "target", v, sizeof(v)));
    assert_false(dbssl_http_query_param("targets=x", "target", v, sizeof(v)));
    assert_false(dbssl_http_query_param(NULL, "target", v, sizeof(v)));
    assert_false(dbssl_http_query_param("", "target", v, sizeof(v)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_null_inputs),
        cmocka_unit_test(test_query_param),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
