/*
 * libpq_idle.c - the floor of resident memory for a program that checks a
 * PostgreSQL connection's TLS: it opens one connection with libpq (its
 * settings from the PG* variables bench/run.sh exports: verify-full with a
 * client certificate), runs SELECT 1, says "ready" and holds the connection
 * until its standard input closes.  bench/run.sh compares the idle
 * `dbssl serve` with it: whatever libpq, OpenSSL and the libraries libpq
 * loads keep resident, any libpq program keeps too.
 */
#include <libpq-fe.h>
#include <stdio.h>

int main(void)
{
    PGconn *conn = PQconnectdb("");
    PGresult *res;
    int ok;

    if (PQstatus(conn) != CONNECTION_OK || !PQsslInUse(conn)) {
        fprintf(stderr, "libpq_idle: no TLS connection: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    res = PQexec(conn, "select 1");
    ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (!ok) {
        fprintf(stderr, "libpq_idle: select 1 failed: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    while (getchar() != EOF)
        ;
    PQfinish(conn);
    return 0;
}
