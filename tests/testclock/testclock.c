/*
 * testclock.c - the clock of dbssl-testclock, the dbssl program built for
 * the shell tests (tests/CMakeLists.txt): it defines clock.h's test hook,
 * which no shipped object does, so only this program moves its clock.
 *
 *   DBSSL_TEST_NOW=SECONDS       offset from the real clock ("-61200": 17 h
 *                                ago; "+7200", "0"), or "@EPOCH" for a fixed
 *                                time
 *   DBSSL_TEST_NOW_FILE=PATH     the same text, read from PATH at every
 *                                call: a test rewrites the file to move the
 *                                time of a running `serve`; wins over
 *                                DBSSL_TEST_NOW while it can be read
 *
 * Time keeps flowing with an offset, so that timestamps and intervals look
 * as they would at that moment.  Anything unreadable or malformed is the
 * real clock: a test then fails on what it sees, not here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "util.h"

static bool parse_now(const char *s, long long real, long long *out)
{
    long v;

    if (s == NULL)
        return false;
    if (s[0] == '@') {
        if (!parse_long(s + 1, 0, 253402300799L, &v)) /* up to 9999-12-31 */
            return false;
        *out = v;
        return true;
    }
    if (s[0] == '+')
        s++;
    if (!parse_long(s, -3153600000L, 3153600000L, &v)) /* a century either way */
        return false;
    *out = real + v;
    return true;
}

long long dbssl_clock_test_now(long long real)
{
    const char *file = getenv("DBSSL_TEST_NOW_FILE");
    long long t;

    if (file != NULL) {
        char buf[64] = "";
        FILE *f = fopen(file, "re");
        bool ok = false;
        if (f != NULL) {
            size_t n = fread(buf, 1, sizeof(buf) - 1, f);
            fclose(f);
            buf[n] = '\0';
            buf[strcspn(buf, "\r\n")] = '\0';
            ok = parse_now(buf, real, &t);
        }
        if (ok)
            return t;
    }
    return parse_now(getenv("DBSSL_TEST_NOW"), real, &t) ? t : real;
}
