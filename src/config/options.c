/*
 * options.c - the one table of dbssl's settings.
 *
 * Parsing, defaults, `dbssl config`, `dbssl config --markdown` (the README's
 * settings table) and validation of single values are all driven from here,
 * like PgBouncer's CfKey table or Redis's standardConfig.  Defaults are
 * strings parsed by the same code as user input, so a default can never be
 * a value a user could not type.  The order is the guide's order, which is
 * also the order `dbssl config` prints.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "util.h"

static const char *const sslmode_choices[] = {"disable",   "allow",       "prefer", "require",
                                              "verify-ca", "verify-full", NULL};
static const char *const tls_choices[] = {"TLSv1.2", "TLSv1.3", NULL};
static const char *const app_env_choices[] = {"development", "staging", "production", NULL};
static const char *const key_type_choices[] = {"ec-p256", "rsa-2048", "rsa-3072", NULL};
static const char *const log_format_choices[] = {"text", "json", NULL};
static const char *const channel_binding_choices[] = {"disable", "prefer", "require", NULL};
static const char *const negotiation_choices[] = {"postgres", "direct", NULL};
static const char *const cert_mode_choices[] = {"allow", "disable", "require", NULL};

/*
 * HTTP_LISTEN is HOST:PORT or [IPv6]:PORT.  The host is not resolved here:
 * that would make validation slow and network-dependent.
 */
static bool check_listen(const char *value, char *msg, size_t msglen, const char **hint)
{
    char host[LISTEN_HOST_MAX];
    long port;
    const char *why = NULL;

    *hint = "Use HOST:PORT, for example 127.0.0.1:8000 or [::1]:8000.";
    switch (parse_listen(value, host, &port)) {
    case LISTEN_OK:
        return true;
    case LISTEN_NO_PORT:
        why = "expected HOST:PORT";
        break;
    case LISTEN_UNTERMINATED:
        why = "unterminated \"[\"";
        break;
    case LISTEN_BARE_V6:
        why = "an IPv6 address must be written in brackets";
        *hint = "Write IPv6 addresses in brackets, for example [::1]:8000.";
        break;
    case LISTEN_EMPTY_HOST:
        why = "the host is empty";
        break;
    case LISTEN_LONG_HOST:
        why = "the host is too long";
        break;
    case LISTEN_BAD_PORT:
        snprintf(msg, msglen, "invalid port \"%s\" in listen address: must be 1 to 65535",
                 strrchr(value, ':') + 1);
        return false;
    }
    snprintf(msg, msglen, "invalid listen address \"%s\": %s", value, why);
    return false;
}

/*
 * A comma list whose items are checked character by character: "invalid
 * <what> ...: unexpected character", or "empty <what> in ..." for an item
 * that is empty or only blanks.
 */
static bool check_list(const char *value, bool (*ok)(unsigned char c), const char *what, char *msg,
                       size_t msglen)
{
    const char *p = value;

    while (*p) {
        size_t n = strcspn(p, ",");
        size_t blank = 0;
        for (size_t i = 0; i < n; i++) {
            if (!ok((unsigned char)p[i])) {
                snprintf(msg, msglen, "invalid %s \"%.*s\": unexpected character", what, (int)n, p);
                return false;
            }
            blank += p[i] == ' ';
        }
        if (n == blank) {
            snprintf(msg, msglen, "empty %s in \"%s\"", what, value);
            return false;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return true;
}

static bool host_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == ':' || c == '*' || c == '_';
}

/* Each name of DB_SSL_AUTO_CERT_HOSTS becomes a SAN: no spaces, no empty names. */
static bool check_hosts(const char *value, char *msg, size_t msglen, const char **hint)
{
    *hint = "List DNS names or IP addresses separated by commas, for example "
            "db.internal,10.0.0.5.";
    return check_list(value, host_char, "host name", msg, msglen);
}

/* Role and application names are compared with pg_stat_activity as written, blanks trimmed. */
static bool name_char(unsigned char c)
{
    return c >= 0x20 && c != 0x7f && c != '"' && c != '\\';
}

/* DB_SSL_WATCH_ROLES, DB_SSL_WATCH_APPLICATIONS: no empty names, quotes or control characters. */
static bool check_names(const char *value, char *msg, size_t msglen, const char **hint)
{
    *hint = "List names separated by commas, for example app_user,app_reader.";
    return check_list(value, name_char, "name", msg, msglen);
}

/*
 * DB_REQUIRE_AUTH is libpq's require_auth list: methods, or all of them
 * negated with "!"; libpq's own words, so that a typo is caught here and not
 * by the first connection.
 */
static bool check_require_auth(const char *value, char *msg, size_t msglen, const char **hint)
{
    static const char *const methods[] = {"password",      "md5",  "gss", "sspi",
                                          "scram-sha-256", "none", NULL};
    const char *p = value;
    int negated = -1;

    *hint = "List methods separated by commas from password, md5, gss, sspi, scram-sha-256 and "
            "none, either all plain or all negated with \"!\", for example scram-sha-256.";
    while (*p) {
        size_t n = strcspn(p, ",");
        bool neg = p[0] == '!', known = false;
        const char *m = neg ? p + 1 : p;
        size_t mn = neg ? n - 1 : n;

        for (size_t i = 0; methods[i] != NULL && !known; i++)
            known = strlen(methods[i]) == mn && strncmp(methods[i], m, mn) == 0;
        if (!known) {
            snprintf(msg, msglen, "unknown authentication method \"%.*s\"", (int)n, p);
            return false;
        }
        if (negated >= 0 && negated != neg) {
            snprintf(msg, msglen, "negated and plain methods mixed in \"%s\"", value);
            return false;
        }
        negated = neg;
        p += n;
        if (*p == ',')
            p++;
    }
    return true;
}

#define OFF(field) offsetof(struct dbssl_config, field)
#define RELOAD     DBSSL_OPT_F_RELOADABLE

const struct dbssl_option dbssl_options[DBSSL_OPTION_COUNT] = {
    [OPT_DATABASE_URL] = {"DATABASE_URL", DBSSL_OPT_STRING, OFF(database_url), "",
                          DBSSL_OPT_F_SENSITIVE | RELOAD, 0, 0, NULL,
                          "PostgreSQL connection URI or key=value string (required)"},
    [OPT_DB_SSL_MODE] = {"DB_SSL_MODE", DBSSL_OPT_ENUM, OFF(ssl_mode), "prefer", RELOAD, 0, 0,
                         sslmode_choices, "libpq sslmode"},
    [OPT_DB_SSL_REQUIRED] = {"DB_SSL_REQUIRED", DBSSL_OPT_BOOL, OFF(ssl_required), "false", RELOAD,
                             0, 0, NULL, "fail if the session is not encrypted"},
    [OPT_DB_SSL_CA_CERT] = {"DB_SSL_CA_CERT", DBSSL_OPT_PATH, OFF(ca_cert), "", RELOAD, 0, 0, NULL,
                            "CA certificate(s) that sign the server certificate"},
    [OPT_DB_SSL_CLIENT_CERT] = {"DB_SSL_CLIENT_CERT", DBSSL_OPT_PATH, OFF(client_cert), "", RELOAD,
                                0, 0, NULL, "client certificate for mutual TLS"},
    [OPT_DB_SSL_CLIENT_KEY] = {"DB_SSL_CLIENT_KEY", DBSSL_OPT_PATH, OFF(client_key), "", RELOAD, 0,
                               0, NULL, "private key of the client certificate (PEM or DER)"},
    [OPT_DB_SSL_CLIENT_KEY_PASSWORD_FILE] = {"DB_SSL_CLIENT_KEY_PASSWORD_FILE", DBSSL_OPT_PATH,
                                             OFF(client_key_password_file), "", RELOAD, 0, 0, NULL,
                                             "file holding the passphrase of an encrypted client "
                                             "key (libpq sslpassword)"},
    [OPT_DB_SSL_CRL] = {"DB_SSL_CRL", DBSSL_OPT_PATH, OFF(crl), "", RELOAD, 0, 0, NULL,
                        "certificate revocation list (PEM)"},
    [OPT_DB_SSL_MIN_PROTOCOL_VERSION] = {"DB_SSL_MIN_PROTOCOL_VERSION", DBSSL_OPT_ENUM,
                                         OFF(min_protocol), "TLSv1.2", RELOAD, 0, 0, tls_choices,
                                         "lowest TLS version accepted"},
    [OPT_DB_SSL_AUTO_GENERATE] = {"DB_SSL_AUTO_GENERATE", DBSSL_OPT_BOOL, OFF(auto_generate),
                                  "false", RELOAD, 0, 0, NULL,
                                  "generate self-signed development certificates"},
    [OPT_DB_SSL_AUTO_GENERATE_CA] = {"DB_SSL_AUTO_GENERATE_CA", DBSSL_OPT_BOOL,
                                     OFF(auto_generate_ca), "true", RELOAD, 0, 0, NULL,
                                     "generate a CA that signs the server certificate"},
    [OPT_DB_SSL_AUTO_GENERATE_CLIENT] = {"DB_SSL_AUTO_GENERATE_CLIENT", DBSSL_OPT_BOOL,
                                         OFF(auto_generate_client), "false", RELOAD, 0, 0, NULL,
                                         "generate a client certificate (mutual TLS)"},
    [OPT_DB_SSL_AUTO_CERT_DIR] = {"DB_SSL_AUTO_CERT_DIR", DBSSL_OPT_PATH, OFF(auto_cert_dir),
                                  "./ssl_certs/db", RELOAD, 0, 0, NULL,
                                  "directory of generated certificates"},
    [OPT_DB_SSL_AUTO_CERT_VALIDITY_DAYS] = {"DB_SSL_AUTO_CERT_VALIDITY_DAYS", DBSSL_OPT_INT,
                                            OFF(auto_cert_validity_days), "365", RELOAD, 1, 3650,
                                            NULL, "validity of generated certificates (days)"},
    [OPT_DB_SSL_AUTO_CERT_HOSTS] = {"DB_SSL_AUTO_CERT_HOSTS", DBSSL_OPT_LIST, OFF(auto_cert_hosts),
                                    "", RELOAD, 0, 0, NULL,
                                    "extra server certificate names, comma-separated", check_hosts},
    [OPT_DB_SSL_AUTO_KEY_TYPE] = {"DB_SSL_AUTO_KEY_TYPE", DBSSL_OPT_ENUM, OFF(auto_key_type),
                                  "ec-p256", RELOAD, 0, 0, key_type_choices,
                                  "key type of generated certificates"},
    [OPT_DB_SSL_EXPIRY_WARN_DAYS] = {"DB_SSL_EXPIRY_WARN_DAYS", DBSSL_OPT_INT,
                                     OFF(expiry_warn_days), "30", RELOAD, 0, 3650, NULL,
                                     "warn when a certificate expires within this many days"},
    [OPT_DB_SSL_WATCH_ROLES] = {"DB_SSL_WATCH_ROLES", DBSSL_OPT_LIST, OFF(watch_roles), "", RELOAD,
                                0, 0, NULL,
                                "roles whose sessions must use TLS, comma-separated (default: the "
                                "role of DATABASE_URL)",
                                check_names},
    [OPT_DB_SSL_WATCH_APPLICATIONS] = {"DB_SSL_WATCH_APPLICATIONS", DBSSL_OPT_LIST,
                                       OFF(watch_applications), "", RELOAD, 0, 0, NULL,
                                       "application_names whose sessions must use TLS, "
                                       "comma-separated",
                                       check_names},
    [OPT_DB_SSL_SESSIONS_ENFORCE] = {"DB_SSL_SESSIONS_ENFORCE", DBSSL_OPT_BOOL,
                                     OFF(sessions_enforce), "false", RELOAD, 0, 0, NULL,
                                     "unhealthy (not degraded) on a plaintext watched session "
                                     "when DB_SSL_REQUIRED is true"},
    [OPT_DB_SSL_CHANNEL_BINDING] = {"DB_SSL_CHANNEL_BINDING", DBSSL_OPT_ENUM, OFF(channel_binding),
                                    "prefer", RELOAD, 0, 0, channel_binding_choices,
                                    "libpq channel_binding (SCRAM-SHA-256-PLUS)"},
    [OPT_DB_SSL_NEGOTIATION] = {"DB_SSL_NEGOTIATION", DBSSL_OPT_ENUM, OFF(ssl_negotiation),
                                "postgres", RELOAD, 0, 0, negotiation_choices,
                                "TLS negotiation: postgres, or direct (TLS first, ALPN; libpq 17)"},
    [OPT_DB_SSL_CERT_MODE] = {"DB_SSL_CERT_MODE", DBSSL_OPT_ENUM, OFF(ssl_cert_mode), "allow",
                              RELOAD, 0, 0, cert_mode_choices,
                              "send the client certificate: allow, disable, require (libpq 16)"},
    [OPT_DB_REQUIRE_AUTH] = {"DB_REQUIRE_AUTH", DBSSL_OPT_STRING, OFF(require_auth), "", RELOAD, 0,
                             0, NULL,
                             "authentication methods the server may ask for, libpq's "
                             "require_auth (libpq 16)",
                             check_require_auth},
    [OPT_DB_CONNECT_TIMEOUT] = {"DB_CONNECT_TIMEOUT", DBSSL_OPT_INT, OFF(connect_timeout), "5",
                                RELOAD, 1, 600, NULL, "connection timeout (seconds)"},
    [OPT_DB_HEALTH_CHECK_INTERVAL] = {"DB_HEALTH_CHECK_INTERVAL", DBSSL_OPT_INT,
                                      OFF(health_check_interval), "10", RELOAD, 1, 3600, NULL,
                                      "seconds between health checks"},
    [OPT_APP_ENV] = {"APP_ENV", DBSSL_OPT_ENUM, OFF(app_env), "development", RELOAD, 0, 0,
                     app_env_choices, "deployment environment; production enforces verify-full"},
    [OPT_HTTP_LISTEN] = {"HTTP_LISTEN", DBSSL_OPT_STRING, OFF(http_listen), "127.0.0.1:8000", 0, 0,
                         0, NULL, "address of the health endpoint (HOST:PORT)", check_listen},
    [OPT_LOG_FORMAT] = {"LOG_FORMAT", DBSSL_OPT_ENUM, OFF(log_format), "text", RELOAD, 0, 0,
                        log_format_choices, "log lines as text or json"},
    [OPT_DB_PROBE_CONFIG] = {"DB_PROBE_CONFIG", DBSSL_OPT_PATH, OFF(probe_config), "", 0, 0, 0,
                             NULL, "fleet probe modules for GET /probe (docs/fleet.md)"},
    [OPT_DB_PROBE_CONCURRENCY] = {"DB_PROBE_CONCURRENCY", DBSSL_OPT_INT, OFF(probe_concurrency),
                                  "16", 0, 1, 256, NULL, "probes run at once by GET /probe"},
    [OPT_DB_PGBOUNCER_ADMIN_URL] = {"DB_PGBOUNCER_ADMIN_URL", DBSSL_OPT_STRING,
                                    OFF(pgbouncer_admin_url), "", DBSSL_OPT_F_SENSITIVE | RELOAD,
                                    0, 0, NULL,
                                    "PgBouncer's admin console (database pgbouncer): check the TLS "
                                    "of both its hops with SHOW SERVERS and SHOW CLIENTS"},
};

int dbssl_option_find(const char *name)
{
    for (int i = 0; i < DBSSL_OPTION_COUNT; i++)
        if (strcmp(dbssl_options[i].name, name) == 0)
            return i;
    return -1;
}

/* Option id's choices (NULL-terminated), or NULL when it has none. */
static const char *const *choices_of(enum dbssl_option_id id)
{
    return (unsigned)id < DBSSL_OPTION_COUNT ? dbssl_options[id].choices : NULL;
}

const char *dbssl_option_choice(enum dbssl_option_id id, int value)
{
    const char *const *choices = choices_of(id);

    for (int i = 0; choices != NULL && choices[i] != NULL; i++)
        if (i == value)
            return choices[i];
    return "unknown";
}

int dbssl_option_choice_index(enum dbssl_option_id id, const char *name)
{
    const char *const *choices = choices_of(id);

    /* case-insensitive, like most env-driven tools; stored canonically */
    for (int i = 0; choices != NULL && choices[i] != NULL; i++)
        if (str_ieq(name, choices[i]))
            return i;
    return -1;
}

char *dbssl_option_choices_text(enum dbssl_option_id id)
{
    const char *const *choices = choices_of(id);
    struct strbuf sb;

    strbuf_init(&sb);
    for (size_t i = 0; choices != NULL && choices[i] != NULL; i++) {
        if (i > 0)
            strbuf_append(&sb, ", ");
        strbuf_append(&sb, choices[i]);
    }
    return strbuf_take(&sb);
}

const char *dbssl_sslmode_name(enum dbssl_sslmode mode)
{
    return dbssl_option_choice(OPT_DB_SSL_MODE, (int)mode);
}

size_t dbssl_config_option_count(void)
{
    return DBSSL_OPTION_COUNT;
}

const char *dbssl_config_option_name(size_t i)
{
    return i < DBSSL_OPTION_COUNT ? dbssl_options[i].name : NULL;
}

const char *dbssl_config_option_default(size_t i)
{
    return i < DBSSL_OPTION_COUNT ? dbssl_options[i].def : NULL;
}

const char *dbssl_config_option_description(size_t i)
{
    return i < DBSSL_OPTION_COUNT ? dbssl_options[i].description : NULL;
}

bool dbssl_config_option_sensitive(size_t i)
{
    return i < DBSSL_OPTION_COUNT && (dbssl_options[i].flags & DBSSL_OPT_F_SENSITIVE);
}

const char *dbssl_config_option_type(size_t i)
{
    if (i >= DBSSL_OPTION_COUNT)
        return NULL;
    switch (dbssl_options[i].type) {
    case DBSSL_OPT_STRING:
        return "string";
    case DBSSL_OPT_PATH:
        return "path";
    case DBSSL_OPT_BOOL:
        return "boolean";
    case DBSSL_OPT_INT:
        return "integer";
    case DBSSL_OPT_ENUM:
        return "enum";
    case DBSSL_OPT_LIST:
        return "list";
    }
    return "string";
}
