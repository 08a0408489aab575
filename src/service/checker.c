/*
 * checker.c - the health checker thread (see checker.h).
 *
 * The lock protects only the counters and flags below; the check itself (the
 * database round trip, reading certificate files) runs unlocked, so that a
 * refresh request or stop never waits behind a hung server longer than its
 * own deadline.  Refreshes are counted: a waiter is satisfied by a check that
 * *started* after its request, never by one already under way with older
 * results.  Refresh requests are waiters linked into the checker and
 * answered by its thread when the check that covers them finished, so no
 * HTTP thread ever blocks on the database.
 */
#include "checker.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "conn_int.h" /* the connect API: the checker holds its session (PGconn) */
#include "expiry.h"
#include "hbarules.h"
#include "log.h"
#include "notify.h"
#include "pin.h"
#include "render.h"
#include "serverinfo.h"
#include "util.h"

#define BACKOFF_MAX 30
#define MAX_WARNED  64

enum link_state { LINK_UNKNOWN = 0, LINK_UP, LINK_DOWN };

/* When we last logged that a certificate (path + serial) is expiring or expired. */
struct warned {
    char *key;
    long long at;
};

struct dbssl_checker {
    struct dbssl_runtime *rt;
    struct dbssl_board *board;
    atomic_long timeout_s; /* DB_CONNECT_TIMEOUT of the set in use, for refresh waits */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* to the thread: refresh or stop */
    uint64_t requested;  /* refresh requests so far */
    bool stop;
    struct dbssl_refresh_waiter *waiters, *waiters_tail; /* unanswered refreshes, oldest first */
    /* owned by the thread */
    struct dbssl_loaded *set; /* the settings the connection was made with */
    PGconn *conn;
    bool opened_once;
    bool ready_sent;
    bool reloaded; /* the set was replaced: the next connect's outcome is news */
    enum link_state link;
    long long last_success;
    struct dbssl_check_stats stats;
    struct warned warned[MAX_WARNED];
    size_t n_warned;
    /* the server's settings and rules, read now and then (refresh_settings) */
    struct {
        json_t *json;
        long long at;
        unsigned checks;
        unsigned long long connection; /* stats.reconnects when read: a new session reads anew */
    } settings;
    /* the hosts of a multi-host DATABASE_URL, probed each check (hosts.h) */
    struct dbssl_hosts hosts;
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
    char server[ADDR_BUF];

    dbssl_tls_state_server(t, server, sizeof(server));
    dbssl_log(DBSSL_LOG_INFO, event, "server", server, "tls", t->ssl_in_use ? t->protocol : "none",
              "cipher", t->cipher, "server_version", t->server_version, NULL);
}

/* The link went down (or stayed down across a reload): what, why, and what to do. */
static void log_down(enum dbssl_log_level level, const char *event, const struct dbssl_tls_state *t,
                     const char *generation)
{
    dbssl_log(level, event, "class", dbssl_conn_class_name(t->error_class), "reason",
              t->error_class == DBSSL_CONN_CERT_VERIFY_FAILED ||
                      t->verify_reason != DBSSL_VERIFY_NONE
                  ? dbssl_verify_reason_name(t->verify_reason)
                  : NULL,
              "message", t->error_message, "detail", t->error_detail, "hint", t->error_hint,
              "generation", generation, NULL);
}

/* Takes up the settings in use; a replaced set closes the connection made with the old one. */
static void follow_settings(struct dbssl_checker *c, struct dbssl_reload_stats *reload)
{
    struct dbssl_loaded *cur = dbssl_runtime_get(c->rt, reload);

    if (cur == c->set) {
        dbssl_loaded_unref(cur);
        return;
    }
    if (c->conn != NULL) {
        dbssl_log(DBSSL_LOG_INFO, "reconnecting", "cause", "settings reloaded", NULL);
        PQfinish(c->conn);
        c->conn = NULL;
    }
    /* the old set may be freed here: nothing else of ours points into it */
    dbssl_loaded_unref(c->set);
    c->set = cur;
    c->reloaded = true;
    atomic_store(&c->timeout_s, cur->cfg->connect_timeout);
}

/*
 * One check: re-use the connection, or (re)connect.  Each change of the
 * link is logged once, never once per check: up -> down ("lost", or
 * "connect_failed" before it was ever up), down -> up ("restored"), and the
 * first connect with reloaded settings either way ("connected" or
 * "reconnect_failed"), since a reload that cannot connect would otherwise
 * leave the service unhealthy without a word for as long as it lasts.
 */
static void check_once(struct dbssl_checker *c, struct dbssl_tls_state *t)
{
    const struct dbssl_config *cfg = c->set->cfg;
    bool reloaded = c->reloaded;
    char gen[32];

    c->reloaded = false;
    snprintf(gen, sizeof(gen), "%llu", c->set->generation);
    if (c->conn != NULL && !dbssl_conn_check(c->conn, cfg, t)) {
        log_down(DBSSL_LOG_WARN, "lost", t, NULL);
        c->link = LINK_DOWN;
        PQfinish(c->conn);
        c->conn = NULL;
    }
    if (c->conn == NULL) {
        /* a server that restarted is usually back at once: try right away */
        /* a /tmp cleaner may have removed the private copies meanwhile */
        struct dbssl_conn_files files;
        struct dbssl_error pe;
        dbssl_error_clear(&pe);
        if (dbssl_pin_restore(&c->set->pinned, &pe) != 0)
            dbssl_log(DBSSL_LOG_WARN, "pinned_files_lost", "error", pe.message, NULL);
        /* the private copies of the files the set was validated with */
        files = dbssl_loaded_files(c->set);
        c->conn = dbssl_connect_files(cfg, &files, t, NULL);
        if (c->opened_once)
            c->stats.reconnects++;
        c->opened_once = true;
        if (c->conn != NULL) {
            log_up(c->link == LINK_DOWN ? "restored" : "connected", t);
            c->link = LINK_UP;
        } else if (reloaded) {
            log_down(DBSSL_LOG_ERROR, "reconnect_failed", t, gen);
            c->link = LINK_DOWN;
        } else if (c->link != LINK_DOWN) {
            log_down(DBSSL_LOG_ERROR, "connect_failed", t, NULL);
            c->link = LINK_DOWN;
        }
    }
}

/* A log line per certificate in the warning window (expiry.h's rules), at most once a day each. */
static void warn_expiry(struct dbssl_checker *c, const char *role, const char *path,
                        const char *subject, const char *serial, long long not_before,
                        long long not_after, long long now)
{
    const struct dbssl_config *cfg = c->set->cfg;
    char key[PATH_TEXT_BUF], when[32], days[32];
    struct warned *w = NULL;
    enum dbssl_expiry_state st;
    bool expired;

    if (not_after == 0)
        return;
    st = dbssl_expiry_state(not_before, not_after, now, cfg->expiry_warn_days);
    if (st != DBSSL_EXPIRY_EXPIRED && st != DBSSL_EXPIRY_EXPIRING)
        return;
    expired = st == DBSSL_EXPIRY_EXPIRED;
    /* expiring and expired are separate events: the day a certificate
     * expires must be logged even though it was warned about that morning */
    snprintf(key, sizeof(key), "%c%s\n%s", expired ? 'x' : 'w', path, serial);
    for (size_t i = 0; i < c->n_warned && w == NULL; i++)
        if (strcmp(c->warned[i].key, key) == 0)
            w = &c->warned[i];
    if (w != NULL && now - w->at < SECONDS_PER_DAY)
        return;
    if (w == NULL) {
        if (c->n_warned == MAX_WARNED) { /* many rotations: forget the oldest */
            free(c->warned[0].key);
            memmove(&c->warned[0], &c->warned[1], (MAX_WARNED - 1) * sizeof(c->warned[0]));
            c->n_warned--;
        }
        w = &c->warned[c->n_warned];
        if ((w->key = xstrdup(key)) == NULL)
            return;
        c->n_warned++;
    }
    w->at = now;
    format_rfc3339(not_after, when, sizeof(when));
    snprintf(days, sizeof(days), "%lld", dbssl_expiry_days_left(not_after, now));
    dbssl_log(expired ? DBSSL_LOG_ERROR : DBSSL_LOG_WARN,
              expired ? "certificate_expired" : "certificate_expiring", "role", role, "path", path,
              "subject", subject, "serial", serial, "not_after", when, "days_remaining", days,
              NULL);
}

static void warn_expiries(struct dbssl_checker *c, const struct dbssl_snapshot *s)
{
    const struct dbssl_tls_state *t = &s->tls;
    char server[ADDR_BUF];

    for (size_t i = 0; i < s->n_certs; i++)
        warn_expiry(c, s->certs[i].role, s->certs[i].path, s->certs[i].subject, s->certs[i].serial,
                    s->certs[i].not_before, s->certs[i].not_after, s->checked_at);
    if (t->connected && t->ssl_in_use) {
        dbssl_tls_state_server(t, server, sizeof(server));
        warn_expiry(c, "server", server, t->server_cert_subject, t->server_cert_serial,
                    t->server_cert_not_before, t->server_cert_not_after, s->checked_at);
    }
}

/*
 * The server's settings and pg_hba.conf findings over the checker's session,
 * at a slow pace (dbssl_serverinfo_due) and on each new session; a failed
 * read keeps the previous ones, whose read_at says how old they are.
 */
static void refresh_settings(struct dbssl_checker *c)
{
    struct dbssl_error e;
    long long now = dbssl_now();
    json_t *j;

    if (c->conn == NULL)
        return;
    c->settings.checks++;
    if (c->settings.connection == c->stats.reconnects &&
        !dbssl_serverinfo_due(c->settings.at, c->settings.checks, now))
        return;
    dbssl_error_clear(&e);
    if ((j = dbssl_server_settings_read(c->conn, c->set->cfg, &e)) == NULL) {
        dbssl_log(DBSSL_LOG_WARN, "server_settings_failed", "message", e.message, NULL);
        return;
    }
    json_decref(c->settings.json);
    c->settings.json = j;
    c->settings.at = now;
    c->settings.checks = 0;
    c->settings.connection = c->stats.reconnects;
}

/* Each host of a multi-host DATABASE_URL with the set's settings (nothing for one host). */
static void probe_hosts(struct dbssl_checker *c)
{
    struct dbssl_conn_files files = dbssl_loaded_files(c->set);

    dbssl_hosts_list(c->set->cfg, &c->hosts);
    if (c->hosts.n > 0)
        dbssl_hosts_probe(c->set->cfg, &files, &c->hosts);
}

/* A snapshot of a check with the set in use, judged and rendered: ready to publish. */
static struct dbssl_snapshot *snapshot(const struct dbssl_checker *c,
                                       const struct dbssl_tls_state *t, long long now,
                                       const struct dbssl_snapshot_extra *x,
                                       struct dbssl_error *err)
{
    /* the certificates read when the set was loaded: the set in use, even
     * when the files on disk were since replaced by a set a reload rejected */
    struct dbssl_snapshot *s =
        dbssl_snapshot_new(c->set->cfg, t, &c->set->certs, now, c->last_success, x, err);

    if (s != NULL && dbssl_render_snapshot(s, err) != 0) {
        dbssl_snapshot_unref(s);
        return NULL;
    }
    return s;
}

/*
 * The application's sessions, read on every check over the checker's
 * session (each query bounded by DB_CONNECT_TIMEOUT); UNREAD when not
 * connected.  A lost connection shows at the next check.
 */
static void read_sessions(struct dbssl_checker *c, const struct dbssl_tls_state *t,
                          struct dbssl_sessions *out)
{
    struct dbssl_error e;

    memset(out, 0, sizeof(*out));
    if (c->conn == NULL || !t->connected)
        return;
    dbssl_error_clear(&e);
    if (dbssl_sessions_read(c->conn, c->set->cfg, out, &e) != 0)
        dbssl_log(DBSSL_LOG_WARN, "sessions_check_failed", "message", e.message, NULL);
}

/*
 * PgBouncer's hops through its admin console (DB_PGBOUNCER_ADMIN_URL), a
 * connection of its own each check, bounded by DB_CONNECT_TIMEOUT; UNSET
 * when the setting is unset.
 */
static void read_pgbouncer(struct dbssl_checker *c, struct dbssl_pgbouncer *out)
{
    struct dbssl_conn_files files = dbssl_loaded_files(c->set);

    dbssl_pgbouncer_read(c->set->cfg, &files, out);
    if (out->state == DBSSL_PGBOUNCER_NOT_CHECKED)
        dbssl_log(DBSSL_LOG_WARN, "pgbouncer_check_failed", "message", out->note, NULL);
}

static void publish(struct dbssl_checker *c, const struct dbssl_tls_state *t,
                    const struct dbssl_reload_stats *reload, double duration_s,
                    const struct dbssl_sessions *sessions, const struct dbssl_pgbouncer *pgbouncer)
{
    struct dbssl_snapshot_extra x = {reload,   &c->stats, true,     duration_s, c->settings.json,
                                     sessions, &c->hosts, pgbouncer};
    struct dbssl_snapshot *s;
    long long now = dbssl_now();

    if (t->connected)
        c->last_success = now;
    s = snapshot(c, t, now, &x, NULL);
    if (s == NULL) {
        dbssl_log(DBSSL_LOG_ERROR, "check_failed", "cause", "out of memory", NULL);
        return; /* keep the previous snapshot rather than none */
    }
    warn_expiries(c, s);
    if (!c->ready_sent) {
        dbssl_notify_ready(dbssl_health_status_name(s->status));
        c->ready_sent = true;
    }
    dbssl_board_publish(c->board, s);
}

static void unlink_waiter(struct dbssl_checker *c, struct dbssl_refresh_waiter *w)
{
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        c->waiters = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    else
        c->waiters_tail = w->prev;
    w->prev = w->next = NULL;
    w->linked = false;
}

/* Answers the waiters covered by checks up to ticket `upto` (all when stopping); lock held. */
static void answer_waiters(struct dbssl_checker *c, uint64_t upto, bool fresh)
{
    struct dbssl_refresh_waiter *w = c->waiters, *next;

    /* tickets grow along the list: stop at the first one asked after this check began */
    for (; w != NULL && (!fresh || w->ticket <= upto); w = next) {
        next = w->next;
        unlink_waiter(c, w);
        w->done(w, fresh);
    }
}

static void *run(void *arg)
{
    struct dbssl_checker *c = arg;
    long backoff = 0;

    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        uint64_t serving = c->requested;
        struct dbssl_reload_stats reload;
        struct dbssl_tls_state t;
        struct dbssl_sessions sessions;
        struct dbssl_pgbouncer pgbouncer;
        struct timespec until;
        double t0, duration;
        long wait;

        pthread_mutex_unlock(&c->mu);
        follow_settings(c, &reload);
        t0 = dbssl_mono_fine_ms();
        check_once(c, &t);
        /* the check's own time, without the slow settings read */
        duration = (dbssl_mono_fine_ms() - t0) / (double)MS_PER_SECOND;
        refresh_settings(c);
        read_sessions(c, &t, &sessions);
        probe_hosts(c);
        read_pgbouncer(c, &pgbouncer);
        publish(c, &t, &reload, duration, &sessions, &pgbouncer);
        if (t.connected) {
            backoff = 0;
            wait = c->set->cfg->health_check_interval;
        } else {
            backoff = dbssl_checker_next_backoff(backoff, c->set->cfg->health_check_interval);
            wait = backoff;
        }
        pthread_mutex_lock(&c->mu);
        answer_waiters(c, serving, true);
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
    pthread_mutex_init(&c->mu, NULL);
    ret = 0;
out:
    pthread_condattr_destroy(&attr);
    return ret;
}

struct dbssl_checker *dbssl_checker_start(struct dbssl_runtime *rt, struct dbssl_board *board,
                                          struct dbssl_error *err)
{
    struct dbssl_checker *c = calloc(1, sizeof(*c));
    struct dbssl_reload_stats reload;
    struct dbssl_snapshot_extra x;
    struct dbssl_tls_state t;
    struct dbssl_snapshot *s;

    if (c == NULL || init_sync(c) != 0) {
        free(c);
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    c->rt = rt;
    c->board = board;
    c->set = dbssl_runtime_get(rt, &reload);
    atomic_init(&c->timeout_s, c->set->cfg->connect_timeout);
    memset(&t, 0, sizeof(t));
    t.error_class = DBSSL_CONN_OTHER;
    snprintf(t.error_message, sizeof(t.error_message), "the first check has not finished yet");
    snprintf(t.error_hint, sizeof(t.error_hint),
             "Wait for the first check (at most DB_CONNECT_TIMEOUT seconds) or ask with "
             "?refresh=1.");
    x = (struct dbssl_snapshot_extra){&reload, &c->stats, false, 0, NULL, NULL};
    s = snapshot(c, &t, dbssl_now(), &x, err);
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
    dbssl_loaded_unref(c->set);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->mu);
    free(c);
    return NULL;
}

void dbssl_checker_poke(struct dbssl_checker *c)
{
    pthread_mutex_lock(&c->mu);
    c->requested++;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->mu);
}

bool dbssl_checker_refresh_async(struct dbssl_checker *c, struct dbssl_refresh_waiter *w)
{
    bool ok;

    pthread_mutex_lock(&c->mu);
    ok = !c->stop;
    if (ok) {
        w->ticket = ++c->requested;
        w->next = NULL;
        w->prev = c->waiters_tail;
        w->linked = true;
        if (c->waiters_tail != NULL)
            c->waiters_tail->next = w;
        else
            c->waiters = w;
        c->waiters_tail = w;
        pthread_cond_signal(&c->wake);
    }
    pthread_mutex_unlock(&c->mu);
    return ok;
}

void dbssl_checker_refresh_cancel(struct dbssl_checker *c, struct dbssl_refresh_waiter *w)
{
    pthread_mutex_lock(&c->mu);
    if (w->linked)
        unlink_waiter(c, w);
    pthread_mutex_unlock(&c->mu);
}

long long dbssl_checker_refresh_wait_ms(struct dbssl_checker *c)
{
    return (atomic_load(&c->timeout_s) + 1) * 1000LL;
}

void dbssl_checker_begin_stop(struct dbssl_checker *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_broadcast(&c->wake);
    answer_waiters(c, 0, false);
    pthread_mutex_unlock(&c->mu);
}

void dbssl_checker_stop(struct dbssl_checker *c)
{
    if (c == NULL)
        return;
    dbssl_checker_begin_stop(c); /* harmless when already begun */
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->mu);
    for (size_t i = 0; i < c->n_warned; i++)
        free(c->warned[i].key);
    json_decref(c->settings.json);
    dbssl_loaded_unref(c->set);
    free(c);
}
