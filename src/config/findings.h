/*
 * findings.h - what validation found, as dbssl's own modules see it:
 * applications read the list through dbssl_findings_message() and co.
 * (dbssl/config.h); validation and the CLI after certificate generation add
 * to it here.
 */
#ifndef DBSSL_FINDINGS_H
#define DBSSL_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "dbssl/config.h"
#include "error_int.h"

/* One finding; applications read it through dbssl_findings_message() and co. */
struct dbssl_finding {
    enum dbssl_severity severity;
    unsigned flags;      /* DBSSL_FINDING_* */
    const char *setting; /* e.g. "DB_SSL_CA_CERT" */
    const char *message; /* PostgreSQL style, no secrets */
    const char *detail;  /* may be "" */
    const char *hint;    /* a full sentence, may be "" */
};

/*
 * The settings are right but time made a file they name unusable: a
 * certificate that expired or is not valid yet, a stale CRL.  `validate`
 * still exits 2; a command that runs (status, serve) exits 1 (see
 * dbssl_error_exit_status in dbssl/error.h).
 */
#define DBSSL_FINDING_EXPIRY 0x1u

struct dbssl_findings *dbssl_findings_new(void);

/*
 * Appends a finding with DBSSL_FINDING_* flags; message, detail and hint are
 * copied, detail and hint may be NULL.  -1 on out-of-memory.
 */
int dbssl_findings_addx(struct dbssl_findings *f, enum dbssl_severity sev, unsigned flags,
                        const char *setting, const char *detail, const char *hint, const char *fmt,
                        ...) DBSSL_PRINTF(7, 8);

/* A finding without flags or a detail line. */
#define dbssl_findings_add(f, sev, setting, hint, ...)                                             \
    dbssl_findings_addx(f, sev, 0, setting, NULL, hint, __VA_ARGS__)

/* Borrowed pointer valid until dbssl_findings_free(); NULL when i is out of range. */
const struct dbssl_finding *dbssl_findings_at(const struct dbssl_findings *f, size_t i);

/* Whether a finding could not be added (out of memory): the list is incomplete. */
bool dbssl_findings_oom(const struct dbssl_findings *f);

#endif
