/*
 * render_json.c - the JSON bodies of GET /health/database/ssl (the guide's
 * fields first, in the guide's order) and GET /health/database, from a
 * snapshot (see render.h).  Days left are expiry.h's, at the check's time.
 */
#include "render.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "expiry.h"
#include "jsonutil.h"
#include "util.h"

static json_t *str_or_null(const char *s)
{
    return (s && s[0]) ? dbssl_json_str(s) : json_null();
}

static json_t *server_json(const struct dbssl_tls_state *tls)
{
    char buf[ADDR_BUF];

    dbssl_tls_state_server(tls, buf, sizeof(buf));
    return str_or_null(buf);
}

static json_t *error_json(const struct dbssl_tls_state *tls)
{
    /* a revoked client certificate has a reason too */
    bool has_reason = tls->error_class == DBSSL_CONN_CERT_VERIFY_FAILED ||
                      tls->verify_reason != DBSSL_VERIFY_NONE;

    if (tls->connected || tls->error_class == DBSSL_CONN_OK)
        return json_null();
    return json_pack("{s:s, s:o, s:o, s:o, s:o}", "class", dbssl_conn_class_name(tls->error_class),
                     "reason",
                     has_reason ? json_string(dbssl_verify_reason_name(tls->verify_reason))
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
    return json_pack("{s:o, s:o, s:o, s:o}", "at", dbssl_json_time(r->last_error_at), "message",
                     dbssl_json_str(r->last_error.message), "detail",
                     str_or_null(r->last_error.detail), "hint", str_or_null(r->last_error.hint));
}

/* The server certificate a state saw, or null. */
static json_t *server_cert_json(const struct dbssl_tls_state *t, long long now)
{
    if (!t->connected || !t->ssl_in_use || t->server_cert_not_after <= 0)
        return json_null();
    return json_pack("{s:o, s:o, s:I}", "subject", dbssl_json_str(t->server_cert_subject),
                     "not_after", dbssl_json_time(t->server_cert_not_after), "days_remaining",
                     (json_int_t)dbssl_expiry_days_left(t->server_cert_not_after, now));
}

/* Each host of a multi-host DATABASE_URL as the check probed it ([] for one host). */
static json_t *hosts_json(const struct dbssl_snapshot *s)
{
    json_t *a = json_array();

    for (size_t i = 0; s->hosts != NULL && i < s->hosts->n; i++) {
        const struct dbssl_host_probe *h = &s->hosts->v[i];
        const struct dbssl_tls_state *t = &h->tls;
        bool tls_on = t->connected && t->ssl_in_use;
        json_array_append_new(
            a, json_pack("{s:o, s:o, s:b, s:s, s:b, s:b, s:o, s:o, s:o, s:o}", "host",
                         dbssl_json_str(h->host), "port",
                         h->port > 0 ? json_integer(h->port) : json_null(), "reachable",
                         t->connected, "role", dbssl_host_role_name(h->role), "session",
                         dbssl_host_is_session(h, &s->tls), "ssl_enabled", tls_on, "ssl_version",
                         tls_on ? str_or_null(t->protocol) : json_null(), "ssl_cipher",
                         tls_on ? str_or_null(t->cipher) : json_null(), "server_certificate",
                         server_cert_json(t, s->checked_at), "error", error_json(t)));
    }
    return a;
}

static json_t *ssl_body(const struct dbssl_snapshot *s)
{
    const struct dbssl_tls_state *t = &s->tls;
    bool tls_on = t->connected && t->ssl_in_use;
    json_t *root = json_object(), *certs = json_array(), *warnings = json_array();

    for (size_t i = 0; i < s->n_certs; i++)
        json_array_append_new(
            certs,
            json_pack("{s:s, s:o, s:o, s:o, s:I}", "role", s->certs[i].role, "path",
                      dbssl_json_str(s->certs[i].path), "subject",
                      dbssl_json_str(s->certs[i].subject), "not_after",
                      dbssl_json_time(s->certs[i].not_after), "days_remaining",
                      (json_int_t)dbssl_expiry_days_left(s->certs[i].not_after, s->checked_at)));
    for (size_t i = 0; i < s->n_warnings; i++)
        json_array_append_new(warnings, dbssl_json_str(s->warnings[i]));
    /* the guide's fields first, in the guide's order */
    json_object_set_new(root, "ssl_enabled", json_boolean(tls_on));
    json_object_set_new(root, "ssl_mode", json_string(dbssl_sslmode_name(s->ssl_mode)));
    json_object_set_new(root, "ssl_version", tls_on ? str_or_null(t->protocol) : json_null());
    json_object_set_new(root, "ssl_cipher", tls_on ? str_or_null(t->cipher) : json_null());
    json_object_set_new(root, "certificate_validation",
                        json_string(s->verifies_server ? "enabled" : "disabled"));
    json_object_set_new(root, "status", json_string(dbssl_health_status_name(s->status)));
    json_object_set_new(root, "hostname_verification",
                        json_boolean(s->ssl_mode == DBSSL_SSLMODE_VERIFY_FULL));
    json_object_set_new(root, "ssl_bits",
                        tls_on && t->key_bits > 0 ? json_integer(t->key_bits) : json_null());
    json_object_set_new(root, "client_certificate", json_boolean(tls_on && t->client_cert_sent));
    /* the setting: libpq does not say whether the login used SCRAM-SHA-256-PLUS */
    json_object_set_new(
        root, "channel_binding",
        json_string(dbssl_option_choice(OPT_DB_SSL_CHANNEL_BINDING, (int)s->channel_binding)));
    /* libpq 16/17 options: as configured, and the ALPN protocol direct negotiation agreed on */
    json_object_set_new(
        root, "ssl_negotiation",
        json_string(dbssl_option_choice(OPT_DB_SSL_NEGOTIATION, (int)s->ssl_negotiation)));
    json_object_set_new(root, "alpn", tls_on ? str_or_null(t->alpn) : json_null());
    json_object_set_new(
        root, "ssl_cert_mode",
        json_string(dbssl_option_choice(OPT_DB_SSL_CERT_MODE, (int)s->ssl_cert_mode)));
    json_object_set_new(root, "require_auth", str_or_null(s->require_auth));
    json_object_set_new(root, "server", server_json(t));
    json_object_set_new(root, "server_certificate", server_cert_json(t, s->checked_at));
    /* a multi-host URL's hosts, each probed on its own; "session" marks the one of "server" */
    json_object_set_new(root, "hosts", hosts_json(s));
    json_object_set_new(root, "certificates", certs);
    /* an object of its own: "server" is the public "host:port" string and keeps its type */
    json_object_set(root, "server_settings",
                    s->server_settings ? s->server_settings : json_null());
    json_object_set_new(root, "sessions", dbssl_sessions_to_json(&s->sessions));
    json_object_set_new(root, "pgbouncer", dbssl_pgbouncer_to_json(&s->pgbouncer));
    json_object_set_new(root, "warnings", warnings);
    json_object_set_new(root, "checked_at", dbssl_json_time(s->checked_at));
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
    json_object_set_new(root, "last_success", dbssl_json_time(s->last_success));
    json_object_set_new(root, "checked_at", dbssl_json_time(s->checked_at));
    json_object_set_new(root, "error", error_json(t));
    return root;
}

/* j as the body: indented, a final newline; j is consumed. */
static struct dbssl_body body(json_t *j)
{
    char *text = j ? dbssl_json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    char *line = text ? xasprintf("%s\n", text) : NULL;

    free(text);
    json_decref(j);
    return dbssl_body_of(line);
}

struct dbssl_body dbssl_render_ssl_json(const struct dbssl_snapshot *s)
{
    return body(ssl_body(s));
}

struct dbssl_body dbssl_render_db_json(const struct dbssl_snapshot *s)
{
    return body(db_body(s));
}
