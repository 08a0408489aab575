/*
 * conn_sessions.h - session coverage: whether the application's own
 * sessions (not only dbssl's) use TLS, as the server sees them in
 * pg_stat_activity joined with pg_stat_ssl, read over the checker's
 * connection (the conn layer: libpq stays in conn_sessions.c).
 *
 * The watched sessions are those of DB_SSL_WATCH_ROLES and of
 * DB_SSL_WATCH_APPLICATIONS; with neither set, those of the role DATABASE_URL
 * logs in as.  dbssl's own session is never counted.  PostgreSQL shows the
 * address and TLS state of another role's session only to members of that
 * role or of pg_read_all_stats: when a watched session may be hidden, the
 * result is "not checked" with the GRANT that would allow it, never a count
 * of zero that reads as "all encrypted".
 *
 * The result is plain data of fixed size, copied into each health snapshot.
 */
#ifndef DBSSL_CONN_SESSIONS_H
#define DBSSL_CONN_SESSIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error_int.h"

struct pg_conn; /* libpq's PGconn */

/* Offending sessions described one by one; the counts go on beyond. */
#define DBSSL_SESSIONS_MAX_OFFENDERS 16
/* Distinct TLS versions counted (SSLv3 .. TLSv1.3 and one unknown). */
#define DBSSL_SESSIONS_MAX_VERSIONS 8
/* Rows read at most: far beyond max_connections of any server we watch. */
#define DBSSL_SESSIONS_MAX_ROWS 100000
/* PostgreSQL's NAMEDATALEN: role and application names are shorter. */
#define DBSSL_PG_NAME_BUF 64

enum dbssl_sessions_state {
    DBSSL_SESSIONS_UNREAD = 0,  /* not read (no connection) */
    DBSSL_SESSIONS_CHECKED,     /* "checked" */
    DBSSL_SESSIONS_NOT_CHECKED, /* "not_checked": the role may not see them (hint: the GRANT) */
    DBSSL_SESSIONS_FAILED,      /* "failed": the query failed (note says why) */
};

enum dbssl_session_offence {
    DBSSL_SESSION_PLAINTEXT = 0,      /* "plaintext" */
    DBSSL_SESSION_BELOW_MIN_PROTOCOL, /* "below_min_protocol" */
};

/* One session as pg_stat_activity and pg_stat_ssl show it. */
struct dbssl_session_row {
    const char *client_addr;      /* "" for a Unix-domain socket */
    const char *application_name; /* "" when unset */
    const char *role;
    long long backend_start; /* epoch seconds */
    bool local;              /* over a Unix-domain socket: TLS never applies */
    bool ssl;
    const char *version; /* "TLSv1.3", "" without TLS */
    bool client_cert;
};

struct dbssl_session_offender {
    char client_addr[48];
    char application_name[DBSSL_PG_NAME_BUF];
    char role[DBSSL_PG_NAME_BUF];
    char version[16]; /* the TLS version, "" for plaintext */
    long long backend_start;
    int reason; /* enum dbssl_session_offence */
};

struct dbssl_sessions {
    int state;          /* enum dbssl_sessions_state */
    char note[512];     /* why not checked or failed, "" when checked */
    char hint[512];     /* what to do about it */
    unsigned total;     /* watched sessions, dbssl's own excluded */
    unsigned local;     /* of which over a Unix-domain socket (not judged) */
    unsigned encrypted; /* TCP sessions with TLS */
    unsigned plaintext; /* TCP sessions without TLS */
    unsigned below_min_protocol;
    unsigned without_client_certificate; /* TLS sessions that sent no client certificate */
    struct {
        char version[16];
        unsigned n;
    } by_version[DBSSL_SESSIONS_MAX_VERSIONS];
    size_t n_versions;
    struct dbssl_session_offender offenders[DBSSL_SESSIONS_MAX_OFFENDERS];
    size_t n_offenders; /* described; plaintext + below_min_protocol may be more */
};

/* "checked", "not_checked", ... by enum dbssl_sessions_state. */
const char *dbssl_sessions_state_name(int state);
/* "plaintext", "below_min_protocol". */
const char *dbssl_session_offence_name(int reason);

/* Starts a count: zero sessions, checked. */
void dbssl_sessions_begin(struct dbssl_sessions *s);

/*
 * Counts one watched session against the lowest TLS version accepted
 * (DB_SSL_MIN_PROTOCOL_VERSION); an offender (plaintext over TCP, or TLS
 * below min) is described while there is room.
 */
void dbssl_sessions_add(struct dbssl_sessions *s, const struct dbssl_session_row *row,
                        enum dbssl_tls_version min);

/*
 * Reads the watched sessions over conn (dbssl's own connection), each query
 * bounded by DB_CONNECT_TIMEOUT.  out is always filled: CHECKED, or
 * NOT_CHECKED / FAILED with note and hint.  Returns -1 (and err) only when
 * the connection failed or timed out, 0 otherwise.
 */
int dbssl_sessions_read(struct pg_conn *conn, const struct dbssl_config *cfg,
                        struct dbssl_sessions *out, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Every client session of the server, as far as the role may see (a fleet probe's view). */
struct dbssl_sessions_census {
    long tls;     /* client sessions over TLS */
    long plain;   /* client sessions over TCP without TLS */
    long unknown; /* sessions the role may not see (another role's, without pg_read_all_stats) */
};

/*
 * Counts them over conn, the query bounded by timeout_s (at least 1).  False
 * when it could not be read (timeout, failed query, an answer not three
 * counts): then each count is -1, never a zero that reads as "none".
 */
bool dbssl_sessions_census(struct pg_conn *conn, long timeout_s,
                           struct dbssl_sessions_census *out) DBSSL_MUSTCHECK;

/*
 * The JSON form, as "sessions" of /health/database/ssl and of the audit's
 * evidence (a new reference): null when UNREAD; the counts are null unless
 * CHECKED (a zero never counted would read as "all encrypted"), with reason
 * and hint otherwise.  NULL on out of memory.
 */
json_t *dbssl_sessions_to_json(const struct dbssl_sessions *s);

/* That form read back into out (null: UNREAD); -1 and err naming the field when it is not. */
int dbssl_sessions_from_json(const json_t *j, struct dbssl_sessions *out,
                             struct dbssl_error *err) DBSSL_MUSTCHECK;

#endif
