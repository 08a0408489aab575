/*
 * cmd_serve.c - `dbssl serve`: the health endpoints for a running service.
 * Invalid settings stop it before it binds anything (exit 2), as the guide
 * says an application must not start on them.  Signal handlers only set
 * flags; the main thread waits for them in sigsuspend, reloads on SIGHUP
 * and shuts down in order on SIGTERM/SIGINT.  The file watcher's thread
 * runs the same reload when certificate files change.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "checker.h"
#include "cli.h"
#include "health.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "pidfile.h"
#include "prepare.h"
#include "reload.h"

/* quiet time after a change before a certificate set is read */
#define DEBOUNCE_MS 300

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_requested = 1;
    else
        stop_requested = 1;
}

/* Blocks the signals (threads inherit the mask, so only sigsuspend takes them). */
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
    sigaddset(&block, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &block, old) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
        sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGHUP, &sa, NULL) != 0)
        return -1;
    return 0;
}

struct serve_ctx {
    struct dbssl_runtime *rt;
    struct dbssl_checker *checker;
    struct dbssl_board *board;
};

/* SIGHUP and changed files alike; the checker then reconnects with the new set. */
static void reload(void *arg, const char *cause)
{
    struct serve_ctx *ctx = arg;
    /* the first check's READY=1 comes from the checker: before it, a reload
     * (an early renewal) must not tell systemd we are ready */
    struct dbssl_snapshot *first = dbssl_board_get(ctx->board);

    if (first != NULL)
        dbssl_notify_reloading();
    (void)dbssl_runtime_reload(ctx->rt, cause); /* a failure keeps serving: nothing to do */
    /* a new check publishes the reload's outcome (and the new set's state) */
    dbssl_checker_poke(ctx->checker);
    if (first != NULL)
        dbssl_notify_ready("reloaded");
    dbssl_snapshot_unref(first);
}

static int run(int argc, char **argv)
{
    const char *env_file = NULL, *listen_arg = NULL, *pid_file = NULL, *written_pid = NULL;
    char listen_addr[300];
    struct dbssl_config *cfg = NULL;
    struct dbssl_runtime rt;
    struct dbssl_board board;
    struct serve_ctx ctx = {&rt, NULL, &board};
    struct dbssl_watcher *watcher = NULL;
    struct dbssl_http *http = NULL;
    struct dbssl_error e;
    sigset_t old;
    int c, status = EXIT_CONFIG;

    const struct cli_option opts[] = {
        {"env-file", 'e', CLI_STRING, &env_file},
        {"listen", 'l', CLI_STRING, &listen_arg},
        {"pid-file", 'p', CLI_STRING, &pid_file},
        {NULL, 0, CLI_FLAG, NULL},
    };

    if ((c = cli_parse(argc, argv, &cmd_serve, opts, 0)) >= 0)
        return c;

    cfg = cli_prepare_config(env_file, false, &status);
    if (cfg == NULL)
        return status;
    dbssl_log_set_format(cfg->log_format);
    /* copied: cfg is handed to the runtime and freed after a reload */
    snprintf(listen_addr, sizeof(listen_addr), "%s",
             listen_arg         ? listen_arg
             : cfg->http_listen ? cfg->http_listen
                                : "127.0.0.1:8000");
    dbssl_error_clear(&e);
    if (dbssl_runtime_init(&rt, env_file, cfg, &e) != 0) {
        cli_print_error(&e);
        return EXIT_RUNTIME;
    }
    dbssl_board_init(&board);
    status = EXIT_RUNTIME;
    if (setup_signals(&old) != 0) {
        perror("dbssl serve: could not install signal handlers");
        goto out;
    }
    /* the port first: a busy port must fail before anything connects or says READY */
    http = dbssl_http_start(listen_addr, &board, NULL, &e);
    if (http == NULL)
        goto fail;
    ctx.checker = dbssl_checker_start(&rt, &board, &e);
    if (ctx.checker == NULL)
        goto fail;
    dbssl_http_attach_checker(http, ctx.checker);
    if (pid_file != NULL) {
        if (cli_pidfile_write(pid_file, &e) != 0)
            goto fail;
        written_pid = pid_file;
    }
    watcher = dbssl_watcher_start(&rt, DEBOUNCE_MS, reload, &ctx, &e);
    if (watcher == NULL)
        goto fail;
    dbssl_log(DBSSL_LOG_INFO, "listening", "address", dbssl_http_address(http), NULL);
    while (!stop_requested) {
        sigsuspend(&old);
        if (reload_requested && !stop_requested) {
            reload_requested = 0;
            reload(&ctx, "signal");
        }
    }
    dbssl_notify_stopping();
    dbssl_log(DBSSL_LOG_INFO, "stopping", NULL);
    status = EXIT_OK;
    goto out;
fail:
    cli_print_error(&e);
    status = dbssl_error_exit_status(e.code);
out:
    dbssl_watcher_stop(watcher);
    /* no request may wait for a check while the HTTP server drains */
    dbssl_checker_begin_stop(ctx.checker);
    dbssl_http_stop(http);
    dbssl_checker_stop(ctx.checker);
    dbssl_board_destroy(&board);
    dbssl_runtime_destroy(&rt);
    cli_pidfile_remove(written_pid);
    return status;
}

const struct cli_command cmd_serve = {
    "serve",
    run,
    "serve the health endpoints (GET /health/database/ssl) for the database connection",
    "Usage: dbssl serve [--env-file FILE] [--listen HOST:PORT] [--pid-file FILE]\n"
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
    "  GET /metrics              Prometheus metrics (expiry, checks, reloads)\n"
    "\n"
    "Add ?refresh=1 to check now instead of answering from the last check.\n"
    "SIGHUP (or \"dbssl reload\") re-reads the .env file and every certificate\n"
    "and key, and uses them only if they are valid; changed certificate files\n"
    "are reloaded the same way without a signal.  SIGTERM or SIGINT stops the\n"
    "server.  With NOTIFY_SOCKET set (systemd Type=notify) it reports READY=1\n"
    "after the first check, RELOADING=1 around reloads and STOPPING=1.\n"
    "\n"
    "  --env-file FILE     read FILE instead of ./.env (it must exist)\n"
    "  --listen HOST:PORT  listen there instead of HTTP_LISTEN ([::1]:8000 for IPv6)\n"
    "  --pid-file FILE     write the process id to FILE (removed on exit)\n"
    "\n"
    "Exit status: 0 stopped by a signal, 1 could not serve, 2 invalid settings.\n",
};
