/*
 * cmd_env.c - `dbssl env`: the environment `dbssl exec` gives a program,
 * printed for a shell (eval), as JSON or as a dotenv file.  The settings are
 * validated first, exactly as for `exec`; the password is masked unless
 * --show-secrets asks for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "connenv.h"
#include "prepare.h"

static int run(int argc, char **argv)
{
    const char *env_file = NULL, *format = "shell";
    bool no_generate = false, show_secrets = false;
    enum dbssl_connenv_format fmt;
    struct dbssl_connenv env = {NULL, 0, NULL, false};
    struct dbssl_config *cfg;
    struct dbssl_error e;
    char *text = NULL;
    int c, status;

    const struct cli_option opts[] = {
        {"env-file", 'e', CLI_STRING, &env_file},
        {"format", 'f', CLI_STRING, &format},
        {"no-generate", 'G', CLI_FLAG, &no_generate},
        {"show-secrets", 'S', CLI_FLAG, &show_secrets},
        {NULL, 0, CLI_FLAG, NULL},
    };

    if ((c = cli_parse(argc, argv, &cmd_env, opts, 0)) >= 0)
        return c;
    if (!dbssl_connenv_format_parse(format, &fmt))
        return cli_usage_error(
            cmd_env.name, "unknown format \"%s\" (valid formats are shell, json, dotenv)", format);
    /* stdout is the set alone: what preparing says goes to stderr */
    cfg = cli_prepare(&(struct cli_prepare){env_file, false, no_generate, stderr}, &status);
    if (cfg == NULL)
        return status;
    dbssl_error_clear(&e);
    if (dbssl_connenv_build(cfg, show_secrets, (const char *const *)environ, &env, &e) != 0) {
        cli_print_error(&e);
        status = dbssl_error_exit_status(e.code);
    } else if ((text = dbssl_connenv_render(&env, fmt)) == NULL) {
        fprintf(stderr, "dbssl: error: out of memory\n");
        status = EXIT_RUNTIME;
    } else {
        fputs(text, stdout);
        status = EXIT_OK;
    }
    free(text);
    dbssl_connenv_free(&env);
    dbssl_config_free(cfg);
    return status;
}

const struct cli_command cmd_env = {
    "env",
    run,
    "print the environment \"dbssl exec\" gives a program (libpq variables, DATABASE_URL)",
    "Usage: dbssl env [--env-file FILE] [--format shell|json|dotenv] [--no-generate]\n"
    "                 [--show-secrets]\n"
    "\n"
    "Loads and validates the settings exactly as \"dbssl exec\" does (invalid\n"
    "settings: the findings on stderr and exit status 2), then prints the\n"
    "variables \"dbssl exec\" adds to a program's environment: libpq's own\n"
    "(PGHOST, PGPORT, PGUSER, PGDATABASE, PGSSLMODE, PGSSLROOTCERT, PGSSLCERT,\n"
    "PGSSLKEY, PGSSLCRL, PGSSLMINPROTOCOLVERSION, PGCONNECT_TIMEOUT,\n"
    "PGGSSENCMODE=disable when TLS is required, ...) and DATABASE_URL rewritten\n"
    "as a postgresql:// URI that carries the same ssl parameters.  File paths\n"
    "are absolute.\n"
    "\n"
    "  --env-file FILE    read FILE instead of ./.env (it must exist)\n"
    "  --format FORMAT    shell (default): export NAME='value' lines for eval;\n"
    "                     json: one object; dotenv: NAME='value' lines in\n"
    "                     dbssl's dotenv syntax (--env-file reads them back)\n"
    "  --no-generate      do not generate or renew certificates (no side effects)\n"
    "  --show-secrets     print the password (PGPASSWORD and inside DATABASE_URL)\n"
    "\n"
    "The password is printed as *** unless --show-secrets is given: what this\n"
    "command prints ends up on terminals, in CI logs and in bug reports, so a\n"
    "secret must never leave by accident.  To load the set into a shell, ask\n"
    "for it explicitly, where the output is not shown:\n"
    "\n"
    "  eval \"$(dbssl env --show-secrets)\"\n"
    "\n"
    "\"dbssl exec\" needs no such flag: it prints nothing, and hands the\n"
    "password only to the program's environment, where an application that\n"
    "follows the guide reads DATABASE_URL anyway.\n"
    "\n"
    "Exit status: 0 printed, 1 certificates could not be generated or a\n"
    "certificate has expired, 2 invalid settings or usage.\n",
};
