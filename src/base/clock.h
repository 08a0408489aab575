/*
 * clock.h - the clocks of dbssl.
 *
 * The one wall clock: every question "what time is it?" (certificate
 * validity, expiry, renewal, reload and check times, log timestamps) is
 * answered by dbssl_now().
 *
 * Tests move time without sleeping.  The hook below is a weak, hidden
 * symbol that no shipped object defines: libdbssl.so and the dbssl program
 * resolve it to nothing, so nothing outside a test build can change their
 * clock.  The unit tests define it in tests/unit/testutil.c (tu_set_now);
 * the shell tests run dbssl-testclock, the same program linked with
 * tests/testclock.c, whose hook reads DBSSL_TEST_NOW and
 * DBSSL_TEST_NOW_FILE.
 *
 * Intervals and deadlines are not wall-clock time: they are measured on the
 * monotonic clock (CLOCK_MONOTONIC), which a change of the system's time
 * does not move, by the dbssl_mono_* functions.  It is not injectable: a
 * test that needs time to pass for a deadline gives a short one.
 */
#ifndef DBSSL_CLOCK_H
#define DBSSL_CLOCK_H

/* Seconds since the epoch, now. */
long long dbssl_now(void);

/*
 * Test builds only: given the real time, the time dbssl_now() returns.
 * Declared weak and hidden in clock.c; never define it in src/.
 */
long long dbssl_clock_test_now(long long real);

#define MS_PER_SECOND 1000LL

/* Whole milliseconds on the monotonic clock: the clock of every deadline. */
long long dbssl_mono_ms(void);

/*
 * The same clock to the nanosecond, as fractional milliseconds: for
 * durations shown with sub-millisecond digits (latencies, check times).
 */
double dbssl_mono_fine_ms(void);

/*
 * The same clock read coarsely (CLOCK_MONOTONIC_COARSE: a few ms of
 * resolution, a tenth of the cost), for the request path, where it is read
 * per request and the deadlines are seconds.
 */
long long dbssl_mono_coarse_ms(void);

#endif
