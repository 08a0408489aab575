/*
 * dbssl/error.h - the one error type of the dbssl API.
 *
 * Every fallible function takes a `struct dbssl_error *err` as its last
 * argument.  NULL is allowed (the caller does not care why).  The first error
 * set wins: later failures while unwinding do not overwrite the root cause,
 * and the whole error (code, message, detail, hint) comes from that first one.
 *
 * An error has PostgreSQL's three parts: a short primary message (lowercase,
 * no final period, values in double quotes), an optional detail (what was
 * found, e.g. the text libpq or OpenSSL gave) and an optional hint (what to
 * do, full sentences).  None of them ever holds a password or key material.
 *
 * struct dbssl_error is opaque, so that it can grow without breaking
 * programs built against an older libdbssl: create one with
 * dbssl_error_new(), read it through the getters below, and free it with
 * dbssl_error_free().  An error can be reused after dbssl_error_clear().
 */
#ifndef DBSSL_ERROR_H
#define DBSSL_ERROR_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define DBSSL_MUSTCHECK          __attribute__((warn_unused_result))
#define DBSSL_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
/* Marks the functions libdbssl exports; everything else is hidden (see dbssl.map). */
#define DBSSL_API __attribute__((visibility("default")))
#else
#define DBSSL_MUSTCHECK
#define DBSSL_PRINTF(fmt, first)
#define DBSSL_API
#endif

/* Stable codes: the numbers are part of the ABI, never renumber. */
enum dbssl_errcode {
    DBSSL_OK = 0,
    DBSSL_ERR_NOMEM = 1,    /* out of memory */
    DBSSL_ERR_USAGE = 2,    /* bad argument to an API call or the CLI */
    DBSSL_ERR_CONFIG = 3,   /* invalid configuration (.env, a setting) */
    DBSSL_ERR_IO = 4,       /* a file could not be read or written */
    DBSSL_ERR_CERT = 5,     /* a certificate or key file cannot be used */
    DBSSL_ERR_CONNECT = 6,  /* the database connection failed */
    DBSSL_ERR_INTERNAL = 7, /* a library (OpenSSL, libpq, ...) failed unexpectedly */
    DBSSL_ERR_LAST          /* never use */
};

struct dbssl_error;

/* A new, empty error the caller frees with dbssl_error_free(); NULL on out-of-memory. */
DBSSL_API struct dbssl_error *dbssl_error_new(void) DBSSL_MUSTCHECK;

/* Frees an error; NULL is fine. */
DBSSL_API void dbssl_error_free(struct dbssl_error *err);

/* Clears an error so it can be reused; NULL is fine. */
DBSSL_API void dbssl_error_clear(struct dbssl_error *err);

/*
 * The parts of the error.  The code is DBSSL_OK while no error is set (and
 * for err NULL).  The strings are never NULL: "" when the part is empty;
 * they are owned by err and valid until it is cleared, set or freed.
 */
DBSSL_API enum dbssl_errcode dbssl_error_code(const struct dbssl_error *err);
DBSSL_API const char *dbssl_error_message(const struct dbssl_error *err);
DBSSL_API const char *dbssl_error_detail(const struct dbssl_error *err);
DBSSL_API const char *dbssl_error_hint(const struct dbssl_error *err);

/*
 * Sets err unless it is NULL or already holds an error.  hint may be NULL.
 */
DBSSL_API void dbssl_error_set(struct dbssl_error *err, enum dbssl_errcode code, const char *hint,
                               const char *fmt, ...) DBSSL_PRINTF(4, 5);

/*
 * Like dbssl_error_set() with a detail line as well; detail and hint may be
 * NULL.  First error wins for all parts at once: an error that is already
 * set keeps its own detail and hint.
 */
DBSSL_API void dbssl_error_setx(struct dbssl_error *err, enum dbssl_errcode code,
                                const char *detail, const char *hint, const char *fmt, ...)
    DBSSL_PRINTF(5, 6);

/* A static, never-NULL description of a code. */
DBSSL_API const char *dbssl_strerror(enum dbssl_errcode code);

/*
 * The exit status of the dbssl program for an error with this code.  The one
 * contract every dbssl command follows (cli.h and the README refer here):
 *
 *   0  ok.
 *   1  runtime failure: the settings are right but running failed - the
 *      database is unreachable or the connection unhealthy, a file could not
 *      be read or written, out of memory, an internal error.
 *   2  invalid configuration or usage: a bad command line, a setting with a
 *      bad value, settings that contradict each other, or a certificate, key
 *      or CRL file they name that cannot be used (not PEM, a key of another
 *      certificate, ...), as `dbssl validate` reports them.
 *
 * An expired certificate is a matter of time, not of the settings: it is 1
 * wherever something runs and finds it (`dbssl certs inspect`; `dbssl
 * status` and `dbssl serve`, be it the server's certificate or one the
 * settings name), and 2 only for `dbssl validate`, whose question is "are
 * these settings right?".  A certificate not valid yet and a stale CRL go
 * with it.
 *
 * By code: DBSSL_OK 0; DBSSL_ERR_USAGE, DBSSL_ERR_CONFIG and DBSSL_ERR_CERT
 * 2; every other code 1.
 */
DBSSL_API int dbssl_error_exit_status(enum dbssl_errcode code);

#ifdef __cplusplus
}
#endif
#endif
