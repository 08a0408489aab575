/*
 * connenv.c - the validated settings as libpq's environment variables and
 * as a DATABASE_URL (see connenv.h).
 *
 * One source: the keyword/value arrays dbssl_connect() itself hands to
 * libpq, described by libpq's own option table (dbssl_conn_params_describe),
 * so that a keyword gets the variable libpq reads it from and a password
 * field is known as secret without a list of our own.  DATABASE_URL is
 * written anew from the same parameters as a postgresql:// URI in libpq's
 * table order: whatever form the user wrote (a URI, key=value, several
 * hosts, %-encoded characters), the application's driver parses back the
 * very values dbssl uses, and the same settings always give the same URL.
 */
#include "connenv.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn_int.h"
#include "jsonutil.h"
#include "util.h"

/* One parameter on its way out: libpq's facts and the value to write. */
struct param {
    const char *keyword;
    const char *envvar;
    bool secret;
    char *value; /* owned: absolute path, or the mask */
};

/* Keywords whose value is a file libpq opens relative to the working directory. */
static bool is_path_keyword(const char *kw)
{
    static const char *const paths[] = {"sslrootcert", "sslcert",   "sslkey",
                                        "sslcrl",      "sslcrldir", "passfile"};

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (strcmp(kw, paths[i]) == 0)
            return true;
    return false;
}

/*
 * path made absolute against the working directory, lexically: symlinks are
 * kept, so that a Kubernetes secret mount (a symlink swapped on rotation)
 * still leads the application to the current files.  "system" is libpq
 * 16's name for the system's CA store, not a file.
 */
static int absolute_path(const char *path, char **out, struct dbssl_error *err)
{
    char *cwd;

    if (path[0] == '/' || path[0] == '\0' || strcmp(path, "system") == 0) {
        *out = xstrdup(path);
        return 0;
    }
    cwd = getcwd(NULL, 0);
    if (cwd == NULL) {
        dbssl_error_setx(err, DBSSL_ERR_IO, strerror(errno),
                         "Run dbssl from a directory that exists, or give absolute paths.",
                         "could not determine the working directory for the relative path \"%s\"",
                         path);
        return -1;
    }
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    *out = xasprintf("%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", path);
    free(cwd);
    return 0;
}

/* ---- the URI ------------------------------------------------------------------ */

/* s %-encoded (util.h's encoder), keeping the characters in keep. */
static void pct_encode(struct strbuf *sb, const char *s, const char *keep)
{
    strbuf_append_pct(sb, s, strlen(s), keep);
}

/*
 * A value in the URI: the mask as written (so that it reads as a mask), else
 * %-encoded, keeping the characters in keep.
 */
static void uri_value(struct strbuf *sb, const struct param *p, const char *keep)
{
    if (p->secret && strcmp(p->value, DBSSL_CONNENV_MASK) == 0)
        strbuf_append(sb, DBSSL_CONNENV_MASK);
    else
        pct_encode(sb, p->value, keep);
}

/*
 * host:port[,host:port...] as libpq's URI parser reads it back: IPv6
 * addresses in brackets, socket directories %-encoded, each host with its
 * port.  A single port with several hosts applies to each (as libpq applies
 * it), so it is written after each.  False when the counts do not pair up
 * (libpq refuses that at connect time): the caller then writes host and port
 * as query parameters, unchanged, so that the application fails alike.
 */
static bool netloc(struct strbuf *sb, const char *host, const char *port)
{
    /* no host (or ""): one empty one, libpq's default */
    size_t nh = list_count(host) > 0 ? list_count(host) : 1, np = list_count(port);

    if (np > 1 && np != nh)
        return false;
    for (size_t i = 0; i < nh; i++) {
        size_t hl = 0, pl = 0;
        const char *h = list_count(host) > 0 ? list_item(host, i, &hl) : "";
        const char *p = np > 0 ? list_item(port, np == 1 ? 0 : i, &pl) : "";

        if (i > 0)
            strbuf_append_c(sb, ',');
        if (memchr(h, ':', hl) != NULL) {
            strbuf_append_c(sb, '[');
            strbuf_append_pct(sb, h, hl, ":");
            strbuf_append_c(sb, ']');
        } else {
            strbuf_append_pct(sb, h, hl, "");
        }
        if (pl > 0) {
            strbuf_append_c(sb, ':');
            strbuf_append_pct(sb, p, pl, "");
        }
    }
    return true;
}

static const struct param *find(const struct param *ps, size_t n, const char *kw)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ps[i].keyword, kw) == 0)
            return &ps[i];
    return NULL;
}

static char *build_url(const struct param *ps, size_t n)
{
    const struct param *user = find(ps, n, "user"), *pw = find(ps, n, "password");
    const struct param *host = find(ps, n, "host"), *port = find(ps, n, "port");
    const struct param *db = find(ps, n, "dbname");
    struct strbuf sb;
    char sep = '?';

    /* libpq stores no empty user or password from the userinfo: those go in the query */
    if (user && user->value[0] == '\0')
        user = NULL;
    if (pw && pw->value[0] == '\0')
        pw = NULL;
    if (db && db->value[0] == '\0')
        db = NULL;
    strbuf_init(&sb);
    strbuf_append(&sb, "postgresql://");
    if (user || pw) {
        if (user)
            uri_value(&sb, user, "");
        if (pw) {
            strbuf_append_c(&sb, ':');
            uri_value(&sb, pw, "");
        }
        strbuf_append_c(&sb, '@');
    }
    if ((host || port) && !netloc(&sb, host ? host->value : NULL, port ? port->value : NULL))
        host = port = NULL;
    if (db) {
        strbuf_append_c(&sb, '/');
        uri_value(&sb, db, "");
    }
    for (size_t i = 0; i < n; i++) {
        const struct param *q = &ps[i];
        if (q == user || q == pw || q == host || q == port || q == db)
            continue;
        strbuf_append_c(&sb, sep);
        sep = '&';
        pct_encode(&sb, q->keyword, "");
        strbuf_append_c(&sb, '=');
        /* RFC 3986 allows "/" and ":" in a query: file paths stay readable */
        uri_value(&sb, q, "/:");
    }
    return strbuf_take(&sb);
}

/* ---- the set -------------------------------------------------------------------- */

static int add_var(struct dbssl_connenv *env, const char *name, const char *value)
{
    struct dbssl_connenv_var *v = &env->vars[env->n];

    v->name = xstrdup(name);
    v->value = xstrdup(value);
    if (v->name == NULL || v->value == NULL) {
        free(v->name);
        free(v->value);
        return -1;
    }
    env->n++;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct dbssl_connenv_var *)a)->name,
                  ((const struct dbssl_connenv_var *)b)->name);
}

/*
 * Verified on PostgreSQL 15: with PGSERVICE naming a service whose
 * pg_service.conf entry says sslmode=disable, psql connected in plaintext
 * although PGSSLMODE=verify-full was set.  dbssl itself is not affected (it
 * passes its settings explicitly), so the program would silently differ.
 */
static int refuse_service(const struct dbssl_conn_params *cp, const char *const *envp,
                          struct dbssl_error *err)
{
    const char *url = dbssl_conn_params_get(cp, "service");
    const char *inherited = NULL;

    for (; envp != NULL && *envp != NULL && inherited == NULL; envp++)
        if (strncmp(*envp, "PGSERVICE=", 10) == 0)
            inherited = *envp + 10;
    if (url == NULL && inherited == NULL)
        return 0;
    dbssl_error_setx(err, DBSSL_ERR_CONFIG,
                     "libpq takes the values of a pg_service.conf service before its environment "
                     "variables: a program reading PGSSLMODE and the others would connect with the "
                     "service's settings instead of the validated ones.",
                     url ? "Remove service= from DATABASE_URL and write the service's parameters "
                           "into DATABASE_URL."
                         : "Unset PGSERVICE, and write the service's parameters into DATABASE_URL.",
                     "a connection service (%s \"%s\") would override the validated settings",
                     url ? "service= in DATABASE_URL" : "PGSERVICE", url ? url : inherited);
    return -1;
}

int dbssl_connenv_build(const struct dbssl_config *cfg, bool show_secrets, const char *const *envp,
                        struct dbssl_connenv *out, struct dbssl_error *err)
{
    struct dbssl_conn_params cp;
    struct dbssl_conn_param_info info[DBSSL_CONN_MAX_PARAMS];
    struct param ps[DBSSL_CONN_MAX_PARAMS];
    struct strbuf only;
    char *url = NULL;
    size_t ninfo, n = 0;
    int ret = -1;

    memset(out, 0, sizeof(*out));
    strbuf_init(&only);
    if (dbssl_conn_build_params(cfg, NULL, &cp, err) != 0)
        return -1;
    if (refuse_service(&cp, envp, err) != 0)
        goto out;
    ninfo = dbssl_conn_params_describe(&cp, info, DBSSL_CONN_MAX_PARAMS);
    for (size_t i = 0; i < ninfo; i++) {
        struct param *p = &ps[n];
        /* dbssl names its own session "dbssl" when the URL names none, to
         * tell it apart from the application's: the application keeps its
         * own name (psql's "psql", a driver's default) */
        if (strcmp(info[i].keyword, "application_name") == 0 && !info[i].from_url)
            continue;
        p->keyword = info[i].keyword;
        p->envvar = info[i].envvar;
        p->secret = info[i].secret;
        if (p->secret && !show_secrets) {
            p->value = xstrdup(DBSSL_CONNENV_MASK);
            out->masked = true;
        } else if (is_path_keyword(p->keyword)) {
            if (absolute_path(info[i].value, &p->value, err) != 0)
                goto out;
        } else {
            p->value = xstrdup(info[i].value);
        }
        if (p->value == NULL)
            goto oom;
        n++;
    }
    url = build_url(ps, n);
    out->vars = calloc(n + 1, sizeof(*out->vars));
    if (url == NULL || out->vars == NULL || add_var(out, "DATABASE_URL", url) != 0)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        if (ps[i].envvar != NULL) {
            if (add_var(out, ps[i].envvar, ps[i].value) != 0)
                goto oom;
        } else {
            strbuf_append(&only, only.len ? "," : "");
            strbuf_append(&only, ps[i].keyword);
        }
    }
    qsort(out->vars + 1, out->n - 1, sizeof(*out->vars), by_name);
    if (only.oom)
        goto oom;
    out->url_only = only.len ? strbuf_take(&only) : NULL;
    ret = 0;
    goto out;
oom:
    dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
out:
    for (size_t i = 0; i < n; i++)
        free(ps[i].value);
    free(url);
    strbuf_free(&only);
    dbssl_conn_params_free(&cp);
    if (ret != 0)
        dbssl_connenv_free(out);
    return ret;
}

void dbssl_connenv_free(struct dbssl_connenv *env)
{
    if (env == NULL)
        return;
    for (size_t i = 0; i < env->n; i++) {
        free(env->vars[i].name);
        free(env->vars[i].value);
    }
    free(env->vars);
    free(env->url_only);
    memset(env, 0, sizeof(*env));
}

const char *dbssl_connenv_get(const struct dbssl_connenv *env, const char *name)
{
    for (size_t i = 0; i < env->n; i++)
        if (strcmp(env->vars[i].name, name) == 0)
            return env->vars[i].value;
    return NULL;
}

/* ---- output --------------------------------------------------------------------- */

bool dbssl_connenv_format_parse(const char *name, enum dbssl_connenv_format *out)
{
    static const char *const names[] = {"shell", "json", "dotenv"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum dbssl_connenv_format)i;
            return true;
        }
    }
    return false;
}

void dbssl_connenv_shell_quote(struct strbuf *sb, const char *value)
{
    strbuf_append_c(sb, '\'');
    for (const char *c = value; *c; c++) {
        if (*c == '\'')
            strbuf_append(sb, "'\\''");
        else
            strbuf_append_c(sb, *c);
    }
    strbuf_append_c(sb, '\'');
}

/*
 * dotenv.c's syntax: a single-quoted value is taken literally (newlines
 * included), so it is the form whenever the value holds no single quote;
 * otherwise double quotes with dotenv.c's escapes (\\ \" \n \r).
 */
void dbssl_connenv_dotenv_quote(struct strbuf *sb, const char *value)
{
    if (strchr(value, '\'') == NULL) {
        strbuf_append_c(sb, '\'');
        strbuf_append(sb, value);
        strbuf_append_c(sb, '\'');
        return;
    }
    strbuf_append_c(sb, '"');
    for (const char *c = value; *c; c++) {
        switch (*c) {
        case '\\':
            strbuf_append(sb, "\\\\");
            break;
        case '"':
            strbuf_append(sb, "\\\"");
            break;
        case '\n':
            strbuf_append(sb, "\\n");
            break;
        case '\r':
            strbuf_append(sb, "\\r");
            break;
        default:
            strbuf_append_c(sb, *c);
        }
    }
    strbuf_append_c(sb, '"');
}

static char *render_json(const struct dbssl_connenv *env)
{
    json_t *root = json_object();
    char *s;

    if (root == NULL)
        return NULL;
    for (size_t i = 0; i < env->n; i++)
        json_object_set_new(root, env->vars[i].name, dbssl_json_str(env->vars[i].value));
    s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (s != NULL) {
        char *nl = xasprintf("%s\n", s);
        free(s);
        s = nl;
    }
    return s;
}

char *dbssl_connenv_render(const struct dbssl_connenv *env, enum dbssl_connenv_format fmt)
{
    struct strbuf sb;

    if (fmt == DBSSL_CONNENV_JSON)
        return render_json(env);
    strbuf_init(&sb);
    if (env->masked)
        strbuf_append(&sb, "# secrets are masked as " DBSSL_CONNENV_MASK
                           ": \"dbssl env --show-secrets\" prints them\n");
    if (env->url_only != NULL)
        strbuf_printf(&sb, "# only DATABASE_URL carries %s (libpq reads no variable for it)\n",
                      env->url_only);
    for (size_t i = 0; i < env->n; i++) {
        strbuf_append(&sb, fmt == DBSSL_CONNENV_SHELL ? "export " : "");
        strbuf_append(&sb, env->vars[i].name);
        strbuf_append_c(&sb, '=');
        if (fmt == DBSSL_CONNENV_SHELL)
            dbssl_connenv_shell_quote(&sb, env->vars[i].value);
        else
            dbssl_connenv_dotenv_quote(&sb, env->vars[i].value);
        strbuf_append_c(&sb, '\n');
    }
    return strbuf_take(&sb);
}
