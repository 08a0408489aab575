/*
 * http_answers.c - each endpoint's answer, and the per-thread cache of
 * prebuilt answers (see http_answers.h).
 *
 * Why a cache: building a libmicrohttpd response per request costs a
 * calloc, a mutex and two string copies per header, and libmicrohttpd's own
 * Date header a gmtime_r() (glibc takes a process-wide lock in it, which
 * the event-loop threads then contend for).  Under load these were the top
 * user-space entries of the profile (BENCHMARKS.md).  A response is
 * reference-counted by libmicrohttpd and may be queued on any number of
 * connections, so each event-loop thread keeps one per endpoint, with the
 * Date header of the current second, and rebuilds it when the second or the
 * board's snapshot changes.
 *
 * A slot belongs to one event-loop thread (http_loop.c): only that thread
 * reads or replaces its responses, so there is no lock.  A replaced response is released with
 * MHD_destroy_response(), which drops our reference only: connections still
 * sending it keep it (and its snapshot) alive until they are done.
 */
#include "http_answers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

/* the endpoints answered here (by enum value; /probe and /probe/overview are http.c's own) */
#define N_ENDPOINTS (DBSSL_EP_STATUS + 1)

static const char BODY_NOT_FOUND[] = "{\"error\": \"not_found\", \"message\": \"no such "
                                     "endpoint\"}\n";
static const char BODY_NOT_ALLOWED[] = "{\"error\": \"method_not_allowed\", \"message\": "
                                       "\"only GET and HEAD are allowed\"}\n";
static const char BODY_ALIVE[] = "{\"status\": \"alive\"}\n";
static const char BODY_NO_SNAPSHOT[] = "{\"status\": \"unhealthy\", \"error\": {\"class\": "
                                       "\"other\", \"message\": \"no check has run yet\"}}\n";

struct cached {
    struct MHD_Response *r; /* our reference, or NULL: not built for this key */
    unsigned code;
};

struct slot {
    /* the key of the responses below: the second of their Date, the snapshot */
    long long second;
    unsigned long long generation;
    char date[40];
    struct cached ep[N_ENDPOINTS];
};

struct dbssl_http_answers {
    struct dbssl_board *board;
    dbssl_http_live_fn live;
    void *live_arg;
    unsigned n;
    struct slot slots[];
};

/* ---- building one answer ------------------------------------------------ */

static struct MHD_Response *static_body(const char *body)
{
    return MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
}

struct MHD_Response *dbssl_http_html_headers(struct MHD_Response *r, const char *csp)
{
    if (r != NULL) {
        MHD_add_response_header(r, "Content-Security-Policy", csp);
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    }
    return r;
}

static void snapshot_release(void *cls)
{
    dbssl_snapshot_unref(cls);
}

/* A response sending a snapshot's bytes, keeping the snapshot alive meanwhile. */
static struct MHD_Response *snapshot_body(struct dbssl_snapshot *s, const struct dbssl_body *body,
                                          unsigned *code)
{
    struct MHD_Response *r;

    *code = (unsigned)s->http_status;
    r = MHD_create_response_from_buffer_with_free_callback_cls(body->len, body->data,
                                                               snapshot_release, s);
    if (r == NULL)
        dbssl_snapshot_unref(s);
    return r;
}

/* /metrics: the snapshot's bytes by reference, then the live HTTP counters. */
struct metrics_body {
    struct dbssl_snapshot *s;
    char *tail;
};

static void metrics_release(void *cls)
{
    struct metrics_body *m = cls;

    dbssl_snapshot_unref(m->s);
    free(m->tail);
    free(m);
}

static struct MHD_Response *metrics_answer(struct dbssl_http_answers *a, struct dbssl_snapshot *s)
{
    struct metrics_body *m = calloc(1, sizeof(*m));
    struct MHD_IoVec iov[2];
    struct MHD_Response *r = NULL;
    struct dbssl_body tail = {NULL, 0};

    if (m == NULL || (tail = a->live(a->live_arg)).data == NULL) {
        free(m);
        dbssl_snapshot_unref(s);
        return NULL;
    }
    m->s = s;
    m->tail = tail.data;
    iov[0] = (struct MHD_IoVec){s->metrics.data, s->metrics.len};
    iov[1] = (struct MHD_IoVec){tail.data, tail.len};
    r = MHD_create_response_from_iovec(iov, 2, metrics_release, m);
    if (r == NULL)
        metrics_release(m);
    return r;
}

/* The body for a route (the snapshot in use is the board's current one). */
static struct MHD_Response *build(struct dbssl_http_answers *a, enum dbssl_http_endpoint ep,
                                  unsigned *code)
{
    struct dbssl_snapshot *s;
    char body[128];
    bool ready;

    *code = MHD_HTTP_OK;
    switch (ep) {
    case DBSSL_EP_ALIVE:
        return static_body(BODY_ALIVE);
    case DBSSL_EP_NOT_FOUND:
        *code = MHD_HTTP_NOT_FOUND;
        return static_body(BODY_NOT_FOUND);
    case DBSSL_EP_NOT_ALLOWED:
        *code = MHD_HTTP_METHOD_NOT_ALLOWED;
        return static_body(BODY_NOT_ALLOWED);
    default:
        break;
    }
    s = dbssl_board_get(a->board);
    if (ep == DBSSL_EP_READY) {
        ready = s != NULL && s->status != DBSSL_HEALTH_UNHEALTHY;
        snprintf(body, sizeof(body), "{\"ready\": %s, \"status\": \"%s\"}\n",
                 ready ? "true" : "false",
                 dbssl_health_status_name(s ? s->status : DBSSL_HEALTH_UNHEALTHY));
        dbssl_snapshot_unref(s);
        *code = ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
        return MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    }
    if (s == NULL && ep == DBSSL_EP_STATUS) {
        char csp[DBSSL_HTML_CSP_LEN];
        *code = MHD_HTTP_SERVICE_UNAVAILABLE;
        dbssl_html_csp(NULL, csp);
        return dbssl_http_html_headers(static_body(dbssl_html_no_snapshot), csp);
    }
    if (s == NULL) {
        *code = MHD_HTTP_SERVICE_UNAVAILABLE;
        return static_body(ep == DBSSL_EP_METRICS ? "# no check has run yet\n" : BODY_NO_SNAPSHOT);
    }
    if (ep == DBSSL_EP_METRICS)
        return metrics_answer(a, s); /* always 200: a scrape must see dbssl_up 0 rather than fail */
    if (ep == DBSSL_EP_SSL)
        return snapshot_body(s, &s->ssl_json, code);
    if (ep == DBSSL_EP_STATUS) /* the response holds s: its policy lives as long */
        return dbssl_http_html_headers(snapshot_body(s, &s->html, code), s->html_csp);
    return snapshot_body(s, &s->db_json, code);
}

/* The headers every answer carries; date NULL: libmicrohttpd adds its own. */
static bool add_headers(struct MHD_Response *r, enum dbssl_http_endpoint ep, const char *refresh,
                        const char *date)
{
    bool ok = true;

    if (date != NULL)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_DATE, date) == MHD_YES;
    ok = ok && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                       ep == DBSSL_EP_METRICS  ? DBSSL_HTTP_PROM
                                       : ep == DBSSL_EP_STATUS ? DBSSL_HTTP_HTML
                                                               : DBSSL_HTTP_JSON) == MHD_YES;
    ok = ok && MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES;
    if (ep == DBSSL_EP_NOT_ALLOWED)
        ok = ok && MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") == MHD_YES;
    /* says whether a ?refresh=1 answer is fresh */
    if (refresh != NULL)
        ok = ok && MHD_add_response_header(r, "X-Dbssl-Refresh", refresh) == MHD_YES;
    return ok;
}

/* ---- the cache ---------------------------------------------------------- */

/* An HTTP date (RFC 9110 IMF-fixdate), without the locale strftime() would use. */
static void http_date(long long t, char *buf, size_t len)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL) {
        buf[0] = '\0';
        return;
    }
    snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

struct dbssl_http_answers *dbssl_http_answers_new(struct dbssl_board *board, unsigned threads,
                                                  dbssl_http_live_fn live, void *live_arg)
{
    struct dbssl_http_answers *a;

    if (threads < 1)
        threads = 1;
    a = calloc(1, sizeof(*a) + threads * sizeof(a->slots[0]));
    if (a == NULL)
        return NULL;
    a->board = board;
    a->live = live;
    a->live_arg = live_arg;
    a->n = threads;
    return a;
}

static void slot_clear(struct slot *s)
{
    for (int e = 0; e < N_ENDPOINTS; e++) {
        if (s->ep[e].r != NULL)
            MHD_destroy_response(s->ep[e].r);
        s->ep[e].r = NULL;
    }
}

void dbssl_http_answers_free(struct dbssl_http_answers *a)
{
    if (a == NULL)
        return;
    for (unsigned i = 0; i < a->n; i++)
        slot_clear(&a->slots[i]);
    free(a);
}

/* The cached answer to ep for this second and snapshot, built when missing; NULL on failure. */
static struct cached *cached(struct dbssl_http_answers *a, struct slot *s,
                             enum dbssl_http_endpoint ep)
{
    long long now = dbssl_now();
    /* read before the snapshot is: an answer is never older than its key */
    unsigned long long gen = dbssl_board_generation(a->board);
    struct cached *c = &s->ep[ep];

    if (now != s->second || gen != s->generation) {
        slot_clear(s);
        s->second = now;
        s->generation = gen;
        http_date(now, s->date, sizeof(s->date));
    }
    if (c->r == NULL && s->date[0] != '\0') {
        c->r = build(a, ep, &c->code);
        if (c->r != NULL && !add_headers(c->r, ep, NULL, s->date)) {
            MHD_destroy_response(c->r);
            c->r = NULL;
        }
    }
    return c->r != NULL ? c : NULL;
}

enum MHD_Result dbssl_http_answer(struct dbssl_http_answers *a, unsigned thread,
                                  struct MHD_Connection *conn, enum dbssl_http_endpoint ep,
                                  const char *refresh)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    unsigned code;

    if (refresh == NULL && ep != DBSSL_EP_METRICS && (unsigned)ep < N_ENDPOINTS && thread < a->n) {
        struct cached *c = cached(a, &a->slots[thread], ep);
        if (c != NULL)
            return MHD_queue_response(conn, c->code, c->r); /* takes its own reference */
    }
    r = build(a, ep, &code);
    if (r == NULL)
        return MHD_NO;
    if (!add_headers(r, ep, refresh, NULL)) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}
