/*
 * fuzz_http_route.c - feeds arbitrary bytes to the HTTP routing as
 * "METHOD\nPATH\nQUERY" (a missing part is NULL) and checks what must hold
 * for any request: a known endpoint only for GET and HEAD, 405 only for a
 * known path, a refresh only where one is allowed and only when the query
 * asks for it; and /probe's target parameter, decoded and read as a target,
 * is either refused or a normal form of plain characters that reads back as
 * itself.  Out-of-bounds reads are the sanitizers' to catch.
 *
 * With clang and -DDBSSL_FUZZ=ON this is a libFuzzer target; otherwise
 * replay.c's main() replays the committed corpus (what CTest runs).
 */
#include <stdlib.h>
#include <string.h>

#include "http_route.h"
#include "probe/probe_config.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* The next '\n'-separated part of the input, NUL-terminated (caller frees), or NULL. */
static char *next_part(const unsigned char **p, const unsigned char *end)
{
    const unsigned char *nl;
    char *s;

    if (*p > end)
        return NULL;
    nl = memchr(*p, '\n', (size_t)(end - *p));
    if (nl == NULL)
        nl = end;
    s = malloc((size_t)(nl - *p) + 1);
    if (s == NULL)
        abort();
    memcpy(s, *p, (size_t)(nl - *p));
    s[nl - *p] = '\0';
    *p = nl + 1;
    return s;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const unsigned char *p = data, *end = data + size;
    char *method = next_part(&p, end), *path = next_part(&p, end), *query = next_part(&p, end);
    struct dbssl_http_route r = dbssl_http_route(method, path, query);
    bool get_or_head = method && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0);
    struct dbssl_http_route as_get = dbssl_http_route("GET", path, query);

    if (r.endpoint > DBSSL_EP_PROBE_OVERVIEW)
        abort();
    if (r.endpoint >= DBSSL_EP_SSL && !get_or_head)
        abort();
    if (r.endpoint == DBSSL_EP_NOT_ALLOWED && (get_or_head || as_get.endpoint < DBSSL_EP_SSL))
        abort();
    if (r.refresh && !(r.endpoint == DBSSL_EP_SSL || r.endpoint == DBSSL_EP_DATABASE ||
                       r.endpoint == DBSSL_EP_READY))
        abort();
    if (r.refresh != (r.endpoint != DBSSL_EP_NOT_FOUND && r.endpoint != DBSSL_EP_NOT_ALLOWED &&
                      r.endpoint != DBSSL_EP_ALIVE && r.endpoint != DBSSL_EP_METRICS &&
                      dbssl_http_query_refresh(query)))
        abort();
    {
        char target[DBSSL_PROBE_TARGET_MAX + 2], msg[256];
        struct dbssl_probe_target t, again;
        if (dbssl_http_query_param(query, "target", target, sizeof(target)) &&
            dbssl_probe_target_parse(target, &t, msg, sizeof(msg))) {
            if (t.text[strspn(t.text, "abcdefghijklmnopqrstuvwxyz0123456789.-:[]")] != '\0')
                abort();
            if (!dbssl_probe_target_parse(t.text, &again, msg, sizeof(msg)) ||
                strcmp(again.text, t.text) != 0)
                abort();
        }
    }
    free(method);
    free(path);
    free(query);
    return 0;
}
