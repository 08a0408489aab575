/*
 * cmd_pgconfig.c - `dbssl pg-config`: the server side of the guide's
 * "PostgreSQL Server Configuration" for the generated certificate set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli.h"
#include "pgconf.h"
#include "scan/scan_profile.h"

static int run(int argc, char **argv)
{
    const char *env_file = NULL, *data_dir = NULL, *profile_name = DBSSL_TLS_PROFILE_DEFAULT;
    const char *cert_dir = NULL;
    const struct dbssl_tls_profile *profile;
    struct dbssl_pgconf_opts o = {NULL, 0, false, NULL};
    struct dbssl_config *cfg = NULL;
    struct dbssl_error e;
    char *conf = NULL, *hba = NULL, *ini = NULL;
    int c, status = EXIT_CONFIG;

    bool loopback = false, pgbouncer = false;
    const struct cli_option opts[] = {
        {"env-file", 'e', CLI_STRING, &env_file},
        {"data-dir", 'D', CLI_STRING, &data_dir},
        {"loopback", 'l', CLI_FLAG, &loopback},
        {"pgbouncer", 'b', CLI_FLAG, &pgbouncer},
        {"profile", 'p', CLI_STRING, &profile_name},
        {"cert-dir", 'c', CLI_STRING, &cert_dir},
        {NULL, 0, CLI_FLAG, NULL},
    };

    if ((c = cli_parse(argc, argv, &cmd_pgconfig, opts, 0)) >= 0)
        return c;
    o.loopback_only = loopback;
    /* one host's own set (dbssl certs generate --ca-dir): its server pair, the shared CA */
    o.cert_dir = cert_dir;
    if ((profile = dbssl_tls_profile_find(profile_name)) == NULL)
        return cli_usage_error("pg-config", "unknown profile \"%s\": expected %s", profile_name,
                               dbssl_tls_profile_names());
    o.profile = profile->name;
    if (data_dir != NULL) {
        struct stat st;
        if (stat(data_dir, &st) != 0 || !S_ISDIR(st.st_mode))
            return cli_usage_error("pg-config", "data directory \"%s\" does not exist", data_dir);
    }
    cfg = cli_load_config(env_file);
    if (cfg == NULL)
        goto out;
    dbssl_error_clear(&e);
    if (pgbouncer) {
        if (dbssl_pgconf_render_pgbouncer(cfg, &o, &ini, &e) != 0) {
            cli_print_error(&e);
            status = dbssl_error_exit_status(e.code);
            goto out;
        }
        if (profile->warning != NULL)
            fprintf(stderr, "dbssl pg-config: warning: %s\n", profile->warning);
        printf(";; ---- pgbouncer.ini, in its [pgbouncer] section ----\n%s", ini);
        status = EXIT_OK;
        goto out;
    }
    if (dbssl_pgconf_render(cfg, &o, &conf, &hba, &e) != 0) {
        cli_print_error(&e);
        status = dbssl_error_exit_status(e.code);
        goto out;
    }
    if (profile->warning != NULL)
        fprintf(stderr, "dbssl pg-config: warning: %s\n", profile->warning);
    printf("# ---- %s%spostgresql.conf ----\n%s\n", data_dir ? data_dir : "", data_dir ? "/" : "",
           conf);
    printf("# ---- %s%spg_hba.conf (replaces its host lines) ----\n%s", data_dir ? data_dir : "",
           data_dir ? "/" : "", hba);
    status = EXIT_OK;
out:
    free(ini);
    free(conf);
    free(hba);
    dbssl_config_free(cfg);
    return status;
}

const struct cli_command cmd_pgconfig = {
    "pg-config",
    run,
    "print postgresql.conf and pg_hba.conf lines for the generated certificates",
    "Usage: dbssl pg-config [--env-file F] [--data-dir D] [--loopback] [--pgbouncer]\n"
    "                       [--profile intermediate|modern|compat] [--cert-dir DIR]\n"
    "\n"
    "Prints the postgresql.conf lines (ssl = on, ssl_cert_file, ssl_key_file and\n"
    "ssl_ca_file with absolute paths into DB_SSL_AUTO_CERT_DIR, the protocol\n"
    "versions and suites of the TLS profile) and the pg_hba.conf\n"
    "lines that make a PostgreSQL server use the generated set: hostssl with\n"
    "scram-sha-256, and clientcert=verify-full when mutual TLS is configured;\n"
    "plaintext TCP is rejected; local (Unix socket) connections use peer.\n"
    "These are the lines \"dbssl dev-db\" writes (with --loopback).  The\n"
    "server pair must belong to the server's user: see\n"
    "\"dbssl certs generate --owner\".\n"
    "\n"
    "  --data-dir D   name the files of the data directory D in the output\n"
    "  --loopback     allow only 127.0.0.1/32 and ::1/128\n"
    "  --pgbouncer    print instead the pgbouncer.ini lines for TLS on both hops:\n"
    "                 client_tls_* (applications -> PgBouncer, the server pair;\n"
    "                 client certificates required when mutual TLS is configured)\n"
    "                 and server_tls_* (PgBouncer -> PostgreSQL, verify-full with\n"
    "                 the CA and the client pair)\n"
    "  --profile P    intermediate (default): TLS 1.2 and 1.3, TLS 1.2 suites with\n"
    "                 forward secrecy and AEAD only (ECDHE/DHE with AES-GCM or\n"
    "                 ChaCha20-Poly1305), the server's order; modern: TLS 1.3 only;\n"
    "                 compat: the guide's 'HIGH:!aNULL:!MD5' (prints a warning)\n"
    "  --cert-dir DIR the set of one host of several (\"dbssl certs generate\n"
    "                 --dir DIR --hosts NAME --ca-dir SHARED\"): its server pair and\n"
    "                 the shared CA, instead of DB_SSL_AUTO_CERT_DIR\n"
    "Check a running server with \"dbssl scan HOST:PORT --profile P\".\n",
};
