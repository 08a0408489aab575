/*
 * devdb_conf.c - what the development database is given: the settings it
 * is started from (a loopback DATABASE_URL with a user and a password), its
 * TLS files (checked here, where PostgreSQL would only log a mismatch), its
 * configuration (the lines of `dbssl pg-config`, its own socket directory,
 * pg_hba.conf), the role and database of DATABASE_URL, and the URL an
 * application uses for it.  The cluster's lifecycle (directories, port,
 * initdb, start, stop) is devdb.c's.
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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certinfo.h"
#include "certs.h"
#include "pgconf.h"
#include "pgrun.h"
#include "proc.h"
#include "util.h"

#define PSQL_TIMEOUT_S 60

/* ---- small file helpers ------------------------------------------------------ */

int devdb_write_file_as(const char *path, const char *data, size_t len, mode_t mode,
                        const struct dbssl_proc_user *u, struct dbssl_error *err)
{
    bool chown_it = u != NULL && u->drop;

    return write_file_replace(path, data, len, mode, chown_it ? u->uid : (uid_t)-1,
                              chown_it ? u->gid : (gid_t)-1, err);
}

/*
 * src copied over dst, owned by u when we are root; with always false only
 * when their bytes differ (*changed says whether it was written).
 */
static int sync_file_as(const char *src, const char *dst, const char *what, mode_t mode,
                        const struct dbssl_proc_user *u, bool always, bool *changed,
                        struct dbssl_error *err)
{
    char *want = NULL, *have = NULL;
    size_t wlen = 0, hlen = 0;
    int ret = -1;

    if (read_file(src, what, CONFIG_FILE_MAX, &want, &wlen, err) != 0)
        goto out;
    /* a copy that cannot be read is replaced like one that differs */
    if (!always && read_file(dst, what, CONFIG_FILE_MAX, &have, &hlen, NULL) == 0 && hlen == wlen &&
        memcmp(have, want, wlen) == 0) {
        ret = 0;
        goto out;
    }
    if (devdb_write_file_as(dst, want, wlen, mode, u, err) != 0)
        goto out;
    *changed = true;
    ret = 0;
out:
    if (want != NULL)
        explicit_bzero(want, wlen); /* may be a private key */
    if (have != NULL)
        explicit_bzero(have, hlen);
    free(want);
    free(have);
    return ret;
}

int devdb_copy_file_as(const char *src, const char *dst, const char *what, mode_t mode,
                       const struct dbssl_proc_user *u, struct dbssl_error *err)
{
    bool changed;

    return sync_file_as(src, dst, what, mode, u, true, &changed, err);
}

int devdb_sync_tls(const struct dbssl_pgrun *rn, const struct dbssl_devdb_tls *tls,
                   const struct dbssl_devdb_state *st, bool always, bool *changed,
                   struct dbssl_error *err)
{
    const struct dbssl_proc_user *u = rn->user;
    char dst[PATH_BUF];

    *changed = false;
    if (!path_join(dst, sizeof(dst), st->datadir, "server.crt") ||
        sync_file_as(tls->server_cert, dst, "server certificate", 0644, u, always, changed, err) !=
            0)
        return -1;
    if (!path_join(dst, sizeof(dst), st->datadir, "server.key") ||
        sync_file_as(tls->server_key, dst, "server key", 0600, u, always, changed, err) != 0)
        return -1;
    if (tls->ca_cert[0] != '\0' &&
        (!path_join(dst, sizeof(dst), st->datadir, "ca.crt") ||
         sync_file_as(tls->ca_cert, dst, "CA certificate", 0644, u, always, changed, err) != 0))
        return -1;
    return 0;
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
    /* "" is one empty entry (libpq's default socket), which is no loopback address */
    for (size_t i = 0, n = 0; i < (list[0] ? list_count(list) : 1); i++) {
        const char *p = list[0] ? list_item(list, i, &n) : "";
        if (!is_loopback(p, n)) {
            dbssl_error_set(err, DBSSL_ERR_CONFIG,
                            "The development database listens only on loopback: use "
                            "localhost, 127.0.0.1 or ::1 as the host in DATABASE_URL.",
                            "DATABASE_URL %s \"%.*s\" is not a loopback address", what, (int)n, p);
            return -1;
        }
    }
    return 0;
}

int devdb_check_url(const struct dbssl_config *cfg, struct dbssl_error *err)
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
        !path_join(tls->server_cert, sizeof(tls->server_cert), cfg->auto_cert_dir,
                   dbssl_certs_file_name(DBSSL_CERTS_SERVER_CRT)) ||
        !path_join(tls->server_key, sizeof(tls->server_key), cfg->auto_cert_dir,
                   dbssl_certs_file_name(DBSSL_CERTS_SERVER_KEY))) {
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

/* Makes postgresql.conf include dbssl.conf (devdb_configure_cluster's), last so that it wins. */
int devdb_include_conf(const struct dbssl_pgrun *rn, const struct dbssl_devdb_state *st,
                       struct dbssl_error *err)
{
    char conf[PATH_BUF], *data = NULL;
    size_t len = 0;
    struct strbuf sb;
    int ret = -1;

    if (!path_join(conf, sizeof(conf), st->datadir, "postgresql.conf") ||
        read_file(conf, "configuration file", SERVER_FILE_MAX, &data, &len, err) != 0)
        goto out;
    strbuf_init(&sb);
    strbuf_append_n(&sb, data, len);
    strbuf_append(&sb, "\n# dbssl dev-db: TLS, port and socket\ninclude 'dbssl.conf'\n");
    if (sb.oom)
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
    else
        ret = devdb_write_file_as(conf, sb.data, sb.len, 0600, rn->user, err);
    strbuf_free(&sb);
out:
    if (ret != 0)
        dbssl_error_set(err, DBSSL_ERR_CONFIG, NULL, "path under \"%s\" is too long", st->datadir);
    free(data);
    return ret;
}

/* Copies the TLS files into the cluster (key 0600, owned by the server user) and
 * writes dbssl.conf and pg_hba.conf. */
int devdb_configure_cluster(const struct dbssl_config *cfg, const struct dbssl_pgrun *rn,
                            const struct dbssl_devdb_tls *tls, const struct dbssl_devdb_state *st,
                            struct dbssl_error *err)
{
    /* the lines of `dbssl pg-config --loopback`, pointing at the copies in the data directory */
    struct dbssl_pgconf_opts po = {"127.0.0.1,::1", st->port, true, st->datadir,
                                   tls->ca_cert[0] == '\0'};
    bool copied = false;
    char dst[PATH_BUF], *conf = NULL, *hba = NULL;
    struct strbuf c, h;
    int ret = -1;

    strbuf_init(&c);
    strbuf_init(&h);

    /* every copy written afresh (mode and owner too), not only those that differ */
    if (devdb_sync_tls(rn, tls, st, true, &copied, err) != 0)
        goto out;
    if (dbssl_pgconf_render(cfg, &po, &conf, &hba, err) != 0)
        goto out;
    /* dev-db's own: a private socket directory, so that only the server user reaches "local" */
    strbuf_append(&c, conf);
    strbuf_append(&c, "unix_socket_directories = ");
    append_quoted(&c, st->dir, '\'');
    strbuf_append(&c, "\nunix_socket_permissions = 0700\npassword_encryption = 'scram-sha-256'\n");
    strbuf_append(&h,
                  "# written by dbssl dev-db; rewritten at every start (see dbssl pg-config)\n"
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
        devdb_write_file_as(dst, conf, strlen(conf), 0600, rn->user, err) != 0)
        goto out;
    if (!path_join(dst, sizeof(dst), st->datadir, "pg_hba.conf") ||
        devdb_write_file_as(dst, hba, strlen(hba), 0600, rn->user, err) != 0)
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

/*
 * Creates the role and database of DATABASE_URL, or updates the role's
 * password.  The script goes through stdin so that the password is never in
 * a command line, and statement logging is off for the session so that it
 * cannot reach the server log either.  existing: the cluster was made by an
 * earlier start (maybe by a dbssl whose superuser was always "postgres").
 */
int devdb_create_role_and_db(const struct dbssl_pgrun *rn, const struct dbssl_devdb_state *st,
                             bool existing, struct dbssl_error *err)
{
    static const char *const grants[] = {
        "GRANT pg_read_all_settings TO ", "GRANT SELECT ON pg_catalog.pg_hba_file_rules TO ",
        "GRANT EXECUTE ON FUNCTION pg_catalog.pg_hba_file_rules() TO ", NULL};
    const struct dbssl_config *cfg = rn->cfg;
    const char *user = cfg->url.user, *db = url_dbname(cfg);
    char port[16];
    const char *args[] = {"psql", "-X",       "-q", "-w", "-v", "ON_ERROR_STOP=1",
                          "-h",   st->dir,    "-p", port, "-U", rn->user->name,
                          "-d",   "postgres", NULL};
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
    /* `dbssl audit` reads the server's TLS settings and pg_hba.conf as this role: a
     * development database shows them to the developer (on a real server, grant these to an
     * audit role rather than the application's).  The view and its function are granted in
     * the database the role uses: each database has its own. */
    strbuf_append(&sql, "\\connect ");
    append_quoted(&sql, db, '\'');
    strbuf_append_c(&sql, '\n');
    for (size_t i = 0; grants[i] != NULL; i++) {
        strbuf_append(&sql, grants[i]);
        append_quoted(&sql, user, '"');
        strbuf_append(&sql, ";\n");
    }
    if (sql.oom) {
        strbuf_free(&sql);
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return -1;
    }
    snprintf(hint, sizeof(hint), "Check the user and database names in DATABASE_URL.%s%s%s%s",
             existing ? " A " : "", existing ? "cluster made by an older dbssl has no role \"" : "",
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

/* ---- the URL to print -------------------------------------------------------------- */

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
    strbuf_append_pct(&sb, cfg->url.user ? cfg->url.user : "",
                      cfg->url.user ? strlen(cfg->url.user) : 0, "");
    if (cfg->url.password && cfg->url.password[0])
        strbuf_append(&sb, ":***");
    strbuf_append_c(&sb, '@');
    if (memchr(host, ':', hostlen) != NULL && host[0] != '[')
        strbuf_printf(&sb, "[%.*s]", (int)hostlen, host);
    else
        strbuf_append_n(&sb, host, hostlen);
    strbuf_printf(&sb, ":%d/", st->port);
    strbuf_append_pct(&sb, url_dbname(cfg), strlen(url_dbname(cfg)), "");
    return strbuf_take(&sb);
}
