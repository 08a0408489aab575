/*
 * render.c - the pieces every report format shares (render.h), and the
 * JSON report, which docs/audit.schema.json describes.
 */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expiry.h"
#include "jsonutil.h"

const char audit_dev_only_text[] =
    "Development-only by design (dbssl's auto-generated, self-signed certificate set under "
    "APP_ENV=development; they fail in any other environment):";

void audit_target_text(const struct dbssl_audit_report *r, char *buf, size_t len)
{
    const struct dbssl_audit_target *t = &r->ev->target;

    snprintf(buf, len, "%s%s%s:%d/%s", t->user, t->user[0] ? "@" : "", t->host, t->port, t->dbname);
}

const char *audit_overall(const struct dbssl_audit_report *r)
{
    return dbssl_audit_failed(r) ? "FAIL" : "PASS";
}

void dbssl_audit_counts_text(const struct dbssl_audit_report *r, char *buf, size_t len)
{
    snprintf(buf, len, "%zu pass, %zu warn, %zu fail, %zu not checked", r->count[DBSSL_AUDIT_PASS],
             r->count[DBSSL_AUDIT_WARN], r->count[DBSSL_AUDIT_FAIL],
             r->count[DBSSL_AUDIT_NOT_CHECKED]);
}

void audit_time_text(const struct dbssl_audit_report *r, char *buf, size_t len)
{
    format_rfc3339(r->ev->generated_at, buf, len);
}

void audit_each_mapping(const struct dbssl_audit_report *r, const char *id,
                        void (*fn)(const struct dbssl_audit_mapping *m, void *arg), void *arg)
{
    for (size_t i = 0; i < r->map.n; i++)
        if (strcmp(r->map.v[i].control, id) == 0)
            fn(&r->map.v[i], arg);
}

long long audit_cert_days(const struct dbssl_audit_report *r, const struct dbssl_audit_cert *c)
{
    return dbssl_expiry_days_left(c->not_after, r->ev->generated_at);
}

const char *audit_cert_state(const struct dbssl_audit_report *r, const struct dbssl_audit_cert *c)
{
    return dbssl_expiry_state_name(dbssl_expiry_state(
        c->not_before, c->not_after, r->ev->generated_at, (long)r->ev->client.expiry_warn_days));
}

/* ---- JSON ----------------------------------------------------------------------------------- */

static void mapping_json(const struct dbssl_audit_mapping *m, void *arg)
{
    json_array_append_new(
        arg, json_pack("{s:o, s:o, s:o, s:o, s:o}", "framework", dbssl_json_str(m->framework),
                       "reference", dbssl_json_str(m->reference), "requirement",
                       dbssl_json_str(m->requirement), "document", dbssl_json_str(m->document),
                       "url", m->url[0] ? dbssl_json_str(m->url) : json_null()));
}

static json_t *finding_json(const struct dbssl_audit_finding *f)
{
    json_t *items = json_array();

    for (size_t i = 0; i < f->n_items; i++)
        json_array_append_new(
            items,
            json_pack("{s:o, s:o, s:o}", "line_number",
                      f->items[i].line_number ? json_integer(f->items[i].line_number) : json_null(),
                      "name", dbssl_json_str(f->items[i].name), "why",
                      f->items[i].why[0] ? dbssl_json_str(f->items[i].why) : json_null()));
    return json_pack("{s:s, s:b, s:o, s:o, s:o}", "severity", dbssl_audit_result_name(f->severity),
                     "development_only", f->development_only, "message", dbssl_json_str(f->message),
                     "hint", f->hint[0] ? dbssl_json_str(f->hint) : json_null(), "items", items);
}

static json_t *outcome_json(const struct dbssl_audit_report *r, const struct dbssl_audit_outcome *o)
{
    json_t *frameworks = json_array(), *findings = json_array(), *evidence = json_array();

    audit_each_mapping(r, o->control->id, mapping_json, frameworks);
    for (size_t i = 0; i < o->n_findings; i++)
        json_array_append_new(findings, finding_json(&o->findings[i]));
    for (size_t i = 0; i < o->n_evidence; i++)
        json_array_append_new(evidence, dbssl_json_str(o->evidence[i]));
    return json_pack("{s:s, s:s, s:s, s:o, s:b, s:o, s:o, s:o}", "id", o->control->id, "title",
                     o->control->title, "result", dbssl_audit_result_name(o->result), "why",
                     o->why[0] ? dbssl_json_str(o->why) : json_null(), "development_only",
                     o->development_only, "frameworks", frameworks, "findings", findings,
                     "evidence", evidence);
}

json_t *dbssl_audit_report_to_json(const struct dbssl_audit_report *r)
{
    json_t *controls = json_array(), *dev = json_array(), *root;
    char when[32];

    for (size_t i = 0; i < r->n; i++) {
        json_array_append_new(controls, outcome_json(r, &r->v[i]));
        if (r->v[i].development_only)
            json_array_append_new(dev, json_string(r->v[i].control->id));
    }
    audit_time_text(r, when, sizeof(when));
    root = json_pack(
        "{s:s, s:i, s:s, s:o, s:o, s:{s:s, s:s, s:s}, s:s, s:{s:I, s:I, s:I, s:I, "
        "s:I, s:o}, s:s, s:o, s:o}",
        "report", "dbssl audit", "format_version", 1, "generated_at", when, "dbssl_version",
        dbssl_json_str(r->ev->dbssl_version), "target",
        json_pack("{s:o, s:i, s:o, s:o}", "host", dbssl_json_str(r->ev->target.host), "port",
                  r->ev->target.port, "dbname", dbssl_json_str(r->ev->target.dbname), "user",
                  dbssl_json_str(r->ev->target.user)),
        "profile", "name", r->profile->name, "title", r->profile->title, "source",
        DBSSL_TLS_PROFILE_SOURCE, "result", dbssl_audit_failed(r) ? "fail" : "pass", "summary",
        "controls", (json_int_t)r->n, "pass", (json_int_t)r->count[DBSSL_AUDIT_PASS], "warn",
        (json_int_t)r->count[DBSSL_AUDIT_WARN], "fail", (json_int_t)r->count[DBSSL_AUDIT_FAIL],
        "not_checked", (json_int_t)r->count[DBSSL_AUDIT_NOT_CHECKED], "development_only", dev,
        "scope", dbssl_audit_scope_note, "controls", controls, "evidence",
        dbssl_audit_evidence_to_json(r->ev, r->graded ? &r->grade : NULL));
    return root;
}

char *dbssl_audit_render_json(const struct dbssl_audit_report *r)
{
    json_t *j = dbssl_audit_report_to_json(r);
    char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    char *out = s ? xasprintf("%s\n", s) : NULL;

    free(s);
    json_decref(j);
    return out;
}
