/*
 * render_metrics.c - the Prometheus exposition of a snapshot, GET /metrics
 * (see render.h).
 *
 * Everything comes from the snapshot, which already holds copies of the
 * checker's counters and the reload outcomes: a scrape costs no more than a
 * JSON request.  Certificates are reported whether or not TLS is up, since
 * an expired client certificate is exactly what makes the connection fail.
 */
#include "render.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

void dbssl_metrics_escape(struct strbuf *sb, const char *v)
{
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '\\')
            strbuf_append(sb, "\\\\");
        else if (*p == '"')
            strbuf_append(sb, "\\\"");
        else if (*p == '\n')
            strbuf_append(sb, "\\n");
        else
            strbuf_append_c(sb, *p);
    }
}

static void head(struct strbuf *sb, const char *name, const char *type, const char *help)
{
    strbuf_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void cert_series(struct strbuf *sb, const char *name, const char *role, const char *path,
                        const char *subject, const char *serial, long long value)
{
    strbuf_printf(sb, "%s{role=\"", name);
    dbssl_metrics_escape(sb, role);
    strbuf_append(sb, "\",path=\"");
    dbssl_metrics_escape(sb, path);
    strbuf_append(sb, "\",subject=\"");
    dbssl_metrics_escape(sb, subject);
    strbuf_append(sb, "\",serial=\"");
    dbssl_metrics_escape(sb, serial);
    strbuf_printf(sb, "\"} %lld\n", value);
}

/* Both date families: every certificate file in use, then the server's. */
static void certs(struct strbuf *sb, const struct dbssl_snapshot *s, bool after)
{
    const struct dbssl_tls_state *t = &s->tls;
    const char *name = after ? "dbssl_cert_not_after_seconds" : "dbssl_cert_not_before_seconds";
    char server[ADDR_BUF];

    head(sb, name, "gauge",
         after ? "Expiry (not after) of each certificate in use, in seconds since the epoch."
               : "Start of validity (not before) of each certificate in use, in seconds since "
                 "the epoch.");
    for (size_t i = 0; i < s->n_certs; i++)
        cert_series(sb, name, s->certs[i].role, s->certs[i].path, s->certs[i].subject,
                    s->certs[i].serial, after ? s->certs[i].not_after : s->certs[i].not_before);
    if (t->connected && t->ssl_in_use && t->server_cert_not_after > 0) {
        /* the server's certificate has no file here: its address stands in for the path */
        dbssl_tls_state_server(t, server, sizeof(server));
        cert_series(sb, name, "server", server, t->server_cert_subject, t->server_cert_serial,
                    after ? t->server_cert_not_after : t->server_cert_not_before);
    }
}

static void host_series(struct strbuf *sb, const char *name, const struct dbssl_host_probe *h,
                        long long value)
{
    char port[16];

    snprintf(port, sizeof(port), "%d", h->port);
    strbuf_printf(sb, "%s{host=\"", name);
    dbssl_metrics_escape(sb, h->host);
    /* no role label: a failover must not start new series */
    strbuf_printf(sb, "\",port=\"%s\"} %lld\n", h->port > 0 ? port : "", value);
}

/* Each host of a multi-host DATABASE_URL (no series for a URL with one host). */
static void hosts(struct strbuf *sb, const struct dbssl_snapshot *s)
{
    const struct dbssl_hosts *hs = s->hosts;
    size_t n = hs != NULL ? hs->n : 0;

    head(sb, "dbssl_host_up", "gauge",
         "Whether each host of a multi-host DATABASE_URL accepted the settings' connection.");
    for (size_t i = 0; i < n; i++)
        host_series(sb, "dbssl_host_up", &hs->v[i], hs->v[i].tls.connected);
    head(sb, "dbssl_host_ssl_enabled", "gauge",
         "Whether each host's connection is encrypted with TLS.");
    for (size_t i = 0; i < n; i++)
        host_series(sb, "dbssl_host_ssl_enabled", &hs->v[i],
                    hs->v[i].tls.connected && hs->v[i].tls.ssl_in_use);
    head(sb, "dbssl_host_primary", "gauge",
         "Whether each host is a primary (1) or a standby (0), by pg_is_in_recovery().");
    for (size_t i = 0; i < n; i++)
        if (hs->v[i].role != DBSSL_HOST_ROLE_UNKNOWN)
            host_series(sb, "dbssl_host_primary", &hs->v[i], hs->v[i].role == DBSSL_HOST_PRIMARY);
    head(sb, "dbssl_host_session", "gauge", "Whether the health check's session is on the host.");
    for (size_t i = 0; i < n; i++)
        host_series(sb, "dbssl_host_session", &hs->v[i], dbssl_host_is_session(&hs->v[i], &s->tls));
    head(sb, "dbssl_host_cert_not_after_seconds", "gauge",
         "Expiry (not after) of each host's server certificate, in seconds since the epoch.");
    for (size_t i = 0; i < n; i++)
        if (hs->v[i].tls.connected && hs->v[i].tls.ssl_in_use &&
            hs->v[i].tls.server_cert_not_after > 0)
            host_series(sb, "dbssl_host_cert_not_after_seconds", &hs->v[i],
                        hs->v[i].tls.server_cert_not_after);
}

/* PgBouncer's hops by side and encryption (conn_pgbouncer.h); none when not configured. */
static void pgbouncer(struct strbuf *sb, const struct dbssl_pgbouncer *p)
{
    const struct {
        int side;
        const struct dbssl_pgbouncer_count *c;
    } sides[] = {{DBSSL_PGBOUNCER_SERVER, &p->servers}, {DBSSL_PGBOUNCER_CLIENT, &p->clients}};

    head(sb, "dbssl_pgbouncer_checked", "gauge",
         "Whether PgBouncer's admin console was read at the last check (0: not reachable or "
         "not allowed).");
    if (p->state != DBSSL_PGBOUNCER_UNSET)
        strbuf_printf(sb, "dbssl_pgbouncer_checked %d\n", p->state == DBSSL_PGBOUNCER_CHECKED);
    head(sb, "dbssl_pgbouncer_hops", "gauge",
         "PgBouncer's hops by side (server: to PostgreSQL, client: to PgBouncer) and encryption "
         "(tls, plaintext, local for a Unix-domain socket).");
    for (size_t i = 0; p->state == DBSSL_PGBOUNCER_CHECKED && i < 2; i++) {
        const char *side = dbssl_pgbouncer_side_name(sides[i].side);
        strbuf_printf(sb, "dbssl_pgbouncer_hops{side=\"%s\",encryption=\"tls\"} %u\n", side,
                      sides[i].c->tls);
        strbuf_printf(sb, "dbssl_pgbouncer_hops{side=\"%s\",encryption=\"plaintext\"} %u\n",
                      side, sides[i].c->plaintext);
        strbuf_printf(sb, "dbssl_pgbouncer_hops{side=\"%s\",encryption=\"local\"} %u\n", side,
                      sides[i].c->local);
    }
}

static void histogram(struct strbuf *sb, const struct dbssl_check_stats *st)
{
    head(sb, "dbssl_check_duration_seconds", "histogram",
         "Duration of health checks (connect or re-check, and TLS inspection).");
    for (size_t i = 0; i < DBSSL_CHECK_BUCKETS; i++)
        strbuf_printf(sb, "dbssl_check_duration_seconds_bucket{le=\"%g\"} %llu\n",
                      dbssl_check_buckets[i], st->bucket[i]);
    strbuf_printf(sb, "dbssl_check_duration_seconds_bucket{le=\"+Inf\"} %llu\n", st->count);
    strbuf_printf(sb, "dbssl_check_duration_seconds_sum %.6f\n", st->sum);
    strbuf_printf(sb, "dbssl_check_duration_seconds_count %llu\n", st->count);
}

/* A gauge of the watched sessions, reported only when they were counted. */
static void session_gauge(struct strbuf *sb, const struct dbssl_sessions *ss, const char *name,
                          const char *help, unsigned value)
{
    head(sb, name, "gauge", help);
    if (ss->state == DBSSL_SESSIONS_CHECKED)
        strbuf_printf(sb, "%s %u\n", name, value);
}

/* The application's sessions (conn_sessions.h); no sample when they were not counted. */
static void sessions(struct strbuf *sb, const struct dbssl_sessions *ss)
{
    head(sb, "dbssl_sessions_checked", "gauge",
         "Whether the application's sessions were counted at the last check (0: not "
         "connected, no privilege or the query failed).");
    strbuf_printf(sb, "dbssl_sessions_checked %d\n", ss->state == DBSSL_SESSIONS_CHECKED);
    session_gauge(sb, ss, "dbssl_sessions_watched", "Watched sessions of the application.",
                  ss->total);
    session_gauge(sb, ss, "dbssl_sessions_encrypted", "Watched TCP sessions that use TLS.",
                  ss->encrypted);
    session_gauge(sb, ss, "dbssl_sessions_plaintext", "Watched TCP sessions without TLS.",
                  ss->plaintext);
    session_gauge(sb, ss, "dbssl_sessions_below_min_protocol",
                  "Watched sessions whose TLS version is below DB_SSL_MIN_PROTOCOL_VERSION.",
                  ss->below_min_protocol);
    session_gauge(sb, ss, "dbssl_sessions_without_client_certificate",
                  "Watched TLS sessions that sent no client certificate.",
                  ss->without_client_certificate);
    head(sb, "dbssl_sessions_tls_version", "gauge", "Watched TLS sessions by TLS version.");
    for (size_t i = 0; ss->state == DBSSL_SESSIONS_CHECKED && i < ss->n_versions; i++) {
        strbuf_append(sb, "dbssl_sessions_tls_version{version=\"");
        dbssl_metrics_escape(sb, ss->by_version[i].version);
        strbuf_printf(sb, "\"} %u\n", ss->by_version[i].n);
    }
}

struct dbssl_body dbssl_render_metrics(const struct dbssl_snapshot *s)
{
    const struct dbssl_tls_state *t = &s->tls;
    bool tls_on = t->connected && t->ssl_in_use;
    struct strbuf sb;

    strbuf_init(&sb);
    head(&sb, "dbssl_build_info", "gauge", "Version of dbssl; always 1.");
    strbuf_printf(&sb, "dbssl_build_info{version=\"%s\"} 1\n", DBSSL_VERSION);
    head(&sb, "dbssl_up", "gauge", "Whether the last health check connected to PostgreSQL.");
    strbuf_printf(&sb, "dbssl_up %d\n", t->connected ? 1 : 0);
    head(&sb, "dbssl_ssl_enabled", "gauge",
         "Whether the last health check's connection is encrypted with TLS.");
    strbuf_printf(&sb, "dbssl_ssl_enabled %d\n", tls_on ? 1 : 0);
    head(&sb, "dbssl_tls_info", "gauge", "Negotiated TLS version and cipher; always 1.");
    if (tls_on) {
        strbuf_append(&sb, "dbssl_tls_info{version=\"");
        dbssl_metrics_escape(&sb, t->protocol);
        strbuf_append(&sb, "\",cipher=\"");
        dbssl_metrics_escape(&sb, t->cipher);
        strbuf_append(&sb, "\"} 1\n");
    }
    certs(&sb, s, true);
    certs(&sb, s, false);
    sessions(&sb, &s->sessions);
    pgbouncer(&sb, &s->pgbouncer);
    hosts(&sb, s);
    head(&sb, "dbssl_checks_total", "counter", "Health checks by resulting status.");
    for (int i = DBSSL_HEALTH_HEALTHY; i <= DBSSL_HEALTH_UNHEALTHY; i++)
        strbuf_printf(&sb, "dbssl_checks_total{result=\"%s\"} %llu\n",
                      dbssl_health_status_name((enum dbssl_health_status)i), s->stats.checks[i]);
    histogram(&sb, &s->stats);
    head(&sb, "dbssl_reconnects_total", "counter",
         "Connection attempts after the first one (after a loss, a failure or a reload).");
    strbuf_printf(&sb, "dbssl_reconnects_total %llu\n", s->stats.reconnects);
    head(&sb, "dbssl_config_reloads_total", "counter",
         "Configuration reloads (SIGHUP or changed certificate files) by result.");
    strbuf_printf(&sb, "dbssl_config_reloads_total{result=\"success\"} %llu\n", s->reload.success);
    strbuf_printf(&sb, "dbssl_config_reloads_total{result=\"failure\"} %llu\n", s->reload.failure);
    head(&sb, "dbssl_config_last_reload_success_timestamp_seconds", "gauge",
         "When the settings in use were loaded, in seconds since the epoch.");
    strbuf_printf(&sb, "dbssl_config_last_reload_success_timestamp_seconds %lld\n",
                  s->reload.last_success_at);
    return dbssl_body_of(strbuf_take(&sb));
}

struct dbssl_body dbssl_render_http_metrics(const struct dbssl_http_metrics *m)
{
    struct strbuf sb;

    strbuf_init(&sb);
    head(&sb, "dbssl_http_connections", "gauge", "Connections the HTTP server holds now.");
    strbuf_printf(&sb, "dbssl_http_connections %llu\n", m->connections);
    head(&sb, "dbssl_http_connections_refused_total", "counter",
         "Connections refused because a connection limit (in total or per address) was reached.");
    strbuf_printf(&sb, "dbssl_http_connections_refused_total %llu\n", m->refused);
    head(&sb, "dbssl_http_connections_timed_out_total", "counter",
         "Connections closed by a deadline: a request that did not arrive in full in time, or an "
         "idle keep-alive connection.");
    strbuf_printf(&sb, "dbssl_http_connections_timed_out_total{phase=\"request\"} %llu\n",
                  m->request_timeouts);
    strbuf_printf(&sb, "dbssl_http_connections_timed_out_total{phase=\"idle\"} %llu\n",
                  m->idle_timeouts);
    return dbssl_body_of(strbuf_take(&sb));
}
