/*
 * dburl.c - DATABASE_URL: parsed by libpq, masked for display, and described
 * without its content when libpq rejects it.
 *
 * The URL is parsed with libpq's PQconninfoParse, never by hand, so that
 * dbssl accepts exactly what libpq accepts.  Its passwords are masked by a
 * scan of our own that follows libpq's tokenizing, so that the masked spans
 * are also known as written (%-encoded, quoted) and can be masked in libpq's
 * messages about the connection.
 *
 * A string libpq rejects is never shown, not even masked: where its password
 * ends depends on what the user meant, which is exactly what is unclear
 * ("mysql://u:pw@h", "POSTGRESQL://...", a leading space, odd quoting), and
 * libpq's complaint quotes the string back.  Such a string is described by
 * its scheme (scheme characters only), its length and the rule it breaks, in
 * our words.
 */
#include "dburl.h"

#include <ctype.h>
#include <stddef.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpqcaps.h"
#include "util.h"

/* the longest scheme named in a description; longer ones are not schemes */
#define SCHEME_MAX 32

static bool is_uri(const char *s)
{
    return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

/* Remembers a secret as written, for dbssl_config_redact(). */
static void keep_secret(struct dbssl_url *keep, const char *s, size_t n)
{
    if (keep == NULL || n == 0 || keep->n_raw_secrets >= 8)
        return;
    if ((keep->raw_secrets[keep->n_raw_secrets] = strndup(s, n)) != NULL)
        keep->n_raw_secrets++;
}

/* Appends s[0..n) to sb, or "***" when it is a secret (kept in keep). */
static void mask_span(struct strbuf *sb, bool secret, const char *s, size_t n,
                      struct dbssl_url *keep)
{
    if (!secret) {
        strbuf_append_n(sb, s, n);
        return;
    }
    strbuf_append(sb, "***");
    /* a quoted value is quoted in the string, not in libpq's messages */
    if (n >= 2 && s[0] == '\'' && s[n - 1] == '\'')
        keep_secret(keep, s + 1, n - 2);
    else
        keep_secret(keep, s, n);
}

/* Whether k[0..n) names a secret, after %-decoding as libpq decodes URI keys. */
static bool is_secret_key(const char *k, size_t n)
{
    char name[64];
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (c == '%' && i + 2 < n && hex_digit(k[i + 1]) >= 0 && hex_digit(k[i + 2]) >= 0) {
            c = (char)(hex_digit(k[i + 1]) * 16 + hex_digit(k[i + 2]));
            i += 2;
        }
        if (len + 1 >= sizeof(name))
            return false;
        name[len++] = c;
    }
    name[len] = '\0';
    return dbssl_libpq_is_secret(name);
}

static bool is_space(char c)
{
    return isspace((unsigned char)c) != 0;
}

/*
 * URI form.  libpq takes the user information up to the first "@" before
 * the first "/" (a "?" in a password is fine), which is what we mask from its
 * first ":".  A raw "@" or "/" in the password makes libpq read the rest of
 * it as host, port or database: flagged in keep, so that the URL counts as
 * rejected, and masked all the same.
 */
static void redact_uri(struct strbuf *sb, const char *url, struct dbssl_url *keep)
{
    const char *auth = strstr(url, "://") + 3;
    const char *slash = auth + strcspn(auth, "/");
    const char *qmark = strchr(auth, '?');
    const char *at = memchr(auth, '@', (size_t)(slash - auth)), *p = auth;

    if (at != NULL) {
        /* a host never holds an "@": one there ends a password */
        const char *host_end = at + 1 + strcspn(at + 1, "/?");
        for (const char *q = at + 1; q < host_end; q++)
            if (*q == '@') {
                at = q;
                if (keep != NULL)
                    keep->userinfo_raw = true;
            }
    } else {
        /* no user information for libpq; an "@" further on means a "/" in
         * the password */
        const char *end = qmark ? qmark : auth + strlen(auth);
        for (const char *q = slash; q < end; q++)
            if (*q == '@')
                at = q;
        if (at != NULL && keep != NULL)
            keep->userinfo_raw = true;
    }
    strbuf_append_n(sb, url, (size_t)(auth - url));
    if (at != NULL) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (colon != NULL) {
            strbuf_append_n(sb, auth, (size_t)(colon - auth) + 1);
            mask_span(sb, true, colon + 1, (size_t)(at - colon - 1), keep);
            p = at;
        }
    }
    /* the path, then query parameters: every secret one masked */
    while (*p) {
        const char *q = p + strcspn(p, "?&");
        strbuf_append_n(sb, p, (size_t)(q - p));
        if (*q == '\0')
            break;
        strbuf_append_c(sb, *q);
        p = q + 1;
        {
            const char *eq = p + strcspn(p, "=&");
            const char *end = p + strcspn(p, "&");
            if (*eq == '=' && eq < end && is_secret_key(p, (size_t)(eq - p))) {
                strbuf_append_n(sb, p, (size_t)(eq - p) + 1);
                mask_span(sb, true, eq + 1, (size_t)(end - eq - 1), keep);
                p = end;
            }
        }
    }
}

/*
 * key=value form, tokenized exactly as libpq's conninfo_parse does (isspace
 * separators, backslash escapes, 'quoted' values).  After a secret value,
 * words without "=" are masked too: they are the rest of a password with an
 * unquoted space, which libpq would otherwise quote back in its error.
 */
static void redact_keyvalue(struct strbuf *sb, const char *p, struct dbssl_url *keep)
{
    bool after_secret = false;

    while (*p) {
        const char *k, *ke, *vs;
        bool secret;

        if (is_space(*p)) {
            strbuf_append_c(sb, *p++);
            continue;
        }
        k = p;
        while (*p && *p != '=' && !is_space(*p))
            p++;
        ke = p;
        while (is_space(*p))
            p++;
        if (*p != '=') {
            /* a word without "=": libpq's error names it */
            mask_span(sb, after_secret, k, (size_t)(ke - k), keep);
            strbuf_append_n(sb, ke, (size_t)(p - ke));
            continue;
        }
        secret = is_secret_key(k, (size_t)(ke - k));
        strbuf_append_n(sb, k, (size_t)(p - k) + 1);
        p++;
        while (is_space(*p))
            strbuf_append_c(sb, *p++);
        vs = p;
        if (*p == '\'') {
            p++;
            while (*p && *p != '\'') {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
            if (*p == '\'')
                p++;
            else if (secret)
                p = vs + strlen(vs); /* unterminated: the rest is the secret */
        } else {
            while (*p && !is_space(*p)) {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
        }
        mask_span(sb, secret, vs, (size_t)(p - vs), keep);
        after_secret = secret;
    }
}

/*
 * Masks the passwords of a URI or key=value string without libpq, so that
 * it also works on strings libpq rejected; every masked span is kept (when
 * keep is not NULL) so that dbssl_config_redact() masks it in libpq's
 * complaints too.  Returns a new string.
 */
static char *redact_url(const char *url, struct dbssl_url *keep)
{
    struct strbuf sb;

    strbuf_init(&sb);
    strbuf_append(&sb, "");
    if (is_uri(url))
        redact_uri(&sb, url, keep);
    else
        redact_keyvalue(&sb, url, keep);
    return strbuf_take(&sb);
}

/* ---- strings libpq rejects ------------------------------------------------------ */

static const char HINT_FORM[] =
    "Use the form postgresql://user:password@host:5432/dbname (or libpq's key=value form, "
    "host=... user=... password=...); percent-encode special characters in the password.";
static const char HINT_SCHEME[] =
    "DATABASE_URL must be a PostgreSQL connection URI, postgresql://user:password@host:5432/"
    "dbname, or libpq's key=value form; dbssl connects to PostgreSQL only.";
static const char HINT_CASE[] =
    "Write the scheme in lower case, postgresql:// or postgres://: libpq accepts no other "
    "spelling.";
static const char HINT_DRIVER[] =
    "Write the scheme as postgresql://, without \"+psycopg2\" or another driver name: dbssl "
    "connects with libpq, which knows no drivers.";
static const char HINT_SPACE[] =
    "Remove the whitespace at the start of DATABASE_URL (in the environment or inside the "
    "quotes in .env).";
static const char HINT_QUOTES[] =
    "Remove the quote characters around the value: in .env write DATABASE_URL=postgresql://... "
    "or DATABASE_URL=\"postgresql://...\", one pair of quotes at most.";
static const char HINT_PERCENT[] =
    "Percent-encode special characters in the user name, password and parameters: \"%\" as "
    "%25, \"@\" as %40, \"/\" as %2F, \"?\" as %3F, \"=\" as %3D, \"&\" as %26.";
static const char HINT_SLASH[] =
    "Percent-encode \"/\" as %2F and \"@\" as %40 (and \"?\" as %3F) in the user name and "
    "password of the URI.";
static const char HINT_QUOTE_KV[] =
    "In the key=value form, quote a value that contains spaces with single quotes and close "
    "every quote; write a quote inside a value as \\'.";
static const char HINT_OPTION[] =
    "Use libpq's lower-case parameter names (host, port, dbname, user, password, sslmode, ...), "
    "as listed under \"Parameter Key Words\" in the libpq documentation.";
static const char HINT_IPV6[] =
    "Write an IPv6 address in square brackets, postgresql://user:password@[::1]:5432/dbname.";

/*
 * libpq's complaints, recognised by their fixed words and retold in ours:
 * libpq quotes the offending part of the string, which may be the password.
 * Messages in another language (libpq is translated) get the generic text.
 */
static const struct {
    const char *needle;
    const char *reason;
    const char *hint;
} libpq_reasons[] = {
    {"missing \"=\" after", "a word without \"=\" where libpq expects key=value", HINT_FORM},
    {"unterminated quoted string", "an unterminated quoted value", HINT_QUOTE_KV},
    {"invalid connection option", "an unknown connection parameter", HINT_OPTION},
    {"invalid percent-encoded token", "an invalid percent-encoded sequence", HINT_PERCENT},
    {"forbidden value %00", "a percent-encoded NUL byte (%00)", HINT_PERCENT},
    {"extra key/value separator", "a query parameter with a second \"=\"", HINT_PERCENT},
    {"missing key/value separator", "a query parameter without \"=\"", HINT_PERCENT},
    {"invalid URI query parameter", "an unknown query parameter", HINT_OPTION},
    {"looking for matching \"]\"", "an IPv6 address without its closing \"]\"", HINT_IPV6},
    {"IPv6 host address may not be empty", "an empty IPv6 address \"[]\"", HINT_IPV6},
    {"unexpected character", "an unexpected character after an IPv6 address", HINT_IPV6},
};

/* Length of the scheme at the start of s (RFC 3986 characters before ":"), or 0. */
static size_t scheme_len(const char *s)
{
    size_t n = 0;

    if (!isalpha((unsigned char)s[0]))
        return 0;
    while (n < SCHEME_MAX && (isalnum((unsigned char)s[n]) || strchr("+.-", s[n]) != NULL) &&
           s[n] != '\0')
        n++;
    return s[n] == ':' ? n : 0;
}

static bool is_pg_scheme(const char *s, size_t n, bool exact)
{
    static const char *const names[] = {"postgresql", "postgres"};

    for (size_t i = 0; i < 2; i++)
        if (n == strlen(names[i]) &&
            (exact ? strncmp(s, names[i], n) == 0 : strncasecmp(s, names[i], n) == 0))
            return true;
    return false;
}

/*
 * Why libpq rejected url, from url's shape and libpq's message, written into
 * u->error with the length and u->hint; never a byte of url beyond a scheme.
 */
static int describe_rejected(struct dbssl_url *u, const char *url, const char *libpq_msg)
{
    size_t n = scheme_len(url);
    const char *reason = "libpq could not parse it";
    const char *hint = HINT_FORM;
    char scheme[SCHEME_MAX + 1] = "";
    char why[160];

    snprintf(scheme, sizeof(scheme), "%.*s", (int)n, url);
    if (n > 0 && is_pg_scheme(url, n, false) && strncmp(url + n, "://", 3) != 0) {
        snprintf(why, sizeof(why), "scheme \"%s\" must be followed by \"//\"", scheme);
        reason = why;
    } else if (n > 0 && is_pg_scheme(url, n, false) && !is_pg_scheme(url, n, true)) {
        snprintf(why, sizeof(why), "scheme \"%s\" must be written in lower case", scheme);
        reason = why;
        hint = HINT_CASE;
    } else if (n > 0 && url[n + 1] == '/' && strcspn(url, "+") < n &&
               is_pg_scheme(url, strcspn(url, "+"), false)) {
        snprintf(why, sizeof(why), "scheme \"%s\" names a SQLAlchemy driver", scheme);
        reason = why;
        hint = HINT_DRIVER;
    } else if (n > 0 && url[n + 1] == '/' && !is_pg_scheme(url, n, true)) {
        /* a scheme only when "/" follows: "user:password@host" has none */
        snprintf(why, sizeof(why), "scheme \"%s\" is not postgresql:// or postgres://", scheme);
        reason = why;
        hint = HINT_SCHEME;
    } else if (isspace((unsigned char)url[0])) {
        reason = "it starts with whitespace";
        hint = HINT_SPACE;
    } else if (url[0] == '"' || url[0] == '\'') {
        reason = "it starts with a quote character";
        hint = HINT_QUOTES;
    } else if (libpq_msg != NULL) {
        for (size_t i = 0; i < sizeof(libpq_reasons) / sizeof(libpq_reasons[0]); i++) {
            if (strstr(libpq_msg, libpq_reasons[i].needle) != NULL) {
                reason = libpq_reasons[i].reason;
                hint = libpq_reasons[i].hint;
                break;
            }
        }
    }
    u->error = xasprintf("%s (%zu bytes, not shown: it may hold a password)", reason, strlen(url));
    u->hint = hint;
    return u->error ? 0 : -1;
}

/* ---- parsing ---------------------------------------------------------------------- */

/* The keywords other modules need, copied out of libpq's answer. */
static const struct {
    const char *keyword;
    size_t offset;
} url_fields[] = {
    {"host", offsetof(struct dbssl_url, host)},
    {"hostaddr", offsetof(struct dbssl_url, hostaddr)},
    {"port", offsetof(struct dbssl_url, port)},
    {"user", offsetof(struct dbssl_url, user)},
    {"dbname", offsetof(struct dbssl_url, dbname)},
    {"password", offsetof(struct dbssl_url, password)},
    {"sslmode", offsetof(struct dbssl_url, sslmode)},
    {"sslrootcert", offsetof(struct dbssl_url, sslrootcert)},
    {"sslcert", offsetof(struct dbssl_url, sslcert)},
    {"sslkey", offsetof(struct dbssl_url, sslkey)},
    {"sslcrl", offsetof(struct dbssl_url, sslcrl)},
    {"sslpassword", offsetof(struct dbssl_url, sslpassword)},
    {"channel_binding", offsetof(struct dbssl_url, channel_binding)},
    {"application_name", offsetof(struct dbssl_url, application_name)},
    {"ssl_min_protocol_version", offsetof(struct dbssl_url, ssl_min_protocol_version)},
    {"connect_timeout", offsetof(struct dbssl_url, connect_timeout)},
    {"sslnegotiation", offsetof(struct dbssl_url, sslnegotiation)},
    {"sslcertmode", offsetof(struct dbssl_url, sslcertmode)},
    {"require_auth", offsetof(struct dbssl_url, require_auth)},
    {"target_session_attrs", offsetof(struct dbssl_url, target_session_attrs)},
};
#define N_URL_FIELDS (sizeof(url_fields) / sizeof(url_fields[0]))

static char **url_field(struct dbssl_url *u, size_t i)
{
    return (char **)((char *)u + url_fields[i].offset);
}

static int copy_options(struct dbssl_url *u, PQconninfoOption *opts)
{
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (o->val == NULL)
            continue;
        for (size_t i = 0; i < N_URL_FIELDS; i++)
            if (strcmp(o->keyword, url_fields[i].keyword) == 0 &&
                (*url_field(u, i) = xstrdup(o->val)) == NULL)
                return -1;
    }
    return 0;
}

/* Frees what libpq's parse filled in, when the string must count as rejected after all. */
static void forget_options(struct dbssl_url *u)
{
    for (size_t i = 0; i < N_URL_FIELDS; i++) {
        free(*url_field(u, i));
        *url_field(u, i) = NULL;
    }
    u->parsed = false;
}

int dbssl_url_parse(struct dbssl_url *u, const char *url, char **display)
{
    PQconninfoOption *opts;
    char *errmsg = NULL;
    int ret;

    *display = NULL;
    if (url == NULL || url[0] == '\0') {
        *display = xstrdup("");
        return *display ? 0 : -1;
    }
    opts = PQconninfoParse(url, &errmsg);
    if (opts == NULL) {
        if (errmsg == NULL)
            return -1; /* out of memory */
        ret = describe_rejected(u, url, errmsg);
        PQfreemem(errmsg);
        goto rejected;
    }
    u->parsed = true;
    ret = copy_options(u, opts);
    PQconninfoFree(opts);
    if (ret != 0)
        return -1;
    if ((*display = redact_url(url, u)) == NULL)
        return -1;
    if (!u->userinfo_raw)
        return 0;
    /* libpq read part of the password as host, port or database: none of
     * them may be shown or used */
    forget_options(u);
    free(*display);
    u->error = xasprintf("it has a raw \"/\" or \"@\" in its user name or password (%zu bytes, "
                         "not shown: it may hold a password)",
                         strlen(url));
    u->hint = HINT_SLASH;
    ret = u->error ? 0 : -1;
rejected:
    if (ret != 0)
        return -1;
    *display = xasprintf("(not shown: invalid, %zu bytes)", strlen(url));
    return *display ? 0 : -1;
}

void dbssl_url_free(struct dbssl_url *u)
{
    forget_options(u);
    free(u->error);
    u->error = NULL;
    for (size_t i = 0; i < u->n_raw_secrets; i++)
        free(u->raw_secrets[i]);
    u->n_raw_secrets = 0;
}
