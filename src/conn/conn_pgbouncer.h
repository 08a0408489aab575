/*
 * conn_pgbouncer.h - both of PgBouncer's hops, as its admin console shows
 * them (the conn layer: libpq stays in conn_pgbouncer.c).
 *
 * dbssl's own connection through PgBouncer shows only the client hop it
 * made itself; the hops PgBouncer opened to the server, and those of the
 * other clients, are visible only in PgBouncer's admin console (SHOW
 * SERVERS, SHOW CLIENTS: the "tls" column, empty for plaintext).  With
 * DB_PGBOUNCER_ADMIN_URL set, each check connects there with the same TLS
 * settings as DATABASE_URL, reads both lists and closes.  When it cannot,
 * the result is "not checked" with the reason, never a count of zero that
 * reads as "all encrypted".  Only the hops are read here; health.c judges
 * them.
 *
 * The result is plain data of fixed size, copied into each health snapshot.
 */
#ifndef DBSSL_CONN_PGBOUNCER_H
#define DBSSL_CONN_PGBOUNCER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "conn_types.h"

/* Plaintext hops described one by one; the counts go on beyond. */
#define DBSSL_PGBOUNCER_MAX_HOPS 16

enum dbssl_pgbouncer_state {
    DBSSL_PGBOUNCER_UNSET = 0,   /* DB_PGBOUNCER_ADMIN_URL unset: "pgbouncer" is null */
    DBSSL_PGBOUNCER_CHECKED,     /* both lists read */
    DBSSL_PGBOUNCER_NOT_CHECKED, /* the admin console refused or failed (note, hint) */
};

enum dbssl_pgbouncer_side {
    DBSSL_PGBOUNCER_SERVER = 0, /* "server": PgBouncer to PostgreSQL */
    DBSSL_PGBOUNCER_CLIENT,     /* "client": a client to PgBouncer */
};

/* One side's hops: a Unix-domain socket (addr "unix") is local, neither TLS nor plaintext. */
struct dbssl_pgbouncer_count {
    unsigned total, tls, plaintext, local;
};

/* A plaintext hop as SHOW SERVERS / SHOW CLIENTS lists it. */
struct dbssl_pgbouncer_hop {
    int side; /* enum dbssl_pgbouncer_side */
    char addr[48];
    int port;
    char user[64];
    char database[64];
};

struct dbssl_pgbouncer {
    int state;      /* enum dbssl_pgbouncer_state */
    char note[512]; /* why not checked, "" when checked */
    char hint[512];
    struct dbssl_pgbouncer_count servers, clients;
    struct dbssl_pgbouncer_hop plaintext_hops[DBSSL_PGBOUNCER_MAX_HOPS];
    size_t n_plaintext_hops; /* described; servers.plaintext + clients.plaintext may be more */
};

/* "server", "client". */
const char *dbssl_pgbouncer_side_name(int side);

/*
 * Counts one row of SHOW SERVERS or SHOW CLIENTS: tls is the row's "tls"
 * column ("" = plaintext); a plaintext hop is described while there is
 * room.  out must have been started CHECKED (memset + state).
 */
void dbssl_pgbouncer_add(struct dbssl_pgbouncer *out, int side, const char *addr, int port,
                         const char *user, const char *database, const char *tls);

/*
 * Reads both hops through cfg's DB_PGBOUNCER_ADMIN_URL with cfg's TLS
 * settings and files (may be NULL), bounded by DB_CONNECT_TIMEOUT in all.
 * out is always filled: UNSET when the setting is unset, CHECKED, or
 * NOT_CHECKED with note and hint (no password in either).
 */
void dbssl_pgbouncer_read(const struct dbssl_config *cfg, const struct dbssl_conn_files *files,
                          struct dbssl_pgbouncer *out);

/*
 * The JSON form, "pgbouncer" of /health/database/ssl (a new reference):
 * null when UNSET; {checked, state, reason, hint, servers, clients,
 * plaintext_hops}, the counts null unless CHECKED.  NULL on out of memory.
 */
json_t *dbssl_pgbouncer_to_json(const struct dbssl_pgbouncer *p);

#endif
