/*
 * main.c - the dbssl program: dispatches subcommands from one table.
 * The only place that decides the process exit status.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const struct cli_command *const cli_commands[] = {
    /* in the order a newcomer meets them */
    &cmd_validate, &cmd_config, &cmd_certs, &cmd_pgconfig, &cmd_devdb, &cmd_status,
    &cmd_serve,    &cmd_reload, &cmd_exec,  &cmd_env,      &cmd_scan,  &cmd_audit, NULL,
};

static void print_help(FILE *f)
{
    fprintf(f, "dbssl %s - TLS done right for PostgreSQL connections\n\n", DBSSL_VERSION);
    fprintf(f, "Usage: dbssl COMMAND [OPTIONS]\n\nCommands:\n");
    for (size_t i = 0; cli_commands[i]; i++)
        fprintf(f, "  %-12s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
    fprintf(f, "  %-12s %s\n", "help", "show help for a command");
    fprintf(f, "\nSettings come from the environment and ./.env (see \"dbssl config\").\n"
               "Run \"dbssl help COMMAND\" for a command's options.\n");
}

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; cli_commands[i]; i++)
        if (strcmp(cli_commands[i]->name, name) == 0)
            return cli_commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const struct cli_command *cmd;
    int status;

    if (argc < 2) {
        print_help(stderr);
        return EXIT_CONFIG;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_help(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("dbssl %s\n", DBSSL_VERSION);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc < 3) {
            print_help(stdout);
            return EXIT_OK;
        }
        cmd = find_command(argv[2]);
        if (cmd == NULL) {
            fprintf(stderr, "dbssl: unknown command \"%s\"\n\n", argv[2]);
            print_help(stderr);
            return EXIT_CONFIG;
        }
        cli_print_usage(stdout, cmd);
        return EXIT_OK;
    }
    cmd = find_command(argv[1]);
    if (cmd == NULL) {
        fprintf(stderr, "dbssl: unknown command \"%s\"\n\n", argv[1]);
        print_help(stderr);
        return EXIT_CONFIG;
    }
    status = cmd->run(argc - 1, argv + 1);
    if (status & CLI_EXIT_NOW) {
        /* threads of the command still run: no exit handlers under them (cli.h) */
        fflush(stdout);
        fflush(stderr);
        _exit(status & ~CLI_EXIT_NOW);
    }
    exit(status);
}
