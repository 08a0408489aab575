/*
 * clock.c - dbssl_now() and its test-only hook (see clock.h for why a weak
 * symbol: a test cannot set the clock of a shipped binary by any input),
 * and the monotonic clock of deadlines and durations.
 */
#include "clock.h"

#include <time.h>

/* hidden: the shared library cannot take a definition from the program or another library */
extern long long dbssl_clock_test_now(long long real) __attribute__((weak, visibility("hidden")));

long long dbssl_now(void)
{
    long long real = (long long)time(NULL);

    return dbssl_clock_test_now != NULL ? dbssl_clock_test_now(real) : real;
}

static long long whole_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (long long)ts.tv_sec * MS_PER_SECOND + ts.tv_nsec / 1000000;
}

long long dbssl_mono_ms(void)
{
    return whole_ms(CLOCK_MONOTONIC);
}

long long dbssl_mono_coarse_ms(void)
{
    return whole_ms(CLOCK_MONOTONIC_COARSE);
}

double dbssl_mono_fine_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}
