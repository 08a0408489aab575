/*
 * probe_cache.c - the per-target memory of the prober (see probe_cache.h): a
 * chained hash table keyed by module and target, one mutex.
 */
#include "probe/probe_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expiry.h"

#define BUCKETS 4096

struct entry {
    struct entry *next; /* in its bucket */
    struct dbssl_probe_summary s;
    bool claimed;          /* a full scan is running */
    long long grade_tried; /* when the last full scan started (epoch seconds) */
};

struct dbssl_probe_cache {
    pthread_mutex_t mu;
    struct entry *buckets[BUCKETS];
    size_t n;
};

struct dbssl_probe_cache *dbssl_probe_cache_new(void)
{
    struct dbssl_probe_cache *c = calloc(1, sizeof(*c));

    if (c != NULL)
        pthread_mutex_init(&c->mu, NULL);
    return c;
}

void dbssl_probe_cache_free(struct dbssl_probe_cache *c)
{
    if (c == NULL)
        return;
    for (size_t b = 0; b < BUCKETS; b++) {
        for (struct entry *e = c->buckets[b], *next; e != NULL; e = next) {
            next = e->next;
            free(e);
        }
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* FNV-1a of module, a NUL, target. */
static size_t bucket_of(const char *module, const char *target)
{
    uint64_t h = 1469598103934665603ULL;

    for (const char *p = module; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0) * 1099511628211ULL;
    for (const char *p = target; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (size_t)(h % BUCKETS);
}

static struct entry *find(struct dbssl_probe_cache *c, const char *module, const char *target)
{
    for (struct entry *e = c->buckets[bucket_of(module, target)]; e != NULL; e = e->next)
        if (strcmp(e->s.module, module) == 0 && strcmp(e->s.target, target) == 0)
            return e;
    return NULL;
}

static void unlink_entry(struct dbssl_probe_cache *c, struct entry *e)
{
    struct entry **pp = &c->buckets[bucket_of(e->s.module, e->s.target)];

    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    c->n--;
}

/* The entry probed longest ago that no full scan holds (lock held), or NULL. */
static struct entry *oldest(struct dbssl_probe_cache *c)
{
    struct entry *best = NULL;

    for (size_t b = 0; b < BUCKETS; b++)
        for (struct entry *e = c->buckets[b]; e != NULL; e = e->next)
            if (!e->claimed && (best == NULL || e->s.probed_at < best->s.probed_at))
                best = e;
    return best;
}

/* The entry for module and target, made when missing (lock held); NULL when out of memory. */
static struct entry *get(struct dbssl_probe_cache *c, const char *module, const char *target)
{
    struct entry *e = find(c, module, target);
    size_t b;

    if (e != NULL)
        return e;
    if (c->n >= DBSSL_PROBE_CACHE_MAX) {
        struct entry *old = oldest(c);
        if (old == NULL)
            return NULL;
        unlink_entry(c, old);
        free(old);
    }
    if ((e = calloc(1, sizeof(*e))) == NULL)
        return NULL;
    snprintf(e->s.module, sizeof(e->s.module), "%s", module);
    snprintf(e->s.target, sizeof(e->s.target), "%s", target);
    e->s.ssl = -1;
    b = bucket_of(module, target);
    e->next = c->buckets[b];
    c->buckets[b] = e;
    c->n++;
    return e;
}

bool dbssl_probe_cache_claim_grade(struct dbssl_probe_cache *c, const char *module,
                                   const char *target, long long now, long every_s)
{
    struct entry *e;
    bool due = false;

    if (every_s < 0)
        return false;
    pthread_mutex_lock(&c->mu);
    e = get(c, module, target);
    if (e != NULL && !e->claimed) {
        bool last_ok = e->s.grade.have && e->s.grade.graded_at >= e->grade_tried;
        long wait = last_ok                               ? every_s
                    : every_s < DBSSL_PROBE_GRADE_RETRY_S ? every_s
                                                          : DBSSL_PROBE_GRADE_RETRY_S;
        due = e->grade_tried == 0 || now - e->grade_tried >= wait;
        if (due) {
            e->claimed = true;
            e->grade_tried = now;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return due;
}

static void summarise(struct dbssl_probe_summary *s, const struct dbssl_probe_result *r)
{
    size_t used = 0;

    s->probed_at = r->probed_at;
    s->duration_s = r->duration_s;
    s->success = r->success;
    s->reasons[0] = '\0';
    s->timed_out = false;
    for (size_t i = 0; i < r->n_reasons; i++)
        s->timed_out |= strcmp(r->reasons[i], "timeout") == 0;
    for (size_t i = 0; i < r->n_reasons && used < sizeof(s->reasons); i++)
        used += (size_t)snprintf(s->reasons + used, sizeof(s->reasons) - used, "%s%s", i ? " " : "",
                                 r->reasons[i]);
    snprintf(s->message, sizeof(s->message), "%.*s", (int)sizeof(s->message) - 1, r->message);
    s->ssl = r->ssl;
    snprintf(s->tls_version, sizeof(s->tls_version), "%s", r->tls_version);
    s->have_cert = r->have_cert;
    s->not_before = r->not_before;
    s->not_after = r->not_after;
    s->expiry_warn_days = r->expiry_warn_days;
}

void dbssl_probe_cache_put(struct dbssl_probe_cache *c, struct dbssl_probe_result *r, bool claimed)
{
    struct entry *e;

    pthread_mutex_lock(&c->mu);
    e = get(c, r->module, r->target);
    if (e != NULL) {
        if (claimed)
            e->claimed = false;
        if (r->grade.have)
            e->s.grade = r->grade;
        else
            r->grade = e->s.grade;
        summarise(&e->s, r);
    }
    pthread_mutex_unlock(&c->mu);
}

/* 0 failed, 1 fails its profile, 2 expiring, 3 fine: the overview's order. */
static int rank(const struct dbssl_probe_summary *s)
{
    if (!s->success)
        return 0;
    if (s->grade.have && !s->grade.passed)
        return 1;
    if (s->have_cert && dbssl_expiry_state(s->not_before, s->not_after, s->probed_at,
                                           s->expiry_warn_days) == DBSSL_EXPIRY_EXPIRING)
        return 2;
    return 3;
}

static int worst_first(const void *a, const void *b)
{
    const struct dbssl_probe_summary *x = a, *y = b;
    int rx = rank(x), ry = rank(y), c;

    if (rx != ry)
        return rx - ry;
    if (x->have_cert != y->have_cert)
        return x->have_cert ? 1 : -1; /* nothing known is worse than a date */
    if (x->have_cert && x->not_after != y->not_after)
        return x->not_after < y->not_after ? -1 : 1;
    if ((c = strcmp(x->target, y->target)) != 0)
        return c;
    return strcmp(x->module, y->module);
}

size_t dbssl_probe_cache_list(struct dbssl_probe_cache *c, long long now,
                              struct dbssl_probe_summary **out)
{
    struct dbssl_probe_summary *v = NULL;
    size_t n = 0;

    *out = NULL;
    pthread_mutex_lock(&c->mu);
    for (size_t b = 0; b < BUCKETS; b++) {
        for (struct entry *e = c->buckets[b], *next; e != NULL; e = next) {
            next = e->next;
            if (!e->claimed && e->s.probed_at > 0 &&
                now - e->s.probed_at > DBSSL_PROBE_CACHE_FORGET_S) {
                unlink_entry(c, e);
                free(e);
            }
        }
    }
    if (c->n > 0 && (v = calloc(c->n, sizeof(*v))) != NULL)
        for (size_t b = 0; b < BUCKETS; b++)
            for (struct entry *e = c->buckets[b]; e != NULL; e = e->next)
                if (e->s.probed_at > 0)
                    v[n++] = e->s;
    pthread_mutex_unlock(&c->mu);
    if (v != NULL && n > 0)
        qsort(v, n, sizeof(*v), worst_first);
    if (n == 0) {
        free(v);
        v = NULL;
    }
    *out = v;
    return n;
}

bool dbssl_probe_cache_timed_out(struct dbssl_probe_cache *c, const char *module,
                                 const char *target)
{
    struct entry *e;
    bool slow;

    pthread_mutex_lock(&c->mu);
    e = find(c, module, target);
    slow = e != NULL && e->s.timed_out;
    pthread_mutex_unlock(&c->mu);
    return slow;
}

size_t dbssl_probe_cache_size(struct dbssl_probe_cache *c)
{
    size_t n;

    pthread_mutex_lock(&c->mu);
    n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}
