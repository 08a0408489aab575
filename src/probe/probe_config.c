/*
 * probe_config.c - the probe file's parser and the target rules (see
 * probe_config.h).  A small line parser of its own: the format has three
 * kinds of line, and every mistake must name its line.
 */
#include "probe/probe_config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "certinfo.h"
#include "scan/scan.h"
#include "util.h"

#define MAX_GRADE_EVERY ((long)(7 * SECONDS_PER_DAY))

/* expiry_warn_days is DB_SSL_EXPIRY_WARN_DAYS per module: its default and bounds */
static const struct dbssl_option *const warn_days = &dbssl_options[OPT_DB_SSL_EXPIRY_WARN_DAYS];

const char *dbssl_probe_kind_name(enum dbssl_probe_kind k)
{
    return k == DBSSL_PROBE_LOGIN ? "login" : "tls";
}

/* ---- targets ---------------------------------------------------------------------- */

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* A DNS name: labels of letters, digits and '-' (not at either end), dots between. */
static bool valid_name(const char *s, size_t n)
{
    size_t label = 0;

    if (n == 0 || n > DBSSL_PROBE_HOST_MAX || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
        if (c == '-' && label == 0)
            return false;
        if (++label > 63)
            return false;
    }
    return s[n - 1] != '-';
}

/* s quoted in a message only when it is short and printable (it came from a request). */
static const char *shown(const char *s, char *buf, size_t len)
{
    size_t n = strlen(s);

    if (n > 64)
        return "(a long value)";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '"')
            return "(a value with unprintable characters)";
    snprintf(buf, len, "\"%s\"", s);
    return buf;
}

bool dbssl_probe_target_parse(const char *s, struct dbssl_probe_target *t, char *msg, size_t msglen)
{
    const char *host = s, *port = NULL;
    size_t hlen;
    unsigned char bin[16];
    char q[80], h[DBSSL_PROBE_HOST_MAX + 1];
    long p = DBSSL_SCAN_DEFAULT_PORT;

    memset(t, 0, sizeof(*t));
    if (s == NULL || s[0] == '\0') {
        snprintf(msg, msglen, "no target given: expected target=HOST[:PORT]");
        return false;
    }
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
            snprintf(msg, msglen, "invalid target %s: expected [IPv6] or [IPv6]:PORT",
                     shown(s, q, sizeof(q)));
            return false;
        }
        host = s + 1;
        hlen = (size_t)(close - host);
        port = close[1] == ':' ? close + 2 : NULL;
    } else {
        const char *colon = strchr(s, ':');
        hlen = colon ? (size_t)(colon - s) : strlen(s);
        port = colon ? colon + 1 : NULL;
    }
    if (hlen == 0 || hlen > DBSSL_PROBE_HOST_MAX) {
        snprintf(msg, msglen, "invalid target %s: %s", shown(s, q, sizeof(q)),
                 hlen == 0 ? "no host" : "host name too long");
        return false;
    }
    memcpy(h, host, hlen);
    h[hlen] = '\0';
    /* digits only: strtol would take a sign or leading blanks */
    if (port != NULL && (port[strspn(port, "0123456789")] != '\0' || port[0] == '\0' ||
                         !parse_long(port, 1, 65535, &p))) {
        snprintf(msg, msglen, "invalid target %s: the port must be 1 to 65535",
                 shown(s, q, sizeof(q)));
        return false;
    }
    if (s[0] == '[') {
        if (inet_pton(AF_INET6, h, bin) != 1) {
            snprintf(msg, msglen, "invalid target %s: not an IPv6 address in brackets",
                     shown(s, q, sizeof(q)));
            return false;
        }
        t->is_ip = true;
    } else if (inet_pton(AF_INET, h, bin) == 1) {
        t->is_ip = true;
    } else if (!valid_name(h, hlen)) {
        snprintf(msg, msglen,
                 "invalid target %s: expected HOST[:PORT], HOST an IPv4 address, an [IPv6] "
                 "address or a DNS name",
                 shown(s, q, sizeof(q)));
        return false;
    }
    for (size_t i = 0; i < hlen; i++)
        t->host[i] = lower(h[i]);
    t->port = (int)p;
    snprintf(t->text, sizeof(t->text), s[0] == '[' ? "[%s]:%d" : "%s:%d", t->host, t->port);
    return true;
}

static bool in_net(const struct dbssl_probe_allow *a, const unsigned char *addr)
{
    int full = a->prefix / 8, rest = a->prefix % 8;

    if (memcmp(a->addr, addr, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((a->addr[full] ^ addr[full]) & (0xff << (8 - rest))) == 0;
}

bool dbssl_probe_target_allowed(const struct dbssl_probe_config *c,
                                const struct dbssl_probe_target *t)
{
    unsigned char bin[16];
    int family = 0;
    size_t n = strlen(t->host);

    if (t->is_ip)
        family = inet_pton(AF_INET, t->host, bin) == 1 ? AF_INET : AF_INET6;
    if (family == AF_INET6 && inet_pton(AF_INET6, t->host, bin) != 1)
        return false;
    for (size_t i = 0; i < c->n_allow; i++) {
        const struct dbssl_probe_allow *a = &c->allow[i];
        if (a->kind == DBSSL_ALLOW_NET) {
            if (family == a->family && in_net(a, bin))
                return true;
        } else if (!t->is_ip && a->kind == DBSSL_ALLOW_NAME) {
            if (strcmp(a->name, t->host) == 0)
                return true;
        } else if (!t->is_ip) {
            size_t m = strlen(a->name);
            if (n > m && strcmp(t->host + n - m, a->name) == 0)
                return true;
        }
    }
    return false;
}

/* ---- the file ---------------------------------------------------------------------- */

struct parser {
    const char *path;
    int line;
    struct dbssl_probe_config *c;
    struct dbssl_probe_module *mod; /* the [module] being read, NULL in [targets] */
    bool in_targets, have_allow;
    char default_name[DBSSL_PROBE_NAME_MAX + 1];
    int default_line;
    unsigned seen; /* keys of the current section, a bit each */
    struct dbssl_error *err;
};

static int fail(struct parser *p, const char *hint, const char *fmt, ...) DBSSL_PRINTF(3, 4);
static int fail(struct parser *p, const char *hint, const char *fmt, ...)
{
    char what[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (p->line > 0)
        dbssl_error_set(p->err, DBSSL_ERR_CONFIG, hint, "DB_PROBE_CONFIG \"%s\", line %d: %s",
                        p->path, p->line, what);
    else
        dbssl_error_set(p->err, DBSSL_ERR_CONFIG, hint, "DB_PROBE_CONFIG \"%s\": %s", p->path,
                        what);
    return -1;
}

static int parse_allow_entry(struct parser *p, const char *e)
{
    struct dbssl_probe_allow *a;
    char buf[DBSSL_PROBE_HOST_MAX + 8], *slash;
    long prefix = -1;
    static const char hint[] = "List addresses or networks (10.0.0.0/8, ::1) and host names "
                               "(db1.example.com, *.db.internal), separated by commas.";

    if (p->c->n_allow == DBSSL_PROBE_MAX_ALLOW)
        return fail(p, "Use networks (CIDR) or *.domain entries to cover many targets.",
                    "more than %d allow entries", DBSSL_PROBE_MAX_ALLOW);
    if (strlen(e) >= sizeof(buf))
        return fail(p, hint, "allow entry too long");
    a = &p->c->allow[p->c->n_allow];
    memset(a, 0, sizeof(*a));
    snprintf(buf, sizeof(buf), "%s", e);
    if ((slash = strchr(buf, '/')) != NULL) {
        unsigned char probe[16];
        *slash = '\0';
        if (inet_pton(AF_INET, buf, probe) != 1 && inet_pton(AF_INET6, buf, probe) != 1)
            return fail(p, hint, "invalid allow entry \"%s\"", e);
        if (slash[1 + strspn(slash + 1, "0123456789")] != '\0' ||
            !parse_long(slash + 1, 0, 128, &prefix))
            return fail(p, hint, "invalid network \"%s\": bad prefix length", e);
    }
    if (inet_pton(AF_INET, buf, a->addr) == 1 || inet_pton(AF_INET6, buf, a->addr) == 1) {
        a->family = inet_pton(AF_INET, buf, a->addr) == 1 ? AF_INET : AF_INET6;
        if (a->family == AF_INET6)
            (void)inet_pton(AF_INET6, buf, a->addr);
        a->prefix = prefix < 0 ? (a->family == AF_INET ? 32 : 128) : (int)prefix;
        if (a->family == AF_INET && a->prefix > 32)
            return fail(p, hint, "invalid network \"%s\": an IPv4 prefix is at most 32", e);
        a->kind = DBSSL_ALLOW_NET;
        /* the host bits of the network must be zero: "10.1.2.3/8" is a slip */
        for (int bit = a->prefix; bit < (a->family == AF_INET ? 32 : 128); bit++)
            if (a->addr[bit / 8] & (0x80 >> (bit % 8)))
                return fail(p, "Write the network address, for example 10.0.0.0/8.",
                            "invalid network \"%s\": host bits set after the prefix", e);
    } else if (strncmp(buf, "*.", 2) == 0 && valid_name(buf + 2, strlen(buf + 2))) {
        a->kind = DBSSL_ALLOW_SUFFIX;
        for (size_t i = 1; buf[i]; i++)
            a->name[i - 1] = lower(buf[i]);
    } else if (valid_name(buf, strlen(buf))) {
        a->kind = DBSSL_ALLOW_NAME;
        for (size_t i = 0; buf[i]; i++)
            a->name[i] = lower(buf[i]);
    } else {
        return fail(p, hint, "invalid allow entry \"%s\"", e);
    }
    p->c->n_allow++;
    return 0;
}

static int parse_allow(struct parser *p, char *v)
{
    for (char *e = v; e != NULL && *e;) {
        char *end = e + strcspn(e, ", \t");
        char save = *end;
        *end = '\0';
        if (*e != '\0' && parse_allow_entry(p, e) != 0)
            return -1;
        if (save == '\0')
            break;
        e = end + 1;
    }
    return 0;
}

static bool valid_module_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > DBSSL_PROBE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return false;
    return true;
}

static int parse_section(struct parser *p, char *s)
{
    size_t n = strlen(s);
    char *name;

    if (s[n - 1] != ']')
        return fail(p, "Write a section as [targets] or [module NAME].", "unterminated section");
    s[n - 1] = '\0';
    p->seen = 0;
    p->mod = NULL;
    p->in_targets = false;
    if (strcmp(s + 1, "targets") == 0) {
        p->in_targets = true;
        return 0;
    }
    if (strncmp(s + 1, "module", 6) != 0 || (s[7] != ' ' && s[7] != '\t'))
        return fail(p, "The sections are [targets] and [module NAME].", "unknown section [%s]",
                    s + 1);
    name = s + 8;
    name += strspn(name, " \t");
    for (size_t k = strlen(name); k > 0 && (name[k - 1] == ' ' || name[k - 1] == '\t'); k--)
        name[k - 1] = '\0';
    if (!valid_module_name(name))
        return fail(p, "Name modules with lower-case letters, digits, '-' and '_' (at most 32).",
                    "invalid module name \"%s\"", name);
    if (dbssl_probe_config_module(p->c, name) != NULL)
        return fail(p, "Give each module a name of its own.", "module \"%s\" is defined twice",
                    name);
    if (p->c->n_modules == DBSSL_PROBE_MAX_MODULES)
        return fail(p, NULL, "more than %d modules", DBSSL_PROBE_MAX_MODULES);
    p->mod = &p->c->modules[p->c->n_modules++];
    snprintf(p->mod->name, sizeof(p->mod->name), "%s", name);
    p->mod->kind = (enum dbssl_probe_kind) - 1;
    p->mod->timeout_s = DBSSL_PROBE_DEFAULT_TIMEOUT_S;
    p->mod->profile = dbssl_tls_profile_find(DBSSL_TLS_PROFILE_DEFAULT);
    p->mod->grade_every_s = DBSSL_PROBE_DEFAULT_GRADE_EVERY_S;
    /* the window of DB_SSL_EXPIRY_WARN_DAYS, from the settings table */
    if (!parse_long(warn_days->def, warn_days->min, warn_days->max, &p->mod->expiry_warn_days))
        return fail(p, NULL, "the default of DB_SSL_EXPIRY_WARN_DAYS does not parse");
    p->mod->server_settings = true;
    return 0;
}

/* on/off keys read as every setting reads a boolean (config.h) */
static int parse_onoff(struct parser *p, const char *key, const char *v, bool *out)
{
    if (!dbssl_option_parse_bool(v, out))
        return fail(p, "Use on or off.", "invalid %s \"%s\"", key, v);
    return 0;
}

static int parse_number(struct parser *p, const char *key, const char *v, long min, long max,
                        long *out)
{
    if (!parse_long(v, min, max, out))
        return fail(p, NULL, "invalid %s \"%s\": must be %ld to %ld", key, v, min, max);
    return 0;
}

/* The keys, a bit each (to refuse a key given twice in a section). */
static const char *const module_keys[] = {"kind",     "timeout",         "ca_file",
                                          "profile",  "grade_every",     "expiry_warn_days",
                                          "env_file", "server_settings", NULL};

static int module_key(struct parser *p, int k, const char *key, char *v)
{
    struct dbssl_probe_module *m = p->mod;

    switch (k) {
    case 0:
        if (strcmp(v, "tls") == 0)
            m->kind = DBSSL_PROBE_TLS;
        else if (strcmp(v, "login") == 0)
            m->kind = DBSSL_PROBE_LOGIN;
        else
            return fail(p, "A module is of kind tls (no login) or login.", "unknown kind \"%s\"",
                        v);
        return 0;
    case 1:
        return parse_number(p, key, v, 1, DBSSL_PROBE_MAX_TIMEOUT_S, &m->timeout_s);
    case 2:
        return (m->ca_file = xstrdup(v)) ? 0 : fail(p, NULL, "out of memory");
    case 3:
        if ((m->profile = dbssl_tls_profile_find(v)) == NULL)
            return fail(p, NULL, "unknown profile \"%s\": expected %s", v,
                        dbssl_tls_profile_names());
        return 0;
    case 4:
        if (str_ieq(v, "off")) {
            m->grade_every_s = -1;
            return 0;
        }
        return parse_number(p, key, v, 0, MAX_GRADE_EVERY, &m->grade_every_s);
    case 5:
        return parse_number(p, key, v, warn_days->min, warn_days->max, &m->expiry_warn_days);
    case 6:
        return (m->env_file = xstrdup(v)) ? 0 : fail(p, NULL, "out of memory");
    default:
        return parse_onoff(p, key, v, &m->server_settings);
    }
}

static int parse_setting(struct parser *p, char *s)
{
    char *eq = strchr(s, '='), *key = s, *v;
    size_t klen;
    int k = -1;

    if (eq == NULL)
        return fail(p, "Write settings as key = value.", "expected key = value");
    *eq = '\0';
    v = eq + 1;
    v += strspn(v, " \t");
    klen = strlen(key);
    while (klen > 0 && (key[klen - 1] == ' ' || key[klen - 1] == '\t'))
        key[--klen] = '\0';
    if (p->mod == NULL && !p->in_targets)
        return fail(p, "Put settings under [targets] or [module NAME].",
                    "setting \"%s\" outside a section", key);
    if (*v == '\0')
        return fail(p, NULL, "%s has no value", key);
    if (p->in_targets) {
        if (strcmp(key, "allow") == 0) {
            k = 0;
        } else if (strcmp(key, "default_module") == 0) {
            k = 1;
        } else {
            return fail(p, "[targets] has allow and default_module.",
                        "unknown setting \"%s\" in [targets]", key);
        }
    } else {
        for (int i = 0; module_keys[i] != NULL; i++)
            if (strcmp(module_keys[i], key) == 0)
                k = i;
        if (k < 0)
            return fail(p,
                        "A module has kind, timeout, and for tls ca_file, profile, grade_every, "
                        "expiry_warn_days, for login env_file, server_settings.",
                        "unknown setting \"%s\" in [module %s]", key, p->mod->name);
    }
    if (p->seen & (1u << k))
        return fail(p, "Give each setting once per section.", "%s is set twice in this section",
                    key);
    p->seen |= 1u << k;
    if (p->in_targets && k == 0) {
        p->have_allow = true;
        return parse_allow(p, v);
    }
    if (p->in_targets) {
        if (!valid_module_name(v))
            return fail(p, NULL, "invalid module name \"%s\"", v);
        snprintf(p->default_name, sizeof(p->default_name), "%s", v);
        p->default_line = p->line;
        return 0;
    }
    return module_key(p, k, key, v);
}

/* A login module's env file: loaded alone, valid, verify-full. */
static int load_login(struct parser *p, struct dbssl_probe_module *m)
{
    static const char *const no_env[] = {NULL};
    struct dbssl_findings *f = NULL;
    struct dbssl_error e;
    int ret = -1;

    dbssl_error_clear(&e);
    m->login = dbssl_config_load_from(m->env_file, true, no_env, &e);
    if (m->login == NULL)
        return fail(p, e.hint, "module \"%s\": env_file: %s", m->name, e.message);
    if ((f = dbssl_config_validate(m->login, &e)) == NULL)
        return fail(p, NULL, "module \"%s\": %s", m->name, e.message);
    for (size_t i = 0; i < dbssl_findings_count(f); i++) {
        if (dbssl_findings_severity(f, i) == DBSSL_SEVERITY_ERROR) {
            fail(p, dbssl_findings_hint(f, i), "module \"%s\": env_file \"%s\": %s", m->name,
                 m->env_file, dbssl_findings_message(f, i));
            goto out;
        }
    }
    if (m->login->ssl_mode != DBSSL_SSLMODE_VERIFY_FULL) {
        fail(p,
             "Set DB_SSL_MODE=verify-full (and the CA in DB_SSL_CA_CERT) in the module's env "
             "file: the probe logs in only to servers whose certificate names them.",
             "module \"%s\": env_file \"%s\" has DB_SSL_MODE \"%s\", not verify-full", m->name,
             m->env_file, dbssl_sslmode_name(m->login->ssl_mode));
        goto out;
    }
    ret = 0;
out:
    dbssl_findings_free(f);
    return ret;
}

/* What each module needs, once the file is read. */
static int finish(struct parser *p)
{
    struct dbssl_probe_config *c = p->c;

    p->line = 0;
    if (!p->have_allow)
        return fail(p,
                    "Add a [targets] section with allow = the networks and names /probe may "
                    "reach, for example allow = 10.0.0.0/8, *.db.internal.",
                    "no allow list: /probe would reach nothing");
    if (c->n_modules == 0)
        return fail(p, "Add a module, for example [module tls] with kind = tls.",
                    "no module defined");
    for (size_t i = 0; i < c->n_modules; i++) {
        struct dbssl_probe_module *m = &c->modules[i];
        if ((int)m->kind < 0)
            return fail(p, "Add kind = tls or kind = login to it.", "module \"%s\" has no kind",
                        m->name);
        if (m->kind == DBSSL_PROBE_TLS && m->env_file != NULL)
            return fail(p, "Only login modules log in: remove env_file or use kind = login.",
                        "module \"%s\" of kind tls has an env_file", m->name);
        if (m->kind == DBSSL_PROBE_LOGIN && m->env_file == NULL)
            return fail(p, "Name the file with the credentials and TLS settings: env_file = PATH.",
                        "module \"%s\" of kind login has no env_file", m->name);
        if (m->kind == DBSSL_PROBE_LOGIN && m->ca_file != NULL)
            return fail(p, "Put the CA in the module's env file (DB_SSL_CA_CERT).",
                        "module \"%s\" of kind login has a ca_file", m->name);
        if (m->ca_file != NULL) {
            struct dbssl_certlist cas = {NULL, 0};
            struct dbssl_error e;
            dbssl_error_clear(&e);
            if (dbssl_certlist_load(m->ca_file, "CA file", &cas, &e) != 0)
                return fail(p, e.hint, "module \"%s\": ca_file: %s", m->name, e.message);
            dbssl_certlist_free(&cas);
        }
        if (m->kind == DBSSL_PROBE_LOGIN && load_login(p, m) != 0)
            return -1;
    }
    if (p->default_name[0] != '\0') {
        p->line = p->default_line;
        c->default_module = dbssl_probe_config_module(c, p->default_name);
        if (c->default_module == NULL)
            return fail(p, "Name a module defined in the file.",
                        "default_module \"%s\" is not defined", p->default_name);
    } else {
        c->default_module = dbssl_probe_config_module(c, "tls");
        if (c->default_module == NULL)
            c->default_module = &c->modules[0];
    }
    return 0;
}

int dbssl_probe_config_parse(const char *text, size_t len, const char *path,
                             struct dbssl_probe_config **out, struct dbssl_error *err)
{
    struct dbssl_probe_config *c = calloc(1, sizeof(*c));
    struct parser p = {path, 0, c, NULL, false, false, "", 0, 0, err};
    char *copy = NULL, *line, *next;

    *out = NULL;
    if (c == NULL || (c->path = xstrdup(path)) == NULL || (copy = malloc(len + 1)) == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        goto fail;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    if (strlen(copy) != len) {
        fail(&p, "Save the file as plain text.", "the file holds a NUL byte");
        goto fail;
    }
    for (line = copy; line != NULL; line = next) {
        size_t n;
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        p.line++;
        line += strspn(line, " \t");
        n = strlen(line);
        while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#' || line[0] == ';')
            continue;
        if ((line[0] == '[' ? parse_section(&p, line) : parse_setting(&p, line)) != 0)
            goto fail;
    }
    if (finish(&p) != 0)
        goto fail;
    free(copy);
    *out = c;
    return 0;
fail:
    free(copy);
    dbssl_probe_config_free(c);
    return -1;
}

int dbssl_probe_config_load(const char *path, struct dbssl_probe_config **out,
                            struct dbssl_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int ret;

    *out = NULL;
    if (read_file(path, "DB_PROBE_CONFIG file", CONFIG_FILE_MAX, &text, &len, err) != 0)
        return -1;
    ret = dbssl_probe_config_parse(text, len, path, out, err);
    free(text);
    return ret;
}

void dbssl_probe_config_free(struct dbssl_probe_config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_modules; i++) {
        free(c->modules[i].ca_file);
        free(c->modules[i].env_file);
        dbssl_config_free(c->modules[i].login);
    }
    free(c->path);
    free(c);
}

const struct dbssl_probe_module *dbssl_probe_config_module(const struct dbssl_probe_config *c,
                                                           const char *name)
{
    if (name == NULL || name[0] == '\0')
        return c->default_module;
    for (size_t i = 0; i < c->n_modules; i++)
        if (strcmp(c->modules[i].name, name) == 0)
            return &c->modules[i];
    return NULL;
}
