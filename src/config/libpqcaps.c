/*
 * libpqcaps.c - the linked libpq's parameters and version (see libpqcaps.h).
 *
 * Asked on each call, not cached: validation runs once per start or
 * reload, and a cache would be global state for no measurable gain.
 */
#include "libpqcaps.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

/* The keyword's entry in libpq's own table: 0 absent, 1 present, 2 present and a secret. */
static int lookup(const char *keyword)
{
    PQconninfoOption *opts = PQconndefaults();
    int found = 0;

    for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL && !found; o++)
        if (strcmp(o->keyword, keyword) == 0)
            found = o->dispchar != NULL && strchr(o->dispchar, '*') != NULL ? 2 : 1;
    PQconninfoFree(opts);
    return found;
}

bool dbssl_libpq_has(const char *keyword)
{
    return lookup(keyword) != 0;
}

bool dbssl_libpq_is_secret(const char *keyword)
{
    /* the two every libpq has, whatever its table says */
    return strcmp(keyword, "password") == 0 || strcmp(keyword, "sslpassword") == 0 ||
           lookup(keyword) == 2;
}

int dbssl_libpq_version(void)
{
    return PQlibVersion();
}

void dbssl_pg_version_text(int v, char *buf, size_t len)
{
    if (v >= 100000)
        snprintf(buf, len, "%d.%d", v / 10000, v % 10000);
    else
        snprintf(buf, len, "%d.%d.%d", v / 10000, (v / 100) % 100, v % 100);
}
