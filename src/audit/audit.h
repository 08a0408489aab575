/*
 * audit.h - `dbssl audit`: the evidence of one run, the controls judged on
 * it, and the report (JSON, Markdown, HTML).
 *
 * Data flows one way: gather (evidence.c: the settings, one connection, the
 * server's settings and pg_hba.conf rules over it, a scan, the certificate
 * files) -> evaluate (controls.c: a pure function of the evidence, so that
 * tests/data/audit/<case>/ can feed it evidence written as JSON) -> render
 * (render_json.c, render_md.c, render_html.c).  Which framework requirement
 * each control evidences is the one data file docs/controls.tsv
 * (mapping.c).  Certificate verdicts come from expiry.h at the evidence's
 * own time, so a report rendered again from kept evidence says the same.
 *
 * Out of scope, on purpose: the application's own sessions (which of its
 * connections use TLS) - dbssl does not observe them yet, and a control
 * that cannot see them is left out rather than passed; the report says so.
 */
#ifndef DBSSL_AUDIT_H
#define DBSSL_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "conn_sessions.h"
#include "error_int.h"
#include "scan/scan.h"
#include "scan/scan_profile.h"
#include "serverinfo.h"

/* ---- evidence ---------------------------------------------------------------------------- */

/* Where the audit connected: never the password. */
struct dbssl_audit_target {
    char host[256];
    int port;
    char dbname[128];
    char user[128];
};

/* One validation finding of the settings. */
struct dbssl_audit_note {
    char severity[16]; /* "error", "warning" */
    char setting[64];
    char message[512];
};

/* The client's settings as dbssl validated them. */
struct dbssl_audit_client {
    char ssl_mode[16];
    bool ssl_required;
    char min_protocol[16];
    char app_env[16];
    bool ca_configured;
    bool mutual_tls;
    bool crl_configured;
    bool auto_generate; /* the certificate set is dbssl's development set */
    long long expiry_warn_days;
    long long health_check_interval;
    struct dbssl_audit_note *validation;
    size_t n_validation;
};

/* What the audit's own session negotiated (conn.h's state, flattened). */
struct dbssl_audit_session {
    bool connected;
    bool ssl_in_use;
    bool server_sees_ssl; /* pg_stat_ssl of the session */
    bool client_cert_sent;
    char protocol[32];
    char cipher[128];
    int key_bits;
    char server_version[32];
    char server_host[256];
    char server_port[16];
    char error_class[48];
    char error_message[256];
    char error_detail[1024];
    char error_hint[512];
};

/* One certificate of the register. */
struct dbssl_audit_cert {
    char role[16];    /* "ca", "client", "server" (what the server sent) */
    char source[512]; /* the file, or "HOST:PORT" */
    int position;     /* its place in the file or the chain, from 0 */
    char subject[512];
    char issuer[512];
    char serial[128];
    char fingerprint_sha256[128];
    char key_type[16];
    int key_bits;
    long long not_before;
    long long not_after;
    bool is_ca;
    bool self_signed;
    bool generated; /* from DB_SSL_AUTO_CERT_DIR */
};

/* A file the settings name, as found on disk. */
struct dbssl_audit_file {
    char role[16];    /* "ca_cert", "client_cert", "client_key", "crl" */
    char setting[48]; /* the setting that names it */
    char path[1024];
    bool present; /* it could be examined */
    bool regular;
    unsigned mode;
    long long uid;
    char error[512]; /* why it could not be read, "" when it could */
};

struct dbssl_audit_evidence {
    long long generated_at;
    char dbssl_version[32];
    char profile[16]; /* the TLS profile the scan is graded against */
    struct dbssl_audit_target target;
    struct dbssl_audit_client client;
    struct dbssl_audit_session session;
    struct dbssl_audit_cert *certs;
    size_t n_certs;
    struct dbssl_audit_file *files;
    size_t n_files;
    char scan_error[512]; /* why there is no scan, "" when there is */
    bool scan_no_tls;     /* the server answered the SSLRequest with "N" (ssl = off) */
    char scan_hint[512];
    struct dbssl_scan_result *scan; /* owned; NULL when the scan could not run */
    char server_error[512];         /* why the server's settings were not read, "" when read */
    bool server_read;
    struct dbssl_serverinfo server;
    /* the application's sessions read over the same session; UNREAD without one */
    struct dbssl_sessions sessions;
};

struct dbssl_audit_opts {
    const char *profile; /* NULL: DBSSL_TLS_PROFILE_DEFAULT */
    long long now;       /* 0: the clock */
};

/*
 * Gathers the evidence with settings cfg (already validated): connects once
 * (dbssl_connect), reads the server's settings and rules over that session,
 * scans the server it reached (or the host of DATABASE_URL) with the
 * configured CA as trust anchor, and reads every certificate and key file
 * the settings name.  What cannot be had is recorded with why, never an
 * error: -1 only when out of memory.  Free ev with dbssl_audit_evidence_free().
 */
int dbssl_audit_gather(const struct dbssl_config *cfg, const struct dbssl_audit_opts *o,
                       struct dbssl_audit_evidence *ev, struct dbssl_error *err) DBSSL_MUSTCHECK;

void dbssl_audit_evidence_free(struct dbssl_audit_evidence *ev);

/*
 * The evidence as JSON (a new reference): computed facts are added (days
 * left and the expiry state of each certificate, at generated_at), and the
 * scan's grade when g is not NULL.
 */
json_t *dbssl_audit_evidence_to_json(const struct dbssl_audit_evidence *ev,
                                     const struct dbssl_scan_grade *g);

/* Reads evidence back (computed facts are ignored).  -1 with err naming the bad field. */
int dbssl_audit_evidence_from_json(const json_t *j, struct dbssl_audit_evidence *ev,
                                   struct dbssl_error *err) DBSSL_MUSTCHECK;

/* ---- the mapping (docs/controls.tsv) ----------------------------------------------------- */

struct dbssl_audit_mapping {
    const char *control;
    const char *framework;   /* "GDPR", "DORA", "DORA RTS", "PCI DSS", "CIS", "Guide" */
    const char *reference;   /* "Art. 32(1)(a)", "4.2.1", "6.9", "Best practice 7" */
    const char *requirement; /* a short paraphrase */
    const char *document;
    const char *url; /* "" when the document has none */
};

struct dbssl_audit_mappings {
    struct dbssl_audit_mapping *v;
    size_t n;
    char *buf; /* the strings point into it */
};

/*
 * Parses the embedded docs/controls.tsv into out (free with
 * dbssl_audit_mappings_free()); text NULL: the embedded file, else that text
 * (tests).  -1 with err naming the line when it is malformed.
 */
int dbssl_audit_mappings_load(const char *text, struct dbssl_audit_mappings *out,
                              struct dbssl_error *err) DBSSL_MUSTCHECK;
void dbssl_audit_mappings_free(struct dbssl_audit_mappings *m);

/* ---- controls and results ---------------------------------------------------------------- */

enum dbssl_audit_result {
    DBSSL_AUDIT_PASS = 0,
    DBSSL_AUDIT_WARN,
    DBSSL_AUDIT_FAIL,
    DBSSL_AUDIT_NOT_CHECKED,
};

/* "pass", "warn", "fail", "not_checked". */
const char *dbssl_audit_result_name(enum dbssl_audit_result r);

struct audit_ctx; /* controls_int.h */
struct dbssl_audit_control {
    const char *id; /* stable: "hba.tls_only" */
    const char *title;
    void (*evaluate)(struct audit_ctx *c);
};

/* The controls, in report order; *n is their number. */
const struct dbssl_audit_control *dbssl_audit_controls(size_t *n);

/* One thing at fault: a pg_hba.conf line, a suite, a certificate, a file. */
struct dbssl_audit_item {
    int line_number; /* of pg_hba.conf, 0 for other items */
    char name[1024];
    char why[1024];
};

struct dbssl_audit_finding {
    enum dbssl_audit_result severity; /* DBSSL_AUDIT_FAIL, _WARN or _NOT_CHECKED */
    bool development_only;            /* caused by dbssl's development set, as designed */
    char message[512];
    char hint[512];
    struct dbssl_audit_item *items;
    size_t n_items;
};

struct dbssl_audit_outcome {
    const struct dbssl_audit_control *control;
    enum dbssl_audit_result result;
    /* every finding that made the result is development-only (APP_ENV=development
     * with the auto-generated set): reported as warn, named in the summary */
    bool development_only;
    char why[512]; /* the first finding's message for a result other than pass, "" for pass */
    struct dbssl_audit_finding *findings;
    size_t n_findings;
    char (*evidence)[256]; /* what was looked at, one line each */
    size_t n_evidence;
    bool oom;
};

struct dbssl_audit_report {
    const struct dbssl_audit_evidence *ev; /* not owned */
    struct dbssl_audit_mappings map;
    const struct dbssl_tls_profile *profile;
    struct dbssl_scan_grade grade; /* of ev->scan; valid when graded */
    bool graded;
    struct dbssl_audit_outcome *v;
    size_t n;
    size_t count[4]; /* by enum dbssl_audit_result */
};

/*
 * Judges every control on ev (which must outlive the report).  Pure: the
 * same evidence gives the same report.  -1 with err on out of memory or an
 * unknown profile.  Free with dbssl_audit_report_free().
 */
int dbssl_audit_evaluate(const struct dbssl_audit_evidence *ev, struct dbssl_audit_report *out,
                         struct dbssl_error *err) DBSSL_MUSTCHECK;

void dbssl_audit_report_free(struct dbssl_audit_report *r);

/* "15 pass, 2 warn, 0 fail, 0 not checked" into buf. */
void dbssl_audit_counts_text(const struct dbssl_audit_report *r, char *buf, size_t len);

/* Whether any control failed (the exit status of `dbssl audit`). */
bool dbssl_audit_failed(const struct dbssl_audit_report *r);

/* What the report leaves out, one sentence (the application's own sessions). */
extern const char dbssl_audit_scope_note[];

/* ---- rendering (each returns a string the caller frees, NULL on out of memory) ------------ */

json_t *dbssl_audit_report_to_json(const struct dbssl_audit_report *r);
char *dbssl_audit_render_json(const struct dbssl_audit_report *r);
char *dbssl_audit_render_markdown(const struct dbssl_audit_report *r);
char *dbssl_audit_render_html(const struct dbssl_audit_report *r);

#endif
