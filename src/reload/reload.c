/*
 * reload.c - the settings in use and their replacement (see reload.h).
 *
 * Order matters for "never a moment without a working configuration": the
 * new set is loaded, validated and its certificates read while the old one
 * keeps serving; the swap is one pointer under a mutex; the old set is freed
 * by whoever drops the last reference (usually the checker, once it has
 * reconnected with the new files).
 */
#include "reload.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "certs.h"
#include "clock.h"
#include "expiry.h"
#include "log.h"
#include "pin.h"
#include "util.h"
#include "validate.h"
#include "watch.h"

#define WATCH_TIMEOUT_MS   500
#define RENEWAL_CHECK_SECS 60
#define NWATCHED           DBSSL_RELOAD_NWATCHED

static void set_retry_paths(struct dbssl_runtime *rt, const struct dbssl_config *cfg);

/* ---- loaded sets ------------------------------------------------------------------ */

/*
 * A set without settings yet: a reload makes its private copies first and
 * validates what was copied (loaded_adopt() completes it).
 */
static struct dbssl_loaded *loaded_new(struct dbssl_error *err)
{
    struct dbssl_loaded *l = calloc(1, sizeof(*l));

    if (l == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    atomic_init(&l->refs, 1);
    dbssl_pin_init(&l->pinned);
    return l;
}

/*
 * Completes l with cfg (taken over: freed with l) and reads its
 * certificates; the first set's files are copied here.  On failure the
 * caller drops l.
 */
static int loaded_adopt(struct dbssl_loaded *l, struct dbssl_config *cfg,
                        unsigned long long generation, struct dbssl_error *err)
{
    l->cfg = cfg;
    l->generation = generation;
    if ((l->pinned.dir == NULL && dbssl_pin_files(cfg, &l->pinned, err) != 0) ||
        dbssl_inuse_certs_collect(cfg, &l->certs, err) != 0)
        return -1;
    return 0;
}

struct dbssl_loaded *dbssl_loaded_ref(struct dbssl_loaded *l)
{
    if (l != NULL)
        atomic_fetch_add(&l->refs, 1);
    return l;
}

void dbssl_loaded_unref(struct dbssl_loaded *l)
{
    if (l == NULL || atomic_fetch_sub(&l->refs, 1) != 1)
        return;
    dbssl_inuse_certs_free(&l->certs);
    dbssl_pin_remove(&l->pinned);
    dbssl_config_free(l->cfg);
    free(l);
}

struct dbssl_conn_files dbssl_loaded_files(const struct dbssl_loaded *l)
{
    return (struct dbssl_conn_files){l->pinned.ca.path, l->pinned.cert.path, l->pinned.key.path,
                                     l->pinned.crl.path, l->pinned.keypass};
}

/* ---- the runtime ------------------------------------------------------------------- */

int dbssl_runtime_init(struct dbssl_runtime *rt, const char *env_file, struct dbssl_config *cfg,
                       struct dbssl_error *err)
{
    memset(rt, 0, sizeof(*rt));
    if (env_file != NULL && (rt->env_file = xstrdup(env_file)) == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        goto fail;
    }
    if ((rt->cur = loaded_new(err)) == NULL)
        goto fail;
    if (loaded_adopt(rt->cur, cfg, 1, err) != 0) {
        cfg = NULL; /* freed with the set */
        goto fail;
    }
    pthread_mutex_init(&rt->mu, NULL);
    pthread_mutex_init(&rt->reloading, NULL);
    rt->stats.last_success_at = dbssl_now();
    return 0;
fail:
    dbssl_loaded_unref(rt->cur);
    rt->cur = NULL;
    dbssl_config_free(cfg);
    free(rt->env_file);
    rt->env_file = NULL;
    return -1;
}

void dbssl_runtime_destroy(struct dbssl_runtime *rt)
{
    dbssl_loaded_unref(rt->cur);
    rt->cur = NULL;
    set_retry_paths(rt, NULL);
    free(rt->env_file);
    rt->env_file = NULL;
    pthread_mutex_destroy(&rt->mu);
    pthread_mutex_destroy(&rt->reloading);
}

void dbssl_runtime_erase_copies(struct dbssl_runtime *rt)
{
    struct dbssl_loaded *l = dbssl_runtime_get(rt, NULL);

    dbssl_pin_erase(&l->pinned);
    dbssl_loaded_unref(l);
}

struct dbssl_loaded *dbssl_runtime_get(struct dbssl_runtime *rt, struct dbssl_reload_stats *stats)
{
    struct dbssl_loaded *l;

    pthread_mutex_lock(&rt->mu);
    l = dbssl_loaded_ref(rt->cur);
    if (stats != NULL)
        *stats = rt->stats;
    pthread_mutex_unlock(&rt->mu);
    return l;
}

/* Keeps the set in use: counts the failure and remembers why (e) for the health body. */
static void reject(struct dbssl_runtime *rt, const char *cause, const struct dbssl_error *e)
{
    pthread_mutex_lock(&rt->mu);
    rt->stats.failure++;
    rt->stats.last_error_at = dbssl_now();
    rt->stats.last_error = *e;
    pthread_mutex_unlock(&rt->mu);
    dbssl_log(DBSSL_LOG_ERROR, "reload_failed", "cause", cause, "error", e->message, "detail",
              e->detail, "hint", e->hint, "action", "keeping the settings in use", NULL);
}

/* A refused downgrade: rejected, and remembered until a different set is adopted. */
static void reject_downgrade(struct dbssl_runtime *rt, const char *cause, const char *weakening)
{
    struct dbssl_error e;

    dbssl_error_clear(&e);
    dbssl_error_setx(&e, DBSSL_ERR_CONFIG, weakening,
                     "Restart dbssl serve to apply them deliberately.",
                     "refused: the new settings weaken TLS");
    reject(rt, cause, &e);
    pthread_mutex_lock(&rt->mu);
    rt->refused_downgrade_at = rt->stats.last_error_at;
    rt->refused_downgrade = e;
    pthread_mutex_unlock(&rt->mu);
}

/*
 * Logs each finding; returns the refusal, its detail the errors as one line
 * ("SETTING: message; ...").
 */
static void describe_findings(const struct dbssl_findings *f, struct dbssl_error *e)
{
    struct strbuf sb;
    char *errors;

    strbuf_init(&sb);
    for (size_t i = 0; i < dbssl_findings_count(f); i++) {
        const struct dbssl_finding *fd = dbssl_findings_at(f, i);
        bool error = fd->severity == DBSSL_SEVERITY_ERROR;
        dbssl_log(error ? DBSSL_LOG_ERROR : DBSSL_LOG_WARN, "reload_finding", "severity",
                  dbssl_severity_name(fd->severity), "setting", fd->setting, "message", fd->message,
                  "detail", fd->detail, "hint", fd->hint, NULL);
        if (!error)
            continue;
        if (sb.len > 0)
            strbuf_append(&sb, "; ");
        strbuf_printf(&sb, "%s: %s", fd->setting, fd->message);
    }
    errors = strbuf_take(&sb);
    dbssl_error_setx(e, DBSSL_ERR_CONFIG, errors,
                     "The settings in use are kept; fix what the detail names (the reload_finding "
                     "log lines give each hint), and the reload is tried again when the files "
                     "change.",
                     "refused: the new settings are invalid");
    free(errors);
}

/* Settings a reload cannot apply (the listen address): say so rather than ignore them. */
/*
 * The files of cfg that a change must reload: CA, client certificate and key,
 * CRL, and the dotenv file itself, so that editing a setting needs no signal
 * either (an edit that does not validate is refused like any other).
 */
static void files_of(const struct dbssl_config *cfg, char *out[NWATCHED])
{
    struct dbssl_file_ref ca, cert, key;

    memset(out, 0, NWATCHED * sizeof(*out));
    if (dbssl_config_ca_file(cfg, &ca))
        out[0] = xstrdup(ca.path);
    if (dbssl_config_client_files(cfg, &cert, &key)) {
        out[1] = xstrdup(cert.path);
        out[2] = xstrdup(key.path);
    }
    out[3] = xstrdup(cfg->crl);
    out[4] = xstrdup(cfg->env_file);
}

/* Replaces the paths watched for a retry (cfg NULL: none).  Caller holds rt->mu. */
static void set_retry_paths(struct dbssl_runtime *rt, const struct dbssl_config *cfg)
{
    for (int i = 0; i < NWATCHED; i++) {
        free(rt->retry_paths[i]);
        rt->retry_paths[i] = NULL;
    }
    if (cfg != NULL)
        files_of(cfg, rt->retry_paths);
}

static void note_restart_needed(const struct dbssl_config *old, const struct dbssl_config *cur)
{
    for (int i = 0; i < DBSSL_OPTION_COUNT; i++) {
        if ((dbssl_options[i].flags & DBSSL_OPT_F_RELOADABLE) != 0 ||
            strcmp(old->settings[i].value, cur->settings[i].value) == 0)
            continue;
        dbssl_log(DBSSL_LOG_WARN, "restart_required", "setting", dbssl_options[i].name, "message",
                  "changed, but takes effect only when dbssl serve is restarted", NULL);
    }
}

/* The same settings, from the same .env, with files of the same bytes (copied in pinned). */
static bool same_set(const struct dbssl_loaded *cur, const struct dbssl_config *b,
                     const struct dbssl_pinned *pinned)
{
    const struct dbssl_config *a = cur->cfg;

    for (int i = 0; i < DBSSL_OPTION_COUNT; i++)
        if (strcmp(a->settings[i].value, b->settings[i].value) != 0)
            return false;
    if ((a->env_file == NULL) != (b->env_file == NULL) ||
        (a->env_file != NULL && strcmp(a->env_file, b->env_file) != 0))
        return false;
    return dbssl_pin_same(&cur->pinned, pinned);
}

/*
 * A reload that re-read exactly the set in use: a success with nothing to
 * swap.  It clears an error (a bad file was put right) but shows the refused
 * downgrade again, if any: see refused_downgrade in reload.h.
 */
static void keep_unchanged(struct dbssl_runtime *rt, const char *cause)
{
    char gen[32];

    pthread_mutex_lock(&rt->mu);
    rt->stats.success++;
    rt->stats.last_success_at = dbssl_now();
    rt->stats.last_error_at = rt->refused_downgrade_at;
    rt->stats.last_error = rt->refused_downgrade;
    set_retry_paths(rt, NULL);
    snprintf(gen, sizeof(gen), "%llu", rt->cur->generation);
    pthread_mutex_unlock(&rt->mu);
    dbssl_log(DBSSL_LOG_INFO, "reload_unchanged", "cause", cause, "generation", gen, "message",
              "the settings and files are those in use", NULL);
}

bool dbssl_runtime_reload(struct dbssl_runtime *rt, const char *cause)
{
    struct dbssl_config *cfg = NULL;
    struct dbssl_findings *f = NULL;
    struct dbssl_loaded *fresh = NULL, *old;
    struct dbssl_error e;
    struct strbuf weak;
    char gen[32];
    bool ok = false;

    pthread_mutex_lock(&rt->reloading);
    dbssl_error_clear(&e);
    strbuf_init(&weak);
    dbssl_log(DBSSL_LOG_INFO, "reload_started", "cause", cause, NULL);
    if ((cfg = dbssl_config_load(rt->env_file, &e)) == NULL) {
        reject(rt, cause, &e);
        goto out;
    }
    /* the dotenv file the running settings came from is gone: without it the
     * defaults (prefer) would quietly replace its settings */
    if (rt->cur->cfg->env_file != NULL && cfg->env_file == NULL) {
        dbssl_error_set(&e, DBSSL_ERR_IO,
                        "Put the file back, or restart dbssl serve to run without it.",
                        "env file \"%s\" of the running settings no longer exists; they are kept",
                        rt->cur->cfg->env_file);
        reject(rt, cause, &e);
        goto out;
    }
    /* before validation: a weaker set is refused whatever else is wrong with
     * it, and this is the reason that matters (a half-written .env) */
    if (dbssl_settings_weakening(rt->cur->cfg, cfg, &weak) > 0) {
        reject_downgrade(rt, cause, weak.data ? weak.data : "out of memory");
        goto out;
    }
    /* copy first, so that the files validated are the files that will be used */
    if ((fresh = loaded_new(&e)) == NULL || dbssl_pin_files(cfg, &fresh->pinned, &e) != 0 ||
        (f = dbssl_config_validate(cfg, &e)) == NULL) {
        reject(rt, cause, &e);
        goto out;
    }
    if (dbssl_findings_errors(f) > 0) {
        describe_findings(f, &e);
        reject(rt, cause, &e);
        goto out;
    }
    describe_findings(f, NULL); /* warnings only: logged, nothing to keep */
    if (dbssl_pin_verify(cfg, &fresh->pinned, &e) != 0) {
        reject(rt, cause, &e);
        goto out;
    }
    if (same_set(rt->cur, cfg, &fresh->pinned)) {
        keep_unchanged(rt, cause);
        dbssl_config_free(cfg);
        cfg = NULL; /* nothing refused: no retry paths */
        ok = true;
        goto out;
    }
    /* only a reload replaces rt->cur, and we hold the reload lock: no race */
    snprintf(gen, sizeof(gen), "%llu", rt->cur->generation + 1);
    if (loaded_adopt(fresh, cfg, rt->cur->generation + 1, &e) != 0) {
        cfg = NULL; /* freed with fresh */
        reject(rt, cause, &e);
        goto out;
    }
    cfg = NULL; /* fresh's now */
    pthread_mutex_lock(&rt->mu);
    old = rt->cur;
    rt->cur = fresh;
    fresh = NULL;
    rt->stats.success++;
    rt->stats.last_success_at = dbssl_now();
    rt->stats.last_error_at = 0;
    dbssl_error_clear(&rt->stats.last_error);
    rt->refused_downgrade_at = 0;
    dbssl_error_clear(&rt->refused_downgrade);
    set_retry_paths(rt, NULL);
    pthread_mutex_unlock(&rt->mu);
    note_restart_needed(old->cfg, rt->cur->cfg);
    dbssl_log_set_format(rt->cur->cfg->log_format);
    dbssl_log(DBSSL_LOG_INFO, "reloaded", "cause", cause, "generation", gen, NULL);
    dbssl_loaded_unref(old);
    ok = true;
out:
    if (cfg != NULL) {
        /* refused: watch what it named, so that fixing it retries */
        pthread_mutex_lock(&rt->mu);
        set_retry_paths(rt, cfg);
        pthread_mutex_unlock(&rt->mu);
    }
    dbssl_loaded_unref(fresh); /* a set not taken into use, with its copies */
    strbuf_free(&weak);
    dbssl_findings_free(f);
    dbssl_config_free(cfg);
    pthread_mutex_unlock(&rt->reloading);
    return ok;
}

/* ---- renewal of auto-generated certificates ------------------------------------------ */

/* The earliest time a generated certificate in use is due for renewal
 * (expiry.h's rule, as `dbssl certs generate` decides), or 0 when none is
 * generated. */
static long long renewal_due_at(const struct dbssl_loaded *l)
{
    struct dbssl_file_ref refs[3];
    long long due = 0;
    size_t n = 0;

    if (dbssl_config_ca_file(l->cfg, &refs[n]))
        n++;
    if (dbssl_config_client_files(l->cfg, &refs[n], &refs[n + 1]))
        n++;
    for (size_t r = 0; r < n; r++) {
        if (!refs[r].generated)
            continue;
        for (size_t i = 0; i < l->certs.n; i++) {
            const struct dbssl_inuse_cert *c = &l->certs.v[i];
            long long at =
                dbssl_expiry_renew_at(c->not_before, c->not_after,
                                      dbssl_expiry_renew_window(l->cfg->auto_cert_validity_days,
                                                                l->cfg->expiry_warn_days));
            if (strcmp(c->path, refs[r].path) == 0 && (due == 0 || at < due))
                due = at;
        }
    }
    return due;
}

bool dbssl_renewal_due(const struct dbssl_loaded *l, long long now)
{
    long long due = renewal_due_at(l);

    return due != 0 && now >= due;
}

/*
 * Renews the generated certificates of cfg in place.  Returns 1 when new
 * files were written (the reload then takes them into use like any changed
 * file), 0 when nothing was due, -1 on failure with err set.
 */
static int renew_generated(const struct dbssl_config *cfg, struct dbssl_error *err)
{
    struct dbssl_certs_result res;
    const unsigned server = (1u << DBSSL_CERTS_SERVER_CRT) | (1u << DBSSL_CERTS_SERVER_KEY);

    if (dbssl_certs_ensure(cfg, &res, err) != 0)
        return -1;
    if (res.written == 0)
        return 0;
    for (int i = 0; i < DBSSL_CERTS_NFILES; i++)
        if (res.written & (1u << i))
            dbssl_log(DBSSL_LOG_INFO, "certificate_renewed", "file",
                      dbssl_certs_file_name((enum dbssl_certs_file)i), "dir", res.dir, "reason",
                      res.reason[i], NULL);
    /* PostgreSQL reads its certificate only at start and on reload */
    if (res.written & server)
        dbssl_log(DBSSL_LOG_WARN, "server_certificate_renewed", "dir", res.dir, "action",
                  "reload PostgreSQL to use it: pg_ctl reload -D DATADIR (or SELECT "
                  "pg_reload_conf()); dbssl dev-db stop && dbssl dev-db start for the "
                  "development database",
                  NULL);
    return 1;
}

/* ---- the watcher thread ------------------------------------------------------------ */

struct dbssl_watcher {
    pthread_t thread;
    struct dbssl_runtime *rt;
    int debounce_ms;
    void (*on_change)(void *arg, const char *cause);
    void *arg;
    atomic_bool stop;
    int wake_fd; /* eventfd: readable once stop is set, so no wait outlasts it */
    /* owned by the thread */
    struct dbssl_watch *watch;
    char *paths[2 * NWATCHED]; /* the set in use, then the refused one's */
};

static bool same_files(char *const a[2 * NWATCHED], char *const b[2 * NWATCHED])
{
    for (int i = 0; i < 2 * NWATCHED; i++)
        if ((a[i] == NULL) != (b[i] == NULL) || (a[i] && strcmp(a[i], b[i]) != 0))
            return false;
    return true;
}

/* Re-creates the inotify watch only when the set of files changed; the new
 * one starts from what the old one saw, so a change made meanwhile counts. */
static void follow(struct dbssl_watcher *w, const struct dbssl_loaded *l)
{
    char *now[2 * NWATCHED];
    struct dbssl_watch *next;

    files_of(l->cfg, now);
    pthread_mutex_lock(&w->rt->mu);
    for (int i = 0; i < NWATCHED; i++)
        now[NWATCHED + i] = xstrdup(w->rt->retry_paths[i]);
    pthread_mutex_unlock(&w->rt->mu);
    if (w->watch != NULL && same_files(now, w->paths)) {
        for (int i = 0; i < 2 * NWATCHED; i++)
            free(now[i]);
        return;
    }
    for (int i = 0; i < 2 * NWATCHED; i++) {
        free(w->paths[i]);
        w->paths[i] = now[i];
    }
    next = dbssl_watch_new((const char *const *)w->paths, 2 * NWATCHED, NULL);
    dbssl_watch_inherit(next, w->watch);
    dbssl_watch_free(w->watch);
    w->watch = next;
}

static void *watch_run(void *arg)
{
    struct dbssl_watcher *w = arg;
    long long next_renewal_check = 0;
    bool renewal_logged = false;

    while (!atomic_load(&w->stop)) {
        struct dbssl_loaded *l = dbssl_runtime_get(w->rt, NULL);
        long long now = dbssl_now();
        bool renewed = false;

        follow(w, l);
        if (now >= next_renewal_check) {
            struct dbssl_error e;
            long long due = renewal_due_at(l);
            /* look again in a minute, or right when a certificate falls due */
            next_renewal_check = now + RENEWAL_CHECK_SECS;
            if (due > now && due < next_renewal_check)
                next_renewal_check = due;
            dbssl_error_clear(&e);
            if (dbssl_renewal_due(l, now)) {
                int rc;
                /* no reload may read the set while it is being rewritten */
                pthread_mutex_lock(&w->rt->reloading);
                rc = renew_generated(l->cfg, &e);
                pthread_mutex_unlock(&w->rt->reloading);
                renewed = rc > 0;
                if (rc < 0 && !renewal_logged)
                    dbssl_log(DBSSL_LOG_WARN, "renewal_failed", "error", e.message, "hint", e.hint,
                              NULL);
                renewal_logged = rc < 0;
            }
        }
        dbssl_loaded_unref(l);
        if (renewed) {
            w->on_change(w->arg, "renewed generated certificates");
            /* that reload read the renewed files: their change is no news */
            if (w->watch != NULL)
                (void)dbssl_watch_wait(w->watch, 0, w->debounce_ms, w->wake_fd);
        }
        if (w->watch != NULL) {
            if (dbssl_watch_wait(w->watch, WATCH_TIMEOUT_MS, w->debounce_ms, w->wake_fd) &&
                !atomic_load(&w->stop))
                w->on_change(w->arg, "files changed");
        } else {
            struct pollfd pfd = {w->wake_fd, POLLIN, 0};
            (void)poll(&pfd, 1, WATCH_TIMEOUT_MS);
        }
    }
    return NULL;
}

struct dbssl_watcher *dbssl_watcher_start(struct dbssl_runtime *rt, int debounce_ms,
                                          void (*on_change)(void *arg, const char *cause),
                                          void *arg, struct dbssl_error *err)
{
    struct dbssl_watcher *w = calloc(1, sizeof(*w));
    int rc;

    if (w == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    w->rt = rt;
    w->debounce_ms = debounce_ms;
    w->on_change = on_change;
    w->arg = arg;
    atomic_init(&w->stop, false);
    if ((w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        dbssl_error_set(err, DBSSL_ERR_INTERNAL, NULL, "could not start the file watcher: %s",
                        strerror(errno));
        free(w);
        return NULL;
    }
    if ((rc = pthread_create(&w->thread, NULL, watch_run, w)) != 0) {
        dbssl_error_set(err, DBSSL_ERR_INTERNAL, NULL, "could not start the file watcher: %s",
                        strerror(rc));
        close(w->wake_fd);
        free(w);
        return NULL;
    }
    return w;
}

void dbssl_watcher_stop(struct dbssl_watcher *w)
{
    const uint64_t one = 1;

    if (w == NULL)
        return;
    atomic_store(&w->stop, true);
    (void)!write(w->wake_fd, &one, sizeof(one));
    pthread_join(w->thread, NULL);
    close(w->wake_fd);
    dbssl_watch_free(w->watch);
    for (int i = 0; i < 2 * NWATCHED; i++)
        free(w->paths[i]);
    free(w);
}
