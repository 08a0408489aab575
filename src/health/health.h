/*
 * health.h - the health snapshot: what one check found, judged by the
 * status rules, and the board that holds the current one.
 *
 * A snapshot is built by dbssl_snapshot_new() (the rules, here), then its
 * HTTP bodies are rendered once by dbssl_render_snapshot() (render.h);
 * after that it is immutable and reference-counted, so that the HTTP
 * threads can answer from it (and keep it alive while a response is being
 * sent) while the checker builds the next one.  The board holds the current
 * snapshot; its mutex is held only to swap or take a reference, never
 * across I/O, so a slow database can never make a request wait.
 */
#ifndef DBSSL_HEALTH_H
#define DBSSL_HEALTH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "certs_inuse.h"
#include "config.h"
#include "conn_types.h"
#include "conn_pgbouncer.h"
#include "conn_sessions.h"
#include "error_int.h"
#include "hosts.h"
#include "reload.h" /* struct dbssl_reload_stats, shown by every snapshot */

enum dbssl_health_status {
    DBSSL_HEALTH_HEALTHY = 0,
    DBSSL_HEALTH_DEGRADED,
    DBSSL_HEALTH_UNHEALTHY,
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
    /* the server's settings and pg_hba.conf findings (hbarules.h), read now and then by
     * the checker: "server_settings" of the ssl body, null when NULL */
    const struct json_t *server_settings;
    /* the watched sessions read with this check (conn_sessions.h): "sessions", null when NULL */
    const struct dbssl_sessions *sessions;
    /* each host of a multi-host DATABASE_URL as the check probed it (NULL or n = 0: one host) */
    const struct dbssl_hosts *hosts;
    /* PgBouncer's hops from its admin console (conn_pgbouncer.h): "pgbouncer", null when NULL */
    const struct dbssl_pgbouncer *pgbouncer;
};

/* Room for a page's Content-Security-Policy (dbssl_html_csp(), render.h). */
#define DBSSL_HTML_CSP_LEN 256

/* One rendered body: the HTTP layer sends these bytes as they are. */
struct dbssl_body {
    char *data;
    size_t len;
};

struct dbssl_snapshot {
    atomic_int refs;
    /* the check and its judgement */
    enum dbssl_health_status status;
    int http_status; /* 200 healthy/degraded, 503 unhealthy */
    char **warnings; /* the rules' findings, in the body's order */
    size_t n_warnings;
    struct dbssl_tls_state tls; /* as the check found it */
    enum dbssl_sslmode ssl_mode;
    /* libpq verifies the server's chain (dbssl_config_verifies_server()), and in
     * allow or prefer the session is one of the TLS ones it verified */
    bool verifies_server;
    enum dbssl_channel_binding channel_binding;
    struct dbssl_sessions sessions; /* state DBSSL_SESSIONS_UNREAD when not read */
    /* the newer libpq options as configured (validation refused them where libpq lacks them) */
    enum dbssl_ssl_negotiation ssl_negotiation;
    enum dbssl_ssl_cert_mode ssl_cert_mode;
    char require_auth[128];         /* "" when unset */
    struct dbssl_inuse_cert *certs; /* copies, owned */
    size_t n_certs;
    long long checked_at;   /* epoch seconds */
    long long last_success; /* 0 = never */
    struct dbssl_reload_stats reload;
    struct dbssl_check_stats stats;
    struct json_t *server_settings; /* a reference to x->server_settings, or NULL */
    struct dbssl_hosts *hosts;      /* a copy of x->hosts when it has hosts, else NULL */
    struct dbssl_pgbouncer pgbouncer; /* state DBSSL_PGBOUNCER_UNSET when not read */
    /* rendered once by dbssl_render_snapshot() (render.h) */
    struct dbssl_body ssl_json; /* GET /health/database/ssl */
    struct dbssl_body db_json;  /* GET /health/database */
    struct dbssl_body metrics;  /* GET /metrics, Prometheus text format 0.0.4 */
    struct dbssl_body html;     /* GET / and /status, the status page */
    char html_csp[DBSSL_HTML_CSP_LEN]; /* its Content-Security-Policy (render.h) */
    long expiry_warn_days;      /* DB_SSL_EXPIRY_WARN_DAYS of the check: the page shades it */
};

/*
 * Builds a snapshot (refs = 1, bodies not rendered yet) from a check's
 * result: judges it by the status rules (health.c) and, when x->count,
 * counts it in x->stats.  certs and x may be NULL.  now is the check's
 * time; last_success the time of the last check that connected (0 for
 * never).  NULL on out-of-memory.
 */
struct dbssl_snapshot *
dbssl_snapshot_new(const struct dbssl_config *cfg, const struct dbssl_tls_state *tls,
                   const struct dbssl_inuse_certs *certs, long long now, long long last_success,
                   const struct dbssl_snapshot_extra *x, struct dbssl_error *err) DBSSL_MUSTCHECK;
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
/* Publishes s (rendered), taking over the caller's reference. */
void dbssl_board_publish(struct dbssl_board *b, struct dbssl_snapshot *s);
/* A new reference to the current snapshot, or NULL before the first check. */
struct dbssl_snapshot *dbssl_board_get(struct dbssl_board *b);
/* Changes with every publish; 0 before the first. */
unsigned long long dbssl_board_generation(struct dbssl_board *b);

#endif
