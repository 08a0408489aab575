/*
 * checker.h - the background health checker: one persistent connection,
 * re-checked every DB_HEALTH_CHECK_INTERVAL seconds, re-established with
 * capped exponential backoff, each result published to a board as a
 * snapshot.  HTTP requests read the board and never wait on the database,
 * except an explicit refresh, which waits a bounded time.
 */
#ifndef DBSSL_CHECKER_H
#define DBSSL_CHECKER_H

#include <stdbool.h>

#include "config.h"
#include "error_int.h"
#include "health.h"
#include "reload.h"

struct dbssl_checker;

/*
 * Publishes a "no check yet" snapshot, then starts the thread.  Each check
 * uses the settings rt holds at that moment; when a reload replaced them,
 * the checker closes its connection and connects once with the new files.
 * After the first check it tells the service manager READY=1.  rt and board
 * must outlive the checker.  NULL with err set on failure.
 */
struct dbssl_checker *dbssl_checker_start(struct dbssl_runtime *rt, struct dbssl_board *board,
                                          struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Asks for a check now without waiting (after a reload). */
void dbssl_checker_poke(struct dbssl_checker *c);

/*
 * An asynchronous refresh: a waiter the caller owns, linked into the checker
 * until it is answered, so that nobody holds a thread while a check runs.
 * done is called exactly once per dbssl_checker_refresh_async() that
 * returned true, unless cancelled first: from the checker thread with the
 * checker's lock held, fresh = true when a check that started after the
 * request finished, fresh = false when the checker stops.  done must only
 * hand the result over (never call the checker).
 */
struct dbssl_refresh_waiter {
    void (*done)(struct dbssl_refresh_waiter *w, bool fresh);
    /* checker.c's, under its lock */
    unsigned long long ticket;
    struct dbssl_refresh_waiter *prev, *next;
    bool linked;
};

/*
 * Asks for a check now; w->done is called when it finished.  False (and
 * done never called) when the checker is stopping.
 */
bool dbssl_checker_refresh_async(struct dbssl_checker *c,
                                 struct dbssl_refresh_waiter *w) DBSSL_MUSTCHECK;

/* Unlinks w if not answered yet; once it returns, done is never called for w. */
void dbssl_checker_refresh_cancel(struct dbssl_checker *c, struct dbssl_refresh_waiter *w);

/* How long a refresh may wait: DB_CONNECT_TIMEOUT + 1 s of the settings in use, in ms. */
long long dbssl_checker_refresh_wait_ms(struct dbssl_checker *c);

/* The next wait after a failure: doubles from 1 s, at most 30 s and at most interval. */
long dbssl_checker_next_backoff(long current, long interval);

/* Stops the thread (closing the connection) and frees c.  NULL is fine. */
/*
 * First half of stopping: refresh waits return at once and new ones do not
 * wait, so that the HTTP server can be stopped without waiting behind a
 * slow database.  NULL is fine.
 */
void dbssl_checker_begin_stop(struct dbssl_checker *c);
void dbssl_checker_stop(struct dbssl_checker *c);

#endif
