/*
 * http_loop.h - the HTTP server's event-loop threads: one per core, each
 * with its own libmicrohttpd daemon (external epoll mode, no listening
 * socket of its own), all accepting on the one listening socket.
 *
 * Why not libmicrohttpd's internal thread pool: its epoll loop (0.9.75,
 * still so upstream) calls epoll_wait() again with the full timeout after a
 * batch of exactly 128 events, with those 128 connections still waiting in
 * its ready list; when every connection of a thread is waiting for its
 * answer (wrk -c1024 on one thread, 8 x 128) nothing else arrives and the
 * thread sleeps until libmicrohttpd's connection timeout (80 s).  Measured:
 * 350 requests/s instead of 150,000 (BENCHMARKS.md).  Here the wait is
 * ours: libmicrohttpd's epoll descriptor is polled with the timeout
 * MHD_get_timeout() gives, which is 0 while its ready list is not empty,
 * and MHD_run() never blocks.
 *
 * Accepting here also makes the connection limits exact across threads
 * (http_admit.c): a connection is admitted before libmicrohttpd sees it,
 * and refused ones are closed and counted without a log line each.
 */
#ifndef DBSSL_HTTP_LOOP_H
#define DBSSL_HTTP_LOOP_H

#include <microhttpd.h>
#include <stdbool.h>

#include "http_admit.h"

/* One event-loop thread.  The server reads index, and the fields of the connection being added. */
struct dbssl_http_worker {
    unsigned index;
    void *arg; /* dbssl_http_loop_start()'s */
    struct MHD_Daemon *daemon;
    /* the connection MHD_add_connection() is adding on this thread: its
     * peer, and whether the server's MHD_CONNECTION_NOTIFY_STARTED took
     * over its place (then the close notification gives it back) */
    struct dbssl_http_peer adding;
    bool adopted;
};

struct dbssl_http_loop;

/*
 * Starts `threads` event loops accepting on listen_fd (which stays the
 * caller's).  For each, start_daemon(arg, worker) must return a daemon
 * started with MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC (no
 * internal thread), whose callbacks get worker as their argument.  NULL on
 * failure (nothing left running).
 */
struct dbssl_http_loop *
dbssl_http_loop_start(int listen_fd, unsigned threads, struct dbssl_http_admit *admit,
                      struct MHD_Daemon *(*start_daemon)(void *arg, struct dbssl_http_worker *w),
                      void *arg);

/*
 * Makes thread w run libmicrohttpd again soon; from any thread, after
 * MHD_resume_connection() on one of its connections (see http_loop.c).
 */
void dbssl_http_worker_wake(struct dbssl_http_worker *w);

/*
 * Stops accepting and stops the threads (each runs libmicrohttpd once more,
 * so that connections resumed just before are answered), then stops the
 * daemons, which closes their connections.  NULL is fine.
 */
void dbssl_http_loop_stop(struct dbssl_http_loop *l);

#endif
