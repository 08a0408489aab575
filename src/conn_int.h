/*
 * conn_int.h - the pieces of conn.c that are pure functions of their input,
 * exposed so that unit tests can check them without a database: building
 * libpq's keyword/value arrays from the settings, and classifying libpq's
 * failure messages.
 */
#ifndef DBSSL_CONN_INT_H
#define DBSSL_CONN_INT_H

#include <stddef.h>

#include "config.h"
#include "dbssl/conn.h"
#include "dbssl/error.h"

#define DBSSL_CONN_MAX_PARAMS 96

/* NULL-terminated arrays for PQconnectdbParams(keywords, values, 0). */
struct dbssl_conn_params {
    const char *keywords[DBSSL_CONN_MAX_PARAMS + 1];
    const char *values[DBSSL_CONN_MAX_PARAMS + 1];
    size_t n;
    void *parsed;          /* PQconninfoOption array the URL's values point into */
    char *ca, *cert, *key; /* file paths in use (owned) */
    char timeout[24];
};

/*
 * Builds the parameters: every keyword DATABASE_URL sets, then dbssl's
 * settings on top (sslmode, sslrootcert, sslcert, sslkey, sslcrl,
 * ssl_min_protocol_version, connect_timeout, application_name when the URL
 * has none, gssencmode=disable when TLS is required).  Values point into cfg
 * and p; free p with dbssl_conn_params_free().
 */
int dbssl_conn_build_params(const struct dbssl_config *cfg, struct dbssl_conn_params *p,
                            struct dbssl_error *err) DBSSL_MUSTCHECK;
void dbssl_conn_params_free(struct dbssl_conn_params *p);
/* The value of keyword in p, or NULL. */
const char *dbssl_conn_params_get(const struct dbssl_conn_params *p, const char *keyword);

struct dbssl_conn_diagnosis {
    enum dbssl_conn_class cls;
    enum dbssl_verify_reason reason;
    const char *hint; /* static, a full sentence */
};

/* Classifies a libpq error message (any language-neutral libpq 15 text). */
struct dbssl_conn_diagnosis dbssl_conn_classify(const char *libpq_message);

#endif
