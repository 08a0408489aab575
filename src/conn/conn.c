/*
 * conn.c - the PostgreSQL connection under the configured TLS settings, and
 * the TLS state it actually got.
 *
 * The conninfo is built as keyword/value arrays (never by pasting strings,
 * which would need libpq's quoting rules): every keyword of DATABASE_URL is
 * kept, then dbssl's settings are laid on top.  After connecting, the state
 * is read from three places that must agree: libpq (PQsslInUse and
 * PQsslAttribute), the peer certificate through the OpenSSL handle libpq
 * exposes, and the server's own view in pg_stat_ssl.  OpenSSL and libpq
 * types stay in this file.
 *
 * Why a connection failed is conn_failure.c's question.
 */
#include "conn_int.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certinfo.h"
#include "clock.h"
#include "keypass.h"
#include "libpqcaps.h"
#include "util.h"

/* ---- conninfo ----------------------------------------------------------------- */

static int add_param(struct dbssl_conn_params *p, const char *kw, const char *val,
                     struct dbssl_error *err)
{
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->keywords[i], kw) == 0) {
            p->values[i] = val;
            return 0;
        }
    }
    if (p->n >= DBSSL_CONN_MAX_PARAMS) {
        dbssl_error_set(err, DBSSL_ERR_INTERNAL, NULL, "too many connection parameters");
        return -1;
    }
    p->keywords[p->n] = kw;
    p->values[p->n] = val;
    p->n++;
    p->keywords[p->n] = NULL;
    p->values[p->n] = NULL;
    return 0;
}

/*
 * The URL's ssl_min_protocol_version when it asks for more than the
 * setting (validation reports the two disagreeing): a URL asking for TLS 1.3
 * never gets 1.2.
 */
static const char *min_protocol(const struct dbssl_config *cfg)
{
    int v = cfg->min_protocol == DBSSL_TLS_1_3 ? 1 : 0;
    int url = cfg->url.ssl_min_protocol_version
                  ? dbssl_option_choice_index(OPT_DB_SSL_MIN_PROTOCOL_VERSION,
                                              cfg->url.ssl_min_protocol_version)
                  : -1;

    return dbssl_option_choice(OPT_DB_SSL_MIN_PROTOCOL_VERSION, url > v ? url : v);
}

/*
 * sslpassword from DB_SSL_CLIENT_KEY_PASSWORD_FILE (the URL's own stays as
 * it is): the one pinned with the set's files, else the file's as it is now.
 */
static int add_key_passphrase(const struct dbssl_config *cfg, const struct dbssl_conn_files *files,
                              struct dbssl_conn_params *p, struct dbssl_error *err)
{
    struct dbssl_keypass kp;

    if (cfg->client_key_password_file == NULL)
        return 0;
    if (files->keypass != NULL) {
        if ((p->sslpassword = xstrdup(files->keypass)) == NULL) {
            dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
            return -1;
        }
    } else if (dbssl_keypass_get(cfg, &kp, err) != 0) {
        return -1;
    } else {
        p->sslpassword = kp.text; /* owned by p from here on */
    }
    return add_param(p, "sslpassword", p->sslpassword, err);
}

/* No replacement: every file as the settings name it. */
static const struct dbssl_conn_files settings_files = {NULL, NULL, NULL, NULL, NULL};

int dbssl_conn_build_params(const struct dbssl_config *cfg, const struct dbssl_conn_files *files,
                            struct dbssl_conn_params *p, struct dbssl_error *err)
{
    return dbssl_conn_build_params_to(cfg, files, NULL, p, err);
}

/* Whether keyword is one that to replaces: the URL's host, hostaddr and port. */
static bool replaced_by(const struct dbssl_conn_to *to, const char *keyword)
{
    if (to != NULL && to->session_attrs != NULL && strcmp(keyword, "target_session_attrs") == 0)
        return true;
    return to != NULL && to->host != NULL &&
           (strcmp(keyword, "host") == 0 || strcmp(keyword, "hostaddr") == 0 ||
            (to->port > 0 && strcmp(keyword, "port") == 0));
}

int dbssl_conn_build_params_to(const struct dbssl_config *cfg, const struct dbssl_conn_files *files,
                               const struct dbssl_conn_to *to, struct dbssl_conn_params *p,
                               struct dbssl_error *err)
{
    /* the file refs are stack buffers: their paths are copied into p */
    struct dbssl_file_ref ca, cert, key;
    PQconninfoOption *opts = NULL;
    char *errmsg = NULL;
    int ret = -1;
    bool tls_required;

    memset(p, 0, sizeof(*p));
    if (cfg->database_url != NULL && !cfg->url.parsed) {
        /* libpq's complaint would quote the string: say it in words without it */
        dbssl_error_setx(err, DBSSL_ERR_CONFIG, cfg->url.error,
                         "Fix DATABASE_URL; \"dbssl validate\" explains what is wrong with it.",
                         "invalid DATABASE_URL");
        goto out;
    }
    opts = PQconninfoParse(cfg->database_url ? cfg->database_url : "", &errmsg);
    if (opts == NULL) {
        char *m = errmsg ? dbssl_config_redact(cfg, errmsg) : NULL;
        if (m)
            m[strcspn(m, "\n")] = '\0';
        dbssl_error_setx(err, errmsg ? DBSSL_ERR_CONFIG : DBSSL_ERR_NOMEM, m ? m : "out of memory",
                         "Fix DATABASE_URL; \"dbssl validate\" explains what is wrong with it.",
                         "invalid DATABASE_URL");
        free(m);
        PQfreemem(errmsg);
        goto out;
    }
    p->parsed = opts;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val != NULL && !replaced_by(to, o->keyword) &&
            add_param(p, o->keyword, o->val, err) != 0)
            goto out;
    if (to != NULL && to->host != NULL) {
        snprintf(p->port, sizeof(p->port), "%d", to->port);
        if (add_param(p, "host", to->host, err) != 0 ||
            (to->hostaddr != NULL && add_param(p, "hostaddr", to->hostaddr, err) != 0) ||
            (to->port > 0 && add_param(p, "port", p->port, err) != 0))
            goto out;
    }
    if (to != NULL && to->session_attrs != NULL &&
        add_param(p, "target_session_attrs", to->session_attrs, err) != 0)
        goto out;

    tls_required = dbssl_config_tls_required(cfg);
    if (add_param(p, "sslmode", dbssl_sslmode_name(cfg->ssl_mode), err) != 0)
        goto out;
    /* the private copies, when the caller has them, are the files that were validated */
    if (files == NULL)
        files = &settings_files;
    if (dbssl_config_ca_file(cfg, &ca)) {
        if ((p->ca = xstrdup(files->ca ? files->ca : ca.path)) == NULL ||
            add_param(p, "sslrootcert", p->ca, err) != 0)
            goto oom;
    }
    if (dbssl_config_client_files(cfg, &cert, &key)) {
        if ((p->cert = xstrdup(files->cert ? files->cert : cert.path)) == NULL ||
            (p->key = xstrdup(files->key ? files->key : key.path)) == NULL ||
            add_param(p, "sslcert", p->cert, err) != 0 || add_param(p, "sslkey", p->key, err) != 0)
            goto oom;
    }
    if (cfg->crl != NULL && add_param(p, "sslcrl", files->crl ? files->crl : cfg->crl, err) != 0)
        goto out;
    if (dbssl_config_ca_system(cfg) && add_param(p, "sslrootcert", DBSSL_CA_SYSTEM, err) != 0)
        goto out;
    if (add_key_passphrase(cfg, files, p, err) != 0)
        goto out;
    if (add_param(p, "ssl_min_protocol_version", min_protocol(cfg), err) != 0 ||
        add_param(p, "channel_binding",
                  dbssl_option_choice(OPT_DB_SSL_CHANNEL_BINDING, (int)cfg->channel_binding),
                  err) != 0)
        goto out;
    if (cfg->ssl_negotiation != DBSSL_NEGOTIATION_POSTGRES &&
        add_param(p, "sslnegotiation",
                  dbssl_option_choice(OPT_DB_SSL_NEGOTIATION, (int)cfg->ssl_negotiation), err) != 0)
        goto out;
    if (cfg->ssl_cert_mode != DBSSL_CERT_MODE_ALLOW &&
        add_param(p, "sslcertmode",
                  dbssl_option_choice(OPT_DB_SSL_CERT_MODE, (int)cfg->ssl_cert_mode), err) != 0)
        goto out;
    if (cfg->require_auth != NULL && add_param(p, "require_auth", cfg->require_auth, err) != 0)
        goto out;
    snprintf(p->timeout, sizeof(p->timeout), "%ld", cfg->connect_timeout);
    if (add_param(p, "connect_timeout", p->timeout, err) != 0)
        goto out;
    if (dbssl_conn_params_get(p, "application_name") == NULL &&
        add_param(p, "application_name", "dbssl", err) != 0)
        goto out;
    /* GSSAPI encryption would satisfy libpq instead of TLS: when TLS is the
     * requirement, it must be the only way in */
    if (tls_required && add_param(p, "gssencmode", "disable", err) != 0)
        goto out;
    ret = 0;
    goto out;
oom:
    dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
out:
    if (ret != 0)
        dbssl_conn_params_free(p);
    return ret;
}

void dbssl_conn_params_free(struct dbssl_conn_params *p)
{
    if (p == NULL)
        return;
    if (p->parsed)
        PQconninfoFree(p->parsed);
    free(p->ca);
    free(p->cert);
    free(p->key);
    if (p->sslpassword != NULL)
        explicit_bzero(p->sslpassword, strlen(p->sslpassword));
    free(p->sslpassword);
    memset(p, 0, sizeof(*p));
}

const char *dbssl_conn_params_get(const struct dbssl_conn_params *p, const char *keyword)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->keywords[i], keyword) == 0)
            return p->values[i];
    return NULL;
}

/*
 * libpq's table travels with p: PQconninfoParse() returns every keyword the
 * linked libpq knows (the array PQconndefaults() returns, without reading
 * the environment), so the variables and secrets are libpq's, never a copy.
 */
size_t dbssl_conn_params_describe(const struct dbssl_conn_params *p,
                                  struct dbssl_conn_param_info *out, size_t max)
{
    const PQconninfoOption *opts = p->parsed;
    bool listed[DBSSL_CONN_MAX_PARAMS] = {false};
    size_t n = 0;

    for (const PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++) {
        for (size_t i = 0; i < p->n && n < max; i++) {
            if (strcmp(p->keywords[i], o->keyword) != 0)
                continue;
            out[n++] =
                (struct dbssl_conn_param_info){o->keyword, p->values[i], o->envvar,
                                               dbssl_libpq_is_secret(o->keyword), o->val != NULL};
            listed[i] = true;
            break;
        }
    }
    for (size_t i = 0; i < p->n && n < max; i++)
        if (!listed[i])
            out[n++] =
                (struct dbssl_conn_param_info){p->keywords[i], p->values[i], NULL, false, false};
    return n;
}

/* ---- connecting ---------------------------------------------------------------- */

static void copy_str(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

void dbssl_conn_message_one_line(char *dst, size_t len, const char *src)
{
    size_t n = 0;
    bool line_break = false;

    if (len == 0)
        return;
    for (const char *c = src; *c && n + 1 < len; c++) {
        if (*c == '\n' || *c == '\r') {
            line_break = n > 0;
        } else if (*c == ' ' || *c == '\t') {
            if (n > 0 && dst[n - 1] != ' ' && !line_break)
                dst[n++] = ' ';
        } else {
            if (line_break) {
                if (dst[n - 1] == ' ')
                    n--;
                if (n + 3 >= len)
                    break;
                dst[n++] = ';';
                dst[n++] = ' ';
                line_break = false;
            }
            dst[n++] = *c;
        }
    }
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    dst[n] = '\0';
}

/*
 * Records a failure in state and err: the short primary, libpq's text (raw,
 * NULL for none) as the detail, redacted and on one line, and the hint.
 */
static void set_failure(struct dbssl_tls_state *st, const struct dbssl_config *cfg,
                        const char *primary, const char *raw, const struct dbssl_conn_diagnosis *d,
                        struct dbssl_error *err)
{
    char *m = raw ? dbssl_config_redact(cfg, raw) : NULL;
    dbssl_conn_message_one_line(st->error_detail, sizeof(st->error_detail),
                                m ? m : (raw ? "out of memory" : ""));
    free(m);
    copy_str(st->error_message, sizeof(st->error_message), primary);
    st->connected = false;
    st->error_class = d->cls;
    st->verify_reason = d->reason;
    copy_str(st->error_hint, sizeof(st->error_hint), d->hint);
    dbssl_error_setx(err, DBSSL_ERR_CONNECT, st->error_detail, d->hint, "%s", primary);
}

/*
 * The certificate the server presented, read from the X509 libpq's TLS
 * session already holds (certinfo.c formats it as everywhere else): not
 * encoded to PEM and parsed again, which cost an OpenSSL decoder look-up
 * per connect and per check.
 */
static void read_peer_cert(PGconn *conn, struct dbssl_tls_state *st)
{
    SSL *ssl = PQsslStruct(conn, "OpenSSL");
    X509 *x = ssl != NULL ? SSL_get0_peer_certificate(ssl) : NULL;

    if (x != NULL && dbssl_cert_brief(x, st->server_cert_subject, sizeof(st->server_cert_subject),
                                      st->server_cert_serial, sizeof(st->server_cert_serial),
                                      &st->server_cert_not_before, &st->server_cert_not_after) != 0)
        st->server_cert_subject[0] = st->server_cert_serial[0] = '\0';
}

static void read_tls(PGconn *conn, struct dbssl_tls_state *st)
{
    const char *bits;
    int v = PQserverVersion(conn);

    copy_str(st->server_host, sizeof(st->server_host), PQhost(conn));
    copy_str(st->server_port, sizeof(st->server_port), PQport(conn));
    dbssl_pg_version_text(v, st->server_version, sizeof(st->server_version));
    st->ssl_in_use = PQsslInUse(conn) == 1;
    st->protocol[0] = st->cipher[0] = st->alpn[0] = '\0';
    st->key_bits = 0;
    st->server_cert_subject[0] = st->server_cert_serial[0] = '\0';
    st->server_cert_not_before = st->server_cert_not_after = 0;
    if (!st->ssl_in_use)
        return;
    copy_str(st->protocol, sizeof(st->protocol), PQsslAttribute(conn, "protocol"));
    copy_str(st->cipher, sizeof(st->cipher), PQsslAttribute(conn, "cipher"));
    /* NULL from a libpq before 17, which has no ALPN */
    copy_str(st->alpn, sizeof(st->alpn), PQsslAttribute(conn, "alpn"));
    bits = PQsslAttribute(conn, "key_bits");
    if (bits != NULL) {
        long b;
        if (parse_long(bits, 0, 1 << 20, &b))
            st->key_bits = (int)b;
    }
    read_peer_cert(conn, st);
}

/*
 * PQexec would wait forever on a server that stopped answering, and the
 * checker must not hang with it.
 */
int dbssl_conn_exec_params_bounded(PGconn *conn, const char *sql, int nparams,
                                   const char *const *params, long timeout_s, PGresult **out)
{
    long long deadline = dbssl_mono_ms() + (long long)timeout_s * MS_PER_SECOND;
    PGresult *r, *first = NULL;

    *out = NULL;
    /* without parameters the simple protocol, as before: nothing changes for those callers */
    if ((nparams == 0 ? PQsendQuery(conn, sql)
                      : PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0)) != 1)
        return -1;
    while (PQisBusy(conn)) {
        struct pollfd pfd = {PQsocket(conn), POLLIN, 0};
        long long left = deadline - dbssl_mono_ms();
        int n;
        if (left <= 0)
            return -2;
        n = poll(&pfd, 1, (int)left + 1);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n > 0 && PQconsumeInput(conn) != 1)
            return -1;
    }
    while ((r = PQgetResult(conn)) != NULL) {
        if (first == NULL)
            first = r;
        else
            PQclear(r);
    }
    if (first == NULL || PQresultStatus(first) != PGRES_TUPLES_OK) {
        PQclear(first);
        return -1;
    }
    *out = first;
    return 0;
}

int dbssl_conn_exec_bounded(PGconn *conn, const char *sql, long timeout_s, PGresult **out)
{
    return dbssl_conn_exec_params_bounded(conn, sql, 0, NULL, timeout_s, out);
}

static const char STAT_SSL_SQL[] = "select ssl, version, cipher, bits, client_dn from pg_stat_ssl "
                                   "where pid = pg_backend_pid()";

/* The server's own view of our session; fails when the connection is gone. */
static int query_stat_ssl(PGconn *conn, const struct dbssl_config *cfg, long timeout_s,
                          struct dbssl_tls_state *st)
{
    PGresult *res = NULL;
    int rc = dbssl_conn_exec_bounded(conn, STAT_SSL_SQL, timeout_s, &res);

    if (rc == -2) {
        char msg[128];
        struct dbssl_conn_diagnosis d = dbssl_conn_diagnosis_of(DBSSL_CONN_TIMEOUT);
        snprintf(msg, sizeof(msg), "the server did not answer the health check query within %ld s",
                 timeout_s);
        set_failure(st, cfg, msg, NULL, &d, NULL);
        return -1;
    }
    if (rc != 0) {
        const char *m = PQerrorMessage(conn);
        struct dbssl_conn_diagnosis d;
        if (m == NULL || m[0] == '\0')
            m = "the connection to the server was lost";
        d = dbssl_conn_classify(m);
        set_failure(st, cfg, "lost the connection to the server", m, &d, NULL);
        return -1;
    }
    if (PQntuples(res) == 1) {
        st->server_sees_ssl = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        st->client_cert_sent = !PQgetisnull(res, 0, 4) && PQgetvalue(res, 0, 4)[0] != '\0';
    }
    PQclear(res);
    return 0;
}

/* A connection that is not encrypted although TLS is required is closed. */
static bool fail_closed(const struct dbssl_config *cfg, struct dbssl_tls_state *st,
                        struct dbssl_error *err)
{
    struct dbssl_conn_diagnosis d = dbssl_conn_diagnosis_of(DBSSL_CONN_SSL_UNAVAILABLE);

    if (st->ssl_in_use || !dbssl_config_tls_required(cfg))
        return false;
    set_failure(st, cfg, "the connection is not encrypted but TLS is required",
                "The server accepted the connection without TLS; dbssl closed it.", &d, err);
    return true;
}

/*
 * PQconnectdbParams without blocking past deadline_ms (CLOCK_MONOTONIC ms):
 * NULL conn or CONNECTION_BAD as libpq leaves them; *timed_out when the
 * deadline came first (the connection is then closed and NULL returned).
 */
static PGconn *connect_until(const struct dbssl_conn_params *p, long long deadline_ms,
                             bool *timed_out)
{
    PGconn *conn = PQconnectStartParams(p->keywords, p->values, 0);
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;

    *timed_out = false;
    if (conn == NULL || PQstatus(conn) == CONNECTION_BAD)
        return conn;
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        struct pollfd pfd = {PQsocket(conn), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, 0};
        long long left = deadline_ms - dbssl_mono_ms();
        int n;
        if (left <= 0) {
            *timed_out = true;
            PQfinish(conn);
            return NULL;
        }
        n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0)
            st = PQconnectPoll(conn);
    }
    return conn;
}

long dbssl_conn_seconds_left(long long deadline_ms)
{
    long long left = deadline_ms - dbssl_mono_ms();

    return left <= MS_PER_SECOND ? 1 : (long)((left + MS_PER_SECOND - 1) / MS_PER_SECOND);
}

/*
 * Connects; with report, fills state with everything the TLS report shows
 * (libpq's attributes, the peer certificate, the server's own view from
 * pg_stat_ssl: one more round trip).  Without, state gets only what the
 * fail-closed rule needs, so that the connect costs what libpq's costs.
 */
static PGconn *connect_fill(const struct dbssl_config *cfg, const struct dbssl_conn_files *files,
                            const struct dbssl_conn_to *to, struct dbssl_tls_state *state,
                            bool report, struct dbssl_error *err)
{
    struct dbssl_conn_params p;
    struct dbssl_error perr;
    PGconn *conn = NULL;
    double t0 = dbssl_mono_fine_ms();
    bool bounded = to != NULL && to->deadline_ms > 0, timed_out = false;

    memset(state, 0, sizeof(*state));
    /* a local error: the reason must reach the state even when err is NULL */
    dbssl_error_clear(&perr);
    if (dbssl_conn_build_params_to(cfg, files, to, &p, &perr) != 0) {
        struct dbssl_conn_diagnosis d = dbssl_conn_diagnosis_of(DBSSL_CONN_OTHER);
        set_failure(state, cfg, perr.message, perr.detail, &d, NULL);
        dbssl_error_setx(err, perr.code, perr.detail, perr.hint, "%s", perr.message);
        return NULL;
    }
    if (bounded) {
        /* libpq's own timeout as a second bound (whole seconds, at least 2) */
        snprintf(p.timeout, sizeof(p.timeout), "%ld", dbssl_conn_seconds_left(to->deadline_ms));
        conn = connect_until(&p, to->deadline_ms, &timed_out);
    } else {
        conn = PQconnectdbParams(p.keywords, p.values, 0);
    }
    /* p stays until the failure is explained: the CN-mismatch rule reads its certificate */
    if (timed_out) {
        struct dbssl_conn_diagnosis d = dbssl_conn_diagnosis_of(DBSSL_CONN_TIMEOUT);
        dbssl_conn_params_free(&p);
        set_failure(state, cfg, "the server did not complete the connection in time", NULL, &d,
                    err);
        state->latency_ms = dbssl_mono_fine_ms() - t0;
        return NULL;
    }
    if (conn == NULL) {
        struct dbssl_conn_diagnosis d = dbssl_conn_diagnosis_of(DBSSL_CONN_OTHER);
        dbssl_conn_params_free(&p);
        set_failure(state, cfg, "out of memory", NULL, &d, err);
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        struct dbssl_conn_diagnosis d = dbssl_conn_classify(PQerrorMessage(conn));
        /* PgBouncer's admin console has no CN-to-user rule to blame */
        if (to == NULL || !to->admin_console)
            dbssl_conn_explain(cfg, &p, PQuser(conn), &d);
        dbssl_conn_params_free(&p);
        set_failure(state, cfg, "could not connect to the server", PQerrorMessage(conn), &d, err);
        goto fail;
    }
    dbssl_conn_params_free(&p);
    if (report)
        read_tls(conn, state);
    else
        state->ssl_in_use = PQsslInUse(conn) == 1;
    if (fail_closed(cfg, state, err))
        goto fail;
    if (report && (to == NULL || !to->admin_console) &&
        query_stat_ssl(conn, cfg,
                       bounded ? dbssl_conn_seconds_left(to->deadline_ms) : cfg->connect_timeout,
                       state) != 0) {
        dbssl_error_setx(err, DBSSL_ERR_CONNECT, state->error_detail, state->error_hint, "%s",
                         state->error_message);
        goto fail;
    }
    state->connected = true;
    state->latency_ms = dbssl_mono_fine_ms() - t0;
    return conn;
fail:
    state->latency_ms = dbssl_mono_fine_ms() - t0;
    PQfinish(conn);
    return NULL;
}

PGconn *dbssl_connect_files(const struct dbssl_config *cfg, const struct dbssl_conn_files *files,
                            struct dbssl_tls_state *state, struct dbssl_error *err)
{
    return dbssl_connect_to(cfg, files, NULL, state, err);
}

PGconn *dbssl_connect_to(const struct dbssl_config *cfg, const struct dbssl_conn_files *files,
                         const struct dbssl_conn_to *to, struct dbssl_tls_state *state,
                         struct dbssl_error *err)
{
    struct dbssl_tls_state local;
    PGconn *conn = connect_fill(cfg, files, to, state ? state : &local, state != NULL, err);

    if (state != NULL)
        dbssl_tls_state_format(state);
    return conn;
}

PGconn *dbssl_connect(const struct dbssl_config *cfg, struct dbssl_tls_state *state,
                      struct dbssl_error *err)
{
    return dbssl_connect_files(cfg, NULL, state, err);
}

static bool check_fill(PGconn *conn, const struct dbssl_config *cfg, struct dbssl_tls_state *state)
{
    double t0 = dbssl_mono_fine_ms();

    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        struct dbssl_conn_diagnosis d = dbssl_conn_classify(conn ? PQerrorMessage(conn) : NULL);
        set_failure(state, cfg, conn ? "lost the connection to the server" : "not connected",
                    conn ? PQerrorMessage(conn) : NULL, &d, NULL);
        return false;
    }
    if (query_stat_ssl(conn, cfg, cfg->connect_timeout, state) != 0) {
        state->latency_ms = dbssl_mono_fine_ms() - t0;
        return false;
    }
    read_tls(conn, state);
    state->connected = true;
    state->error_class = DBSSL_CONN_OK;
    state->verify_reason = DBSSL_VERIFY_NONE;
    state->error_message[0] = state->error_detail[0] = state->error_hint[0] = '\0';
    state->latency_ms = dbssl_mono_fine_ms() - t0;
    return true;
}

bool dbssl_conn_check(PGconn *conn, const struct dbssl_config *cfg, struct dbssl_tls_state *state)
{
    struct dbssl_tls_state local;
    bool ok;

    if (state == NULL) {
        memset(&local, 0, sizeof(local));
        state = &local;
    }
    ok = check_fill(conn, cfg, state);
    dbssl_tls_state_format(state);
    return ok;
}
