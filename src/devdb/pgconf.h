/*
 * pgconf.h - the postgresql.conf and pg_hba.conf lines that make a
 * PostgreSQL server use the generated certificate set (the guide's
 * "PostgreSQL Server Configuration"), for `dbssl pg-config` and for any
 * code that writes a server's configuration files.
 */
#ifndef DBSSL_PGCONF_H
#define DBSSL_PGCONF_H

#include <stdbool.h>

#include "config.h"
#include "error_int.h"

struct dbssl_pgconf_opts {
    const char *listen_addresses; /* e.g. "localhost"; NULL: no listen_addresses line */
    int port;                     /* 0: no port line */
    bool loopback_only;     /* hostssl for 127.0.0.1/32 and ::1/128 only, else all addresses */
    const char *cert_dir;   /* the set's directory; NULL: DB_SSL_AUTO_CERT_DIR */
    bool without_ca;        /* no ssl_ca_file line (no CA in the set: no client certificates) */
    const char *profile;    /* TLS profile (scan/scan_profile.h), NULL: "intermediate" */
};

/*
 * Renders both files' lines, for `dbssl pg-config` and the files `dbssl
 * dev-db` writes alike.  pg_hba.conf:
 *   local      all  all  peer        the Unix socket: each system user as the
 *                                    role of its own name, no secret on disk
 *                                    (dev-db runs its setup SQL this way)
 *   hostssl    all  all  NET  scram-sha-256 [clientcert=verify-full]
 *                                    a password always; with mutual TLS also
 *                                    a client certificate of the CA whose CN
 *                                    is the role
 *   hostnossl  all  all  0.0.0.0/0 and ::/0  reject
 * never a plaintext "host" line.  Paths are absolute.  *conf and *hba are
 * the caller's to free.
 */
int dbssl_pgconf_render(const struct dbssl_config *cfg, const struct dbssl_pgconf_opts *o,
                        char **conf, char **hba, struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * The [pgbouncer] lines of pgbouncer.ini for TLS on both hops (PgBouncer
 * 1.18's client_tls_* and server_tls_* settings): the client hop with the
 * set's server pair (verify-full, the set's CA, when client certificates
 * are configured, else require), the server hop verify-full against the CA
 * with the client pair when there is one; versions, TLS 1.2 suites and
 * (client hop) the one ECDH curve of o's profile.  Files the settings name (DB_SSL_CA_CERT, DB_SSL_CLIENT_*) are
 * used where given, else the set's.  *ini is the caller's to free.
 */
int dbssl_pgconf_render_pgbouncer(const struct dbssl_config *cfg,
                                  const struct dbssl_pgconf_opts *o, char **ini,
                                  struct dbssl_error *err) DBSSL_MUSTCHECK;

#endif
