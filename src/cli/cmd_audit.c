/*
 * cmd_audit.c - `dbssl audit`: one run that validates the settings,
 * connects, scans the server, reads its settings and pg_hba.conf rules and
 * writes a report an assessor can file (src/audit/).
 *
 * The audit observes and writes nothing but its report: it does not
 * generate the development set (a missing one is a usage error).  A
 * certificate that expired is not a reason to refuse: it is the kind of
 * thing the report is for, so only settings that are wrong stop it.
 * Exit 0 when no control fails, 1 when one does (or the report cannot be
 * written), 2 on usage or invalid settings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli.h"
#include "config.h"
#include "prepare.h"
#include "util.h"

/* The settings, or NULL after saying why (*status 2): wrong settings stop the audit, time does not.
 */
static struct dbssl_config *prepare(const char *env_file, int *status)
{
    struct dbssl_config *cfg = cli_load_config(env_file);
    struct dbssl_findings *f = NULL;
    struct dbssl_error e;

    *status = EXIT_CONFIG;
    if (cfg == NULL)
        return NULL;
    dbssl_error_clear(&e);
    if ((f = dbssl_config_validate(cfg, &e)) == NULL) {
        cli_print_error(&e);
        *status = EXIT_RUNTIME;
        goto fail;
    }
    if (cli_findings_run_status(f) == EXIT_CONFIG) {
        cli_print_findings(stderr, f, false);
        goto fail;
    }
    if (!cli_generated_files_exist(cfg, "Run \"dbssl certs generate\" (or make run) first: "
                                        "dbssl audit writes nothing but its report."))
        goto fail;
    dbssl_findings_free(f);
    *status = EXIT_OK;
    return cfg;
fail:
    dbssl_findings_free(f);
    dbssl_config_free(cfg);
    return NULL;
}

static int run(int argc, char **argv)
{
    const char *env_file = NULL, *out = NULL, *profile = DBSSL_TLS_PROFILE_DEFAULT;
    bool json = false, markdown = false, html = false;
    struct dbssl_audit_opts o = {0};
    struct dbssl_audit_evidence ev;
    struct dbssl_audit_report rep;
    struct dbssl_config *cfg;
    struct dbssl_error e;
    char *text = NULL;
    int c, status;

    const struct cli_option opts[] = {
        {"json", 'j', CLI_FLAG, &json},
        {"markdown", 'm', CLI_FLAG, &markdown},
        {"html", 'H', CLI_FLAG, &html},
        {"out", 'o', CLI_STRING, &out},
        {"env-file", 'e', CLI_STRING, &env_file},
        {"profile", 'p', CLI_STRING, &profile},
        {NULL, 0, CLI_FLAG, NULL},
    };

    if ((c = cli_parse(argc, argv, &cmd_audit, opts, 0)) >= 0)
        return c;
    if ((int)json + (int)markdown + (int)html > 1)
        return cli_usage_error("audit", "--json, --markdown and --html exclude each other");
    if (dbssl_tls_profile_find(profile) == NULL)
        return cli_usage_error("audit", "unknown profile \"%s\": expected %s", profile,
                               dbssl_tls_profile_names());
    if (out != NULL && out[0] == '\0')
        return cli_usage_error("audit", "--out needs a file name");
    if ((cfg = prepare(env_file, &status)) == NULL)
        return status;

    o.profile = profile;
    dbssl_error_clear(&e);
    status = EXIT_RUNTIME;
    if (dbssl_audit_gather(cfg, &o, &ev, &e) != 0) {
        cli_print_error(&e);
        goto out_cfg;
    }
    if (dbssl_audit_evaluate(&ev, &rep, &e) != 0) {
        cli_print_error(&e);
        goto out_ev;
    }
    text = json   ? dbssl_audit_render_json(&rep)
           : html ? dbssl_audit_render_html(&rep)
                  : dbssl_audit_render_markdown(&rep);
    if (text == NULL) {
        dbssl_error_set(&e, DBSSL_ERR_NOMEM, NULL, "out of memory");
        cli_print_error(&e);
    } else if (out == NULL) {
        fputs(text, stdout);
        status = fflush(stdout) != 0 || dbssl_audit_failed(&rep) ? EXIT_RUNTIME : EXIT_OK;
    } else if (write_file_replace(out, text, strlen(text), 0644, (uid_t)-1, (gid_t)-1, &e) != 0) {
        cli_print_error(&e);
    } else {
        char counts[128];
        dbssl_audit_counts_text(&rep, counts, sizeof(counts));
        fprintf(stderr, "wrote %s: %s (%s)\n", out, dbssl_audit_failed(&rep) ? "FAIL" : "PASS",
                counts);
        status = dbssl_audit_failed(&rep) ? EXIT_RUNTIME : EXIT_OK;
    }
    free(text);
    dbssl_audit_report_free(&rep);
out_ev:
    dbssl_audit_evidence_free(&ev);
out_cfg:
    dbssl_config_free(cfg);
    return status;
}

const struct cli_command cmd_audit = {
    "audit",
    run,
    "audit the database's TLS against the guide, GDPR, DORA, PCI DSS and CIS: a report to file",
    "Usage: dbssl audit [--json | --markdown | --html] [--out FILE] [--env-file FILE]\n"
    "                   [--profile intermediate|modern|compat]\n"
    "\n"
    "Validates the settings, connects to DATABASE_URL once, reads the server's TLS\n"
    "settings (pg_settings) and pg_hba.conf rules (pg_hba_file_rules) over that\n"
    "session, scans the server (as \"dbssl scan\", against the configured CA) and reads\n"
    "the certificate and key files.  Writes a report: for each control an id, a\n"
    "title, the framework requirements it evidences (docs/controls.tsv), a result\n"
    "(pass, warn, fail, or not_checked with why) and its evidence; then the\n"
    "certificate register, the session, the files, the settings, the rules and the\n"
    "scan.  Never the password.  What the role may not read (pg_read_all_settings,\n"
    "pg_hba_file_rules) is \"not_checked\" with the privilege it needs.\n"
    "\n"
    "  --markdown      the report as Markdown (the default)\n"
    "  --json          as JSON (docs/audit.schema.json)\n"
    "  --html          as one self-contained HTML file, ready to print to PDF\n"
    "  --out FILE      write the report to FILE (replaced atomically) instead of stdout\n"
    "  --profile P     the TLS profile the scan is graded against (default intermediate)\n"
    "  --env-file FILE read FILE instead of ./.env (it must exist)\n"
    "\n"
    "Exit status: 0 no control fails, 1 a control fails (or the report could not be\n"
    "written), 2 usage or invalid settings.\n",
};
