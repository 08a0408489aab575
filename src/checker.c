/*
 * checker.c - the health checker thread (see checker.h).
 *
 * The lock protects only the counters and flags below; the check itself (the
 * database round trip, reading certificate files) runs unlocked, so that a
 * refresh request or stop never waits behind a hung server longer than its
 * own deadline.  Refreshes are counted: a waiter is satisfied by a check that
 * *started* after its request, never by one already under way with older
 * results.
 */
#include "checker.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

#define BACKOFF_MAX 30

enum link_state { LINK_UNKNOWN = 0, LINK_UP, LINK_DOWN };

struct dbssl_checker {
    const struct dbssl_config *cfg;
    struct dbssl_board *board;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* to the thread: refresh or stop */
    pthread_cond_t done; /* from the thread: a check finished */
    uint64_t requested;  /* refresh requests so far */
    uint64_t completed;  /* the requests covered by finished checks */
    bool stop;
    /* owned by the thread */
    PGconn *conn;
    enum link_state link;
    long long last_success;
};

long dbssl_checker_next_backoff(long current, long interval)
{
    long next = current <= 0 ? 1 : current * 2;

    if (next > BACKOFF_MAX)
        next = BACKOFF_MAX;
    if (next > interval)
        next = interval;
    return next < 1 ? 1 : next;
}

static void deadline_in(struct timespec *ts, long seconds)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += seconds;
}

static void log_up(const char *event, const struct dbssl_tls_state *t)
{
    char server[300];

    snprintf(server, sizeof(server), "%s:%s", t->server_host, t->server_port);
    dbssl_log(DBSSL_LOG_INFO, event, "server", server, "tls", t->ssl_in_use ? t->protocol : "none",
              "cipher", t->cipher, "server_version", t->server_version, NULL);
}

static void log_down(enum dbssl_log_level level, const char *event, const struct dbssl_tls_state *t)
{
    dbssl_log(level, event, "cause", dbssl_conn_class_name(t->error_class), "reason",
              t->error_class == DBSSL_CONN_CERT_VERIFY_FAILED
                  ? dbssl_verify_reason_name(t->verify_reason)
                  : NULL,
              "message", t->error_message, NULL);
}

/* One check: re-use the connection, or (re)connect; log state changes. */
static void check_once(struct dbssl_checker *c, struct dbssl_tls_state *t)
{
    if (c->conn != NULL && !dbssl_conn_check(c->conn, c->cfg, t)) {
        log_down(DBSSL_LOG_WARN, "lost", t);
        c->link = LINK_DOWN;
        PQfinish(c->conn);
        c->conn = NULL;
    }
    if (c->conn == NULL) {
        /* a server that restarted is usually back at once: try right away */
        c->conn = dbssl_connect(c->cfg, t, NULL);
        if (c->conn != NULL) {
            log_up(c->link == LINK_DOWN ? "restored" : "connected", t);
            c->link = LINK_UP;
        } else if (c->link == LINK_UNKNOWN) {
            log_down(DBSSL_LOG_ERROR, "connect_failed", t);
            c->link = LINK_DOWN;
        }
    }
}

static void publish(struct dbssl_checker *c, const struct dbssl_tls_state *t)
{
    struct dbssl_health_certs certs = {NULL, 0, NULL, 0};
    struct dbssl_snapshot *s;
    long long now = now_epoch();

    if (t->connected)
        c->last_success = now;
    if (dbssl_health_certs_collect(c->cfg, &certs, NULL) != 0)
        memset(&certs, 0, sizeof(certs));
    s = dbssl_snapshot_new(c->cfg, t, &certs, now, c->last_success, NULL);
    dbssl_health_certs_free(&certs);
    if (s == NULL) {
        dbssl_log(DBSSL_LOG_ERROR, "check_failed", "cause", "out of memory", NULL);
        return; /* keep the previous snapshot rather than none */
    }
    dbssl_board_publish(c->board, s);
}

static void *run(void *arg)
{
    struct dbssl_checker *c = arg;
    long backoff = 0;

    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        uint64_t serving = c->requested;
        struct dbssl_tls_state t;
        struct timespec until;
        long wait;

        pthread_mutex_unlock(&c->mu);
        check_once(c, &t);
        publish(c, &t);
        if (t.connected) {
            backoff = 0;
            wait = c->cfg->health_check_interval;
        } else {
            backoff = dbssl_checker_next_backoff(backoff, c->cfg->health_check_interval);
            wait = backoff;
        }
        pthread_mutex_lock(&c->mu);
        c->completed = serving;
        pthread_cond_broadcast(&c->done);
        deadline_in(&until, wait);
        while (!c->stop && c->requested == serving)
            if (pthread_cond_timedwait(&c->wake, &c->mu, &until) == ETIMEDOUT)
                break;
    }
    pthread_mutex_unlock(&c->mu);
    PQfinish(c->conn);
    c->conn = NULL;
    return NULL;
}

static int init_sync(struct dbssl_checker *c)
{
    pthread_condattr_t attr;
    int ret = -1;

    if (pthread_condattr_init(&attr) != 0)
        return -1;
    /* wall-clock jumps must not stretch or skip an interval */
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&c->wake, &attr) != 0)
        goto out;
    if (pthread_cond_init(&c->done, &attr) != 0) {
        pthread_cond_destroy(&c->wake);
        goto out;
    }
    pthread_mutex_init(&c->mu, NULL);
    ret = 0;
out:
    pthread_condattr_destroy(&attr);
    return ret;
}

struct dbssl_checker *dbssl_checker_start(const struct dbssl_config *cfg, struct dbssl_board *board,
                                          struct dbssl_error *err)
{
    struct dbssl_checker *c = calloc(1, sizeof(*c));
    struct dbssl_tls_state t;
    struct dbssl_snapshot *s;

    if (c == NULL || init_sync(c) != 0) {
        free(c);
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    c->cfg = cfg;
    c->board = board;
    memset(&t, 0, sizeof(t));
    t.error_class = DBSSL_CONN_OTHER;
    snprintf(t.error_message, sizeof(t.error_message), "the first check has not finished yet");
    snprintf(t.error_hint, sizeof(t.error_hint),
             "Wait for the first check (at most DB_CONNECT_TIMEOUT seconds) or ask with "
             "?refresh=1.");
    s = dbssl_snapshot_new(cfg, &t, NULL, now_epoch(), 0, err);
    if (s == NULL)
        goto fail;
    dbssl_board_publish(board, s);
    if (pthread_create(&c->thread, NULL, run, c) != 0) {
        dbssl_error_set(err, DBSSL_ERR_INTERNAL, NULL, "could not start the checker thread: %s",
                        strerror(errno));
        goto fail;
    }
    return c;
fail:
    pthread_cond_destroy(&c->wake);
    pthread_cond_destroy(&c->done);
    pthread_mutex_destroy(&c->mu);
    free(c);
    return NULL;
}

bool dbssl_checker_refresh(struct dbssl_checker *c)
{
    struct timespec until;
    uint64_t mine;
    bool ok;

    pthread_mutex_lock(&c->mu);
    mine = ++c->requested;
    pthread_cond_signal(&c->wake);
    deadline_in(&until, c->cfg->connect_timeout + 1);
    while (!c->stop && c->completed < mine)
        if (pthread_cond_timedwait(&c->done, &c->mu, &until) == ETIMEDOUT)
            break;
    ok = c->completed >= mine;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

void dbssl_checker_stop(struct dbssl_checker *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_broadcast(&c->wake);
    pthread_cond_broadcast(&c->done);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->wake);
    pthread_cond_destroy(&c->done);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
