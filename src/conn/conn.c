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
 * Failures are classified from libpq's message with a table of patterns, so
 * that the health report can say *why* (and what to do) instead of echoing
 * text.  libpq 15 messages are not translated here (lc_messages of the client
 * is C in services), which is what makes matching them reliable.
 */
#include "conn_int.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certinfo.h"
#include "clock.h"
#include "util.h"

/* ---- names ----------------------------------------------------------------- */

const char *dbssl_conn_class_name(enum dbssl_conn_class c)
{
    switch (c) {
    case DBSSL_CONN_OK:
        return "ok";
    case DBSSL_CONN_SSL_UNAVAILABLE:
        return "ssl_unavailable";
    case DBSSL_CONN_CERT_VERIFY_FAILED:
        return "certificate_verification_failed";
    case DBSSL_CONN_CLIENT_CERT_REJECTED:
        return "client_certificate_rejected";
    case DBSSL_CONN_AUTH_FAILED:
        return "authentication_failed";
    case DBSSL_CONN_SERVER_REJECTED:
        return "server_rejected";
    case DBSSL_CONN_TIMEOUT:
        return "timeout";
    case DBSSL_CONN_REFUSED:
        return "connection_refused";
    case DBSSL_CONN_HOST_NOT_FOUND:
        return "host_not_found";
    case DBSSL_CONN_OTHER:
        return "other";
    case DBSSL_CONN_TOO_MANY_CONNECTIONS:
        return "too_many_connections";
    }
    return "other";
}

const char *dbssl_verify_reason_name(enum dbssl_verify_reason r)
{
    switch (r) {
    case DBSSL_VERIFY_NONE:
        return "none";
    case DBSSL_VERIFY_UNKNOWN_CA:
        return "unknown_ca";
    case DBSSL_VERIFY_EXPIRED:
        return "expired";
    case DBSSL_VERIFY_HOSTNAME_MISMATCH:
        return "hostname_mismatch";
    case DBSSL_VERIFY_OTHER:
        return "other";
    case DBSSL_VERIFY_CHANNEL_BINDING_UNAVAILABLE:
        return "channel_binding_unavailable";
    }
    return "other";
}

/* ---- classification -------------------------------------------------------- */

static const char HINT_SSL_UNAVAILABLE[] =
    "Verify that the PostgreSQL server has SSL enabled (ssl = on in postgresql.conf, with "
    "ssl_cert_file and ssl_key_file readable by the server), then reload it.";
static const char HINT_UNKNOWN_CA[] =
    "Verify that DB_SSL_CA_CERT is the CA certificate that signed the server certificate and "
    "that the chain is complete (put intermediate certificates in the CA file).";
static const char HINT_EXPIRED[] =
    "Check certificate expiration with \"openssl x509 -in FILE -noout -dates\" and renew the "
    "expired certificate.";
static const char HINT_HOSTNAME[] =
    "Connect using a name the server certificate lists in its subject alternative names, or "
    "re-issue the server certificate with this host name or IP address; DB_SSL_MODE=verify-ca "
    "skips the host name check.";
static const char HINT_VERIFY_OTHER[] =
    "Verify that the CA certificate matches the server certificate, that no certificate has "
    "expired, and that the certificate chain is complete.";
static const char HINT_CLIENT_CERT[] =
    "The server requires a client certificate it trusts: set DB_SSL_CLIENT_CERT and "
    "DB_SSL_CLIENT_KEY to a pair signed by the server's ssl_ca_file, with the database user "
    "name as the certificate's common name.";
static const char HINT_AUTH[] =
    "Check the user name and password in DATABASE_URL against the database role.";
static const char HINT_CHANNEL_BINDING[] =
    "DB_SSL_CHANNEL_BINDING=require needs SCRAM-SHA-256-PLUS over TLS: make the server "
    "authenticate this role with scram-sha-256 on a hostssl line of pg_hba.conf and a password "
    "stored as SCRAM (password_encryption = scram-sha-256), or set DB_SSL_CHANNEL_BINDING=prefer "
    "for a server that authenticates otherwise (cert, md5, trust).";
static const char HINT_SERVER_REJECTED[] =
    "Add a pg_hba.conf entry on the server for this client address, user and database (hostssl "
    "for TLS connections) and reload the server.";
static const char HINT_TIMEOUT[] =
    "Check network connectivity, that a firewall allows the connection, and the PostgreSQL port "
    "(usually 5432); raise DB_CONNECT_TIMEOUT if the server is slow to answer.";
static const char HINT_REFUSED[] =
    "Check that PostgreSQL is running and listening on this host and port (listen_addresses and "
    "port in postgresql.conf) and that DATABASE_URL names them.";
static const char HINT_HOST[] =
    "Check the host name in DATABASE_URL and that DNS resolves it from this machine.";
static const char HINT_TOO_MANY[] =
    "The server has no free connection slot: raise max_connections in postgresql.conf (a "
    "restart applies it), or put a connection pooler such as PgBouncer in front of it, and "
    "check for clients that hold idle connections (pg_stat_activity).";
static const char HINT_TOO_MANY_ROLE[] =
    "The role or database has reached its connection limit: raise it (ALTER ROLE ... "
    "CONNECTION LIMIT, ALTER DATABASE ... CONNECTION LIMIT) or use a connection pooler such "
    "as PgBouncer.";
static const char HINT_LOST[] =
    "The server closed the connection, for example because it was stopped or restarted; dbssl "
    "reconnects on its own once the server is back.";
static const char HINT_CLIENT_FILES[] =
    "The client certificate or key could not be used: check that DB_SSL_CLIENT_CERT and "
    "DB_SSL_CLIENT_KEY exist, belong together (\"dbssl certs inspect\") and that the key has mode "
    "0600; \"dbssl validate\" names the problem.";
static const char HINT_OTHER[] =
    "Read libpq's message in the detail and the PostgreSQL server log for the cause.";

struct pattern {
    const char *needle; /* substring of libpq's message */
    enum dbssl_conn_class cls;
    enum dbssl_verify_reason reason;
    const char *hint;
};

/*
 * First match wins, so the specific patterns come before the generic ones:
 * a host name mismatch is reported by libpq as its own message, whereas
 * OpenSSL's "certificate verify failed" covers every chain problem.
 * Alerts *received* from the server ("tlsv1 alert unknown ca") are about
 * our client certificate, not the server's.
 */
static const struct pattern patterns[] = {
    /* our own files, before anything reaches the server */
    {"could not load private key file", DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE, HINT_CLIENT_FILES},
    {"could not read certificate file", DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE, HINT_CLIENT_FILES},
    {"could not open certificate file", DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE, HINT_CLIENT_FILES},
    {"has group or world access", DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE, HINT_CLIENT_FILES},
    {"certificate present, but not private key", DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE,
     HINT_CLIENT_FILES},
    {"does not match host name", DBSSL_CONN_CERT_VERIFY_FAILED, DBSSL_VERIFY_HOSTNAME_MISMATCH,
     HINT_HOSTNAME},
    {"could not get server's host name from server certificate", DBSSL_CONN_CERT_VERIFY_FAILED,
     DBSSL_VERIFY_HOSTNAME_MISMATCH, HINT_HOSTNAME},
    {"certificate has expired", DBSSL_CONN_CERT_VERIFY_FAILED, DBSSL_VERIFY_EXPIRED, HINT_EXPIRED},
    {"certificate is not yet valid", DBSSL_CONN_CERT_VERIFY_FAILED, DBSSL_VERIFY_OTHER,
     HINT_VERIFY_OTHER},
    {"alert unknown ca", DBSSL_CONN_CLIENT_CERT_REJECTED, DBSSL_VERIFY_NONE, HINT_CLIENT_CERT},
    {"alert bad certificate", DBSSL_CONN_CLIENT_CERT_REJECTED, DBSSL_VERIFY_NONE, HINT_CLIENT_CERT},
    {"alert certificate required", DBSSL_CONN_CLIENT_CERT_REJECTED, DBSSL_VERIFY_NONE,
     HINT_CLIENT_CERT},
    {"alert certificate expired", DBSSL_CONN_CLIENT_CERT_REJECTED, DBSSL_VERIFY_NONE,
     HINT_CLIENT_CERT},
    {"alert certificate revoked", DBSSL_CONN_CLIENT_CERT_REJECTED, DBSSL_VERIFY_NONE,
     HINT_CLIENT_CERT},
    {"connection requires a valid client certificate", DBSSL_CONN_CLIENT_CERT_REJECTED,
     DBSSL_VERIFY_NONE, HINT_CLIENT_CERT},
    {"certificate authentication failed for user", DBSSL_CONN_CLIENT_CERT_REJECTED,
     DBSSL_VERIFY_NONE, HINT_CLIENT_CERT},
    {"unable to get local issuer certificate", DBSSL_CONN_CERT_VERIFY_FAILED,
     DBSSL_VERIFY_UNKNOWN_CA, HINT_UNKNOWN_CA},
    {"self-signed certificate in certificate chain", DBSSL_CONN_CERT_VERIFY_FAILED,
     DBSSL_VERIFY_UNKNOWN_CA, HINT_UNKNOWN_CA},
    {"certificate verify failed", DBSSL_CONN_CERT_VERIFY_FAILED, DBSSL_VERIFY_UNKNOWN_CA,
     HINT_UNKNOWN_CA},
    {"server does not support SSL, but SSL was required", DBSSL_CONN_SSL_UNAVAILABLE,
     DBSSL_VERIFY_NONE, HINT_SSL_UNAVAILABLE},
    /* libpq 15's four ways of saying that channel_binding=require could not be met */
    {"channel binding required", DBSSL_CONN_AUTH_FAILED, DBSSL_VERIFY_CHANNEL_BINDING_UNAVAILABLE,
     HINT_CHANNEL_BINDING},
    {"channel binding is required", DBSSL_CONN_AUTH_FAILED,
     DBSSL_VERIFY_CHANNEL_BINDING_UNAVAILABLE, HINT_CHANNEL_BINDING},
    {"password authentication failed", DBSSL_CONN_AUTH_FAILED, DBSSL_VERIFY_NONE, HINT_AUTH},
    {"no password supplied", DBSSL_CONN_AUTH_FAILED, DBSSL_VERIFY_NONE, HINT_AUTH},
    {"no pg_hba.conf entry", DBSSL_CONN_SERVER_REJECTED, DBSSL_VERIFY_NONE, HINT_SERVER_REJECTED},
    {"pg_hba.conf rejects connection", DBSSL_CONN_SERVER_REJECTED, DBSSL_VERIFY_NONE,
     HINT_SERVER_REJECTED},
    /* the server's connection slots: all taken, or the rest kept for superusers
     * (PostgreSQL 16 words it "reserved for roles with ...") */
    {"sorry, too many clients already", DBSSL_CONN_TOO_MANY_CONNECTIONS, DBSSL_VERIFY_NONE,
     HINT_TOO_MANY},
    {"remaining connection slots are reserved", DBSSL_CONN_TOO_MANY_CONNECTIONS, DBSSL_VERIFY_NONE,
     HINT_TOO_MANY},
    {"too many connections for role", DBSSL_CONN_TOO_MANY_CONNECTIONS, DBSSL_VERIFY_NONE,
     HINT_TOO_MANY_ROLE},
    {"too many connections for database", DBSSL_CONN_TOO_MANY_CONNECTIONS, DBSSL_VERIFY_NONE,
     HINT_TOO_MANY_ROLE},
    {"timeout expired", DBSSL_CONN_TIMEOUT, DBSSL_VERIFY_NONE, HINT_TIMEOUT},
    {"Connection refused", DBSSL_CONN_REFUSED, DBSSL_VERIFY_NONE, HINT_REFUSED},
    {"could not translate host name", DBSSL_CONN_HOST_NOT_FOUND, DBSSL_VERIFY_NONE, HINT_HOST},
    {"server closed the connection unexpectedly", DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE, HINT_LOST},
    {"terminating connection due to administrator command", DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE,
     HINT_LOST},
};

struct dbssl_conn_diagnosis dbssl_conn_classify(const char *msg)
{
    struct dbssl_conn_diagnosis d = {DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE, HINT_OTHER};

    if (msg == NULL)
        return d;
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        if (strstr(msg, patterns[i].needle) != NULL) {
            d.cls = patterns[i].cls;
            d.reason = patterns[i].reason;
            d.hint = patterns[i].hint;
            break;
        }
    }
    return d;
}

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

/* No replacement: every file as the settings name it. */
static const struct dbssl_conn_files settings_files = {NULL, NULL, NULL, NULL};

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
            (to->port > 0 && add_param(p, "port", p->port, err) != 0))
            goto out;
    }
    if (to != NULL && to->session_attrs != NULL &&
        add_param(p, "target_session_attrs", to->session_attrs, err) != 0)
        goto out;

    tls_required = cfg->ssl_required || cfg->ssl_mode >= DBSSL_SSLMODE_REQUIRE;
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
    if (add_param(p, "ssl_min_protocol_version",
                  dbssl_option_choice(OPT_DB_SSL_MIN_PROTOCOL_VERSION, (int)cfg->min_protocol),
                  err) != 0 ||
        add_param(p, "channel_binding",
                  dbssl_option_choice(OPT_DB_SSL_CHANNEL_BINDING, (int)cfg->channel_binding),
                  err) != 0)
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
            out[n++] = (struct dbssl_conn_param_info){
                o->keyword, p->values[i], o->envvar,
                o->dispchar != NULL && strchr(o->dispchar, '*') != NULL, o->val != NULL};
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

static double mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

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
 * OpenSSL only says "certificate verify failed"; when a certificate of the
 * CA bundle in use has expired, that is the cause the user must fix.
 */
static void refine_verify_reason(const struct dbssl_config *cfg, struct dbssl_conn_diagnosis *d)
{
    struct dbssl_file_ref ca;
    struct dbssl_certlist list = {NULL, 0};
    long long now = dbssl_now();

    if (d->reason != DBSSL_VERIFY_UNKNOWN_CA || !dbssl_config_ca_file(cfg, &ca))
        return;
    if (dbssl_certlist_load(ca.path, "CA certificate file", &list, NULL) != 0)
        return;
    for (size_t i = 0; i < list.n; i++) {
        if (list.certs[i].not_after < now) {
            d->reason = DBSSL_VERIFY_EXPIRED;
            d->hint = HINT_EXPIRED;
        }
    }
    dbssl_certlist_free(&list);
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
    if (v >= 100000)
        snprintf(st->server_version, sizeof(st->server_version), "%d.%d", v / 10000, v % 10000);
    else
        snprintf(st->server_version, sizeof(st->server_version), "%d.%d.%d", v / 10000,
                 (v / 100) % 100, v % 100);
    st->ssl_in_use = PQsslInUse(conn) == 1;
    st->protocol[0] = st->cipher[0] = '\0';
    st->key_bits = 0;
    st->server_cert_subject[0] = st->server_cert_serial[0] = '\0';
    st->server_cert_not_before = st->server_cert_not_after = 0;
    if (!st->ssl_in_use)
        return;
    copy_str(st->protocol, sizeof(st->protocol), PQsslAttribute(conn, "protocol"));
    copy_str(st->cipher, sizeof(st->cipher), PQsslAttribute(conn, "cipher"));
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
    double deadline = mono_ms() + (double)timeout_s * 1000.0;
    PGresult *r, *first = NULL;

    *out = NULL;
    /* without parameters the simple protocol, as before: nothing changes for those callers */
    if ((nparams == 0 ? PQsendQuery(conn, sql)
                      : PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0)) != 1)
        return -1;
    while (PQisBusy(conn)) {
        struct pollfd pfd = {PQsocket(conn), POLLIN, 0};
        double left = deadline - mono_ms();
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
        struct dbssl_conn_diagnosis d = {DBSSL_CONN_TIMEOUT, DBSSL_VERIFY_NONE, HINT_TIMEOUT};
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
    struct dbssl_conn_diagnosis d = {DBSSL_CONN_SSL_UNAVAILABLE, DBSSL_VERIFY_NONE,
                                     HINT_SSL_UNAVAILABLE};

    if (st->ssl_in_use || !(cfg->ssl_required || cfg->ssl_mode >= DBSSL_SSLMODE_REQUIRE))
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
        long long left = deadline_ms - (long long)mono_ms();
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

/* Whole seconds left until deadline_ms, at least 1. */
static long seconds_left(long long deadline_ms)
{
    long long left = deadline_ms - (long long)mono_ms();

    return left <= 1000 ? 1 : (long)((left + 999) / 1000);
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
    double t0 = mono_ms();
    bool bounded = to != NULL && to->deadline_ms > 0, timed_out = false;

    memset(state, 0, sizeof(*state));
    /* a local error: the reason must reach the state even when err is NULL */
    dbssl_error_clear(&perr);
    if (dbssl_conn_build_params_to(cfg, files, to, &p, &perr) != 0) {
        struct dbssl_conn_diagnosis d = {DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE, HINT_OTHER};
        set_failure(state, cfg, perr.message, perr.detail, &d, NULL);
        dbssl_error_setx(err, perr.code, perr.detail, perr.hint, "%s", perr.message);
        return NULL;
    }
    if (bounded) {
        /* libpq's own timeout as a second bound (whole seconds, at least 2) */
        snprintf(p.timeout, sizeof(p.timeout), "%ld", seconds_left(to->deadline_ms));
        conn = connect_until(&p, to->deadline_ms, &timed_out);
    } else {
        conn = PQconnectdbParams(p.keywords, p.values, 0);
    }
    dbssl_conn_params_free(&p);
    if (timed_out) {
        struct dbssl_conn_diagnosis d = {DBSSL_CONN_TIMEOUT, DBSSL_VERIFY_NONE, HINT_TIMEOUT};
        set_failure(state, cfg, "the server did not complete the connection in time", NULL, &d,
                    err);
        state->latency_ms = mono_ms() - t0;
        return NULL;
    }
    if (conn == NULL) {
        struct dbssl_conn_diagnosis d = {DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE, HINT_OTHER};
        set_failure(state, cfg, "out of memory", NULL, &d, err);
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        struct dbssl_conn_diagnosis d = dbssl_conn_classify(PQerrorMessage(conn));
        if (d.cls == DBSSL_CONN_CERT_VERIFY_FAILED)
            refine_verify_reason(cfg, &d);
        set_failure(state, cfg, "could not connect to the server", PQerrorMessage(conn), &d, err);
        goto fail;
    }
    if (report)
        read_tls(conn, state);
    else
        state->ssl_in_use = PQsslInUse(conn) == 1;
    if (fail_closed(cfg, state, err))
        goto fail;
    if (report &&
        query_stat_ssl(conn, cfg, bounded ? seconds_left(to->deadline_ms) : cfg->connect_timeout,
                       state) != 0) {
        dbssl_error_setx(err, DBSSL_ERR_CONNECT, state->error_detail, state->error_hint, "%s",
                         state->error_message);
        goto fail;
    }
    state->connected = true;
    state->latency_ms = mono_ms() - t0;
    return conn;
fail:
    state->latency_ms = mono_ms() - t0;
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
    double t0 = mono_ms();

    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        struct dbssl_conn_diagnosis d = dbssl_conn_classify(conn ? PQerrorMessage(conn) : NULL);
        set_failure(state, cfg, conn ? "lost the connection to the server" : "not connected",
                    conn ? PQerrorMessage(conn) : NULL, &d, NULL);
        return false;
    }
    if (query_stat_ssl(conn, cfg, cfg->connect_timeout, state) != 0) {
        state->latency_ms = mono_ms() - t0;
        return false;
    }
    read_tls(conn, state);
    state->connected = true;
    state->error_class = DBSSL_CONN_OK;
    state->verify_reason = DBSSL_VERIFY_NONE;
    state->error_message[0] = state->error_detail[0] = state->error_hint[0] = '\0';
    state->latency_ms = mono_ms() - t0;
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
