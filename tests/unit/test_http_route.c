/*
 * test_http_route.c - the route table and the refresh parameter, from the
 * data-driven cases in tests/data/http_route/cases.txt (one request a line:
 * method, path, query or "-", the endpoint and whether it refreshes).
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
    [DBSSL_EP_STATUS] = "status",
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_null_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
