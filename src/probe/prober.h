/*
 * prober.h - the service behind GET /probe: a fixed pool of workers
 * (DB_PROBE_CONCURRENCY) that run probes for requests queued by the HTTP
 * server, which suspends each request's connection meanwhile, so that no
 * HTTP thread waits on a target and no request costs a thread.  Requests
 * beyond the pool wait in the queue, oldest first, each with its own
 * deadline: the scrape timeout Prometheus sends (X-Prometheus-Scrape-Timeout-
 * Seconds) minus a margin for the answer to travel, capped by the module's
 * timeout.  A request still queued at its deadline is answered as a timeout
 * without being probed; a black hole costs one worker for one budget, never
 * more, and never the health endpoints anything; once it timed out, it is
 * queued in a slow lane with workers of its own, so that it no longer holds
 * up the healthy targets either.
 *
 * Nothing here knows libmicrohttpd: a request is a struct the caller embeds
 * and a callback.
 */
#ifndef DBSSL_PROBER_H
#define DBSSL_PROBER_H

#include <stdbool.h>
#include <stddef.h>

#include "error_int.h"
#include "probe/probe_config.h"

/* Kept off the scrape timeout, for the answer to reach Prometheus in time (as blackbox). */
#define DBSSL_PROBE_MARGIN_MS 500
/* The HTTP server gives up on a request this long after its deadline (a backstop). */
#define DBSSL_PROBE_GRACE_MS 250

struct dbssl_prober;
struct dbssl_probe_cfgref; /* a reference-counted configuration (prober.c) */

/*
 * One /probe request.  The caller sets done and keeps the struct alive until
 * done was called or dbssl_prober_cancel() returned.  done is called once,
 * from a worker thread with the prober's lock held, after body is set: it
 * must only hand the request over (wake its connection), never call the
 * prober.
 */
struct dbssl_probe_request {
    void (*done)(struct dbssl_probe_request *req);
    /* the answer: the exposition, the caller's once done was called (free with
     * dbssl_probe_request_clear()) */
    char *body;
    size_t body_len;
    long long deadline_ms; /* CLOCK_MONOTONIC ms: when the probe gives up */
    /* the prober's */
    struct dbssl_probe_target target;
    char module[DBSSL_PROBE_NAME_MAX + 1];
    struct dbssl_probe_cfgref *cfg; /* held while queued */
    struct dbssl_probe_request *prev, *next;
    int state;
    int lane;
};

/*
 * Reads the file at path (dbssl_probe_config_load) and starts workers
 * threads.  NULL with err set (the file's error: DBSSL_ERR_CONFIG) on failure.
 */
struct dbssl_prober *dbssl_prober_start(const char *path, long workers,
                                        struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * Reads the file again and uses it for the requests that follow; on an
 * error keeps the one in use (and returns -1 with err).
 */
int dbssl_prober_reload(struct dbssl_prober *p, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Stops the workers (each finishes its probe, bounded by its deadline) and frees p.  NULL is fine.
 */
void dbssl_prober_stop(struct dbssl_prober *p);

/*
 * Reads a /probe request into req: target (the raw "target" parameter,
 * decoded), module (NULL: the default), and the budget scrape_timeout allows
 * (the header's value, NULL when absent), which sets req->deadline_ms.
 * 0: ready for dbssl_prober_queue().  Else the HTTP status to answer with and
 * msg: 400 (bad target, module or timeout), 403 (target not allowed), 503
 * (stopping).  Split from the queueing so that the caller can suspend the
 * request until its deadline before any worker may answer it.
 */
int dbssl_prober_prepare(struct dbssl_prober *p, struct dbssl_probe_request *req,
                         const char *target, const char *module, const char *scrape_timeout,
                         char *msg, size_t msglen) DBSSL_MUSTCHECK;

/*
 * Queues a prepared request: done will be called.  False (done never
 * called) when the prober is stopping.
 */
bool dbssl_prober_queue(struct dbssl_prober *p, struct dbssl_probe_request *req) DBSSL_MUSTCHECK;

/*
 * Withdraws req (prepared, queued or running): once it returns, done is
 * never called for it.  When done was already called, req->body holds the
 * answer.  Harmless when req was never prepared.
 */
void dbssl_prober_cancel(struct dbssl_prober *p, struct dbssl_probe_request *req);

/* The answer for a request whose probe did not finish in time (probe_success 0, timeout). */
char *dbssl_prober_timeout_body(const struct dbssl_probe_request *req, size_t *len);

/* Frees req->body; the request can be used again. */
void dbssl_probe_request_clear(struct dbssl_probe_request *req);

/* GET /probe/overview: the HTML page (probe_overview.c).  Caller frees. */
char *dbssl_prober_overview(struct dbssl_prober *p, size_t *len);

/* The Content-Security-Policy of that page (p's storage, for p's lifetime). */
const char *dbssl_prober_overview_csp(const struct dbssl_prober *p);

/* The prober's own counters for /metrics (exposition text).  Caller frees. */
char *dbssl_prober_metrics(struct dbssl_prober *p, size_t *len);

#endif
