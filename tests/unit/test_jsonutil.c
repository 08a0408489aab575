/*
 * test_jsonutil.c - the one JSON form of a time (dbssl_json_time(), which
 * every JSON body and DBSSL_JF_TIME use): null only for 0, the "unknown"
 * of every time dbssl keeps; a date before 1970 (a certificate's notBefore
 * may be one) is a date, and reads back as the same date.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>

#include "testutil.h"

#include "jsonutil.h"

static void expect_time(long long t, const char *want)
{
    json_t *j = dbssl_json_time(t);

    assert_non_null(j);
    if (want == NULL)
        assert_true(json_is_null(j));
    else
        assert_string_equal(json_string_value(j), want);
    json_decref(j);
}

static void test_json_time(void **state)
{
    (void)state;
    expect_time(0, NULL);
    expect_time(1900000000LL, "2030-03-17T17:46:40Z");
    expect_time(1, "1970-01-01T00:00:01Z");
    expect_time(-1, "1969-12-31T23:59:59Z");
    expect_time(-631152000LL, "1950-01-01T00:00:00Z");
}

struct dated {
    long long at;
};

static const struct dbssl_jf dated_fields[] = {
    DBSSL_JF_TIME(struct dated, at),
    DBSSL_JF_END,
};

/* Through a field table and back: the same time, also before 1970; 0 as null. */
static void test_time_field_round_trip(void **state)
{
    static const long long times[] = {0, 1900000000LL, -631152000LL};

    (void)state;
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        struct dated in = {times[i]}, out = {12345};
        json_t *j = dbssl_jf_to_json(dated_fields, &in);

        assert_non_null(j);
        assert_true(times[i] == 0 ? json_is_null(json_object_get(j, "at"))
                                  : json_is_string(json_object_get(j, "at")));
        assert_int_equal(dbssl_jf_from_json(dated_fields, j, &out, "a date", NULL), 0);
        assert_true(out.at == times[i]);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_time),
        cmocka_unit_test(test_time_field_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
