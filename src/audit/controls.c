/*
 * controls.c - the audit's controls and their judgement (see audit.h): the
 * table, the writing of findings, and the result of each control; the
 * evaluators themselves are controls_client.c and controls_server.c.
 *
 * Each control is an evaluator that looks at the evidence and writes
 * findings: fail, warn, or not_checked (the evidence is missing, with why).
 * The result is the worst finding (fail > warn > not_checked > pass), so a
 * control passes only on evidence, never by default.  A finding caused by
 * dbssl's own development set (DB_SSL_AUTO_GENERATE) is development-only:
 * under APP_ENV=development it is reported as a warning and named, in any
 * other environment it fails like any other.
 *
 * Verdicts that have one home elsewhere are asked there: certificate
 * validity (expiry.h), the TLS profile (scan_profile.h: the scan's grade),
 * pg_hba.conf lines (hbarules.h), key file modes (certinfo.h, libpq's rule).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controls_int.h"

const char dbssl_audit_scope_note[] =
    "The application's own sessions (which of its connections use TLS) are not covered: dbssl "
    "does not observe them yet, and controls about them are left out rather than passed. This "
    "report covers the settings, dbssl's own session, the server and its certificates.";

const char *dbssl_audit_result_name(enum dbssl_audit_result r)
{
    switch (r) {
    case DBSSL_AUDIT_PASS:
        return "pass";
    case DBSSL_AUDIT_WARN:
        return "warn";
    case DBSSL_AUDIT_FAIL:
        return "fail";
    case DBSSL_AUDIT_NOT_CHECKED:
        return "not_checked";
    }
    return "not_checked";
}

/* ---- writing findings ---------------------------------------------------------------------- */

static struct dbssl_audit_finding *vfinding(struct dbssl_audit_outcome *o,
                                            enum dbssl_audit_result sev, bool dev_only,
                                            bool development, const char *hint, const char *fmt,
                                            va_list ap) DBSSL_PRINTF(6, 0);

static struct dbssl_audit_finding *vfinding(struct dbssl_audit_outcome *o,
                                            enum dbssl_audit_result sev, bool dev_only,
                                            bool development, const char *hint, const char *fmt,
                                            va_list ap)
{
    struct dbssl_audit_finding *v = realloc(o->findings, (o->n_findings + 1) * sizeof(*v)), *f;

    if (v == NULL) {
        o->oom = true;
        return NULL;
    }
    o->findings = v;
    f = &v[o->n_findings++];
    memset(f, 0, sizeof(*f));
    /* what the development set does by design is a warning while developing; elsewhere it
     * counts as it would for any other set */
    f->development_only = dev_only && development;
    f->severity = f->development_only ? DBSSL_AUDIT_WARN : sev;
    vsnprintf(f->message, sizeof(f->message), fmt, ap);
    snprintf(f->hint, sizeof(f->hint), "%s", hint ? hint : "");
    return f;
}

static bool developing(const struct audit_ctx *c)
{
    return strcmp(c->ev->client.app_env, "development") == 0;
}

struct dbssl_audit_finding *audit_finding(struct audit_ctx *c, enum dbssl_audit_result sev,
                                          const char *hint, const char *fmt, ...)
{
    struct dbssl_audit_finding *f;
    va_list ap;

    va_start(ap, fmt);
    f = vfinding(c->o, sev, false, false, hint, fmt, ap);
    va_end(ap);
    return f;
}

struct dbssl_audit_finding *audit_dev_finding(struct audit_ctx *c, enum dbssl_audit_result sev,
                                              const char *hint, const char *fmt, ...)
{
    struct dbssl_audit_finding *f;
    va_list ap;

    va_start(ap, fmt);
    f = vfinding(c->o, sev, c->ev->client.auto_generate, developing(c), hint, fmt, ap);
    va_end(ap);
    return f;
}

void audit_item(struct audit_ctx *c, struct dbssl_audit_finding *f, int line, const char *name,
                const char *why)
{
    struct dbssl_audit_item *v;

    if (f == NULL)
        return;
    if ((v = realloc(f->items, (f->n_items + 1) * sizeof(*v))) == NULL) {
        c->o->oom = true;
        return;
    }
    f->items = v;
    v[f->n_items].line_number = line;
    snprintf(v[f->n_items].name, sizeof(v->name), "%s", name ? name : "");
    snprintf(v[f->n_items].why, sizeof(v->why), "%s", why ? why : "");
    f->n_items++;
}

void audit_evidence(struct audit_ctx *c, const char *fmt, ...)
{
    char(*v)[256] = realloc(c->o->evidence, (c->o->n_evidence + 1) * sizeof(*v));
    va_list ap;

    if (v == NULL) {
        c->o->oom = true;
        return;
    }
    c->o->evidence = v;
    va_start(ap, fmt);
    vsnprintf(v[c->o->n_evidence++], sizeof(v[0]), fmt, ap);
    va_end(ap);
}

void audit_scan_findings(struct audit_ctx *c, const char *const *ids)
{
    for (size_t i = 0; c->g != NULL && i < c->g->n; i++) {
        const struct dbssl_scan_finding *s = &c->g->v[i];
        struct dbssl_audit_finding *f;
        bool wanted = false;
        for (size_t k = 0; ids[k] != NULL; k++)
            wanted |= strcmp(ids[k], s->id) == 0;
        if (!wanted)
            continue;
        f = audit_finding(c, s->severity == DBSSL_SCAN_FAIL ? DBSSL_AUDIT_FAIL : DBSSL_AUDIT_WARN,
                          s->hint, "%s%s%s", s->message, s->fix[0] ? "; fix: " : "", s->fix);
        for (size_t k = 0; k < s->n_items; k++)
            audit_item(c, f, 0, s->items[k].name, s->items[k].why);
    }
}

bool audit_need_scan(struct audit_ctx *c)
{
    if (c->ev->scan == NULL) {
        audit_finding(c, DBSSL_AUDIT_NOT_CHECKED, c->ev->scan_hint,
                      "the server could not be scanned: %s", c->ev->scan_error);
        return false;
    }
    if (!c->ev->scan->complete)
        audit_finding(c, DBSSL_AUDIT_NOT_CHECKED, "Run the audit again when the server answers.",
                      "the scan is incomplete: %s", c->ev->scan->incomplete);
    return true;
}

bool audit_need_session(struct audit_ctx *c)
{
    const struct dbssl_audit_session *s = &c->ev->session;

    if (s->connected)
        return true;
    audit_finding(c, DBSSL_AUDIT_NOT_CHECKED, s->error_hint, "no session to check (%s: %s)",
                  s->error_class, s->error_message);
    return false;
}

const struct dbssl_server_setting *audit_setting(const struct audit_ctx *c, const char *name)
{
    return c->ev->server_read ? dbssl_serverinfo_setting(&c->ev->server, name) : NULL;
}

/* ---- the table ------------------------------------------------------------------------------ */

static const struct dbssl_audit_control controls[] = {
    {"client.tls_required", "Every session to the database is encrypted (TLS required)",
     audit_eval_tls_required},
    {"client.verify_full", "The client verifies the server's certificate and host name",
     audit_eval_verify_full},
    {"cert.chain_trusted", "The server's certificate chain is trusted, complete and names the host",
     audit_eval_chain_trusted},
    {"cert.validity", "Every certificate in use is valid and renewed before it expires",
     audit_eval_validity},
    {"cert.revocation", "Revoked certificates are refused", audit_eval_revocation},
    {"cert.production_ca", "Certificates come from an organisation's CA, not a development set",
     audit_eval_production_ca},
    {"cert.register",
     "A register of every certificate in use (subject, serial, fingerprint, "
     "expiry)",
     audit_eval_register},
    {"files.permissions", "Key and certificate files are protected (600 keys, 644 certificates)",
     audit_eval_permissions},
    {"monitor.tls_state", "The TLS state of the connection is monitored and agrees at both ends",
     audit_eval_monitor},
    {"server.tls_enabled", "The server has TLS enabled", audit_eval_tls_enabled},
    {"server.protocols", "The server accepts TLS 1.2 and 1.3 only (no TLS 1.0 or 1.1)",
     audit_eval_protocols},
    {"server.ciphers", "The server offers strong cipher suites only (forward secrecy, AEAD)",
     audit_eval_ciphers},
    {"server.settings", "The server's TLS and password settings are strong (pg_settings)",
     audit_eval_settings},
    {"hba.tls_only", "pg_hba.conf accepts TCP from the network only with TLS (hostssl)",
     audit_eval_hba_tls_only},
    {"hba.auth_methods", "pg_hba.conf uses no trust, password, md5 or ident over TCP",
     audit_eval_hba_auth},
    {"hba.client_cert", "pg_hba.conf requires a client certificate where mutual TLS is the policy",
     audit_eval_hba_client_cert},
    {"sessions.tls", "The application's own sessions use TLS at or above the minimum version",
     audit_eval_sessions},
    {"assessment.coverage", "This assessment could examine the session, the server and its rules",
     audit_eval_coverage},
};

const struct dbssl_audit_control *dbssl_audit_controls(size_t *n)
{
    *n = sizeof(controls) / sizeof(controls[0]);
    return controls;
}

/* ---- evaluation ----------------------------------------------------------------------------- */

static void outcome_free(struct dbssl_audit_outcome *o)
{
    for (size_t i = 0; i < o->n_findings; i++)
        free(o->findings[i].items);
    free(o->findings);
    free(o->evidence);
}

/* fail > warn > not_checked > pass: a control passes only on evidence */
static int rank(enum dbssl_audit_result r)
{
    return r == DBSSL_AUDIT_FAIL          ? 3
           : r == DBSSL_AUDIT_WARN        ? 2
           : r == DBSSL_AUDIT_NOT_CHECKED ? 1
                                          : 0;
}

static void settle(struct dbssl_audit_outcome *o)
{
    bool all_dev = true;

    o->result = DBSSL_AUDIT_PASS;
    for (size_t i = 0; i < o->n_findings; i++)
        if (rank(o->findings[i].severity) > rank(o->result))
            o->result = o->findings[i].severity;
    o->why[0] = '\0';
    for (size_t i = 0; i < o->n_findings; i++) {
        const struct dbssl_audit_finding *f = &o->findings[i];
        if (f->severity == o->result && o->why[0] == '\0')
            snprintf(o->why, sizeof(o->why), "%s", f->message);
        if (f->severity == DBSSL_AUDIT_FAIL || f->severity == DBSSL_AUDIT_WARN)
            all_dev &= f->development_only;
    }
    o->development_only = o->result == DBSSL_AUDIT_WARN && all_dev;
}

int dbssl_audit_evaluate(const struct dbssl_audit_evidence *ev, struct dbssl_audit_report *out,
                         struct dbssl_error *err)
{
    size_t n;
    const struct dbssl_audit_control *table = dbssl_audit_controls(&n);
    bool oom = false;

    memset(out, 0, sizeof(*out));
    out->ev = ev;
    if ((out->profile = dbssl_tls_profile_find(ev->profile)) == NULL) {
        dbssl_error_set(err, DBSSL_ERR_USAGE, NULL, "unknown TLS profile \"%s\": expected %s",
                        ev->profile, dbssl_tls_profile_names());
        return -1;
    }
    if (dbssl_audit_mappings_load(NULL, &out->map, err) != 0)
        return -1;
    if (ev->scan != NULL) {
        if (dbssl_scan_grade(ev->scan, out->profile, (long)ev->client.expiry_warn_days, &out->grade,
                             err) != 0)
            goto fail;
        out->graded = true;
    }
    if ((out->v = calloc(n, sizeof(*out->v))) == NULL)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        struct dbssl_audit_outcome *o = &out->v[out->n++];
        struct audit_ctx c = {ev, out->graded ? &out->grade : NULL, o};
        o->control = &table[i];
        table[i].evaluate(&c);
        oom |= o->oom;
        settle(o);
        out->count[o->result]++;
    }
    if (!oom)
        return 0;
oom:
    dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
fail:
    dbssl_audit_report_free(out);
    return -1;
}

void dbssl_audit_report_free(struct dbssl_audit_report *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++)
        outcome_free(&r->v[i]);
    free(r->v);
    if (r->graded)
        dbssl_scan_grade_free(&r->grade);
    dbssl_audit_mappings_free(&r->map);
    memset(r, 0, sizeof(*r));
}

bool dbssl_audit_failed(const struct dbssl_audit_report *r)
{
    return r->count[DBSSL_AUDIT_FAIL] > 0;
}
