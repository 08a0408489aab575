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

#ifdef __cplusplus
extern "C" {
#endif

/* Why a connection failed.  Stable names: see dbssl_conn_class_name(). */
enum dbssl_conn_class {
    DBSSL_CONN_OK = 0,
    DBSSL_CONN_SSL_UNAVAILABLE,      /* "ssl_unavailable" */
    DBSSL_CONN_CERT_VERIFY_FAILED,   /* "certificate_verification_failed" */
    DBSSL_CONN_CLIENT_CERT_REJECTED, /* "client_certificate_rejected" */
    DBSSL_CONN_AUTH_FAILED,          /* "authentication_failed" */
    DBSSL_CONN_SERVER_REJECTED,      /* "server_rejected" (no pg_hba.conf entry) */
    DBSSL_CONN_TIMEOUT,              /* "timeout" */
    DBSSL_CONN_REFUSED,              /* "connection_refused" */
    DBSSL_CONN_HOST_NOT_FOUND,       /* "host_not_found" */
    DBSSL_CONN_OTHER,                /* "other" */
    DBSSL_CONN_TOO_MANY_CONNECTIONS, /* "too_many_connections" (no free connection slot) */
};

/* Detail of DBSSL_CONN_CERT_VERIFY_FAILED. */
enum dbssl_verify_reason {
    DBSSL_VERIFY_NONE = 0,
    DBSSL_VERIFY_UNKNOWN_CA,        /* "unknown_ca" */
    DBSSL_VERIFY_EXPIRED,           /* "expired" */
    DBSSL_VERIFY_HOSTNAME_MISMATCH, /* "hostname_mismatch" */
    DBSSL_VERIFY_OTHER,             /* "other" */
};

/* What one connection attempt found.  Plain data, safe to copy. */
struct dbssl_tls_state {
    bool connected;
    bool ssl_in_use;               /* PQsslInUse */
    char protocol[32];             /* PQsslAttribute "protocol", e.g. "TLSv1.3", or "" */
    char cipher[128];              /* PQsslAttribute "cipher" */
    int key_bits;                  /* PQsslAttribute "key_bits", 0 when none */
    char server_host[256];         /* PQhost of the server actually connected */
    char server_port[16];          /* PQport */
    char server_version[32];       /* e.g. "15.18" */
    bool client_cert_sent;         /* pg_stat_ssl.client_dn is set for our backend */
    bool server_sees_ssl;          /* pg_stat_ssl.ssl for our backend */
    char server_cert_subject[512]; /* "" when no TLS */
    char server_cert_serial[128];
    long long server_cert_not_before; /* epoch seconds, 0 when unknown */
    long long server_cert_not_after;
    double latency_ms; /* connect + checks round trip */
    enum dbssl_conn_class error_class;
    enum dbssl_verify_reason verify_reason;
    char error_message[1024]; /* libpq's message, password-free, "" when none */
    char error_hint[512];     /* the guide's advice for error_class */
};

/*
 * Connects with the settings of cfg (validated beforehand by the caller) and
 * fills state (never NULL).  Returns the connection, which the caller owns
 * and closes with PQfinish(), or NULL with state->error_* and err set.
 */
PGconn *dbssl_connect(const struct dbssl_config *cfg, struct dbssl_tls_state *state,
                      struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * Re-checks an open connection (SELECT over it, pg_stat_ssl) and refreshes
 * state.  Returns false when the connection is lost (state->error_* set).
 */
bool dbssl_conn_check(PGconn *conn, const struct dbssl_config *cfg, struct dbssl_tls_state *state);

const char *dbssl_conn_class_name(enum dbssl_conn_class c);
const char *dbssl_verify_reason_name(enum dbssl_verify_reason r);

#ifdef __cplusplus
}
#endif
#endif
