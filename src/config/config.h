/*
 * config.h - the settings as the rest of dbssl sees them.
 *
 * struct dbssl_config is opaque to applications (include/dbssl/config.h) but
 * plain to dbssl's own modules: they read the typed fields directly.  The
 * fields are filled from the option table in options.c; string fields point
 * into settings[].value and are NULL when the setting is unset or empty.
 */
#ifndef DBSSL_INTERNAL_CONFIG_H
#define DBSSL_INTERNAL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "dbssl/config.h"
#include "dburl.h"
#include "error_int.h"
#include "log.h"
#include "util.h"

enum dbssl_app_env {
    DBSSL_ENV_DEVELOPMENT = 0,
    DBSSL_ENV_STAGING,
    DBSSL_ENV_PRODUCTION,
};

enum dbssl_tls_version {
    DBSSL_TLS_1_2 = 0,
    DBSSL_TLS_1_3,
};

/* libpq's channel_binding, weakest first (reload compares them) */
enum dbssl_channel_binding {
    DBSSL_CB_DISABLE = 0,
    DBSSL_CB_PREFER,
    DBSSL_CB_REQUIRE,
};

enum dbssl_key_type {
    DBSSL_KEY_EC_P256 = 0,
    DBSSL_KEY_RSA_2048,
    DBSSL_KEY_RSA_3072,
};

/* DB_SSL_NEGOTIATION: libpq 17's sslnegotiation; postgres is every libpq's way */
enum dbssl_ssl_negotiation {
    DBSSL_NEGOTIATION_POSTGRES = 0,
    DBSSL_NEGOTIATION_DIRECT,
};

/* DB_SSL_CERT_MODE: libpq 16's sslcertmode; allow is what older libpq does */
enum dbssl_ssl_cert_mode {
    DBSSL_CERT_MODE_ALLOW = 0,
    DBSSL_CERT_MODE_DISABLE,
    DBSSL_CERT_MODE_REQUIRE,
};

/* Index of each option in the table; the order of options.c. */
enum dbssl_option_id {
    OPT_DATABASE_URL = 0,
    OPT_DB_SSL_MODE,
    OPT_DB_SSL_REQUIRED,
    OPT_DB_SSL_CA_CERT,
    OPT_DB_SSL_CLIENT_CERT,
    OPT_DB_SSL_CLIENT_KEY,
    OPT_DB_SSL_CLIENT_KEY_PASSWORD_FILE,
    OPT_DB_SSL_CRL,
    OPT_DB_SSL_MIN_PROTOCOL_VERSION,
    OPT_DB_SSL_AUTO_GENERATE,
    OPT_DB_SSL_AUTO_GENERATE_CA,
    OPT_DB_SSL_AUTO_GENERATE_CLIENT,
    OPT_DB_SSL_AUTO_CERT_DIR,
    OPT_DB_SSL_AUTO_CERT_VALIDITY_DAYS,
    OPT_DB_SSL_AUTO_CERT_HOSTS,
    OPT_DB_SSL_AUTO_KEY_TYPE,
    OPT_DB_SSL_EXPIRY_WARN_DAYS,
    OPT_DB_SSL_WATCH_ROLES,
    OPT_DB_SSL_WATCH_APPLICATIONS,
    OPT_DB_SSL_SESSIONS_ENFORCE,
    OPT_DB_SSL_CHANNEL_BINDING,
    OPT_DB_SSL_NEGOTIATION,
    OPT_DB_SSL_CERT_MODE,
    OPT_DB_REQUIRE_AUTH,
    OPT_DB_CONNECT_TIMEOUT,
    OPT_DB_HEALTH_CHECK_INTERVAL,
    OPT_APP_ENV,
    OPT_HTTP_LISTEN,
    OPT_LOG_FORMAT,
    OPT_DB_PROBE_CONFIG,
    OPT_DB_PROBE_CONCURRENCY,
    OPT_DB_PGBOUNCER_ADMIN_URL,
    DBSSL_OPTION_COUNT
};

/* One setting's state after loading. */
struct dbssl_setting {
    char *value;              /* raw value, or the default; never NULL */
    enum dbssl_source source; /* where value came from */
    int line;                 /* DBSSL_SOURCE_DOTENV: the line of the env file, else 0 */
    char *origin;             /* dbssl_config_source()'s text for it */
    char *display;            /* effective value safe to print (secrets masked) */
    char *error;              /* pass-1 problem with the value alone, or NULL */
    char *hint;               /* hint for error, or NULL */
};

struct dbssl_config {
    struct dbssl_setting settings[DBSSL_OPTION_COUNT];
    char *env_file; /* the dotenv file read, or NULL */
    /* what in it parses but looks wrong (dotenv.h's notes), for validation */
    struct dotenv_note *env_notes;
    size_t n_env_notes;

    /* unknown DB_SSL_* names seen in the environment or dotenv file, and where */
    char **unknown;
    char **unknown_origin;
    size_t n_unknown;

    /* typed values; valid when settings[i].error is NULL */
    const char *database_url;
    enum dbssl_sslmode ssl_mode;
    bool ssl_required;
    const char *ca_cert;
    const char *client_cert;
    const char *client_key;
    const char *client_key_password_file;
    const char *crl;
    enum dbssl_tls_version min_protocol;
    bool auto_generate;
    bool auto_generate_ca;
    bool auto_generate_client;
    const char *auto_cert_dir;
    long auto_cert_validity_days;
    const char *auto_cert_hosts;
    enum dbssl_key_type auto_key_type;
    long expiry_warn_days;
    const char *watch_roles;        /* NULL: the role of DATABASE_URL (sessions.h) */
    const char *watch_applications; /* NULL: any application of the watched roles */
    bool sessions_enforce;
    enum dbssl_channel_binding channel_binding;
    enum dbssl_ssl_negotiation ssl_negotiation;
    enum dbssl_ssl_cert_mode ssl_cert_mode;
    const char *require_auth;
    long connect_timeout;
    long health_check_interval;
    enum dbssl_app_env app_env;
    const char *http_listen;
    enum dbssl_log_format log_format; /* LOG_FORMAT, parsed into the logger's own type */
    const char *probe_config;         /* the fleet probe's modules (probe/probe_config.h) */
    long probe_concurrency;           /* probes at once (the prober's workers) */
    const char *pgbouncer_admin_url;  /* NULL: PgBouncer's hops are not checked */

    struct dbssl_url url;
    struct dbssl_url pgbouncer_admin; /* DB_PGBOUNCER_ADMIN_URL parsed, like url */
};

/* ---- option table (options.c) ------------------------------------------- */

enum dbssl_option_type {
    DBSSL_OPT_STRING = 0,
    DBSSL_OPT_PATH,
    DBSSL_OPT_BOOL,
    DBSSL_OPT_INT,
    DBSSL_OPT_ENUM,
    DBSSL_OPT_LIST,
};

#define DBSSL_OPT_F_SENSITIVE  0x01u /* value may hold a secret: mask it */
#define DBSSL_OPT_F_RELOADABLE 0x02u /* a reload may change it without restart */

struct dbssl_option {
    const char *name;
    enum dbssl_option_type type;
    size_t offset;   /* offsetof(struct dbssl_config, field) */
    const char *def; /* default, parsed by the same code as user input */
    unsigned flags;
    long min, max;              /* DBSSL_OPT_INT bounds */
    const char *const *choices; /* DBSSL_OPT_ENUM values, NULL-terminated; index = enum value */
    const char *description;
    /* extra check of the value alone (pass 1); sets *msg and *hint (static) */
    bool (*check)(const char *value, char *msg, size_t msglen, const char **hint);
};

extern const struct dbssl_option dbssl_options[DBSSL_OPTION_COUNT];

/* Index of the option called name, or -1. */
int dbssl_option_find(const char *name);

/*
 * The name of value among option id's choices ("verify-full", "rsa-2048",
 * ...): the one enum-to-name mapping of the settings; "unknown" for a value
 * or option without one.
 */
const char *dbssl_option_choice(enum dbssl_option_id id, int value);

/* The value of name among option id's choices, as a setting reads it (any case), or -1. */
int dbssl_option_choice_index(enum dbssl_option_id id, const char *name);

/* Option id's choices as "a, b, c" (caller frees); NULL on out-of-memory. */
char *dbssl_option_choices_text(enum dbssl_option_id id);

/*
 * A boolean as every setting reads it (DBSSL_OPT_BOOL, and the probe file's
 * on/off keys): true, 1, yes, on, y, t or false, 0, no, off, n, f, in any
 * case.  False, *out untouched, on anything else.
 */
bool dbssl_option_parse_bool(const char *s, bool *out) DBSSL_MUSTCHECK;

/*
 * The files in use and whether auto-generation provides them.  Each getter
 * returns a path owned by cfg-lifetime storage or a caller buffer.
 */
struct dbssl_file_ref {
    const char *setting; /* the setting that names or implies it */
    char path[PATH_BUF];
    bool generated; /* comes from DB_SSL_AUTO_CERT_DIR */
};

/*
 * The generated set's file names in DB_SSL_AUTO_CERT_DIR, the guide's: the
 * one spelling, for the settings layer (the files it implies) and for
 * certs_files.c's table of the set.
 */
#define DBSSL_SET_CA_CRT     "ca.crt"
#define DBSSL_SET_CA_KEY     "ca.key"
#define DBSSL_SET_SERVER_CRT "server.crt"
#define DBSSL_SET_SERVER_KEY "server.key"
#define DBSSL_SET_CLIENT_CRT "client.crt"
#define DBSSL_SET_CLIENT_KEY "client.key"

/*
 * DB_SSL_CA_CERT=system: libpq 16's sslrootcert=system, the system's trust
 * store instead of a file (then dbssl_config_ca_file() has no file).
 */
#define DBSSL_CA_SYSTEM "system"
bool dbssl_config_ca_system(const struct dbssl_config *cfg);

/* The CA file used to verify the server; false when there is none (or "system"). */
bool dbssl_config_ca_file(const struct dbssl_config *cfg, struct dbssl_file_ref *out);
/*
 * Whether libpq verifies the server's certificate chain (and the CRL, when
 * one is set): in verify-ca and verify-full, and in require, prefer and
 * allow once it has a CA file (sslrootcert), since libpq then verifies
 * every TLS handshake as verify-ca does (its documented compatibility
 * rule).  Never in disable.  The one answer for the health body, the status
 * page, validation and reload.
 */
bool dbssl_config_verifies_server(const struct dbssl_config *cfg);
/* The same rule from a mode and whether a CA file is given (the audit's evidence). */
bool dbssl_sslmode_verifies(enum dbssl_sslmode m, bool ca_file);

/* Whether TLS is required: DB_SSL_REQUIRED, or a DB_SSL_MODE from require up. */
bool dbssl_config_tls_required(const struct dbssl_config *cfg);

/* Whether an sslmode lets libpq use plaintext: disable, allow and prefer. */
bool dbssl_sslmode_allows_plaintext(enum dbssl_sslmode m);
/* The client certificate and key; false when mutual TLS is off. */
bool dbssl_config_client_files(const struct dbssl_config *cfg, struct dbssl_file_ref *cert,
                               struct dbssl_file_ref *key);

/* Copies s with every password of DATABASE_URL and DB_PGBOUNCER_ADMIN_URL masked; caller frees. */
char *dbssl_config_redact(const struct dbssl_config *cfg, const char *s);

#endif
