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

bool dbssl_libpq_has(const char *keyword)
{
    PQconninfoOption *opts = PQconndefaults();
    bool found = false;

    for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL && !found; o++)
        found = strcmp(o->keyword, keyword) == 0;
    PQconninfoFree(opts);
    return found;
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
