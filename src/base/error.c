/*
 * error.c - struct dbssl_error helpers.
 *
 * The "first error wins" rule lives here so that callers can set errors on
 * every failure path without worrying about hiding the original cause.
 */
#include "error_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dbssl_error *dbssl_error_new(void)
{
    return calloc(1, sizeof(struct dbssl_error));
}

void dbssl_error_free(struct dbssl_error *err)
{
    free(err);
}

void dbssl_error_clear(struct dbssl_error *err)
{
    if (err == NULL)
        return;
    err->code = DBSSL_OK;
    err->message[0] = '\0';
    err->detail[0] = '\0';
    err->hint[0] = '\0';
}

enum dbssl_errcode dbssl_error_code(const struct dbssl_error *err)
{
    return err ? err->code : DBSSL_OK;
}

const char *dbssl_error_message(const struct dbssl_error *err)
{
    return err ? err->message : "";
}

const char *dbssl_error_detail(const struct dbssl_error *err)
{
    return err ? err->detail : "";
}

const char *dbssl_error_hint(const struct dbssl_error *err)
{
    return err ? err->hint : "";
}

static void error_vset(struct dbssl_error *err, enum dbssl_errcode code, const char *detail,
                       const char *hint, const char *fmt, va_list ap) DBSSL_PRINTF(5, 0);

static void error_vset(struct dbssl_error *err, enum dbssl_errcode code, const char *detail,
                       const char *hint, const char *fmt, va_list ap)
{
    if (err == NULL || err->code != DBSSL_OK)
        return;
    err->code = code;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    snprintf(err->detail, sizeof(err->detail), "%s", detail ? detail : "");
    snprintf(err->hint, sizeof(err->hint), "%s", hint ? hint : "");
}

void dbssl_error_set(struct dbssl_error *err, enum dbssl_errcode code, const char *hint,
                     const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_vset(err, code, NULL, hint, fmt, ap);
    va_end(ap);
}

void dbssl_error_setx(struct dbssl_error *err, enum dbssl_errcode code, const char *detail,
                      const char *hint, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_vset(err, code, detail, hint, fmt, ap);
    va_end(ap);
}

void dbssl_error_replace_hint(struct dbssl_error *err, const char *hint)
{
    if (err == NULL || err->code == DBSSL_OK)
        return;
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

/* The contract is written once, in dbssl/error.h. */
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
