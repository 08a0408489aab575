/*
 * health.c - the status rules and the two health bodies.
 *
 * Rules (issue 4): unhealthy when not connected, when TLS is required but
 * the session is plaintext, or when a certificate in use has expired;
 * degraded when the session fell back to plaintext under allow/prefer or a
 * certificate expires within DB_SSL_EXPIRY_WARN_DAYS; healthy otherwise.  A
 * deliberate DB_SSL_MODE=disable is healthy, with a warning in the body.
 *
 * The JSON is rendered here once per check; the HTTP side only copies bytes.
 */
#include "health.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certinfo.h"
#include "jsonutil.h"
#include "metrics.h"
#include "util.h"

#define DAY 86400LL

const char *dbssl_health_status_name(enum dbssl_health_status s)
{
    switch (s) {
    case DBSSL_HEALTH_HEALTHY:
        return "healthy";
    case DBSSL_HEALTH_DEGRADED:
        return "degraded";
    case DBSSL_HEALTH_UNHEALTHY:
        return "unhealthy";
    }
    return "unhealthy";
}

/* ---- certificates in use -------------------------------------------------------- */

static void cert_clear(struct dbssl_health_cert *c)
{
    free(c->path);
    free(c->subject);
    free(c->serial);
    memset(c, 0, sizeof(*c));
}

void dbssl_health_certs_free(struct dbssl_health_certs *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        cert_clear(&c->v[i]);
    for (size_t i = 0; i < c->n_notes; i++)
        free(c->notes[i]);
    free(c->v);
    free(c->notes);
    memset(c, 0, sizeof(*c));
}

static int cert_copy(struct dbssl_health_cert *dst, const char *role, const char *path,
                     const char *subject, const char *serial, long long nb, long long na)
{
    memset(dst, 0, sizeof(*dst));
    snprintf(dst->role, sizeof(dst->role), "%s", role);
    dst->path = xstrdup(path);
    dst->subject = xstrdup(subject);
    dst->serial = xstrdup(serial);
    dst->not_before = nb;
    dst->not_after = na;
    return (dst->path && dst->subject && dst->serial) ? 0 : -1;
}

static int add_note(struct dbssl_health_certs *c, const char *msg)
{
    char **n = realloc(c->notes, (c->n_notes + 1) * sizeof(*n));

    if (n == NULL)
        return -1;
    c->notes = n;
    if ((n[c->n_notes] = xstrdup(msg)) == NULL)
        return -1;
    c->n_notes++;
    return 0;
}

static int collect_file(struct dbssl_health_certs *c, const char *role, const char *path,
                        const char *what)
{
    struct dbssl_certlist list = {NULL, 0};
    struct dbssl_error e;
    struct dbssl_health_cert *v;
    int ret = -1;

    dbssl_error_clear(&e);
    if (dbssl_certlist_load(path, what, &list, &e) != 0) {
        ret = e.code == DBSSL_ERR_NOMEM ? -1 : add_note(c, e.message);
        goto out;
    }
    v = realloc(c->v, (c->n + list.n) * sizeof(*v));
    if (v == NULL)
        goto out;
    c->v = v;
    for (size_t i = 0; i < list.n; i++) {
        const struct dbssl_certinfo *ci = &list.certs[i];
        if (cert_copy(&c->v[c->n], role, path, ci->subject, ci->serial, ci->not_before,
                      ci->not_after) != 0) {
            cert_clear(&c->v[c->n]);
            goto out;
        }
        c->n++;
    }
    ret = 0;
out:
    dbssl_certlist_free(&list);
    return ret;
}

int dbssl_health_certs_collect(const struct dbssl_config *cfg, struct dbssl_health_certs *out,
                               struct dbssl_error *err)
{
    struct dbssl_file_ref ca, cert, key;
    int ret = -1;

    memset(out, 0, sizeof(*out));
    if (dbssl_config_ca_file(cfg, &ca) &&
        collect_file(out, "ca", ca.path, "CA certificate file") != 0)
        goto out;
    if (dbssl_config_client_files(cfg, &cert, &key) && cert.path[0] != '\0' &&
        collect_file(out, "client", cert.path, "client certificate file") != 0)
        goto out;
    ret = 0;
out:
    if (ret != 0) {
        dbssl_health_certs_free(out);
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
    }
    return ret;
}

/* ---- status rules ------------------------------------------------------------------ */

static long long days_remaining(long long not_after, long long now)
{
    long long d = not_after - now;

    /* floor, so that a certificate expired an hour ago has -1 days left */
    return d >= 0 ? d / DAY : -((-d + DAY - 1) / DAY);
}

static enum dbssl_health_status worse(enum dbssl_health_status a, enum dbssl_health_status b)
{
    return a > b ? a : b;
}

static void warn(json_t *warnings, const char *fmt, ...) DBSSL_PRINTF(2, 3);
static void warn(json_t *warnings, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    json_array_append_new(warnings, dbssl_json_str(buf));
}

static enum dbssl_health_status judge_expiry(const char *what, long long not_after, long long now,
                                             long warn_days, json_t *warnings)
{
    char date[32];

    if (not_after == 0)
        return DBSSL_HEALTH_HEALTHY;
    format_rfc3339(not_after, date, sizeof(date));
    if (not_after <= now) {
        warn(warnings, "%s expired on %s", what, date);
        return DBSSL_HEALTH_UNHEALTHY;
    }
    if (not_after - now <= (long long)warn_days * DAY) {
        warn(warnings, "%s expires in %lld days (%s)", what, days_remaining(not_after, now), date);
        return DBSSL_HEALTH_DEGRADED;
    }
    return DBSSL_HEALTH_HEALTHY;
}

static enum dbssl_health_status judge(const struct dbssl_config *cfg,
                                      const struct dbssl_tls_state *tls,
                                      const struct dbssl_health_certs *certs, long long now,
                                      json_t *warnings)
{
    enum dbssl_health_status s = DBSSL_HEALTH_HEALTHY;
    const char *mode = dbssl_sslmode_name(cfg->ssl_mode);

    if (!tls->connected) {
        s = DBSSL_HEALTH_UNHEALTHY;
    } else if (!tls->ssl_in_use) {
        if (cfg->ssl_required || cfg->ssl_mode >= DBSSL_SSLMODE_REQUIRE) {
            warn(warnings, "the connection is not encrypted although TLS is required");
            s = DBSSL_HEALTH_UNHEALTHY;
        } else if (cfg->ssl_mode == DBSSL_SSLMODE_DISABLE) {
            warn(warnings, "TLS is disabled by DB_SSL_MODE \"disable\": data and passwords "
                           "travel unencrypted");
        } else {
            warn(warnings,
                 "the server did not offer TLS and DB_SSL_MODE \"%s\" fell back to an "
                 "unencrypted connection",
                 mode);
            s = DBSSL_HEALTH_DEGRADED;
        }
    }
    for (size_t i = 0; certs && i < certs->n; i++) {
        char what[4200];
        snprintf(what, sizeof(what), "%s certificate \"%s\" (%s)", certs->v[i].role,
                 certs->v[i].path, certs->v[i].subject);
        s = worse(s,
                  judge_expiry(what, certs->v[i].not_after, now, cfg->expiry_warn_days, warnings));
    }
    for (size_t i = 0; certs && i < certs->n_notes; i++)
        warn(warnings, "%s", certs->notes[i]);
    if (tls->connected && tls->ssl_in_use)
        s = worse(s, judge_expiry("server certificate", tls->server_cert_not_after, now,
                                  cfg->expiry_warn_days, warnings));
    return s;
}

/* ---- rendering ---------------------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
    return (s && s[0]) ? dbssl_json_str(s) : json_null();
}

static json_t *time_or_null(long long t)
{
    char buf[32];

    if (t <= 0)
        return json_null();
    format_rfc3339(t, buf, sizeof(buf));
    return json_string(buf);
}

static json_t *server_json(const struct dbssl_tls_state *tls)
{
    char buf[300];

    if (!tls->connected || tls->server_host[0] == '\0')
        return json_null();
    if (strchr(tls->server_host, ':') != NULL) /* IPv6 literal */
        snprintf(buf, sizeof(buf), "[%s]:%s", tls->server_host, tls->server_port);
    else
        snprintf(buf, sizeof(buf), "%s:%s", tls->server_host, tls->server_port);
    return dbssl_json_str(buf);
}

static json_t *error_json(const struct dbssl_tls_state *tls)
{
    if (tls->connected || tls->error_class == DBSSL_CONN_OK)
        return json_null();
    return json_pack("{s:s, s:o, s:o, s:o, s:o}", "class", dbssl_conn_class_name(tls->error_class),
                     "reason",
                     tls->error_class == DBSSL_CONN_CERT_VERIFY_FAILED
                         ? json_string(dbssl_verify_reason_name(tls->verify_reason))
                         : json_null(),
                     "message", dbssl_json_str(tls->error_message), "detail",
                     tls->error_detail[0] ? dbssl_json_str(tls->error_detail) : json_null(), "hint",
                     dbssl_json_str(tls->error_hint));
}

/* The latest reload's rejection, or null once a reload succeeded (or none was tried). */
static json_t *reload_error_json(const struct dbssl_reload_stats *r)
{
    if (r->last_error_at <= 0)
        return json_null();
    return json_pack("{s:o, s:o}", "at", time_or_null(r->last_error_at), "message",
                     dbssl_json_str(r->last_error));
}

static json_t *ssl_body(const struct dbssl_snapshot *s, json_t *warnings)
{
    const struct dbssl_tls_state *t = &s->tls;
    bool tls_on = t->connected && t->ssl_in_use;
    bool verifying = s->ssl_mode >= DBSSL_SSLMODE_VERIFY_CA;
    json_t *root = json_object(), *certs = json_array(), *srv = json_null();

    for (size_t i = 0; i < s->n_certs; i++)
        json_array_append_new(
            certs, json_pack("{s:s, s:o, s:o, s:o, s:I}", "role", s->certs[i].role, "path",
                             dbssl_json_str(s->certs[i].path), "subject",
                             dbssl_json_str(s->certs[i].subject), "not_after",
                             time_or_null(s->certs[i].not_after), "days_remaining",
                             (json_int_t)days_remaining(s->certs[i].not_after, s->checked_at)));
    if (tls_on && t->server_cert_not_after > 0) {
        json_decref(srv);
        srv = json_pack("{s:o, s:o, s:I}", "subject", dbssl_json_str(t->server_cert_subject),
                        "not_after", time_or_null(t->server_cert_not_after), "days_remaining",
                        (json_int_t)days_remaining(t->server_cert_not_after, s->checked_at));
    }
    /* the guide's fields first, in the guide's order */
    json_object_set_new(root, "ssl_enabled", json_boolean(tls_on));
    json_object_set_new(root, "ssl_mode", json_string(dbssl_sslmode_name(s->ssl_mode)));
    json_object_set_new(root, "ssl_version", tls_on ? str_or_null(t->protocol) : json_null());
    json_object_set_new(root, "ssl_cipher", tls_on ? str_or_null(t->cipher) : json_null());
    json_object_set_new(root, "certificate_validation",
                        json_string(verifying ? "enabled" : "disabled"));
    json_object_set_new(root, "status", json_string(dbssl_health_status_name(s->status)));
    json_object_set_new(root, "hostname_verification",
                        json_boolean(s->ssl_mode == DBSSL_SSLMODE_VERIFY_FULL));
    json_object_set_new(root, "ssl_bits",
                        tls_on && t->key_bits > 0 ? json_integer(t->key_bits) : json_null());
    json_object_set_new(root, "client_certificate", json_boolean(tls_on && t->client_cert_sent));
    json_object_set_new(root, "server", server_json(t));
    json_object_set_new(root, "server_certificate", srv);
    json_object_set_new(root, "certificates", certs);
    json_object_set(root, "warnings", warnings);
    json_object_set_new(root, "checked_at", time_or_null(s->checked_at));
    json_object_set_new(root, "error", error_json(t));
    json_object_set_new(root, "last_reload_error", reload_error_json(&s->reload));
    return root;
}

static json_t *db_body(const struct dbssl_snapshot *s)
{
    const struct dbssl_tls_state *t = &s->tls;
    json_t *root = json_object();

    json_object_set_new(root, "connected", json_boolean(t->connected));
    json_object_set_new(root, "status", json_string(dbssl_health_status_name(s->status)));
    json_object_set_new(root, "server", server_json(t));
    json_object_set_new(root, "server_version",
                        t->connected ? str_or_null(t->server_version) : json_null());
    /* the check's round trip in milliseconds, to the microsecond */
    json_object_set_new(root, "latency_ms", dbssl_json_ms(t->latency_ms));
    json_object_set_new(root, "last_success", time_or_null(s->last_success));
    json_object_set_new(root, "checked_at", time_or_null(s->checked_at));
    json_object_set_new(root, "error", error_json(t));
    return root;
}

static char *render(json_t *j, size_t *len)
{
    char *body = j ? dbssl_json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    char *out = NULL;

    if (body != NULL)
        out = xasprintf("%s\n", body);
    free(body);
    json_decref(j);
    *len = out ? strlen(out) : 0;
    return out;
}

struct dbssl_snapshot *dbssl_snapshot_new(const struct dbssl_config *cfg,
                                          const struct dbssl_tls_state *tls,
                                          const struct dbssl_health_certs *certs, long long now,
                                          long long last_success, struct dbssl_error *err)
{
    return dbssl_snapshot_new_ex(cfg, tls, certs, now, last_success, NULL, err);
}

/* Adds this check to the counters the checker keeps across snapshots. */
static void count_check(struct dbssl_check_stats *st, enum dbssl_health_status status, double d)
{
    st->checks[status]++;
    for (size_t i = 0; i < DBSSL_CHECK_BUCKETS; i++)
        if (d <= dbssl_check_buckets[i])
            st->bucket[i]++;
    st->count++;
    st->sum += d;
}

struct dbssl_snapshot *
dbssl_snapshot_new_ex(const struct dbssl_config *cfg, const struct dbssl_tls_state *tls,
                      const struct dbssl_health_certs *certs, long long now, long long last_success,
                      const struct dbssl_snapshot_extra *x, struct dbssl_error *err)
{
    struct dbssl_snapshot *s = calloc(1, sizeof(*s));
    json_t *warnings = json_array();
    bool ok = false;

    if (s == NULL || warnings == NULL)
        goto out;
    atomic_init(&s->refs, 1);
    s->tls = *tls;
    s->ssl_mode = cfg->ssl_mode;
    s->checked_at = now;
    s->last_success = last_success;
    if (certs != NULL && certs->n > 0) {
        if ((s->certs = calloc(certs->n, sizeof(*s->certs))) == NULL)
            goto out;
        for (; s->n_certs < certs->n; s->n_certs++) {
            const struct dbssl_health_cert *c = &certs->v[s->n_certs];
            if (cert_copy(&s->certs[s->n_certs], c->role, c->path, c->subject, c->serial,
                          c->not_before, c->not_after) != 0) {
                s->n_certs++;
                goto out;
            }
        }
    }
    s->status = judge(cfg, tls, certs, now, warnings);
    s->http_status = s->status == DBSSL_HEALTH_UNHEALTHY ? 503 : 200;
    if (x != NULL && x->reload != NULL)
        s->reload = *x->reload;
    if (x != NULL && x->stats != NULL) {
        if (x->count)
            count_check(x->stats, s->status, x->duration_s);
        s->stats = *x->stats;
    }
    s->ssl_json = render(ssl_body(s, warnings), &s->ssl_json_len);
    s->db_json = render(db_body(s), &s->db_json_len);
    s->metrics = dbssl_metrics_render(s, &s->metrics_len);
    ok = s->ssl_json != NULL && s->db_json != NULL && s->metrics != NULL;
out:
    json_decref(warnings);
    if (!ok) {
        dbssl_snapshot_unref(s);
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    return s;
}

struct dbssl_snapshot *dbssl_snapshot_ref(struct dbssl_snapshot *s)
{
    if (s != NULL)
        atomic_fetch_add(&s->refs, 1);
    return s;
}

void dbssl_snapshot_unref(struct dbssl_snapshot *s)
{
    if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (size_t i = 0; i < s->n_certs; i++)
        cert_clear(&s->certs[i]);
    free(s->certs);
    free(s->ssl_json);
    free(s->db_json);
    free(s->metrics);
    free(s);
}

/* ---- the board ---------------------------------------------------------------------- */

void dbssl_board_init(struct dbssl_board *b)
{
    pthread_mutex_init(&b->mu, NULL);
    b->cur = NULL;
    atomic_init(&b->generation, 0);
}

void dbssl_board_destroy(struct dbssl_board *b)
{
    dbssl_snapshot_unref(b->cur);
    b->cur = NULL;
    pthread_mutex_destroy(&b->mu);
}

void dbssl_board_publish(struct dbssl_board *b, struct dbssl_snapshot *s)
{
    struct dbssl_snapshot *old;

    pthread_mutex_lock(&b->mu);
    old = b->cur;
    b->cur = s;
    atomic_fetch_add(&b->generation, 1);
    pthread_mutex_unlock(&b->mu);
    /* the last reference may be freed here: outside the lock */
    dbssl_snapshot_unref(old);
}

unsigned long long dbssl_board_generation(struct dbssl_board *b)
{
    return atomic_load(&b->generation);
}

struct dbssl_snapshot *dbssl_board_get(struct dbssl_board *b)
{
    struct dbssl_snapshot *s;

    pthread_mutex_lock(&b->mu);
    s = dbssl_snapshot_ref(b->cur);
    pthread_mutex_unlock(&b->mu);
    return s;
}
