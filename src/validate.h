/*
 * validate.h - internals of dbssl_config_validate() shared with callers that
 * add findings of their own (the CLI after certificate generation).
 */
#ifndef DBSSL_VALIDATE_H
#define DBSSL_VALIDATE_H

#include "config.h"
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

struct dbssl_findings *dbssl_findings_new(void);

/*
 * Whether cfg may use auto-generated certificates at all: never in
 * APP_ENV=production.  NULL when it may, else the refusal (a primary
 * message) and *hint: the one text of validation's finding and of
 * dbssl_certs_ensure()'s error.
 */
const char *dbssl_autogen_refusal(const struct dbssl_config *cfg, const char **hint);

#endif
