/*
 * render_html.c - the audit report as one self-contained HTML file: the
 * style sheet is inline, there is no script, image, font or link to load,
 * and the only links point inside the file (the summary to each control).
 * Framework sources are printed as text, where a printed page shows them.
 *
 * Written for print to PDF as much as for a screen: A4 pages, a page break
 * before each part, table headers repeated on every page, and no row, list
 * item or finding cut across two pages.  The markup is also well-formed XML
 * (every element closed, only numeric character references), so that the
 * tests can parse it with a strict parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

static const char CSS[] =
    "@page{size:A4;margin:16mm 14mm}\n"
    "body{font:10.5pt/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\","
    "sans-serif;color:#1a1a1a;max-width:62rem;margin:2rem auto;padding:0 1rem}\n"
    "h1{font-size:1.6rem;margin:0 0 .5rem}h2{font-size:1.25rem;margin:1.5rem 0 .5rem;"
    "border-bottom:2px solid #333}h3{font-size:1.05rem;margin:.2rem 0 .4rem}"
    "h4{font-size:.95rem;margin:.6rem 0 .2rem}\n"
    "table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem;font-size:.88em}\n"
    "th,td{border:1px solid #bbb;padding:.2rem .4rem;text-align:left;vertical-align:top}\n"
    "thead th{background:#eee}\n"
    "code,pre{font-family:\"DejaVu Sans Mono\",Menlo,Consolas,monospace;font-size:.9em}\n"
    "td code{word-break:break-all}\n"
    "pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;padding:.5rem;"
    "font-size:.8em}\n"
    "dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.5rem 0}\n"
    "dl.meta dt{font-weight:600}dl.meta dd{margin:0}\n"
    ".badge{display:inline-block;padding:0 .45em;border:1px solid;border-radius:.25em;"
    "font-weight:600;font-size:.85em}\n"
    ".pass{color:#135f27;background:#e6f4ea;border-color:#9fd3ae}\n"
    ".fail{color:#8a1c1c;background:#fbe9e9;border-color:#e5a3a3}\n"
    ".warn{color:#7a4b00;background:#fff4e0;border-color:#e9c27a}\n"
    ".not_checked{color:#3d4a5c;background:#eef1f5;border-color:#b8c2cf}\n"
    ".overall{font-size:1.2rem;padding:.1em .6em}\n"
    "article.control{border-top:1px solid #ccc;padding-top:.4rem;margin-top:.8rem}\n"
    ".hint{color:#444;font-style:italic}.scope{color:#444}\n"
    "ul{margin:.2rem 0;padding-left:1.3rem}\n"
    "@media print{\n"
    "body{margin:0;max-width:none;font-size:9.5pt;padding:0}\n"
    "a{color:inherit;text-decoration:none}\n"
    "section.part{break-before:page;page-break-before:always}\n"
    "h2,h3,h4{break-after:avoid;page-break-after:avoid}\n"
    "thead{display:table-header-group}\n"
    "tr,li,.finding,dl.meta{break-inside:avoid;page-break-inside:avoid}\n"
    "article.control{break-inside:avoid-page}\n"
    ".badge,thead th{-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
    "}\n";

/* Text as HTML (and XML), util.h's one escaping. */
static void esc(struct strbuf *sb, const char *s)
{
    strbuf_append_html(sb, s);
}

static void tag(struct strbuf *sb, const char *open, const char *text, const char *close)
{
    strbuf_append(sb, open);
    esc(sb, text);
    strbuf_append(sb, close);
}

static void badge(struct strbuf *sb, enum dbssl_audit_result r)
{
    const char *n = dbssl_audit_result_name(r);

    strbuf_printf(sb, "<span class=\"badge %s\">%s</span>", n, n);
}

static void mapping_cell(const struct dbssl_audit_mapping *m, void *arg)
{
    struct strbuf *sb = arg;

    tag(sb, "<li>", m->framework, " ");
    esc(sb, m->reference);
    strbuf_append(sb, "</li>");
}

static void mapping_item(const struct dbssl_audit_mapping *m, void *arg)
{
    struct strbuf *sb = arg;

    tag(sb, "<li><strong>", m->framework, " ");
    esc(sb, m->reference);
    tag(sb, "</strong>: ", m->requirement, " (");
    esc(sb, m->document);
    if (m->url[0])
        tag(sb, ", <code>", m->url, "</code>");
    strbuf_append(sb, ")</li>\n");
}

static void header(struct strbuf *sb, const struct dbssl_audit_report *r)
{
    char when[32], target[700], counts[128];
    bool dev = false;

    audit_time_text(r, when, sizeof(when));
    audit_target_text(r, target, sizeof(target));
    dbssl_audit_counts_text(r, counts, sizeof(counts));
    strbuf_append(sb,
                  "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    tag(sb, "<title>dbssl audit report: ", target, "</title>\n");
    strbuf_printf(
        sb, "<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>dbssl audit report</h1>\n", CSS);
    strbuf_printf(sb, "<p><span class=\"badge overall %s\">%s</span> %s</p>\n",
                  dbssl_audit_failed(r) ? "fail" : "pass", audit_overall(r), counts);
    tag(sb, "<dl class=\"meta\">\n<dt>Target</dt><dd><code>", target, "</code></dd>\n");
    tag(sb, "<dt>Generated</dt><dd>", when, " by dbssl ");
    esc(sb, r->ev->dbssl_version);
    strbuf_append(sb, "</dd>\n");
    tag(sb, "<dt>TLS profile</dt><dd>", r->profile->name, " (");
    esc(sb, r->profile->title);
    strbuf_append(sb, ")</dd>\n</dl>\n");
    for (size_t i = 0; i < r->n; i++) {
        if (!r->v[i].development_only)
            continue;
        if (!dev)
            tag(sb, "<p class=\"devonly\">", audit_dev_only_text, "");
        tag(sb, dev ? ", <code>" : " <code>", r->v[i].control->id, "</code>");
        dev = true;
    }
    if (dev)
        strbuf_append(sb, "</p>\n");
    tag(sb, "<p class=\"scope\">Scope: ", dbssl_audit_scope_note, "</p>\n</header>\n");
}

static void summary(struct strbuf *sb, const struct dbssl_audit_report *r)
{
    strbuf_append(sb, "<section id=\"summary\">\n<h2>Summary</h2>\n<table>\n<thead><tr><th>Control"
                      "</th><th>Result</th><th>Title</th><th>Frameworks</th></tr></thead>\n"
                      "<tbody>\n");
    for (size_t i = 0; i < r->n; i++) {
        const struct dbssl_audit_outcome *o = &r->v[i];
        strbuf_printf(sb, "<tr><td><a href=\"#c-%s\"><code>%s</code></a></td><td>", o->control->id,
                      o->control->id);
        badge(sb, o->result);
        if (o->development_only)
            strbuf_append(sb, " development only");
        tag(sb, "</td><td>", o->control->title, "</td><td><ul>");
        audit_each_mapping(r, o->control->id, mapping_cell, sb);
        strbuf_append(sb, "</ul></td></tr>\n");
    }
    strbuf_append(sb, "</tbody>\n</table>\n</section>\n");
}

static void control(struct strbuf *sb, const struct dbssl_audit_report *r,
                    const struct dbssl_audit_outcome *o)
{
    strbuf_printf(sb, "<article class=\"control\" id=\"c-%s\">\n<h3><code>%s</code> ",
                  o->control->id, o->control->id);
    esc(sb, o->control->title);
    strbuf_append(sb, " ");
    badge(sb, o->result);
    strbuf_append(sb, o->development_only ? " development only by design</h3>\n" : "</h3>\n");
    if (o->why[0])
        tag(sb, "<p><strong>Why:</strong> ", o->why, "</p>\n");
    strbuf_append(sb, "<h4>Frameworks</h4>\n<ul>\n");
    audit_each_mapping(r, o->control->id, mapping_item, sb);
    strbuf_append(sb, "</ul>\n");
    if (o->n_findings > 0)
        strbuf_append(sb, "<h4>Findings</h4>\n");
    for (size_t i = 0; i < o->n_findings; i++) {
        const struct dbssl_audit_finding *f = &o->findings[i];
        strbuf_append(sb, "<div class=\"finding\"><p>");
        badge(sb, f->severity);
        if (f->development_only)
            strbuf_append(sb, " development only");
        tag(sb, " ", f->message, "</p>\n");
        if (f->n_items > 0)
            strbuf_append(sb, "<table>\n<thead><tr><th>Line</th><th>Item</th><th>Why</th></tr>"
                              "</thead>\n<tbody>\n");
        for (size_t k = 0; k < f->n_items; k++) {
            strbuf_append(sb, "<tr><td>");
            if (f->items[k].line_number)
                strbuf_printf(sb, "%d", f->items[k].line_number);
            tag(sb, "</td><td><code>", f->items[k].name, "</code></td>");
            tag(sb, "<td>", f->items[k].why, "</td></tr>\n");
        }
        if (f->n_items > 0)
            strbuf_append(sb, "</tbody>\n</table>\n");
        if (f->hint[0])
            tag(sb, "<p class=\"hint\">", f->hint, "</p>\n");
        strbuf_append(sb, "</div>\n");
    }
    if (o->n_evidence > 0)
        strbuf_append(sb, "<h4>Evidence</h4>\n<ul>\n");
    for (size_t i = 0; i < o->n_evidence; i++)
        tag(sb, "<li>", o->evidence[i], "</li>\n");
    if (o->n_evidence > 0)
        strbuf_append(sb, "</ul>\n");
    strbuf_append(sb, "</article>\n");
}

/* <tr><td>a</td>...</tr> of n strings */
static void row(struct strbuf *sb, const char *const *cells, size_t n)
{
    strbuf_append(sb, "<tr>");
    for (size_t i = 0; i < n; i++)
        tag(sb, "<td>", cells[i], "</td>");
    strbuf_append(sb, "</tr>\n");
}

static void table_head(struct strbuf *sb, const char *title, const char *const *cols, size_t n)
{
    tag(sb, "<h3>", title, "</h3>\n<table>\n<thead><tr>");
    for (size_t i = 0; i < n; i++)
        tag(sb, "<th>", cols[i], "</th>");
    strbuf_append(sb, "</tr></thead>\n<tbody>\n");
}

static void evidence(struct strbuf *sb, const struct dbssl_audit_report *r)
{
    static const char *const cert_cols[] = {"Role",      "Subject", "Issuer", "Serial", "SHA-256",
                                            "Not after", "Days",    "State",  "Source"};
    static const char *const file_cols[] = {"Setting", "Path", "Mode", "Owner uid", "Note"};
    static const char *const set_cols[] = {"Setting", "Value", "State"};
    static const char *const hba_cols[] = {"Line", "Rule", "As written"};
    const struct dbssl_audit_evidence *ev = r->ev;
    char a[32], b[32], c[32];

    strbuf_append(sb, "<section class=\"part\" id=\"register\">\n<h2>Evidence</h2>\n");
    table_head(sb, "Certificate register", cert_cols, 9);
    for (size_t i = 0; i < ev->n_certs; i++) {
        const struct dbssl_audit_cert *ct = &ev->certs[i];
        const char *cells[9] = {ct->role,
                                ct->subject,
                                ct->issuer,
                                ct->serial,
                                ct->fingerprint_sha256[0] ? ct->fingerprint_sha256 : "(unknown)",
                                a,
                                b,
                                audit_cert_state(r, ct),
                                ct->source};
        format_rfc3339(ct->not_after, a, sizeof(a));
        snprintf(b, sizeof(b), "%lld", audit_cert_days(r, ct));
        row(sb, cells, 9);
    }
    strbuf_append(sb, "</tbody>\n</table>\n<h3>Session</h3>\n");
    if (ev->session.connected)
        strbuf_printf(sb, "<p>%s, %s, %d bits; DB_SSL_MODE=%s; PostgreSQL %s</p>\n",
                      ev->session.ssl_in_use ? ev->session.protocol : "no TLS", ev->session.cipher,
                      ev->session.key_bits, ev->client.ssl_mode, ev->session.server_version);
    else
        tag(sb, "<p>Not connected: ", ev->session.error_message, "</p>\n");
    table_head(sb, "Files", file_cols, 5);
    for (size_t i = 0; i < ev->n_files; i++) {
        const struct dbssl_audit_file *f = &ev->files[i];
        const char *cells[5] = {f->setting, f->path, a, b, f->error};
        snprintf(a, sizeof(a), "%04o", f->mode);
        snprintf(b, sizeof(b), "%lld", f->uid);
        row(sb, cells, 5);
    }
    strbuf_append(sb, "</tbody>\n</table>\n");
    if (ev->server_read) {
        table_head(sb, "Server settings (pg_settings)", set_cols, 3);
        for (size_t i = 0; i < ev->server.n_settings; i++) {
            const struct dbssl_server_setting *s = &ev->server.settings[i];
            const char *cells[3] = {s->name, s->value, c};
            snprintf(c, sizeof(c), "%s", dbssl_si_state_names[s->state]);
            row(sb, cells, 3);
        }
        strbuf_append(sb, "</tbody>\n</table>\n");
    }
    if (ev->server_read && ev->server.hba_state == DBSSL_SI_READ) {
        table_head(sb, "pg_hba.conf rules (pg_hba_file_rules)", hba_cols, 3);
        for (size_t i = 0; i < ev->server.n_hba; i++) {
            const struct dbssl_hba_rule *h = &ev->server.hba[i];
            const char *cells[3] = {a, h->line, h->verbatim ? "yes" : "rebuilt from the rule"};
            snprintf(a, sizeof(a), "%d", h->line_number);
            row(sb, cells, 3);
        }
        strbuf_append(sb, "</tbody>\n</table>\n");
    }
    if (ev->scan != NULL) {
        char *text = dbssl_scan_to_text(ev->scan, r->graded ? &r->grade : NULL,
                                        (long)ev->client.expiry_warn_days);
        tag(sb, "<h3>Scan</h3>\n<pre>", text ? text : "", "</pre>\n");
        free(text);
    }
    strbuf_append(sb, "</section>\n");
}

char *dbssl_audit_render_html(const struct dbssl_audit_report *r)
{
    struct strbuf sb;
    char when[32];

    strbuf_init(&sb);
    header(&sb, r);
    summary(&sb, r);
    strbuf_append(&sb, "<section class=\"part\" id=\"controls\">\n<h2>Controls</h2>\n");
    for (size_t i = 0; i < r->n; i++)
        control(&sb, r, &r->v[i]);
    strbuf_append(&sb, "</section>\n");
    evidence(&sb, r);
    audit_time_text(r, when, sizeof(when));
    tag(&sb, "<footer><p>dbssl ", r->ev->dbssl_version, " ");
    strbuf_printf(&sb, "audit, %s.</p></footer>\n</body>\n</html>\n", when);
    if (sb.oom) {
        strbuf_free(&sb);
        return NULL;
    }
    return strbuf_take(&sb);
}
