/*
 * cli.h - shared pieces of the dbssl program: the subcommand table entry,
 * error printing and the common "load the settings" step.
 *
 * Exit statuses follow the one contract written at dbssl_error_exit_status()
 * in dbssl/error.h (0 ok, 1 runtime failure, 2 invalid configuration or
 * usage); the EXIT_* names below are its three values.
 */
#ifndef DBSSL_CLI_H
#define DBSSL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "dbssl/config.h"
#include "error_int.h"

#define EXIT_OK      0
#define EXIT_RUNTIME 1
#define EXIT_CONFIG  2

/*
 * Or'ed into the status a command returns when threads it started are
 * still running (serve's forced stop): main then ends the process with
 * _exit(), so that no exit handler (OpenSSL's cleanup) runs under them.
 */
#define CLI_EXIT_NOW 0x100

struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;               /* one line for `dbssl --help` */
    const char *usage;                 /* full text for `dbssl help NAME` */
};

/* The table, NULL-name terminated (main.c). */
extern const struct cli_command *const cli_commands[];

/* Prints "dbssl CMD: MESSAGE" and a usage pointer to stderr; returns EXIT_CONFIG. */
int cli_usage_error(const char *cmd, const char *fmt, ...) DBSSL_PRINTF(2, 3);

/* A command's options: the CLI's twin of the settings table. */
enum cli_arg {
    CLI_FLAG,   /* target is a bool *, set to true */
    CLI_STRING, /* target is a const char **, set to the value */
};

struct cli_option {
    const char *name; /* long name without "--"; NULL ends the table */
    char letter;      /* short letter, unique within the command */
    enum cli_arg kind;
    void *target;
};

/*
 * Parses argv (argv[0] is the command name) against opts; --help is always
 * there.  Operands are left at argv[optind...], at most max_operands of them
 * (-1: any number).  Returns -1 to go on, else the exit status to return:
 * 0 after printing the usage for --help, 2 after printing a usage error.
 */
int cli_parse(int argc, char **argv, const struct cli_command *cmd, const struct cli_option *opts,
              int max_operands);

/* Prints an error to stderr as "dbssl: error: ...", then "  detail: ..." and "  hint: ...". */
void cli_print_error(const struct dbssl_error *e);

/* Prints a command's usage text to f. */
void cli_print_usage(FILE *f, const struct cli_command *cmd);

/*
 * Loads the settings from env_file (NULL: ./.env when present) and the
 * environment.  On failure prints the error and returns NULL (exit 2).
 */
struct dbssl_config *cli_load_config(const char *env_file);

/*
 * Prints validation findings (human lines or JSON) to out and returns the
 * exit status of `dbssl validate`: 0 without errors, 2 with.
 */
int cli_print_findings(FILE *out, const struct dbssl_findings *f, bool json);

/*
 * The exit status of a command that runs (status, serve) and stops on these
 * findings: 2 when a setting is wrong, 1 when only time made a named file
 * unusable (an expired certificate), 0 without errors.
 */
int cli_findings_run_status(const struct dbssl_findings *f);

extern const struct cli_command cmd_validate;
extern const struct cli_command cmd_config;
extern const struct cli_command cmd_status;
extern const struct cli_command cmd_serve;
extern const struct cli_command cmd_devdb;
extern const struct cli_command cmd_certs;
extern const struct cli_command cmd_pgconfig;
extern const struct cli_command cmd_reload;
extern const struct cli_command cmd_exec;
extern const struct cli_command cmd_env;
extern const struct cli_command cmd_scan;
extern const struct cli_command cmd_audit;

#endif
