/*
 * reload.h - the settings in use, and replacing them without a restart.
 *
 * A "loaded" set is a validated configuration together with the
 * certificates it read, immutable and reference-counted: the checker keeps
 * a reference for as long as it uses a set, so a reload never frees memory
 * a reader still holds.  The runtime holds the current set; its mutex is
 * held only to swap or take a reference.  A reload builds the new set
 * completely (re-read .env, every certificate and key, full validation)
 * before the swap, and on any finding keeps the last good set.
 *
 * The watcher thread turns changed certificate files (plain overwrite,
 * rename, the Kubernetes `..data` symlink swap) into the same reload, and
 * periodically asks whether auto-generated certificates are due renewal.
 */
#ifndef DBSSL_RELOAD_H
#define DBSSL_RELOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"
#include "dbssl/error.h"
#include "health.h"

struct dbssl_loaded {
    atomic_int refs;
    unsigned long long generation; /* 1 for the settings loaded at start */
    struct dbssl_config *cfg;
    struct dbssl_health_certs certs; /* as read when the set was loaded */
};

struct dbssl_loaded *dbssl_loaded_ref(struct dbssl_loaded *l);
/* Drops a reference; frees the set (and its config) at zero.  NULL is fine. */
void dbssl_loaded_unref(struct dbssl_loaded *l);

/* CA, client certificate, client key, CRL, .env */
#define DBSSL_RELOAD_NWATCHED 5

struct dbssl_runtime {
    pthread_mutex_t mu;        /* cur and stats; held only for copies and the swap */
    pthread_mutex_t reloading; /* one reload at a time (signal and watcher) */
    struct dbssl_loaded *cur;
    struct dbssl_reload_stats stats;
    char *env_file; /* as given to serve (NULL: ./.env when present) */
    /* files named by the last refused settings: watched too, so that putting
     * the missing file in place retries the reload (under mu) */
    char *retry_paths[DBSSL_RELOAD_NWATCHED];
};

/*
 * Starts with cfg (validated by the caller; taken over, freed by the
 * runtime).  -1 on out-of-memory, cfg then freed too.
 */
int dbssl_runtime_init(struct dbssl_runtime *rt, const char *env_file, struct dbssl_config *cfg,
                       struct dbssl_error *err) DBSSL_MUSTCHECK;
void dbssl_runtime_destroy(struct dbssl_runtime *rt);

/* A reference to the set in use, and (when stats is not NULL) the reload outcomes. */
struct dbssl_loaded *dbssl_runtime_get(struct dbssl_runtime *rt, struct dbssl_reload_stats *stats);

/*
 * Re-reads the settings and files, validates them, and swaps them in only
 * when valid; otherwise logs every finding, counts a failure and keeps the
 * set in use.  cause ("signal", "files changed", ...) goes to the log.
 * Returns whether the new set is in use.
 */
bool dbssl_runtime_reload(struct dbssl_runtime *rt, const char *cause);

/*
 * Whether an auto-generated certificate in l has passed two thirds of its
 * lifetime at now, so that it must be renewed before the warning window.
 */
bool dbssl_renewal_due(const struct dbssl_loaded *l, long long now);

struct dbssl_watcher;

/*
 * Watches the certificate, key, CRL and .env files of the set in use
 * (following reloads) and calls on_change(arg) from its own thread when they
 * changed and are complete (see watch.h; debounce_ms is the window their
 * content must be stable across).  Also calls it after renewing
 * auto-generated certificates that were due.
 */
struct dbssl_watcher *dbssl_watcher_start(struct dbssl_runtime *rt, int debounce_ms,
                                          void (*on_change)(void *arg, const char *cause),
                                          void *arg, struct dbssl_error *err) DBSSL_MUSTCHECK;
/* Stops the thread (at once, or after a reload under way) and frees w.  NULL is fine. */
void dbssl_watcher_stop(struct dbssl_watcher *w);

#endif
