/*
 * cmd_scan.c - `dbssl scan HOST[:PORT]`: what a PostgreSQL server accepts
 * for TLS, graded against a profile (src/scan/).  No login: the scanner
 * never sends a StartupMessage, so it needs no credentials.
 * Exit 0 when the profile is met, 1 when not or when the server cannot be
 * scanned, 2 on usage.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "certinfo.h"
#include "cli.h"
#include "config.h"
#include "jsonutil.h"
#include "scan/scan.h"
#include "scan/scan_profile.h"
#include "util.h"

/* --json on a scan that could not run: the target and the error, for scripts and probes. */
static void print_json_error(const char *host, int port, const struct dbssl_error *e)
{
    json_t *j = json_pack("{s:o, s:i, s:{s:o, s:o, s:o}}", "host", dbssl_json_str(host), "port",
                          port, "error", "message", dbssl_json_str(e->message), "detail",
                          e->detail[0] ? dbssl_json_str(e->detail) : json_null(), "hint",
                          dbssl_json_str(e->hint));
    char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

    if (s != NULL)
        printf("%s\n", s);
    free(s);
    json_decref(j);
}

static int run(int argc, char **argv)
{
    const char *env_file = NULL, *profile_name = DBSSL_TLS_PROFILE_DEFAULT, *timeout = NULL;
    const char *ca_file = NULL;
    bool json = false;
    const struct dbssl_tls_profile *profile;
    struct dbssl_scan_opts so = {0};
    struct dbssl_scan_result *r = NULL;
    struct dbssl_scan_grade g = {0};
    struct dbssl_config *cfg = NULL;
    struct dbssl_error e;
    char host[256], msg[300];
    long secs = 0;
    int c, port = 0, status = EXIT_CONFIG;

    const struct cli_option opts[] = {
        {"json", 'j', CLI_FLAG, &json},           {"profile", 'p', CLI_STRING, &profile_name},
        {"timeout", 't', CLI_STRING, &timeout},   {"ca-file", 'c', CLI_STRING, &ca_file},
        {"env-file", 'e', CLI_STRING, &env_file}, {NULL, 0, CLI_FLAG, NULL},
    };

    if ((c = cli_parse(argc, argv, &cmd_scan, opts, 1)) >= 0)
        return c;
    if (optind >= argc)
        return cli_usage_error("scan", "no server given: expected HOST[:PORT]");
    if (!dbssl_scan_parse_target(argv[optind], host, sizeof(host), &port, msg, sizeof(msg)))
        return cli_usage_error("scan", "%s", msg);
    if ((profile = dbssl_tls_profile_find(profile_name)) == NULL)
        return cli_usage_error("scan", "unknown profile \"%s\": expected %s", profile_name,
                               dbssl_tls_profile_names());
    if (timeout != NULL && !parse_long(timeout, 1, 600, &secs))
        return cli_usage_error("scan", "invalid timeout \"%s\": must be 1 to 600 seconds", timeout);
    dbssl_error_clear(&e);
    if (ca_file != NULL) {
        /* a CA file named on the command line that cannot be used: said before any connection */
        struct dbssl_certlist cas = {NULL, 0};
        if (dbssl_certlist_load(ca_file, "CA file", &cas, &e) != 0) {
            cli_print_error(&e);
            return EXIT_CONFIG;
        }
        dbssl_certlist_free(&cas);
    }
    /* the defaults of the settings table: DB_CONNECT_TIMEOUT, DB_SSL_EXPIRY_WARN_DAYS */
    if ((cfg = cli_load_config(env_file)) == NULL)
        return EXIT_CONFIG;

    so.host = host;
    so.port = port;
    so.timeout_ms = (secs > 0 ? secs : cfg->connect_timeout) * 1000;
    so.ca_file = ca_file;
    r = dbssl_scan_run(&so, &e);
    if (r == NULL) {
        if (json)
            print_json_error(host, port, &e);
        cli_print_error(&e);
        status = dbssl_error_exit_status(e.code);
        goto out;
    }
    if (dbssl_scan_grade(r, profile, cfg->expiry_warn_days, &g, &e) != 0) {
        cli_print_error(&e);
        status = EXIT_RUNTIME;
        goto out;
    }
    if (json) {
        json_t *j = dbssl_scan_to_json(r, &g, cfg->expiry_warn_days);
        char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (s != NULL)
            printf("%s\n", s);
        free(s);
        json_decref(j);
    } else {
        char *s = dbssl_scan_to_text(r, &g, cfg->expiry_warn_days);
        if (s != NULL)
            fputs(s, stdout);
        free(s);
    }
    status = g.passed ? EXIT_OK : EXIT_RUNTIME;
out:
    dbssl_scan_grade_free(&g);
    dbssl_scan_result_free(r);
    dbssl_config_free(cfg);
    return status;
}

const struct cli_command cmd_scan = {
    "scan",
    run,
    "scan a PostgreSQL server's TLS (versions, suites, groups, certificate) without logging in",
    "Usage: dbssl scan HOST[:PORT] [--json] [--profile intermediate|modern|compat]\n"
    "                  [--timeout S] [--ca-file F] [--env-file F]\n"
    "\n"
    "Speaks PostgreSQL's SSLRequest, then TLS, and never logs in: finds the protocol\n"
    "versions (TLS 1.0 to 1.3), the cipher suites of each, the key-exchange groups,\n"
    "whether the server imposes its suite order, and the certificate chain (names,\n"
    "key, signature, validity, completeness, host name).  Grades the result against\n"
    "a profile of Mozilla's server-side TLS guidelines 5.7 and prints each deviation\n"
    "with the postgresql.conf line that fixes it.  HOST may be a name, an address,\n"
    "or [IPv6]; PORT defaults to 5432.\n"
    "\n"
    "  --json          the result and the grade as JSON\n"
    "  --profile P     intermediate (default: TLS 1.2 with ECDHE/DHE and AES-GCM or\n"
    "                  ChaCha20-Poly1305, and TLS 1.3), modern (TLS 1.3 only) or\n"
    "                  compat (Mozilla's \"old\")\n"
    "  --timeout S     the longest each connection may take (default DB_CONNECT_TIMEOUT)\n"
    "  --ca-file F     check the chain against this CA file instead of the system's\n"
    "                  trust store\n"
    "\n"
    "Exit status: 0 the profile is met, 1 it is not, or the server could not be\n"
    "scanned (unreachable, not PostgreSQL, ssl = off), 2 usage.\n",
};
