/*
 * probe.h - one probe of one target with one module (the multi-target
 * exporter pattern of blackbox_exporter and ssl_exporter: Prometheus names
 * the target, dbssl probes it and answers in the exposition format), and
 * the exposition of its result.
 *
 *   tls    the SSLRequest and one handshake offering every version (the
 *          scanner's handshake_only mode, scan/scan.h): the version, suite
 *          and group the server picks, its chain, whether the chain verifies
 *          against the module's CA and names the target, the leaf's expiry
 *          (expiry.h), and the grade of a full scan (scan_profile.h) made at
 *          most every grade_every seconds per target (the prober keeps it);
 *          never a StartupMessage, so no login and no server log line
 *   login  a connection with the module's settings (conn.h, verify-full) to
 *          the target, then the server's TLS settings (serverinfo.h) and how
 *          many of its TCP sessions use TLS, as far as the role may read them
 *
 * A probe succeeds when PostgreSQL answered, TLS was negotiated and the
 * certificate verifies for the target's name within its dates (login: and
 * the login succeeded).  When it does not, each reason is a stable label
 * value (dbssl_probe_failed{reason=...}), documented in docs/fleet.md.
 */
#ifndef DBSSL_PROBE_H
#define DBSSL_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "probe/probe_config.h"
#include "serverinfo.h"

#define DBSSL_PROBE_MAX_REASONS 6
#define DBSSL_PROBE_MAX_CHECKS  16

/* The grade of a target's last full scan. */
struct dbssl_probe_grade {
    bool have;
    bool passed;
    char profile[16];
    long long graded_at;                     /* epoch seconds */
    char failed[DBSSL_PROBE_MAX_CHECKS][32]; /* the ids of the findings that fail the profile */
    size_t n_failed;
};

struct dbssl_probe_setting {
    char name[40];
    char value[128];
};

struct dbssl_probe_result {
    char target[DBSSL_PROBE_TARGET_MAX + 1];
    char module[DBSSL_PROBE_NAME_MAX + 1];
    enum dbssl_probe_kind kind;
    long long probed_at; /* epoch seconds */
    double duration_s;
    bool success;
    const char *reasons[DBSSL_PROBE_MAX_REASONS]; /* static names, see docs/fleet.md */
    size_t n_reasons;
    char message[512]; /* what went wrong in words, secret-free; "" on success */

    int ssl;          /* 1: the server accepts TLS, 0: it refuses (plaintext only), -1: unknown */
    char address[64]; /* the address connected to */
    char tls_version[16];
    char cipher[64];
    char group[24];

    bool have_cert; /* the server's leaf certificate */
    char subject[256];
    char issuer[256];
    char serial[80];
    long long not_before, not_after;
    long expiry_warn_days;
    int hostname_match; /* 1, 0, -1 unknown */
    int chain_verified;
    int chain_complete;

    struct dbssl_probe_grade grade; /* tls: the last one known for the target */

    /* login */
    bool client_cert_sent;
    char server_version[32];
    struct dbssl_probe_setting settings[DBSSL_SERVERINFO_NSETTINGS];
    size_t n_settings;
    long sessions_tls, sessions_plain, sessions_unknown; /* TCP sessions; -1: not read */
};

/* Resets r for target t and module m (no probe yet: not a success, nothing known). */
void dbssl_probe_result_init(struct dbssl_probe_result *r, const struct dbssl_probe_module *m,
                             const struct dbssl_probe_target *t);

/* Adds a failure reason (a static name) once; the probe is then a failure. */
void dbssl_probe_fail(struct dbssl_probe_result *r, const char *reason);

/*
 * Probes t with m before deadline_ms (clock.h's dbssl_mono_ms()).  With
 * full_scan (tls), a full scan is made too when time is left, and its grade
 * put in r->grade.  Never fails: what went wrong is the result.
 */
void dbssl_probe_run(const struct dbssl_probe_module *m, const struct dbssl_probe_target *t,
                     long long deadline_ms, bool full_scan, struct dbssl_probe_result *r);

/*
 * The Prometheus text exposition (format 0.0.4) of r, dates judged at
 * r->probed_at.  Caller frees; NULL on out of memory.
 */
char *dbssl_probe_render(const struct dbssl_probe_result *r, size_t *len);

#endif
