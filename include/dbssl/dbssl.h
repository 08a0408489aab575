/*
 * dbssl/dbssl.h - everything an application needs to connect to PostgreSQL
 * with TLS done right.  Build with `pkg-config --cflags --libs dbssl`.
 *
 * The sequence (see examples/app.c, about 50 lines):
 *
 *   1. Load:     err = dbssl_error_new(); cfg = dbssl_config_load(NULL, err);
 *                settings from the environment and ./.env (DATABASE_URL,
 *                DB_SSL_MODE, DB_SSL_CA_CERT, DB_SSL_REQUIRED, ...).
 *   2. Validate: f = dbssl_config_validate(cfg, err);
 *                if dbssl_findings_errors(f) > 0, print every finding
 *                (dbssl_findings_setting/_message/_detail/_hint(f, i)) and
 *                do not start: running on settings that are wrong is how
 *                plaintext connections reach production.
 *   3. Connect:  tls = dbssl_tls_state_new(); conn = dbssl_connect(cfg, tls, err);
 *                a libpq PGconn * you own (PQfinish it).  With
 *                DB_SSL_REQUIRED=true a session without TLS is closed and
 *                reported as ssl_unavailable.
 *   4. Inspect:  dbssl_tls_attribute(tls, "protocol") ("TLSv1.3"), "cipher",
 *                "server_cert_not_after", ... (dbssl_tls_attribute_names()
 *                lists them all) or the typed getters; on failure
 *                dbssl_tls_error_class(tls) and dbssl_error_message(err),
 *                dbssl_error_detail(err), dbssl_error_hint(err).
 *                dbssl_conn_check() re-checks later and refreshes tls.
 *   5. Free:     dbssl_tls_state_free(tls), dbssl_findings_free(f),
 *                dbssl_config_free(cfg), dbssl_error_free(err).
 *
 * Every type is an opaque handle read through functions, so that libdbssl.so.1
 * can grow (new attributes, new error parts) without breaking programs built
 * against it.  Errors: every fallible call takes a struct dbssl_error * last
 * (NULL allowed); messages never contain passwords or key material.  The
 * exit-status contract of the dbssl program is at dbssl_error_exit_status().
 */
#ifndef DBSSL_DBSSL_H
#define DBSSL_DBSSL_H

#include "dbssl/config.h"
#include "dbssl/conn.h"
#include "dbssl/error.h"

#endif
