/*
 * testutil.h - helpers for the cmocka tests: temporary directories, files
 * with exact modes, and a small certificate factory (OpenSSL) so that tests
 * build real expired, mismatched or non-CA certificates themselves.
 */
#ifndef DBSSL_TESTUTIL_H
#define DBSSL_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/types.h>

/* Creates a fresh 0755 temp dir (so an unprivileged child can enter it); caller frees. */
char *tu_mkdtemp(void);
/* The per-test temporary directory, made by tu_setup_dir, removed by tu_teardown_dir. */
extern char *tu_dir;
int tu_setup_dir(void **state);
int tu_teardown_dir(void **state);

/* rm -rf */
void tu_rmrf(const char *path);
/* Joins dir and name into a static rotating buffer. */
const char *tu_path(const char *dir, const char *name);
/* Writes text to path with mode (created or replaced). */
void tu_write(const char *path, const char *text, mode_t mode);

struct tu_cert_opts {
    const char *cn;
    bool is_ca;
    long not_before_days;    /* offset from now, e.g. -10 */
    long not_after_days;     /* offset from now, e.g. 365 or -1 for expired */
    const char *issuer_cert; /* PEM file of the issuer; NULL = self-signed */
    const char *issuer_key;
    const char *san;      /* e.g. "DNS:localhost,IP:127.0.0.1" or NULL */
    const char *key_from; /* reuse this key file instead of generating one */
};

/* Writes cert_path (0644) and key_path (0600, unless NULL) per opts. */
void tu_make_cert(const char *cert_path, const char *key_path, const struct tu_cert_opts *o);

/* Writes dir/ca.crt, ca.key (a CA called ca_cn) and client.crt, client.key (CN=app,
 * signed by it), all valid for a year. */
void tu_make_client_pki(const char *dir, const char *ca_cn);

/* Writes an encrypted (AES-256) PKCS#8 key. */
void tu_make_encrypted_key(const char *key_path);

/*
 * Writes the key of the PEM file in as out (mode 0600): encrypted PEM
 * (PKCS#8, AES-256) with pass, or unencrypted DER when pass is NULL.
 */
void tu_convert_key(const char *in, const char *out, const char *pass);

/* Writes a CRL signed by the CA with the given next-update offset (days). */
void tu_make_crl(const char *crl_path, const char *ca_cert, const char *ca_key, long next_days);

/*
 * Runs each case directory of $DBSSL_TEST_DATA/<module> (in name order,
 * with the working directory set to the case's, so that relative paths in a
 * case are relative to it): got = run(name) is compared with the case's
 * "expected" file, every difference printed (DBSSL_UPDATE_EXPECTED=1
 * rewrites the files instead).  run returns an allocated string, freed
 * here.  Fails the test when fewer than min cases ran or any differed.
 */
void tu_data_cases(const char *module, char *(*run)(const char *name), int min);

/*
 * The clock dbssl_now() reads in the unit tests (clock.h's test hook):
 * t seconds since the epoch from now on, or the real clock again for 0.
 */
void tu_set_now(long long t);

struct dbssl_config;
struct dbssl_tls_state;
struct dbssl_inuse_certs;
struct dbssl_snapshot_extra;

/*
 * A snapshot as the checker publishes it: dbssl_snapshot_new() (the rules)
 * and dbssl_render_snapshot() (the bodies).  Fails the test on out-of-memory.
 */
struct dbssl_snapshot *tu_snapshot(const struct dbssl_config *cfg,
                                   const struct dbssl_tls_state *tls,
                                   const struct dbssl_inuse_certs *certs, long long now,
                                   long long last_success, const struct dbssl_snapshot_extra *x);

/*
 * A check that connected at now over TLS 1.3 (TLS_AES_256_GCM_SHA384, 256
 * bits) to 127.0.0.1:5432, PostgreSQL 15.18, server certificate CN=localhost
 * valid for 200 more days, no client certificate, 1.25 ms: the one healthy
 * check every test starts from and changes.
 */
void tu_tls_ok(struct dbssl_tls_state *t, long long now);

/*
 * Loads a config from envp alone (an empty dotenv file, so that no ./.env
 * of the machine leaks in).  Fails the test when loading fails.
 */
struct dbssl_config *test_config_from(const char *const *envp);

/* The first of a body's "warnings" (a parsed JSON object) that contains needle, or NULL. */
struct json_t;
const char *tu_warning_with(struct json_t *j, const char *needle);

#endif
