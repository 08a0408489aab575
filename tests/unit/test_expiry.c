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
    assert_int_equal(dbssl_expiry_renew_at(0, 3 * SECONDS_PER_DAY), 2 * SECONDS_PER_DAY);
    assert_int_equal(dbssl_expiry_renew_at(NOT_BEFORE, NOT_AFTER),
                     NOT_BEFORE + (NOT_AFTER - NOT_BEFORE) * 2 / 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundary_table),
        cmocka_unit_test(test_renew_at_two_thirds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
