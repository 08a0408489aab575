/*
 * devdb_bouncer.c - `dbssl dev-db start --pgbouncer`: Debian's PgBouncer in
 * front of the development server, so that both of a pooler's TLS hops can
 * be tried on one machine (see devdb.h for the files it keeps).
 *
 * Its configuration is the one `dbssl pg-config --pgbouncer` prints
 * (pgconf.c, one code path), pointing at copies of the set in the data
 * directory that the server user owns: PgBouncer runs as that user, as the
 * server does, and never as root (it refuses to).  Both hops are verify-full
 * with the set's CA; with mutual TLS the client hop asks for client
 * certificates and the server hop presents the client pair.  Its users file
 * holds the role's SCRAM secret as the server stores it, so PgBouncer logs
 * in to the server with the client's own SCRAM proof and no password is
 * written anywhere.  The role of DATABASE_URL may read SHOW SERVERS / SHOW
 * CLIENTS (stats_users), for DB_PGBOUNCER_ADMIN_URL.
 */
#include "devdb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pgconf.h"
#include "pgrun.h"
#include "util.h"

#define BOUNCER_PORT_TRIES 100
#define BOUNCER_START_S    30
#define BOUNCER_LISTEN_MS  10000
#define BOUNCER_STOP_MS    10000
#define BOUNCER_FILE_MAX   (64 * 1024)
#define BOUNCER_FALLBACK   "/usr/sbin/pgbouncer" /* Debian's place, off a user's PATH */
#define BOUNCER_INSTALL_HINT                                                                       \
    "Install Debian's PgBouncer with \"apt-get install pgbouncer\" (dbssl runs it as a plain "     \
    "process; the pgbouncer service need not be enabled)."

/* hidden, as clock.c's hook: no shipped object defines it, so it is NULL there */
extern const char *dbssl_devdb_test_bouncer_fallback(const char *debian)
    __attribute__((weak, visibility("hidden")));

int devdb_bouncer_find(char *out, size_t len, struct dbssl_error *err)
{
    const char *fallback = BOUNCER_FALLBACK;

    if (dbssl_pgrun_which("pgbouncer", out, len))
        return 0;
    if (dbssl_devdb_test_bouncer_fallback != NULL)
        fallback = dbssl_devdb_test_bouncer_fallback(BOUNCER_FALLBACK);
    if ((size_t)snprintf(out, len, "%s", fallback) < len && access(out, X_OK) == 0)
        return 0;
    out[0] = '\0';
    dbssl_error_set(err, DBSSL_ERR_IO, BOUNCER_INSTALL_HINT,
                    "PgBouncer is not installed: no \"pgbouncer\" program on PATH or in /usr/sbin");
    return -1;
}

static bool bouncer_paths(struct dbssl_devdb_state *st)
{
    struct dbssl_devdb_bouncer *b = &st->bouncer;

    return path_join(b->ini, sizeof(b->ini), st->dir, "pgbouncer.ini") &&
           path_join(b->log, sizeof(b->log), st->dir, "pgbouncer.log") &&
           path_join(b->pidfile, sizeof(b->pidfile), st->dir, "pgbouncer.pid");
}

/* The first number after "name = " at the start of a line of text, 0 when none. */
static long ini_number(const char *text, const char *name)
{
    size_t n = strlen(name);
    long v;

    for (const char *p = text; p != NULL; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, name, n) != 0 || strncmp(p + n, " = ", 3) != 0)
            continue;
        char buf[16];
        snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(p + n + 3, "\n"), p + n + 3);
        if (parse_long(buf, 1, 65535, &v))
            return v;
    }
    return 0;
}

/* A pid file left by a crash may name a process that reuses the number: never signal that. */
static bool is_pgbouncer(long pid)
{
    char path[64], comm[32] = "";
    FILE *f;
    bool yes;

    /* a /proc file reports size 0, so it is read as a stream, not with read_file() */
    snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
    if ((f = fopen(path, "re")) == NULL)
        return errno != ENOENT || access("/proc/self", F_OK) != 0; /* no /proc: as pg_ctl */
    yes = fgets(comm, sizeof(comm), f) != NULL && strncmp(comm, "pgbouncer", 9) == 0;
    fclose(f);
    return yes;
}

void devdb_bouncer_status(struct dbssl_devdb_state *st)
{
    struct dbssl_devdb_bouncer *b = &st->bouncer;
    char *data = NULL;
    size_t len;
    long v;

    memset(b, 0, sizeof(*b));
    if (!bouncer_paths(st))
        return;
    if (read_file(b->ini, "pgbouncer.ini", BOUNCER_FILE_MAX, &data, &len, NULL) == 0)
        b->port = (int)ini_number(data, "listen_port");
    free(data);
    data = NULL;
    if (read_file(b->pidfile, "pid file", BOUNCER_FILE_MAX, &data, &len, NULL) == 0) {
        data[strcspn(data, "\n")] = '\0';
        if (parse_long(data, 1, 0x7fffffffL, &v))
            b->pid = v;
    }
    free(data);
    if (b->pid > 0)
        b->running = (kill((pid_t)b->pid, 0) == 0 || errno == EPERM) && is_pgbouncer(b->pid);
}

/* Appends s in double quotes, as PgBouncer's auth_file reads it ("" for "). */
static void append_dq(struct strbuf *sb, const char *s)
{
    strbuf_append_c(sb, '"');
    for (; *s; s++) {
        if (*s == '"')
            strbuf_append_c(sb, '"');
        strbuf_append_c(sb, *s);
    }
    strbuf_append_c(sb, '"');
}

/*
 * The users file: the role's SCRAM secret as pg_authid holds it, read over
 * the private socket as the cluster's superuser (peer).  The role name is a
 * psql variable, never pasted into SQL.
 */
static int write_users(const struct dbssl_pgrun *rn, const struct dbssl_devdb_state *st,
                       struct dbssl_error *err)
{
    const char *user = rn->cfg->url.user;
    char prog[PATH_BUF], port[16], var[160], dst[PATH_BUF], *out = NULL;
    const char *argv[] = {prog, "-X", "-q",           "-At", "-w",       "-h", st->dir, "-p",
                          port, "-U", rn->user->name, "-d",  "postgres", "-v", var,     NULL};
    struct dbssl_proc_run r = {argv, rn->user, rn->cwd, NULL, BOUNCER_START_S};
    struct strbuf sb;
    int status = -1, ret = -1;

    r.input = "SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = :'u';\n";
    snprintf(port, sizeof(port), "%d", st->port);
    if (!path_join(prog, sizeof(prog), rn->bindir, "psql") ||
        (size_t)snprintf(var, sizeof(var), "u=%s", user) >= sizeof(var)) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, NULL, "the user name of DATABASE_URL is too long");
        return -1;
    }
    if (dbssl_proc_run(&r, &status, &out, err) != 0)
        return -1;
    strbuf_init(&sb);
    if (status != 0 || out == NULL || strncmp(out, "SCRAM-SHA-256$", 14) != 0) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG,
                        "Give DATABASE_URL a password: dev-db stores it as a SCRAM secret, "
                        "which PgBouncer needs to log in for the client.",
                        "role \"%s\" has no SCRAM-SHA-256 password in the development database",
                        user);
        goto out;
    }
    out[strcspn(out, "\r\n")] = '\0';
    append_dq(&sb, user);
    strbuf_append_c(&sb, ' ');
    append_dq(&sb, out);
    strbuf_append_c(&sb, '\n');
    if (sb.oom) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    if (!path_join(dst, sizeof(dst), st->dir, "pgbouncer_users.txt")) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, NULL, "path under \"%s\" is too long", st->dir);
        goto out;
    }
    ret = devdb_write_file_as(dst, sb.data, sb.len, 0600, rn->user, err);
out:
    if (sb.data != NULL)
        explicit_bzero(sb.data, sb.len);
    strbuf_free(&sb);
    if (out != NULL)
        explicit_bzero(out, strlen(out));
    free(out);
    return ret;
}

/* A name pgbouncer.ini takes as it is: its parser knows no quotes in keys and lists. */
static bool bare_word(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return false;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

/*
 * pgbouncer.ini: [databases] the URL's database on the server (by the name
 * its certificate lists, for verify-full), [pgbouncer] loopback only, no
 * Unix socket, SCRAM, session pooling, then the lines of `pg-config
 * --pgbouncer` for settings whose files are the copies in the data directory.
 */
static int write_ini(const struct dbssl_pgrun *rn, const struct dbssl_devdb_tls *tls,
                     struct dbssl_devdb_state *st, struct dbssl_error *err)
{
    const struct dbssl_config *cfg = rn->cfg;
    struct dbssl_config copies = *cfg;
    char ca[PATH_BUF], cert[PATH_BUF], key[PATH_BUF], *tls_lines = NULL;
    struct dbssl_pgconf_opts po = {NULL, 0, true, st->datadir, tls->ca_cert[0] == '\0'};
    const char *db = cfg->url.dbname ? cfg->url.dbname : cfg->url.user;
    struct strbuf sb;
    int ret = -1;

    if (!path_join(ca, sizeof(ca), st->datadir, "ca.crt") ||
        !path_join(cert, sizeof(cert), st->datadir, "client.crt") ||
        !path_join(key, sizeof(key), st->datadir, "client.key")) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, NULL, "path under \"%s\" is too long", st->datadir);
        return -1;
    }
    /* the copies stand in for the files the settings name: PgBouncer's user reads them */
    copies.ca_cert = tls->ca_cert[0] ? ca : NULL;
    copies.client_cert = tls->client_cert_auth ? cert : NULL;
    copies.client_key = tls->client_cert_auth ? key : NULL;
    if (dbssl_pgconf_render_pgbouncer(&copies, &po, &tls_lines, err) != 0)
        return -1;
    if (!bare_word(db) || !bare_word(cfg->url.user)) {
        free(tls_lines);
        dbssl_error_set(err, DBSSL_ERR_CONFIG,
                        "Use a user and database name of letters, digits and \"_\" in "
                        "DATABASE_URL.",
                        "PgBouncer 1.18 cannot name user \"%s\" or database \"%s\" in "
                        "pgbouncer.ini",
                        cfg->url.user, db);
        return -1;
    }
    strbuf_init(&sb);
    strbuf_append(&sb, ";; written by dbssl dev-db --pgbouncer; rewritten at every start\n"
                       "[databases]\n");
    strbuf_printf(&sb, "%s = host=localhost port=%d dbname=%s", db, st->port, db);
    strbuf_printf(&sb,
                  "\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = %d\n"
                  "unix_socket_dir =\nauth_type = scram-sha-256\n"
                  "auth_file = %s/pgbouncer_users.txt\npidfile = %s\nlogfile = %s\n"
                  "pool_mode = session\nstats_users = %s\n",
                  st->bouncer.port, st->dir, st->bouncer.pidfile, st->bouncer.log, cfg->url.user);
    strbuf_append(&sb, tls_lines);
    if (sb.oom)
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
    else
        ret = devdb_write_file_as(st->bouncer.ini, sb.data, sb.len, 0600, rn->user, err);
    strbuf_free(&sb);
    free(tls_lines);
    return ret;
}

/* The client pair for the server hop, copied next to the server's own copies. */
static int copy_client_pair(const struct dbssl_pgrun *rn, const struct dbssl_devdb_state *st,
                            struct dbssl_error *err)
{
    struct dbssl_file_ref cert, key;
    char dst[PATH_BUF];

    if (!dbssl_config_client_files(rn->cfg, &cert, &key))
        return 0;
    if (!path_join(dst, sizeof(dst), st->datadir, "client.crt") ||
        devdb_copy_file_as(cert.path, dst, "client certificate", 0644, rn->user, err) != 0 ||
        !path_join(dst, sizeof(dst), st->datadir, "client.key") ||
        devdb_copy_file_as(key.path, dst, "client key", 0600, rn->user, err) != 0)
        return -1;
    return 0;
}

static bool listening(int port)
{
    struct sockaddr_in a = {0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    if (fd < 0)
        return false;
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

static int pick_bouncer_port(struct dbssl_devdb_state *st, struct dbssl_error *err)
{
    for (int p = st->port + 1; p <= 65535 && p <= st->port + BOUNCER_PORT_TRIES; p++) {
        if (devdb_port_free(p)) {
            st->bouncer.port = p;
            return 0;
        }
    }
    dbssl_error_set(err, DBSSL_ERR_IO, "Free a loopback port above the server's.",
                    "no free loopback port for PgBouncer from %d on", st->port + 1);
    return -1;
}

int devdb_bouncer_start(const struct dbssl_pgrun *rn, const char *program,
                        const struct dbssl_devdb_tls *tls, struct dbssl_devdb_state *st,
                        struct dbssl_error *err)
{
    const char *argv[] = {program, "-d", st->bouncer.ini, NULL};
    struct dbssl_proc_run r = {argv, rn->user, rn->cwd, NULL, BOUNCER_START_S};
    char *out = NULL, *tail = NULL, hint[PATH_TEXT_BUF];
    int status = -1, ret = -1;

    devdb_bouncer_status(st);
    if (st->bouncer.running)
        return 0;
    if (!bouncer_paths(st)) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, NULL, "path under \"%s\" is too long", st->dir);
        return -1;
    }
    if (pick_bouncer_port(st, err) != 0 || copy_client_pair(rn, st, err) != 0 ||
        write_users(rn, st, err) != 0 || write_ini(rn, tls, st, err) != 0)
        return -1;
    (void)unlink(st->bouncer.pidfile); /* a stale one from a crash: PgBouncer refuses it */
    if (dbssl_proc_run(&r, &status, &out, err) != 0)
        goto out;
    /* -d: it forks once listening; a failure before that is in its log */
    for (int waited = 0; status == 0 && waited < BOUNCER_LISTEN_MS; waited += 50) {
        devdb_bouncer_status(st);
        if (st->bouncer.running && listening(st->bouncer.port)) {
            ret = 0;
            goto out;
        }
        usleep(50 * 1000);
    }
    /* before -d detaches, its complaints go to stderr; after, to its log */
    tail = status != 0 ? dbssl_pgrun_tail(rn->cfg, out, DBSSL_PGRUN_TAIL_LINES)
                       : dbssl_pgrun_file_tail(rn->cfg, st->bouncer.log, DBSSL_PGRUN_TAIL_LINES);
    snprintf(hint, sizeof(hint), "The full log is \"%s\".", st->bouncer.log);
    dbssl_error_set(err, DBSSL_ERR_IO, hint, "could not start PgBouncer: %s",
                    tail && tail[0] ? tail : "it did not listen");
    if (st->bouncer.running)
        (void)kill((pid_t)st->bouncer.pid, SIGKILL);
out:
    free(tail);
    free(out);
    return ret;
}

int devdb_bouncer_stop(struct dbssl_devdb_state *st, bool *was_running, struct dbssl_error *err)
{
    struct dbssl_devdb_bouncer *b = &st->bouncer;

    devdb_bouncer_status(st);
    if (!b->running)
        return 0;
    *was_running = true;
    /* SIGINT: PgBouncer's "safe shutdown" waits for clients; SIGTERM closes at once */
    if (kill((pid_t)b->pid, SIGTERM) == 0 && devdb_wait_gone(b->pid, BOUNCER_STOP_MS))
        goto gone;
    (void)kill((pid_t)b->pid, SIGKILL);
    if (devdb_wait_gone(b->pid, BOUNCER_STOP_MS))
        goto gone;
    dbssl_error_set(err, DBSSL_ERR_IO, "Stop it with \"kill -9\".",
                    "PgBouncer (pid %ld) did not stop", b->pid);
    return -1;
gone:
    (void)unlink(b->pidfile);
    b->running = false;
    return 0;
}
