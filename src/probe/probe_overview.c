/*
 * probe_overview.c - the overview page (see probe_overview.h).  Well-formed
 * XML as well as HTML (every element closed, only numeric character
 * references), so that tests read it with a strict parser.
 */
#include "probe/probe_overview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expiry.h"
#include "render.h"
#include "util.h"

static const char CSS[] =
    "body{font:14px/1.4 system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\",sans-serif;"
    "color:#1a1a1a;margin:1.5rem}\n"
    "h1{font-size:1.4rem;margin:0 0 .3rem}p.meta{color:#555;margin:0 0 1rem}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "th,td{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}\n"
    "th{background:#f2f2f2;position:sticky;top:0}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "code{font-family:\"DejaVu Sans Mono\",Menlo,Consolas,monospace;font-size:.92em}\n"
    ".badge{display:inline-block;padding:0 .45em;border:1px solid;border-radius:.25em;"
    "font-weight:600;font-size:.85em}\n"
    ".failed{color:#8a1c1c;background:#fbe9e9;border-color:#e5a3a3}\n"
    ".grade{color:#7a4b00;background:#fff4e0;border-color:#e9c27a}\n"
    ".expiring{color:#7a4b00;background:#fff4e0;border-color:#e9c27a}\n"
    ".ok{color:#135f27;background:#e6f4ea;border-color:#9fd3ae}\n"
    ".why{color:#444}\n";

void dbssl_probe_overview_csp(char out[DBSSL_HTML_CSP_LEN])
{
    dbssl_html_csp(CSS, out);
}

/* The row's verdict: its CSS class and the word shown. */
static const char *verdict(const struct dbssl_probe_summary *s)
{
    if (!s->success)
        return "failed";
    if (s->grade.have && !s->grade.passed)
        return "grade";
    if (s->have_cert && dbssl_expiry_state(s->not_before, s->not_after, s->probed_at,
                                           s->expiry_warn_days) == DBSSL_EXPIRY_EXPIRING)
        return "expiring";
    return "ok";
}

static void cell(struct strbuf *sb, const char *cls, const char *text)
{
    strbuf_printf(sb, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    strbuf_append_html(sb, text);
    strbuf_append(sb, "</td>");
}

static void row(struct strbuf *sb, const struct dbssl_probe_summary *s, long long now)
{
    const char *v = verdict(s);
    char buf[64], date[32];

    strbuf_printf(sb, "<tr><td><span class=\"badge %s\">%s</span></td>", v,
                  strcmp(v, "grade") == 0 ? "profile" : v);
    strbuf_append(sb, "<td><code>");
    strbuf_append_html(sb, s->target);
    strbuf_append(sb, "</code></td>");
    cell(sb, NULL, s->module);
    strbuf_append(sb, "<td>");
    if (s->reasons[0] != '\0') {
        strbuf_append(sb, "<code>");
        strbuf_append_html(sb, s->reasons);
        strbuf_append(sb, "</code> <span class=\"why\">");
        strbuf_append_html(sb, s->message);
        strbuf_append(sb, "</span>");
    }
    strbuf_append(sb, "</td>");
    cell(sb, NULL, s->tls_version[0] ? s->tls_version : (s->ssl == 0 ? "none (plaintext)" : ""));
    if (s->have_cert) {
        format_rfc3339(s->not_after, date, sizeof(date));
        snprintf(buf, sizeof(buf), "%lld days (%s)",
                 dbssl_expiry_days_left(s->not_after, s->probed_at), date);
        cell(sb, NULL, buf);
    } else {
        cell(sb, NULL, "");
    }
    strbuf_append(sb, "<td>");
    if (s->grade.have) {
        strbuf_printf(sb, "%s %s", s->grade.passed ? "meets" : "fails", s->grade.profile);
        for (size_t i = 0; i < s->grade.n_failed; i++) {
            strbuf_append(sb, i ? ", <code>" : ": <code>");
            strbuf_append_html(sb, s->grade.failed[i]);
            strbuf_append(sb, "</code>");
        }
    }
    strbuf_append(sb, "</td>");
    snprintf(buf, sizeof(buf), "%lld s ago", now - s->probed_at);
    cell(sb, "num", buf);
    snprintf(buf, sizeof(buf), "%.3f s", s->duration_s);
    cell(sb, "num", buf);
    strbuf_append(sb, "</tr>\n");
}

char *dbssl_probe_overview_html(const struct dbssl_probe_summary *v, size_t n, long long now,
                                const char *config_path, size_t *len)
{
    size_t count[4] = {0, 0, 0, 0};
    char date[32];
    struct strbuf sb;
    char *out;

    for (size_t i = 0; i < n; i++) {
        const char *w = verdict(&v[i]);
        count[strcmp(w, "failed") == 0     ? 0
              : strcmp(w, "grade") == 0    ? 1
              : strcmp(w, "expiring") == 0 ? 2
                                           : 3]++;
    }
    format_rfc3339(now, date, sizeof(date));
    strbuf_init(&sb);
    strbuf_printf(&sb,
                  "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
                  "<meta http-equiv=\"refresh\" content=\"%d\"/>"
                  "<meta name=\"viewport\" content=\"width=device-width\"/>"
                  "<title>dbssl fleet overview</title><style>%s</style></head>\n<body>\n"
                  "<h1>dbssl fleet overview</h1>\n",
                  DBSSL_PROBE_OVERVIEW_REFRESH_S, CSS);
    strbuf_printf(&sb,
                  "<p class=\"meta\">%zu targets: <span class=\"badge failed\">%zu failed</span> "
                  "<span class=\"badge grade\">%zu fail their profile</span> "
                  "<span class=\"badge expiring\">%zu expiring</span> "
                  "<span class=\"badge ok\">%zu ok</span>; the last probe of each, worst first, "
                  "at %s (modules: <code>",
                  n, count[0], count[1], count[2], count[3], date);
    strbuf_append_html(&sb, config_path);
    strbuf_append(&sb, "</code>).</p>\n");
    if (n == 0)
        strbuf_append(&sb, "<p>No target has been probed yet: Prometheus names the targets "
                           "(GET /probe?target=HOST:PORT&amp;module=NAME).</p>\n");
    else
        strbuf_append(&sb, "<table><thead><tr><th>status</th><th>target</th><th>module</th>"
                           "<th>why</th><th>TLS</th><th>certificate expires</th><th>grade</th>"
                           "<th>probed</th><th>took</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < n; i++)
        row(&sb, &v[i], now);
    if (n > 0)
        strbuf_append(&sb, "</tbody></table>\n");
    strbuf_append(&sb, "</body></html>\n");
    out = strbuf_take(&sb);
    *len = out ? strlen(out) : 0;
    return out;
}
