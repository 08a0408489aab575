/*
 * http_route.h - which answer a request gets, decided from its method, path
 * and query alone: no sockets, no libmicrohttpd, no state, so that a fuzz
 * target (tests/fuzz/fuzz_http_route.c) can drive it directly.
 *
 *   GET|HEAD /health/database/ssl   the TLS report
 *   GET|HEAD /health/database       connectivity, version, latency
 *   GET|HEAD /health                liveness
 *   GET|HEAD /health/ready          readiness
 *   GET|HEAD /metrics               Prometheus text format
 *   GET|HEAD /probe                 a fleet probe (probe/prober.h): ?target=HOST[:PORT]&module=M
 *   GET|HEAD /probe/overview        the last probe of each target as an HTML page
 *   GET|HEAD / and /status          the HTML status page (render_html.c)
 *   any other method on those       405 with Allow: GET, HEAD
 *   anything else                   404
 *
 * "?refresh=1" (or "true") asks for a fresh check first on the endpoints
 * that answer from a check (ssl, database, ready, the status page).
 */
#ifndef DBSSL_HTTP_ROUTE_H
#define DBSSL_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "dbssl/error.h" /* DBSSL_MUSTCHECK */

enum dbssl_http_endpoint {
    DBSSL_EP_NOT_FOUND = 0,
    DBSSL_EP_NOT_ALLOWED,
    DBSSL_EP_SSL,
    DBSSL_EP_DATABASE,
    DBSSL_EP_ALIVE,
    DBSSL_EP_READY,
    DBSSL_EP_METRICS,
    DBSSL_EP_PROBE,
    DBSSL_EP_PROBE_OVERVIEW,
    DBSSL_EP_STATUS, /* the HTML status page */
};

struct dbssl_http_route {
    enum dbssl_http_endpoint endpoint;
    bool refresh; /* wait for a fresh check before answering */
};

/*
 * method: the request method (case-sensitive, as HTTP says); path: the
 * decoded path without the query, as libmicrohttpd gives it; query: the raw
 * query string after '?' (NULL or "" when there is none), percent-encoded as
 * sent.  NULL method or path is a 404.
 */
struct dbssl_http_route dbssl_http_route(const char *method, const char *path, const char *query);

/*
 * Whether a raw query asks for a refresh: its first "refresh" parameter (name
 * compared without case, '+' and %XX decoded) is "1" or "true".
 */
bool dbssl_http_query_refresh(const char *query);

/*
 * The first parameter called name (compared without case) of a raw query,
 * decoded ('+' and %XX) into out (len bytes).  False when there is none, or
 * when its value does not fit or holds a NUL byte (%00): the caller then
 * treats the request as malformed rather than read a cut value.
 */
bool dbssl_http_query_param(const char *query, const char *name, char *out,
                            size_t len) DBSSL_MUSTCHECK;

#endif
