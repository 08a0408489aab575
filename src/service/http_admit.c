/*
 * http_admit.c - the HTTP server's connection limits (see http_admit.h).
 *
 * One count per client address in a small chained hash table (an entry
 * lives while the address holds a connection), and the total, under one
 * mutex: taken on accept and on close only, never per request.
 */
#include "http_admit.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024 /* a power of two; chains stay short for any real client mix */

struct entry {
    struct dbssl_http_peer peer;
    unsigned count;
    struct entry *next;
};

struct dbssl_http_admit {
    pthread_mutex_t mu;
    unsigned total, per_address;
    unsigned long long held, refused;
    struct entry *bucket[BUCKETS];
};

struct dbssl_http_peer dbssl_http_peer_of(const struct sockaddr *sa, socklen_t len)
{
    struct dbssl_http_peer p;

    memset(&p, 0, sizeof(p));
    if (sa != NULL && sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        p.family = AF_INET;
        memcpy(p.addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (sa != NULL && sa->sa_family == AF_INET6 &&
               len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        p.family = AF_INET6;
        memcpy(p.addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    }
    return p;
}

struct dbssl_http_admit *dbssl_http_admit_new(unsigned total, unsigned per_address)
{
    struct dbssl_http_admit *a = calloc(1, sizeof(*a));

    if (a == NULL)
        return NULL;
    pthread_mutex_init(&a->mu, NULL);
    a->total = total > 0 ? total : 1;
    a->per_address = per_address > 0 ? per_address : 1;
    return a;
}

void dbssl_http_admit_free(struct dbssl_http_admit *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < BUCKETS; i++) {
        struct entry *e = a->bucket[i], *next;
        for (; e != NULL; e = next) {
            next = e->next;
            free(e);
        }
    }
    pthread_mutex_destroy(&a->mu);
    free(a);
}

/* FNV-1a over the family and address. */
static size_t bucket_of(const struct dbssl_http_peer *p)
{
    uint32_t h = 2166136261u;

    h = (h ^ p->family) * 16777619u;
    for (size_t i = 0; i < sizeof(p->addr); i++)
        h = (h ^ p->addr[i]) * 16777619u;
    return h & (BUCKETS - 1);
}

static struct entry **find(struct dbssl_http_admit *a, const struct dbssl_http_peer *p)
{
    struct entry **e = &a->bucket[bucket_of(p)];

    while (*e != NULL &&
           ((*e)->peer.family != p->family || memcmp((*e)->peer.addr, p->addr, 16) != 0))
        e = &(*e)->next;
    return e;
}

bool dbssl_http_admit_take(struct dbssl_http_admit *a, const struct dbssl_http_peer *p)
{
    struct entry **e;
    bool ok = false;

    pthread_mutex_lock(&a->mu);
    if (a->held >= a->total)
        goto out;
    e = find(a, p);
    if (*e == NULL) {
        if ((*e = calloc(1, sizeof(**e))) == NULL)
            goto out;
        (*e)->peer = *p;
    }
    if ((*e)->count >= a->per_address)
        goto out;
    (*e)->count++;
    a->held++;
    ok = true;
out:
    if (!ok)
        a->refused++;
    pthread_mutex_unlock(&a->mu);
    return ok;
}

void dbssl_http_admit_release(struct dbssl_http_admit *a, const struct dbssl_http_peer *p)
{
    struct entry **e, *gone;

    pthread_mutex_lock(&a->mu);
    e = find(a, p);
    if (*e != NULL && (*e)->count > 0) {
        a->held--;
        if (--(*e)->count == 0) {
            gone = *e;
            *e = gone->next;
            free(gone);
        }
    }
    pthread_mutex_unlock(&a->mu);
}

struct dbssl_http_admit_stats dbssl_http_admit_stats(struct dbssl_http_admit *a)
{
    struct dbssl_http_admit_stats st;

    pthread_mutex_lock(&a->mu);
    st.held = a->held;
    st.refused = a->refused;
    pthread_mutex_unlock(&a->mu);
    return st;
}
