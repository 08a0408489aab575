/*
 * render.h - what the three report formats share (render.c): the words of
 * the summary, the frameworks of a control, the certificate register with
 * its verdicts.  Each format (render.c's JSON, render_md.c, render_html.c)
 * only lays these out, so that they cannot tell different stories.
 */
#ifndef DBSSL_AUDIT_RENDER_H
#define DBSSL_AUDIT_RENDER_H

#include <stddef.h>

#include "audit.h"
#include "util.h"

/* "app@db.example.com:5432/appdb" (never a password) into buf. */
void audit_target_text(const struct dbssl_audit_report *r, char *buf, size_t len);

/* "PASS" or "FAIL". */
const char *audit_overall(const struct dbssl_audit_report *r);

/* The time of the evidence, RFC 3339. */
void audit_time_text(const struct dbssl_audit_report *r, char *buf, size_t len);

/* Calls fn for each mapping line of control id, in file order. */
void audit_each_mapping(const struct dbssl_audit_report *r, const char *id,
                        void (*fn)(const struct dbssl_audit_mapping *m, void *arg), void *arg);

/* A certificate's verdict at the report's time: days left and "valid", "expiring", ... */
long long audit_cert_days(const struct dbssl_audit_report *r, const struct dbssl_audit_cert *c);
const char *audit_cert_state(const struct dbssl_audit_report *r, const struct dbssl_audit_cert *c);

/* How the controls that are development-only by design are introduced (Markdown and HTML). */
extern const char audit_dev_only_text[];

#endif
