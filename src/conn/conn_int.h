/*
 * conn_int.h - inside conn/ and for the connect API's callers: libpq's
 * PGconn with dbssl's settings (conn_types.h has what the layers above see
 * without libpq), and the pieces of conn.c that are pure functions of their
 * input, exposed so that unit tests can check them
 * without a database: building libpq's keyword/value arrays from the
 * settings, and classifying libpq's failure messages.
 */
#ifndef DBSSL_CONN_INT_H
#define DBSSL_CONN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "clock.h"
#include "config.h"
#include "conn_types.h"
#include "dbssl/conn.h"
#include "error_int.h"

#define DBSSL_CONN_MAX_PARAMS 96

/* NULL-terminated arrays for PQconnectdbParams(keywords, values, 0). */
struct dbssl_conn_params {
    const char *keywords[DBSSL_CONN_MAX_PARAMS + 1];
    const char *values[DBSSL_CONN_MAX_PARAMS + 1];
    size_t n;
    void *parsed;          /* PQconninfoOption array the URL's values point into */
    char *ca, *cert, *key; /* file paths in use (owned) */
    char *sslpassword;     /* the key's passphrase from its file (owned, wiped when freed) */
    char timeout[24];
    char port[8]; /* a port given by struct dbssl_conn_to */
};

/*
 * Builds the parameters: every keyword DATABASE_URL sets, then dbssl's
 * settings on top (sslmode, sslrootcert, sslcert, sslkey, sslcrl (files
 * where given), sslpassword from DB_SSL_CLIENT_KEY_PASSWORD_FILE,
 * ssl_min_protocol_version (the URL's when it is the stronger),
 * connect_timeout, sslnegotiation, sslcertmode and require_auth when they
 * ask for more than every libpq does, application_name when the URL has
 * none, gssencmode=disable when TLS is required).  Values
 * point into cfg, files and p; free p with dbssl_conn_params_free().
 */
int dbssl_conn_build_params(const struct dbssl_config *cfg, const struct dbssl_conn_files *files,
                            struct dbssl_conn_params *p, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* dbssl_connect() with files (may be NULL) instead of the settings' own. */
PGconn *dbssl_connect_files(const struct dbssl_config *cfg, const struct dbssl_conn_files *files,
                            struct dbssl_tls_state *state, struct dbssl_error *err);

/*
 * Where and how long, instead of DATABASE_URL's host and DB_CONNECT_TIMEOUT:
 * the fleet probe's login module logs in to each target with one module's
 * settings.  host (an address or a name) replaces the URL's host and
 * hostaddr, port its port (0: the URL's); with deadline_ms (monotonic
 * milliseconds, CLOCK_MONOTONIC) the connection is made without blocking
 * and abandoned at the deadline, and the session query gets the time left.
 */
struct dbssl_conn_to {
    const char *host;
    int port;
    long long deadline_ms;
    /* replaces the URL's target_session_attrs when set: a probe of one host
     * of a multi-host URL connects to a standby as well ("any") */
    const char *session_attrs;
    /* a pooler's admin console (PgBouncer's database "pgbouncer"), which
     * answers only its SHOW commands: no pg_stat_ssl query after connecting */
    bool admin_console;
    /* the address to connect to, host staying the name verify-full checks
     * (libpq's hostaddr); NULL: host is looked up */
    const char *hostaddr;
};

/* dbssl_conn_build_params() with to's host and port (files and to may be NULL). */
int dbssl_conn_build_params_to(const struct dbssl_config *cfg, const struct dbssl_conn_files *files,
                               const struct dbssl_conn_to *to, struct dbssl_conn_params *p,
                               struct dbssl_error *err) DBSSL_MUSTCHECK;

/* dbssl_connect_files() to another host, bounded by to's deadline (see above). */
PGconn *dbssl_connect_to(const struct dbssl_config *cfg, const struct dbssl_conn_files *files,
                         const struct dbssl_conn_to *to, struct dbssl_tls_state *state,
                         struct dbssl_error *err) DBSSL_MUSTCHECK;

void dbssl_conn_params_free(struct dbssl_conn_params *p);
/* The value of keyword in p, or NULL. */
const char *dbssl_conn_params_get(const struct dbssl_conn_params *p, const char *keyword);

/* One parameter of p with what libpq itself says about its keyword. */
struct dbssl_conn_param_info {
    const char *keyword;
    const char *value;
    const char *envvar; /* the variable libpq reads it from (PGSSLMODE...), NULL when none */
    bool secret;        /* libpq hides it in a connect dialog (dispchar "*"): password... */
    bool from_url;      /* DATABASE_URL sets it (dbssl's settings may have replaced the value) */
};

/*
 * The parameters of p in the order of libpq's own option table (a stable
 * order whatever the form of DATABASE_URL), each with that table's
 * environment variable and secrecy; a keyword the linked libpq does not
 * know comes last, without a variable.  Writes at most max entries into
 * out and returns their number; the strings live as long as p.
 */
size_t dbssl_conn_params_describe(const struct dbssl_conn_params *p,
                                  struct dbssl_conn_param_info *out, size_t max);

struct dbssl_conn_diagnosis {
    enum dbssl_conn_class cls;
    enum dbssl_verify_reason reason;
    const char *hint; /* static, a full sentence */
};

/*
 * Runs one query with a deadline of timeout_s seconds.  Returns 0 and the
 * result (PGRES_TUPLES_OK; the caller PQclear()s it), -1 on a failure (the
 * connection's PQerrorMessage() says why), -2 on timeout.
 */
int dbssl_conn_exec_bounded(PGconn *conn, const char *sql, long timeout_s,
                            PGresult **out) DBSSL_MUSTCHECK;
/* The same with nparams text parameters $1.. (values, never pasted into sql). */
int dbssl_conn_exec_params_bounded(PGconn *conn, const char *sql, int nparams,
                                   const char *const *params, long timeout_s,
                                   PGresult **out) DBSSL_MUSTCHECK;

/* Classifies a libpq error message (any language-neutral libpq 15 text). */
struct dbssl_conn_diagnosis dbssl_conn_classify(const char *libpq_message);

/* The diagnosis of a failure dbssl itself found, of class cls, with its general hint. */
struct dbssl_conn_diagnosis dbssl_conn_diagnosis_of(enum dbssl_conn_class cls);

/*
 * Looks further than the message of a failed connection made with p as
 * user: a verification failure whose cause is an expired CA certificate,
 * or the server's certificate listed in p's CRL (fetched again without
 * authenticating); a password failure that is really a client certificate
 * whose CN is not the user.  Updates d.  conn_failure.c.
 */
void dbssl_conn_explain(const struct dbssl_config *cfg, const struct dbssl_conn_params *p,
                        const char *user, struct dbssl_conn_diagnosis *d);

/* Whole seconds left until deadline_ms (clock.h's dbssl_mono_ms()), at least 1: a query's bound. */
long dbssl_conn_seconds_left(long long deadline_ms);

/*
 * libpq's message as one line in dst: each line break (with the tab of a
 * continuation line, "\n\tIs the server running...") becomes "; ", runs of
 * blanks one space, so that a person reads "...Connection refused; Is the
 * server running..." in the JSON, the logs and the CLI alike.  Truncated to
 * fit len.
 */
void dbssl_conn_message_one_line(char *dst, size_t len, const char *src);

#endif
