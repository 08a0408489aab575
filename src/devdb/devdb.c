/*
 * devdb.c - `dbssl dev-db`: a throwaway PostgreSQL with TLS on loopback for
 * development, built from the machine's PostgreSQL programs.  This file is
 * the cluster's lifecycle (its directory, port, initdb, start, status,
 * stop); what the cluster is given (settings, TLS files, configuration,
 * role and database) is devdb_conf.c's.
 *
 * The server programs run as an unprivileged user when we are root (see
 * proc.c).  libpq is not used here: the role and database are created with
 * the cluster's own psql over the private unix socket, so that this module
 * stays free of libpq types.  The cluster's superuser has the name of the
 * system user the server runs as (initdb's own default; see devdb_conf.c).
 */
#include "devdb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "pgrun.h"
#include "proc.h"
#include "util.h"

#define DEFAULT_DIR      "./.dev"
#define PORT_TRIES       100
#define INITDB_TIMEOUT_S 180
#define PGCTL_TIMEOUT_S  90
#define STOP_WAIT_MS     15000

/* ---- small file helpers ------------------------------------------------------ */

static bool exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* ---- state on disk ------------------------------------------------------------- */

static int set_paths(struct dbssl_devdb_state *st, const char *absdir, struct dbssl_error *err)
{
    if (snprintf(st->dir, sizeof(st->dir), "%s", absdir) >= (int)sizeof(st->dir) ||
        !path_join(st->datadir, sizeof(st->datadir), absdir, "pgdata") ||
        !path_join(st->log, sizeof(st->log), absdir, "postgres.log")) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, NULL, "directory path \"%s\" is too long", absdir);
        return -1;
    }
    return 0;
}

/* Reads pid and port from postmaster.pid; running when that process exists. */
static void read_pidfile(struct dbssl_devdb_state *st)
{
    char path[PATH_BUF], *data = NULL;
    size_t len;
    long v;
    int line = 1;

    st->running = false;
    if (!path_join(path, sizeof(path), st->datadir, "postmaster.pid") ||
        read_file(path, "pid file", 64 * 1024, &data, &len, NULL) != 0)
        return;
    for (char *p = data, *nl; p != NULL && line <= 4; p = nl ? nl + 1 : NULL, line++) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (line == 1 && parse_long(p, 1, 0x7fffffffL, &v))
            st->pid = v;
        else if (line == 4 && parse_long(p, 1, 65535, &v))
            st->port = (int)v;
    }
    free(data);
    if (st->pid > 0)
        st->running = kill((pid_t)st->pid, 0) == 0 || errno == EPERM;
}

int dbssl_devdb_status(const char *dir, struct dbssl_devdb_state *st, struct dbssl_error *err)
{
    char abs[PATH_BUF];
    struct stat sb;
    struct dbssl_proc_user u;

    memset(st, 0, sizeof(*st));
    if (dir == NULL)
        dir = DEFAULT_DIR;
    if (realpath(dir, abs) == NULL) /* no directory: nothing runs there */
        return set_paths(st, dir, err);
    if (set_paths(st, abs, err) != 0)
        return -1;
    if (stat(st->datadir, &sb) == 0 && dbssl_proc_user_by_uid(sb.st_uid, &u, NULL) == 0)
        snprintf(st->user, sizeof(st->user), "%s", u.name);
    read_pidfile(st);
    devdb_bouncer_status(st);
    return 0;
}

/* ---- running the server programs ----------------------------------------------- */

static int pg_ctl_stop(const struct dbssl_pgrun *rn, const char *datadir, const char *mode,
                       struct dbssl_error *err)
{
    const char *args[] = {"pg_ctl", "stop", "-D", datadir, "-m", mode,
                          "-w",     "-t",   "60", "-s",    NULL};
    return dbssl_pgrun(rn, "pg_ctl stop", args, NULL, PGCTL_TIMEOUT_S, NULL, err);
}

/* ---- start ----------------------------------------------------------------------- */

/* SIGHUP through pg_ctl: PostgreSQL reads its certificate and key files again. */
static int pg_ctl_reload(const struct dbssl_pgrun *rn, const char *datadir,
                         struct dbssl_error *err)
{
    const char *args[] = {"pg_ctl", "reload", "-D", datadir, NULL};
    return dbssl_pgrun(rn, "pg_ctl reload", args, NULL, PGCTL_TIMEOUT_S, NULL, err);
}

static bool port_free_on(int family, int port)
{
    struct sockaddr_in a4 = {0};
    struct sockaddr_in6 a6 = {0};
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, rc;

    if (fd < 0) /* no IPv6 on this machine: nothing can listen there either */
        return true;
    /* PostgreSQL sets SO_REUSEADDR too, so a port in TIME_WAIT is usable */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (family == AF_INET) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)port);
        a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = bind(fd, (struct sockaddr *)&a4, sizeof(a4));
    } else {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)port);
        a6.sin6_addr = in6addr_loopback;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        rc = bind(fd, (struct sockaddr *)&a6, sizeof(a6));
    }
    close(fd);
    return rc == 0 || (errno != EADDRINUSE && errno != EACCES);
}

bool devdb_port_free(int port)
{
    return port_free_on(AF_INET, port) && port_free_on(AF_INET6, port);
}

static int pick_port(const struct dbssl_config *cfg, const struct dbssl_devdb_opts *opts,
                     struct dbssl_devdb_state *st, struct dbssl_error *err)
{
    long v;

    st->wanted_port = opts->port;
    if (st->wanted_port == 0 && cfg->url.port && parse_long(cfg->url.port, 1, 65535, &v))
        st->wanted_port = (int)v;
    if (st->wanted_port == 0)
        st->wanted_port = DBSSL_DEVDB_DEFAULT_PORT;
    for (int p = st->wanted_port; p <= 65535 && p < st->wanted_port + PORT_TRIES; p++) {
        if (devdb_port_free(p)) {
            st->port = p;
            return 0;
        }
        if (opts->port_fixed)
            break;
    }
    dbssl_error_set(err, DBSSL_ERR_IO,
                    opts->port_fixed ? "Stop the program listening there, or choose another "
                                       "port with --port."
                                     : "Free a port or choose one with --port.",
                    opts->port_fixed ? "port %d on the loopback interface is already in use"
                                     : "no free loopback port from %d on",
                    st->wanted_port);
    return -1;
}

/*
 * Creates or adopts the base directory: private (0700) and owned by the server
 * user, because the unix socket there trusts whoever can reach it.  An existing
 * directory of someone else is adopted only when it is empty.
 */
/*
 * As root, a directory we just made may be out of the server user's reach (a
 * checkout under /root).  Then the cluster lives in a private directory under
 * /tmp and dir becomes a symlink to it, which status and stop follow.
 */
static int relocate_dir(const char *dir, const struct dbssl_proc_user *u, char *abs, size_t len,
                        struct dbssl_error *err)
{
    char tmpl[] = "/tmp/dbssl-dev.XXXXXX";
    bool made = false;

    if (rmdir(dir) != 0 || !(made = mkdtemp(tmpl) != NULL) || chown(tmpl, u->uid, u->gid) != 0 ||
        symlink(tmpl, dir) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO,
                        "Choose a directory that user can reach with --dir (for example under "
                        "/tmp).",
                        "could not place the development database under /tmp for user \"%s\": %s",
                        u->name, strerror(errno));
        if (made)
            (void)rmdir(tmpl);
        return -1;
    }
    snprintf(abs, len, "%s", tmpl);
    return 0;
}

static int prepare_dir(const char *dir, const struct dbssl_proc_user *u, bool *created,
                       struct dbssl_devdb_state *st, struct dbssl_error *err)
{
    char abs[PATH_BUF];
    struct stat sb;
    DIR *d;
    struct dirent *de;
    bool empty = true;

    *created = false;
    /* a link to a /tmp directory that a reboot removed: start afresh */
    if (lstat(dir, &sb) == 0 && S_ISLNK(sb.st_mode) && stat(dir, &sb) != 0)
        (void)unlink(dir);
    if (mkdir(dir, 0700) == 0)
        *created = true;
    else if (errno != EEXIST) {
        dbssl_error_set(err, DBSSL_ERR_IO, "Choose another directory with --dir.",
                        "could not create directory \"%s\": %s", dir, strerror(errno));
        return -1;
    }
    if (realpath(dir, abs) == NULL || stat(abs, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        dbssl_error_set(err, DBSSL_ERR_IO, "Choose another directory with --dir.",
                        "\"%s\" is not a usable directory", dir);
        return -1;
    }
    if (set_paths(st, abs, err) != 0)
        return -1;
    if (sb.st_uid != u->uid) {
        d = opendir(abs);
        while (d != NULL && (de = readdir(d)) != NULL)
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                empty = false;
        if (d != NULL)
            closedir(d);
        if (!u->drop || !empty || chown(abs, u->uid, u->gid) != 0) {
            dbssl_error_set(err, DBSSL_ERR_CONFIG,
                            "Use a new directory with --dir; dbssl creates it with the right "
                            "owner.",
                            "directory \"%s\" is not owned by \"%s\", the user the server runs as",
                            abs, u->name);
            return -1;
        }
    }
    if ((sb.st_mode & 077) != 0 && chmod(abs, 0700) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not make directory \"%s\" private: %s", abs,
                        strerror(errno));
        return -1;
    }
    if (!dbssl_proc_user_can_use_dir(u, abs) && *created && u->drop) {
        if (relocate_dir(dir, u, abs, sizeof(abs), err) != 0 || set_paths(st, abs, err) != 0)
            return -1;
        st->relocated = true;
    }
    if (!dbssl_proc_user_can_use_dir(u, abs)) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG,
                        "A parent directory is closed to that user: choose a directory it can "
                        "reach with --dir (for example under /tmp), or open the parents with "
                        "chmod o+x.",
                        "user \"%s\" cannot reach directory \"%s\"", u->name, abs);
        return -1;
    }
    /* sun_path is 108 bytes: PostgreSQL cannot bind a socket in a deeper directory */
    if (strlen(abs) + sizeof("/.s.PGSQL.65535") > sizeof(((struct sockaddr_un *)0)->sun_path)) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, "Choose a shorter path with --dir.",
                        "directory path \"%s\" is too long for a unix socket", abs);
        return -1;
    }
    return 0;
}

static int init_cluster(const struct dbssl_pgrun *rn, const struct dbssl_devdb_state *st,
                        struct dbssl_error *err)
{
    const char *args[] = {"initdb",
                          "-D",
                          st->datadir,
                          "-U",
                          rn->user->name,
                          "--auth-local=peer",
                          "--auth-host=scram-sha-256",
                          "-E",
                          "UTF8",
                          "--locale=C",
                          "--no-sync",
                          NULL};

    if (dbssl_pgrun(rn, "initdb", args, NULL, INITDB_TIMEOUT_S,
                    "Check the free disk space and that the directory is writable.", err) != 0)
        return -1;
    return devdb_include_conf(rn, st, err);
}

static int start_server(const struct dbssl_pgrun *rn, const struct dbssl_devdb_state *st,
                        struct dbssl_error *err)
{
    const char *args[] = {"pg_ctl", "start", "-D", st->datadir, "-l", st->log,
                          "-w",     "-t",    "60", "-s",        NULL};
    struct dbssl_error e;
    char *tail, hint[PATH_TEXT_BUF];

    dbssl_error_clear(&e);
    if (dbssl_pgrun(rn, "pg_ctl start", args, NULL, PGCTL_TIMEOUT_S, NULL, &e) == 0)
        return 0;
    /* the server's own reason is in its log, not in pg_ctl's output */
    tail = dbssl_pgrun_file_tail(rn->cfg, st->log, DBSSL_PGRUN_TAIL_LINES);
    snprintf(hint, sizeof(hint), "The full server log is \"%s\".", st->log);
    dbssl_error_set(err, e.code, hint, "could not start PostgreSQL: %s",
                    tail && tail[0] ? tail : e.message);
    free(tail);
    return -1;
}

int dbssl_devdb_start(const struct dbssl_config *cfg, const struct dbssl_devdb_tls *tls,
                      const struct dbssl_devdb_opts *opts, struct dbssl_devdb_state *st,
                      struct dbssl_error *err)
{
    struct dbssl_proc_user user;
    struct dbssl_pgrun rn = {cfg, &user, "", NULL};
    char pgversion[PATH_BUF], bouncer[PATH_BUF] = "";
    bool created_dir = false, created_data = false, started = false;
    int ret = -1;

    memset(st, 0, sizeof(*st));
    if (devdb_check_url(cfg, err) != 0 ||
        dbssl_pgrun_find_bindir(rn.bindir, sizeof(rn.bindir), err) != 0 ||
        dbssl_proc_user_unprivileged(&user, err) != 0)
        goto out;
    /* a missing PgBouncer is found before anything is made */
    if (opts->pgbouncer && devdb_bouncer_find(bouncer, sizeof(bouncer), err) != 0)
        goto out;
    if (dbssl_devdb_status(opts->dir, st, err) != 0)
        goto out;
    if (st->running) {
        st->already_running = true;
        st->wanted_port = st->port;
        rn.cwd = st->dir;
        /* a set renewed since the server started: the server reads the new
         * copies at its reload, or its clients' new ca.crt would not verify it */
        if (devdb_sync_tls(&rn, tls, st, false, &st->tls_reloaded, err) != 0 ||
            (st->tls_reloaded && pg_ctl_reload(&rn, st->datadir, err) != 0))
            goto out;
        ret = opts->pgbouncer ? devdb_bouncer_start(&rn, bouncer, tls, st, err) : 0;
        goto out;
    }
    if (prepare_dir(opts->dir ? opts->dir : DEFAULT_DIR, &user, &created_dir, st, err) != 0)
        goto out;
    snprintf(st->user, sizeof(st->user), "%s", user.name);
    rn.cwd = st->dir;
    if (pick_port(cfg, opts, st, err) != 0)
        goto out;
    if (!path_join(pgversion, sizeof(pgversion), st->datadir, "PG_VERSION")) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, NULL, "path \"%s\" is too long", st->datadir);
        goto out;
    }
    if (!exists(pgversion)) {
        if (exists(st->datadir) && rmdir(st->datadir) != 0) {
            dbssl_error_set(err, DBSSL_ERR_CONFIG,
                            "Remove it (it may be left from an interrupted run) or choose "
                            "another directory with --dir.",
                            "directory \"%s\" exists but is not a PostgreSQL cluster", st->datadir);
            goto out;
        }
        created_data = true;
        if (init_cluster(&rn, st, err) != 0)
            goto out;
    }
    if (devdb_configure_cluster(cfg, &rn, tls, st, err) != 0 || start_server(&rn, st, err) != 0)
        goto out;
    started = true;
    if (devdb_create_role_and_db(&rn, st, !created_data, err) != 0)
        goto out;
    read_pidfile(st);
    if (opts->pgbouncer && devdb_bouncer_start(&rn, bouncer, tls, st, err) != 0)
        goto out;
    ret = 0;
out:
    if (ret != 0 && started)
        (void)pg_ctl_stop(&rn, st->datadir, "immediate", NULL);
    /* never leave a half-made cluster; if it cannot go, say where it is (the
     * error already set is the cause the user must see first) */
    if (ret != 0 && created_data && remove_tree_at(AT_FDCWD, st->datadir) != 0)
        dbssl_log(DBSSL_LOG_WARN, "devdb_cleanup_failed", "path", st->datadir, "hint",
                  "Remove this half-made cluster by hand before the next \"dbssl dev-db start\".",
                  NULL);
    /* only when empty: a log the error points to stays */
    if (ret != 0 && created_dir && rmdir(st->dir) == 0 && st->relocated)
        (void)unlink(opts->dir ? opts->dir : DEFAULT_DIR);
    return ret;
}

/* ---- stop ------------------------------------------------------------------------ */

bool devdb_wait_gone(long pid, int ms)
{
    for (int waited = 0; waited < ms; waited += 50) {
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            return true;
        usleep(50 * 1000);
    }
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

int dbssl_devdb_stop(const char *dir, bool *was_running, struct dbssl_error *err)
{
    struct dbssl_devdb_state st;
    struct dbssl_proc_user user;
    struct dbssl_pgrun rn = {NULL, &user, "", NULL};
    struct stat sb;
    struct dbssl_error e;

    *was_running = false;
    if (dbssl_devdb_status(dir, &st, err) != 0)
        return -1;
    /* PgBouncer first: its server connections end with it, not as errors */
    if (devdb_bouncer_stop(&st, was_running, err) != 0)
        return -1;
    if (!st.running)
        return 0;
    *was_running = true;
    /* pg_ctl runs as the cluster's owner: it refuses root, and signals need the same uid */
    if (stat(st.datadir, &sb) != 0 || dbssl_proc_user_by_uid(sb.st_uid, &user, err) != 0 ||
        dbssl_pgrun_find_bindir(rn.bindir, sizeof(rn.bindir), err) != 0)
        return -1;
    rn.cwd = st.dir;
    dbssl_error_clear(&e);
    if (pg_ctl_stop(&rn, st.datadir, "fast", &e) == 0 && devdb_wait_gone(st.pid, STOP_WAIT_MS))
        return 0;
    /* a fast shutdown that hangs (a stuck client) must still end: immediate, then kill */
    (void)pg_ctl_stop(&rn, st.datadir, "immediate", NULL);
    if (devdb_wait_gone(st.pid, STOP_WAIT_MS))
        return 0;
    dbssl_error_set(err, DBSSL_ERR_IO, "Stop it with \"kill -9\" and remove postmaster.pid.",
                    "PostgreSQL (pid %ld) did not stop: %s", st.pid,
                    e.message[0] ? e.message : "still running");
    return -1;
}
