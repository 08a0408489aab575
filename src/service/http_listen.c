/*
 * http_listen.c - the listening socket and the connection limits (see
 * http_listen.h).
 *
 * We bind the socket ourselves so that "address in use" is a clear error
 * naming the address, and so that the backlog matches the connection limit
 * (libmicrohttpd would listen with its own).
 *
 * The numbers: libmicrohttpd with epoll holds an idle connection for a
 * descriptor and a few kilobytes, no thread, so the limit is set by
 * descriptors.  DEFAULT_CONNECTIONS (16384) is far above what a health
 * endpoint needs and what issue-scale load (thousands of idle keep-alive
 * connections plus hundreds of slow ones) uses; FD_RESERVE keeps
 * descriptors for everything else the service opens (the database
 * connection, certificate and .env reads, inotify, epoll and event fds,
 * stdio).  One address may hold half of the connections: a local proxy, a
 * sidecar or a test client all come from 127.0.0.1 and must still fit
 * (4096 idle + 500 slowloris + probes = 4597 < 8192), while one client
 * alone can never take the other half from the kubelet and Prometheus.
 */
#include "http_listen.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#define DEFAULT_CONNECTIONS 16384
#define FD_RESERVE          128
#define MIN_CONNECTIONS     16
#define PER_ADDRESS_SHARE   2 /* one address: at most 1/2 of the connections */
#define MAX_THREADS         8

struct dbssl_http_limits dbssl_http_limits_for(unsigned long open_files, long ncpu)
{
    struct dbssl_http_limits l;
    unsigned long n = DEFAULT_CONNECTIONS;

    if (open_files < (unsigned long)DEFAULT_CONNECTIONS + FD_RESERVE) {
        /* a tiny limit still serves a few probes rather than none */
        n = open_files > (unsigned long)FD_RESERVE + MIN_CONNECTIONS ? open_files - FD_RESERVE
                                                                     : MIN_CONNECTIONS;
    }
    l.connections = (unsigned)n;
    l.per_address = l.connections / PER_ADDRESS_SHARE;
    if (l.per_address < 1)
        l.per_address = 1;
    l.threads = ncpu < 1 ? 1 : ncpu > MAX_THREADS ? MAX_THREADS : (unsigned)ncpu;
    l.open_files = open_files;
    l.reduced = n < DEFAULT_CONNECTIONS;
    return l;
}

struct dbssl_http_limits dbssl_http_limits_get(void)
{
    struct rlimit rl;
    unsigned long open_files = 1024;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur < rl.rlim_max) {
            struct rlimit raised = {rl.rlim_max, rl.rlim_max};
            if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
                rl.rlim_cur = rl.rlim_max;
        }
        open_files = rl.rlim_cur == RLIM_INFINITY ? (unsigned long)-1 : (unsigned long)rl.rlim_cur;
    }
    /* one event-loop thread per CPU we may run on */
    return dbssl_http_limits_for(open_files, usable_cpus());
}

/* Splits "HOST:PORT" / "[V6]:PORT" into host and port, as validation reads it. */
static int split_listen(const char *addr, char host[LISTEN_HOST_MAX], char *port, size_t portlen,
                        struct dbssl_error *err)
{
    long p;

    if (parse_listen(addr, host, &p) != LISTEN_OK) {
        dbssl_error_set(err, DBSSL_ERR_USAGE,
                        "Use HOST:PORT, for example 127.0.0.1:8000 or [::1]:8000.",
                        "invalid listen address \"%s\"", addr);
        return -1;
    }
    snprintf(port, portlen, "%ld", p);
    return 0;
}

/* Resolves, binds and listens (see http_listen.h). */
int dbssl_http_listen(const char *addr, int backlog, bool *v6, struct dbssl_error *err)
{
    char host[LISTEN_HOST_MAX], port[16];
    struct addrinfo hints, *res = NULL;
    int fd = -1, rc, one = 1;

    if (split_listen(addr, host, port, sizeof(port), err) != 0)
        return -1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        dbssl_error_setx(err, DBSSL_ERR_USAGE, gai_strerror(rc),
                         "Set HTTP_LISTEN (or --listen) to an address of this machine, for "
                         "example 127.0.0.1:8000.",
                         "could not resolve listen address \"%s\"", addr);
        return -1;
    }
    *v6 = res->ai_family == AF_INET6;
    fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (fd < 0)
        goto fail;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (*v6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, backlog) != 0)
        goto fail;
    freeaddrinfo(res);
    return fd;
fail:
    dbssl_error_set(err, DBSSL_ERR_IO,
                    errno == EADDRINUSE
                        ? "Another process is listening there: stop it, or set HTTP_LISTEN (or "
                          "--listen) to a free port."
                        : "Set HTTP_LISTEN (or --listen) to an address of this machine.",
                    "could not listen on \"%s\": %s", addr, strerror(errno));
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return -1;
}
