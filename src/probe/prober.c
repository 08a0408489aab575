/*
 * prober.c - the worker pool behind /probe (see prober.h).
 *
 * One mutex guards the queue, each request's state and the counters; it is
 * never held across a probe.  A request is QUEUED, then RUNNING (a worker
 * probes a copy of its target, and the request sits in the worker's slot:
 * it may be cancelled and freed meanwhile, and a cancel empties the slot),
 * then DONE (its done callback ran, under the lock) or CANCELLED.  A cancel
 * takes the lock, so once it returns no worker touches the request again.
 *
 * The configuration is reference-counted: a reload swaps it while probes of
 * the old one finish with the module they started with.
 *
 * Two lanes: a target whose last probe timed out (a black hole, a host
 * down behind a firewall that drops packets) is queued in the slow lane,
 * served by workers of its own (a quarter of DB_PROBE_CONCURRENCY, at least
 * one), so that failing targets hold up each other and never the healthy
 * ones.  It comes back to the main lane with its first answer in time.
 *
 * Full scans (a target's grade) run inside probes that have time left, at
 * most half the main workers at once, so that a burst of grades (the first
 * scrape of a large fleet) never starves the quick probes.
 */
#include "probe/prober.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "probe/probe.h"
#include "probe/probe_cache.h"
#include "probe/probe_overview.h"
#include "util.h"

enum req_state { REQ_IDLE = 0, REQ_QUEUED, REQ_RUNNING, REQ_DONE, REQ_CANCELLED };

/* The lanes: targets whose last probe timed out wait in a lane of their own. */
enum { LANE_MAIN = 0, LANE_SLOW, NLANES };

/* The slow lane's workers: a quarter of the main lane's, at least one. */
#define SLOW_SHARE 4

struct worker_arg {
    struct dbssl_prober *p;
    size_t i; /* its slot */
    int lane;
};

struct lane {
    struct dbssl_probe_request *head, *tail;
    size_t queued;
    pthread_cond_t wake;
};

/* below this much time left, a queued request is answered as a timeout without a probe */
#define MIN_PROBE_MS 50

struct dbssl_probe_cfgref {
    atomic_int refs;
    struct dbssl_probe_config *c;
};

struct dbssl_prober {
    char *path;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    bool stopping;
    struct dbssl_probe_cfgref *cfg;
    struct lane lanes[NLANES];
    size_t n_main; /* workers of the main lane (DB_PROBE_CONCURRENCY); the rest are slow */
    struct dbssl_probe_cache *cache;
    pthread_t *threads;
    struct dbssl_probe_request **slots; /* the request each worker runs, NULL once cancelled */
    size_t n_threads;
    size_t busy, full_scans;
    unsigned long long probes[2]; /* by success */
    unsigned long long expired;   /* answered as timeouts while still queued */
    /* the overview's Content-Security-Policy, made once: the page's style never changes */
    char overview_csp[DBSSL_HTML_CSP_LEN];
};

static struct dbssl_probe_cfgref *cfg_ref(struct dbssl_probe_cfgref *r)
{
    atomic_fetch_add(&r->refs, 1);
    return r;
}

static void cfg_unref(struct dbssl_probe_cfgref *r)
{
    if (r != NULL && atomic_fetch_sub(&r->refs, 1) == 1) {
        dbssl_probe_config_free(r->c);
        free(r);
    }
}

static struct dbssl_probe_cfgref *cfg_load(const char *path, struct dbssl_error *err)
{
    struct dbssl_probe_cfgref *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    if (dbssl_probe_config_load(path, &r->c, err) != 0) {
        free(r);
        return NULL;
    }
    atomic_init(&r->refs, 1);
    return r;
}

/* ---- the queue (lock held) ----------------------------------------------------------- */

static void enqueue(struct dbssl_prober *p, struct dbssl_probe_request *req)
{
    struct lane *l = &p->lanes[req->lane];

    req->next = NULL;
    req->prev = l->tail;
    if (l->tail != NULL)
        l->tail->next = req;
    else
        l->head = req;
    l->tail = req;
    req->state = REQ_QUEUED;
    l->queued++;
}

static void dequeue(struct dbssl_prober *p, struct dbssl_probe_request *req)
{
    struct lane *l = &p->lanes[req->lane];

    if (req->prev != NULL)
        req->prev->next = req->next;
    else
        l->head = req->next;
    if (req->next != NULL)
        req->next->prev = req->prev;
    else
        l->tail = req->prev;
    req->prev = req->next = NULL;
    l->queued--;
}

/* Hands body to req (NULL: it was cancelled, body is dropped) and tells its owner; lock held. */
static void deliver(struct dbssl_prober *p, struct dbssl_probe_request *req, char *body, size_t len,
                    bool success)
{
    p->probes[success ? 1 : 0]++;
    if (req == NULL) {
        free(body);
        return;
    }
    req->body = body;
    req->body_len = len;
    req->state = REQ_DONE;
    req->done(req);
}

/* ---- the workers ---------------------------------------------------------------------- */

static char *render_timeout(const struct dbssl_probe_target *t, const char *module,
                            enum dbssl_probe_kind kind, const char *why, size_t *len)
{
    struct dbssl_probe_module m = {0};
    struct dbssl_probe_result r;

    snprintf(m.name, sizeof(m.name), "%s", module);
    m.kind = kind;
    dbssl_probe_result_init(&r, &m, t);
    r.probed_at = dbssl_now();
    dbssl_probe_fail(&r, "timeout");
    snprintf(r.message, sizeof(r.message), "%s", why);
    return dbssl_probe_render(&r, len);
}

char *dbssl_prober_timeout_body(const struct dbssl_probe_request *req, size_t *len)
{
    return render_timeout(&req->target, req->module, DBSSL_PROBE_TLS,
                          "the probe did not finish within the scrape timeout", len);
}

/* One probe for req in worker slot i (lock held on entry and exit, released meanwhile). */
static void serve_one(struct dbssl_prober *p, size_t i, struct dbssl_probe_request *req)
{
    struct dbssl_probe_cfgref *cfg = req->cfg; /* the request's reference, now the worker's */
    const struct dbssl_probe_module *m = dbssl_probe_config_module(cfg->c, req->module);
    struct dbssl_probe_target t = req->target;
    char module[DBSSL_PROBE_NAME_MAX + 1];
    long long deadline = req->deadline_ms;
    struct dbssl_probe_result *r = NULL;
    bool full = false, claimed = false;
    char *body = NULL;
    size_t len = 0;

    snprintf(module, sizeof(module), "%s", req->module);
    req->cfg = NULL;
    req->state = REQ_RUNNING;
    p->slots[i] = req;
    p->busy++;
    if (m != NULL && m->kind == DBSSL_PROBE_TLS && p->full_scans < (p->n_main + 1) / 2) {
        full = claimed =
            dbssl_probe_cache_claim_grade(p->cache, m->name, t.text, dbssl_now(), m->grade_every_s);
        if (full)
            p->full_scans++;
    }
    pthread_mutex_unlock(&p->mu);

    if (m != NULL && (r = malloc(sizeof(*r))) != NULL) {
        dbssl_probe_result_init(r, m, &t);
        dbssl_probe_run(m, &t, deadline, full, r);
        dbssl_probe_cache_put(p->cache, r, claimed);
        body = dbssl_probe_render(r, &len);
    }
    if (body == NULL) /* out of memory: still an answer */
        body = render_timeout(&t, module, DBSSL_PROBE_TLS, "the probe could not run", &len);
    cfg_unref(cfg);

    pthread_mutex_lock(&p->mu);
    p->busy--;
    if (full)
        p->full_scans--;
    deliver(p, p->slots[i], body, len, r != NULL && r->success);
    p->slots[i] = NULL;
    free(r);
}

static void *worker(void *arg)
{
    struct dbssl_prober *p = ((struct worker_arg *)arg)->p;
    size_t i = ((struct worker_arg *)arg)->i;
    struct lane *l = &p->lanes[((struct worker_arg *)arg)->lane];

    free(arg);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        struct dbssl_probe_request *req;
        while (!p->stopping && l->head == NULL)
            pthread_cond_wait(&l->wake, &p->mu);
        if (p->stopping)
            break;
        req = l->head;
        dequeue(p, req);
        if (req->deadline_ms - dbssl_mono_ms() < MIN_PROBE_MS) {
            size_t len = 0;
            char *body = render_timeout(&req->target, req->module, DBSSL_PROBE_TLS,
                                        "the probe waited for a free prober until the scrape "
                                        "timeout (raise DB_PROBE_CONCURRENCY)",
                                        &len);
            p->expired++;
            cfg_unref(req->cfg);
            req->cfg = NULL;
            deliver(p, req, body, len, false);
        } else {
            serve_one(p, i, req);
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- the API -------------------------------------------------------------------------- */

/* What start allocated (no thread running); NULL is fine. */
static void prober_free(struct dbssl_prober *p)
{
    if (p == NULL)
        return;
    cfg_unref(p->cfg);
    dbssl_probe_cache_free(p->cache);
    free(p->threads);
    free(p->slots);
    free(p->path);
    free(p);
}

struct dbssl_prober *dbssl_prober_start(const char *path, long workers, struct dbssl_error *err)
{
    struct dbssl_prober *p = calloc(1, sizeof(*p));
    size_t total =
        (size_t)workers + ((size_t)workers / SLOW_SHARE > 0 ? (size_t)workers / SLOW_SHARE : 1);

    if (p == NULL || (p->path = xstrdup(path)) == NULL ||
        (p->cache = dbssl_probe_cache_new()) == NULL ||
        (p->threads = calloc(total, sizeof(*p->threads))) == NULL ||
        (p->slots = calloc(total, sizeof(*p->slots))) == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        goto fail;
    }
    if ((p->cfg = cfg_load(path, err)) == NULL)
        goto fail;
    dbssl_probe_overview_csp(p->overview_csp);
    pthread_mutex_init(&p->mu, NULL);
    for (int l = 0; l < NLANES; l++)
        pthread_cond_init(&p->lanes[l].wake, NULL);
    p->n_main = (size_t)workers;
    for (; p->n_threads < total; p->n_threads++) {
        struct worker_arg *a = malloc(sizeof(*a));
        int rc = a == NULL ? ENOMEM : 0;
        if (a != NULL) {
            *a = (struct worker_arg){p, p->n_threads,
                                     p->n_threads < p->n_main ? LANE_MAIN : LANE_SLOW};
            rc = pthread_create(&p->threads[p->n_threads], NULL, worker, a);
            if (rc != 0)
                free(a);
        }
        if (rc != 0) {
            dbssl_error_set(err, DBSSL_ERR_INTERNAL, "Lower DB_PROBE_CONCURRENCY.",
                            "could not start a prober thread: %s", strerror(rc));
            dbssl_prober_stop(p);
            return NULL;
        }
    }
    return p;
fail:
    prober_free(p);
    return NULL;
}

int dbssl_prober_reload(struct dbssl_prober *p, struct dbssl_error *err)
{
    struct dbssl_probe_cfgref *fresh = cfg_load(p->path, err), *old;

    if (fresh == NULL)
        return -1;
    pthread_mutex_lock(&p->mu);
    old = p->cfg;
    p->cfg = fresh;
    pthread_mutex_unlock(&p->mu);
    cfg_unref(old);
    return 0;
}

void dbssl_prober_stop(struct dbssl_prober *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    /* the HTTP server was stopped first: whatever is still queued has no one waiting */
    for (int l = 0; l < NLANES; l++) {
        pthread_cond_broadcast(&p->lanes[l].wake);
        while (p->lanes[l].head != NULL) {
            struct dbssl_probe_request *req = p->lanes[l].head;
            dequeue(p, req);
            req->state = REQ_CANCELLED;
            cfg_unref(req->cfg);
            req->cfg = NULL;
        }
    }
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    for (int l = 0; l < NLANES; l++)
        pthread_cond_destroy(&p->lanes[l].wake);
    pthread_mutex_destroy(&p->mu);
    prober_free(p);
}

/* The budget for a scrape timeout given in seconds, or -1 when the value is not one. */
static long long budget_ms(const char *scrape_timeout, long module_timeout_s)
{
    long long cap = module_timeout_s * 1000LL, ms;
    char *end;
    double s;

    if (scrape_timeout == NULL)
        return cap;
    errno = 0;
    s = strtod(scrape_timeout, &end);
    if (errno != 0 || end == scrape_timeout || *end != '\0' || !isfinite(s) || s <= 0)
        return -1;
    ms = s > 3600 ? 3600000LL : (long long)(s * 1000.0);
    /* the margin, or half of a very short timeout */
    ms = ms > 2 * DBSSL_PROBE_MARGIN_MS ? ms - DBSSL_PROBE_MARGIN_MS : ms / 2;
    return ms < cap ? ms : cap;
}

int dbssl_prober_prepare(struct dbssl_prober *p, struct dbssl_probe_request *req,
                         const char *target, const char *module, const char *scrape_timeout,
                         char *msg, size_t msglen)
{
    const struct dbssl_probe_module *m;
    long long budget = 0;
    int status = 0;

    memset(req->module, 0, sizeof(req->module));
    req->body = NULL;
    req->body_len = 0;
    req->state = REQ_IDLE;
    req->cfg = NULL;
    if (!dbssl_probe_target_parse(target, &req->target, msg, msglen))
        return 400;
    pthread_mutex_lock(&p->mu);
    m = dbssl_probe_config_module(p->cfg->c, module);
    if (p->stopping) {
        snprintf(msg, msglen, "the server is stopping");
        status = 503;
    } else if (m == NULL) {
        snprintf(msg, msglen, "unknown module: the modules are those of DB_PROBE_CONFIG \"%s\"",
                 p->path);
        status = 400;
    } else if (!dbssl_probe_target_allowed(p->cfg->c, &req->target)) {
        snprintf(msg, msglen,
                 "target \"%s\" is not allowed: add it (or its network or domain) to allow in "
                 "[targets] of DB_PROBE_CONFIG \"%s\"",
                 req->target.text, p->path);
        status = 403;
    } else if ((budget = budget_ms(scrape_timeout, m->timeout_s)) < 0) {
        snprintf(msg, msglen,
                 "invalid X-Prometheus-Scrape-Timeout-Seconds: expected a number of seconds");
        status = 400;
    } else {
        snprintf(req->module, sizeof(req->module), "%s", m->name);
        req->deadline_ms = dbssl_mono_ms() + budget;
        req->cfg = cfg_ref(p->cfg);
    }
    pthread_mutex_unlock(&p->mu);
    return status;
}

bool dbssl_prober_queue(struct dbssl_prober *p, struct dbssl_probe_request *req)
{
    bool ok;

    pthread_mutex_lock(&p->mu);
    ok = !p->stopping && req->cfg != NULL;
    if (ok) {
        /* a target that timed out last time waits with its kind, not before the others */
        req->lane = dbssl_probe_cache_timed_out(p->cache, req->module, req->target.text)
                        ? LANE_SLOW
                        : LANE_MAIN;
        enqueue(p, req);
        pthread_cond_signal(&p->lanes[req->lane].wake);
    } else {
        cfg_unref(req->cfg);
        req->cfg = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    return ok;
}

void dbssl_prober_cancel(struct dbssl_prober *p, struct dbssl_probe_request *req)
{
    pthread_mutex_lock(&p->mu);
    if (req->state == REQ_QUEUED)
        dequeue(p, req);
    if (req->state == REQ_QUEUED || req->state == REQ_IDLE) {
        cfg_unref(req->cfg); /* prepared, maybe queued: its reference */
        req->cfg = NULL;
    }
    if (req->state == REQ_RUNNING)
        for (size_t i = 0; i < p->n_threads; i++)
            if (p->slots[i] == req)
                p->slots[i] = NULL;
    if (req->state == REQ_QUEUED || req->state == REQ_RUNNING)
        req->state = REQ_CANCELLED;
    pthread_mutex_unlock(&p->mu);
}

void dbssl_probe_request_clear(struct dbssl_probe_request *req)
{
    free(req->body);
    req->body = NULL;
    req->body_len = 0;
    req->state = REQ_IDLE;
}

char *dbssl_prober_metrics(struct dbssl_prober *p, size_t *len)
{
    struct strbuf sb;
    unsigned long long probes[2], expired;
    size_t busy, queued[NLANES], n;
    char *out;

    pthread_mutex_lock(&p->mu);
    probes[0] = p->probes[0];
    probes[1] = p->probes[1];
    expired = p->expired;
    busy = p->busy;
    queued[LANE_MAIN] = p->lanes[LANE_MAIN].queued;
    queued[LANE_SLOW] = p->lanes[LANE_SLOW].queued;
    n = p->n_threads;
    pthread_mutex_unlock(&p->mu);
    strbuf_init(&sb);
    strbuf_append(&sb, "# HELP dbssl_probes_total Probes answered on /probe by result.\n"
                       "# TYPE dbssl_probes_total counter\n");
    strbuf_printf(&sb, "dbssl_probes_total{result=\"success\"} %llu\n", probes[1]);
    strbuf_printf(&sb, "dbssl_probes_total{result=\"failure\"} %llu\n", probes[0]);
    strbuf_append(&sb, "# HELP dbssl_probes_expired_total Probes answered as a timeout while "
                       "still waiting for a free prober (raise DB_PROBE_CONCURRENCY).\n"
                       "# TYPE dbssl_probes_expired_total counter\n");
    strbuf_printf(&sb, "dbssl_probes_expired_total %llu\n", expired);
    strbuf_append(&sb, "# HELP dbssl_probe_workers Probers (DB_PROBE_CONCURRENCY and the slow "
                       "lane's quarter) by state.\n"
                       "# TYPE dbssl_probe_workers gauge\n");
    strbuf_printf(&sb, "dbssl_probe_workers{state=\"busy\"} %zu\n", busy);
    strbuf_printf(&sb, "dbssl_probe_workers{state=\"idle\"} %zu\n", n - busy);
    strbuf_append(&sb, "# HELP dbssl_probe_queue_length Probe requests waiting for a prober, "
                       "by lane (slow: targets whose last probe timed out).\n"
                       "# TYPE dbssl_probe_queue_length gauge\n");
    strbuf_printf(&sb, "dbssl_probe_queue_length{lane=\"main\"} %zu\n", queued[LANE_MAIN]);
    strbuf_printf(&sb, "dbssl_probe_queue_length{lane=\"slow\"} %zu\n", queued[LANE_SLOW]);
    strbuf_append(&sb, "# HELP dbssl_probe_targets Targets the prober remembers (the "
                       "overview's rows).\n# TYPE dbssl_probe_targets gauge\n");
    strbuf_printf(&sb, "dbssl_probe_targets %zu\n", dbssl_probe_cache_size(p->cache));
    out = strbuf_take(&sb);
    *len = out ? strlen(out) : 0;
    return out;
}

const char *dbssl_prober_overview_csp(const struct dbssl_prober *p)
{
    return p->overview_csp;
}

char *dbssl_prober_overview(struct dbssl_prober *p, size_t *len)
{
    struct dbssl_probe_summary *v = NULL;
    long long now = dbssl_now();
    size_t n = dbssl_probe_cache_list(p->cache, now, &v);
    char *out = dbssl_probe_overview_html(v, n, now, p->path, len);

    free(v);
    return out;
}
