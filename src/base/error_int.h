/*
 * error_int.h - struct dbssl_error as dbssl's own modules see it.
 *
 * Applications only get the opaque type and its getters (dbssl/error.h), so
 * that a field can be added without breaking their ABI; inside the library
 * the fixed arrays let every function keep its error on the stack, without
 * an allocation that could itself fail while reporting a failure (as libpq's
 * libpq-int.h does for PGconn).  Write through dbssl_error_set()/_setx()
 * only, so that the first error wins.
 */
#ifndef DBSSL_ERROR_INT_H
#define DBSSL_ERROR_INT_H

#include "dbssl/error.h"

struct dbssl_error {
    enum dbssl_errcode code;
    char message[512]; /* primary: one short line */
    char detail[1024]; /* what was found, e.g. libpq's or OpenSSL's text; "" when none */
    char hint[512];    /* what to do, full sentences; "" when none */
};

/*
 * Replaces the hint of the error a call just set in err: for a caller that
 * knows the fix better than the function that failed (which setting or
 * option names the file).  Code, message and detail stay the first
 * error's.  Nothing happens for err NULL or not set.  Internal: not part of
 * the library's API.
 */
void dbssl_error_replace_hint(struct dbssl_error *err, const char *hint);

#endif
