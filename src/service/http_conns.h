/*
 * http_conns.h - the connections the HTTP server holds, each with a phase
 * and the deadline of that phase, so that no client can hold a connection
 * longer than its phase allows:
 *
 *   NEW      accepted; the first request (line and headers) must arrive in
 *            full within request_ms of the accept
 *   HEADERS  a later request's line arrived; its headers must arrive within
 *            request_ms of it
 *   IDLE     between requests (keep-alive); the next request line must
 *            arrive within idle_ms of the previous answer
 *   BUSY     the request arrived and is being answered: no deadline here
 *            (libmicrohttpd's own inactivity timeout still applies)
 *   WAITING  suspended until a fresh check, at most until its deadline
 *
 * A connection past its NEW, HEADERS or IDLE deadline is shut down
 * (shutdown(2) on its socket: the server's event loop then sees the end of
 * the stream and closes it in its own thread).  A WAITING one past its
 * deadline is handed to the on_expired callback.
 *
 * Nothing here knows libmicrohttpd: the server embeds a struct
 * dbssl_http_conn in its own per-connection state.  Times are monotonic
 * milliseconds passed in by the caller, so tests drive the clock.
 */
#ifndef DBSSL_HTTP_CONNS_H
#define DBSSL_HTTP_CONNS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "error_int.h" /* DBSSL_MUSTCHECK */

enum dbssl_http_phase {
    DBSSL_HTTP_NEW = 0,
    DBSSL_HTTP_HEADERS,
    DBSSL_HTTP_IDLE,
    DBSSL_HTTP_BUSY,
    DBSSL_HTTP_WAITING,
    DBSSL_HTTP_CUT, /* shut down by a deadline, closing */
};

/* One connection.  The fields are the set's; callers only embed it. */
struct dbssl_http_conn {
    int fd;
    /* deadline_ms << 3 | phase, one atomic word: a phase change and the
     * sweep never see half of the other's update */
    atomic_uint_least64_t state;
    struct dbssl_http_conn *prev, *next; /* under the set's lock */
};

struct dbssl_http_conns;

/*
 * A set with the given budgets (milliseconds).  on_expired is called for a
 * WAITING connection past its deadline, with the set's lock held (it must
 * not call back into the set); arg is passed through.  NULL on out-of-memory.
 */
struct dbssl_http_conns *
dbssl_http_conns_new(long long request_ms, long long idle_ms,
                     void (*on_expired)(struct dbssl_http_conn *c, void *arg), void *arg);
/* Frees the set (the connections are the caller's).  NULL is fine. */
void dbssl_http_conns_free(struct dbssl_http_conns *s);

/* Tracks c (socket fd) from now on, in phase NEW. */
void dbssl_http_conns_add(struct dbssl_http_conns *s, struct dbssl_http_conn *c, int fd,
                          long long now);
/* Stops tracking c; after it returns the set never touches c again. */
void dbssl_http_conns_remove(struct dbssl_http_conns *s, struct dbssl_http_conn *c);

/* Phase changes, from the connection's own thread; no lock taken. */
void dbssl_http_conns_request_line(struct dbssl_http_conns *s, struct dbssl_http_conn *c,
                                   long long now);
void dbssl_http_conns_busy(struct dbssl_http_conn *c);
void dbssl_http_conns_idle(struct dbssl_http_conns *s, struct dbssl_http_conn *c, long long now);
void dbssl_http_conns_wait(struct dbssl_http_conn *c, long long deadline);
/*
 * WAITING -> BUSY; true only for the one caller that made the change, so
 * that a suspended connection is resumed exactly once (by the completion
 * of its check or by its deadline, whichever comes first).
 */
bool dbssl_http_conns_wake(struct dbssl_http_conn *c) DBSSL_MUSTCHECK;
enum dbssl_http_phase dbssl_http_conns_phase(const struct dbssl_http_conn *c);

/*
 * Acts on every connection past its deadline at time now; with
 * expire_waiting every WAITING connection is handed to on_expired whatever
 * its deadline (shutting down).  Returns the earliest deadline still ahead
 * (now + idle_ms when none is nearer).
 */
long long dbssl_http_conns_sweep(struct dbssl_http_conns *s, long long now, bool expire_waiting);

struct dbssl_http_conns_stats {
    unsigned long long open;             /* connections tracked now */
    unsigned long long request_timeouts; /* shut down: a request did not arrive in time */
    unsigned long long idle_timeouts;    /* shut down: no next request in time */
};
struct dbssl_http_conns_stats dbssl_http_conns_stats(struct dbssl_http_conns *s);

#endif
