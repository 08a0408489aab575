/*
 * test_expiry.c - the expiry boundaries, table-driven from
 * tests/data/expiry/cases.txt, and the renewal point.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "expiry.h"
#include "testutil.h"
#include "util.h"

#define NOT_AFTER  2000000000LL
#define NOT_BEFORE (NOT_AFTER - 365 * SECONDS_PER_DAY)

static void test_boundary_table(void **state)
{
    char path[4096], line[256];
    FILE *f;
    int cases = 0;

    (void)state;
    snprintf(path, sizeof(path), "%s/expiry/cases.txt", getenv("DBSSL_TEST_DATA"));
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        char base[8] = "", want[32];
        long long off, days, now;
        long warn;
        enum dbssl_expiry_state st;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (strncmp(line, "nb ", 3) == 0) {
            assert_int_equal(sscanf(line + 3, "%lld %ld %31s %lld", &off, &warn, want, &days), 4);
            snprintf(base, sizeof(base), "nb");
            now = NOT_BEFORE + off;
        } else {
            assert_int_equal(sscanf(line, "%lld %ld %31s %lld", &off, &warn, want, &days), 4);
            now = NOT_AFTER + off;
        }
        st = dbssl_expiry_state(NOT_BEFORE, NOT_AFTER, now, warn);
        if (strcmp(dbssl_expiry_state_name(st), want) != 0 ||
            dbssl_expiry_days_left(NOT_AFTER, now) != days)
            fail_msg("case \"%s\" %lld warn %ld: got %s %lld, want %s %lld", base, off, warn,
                     dbssl_expiry_state_name(st), dbssl_expiry_days_left(NOT_AFTER, now), want,
                     days);
        cases++;
    }
    fclose(f);
    assert_true(cases >= 15);
}

static void test_renew_at_two_thirds(void **state)
{
    (void)state;
    assert_int_equal(dbssl_expiry_renew_at(0, 3 * SECONDS_PER_DAY, 0), 2 * SECONDS_PER_DAY);
    assert_int_equal(dbssl_expiry_renew_at(NOT_BEFORE, NOT_AFTER, 0),
                     NOT_BEFORE + (NOT_AFTER - NOT_BEFORE) * 2 / 3);
    /* 365 days, warned 30 days ahead: two thirds (day 243) comes first */
    assert_int_equal(dbssl_expiry_renew_at(NOT_BEFORE, NOT_AFTER, 30),
                     NOT_BEFORE + (NOT_AFTER - NOT_BEFORE) * 2 / 3);
    /* a window as long as the configured validity is not heeded */
    assert_int_equal(dbssl_expiry_renew_window(20, 30), 0);
    assert_int_equal(dbssl_expiry_renew_window(30, 30), 0);
    assert_int_equal(dbssl_expiry_renew_window(31, 30), 30);
    assert_int_equal(dbssl_expiry_renew_window(365, 0), 0);
    /* a 1-day certificate under a 365-day configuration: due at once */
    assert_int_equal(dbssl_expiry_renew_at(0, SECONDS_PER_DAY, dbssl_expiry_renew_window(365, 30)),
                     SECONDS_PER_DAY - 30 * SECONDS_PER_DAY + 1);
}

/*
 * 60 days warned 30 days ahead: the window (day 30) comes before two thirds
 * (day 40), and renewal is due the very second the state turns "expiring",
 * so that health never reports a generated certificate expiring while serve
 * still waits to renew it.
 */
static void test_renew_at_the_warning_window(void **state)
{
    long long nb = NOT_AFTER - 60 * SECONDS_PER_DAY;
    long long at = dbssl_expiry_renew_at(nb, NOT_AFTER, dbssl_expiry_renew_window(60, 30));

    (void)state;
    assert_true(at < nb + (NOT_AFTER - nb) * 2 / 3);
    assert_int_equal(dbssl_expiry_state(nb, NOT_AFTER, at - 1, 30), DBSSL_EXPIRY_VALID);
    assert_int_equal(dbssl_expiry_state(nb, NOT_AFTER, at, 30), DBSSL_EXPIRY_EXPIRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundary_table),
        cmocka_unit_test(test_renew_at_two_thirds),
        cmocka_unit_test(test_renew_at_the_warning_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
