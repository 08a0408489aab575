/*
 * validate.h - internals of dbssl_config_validate() shared with callers that
 * add findings of their own (the CLI after certificate generation).
 */
#ifndef DBSSL_VALIDATE_H
#define DBSSL_VALIDATE_H

#include "config.h"
#include "dbssl/error.h"

/* Appends a finding; message and hint are copied.  -1 on out-of-memory. */
int dbssl_findings_add(struct dbssl_findings *f, enum dbssl_severity sev, const char *setting,
                       const char *hint, const char *fmt, ...) DBSSL_PRINTF(5, 6);

struct dbssl_findings *dbssl_findings_new(void);

#endif
