/*
 * cmd_devdb.c - `dbssl dev-db start|stop|status`: the local TLS PostgreSQL
 * that `make run` uses, so that a newcomer needs no database setup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "devdb.h"
#include "util.h"

struct devdb_args {
    const char *action;
    const char *env_file;
    struct dbssl_devdb_opts opts;
};

/* Returns -1 to go on (the action in a->action), else the exit status. */
static int parse_args(int argc, char **argv, struct devdb_args *a)
{
    const char *port_s = NULL;
    long port;
    int st;
    const struct cli_option opts[] = {
        {"dir", 'd', CLI_STRING, &a->opts.dir},
        {"env-file", 'e', CLI_STRING, &a->env_file},
        {"port", 'p', CLI_STRING, &port_s},
        {"pgbouncer", 'b', CLI_FLAG, &a->opts.pgbouncer},
        {NULL, 0, CLI_FLAG, NULL},
    };

    memset(a, 0, sizeof(*a));
    if ((st = cli_parse(argc, argv, &cmd_devdb, opts, 1)) >= 0)
        return st;
    if (port_s != NULL) {
        if (!parse_long(port_s, 1, 65535, &port))
            return cli_usage_error("dev-db", "invalid port \"%s\": expected 1 to 65535", port_s);
        a->opts.port = (int)port;
        a->opts.port_fixed = true;
    }
    if (optind >= argc)
        return cli_usage_error("dev-db", "missing action: start, stop or status");
    a->action = argv[optind];
    if (strcmp(a->action, "start") != 0 && strcmp(a->action, "stop") != 0 &&
        strcmp(a->action, "status") != 0)
        return cli_usage_error("dev-db", "unknown action \"%s\": expected start, stop or status",
                               a->action);
    return -1;
}

static int fail(const struct dbssl_error *e)
{
    cli_print_error(e);
    return dbssl_error_exit_status(e->code);
}

/* The settings an application needs to reach the server with full verification. */
static void print_env_lines(const struct dbssl_config *cfg, const char *url)
{
    struct dbssl_file_ref ca, cert, key;

    printf("\nSettings for your .env%s:\n",
           cfg->url.password != NULL ? " (*** is the password already in your .env)" : "");
    printf("  DATABASE_URL=%s\n", url);
    printf("  DB_SSL_MODE=verify-full\n  DB_SSL_REQUIRED=true\n");
    if (dbssl_config_ca_file(cfg, &ca)) {
        if (ca.generated)
            printf("  DB_SSL_AUTO_GENERATE=true\n  DB_SSL_AUTO_CERT_DIR=%s\n", cfg->auto_cert_dir);
        else
            printf("  DB_SSL_CA_CERT=%s\n", ca.path);
    }
    if (dbssl_config_client_files(cfg, &cert, &key)) {
        if (cert.generated)
            printf("  DB_SSL_AUTO_GENERATE_CLIENT=true\n");
        else
            printf("  DB_SSL_CLIENT_CERT=%s\n  DB_SSL_CLIENT_KEY=%s\n", cert.path, key.path);
    }
}

/* PgBouncer in front: where, and how to go through it or read its hops. */
static void print_bouncer(const struct dbssl_config *cfg, const struct dbssl_devdb_state *st)
{
    printf("dev-db: PgBouncer on port %d (pid %ld) in front of it, verify-full on both hops; "
           "config \"%s\", log \"%s\"\n",
           st->bouncer.port, st->bouncer.pid, st->bouncer.ini, st->bouncer.log);
    printf("dev-db: through PgBouncer, use port %d in DATABASE_URL; to check both of its hops,\n"
           "        DB_PGBOUNCER_ADMIN_URL=postgresql://%s:***@localhost:%d/pgbouncer\n",
           st->bouncer.port, cfg->url.user, st->bouncer.port);
}

static int do_start(const struct devdb_args *a)
{
    struct dbssl_config *cfg = NULL;
    struct dbssl_devdb_tls tls;
    struct dbssl_devdb_state st;
    struct dbssl_error e;
    char *url = NULL, bouncer[PATH_BUF];
    long url_port;
    int status = EXIT_CONFIG;

    dbssl_error_clear(&e);
    cfg = cli_load_config(a->env_file);
    if (cfg == NULL)
        goto out;
    /* a missing PgBouncer is refused before the development set is made or renewed */
    if ((a->opts.pgbouncer && devdb_bouncer_find(bouncer, sizeof(bouncer), &e) != 0) ||
        dbssl_devdb_tls_from_config(cfg, &tls, &e) != 0 ||
        dbssl_devdb_start(cfg, &tls, &a->opts, &st, &e) != 0) {
        status = fail(&e);
        goto out;
    }
    if (st.already_running) {
        printf("dev-db: already running on port %d (pid %ld, data directory \"%s\")\n", st.port,
               st.pid, st.datadir);
        if (st.tls_reloaded)
            printf("dev-db: the certificate set changed since the server started: copied it and "
                   "reloaded the server\n");
    } else {
        if (st.relocated)
            printf("dev-db: user \"%s\" cannot reach \"%s\", so the cluster lives in \"%s\" "
                   "(linked from there)\n",
                   st.user, a->opts.dir ? a->opts.dir : "./.dev", st.dir);
        if (st.port != st.wanted_port)
            printf("dev-db: port %d is in use, using port %d instead\n", st.wanted_port, st.port);
        printf("dev-db: started PostgreSQL on port %d (pid %ld, user \"%s\")\n", st.port, st.pid,
               st.user);
        printf("dev-db: data directory \"%s\", log \"%s\"\n", st.datadir, st.log);
        printf("dev-db: TLS on 127.0.0.1 and ::1, scram-sha-256 password%s, plaintext TCP "
               "refused\n",
               tls.client_cert_auth ? " and client certificate (clientcert=verify-full)" : "");
    }
    url = dbssl_devdb_url(cfg, &st);
    if (url == NULL) {
        dbssl_error_set(&e, DBSSL_ERR_NOMEM, NULL, "out of memory");
        status = fail(&e);
        goto out;
    }
    if (a->opts.pgbouncer)
        print_bouncer(cfg, &st);
    if (!parse_long(cfg->url.port ? cfg->url.port : "", 1, 65535, &url_port) || url_port != st.port)
        printf("dev-db: DATABASE_URL names another port: set it to %d\n", st.port);
    print_env_lines(cfg, url);
    status = EXIT_OK;
out:
    free(url);
    dbssl_config_free(cfg);
    return status;
}

static int do_stop(const struct devdb_args *a)
{
    struct dbssl_error e;
    bool was_running;

    dbssl_error_clear(&e);
    if (dbssl_devdb_stop(a->opts.dir, &was_running, &e) != 0)
        return fail(&e);
    printf("dev-db: %s\n", was_running ? "stopped" : "not running");
    return EXIT_OK;
}

static int do_status(const struct devdb_args *a)
{
    struct dbssl_devdb_state st;
    struct dbssl_error e;

    dbssl_error_clear(&e);
    if (dbssl_devdb_status(a->opts.dir, &st, &e) != 0)
        return fail(&e);
    if (!st.running) {
        printf("dev-db: not running (directory \"%s\")\n", st.dir);
        return EXIT_RUNTIME;
    }
    printf("dev-db: running on port %d (pid %ld, data directory \"%s\")\n", st.port, st.pid,
           st.datadir);
    if (st.bouncer.running)
        printf("dev-db: PgBouncer running on port %d (pid %ld, config \"%s\")\n", st.bouncer.port,
               st.bouncer.pid, st.bouncer.ini);
    return EXIT_OK;
}

static int run(int argc, char **argv)
{
    struct devdb_args a;
    int status = parse_args(argc, argv, &a);

    if (status >= 0)
        return status;
    if (strcmp(a.action, "start") == 0)
        return do_start(&a);
    if (strcmp(a.action, "stop") == 0)
        return do_stop(&a);
    return do_status(&a);
}

const struct cli_command cmd_devdb = {
    "dev-db",
    run,
    "start, stop or show a local PostgreSQL with TLS for development",
    "Usage: dbssl dev-db start|stop|status [--dir DIR] [--env-file FILE] [--port PORT]\n"
    "                                      [--pgbouncer]\n"
    "\n"
    "start   creates (first time) and starts a throwaway PostgreSQL cluster in\n"
    "        DIR/pgdata with the machine's PostgreSQL programs, serving TLS only on\n"
    "        127.0.0.1 and ::1 with server.crt/server.key from DB_SSL_AUTO_CERT_DIR,\n"
    "        and creates the role and database of DATABASE_URL (whose host must be\n"
    "        localhost, 127.0.0.1 or ::1), the role with the URL's password.\n"
    "        Clients log in with that password (scram-sha-256) and, with a client\n"
    "        certificate configured, that certificate too (clientcert=verify-full):\n"
    "        the pg_hba.conf lines of \"dbssl pg-config --loopback\".\n"
    "        When run as root the server runs as the \"postgres\" user (or \"nobody\").\n"
    "        Prints the port and the settings to use.  Already running: says so.\n"
    "        With --pgbouncer, also Debian's pgbouncer in front of it, as the same\n"
    "        user, on the next free loopback port, configured with the lines of\n"
    "        \"dbssl pg-config --pgbouncer\" (verify-full on both hops; the role of\n"
    "        DATABASE_URL may read SHOW SERVERS for DB_PGBOUNCER_ADMIN_URL); its\n"
    "        pgbouncer.ini, pid file and log are in DIR.\n"
    "stop    fast shutdown (PgBouncer first); waits until no server process is left.\n"
    "status  says whether it runs and on which port (and PgBouncer's).\n"
    "\n"
    "  --dir DIR        base directory (default ./.dev, made private: 0700)\n"
    "  --env-file FILE  read FILE instead of ./.env (start only)\n"
    "  --port PORT      listen on PORT, fail when it is busy (default: the port of\n"
    "                   DATABASE_URL, else 5433, moving up to the next free one)\n"
    "  --pgbouncer      start PgBouncer in front too (start only)\n"
    "\n"
    "Exit status: 0 ok (status: running), 1 runtime failure (status: not running),\n"
    "2 invalid settings or usage, missing certificate files.\n",
};
