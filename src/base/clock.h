/*
 * clock.h - the one wall clock of dbssl: every question "what time is it?"
 * (certificate validity, expiry, renewal, reload and check times, log
 * timestamps) is answered by dbssl_now().
 *
 * Tests move time without sleeping.  The hook below is a weak, hidden
 * symbol that no shipped object defines: libdbssl.so and the dbssl program
 * resolve it to nothing, so nothing outside a test build can change their
 * clock.  The unit tests define it in tests/unit/testutil.c (tu_set_now);
 * the shell tests run dbssl-testclock, the same program linked with
 * tests/testclock.c, whose hook reads DBSSL_TEST_NOW and
 * DBSSL_TEST_NOW_FILE.  Intervals and deadlines (CLOCK_MONOTONIC) are not
 * wall-clock time and do not come from here.
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

#endif
