/*
 * dbssl/dbssl.h - everything an application needs to connect to PostgreSQL
 * with TLS done right.  Build with `pkg-config --cflags --libs dbssl`.
 *
 * The sequence (see examples/app.c, about 50 lines):
 *
 *   1. Load:     cfg = dbssl_config_load(NULL, &err);
 *                settings from the environment and ./.env (DATABASE_URL,
 *                DB_SSL_MODE, DB_SSL_CA_CERT, DB_SSL_REQUIRED, ...).
 *   2. Validate: f = dbssl_config_validate(cfg, &err);
 *                if dbssl_findings_errors(f) > 0, print every finding and do
 *                not start: running on settings that are wrong is how
 *                plaintext connections reach production.
 *   3. Connect:  conn = dbssl_connect(cfg, &tls, &err);
 *                a libpq PGconn * you own (PQfinish it).  With
 *                DB_SSL_REQUIRED=true a session without TLS is closed and
 *                reported as ssl_unavailable.
 *   4. Inspect:  tls.protocol ("TLSv1.3"), tls.cipher, tls.server_cert_*,
 *                tls.client_cert_sent; on failure tls.error_class (see
 *                dbssl_conn_class_name()) with tls.error_message and a hint
 *                in err.hint.  dbssl_conn_check() re-checks later.
 *
 * Errors: every fallible call takes a struct dbssl_error * last (NULL
 * allowed); messages never contain passwords or key material.
 */
#ifndef DBSSL_DBSSL_H
#define DBSSL_DBSSL_H

#include "dbssl/config.h"
#include "dbssl/conn.h"
#include "dbssl/error.h"

#endif
