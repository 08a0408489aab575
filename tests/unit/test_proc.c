/*
 * test_proc.c - running helper programs: stdin in, output and exit status
 * out, a deadline that really ends a hanging program, and the error for a
 * program that does not exist.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

static int run(const char *const *argv, const char *input, int timeout_s, int *status, char **out)
{
    struct dbssl_proc_run r = {argv, NULL, NULL, input, timeout_s};
    return dbssl_proc_run(&r, status, out, NULL);
}

static void test_input_reaches_program_and_output_comes_back(void **state)
{
    const char *argv[] = {"/bin/cat", NULL};
    char *out = NULL;
    int status = -2;

    (void)state;
    assert_int_equal(run(argv, "hello\nworld\n", 10, &status, &out), 0);
    assert_int_equal(status, 0);
    assert_string_equal(out, "hello\nworld\n");
    free(out);
}

static void test_large_input_does_not_deadlock(void **state)
{
    /* more than a pipe buffer each way: input and output must be pumped together */
    const char *argv[] = {"/bin/cat", NULL};
    size_t n = 200 * 1024;
    char *in = malloc(n + 1), *out = NULL;
    int status = -2;

    (void)state;
    assert_non_null(in);
    memset(in, 'x', n);
    in[n] = '\0';
    assert_int_equal(run(argv, in, 20, &status, &out), 0);
    assert_int_equal(status, 0);
    assert_non_null(out);
    /* output is capped, but the program ran to the end */
    assert_true(strlen(out) >= 64 * 1024);
    free(in);
    free(out);
}

static void test_exit_status_and_stderr(void **state)
{
    const char *argv[] = {"/bin/sh", "-c", "echo oops >&2; exit 3", NULL};
    char *out = NULL;
    int status = -2;

    (void)state;
    assert_int_equal(run(argv, NULL, 10, &status, &out), 0);
    assert_int_equal(status, 3);
    assert_string_equal(out, "oops\n");
    free(out);
}

static void test_environment_is_minimal(void **state)
{
    const char *argv[] = {"/bin/sh", "-c", "echo \"${PGPASSWORD-unset} $LC_ALL\"", NULL};
    char *out = NULL;
    int status = -2;

    (void)state;
    setenv("PGPASSWORD", "leak", 1);
    assert_int_equal(run(argv, NULL, 10, &status, &out), 0);
    unsetenv("PGPASSWORD");
    assert_string_equal(out, "unset C\n");
    free(out);
}

static void test_timeout_kills_the_program_and_its_children(void **state)
{
    /* the grandchild keeps the output pipe open: only killing the group ends it */
    const char *argv[] = {"/bin/sh", "-c", "sleep 30 & sleep 30", NULL};
    char *out = NULL;
    int status = -2;
    time_t t0 = time(NULL);

    (void)state;
    assert_int_equal(run(argv, NULL, 1, &status, &out), 0);
    assert_int_equal(status, -1);
    assert_true(time(NULL) - t0 < 10);
    free(out);
}

static void test_missing_program(void **state)
{
    const char *argv[] = {"/nonexistent/initdb", NULL};
    char *out = NULL;
    int status = -2;

    (void)state;
    assert_int_equal(run(argv, NULL, 10, &status, &out), 0);
    assert_int_equal(status, 127);
    assert_non_null(strstr(out, "could not execute \"/nonexistent/initdb\""));
    free(out);
}

static void test_unprivileged_user(void **state)
{
    struct dbssl_proc_user u;

    (void)state;
    assert_int_equal(dbssl_proc_user_unprivileged(&u, NULL), 0);
    assert_true(u.uid != 0);
    assert_int_equal(u.drop, geteuid() == 0);
    assert_true(dbssl_proc_user_can_use_dir(&u, "/tmp"));
    if (geteuid() == 0)
        assert_false(dbssl_proc_user_can_use_dir(&u, "/root"));
}

static void test_unknown_user(void **state)
{
    struct dbssl_proc_user u;
    struct dbssl_error e;

    (void)state;
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_proc_user_by_name("no-such-user-dbssl", &u, &e), -1);
    assert_string_equal(e.message, "system user \"no-such-user-dbssl\" does not exist");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_input_reaches_program_and_output_comes_back),
        cmocka_unit_test(test_large_input_does_not_deadlock),
        cmocka_unit_test(test_exit_status_and_stderr),
        cmocka_unit_test(test_environment_is_minimal),
        cmocka_unit_test(test_timeout_kills_the_program_and_its_children),
        cmocka_unit_test(test_missing_program),
        cmocka_unit_test(test_unprivileged_user),
        cmocka_unit_test(test_unknown_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
