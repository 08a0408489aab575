/*
 * test_error.c - struct dbssl_error as an application uses it: only the
 * public header (the type is opaque there), created and freed, read through
 * the getters; first error wins for the whole error, detail included; the
 * exit-status contract of dbssl_error_exit_status().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "dbssl/error.h"

static void assert_empty(const struct dbssl_error *e)
{
    assert_int_equal(dbssl_error_code(e), DBSSL_OK);
    assert_string_equal(dbssl_error_message(e), "");
    assert_string_equal(dbssl_error_detail(e), "");
    assert_string_equal(dbssl_error_hint(e), "");
}

static void test_new_free_and_null(void **state)
{
    struct dbssl_error *e = dbssl_error_new();

    (void)state;
    assert_non_null(e);
    assert_empty(e);
    dbssl_error_free(e);
    dbssl_error_free(NULL);
    /* a NULL error reads as an empty one, and setting it is a no-op */
    assert_empty(NULL);
    dbssl_error_set(NULL, DBSSL_ERR_IO, "hint", "message %d", 1);
    dbssl_error_setx(NULL, DBSSL_ERR_IO, "detail", "hint", "message %d", 1);
    dbssl_error_clear(NULL);
}

static void test_set_and_setx(void **state)
{
    struct dbssl_error *e = dbssl_error_new();

    (void)state;
    assert_non_null(e);
    dbssl_error_set(e, DBSSL_ERR_CONFIG, NULL, "invalid DB_SSL_MODE \"%s\"", "fast");
    assert_int_equal(dbssl_error_code(e), DBSSL_ERR_CONFIG);
    assert_string_equal(dbssl_error_message(e), "invalid DB_SSL_MODE \"fast\"");
    assert_string_equal(dbssl_error_detail(e), "");
    assert_string_equal(dbssl_error_hint(e), ""); /* NULL hint: "", never NULL */

    dbssl_error_clear(e);
    assert_empty(e);
    dbssl_error_setx(e, DBSSL_ERR_CONNECT, "connection to server at \"127.0.0.1\" failed",
                     "Check that PostgreSQL is running.", "could not connect to the %s", "server");
    assert_int_equal(dbssl_error_code(e), DBSSL_ERR_CONNECT);
    assert_string_equal(dbssl_error_message(e), "could not connect to the server");
    assert_string_equal(dbssl_error_detail(e), "connection to server at \"127.0.0.1\" failed");
    assert_string_equal(dbssl_error_hint(e), "Check that PostgreSQL is running.");
    dbssl_error_free(e);
}

static void test_first_error_wins_whole(void **state)
{
    struct dbssl_error *e = dbssl_error_new();

    (void)state;
    assert_non_null(e);
    /* the root cause has no detail: a later error must not lend it one */
    dbssl_error_set(e, DBSSL_ERR_IO, "Check the path.", "could not read \"%s\"", "a.crt");
    dbssl_error_setx(e, DBSSL_ERR_CERT, "later detail", "later hint", "later message");
    dbssl_error_set(e, DBSSL_ERR_INTERNAL, "other hint", "other message");
    assert_int_equal(dbssl_error_code(e), DBSSL_ERR_IO);
    assert_string_equal(dbssl_error_message(e), "could not read \"a.crt\"");
    assert_string_equal(dbssl_error_detail(e), "");
    assert_string_equal(dbssl_error_hint(e), "Check the path.");

    /* the root cause has a detail: it is kept, not replaced */
    dbssl_error_clear(e);
    dbssl_error_setx(e, DBSSL_ERR_CONNECT, "first detail", NULL, "first");
    dbssl_error_setx(e, DBSSL_ERR_CONNECT, "second detail", "second hint", "second");
    assert_string_equal(dbssl_error_message(e), "first");
    assert_string_equal(dbssl_error_detail(e), "first detail");
    assert_string_equal(dbssl_error_hint(e), "");
    dbssl_error_free(e);
}

static void test_long_parts_are_truncated(void **state)
{
    struct dbssl_error *e = dbssl_error_new();
    size_t n = 10000;
    char *big = malloc(n + 1);

    (void)state;
    assert_non_null(e);
    assert_non_null(big);
    memset(big, 'x', n);
    big[n] = '\0';
    dbssl_error_setx(e, DBSSL_ERR_INTERNAL, big, big, "%s", big);
    /* bounded, terminated, and a prefix of what was given */
    assert_true(strlen(dbssl_error_message(e)) > 100 && strlen(dbssl_error_message(e)) < n);
    assert_true(strlen(dbssl_error_detail(e)) > 100 && strlen(dbssl_error_detail(e)) < n);
    assert_true(strlen(dbssl_error_hint(e)) > 100 && strlen(dbssl_error_hint(e)) < n);
    assert_int_equal(strncmp(dbssl_error_detail(e), big, strlen(dbssl_error_detail(e))), 0);
    free(big);
    dbssl_error_free(e);
}

static void test_strerror_and_exit_status(void **state)
{
    static const struct {
        enum dbssl_errcode code;
        int status;
    } contract[] = {
        {DBSSL_OK, 0},     {DBSSL_ERR_NOMEM, 1}, {DBSSL_ERR_USAGE, 2},   {DBSSL_ERR_CONFIG, 2},
        {DBSSL_ERR_IO, 1}, {DBSSL_ERR_CERT, 2},  {DBSSL_ERR_CONNECT, 1}, {DBSSL_ERR_INTERNAL, 1},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(contract) / sizeof(contract[0]); i++) {
        assert_int_equal(dbssl_error_exit_status(contract[i].code), contract[i].status);
        assert_non_null(dbssl_strerror(contract[i].code));
        assert_true(dbssl_strerror(contract[i].code)[0] != '\0');
    }
    assert_string_equal(dbssl_strerror(DBSSL_ERR_LAST), "unknown error");
    assert_string_equal(dbssl_strerror((enum dbssl_errcode)99), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_free_and_null),
        cmocka_unit_test(test_set_and_setx),
        cmocka_unit_test(test_first_error_wins_whole),
        cmocka_unit_test(test_long_parts_are_truncated),
        cmocka_unit_test(test_strerror_and_exit_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
