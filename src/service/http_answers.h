/*
 * http_answers.h - the answer to each endpoint (status, body, headers) as a
 * libmicrohttpd response, and a cache of them per event-loop thread.
 *
 * An answer that depends only on the current snapshot and the second (the
 * Date header) is built once per thread, snapshot and second and then
 * queued by reference for every request: no allocation, header copy or
 * clock formatting per request.  /metrics (it carries live counters) and
 * ?refresh=1 answers (they carry X-Dbssl-Refresh) are built per request.
 */
#ifndef DBSSL_HTTP_ANSWERS_H
#define DBSSL_HTTP_ANSWERS_H

#include <microhttpd.h>

#include "health.h"
#include "http_route.h"
#include "render.h"

struct dbssl_http_answers;

#define DBSSL_HTTP_JSON "application/json"
#define DBSSL_HTTP_PROM "text/plain; version=0.0.4; charset=utf-8"
#define DBSSL_HTTP_HTML "text/html; charset=utf-8"

/*
 * The headers of an HTML page: csp (render.h's dbssl_html_csp()) lets
 * nothing load or run but the page's own style; no sniffing, no referrer.
 * r NULL is passed through; returns r.
 */
struct MHD_Response *dbssl_http_html_headers(struct MHD_Response *r, const char *csp);

/*
 * The live part of /metrics (the HTTP server's counters and whatever else
 * changes between checks), rendered when one is answered and sent after the
 * snapshot's bytes; the answer frees data.  data NULL: out of memory.
 */
typedef struct dbssl_body (*dbssl_http_live_fn)(void *arg);

/*
 * A cache for `threads` event-loop threads (numbered from 0) answering from
 * board (which must outlive it).  NULL on out-of-memory.
 */
struct dbssl_http_answers *dbssl_http_answers_new(struct dbssl_board *board, unsigned threads,
                                                  dbssl_http_live_fn live, void *live_arg);

/* Frees the cache; only once libmicrohttpd stopped (no thread uses it).  NULL is fine. */
void dbssl_http_answers_free(struct dbssl_http_answers *a);

/*
 * Queues the answer to ep on conn, from the cache of the calling thread
 * (`thread`: only that thread may pass its number) when it can; refresh (or
 * NULL) is the X-Dbssl-Refresh value of a ?refresh=1 request.  Returns what
 * MHD_queue_response() returned (MHD_NO on out-of-memory).
 */
enum MHD_Result dbssl_http_answer(struct dbssl_http_answers *a, unsigned thread,
                                  struct MHD_Connection *conn, enum dbssl_http_endpoint ep,
                                  const char *refresh);

#endif
