/*
 * probe_overview.h - GET /probe/overview: the last result of every target as
 * one self-contained HTML page, worst first, for a person without Grafana.
 * No script, no image, font or link to load; the one inline style sheet is
 * allowed by its hash in the page's Content-Security-Policy, so the page
 * runs under default-src 'none'.
 */
#ifndef DBSSL_PROBE_OVERVIEW_H
#define DBSSL_PROBE_OVERVIEW_H

#include <stddef.h>

#include "health.h"
#include "probe/probe_cache.h"

/* How often the page reloads itself (a meta refresh, which needs no script), in seconds. */
#define DBSSL_PROBE_OVERVIEW_REFRESH_S 30

/*
 * The page for the n summaries v (already worst first) at now; config_path
 * is named in the page.  Caller frees; NULL on out of memory.
 */
char *dbssl_probe_overview_html(const struct dbssl_probe_summary *v, size_t n, long long now,
                                const char *config_path, size_t *len);

/*
 * The Content-Security-Policy header value the page needs, into out: the
 * same every time (the hash of the page's one style sheet), so its owner
 * (the prober) makes it once.
 */
void dbssl_probe_overview_csp(char out[DBSSL_HTML_CSP_LEN]);

#endif
