/*
 * cmd_serve.c - `dbssl serve`: the health endpoints for a running service.
 * Invalid settings stop it before it binds anything (exit 2), as the guide
 * says an application must not start on them.  Signal handlers only set
 * flags; the main thread waits for them in sigsuspend and does nothing that
 * can take long: a SIGHUP hands the reload to the reloader thread, so that
 * a SIGTERM arriving during a reload (or while a renewal holds the reload
 * lock) is seen at once.  The file watcher's thread runs the same reload
 * when certificate files change.
 *
 * SIGTERM/SIGINT stop the threads in order, but the orderly stop gets
 * STOP_GRACE_MS: a renewal waiting for the set's lock, a key being
 * generated or a connection attempt to a dead server can take far longer,
 * and a service that ignores SIGTERM gets SIGKILLed by its supervisor
 * anyway.  Past the grace the process ends without waiting for them (main
 * does, on CLI_EXIT_NOW), which is safe: the certificate swap is
 * crash-safe (certs_swap.c) and a kill at any instant leaves the old or
 * the new set; the private copies of the TLS files are erased before.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checker.h"
#include "cli.h"
#include "health.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "pidfile.h"
#include "prepare.h"
#include "probe/prober.h"
#include "reload.h"

/* quiet time after a change before a certificate set is read */
#define DEBOUNCE_MS 300
/* how long the orderly stop may take: SIGTERM ends serve within a second */
#define STOP_GRACE_MS 700

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
    struct dbssl_prober *prober; /* GET /probe, NULL without DB_PROBE_CONFIG */
};

static void reload(void *arg, const char *cause);

/*
 * The thread that runs reloads asked for by SIGHUP (several signals during
 * one reload make one more reload, not many), and the one that stops the
 * others: both so that the main thread never waits on them.
 */
struct worker {
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool pending; /* reloader: a reload was asked for */
    bool stop;    /* reloader: stop; stopper: done */
    struct serve_ctx *ctx;
    struct dbssl_watcher *watcher;
    struct dbssl_http *http;
    struct worker *reloader;
};

static int worker_init(struct worker *w, struct serve_ctx *ctx)
{
    pthread_condattr_t attr;
    int rc;

    memset(w, 0, sizeof(*w));
    w->ctx = ctx;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    /* the stop's deadline must not move with the wall clock */
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&w->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return -1;
    pthread_mutex_init(&w->mu, NULL);
    return 0;
}

static void worker_destroy(struct worker *w)
{
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
}

static void *reloader_run(void *arg)
{
    struct worker *w = arg;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->pending && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop)
            break;
        w->pending = false;
        pthread_mutex_unlock(&w->mu);
        reload(w->ctx, "signal");
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* A SIGHUP: the reloader runs it; without one (it could not start) it runs here. */
static void reloader_request(struct worker *w)
{
    if (!w->started) {
        reload(w->ctx, "signal");
        return;
    }
    pthread_mutex_lock(&w->mu);
    w->pending = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void reloader_stop(struct worker *w)
{
    if (!w->started)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL); /* waits for a reload under way */
    w->started = false;
}

/* The orderly stop; may wait on a reload, a renewal or a connection attempt. */
static void stop_threads(struct worker *s)
{
    reloader_stop(s->reloader);
    dbssl_watcher_stop(s->watcher);
    /* no request may wait for a check while the HTTP server drains */
    dbssl_checker_begin_stop(s->ctx->checker);
    dbssl_http_stop(s->http);
    /* after the HTTP server: no request waits for a probe any more */
    dbssl_prober_stop(s->ctx->prober);
    dbssl_checker_stop(s->ctx->checker);
}

static void *stopper_run(void *arg)
{
    struct worker *s = arg;

    stop_threads(s);
    pthread_mutex_lock(&s->mu);
    s->stop = true; /* done */
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Runs the orderly stop, waiting at most STOP_GRACE_MS; false when it did not finish. */
static bool stop_within_grace(struct worker *s)
{
    struct timespec until;
    bool done;

    if (pthread_create(&s->thread, NULL, stopper_run, s) != 0) {
        stop_threads(s); /* no thread to spare: stop in order, however long it takes */
        return true;
    }
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += (long)STOP_GRACE_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&s->mu);
    while (!s->stop)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT)
            break;
    done = s->stop;
    pthread_mutex_unlock(&s->mu);
    if (done)
        pthread_join(s->thread, NULL);
    return done;
}

/* SIGHUP and changed files alike; the checker then reconnects with the new set. */
static void reload(void *arg, const char *cause)
{
    struct serve_ctx *ctx = arg;
    /* the first check's READY=1 comes from the checker: before it, a reload
     * (an early renewal) must not tell systemd we are ready */
    struct dbssl_snapshot *first = dbssl_board_get(ctx->board);
    bool reloaded;

    if (first != NULL)
        dbssl_notify_reloading();
    /* a failure keeps serving the settings in use; the runtime logged and recorded why */
    reloaded = dbssl_runtime_reload(ctx->rt, cause);
    if (ctx->prober != NULL && strcmp(cause, "signal") == 0) {
        /* the probe file too: a broken one keeps the modules in use */
        struct dbssl_error e;
        dbssl_error_clear(&e);
        if (dbssl_prober_reload(ctx->prober, &e) != 0)
            dbssl_log(DBSSL_LOG_ERROR, "probe_config_reload_failed", "message", e.message, "hint",
                      e.hint, NULL);
        else
            dbssl_log(DBSSL_LOG_INFO, "probe_config_reloaded", NULL);
    }
    /* a new check publishes the reload's outcome (and the new set's state) */
    dbssl_checker_poke(ctx->checker);
    if (first != NULL)
        dbssl_notify_ready(reloaded ? "reloaded" : "reload refused: the settings in use are kept");
    dbssl_snapshot_unref(first);
}

/*
 * Everything the threads share.  On the heap, not in run()'s frame: after a
 * forced stop run() returns while a thread may still use it, so it is never
 * freed then (main ends the process at once).
 */
struct serve {
    struct dbssl_runtime rt;
    struct dbssl_board board;
    struct serve_ctx ctx;
    struct worker reloader, stopper;
};

static int run(int argc, char **argv)
{
    const char *env_file = NULL, *listen_arg = NULL, *pid_file = NULL, *written_pid = NULL;
    char listen_addr[ADDR_BUF];
    struct dbssl_config *cfg = NULL;
    struct serve *sv = NULL;
    struct dbssl_prober *prober = NULL;
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
                                : dbssl_options[OPT_HTTP_LISTEN].def);
    dbssl_error_clear(&e);
    /* a broken probe file is invalid settings: said before anything is bound */
    if (cfg->probe_config != NULL &&
        (prober = dbssl_prober_start(cfg->probe_config, cfg->probe_concurrency, &e)) == NULL) {
        cli_print_error(&e);
        dbssl_config_free(cfg);
        return dbssl_error_exit_status(e.code);
    }
    if ((sv = calloc(1, sizeof(*sv))) == NULL) {
        dbssl_config_free(cfg);
        dbssl_error_set(&e, DBSSL_ERR_NOMEM, NULL, "out of memory");
        cli_print_error(&e);
        dbssl_prober_stop(prober);
        return EXIT_RUNTIME;
    }
    sv->ctx = (struct serve_ctx){&sv->rt, NULL, &sv->board, prober};
    if (dbssl_runtime_init(&sv->rt, env_file, cfg, &e) != 0) {
        cli_print_error(&e);
        dbssl_prober_stop(prober);
        free(sv);
        return EXIT_RUNTIME;
    }
    dbssl_board_init(&sv->board);
    status = EXIT_RUNTIME;
    if (worker_init(&sv->reloader, &sv->ctx) != 0 || worker_init(&sv->stopper, &sv->ctx) != 0) {
        perror("dbssl serve: could not set up its threads");
        dbssl_board_destroy(&sv->board);
        dbssl_runtime_destroy(&sv->rt);
        dbssl_prober_stop(prober);
        free(sv);
        return EXIT_RUNTIME;
    }
    if (setup_signals(&old) != 0) {
        perror("dbssl serve: could not install signal handlers");
        goto out;
    }
    /* the port first: a busy port must fail before anything connects or says READY */
    http = dbssl_http_start(listen_addr, &sv->board, NULL, &e);
    if (http == NULL)
        goto fail;
    dbssl_http_attach_prober(http, prober);
    sv->ctx.checker = dbssl_checker_start(&sv->rt, &sv->board, &e);
    if (sv->ctx.checker == NULL)
        goto fail;
    dbssl_http_attach_checker(http, sv->ctx.checker);
    if (pid_file != NULL) {
        if (cli_pidfile_write(pid_file, &e) != 0)
            goto fail;
        written_pid = pid_file;
    }
    watcher = dbssl_watcher_start(&sv->rt, DEBOUNCE_MS, reload, &sv->ctx, &e);
    if (watcher == NULL)
        goto fail;
    sv->reloader.started =
        pthread_create(&sv->reloader.thread, NULL, reloader_run, &sv->reloader) == 0;
    dbssl_log(DBSSL_LOG_INFO, "listening", "address", dbssl_http_address(http), NULL);
    while (!stop_requested) {
        sigsuspend(&old);
        if (reload_requested && !stop_requested) {
            reload_requested = 0;
            reloader_request(&sv->reloader);
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
    sv->stopper.watcher = watcher;
    sv->stopper.http = http;
    sv->stopper.reloader = &sv->reloader;
    if (!stop_within_grace(&sv->stopper)) {
        /*
         * A thread is still busy (see the header comment): main ends the
         * process without exit handlers (OpenSSL's cleanup must not run
         * under a thread still using the library), like a kill at this
         * instant, which everything on disk is made to survive.  The
         * private copies of the TLS files are erased first: one may be the
         * client key.  sv stays allocated for that thread.
         */
        char waited[16];
        snprintf(waited, sizeof(waited), "%d", STOP_GRACE_MS);
        dbssl_log(DBSSL_LOG_WARN, "stop_forced", "cause",
                  "a reload, certificate renewal or connection attempt was still running",
                  "waited_ms", waited, NULL);
        dbssl_runtime_erase_copies(&sv->rt);
        cli_pidfile_remove(written_pid);
        return status | CLI_EXIT_NOW;
    }
    worker_destroy(&sv->reloader);
    worker_destroy(&sv->stopper);
    dbssl_board_destroy(&sv->board);
    dbssl_runtime_destroy(&sv->rt);
    free(sv);
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
    "  GET /probe?target=HOST[:PORT]&module=M\n"
    "                            probe another server for Prometheus (with\n"
    "                            DB_PROBE_CONFIG; docs/fleet.md)\n"
    "  GET /probe/overview       the last probe of each target, worst first (HTML)\n"
    "  GET / or /status          the status page (HTML): banner, TLS state, error\n"
    "                            and hint, a timeline of certificate expiry\n"
    "\n"
    "Add ?refresh=1 to check now instead of answering from the last check.\n"
    "SIGHUP (or \"dbssl reload\") re-reads the .env file and every certificate\n"
    "and key (and the DB_PROBE_CONFIG file), and uses them only if they are valid; changed certificate files\n"
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
