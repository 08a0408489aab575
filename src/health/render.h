/*
 * render.h - the bodies of a health snapshot, rendered once per snapshot
 * (never per request): the JSON of GET /health/database/ssl and GET
 * /health/database (render_json.c) and GET /metrics in the Prometheus text
 * exposition format 0.0.4 (render_metrics.c).  Metric names follow
 * blackbox_exporter / ssl_exporter conventions so existing alert rules
 * translate (docs/alerts.yml uses them).
 *
 * dbssl_render_snapshot() is the one place that fills a snapshot's bodies:
 * a new body (an HTML status page) is one more renderer called there and
 * one more struct dbssl_body in the snapshot (health.h).
 */
#ifndef DBSSL_RENDER_H
#define DBSSL_RENDER_H

#include <stddef.h>

#include "error_int.h"
#include "health.h"
#include "util.h"

/*
 * Renders every body of s, which the status rules built and nobody shares
 * yet (dbssl_snapshot_new); after this s is immutable.  -1 on out-of-memory.
 */
int dbssl_render_snapshot(struct dbssl_snapshot *s, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* text (allocated, or NULL after out-of-memory) as a body, which takes it over. */
struct dbssl_body dbssl_body_of(char *text);

/* The bodies one by one (caller frees data); data NULL on out-of-memory. */
struct dbssl_body dbssl_render_ssl_json(const struct dbssl_snapshot *s);
struct dbssl_body dbssl_render_db_json(const struct dbssl_snapshot *s);
struct dbssl_body dbssl_render_metrics(const struct dbssl_snapshot *s);

/*
 * The HTTP server's own counters.  They change between checks, so they are
 * not in the snapshot: the server appends this text to the snapshot's bytes
 * on each /metrics answer.
 */
struct dbssl_http_metrics {
    unsigned long long connections;      /* held now */
    unsigned long long refused;          /* refused at the connection limits */
    unsigned long long request_timeouts; /* closed: a request did not arrive in full in time */
    unsigned long long idle_timeouts;    /* closed: idle keep-alive past its timeout */
};

/* The exposition of the HTTP counters (caller frees data), data NULL on out-of-memory. */
struct dbssl_body dbssl_render_http_metrics(const struct dbssl_http_metrics *m);

/* Appends v escaped as a label value: backslash, double quote and newline. */
void dbssl_metrics_escape(struct strbuf *sb, const char *v);

#endif
