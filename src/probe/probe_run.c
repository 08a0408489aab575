/*
 * probe_run.c - what one probe does (see probe.h): the tls module through
 * the scanner, the login module through the connect API.  Every wait is
 * bounded by the probe's deadline, so a black hole costs a worker exactly
 * the scrape's budget and no more.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "conn_int.h"
#include "conn_sessions.h"
#include "expiry.h"
#include "probe/probe.h"
#include "scan/scan.h"
#include "scan/scan_profile.h"
#include "util.h"

/* src as much as fits in dst (n bytes), NUL-terminated; NULL as "". */
static void put(char *dst, size_t n, const char *src)
{
    size_t k = src ? strnlen(src, n - 1) : 0;

    memcpy(dst, src ? src : "", k);
    dst[k] = '\0';
}

void dbssl_probe_result_init(struct dbssl_probe_result *r, const struct dbssl_probe_module *m,
                             const struct dbssl_probe_target *t)
{
    memset(r, 0, sizeof(*r));
    put(r->target, sizeof(r->target), t->text);
    put(r->module, sizeof(r->module), m->name);
    r->kind = m->kind;
    r->expiry_warn_days = m->expiry_warn_days;
    r->ssl = r->hostname_match = r->chain_verified = r->chain_complete = -1;
    r->sessions_tls = r->sessions_plain = r->sessions_unknown = -1;
}

void dbssl_probe_fail(struct dbssl_probe_result *r, const char *reason)
{
    for (size_t i = 0; i < r->n_reasons; i++)
        if (strcmp(r->reasons[i], reason) == 0)
            return;
    if (r->n_reasons < DBSSL_PROBE_MAX_REASONS)
        r->reasons[r->n_reasons++] = reason;
    r->success = false;
}

static void say(struct dbssl_probe_result *r, const char *what)
{
    if (r->message[0] == '\0')
        put(r->message, sizeof(r->message), what);
}

/* The leaf's dates against expiry.h; the expiry reasons when they fail. */
static void judge_dates(struct dbssl_probe_result *r)
{
    switch (dbssl_expiry_state(r->not_before, r->not_after, r->probed_at, r->expiry_warn_days)) {
    case DBSSL_EXPIRY_EXPIRED:
        dbssl_probe_fail(r, "expired");
        say(r, "the server certificate has expired");
        break;
    case DBSSL_EXPIRY_NOT_YET_VALID:
        dbssl_probe_fail(r, "not_yet_valid");
        say(r, "the server certificate is not valid yet");
        break;
    default:
        break;
    }
}

/* ---- tls ------------------------------------------------------------------------------ */

static void take_leaf(struct dbssl_probe_result *r, const struct dbssl_scan_result *s)
{
    const struct dbssl_certinfo *leaf;

    if (s->chain.n == 0)
        return;
    leaf = &s->chain.certs[0];
    r->have_cert = true;
    put(r->subject, sizeof(r->subject), leaf->subject ? leaf->subject : "");
    put(r->issuer, sizeof(r->issuer), leaf->issuer ? leaf->issuer : "");
    put(r->serial, sizeof(r->serial), leaf->serial ? leaf->serial : "");
    r->not_before = leaf->not_before;
    r->not_after = leaf->not_after;
    r->hostname_match = s->host_matches;
    r->chain_verified = s->trusted;
    r->chain_complete = s->chain_complete;
}

/* The scanner's options for t with m and left ms: each connection and the whole within it. */
static void scan_opts(const struct dbssl_probe_module *m, const struct dbssl_probe_target *t,
                      long long left, struct dbssl_scan_opts *so)
{
    memset(so, 0, sizeof(*so));
    so->host = t->host;
    so->port = t->port;
    so->timeout_ms = (long)left;
    so->total_ms = (long)left;
    so->ca_file = m->ca_file;
}

/* The full scan behind the grade, in the time left; no grade when it cannot finish. */
static void grade(const struct dbssl_probe_module *m, const struct dbssl_probe_target *t,
                  long long deadline_ms, struct dbssl_probe_result *r)
{
    long long left = deadline_ms - dbssl_mono_ms();
    struct dbssl_scan_opts so;
    struct dbssl_scan_result *s;
    struct dbssl_scan_grade g = {0};
    struct dbssl_error e;

    if (left <= 0)
        return;
    scan_opts(m, t, left, &so);
    dbssl_error_clear(&e);
    s = dbssl_scan_run(&so, &e);
    if (s == NULL || !s->complete ||
        dbssl_scan_grade(s, m->profile, m->expiry_warn_days, &g, &e) != 0) {
        dbssl_scan_result_free(s);
        return;
    }
    r->grade.have = true;
    r->grade.passed = g.passed;
    r->grade.graded_at = s->scanned_at;
    put(r->grade.profile, sizeof(r->grade.profile), m->profile->name);
    for (size_t i = 0; i < g.n && r->grade.n_failed < DBSSL_PROBE_MAX_CHECKS; i++)
        if (g.v[i].severity == DBSSL_SCAN_FAIL)
            put(r->grade.failed[r->grade.n_failed++], sizeof(r->grade.failed[0]), g.v[i].id);
    dbssl_scan_grade_free(&g);
    dbssl_scan_result_free(s);
}

static void run_tls(const struct dbssl_probe_module *m, const struct dbssl_probe_target *t,
                    long long deadline_ms, bool full_scan, struct dbssl_probe_result *r)
{
    long long left = deadline_ms - dbssl_mono_ms();
    enum dbssl_scan_failure f = DBSSL_SCAN_FAILURE_NONE;
    struct dbssl_scan_opts so;
    struct dbssl_scan_result *s;
    struct dbssl_error e;

    if (left <= 0) {
        dbssl_probe_fail(r, "timeout");
        say(r, "no time was left for the probe (it waited for a free prober)");
        return;
    }
    scan_opts(m, t, left, &so);
    so.handshake_only = true;
    so.failure = &f;
    dbssl_error_clear(&e);
    s = dbssl_scan_run(&so, &e);
    if (s == NULL) {
        dbssl_probe_fail(r, dbssl_scan_failure_name(f));
        say(r, e.message);
        r->ssl = f == DBSSL_SCAN_FAILURE_SSL_UNAVAILABLE ? 0
                 : f == DBSSL_SCAN_FAILURE_HANDSHAKE     ? 1
                                                         : -1;
        return;
    }
    r->success = true;
    r->ssl = 1;
    put(r->address, sizeof(r->address), s->address);
    for (int p = 0; p < DBSSL_SCAN_NPROTO; p++) {
        if (s->protocols[p] && s->suites[p].n > 0) {
            put(r->tls_version, sizeof(r->tls_version),
                dbssl_scan_proto_name((enum dbssl_scan_proto)p));
            put(r->cipher, sizeof(r->cipher), s->suites[p].v[0].iana);
            put(r->group, sizeof(r->group), s->suites[p].v[0].kx_group);
        }
    }
    take_leaf(r, s);
    if (!r->have_cert) {
        dbssl_probe_fail(r, "untrusted");
        say(r, "the server sent no certificate");
    } else {
        judge_dates(r);
        if (r->hostname_match == 0) {
            dbssl_probe_fail(r, "hostname_mismatch");
            say(r, "the server certificate does not name the target");
        }
        /* an expired leaf fails verification too: the date is the cause to show */
        if (r->chain_verified != 1 && r->n_reasons == 0) {
            dbssl_probe_fail(r, "untrusted");
            say(r, s->chain_note[0] ? s->chain_note : "the certificate chain does not verify");
        }
    }
    dbssl_scan_result_free(s);
    if (full_scan && m->grade_every_s >= 0)
        grade(m, t, deadline_ms, r);
}

/* ---- login ---------------------------------------------------------------------------- */

/* A failed login's class as a reason (conn.h's names); certificate failures by their cause. */
static const char *login_reason(const struct dbssl_tls_state *st)
{
    if (st->error_class != DBSSL_CONN_CERT_VERIFY_FAILED)
        return dbssl_conn_class_name(st->error_class);
    switch (st->verify_reason) {
    case DBSSL_VERIFY_EXPIRED:
        return "expired";
    case DBSSL_VERIFY_HOSTNAME_MISMATCH:
        return "hostname_mismatch";
    default:
        return "untrusted";
    }
}

/* The server's TLS settings and how many TCP sessions use TLS, as far as the role may see. */
static void read_server(PGconn *conn, long long deadline_ms, struct dbssl_probe_result *r)
{
    long left_s = (long)((deadline_ms - dbssl_mono_ms()) / MS_PER_SECOND);
    struct dbssl_serverinfo si;
    struct dbssl_sessions_census census;
    struct dbssl_error e;

    if (left_s < 1)
        return;
    dbssl_error_clear(&e);
    if (dbssl_serverinfo_read(conn, left_s, &si, &e) == 0) {
        for (size_t i = 0; i < si.n_settings && r->n_settings < DBSSL_SERVERINFO_NSETTINGS; i++) {
            if (si.settings[i].state != DBSSL_SI_READ)
                continue;
            put(r->settings[r->n_settings].name, sizeof(r->settings[0].name), si.settings[i].name);
            put(r->settings[r->n_settings].value, sizeof(r->settings[0].value),
                si.settings[i].value);
            r->n_settings++;
        }
        dbssl_serverinfo_free(&si);
    }
    left_s = (long)((deadline_ms - dbssl_mono_ms()) / MS_PER_SECOND);
    if (dbssl_sessions_census(conn, left_s, &census)) {
        r->sessions_tls = census.tls;
        r->sessions_plain = census.plain;
        r->sessions_unknown = census.unknown;
    }
}

/*
 * Why a login's verification failed, from one handshake against the login
 * settings' CA: the date, the name or the chain (and the certificate's facts).
 */
static void explain_verify(const struct dbssl_probe_module *m, const struct dbssl_probe_target *t,
                           long long deadline_ms, struct dbssl_probe_result *r)
{
    struct dbssl_probe_module tls = *m;
    struct dbssl_file_ref ca;

    tls.kind = DBSSL_PROBE_TLS;
    tls.ca_file = dbssl_config_ca_file(m->login, &ca) ? ca.path : NULL;
    run_tls(&tls, t, deadline_ms, false, r);
    if (r->success) { /* the handshake verifies: libpq's reason stands */
        r->success = false;
        r->n_reasons = 0;
    }
}

static void run_login(const struct dbssl_probe_module *m, const struct dbssl_probe_target *t,
                      long long deadline_ms, struct dbssl_probe_result *r)
{
    struct dbssl_conn_to to = {t->host, t->port, deadline_ms};
    struct dbssl_tls_state st;
    PGconn *conn;

    if (deadline_ms - dbssl_mono_ms() <= 0) {
        dbssl_probe_fail(r, "timeout");
        say(r, "no time was left for the probe (it waited for a free prober)");
        return;
    }
    conn = dbssl_connect_to(m->login, NULL, &to, &st, NULL);
    if (conn == NULL && st.error_class == DBSSL_CONN_CERT_VERIFY_FAILED) {
        /* libpq says only "certificate verify failed": one handshake tells why */
        explain_verify(m, t, deadline_ms, r);
        if (r->n_reasons > 0)
            return;
    }
    if (st.server_cert_not_after > 0) {
        r->have_cert = true;
        put(r->subject, sizeof(r->subject), st.server_cert_subject);
        put(r->serial, sizeof(r->serial), st.server_cert_serial);
        r->not_before = st.server_cert_not_before;
        r->not_after = st.server_cert_not_after;
    }
    if (conn == NULL) {
        dbssl_probe_fail(r, login_reason(&st));
        say(r, st.error_message[0] ? st.error_message : "could not connect");
        if (st.error_detail[0] != '\0' && strlen(r->message) + 3 < sizeof(r->message)) {
            size_t used = strlen(r->message);
            memcpy(r->message + used, ": ", 2);
            put(r->message + used + 2, sizeof(r->message) - used - 2, st.error_detail);
        }
        r->ssl = st.error_class == DBSSL_CONN_SSL_UNAVAILABLE ? 0 : -1;
        return;
    }
    /* verify-full (the module's rule) connected: the chain verifies and names the target */
    r->success = true;
    r->ssl = st.ssl_in_use ? 1 : 0;
    r->hostname_match = r->chain_verified = 1;
    put(r->tls_version, sizeof(r->tls_version), st.protocol);
    put(r->cipher, sizeof(r->cipher), st.cipher);
    put(r->server_version, sizeof(r->server_version), st.server_version);
    r->client_cert_sent = st.client_cert_sent;
    judge_dates(r);
    if (m->server_settings)
        read_server(conn, deadline_ms, r);
    PQfinish(conn);
}

void dbssl_probe_run(const struct dbssl_probe_module *m, const struct dbssl_probe_target *t,
                     long long deadline_ms, bool full_scan, struct dbssl_probe_result *r)
{
    double t0 = dbssl_mono_fine_ms();

    r->probed_at = dbssl_now();
    if (m->kind == DBSSL_PROBE_LOGIN)
        run_login(m, t, deadline_ms, r);
    else
        run_tls(m, t, deadline_ms, full_scan, r);
    r->duration_s = (dbssl_mono_fine_ms() - t0) / (double)MS_PER_SECOND;
}
