/*
 * render_html.c - the status page of GET / and GET /status, rendered once
 * per snapshot like the JSON (render.h): a banner (healthy, degraded,
 * unhealthy), the connection's TLS state, the error with its hint, the
 * warnings, and an expiry timeline drawn as inline SVG, one bar per
 * certificate in use (CA, client, server) from not_before to not_after,
 * today marked and the DB_SSL_EXPIRY_WARN_DAYS window after today shaded.
 *
 * One self-contained document: the style is inline, there is no script,
 * image, font or link to load, and the server sends a policy that allows
 * only this page's style sheet, by its hash (dbssl_html_csp()), so it works
 * offline, behind any proxy, and nothing injected could run.  Every outside string goes through
 * strbuf_append_html().  Labels are HTML, not SVG text: each bar's SVG is
 * stretched to the width of the window (preserveAspectRatio="none"), and
 * text stays readable from a phone (390 px) to a desktop.  Verdicts and days
 * left are expiry.h's, at the check's time, as in the JSON.
 */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certinfo.h"
#include "expiry.h"
#include "util.h"

#define DAY_SECONDS  86400LL
#define TRACK_WIDTH  1000.0 /* SVG user units across a timeline row */
#define TRACK_HEIGHT 24
#define TRACK_MARGIN 0.03 /* of the time span, left free at each end */
/*
 * How far ahead the timeline looks: to the last expiry, but at least twice
 * the warning window and at most HORIZON_DAYS (unless the window itself is
 * longer).  A ten-year CA would otherwise squeeze a client certificate that
 * expires next week, the one thing to see, into a pixel; a bar that goes on
 * past the edge says so in words.
 */
#define HORIZON_DAYS 400
/*
 * A CA bundle may hold a hundred certificates (the system's): the page
 * draws the ones that expire first and counts the rest, which the JSON
 * lists in full.
 */
#define MAX_CA_BARS 12
/* a page left open on a screen follows the service without a script (the
 * CSP forbids scripts); each reload is one prebuilt answer */
#define STATUS_PAGE_REFRESH_S 15

const char dbssl_html_no_snapshot[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>dbssl: no check yet</title></head><body>"
    "<p id=\"status\" class=\"banner unhealthy\">unhealthy: no check has run yet</p>"
    "</body></html>\n";

static const char CSS[] =
    "*{box-sizing:border-box}\n"
    "body{font:16px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\",sans-serif;"
    "color:#1a1a1a;background:#fafafa;max-width:60rem;margin:0 auto;padding:1rem}\n"
    "h1{font-size:1.15rem;margin:0 0 .75rem;color:#444;font-weight:600}\n"
    "h2{font-size:1.05rem;margin:1.5rem 0 .5rem}\n"
    ".banner{border-radius:.4rem;padding:.8rem 1rem;border:2px solid;margin:0 0 1rem}\n"
    ".banner .state{font-size:1.6rem;font-weight:700;text-transform:uppercase;"
    "letter-spacing:.04em;margin:0}\n"
    ".banner p{margin:.2rem 0 0}\n"
    ".healthy{background:#e6f4ea;border-color:#2e7d32;color:#14491d}\n"
    ".degraded{background:#fff4e0;border-color:#c77700;color:#5c3700}\n"
    ".unhealthy{background:#fbe9e9;border-color:#b3261e;color:#6b1510}\n"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}\n"
    "dl.facts dt{font-weight:600}dl.facts dd{margin:0;overflow-wrap:anywhere}\n"
    "@media (max-width:32rem){dl.facts{grid-template-columns:1fr}"
    "dl.facts dd{margin:0 0 .4rem}}\n"
    ".error{background:#fff;border-left:4px solid #b3261e;padding:.5rem .8rem}\n"
    ".error p{margin:.2rem 0;overflow-wrap:anywhere}.hint{font-style:italic}\n"
    "code{font-family:\"DejaVu Sans Mono\",Menlo,Consolas,monospace;font-size:.9em}\n"
    "ul.warnings{padding-left:1.2rem;margin:.2rem 0}\n"
    "ol.timeline{list-style:none;padding:0;margin:0}\n"
    "ol.timeline li{margin:0 0 .9rem}\n"
    ".cert .label{display:flex;flex-wrap:wrap;gap:0 .5rem;align-items:baseline}\n"
    ".cert .role{font-weight:700;text-transform:uppercase;font-size:.85rem}\n"
    ".cert .subject{overflow-wrap:anywhere;color:#333}\n"
    ".cert .host{font-weight:700;margin:0 .5em}\n"
    "svg.track{display:block;width:100%;height:24px;background:#eceff1;border-radius:3px}\n"
    "svg .window{fill:#ffe0a3}.swatch.window{background:#ffe0a3}\n"
    "svg .bar.valid{fill:#2e7d32}svg .bar.expiring{fill:#c77700}"
    "svg .bar.expired{fill:#b3261e}svg .bar.not_yet_valid{fill:#78909c}\n"
    "svg .today{stroke:#111;stroke-width:2}\n"
    ".dates{display:flex;flex-wrap:wrap;justify-content:space-between;gap:0 1rem;"
    "font-size:.85rem;color:#444}\n"
    ".legend{font-size:.85rem;color:#444}\n"
    ".swatch{display:inline-block;width:.9em;height:.9em;vertical-align:-.1em;"
    "border:1px solid #999}\n"
    "footer{margin-top:2rem;font-size:.85rem;color:#555}\n";

void dbssl_html_csp(const char *css, char out[DBSSL_HTML_CSP_LEN])
{
    char hash[DBSSL_SHA256_B64_LEN + 1], style[DBSSL_SHA256_B64_LEN + 32] = "";

    if (css != NULL) {
        dbssl_sha256_base64(css, strlen(css), hash);
        snprintf(style, sizeof(style), " style-src 'sha256-%s';", hash);
    }
    snprintf(out, DBSSL_HTML_CSP_LEN,
             "default-src 'none';%s base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
             style);
}

static void esc(struct strbuf *sb, const char *s)
{
    strbuf_append_html(sb, s);
}

/* One line of the facts list; value escaped, "-" when empty. */
static void fact(struct strbuf *sb, const char *name, const char *value)
{
    strbuf_printf(sb, "<dt>%s</dt><dd>", name);
    esc(sb, value && value[0] ? value : "-");
    strbuf_append(sb, "</dd>\n");
}

static void date_text(long long t, char *buf, size_t len)
{
    if (t <= 0)
        snprintf(buf, len, "unknown");
    else
        format_rfc3339(t, buf, len);
}

/* ---- the banner and the facts -------------------------------------------- */

static void banner(struct strbuf *sb, const struct dbssl_snapshot *s, const char *server)
{
    const struct dbssl_tls_state *t = &s->tls;
    const char *name = dbssl_health_status_name(s->status);

    strbuf_printf(sb, "<header id=\"status\" class=\"banner %s\" role=\"status\">", name);
    strbuf_printf(sb, "<p class=\"state\">%s</p><p>", name);
    if (!t->connected) {
        strbuf_append(sb, "No connection to the database: ");
        esc(sb, t->error_message[0] ? t->error_message : "the check failed");
    } else if (t->ssl_in_use) {
        strbuf_append(sb, "Encrypted connection to ");
        esc(sb, server);
        strbuf_append(sb, " with ");
        esc(sb, t->protocol);
        strbuf_append(sb, s->verifies_server ? ", the server's certificate verified"
                                             : ", the server's certificate not verified");
    } else {
        strbuf_append(sb, "Connected to ");
        esc(sb, server);
        strbuf_append(sb, " WITHOUT encryption");
    }
    if (s->n_warnings > 0)
        strbuf_printf(sb, "; %zu warning%s below", s->n_warnings, s->n_warnings == 1 ? "" : "s");
    strbuf_append(sb, ".</p></header>\n");
}

static void facts(struct strbuf *sb, const struct dbssl_snapshot *s, const char *server)
{
    const struct dbssl_tls_state *t = &s->tls;
    bool tls_on = t->connected && t->ssl_in_use;
    char buf[64];

    strbuf_append(sb, "<section><h2>Connection</h2><dl class=\"facts\" id=\"tls\">\n");
    fact(sb, "SSL mode", dbssl_sslmode_name(s->ssl_mode));
    fact(sb, "TLS", tls_on ? t->protocol : "not in use");
    fact(sb, "Cipher", tls_on ? t->cipher : "");
    snprintf(buf, sizeof(buf), "%d", t->key_bits);
    fact(sb, "Key bits", tls_on && t->key_bits > 0 ? buf : "");
    fact(sb, "Certificate validation", s->verifies_server ? "enabled" : "disabled");
    fact(sb, "Host name verification", s->ssl_mode == DBSSL_SSLMODE_VERIFY_FULL ? "yes" : "no");
    fact(sb, "Client certificate", tls_on && t->client_cert_sent ? "sent" : "not sent");
    fact(sb, "Server", server);
    fact(sb, "Server version", t->connected ? t->server_version : "");
    fact(sb, "Server certificate", tls_on ? t->server_cert_subject : "");
    if (s->sessions.state == DBSSL_SESSIONS_CHECKED) {
        char text[160];
        snprintf(text, sizeof(text),
                 "%u watched: %u encrypted, %u plaintext, %u below the minimum protocol",
                 s->sessions.total, s->sessions.encrypted, s->sessions.plaintext,
                 s->sessions.below_min_protocol);
        fact(sb, "Application's sessions", text);
    } else if (s->sessions.state != DBSSL_SESSIONS_UNREAD) {
        fact(sb, "Application's sessions", "not checked (see the warnings)");
    }
    date_text(s->checked_at, buf, sizeof(buf));
    fact(sb, "Checked at", buf);
    date_text(s->last_success, buf, sizeof(buf));
    fact(sb, "Last successful check", s->last_success > 0 ? buf : "never");
    strbuf_append(sb, "</dl></section>\n");
}

/* Each host of a multi-host DATABASE_URL: its role and TLS, or why it was not reached. */
static void hosts(struct strbuf *sb, const struct dbssl_snapshot *s)
{
    if (s->hosts == NULL || s->hosts->n == 0)
        return;
    strbuf_append(sb, "<section><h2>Hosts</h2><dl class=\"facts\" id=\"hosts\">\n");
    for (size_t i = 0; i < s->hosts->n; i++) {
        const struct dbssl_host_probe *h = &s->hosts->v[i];
        char name[ADDR_BUF + 16], text[400];
        dbssl_host_name(h, name, sizeof(name));
        if (!h->tls.connected)
            snprintf(text, sizeof(text), "not reached: %s", h->tls.error_message);
        else
            snprintf(text, sizeof(text), "%s, %s%s", dbssl_host_role_name(h->role),
                     h->tls.ssl_in_use ? h->tls.protocol : "NOT encrypted",
                     dbssl_host_is_session(h, &s->tls) ? ", the session's host" : "");
        strbuf_append(sb, "<dt>");
        esc(sb, name);
        strbuf_append(sb, "</dt><dd>");
        esc(sb, text);
        strbuf_append(sb, "</dd>\n");
    }
    strbuf_append(sb, "</dl></section>\n");
}

/* The failure, in PostgreSQL's parts; the reload's refusal too, when there is one. */
static void problems(struct strbuf *sb, const struct dbssl_snapshot *s)
{
    const struct dbssl_tls_state *t = &s->tls;
    const struct dbssl_reload_stats *r = &s->reload;

    if (!t->connected && t->error_class != DBSSL_CONN_OK) {
        strbuf_append(sb, "<section><h2>Error</h2><div class=\"error\" id=\"error\"><p><code>");
        esc(sb, dbssl_conn_class_name(t->error_class));
        strbuf_append(sb, "</code>: ");
        esc(sb, t->error_message);
        strbuf_append(sb, "</p>");
        if (t->error_detail[0]) {
            strbuf_append(sb, "<p class=\"detail\">Detail: ");
            esc(sb, t->error_detail);
            strbuf_append(sb, "</p>");
        }
        if (t->error_hint[0]) {
            strbuf_append(sb, "<p class=\"hint\">Hint: ");
            esc(sb, t->error_hint);
            strbuf_append(sb, "</p>");
        }
        strbuf_append(sb, "</div></section>\n");
    }
    if (s->n_warnings > 0) {
        strbuf_append(sb, "<section><h2>Warnings</h2><ul class=\"warnings\" id=\"warnings\">");
        for (size_t i = 0; i < s->n_warnings; i++) {
            strbuf_append(sb, "<li>");
            esc(sb, s->warnings[i]);
            strbuf_append(sb, "</li>");
        }
        strbuf_append(sb, "</ul></section>\n");
    }
    if (r->last_error_at > 0) {
        char when[32];
        date_text(r->last_error_at, when, sizeof(when));
        strbuf_append(sb, "<section><h2>Last reload refused</h2><div class=\"error\" "
                          "id=\"reload-error\"><p>");
        esc(sb, when);
        strbuf_append(sb, ": ");
        esc(sb, r->last_error.message);
        strbuf_append(sb, "</p>");
        if (r->last_error.detail[0]) {
            strbuf_append(sb, "<p class=\"detail\">Detail: ");
            esc(sb, r->last_error.detail);
            strbuf_append(sb, "</p>");
        }
        if (r->last_error.hint[0]) {
            strbuf_append(sb, "<p class=\"hint\">Hint: ");
            esc(sb, r->last_error.hint);
            strbuf_append(sb, "</p>");
        }
        strbuf_append(sb, "</div></section>\n");
    }
}

/* ---- the expiry timeline ----------------------------------------------------- */

/* One certificate on the timeline. */
struct bar {
    const char *role; /* "ca", "client", "server" */
    const char *subject;
    long long not_before, not_after;
    char where[ADDR_BUF + 16]; /* another host of a multi-host URL, "" for the session's */
};

/* The time span the rows share: every bar, today and the warning window, with a margin. */
struct span {
    long long now, warn_end;
    double lo, hi;
};

static double x_of(const struct span *sp, long long t)
{
    double x = TRACK_WIDTH * ((double)t - sp->lo) / (sp->hi - sp->lo);

    return x < 0 ? 0 : x > TRACK_WIDTH ? TRACK_WIDTH : x;
}

static void bar_row(struct strbuf *sb, const struct dbssl_snapshot *s, const struct span *sp,
                    const struct bar *b)
{
    enum dbssl_expiry_state st =
        dbssl_expiry_state(b->not_before, b->not_after, sp->now, s->expiry_warn_days);
    const char *state = dbssl_expiry_state_name(st);
    long long days = dbssl_expiry_days_left(b->not_after, sp->now);
    double x0 = x_of(sp, b->not_before), x1 = x_of(sp, b->not_after);
    double today = x_of(sp, sp->now);
    char from[32], until[32];

    format_rfc3339(b->not_before, from, sizeof(from));
    format_rfc3339(b->not_after, until, sizeof(until));
    strbuf_printf(sb, "<li class=\"cert %s\" data-role=\"%s\"><div class=\"label\">", state,
                  b->role);
    strbuf_printf(sb, "<span class=\"role\">%s</span>", b->role);
    if (b->where[0] != '\0') {
        strbuf_append(sb, "<span class=\"host\">");
        esc(sb, b->where);
        strbuf_append(sb, "</span>");
    }
    strbuf_append(sb, "<span class=\"subject\">");
    esc(sb, b->subject);
    strbuf_append(sb, "</span></div>\n");
    strbuf_printf(sb,
                  "<svg class=\"track\" viewBox=\"0 0 %.0f %d\" preserveAspectRatio=\"none\" "
                  "role=\"img\" aria-label=\"%s certificate, valid %.10s to %.10s, %s\">",
                  TRACK_WIDTH, TRACK_HEIGHT, b->role, from, until, state);
    if (sp->warn_end > sp->now)
        strbuf_printf(sb,
                      "<rect class=\"window\" x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"%d\"/>",
                      today, x_of(sp, sp->warn_end) - today, TRACK_HEIGHT);
    /* a certificate of a few seconds stays visible */
    strbuf_printf(sb,
                  "<rect class=\"bar %s\" data-role=\"%s\" x=\"%.1f\" y=\"6\" width=\"%.1f\" "
                  "height=\"%d\"><title>%s: %s to %s</title></rect>",
                  state, b->role, x0, x1 - x0 < 2 ? 2 : x1 - x0, TRACK_HEIGHT - 12, b->role, from,
                  until);
    strbuf_printf(sb,
                  "<line class=\"today\" x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"%d\" "
                  "vector-effect=\"non-scaling-stroke\"/></svg>\n",
                  today, today, TRACK_HEIGHT);
    strbuf_printf(sb,
                  "<div class=\"dates\"><span>from %.10s%s</span><span>until %.10s%s: "
                  "<strong>%lld day%s left</strong>, %s</span></div></li>\n",
                  from, (double)b->not_before < sp->lo ? " (before the chart)" : "", until,
                  (double)b->not_after > sp->hi ? " (past the chart)" : "", days,
                  days == 1 || days == -1 ? "" : "s", state);
}

static int by_not_after(const void *a, const void *b)
{
    const struct bar *x = a, *y = b;

    return (x->not_after > y->not_after) - (x->not_after < y->not_after);
}

/*
 * The bars in their order: the CAs that expire first (at most MAX_CA_BARS;
 * *hidden counts the others), the client's, the server's.  Caller frees;
 * NULL on out-of-memory.
 */
static struct bar *collect_bars(const struct dbssl_snapshot *s, size_t *n, size_t *hidden)
{
    const struct dbssl_tls_state *t = &s->tls;
    size_t n_hosts = s->hosts != NULL ? s->hosts->n : 0;
    struct bar *bars = calloc(s->n_certs + 1 + n_hosts, sizeof(*bars));
    size_t n_ca = 0;

    *n = *hidden = 0;
    if (bars == NULL)
        return NULL;
    for (int ca = 1; ca >= 0; ca--) {
        for (size_t i = 0; i < s->n_certs; i++)
            if (s->certs[i].not_after > 0 && (strcmp(s->certs[i].role, "ca") == 0) == ca)
                bars[(*n)++] = (struct bar){s->certs[i].role, s->certs[i].subject,
                                            s->certs[i].not_before, s->certs[i].not_after, ""};
        if (ca) {
            qsort(bars, *n, sizeof(*bars), by_not_after);
            n_ca = *n < MAX_CA_BARS ? *n : MAX_CA_BARS;
            *hidden = *n - n_ca;
            *n = n_ca;
        }
    }
    if (t->connected && t->ssl_in_use && t->server_cert_not_after > 0)
        bars[(*n)++] = (struct bar){"server", t->server_cert_subject, t->server_cert_not_before,
                                    t->server_cert_not_after, ""};
    /* the other hosts a failover may send the session to: their certificates count too */
    for (size_t i = 0; i < n_hosts; i++) {
        const struct dbssl_host_probe *h = &s->hosts->v[i];
        if (dbssl_host_is_session(h, t) || !h->tls.connected || !h->tls.ssl_in_use ||
            h->tls.server_cert_not_after <= 0)
            continue;
        bars[*n] = (struct bar){"server", h->tls.server_cert_subject, h->tls.server_cert_not_before,
                                h->tls.server_cert_not_after, ""};
        dbssl_host_name(h, bars[*n].where, sizeof(bars[*n].where));
        (*n)++;
    }
    return bars;
}

static void timeline(struct strbuf *sb, const struct dbssl_snapshot *s)
{
    size_t n, hidden;
    struct bar *bars = collect_bars(s, &n, &hidden);
    struct span sp = {s->checked_at, s->checked_at + s->expiry_warn_days * DAY_SECONDS, 0, 0};
    char lo[32], hi[32], today[32];
    double margin;
    long long ahead;

    if (bars == NULL) {
        sb->oom = true;
        return;
    }
    strbuf_append(sb, "<section><h2>Certificate expiry</h2>\n");
    if (n == 0) {
        strbuf_append(sb, "<p id=\"no-certificates\">No certificate is in use: no CA or client "
                          "certificate is configured and no server certificate was seen.</p>"
                          "</section>\n");
        free(bars);
        return;
    }
    ahead = 2 * (sp.warn_end - sp.now);
    if (ahead < 7 * DAY_SECONDS)
        ahead = 7 * DAY_SECONDS;
    for (size_t i = 0; i < n; i++)
        if (bars[i].not_after - sp.now > ahead)
            ahead = bars[i].not_after - sp.now;
    if (ahead > HORIZON_DAYS * DAY_SECONDS)
        ahead = HORIZON_DAYS * DAY_SECONDS > 2 * (sp.warn_end - sp.now)
                    ? HORIZON_DAYS * DAY_SECONDS
                    : 2 * (sp.warn_end - sp.now);
    /* the past only as far as the bars start, and at most a third of what is ahead */
    sp.lo = (double)sp.now;
    for (size_t i = 0; i < n; i++)
        if ((double)bars[i].not_before < sp.lo)
            sp.lo = (double)bars[i].not_before;
    if (sp.lo < (double)(sp.now - ahead / 3))
        sp.lo = (double)(sp.now - ahead / 3);
    sp.hi = (double)(sp.now + ahead);
    margin = (sp.hi - sp.lo) * TRACK_MARGIN;
    sp.lo -= margin;
    sp.hi += margin;

    strbuf_append(sb, "<ol class=\"timeline\" id=\"timeline\">\n");
    for (size_t i = 0; i < n; i++)
        bar_row(sb, s, &sp, &bars[i]);
    strbuf_append(sb, "</ol>\n");
    if (hidden > 0)
        strbuf_printf(sb,
                      "<p class=\"legend\" id=\"more-ca\">%zu more CA certificate%s of the bundle "
                      "expire%s later; <code>/health/database/ssl</code> lists every one.</p>\n",
                      hidden, hidden == 1 ? "" : "s", hidden == 1 ? "s" : "");
    format_rfc3339((long long)sp.lo, lo, sizeof(lo));
    format_rfc3339((long long)sp.hi, hi, sizeof(hi));
    format_rfc3339(sp.now, today, sizeof(today));
    strbuf_printf(sb,
                  "<div class=\"dates\"><span>%.10s</span><span>%.10s</span></div>\n"
                  "<p class=\"legend\">The black line is today (%.10s). ",
                  lo, hi, today);
    if (s->expiry_warn_days > 0)
        strbuf_printf(sb,
                      "<span class=\"swatch window\"></span> shaded: the "
                      "next %ld days (DB_SSL_EXPIRY_WARN_DAYS); a certificate that ends there is "
                      "reported as expiring.",
                      s->expiry_warn_days);
    else
        strbuf_append(sb, "DB_SSL_EXPIRY_WARN_DAYS is 0: no warning before a certificate "
                          "expires.");
    strbuf_append(sb, "</p></section>\n");
    free(bars);
}

struct dbssl_body dbssl_render_html(struct dbssl_snapshot *s)
{
    struct strbuf sb;
    char server[ADDR_BUF];
    const char *name = dbssl_health_status_name(s->status);

    dbssl_html_csp(CSS, s->html_csp);
    dbssl_tls_state_server(&s->tls, server, sizeof(server));
    strbuf_init(&sb);
    strbuf_printf(&sb,
                  "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<meta http-equiv=\"refresh\" content=\"%d\">\n"
                  "<title>dbssl: database TLS %s</title>\n<style>%s</style></head>\n<body>\n"
                  "<h1>Database TLS status</h1>\n",
                  STATUS_PAGE_REFRESH_S, name, CSS);
    banner(&sb, s, server);
    problems(&sb, s);
    facts(&sb, s, server);
    hosts(&sb, s);
    timeline(&sb, s);
    strbuf_printf(&sb,
                  "<footer>The same facts as JSON: <code>/health/database/ssl</code>; "
                  "metrics: <code>/metrics</code>. Rendered once per check; the page reloads "
                  "itself every %d s.</footer>\n</body></html>\n",
                  STATUS_PAGE_REFRESH_S);
    return dbssl_body_of(strbuf_take(&sb));
}
