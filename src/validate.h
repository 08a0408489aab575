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
    const char *setting; /* e.g. "DB_SSL_CA_CERT" */
    const char *message; /* PostgreSQL style, no secrets */
    const char *detail;  /* may be "" */
    const char *hint;    /* a full sentence, may be "" */
};

/*
 * Appends a finding; message, detail and hint are copied, detail and hint
 * may be NULL.  -1 on out-of-memory.
 */
int dbssl_findings_addx(struct dbssl_findings *f, enum dbssl_severity sev, const char *setting,
                        const char *detail, const char *hint, const char *fmt, ...)
    DBSSL_PRINTF(6, 7);

/* A finding without a detail line. */
#define dbssl_findings_add(f, sev, setting, hint, ...)                                             \
    dbssl_findings_addx(f, sev, setting, NULL, hint, __VA_ARGS__)

/* Borrowed pointer valid until dbssl_findings_free(); NULL when i is out of range. */
const struct dbssl_finding *dbssl_findings_at(const struct dbssl_findings *f, size_t i);

struct dbssl_findings *dbssl_findings_new(void);

#endif
