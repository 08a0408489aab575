/*
 * render_md.c - the audit report as Markdown (CommonMark with GitHub's
 * tables): the summary table first (one row per control, the same rows as
 * the JSON's "controls"), then each control with its frameworks, findings
 * and evidence, then the certificate register and the raw evidence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

/* Text for a table cell or a code span: no pipe, backtick or line break survives unescaped. */
static void md(struct strbuf *sb, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            strbuf_append(sb, "\\|");
        else if (*s == '`')
            strbuf_append_c(sb, '\'');
        else if (*s == '\n' || *s == '\r')
            strbuf_append_c(sb, ' ');
        else if (*s == '<')
            strbuf_append(sb, "&lt;");
        else
            strbuf_append_c(sb, *s);
    }
}

static void md_code(struct strbuf *sb, const char *s)
{
    strbuf_append_c(sb, '`');
    md(sb, s);
    strbuf_append_c(sb, '`');
}

/* One table row; the cells whose bit is set in code are code spans ("" shown as ''). */
static void row(struct strbuf *sb, const char *const *cells, size_t n, unsigned code)
{
    for (size_t i = 0; i < n; i++) {
        strbuf_append(sb, i == 0 ? "| " : " | ");
        if (code & (1u << i))
            md_code(sb, cells[i][0] ? cells[i] : "''");
        else
            md(sb, cells[i]);
    }
    strbuf_append(sb, " |\n");
}

static void mapping_short(const struct dbssl_audit_mapping *m, void *arg)
{
    struct strbuf *sb = arg;

    if (sb->len > 0 && sb->data[sb->len - 1] != ' ')
        strbuf_append(sb, "; ");
    md(sb, m->framework);
    strbuf_append_c(sb, ' ');
    md(sb, m->reference);
}

static void mapping_long(const struct dbssl_audit_mapping *m, void *arg)
{
    struct strbuf *sb = arg;

    strbuf_append(sb, "- ");
    md(sb, m->framework);
    strbuf_append(sb, " ");
    md(sb, m->reference);
    strbuf_append(sb, ": ");
    md(sb, m->requirement);
    strbuf_append(sb, " (");
    md(sb, m->document);
    if (m->url[0]) {
        strbuf_append(sb, ", <");
        strbuf_append(sb, m->url);
        strbuf_append(sb, ">");
    }
    strbuf_append(sb, ")\n");
}

static void summary(struct strbuf *sb, const struct dbssl_audit_report *r)
{
    char when[32], target[700], counts[128];
    bool dev = false;

    audit_time_text(r, when, sizeof(when));
    audit_target_text(r, target, sizeof(target));
    dbssl_audit_counts_text(r, counts, sizeof(counts));
    strbuf_append(sb, "# dbssl audit report\n\n");
    strbuf_printf(sb, "- Result: **%s** (%s)\n", audit_overall(r), counts);
    strbuf_printf(sb, "- Generated: %s by dbssl %s\n", when, r->ev->dbssl_version);
    strbuf_append(sb, "- Target: ");
    md_code(sb, target);
    strbuf_printf(sb, "\n- TLS profile: %s (%s)\n", r->profile->name, r->profile->title);
    for (size_t i = 0; i < r->n; i++) {
        if (!r->v[i].development_only)
            continue;
        if (!dev)
            strbuf_printf(sb, "- %s", audit_dev_only_text);
        strbuf_append(sb, dev ? ", " : " ");
        md_code(sb, r->v[i].control->id);
        dev = true;
    }
    strbuf_printf(sb, "%s\n> Scope: %s\n\n", dev ? "\n" : "", dbssl_audit_scope_note);
    strbuf_append(sb,
                  "## Summary\n\n| Control | Result | Title | Frameworks |\n|---|---|---|---|\n");
    for (size_t i = 0; i < r->n; i++) {
        const struct dbssl_audit_outcome *o = &r->v[i];
        struct strbuf fw;
        strbuf_init(&fw);
        strbuf_append(&fw, "");
        audit_each_mapping(r, o->control->id, mapping_short, &fw);
        strbuf_append(sb, "| ");
        md_code(sb, o->control->id);
        strbuf_printf(sb, " | %s%s | ", dbssl_audit_result_name(o->result),
                      o->development_only ? " (development only)" : "");
        md(sb, o->control->title);
        strbuf_printf(sb, " | %s |\n", fw.data ? fw.data : "");
        strbuf_free(&fw);
    }
}

static void control(struct strbuf *sb, const struct dbssl_audit_report *r,
                    const struct dbssl_audit_outcome *o)
{
    strbuf_append(sb, "\n### ");
    md_code(sb, o->control->id);
    strbuf_printf(sb, " %s: %s%s\n\n", o->control->title, dbssl_audit_result_name(o->result),
                  o->development_only ? " (development only by design)" : "");
    if (o->why[0]) {
        strbuf_append(sb, "Why: ");
        md(sb, o->why);
        strbuf_append(sb, "\n\n");
    }
    strbuf_append(sb, "Frameworks:\n\n");
    audit_each_mapping(r, o->control->id, mapping_long, sb);
    if (o->n_findings > 0)
        strbuf_append(sb, "\nFindings:\n\n");
    for (size_t i = 0; i < o->n_findings; i++) {
        const struct dbssl_audit_finding *f = &o->findings[i];
        strbuf_printf(sb, "- **%s**%s: ", dbssl_audit_result_name(f->severity),
                      f->development_only ? " (development only)" : "");
        md(sb, f->message);
        strbuf_append_c(sb, '\n');
        for (size_t k = 0; k < f->n_items; k++) {
            strbuf_append(sb, "  - ");
            if (f->items[k].line_number)
                strbuf_printf(sb, "line %d: ", f->items[k].line_number);
            md_code(sb, f->items[k].name);
            if (f->items[k].why[0]) {
                strbuf_append(sb, ": ");
                md(sb, f->items[k].why);
            }
            strbuf_append_c(sb, '\n');
        }
        if (f->hint[0]) {
            strbuf_append(sb, "  - hint: ");
            md(sb, f->hint);
            strbuf_append_c(sb, '\n');
        }
    }
    if (o->n_evidence > 0)
        strbuf_append(sb, "\nEvidence:\n\n");
    for (size_t i = 0; i < o->n_evidence; i++) {
        strbuf_append(sb, "- ");
        md(sb, o->evidence[i]);
        strbuf_append_c(sb, '\n');
    }
}

static void certificates(struct strbuf *sb, const struct dbssl_audit_report *r)
{
    strbuf_append(sb, "\n## Certificate register\n\n| Role | Subject | Issuer | Serial | SHA-256 "
                      "fingerprint | Not after | Days left | State | Source |\n"
                      "|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < r->ev->n_certs; i++) {
        const struct dbssl_audit_cert *c = &r->ev->certs[i];
        char na[32], days[32];
        const char *cells[] = {c->role,
                               c->subject,
                               c->issuer,
                               c->serial,
                               c->fingerprint_sha256[0] ? c->fingerprint_sha256 : "(unknown)",
                               na,
                               days,
                               audit_cert_state(r, c),
                               c->source};
        format_rfc3339(c->not_after, na, sizeof(na));
        snprintf(days, sizeof(days), "%lld", audit_cert_days(r, c));
        row(sb, cells, 9, 1u << 3 | 1u << 4);
    }
}

static void session_and_server(struct strbuf *sb, const struct dbssl_audit_report *r)
{
    const struct dbssl_audit_evidence *ev = r->ev;
    const struct dbssl_audit_session *s = &ev->session;
    char a[32], b[32];

    strbuf_append(sb, "\n## Session\n\n");
    if (s->connected)
        strbuf_printf(sb, "- %s, %s, %d bits; DB_SSL_MODE=%s; PostgreSQL %s\n",
                      s->ssl_in_use ? s->protocol : "no TLS", s->cipher, s->key_bits,
                      ev->client.ssl_mode, s->server_version);
    else {
        strbuf_printf(sb, "- not connected: %s: ", s->error_class);
        md(sb, s->error_message);
        strbuf_append_c(sb, '\n');
    }
    strbuf_append(sb, "\n## Files\n\n| Setting | Path | Mode | Owner uid | Note |\n"
                      "|---|---|---|---|---|\n");
    for (size_t i = 0; i < ev->n_files; i++) {
        const struct dbssl_audit_file *f = &ev->files[i];
        const char *cells[] = {f->setting, f->path, a, b, f->error};
        snprintf(a, sizeof(a), "%04o", f->mode);
        snprintf(b, sizeof(b), "%lld", f->uid);
        row(sb, cells, 5, 1u << 1);
    }
    if (!ev->server_read)
        return;
    strbuf_append(sb, "\n## Server settings\n\n| Setting | Value | State |\n|---|---|---|\n");
    for (size_t i = 0; i < ev->server.n_settings; i++) {
        const struct dbssl_server_setting *st = &ev->server.settings[i];
        char state[200];
        const char *cells[] = {st->name, st->value, state};
        snprintf(state, sizeof(state), "%s%s%s", dbssl_si_state_names[st->state],
                 st->privilege[0] ? ": needs " : "", st->privilege);
        /* a value only when read: not even '' for one the role may not see */
        row(sb, cells, 3, st->state == DBSSL_SI_READ ? 1u << 1 : 0);
    }
    if (ev->server.hba_state != DBSSL_SI_READ)
        return;
    strbuf_append(sb, "\n## pg_hba.conf rules\n\n| Line | Rule |\n|---|---|\n");
    for (size_t i = 0; i < ev->server.n_hba; i++) {
        const char *cells[] = {a, ev->server.hba[i].line};
        snprintf(a, sizeof(a), "%d", ev->server.hba[i].line_number);
        row(sb, cells, 2, 1u << 1);
    }
}

char *dbssl_audit_render_markdown(const struct dbssl_audit_report *r)
{
    struct strbuf sb;

    strbuf_init(&sb);
    summary(&sb, r);
    strbuf_append(&sb, "\n## Controls\n");
    for (size_t i = 0; i < r->n; i++)
        control(&sb, r, &r->v[i]);
    certificates(&sb, r);
    session_and_server(&sb, r);
    if (r->ev->scan != NULL) {
        char *text = dbssl_scan_to_text(r->ev->scan, r->graded ? &r->grade : NULL,
                                        (long)r->ev->client.expiry_warn_days);
        strbuf_append(&sb, "\n## Scan\n\n```text\n");
        strbuf_append(&sb, text ? text : "");
        strbuf_append(&sb, "```\n");
        free(text);
    }
    if (sb.oom) {
        strbuf_free(&sb);
        return NULL;
    }
    return strbuf_take(&sb);
}
