/*
 * conn_types.h - what the conn layer hands to the layers above without a
 * libpq type: struct dbssl_tls_state as dbssl's own modules see it (the
 * checker, health, metrics and the CLI read its fields; applications read it
 * through dbssl_tls_attribute()), and the files a connection is given.
 * health, reload and the rest include this, not conn_int.h, so that libpq's
 * header reaches only conn/ and the connect API's callers
 * (scripts/check-layers.sh).
 */
#ifndef DBSSL_CONN_TYPES_H
#define DBSSL_CONN_TYPES_H

#include <stdbool.h>
#include <stddef.h>

#include "dbssl/tls_state.h"

/* What one connection attempt found.  Plain data, safe to copy. */
struct dbssl_tls_state {
    bool connected;
    bool ssl_in_use;               /* PQsslInUse */
    char protocol[32];             /* PQsslAttribute "protocol", e.g. "TLSv1.3", or "" */
    char cipher[128];              /* PQsslAttribute "cipher" */
    int key_bits;                  /* PQsslAttribute "key_bits", 0 when none */
    char alpn[32];                 /* PQsslAttribute "alpn" (libpq 17: "postgresql" when direct) */
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
    char error_message[256]; /* primary: what failed, short; "" when none */
    char error_detail[1024]; /* libpq's message, password-free, lines joined by "; " */
    char error_hint[512];    /* the guide's advice for error_class */
    /* the numbers above as dbssl_tls_attribute() returns them (dbssl_tls_state_format) */
    struct {
        char key_bits[16];
        char not_before[32];
        char not_after[32];
        char latency_ms[32];
    } text;
};

/*
 * Renders the numeric fields into state->text.  conn.c calls it whenever it
 * has filled a state, so that dbssl_tls_attribute() can take a const state
 * (and be called from several threads) without writing to it.
 */
void dbssl_tls_state_format(struct dbssl_tls_state *state);

/*
 * The server the state reached as "host:port" ("[addr]:port" for an IPv6
 * address) in buf, the one way it is shown (health body, metrics labels,
 * log lines); "" when it reached none.
 */
void dbssl_tls_state_server(const struct dbssl_tls_state *state, char *buf, size_t len);

/*
 * The files libpq is given instead of those the settings name: the private
 * copies of the files a set of settings was validated with (pin.h, made by
 * reload.c).  A NULL member, or no struct at all: the settings' own file.
 */
struct dbssl_conn_files {
    const char *ca, *cert, *key, *crl;
    /* the key's passphrase as DB_SSL_CLIENT_KEY_PASSWORD_FILE held it when
     * the set was validated; NULL: the file is read at the connect */
    const char *keypass;
};

#endif
