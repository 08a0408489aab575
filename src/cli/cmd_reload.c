/*
 * cmd_reload.c - `dbssl reload`: sends SIGHUP to a running `dbssl serve`
 * found through its pid file, for users who prefer a command to kill(1).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "pidfile.h"

static int run(int argc, char **argv)
{
    const char *pid_file = NULL;
    struct dbssl_error e;
    pid_t pid;
    int c;

    const struct cli_option opts[] = {
        {"pid-file", 'p', CLI_STRING, &pid_file},
        {NULL, 0, CLI_FLAG, NULL},
    };

    if ((c = cli_parse(argc, argv, &cmd_reload, opts, 0)) >= 0)
        return c;
    dbssl_error_clear(&e);
    if (cli_pidfile_find(pid_file ? pid_file : CLI_DEFAULT_PID_FILE, &pid, &e) != 0) {
        pid_t found[8];
        size_t n = 0;
        /* no --pid-file and no default one: the one running serve of this user will do */
        if (pid_file == NULL && access(CLI_DEFAULT_PID_FILE, F_OK) != 0)
            cli_find_serve_processes(found, 8, &n);
        if (n != 1) {
            if (n > 1) {
                dbssl_error_clear(&e);
                dbssl_error_set(&e, DBSSL_ERR_USAGE,
                                "Say which one with --pid-file (start each serve with its own "
                                "--pid-file), or use \"kill -HUP PID\".",
                                "%zu dbssl serve processes are running (pid %ld, %ld%s)", n,
                                (long)found[0], (long)found[1], n > 2 ? ", ..." : "");
            }
            cli_print_error(&e);
            return EXIT_RUNTIME;
        }
        pid = found[0];
    }
    if (kill(pid, SIGHUP) != 0) {
        dbssl_error_set(&e, DBSSL_ERR_IO, "Run dbssl reload as the user that runs dbssl serve.",
                        "could not signal dbssl serve (pid %ld): %s", (long)pid, strerror(errno));
        cli_print_error(&e);
        return EXIT_RUNTIME;
    }
    printf("sent SIGHUP to dbssl serve (pid %ld): it reloads its settings and certificates\n",
           (long)pid);
    return EXIT_OK;
}

const struct cli_command cmd_reload = {
    "reload",
    run,
    "make a running dbssl serve reload its settings and certificates (SIGHUP)",
    "Usage: dbssl reload [--pid-file FILE]\n"
    "\n"
    "Sends SIGHUP to the dbssl serve whose pid is in FILE (default\n"
    "/run/dbssl/dbssl.pid; start serve with the same --pid-file).  Without\n"
    "--pid-file and without that file, the one dbssl serve of this user is\n"
    "found by its process name.  serve re-reads\n"
    "the .env file and every certificate and key, validates them, and uses them\n"
    "only if they are valid; otherwise it keeps the settings in use and reports\n"
    "last_reload_error in /health/database/ssl.\n"
    "\n"
    "  --pid-file FILE  the file dbssl serve --pid-file wrote\n"
    "\n"
    "Exit status: 0 signal sent, 1 no running dbssl serve found, 2 usage.\n",
};
