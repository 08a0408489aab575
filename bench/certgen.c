/*
 * certgen.c - benchmark: the full development set (CA, server, client)
 * generated in process by dbssl_certs_generate() versus the equivalent
 * `openssl` command-line recipe (bench/certs-openssl.sh: genpkey/req/x509,
 * same key type and extensions), measured in the same run.  bench/run.sh
 * compares whole processes (`dbssl certs generate`); this compares the
 * generator alone.  Prints the median wall time of
 * each and their ratio; targets: in-process <= 1/3 of the recipe, < 20 ms
 * for ec-p256.  The in-process side includes what the CLI recipe skips:
 * checking the directory, the lock, fsync of every file and the swap.
 *
 * Usage: bench_certgen [RUNS [KEY-TYPE]]   (RUNS default 15, RSA uses a third of them, at
 * least 5; KEY-TYPE ec-p256 or rsa-2048 runs only that one)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "certs.h"
#include "util.h"

/* The same set with the openssl program: bench/certs-openssl.sh (BENCH_DIR) in directory d. */
static char *recipe(const char *d, const char *type)
{
    return xasprintf("%s/certs-openssl.sh %s %s", BENCH_DIR, d, type);
}

static int bench(const char *label, enum dbssl_key_type t, int runs, const char *root)
{
    double *in = calloc((size_t)runs, sizeof(double)), *cli = calloc((size_t)runs, sizeof(double));
    struct dbssl_certs_opts o;
    struct dbssl_certs_result res;
    struct dbssl_error e;
    int ret = -1;

    if (in == NULL || cli == NULL)
        goto out;
    memset(&o, 0, sizeof(o));
    o.days = 365;
    o.key_type = t;
    o.with_ca = true;
    o.with_client = true;
    o.client_cn = "app";
    o.renew_within_days = 30;
    for (int i = 0; i < runs; i++) {
        char *dir = xasprintf("%s/%s-in-%d", root, label, i);
        char *cdir = xasprintf("%s/%s-cli-%d", root, label, i);
        char *sh = recipe(cdir, label);
        double t0;
        int rc;

        o.dir = dir;
        dbssl_error_clear(&e);
        /* the previous run's dirty pages would otherwise be charged to our fsyncs */
        sync();
        t0 = bench_now_ms();
        rc = dbssl_certs_generate(&o, &res, &e);
        in[i] = bench_now_ms() - t0;
        if (rc != 0 || res.written != (1u << DBSSL_CERTS_NFILES) - 1) {
            fprintf(stderr, "in-process generation failed: %s\n", e.message);
            rc = -1;
        }
        if (rc == 0) {
            sync();
            t0 = bench_now_ms();
            rc = system(sh);
            cli[i] = bench_now_ms() - t0;
            if (rc != 0)
                fprintf(stderr, "openssl recipe failed (status %d)\n", rc);
        }
        free(dir);
        free(cdir);
        free(sh);
        if (rc != 0)
            goto out;
    }
    {
        double a = bench_median(in, runs), b = bench_median(cli, runs);
        printf("%-9s in-process %8.2f ms   openssl CLI %8.2f ms   ratio %.3f (%.1fx faster)  "
               "[median of %d]\n",
               label, a, b, a / b, b / a, runs);
    }
    ret = 0;
out:
    free(in);
    free(cli);
    return ret;
}

int main(int argc, char **argv)
{
    long runs = 15;
    const char *only = argc > 2 ? argv[2] : NULL;
    char root[] = "/tmp/dbssl-bench-certgen-XXXXXX";
    char *rm;
    int ret = 0;

    if (argc > 1 && !parse_long(argv[1], 1, 1000, &runs)) {
        fprintf(stderr, "usage: bench_certgen [RUNS]   (RUNS from 1 to 1000)\n");
        return 2;
    }
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    if ((only == NULL || strcmp(only, "ec-p256") == 0) &&
        bench("ec-p256", DBSSL_KEY_EC_P256, (int)runs, root) != 0)
        ret = 1;
    if ((only == NULL || strcmp(only, "rsa-2048") == 0) &&
        bench("rsa-2048", DBSSL_KEY_RSA_2048, runs / 3 > 5 ? (int)(runs / 3) : 5, root) != 0)
        ret = 1;
    rm = xasprintf("rm -rf %s", root);
    if (rm == NULL || system(rm) != 0)
        ret = 1;
    free(rm);
    return ret;
}
