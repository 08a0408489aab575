/*
 * dbssl/conn.h - a PostgreSQL connection with the configured TLS settings,
 * and the TLS state it actually got.
 *
 * dbssl_connect() builds the libpq conninfo from DATABASE_URL plus the
 * DB_SSL_* settings (sslmode, sslrootcert, sslcert, sslkey, sslcrl,
 * ssl_min_protocol_version, connect_timeout, application_name=dbssl unless
 * the URL names one; gssencmode=disable when TLS is required), connects,
 * and reports the negotiated state.  With DB_SSL_REQUIRED=true a session
 * that is not encrypted is closed (fail closed).
 */
#ifndef DBSSL_CONN_H
#define DBSSL_CONN_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "dbssl/config.h"
#include "dbssl/error.h"
#include "dbssl/tls_state.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Connects with the settings of cfg (validated beforehand by the caller) and
 * fills state (NULL when the caller does not need it: then the connect costs
 * what libpq's own costs, with no query and no certificate read beyond
 * libpq's; with a state, the server's own view is read from pg_stat_ssl, one
 * more round trip).  Returns the
 * connection, which the caller owns and closes with PQfinish(), or NULL with
 * err set (typically "could not connect to the server", libpq's text as the
 * detail, the advice for the failure's class as the hint) and state telling
 * why (dbssl_tls_error_class()).  A state is reset by every call.  The state
 * is the caller's: it may be kept and passed to dbssl_conn_check() later.
 */
DBSSL_API PGconn *dbssl_connect(const struct dbssl_config *cfg, struct dbssl_tls_state *state,
                                struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * Re-checks an open connection (SELECT over it, pg_stat_ssl) and refreshes
 * state (NULL when the caller does not need it).  Returns false when the
 * connection is lost; state then says why.
 */
DBSSL_API bool dbssl_conn_check(PGconn *conn, const struct dbssl_config *cfg,
                                struct dbssl_tls_state *state) DBSSL_MUSTCHECK;

#ifdef __cplusplus
}
#endif
#endif
