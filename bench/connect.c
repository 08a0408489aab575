/*
 * connect.c - benchmark: a new verified connection, SELECT 1, close; N
 * times in a row, the way an application without a pool pays for each
 * request.  Three clients of the same server with the same settings:
 *
 *   dbssl        dbssl_connect(cfg, NULL, err): the settings of the
 *                environment and ./.env, as an application loads them once;
 *                the caller asks for no TLS report
 *   dbssl-state  the same with a dbssl_tls_state (what the checker asks for:
 *                the server's own view from pg_stat_ssl, the peer certificate)
 *   libpq        PQconnectdb(""): libpq alone, with the same settings as PG*
 *                variables (`dbssl env --show-secrets` prints them)
 *
 * Prints the mean milliseconds per connection.  Mode "ab" alternates dbssl
 * and libpq connection by connection (each goes first every other time),
 * so that both see the same moment of a shared machine, and prints the
 * median of each.  bench/run.sh runs these against pgbench -C (the same
 * loop in PostgreSQL's own client).
 *
 * Usage: bench_connect dbssl|dbssl-state|libpq|ab N
 */
#include <dbssl/dbssl.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* SELECT 1 over conn; false (with libpq's message) when it fails. */
static bool select1(PGconn *conn)
{
    PGresult *r = PQexec(conn, "SELECT 1");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "1") == 0;

    if (!ok)
        fprintf(stderr, "bench_connect: SELECT 1 failed: %s", PQerrorMessage(conn));
    PQclear(r);
    return ok;
}

/* One new connection, SELECT 1, close: the milliseconds it took, or -1. */
static double one(bool lib, const struct dbssl_config *cfg, struct dbssl_tls_state *st,
                  struct dbssl_error *err)
{
    double t0 = bench_now_ms();
    PGconn *conn = lib ? PQconnectdb("") : dbssl_connect(cfg, st, err);
    bool ok = conn != NULL && PQstatus(conn) == CONNECTION_OK;

    if (!ok)
        fprintf(stderr, "bench_connect: %s: %s\n", lib ? "libpq" : "dbssl",
                lib ? PQerrorMessage(conn) : dbssl_error_message(err));
    ok = ok && select1(conn);
    PQfinish(conn);
    return ok ? bench_now_ms() - t0 : -1;
}

int main(int argc, char **argv)
{
    struct dbssl_error *err = dbssl_error_new();
    struct dbssl_config *cfg = NULL;
    struct dbssl_tls_state *st = NULL;
    const char *mode = argc > 2 ? argv[1] : "";
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    bool lib = strcmp(mode, "libpq") == 0, ab = strcmp(mode, "ab") == 0;
    double total = 0, *a = NULL, *b = NULL;
    int status = 1;

    if (n < 1 || (!lib && !ab && strcmp(mode, "dbssl") != 0 && strcmp(mode, "dbssl-state") != 0)) {
        fprintf(stderr, "usage: bench_connect dbssl|dbssl-state|libpq|ab N\n");
        return 2;
    }
    if (err == NULL)
        return 1;
    if (!lib && (cfg = dbssl_config_load(NULL, err)) == NULL) {
        fprintf(stderr, "bench_connect: %s\n", dbssl_error_message(err));
        goto out;
    }
    if (strcmp(mode, "dbssl-state") == 0 && (st = dbssl_tls_state_new()) == NULL)
        goto out;
    if (ab) {
        if ((a = calloc((size_t)n, sizeof(*a))) == NULL || (b = calloc((size_t)n, sizeof(*b))) == NULL)
            goto out;
        for (long i = 0; i < n; i++) {
            bool dbssl_first = i % 2 == 0;
            double x = one(!dbssl_first, cfg, NULL, err), y;
            if (x < 0 || (y = one(dbssl_first, cfg, NULL, err)) < 0)
                goto out;
            a[i] = dbssl_first ? x : y;
            b[i] = dbssl_first ? y : x;
        }
        printf("%.4f %.4f\n", bench_median(a, n), bench_median(b, n));
        status = 0;
        goto out;
    }
    for (long i = 0; i < n; i++) {
        double t = one(lib, cfg, st, err);
        if (t < 0)
            goto out;
        total += t;
    }
    printf("%.4f\n", total / (double)n);
    status = 0;
out:
    free(a);
    free(b);
    dbssl_tls_state_free(st);
    dbssl_config_free(cfg);
    dbssl_error_free(err);
    return status;
}
