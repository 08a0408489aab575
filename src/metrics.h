/*
 * metrics.h - GET /metrics in the Prometheus text exposition format 0.0.4,
 * rendered once per snapshot like the JSON bodies.  Names follow
 * blackbox_exporter / ssl_exporter conventions so existing alert rules
 * translate (docs/alerts.yml uses them).
 */
#ifndef DBSSL_METRICS_H
#define DBSSL_METRICS_H

#include <stddef.h>

#include "health.h"
#include "util.h"

/* The exposition of snapshot s (caller frees), or NULL on out-of-memory. */
char *dbssl_metrics_render(const struct dbssl_snapshot *s, size_t *len);

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

/* The exposition of the HTTP counters (caller frees), or NULL on out-of-memory. */
char *dbssl_metrics_render_http(const struct dbssl_http_metrics *m, size_t *len);

/* Appends v escaped as a label value: backslash, double quote and newline. */
void dbssl_metrics_escape(struct strbuf *sb, const char *v);

#endif
