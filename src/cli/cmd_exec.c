/*
 * cmd_exec.c - `dbssl exec -- COMMAND [ARGS...]`: start an application with
 * its database connections under the validated TLS settings.
 *
 * The settings are validated exactly as `serve` does (generating the
 * development set when configured); on an invalid setup the findings go to
 * stderr and COMMAND never starts.  Otherwise dbssl replaces itself with
 * COMMAND (execvp: same process id, so a supervisor's signals reach the
 * application directly), adding libpq's variables and the rewritten
 * DATABASE_URL (connenv.h) to the environment it inherits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "connenv.h"
#include "prepare.h"

/* A shell's statuses for a command it could not run (POSIX "Command Search and Execution"). */
#define EXIT_NOT_EXECUTABLE 126
#define EXIT_NOT_FOUND      127

/* Index of the "--" that ends dbssl's own options, or -1. */
static int find_dashes(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0)
            return i;
    return -1;
}

/* Adds env to the process environment, replacing inherited values. */
static int export_env(const struct dbssl_connenv *env)
{
    for (size_t i = 0; i < env->n; i++) {
        if (setenv(env->vars[i].name, env->vars[i].value, 1) != 0) {
            fprintf(stderr, "dbssl: error: could not set %s: %s\n", env->vars[i].name,
                    strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int run_command(char **cmd)
{
    int saved;

    /* whatever dbssl printed must be out before the program writes */
    fflush(stdout);
    fflush(stderr);
    execvp(cmd[0], cmd);
    saved = errno;
    fprintf(stderr, "dbssl: error: could not run \"%s\": %s\n", cmd[0], strerror(saved));
    if (saved == ENOENT) {
        fprintf(stderr, "  hint: %s\n",
                strchr(cmd[0], '/') ? "Check the path of the program."
                                    : "Check the name of the program and that its directory is "
                                      "in PATH, or give its path.");
        return EXIT_NOT_FOUND;
    }
    fprintf(stderr, "  hint: Check that the file is an executable program and that you may "
                    "run it (chmod +x).\n");
    return EXIT_NOT_EXECUTABLE;
}

static int run(int argc, char **argv)
{
    const char *env_file = NULL;
    bool no_generate = false;
    struct dbssl_connenv env = {NULL, 0, NULL, false};
    struct dbssl_config *cfg;
    struct dbssl_error e;
    int c, status, dashes = find_dashes(argc, argv);

    const struct cli_option opts[] = {
        {"env-file", 'e', CLI_STRING, &env_file},
        {"no-generate", 'G', CLI_FLAG, &no_generate},
        {NULL, 0, CLI_FLAG, NULL},
    };

    if (dashes < 0) {
        /* without "--" the command's own options would be read as dbssl's */
        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
            return cli_parse(argc, argv, &cmd_exec, opts, 0);
        return cli_usage_error(cmd_exec.name, "%s",
                               argc == 1 ? "no command given: dbssl exec -- COMMAND [ARGS...]"
                                         : "the command must follow \"--\": dbssl exec [OPTIONS] "
                                           "-- COMMAND [ARGS...]");
    }
    if ((c = cli_parse(dashes, argv, &cmd_exec, opts, 0)) >= 0)
        return c;
    if (dashes + 1 >= argc)
        return cli_usage_error(cmd_exec.name, "no command after \"--\"");

    /* stdout belongs to the program: what preparing says goes to stderr */
    cfg = cli_prepare(&(struct cli_prepare){env_file, false, no_generate, stderr}, &status);
    if (cfg == NULL)
        return status;
    dbssl_error_clear(&e);
    status = dbssl_connenv_build(cfg, true, (const char *const *)environ, &env, &e);
    dbssl_config_free(cfg);
    if (status != 0) {
        cli_print_error(&e);
        return dbssl_error_exit_status(e.code);
    }
    status = export_env(&env);
    dbssl_connenv_free(&env);
    if (status != 0)
        return EXIT_RUNTIME;
    return run_command(argv + dashes + 1);
}

const struct cli_command cmd_exec = {
    "exec",
    run,
    "validate, then run a program whose database connections use the validated TLS settings",
    "Usage: dbssl exec [--env-file FILE] [--no-generate] -- COMMAND [ARGS...]\n"
    "\n"
    "Loads and validates the settings exactly as \"dbssl serve\" does (generating\n"
    "the development certificates when DB_SSL_AUTO_GENERATE=true).  Invalid\n"
    "settings: the findings on stderr, exit status 2, and COMMAND never starts.\n"
    "Otherwise dbssl replaces itself with COMMAND (same process id: signals\n"
    "reach it directly), whose environment is dbssl's own plus:\n"
    "\n"
    "  libpq's variables   PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE,\n"
    "                      PGSSLMODE, PGSSLROOTCERT, PGSSLCERT, PGSSLKEY,\n"
    "                      PGSSLCRL, PGSSLMINPROTOCOLVERSION, PGCONNECT_TIMEOUT,\n"
    "                      PGGSSENCMODE=disable when TLS is required, ...: the\n"
    "                      parameters dbssl itself connects with, for programs\n"
    "                      that use libpq's defaults (psql, psycopg, libpq apps)\n"
    "  DATABASE_URL        rewritten as a postgresql:// URI that carries the\n"
    "                      same ssl parameters, for drivers that read only the\n"
    "                      URL (psycopg2.connect(os.environ[\"DATABASE_URL\"]),\n"
    "                      node-postgres, SQLAlchemy)\n"
    "\n"
    "These replace inherited values: a PGSSLMODE (or any other of them) already\n"
    "in the environment that differs is overridden by the validated one.  File\n"
    "paths are absolute, so the program may change directory; with\n"
    "auto-generated certificates they are the generated files.  \"dbssl env\"\n"
    "prints the same set.\n"
    "\n"
    "  --env-file FILE  read FILE instead of ./.env (it must exist)\n"
    "  --no-generate    do not generate or renew certificates\n"
    "\n"
    "Exit status: COMMAND's own; 2 invalid settings or usage, 1 certificates\n"
    "could not be generated or a certificate has expired (COMMAND not started);\n"
    "127 COMMAND not found, 126 COMMAND not executable.\n",
};
