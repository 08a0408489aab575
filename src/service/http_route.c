/*
 * http_route.c - the route table and the query parameter that asks for a
 * refresh (see http_route.h).  Pure functions: the HTTP server calls them
 * per request and the fuzz target calls them with arbitrary bytes.
 *
 * The query is decoded the way libmicrohttpd decodes GET arguments ('+' is
 * a space, %XX a byte, a malformed % kept as it is, the name matched without
 * case, the first occurrence wins), so moving the parsing here changed no
 * answer.
 */
#include "http_route.h"

#include <string.h>

#include "util.h"

static const struct {
    const char *path;
    enum dbssl_http_endpoint endpoint;
    bool refreshable;
} routes[] = {
    {"/health/database/ssl", DBSSL_EP_SSL, true}, {"/health/database", DBSSL_EP_DATABASE, true},
    {"/health", DBSSL_EP_ALIVE, false},           {"/health/ready", DBSSL_EP_READY, true},
    {"/metrics", DBSSL_EP_METRICS, false},        {"/probe", DBSSL_EP_PROBE, false},
    {"/probe/overview", DBSSL_EP_PROBE_OVERVIEW, false},
};

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Whether s[0..len), decoded, is exactly want (without case when nocase). */
static bool decoded_equals(const char *s, size_t len, const char *want, bool nocase)
{
    size_t i = 0;

    while (i < len) {
        char c = s[i++];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 1 < len && hex_digit(s[i]) >= 0 && hex_digit(s[i + 1]) >= 0) {
            c = (char)(hex_digit(s[i]) * 16 + hex_digit(s[i + 1]));
            i += 2;
        }
        if (*want == '\0')
            return false;
        if (nocase ? lower(c) != lower(*want) : c != *want)
            return false;
        want++;
    }
    return *want == '\0';
}

/*
 * The first parameter called name: its raw value in *value (*vlen bytes;
 * NULL for a bare "name" without '=').  False when there is none.
 */
static bool find_param(const char *query, const char *name, const char **value, size_t *vlen)
{
    const char *p = query;

    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t name_len = eq ? (size_t)(eq - p) : len;

        if (decoded_equals(p, name_len, name, true)) {
            *value = eq ? eq + 1 : NULL;
            *vlen = eq ? len - name_len - 1 : 0;
            return true;
        }
        p = end ? end + 1 : NULL;
    }
    return false;
}

bool dbssl_http_query_refresh(const char *query)
{
    const char *v;
    size_t n;

    /* a bare "refresh" has no value: not a request for one */
    if (!find_param(query, "refresh", &v, &n) || v == NULL)
        return false;
    return decoded_equals(v, n, "1", false) || decoded_equals(v, n, "true", false);
}

bool dbssl_http_query_param(const char *query, const char *name, char *out, size_t len)
{
    const char *v;
    size_t n, o = 0;

    if (len == 0 || !find_param(query, name, &v, &n))
        return false;
    for (size_t i = 0; v != NULL && i < n; i++) {
        char c = v[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < n && hex_digit(v[i + 1]) >= 0 &&
                   hex_digit(v[i + 2]) >= 0) {
            c = (char)(hex_digit(v[i + 1]) * 16 + hex_digit(v[i + 2]));
            i += 2;
        }
        if (c == '\0' || o + 1 >= len)
            return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

struct dbssl_http_route dbssl_http_route(const char *method, const char *path, const char *query)
{
    struct dbssl_http_route r = {DBSSL_EP_NOT_FOUND, false};

    if (method == NULL || path == NULL)
        return r;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strcmp(routes[i].path, path) != 0)
            continue;
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            r.endpoint = DBSSL_EP_NOT_ALLOWED;
            return r;
        }
        r.endpoint = routes[i].endpoint;
        r.refresh = routes[i].refreshable && dbssl_http_query_refresh(query);
        return r;
    }
    return r;
}
