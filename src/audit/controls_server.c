/*
 * controls_server.c - the controls about the server: TLS on, its protocol
 * versions and suites (the scan's grade), its settings, its pg_hba.conf
 * rules (hbarules.h), and what this assessment could see.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controls_int.h"
#include "hbarules.h"
#include "tlsver.h"
#include "util.h"

void audit_eval_tls_enabled(struct audit_ctx *c)
{
    const struct dbssl_server_setting *ssl = audit_setting(c, "ssl");

    if (ssl != NULL && ssl->state == DBSSL_SI_READ)
        audit_evidence(c, "ssl = %s (pg_settings)", ssl->value);
    if ((ssl != NULL && ssl->state == DBSSL_SI_READ && strcmp(ssl->value, "on") != 0) ||
        c->ev->scan_no_tls) {
        audit_finding(c, DBSSL_AUDIT_FAIL, c->ev->scan_hint[0] ? c->ev->scan_hint : NULL,
                      "the server does not accept TLS%s%s", c->ev->scan_no_tls ? ": " : "",
                      c->ev->scan_no_tls ? c->ev->scan_error : "");
        return;
    }
    if (c->ev->scan != NULL && c->ev->scan->tls)
        audit_evidence(c, "%s:%d answers PostgreSQL's SSLRequest with TLS", c->ev->scan->host,
                       c->ev->scan->port);
    else if (ssl == NULL || ssl->state != DBSSL_SI_READ)
        audit_need_scan(c);
}

void audit_eval_protocols(struct audit_ctx *c)
{
    static const char *const ids[] = {"protocol_version", "tls13_missing", NULL};
    char on[64] = "", off[64] = "";

    audit_evidence(c, "the client asks for %s at least (DB_SSL_MIN_PROTOCOL_VERSION)",
                   c->ev->client.min_protocol);
    if (!audit_need_scan(c))
        return;
    for (int p = DBSSL_SCAN_NPROTO - 1; p >= 0; p--) {
        char *dst = c->ev->scan->protocols[p] ? on : off;
        size_t len = strlen(dst);
        snprintf(dst + len, sizeof(on) - len, "%s%s", len ? ", " : "",
                 dbssl_scan_proto_name((enum dbssl_scan_proto)p));
    }
    audit_evidence(c, "the server accepts %s; refuses %s", on[0] ? on : "none",
                   off[0] ? off : "none");
    audit_scan_findings(c, ids);
}

void audit_eval_ciphers(struct audit_ctx *c)
{
    static const char *const ids[] = {
        "tls10_suites", "tls11_suites", "tls12_suites", "tls13_suites",
        "groups",       "dh_params",    "server_order", NULL};

    if (c->ev->session.connected && c->ev->session.ssl_in_use)
        audit_evidence(c, "the session negotiated %s", c->ev->session.cipher);
    if (!audit_need_scan(c))
        return;
    audit_evidence(c, "the server accepts %zu TLS 1.3 and %zu TLS 1.2 suites; profile %s",
                   c->ev->scan->suites[DBSSL_SCAN_TLS1_3].n,
                   c->ev->scan->suites[DBSSL_SCAN_TLS1_2].n, c->ev->profile);
    audit_scan_findings(c, ids);
}

/* Settings the role may not see, named in one finding. */
static void hidden_settings(struct audit_ctx *c)
{
    char names[512] = "";

    for (size_t i = 0; i < c->ev->server.n_settings; i++) {
        const struct dbssl_server_setting *s = &c->ev->server.settings[i];
        size_t len = strlen(names);
        if (s->state == DBSSL_SI_NOT_CHECKED)
            snprintf(names + len, sizeof(names) - len, "%s%s", len ? ", " : "", s->name);
    }
    if (names[0] != '\0') {
        char hint[300];
        snprintf(hint, sizeof(hint),
                 "GRANT pg_read_all_settings TO \"%s\"; or audit as a role that has it.",
                 c->ev->server.role);
        audit_finding(c, DBSSL_AUDIT_NOT_CHECKED, hint,
                      "%s not visible to role \"%s\": it needs %s", names, c->ev->server.role,
                      DBSSL_SI_PRIV_SETTINGS);
    }
}

void audit_eval_settings(struct audit_ctx *c)
{
    const struct dbssl_server_setting *min = audit_setting(c, "ssl_min_protocol_version"),
                                      *max = audit_setting(c, "ssl_max_protocol_version"),
                                      *order = audit_setting(c, "ssl_prefer_server_ciphers"),
                                      *pw = audit_setting(c, "password_encryption");

    if (!c->ev->server_read) {
        audit_finding(c, DBSSL_AUDIT_NOT_CHECKED, NULL, "the server's settings were not read: %s",
                      c->ev->server_error);
        return;
    }
    for (size_t i = 0; i < c->ev->server.n_settings; i++) {
        const struct dbssl_server_setting *s = &c->ev->server.settings[i];
        audit_evidence(c, "%s = %s%s%s", s->name, s->state == DBSSL_SI_READ ? "\"" : "(",
                       s->state == DBSSL_SI_READ ? s->value : dbssl_si_state_names[s->state],
                       s->state == DBSSL_SI_READ ? "\"" : ")");
    }
    hidden_settings(c);
    if (min && min->state == DBSSL_SI_READ && dbssl_tlsv_from_name(min->value) >= 0 &&
        dbssl_tlsv_from_name(min->value) < DBSSL_TLSV_1_2)
        audit_finding(
            c, DBSSL_AUDIT_FAIL, "Set ssl_min_protocol_version = 'TLSv1.2' and reload.",
            "ssl_min_protocol_version \"%s\" allows versions the IETF deprecated (RFC 8996)",
            min->value);
    if (max && max->state == DBSSL_SI_READ && dbssl_tlsv_from_name(max->value) >= 0 &&
        dbssl_tlsv_from_name(max->value) < DBSSL_TLSV_1_3)
        audit_finding(c, DBSSL_AUDIT_WARN, "Set ssl_max_protocol_version = '' and reload.",
                      "ssl_max_protocol_version \"%s\" keeps TLS 1.3 out", max->value);
    if (order && order->state == DBSSL_SI_READ && strcmp(order->value, "on") != 0)
        audit_finding(
            c, DBSSL_AUDIT_WARN, "Set ssl_prefer_server_ciphers = on and reload.",
            "ssl_prefer_server_ciphers \"%s\" lets clients pick the weakest suite both allow",
            order->value);
    if (pw && pw->state == DBSSL_SI_READ && strcmp(pw->value, "scram-sha-256") != 0)
        audit_finding(
            c, DBSSL_AUDIT_FAIL,
            "Set password_encryption = 'scram-sha-256' and set each role's password again.",
            "password_encryption \"%s\": new passwords are stored as MD5 hashes, which work "
            "as the password itself",
            pw->value);
}

/* What one control says about the lines of its checks: the message and the fix of each severity. */
struct hba_words {
    enum dbssl_hba_check check, also;
    const char *fail, *fail_hint;
    const char *warn, *warn_hint;
};

/* The pg_hba.conf findings of w's checks, or why the rules are unknown. */
static void hba_findings(struct audit_ctx *c, const struct hba_words *w)
{
    const struct dbssl_serverinfo *si = &c->ev->server;
    struct dbssl_hba_findings hf;
    struct dbssl_audit_finding *f[2] = {NULL, NULL};

    if (!c->ev->server_read) {
        audit_finding(c, DBSSL_AUDIT_NOT_CHECKED, NULL, "pg_hba_file_rules was not read: %s",
                      c->ev->server_error);
        return;
    }
    if (si->hba_state != DBSSL_SI_READ) {
        char hint[800];
        snprintf(hint, sizeof(hint),
                 "As a superuser, in database \"%s\": GRANT SELECT ON pg_hba_file_rules TO "
                 "\"%s\"; GRANT EXECUTE ON FUNCTION pg_hba_file_rules() TO \"%s\"; or audit as "
                 "a superuser.",
                 c->ev->target.dbname, si->role, si->role);
        audit_finding(c, DBSSL_AUDIT_NOT_CHECKED,
                      si->hba_state == DBSSL_SI_NOT_CHECKED ? hint : NULL, "%s", si->hba_note);
        return;
    }
    audit_evidence(c,
                   "%zu rules of pg_hba.conf read from pg_hba_file_rules (the file on disk, in "
                   "force after the next reload)",
                   si->n_hba);
    if (si->hba_truncated)
        audit_finding(c, DBSSL_AUDIT_NOT_CHECKED, NULL, "only the first %d rules were read",
                      DBSSL_SERVERINFO_MAX_RULES);
    if (dbssl_hba_check(si->hba, si->n_hba, c->ev->client.mutual_tls, &hf, NULL) != 0) {
        c->o->oom = true;
        return;
    }
    for (size_t i = 0; i < hf.n; i++) {
        const struct dbssl_hba_finding *h = &hf.v[i];
        char name[1100];
        size_t k = h->fail ? 0 : 1;
        if (h->check != w->check && h->check != w->also)
            continue;
        if (f[k] == NULL)
            f[k] = audit_finding(c, h->fail ? DBSSL_AUDIT_FAIL : DBSSL_AUDIT_WARN,
                                 h->fail ? w->fail_hint : w->warn_hint, "%s",
                                 h->fail ? w->fail : w->warn);
        snprintf(name, sizeof(name), "%s", h->line);
        audit_item(c, f[k], h->line_number, name, h->why);
    }
    dbssl_hba_findings_free(&hf);
}

void audit_eval_hba_tls_only(struct audit_ctx *c)
{
    static const struct hba_words w = {
        DBSSL_HBA_PLAINTEXT_NETWORK,
        DBSSL_HBA_LINE_ERROR,
        "pg_hba.conf lines accept TCP sessions without TLS from the network",
        "Make these lines hostssl (or reject), add \"hostnossl all all 0.0.0.0/0 reject\" and "
        "\"hostnossl all all ::/0 reject\", and reload the server (\"dbssl pg-config\" prints "
        "such a file).",
        "pg_hba.conf lines PostgreSQL cannot use",
        "Fix the line (the server's log names the error) and reload the server.",
    };

    hba_findings(c, &w);
}

void audit_eval_hba_auth(struct audit_ctx *c)
{
    static const struct hba_words w = {
        DBSSL_HBA_WEAK_AUTH,
        DBSSL_HBA_WEAK_AUTH,
        "pg_hba.conf lines authenticate weakly, or not at all, over TCP",
        "Use scram-sha-256 (with password_encryption = 'scram-sha-256'), or cert, on every TCP "
        "line, and reload the server.",
        "pg_hba.conf lines use password or md5 inside TLS, weaker than scram-sha-256",
        "Use scram-sha-256 (with password_encryption = 'scram-sha-256') and reload the server.",
    };
    const struct dbssl_server_setting *pw = audit_setting(c, "password_encryption");

    if (pw != NULL && pw->state == DBSSL_SI_READ)
        audit_evidence(c, "password_encryption = \"%s\"", pw->value);
    hba_findings(c, &w);
}

void audit_eval_hba_client_cert(struct audit_ctx *c)
{
    static const struct hba_words w = {
        DBSSL_HBA_NO_CLIENT_CERT,
        DBSSL_HBA_NO_CLIENT_CERT,
        "pg_hba.conf lines accept TLS sessions without a client certificate",
        "Add clientcert=verify-full to these hostssl lines (or use the cert method), turn host "
        "lines into hostssl, and reload the server.",
        NULL,
        NULL,
    };

    if (!c->ev->client.mutual_tls) {
        audit_evidence(c, "mutual TLS is not configured (no client certificate): the policy asks "
                          "for no client certificate");
        return;
    }
    audit_evidence(c, "mutual TLS is configured: every TLS line must ask for a client certificate");
    hba_findings(c, &w);
}

/*
 * The sessions of the application's role or applications (conn_sessions.h):
 * each plaintext session, or one below the minimum version, is an item
 * naming the client; a role that cannot see them all is "not checked".
 */
void audit_eval_sessions(struct audit_ctx *c)
{
    const struct dbssl_sessions *ss = &c->ev->sessions;
    struct dbssl_audit_finding *f[2] = {NULL, NULL};
    static const char *const hint =
        "Start these clients with sslmode=verify-full and the minimum TLS version (for "
        "example through \"dbssl exec\"), then make pg_hba.conf accept them only with TLS "
        "(hostssl).";

    if (ss->state == DBSSL_SESSIONS_UNREAD) {
        audit_finding(c, DBSSL_AUDIT_NOT_CHECKED, NULL, "the sessions were not read: %s",
                      c->ev->session.connected ? "the query did not run" : "no session");
        return;
    }
    if (ss->state != DBSSL_SESSIONS_CHECKED) {
        audit_finding(c, DBSSL_AUDIT_NOT_CHECKED, ss->hint[0] ? ss->hint : NULL, "%s", ss->note);
        return;
    }
    audit_evidence(c,
                   "%u watched sessions besides the audit's own: %u with TLS (%u without a client "
                   "certificate), %u plaintext, %u below the minimum version, %u over a "
                   "Unix-domain socket",
                   ss->total, ss->encrypted, ss->without_client_certificate, ss->plaintext,
                   ss->below_min_protocol, ss->local);
    for (size_t i = 0; i < ss->n_offenders; i++) {
        const struct dbssl_session_offender *o = &ss->offenders[i];
        size_t k = o->reason == DBSSL_SESSION_PLAINTEXT ? 0 : 1;
        char name[256], why[128], since[32];
        if (f[k] == NULL)
            f[k] = audit_finding(c, DBSSL_AUDIT_FAIL, hint,
                                 k == 0 ? "%u of the application's sessions are not encrypted"
                                        : "%u of the application's sessions use a TLS version "
                                          "below the minimum",
                                 k == 0 ? ss->plaintext : ss->below_min_protocol);
        format_rfc3339(o->backend_start, since, sizeof(since));
        snprintf(name, sizeof(name), "%s application_name \"%s\" role \"%s\"",
                 o->client_addr[0] ? o->client_addr : "(local)", o->application_name, o->role);
        snprintf(why, sizeof(why), "%s since %s", k == 0 ? "plaintext" : o->version, since);
        audit_item(c, f[k], 0, name, why);
    }
}

void audit_eval_coverage(struct audit_ctx *c)
{
    const struct dbssl_audit_evidence *ev = c->ev;
    const struct dbssl_audit_session *s = &ev->session;
    size_t hidden = 0;

    if (!s->connected) {
        audit_finding(c, DBSSL_AUDIT_FAIL, s->error_hint, "the audit could not connect (%s: %s)",
                      s->error_class, s->error_message);
    } else {
        audit_evidence(c, "a session as role \"%s\" to %s:%s, PostgreSQL %s", ev->target.user,
                       s->server_host, s->server_port, s->server_version);
    }
    if (ev->scan != NULL)
        audit_evidence(c, "a scan of %s:%d: %d handshakes in %ld ms", ev->scan->host,
                       ev->scan->port, ev->scan->handshakes, ev->scan->duration_ms);
    else if (!ev->scan_no_tls)
        audit_finding(c, DBSSL_AUDIT_WARN, ev->scan_hint, "no scan: %s", ev->scan_error);
    if (ev->scan != NULL && !ev->scan->complete)
        audit_finding(c, DBSSL_AUDIT_WARN, NULL, "the scan is incomplete: %s",
                      ev->scan->incomplete);
    if (!ev->server_read) {
        if (s->connected)
            audit_finding(c, DBSSL_AUDIT_WARN, NULL, "the server's settings were not read: %s",
                          ev->server_error);
        return;
    }
    for (size_t i = 0; i < ev->server.n_settings; i++)
        hidden += ev->server.settings[i].state == DBSSL_SI_NOT_CHECKED;
    if (hidden > 0)
        audit_finding(c, DBSSL_AUDIT_WARN, NULL,
                      "%zu of the server's settings are not visible to role \"%s\": it needs %s",
                      hidden, ev->server.role, DBSSL_SI_PRIV_SETTINGS);
    if (ev->server.hba_state != DBSSL_SI_READ)
        audit_finding(c, DBSSL_AUDIT_WARN, NULL, "%s", ev->server.hba_note);
    else
        audit_evidence(c, "%zu settings and %zu pg_hba.conf rules read as role \"%s\"",
                       ev->server.n_settings - hidden, ev->server.n_hba, ev->server.role);
}
