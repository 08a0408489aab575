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
 * A reload never weakens TLS silently: new settings that would lower the
 * protection in use (see dbssl_settings_weakening) are refused like invalid
 * ones, and only a restart applies them.
 *
 * The watcher thread turns changed certificate and .env files (plain
 * overwrite, rename, the Kubernetes `..data` symlink swap) into the same
 * reload once they are complete, and periodically asks whether
 * auto-generated certificates are due renewal.
 */
#ifndef DBSSL_RELOAD_H
#define DBSSL_RELOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "certs_inuse.h"
#include "config.h"
#include "conn_types.h"
#include "error_int.h"
#include "pin.h"

struct strbuf;

/* Outcomes of configuration reloads so far, as the health bodies and /metrics show them. */
struct dbssl_reload_stats {
    unsigned long long success, failure;
    long long last_success_at; /* epoch seconds; the initial load counts */
    long long last_error_at;   /* 0: the latest reload (if any) succeeded */
    /* why the latest reload was refused (primary, detail, hint), secret-free */
    struct dbssl_error last_error;
};

struct dbssl_loaded {
    atomic_int refs;
    unsigned long long generation; /* 1 for the settings loaded at start */
    struct dbssl_config *cfg;
    struct dbssl_inuse_certs certs; /* as read when the set was loaded */
    /*
     * Private copies of the TLS files as they were validated (pin.h).
     * libpq reads its files at every connect: pointing it at these copies
     * (dbssl_loaded_files) means a reconnect uses the accepted set, never
     * files a reload refused.  Removed with the set.
     */
    struct dbssl_pinned pinned;
};

struct dbssl_loaded *dbssl_loaded_ref(struct dbssl_loaded *l);
/* Drops a reference; frees the set (its config, its copies) at zero.  NULL is fine. */
void dbssl_loaded_unref(struct dbssl_loaded *l);

/*
 * The files libpq is to use for l: its private copies.  The paths belong to
 * l and change when dbssl_pin_restore() replaces a deleted directory: ask
 * again before each connect.
 */
struct dbssl_conn_files dbssl_loaded_files(const struct dbssl_loaded *l);

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
    /*
     * The last refused downgrade since the set in use was adopted (under mu;
     * at 0: none).  stats.last_error shows the latest refusal of any kind,
     * and a reload that finds the settings in use unchanged clears it, as it
     * always did once a bad file is put right: but then it shows this record
     * again rather than nothing.  Why: the usual downgrade is a file written
     * in two steps (an editor, `cp` over a slow disk, a config-management
     * run), and the second step restores settings identical to those in use
     * a second later; without the record the attempt to weaken TLS would
     * leave no trace in the health body.  Only adopting a different valid
     * set (or a restart) forgets it.
     */
    struct dbssl_error refused_downgrade;
    long long refused_downgrade_at;
};

/*
 * Starts with cfg (validated by the caller; taken over, freed by the
 * runtime).  -1 on out-of-memory, cfg then freed too.
 */
int dbssl_runtime_init(struct dbssl_runtime *rt, const char *env_file, struct dbssl_config *cfg,
                       struct dbssl_error *err) DBSSL_MUSTCHECK;
void dbssl_runtime_destroy(struct dbssl_runtime *rt);

/*
 * Erases the private copies of the set in use (one may be the client key)
 * for a process about to end while other threads may still use rt: the
 * files go, the memory stays (pin.h's dbssl_pin_erase).
 */
void dbssl_runtime_erase_copies(struct dbssl_runtime *rt);

/* A reference to the set in use, and (when stats is not NULL) the reload outcomes. */
struct dbssl_loaded *dbssl_runtime_get(struct dbssl_runtime *rt, struct dbssl_reload_stats *stats);

/*
 * Re-reads the settings and files, validates them, and swaps them in only
 * when valid and not weaker than the set in use; otherwise logs every
 * finding (event=reload_failed), counts a failure and keeps the set in use.
 * Settings and file contents identical to those in use count as a success
 * but swap nothing (event=reload_unchanged: no reconnect), and keep the
 * record of a refused downgrade (see refused_downgrade above).  cause
 * ("signal", "files changed", ...) goes to the log.  Returns whether the
 * settings re-read are the ones in use.
 */
bool dbssl_runtime_reload(struct dbssl_runtime *rt, const char *cause) DBSSL_MUSTCHECK;

/*
 * Whether replacing the settings in use (cur) by fresh would weaken TLS:
 * a lower sslmode (the effective one, DATABASE_URL's sslmode included),
 * DB_SSL_REQUIRED true -> false, the client certificate dropped, a lower
 * DB_SSL_MIN_PROTOCOL_VERSION, the server certificate no longer verified or
 * its CA dropped, the CRL dropped.  Appends one description per weakening,
 * "; "-separated, to why (NULL: not wanted) and returns how many there are.
 * A setting of fresh that did not parse is not compared: validation refuses
 * it anyway.  Secret-free (paths and mode names only).
 */
size_t dbssl_settings_weakening(const struct dbssl_config *cur, const struct dbssl_config *fresh,
                                struct strbuf *why);

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
