/*
 * evidence.c - one audit run's facts, gathered (see audit.h): the settings
 * and their validation, one session (dbssl_connect) with the server's
 * settings and rules read over it, a scan of the server it reached, and the
 * certificate and key files.  Nothing here judges; controls.c does.
 *
 * Whatever cannot be had is written down with why (a refused connection,
 * a file that cannot be read), so that the report can say "not checked"
 * instead of stopping: an assessor wants the report most when something is
 * wrong.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit.h"
#include "certinfo.h"
#include "conn_int.h"
#include "clock.h"
#include "util.h"
#include "validate.h"

/* src into dst, cut at len - 1 bytes (the evidence keeps what fits) */
static void copy(char *dst, size_t len, const char *src)
{
    size_t n = src ? strnlen(src, len - 1) : 0;

    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

/* The first entry of a libpq host or port list ("a,b" -> "a"). */
static void first_of(char *dst, size_t len, const char *list)
{
    size_t n = 0;
    const char *first = list_item(list, 0, &n);

    snprintf(dst, len, "%.*s", (int)(n < len ? n : len - 1), first ? first : "");
}

static int grow(void **v, size_t n, size_t size)
{
    void *p = realloc(*v, (n + 1) * size);

    if (p == NULL)
        return -1;
    memset((char *)p + n * size, 0, size);
    *v = p;
    return 0;
}

static void gather_client(const struct dbssl_config *cfg, const struct dbssl_findings *f,
                          struct dbssl_audit_client *c, bool *oom)
{
    struct dbssl_file_ref ref, key;

    copy(c->ssl_mode, sizeof(c->ssl_mode), dbssl_sslmode_name(cfg->ssl_mode));
    c->ssl_required = cfg->ssl_required;
    copy(c->min_protocol, sizeof(c->min_protocol), dbssl_option_choice(OPT_DB_SSL_MIN_PROTOCOL_VERSION, (int)cfg->min_protocol));
    copy(c->app_env, sizeof(c->app_env), dbssl_option_choice(OPT_APP_ENV, (int)cfg->app_env));
    c->ca_configured = dbssl_config_ca_file(cfg, &ref);
    c->mutual_tls = dbssl_config_client_files(cfg, &ref, &key);
    c->crl_configured = cfg->crl != NULL;
    c->auto_generate = cfg->auto_generate;
    c->expiry_warn_days = cfg->expiry_warn_days;
    c->health_check_interval = cfg->health_check_interval;
    for (size_t i = 0; f != NULL && i < dbssl_findings_count(f); i++) {
        const struct dbssl_finding *fd = dbssl_findings_at(f, i);
        struct dbssl_audit_note *n;
        if (grow((void **)&c->validation, c->n_validation, sizeof(*n)) != 0) {
            *oom = true;
            return;
        }
        n = &c->validation[c->n_validation++];
        copy(n->severity, sizeof(n->severity), dbssl_severity_name(fd->severity));
        copy(n->setting, sizeof(n->setting), fd->setting);
        copy(n->message, sizeof(n->message), fd->message);
    }
}

static void gather_session(const struct dbssl_tls_state *t, struct dbssl_audit_session *s)
{
    s->connected = t->connected;
    s->ssl_in_use = t->ssl_in_use;
    s->server_sees_ssl = t->server_sees_ssl;
    s->client_cert_sent = t->client_cert_sent;
    copy(s->protocol, sizeof(s->protocol), t->protocol);
    copy(s->cipher, sizeof(s->cipher), t->cipher);
    s->key_bits = t->key_bits;
    copy(s->server_version, sizeof(s->server_version), t->server_version);
    copy(s->server_host, sizeof(s->server_host), t->server_host);
    copy(s->server_port, sizeof(s->server_port), t->server_port);
    copy(s->error_class, sizeof(s->error_class),
         t->connected ? "ok" : dbssl_conn_class_name(t->error_class));
    copy(s->error_message, sizeof(s->error_message), t->error_message);
    copy(s->error_detail, sizeof(s->error_detail), t->error_detail);
    copy(s->error_hint, sizeof(s->error_hint), t->error_hint);
}

static int add_cert(struct dbssl_audit_evidence *ev, const char *role, const char *source,
                    int position, const struct dbssl_certinfo *c, bool generated)
{
    struct dbssl_audit_cert *r;

    if (grow((void **)&ev->certs, ev->n_certs, sizeof(*r)) != 0)
        return -1;
    r = &ev->certs[ev->n_certs++];
    copy(r->role, sizeof(r->role), role);
    copy(r->source, sizeof(r->source), source);
    r->position = position;
    copy(r->subject, sizeof(r->subject), c->subject);
    copy(r->issuer, sizeof(r->issuer), c->issuer);
    copy(r->serial, sizeof(r->serial), c->serial);
    copy(r->fingerprint_sha256, sizeof(r->fingerprint_sha256), c->fingerprint);
    copy(r->key_type, sizeof(r->key_type), c->key_type);
    r->key_bits = c->key_bits;
    r->not_before = c->not_before;
    r->not_after = c->not_after;
    r->is_ca = c->is_ca;
    r->self_signed = c->self_signed;
    r->generated = generated;
    return 0;
}

/*
 * A file the settings name: its mode and owner (stat follows a symlink, as
 * libpq does when it opens the file), and for certificates their contents
 * into the register.
 */
static int add_file(struct dbssl_audit_evidence *ev, const char *role,
                    const struct dbssl_file_ref *ref, const char *cert_role)
{
    struct dbssl_audit_file *f;
    char abs[PATH_MAX];
    struct stat st;

    if (grow((void **)&ev->files, ev->n_files, sizeof(*f)) != 0)
        return -1;
    f = &ev->files[ev->n_files++];
    copy(f->role, sizeof(f->role), role);
    copy(f->setting, sizeof(f->setting), ref->setting);
    /* the report is read elsewhere: the file as an absolute name */
    copy(f->path, sizeof(f->path), realpath(ref->path, abs) ? abs : ref->path);
    if (stat(ref->path, &st) != 0) {
        snprintf(f->error, sizeof(f->error), "could not stat \"%.400s\": %s", ref->path,
                 strerror(errno));
        return 0;
    }
    f->present = true;
    f->regular = S_ISREG(st.st_mode);
    f->mode = (unsigned)(st.st_mode & 07777);
    f->uid = (long long)st.st_uid;
    if (cert_role != NULL) {
        struct dbssl_certlist list = {NULL, 0};
        struct dbssl_error e;
        dbssl_error_clear(&e);
        if (dbssl_certlist_load(ref->path, "certificate file", &list, &e) != 0) {
            copy(f->error, sizeof(f->error), e.message);
            return e.code == DBSSL_ERR_NOMEM ? -1 : 0;
        }
        for (size_t i = 0; i < list.n; i++)
            if (add_cert(ev, cert_role, f->path, (int)i, &list.certs[i], ref->generated) != 0) {
                dbssl_certlist_free(&list);
                return -1;
            }
        dbssl_certlist_free(&list);
    }
    return 0;
}

static int gather_files(const struct dbssl_config *cfg, struct dbssl_audit_evidence *ev)
{
    struct dbssl_file_ref ca, cert, key, crl;

    if (dbssl_config_ca_file(cfg, &ca) && add_file(ev, "ca_cert", &ca, "ca") != 0)
        return -1;
    if (dbssl_config_client_files(cfg, &cert, &key) &&
        (add_file(ev, "client_cert", &cert, "client") != 0 ||
         add_file(ev, "client_key", &key, NULL) != 0))
        return -1;
    if (cfg->crl != NULL) {
        crl.setting = "DB_SSL_CRL";
        copy(crl.path, sizeof(crl.path), cfg->crl);
        crl.generated = false;
        if (add_file(ev, "crl", &crl, NULL) != 0)
            return -1;
    }
    return 0;
}

/* The scan of the server the session reached, or of DATABASE_URL's first host. */
static int gather_scan(const struct dbssl_config *cfg, struct dbssl_audit_evidence *ev)
{
    struct dbssl_scan_opts so = {0};
    struct dbssl_file_ref ca;
    struct dbssl_error e;
    char source[300], port_text[16];
    long port = DBSSL_SCAN_DEFAULT_PORT;

    /* no host at all is libpq's default socket too */
    if (host_is_socket(ev->target.host, strlen(ev->target.host))) {
        copy(ev->scan_error, sizeof(ev->scan_error),
             "DATABASE_URL names a Unix-domain socket, where TLS is never used");
        copy(ev->scan_hint, sizeof(ev->scan_hint),
             "Connect over TCP (a host name or address) to use and audit TLS.");
        return 0;
    }
    so.host = ev->target.host;
    so.port = ev->target.port > 0 ? ev->target.port : (int)port;
    so.timeout_ms = cfg->connect_timeout * 1000;
    so.ca_file = dbssl_config_ca_file(cfg, &ca) ? ca.path : NULL;
    dbssl_error_clear(&e);
    ev->scan = dbssl_scan_run(&so, &e);
    if (ev->scan == NULL) {
        if (e.code == DBSSL_ERR_NOMEM)
            return -1;
        if (e.detail[0])
            snprintf(ev->scan_error, sizeof(ev->scan_error), "%.300s (%.200s)", e.message,
                     e.detail);
        else
            copy(ev->scan_error, sizeof(ev->scan_error), e.message);
        copy(ev->scan_hint, sizeof(ev->scan_hint), e.hint);
        /* the scanner's words for an 'N' to the SSLRequest (scan.c) */
        ev->scan_no_tls = strstr(e.detail, "SSLRequest with \"N\"") != NULL;
        return 0;
    }
    snprintf(port_text, sizeof(port_text), "%d", ev->scan->port);
    format_host_port(source, sizeof(source), ev->scan->host, port_text); /* "[v6]:port" */
    for (size_t i = 0; i < ev->scan->chain.n; i++)
        if (add_cert(ev, "server", source, (int)i, &ev->scan->chain.certs[i], false) != 0)
            return -1;
    return 0;
}

/* Without a scan, the server certificate the session saw (no fingerprint: libpq gave none). */
static int session_server_cert(const struct dbssl_tls_state *t, struct dbssl_audit_evidence *ev)
{
    struct dbssl_certinfo c;
    char source[300];

    if (ev->scan != NULL || !t->ssl_in_use || t->server_cert_subject[0] == '\0')
        return 0;
    memset(&c, 0, sizeof(c));
    c.subject = (char *)t->server_cert_subject;
    c.serial = (char *)t->server_cert_serial;
    c.not_before = t->server_cert_not_before;
    c.not_after = t->server_cert_not_after;
    /* where the session was, connected or not ("[v6]:port" for an IPv6 server) */
    format_host_port(source, sizeof(source), t->server_host, t->server_port);
    return add_cert(ev, "server", source, 0, &c, false);
}

static void gather_target(const struct dbssl_config *cfg, const struct dbssl_tls_state *t,
                          struct dbssl_audit_target *tg)
{
    char port[16];
    long p = 0;

    /* the server actually reached (several hosts: the one that answered) */
    first_of(tg->host, sizeof(tg->host), t->server_host[0] ? t->server_host : cfg->url.host);
    first_of(port, sizeof(port), t->server_port[0] ? t->server_port : cfg->url.port);
    tg->port = parse_long(port, 1, 65535, &p) ? (int)p : DBSSL_SCAN_DEFAULT_PORT;
    copy(tg->dbname, sizeof(tg->dbname), cfg->url.dbname);
    copy(tg->user, sizeof(tg->user), cfg->url.user);
}

int dbssl_audit_gather(const struct dbssl_config *cfg, const struct dbssl_audit_opts *o,
                       struct dbssl_audit_evidence *ev, struct dbssl_error *err)
{
    struct dbssl_findings *f;
    struct dbssl_tls_state t;
    struct dbssl_error e;
    PGconn *conn;
    bool oom = false;

    memset(ev, 0, sizeof(*ev));
    ev->generated_at = o && o->now ? o->now : dbssl_now();
    copy(ev->dbssl_version, sizeof(ev->dbssl_version), DBSSL_VERSION);
    copy(ev->profile, sizeof(ev->profile),
         o && o->profile ? o->profile : DBSSL_TLS_PROFILE_DEFAULT);

    f = dbssl_config_validate(cfg, NULL);
    gather_client(cfg, f, &ev->client, &oom);
    dbssl_findings_free(f);

    conn = dbssl_connect(cfg, &t, NULL);
    gather_session(&t, &ev->session);
    dbssl_error_clear(&e);
    if (conn == NULL) {
        snprintf(ev->server_error, sizeof(ev->server_error), "no session: %s", t.error_message);
    } else if (dbssl_serverinfo_read(conn, cfg->connect_timeout, &ev->server, &e) != 0) {
        oom |= e.code == DBSSL_ERR_NOMEM;
        copy(ev->server_error, sizeof(ev->server_error), e.message);
    } else {
        ev->server_read = true;
    }
    /* a failure is recorded in the sessions themselves ("failed", with why) */
    if (conn != NULL && dbssl_sessions_read(conn, cfg, &ev->sessions, NULL) != 0)
        ev->sessions.state = DBSSL_SESSIONS_FAILED;
    PQfinish(conn);
    gather_target(cfg, &t, &ev->target);

    if (oom || gather_files(cfg, ev) != 0 || gather_scan(cfg, ev) != 0 ||
        session_server_cert(&t, ev) != 0) {
        dbssl_audit_evidence_free(ev);
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return -1;
    }
    return 0;
}
