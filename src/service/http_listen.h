/*
 * http_listen.h - the HTTP server's listening socket and the limits the
 * machine allows it: how many connections (bounded by the open-files
 * limit), how many from one address, the listen backlog, the threads.
 * Nothing here knows libmicrohttpd.
 */
#ifndef DBSSL_HTTP_LISTEN_H
#define DBSSL_HTTP_LISTEN_H

#include <stdbool.h>

#include "error_int.h"

struct dbssl_http_limits {
    unsigned connections;     /* held at once, in total */
    unsigned per_address;     /* held at once from one client address */
    unsigned threads;         /* event loops (one per core, a few at most) */
    unsigned long open_files; /* the open-files limit in force */
    bool reduced;             /* connections is below the default: open_files is too low */
};

/*
 * Raises the soft open-files limit to the hard one (one descriptor per
 * connection), then sizes the limits to what it allows.
 */
struct dbssl_http_limits dbssl_http_limits_get(void);

/* The limits for an open-files limit of open_files and ncpu cores (pure, for tests). */
struct dbssl_http_limits dbssl_http_limits_for(unsigned long open_files, long ncpu);

/*
 * Binds exactly to addr ("HOST:PORT" or "[IPv6]:PORT") and listens with the
 * given backlog (the kernel caps it at net.core.somaxconn).  Returns the
 * socket, *v6 set for IPv6; -1 with err set: a malformed address is
 * DBSSL_ERR_USAGE, a port in use DBSSL_ERR_IO, both naming the address.
 */
int dbssl_http_listen(const char *addr, int backlog, bool *v6,
                      struct dbssl_error *err) DBSSL_MUSTCHECK;

#endif
