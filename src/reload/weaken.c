/*
 * weaken.c - which new settings would weaken TLS (see reload.h's
 * dbssl_settings_weakening): one rule per way, in one table, so that a
 * reload can refuse a downgrade and say which setting caused it.
 */
#include "reload.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

static bool has_client_cert(const struct dbssl_config *cfg)
{
    struct dbssl_file_ref cert, key;

    return dbssl_config_client_files(cfg, &cert, &key);
}

static bool has_ca(const struct dbssl_config *cfg, struct dbssl_file_ref *ca)
{
    return dbssl_config_ca_file(cfg, ca);
}

/* An ordered choice (weakest first) set lower; url_keyword: its DATABASE_URL keyword, or NULL. */
static bool lowered(const struct dbssl_config *fresh, enum dbssl_option_id id, int cur_v,
                    int fresh_v, const char *url_keyword, struct strbuf *why)
{
    if (fresh_v >= cur_v)
        return false;
    strbuf_printf(why, "%s \"%s\" -> \"%s\"", dbssl_options[id].name,
                  dbssl_option_choice(id, cur_v), dbssl_option_choice(id, fresh_v));
    if (url_keyword != NULL && fresh->settings[id].source == DBSSL_SOURCE_URL)
        strbuf_printf(why, " (%s in DATABASE_URL)", url_keyword);
    return true;
}

/* A boolean safeguard turned off. */
static bool turned_off(bool cur_v, bool fresh_v, enum dbssl_option_id id, struct strbuf *why)
{
    if (!cur_v || fresh_v)
        return false;
    strbuf_printf(why, "%s true -> false", dbssl_options[id].name);
    return true;
}

static bool weaker_mode(const struct dbssl_config *cur, const struct dbssl_config *fresh,
                        struct strbuf *why)
{
    return lowered(fresh, OPT_DB_SSL_MODE, (int)cur->ssl_mode, (int)fresh->ssl_mode, "sslmode",
                   why);
}

static bool weaker_required(const struct dbssl_config *cur, const struct dbssl_config *fresh,
                            struct strbuf *why)
{
    return turned_off(cur->ssl_required, fresh->ssl_required, OPT_DB_SSL_REQUIRED, why);
}

static bool weaker_client_cert(const struct dbssl_config *cur, const struct dbssl_config *fresh,
                               struct strbuf *why)
{
    if (!has_client_cert(cur) || has_client_cert(fresh))
        return false;
    strbuf_append(why, "client certificate dropped");
    return true;
}

static bool weaker_protocol(const struct dbssl_config *cur, const struct dbssl_config *fresh,
                            struct strbuf *why)
{
    return lowered(fresh, OPT_DB_SSL_MIN_PROTOCOL_VERSION, (int)cur->min_protocol,
                   (int)fresh->min_protocol, NULL, why);
}

static bool weaker_verification(const struct dbssl_config *cur, const struct dbssl_config *fresh,
                                struct strbuf *why)
{
    struct dbssl_file_ref ca;
    /* the system's store (DB_SSL_CA_CERT=system) is a CA too */
    bool ca_dropped = (has_ca(cur, &ca) || dbssl_config_ca_system(cur)) &&
                      !(has_ca(fresh, &ca) || dbssl_config_ca_system(fresh));

    if (dbssl_config_verifies_server(cur) && !dbssl_config_verifies_server(fresh)) {
        strbuf_printf(why, "server certificate no longer verified%s",
                      ca_dropped ? " (CA certificate dropped)" : "");
        return true;
    }
    if (!ca_dropped)
        return false;
    /* still a verify mode, but against whatever libpq finds by default */
    strbuf_append(why, "CA certificate dropped");
    return true;
}

/* DB_SSL_CERT_MODE by what it asks of the client certificate: disable < allow < require */
static int cert_mode_strength(enum dbssl_ssl_cert_mode m)
{
    return m == DBSSL_CERT_MODE_DISABLE ? 0 : m == DBSSL_CERT_MODE_ALLOW ? 1 : 2;
}

static bool weaker_cert_mode(const struct dbssl_config *cur, const struct dbssl_config *fresh,
                             struct strbuf *why)
{
    if (cert_mode_strength(fresh->ssl_cert_mode) >= cert_mode_strength(cur->ssl_cert_mode))
        return false;
    strbuf_printf(why, "DB_SSL_CERT_MODE \"%s\" -> \"%s\"",
                  dbssl_option_choice(OPT_DB_SSL_CERT_MODE, (int)cur->ssl_cert_mode),
                  dbssl_option_choice(OPT_DB_SSL_CERT_MODE, (int)fresh->ssl_cert_mode));
    return true;
}

/* Any other list of methods may let one in that was refused: only the same list is not weaker. */
static bool weaker_require_auth(const struct dbssl_config *cur, const struct dbssl_config *fresh,
                                struct strbuf *why)
{
    if (cur->require_auth == NULL ||
        (fresh->require_auth != NULL && strcmp(cur->require_auth, fresh->require_auth) == 0))
        return false;
    if (fresh->require_auth == NULL)
        strbuf_printf(why, "DB_REQUIRE_AUTH \"%s\" dropped", cur->require_auth);
    else
        strbuf_printf(why, "DB_REQUIRE_AUTH \"%s\" -> \"%s\"", cur->require_auth,
                      fresh->require_auth);
    return true;
}

/* Direct TLS never sends the plaintext SSLRequest a downgrade needs: back to it is weaker. */
static bool weaker_negotiation(const struct dbssl_config *cur, const struct dbssl_config *fresh,
                               struct strbuf *why)
{
    if (cur->ssl_negotiation != DBSSL_NEGOTIATION_DIRECT ||
        fresh->ssl_negotiation == DBSSL_NEGOTIATION_DIRECT)
        return false;
    strbuf_append(why, "DB_SSL_NEGOTIATION \"direct\" -> \"postgres\"");
    return true;
}

static bool weaker_crl(const struct dbssl_config *cur, const struct dbssl_config *fresh,
                       struct strbuf *why)
{
    if (cur->crl == NULL || fresh->crl != NULL)
        return false;
    strbuf_append(why, "certificate revocation list dropped");
    return true;
}

static bool weaker_channel_binding(const struct dbssl_config *cur, const struct dbssl_config *fresh,
                                   struct strbuf *why)
{
    return lowered(fresh, OPT_DB_SSL_CHANNEL_BINDING, (int)cur->channel_binding,
                   (int)fresh->channel_binding, "channel_binding", why);
}

/* the watched sessions would turn from unhealthy to merely degraded */
static bool weaker_sessions(const struct dbssl_config *cur, const struct dbssl_config *fresh,
                            struct strbuf *why)
{
    return turned_off(cur->sessions_enforce, fresh->sessions_enforce, OPT_DB_SSL_SESSIONS_ENFORCE,
                      why);
}

#define MAX_RULE_INPUTS 6

/*
 * The rules, in the order their findings are listed.  inputs: the options a
 * rule reads besides DATABASE_URL (whose sslmode, sslrootcert, ... feed them
 * all), ended by -1; a rule with an input that failed to parse is skipped.
 * A new rule (channel_binding, ...) is one line here and one case in
 * tests/unit/test_reload.c.
 */
static const struct weakening_rule {
    bool (*weaker)(const struct dbssl_config *cur, const struct dbssl_config *fresh,
                   struct strbuf *why);
    int inputs[MAX_RULE_INPUTS];
} weakening_rules[] = {
    {weaker_mode, {OPT_DB_SSL_MODE, -1}},
    {weaker_required, {OPT_DB_SSL_REQUIRED, -1}},
    {weaker_client_cert,
     {OPT_DB_SSL_CLIENT_CERT, OPT_DB_SSL_CLIENT_KEY, OPT_DB_SSL_AUTO_GENERATE,
      OPT_DB_SSL_AUTO_GENERATE_CLIENT, OPT_DB_SSL_AUTO_CERT_DIR, -1}},
    {weaker_protocol, {OPT_DB_SSL_MIN_PROTOCOL_VERSION, -1}},
    {weaker_verification,
     {OPT_DB_SSL_MODE, OPT_DB_SSL_CA_CERT, OPT_DB_SSL_AUTO_GENERATE, OPT_DB_SSL_AUTO_CERT_DIR, -1}},
    {weaker_crl, {OPT_DB_SSL_CRL, -1}},
    {weaker_channel_binding, {OPT_DB_SSL_CHANNEL_BINDING, -1}},
    {weaker_sessions, {OPT_DB_SSL_SESSIONS_ENFORCE, -1}},
    {weaker_cert_mode, {OPT_DB_SSL_CERT_MODE, -1}},
    {weaker_require_auth, {OPT_DB_REQUIRE_AUTH, -1}},
    {weaker_negotiation, {OPT_DB_SSL_NEGOTIATION, -1}},
};

static bool inputs_parsed(const struct dbssl_config *cfg, const int *inputs)
{
    if (cfg->settings[OPT_DATABASE_URL].error != NULL)
        return false;
    for (int i = 0; i < MAX_RULE_INPUTS && inputs[i] >= 0; i++)
        if (cfg->settings[inputs[i]].error != NULL)
            return false;
    return true;
}

size_t dbssl_settings_weakening(const struct dbssl_config *cur, const struct dbssl_config *fresh,
                                struct strbuf *why)
{
    size_t n = 0;

    for (size_t i = 0; i < sizeof(weakening_rules) / sizeof(weakening_rules[0]); i++) {
        const struct weakening_rule *r = &weakening_rules[i];
        struct strbuf one;

        strbuf_init(&one);
        if (inputs_parsed(fresh, r->inputs) && r->weaker(cur, fresh, &one)) {
            if (why != NULL)
                strbuf_printf(why, "%s%s", n > 0 ? "; " : "", one.data ? one.data : "");
            n++;
        }
        strbuf_free(&one);
    }
    return n;
}
