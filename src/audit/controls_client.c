/*
 * controls_client.c - the controls about the client's side: its settings,
 * its session, the certificates it uses and their files (see controls.c
 * for how findings make a result).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "certinfo.h"
#include "controls_int.h"
#include "expiry.h"
#include "util.h"

static bool mode_is(const struct audit_ctx *c, const char *m)
{
    return strcmp(c->ev->client.ssl_mode, m) == 0;
}

/* Whether libpq verifies the server's chain (and so the CRL): config.h's rule. */
static bool client_verifies(const struct audit_ctx *c)
{
    int m = dbssl_option_choice_index(OPT_DB_SSL_MODE, c->ev->client.ssl_mode);

    return m >= 0 && dbssl_sslmode_verifies((enum dbssl_sslmode)m, c->ev->client.ca_configured);
}

static bool mode_may_fall_back(const struct audit_ctx *c)
{
    int m = dbssl_option_choice_index(OPT_DB_SSL_MODE, c->ev->client.ssl_mode);

    return m >= 0 && dbssl_sslmode_allows_plaintext((enum dbssl_sslmode)m);
}

void audit_eval_tls_required(struct audit_ctx *c)
{
    const struct dbssl_audit_session *s = &c->ev->session;

    audit_evidence(c, "DB_SSL_REQUIRED is %s, DB_SSL_MODE \"%s\"",
                   c->ev->client.ssl_required ? "true" : "false", c->ev->client.ssl_mode);
    if (!c->ev->client.ssl_required)
        audit_finding(c, DBSSL_AUDIT_FAIL,
                      "Set DB_SSL_REQUIRED=true: dbssl then refuses a session "
                      "without TLS.",
                      "DB_SSL_REQUIRED is false: a session without TLS is not refused");
    if (mode_may_fall_back(c))
        audit_finding(c, DBSSL_AUDIT_FAIL, "Set DB_SSL_MODE=verify-full.",
                      "DB_SSL_MODE \"%s\" lets libpq use a session without TLS",
                      c->ev->client.ssl_mode);
    if (!audit_need_session(c))
        return;
    if (!s->ssl_in_use)
        audit_finding(c, DBSSL_AUDIT_FAIL,
                      "Turn TLS on at the server and set DB_SSL_MODE=verify-full.",
                      "the session is not encrypted");
    else
        audit_evidence(c, "the session uses %s with %s", s->protocol, s->cipher);
}

void audit_eval_verify_full(struct audit_ctx *c)
{
    const char *m = c->ev->client.ssl_mode;

    audit_evidence(c, "DB_SSL_MODE \"%s\", CA certificate %s", m,
                   c->ev->client.ca_configured ? "configured" : "not configured");
    if (mode_is(c, "verify-full"))
        audit_evidence(c, "libpq verifies the server's chain against the CA and its host name");
    else if (mode_is(c, "verify-ca"))
        audit_finding(
            c, DBSSL_AUDIT_WARN,
            "Set DB_SSL_MODE=verify-full, with a server certificate that names the host.",
            "DB_SSL_MODE \"verify-ca\" verifies the chain but not the host name: any certificate "
            "of the same CA is accepted");
    else if (mode_is(c, "require") && c->ev->client.ca_configured)
        audit_finding(
            c, DBSSL_AUDIT_WARN, "Set DB_SSL_MODE=verify-full.",
            "DB_SSL_MODE \"require\" with a CA file: libpq verifies the chain (as verify-ca) but "
            "not the host name");
    else
        audit_finding(
            c, DBSSL_AUDIT_FAIL,
            "Set DB_SSL_MODE=verify-full and DB_SSL_CA_CERT to the CA of the server.",
            "DB_SSL_MODE \"%s\" does not verify the server's certificate: anyone in the middle "
            "can pose as the server",
            m);
}

void audit_eval_chain_trusted(struct audit_ctx *c)
{
    static const char *const ids[] = {"cert_missing",
                                      "chain_untrusted",
                                      "chain_incomplete",
                                      "cert_host",
                                      "cert_signature",
                                      "cert_key",
                                      NULL};
    const struct dbssl_audit_session *s = &c->ev->session;

    if (strcmp(s->error_class, "certificate_verification_failed") == 0)
        audit_finding(c, DBSSL_AUDIT_FAIL, s->error_hint,
                      "libpq refused the server's certificate: %s", s->error_detail);
    if (!audit_need_scan(c))
        return;
    audit_evidence(c, "chain of %zu sent by %s:%d; trusted against %s: %s; names \"%s\": %s",
                   c->ev->scan->chain.n, c->ev->scan->host, c->ev->scan->port,
                   c->ev->scan->trust_store,
                   c->ev->scan->trusted == DBSSL_SCAN_UNKNOWN ? "unknown"
                   : c->ev->scan->trusted                     ? "yes"
                                                              : "no",
                   c->ev->scan->host, c->ev->scan->host_matches == 1 ? "yes" : "no");
    audit_scan_findings(c, ids);
}

void audit_eval_validity(struct audit_ctx *c)
{
    const struct dbssl_audit_evidence *ev = c->ev;
    struct dbssl_audit_finding *bad = NULL, *soon = NULL;
    long warn = (long)ev->client.expiry_warn_days;

    if (ev->n_certs == 0) {
        audit_finding(c, DBSSL_AUDIT_NOT_CHECKED, NULL, "no certificate could be read");
        return;
    }
    audit_evidence(c, "%zu certificates judged at the report's time, warning %ld days ahead",
                   ev->n_certs, warn);
    for (size_t i = 0; i < ev->n_certs; i++) {
        const struct dbssl_audit_cert *r = &ev->certs[i];
        enum dbssl_expiry_state st =
            dbssl_expiry_state(r->not_before, r->not_after, ev->generated_at, warn);
        char why[160], date[32], name[1200];
        if (st == DBSSL_EXPIRY_VALID)
            continue;
        format_rfc3339(st == DBSSL_EXPIRY_NOT_YET_VALID ? r->not_before : r->not_after, date,
                       sizeof(date));
        snprintf(name, sizeof(name), "%s %s (%s)", r->role, r->subject, r->source);
        if (st == DBSSL_EXPIRY_EXPIRING) {
            if (soon == NULL)
                soon = audit_finding(
                    c, DBSSL_AUDIT_WARN,
                    "Renew these certificates now (dbssl certs generate renews the "
                    "development set; dbssl reload takes new files without a restart).",
                    "certificates expire within %ld days", warn);
            snprintf(why, sizeof(why), "%lld days left, until %s",
                     dbssl_expiry_days_left(r->not_after, ev->generated_at), date);
            audit_item(c, soon, 0, name, why);
            continue;
        }
        if (bad == NULL)
            bad = audit_finding(c, DBSSL_AUDIT_FAIL,
                                "Renew the certificate (or check the clock of the machine that "
                                "issued it) and reload what uses it.",
                                "certificates are expired or not valid yet");
        snprintf(why, sizeof(why), "%s %s", st == DBSSL_EXPIRY_EXPIRED ? "expired" : "valid from",
                 date);
        audit_item(c, bad, 0, name, why);
    }
}

static const struct dbssl_audit_file *file_of(const struct audit_ctx *c, const char *role)
{
    for (size_t i = 0; i < c->ev->n_files; i++)
        if (strcmp(c->ev->files[i].role, role) == 0)
            return &c->ev->files[i];
    return NULL;
}

void audit_eval_revocation(struct audit_ctx *c)
{
    const struct dbssl_audit_file *crl = file_of(c, "crl");
    const struct dbssl_server_setting *sf = audit_setting(c, "ssl_crl_file"),
                                      *sd = audit_setting(c, "ssl_crl_dir");

    if (crl == NULL)
        audit_dev_finding(
            c, DBSSL_AUDIT_WARN,
            "Set DB_SSL_CRL to the revocation list (PEM) of the CA that issues the "
            "server's certificate, and keep it current.",
            "no CRL is configured (DB_SSL_CRL): a revoked server certificate would still "
            "be accepted");
    else if (crl->error[0])
        audit_finding(c, DBSSL_AUDIT_FAIL, "Check DB_SSL_CRL (dbssl validate says what is wrong).",
                      "the CRL cannot be used: %s", crl->error);
    else if (!client_verifies(c))
        audit_finding(c, DBSSL_AUDIT_WARN,
                      "Set DB_SSL_MODE=verify-full with DB_SSL_CA_CERT, so that libpq verifies "
                      "the server's certificate and checks it against the CRL.",
                      "DB_SSL_CRL \"%s\" is not checked: libpq verifies nothing with "
                      "DB_SSL_MODE \"%s\"%s",
                      crl->path, c->ev->client.ssl_mode,
                      strcmp(c->ev->client.ssl_mode, "disable") == 0 ? ""
                                                                     : " and no CA certificate");
    else
        audit_evidence(c, "DB_SSL_CRL \"%s\": libpq checks the server's certificate against it",
                       crl->path);
    if (!c->ev->client.mutual_tls)
        return;
    /* the server's side of mutual TLS: does it check client certificates for revocation? */
    if (sf != NULL && sd != NULL && sf->state == DBSSL_SI_READ && sd->state == DBSSL_SI_READ) {
        if (sf->value[0] == '\0' && sd->value[0] == '\0')
            audit_dev_finding(
                c, DBSSL_AUDIT_WARN,
                "Set ssl_crl_file (or ssl_crl_dir) in postgresql.conf to the client "
                "CA's revocation list and reload the server.",
                "the server checks client certificates against no CRL (ssl_crl_file and "
                "ssl_crl_dir are empty)");
        else
            audit_evidence(c, "server: ssl_crl_file = \"%s\", ssl_crl_dir = \"%s\"", sf->value,
                           sd->value);
    } else {
        audit_finding(c, DBSSL_AUDIT_NOT_CHECKED, NULL,
                      "the server's ssl_crl_file and ssl_crl_dir could not be read%s%s",
                      c->ev->server_error[0] ? ": " : "", c->ev->server_error);
    }
}

static const struct dbssl_audit_cert *server_leaf(const struct audit_ctx *c)
{
    for (size_t i = 0; i < c->ev->n_certs; i++)
        if (strcmp(c->ev->certs[i].role, "server") == 0 && c->ev->certs[i].position == 0)
            return &c->ev->certs[i];
    return NULL;
}

void audit_eval_production_ca(struct audit_ctx *c)
{
    const struct dbssl_audit_cert *leaf = server_leaf(c);

    if (c->ev->client.auto_generate)
        audit_dev_finding(
            c, DBSSL_AUDIT_FAIL,
            "Use certificates from your organisation's CA in staging and production (the "
            "guide's \"Manual Setup\"): DB_SSL_AUTO_GENERATE=false, DB_SSL_CA_CERT.",
            "the certificates are dbssl's auto-generated development set: its CA key lies "
            "beside the application, and whoever reads it can issue certificates this "
            "client trusts");
    if (leaf == NULL) {
        audit_finding(c, DBSSL_AUDIT_NOT_CHECKED, c->ev->scan_hint,
                      "the server's certificate could not be read: %s", c->ev->scan_error);
        return;
    }
    if (leaf->self_signed)
        audit_finding(c, DBSSL_AUDIT_FAIL, "Issue the server certificate from a CA.",
                      "the server certificate \"%s\" is self-signed: clients can only pin it",
                      leaf->subject);
    else
        audit_evidence(c, "the server certificate \"%s\" is issued by \"%s\"", leaf->subject,
                       leaf->issuer);
}

void audit_eval_register(struct audit_ctx *c)
{
    const struct dbssl_audit_cert *leaf = server_leaf(c);
    size_t n[3] = {0, 0, 0};

    for (size_t i = 0; i < c->ev->n_files; i++) {
        const struct dbssl_audit_file *f = &c->ev->files[i];
        if ((strcmp(f->role, "ca_cert") == 0 || strcmp(f->role, "client_cert") == 0) && f->error[0])
            audit_finding(c, DBSSL_AUDIT_FAIL, "Fix the file (dbssl validate says how).",
                          "%s cannot be read into the register: %s", f->setting, f->error);
    }
    if (leaf == NULL)
        audit_finding(c, DBSSL_AUDIT_NOT_CHECKED, c->ev->scan_hint,
                      "the server's certificate could not be read: %s", c->ev->scan_error);
    else if (leaf->fingerprint_sha256[0] == '\0')
        audit_finding(c, DBSSL_AUDIT_WARN, c->ev->scan_hint,
                      "the server's certificate is known only from the session, without its "
                      "fingerprint: the scan failed (%s)",
                      c->ev->scan_error);
    for (size_t i = 0; i < c->ev->n_certs; i++) {
        const char *r = c->ev->certs[i].role;
        n[strcmp(r, "ca") == 0 ? 0 : strcmp(r, "client") == 0 ? 1 : 2]++;
    }
    audit_evidence(
        c,
        "%zu certificates (%zu CA, %zu client, %zu sent by the server), each with subject, "
        "serial, SHA-256 fingerprint and validity: the register of this report",
        c->ev->n_certs, n[0], n[1], n[2]);
}

void audit_eval_permissions(struct audit_ctx *c)
{
    struct dbssl_audit_finding *f = NULL;

    if (c->ev->n_files == 0) {
        audit_finding(c, DBSSL_AUDIT_NOT_CHECKED, NULL,
                      "no certificate, key or CRL file is configured");
        return;
    }
    for (size_t i = 0; i < c->ev->n_files; i++) {
        const struct dbssl_audit_file *fl = &c->ev->files[i];
        char msg[300], hint[300], why[1200];
        struct stat st;
        if (!fl->present) {
            audit_finding(c, DBSSL_AUDIT_NOT_CHECKED, NULL, "%s: %s", fl->setting, fl->error);
            continue;
        }
        audit_evidence(c, "%s %s: mode %04o, owner uid %lld", fl->setting, fl->path, fl->mode,
                       fl->uid);
        memset(&st, 0, sizeof(st));
        st.st_mode = (mode_t)(fl->mode | (fl->regular ? S_IFREG : S_IFIFO));
        st.st_uid = (uid_t)fl->uid;
        why[0] = '\0';
        if (strcmp(fl->role, "client_key") == 0) {
            if (!dbssl_key_mode_ok(&st, fl->path, msg, sizeof(msg), hint, sizeof(hint)))
                snprintf(why, sizeof(why), "%s; %s", msg, hint);
        } else if (!fl->regular) {
            snprintf(why, sizeof(why), "not a regular file");
        } else if (fl->mode & (S_IWGRP | S_IWOTH)) {
            snprintf(why, sizeof(why), "writable by group or others: chmod 644 \"%s\"", fl->path);
        }
        if (why[0] == '\0')
            continue;
        if (f == NULL)
            f = audit_finding(
                c, DBSSL_AUDIT_FAIL,
                "Keys 0600 (0640 owned by root), certificates 0644 at most, as the guide "
                "says.",
                "certificate or key files are open to other users");
        audit_item(c, f, 0, fl->path, why);
    }
}

void audit_eval_monitor(struct audit_ctx *c)
{
    const struct dbssl_audit_session *s = &c->ev->session;

    audit_evidence(c,
                   "dbssl serve checks every %lld s (DB_HEALTH_CHECK_INTERVAL) and answers GET "
                   "/health/database/ssl",
                   c->ev->client.health_check_interval);
    if (!audit_need_session(c))
        return;
    if (s->ssl_in_use != s->server_sees_ssl)
        audit_finding(
            c, DBSSL_AUDIT_FAIL,
            "Find what sits between the client and the server (a proxy or pooler that ends "
            "TLS) and make it pass TLS through or use TLS on both sides.",
            "libpq and the server disagree about TLS on this session (libpq: %s, "
            "pg_stat_ssl: %s)",
            s->ssl_in_use ? "TLS" : "none", s->server_sees_ssl ? "TLS" : "none");
    else
        audit_evidence(c, "libpq and the server's pg_stat_ssl agree: %s",
                       s->ssl_in_use ? "the session uses TLS" : "no TLS");
    if (c->ev->client.mutual_tls && !s->client_cert_sent)
        audit_finding(c, DBSSL_AUDIT_FAIL, NULL,
                      "the server saw no client certificate on this session although one is "
                      "configured");
}
