/*
 * testbouncer.c - the PgBouncer fallback of dbssl-testclock, the dbssl
 * program built for the shell tests (tests/CMakeLists.txt): it defines
 * devdb.h's test hook, which no shipped object does, so only this program
 * can be told that PgBouncer is absent on a machine that has it.
 *
 *   DBSSL_TEST_PGBOUNCER_FALLBACK=PATH   where `dev-db start --pgbouncer`
 *                                        looks when PATH has no pgbouncer,
 *                                        instead of /usr/sbin/pgbouncer
 *
 * Unset or empty: Debian's place, as the shipped program.
 */
#include <stdlib.h>

#include "devdb.h"

const char *dbssl_devdb_test_bouncer_fallback(const char *debian)
{
    const char *path = getenv("DBSSL_TEST_PGBOUNCER_FALLBACK");

    return path != NULL && path[0] != '\0' ? path : debian;
}
