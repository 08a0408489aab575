/*
 * error.c - struct dbssl_error helpers.
 *
 * The "first error wins" rule lives here so that callers can set errors on
 * every failure path without worrying about hiding the original cause.
 */
#include "dbssl/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void dbssl_error_clear(struct dbssl_error *err)
{
    if (err == NULL)
        return;
    err->code = DBSSL_OK;
    err->message[0] = '\0';
    err->hint[0] = '\0';
}

void dbssl_error_set(struct dbssl_error *err, enum dbssl_errcode code, const char *hint,
                     const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err->code != DBSSL_OK)
        return;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    snprintf(err->hint, sizeof(err->hint), "%s", hint ? hint : "");
}

const char *dbssl_strerror(enum dbssl_errcode code)
{
    switch (code) {
    case DBSSL_OK:
        return "no error";
    case DBSSL_ERR_NOMEM:
        return "out of memory";
    case DBSSL_ERR_USAGE:
        return "invalid usage";
    case DBSSL_ERR_CONFIG:
        return "invalid configuration";
    case DBSSL_ERR_IO:
        return "file input/output error";
    case DBSSL_ERR_CERT:
        return "certificate or key problem";
    case DBSSL_ERR_CONNECT:
        return "database connection failed";
    case DBSSL_ERR_INTERNAL:
        return "internal error";
    case DBSSL_ERR_LAST:
        break;
    }
    return "unknown error";
}

int dbssl_error_exit_status(enum dbssl_errcode code)
{
    switch (code) {
    case DBSSL_OK:
        return 0;
    case DBSSL_ERR_USAGE:
    case DBSSL_ERR_CONFIG:
    case DBSSL_ERR_CERT:
        return 2;
    default:
        return 1;
    }
}
