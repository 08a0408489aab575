/*
 * tls_state.c - the application's view of struct dbssl_tls_state: an
 * opaque handle read by attribute name, as libpq's PQsslAttribute() is.
 *
 * One table maps each name to the field it reads, so that the list of names
 * and the lookup cannot disagree; adding an attribute is one line here and
 * one field in conn_int.h, and no application needs rebuilding.  Strings
 * are returned from the state itself (numbers are pre-rendered by
 * dbssl_tls_state_format() when conn.c fills the state), never from a
 * static buffer, so reading attributes is safe from several threads.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_int.h"
#include "util.h"

enum attr_kind {
    ATTR_TEXT,   /* a char array in the state */
    ATTR_BOOL,   /* a bool: "true" or "false" */
    ATTR_CLASS,  /* enum dbssl_conn_class by name */
    ATTR_REASON, /* enum dbssl_verify_reason by name */
};

/* Each attribute: its name, how it reads, the field it reads.  Expanded twice below. */
#define TLS_ATTRS(X)                                                                               \
    X("connected", ATTR_BOOL, connected)                                                           \
    X("ssl_in_use", ATTR_BOOL, ssl_in_use)                                                         \
    X("protocol", ATTR_TEXT, protocol)                                                             \
    X("cipher", ATTR_TEXT, cipher)                                                                 \
    X("alpn", ATTR_TEXT, alpn)                                                                     \
    X("key_bits", ATTR_TEXT, text.key_bits)                                                        \
    X("server_host", ATTR_TEXT, server_host)                                                       \
    X("server_port", ATTR_TEXT, server_port)                                                       \
    X("server_version", ATTR_TEXT, server_version)                                                 \
    X("client_cert_sent", ATTR_BOOL, client_cert_sent)                                             \
    X("server_sees_ssl", ATTR_BOOL, server_sees_ssl)                                               \
    X("server_cert_subject", ATTR_TEXT, server_cert_subject)                                       \
    X("server_cert_serial", ATTR_TEXT, server_cert_serial)                                         \
    X("server_cert_not_before", ATTR_TEXT, text.not_before)                                        \
    X("server_cert_not_after", ATTR_TEXT, text.not_after)                                          \
    X("latency_ms", ATTR_TEXT, text.latency_ms)                                                    \
    X("error_class", ATTR_CLASS, error_class)                                                      \
    X("verify_reason", ATTR_REASON, verify_reason)                                                 \
    X("error_message", ATTR_TEXT, error_message)                                                   \
    X("error_detail", ATTR_TEXT, error_detail)                                                     \
    X("error_hint", ATTR_TEXT, error_hint)

#define ATTR_ENTRY(name, kind, field) {name, kind, offsetof(struct dbssl_tls_state, field)},
#define ATTR_NAME(name, kind, field)  name,

static const struct attr {
    const char *name;
    enum attr_kind kind;
    size_t offset;
} attrs[] = {TLS_ATTRS(ATTR_ENTRY)};

static const char *const attr_names[] = {TLS_ATTRS(ATTR_NAME) NULL};

struct dbssl_tls_state *dbssl_tls_state_new(void)
{
    struct dbssl_tls_state *s = calloc(1, sizeof(*s));

    if (s != NULL)
        dbssl_tls_state_format(s);
    return s;
}

void dbssl_tls_state_free(struct dbssl_tls_state *state)
{
    free(state);
}

void dbssl_tls_state_server(const struct dbssl_tls_state *s, char *buf, size_t len)
{
    if (!s->connected || s->server_host[0] == '\0')
        snprintf(buf, len, "%s", "");
    else
        format_host_port(buf, len, s->server_host, s->server_port);
}

void dbssl_tls_state_format(struct dbssl_tls_state *s)
{
    s->text.key_bits[0] = s->text.not_before[0] = s->text.not_after[0] = '\0';
    if (s->key_bits > 0)
        snprintf(s->text.key_bits, sizeof(s->text.key_bits), "%d", s->key_bits);
    if (s->server_cert_not_before > 0)
        format_rfc3339(s->server_cert_not_before, s->text.not_before, sizeof(s->text.not_before));
    if (s->server_cert_not_after > 0)
        format_rfc3339(s->server_cert_not_after, s->text.not_after, sizeof(s->text.not_after));
    snprintf(s->text.latency_ms, sizeof(s->text.latency_ms), "%.3f", s->latency_ms);
}

const char *dbssl_tls_attribute(const struct dbssl_tls_state *state, const char *name)
{
    const char *base = (const char *)state;

    if (state == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        const struct attr *a = &attrs[i];
        if (strcmp(a->name, name) != 0)
            continue;
        switch (a->kind) {
        case ATTR_TEXT:
            return base + a->offset;
        case ATTR_BOOL:
            return *(const bool *)(base + a->offset) ? "true" : "false";
        case ATTR_CLASS:
            return dbssl_conn_class_name(*(const enum dbssl_conn_class *)(base + a->offset));
        case ATTR_REASON:
            return dbssl_verify_reason_name(*(const enum dbssl_verify_reason *)(base + a->offset));
        }
    }
    return NULL;
}

const char *const *dbssl_tls_attribute_names(void)
{
    return attr_names;
}

bool dbssl_tls_connected(const struct dbssl_tls_state *state)
{
    return state && state->connected;
}

bool dbssl_tls_ssl_in_use(const struct dbssl_tls_state *state)
{
    return state && state->ssl_in_use;
}

int dbssl_tls_key_bits(const struct dbssl_tls_state *state)
{
    return state ? state->key_bits : 0;
}

bool dbssl_tls_client_cert_sent(const struct dbssl_tls_state *state)
{
    return state && state->client_cert_sent;
}

bool dbssl_tls_server_sees_ssl(const struct dbssl_tls_state *state)
{
    return state && state->server_sees_ssl;
}

long long dbssl_tls_server_cert_not_before(const struct dbssl_tls_state *state)
{
    return state ? state->server_cert_not_before : 0;
}

long long dbssl_tls_server_cert_not_after(const struct dbssl_tls_state *state)
{
    return state ? state->server_cert_not_after : 0;
}

double dbssl_tls_latency_ms(const struct dbssl_tls_state *state)
{
    return state ? state->latency_ms : 0.0;
}

enum dbssl_conn_class dbssl_tls_error_class(const struct dbssl_tls_state *state)
{
    return state ? state->error_class : DBSSL_CONN_OK;
}

enum dbssl_verify_reason dbssl_tls_verify_reason(const struct dbssl_tls_state *state)
{
    return state ? state->verify_reason : DBSSL_VERIFY_NONE;
}
