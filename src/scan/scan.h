/*
 * scan.h - what a PostgreSQL server accepts for TLS, found from outside
 * with no login: the scanner behind `dbssl scan`, and the data that the
 * audit report and the fleet probe read.
 *
 * The scanner speaks PostgreSQL's SSLRequest, then a TLS handshake with
 * OpenSSL on the same socket, and never sends a StartupMessage: the server
 * sees a client that opens and closes connections (PostgreSQL logs nothing
 * for those), or one whose handshake it refuses.  It finds the protocol
 * versions (TLS 1.0 to 1.3), the cipher suites of each version, the
 * key-exchange groups, whether the server imposes its own suite order, and
 * the certificate chain.  Grading against a profile is scan_profile.h;
 * JSON and text are scan_render.c.
 *
 * Everything here is plain C: OpenSSL stays inside the scanner's .c files.  The
 * result is a plain struct that the caller reads directly (dbssl's own
 * modules only; the public API does not expose it).
 */
#ifndef DBSSL_SCAN_H
#define DBSSL_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "certinfo.h"
#include "error_int.h"

/* The port a PostgreSQL server listens on when HOST has no :PORT. */
#define DBSSL_SCAN_DEFAULT_PORT 5432

/*
 * The most handshakes one scan makes.  A PostgreSQL 15 server with its
 * default ssl_ciphers and an ECDSA certificate takes about 30; one with an
 * RSA certificate and TLS 1.0 on, under 100.  A scan that reaches the cap
 * stops and says it is incomplete.
 */
#define DBSSL_SCAN_MAX_HANDSHAKES 128

/* Room for the suites of one protocol version (OpenSSL 3.0 knows 86 for TLS 1.2). */
#define DBSSL_SCAN_MAX_SUITES 96
#define DBSSL_SCAN_MAX_GROUPS 16
/* A server that sends a longer chain is misconfigured; the rest is not kept. */
#define DBSSL_SCAN_MAX_CERTS 8

/* -1 where a yes/no could not be decided (too few suites, no certificate). */
#define DBSSL_SCAN_UNKNOWN (-1)

enum dbssl_scan_proto {
    DBSSL_SCAN_TLS1_0 = 0,
    DBSSL_SCAN_TLS1_1,
    DBSSL_SCAN_TLS1_2,
    DBSSL_SCAN_TLS1_3,
    DBSSL_SCAN_NPROTO
};

/* "TLSv1.0" ... "TLSv1.3", the reports' spelling (tlsver.h; PostgreSQL's is
 * dbssl_tls_pg_version()). */
const char *dbssl_scan_proto_name(enum dbssl_scan_proto p);
/* The version of a name as above, or -1. */
int dbssl_scan_proto_from_name(const char *name);

/* One accepted cipher suite. */
struct dbssl_scan_suite {
    char name[64];     /* OpenSSL's name, as `openssl ciphers` and sslscan print it */
    char iana[64];     /* the RFC name, e.g. "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" */
    unsigned id;       /* the two-byte code point */
    char kx[16];       /* key exchange as `openssl ciphers -v` says: "ECDH", "DH", "RSA", "any" */
    char auth[16];     /* "ECDSA", "RSA", "any" */
    char enc[32];      /* "AESGCM(128)", "CHACHA20/POLY1305(256)", "AES(256)", ... */
    char mac[16];      /* "AEAD", "SHA1", "SHA256", "SHA384" */
    int bits;          /* symmetric key bits */
    char kx_group[24]; /* the key exchange the server used with it: "P-256", "X25519", "DH"; "" for
                          RSA */
    int kx_bits;       /* its size in bits (DH: the modulus), 0 when none */
};

struct dbssl_scan_suites {
    size_t n;
    /* DBSSL_SCAN_UNKNOWN with fewer than two suites, else whether the server
     * picks by its own order (ssl_prefer_server_ciphers = on) */
    int server_order;
    /* in the server's order when it imposes one, else in the order found */
    struct dbssl_scan_suite v[DBSSL_SCAN_MAX_SUITES];
};

struct dbssl_scan_result {
    char host[256]; /* as given */
    int port;
    char address[64];     /* the address scanned, e.g. "127.0.0.1" or "::1" */
    long long scanned_at; /* epoch seconds at the start; certificate dates are judged at it */
    long duration_ms;
    int handshakes; /* TLS handshakes attempted */

    bool tls; /* the server answered the SSLRequest with 'S' */
    bool protocols[DBSSL_SCAN_NPROTO];
    struct dbssl_scan_suites suites[DBSSL_SCAN_NPROTO];
    char groups[DBSSL_SCAN_MAX_GROUPS]
               [24]; /* key-exchange groups accepted: "X25519", "P-256", "ffdhe2048" */
    size_t n_groups;

    struct dbssl_certlist chain; /* the certificates sent, leaf first (certinfo.h); owned */
    char sig_alg[DBSSL_SCAN_MAX_CERTS]
                [48];   /* of each: "ecdsa-with-SHA256", "sha256WithRSAEncryption" */
    int host_matches;   /* the leaf names host (X509_check_host / _ip_asc) */
    int chain_complete; /* each certificate is issued by the next, up to a root sent or in the store
                         */
    int trusted;        /* the chain verifies against the trust store */
    char trust_store[512]; /* "system" or the CA file given */
    char chain_note[512];  /* why not complete or not trusted, "" otherwise */

    bool complete;        /* false when the scan stopped early */
    char incomplete[256]; /* why, "" when complete */
};

/*
 * Why a scan could not run at all, as a stable class (the fleet probe's
 * failure labels); the error's message says it in words.
 */
enum dbssl_scan_failure {
    DBSSL_SCAN_FAILURE_NONE = 0,
    DBSSL_SCAN_FAILURE_HOST_NOT_FOUND,  /* "host_not_found": the name does not resolve */
    DBSSL_SCAN_FAILURE_REFUSED,         /* "connection_refused": nothing listens there */
    DBSSL_SCAN_FAILURE_UNREACHABLE,     /* "unreachable": no route, network down */
    DBSSL_SCAN_FAILURE_TIMEOUT,         /* "timeout": no answer in time (a black hole) */
    DBSSL_SCAN_FAILURE_SSL_UNAVAILABLE, /* "ssl_unavailable": SSLRequest answered "N" */
    DBSSL_SCAN_FAILURE_NOT_POSTGRESQL,  /* "not_postgresql": some other answer */
    DBSSL_SCAN_FAILURE_HANDSHAKE,       /* "handshake_failed": no TLS handshake succeeded */
    DBSSL_SCAN_FAILURE_OTHER,           /* "other": out of memory, OpenSSL setup */
};

/* The stable name of a failure class ("none" for NONE). */
const char *dbssl_scan_failure_name(enum dbssl_scan_failure f);

struct dbssl_scan_opts {
    const char *host; /* a name or an address (IPv6 without brackets) */
    int port;
    long timeout_ms;     /* each connection: connect, SSLRequest answer, handshake */
    long total_ms;       /* the whole scan, 0: no limit beyond the handshake cap */
    const char *ca_file; /* trust anchors for the chain; NULL: the system's */
    int max_handshakes;  /* 0: DBSSL_SCAN_MAX_HANDSHAKES */
    /*
     * One connection only: the SSLRequest, then one handshake offering every
     * version from TLS 1.0 to 1.3 and every suite, so the result holds the
     * version, suite and group the server picks and the chain it sends (the
     * fleet probe's "tls" module).  complete is then false and incomplete says
     * so: the other versions and suites were not asked for.
     */
    bool handshake_only;
    enum dbssl_scan_failure *failure; /* when not NULL: set to why NULL was returned */
};

/*
 * Scans a server.  Returns the result (free with dbssl_scan_result_free()),
 * or NULL with err set when nothing could be learnt: the host cannot be
 * resolved or reached, it does not answer like PostgreSQL, it refuses TLS
 * (ssl = off: code DBSSL_ERR_CONNECT, message "server does not accept TLS"),
 * or no TLS version at all could be negotiated.  A server that stops
 * answering half-way gives a result with complete = false.
 */
struct dbssl_scan_result *dbssl_scan_run(const struct dbssl_scan_opts *o, struct dbssl_error *err);

/* An empty result (for dbssl_scan_from_json and tests); NULL on out of memory. */
struct dbssl_scan_result *dbssl_scan_result_new(void);
void dbssl_scan_result_free(struct dbssl_scan_result *r);

/*
 * Splits "HOST", "HOST:PORT", "[V6]", "[V6]:PORT" or a bare IPv6 address
 * into host (brackets removed) and port (DBSSL_SCAN_DEFAULT_PORT when
 * absent).  False with msg on anything else (empty, a bad port).
 */
bool dbssl_scan_parse_target(const char *target, char *host, size_t hostlen, int *port, char *msg,
                             size_t msglen) DBSSL_MUSTCHECK;

struct dbssl_scan_grade; /* scan_profile.h */

/*
 * The JSON form (scan_render.c): the result, and the grade when not NULL.
 * days_left and the expiry state of each certificate are computed at
 * scanned_at with warn_days (expiry.h).  Returns a new reference.
 */
json_t *dbssl_scan_to_json(const struct dbssl_scan_result *r, const struct dbssl_scan_grade *g,
                           long warn_days);

/*
 * Reads a result back from its JSON form (fields computed from others, such
 * as days_left and the grade, are ignored).  NULL with err on a missing or
 * mistyped field.
 */
struct dbssl_scan_result *dbssl_scan_from_json(const json_t *j, struct dbssl_error *err);

/* The human report: the result, then the grade when not NULL.  Caller frees. */
char *dbssl_scan_to_text(const struct dbssl_scan_result *r, const struct dbssl_scan_grade *g,
                         long warn_days);

#endif
