/*
 * dbssl/error.h - the one error type of the dbssl API.
 *
 * Every fallible function takes a `struct dbssl_error *err` as its last
 * argument.  NULL is allowed (the caller does not care why).  The first error
 * set wins: later failures while unwinding do not overwrite the root cause.
 * Messages follow PostgreSQL's style (lowercase, no final period, values in
 * double quotes); hints are full sentences.  Neither ever holds a secret.
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
#else
#define DBSSL_MUSTCHECK
#define DBSSL_PRINTF(fmt, first)
#endif

/* Stable codes: the numbers are part of the ABI, never renumber. */
enum dbssl_errcode {
    DBSSL_OK = 0,
    DBSSL_ERR_NOMEM = 1,    /* out of memory */
    DBSSL_ERR_USAGE = 2,    /* bad argument to an API call or the CLI */
    DBSSL_ERR_CONFIG = 3,   /* invalid configuration (.env, a setting) */
    DBSSL_ERR_IO = 4,       /* a file could not be read or written */
    DBSSL_ERR_CERT = 5,     /* certificate or key problem */
    DBSSL_ERR_CONNECT = 6,  /* the database connection failed */
    DBSSL_ERR_INTERNAL = 7, /* a library (OpenSSL, libpq, ...) failed unexpectedly */
    DBSSL_ERR_LAST          /* never use */
};

struct dbssl_error {
    enum dbssl_errcode code;
    char message[512];
    char hint[512];
};

/* Clears an error so it can be reused. */
void dbssl_error_clear(struct dbssl_error *err);

/*
 * Sets err unless it is NULL or already holds an error.  hint may be NULL.
 */
void dbssl_error_set(struct dbssl_error *err, enum dbssl_errcode code, const char *hint,
                     const char *fmt, ...) DBSSL_PRINTF(4, 5);

/* A static, never-NULL description of a code. */
const char *dbssl_strerror(enum dbssl_errcode code);

/* Maps an error code to the CLI exit status: 2 for configuration and usage, else 1. */
int dbssl_error_exit_status(enum dbssl_errcode code);

#ifdef __cplusplus
}
#endif
#endif
