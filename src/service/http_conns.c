/*
 * http_conns.c - connection phases and deadlines (see http_conns.h).
 *
 * Why not libmicrohttpd's own timeout: it measures inactivity, and a
 * slowloris client that sends one header byte a second is never inactive.
 * These deadlines are absolute: they start when a phase starts and no byte
 * the client sends moves them.
 *
 * The list and counters are under one mutex, taken on accept, on close and
 * by the sweep (one pass over the list, a few nanoseconds a connection);
 * phase changes on the request path are single atomic stores.  The sweep
 * shuts a socket down only while the connection is in the list, and the
 * server removes it (on its close notification) before libmicrohttpd closes
 * the descriptor, so the descriptor can never be another connection's.
 */
#include "http_conns.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>

#define PHASE_BITS  3
#define PHASE_MASK  ((1u << PHASE_BITS) - 1)
#define NO_DEADLINE ((uint64_t)1 << 60) /* ms: beyond any monotonic clock */

struct dbssl_http_conns {
    pthread_mutex_t mu;
    struct dbssl_http_conn *head;
    struct dbssl_http_conns_stats stats;
    long long request_ms, idle_ms;
    void (*on_expired)(struct dbssl_http_conn *c, void *arg);
    void *arg;
};

static uint64_t pack(enum dbssl_http_phase phase, long long deadline)
{
    uint64_t d = deadline < 0 ? 0 : (uint64_t)deadline;

    if (d > NO_DEADLINE)
        d = NO_DEADLINE;
    return d << PHASE_BITS | (uint64_t)phase;
}

static enum dbssl_http_phase phase_of(uint64_t v)
{
    return (enum dbssl_http_phase)(v & PHASE_MASK);
}

static long long deadline_of(uint64_t v)
{
    return (long long)(v >> PHASE_BITS);
}

struct dbssl_http_conns *
dbssl_http_conns_new(long long request_ms, long long idle_ms,
                     void (*on_expired)(struct dbssl_http_conn *c, void *arg), void *arg)
{
    struct dbssl_http_conns *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    s->request_ms = request_ms;
    s->idle_ms = idle_ms;
    s->on_expired = on_expired;
    s->arg = arg;
    return s;
}

void dbssl_http_conns_free(struct dbssl_http_conns *s)
{
    if (s == NULL)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void dbssl_http_conns_add(struct dbssl_http_conns *s, struct dbssl_http_conn *c, int fd,
                          long long now)
{
    c->fd = fd;
    atomic_init(&c->state, pack(DBSSL_HTTP_NEW, now + s->request_ms));
    pthread_mutex_lock(&s->mu);
    c->prev = NULL;
    c->next = s->head;
    if (s->head != NULL)
        s->head->prev = c;
    s->head = c;
    s->stats.open++;
    pthread_mutex_unlock(&s->mu);
}

void dbssl_http_conns_remove(struct dbssl_http_conns *s, struct dbssl_http_conn *c)
{
    pthread_mutex_lock(&s->mu);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        s->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    s->stats.open--;
    pthread_mutex_unlock(&s->mu);
}

void dbssl_http_conns_request_line(struct dbssl_http_conns *s, struct dbssl_http_conn *c,
                                   long long now)
{
    /* the first request keeps the deadline counted from the accept */
    if (phase_of(atomic_load_explicit(&c->state, memory_order_relaxed)) == DBSSL_HTTP_IDLE)
        atomic_store_explicit(&c->state, pack(DBSSL_HTTP_HEADERS, now + s->request_ms),
                              memory_order_release);
}

/* The phase changes of the request path are release stores (a plain store
 * on x86, where a sequentially consistent one is a locked exchange): only
 * the state word itself is published, and the sweep reads it with acquire. */
void dbssl_http_conns_busy(struct dbssl_http_conn *c)
{
    atomic_store_explicit(&c->state, pack(DBSSL_HTTP_BUSY, (long long)NO_DEADLINE),
                          memory_order_release);
}

void dbssl_http_conns_idle(struct dbssl_http_conns *s, struct dbssl_http_conn *c, long long now)
{
    atomic_store_explicit(&c->state, pack(DBSSL_HTTP_IDLE, now + s->idle_ms), memory_order_release);
}

void dbssl_http_conns_wait(struct dbssl_http_conn *c, long long deadline)
{
    atomic_store(&c->state, pack(DBSSL_HTTP_WAITING, deadline));
}

bool dbssl_http_conns_wake(struct dbssl_http_conn *c)
{
    uint64_t v = atomic_load(&c->state);

    while (phase_of(v) == DBSSL_HTTP_WAITING)
        if (atomic_compare_exchange_weak(&c->state, &v,
                                         pack(DBSSL_HTTP_BUSY, (long long)NO_DEADLINE)))
            return true;
    return false;
}

enum dbssl_http_phase dbssl_http_conns_phase(const struct dbssl_http_conn *c)
{
    return phase_of(atomic_load(&c->state));
}

/* Acts on one connection past its deadline; lock held. */
static void expire(struct dbssl_http_conns *s, struct dbssl_http_conn *c, uint64_t seen)
{
    enum dbssl_http_phase p = phase_of(seen);

    if (p == DBSSL_HTTP_WAITING) {
        /* whoever wakes it first (here or the check's completion) resumes it */
        if (dbssl_http_conns_wake(c))
            s->on_expired(c, s->arg);
        return;
    }
    /* the phase may have changed since it was read: then it is not late */
    if (!atomic_compare_exchange_strong(&c->state, &seen,
                                        pack(DBSSL_HTTP_CUT, (long long)NO_DEADLINE)))
        return;
    (void)shutdown(c->fd, SHUT_RDWR);
    if (p == DBSSL_HTTP_IDLE)
        s->stats.idle_timeouts++;
    else
        s->stats.request_timeouts++;
}

long long dbssl_http_conns_sweep(struct dbssl_http_conns *s, long long now, bool expire_waiting)
{
    long long next = now + s->idle_ms;

    pthread_mutex_lock(&s->mu);
    for (struct dbssl_http_conn *c = s->head; c != NULL; c = c->next) {
        uint64_t v = atomic_load_explicit(&c->state, memory_order_acquire);
        enum dbssl_http_phase p = phase_of(v);
        long long d = deadline_of(v);

        if (p == DBSSL_HTTP_BUSY || p == DBSSL_HTTP_CUT)
            continue;
        if (d <= now || (expire_waiting && p == DBSSL_HTTP_WAITING))
            expire(s, c, v);
        else if (d < next)
            next = d;
    }
    pthread_mutex_unlock(&s->mu);
    return next;
}

struct dbssl_http_conns_stats dbssl_http_conns_stats(struct dbssl_http_conns *s)
{
    struct dbssl_http_conns_stats st;

    pthread_mutex_lock(&s->mu);
    st = s->stats;
    pthread_mutex_unlock(&s->mu);
    return st;
}
