/*
 * http_admit.h - which accepted connection the HTTP server may keep: at
 * most `total` at once, at most `per_address` from one client address.
 *
 * The server's event-loop threads accept on one listening socket and ask
 * here before handing a connection to libmicrohttpd; a refused one is
 * closed at once and counted (never logged one by one).  One count for all
 * threads, under one lock, so the limits are exact however the connections
 * spread over the threads.  No sockets here: the unit test drives it.
 */
#ifndef DBSSL_HTTP_ADMIT_H
#define DBSSL_HTTP_ADMIT_H

#include <stdbool.h>
#include <sys/socket.h>

/* A client address as the limits see it: the IP address, without the port. */
struct dbssl_http_peer {
    unsigned char family; /* AF_INET or AF_INET6; 0: not an IP address (counted as one) */
    unsigned char addr[16];
};

/* The peer of sa (the port left out); an unknown family is one peer of its own. */
struct dbssl_http_peer dbssl_http_peer_of(const struct sockaddr *sa, socklen_t len);

struct dbssl_http_admit;

/* Limits of at least 1 each; NULL on out-of-memory. */
struct dbssl_http_admit *dbssl_http_admit_new(unsigned total, unsigned per_address);
void dbssl_http_admit_free(struct dbssl_http_admit *a);

/* Takes a place for a connection from p; false (counted as refused) at a limit or out of memory. */
bool dbssl_http_admit_take(struct dbssl_http_admit *a, const struct dbssl_http_peer *p);
/* Gives back the place of a connection from p that dbssl_http_admit_take() admitted. */
void dbssl_http_admit_release(struct dbssl_http_admit *a, const struct dbssl_http_peer *p);

struct dbssl_http_admit_stats {
    unsigned long long held;    /* places taken now */
    unsigned long long refused; /* connections refused so far */
};
struct dbssl_http_admit_stats dbssl_http_admit_stats(struct dbssl_http_admit *a);

#endif
