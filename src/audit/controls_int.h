/*
 * controls_int.h - what the evaluators of the audit's controls share
 * (controls.c writes findings and settles results; controls_client.c and
 * controls_server.c judge).  An evaluator reads the evidence and the scan's
 * grade and writes findings and evidence lines into its outcome; the
 * result follows from the findings (controls.c), never from the evaluator.
 */
#ifndef DBSSL_AUDIT_CONTROLS_INT_H
#define DBSSL_AUDIT_CONTROLS_INT_H

#include "audit.h"

struct audit_ctx {
    const struct dbssl_audit_evidence *ev;
    const struct dbssl_scan_grade *g; /* NULL without a scan */
    struct dbssl_audit_outcome *o;
};

/* A finding of severity sev (fail, warn or not_checked) with a hint (NULL: none). */
struct dbssl_audit_finding *audit_finding(struct audit_ctx *c, enum dbssl_audit_result sev,
                                          const char *hint, const char *fmt, ...)
    DBSSL_PRINTF(4, 5);

/*
 * A finding that dbssl's auto-generated development set causes by design
 * (when the set is in use): a development-only warning under
 * APP_ENV=development, sev anywhere else.
 */
struct dbssl_audit_finding *audit_dev_finding(struct audit_ctx *c, enum dbssl_audit_result sev,
                                              const char *hint, const char *fmt, ...)
    DBSSL_PRINTF(4, 5);

/* One thing at fault under f (line: of pg_hba.conf, 0 for others); f NULL is fine. */
void audit_item(struct audit_ctx *c, struct dbssl_audit_finding *f, int line, const char *name,
                const char *why);

/* A line of what was looked at. */
void audit_evidence(struct audit_ctx *c, const char *fmt, ...) DBSSL_PRINTF(2, 3);

/* The scan's findings with these ids (NULL-terminated), as this control's, items and hints kept. */
void audit_scan_findings(struct audit_ctx *c, const char *const *ids);

/*
 * For controls that judge the scan: false (after a not_checked finding)
 * when there is none; an incomplete scan adds a not_checked finding too.
 */
bool audit_need_scan(struct audit_ctx *c);

/* For controls that judge the session: false (after a not_checked finding) without one. */
bool audit_need_session(struct audit_ctx *c);

/* The server's setting called name, or NULL when the settings were not read. */
const struct dbssl_server_setting *audit_setting(const struct audit_ctx *c, const char *name);

void audit_eval_tls_required(struct audit_ctx *c);
void audit_eval_verify_full(struct audit_ctx *c);
void audit_eval_chain_trusted(struct audit_ctx *c);
void audit_eval_validity(struct audit_ctx *c);
void audit_eval_revocation(struct audit_ctx *c);
void audit_eval_production_ca(struct audit_ctx *c);
void audit_eval_register(struct audit_ctx *c);
void audit_eval_permissions(struct audit_ctx *c);
void audit_eval_monitor(struct audit_ctx *c);
void audit_eval_tls_enabled(struct audit_ctx *c);
void audit_eval_protocols(struct audit_ctx *c);
void audit_eval_ciphers(struct audit_ctx *c);
void audit_eval_settings(struct audit_ctx *c);
void audit_eval_hba_tls_only(struct audit_ctx *c);
void audit_eval_hba_auth(struct audit_ctx *c);
void audit_eval_hba_client_cert(struct audit_ctx *c);
void audit_eval_sessions(struct audit_ctx *c);
void audit_eval_coverage(struct audit_ctx *c);

#endif
