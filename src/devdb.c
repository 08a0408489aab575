/*
 * devdb.c - `dbssl dev-db`: a throwaway PostgreSQL with TLS on loopback for
 * development, built from the machine's PostgreSQL programs.
 *
 * The server programs run as an unprivileged user when we are root (see
 * proc.c).  libpq is not used here: the role and database are created with
 * the cluster's own psql over the private unix socket, so that this module
 * stays free of libpq types.
 *
 * Authentication is the one `dbssl pg-config` prints (pgconf.c, one code
 * path), not a development shortcut: TCP only with TLS, a scram-sha-256
 * password (set from DATABASE_URL at every start) and, with mutual TLS, a
 * client certificate (clientcert=verify-full); the Unix socket uses peer.
 * The cluster's superuser therefore has the name of the system user the
 * server runs as (initdb's own default): peer lets exactly that user in,
 * whether dev-db runs as root (the server as "postgres") or as a developer
 * (the server as that developer), with no password stored anywhere.
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

#include "certinfo.h"
#include "certs.h"
#include "pgconf.h"
#include "pgrun.h"
#include "proc.h"
#include "util.h"

#define DEFAULT_DIR      "./.dev"
#define PORT_TRIES       100
#define INITDB_TIMEOUT_S 180
#define PGCTL_TIMEOUT_S  90
#define PSQL_TIMEOUT_S   60
#define STOP_WAIT_MS     15000

/* ---- small file helpers ------------------------------------------------------ */

static bool exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* write_file_replace(), owned by u when we are root (the server must own its files). */
static int write_file_as(const char *path, const char *data, size_t len, mode_t mode,
                         const struct dbssl_proc_user *u, struct dbssl_error *err)
{
    bool chown_it = u != NULL && u->drop;

    return write_file_replace(path, data, len, mode, chown_it ? u->uid : (uid_t)-1,
                              chown_it ? u->gid : (gid_t)-1, err);
}

static int copy_file_as(const char *src, const char *dst, const char *what, mode_t mode,
                        const struct dbssl_proc_user *u, struct dbssl_error *err)
{
    char *data = NULL;
    size_t len = 0;
    int ret = -1;

    if (read_file(src, what, CONFIG_FILE_MAX, &data, &len, err) != 0)
        goto out;
    ret = write_file_as(dst, data, len, mode, u, err);
out:
    if (data != NULL)
        explicit_bzero(data, len); /* may be a private key */
    free(data);
    return ret;
}

/* ---- settings checks ---------------------------------------------------------- */

static bool is_loopback(const char *h, size_t n)
{
    static const char *const names[] = {"localhost", "127.0.0.1", "::1", "[::1]"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == n && strncmp(h, names[i], n) == 0)
            return true;
    return false;
}

/* Every entry of a comma-separated host list is a loopback name or address. */
static int check_loopback_list(const char *what, const char *list, struct dbssl_error *err)
{
    for (const char *p = list; p != NULL;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (!is_loopback(p, n)) {
            dbssl_error_set(err, DBSSL_ERR_CONFIG,
                            "The development database listens only on loopback: use "
                            "localhost, 127.0.0.1 or ::1 as the host in DATABASE_URL.",
                            "DATABASE_URL %s \"%.*s\" is not a loopback address", what, (int)n, p);
            return -1;
        }
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

static int check_url(const struct dbssl_config *cfg, struct dbssl_error *err)
{
    static const char *example = "Set DATABASE_URL, for example "
                                 "DATABASE_URL=postgresql://app:PASSWORD@localhost:5433/app.";
    const struct dbssl_setting *s = &cfg->settings[OPT_DATABASE_URL];

    if (cfg->database_url == NULL) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, example, "DATABASE_URL is not set");
        return -1;
    }
    if (s->error != NULL || !cfg->url.parsed) {
        dbssl_error_setx(err, DBSSL_ERR_CONFIG, s->error ? s->error : cfg->url.error,
                         s->hint ? s->hint : (cfg->url.hint ? cfg->url.hint : example),
                         "DATABASE_URL is invalid");
        return -1;
    }
    if (cfg->url.host == NULL && cfg->url.hostaddr == NULL) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, example,
                        "DATABASE_URL names no host, so it would use a unix socket without TLS");
        return -1;
    }
    if (cfg->url.user == NULL) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, example,
                        "DATABASE_URL names no user for the development database");
        return -1;
    }
    if ((cfg->url.host && check_loopback_list("host", cfg->url.host, err) != 0) ||
        (cfg->url.hostaddr && check_loopback_list("hostaddr", cfg->url.hostaddr, err) != 0))
        return -1;
    /* the role gets this password: without one nobody could log in over TCP */
    if (cfg->url.password == NULL || cfg->url.password[0] == '\0') {
        dbssl_error_set(err, DBSSL_ERR_CONFIG,
                        "Put a password in DATABASE_URL, for example "
                        "DATABASE_URL=postgresql://app:PASSWORD@localhost:5433/app (make run "
                        "writes a random one).",
                        "DATABASE_URL names no password, and the development database "
                        "authenticates with scram-sha-256");
        return -1;
    }
    return 0;
}

static const char *url_dbname(const struct dbssl_config *cfg)
{
    return cfg->url.dbname ? cfg->url.dbname : cfg->url.user; /* libpq's default */
}

int dbssl_devdb_tls_from_config(const struct dbssl_config *cfg, struct dbssl_devdb_tls *tls,
                                struct dbssl_error *err)
{
    const char *hint = cfg->auto_generate
                           ? "Run \"dbssl certs generate\" to create the development set."
                           : "Set DB_SSL_AUTO_GENERATE=true and run \"dbssl certs generate\", "
                             "or put server.crt and server.key in DB_SSL_AUTO_CERT_DIR.";
    struct dbssl_file_ref ca, ccert, ckey;
    const char *files[3];
    bool match = false, chain_ok = false;
    char reason[256] = "";

    memset(tls, 0, sizeof(*tls));
    /* a missing or expiring development set is (re)generated before the server uses it */
    if (cfg->auto_generate) {
        struct dbssl_certs_result res;
        if (dbssl_certs_ensure(cfg, &res, err) != 0)
            return -1;
    }
    if (cfg->auto_cert_dir == NULL ||
        !path_join(tls->server_cert, sizeof(tls->server_cert), cfg->auto_cert_dir, "server.crt") ||
        !path_join(tls->server_key, sizeof(tls->server_key), cfg->auto_cert_dir, "server.key")) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, hint, "DB_SSL_AUTO_CERT_DIR is not usable");
        return -1;
    }
    if (dbssl_config_ca_file(cfg, &ca))
        snprintf(tls->ca_cert, sizeof(tls->ca_cert), "%s", ca.path);
    tls->client_cert_auth = dbssl_config_client_files(cfg, &ccert, &ckey);
    if (tls->client_cert_auth && tls->ca_cert[0] == '\0') {
        dbssl_error_set(err, DBSSL_ERR_CONFIG,
                        "Set DB_SSL_CA_CERT to the CA that signed the client certificate.",
                        "a client certificate is configured but no CA to verify it");
        return -1;
    }
    files[0] = tls->server_cert;
    files[1] = tls->server_key;
    files[2] = tls->ca_cert;
    for (size_t i = 0; i < 3; i++) {
        if (files[i][0] != '\0' && access(files[i], R_OK) != 0) {
            dbssl_error_set(err, DBSSL_ERR_CERT, hint, "%s file \"%s\" is not readable: %s",
                            i == 0   ? "server certificate"
                            : i == 1 ? "server key"
                                     : "CA",
                            files[i], strerror(errno));
            return -1;
        }
    }
    /* catch what PostgreSQL would only report in its log, or a client at connect time */
    if (dbssl_key_matches_cert(tls->server_cert, tls->server_key, &match, err) != 0)
        return -1;
    if (!match) {
        dbssl_error_set(err, DBSSL_ERR_CERT, hint,
                        "server key \"%s\" does not belong to server certificate \"%s\"",
                        tls->server_key, tls->server_cert);
        return -1;
    }
    if (tls->ca_cert[0] != '\0') {
        if (dbssl_cert_verify_chain(tls->server_cert, tls->ca_cert, &chain_ok, reason,
                                    sizeof(reason), err) != 0)
            return -1;
        if (!chain_ok) {
            dbssl_error_set(err, DBSSL_ERR_CERT, hint,
                            "server certificate \"%s\" is not signed by CA \"%s\": %s",
                            tls->server_cert, tls->ca_cert, reason);
            return -1;
        }
    }
    return 0;
}

/* ---- server configuration -------------------------------------------------------- */

/* Appends s as a single-quoted postgresql.conf / SQL literal. */
static void append_quoted(struct strbuf *sb, const char *s, char q)
{
    strbuf_append_c(sb, q);
    for (; *s; s++) {
        if (*s == q)
            strbuf_append_c(sb, q);
        strbuf_append_c(sb, *s);
    }
    strbuf_append_c(sb, q);
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
        if (port_free_on(AF_INET, p) && port_free_on(AF_INET6, p)) {
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
    char conf[PATH_BUF], *data = NULL;
    size_t len = 0;
    struct strbuf sb;
    int ret = -1;

    if (dbssl_pgrun(rn, "initdb", args, NULL, INITDB_TIMEOUT_S,
                    "Check the free disk space and that the directory is writable.", err) != 0)
        return -1;
    /* our settings live in their own file, included last so they win */
    if (!path_join(conf, sizeof(conf), st->datadir, "postgresql.conf") ||
        read_file(conf, "configuration file", SERVER_FILE_MAX, &data, &len, err) != 0)
        goto out;
    strbuf_init(&sb);
    strbuf_append_n(&sb, data, len);
    strbuf_append(&sb, "\n# dbssl dev-db: TLS, port and socket\ninclude 'dbssl.conf'\n");
    if (sb.oom)
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
    else
        ret = write_file_as(conf, sb.data, sb.len, 0600, rn->user, err);
    strbuf_free(&sb);
out:
    if (ret != 0)
        dbssl_error_set(err, DBSSL_ERR_CONFIG, NULL, "path under \"%s\" is too long", st->datadir);
    free(data);
    return ret;
}

/* Copies the TLS files into the cluster (key 0600, owned by the server user) and
 * writes dbssl.conf and pg_hba.conf. */
static int configure_cluster(const struct dbssl_config *cfg, const struct dbssl_pgrun *rn,
                             const struct dbssl_devdb_tls *tls, const struct dbssl_devdb_state *st,
                             struct dbssl_error *err)
{
    /* the lines of `dbssl pg-config --loopback`, pointing at the copies in the data directory */
    struct dbssl_pgconf_opts po = {"127.0.0.1,::1", st->port, true, st->datadir,
                                   tls->ca_cert[0] == '\0'};
    bool have_ca = tls->ca_cert[0] != '\0';
    char dst[PATH_BUF], *conf = NULL, *hba = NULL;
    struct strbuf c, h;
    int ret = -1;

    strbuf_init(&c);
    strbuf_init(&h);

    if (!path_join(dst, sizeof(dst), st->datadir, "server.crt") ||
        copy_file_as(tls->server_cert, dst, "server certificate", 0644, rn->user, err) != 0)
        goto out;
    if (!path_join(dst, sizeof(dst), st->datadir, "server.key") ||
        copy_file_as(tls->server_key, dst, "server key", 0600, rn->user, err) != 0)
        goto out;
    if (have_ca && (!path_join(dst, sizeof(dst), st->datadir, "ca.crt") ||
                    copy_file_as(tls->ca_cert, dst, "CA certificate", 0644, rn->user, err) != 0))
        goto out;
    if (dbssl_pgconf_render(cfg, &po, &conf, &hba, err) != 0)
        goto out;
    /* dev-db's own: a private socket directory, so that only the server user reaches "local" */
    strbuf_append(&c, conf);
    strbuf_append(&c, "unix_socket_directories = ");
    append_quoted(&c, st->dir, '\'');
    strbuf_append(&c, "\nunix_socket_permissions = 0700\npassword_encryption = 'scram-sha-256'\n");
    strbuf_append(&h, "# written by dbssl dev-db; rewritten at every start (see dbssl pg-config)\n"
                      "# the socket directory is private (0700): only its owner gets to \"local\"\n");
    strbuf_append(&h, hba);
    free(conf);
    free(hba);
    conf = strbuf_take(&c);
    hba = strbuf_take(&h);
    if (conf == NULL || hba == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    if (!path_join(dst, sizeof(dst), st->datadir, "dbssl.conf") ||
        write_file_as(dst, conf, strlen(conf), 0600, rn->user, err) != 0)
        goto out;
    if (!path_join(dst, sizeof(dst), st->datadir, "pg_hba.conf") ||
        write_file_as(dst, hba, strlen(hba), 0600, rn->user, err) != 0)
        goto out;
    ret = 0;
out:
    /* a path that does not fit is the only failure above without its own error */
    if (ret != 0)
        dbssl_error_set(err, DBSSL_ERR_CONFIG, NULL, "path under \"%s\" is too long", st->datadir);
    free(conf);
    free(hba);
    return ret;
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

/*
 * Creates the role and database of DATABASE_URL, or updates the role's
 * password.  The script goes through stdin so that the password is never in
 * a command line, and statement logging is off for the session so that it
 * cannot reach the server log either.  existing: the cluster was made by an
 * earlier start (maybe by a dbssl whose superuser was always "postgres").
 */
static int create_role_and_db(const struct dbssl_pgrun *rn, const struct dbssl_devdb_state *st,
                              bool existing, struct dbssl_error *err)
{
    const struct dbssl_config *cfg = rn->cfg;
    const char *user = cfg->url.user, *db = url_dbname(cfg);
    char port[16];
    const char *args[] = {"psql", "-X", "-q",           "-w", "-v",       "ON_ERROR_STOP=1", "-h",
                          st->dir, "-p", port, "-U",      rn->user->name, "-d", "postgres", NULL};
    struct strbuf sql;
    char hint[512];
    int ret;

    snprintf(port, sizeof(port), "%d", st->port);
    strbuf_init(&sql);
    strbuf_append(&sql, "\\set VERBOSITY terse\n"
                        "SET log_statement = 'none';\n"
                        "SET log_min_error_statement = 'panic';\n"
                        "SELECT format('CREATE ROLE %I LOGIN', ");
    append_quoted(&sql, user, '\'');
    strbuf_append(&sql, ") WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ");
    append_quoted(&sql, user, '\'');
    strbuf_append(&sql, ") \\gexec\nALTER ROLE ");
    append_quoted(&sql, user, '"');
    strbuf_append(&sql, " LOGIN");
    if (cfg->url.password != NULL && cfg->url.password[0] != '\0') {
        strbuf_append(&sql, " PASSWORD ");
        append_quoted(&sql, cfg->url.password, '\'');
    }
    strbuf_append(&sql, ";\nSELECT format('CREATE DATABASE %I OWNER %I', ");
    append_quoted(&sql, db, '\'');
    strbuf_append(&sql, ", ");
    append_quoted(&sql, user, '\'');
    strbuf_append(&sql, ") WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = ");
    append_quoted(&sql, db, '\'');
    strbuf_append(&sql, ") \\gexec\n");
    if (sql.oom) {
        strbuf_free(&sql);
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return -1;
    }
    snprintf(hint, sizeof(hint),
             "Check the user and database names in DATABASE_URL.%s%s%s%s", existing ? " A " : "",
             existing ? "cluster made by an older dbssl has no role \"" : "",
             existing ? rn->user->name : "",
             existing ? "\" to log in as: run \"dbssl dev-db stop\" and remove the directory to "
                        "start afresh."
                      : "");
    ret = dbssl_pgrun(rn, "creating the role and database of DATABASE_URL", args, sql.data,
                      PSQL_TIMEOUT_S, hint, err);
    explicit_bzero(sql.data, sql.len);
    strbuf_free(&sql);
    return ret;
}

int dbssl_devdb_start(const struct dbssl_config *cfg, const struct dbssl_devdb_tls *tls,
                      const struct dbssl_devdb_opts *opts, struct dbssl_devdb_state *st,
                      struct dbssl_error *err)
{
    struct dbssl_proc_user user;
    struct dbssl_pgrun rn = {cfg, &user, "", NULL};
    char pgversion[PATH_BUF];
    bool created_dir = false, created_data = false, started = false;
    int ret = -1;

    memset(st, 0, sizeof(*st));
    if (check_url(cfg, err) != 0 ||
        dbssl_pgrun_find_bindir(rn.bindir, sizeof(rn.bindir), err) != 0 ||
        dbssl_proc_user_unprivileged(&user, err) != 0)
        goto out;
    if (dbssl_devdb_status(opts->dir, st, err) != 0)
        goto out;
    if (st->running) {
        st->already_running = true;
        st->wanted_port = st->port;
        ret = 0;
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
    if (configure_cluster(cfg, &rn, tls, st, err) != 0 || start_server(&rn, st, err) != 0)
        goto out;
    started = true;
    if (create_role_and_db(&rn, st, !created_data, err) != 0)
        goto out;
    read_pidfile(st);
    ret = 0;
out:
    if (ret != 0 && started)
        (void)pg_ctl_stop(&rn, st->datadir, "immediate", NULL);
    if (ret != 0 && created_data)
        remove_tree(st->datadir); /* never leave a half-made cluster */
    /* only when empty: a log the error points to stays */
    if (ret != 0 && created_dir && rmdir(st->dir) == 0 && st->relocated)
        (void)unlink(opts->dir ? opts->dir : DEFAULT_DIR);
    return ret;
}

/* ---- stop ------------------------------------------------------------------------ */

static bool wait_gone(long pid, int ms)
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
    if (!st.running)
        return 0;
    *was_running = true;
    /* pg_ctl runs as the cluster's owner: it refuses root, and signals need the same uid */
    if (stat(st.datadir, &sb) != 0 || dbssl_proc_user_by_uid(sb.st_uid, &user, err) != 0 ||
        dbssl_pgrun_find_bindir(rn.bindir, sizeof(rn.bindir), err) != 0)
        return -1;
    rn.cwd = st.dir;
    dbssl_error_clear(&e);
    if (pg_ctl_stop(&rn, st.datadir, "fast", &e) == 0 && wait_gone(st.pid, STOP_WAIT_MS))
        return 0;
    /* a fast shutdown that hangs (a stuck client) must still end: immediate, then kill */
    (void)pg_ctl_stop(&rn, st.datadir, "immediate", NULL);
    if (wait_gone(st.pid, STOP_WAIT_MS))
        return 0;
    dbssl_error_set(err, DBSSL_ERR_IO, "Stop it with \"kill -9\" and remove postmaster.pid.",
                    "PostgreSQL (pid %ld) did not stop: %s", st.pid,
                    e.message[0] ? e.message : "still running");
    return -1;
}

/* ---- the URL to print -------------------------------------------------------------- */

static void append_pct(struct strbuf *sb, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~", c) != NULL) {
            strbuf_append_c(sb, (char)c);
        } else {
            strbuf_append_c(sb, '%');
            strbuf_append_c(sb, hex[c >> 4]);
            strbuf_append_c(sb, hex[c & 15]);
        }
    }
}

char *dbssl_devdb_url(const struct dbssl_config *cfg, const struct dbssl_devdb_state *st)
{
    const char *host = cfg->url.host ? cfg->url.host : "localhost";
    size_t hostlen = strcspn(host, ",");
    long v;
    struct strbuf sb;

    /* unchanged port: the URL exactly as configured, password masked */
    if (cfg->url.port && parse_long(cfg->url.port, 1, 65535, &v) && v == st->port)
        return xstrdup(cfg->settings[OPT_DATABASE_URL].display);
    strbuf_init(&sb);
    strbuf_append(&sb, "postgresql://");
    append_pct(&sb, cfg->url.user ? cfg->url.user : "");
    if (cfg->url.password && cfg->url.password[0])
        strbuf_append(&sb, ":***");
    strbuf_append_c(&sb, '@');
    if (memchr(host, ':', hostlen) != NULL && host[0] != '[')
        strbuf_printf(&sb, "[%.*s]", (int)hostlen, host);
    else
        strbuf_append_n(&sb, host, hostlen);
    strbuf_printf(&sb, ":%d/", st->port);
    append_pct(&sb, url_dbname(cfg));
    return strbuf_take(&sb);
}
