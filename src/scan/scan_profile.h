/*
 * scan_profile.h - the TLS profiles a PostgreSQL server is held to, and the
 * grading of a scan against one.
 *
 * The profiles are Mozilla's server-side TLS guidelines, version 5.7
 * (https://ssl-config.mozilla.org/guidelines/5.7.json): "modern" (TLS 1.3
 * only), "intermediate" (TLS 1.2 with forward secrecy and AEAD suites, and
 * TLS 1.3) and "compat", which is Mozilla's "old".  Their data lives in one
 * table in scan_profile.c; `dbssl pg-config` writes its ssl_* lines from the
 * same table (pgconf.c), so what dbssl recommends and what it checks cannot
 * drift apart.
 *
 * Grading turns a scan into findings: each deviation from the profile
 * ("fail": the profile is not met) or advice ("warn"), with the items at
 * fault and the postgresql.conf line that fixes it.
 */
#ifndef DBSSL_SCAN_PROFILE_H
#define DBSSL_SCAN_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "error_int.h"
#include "scan.h"

struct dbssl_tls_profile {
    const char *name;                /* "intermediate", "modern", "compat" */
    const char *title;               /* e.g. "Mozilla intermediate, server-side TLS 5.7" */
    enum dbssl_scan_proto min_proto; /* the lowest version allowed */
    const char
        *tls12_suites; /* suites allowed below TLS 1.3, OpenSSL names, ':'-separated ("": none) */
    const char *tls13_suites; /* TLS 1.3 suites allowed */
    const char *groups;       /* key-exchange groups allowed */
    const char *key_types;    /* certificate key types allowed: "EC", "EC,RSA" (certinfo.h names) */
    int rsa_min_bits;
    int dh_min_bits;        /* DHE modulus */
    long max_lifespan_days; /* of the server certificate, advice */
    bool server_order;      /* the server must impose its suite order */
    /* postgresql.conf as pg-config writes it */
    const char *pg_min_version; /* ssl_min_protocol_version */
    const char *pg_ciphers;     /* ssl_ciphers */
    const char *pg_ecdh_curve;  /* ssl_ecdh_curve that fixes a group deviation */
    /* what pg-config --profile NAME says on stderr, NULL: nothing */
    const char *warning;
};

/* Where the profile data comes from. */
#define DBSSL_TLS_PROFILE_SOURCE "https://ssl-config.mozilla.org/guidelines/5.7.json"

/* The profile dbssl writes and scans against unless told otherwise. */
#define DBSSL_TLS_PROFILE_DEFAULT "intermediate"

/* The profile called name, or NULL. */
const struct dbssl_tls_profile *dbssl_tls_profile_find(const char *name);

/* "intermediate|modern|compat", for usage texts and messages. */
const char *dbssl_tls_profile_names(void);

/* Whether name appears in the ':'-separated list. */
bool dbssl_tls_list_has(const char *list, const char *name);

/* PostgreSQL's spelling of a version for ssl_min_protocol_version: "TLSv1", "TLSv1.2". */
const char *dbssl_tls_pg_version(enum dbssl_scan_proto p);

enum dbssl_scan_severity {
    DBSSL_SCAN_FAIL = 0, /* "fail": the profile is not met */
    DBSSL_SCAN_WARN,     /* "warn": advice, the profile is met */
};

const char *dbssl_scan_severity_name(enum dbssl_scan_severity s);

/* One thing at fault: a suite, a version, a group, a certificate. */
struct dbssl_scan_item {
    char name[80];
    char why[80]; /* e.g. "CBC, SHA-1 MAC", "" when the name says it all */
};

struct dbssl_scan_finding {
    enum dbssl_scan_severity severity;
    const char *id;    /* stable: "protocol_version", "tls12_suites", "cert_expired", ... */
    char message[256]; /* lowercase, no final period */
    struct dbssl_scan_item *items;
    size_t n_items;
    char fix[1536]; /* the postgresql.conf line(s) that fix it, "" when none */
    char hint[512]; /* a full sentence */
};

struct dbssl_scan_grade {
    const struct dbssl_tls_profile *profile;
    bool passed; /* no finding with severity fail */
    struct dbssl_scan_finding *v;
    size_t n;
};

/*
 * Grades r against p.  Certificate dates are judged at r->scanned_at with
 * warn_days (expiry.h).  out is the caller's; free it with
 * dbssl_scan_grade_free().  Fails only when out of memory.
 */
int dbssl_scan_grade(const struct dbssl_scan_result *r, const struct dbssl_tls_profile *p,
                     long warn_days, struct dbssl_scan_grade *out,
                     struct dbssl_error *err) DBSSL_MUSTCHECK;

void dbssl_scan_grade_free(struct dbssl_scan_grade *g);

#endif
