/*
 * http.c - the health endpoints over libmicrohttpd (see http.h).
 *
 * Event-driven: libmicrohttpd's epoll loop on one thread per core (a
 * thread pool), no thread per connection, so thousands of idle keep-alive
 * or slow connections cost descriptors and a few kilobytes each, never a
 * thread, and cannot crowd out a probe.  A ?refresh=1 request does not hold
 * a thread while its check runs: its connection is suspended and resumed
 * by the check's completion (from the checker thread) or by its deadline
 * (DB_CONNECT_TIMEOUT + 1 s, then it answers with the previous snapshot and
 * X-Dbssl-Refresh: timed-out).
 *
 * Deadlines (http_conns.c, enforced by this file's timer thread):
 *   REQUEST_TIMEOUT_S  a request must arrive in full (line and headers)
 *                      within this of the accept, or of its request line
 *                      on a kept-alive connection: slowloris clients that
 *                      trickle bytes are cut, since they are never idle
 *   IDLE_TIMEOUT_S     a kept-alive connection with no new request line
 *                      within this of the last answer is closed
 * Limits (http_listen.c): connections, per address and backlog.
 *
 * Answers (http_answers.c) are the snapshot's pre-rendered bytes in
 * responses built once per event-loop thread, snapshot and second, and
 * queued by reference; a response holds a reference to its snapshot until
 * libmicrohttpd frees it, so a new snapshot can be published while an old
 * one is still being sent.
 *
 * libmicrohttpd's messages go through dbssl's logger (so LOG_FORMAT=json
 * stays JSON), each kind at most twice a minute; refused connections are
 * only counted (/metrics) and summarised in one line a minute at most.
 */
#include "http.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "http_admit.h"
#include "http_answers.h"
#include "http_conns.h"
#include "http_listen.h"
#include "http_loop.h"
#include "http_route.h"
#include "log.h"
#include "probe/prober.h"
#include "render.h"
#include "throttle.h"
#include "util.h"

#define REQUEST_TIMEOUT_S 5
/* above the usual scrape intervals (15 s to 60 s), so a scraper's connection is reused */
#define IDLE_TIMEOUT_S 75
/* libmicrohttpd's own inactivity timeout: only a backstop for a client that
 * stops reading its answer; the deadlines above come first */
#define INACTIVITY_TIMEOUT_S (IDLE_TIMEOUT_S + REQUEST_TIMEOUT_S)
/* per connection: the request and the answer's headers (bodies are not
 * copied).  libmicrohttpd zeroes all of it after every request, so it is
 * per-request work and, with thousands of connections, cache misses: 16 KiB
 * cost 1 µs more CPU per request than 8 KiB at wrk -c1024 (BENCHMARKS.md).
 * 8 KiB takes a request with about 4 KB of headers (a browser's, with 3.5
 * KB of cookies: tests/unit/test_http.c); a bigger one is answered 431. */
#define CONNECTION_MEMORY_BYTES (8 * 1024)
#define LOG_WINDOW_MS           60000LL
#define TICK_MS                 1000LL /* the timer's longest sleep */
#define MIN_SLEEP_MS            50LL   /* deadlines closer than this are batched */

enum refresh_outcome { REFRESH_NONE = 0, REFRESH_DONE, REFRESH_TIMED_OUT };

/* Per connection, from accept to close (libmicrohttpd's socket context). */
struct http_conn {
    struct dbssl_http_conn track; /* phase and deadline */
    struct MHD_Connection *mhd;
    struct dbssl_http *server;
    struct dbssl_refresh_waiter waiter;
    atomic_int outcome;               /* enum refresh_outcome, written by whoever resumed */
    struct dbssl_http_peer peer;      /* its place in the connection limits */
    struct dbssl_http_worker *worker; /* the event-loop thread serving it */
    /* the current request, touched only by the connection's thread */
    unsigned calls;
    bool waited;
    char *query; /* raw query string, or NULL */
    /* GET /probe: the request handed to the prober while the connection is suspended */
    struct dbssl_probe_request probe;
    bool probing;
};

struct dbssl_http {
    struct dbssl_http_loop *loop;
    int listen_fd;
    struct dbssl_board *board;
    _Atomic(struct dbssl_checker *) checker; /* attached once it runs */
    _Atomic(struct dbssl_prober *) prober;   /* GET /probe, when DB_PROBE_CONFIG is set */
    struct dbssl_http_conns *conns;
    struct dbssl_http_answers *answers;
    struct dbssl_http_admit *admit;
    struct dbssl_http_limits limits;
    pthread_t timer;
    bool timer_started;
    /* no_more_waits, and suspending: never held by the logger, so that a
     * libmicrohttpd message logged under its own lock cannot deadlock */
    pthread_mutex_t suspend_mu;
    bool no_more_waits;
    /* stopping, the throttle, the refusal report; no libmicrohttpd call under it */
    pthread_mutex_t mu;
    pthread_cond_t wake;
    bool stopping;
    struct dbssl_throttle throttle;
    unsigned long long refused_reported;
    long long refused_report_at;
    char address[ADDR_BUF];
};

#define TEXT "text/plain; charset=utf-8"

/*
 * /metrics: the text after the snapshot's bytes, made when one is answered:
 * the server's own counters, then the probes' (when a prober is attached;
 * without them, out of memory, the rest still answers).
 */
static struct dbssl_body live_metrics(void *arg)
{
    struct dbssl_http *h = arg;
    struct dbssl_http_conns_stats st = dbssl_http_conns_stats(h->conns);
    struct dbssl_http_metrics hm = {st.open, dbssl_http_admit_stats(h->admit).refused,
                                    st.request_timeouts, st.idle_timeouts};
    struct dbssl_body tail = dbssl_render_http_metrics(&hm);
    struct dbssl_prober *p = atomic_load(&h->prober);

    if (tail.data != NULL && p != NULL) {
        size_t n = 0;
        char *probes = dbssl_prober_metrics(p, &n);
        char *both = probes ? xasprintf("%s%s", tail.data, probes) : NULL;
        if (both != NULL) {
            free(tail.data);
            tail.data = both;
            tail.len += n;
        }
        free(probes);
    }
    return tail;
}

/* ---- ?refresh=1: suspend, resume on completion or deadline ------------- */

static void resume(struct http_conn *hc, enum refresh_outcome outcome)
{
    atomic_store(&hc->outcome, outcome);
    MHD_resume_connection(hc->mhd);
    /* its thread may be asleep with libmicrohttpd's signal already cleared */
    dbssl_http_worker_wake(hc->worker);
}

/* From the checker thread (its lock held): the check covering us finished. */
static void on_refresh_done(struct dbssl_refresh_waiter *w, bool fresh)
{
    struct http_conn *hc = (struct http_conn *)((char *)w - offsetof(struct http_conn, waiter));

    if (dbssl_http_conns_wake(&hc->track))
        resume(hc, fresh ? REFRESH_DONE : REFRESH_TIMED_OUT);
}

/* From the timer thread (the set's lock held): the deadline came first. */
static void on_wait_expired(struct dbssl_http_conn *c, void *arg)
{
    (void)arg;
    resume((struct http_conn *)c, REFRESH_TIMED_OUT);
}

/*
 * Suspends the connection until a fresh check; false when the server or the
 * checker is stopping (then answer at once, timed out).
 */
static bool wait_for_check(struct dbssl_http *h, struct http_conn *hc, struct dbssl_checker *c)
{
    pthread_mutex_lock(&h->suspend_mu);
    if (h->no_more_waits) {
        pthread_mutex_unlock(&h->suspend_mu);
        return false;
    }
    /* suspended before anyone can resume it; WAITING under suspend_mu, so
     * that dbssl_http_stop() sees it and resumes it before stopping the daemon */
    MHD_suspend_connection(hc->mhd);
    dbssl_http_conns_wait(&hc->track, dbssl_mono_coarse_ms() + dbssl_checker_refresh_wait_ms(c));
    pthread_mutex_unlock(&h->suspend_mu);
    hc->waited = true;
    hc->waiter.done = on_refresh_done;
    if (!dbssl_checker_refresh_async(c, &hc->waiter) && dbssl_http_conns_wake(&hc->track))
        resume(hc, REFRESH_TIMED_OUT);
    return true;
}

/* ---- GET /probe: suspend while a prober works, resume on its answer ---- */

/* From a prober worker (its lock held): the probe's answer is in req->body. */
static void on_probe_done(struct dbssl_probe_request *req)
{
    struct http_conn *hc = (struct http_conn *)((char *)req - offsetof(struct http_conn, probe));

    if (dbssl_http_conns_wake(&hc->track))
        resume(hc, REFRESH_DONE);
}

/* Withdraws the connection's probe, if any; its answer (if it came) is kept in hc->probe. */
static void probe_withdraw(struct dbssl_http *h, struct http_conn *hc)
{
    struct dbssl_prober *p = atomic_load(&h->prober);

    if (hc->probing && p != NULL)
        dbssl_prober_cancel(p, &hc->probe);
    hc->probing = false;
}

/* body (freed here) as type; an HTML page (csp: its Content-Security-Policy) with its headers */
static enum MHD_Result answer_typed(struct MHD_Connection *conn, unsigned code, const char *type,
                                    const char *csp, char *body, size_t len)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (body == NULL)
        return MHD_NO;
    r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (csp != NULL)
        dbssl_http_html_headers(r, csp);
    ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned code, const char *msg)
{
    char *body = xasprintf("%s\n", msg);

    return answer_typed(conn, code, TEXT, NULL, body, body ? strlen(body) : 0);
}

/*
 * GET /probe: the first call hands the request to the prober and suspends
 * the connection until the answer or the deadline; the call after the
 * resume answers.
 */
static enum MHD_Result handle_probe(struct dbssl_http *h, struct http_conn *hc,
                                    struct MHD_Connection *conn)
{
    struct dbssl_prober *p = atomic_load(&h->prober);
    char target[DBSSL_PROBE_TARGET_MAX + 2], module[DBSSL_PROBE_NAME_MAX + 2], msg[768];
    bool have_module;
    int status;

    if (hc->probing) {
        char *body;
        size_t len;
        probe_withdraw(h, hc);
        body = hc->probe.body;
        len = hc->probe.body_len;
        hc->probe.body = NULL;
        if (body == NULL)
            body = dbssl_prober_timeout_body(&hc->probe, &len);
        dbssl_probe_request_clear(&hc->probe);
        return answer_typed(conn, MHD_HTTP_OK, DBSSL_HTTP_PROM, NULL, body, len);
    }
    if (p == NULL)
        return answer_text(conn, MHD_HTTP_NOT_FOUND,
                           "no probe modules: set DB_PROBE_CONFIG to a probe file "
                           "(docs/fleet.md) and restart dbssl serve");
    if (!dbssl_http_query_param(hc->query, "target", target, sizeof(target)))
        return answer_text(conn, MHD_HTTP_BAD_REQUEST,
                           "missing or invalid target: expected /probe?target=HOST[:PORT]"
                           "[&module=NAME]");
    have_module = dbssl_http_query_param(hc->query, "module", module, sizeof(module));
    status = dbssl_prober_prepare(
        p, &hc->probe, target, have_module ? module : NULL,
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Prometheus-Scrape-Timeout-Seconds"),
        msg, sizeof(msg));
    if (status != 0)
        return answer_text(conn, (unsigned)status, msg);
    hc->probe.done = on_probe_done;
    pthread_mutex_lock(&h->suspend_mu);
    if (h->no_more_waits) {
        pthread_mutex_unlock(&h->suspend_mu);
        dbssl_prober_cancel(p, &hc->probe);
        return answer_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "the server is stopping");
    }
    /* suspended, with its deadline, before any worker can answer it */
    MHD_suspend_connection(conn);
    dbssl_http_conns_wait(&hc->track, hc->probe.deadline_ms + DBSSL_PROBE_GRACE_MS);
    hc->probing = true;
    pthread_mutex_unlock(&h->suspend_mu);
    if (!dbssl_prober_queue(p, &hc->probe) && dbssl_http_conns_wake(&hc->track))
        resume(hc, REFRESH_TIMED_OUT);
    return MHD_YES;
}

static enum MHD_Result handle_overview(struct dbssl_http *h, struct MHD_Connection *conn)
{
    struct dbssl_prober *p = atomic_load(&h->prober);
    size_t len = 0;
    char *body;

    if (p == NULL)
        return answer_text(conn, MHD_HTTP_NOT_FOUND,
                           "no probe modules: set DB_PROBE_CONFIG (docs/fleet.md)");
    body = dbssl_prober_overview(p, &len);
    return answer_typed(conn, MHD_HTTP_OK, DBSSL_HTTP_HTML, dbssl_prober_overview_csp(p), body,
                        len);
}

/* ---- libmicrohttpd callbacks ------------------------------------------- */

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
    struct dbssl_http_worker *w = cls;
    struct dbssl_http *h = w->arg;
    struct http_conn *hc = *req_cls;
    struct dbssl_checker *checker;
    struct dbssl_http_route route;
    const char *refresh = NULL;

    (void)version;
    (void)upload_data;
    if (hc == NULL)
        return MHD_NO; /* not tracked (out of memory at accept): close */
    /* the headers are in: no request deadline from here on.  Answering on
     * this first call would make libmicrohttpd close the connection (it has
     * not read the request completely): answer on the next. */
    if (hc->calls++ == 0) {
        dbssl_http_conns_busy(&hc->track);
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* a body is ignored */
        return MHD_YES;
    }
    route = dbssl_http_route(method, url, hc->query);
    if (route.endpoint == DBSSL_EP_PROBE)
        return handle_probe(h, hc, conn);
    if (route.endpoint == DBSSL_EP_PROBE_OVERVIEW)
        return handle_overview(h, conn);
    checker = atomic_load(&h->checker);
    if (route.refresh && checker != NULL) {
        if (!hc->waited && wait_for_check(h, hc, checker))
            return MHD_YES; /* called again once resumed */
        refresh = atomic_load(&hc->outcome) == REFRESH_DONE ? "done" : "timed-out";
    }
    return dbssl_http_answer(h->answers, w->index, conn, route.endpoint, refresh);
}

/* The request line arrived: its raw query is kept for the route. */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct dbssl_http *h = ((struct dbssl_http_worker *)cls)->arg;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct http_conn *hc = ci ? ci->socket_context : NULL;
    const char *q;

    if (hc == NULL)
        return NULL;
    dbssl_http_conns_request_line(h->conns, &hc->track, dbssl_mono_coarse_ms());
    free(hc->query);
    hc->query = NULL;
    q = strchr(uri, '?');
    if (q != NULL)
        hc->query = xstrdup(q + 1); /* NULL on out-of-memory: no refresh, still an answer */
    return hc;
}

/* A request ended (answered, or its connection closed): the connection is idle. */
static void on_request_done(void *cls, struct MHD_Connection *conn, void **req_cls,
                            enum MHD_RequestTerminationCode toe)
{
    struct dbssl_http *h = ((struct dbssl_http_worker *)cls)->arg;
    struct http_conn *hc = *req_cls;
    struct dbssl_checker *checker = atomic_load(&h->checker);

    (void)conn;
    (void)toe;
    if (hc == NULL)
        return;
    if (hc->waited && checker != NULL)
        dbssl_checker_refresh_cancel(checker, &hc->waiter);
    probe_withdraw(h, hc);
    dbssl_probe_request_clear(&hc->probe);
    hc->calls = 0;
    hc->waited = false;
    atomic_store(&hc->outcome, REFRESH_NONE);
    free(hc->query);
    hc->query = NULL;
    dbssl_http_conns_idle(h->conns, &hc->track, dbssl_mono_coarse_ms());
    *req_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct dbssl_http_worker *w = cls;
    struct dbssl_http *h = w->arg;
    struct http_conn *hc = *socket_context;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        hc = calloc(1, sizeof(*hc));
        if (hc == NULL || ci == NULL) {
            free(hc);
            *socket_context = NULL; /* the handler closes it; the loop gives its place back */
            return;
        }
        hc->mhd = conn;
        hc->server = h;
        hc->worker = w;
        /* the place the loop took for it is ours now, given back on close */
        hc->peer = w->adding;
        w->adopted = true;
        atomic_init(&hc->outcome, REFRESH_NONE);
        dbssl_http_conns_add(h->conns, &hc->track, ci->connect_fd, dbssl_mono_coarse_ms());
        *socket_context = hc;
        return;
    }
    if (hc == NULL)
        return;
    /* before libmicrohttpd closes the descriptor: the sweep may no longer touch it */
    dbssl_http_conns_remove(h->conns, &hc->track);
    if (hc->waited && atomic_load(&h->checker) != NULL)
        dbssl_checker_refresh_cancel(atomic_load(&h->checker), &hc->waiter);
    probe_withdraw(h, hc);
    dbssl_probe_request_clear(&hc->probe);
    dbssl_http_admit_release(h->admit, &hc->peer);
    free(hc->query);
    free(hc);
    *socket_context = NULL;
}

/* ---- libmicrohttpd's messages through dbssl's logger -------------------- */

static void log_message(const char *text, unsigned long long repeats)
{
    char n[32];

    snprintf(n, sizeof(n), "%llu", repeats);
    dbssl_log(DBSSL_LOG_WARN, "http_server", "message", text, "repeated", repeats > 0 ? n : NULL,
              "window", repeats > 0 ? "60s" : NULL, NULL);
}

static void emit_repeats(const void *key, const char *text, unsigned long long repeats, void *arg)
{
    (void)key;
    (void)arg;
    log_message(text, repeats);
}

static void on_mhd_message(void *cls, const char *fmt, va_list ap) DBSSL_PRINTF(2, 0);
static void on_mhd_message(void *cls, const char *fmt, va_list ap)
{
    struct dbssl_http *h = cls;
    char text[DBSSL_THROTTLE_TEXT];
    unsigned long long unreported;
    size_t n;
    bool now;

    vsnprintf(text, sizeof(text), fmt, ap);
    n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = '\0';
    pthread_mutex_lock(&h->mu);
    now = dbssl_throttle_hit(&h->throttle, fmt, text, dbssl_mono_coarse_ms(), &unreported);
    pthread_mutex_unlock(&h->mu);
    if (unreported > 0)
        log_message(text, unreported);
    if (now)
        log_message(text, 0);
}

/* Once a minute at most: how many connections were refused since the last line. */
static void report_refused(struct dbssl_http *h, long long now, bool final)
{
    unsigned long long total = dbssl_http_admit_stats(h->admit).refused;
    char count[32], all[32], limit[32], per[32];

    if (total == h->refused_reported || (!final && now < h->refused_report_at))
        return;
    snprintf(count, sizeof(count), "%llu", total - h->refused_reported);
    snprintf(all, sizeof(all), "%llu", total);
    snprintf(limit, sizeof(limit), "%u", h->limits.connections);
    snprintf(per, sizeof(per), "%u", h->limits.per_address);
    dbssl_log(DBSSL_LOG_WARN, "http_connections_refused", "count", count, "total", all,
              "connection_limit", limit, "per_address_limit", per, "hint",
              "Too many connections are open at once (from one address, or in total); each "
              "refused client may retry.  Look for a client that opens connections without "
              "closing them.",
              NULL);
    h->refused_reported = total;
    h->refused_report_at = now + LOG_WINDOW_MS;
}

/* ---- the timer: deadlines and log summaries ----------------------------- */

static void *timer_main(void *arg)
{
    struct dbssl_http *h = arg;

    pthread_mutex_lock(&h->mu);
    while (!h->stopping) {
        long long now, next;
        struct timespec until;

        pthread_mutex_unlock(&h->mu);
        now = dbssl_mono_coarse_ms();
        next = dbssl_http_conns_sweep(h->conns, now, false);
        if (next > now + TICK_MS)
            next = now + TICK_MS;
        if (next < now + MIN_SLEEP_MS)
            next = now + MIN_SLEEP_MS;
        pthread_mutex_lock(&h->mu);
        report_refused(h, now, false);
        dbssl_throttle_flush(&h->throttle, now, emit_repeats, NULL);
        until.tv_sec = (time_t)(next / 1000);
        until.tv_nsec = (long)(next % 1000) * 1000000L;
        if (!h->stopping)
            (void)pthread_cond_timedwait(&h->wake, &h->mu, &until);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static int init_sync(struct dbssl_http *h)
{
    pthread_condattr_t attr;
    int rc = -1;

    if (pthread_condattr_init(&attr) != 0)
        return -1;
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
        pthread_cond_init(&h->wake, &attr) == 0) {
        pthread_mutex_init(&h->mu, NULL);
        pthread_mutex_init(&h->suspend_mu, NULL);
        rc = 0;
    }
    pthread_condattr_destroy(&attr);
    return rc;
}

/* ---- start and stop ----------------------------------------------------- */

static void log_limits(const struct dbssl_http *h)
{
    char conns[32], per[32], files[32], threads[32];

    snprintf(conns, sizeof(conns), "%u", h->limits.connections);
    snprintf(per, sizeof(per), "%u", h->limits.per_address);
    snprintf(files, sizeof(files), "%lu", h->limits.open_files);
    snprintf(threads, sizeof(threads), "%u", h->limits.threads);
    if (h->limits.reduced)
        dbssl_log(DBSSL_LOG_WARN, "http_connection_limit_reduced", "connection_limit", conns,
                  "per_address_limit", per, "open_files_limit", files, "hint",
                  "The open-files limit is low: raise it (ulimit -n, or LimitNOFILE= in the "
                  "systemd unit) so that the health endpoint can hold more connections.",
                  NULL);
    else
        dbssl_log(DBSSL_LOG_INFO, "http_limits", "connection_limit", conns, "per_address_limit",
                  per, "threads", threads, NULL);
}

/* The daemon of one event-loop thread (http_loop.c runs it); its callbacks get the worker. */
static struct MHD_Daemon *start_daemon(void *arg, struct dbssl_http_worker *w)
{
    struct dbssl_http *h = arg;
    unsigned flags = MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

    /* one option a line; the limits are http_admit.c's (exact across
     * threads), libmicrohttpd's own only bounds what one thread holds */
    // clang-format off
    return MHD_start_daemon(flags, 0, NULL, NULL, handle, w,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_message, h,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)INACTIVITY_TIMEOUT_S,
        MHD_OPTION_CONNECTION_LIMIT, h->limits.connections,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY_BYTES,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, w,
        MHD_OPTION_NOTIFY_COMPLETED, on_request_done, w,
        MHD_OPTION_URI_LOG_CALLBACK, on_request_line, w,
        MHD_OPTION_END);
    // clang-format on
}

struct dbssl_http *dbssl_http_start(const char *addr, struct dbssl_board *board,
                                    struct dbssl_checker *checker, struct dbssl_error *err)
{
    struct dbssl_http *h = calloc(1, sizeof(*h));
    bool v6 = false;

    if (h == NULL || init_sync(h) != 0) {
        free(h);
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    h->listen_fd = -1;
    h->board = board;
    atomic_init(&h->checker, checker);
    atomic_init(&h->prober, NULL);
    dbssl_throttle_init(&h->throttle, LOG_WINDOW_MS);
    snprintf(h->address, sizeof(h->address), "%s", addr);
    h->limits = dbssl_http_limits_get();
    h->conns = dbssl_http_conns_new(REQUEST_TIMEOUT_S * 1000LL, IDLE_TIMEOUT_S * 1000LL,
                                    on_wait_expired, h);
    h->answers = dbssl_http_answers_new(board, h->limits.threads, live_metrics, h);
    h->admit = dbssl_http_admit_new(h->limits.connections, h->limits.per_address);
    if (h->conns == NULL || h->answers == NULL || h->admit == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        goto fail;
    }
    /* a backlog as deep as the limit: a burst of connects waits, not refused */
    if ((h->listen_fd = dbssl_http_listen(addr, (int)h->limits.connections, &v6, err)) < 0)
        goto fail;
    h->loop = dbssl_http_loop_start(h->listen_fd, h->limits.threads, h->admit, start_daemon, h);
    if (h->loop == NULL) {
        dbssl_error_set(err, DBSSL_ERR_INTERNAL, NULL, "could not start the HTTP server on \"%s\"",
                        addr);
        goto fail;
    }
    if (pthread_create(&h->timer, NULL, timer_main, h) != 0) {
        dbssl_error_set(err, DBSSL_ERR_INTERNAL, NULL, "could not start the HTTP timer thread");
        goto fail;
    }
    h->timer_started = true;
    log_limits(h);
    return h;
fail:
    dbssl_http_stop(h);
    return NULL;
}

void dbssl_http_attach_checker(struct dbssl_http *h, struct dbssl_checker *checker)
{
    atomic_store(&h->checker, checker);
}

void dbssl_http_attach_prober(struct dbssl_http *h, struct dbssl_prober *prober)
{
    atomic_store(&h->prober, prober);
}

const char *dbssl_http_address(const struct dbssl_http *h)
{
    return h->address;
}

void dbssl_http_stop(struct dbssl_http *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->suspend_mu);
    h->no_more_waits = true; /* no connection is suspended from now on */
    pthread_mutex_unlock(&h->suspend_mu);
    pthread_mutex_lock(&h->mu);
    h->stopping = true;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->mu);
    if (h->timer_started)
        pthread_join(h->timer, NULL);
    if (h->loop != NULL) {
        /* libmicrohttpd must not be stopped with suspended connections:
         * resume them all (they answer timed-out) */
        (void)dbssl_http_conns_sweep(h->conns, dbssl_mono_coarse_ms(), true);
        dbssl_http_loop_stop(h->loop);
    }
    if (h->listen_fd >= 0)
        close(h->listen_fd);
    /* no thread answers any more: the cached answers can go */
    dbssl_http_answers_free(h->answers);
    if (h->admit != NULL)
        report_refused(h, dbssl_mono_coarse_ms(), true);
    dbssl_throttle_flush(&h->throttle, dbssl_mono_coarse_ms() + LOG_WINDOW_MS, emit_repeats, NULL);
    dbssl_http_conns_free(h->conns);
    dbssl_http_admit_free(h->admit);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->mu);
    pthread_mutex_destroy(&h->suspend_mu);
    free(h);
}
