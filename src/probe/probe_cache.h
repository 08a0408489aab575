/*
 * probe_cache.h - what the prober remembers per target and module: the last
 * result (for /probe/overview) and the grade of the last full scan, which is
 * made again at most every grade_every seconds (a full scan costs some 30
 * handshakes; the fleet is scraped every few seconds).
 *
 * Bounded: at most DBSSL_PROBE_CACHE_MAX entries; when full, the entry
 * probed longest ago makes room.  Entries no probe refreshed for
 * DBSSL_PROBE_CACHE_FORGET_S are dropped (a target Prometheus no longer
 * names leaves the overview).  Thread-safe: one mutex, never held across
 * I/O.
 */
#ifndef DBSSL_PROBE_CACHE_H
#define DBSSL_PROBE_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "probe/probe.h"

#define DBSSL_PROBE_CACHE_MAX      10000
#define DBSSL_PROBE_CACHE_FORGET_S 86400
/* after a full scan that could not finish (its scrape's time ran out), when to try again */
#define DBSSL_PROBE_GRADE_RETRY_S 300

/* The last result of a target, as the overview shows it. */
struct dbssl_probe_summary {
    char target[DBSSL_PROBE_TARGET_MAX + 1];
    char module[DBSSL_PROBE_NAME_MAX + 1];
    long long probed_at;
    double duration_s;
    bool success;
    char reasons[128]; /* "expired hostname_mismatch", "" */
    char message[256];
    int ssl;
    char tls_version[16];
    bool have_cert;
    long long not_before, not_after;
    long expiry_warn_days;
    bool timed_out; /* among the reasons: timeout */
    struct dbssl_probe_grade grade;
};

struct dbssl_probe_cache;

struct dbssl_probe_cache *dbssl_probe_cache_new(void);
void dbssl_probe_cache_free(struct dbssl_probe_cache *c);

/*
 * Whether a full scan of target with module is due at now (epoch seconds)
 * for a module that grades every every_s seconds (-1: never); when it is,
 * the scan is claimed: no other probe of the same target starts one until
 * dbssl_probe_cache_put() releases it.
 */
bool dbssl_probe_cache_claim_grade(struct dbssl_probe_cache *c, const char *module,
                                   const char *target, long long now, long every_s);

/*
 * Keeps r as the target's last result.  A grade in r (a full scan just
 * made) becomes the target's grade; without one, r gets the grade kept, so
 * that each answer carries the latest grade known.  claimed: this probe
 * held the claim (it is released).
 */
void dbssl_probe_cache_put(struct dbssl_probe_cache *c, struct dbssl_probe_result *r, bool claimed);

/*
 * The last results, worst first (failed, then a failed grade, then
 * expiring soonest), those older than DBSSL_PROBE_CACHE_FORGET_S at now
 * dropped.  *out is the caller's to free; returns the count (0 with *out
 * NULL when empty or out of memory).
 */
size_t dbssl_probe_cache_list(struct dbssl_probe_cache *c, long long now,
                              struct dbssl_probe_summary **out);

/* Whether the last probe of target with module timed out (false when none is known). */
bool dbssl_probe_cache_timed_out(struct dbssl_probe_cache *c, const char *module,
                                 const char *target);

/* How many entries the cache holds. */
size_t dbssl_probe_cache_size(struct dbssl_probe_cache *c);

#endif
