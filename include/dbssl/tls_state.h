/*
 * dbssl/tls_state.h - the TLS state a connection got, or why it failed:
 * the opaque struct dbssl_tls_state and its accessors, with no libpq type
 * (dbssl/conn.h, which includes this header, connects and fills it).
 */
#ifndef DBSSL_TLS_STATE_H
#define DBSSL_TLS_STATE_H

#include <stdbool.h>

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

/*
 * Detail of DBSSL_CONN_CERT_VERIFY_FAILED, and of the other classes where one
 * cause needs its own fix (DBSSL_VERIFY_NONE otherwise).
 */
enum dbssl_verify_reason {
    DBSSL_VERIFY_NONE = 0,
    DBSSL_VERIFY_UNKNOWN_CA,        /* "unknown_ca" */
    DBSSL_VERIFY_EXPIRED,           /* "expired" */
    DBSSL_VERIFY_HOSTNAME_MISMATCH, /* "hostname_mismatch" */
    DBSSL_VERIFY_OTHER,             /* "other" */
    /* DBSSL_CONN_AUTH_FAILED: channel_binding=require, no SCRAM-SHA-256-PLUS offered */
    DBSSL_VERIFY_CHANNEL_BINDING_UNAVAILABLE, /* "channel_binding_unavailable" */
    DBSSL_VERIFY_REVOKED, /* "revoked": a CRL lists the server's or our certificate */
};

/*
 * What a connection attempt (and each later check) found: the negotiated
 * TLS, the server's certificate, or why it failed.  Opaque, so that new
 * attributes never break the ABI: read it by name with dbssl_tls_attribute()
 * the way libpq's PQsslAttribute() works, or with the typed getters below.
 * Create it with dbssl_tls_state_new(), hand it to dbssl_connect() and
 * dbssl_conn_check() (which refresh it), free it with dbssl_tls_state_free().
 */
struct dbssl_tls_state;

/* A new state ("not connected", no error) or NULL on out-of-memory. */
DBSSL_API struct dbssl_tls_state *dbssl_tls_state_new(void) DBSSL_MUSTCHECK;

/* Frees a state; NULL is fine. */
DBSSL_API void dbssl_tls_state_free(struct dbssl_tls_state *state);

/*
 * Attribute name of state as a string, or NULL when the name is unknown (or
 * state is NULL).  A known attribute is never NULL: "" when it has no value
 * (e.g. "cipher" without TLS).  The string is owned by state and valid until
 * state is refreshed or freed.  The names (dbssl_tls_attribute_names()):
 *
 *   connected, ssl_in_use, client_cert_sent, server_sees_ssl
 *                       "true" or "false"
 *   protocol            e.g. "TLSv1.3"         cipher    e.g. "TLS_AES_256_GCM_SHA384"
 *   alpn                the ALPN protocol of direct TLS negotiation (libpq 17),
 *                       "postgresql", or ""
 *   key_bits            e.g. "256"
 *   server_host, server_port, server_version (e.g. "15.18")
 *   server_cert_subject, server_cert_serial (hex)
 *   server_cert_not_before, server_cert_not_after
 *                       RFC 3339 in UTC, e.g. "2026-01-31T12:00:00Z"
 *   latency_ms          of the last connect or check, e.g. "3.145"
 *   error_class         "ok" or a class name (dbssl_conn_class_name())
 *   verify_reason       "none" or a reason (dbssl_verify_reason_name())
 *   error_message       the primary message of a failure (short)
 *   error_detail        what libpq said, password-free, one line
 *   error_hint          the advice for error_class, full sentences
 *
 * server_sees_ssl is the server's own view (pg_stat_ssl); client_cert_sent
 * says the server received our client certificate.
 */
DBSSL_API const char *dbssl_tls_attribute(const struct dbssl_tls_state *state, const char *name);

/* The attribute names, a static NULL-terminated array. */
DBSSL_API const char *const *dbssl_tls_attribute_names(void);

/* Typed getters; a NULL state reads as a fresh one (false, 0, DBSSL_CONN_OK). */
DBSSL_API bool dbssl_tls_connected(const struct dbssl_tls_state *state);
DBSSL_API bool dbssl_tls_ssl_in_use(const struct dbssl_tls_state *state);
DBSSL_API int dbssl_tls_key_bits(const struct dbssl_tls_state *state);
DBSSL_API bool dbssl_tls_client_cert_sent(const struct dbssl_tls_state *state);
DBSSL_API bool dbssl_tls_server_sees_ssl(const struct dbssl_tls_state *state);
/* Epoch seconds, 0 when unknown (no TLS). */
DBSSL_API long long dbssl_tls_server_cert_not_before(const struct dbssl_tls_state *state);
DBSSL_API long long dbssl_tls_server_cert_not_after(const struct dbssl_tls_state *state);
DBSSL_API double dbssl_tls_latency_ms(const struct dbssl_tls_state *state);
DBSSL_API enum dbssl_conn_class dbssl_tls_error_class(const struct dbssl_tls_state *state);
DBSSL_API enum dbssl_verify_reason dbssl_tls_verify_reason(const struct dbssl_tls_state *state);

DBSSL_API const char *dbssl_conn_class_name(enum dbssl_conn_class c);
DBSSL_API const char *dbssl_verify_reason_name(enum dbssl_verify_reason r);

#ifdef __cplusplus
}
#endif

#endif
