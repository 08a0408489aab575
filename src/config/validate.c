/*
 * validate.c - dbssl_config_validate(): the C twin of the guide's
 * settings.validate_ssl_config().
 *
 * Two passes, as in PgBouncer: first each value alone (it parses, the file it
 * names is usable), then the rules that relate settings to each other.  Every
 * finding is reported, not just the first, each naming its setting, with a
 * hint that says how to fix it.  Nothing here prints: the CLI renders.
 *
 * Files that auto-generation will create (DB_SSL_AUTO_CERT_DIR) are not
 * errors when missing, and an expiring generated certificate is only a
 * warning, because generation renews it.  The files themselves are checked
 * in validate_files.c, the findings kept by findings.c.
 */
#include "validate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certfacts.h"
#include "clock.h"
#include "dotenv.h"
#include "util.h"

const char *dbssl_autogen_refusal(const struct dbssl_config *cfg, const char **hint)
{
    if (cfg->app_env != DBSSL_ENV_PRODUCTION)
        return NULL;
    *hint = "Set DB_SSL_AUTO_GENERATE=false and use certificates from your CA in DB_SSL_CA_CERT.";
    return "self-signed auto-generated certificates are for development only, not APP_ENV "
           "\"production\"";
}

/* ---- pass 1: each value alone ---------------------------------------------- */

/* Levenshtein distance, for "did you mean" on misspelt setting names. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t prev[64], cur[64];

    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            cur[j] = del < ins ? del : ins;
            if (sub < cur[j])
                cur[j] = sub;
        }
        memcpy(prev, cur, sizeof(prev));
    }
    return prev[lb];
}

static void check_unknown(const struct dbssl_config *cfg, struct dbssl_findings *f)
{
    for (size_t i = 0; i < cfg->n_unknown; i++) {
        const char *best = NULL;
        size_t bestd = 4;
        char hint[256];

        for (int k = 0; k < DBSSL_OPTION_COUNT; k++) {
            size_t d = edit_distance(cfg->unknown[i], dbssl_options[k].name);
            if (d < bestd) {
                bestd = d;
                best = dbssl_options[k].name;
            }
        }
        if (best)
            snprintf(hint, sizeof(hint), "Did you mean %s?", best);
        else
            snprintf(hint, sizeof(hint), "Run \"dbssl config\" to list the known settings.");
        dbssl_findings_add(f, DBSSL_SEVERITY_WARNING, cfg->unknown[i], hint,
                           "unknown setting \"%s\" is ignored", cfg->unknown[i]);
    }
}

/*
 * Whether the unset ${NAME} in key's value may be named in a finding.  The
 * name is part of the value as written, so it is named only where the value
 * is no secret: in a setting of ours that is not SENSITIVE.  In DATABASE_URL
 * (its password), in any key dbssl does not know (an application's own
 * API_KEY or DB_PASSWORD), a "${" may be a piece of a password: there the
 * finding gives the line, never the text (unless the name is a key of the
 * file itself, set further down).
 */
static bool nameable(const char *key, const char *name, bool is_a_key_below)
{
    int i = dbssl_option_find(key);
    size_t n = 0;

    if (!is_a_key_below && (i < 0 || (dbssl_options[i].flags & DBSSL_OPT_F_SENSITIVE)))
        return false;
    for (; name[n]; n++) {
        char c = name[n];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
                  (n > 0 && c >= '0' && c <= '9');
        if (!ok || n >= 64)
            return false;
    }
    return n > 0;
}

/*
 * What in the env file parses but is likely wrong.  A NUL byte is an error:
 * the value was cut at it without a word (no environment variable can hold
 * one, and python-dotenv's load_dotenv fails on it), so what dbssl checks is
 * not what was written.  A key set twice and a ${NAME} that is not set are
 * warnings: both have a defined meaning (the later line wins, an empty
 * string, as in python-dotenv) that may well be intended.
 */
static void check_env_notes(const struct dbssl_config *cfg, struct dbssl_findings *f)
{
    for (size_t i = 0; i < cfg->n_env_notes; i++) {
        const struct dotenv_note *n = &cfg->env_notes[i];
        char ref[96], where[64], hint[256], line[64];
        size_t at = dbssl_findings_count(f);

        switch (n->kind) {
        case DOTENV_NOTE_NUL:
            dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, n->key,
                               "Remove the NUL byte from the file (tr -d '\\000' < FILE > "
                               "FILE.new): no environment variable can hold one.",
                               "the value of %s in env file \"%s\" line %d holds a NUL byte: "
                               "it would be cut short there",
                               n->key, cfg->env_file, n->line);
            break;
        case DOTENV_NOTE_DUPLICATE:
            dbssl_findings_add(f, DBSSL_SEVERITY_WARNING, n->key,
                               "Remove one of the two lines, so that the file shows the value in "
                               "use.",
                               "%s is set twice in env file \"%s\", on lines %d and %d: line %d "
                               "wins",
                               n->key, cfg->env_file, n->other_line, n->line, n->line);
            break;
        case DOTENV_NOTE_UNSET_REF:
            if (nameable(n->key, n->name, n->other_line > 0))
                snprintf(ref, sizeof(ref), "${%s}", n->name);
            else
                snprintf(ref, sizeof(ref), "a variable (${...})");
            if (n->other_line > 0) {
                snprintf(where, sizeof(where), "is set only further down (line %d)", n->other_line);
                snprintf(hint, sizeof(hint),
                         "Move line %d above line %d: a reference sees the environment and the "
                         "lines above it, as in python-dotenv.",
                         n->other_line, n->line);
            } else {
                snprintf(where, sizeof(where), "is not set");
                snprintf(hint, sizeof(hint),
                         "Set it in the environment or on a line above, or give a default as "
                         "${NAME:-default}.");
            }
            dbssl_findings_add(f, DBSSL_SEVERITY_WARNING, n->key, hint,
                               "%s in env file \"%s\" line %d refers to %s, which %s: it expands "
                               "to an empty string",
                               n->key, cfg->env_file, n->line, ref, where);
            break;
        }
        /* about the line itself, whatever value wins */
        snprintf(line, sizeof(line), "%s line %d", dbssl_source_name(DBSSL_SOURCE_DOTENV), n->line);
        (void)dbssl_findings_set_source(f, at, line);
    }
}

/*
 * Every finding about one setting names where that setting's value came
 * from, in the words of dbssl_config_source(): the first thing a user needs
 * to fix it.  Findings about something else (the CLI's, a generated set's
 * renewal) keep "".
 */
static void attach_sources(const struct dbssl_config *cfg, struct dbssl_findings *f)
{
    for (size_t i = 0; i < dbssl_findings_count(f); i++) {
        const char *setting = dbssl_findings_setting(f, i);
        int id = dbssl_option_find(setting);

        if (id >= 0) {
            (void)dbssl_findings_set_source(f, i, cfg->settings[id].origin);
            continue;
        }
        for (size_t k = 0; k < cfg->n_unknown; k++)
            if (strcmp(cfg->unknown[k], setting) == 0)
                (void)dbssl_findings_set_source(f, i, cfg->unknown_origin[k]);
    }
}

static void check_values(const struct dbssl_config *cfg, struct dbssl_findings *f)
{
    for (int i = 0; i < DBSSL_OPTION_COUNT; i++) {
        const struct dbssl_setting *st = &cfg->settings[i];
        if (st->error != NULL)
            dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, dbssl_options[i].name, st->hint, "%s",
                               st->error);
    }
    if (cfg->database_url == NULL) {
        dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, "DATABASE_URL",
                           "Set DATABASE_URL to a PostgreSQL URI such as "
                           "postgresql://user:password@localhost:5432/dbname, in the environment "
                           "or in .env.",
                           "DATABASE_URL is not set");
    } else if (!cfg->url.parsed) {
        /* described without its content: it may hold a password */
        dbssl_findings_addx(f, DBSSL_SEVERITY_ERROR, 0, "DATABASE_URL", cfg->url.error,
                            cfg->url.hint, "invalid DATABASE_URL");
    } else if (cfg->url.port != NULL) {
        /* libpq checks ports only when connecting; fail before that */
        for (const char *p = cfg->url.port; *p;) {
            size_t n = strcspn(p, ",");
            char port[64];
            long v;
            snprintf(port, sizeof(port), "%.*s", (int)n, p);
            if (n > 0 && !parse_long(port, 1, 65535, &v))
                dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, "DATABASE_URL",
                                   "Use a port number from 1 to 65535, usually 5432.",
                                   "invalid port \"%s\" in DATABASE_URL", port);
            p += n;
            if (*p == ',')
                p++;
        }
    }
    if (cfg->pgbouncer_admin_url != NULL && !cfg->pgbouncer_admin.parsed)
        dbssl_findings_addx(f, DBSSL_SEVERITY_ERROR, 0, "DB_PGBOUNCER_ADMIN_URL",
                            cfg->pgbouncer_admin.error, cfg->pgbouncer_admin.hint,
                            "invalid DB_PGBOUNCER_ADMIN_URL");
}

/* ---- pass 2: rules between settings -------------------------------------- */

/* A one-step fix: a setting, a short value, where it is (a URL's origin is short text). */
#define FIX_BUF 512

/* The DATABASE_URL keyword that can set option id (libpq's name), or "" for none. */
static const char *url_keyword(int id)
{
    switch (id) {
    case OPT_DB_SSL_MODE:
        return "sslmode";
    case OPT_DB_SSL_CA_CERT:
        return "sslrootcert";
    case OPT_DB_SSL_CLIENT_CERT:
        return "sslcert";
    case OPT_DB_SSL_CLIENT_KEY:
        return "sslkey";
    case OPT_DB_SSL_CRL:
        return "sslcrl";
    case OPT_DB_SSL_CHANNEL_BINDING:
        return "channel_binding";
    case OPT_DB_SSL_MIN_PROTOCOL_VERSION:
        return "ssl_min_protocol_version";
    case OPT_DB_CONNECT_TIMEOUT:
        return "connect_timeout";
    case OPT_DB_SSL_NEGOTIATION:
        return "sslnegotiation";
    case OPT_DB_SSL_CERT_MODE:
        return "sslcertmode";
    case OPT_DB_REQUIRE_AUTH:
        return "require_auth";
    }
    return "";
}

/*
 * The one step that gives option id the value `value`, made where the user
 * set it: the keyword in DATABASE_URL when the value came from there (a
 * DB_SSL_* line would then conflict with the URL), the line of the env file,
 * the environment, or a new line when it is the default.  Written into buf
 * as the start of a sentence, or its continuation when !start; returns buf.
 */
static const char *fix_setting(const struct dbssl_config *cfg, int id, const char *value,
                               bool start, char *buf, size_t len)
{
    const struct dbssl_setting *st = &cfg->settings[id];
    const char *name = dbssl_options[id].name;

    switch (st->source) {
    case DBSSL_SOURCE_URL:
        snprintf(buf, len, "Change %s=%s to %s=%s in DATABASE_URL (%s)", url_keyword(id), st->value,
                 url_keyword(id), value, cfg->settings[OPT_DATABASE_URL].origin);
        break;
    case DBSSL_SOURCE_DOTENV:
        snprintf(buf, len, "Change %s line %d to %s=%s", dbssl_source_name(st->source), st->line,
                 name, value);
        break;
    case DBSSL_SOURCE_ENV:
        snprintf(buf, len, "Set %s=%s in the environment", name, value);
        break;
    case DBSSL_SOURCE_DEFAULT:
    case DBSSL_SOURCE_AUTOGEN:
        snprintf(buf, len, "Add %s=%s to .env or the environment", name, value);
        break;
    }
    if (!start)
        buf[0] = (char)tolower((unsigned char)buf[0]);
    return buf;
}

/*
 * The sslmode to suggest when the current one is too weak: verify-full when
 * there is a CA to verify with (or production, which demands it), else
 * require, which works with nothing more and refuses plaintext.
 */
static const char *strong_mode(const struct dbssl_config *cfg, bool have_ca)
{
    bool production =
        cfg->settings[OPT_APP_ENV].error == NULL && cfg->app_env == DBSSL_ENV_PRODUCTION;

    return dbssl_sslmode_name(have_ca || production ? DBSSL_SSLMODE_VERIFY_FULL
                                                    : DBSSL_SSLMODE_REQUIRE);
}

static bool same_file(const char *a, const char *b)
{
    char ra[PATH_BUF], rb[PATH_BUF];

    if (strcmp(a, b) == 0)
        return true;
    return realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

/* A DATABASE_URL ssl keyword that differs from its explicitly set DB_SSL_* setting. */
static void check_url_conflict(const struct dbssl_config *cfg, struct dbssl_findings *f, int id,
                               const char *url_value, bool is_path)
{
    const struct dbssl_setting *st = &cfg->settings[id];
    const char *name = dbssl_options[id].name, *keyword = url_keyword(id);
    bool differ;
    char hint[512];

    /* only a value the user set (not the URL's own, a default or a generated path) can differ */
    if (url_value == NULL || st->source == DBSSL_SOURCE_URL || st->source == DBSSL_SOURCE_DEFAULT ||
        st->source == DBSSL_SOURCE_AUTOGEN)
        return;
    if (is_path)
        differ = !same_file(url_value, st->value);
    else
        differ = !str_ieq(url_value, st->value);
    if (!differ)
        return;
    snprintf(hint, sizeof(hint),
             "Remove %s=%s from DATABASE_URL (%s) and keep %s as the one place for it, or make "
             "them agree.",
             keyword, url_value, cfg->settings[OPT_DATABASE_URL].origin, name);
    dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, name, hint,
                       "DATABASE_URL sets %s=\"%s\" but %s is \"%s\"", keyword, url_value, name,
                       st->value);
}

/* True when libpq would connect over a Unix-domain socket, where TLS is never used. */
static bool uses_unix_socket(const struct dbssl_url *u)
{
    if (u->hostaddr != NULL)
        return false;
    if (list_count(u->host) == 0)
        return true; /* libpq's default is the local socket */
    for (size_t i = 0, n = 0; i < list_count(u->host); i++) {
        const char *p = list_item(u->host, i, &n);
        if (host_is_socket(p, n))
            return true;
    }
    return false;
}

static void check_cross(const struct dbssl_config *cfg, struct dbssl_findings *f, bool have_ca,
                        bool ca_read, const struct dbssl_file_ref *ca, bool have_client,
                        const struct dbssl_file_ref *cert, const struct dbssl_file_ref *key,
                        const struct validate_client_state *cs)
{
    enum dbssl_sslmode m = cfg->ssl_mode;
    const char *mode = dbssl_sslmode_name(m);
    bool mode_ok = cfg->settings[OPT_DB_SSL_MODE].error == NULL;
    bool env_ok = cfg->settings[OPT_APP_ENV].error == NULL;
    bool req_ok = cfg->settings[OPT_DB_SSL_REQUIRED].error == NULL;
    bool gen_ok = cfg->settings[OPT_DB_SSL_AUTO_GENERATE].error == NULL;
    bool cb_ok = cfg->settings[OPT_DB_SSL_CHANNEL_BINDING].error == NULL;

    if (cfg->url.parsed) {
        check_url_conflict(cfg, f, OPT_DB_SSL_MODE, cfg->url.sslmode, false);
        check_url_conflict(cfg, f, OPT_DB_SSL_CA_CERT, cfg->url.sslrootcert, true);
        check_url_conflict(cfg, f, OPT_DB_SSL_CLIENT_CERT, cfg->url.sslcert, true);
        check_url_conflict(cfg, f, OPT_DB_SSL_CLIENT_KEY, cfg->url.sslkey, true);
        check_url_conflict(cfg, f, OPT_DB_SSL_CRL, cfg->url.sslcrl, true);
        check_url_conflict(cfg, f, OPT_DB_SSL_CHANNEL_BINDING, cfg->url.channel_binding, false);
        check_url_conflict(cfg, f, OPT_DB_SSL_MIN_PROTOCOL_VERSION,
                           cfg->url.ssl_min_protocol_version, false);
        check_url_conflict(cfg, f, OPT_DB_CONNECT_TIMEOUT, cfg->url.connect_timeout, false);
        check_url_conflict(cfg, f, OPT_DB_SSL_NEGOTIATION, cfg->url.sslnegotiation, false);
        check_url_conflict(cfg, f, OPT_DB_SSL_CERT_MODE, cfg->url.sslcertmode, false);
        check_url_conflict(cfg, f, OPT_DB_REQUIRE_AUTH, cfg->url.require_auth, false);
    }

    if (mode_ok && req_ok && cfg->ssl_required && dbssl_sslmode_allows_plaintext(m)) {
        char fix[FIX_BUF], alt[FIX_BUF], hint[2 * FIX_BUF];
        fix_setting(cfg, OPT_DB_SSL_REQUIRED, "false", false, alt, sizeof(alt));
        snprintf(
            hint, sizeof(hint), "%s, or %s.",
            fix_setting(cfg, OPT_DB_SSL_MODE, strong_mode(cfg, have_ca), true, fix, sizeof(fix)),
            alt);
        dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, "DB_SSL_MODE", hint,
                           "DB_SSL_REQUIRED is true but DB_SSL_MODE \"%s\" allows an unencrypted "
                           "connection",
                           mode);
    }
    if (mode_ok && req_ok && cfg->ssl_required && cfg->url.parsed && uses_unix_socket(&cfg->url))
        dbssl_findings_addx(f, DBSSL_SEVERITY_ERROR, 0, "DATABASE_URL",
                            "TLS is never used over a Unix-domain socket.",
                            "Connect over TCP: put a host name or IP address in DATABASE_URL, for "
                            "example postgresql://user@localhost:5432/dbname.",
                            "DB_SSL_REQUIRED is true but DATABASE_URL connects over a Unix-domain "
                            "socket");
    if (mode_ok && cb_ok && m == DBSSL_SSLMODE_DISABLE && cfg->channel_binding == DBSSL_CB_REQUIRE)
        dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, "DB_SSL_CHANNEL_BINDING",
                           "Channel binding needs TLS: set DB_SSL_MODE=verify-full (or require), "
                           "or DB_SSL_CHANNEL_BINDING=prefer.",
                           "DB_SSL_CHANNEL_BINDING is \"require\" but DB_SSL_MODE \"disable\" "
                           "never uses TLS");
    if (mode_ok && (m == DBSSL_SSLMODE_VERIFY_CA || m == DBSSL_SSLMODE_VERIFY_FULL) && !have_ca)
        dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, "DB_SSL_CA_CERT",
                           "Set DB_SSL_CA_CERT to the CA certificate that signed the server "
                           "certificate, or enable DB_SSL_AUTO_GENERATE=true in development.",
                           "DB_SSL_MODE \"%s\" verifies the server certificate but no CA "
                           "certificate is configured",
                           mode);
    if (mode_ok && dbssl_sslmode_allows_plaintext(m)) {
        char fix[FIX_BUF], hint[FIX_BUF + 128];
        fix_setting(cfg, OPT_DB_SSL_MODE, strong_mode(cfg, have_ca), true, fix, sizeof(fix));
        if (m == DBSSL_SSLMODE_DISABLE)
            snprintf(hint, sizeof(hint), "%s outside local development.", fix);
        else
            snprintf(hint, sizeof(hint),
                     "%s, so that a server without TLS is refused instead of used in plaintext.",
                     fix);
        dbssl_findings_add(f, DBSSL_SEVERITY_WARNING, "DB_SSL_MODE", hint,
                           m == DBSSL_SSLMODE_DISABLE
                               ? "DB_SSL_MODE \"disable\" sends data and passwords unencrypted"
                               : "DB_SSL_MODE \"%s\" falls back to an unencrypted connection "
                                 "without warning when the server does not offer TLS",
                           mode);
    }
    if (mode_ok && m == DBSSL_SSLMODE_REQUIRE && have_ca) {
        char detail[PATH_TEXT_BUF];
        snprintf(detail, sizeof(detail),
                 "Given a CA certificate (\"%s\"), libpq verifies the server certificate as "
                 "with verify-ca.",
                 ca->path);
        char fix[FIX_BUF], hint[FIX_BUF + 128];
        snprintf(hint, sizeof(hint), "Say what you mean: %s, or remove the CA certificate.",
                 fix_setting(cfg, OPT_DB_SSL_MODE, "verify-full", false, fix, sizeof(fix)));
        dbssl_findings_addx(f, DBSSL_SEVERITY_WARNING, 0, "DB_SSL_MODE", detail, hint,
                            "DB_SSL_MODE is \"require\" but a CA certificate is configured");
    }
    if (mode_ok && cfg->crl != NULL && !dbssl_config_verifies_server(cfg)) {
        char fix[FIX_BUF], hint[FIX_BUF + 64];
        snprintf(hint, sizeof(hint), "%s for the CRL to be checked.",
                 fix_setting(cfg, OPT_DB_SSL_MODE, "verify-full", true, fix, sizeof(fix)));
        dbssl_findings_add(f, DBSSL_SEVERITY_WARNING, "DB_SSL_CRL", hint,
                           "DB_SSL_CRL has no effect with DB_SSL_MODE \"%s\"%s", mode,
                           m == DBSSL_SSLMODE_DISABLE ? "" : " and no CA certificate");
    }
    (void)ca_read;

    /* client certificate and key go together */
    if (have_client && !cert->generated) {
        if (cfg->client_cert != NULL && cfg->client_key == NULL)
            dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, "DB_SSL_CLIENT_KEY",
                               "Set DB_SSL_CLIENT_KEY to the private key of the client "
                               "certificate.",
                               "DB_SSL_CLIENT_CERT is set but DB_SSL_CLIENT_KEY is not");
        if (cfg->client_key != NULL && cfg->client_cert == NULL)
            dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, "DB_SSL_CLIENT_CERT",
                               "Set DB_SSL_CLIENT_CERT to the certificate of the client key.",
                               "DB_SSL_CLIENT_KEY is set but DB_SSL_CLIENT_CERT is not");
    }
    if (have_client && cs->cert_ok && cs->key_ok && cs->match_known && !cs->match)
        dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, key->setting,
                           "Use the key that was generated with this certificate, or "
                           "re-issue the certificate for this key.",
                           "private key \"%s\" does not match client certificate \"%s\"", key->path,
                           cert->path);
    if (have_client && mode_ok && m == DBSSL_SSLMODE_DISABLE) {
        char fix[FIX_BUF], hint[FIX_BUF + 64];
        snprintf(
            hint, sizeof(hint), "%s: client certificates need TLS.",
            fix_setting(cfg, OPT_DB_SSL_MODE, strong_mode(cfg, have_ca), true, fix, sizeof(fix)));
        dbssl_findings_add(f, DBSSL_SEVERITY_WARNING, cert->setting, hint,
                           "a client certificate is configured but DB_SSL_MODE is \"disable\"");
    }
    if (gen_ok && !cfg->auto_generate && cfg->auto_generate_client &&
        cfg->settings[OPT_DB_SSL_AUTO_GENERATE_CLIENT].source != DBSSL_SOURCE_DEFAULT)
        dbssl_findings_add(f, DBSSL_SEVERITY_WARNING, "DB_SSL_AUTO_GENERATE_CLIENT",
                           "Set DB_SSL_AUTO_GENERATE=true as well, or configure "
                           "DB_SSL_CLIENT_CERT and DB_SSL_CLIENT_KEY.",
                           "DB_SSL_AUTO_GENERATE_CLIENT has no effect while DB_SSL_AUTO_GENERATE "
                           "is false");

    /* environment policy */
    if (!env_ok)
        return;
    if (cfg->app_env == DBSSL_ENV_PRODUCTION) {
        const char *refusal, *why;
        char fix[FIX_BUF], hint[FIX_BUF + 128];
        if (gen_ok && cfg->auto_generate && (refusal = dbssl_autogen_refusal(cfg, &why)) != NULL)
            dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, "DB_SSL_AUTO_GENERATE", why, "%s", refusal);
        fix_setting(cfg, OPT_DB_SSL_MODE, "verify-full", true, fix, sizeof(fix));
        if (mode_ok && m == DBSSL_SSLMODE_VERIFY_CA) {
            snprintf(hint, sizeof(hint), "%s so that the server's host name is checked too.", fix);
            dbssl_findings_add(f, DBSSL_SEVERITY_WARNING, "DB_SSL_MODE", hint,
                               "DB_SSL_MODE \"verify-ca\" does not check the server's host name "
                               "in production");
        } else if (mode_ok && m != DBSSL_SSLMODE_VERIFY_FULL) {
            snprintf(hint, sizeof(hint), "%s%s.", fix,
                     have_ca ? "" : ", and set DB_SSL_CA_CERT to the CA certificate");
            dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, "DB_SSL_MODE", hint,
                               "DB_SSL_MODE \"%s\" is not allowed in production (use "
                               "verify-full)",
                               mode);
        }
        if (req_ok && !cfg->ssl_required) {
            snprintf(hint, sizeof(hint), "%s in production.",
                     fix_setting(cfg, OPT_DB_SSL_REQUIRED, "true", true, fix, sizeof(fix)));
            dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, "DB_SSL_REQUIRED", hint,
                               "DB_SSL_REQUIRED must be true in production");
        }
        if (cb_ok && cfg->channel_binding != DBSSL_CB_REQUIRE)
            dbssl_findings_add(
                f, DBSSL_SEVERITY_WARNING, "DB_SSL_CHANNEL_BINDING",
                "Set DB_SSL_CHANNEL_BINDING=require, with scram-sha-256 authentication on the "
                "server, so that a man in the middle holding a trusted certificate cannot relay "
                "the login.",
                "DB_SSL_CHANNEL_BINDING \"%s\" does not require channel binding in production",
                dbssl_option_choice(OPT_DB_SSL_CHANNEL_BINDING, (int)cfg->channel_binding));
    } else if (cfg->app_env == DBSSL_ENV_STAGING) {
        char fix[FIX_BUF], hint[FIX_BUF + 64];
        if (mode_ok && !dbssl_config_verifies_server(cfg)) {
            snprintf(hint, sizeof(hint), "%s in staging, as in production.",
                     fix_setting(cfg, OPT_DB_SSL_MODE, "verify-full", true, fix, sizeof(fix)));
            dbssl_findings_add(f, DBSSL_SEVERITY_WARNING, "DB_SSL_MODE", hint,
                               "DB_SSL_MODE \"%s\" does not verify the server in staging", mode);
        }
    }
}

struct dbssl_findings *dbssl_config_validate(const struct dbssl_config *cfg,
                                             struct dbssl_error *err)
{
    struct dbssl_findings *f = dbssl_findings_new();
    struct dbssl_file_ref ca, cert, key;
    struct validate_client_state cs = {false, false, false, false};
    bool have_ca, have_client, ca_read = false, dir_ok, kp_ok;
    struct dbssl_certfacts *known = NULL;
    struct dbssl_keypass kp;
    long long now = dbssl_now();

    if (f == NULL || cfg == NULL) {
        dbssl_error_set(err, cfg ? DBSSL_ERR_NOMEM : DBSSL_ERR_USAGE, NULL,
                        cfg ? "out of memory" : "no configuration to validate");
        dbssl_findings_free(f);
        return NULL;
    }
    /* pass 1 */
    check_values(cfg, f);
    check_unknown(cfg, f);
    dir_ok = validate_cert_dir(cfg, f);
    if (dir_ok)
        known = validate_known(cfg);
    check_env_notes(cfg, f);
    have_ca = dbssl_config_ca_file(cfg, &ca);
    if (have_ca && (dir_ok || !ca.generated))
        ca_read = validate_ca(cfg, f, &ca, now, known);
    have_client = dbssl_config_client_files(cfg, &cert, &key);
    kp_ok = validate_keypass(cfg, f, &kp) == 0;
    if (have_client && (dir_ok || !cert.generated) && kp_ok)
        validate_client(cfg, f, &cert, &key, &kp, now, known, &cs);
    dbssl_keypass_clear(&kp);
    dbssl_certfacts_free(known);
    validate_crl(cfg, f, now);
    /* pass 2 */
    check_cross(cfg, f, have_ca || dbssl_config_ca_system(cfg), ca_read, &ca, have_client, &cert,
                &key, &cs);
    validate_libpq(cfg, f, have_client);
    attach_sources(cfg, f);

    if (dbssl_findings_oom(f)) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        dbssl_findings_free(f);
        return NULL;
    }
    return f;
}
