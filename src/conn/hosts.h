/*
 * hosts.h - every host of a multi-host DATABASE_URL, probed on its own.
 *
 * libpq connects the session to the first host that answers and satisfies
 * target_session_attrs, and applies one set of TLS options to them all: a
 * standby's certificate can be expired or name another host, and nobody
 * knows until a failover sends the clients there.  So each check also
 * connects to every host of the list with the same settings (the URL's
 * target_session_attrs replaced by "any", so that a standby answers too),
 * reads its TLS state and whether it is in recovery, and closes.  Only the
 * hosts are read here; health.c judges them.
 */
#ifndef DBSSL_HOSTS_H
#define DBSSL_HOSTS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "conn_types.h"

/* at most this many hosts of one URL are probed (more: the rest are counted, not probed) */
#define DBSSL_HOSTS_MAX 16

enum dbssl_host_role {
    DBSSL_HOST_ROLE_UNKNOWN = 0, /* not reached, or the query failed */
    DBSSL_HOST_PRIMARY,          /* pg_is_in_recovery() = false */
    DBSSL_HOST_STANDBY,          /* pg_is_in_recovery() = true */
};

/* One host's probe: where, what its TLS looked like, and its role. */
struct dbssl_host_probe {
    char host[ADDR_BUF];
    char hostaddr[ADDR_BUF];    /* the URL's hostaddr for it, "" when none: host is looked up */
    int port;                   /* 0: libpq's default */
    struct dbssl_tls_state tls; /* connected, TLS, server certificate, or the failure */
    enum dbssl_host_role role;
};

/* What target_session_attrs asks of the host the session is on. */
enum dbssl_session_want {
    DBSSL_WANT_ANY = 0, /* any, prefer-standby (libpq falls back to any host) */
    DBSSL_WANT_PRIMARY, /* read-write, primary */
    DBSSL_WANT_STANDBY, /* read-only, standby */
};

struct dbssl_hosts {
    size_t n;       /* hosts probed */
    size_t skipped; /* hosts beyond DBSSL_HOSTS_MAX */
    enum dbssl_session_want want;
    char want_text[32]; /* target_session_attrs as written, "any" when absent */
    struct dbssl_host_probe v[DBSSL_HOSTS_MAX];
};

/*
 * The hosts of cfg's DATABASE_URL (host, or hostaddr when it has no host,
 * each with its port: one port for all, or one per host, and with both
 * lists each host's address, as libpq reads them) into out->v with no probe yet; out->n is 0 for a URL with one host
 * (the session itself is its probe).  Always succeeds: a list libpq would
 * reject never reaches a check (validation refuses it).
 */
void dbssl_hosts_list(const struct dbssl_config *cfg, struct dbssl_hosts *out);

/*
 * Probes each host of out (from dbssl_hosts_list) with cfg and files (may be
 * NULL), all at once (a thread per host beyond the first, this thread doing
 * the first), each bounded by DB_CONNECT_TIMEOUT: hosts that do not answer
 * cost one timeout together, not one each.
 */
void dbssl_hosts_probe(const struct dbssl_config *cfg, const struct dbssl_conn_files *files,
                       struct dbssl_hosts *out);

/* Whether a host in role r satisfies want. */
bool dbssl_host_satisfies(enum dbssl_host_role r, enum dbssl_session_want want);

const char *dbssl_host_role_name(enum dbssl_host_role r);

/* The host as shown everywhere: "host:port", "[addr]:port" for IPv6, "host" with the default port. */
void dbssl_host_name(const struct dbssl_host_probe *h, char *buf, size_t len);

/* Whether the session's state t is on host h. */
bool dbssl_host_is_session(const struct dbssl_host_probe *h, const struct dbssl_tls_state *t);

#endif
