/*
 * cmd_serve.c - `dbssl serve`: the health endpoints for a running service.
 * Invalid settings stop it before it binds anything (exit 2), as the guide
 * says an application must not start on them.  SIGTERM and SIGINT only set
 * a flag; the main thread waits for it in sigsuspend and shuts down in order.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "checker.h"
#include "cli.h"
#include "health.h"
#include "http.h"
#include "log.h"
#include "prepare.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Blocks the stop signals (threads inherit the mask) and installs the handler. */
static int setup_signals(sigset_t *old)
{
    struct sigaction sa;
    sigset_t block;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    if (sigprocmask(SIG_BLOCK, &block, old) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
        sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    return 0;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"env-file", required_argument, NULL, 'e'},
        {"listen", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *env_file = NULL, *listen_addr = NULL;
    struct dbssl_config *cfg = NULL;
    struct dbssl_checker *checker = NULL;
    struct dbssl_http *http = NULL;
    struct dbssl_board board;
    struct dbssl_error e;
    sigset_t old;
    int c, status = EXIT_CONFIG;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":e:l:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'e':
            env_file = optarg;
            break;
        case 'l':
            listen_addr = optarg;
            break;
        case 'h':
            cli_print_usage(stdout, &cmd_serve);
            return EXIT_OK;
        case ':':
            return cli_usage_error("serve", "option \"%s\" needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("serve", "unknown option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("serve", "unexpected argument \"%s\"", argv[optind]);

    cfg = cli_prepare_config(env_file, false, &status);
    if (cfg == NULL)
        return status;
    dbssl_log_set_format(cfg->log_format);
    if (listen_addr == NULL)
        listen_addr = cfg->http_listen ? cfg->http_listen : "127.0.0.1:8000";
    dbssl_board_init(&board);
    dbssl_error_clear(&e);
    status = EXIT_RUNTIME;
    if (setup_signals(&old) != 0) {
        perror("dbssl serve: could not install signal handlers");
        goto out;
    }
    checker = dbssl_checker_start(cfg, &board, &e);
    if (checker == NULL)
        goto fail;
    http = dbssl_http_start(listen_addr, &board, checker, &e);
    if (http == NULL)
        goto fail;
    dbssl_log(DBSSL_LOG_INFO, "listening", "address", dbssl_http_address(http), NULL);
    while (!stop_requested)
        sigsuspend(&old);
    dbssl_log(DBSSL_LOG_INFO, "stopping", NULL);
    status = EXIT_OK;
    goto out;
fail:
    cli_print_error(&e);
    status = dbssl_error_exit_status(e.code);
out:
    dbssl_http_stop(http);
    dbssl_checker_stop(checker);
    dbssl_board_destroy(&board);
    dbssl_config_free(cfg);
    return status;
}

const struct cli_command cmd_serve = {
    "serve",
    run,
    "serve the health endpoints (GET /health/database/ssl) for the database connection",
    "Usage: dbssl serve [--env-file FILE] [--listen HOST:PORT]\n"
    "\n"
    "Loads and validates the settings (invalid settings: the findings and exit\n"
    "status 2, nothing is served), then keeps one connection to DATABASE_URL,\n"
    "checks it every DB_HEALTH_CHECK_INTERVAL seconds and serves on HTTP_LISTEN\n"
    "(default 127.0.0.1:8000):\n"
    "\n"
    "  GET /health/database/ssl  TLS state (200 healthy/degraded, 503 unhealthy)\n"
    "  GET /health/database      connection, server version, latency\n"
    "  GET /health               liveness (200 while running)\n"
    "  GET /health/ready         200 when healthy or degraded, else 503\n"
    "\n"
    "Add ?refresh=1 to check now instead of answering from the last check.\n"
    "SIGTERM or SIGINT stops the server.\n"
    "\n"
    "  --env-file FILE     read FILE instead of ./.env (it must exist)\n"
    "  --listen HOST:PORT  listen there instead of HTTP_LISTEN ([::1]:8000 for IPv6)\n"
    "\n"
    "Exit status: 0 stopped by a signal, 1 could not serve, 2 invalid settings.\n",
};
