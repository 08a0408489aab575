/*
 * health.c - the status rules, the snapshot and the board (see health.h).
 *
 * Rules (issue 4): unhealthy when not connected, when TLS is required but
 * the session is plaintext, or when a certificate in use has expired;
 * degraded when the session fell back to plaintext under allow/prefer or a
 * certificate expires within DB_SSL_EXPIRY_WARN_DAYS (expiry.h decides
 * both); healthy otherwise.  A deliberate DB_SSL_MODE=disable is healthy,
 * with a warning.  The application's own sessions (issue 13): degraded
 * when a watched session is plaintext or below DB_SSL_MIN_PROTOCOL_VERSION,
 * unhealthy when DB_SSL_REQUIRED and DB_SSL_SESSIONS_ENFORCE are both true;
 * each warning names the client.  PgBouncer (issue 15): degraded when its
 * admin console lists a plaintext hop on either side, each named; an admin
 * console that cannot be read is a warning "not checked" with the reason.
 * Every rule that fires says so in the snapshot's
 * warnings, which the bodies show as they are (render.h).
 */
#include "health.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expiry.h"
#include "util.h"

const double dbssl_check_buckets[DBSSL_CHECK_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1,
                                                         0.25,  0.5,  1,     2.5,  5};

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

/* ---- status rules ------------------------------------------------------------------ */

static enum dbssl_health_status worse(enum dbssl_health_status a, enum dbssl_health_status b)
{
    return a > b ? a : b;
}

/* A snapshot being judged: out of memory while adding a warning is remembered. */
struct judging {
    struct dbssl_snapshot *s;
    bool oom;
};

static void warn(struct judging *j, const char *fmt, ...) DBSSL_PRINTF(2, 3);
static void warn(struct judging *j, const char *fmt, ...)
{
    struct dbssl_snapshot *s = j->s;
    char buf[1024], **w;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if ((w = realloc(s->warnings, (s->n_warnings + 1) * sizeof(*w))) == NULL) {
        j->oom = true;
        return;
    }
    s->warnings = w;
    if ((w[s->n_warnings] = xstrdup(buf)) == NULL) {
        j->oom = true;
        return;
    }
    s->n_warnings++;
}

/* A certificate in use, by expiry.h's rules; one that is not valid yet is libpq's to refuse. */
static enum dbssl_health_status judge_expiry(struct judging *j, const char *what,
                                             long long not_before, long long not_after,
                                             long warn_days)
{
    long long now = j->s->checked_at;
    char date[32];

    if (not_after == 0)
        return DBSSL_HEALTH_HEALTHY;
    format_rfc3339(not_after, date, sizeof(date));
    switch (dbssl_expiry_state(not_before, not_after, now, warn_days)) {
    case DBSSL_EXPIRY_EXPIRED:
        warn(j, "%s expired on %s", what, date);
        return DBSSL_HEALTH_UNHEALTHY;
    case DBSSL_EXPIRY_EXPIRING:
        warn(j, "%s expires in %lld days (%s)", what, dbssl_expiry_days_left(not_after, now), date);
        return DBSSL_HEALTH_DEGRADED;
    case DBSSL_EXPIRY_VALID:
    case DBSSL_EXPIRY_NOT_YET_VALID:
        break;
    }
    return DBSSL_HEALTH_HEALTHY;
}

/* At most this many offending sessions are named in warnings; the body lists them all. */
#define NAMED_OFFENDERS 5

/* The watched sessions (conn_sessions.h): one warning per offending client, named. */
static enum dbssl_health_status judge_sessions(struct judging *j, const struct dbssl_config *cfg)
{
    const struct dbssl_sessions *ss = &j->s->sessions;
    const char *min = dbssl_option_choice(OPT_DB_SSL_MIN_PROTOCOL_VERSION, (int)cfg->min_protocol);
    unsigned bad = ss->plaintext + ss->below_min_protocol;
    size_t named = 0;

    if (ss->state == DBSSL_SESSIONS_UNREAD)
        return DBSSL_HEALTH_HEALTHY;
    if (ss->state != DBSSL_SESSIONS_CHECKED) {
        warn(j, "the application's sessions were not checked: %s; %s", ss->note, ss->hint);
        /* an enforcement that cannot look must not read as all clear */
        return cfg->sessions_enforce ? DBSSL_HEALTH_DEGRADED : DBSSL_HEALTH_HEALTHY;
    }
    if (bad == 0)
        return DBSSL_HEALTH_HEALTHY;
    for (size_t i = 0; i < ss->n_offenders && named < NAMED_OFFENDERS; i++, named++) {
        const struct dbssl_session_offender *o = &ss->offenders[i];
        char since[32], what[96];
        format_rfc3339(o->backend_start, since, sizeof(since));
        if (o->reason == DBSSL_SESSION_PLAINTEXT)
            snprintf(what, sizeof(what), "is not encrypted");
        else
            snprintf(what, sizeof(what), "uses %s, below DB_SSL_MIN_PROTOCOL_VERSION \"%s\"",
                     o->version, min);
        warn(j,
             "a session of role \"%s\" from %s (application_name \"%s\", since %s) %s; "
             "connect that client with sslmode=verify-full and ssl_min_protocol_version=%s, for "
             "example by starting it with \"dbssl exec\"",
             o->role, o->client_addr, o->application_name, since, what, min);
    }
    if (bad > named)
        warn(j, "%u more of the application's sessions are not encrypted or below %s",
             bad - (unsigned)named, min);
    return cfg->ssl_required && cfg->sessions_enforce ? DBSSL_HEALTH_UNHEALTHY
                                                      : DBSSL_HEALTH_DEGRADED;
}

/* PgBouncer's hops (conn_pgbouncer.h): one warning per plaintext hop, named. */
static enum dbssl_health_status judge_pgbouncer(struct judging *j)
{
    const struct dbssl_pgbouncer *p = &j->s->pgbouncer;
    unsigned bad = p->servers.plaintext + p->clients.plaintext;
    size_t named = 0;

    if (p->state == DBSSL_PGBOUNCER_UNSET)
        return DBSSL_HEALTH_HEALTHY;
    if (p->state != DBSSL_PGBOUNCER_CHECKED) {
        warn(j, "PgBouncer's hops were not checked: %s; %s", p->note, p->hint);
        return DBSSL_HEALTH_HEALTHY;
    }
    for (size_t i = 0; i < p->n_plaintext_hops && named < NAMED_OFFENDERS; i++, named++) {
        const struct dbssl_pgbouncer_hop *h = &p->plaintext_hops[i];
        if (h->side == DBSSL_PGBOUNCER_SERVER)
            warn(j,
                 "PgBouncer's server hop to %s:%d (user \"%s\", database \"%s\") is not "
                 "encrypted; set server_tls_sslmode = verify-full in pgbouncer.ini (\"dbssl "
                 "pg-config --pgbouncer\" prints the lines)",
                 h->addr, h->port, h->user, h->database);
        else
            warn(j,
                 "a client hop to PgBouncer from %s:%d (user \"%s\", database \"%s\") is not "
                 "encrypted; set client_tls_sslmode = verify-full in pgbouncer.ini (\"dbssl "
                 "pg-config --pgbouncer\" prints the lines)",
                 h->addr, h->port, h->user, h->database);
    }
    if (bad > named)
        warn(j, "%u more of PgBouncer's hops are not encrypted", bad - (unsigned)named);
    return bad > 0 ? DBSSL_HEALTH_DEGRADED : DBSSL_HEALTH_HEALTHY;
}

/*
 * A multi-host URL: the session is on one host, and any other may be the one
 * a failover sends it to, so each must be ready.  Unhealthy when no host
 * satisfies target_session_attrs with TLS as the settings require (libpq
 * would find none either); degraded when a host cannot be reached, falls
 * back to plaintext, or has a certificate that expires within the window (an
 * expired one on the session's own host is unhealthy by the session's rule).
 */
static enum dbssl_health_status judge_hosts(struct judging *j, const struct dbssl_config *cfg)
{
    const struct dbssl_hosts *hs = j->s->hosts;
    bool tls_required = dbssl_config_tls_required(cfg);
    enum dbssl_health_status st = DBSSL_HEALTH_HEALTHY;
    bool satisfied = false;

    for (size_t i = 0; hs != NULL && i < hs->n; i++) {
        const struct dbssl_host_probe *h = &hs->v[i];
        char name[ADDR_BUF + 16], what[ADDR_BUF + 64];
        dbssl_host_name(h, name, sizeof(name));
        if (!h->tls.connected) {
            warn(j, "host \"%s\" of DATABASE_URL cannot be reached with these settings: %s", name,
                 h->tls.error_message);
            st = worse(st, DBSSL_HEALTH_DEGRADED);
            continue;
        }
        if (!h->tls.ssl_in_use && tls_required) {
            warn(j, "host \"%s\" of DATABASE_URL is not encrypted although TLS is required", name);
            st = worse(st, DBSSL_HEALTH_DEGRADED);
            continue;
        }
        if (dbssl_host_satisfies(h->role, hs->want))
            satisfied = true;
        if (h->tls.ssl_in_use) {
            snprintf(what, sizeof(what), "server certificate of host \"%s\" (%s)", name,
                     dbssl_host_role_name(h->role));
            /* capped: the session's own host is judged by the session's rule */
            if (judge_expiry(j, what, h->tls.server_cert_not_before, h->tls.server_cert_not_after,
                             cfg->expiry_warn_days) != DBSSL_HEALTH_HEALTHY)
                st = worse(st, DBSSL_HEALTH_DEGRADED);
        }
    }
    if (hs != NULL && hs->n > 0 && !satisfied) {
        warn(j, "no host of DATABASE_URL satisfies target_session_attrs \"%s\" with TLS as the "
                "settings require",
             hs->want_text);
        st = DBSSL_HEALTH_UNHEALTHY;
    }
    return st;
}

static enum dbssl_health_status judge(struct judging *j, const struct dbssl_config *cfg,
                                      const struct dbssl_inuse_certs *certs)
{
    const struct dbssl_tls_state *tls = &j->s->tls;
    enum dbssl_health_status st = DBSSL_HEALTH_HEALTHY;
    const char *mode = dbssl_sslmode_name(cfg->ssl_mode);

    if (!tls->connected) {
        st = DBSSL_HEALTH_UNHEALTHY;
    } else if (!tls->ssl_in_use) {
        if (dbssl_config_tls_required(cfg)) {
            warn(j, "the connection is not encrypted although TLS is required");
            st = DBSSL_HEALTH_UNHEALTHY;
        } else if (cfg->ssl_mode == DBSSL_SSLMODE_DISABLE) {
            warn(j, "TLS is disabled by DB_SSL_MODE \"disable\": data and passwords "
                    "travel unencrypted");
        } else {
            warn(j,
                 "the server did not offer TLS and DB_SSL_MODE \"%s\" fell back to an "
                 "unencrypted connection",
                 mode);
            st = DBSSL_HEALTH_DEGRADED;
        }
    }
    for (size_t i = 0; certs && i < certs->n; i++) {
        char what[PATH_TEXT_BUF];
        snprintf(what, sizeof(what), "%s certificate \"%s\" (%s)", certs->v[i].role,
                 certs->v[i].path, certs->v[i].subject);
        st = worse(st, judge_expiry(j, what, certs->v[i].not_before, certs->v[i].not_after,
                                    cfg->expiry_warn_days));
    }
    for (size_t i = 0; certs && i < certs->n_notes; i++)
        warn(j, "%s", certs->notes[i]);
    if (tls->connected && tls->ssl_in_use)
        st = worse(st, judge_expiry(j, "server certificate", tls->server_cert_not_before,
                                    tls->server_cert_not_after, cfg->expiry_warn_days));
    if (tls->connected)
        st = worse(st, judge_sessions(j, cfg));
    st = worse(st, judge_pgbouncer(j));
    return worse(st, judge_hosts(j, cfg));
}

/* ---- the snapshot -------------------------------------------------------------------- */

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

static void free_snapshot(struct dbssl_snapshot *s)
{
    for (size_t i = 0; i < s->n_certs; i++)
        dbssl_inuse_cert_clear(&s->certs[i]);
    for (size_t i = 0; i < s->n_warnings; i++)
        free(s->warnings[i]);
    free(s->certs);
    free(s->warnings);
    free(s->ssl_json.data);
    free(s->db_json.data);
    free(s->metrics.data);
    free(s->html.data);
    json_decref(s->server_settings);
    free(s->hosts);
    free(s);
}

struct dbssl_snapshot *
dbssl_snapshot_new(const struct dbssl_config *cfg, const struct dbssl_tls_state *tls,
                   const struct dbssl_inuse_certs *certs, long long now, long long last_success,
                   const struct dbssl_snapshot_extra *x, struct dbssl_error *err)
{
    struct dbssl_snapshot *s = calloc(1, sizeof(*s));
    struct judging j = {s, false};

    if (s == NULL)
        goto oom;
    atomic_init(&s->refs, 1);
    s->tls = *tls;
    s->ssl_mode = cfg->ssl_mode;
    /* allow and prefer verify the TLS sessions they make, not a plaintext fallback */
    s->verifies_server = dbssl_config_verifies_server(cfg) &&
                         (!dbssl_sslmode_allows_plaintext(cfg->ssl_mode) ||
                          (tls->connected && tls->ssl_in_use));
    s->expiry_warn_days = cfg->expiry_warn_days;
    s->channel_binding = cfg->channel_binding;
    if (x != NULL && x->sessions != NULL)
        s->sessions = *x->sessions;
    if (x != NULL && x->pgbouncer != NULL)
        s->pgbouncer = *x->pgbouncer;
    s->ssl_negotiation = cfg->ssl_negotiation;
    s->ssl_cert_mode = cfg->ssl_cert_mode;
    snprintf(s->require_auth, sizeof(s->require_auth), "%s",
             cfg->require_auth ? cfg->require_auth : "");
    s->checked_at = now;
    s->last_success = last_success;
    if (certs != NULL && certs->n > 0) {
        if ((s->certs = calloc(certs->n, sizeof(*s->certs))) == NULL)
            goto oom;
        for (; s->n_certs < certs->n; s->n_certs++)
            if (dbssl_inuse_cert_copy(&s->certs[s->n_certs], &certs->v[s->n_certs]) != 0)
                goto oom;
    }
    if (x != NULL && x->hosts != NULL && x->hosts->n > 0) {
        if ((s->hosts = malloc(sizeof(*s->hosts))) == NULL)
            goto oom;
        *s->hosts = *x->hosts;
    }
    s->status = judge(&j, cfg, certs);
    if (j.oom)
        goto oom;
    s->http_status = s->status == DBSSL_HEALTH_UNHEALTHY ? 503 : 200;
    if (x != NULL && x->reload != NULL)
        s->reload = *x->reload;
    if (x != NULL && x->stats != NULL) {
        if (x->count)
            count_check(x->stats, s->status, x->duration_s);
        s->stats = *x->stats;
    }
    if (x != NULL && x->server_settings != NULL)
        s->server_settings = json_incref((json_t *)x->server_settings);
    return s;
oom:
    if (s != NULL)
        free_snapshot(s);
    dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
    return NULL;
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
    free_snapshot(s);
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
