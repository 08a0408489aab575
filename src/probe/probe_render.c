/*
 * probe_render.c - a probe's result in the Prometheus text exposition
 * format 0.0.4, as blackbox_exporter answers /probe: probe_success and
 * probe_duration_seconds under their usual names (so that dashboards and
 * alerts written for blackbox work), dbssl_probe_* for the rest.  A series
 * whose value is unknown is left out rather than given a made-up 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expiry.h"
#include "render.h"
#include "probe/probe.h"
#include "util.h"

/* The families, in the order they are written. */
enum family {
    F_SUCCESS = 0,
    F_DURATION,
    F_FAILED,
    F_SSL,
    F_TLS,
    F_NOT_AFTER,
    F_NOT_BEFORE,
    F_EXPIRY,
    F_STATE,
    F_HOSTNAME,
    F_VERIFIED,
    F_COMPLETE,
    F_GRADE,
    F_CHECK,
    F_GRADED_AT,
    F_CLIENT_CERT,
    F_SERVER,
    F_SETTING,
    F_SESSIONS,
    F_COUNT
};

static const struct {
    const char *name;
    const char *help;
} families[F_COUNT] = {
    [F_SUCCESS] = {"probe_success",
                   "Whether the probe succeeded: PostgreSQL answered, TLS was negotiated and the "
                   "certificate verifies for the target within its dates (login modules: and the "
                   "login succeeded)."},
    [F_DURATION] = {"probe_duration_seconds", "How long the probe took, in seconds."},
    [F_FAILED] = {"dbssl_probe_failed",
                  "Why the probe failed: one series per reason, always 1 (docs/fleet.md lists "
                  "the reasons)."},
    [F_SSL] = {"dbssl_probe_ssl_enabled",
               "Whether the server accepts TLS (1) or answers the SSLRequest with N, plaintext "
               "only (0); absent when it did not answer."},
    [F_TLS] = {"dbssl_probe_tls_info",
               "The TLS version, cipher suite and key exchange group negotiated; always 1."},
    [F_NOT_AFTER] = {"dbssl_probe_cert_not_after_seconds",
                     "Expiry (not after) of the server certificate, in seconds since the epoch."},
    [F_NOT_BEFORE] = {"dbssl_probe_cert_not_before_seconds",
                      "Start of validity (not before) of the server certificate, in seconds "
                      "since the epoch."},
    [F_EXPIRY] = {"dbssl_probe_cert_expiry_seconds",
                  "Seconds from the probe to the server certificate's expiry (negative once "
                  "expired)."},
    [F_STATE] = {"dbssl_probe_cert_expiry_state",
                 "The server certificate's state at the probe (valid, expiring within the "
                 "module's expiry_warn_days, expired, not_yet_valid) and its whole days left, "
                 "rounded down (-1 the day after it expired); always 1."},
    [F_HOSTNAME] = {"dbssl_probe_hostname_match",
                    "Whether the server certificate names the target (verify-full's check)."},
    [F_VERIFIED] = {"dbssl_probe_chain_verified",
                    "Whether the certificate chain verifies against the module's CA file (or "
                    "the system's trust store)."},
    [F_COMPLETE] = {"dbssl_probe_chain_complete",
                    "Whether the server sends its chain up to a certificate the trust store "
                    "knows."},
    [F_GRADE] = {"dbssl_probe_grade_passed",
                 "Whether the target's last full scan meets the module's TLS profile."},
    [F_CHECK] = {"dbssl_probe_grade_failed_check",
                 "Each finding of the last full scan that fails the profile (the ids of dbssl "
                 "scan), always 1."},
    [F_GRADED_AT] = {"dbssl_probe_grade_timestamp_seconds",
                     "When the grade's full scan ran, in seconds since the epoch."},
    [F_CLIENT_CERT] = {"dbssl_probe_client_certificate_sent",
                       "Whether the server received the module's client certificate."},
    [F_SERVER] = {"dbssl_probe_server_info", "The server's PostgreSQL version; always 1."},
    [F_SETTING] = {"dbssl_probe_server_setting",
                   "A TLS setting of the server as pg_settings shows it to the module's role; "
                   "always 1 (settings the role may not read are left out)."},
    [F_SESSIONS] = {"dbssl_probe_sessions",
                    "Client sessions of the server over TCP by TLS use (ssl=\"unknown\": "
                    "sessions of other roles, which only pg_read_all_stats shows)."},
};

static void family(struct strbuf *sb, enum family f)
{
    strbuf_printf(sb, "# HELP %s %s\n# TYPE %s gauge\n", families[f].name, families[f].help,
                  families[f].name);
}

/* name{k1="v1",k2="v2",...} with escaped values; labels is a NULL-terminated k/v list. */
static void series(struct strbuf *sb, enum family f, const char *const *labels)
{
    strbuf_append(sb, families[f].name);
    for (size_t i = 0; labels != NULL && labels[i] != NULL; i += 2) {
        strbuf_printf(sb, "%s%s=\"", i == 0 ? "{" : ",", labels[i]);
        dbssl_metrics_escape(sb, labels[i + 1]);
        strbuf_append_c(sb, '"');
        if (labels[i + 2] == NULL)
            strbuf_append_c(sb, '}');
    }
    strbuf_append_c(sb, ' ');
}

static void one(struct strbuf *sb, enum family f, const char *const *labels, long long v)
{
    family(sb, f);
    series(sb, f, labels);
    strbuf_printf(sb, "%lld\n", v);
}

/* A yes/no known only sometimes: left out at -1. */
static void flag(struct strbuf *sb, enum family f, int v)
{
    if (v >= 0)
        one(sb, f, NULL, v);
}

static void cert(struct strbuf *sb, const struct dbssl_probe_result *r)
{
    const char *const labels[] = {"subject", r->subject, "issuer", r->issuer,
                                  "serial",  r->serial,  NULL};
    char days[32];
    const char *const state[] = {
        "state",
        dbssl_expiry_state_name(
            dbssl_expiry_state(r->not_before, r->not_after, r->probed_at, r->expiry_warn_days)),
        "days_left",
        days,
        NULL};

    /* a label, not a sample: Prometheus's base unit is the second (expiry_seconds) */
    snprintf(days, sizeof(days), "%lld", dbssl_expiry_days_left(r->not_after, r->probed_at));
    one(sb, F_NOT_AFTER, labels, r->not_after);
    one(sb, F_NOT_BEFORE, labels, r->not_before);
    one(sb, F_EXPIRY, NULL, r->not_after - r->probed_at);
    one(sb, F_STATE, state, 1);
}

static void grade(struct strbuf *sb, const struct dbssl_probe_grade *g)
{
    const char *const profile[] = {"profile", g->profile, NULL};

    if (!g->have)
        return;
    one(sb, F_GRADE, profile, g->passed);
    if (g->n_failed > 0)
        family(sb, F_CHECK);
    for (size_t i = 0; i < g->n_failed; i++) {
        const char *const labels[] = {"profile", g->profile, "check", g->failed[i], NULL};
        series(sb, F_CHECK, labels);
        strbuf_append(sb, "1\n");
    }
    one(sb, F_GRADED_AT, NULL, g->graded_at);
}

static void login(struct strbuf *sb, const struct dbssl_probe_result *r)
{
    const char *const version[] = {"version", r->server_version, NULL};
    const char *const kinds[] = {"true", "false", "unknown"};
    const long counts[] = {r->sessions_tls, r->sessions_plain, r->sessions_unknown};

    if (r->server_version[0] == '\0')
        return;
    one(sb, F_CLIENT_CERT, NULL, r->client_cert_sent);
    one(sb, F_SERVER, version, 1);
    if (r->n_settings > 0)
        family(sb, F_SETTING);
    for (size_t i = 0; i < r->n_settings; i++) {
        const char *const labels[] = {"name", r->settings[i].name, "value", r->settings[i].value,
                                      NULL};
        series(sb, F_SETTING, labels);
        strbuf_append(sb, "1\n");
    }
    if (r->sessions_tls < 0)
        return;
    family(sb, F_SESSIONS);
    for (size_t i = 0; i < 3; i++) {
        const char *const labels[] = {"ssl", kinds[i], NULL};
        series(sb, F_SESSIONS, labels);
        strbuf_printf(sb, "%ld\n", counts[i]);
    }
}

char *dbssl_probe_render(const struct dbssl_probe_result *r, size_t *len)
{
    struct strbuf sb;
    char *out;

    strbuf_init(&sb);
    one(&sb, F_SUCCESS, NULL, r->success);
    family(&sb, F_DURATION);
    series(&sb, F_DURATION, NULL);
    strbuf_printf(&sb, "%.6f\n", r->duration_s);
    if (r->n_reasons > 0)
        family(&sb, F_FAILED);
    for (size_t i = 0; i < r->n_reasons; i++) {
        const char *const labels[] = {"reason", r->reasons[i], NULL};
        series(&sb, F_FAILED, labels);
        strbuf_append(&sb, "1\n");
    }
    flag(&sb, F_SSL, r->ssl);
    if (r->tls_version[0] != '\0') {
        const char *const labels[] = {"version", r->tls_version, "cipher", r->cipher,
                                      "group",   r->group,       NULL};
        one(&sb, F_TLS, labels, 1);
    }
    if (r->have_cert)
        cert(&sb, r);
    flag(&sb, F_HOSTNAME, r->hostname_match);
    flag(&sb, F_VERIFIED, r->chain_verified);
    flag(&sb, F_COMPLETE, r->chain_complete);
    grade(&sb, &r->grade);
    if (r->kind == DBSSL_PROBE_LOGIN)
        login(&sb, r);
    out = strbuf_take(&sb);
    *len = out ? strlen(out) : 0;
    return out;
}
