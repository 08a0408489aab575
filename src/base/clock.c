/*
 * clock.c - dbssl_now() and its test-only hook (see clock.h for why a weak
 * symbol: a test cannot set the clock of a shipped binary by any input).
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
