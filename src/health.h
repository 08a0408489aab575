/*
 * health.h - the health snapshot: what one check found, judged by the
 * status rules, with the HTTP bodies already rendered.
 *
 * A snapshot is immutable once built and reference-counted, so that the
 * HTTP threads can answer from it (and keep it alive while a response is
 * being sent) while the checker builds the next one.  The board holds the
 * current snapshot; its mutex is held only to swap or take a reference,
 * never across I/O, so a slow database can never make a request wait.
 */
#ifndef DBSSL_HEALTH_H
#define DBSSL_HEALTH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "conn_int.h"
#include "error_int.h"

enum dbssl_health_status {
    DBSSL_HEALTH_HEALTHY = 0,
    DBSSL_HEALTH_DEGRADED,
    DBSSL_HEALTH_UNHEALTHY,
};

/* One certificate in use: each of the CA bundle, the client certificate. */
struct dbssl_health_cert {
    char role[16]; /* "ca", "client" (the server's own is in the TLS state) */
    char *path;
    char *subject;
    char *serial;
    long long not_before;
    long long not_after;
};

struct dbssl_health_certs {
    struct dbssl_health_cert *v;
    size_t n;
    char **notes; /* files that could not be read: become warnings */
    size_t n_notes;
};

/*
 * Reads the certificates in use (CA bundle, client certificate) through
 * certinfo.c.  An unreadable file is a note, not a failure.  -1 only on
 * out-of-memory.  Free with dbssl_health_certs_free().
 */
int dbssl_health_certs_collect(const struct dbssl_config *cfg, struct dbssl_health_certs *out,
                               struct dbssl_error *err) DBSSL_MUSTCHECK;
void dbssl_health_certs_free(struct dbssl_health_certs *c);

/* Outcomes of configuration reloads so far (reload.c keeps them). */
struct dbssl_reload_stats {
    unsigned long long success, failure;
    long long last_success_at; /* epoch seconds; the initial load counts */
    long long last_error_at;   /* 0: the latest reload (if any) succeeded */
    char last_error[1024];     /* what the rejected settings were missing, secret-free */
};

/* Upper bounds (seconds) of dbssl_check_duration_seconds' buckets; +Inf is implied. */
#define DBSSL_CHECK_BUCKETS 10
extern const double dbssl_check_buckets[DBSSL_CHECK_BUCKETS];

/* The checker's counters, carried by each snapshot for GET /metrics. */
struct dbssl_check_stats {
    unsigned long long checks[3]; /* by enum dbssl_health_status */
    unsigned long long reconnects;
    unsigned long long bucket[DBSSL_CHECK_BUCKETS]; /* cumulative: duration <= bound */
    unsigned long long count;
    double sum;
};

/* What a snapshot carries beyond one check's result (all optional). */
struct dbssl_snapshot_extra {
    const struct dbssl_reload_stats *reload;
    /* counted with this check's status and duration when count is true */
    struct dbssl_check_stats *stats;
    bool count;
    double duration_s;
};

struct dbssl_snapshot {
    atomic_int refs;
    enum dbssl_health_status status;
    struct dbssl_tls_state tls; /* as the check found it */
    enum dbssl_sslmode ssl_mode;
    struct dbssl_health_cert *certs; /* copies, owned */
    size_t n_certs;
    long long checked_at;   /* epoch seconds */
    long long last_success; /* 0 = never */
    /* rendered once; the HTTP layer sends these bytes as they are */
    char *ssl_json; /* GET /health/database/ssl */
    size_t ssl_json_len;
    char *db_json; /* GET /health/database */
    size_t db_json_len;
    char *metrics; /* GET /metrics, Prometheus text format 0.0.4 */
    size_t metrics_len;
    int http_status; /* 200 healthy/degraded, 503 unhealthy */
    struct dbssl_reload_stats reload;
    struct dbssl_check_stats stats;
};

/*
 * Builds a snapshot (refs = 1) from a check's result.  certs may be NULL.
 * now is the check's time; last_success the time of the last check that
 * connected (0 for never).  NULL on out-of-memory.
 */
struct dbssl_snapshot *dbssl_snapshot_new(const struct dbssl_config *cfg,
                                          const struct dbssl_tls_state *tls,
                                          const struct dbssl_health_certs *certs, long long now,
                                          long long last_success,
                                          struct dbssl_error *err) DBSSL_MUSTCHECK;
/* The same with reload outcomes and check counters (x may be NULL). */
struct dbssl_snapshot *dbssl_snapshot_new_ex(const struct dbssl_config *cfg,
                                             const struct dbssl_tls_state *tls,
                                             const struct dbssl_health_certs *certs, long long now,
                                             long long last_success,
                                             const struct dbssl_snapshot_extra *x,
                                             struct dbssl_error *err) DBSSL_MUSTCHECK;
struct dbssl_snapshot *dbssl_snapshot_ref(struct dbssl_snapshot *s);
/* Drops a reference; frees at zero.  NULL is fine. */
void dbssl_snapshot_unref(struct dbssl_snapshot *s);

const char *dbssl_health_status_name(enum dbssl_health_status s);

/* The holder of the current snapshot. */
struct dbssl_board {
    pthread_mutex_t mu;
    struct dbssl_snapshot *cur;
    /* bumped by each publish: readers that cache what they built from a
     * snapshot compare it without taking the lock */
    atomic_ullong generation;
};

void dbssl_board_init(struct dbssl_board *b);
void dbssl_board_destroy(struct dbssl_board *b);
/* Publishes s, taking over the caller's reference. */
void dbssl_board_publish(struct dbssl_board *b, struct dbssl_snapshot *s);
/* A new reference to the current snapshot, or NULL before the first check. */
struct dbssl_snapshot *dbssl_board_get(struct dbssl_board *b);
/* Changes with every publish; 0 before the first. */
unsigned long long dbssl_board_generation(struct dbssl_board *b);

#endif
