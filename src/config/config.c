/*
 * config.c - loads dbssl's settings from the environment and a dotenv file.
 *
 * Precedence: process environment, then the dotenv file, then the option
 * table's default.  Values are parsed here; a value that does not parse is
 * recorded on its setting and reported by validation, so loading only fails
 * when the dotenv file itself is unusable.
 *
 * DATABASE_URL is parsed (with libpq) and masked by dburl.c; the parts
 * other modules need are copied into struct dbssl_url.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dburl.h"
#include "dotenv.h"
#include "util.h"

#define DEFAULT_ENV_FILE "./.env"

const char *dbssl_source_name(enum dbssl_source source)
{
    switch (source) {
    case DBSSL_SOURCE_DEFAULT:
        return "default";
    case DBSSL_SOURCE_DOTENV:
        return ".env";
    case DBSSL_SOURCE_ENV:
        return "environment";
    case DBSSL_SOURCE_URL:
        return "DATABASE_URL";
    case DBSSL_SOURCE_AUTOGEN:
        return "auto-generate";
    }
    return "unknown";
}

static const char *env_lookup(const char *const *envp, const char *name)
{
    size_t n = strlen(name);

    if (envp == NULL)
        return NULL;
    for (; *envp; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

/* ---- value parsing -------------------------------------------------------- */

bool dbssl_option_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on", "y", "t"};
    static const char *const no[] = {"false", "0", "no", "off", "n", "f"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (str_ieq(s, yes[i])) {
            *out = true;
            return true;
        }
        if (str_ieq(s, no[i])) {
            *out = false;
            return true;
        }
    }
    return false;
}

static int set_error(struct dbssl_setting *st, const char *hint, char *msg)
{
    if (msg == NULL)
        return -1;
    st->error = msg;
    st->hint = xstrdup(hint ? hint : "");
    return st->hint ? 0 : -1;
}

/*
 * Parses one option's value into its typed field.  Returns -1 only on
 * out-of-memory; a bad value is recorded in st->error.
 */
static int parse_option(struct dbssl_config *cfg, int i)
{
    const struct dbssl_option *opt = &dbssl_options[i];
    struct dbssl_setting *st = &cfg->settings[i];
    char *field = (char *)cfg + opt->offset;
    const char *v = st->value;

    switch (opt->type) {
    case DBSSL_OPT_STRING:
    case DBSSL_OPT_PATH:
    case DBSSL_OPT_LIST:
        *(const char **)field = (*v != '\0') ? v : NULL;
        if (*v != '\0' && opt->check) {
            char msg[512];
            const char *hint = NULL;
            if (!opt->check(v, msg, sizeof(msg), &hint))
                return set_error(st, hint, xstrdup(msg));
        }
        return 0;
    case DBSSL_OPT_BOOL: {
        bool b;
        if (!dbssl_option_parse_bool(v, &b))
            return set_error(st, "Use true or false (1/0, yes/no and on/off are accepted too).",
                             xasprintf("invalid boolean value \"%s\"", v));
        *(bool *)field = b;
        return 0;
    }
    case DBSSL_OPT_INT: {
        long n;
        char hint[128];
        snprintf(hint, sizeof(hint), "Use a whole number from %ld to %ld.", opt->min, opt->max);
        if (!parse_long(v, LONG_MIN, LONG_MAX, &n))
            return set_error(st, hint, xasprintf("invalid integer value \"%s\"", v));
        if (n < opt->min || n > opt->max)
            return set_error(st, hint,
                             xasprintf("value %ld is out of range (must be between %ld and %ld)", n,
                                       opt->min, opt->max));
        *(long *)field = n;
        return 0;
    }
    case DBSSL_OPT_ENUM: {
        int k = dbssl_option_choice_index((enum dbssl_option_id)i, v);
        char *list;
        int ret;
        if (k >= 0) {
            *(int *)field = k;
            return 0;
        }
        list = dbssl_option_choices_text((enum dbssl_option_id)i);
        if (list == NULL)
            return -1;
        {
            char hint[512];
            snprintf(hint, sizeof(hint), "Set %s to one of: %s.", opt->name, list);
            ret = set_error(st, hint,
                            xasprintf("invalid value \"%s\" (valid values are %s)", v, list));
        }
        free(list);
        return ret;
    }
    }
    return 0;
}

/*
 * An ssl keyword in DATABASE_URL and its DB_SSL_* setting must not name two
 * different things: libpq would silently use one of them.  When only the URL
 * sets it, the URL's value is adopted (it is the user's explicit choice) and
 * reported with source "DATABASE_URL".  Conflicts are reported by validation.
 */
static int adopt_url_setting(struct dbssl_config *cfg, int id, const char *url_value)
{
    struct dbssl_setting *st = &cfg->settings[id];
    char *v;

    if (url_value == NULL || st->source != DBSSL_SOURCE_DEFAULT)
        return 0;
    v = xstrdup(url_value);
    if (v == NULL)
        return -1;
    free(st->value);
    st->value = v;
    st->source = DBSSL_SOURCE_URL;
    return parse_option(cfg, id);
}

/*
 * Where st's value came from, as dbssl_config_source() says it.  A URL
 * keyword's text names where DATABASE_URL itself was set, so the fix can be
 * made where the user wrote it; DATABASE_URL's own text comes first in the
 * table, so it is ready.
 */
static char *origin_text(const struct dbssl_config *cfg, const struct dbssl_setting *st)
{
    switch (st->source) {
    case DBSSL_SOURCE_DOTENV:
        return xasprintf("%s line %d", dbssl_source_name(st->source), st->line);
    case DBSSL_SOURCE_URL:
        return xasprintf("%s (%s)", dbssl_source_name(st->source),
                         cfg->settings[OPT_DATABASE_URL].origin);
    case DBSSL_SOURCE_DEFAULT:
    case DBSSL_SOURCE_ENV:
    case DBSSL_SOURCE_AUTOGEN:
        break;
    }
    return xstrdup(dbssl_source_name(st->source));
}

/* Shows a generated file as the effective value of the setting it stands in for. */
static int show_ref(struct dbssl_config *cfg, const struct dbssl_file_ref *ref, int id)
{
    struct dbssl_setting *st = &cfg->settings[id];

    if (!ref->generated || st->source != DBSSL_SOURCE_DEFAULT)
        return 0;
    st->source = DBSSL_SOURCE_AUTOGEN;
    st->display = xstrdup(ref->path);
    return st->display ? 0 : -1;
}

/*
 * With DB_SSL_AUTO_GENERATE the CA and client files in use are the generated
 * set's: `dbssl config` shows those paths (the ones status and the endpoint
 * use), not "(unset)".  The typed fields stay unset: they mean "named by
 * the user", which validation and reload rely on.
 */
static int show_generated(struct dbssl_config *cfg)
{
    struct dbssl_file_ref ca, cert, key;

    if (dbssl_config_ca_file(cfg, &ca) && show_ref(cfg, &ca, OPT_DB_SSL_CA_CERT) != 0)
        return -1;
    if (dbssl_config_client_files(cfg, &cert, &key) &&
        (show_ref(cfg, &cert, OPT_DB_SSL_CLIENT_CERT) != 0 ||
         show_ref(cfg, &key, OPT_DB_SSL_CLIENT_KEY) != 0))
        return -1;
    return 0;
}

/* ---- loading ------------------------------------------------------------------- */

/* Notes an unknown DB_SSL_* name and where it was set (origin: text, copied). */
static int note_unknown(struct dbssl_config *cfg, const char *name, const char *origin)
{
    char **n, **o, *copy = xstrdup(origin);

    if (copy == NULL)
        return -1;
    if (strncmp(name, "DB_SSL_", 7) != 0 || dbssl_option_find(name) >= 0) {
        free(copy);
        return 0;
    }
    for (size_t i = 0; i < cfg->n_unknown; i++)
        if (strcmp(cfg->unknown[i], name) == 0) {
            /* the environment is noted last and wins, as for known settings */
            free(cfg->unknown_origin[i]);
            cfg->unknown_origin[i] = copy;
            return 0;
        }
    n = realloc(cfg->unknown, (cfg->n_unknown + 1) * sizeof(*n));
    if (n != NULL)
        cfg->unknown = n;
    o = n ? realloc(cfg->unknown_origin, (cfg->n_unknown + 1) * sizeof(*o)) : NULL;
    if (o != NULL)
        cfg->unknown_origin = o;
    if (n == NULL || o == NULL || (n[cfg->n_unknown] = xstrdup(name)) == NULL) {
        free(copy);
        return -1;
    }
    o[cfg->n_unknown++] = copy;
    return 0;
}

static int note_unknown_env(struct dbssl_config *cfg, const char *const *envp)
{
    for (; envp && *envp; envp++) {
        const char *eq = strchr(*envp, '=');
        char name[128];
        if (eq == NULL || (size_t)(eq - *envp) >= sizeof(name))
            continue;
        memcpy(name, *envp, (size_t)(eq - *envp));
        name[eq - *envp] = '\0';
        if (note_unknown(cfg, name, dbssl_source_name(DBSSL_SOURCE_ENV)) != 0)
            return -1;
    }
    return 0;
}

static int load_dotenv(struct dbssl_config *cfg, const char *env_file, bool required,
                       struct dotenv *env, struct dbssl_error *err)
{
    struct stat st;
    const char *path = env_file ? env_file : DEFAULT_ENV_FILE;

    if (!required && stat(path, &st) != 0 && errno == ENOENT)
        return 0; /* no default .env: settings come from the environment alone */
    if (dotenv_load(path, env, err) != 0) {
        if (dbssl_error_code(err) == DBSSL_ERR_IO)
            dbssl_error_replace_hint(
                err, required ? "Check the path given with --env-file, or omit it to read ./.env."
                              : "Fix or remove ./.env, or name another file with --env-file.");
        return -1;
    }
    cfg->env_file = xstrdup(path);
    return cfg->env_file ? 0 : -1;
}

struct dbssl_config *dbssl_config_load_from(const char *env_file, bool env_file_required,
                                            const char *const *envp, struct dbssl_error *err)
{
    struct dbssl_config *cfg = calloc(1, sizeof(*cfg));
    struct dotenv env = {NULL, 0};
    bool ok = false;

    if (cfg == NULL)
        goto oom;
    if (load_dotenv(cfg, env_file, env_file_required || env_file != NULL, &env, err) != 0)
        goto out;
    if (dotenv_expand(&env, envp) != 0)
        goto oom;
    /* what parses but looks wrong becomes findings (validate.c) */
    cfg->env_notes = env.notes;
    cfg->n_env_notes = env.n_notes;
    env.notes = NULL;
    env.n_notes = 0;

    for (int i = 0; i < DBSSL_OPTION_COUNT; i++) {
        struct dbssl_setting *st = &cfg->settings[i];
        const char *v = env_lookup(envp, dbssl_options[i].name);

        st->source = DBSSL_SOURCE_ENV;
        if (v == NULL) {
            const struct dotenv_entry *e = dotenv_find(&env, dbssl_options[i].name);
            v = e ? e->value : NULL;
            st->line = e ? e->line : 0;
            st->source = DBSSL_SOURCE_DOTENV;
        }
        if (v == NULL) {
            v = dbssl_options[i].def;
            st->source = DBSSL_SOURCE_DEFAULT;
        }
        if ((st->value = xstrdup(v)) == NULL || parse_option(cfg, i) != 0)
            goto oom;
    }
    for (size_t i = 0; i < env.n; i++) {
        char origin[64];
        snprintf(origin, sizeof(origin), ".env line %d",
                 dotenv_find(&env, env.entries[i].key)->line);
        if (note_unknown(cfg, env.entries[i].key, origin) != 0)
            goto oom;
    }
    if (note_unknown_env(cfg, envp) != 0)
        goto oom;

    if (dbssl_url_parse(&cfg->url, cfg->database_url, &cfg->settings[OPT_DATABASE_URL].display) !=
        0)
        goto oom;
    /* parsed and masked like DATABASE_URL: its password never reaches a display or message */
    if (dbssl_url_parse(&cfg->pgbouncer_admin, cfg->pgbouncer_admin_url,
                        &cfg->settings[OPT_DB_PGBOUNCER_ADMIN_URL].display) != 0)
        goto oom;
    if (adopt_url_setting(cfg, OPT_DB_SSL_MODE, cfg->url.sslmode) != 0 ||
        adopt_url_setting(cfg, OPT_DB_SSL_CA_CERT, cfg->url.sslrootcert) != 0 ||
        adopt_url_setting(cfg, OPT_DB_SSL_CLIENT_CERT, cfg->url.sslcert) != 0 ||
        adopt_url_setting(cfg, OPT_DB_SSL_CLIENT_KEY, cfg->url.sslkey) != 0 ||
        adopt_url_setting(cfg, OPT_DB_SSL_CRL, cfg->url.sslcrl) != 0 ||
        adopt_url_setting(cfg, OPT_DB_SSL_CHANNEL_BINDING, cfg->url.channel_binding) != 0 ||
        adopt_url_setting(cfg, OPT_DB_SSL_MIN_PROTOCOL_VERSION,
                          cfg->url.ssl_min_protocol_version) != 0 ||
        adopt_url_setting(cfg, OPT_DB_CONNECT_TIMEOUT, cfg->url.connect_timeout) != 0 ||
        adopt_url_setting(cfg, OPT_DB_SSL_NEGOTIATION, cfg->url.sslnegotiation) != 0 ||
        adopt_url_setting(cfg, OPT_DB_SSL_CERT_MODE, cfg->url.sslcertmode) != 0 ||
        adopt_url_setting(cfg, OPT_DB_REQUIRE_AUTH, cfg->url.require_auth) != 0)
        goto oom;

    if (show_generated(cfg) != 0)
        goto oom;
    for (int i = 0; i < DBSSL_OPTION_COUNT; i++) {
        struct dbssl_setting *st = &cfg->settings[i];
        if ((st->origin = origin_text(cfg, st)) == NULL)
            goto oom;
        if (st->display == NULL) /* the URLs' are made by dbssl_url_parse */
            st->display = (dbssl_options[i].flags & DBSSL_OPT_F_SENSITIVE) && st->value[0]
                              ? xstrdup("***")
                              : xstrdup(st->value);
        if (st->display == NULL)
            goto oom;
    }
    ok = true;
    goto out;
oom:
    dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
out:
    dotenv_free(&env);
    if (!ok) {
        dbssl_config_free(cfg);
        return NULL;
    }
    return cfg;
}

struct dbssl_config *dbssl_config_load(const char *env_file, struct dbssl_error *err)
{
    extern char **environ;

    return dbssl_config_load_from(env_file, env_file != NULL, (const char *const *)environ, err);
}

void dbssl_config_free(struct dbssl_config *cfg)
{
    if (cfg == NULL)
        return;
    for (int i = 0; i < DBSSL_OPTION_COUNT; i++) {
        free(cfg->settings[i].value);
        free(cfg->settings[i].display);
        free(cfg->settings[i].origin);
        free(cfg->settings[i].error);
        free(cfg->settings[i].hint);
    }
    for (size_t i = 0; i < cfg->n_unknown; i++) {
        free(cfg->unknown[i]);
        free(cfg->unknown_origin[i]);
    }
    free(cfg->unknown);
    free(cfg->unknown_origin);
    free(cfg->env_file);
    dotenv_notes_free(cfg->env_notes, cfg->n_env_notes);
    dbssl_url_free(&cfg->url);
    dbssl_url_free(&cfg->pgbouncer_admin);
    free(cfg);
}

const char *dbssl_config_env_file(const struct dbssl_config *cfg)
{
    return cfg ? cfg->env_file : NULL;
}

const char *dbssl_config_display_value(const struct dbssl_config *cfg, size_t i,
                                       enum dbssl_source *source)
{
    if (cfg == NULL || i >= DBSSL_OPTION_COUNT)
        return NULL;
    if (source)
        *source = cfg->settings[i].source;
    return cfg->settings[i].display;
}

const char *dbssl_config_source(const struct dbssl_config *cfg, size_t i)
{
    if (cfg == NULL || i >= DBSSL_OPTION_COUNT)
        return NULL;
    return cfg->settings[i].origin;
}

/* ---- derived facts --------------------------------------------------------- */

static void file_ref(struct dbssl_file_ref *out, const char *setting, const char *dir,
                     const char *name, bool generated)
{
    out->setting = setting;
    out->generated = generated;
    if (name == NULL)
        snprintf(out->path, sizeof(out->path), "%s", dir);
    else
        snprintf(out->path, sizeof(out->path), "%s/%s", dir, name);
}

bool dbssl_config_ca_system(const struct dbssl_config *cfg)
{
    return cfg->ca_cert != NULL && strcmp(cfg->ca_cert, DBSSL_CA_SYSTEM) == 0;
}

bool dbssl_config_ca_file(const struct dbssl_config *cfg, struct dbssl_file_ref *out)
{
    if (dbssl_config_ca_system(cfg))
        return false;
    if (cfg->ca_cert != NULL) {
        file_ref(out, "DB_SSL_CA_CERT", cfg->ca_cert, NULL, false);
        return true;
    }
    if (cfg->auto_generate && cfg->auto_cert_dir != NULL) {
        file_ref(out, "DB_SSL_AUTO_CERT_DIR", cfg->auto_cert_dir, DBSSL_SET_CA_CRT, true);
        return true;
    }
    return false;
}

bool dbssl_config_tls_required(const struct dbssl_config *cfg)
{
    return cfg->ssl_required || !dbssl_sslmode_allows_plaintext(cfg->ssl_mode);
}

bool dbssl_sslmode_allows_plaintext(enum dbssl_sslmode m)
{
    return m < DBSSL_SSLMODE_REQUIRE;
}

bool dbssl_sslmode_verifies(enum dbssl_sslmode m, bool ca_file)
{
    return m != DBSSL_SSLMODE_DISABLE && (m >= DBSSL_SSLMODE_VERIFY_CA || ca_file);
}

bool dbssl_config_verifies_server(const struct dbssl_config *cfg)
{
    struct dbssl_file_ref ca;

    return dbssl_sslmode_verifies(cfg->ssl_mode, dbssl_config_ca_file(cfg, &ca));
}

bool dbssl_config_client_files(const struct dbssl_config *cfg, struct dbssl_file_ref *cert,
                               struct dbssl_file_ref *key)
{
    if (cfg->client_cert != NULL || cfg->client_key != NULL) {
        file_ref(cert, "DB_SSL_CLIENT_CERT", cfg->client_cert ? cfg->client_cert : "", NULL, false);
        file_ref(key, "DB_SSL_CLIENT_KEY", cfg->client_key ? cfg->client_key : "", NULL, false);
        return true;
    }
    if (cfg->auto_generate && cfg->auto_generate_client && cfg->auto_cert_dir != NULL) {
        file_ref(cert, "DB_SSL_AUTO_CERT_DIR", cfg->auto_cert_dir, DBSSL_SET_CLIENT_CRT, true);
        file_ref(key, "DB_SSL_AUTO_CERT_DIR", cfg->auto_cert_dir, DBSSL_SET_CLIENT_KEY, true);
        return true;
    }
    return false;
}

static void replace_all(struct strbuf *out, const char *s, const char *secret)
{
    size_t n = strlen(secret);
    const char *hit;

    while ((hit = strstr(s, secret)) != NULL) {
        strbuf_append_n(out, s, (size_t)(hit - s));
        strbuf_append(out, "***");
        s = hit + n;
    }
    strbuf_append(out, s);
}

char *dbssl_config_redact(const struct dbssl_config *cfg, const char *s)
{
    const struct dbssl_url *urls[2] = {cfg ? &cfg->url : NULL,
                                       cfg ? &cfg->pgbouncer_admin : NULL};
    const char *secrets[2 * (2 + 8)];
    size_t n = 0;
    char *cur = xstrdup(s ? s : "");

    _Static_assert(sizeof(((struct dbssl_url *)0)->raw_secrets) / sizeof(char *) == 8,
                   "secrets has room for each URL's raw secrets");
    for (size_t u = 0; cfg != NULL && u < 2; u++) {
        secrets[n++] = urls[u]->password;
        secrets[n++] = urls[u]->sslpassword;
        for (size_t i = 0; i < urls[u]->n_raw_secrets; i++)
            secrets[n++] = urls[u]->raw_secrets[i];
    }
    for (size_t i = 0; i < n && cur != NULL; i++) {
        struct strbuf sb;
        if (secrets[i] == NULL || secrets[i][0] == '\0')
            continue;
        strbuf_init(&sb);
        replace_all(&sb, cur, secrets[i]);
        free(cur);
        cur = strbuf_take(&sb);
    }
    return cur;
}
