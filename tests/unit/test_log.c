/*
 * test_log.c - the log line format (what an operator greps for) and the
 * checker's reconnect backoff schedule.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "checker.h"
#include "log.h"

static void test_text_line(void **state)
{
    const char *kv[] = {"server",  "127.0.0.1:5432",
                        "tls",     "TLSv1.3",
                        "reason",  NULL,
                        "message", "could not \"connect\" = no"};
    char *line =
        dbssl_log_format_line(DBSSL_LOG_TEXT, 1900000000LL, DBSSL_LOG_INFO, "connected", kv, 8);

    (void)state;
    assert_string_equal(line, "ts=2030-03-17T17:46:40Z level=info event=connected "
                              "server=127.0.0.1:5432 tls=TLSv1.3 "
                              "message=\"could not \\\"connect\\\" = no\"\n");
    free(line);
}

static void test_json_line(void **state)
{
    const char *kv[] = {"cause", "connection_refused", "reason", ""};
    char *line = dbssl_log_format_line(DBSSL_LOG_JSON, 1900000000LL, DBSSL_LOG_WARN, "lost", kv, 4);
    json_t *j;

    (void)state;
    assert_non_null(line);
    assert_int_equal(line[strlen(line) - 1], '\n');
    j = json_loads(line, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "event")), "lost");
    assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
    assert_string_equal(json_string_value(json_object_get(j, "cause")), "connection_refused");
    assert_null(json_object_get(j, "reason"));
    json_decref(j);
    free(line);
}

static void test_backoff_is_capped(void **state)
{
    long b = 0, seen[8];

    (void)state;
    for (int i = 0; i < 8; i++)
        seen[i] = b = dbssl_checker_next_backoff(b, 3600);
    assert_int_equal(seen[0], 1);
    assert_int_equal(seen[1], 2);
    assert_int_equal(seen[4], 16);
    assert_int_equal(seen[5], 30);
    assert_int_equal(seen[7], 30);
    /* never longer than the check interval */
    assert_int_equal(dbssl_checker_next_backoff(8, 10), 10);
    assert_int_equal(dbssl_checker_next_backoff(0, 1), 1);
    assert_int_equal(dbssl_checker_next_backoff(1, 1), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_line),
        cmocka_unit_test(test_json_line),
        cmocka_unit_test(test_backoff_is_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
