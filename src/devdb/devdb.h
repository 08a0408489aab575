/*
 * devdb.h - a throwaway local PostgreSQL with TLS for development
 * (`dbssl dev-db`): initdb, configure TLS from the certificate set, start on
 * a free loopback port, create the role and database of DATABASE_URL; stop;
 * status.
 *
 * Layout under the base directory (default ./.dev, mode 0700 because it holds
 * the unix socket, where the server's own system user logs in by peer):
 *   pgdata/         the cluster, with copies of the server certificate, key
 *                   and CA owned by the server user (PostgreSQL's key rules)
 *   postgres.log    the server log (kept after a failed start, for the user)
 *   .s.PGSQL.PORT   the unix socket used to create the role and database
 *   pgbouncer.ini, pgbouncer.pid, pgbouncer.log, pgbouncer_users.txt
 *                   with --pgbouncer: Debian's PgBouncer in front of the
 *                   server, as the same user (devdb_bouncer.c)
 */
#ifndef DBSSL_DEVDB_H
#define DBSSL_DEVDB_H

#include <stdbool.h>

#include "config.h"
#include "error_int.h"
#include "proc.h"
#include "util.h"

#define DBSSL_DEVDB_DEFAULT_PORT 5433

/*
 * The certificate files the server uses.  Today they come from the settings
 * (dbssl_devdb_tls_from_config); the certificate module will fill them when
 * it generates the set.
 */
struct dbssl_devdb_tls {
    char server_cert[PATH_BUF];
    char server_key[PATH_BUF];
    char ca_cert[PATH_BUF]; /* "" when no CA is configured: no client certificates */
    bool client_cert_auth;  /* mutual TLS: pg_hba adds clientcert=verify-full to scram */
};

struct dbssl_devdb_opts {
    const char *dir; /* base directory; NULL: ./.dev */
    int port;        /* 0: the DATABASE_URL port, else 5433 */
    bool port_fixed; /* --port given: a busy port is an error, not a reason to move */
    bool pgbouncer;  /* --pgbouncer: PgBouncer in front, on the next free loopback port */
};

/* PgBouncer in front of the development server (devdb_bouncer.c). */
struct dbssl_devdb_bouncer {
    bool running;
    long pid;
    int port;           /* listen_port of its pgbouncer.ini, 0 when none */
    char ini[PATH_BUF]; /* DIR/pgbouncer.ini */
    char log[PATH_BUF]; /* DIR/pgbouncer.log */
    char pidfile[PATH_BUF];
};

struct dbssl_devdb_state {
    bool running;
    bool already_running; /* start found it running */
    bool tls_reloaded;    /* ...with older copies of the TLS files: copied, server reloaded */
    long pid;
    int port;
    int wanted_port;    /* the port asked for (it differs from port when that was busy) */
    char dir[PATH_BUF]; /* absolute base directory */
    char datadir[PATH_BUF];
    char log[PATH_BUF];
    char user[64];  /* the system user the server runs as */
    bool relocated; /* dir was out of that user's reach: it links to a /tmp directory */
    struct dbssl_devdb_bouncer bouncer; /* filled by status and start, whether asked for or not */
};

/*
 * The server certificate, key and CA named by the settings: server.crt and
 * server.key in DB_SSL_AUTO_CERT_DIR, the CA of dbssl_config_ca_file(), and
 * a client certificate required (besides the password) when a client pair is
 * configured.
 * Fails (DBSSL_ERR_CERT) naming the missing or mismatched file.
 */
int dbssl_devdb_tls_from_config(const struct dbssl_config *cfg, struct dbssl_devdb_tls *tls,
                                struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * Starts the development server (creating it on first use).  Idempotent:
 * when it already runs, fills st with already_running set and returns 0.
 * On failure nothing this call created is left behind except the log.
 */
int dbssl_devdb_start(const struct dbssl_config *cfg, const struct dbssl_devdb_tls *tls,
                      const struct dbssl_devdb_opts *opts, struct dbssl_devdb_state *st,
                      struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Stops it (fast shutdown, waits until every server process is gone) and PgBouncer in
 * front of it; *was_running says whether there was anything to stop. */
int dbssl_devdb_stop(const char *dir, bool *was_running, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Fills st from the cluster's postmaster.pid; st->running says whether it runs. */
int dbssl_devdb_status(const char *dir, struct dbssl_devdb_state *st,
                       struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * The URL an application uses for the server in st: user and database of
 * DATABASE_URL, password shown as "***", host as configured, port st->port.
 * Caller frees.
 */
char *dbssl_devdb_url(const struct dbssl_config *cfg, const struct dbssl_devdb_state *st);

/* ---- shared by devdb.c (the lifecycle) and devdb_conf.c (what the cluster is given) ---- */

struct dbssl_pgrun; /* pgrun.h: how the server programs are run */

/* DATABASE_URL names a loopback host, a user and a password (errors name what is missing). */
int devdb_check_url(const struct dbssl_config *cfg, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* After initdb: postgresql.conf includes dbssl.conf, last so that it wins. */
int devdb_include_conf(const struct dbssl_pgrun *rn, const struct dbssl_devdb_state *st,
                       struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Copies the TLS files into the cluster (devdb_sync_tls, always) and writes dbssl.conf
 * and pg_hba.conf. */
int devdb_configure_cluster(const struct dbssl_config *cfg, const struct dbssl_pgrun *rn,
                            const struct dbssl_devdb_tls *tls, const struct dbssl_devdb_state *st,
                            struct dbssl_error *err) DBSSL_MUSTCHECK;

/* The cluster's copies of the TLS files (key 0600, owned by the server user): with always
 * false only those that differ from tls's files (a set renewed since the server started);
 * *changed when any was written: a running server must reload. */
int devdb_sync_tls(const struct dbssl_pgrun *rn, const struct dbssl_devdb_tls *tls,
                   const struct dbssl_devdb_state *st, bool always, bool *changed,
                   struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Creates the role and database of DATABASE_URL in the running cluster, or sets the role's
 * password (existing: the cluster was made by an earlier start). */
int devdb_create_role_and_db(const struct dbssl_pgrun *rn, const struct dbssl_devdb_state *st,
                             bool existing, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* write_file_replace(), owned by u when we are root (the server must own its files). */
int devdb_write_file_as(const char *path, const char *data, size_t len, mode_t mode,
                        const struct dbssl_proc_user *u, struct dbssl_error *err) DBSSL_MUSTCHECK;
/* src read (what names it in errors) and written as devdb_write_file_as() does; wiped after. */
int devdb_copy_file_as(const char *src, const char *dst, const char *what, mode_t mode,
                       const struct dbssl_proc_user *u, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Whether port is free on the loopback addresses (IPv4 and IPv6). */
bool devdb_port_free(int port);
/* Waits up to ms for process pid to be gone; true when it is. */
bool devdb_wait_gone(long pid, int ms);

/* ---- PgBouncer in front (devdb_bouncer.c) ---- */

/* The pgbouncer program: PATH, else /usr/sbin (Debian's); the error's hint says how to install. */
int devdb_bouncer_find(char *out, size_t len, struct dbssl_error *err) DBSSL_MUSTCHECK;
/*
 * Test builds only: given Debian's /usr/sbin/pgbouncer, the program
 * devdb_bouncer_find() falls back to when PATH has none, so that a test can
 * see the refusal on a machine that has PgBouncer.  Weak and hidden in
 * devdb_bouncer.c as clock.h's hook is: never define it in src/; only the
 * shell tests' dbssl does (tests/testclock/testbouncer.c).
 */
const char *dbssl_devdb_test_bouncer_fallback(const char *debian);
/* st->bouncer from DIR's pgbouncer.pid and pgbouncer.ini (st->dir set). */
void devdb_bouncer_status(struct dbssl_devdb_state *st);
/*
 * Starts program (devdb_bouncer_find) as rn's user in front of the running
 * server of st, on the next free loopback port after it, with the lines of
 * `dbssl pg-config --pgbouncer` pointing at copies in the data directory;
 * its users file holds the role's SCRAM secret from the server, never the
 * password.  Fills st->bouncer.  Already running: does nothing.
 */
int devdb_bouncer_start(const struct dbssl_pgrun *rn, const char *program,
                        const struct dbssl_devdb_tls *tls, struct dbssl_devdb_state *st,
                        struct dbssl_error *err) DBSSL_MUSTCHECK;
/* Stops it when running (SIGTERM, then SIGKILL); *was_running says whether it was. */
int devdb_bouncer_stop(struct dbssl_devdb_state *st, bool *was_running,
                       struct dbssl_error *err) DBSSL_MUSTCHECK;

#endif
