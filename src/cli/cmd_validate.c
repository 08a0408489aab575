/*
 * cmd_validate.c - `dbssl validate`: the guide's "Step 3: Validate
 * Configuration" as a command.  Exit 0 when there is no error (warnings are
 * fine), 2 when there is one.
 */
#include <stdio.h>

#include "cli.h"
#include "prepare.h"

static int run(int argc, char **argv)
{
    const char *env_file = NULL;
    bool json = false, no_generate = false;
    struct dbssl_config *cfg = NULL;
    struct dbssl_findings *f = NULL;
    struct dbssl_error e;
    int c, status = EXIT_CONFIG;

    const struct cli_option opts[] = {
        {"env-file", 'e', CLI_STRING, &env_file},
        {"json", 'j', CLI_FLAG, &json},
        {"no-generate", 'G', CLI_FLAG, &no_generate},
        {NULL, 0, CLI_FLAG, NULL},
    };

    if ((c = cli_parse(argc, argv, &cmd_validate, opts, 0)) >= 0)
        return c;

    cfg = cli_load_config(env_file);
    if (cfg == NULL)
        goto out;
    /* generate first so that the real files are validated */
    if (!no_generate && cli_ensure_certs(cfg, json ? stderr : stdout) != 0) {
        status = EXIT_RUNTIME;
        goto out;
    }
    dbssl_error_clear(&e);
    f = dbssl_config_validate(cfg, &e);
    if (f == NULL) {
        cli_print_error(&e);
        status = EXIT_RUNTIME;
        goto out;
    }
    status = cli_print_findings(stdout, f, json);
out:
    dbssl_findings_free(f);
    dbssl_config_free(cfg);
    return status;
}

const struct cli_command cmd_validate = {
    "validate",
    run,
    "check the settings and every certificate and key file",
    "Usage: dbssl validate [--env-file FILE] [--json] [--no-generate]\n"
    "\n"
    "Loads the settings (environment, then ./.env or FILE) and checks them: each\n"
    "value alone, every certificate, key and CRL file (exists, readable, PEM,\n"
    "dates, permissions), then the rules between settings.  Prints every finding\n"
    "with a hint.  With DB_SSL_AUTO_GENERATE=true the certificate set is\n"
    "generated or renewed first (see \"dbssl certs generate\"), so that the real\n"
    "files are validated.\n"
    "\n"
    "  --env-file FILE  read FILE instead of ./.env (it must exist)\n"
    "  --json           print {\"valid\", \"errors\", \"warnings\"} as JSON\n"
    "  --no-generate    do not generate or renew certificates (no side effects)\n"
    "\n"
    "Exit status: 0 valid (warnings allowed), 1 certificates could not be\n"
    "generated, 2 invalid.\n",
};
