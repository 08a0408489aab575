/*
 * http.c - the health endpoints (see http.h).
 *
 * We bind the listening socket ourselves so that "address in use" is a clear
 * error naming the address, then hand it to libmicrohttpd.  One thread per
 * connection: a ?refresh=1 request may wait up to DB_CONNECT_TIMEOUT + 1 s
 * for the checker, and must not stall the other clients meanwhile.
 *
 * Bodies are the snapshot's pre-rendered bytes; the response holds a
 * reference to the snapshot until libmicrohttpd frees it, so a new snapshot
 * can be published while an old one is still being sent.
 */
#include "http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

/*
 * One thread per connection (a ?refresh=1 wait must not stall the others):
 * idle keep-alive connections are closed after 15 s and threads have small
 * stacks, so hundreds of idle probes cannot crowd out /health.
 */
#define CONNECTION_TIMEOUT_S 15
#define CONNECTION_LIMIT     512
#define THREAD_STACK_BYTES   (256 * 1024)

struct dbssl_http {
    struct MHD_Daemon *daemon;
    struct dbssl_board *board;
    _Atomic(struct dbssl_checker *) checker; /* attached once it runs */
    char address[300];
};

typedef struct MHD_Response *(*route_fn)(struct dbssl_http *h, struct MHD_Connection *conn,
                                         unsigned *code);

struct route {
    const char *method;
    const char *path;
    route_fn fn;
    const char *ctype;
};

#define JSON "application/json"
#define PROM "text/plain; version=0.0.4; charset=utf-8"

static const char BODY_NOT_FOUND[] = "{\"error\": \"not_found\", \"message\": \"no such "
                                     "endpoint\"}\n";
static const char BODY_NOT_ALLOWED[] = "{\"error\": \"method_not_allowed\", \"message\": "
                                       "\"only GET and HEAD are allowed\"}\n";
static const char BODY_ALIVE[] = "{\"status\": \"alive\"}\n";
static const char BODY_NO_SNAPSHOT[] = "{\"status\": \"unhealthy\", \"error\": {\"class\": "
                                       "\"other\", \"message\": \"no check has run yet\"}}\n";

static struct MHD_Response *static_body(const char *body)
{
    return MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
}

static void snapshot_release(void *cls)
{
    dbssl_snapshot_unref(cls);
}

/*
 * The snapshot to answer with; with ?refresh=1 after a fresh check.
 * *refresh: NULL when none was asked, else "done", or "timed-out" when the
 * check did not finish in time and the answer is the previous one.
 */
static struct dbssl_snapshot *current(struct dbssl_http *h, struct MHD_Connection *conn,
                                      const char **refresh)
{
    const char *r = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "refresh");

    *refresh = NULL;
    struct dbssl_checker *c = atomic_load(&h->checker);

    if (r != NULL && (strcmp(r, "1") == 0 || strcmp(r, "true") == 0) && c != NULL)
        *refresh = dbssl_checker_refresh(c) ? "done" : "timed-out";
    return dbssl_board_get(h->board);
}

/* Says whether a ?refresh=1 answer is fresh (X-Dbssl-Refresh: done | timed-out). */
static struct MHD_Response *mark_refresh(struct MHD_Response *r, const char *refresh)
{
    if (r != NULL && refresh != NULL)
        (void)MHD_add_response_header(r, "X-Dbssl-Refresh", refresh);
    return r;
}

/* A response sending a snapshot's bytes, keeping the snapshot alive meanwhile. */
static struct MHD_Response *snapshot_body(struct dbssl_snapshot *s, const char *body, size_t len,
                                          unsigned *code)
{
    struct MHD_Response *r;

    *code = (unsigned)s->http_status;
    r = MHD_create_response_from_buffer_with_free_callback_cls(len, (void *)body, snapshot_release,
                                                               s);
    if (r == NULL)
        dbssl_snapshot_unref(s);
    return r;
}

static struct MHD_Response *route_ssl(struct dbssl_http *h, struct MHD_Connection *conn,
                                      unsigned *code)
{
    const char *refresh;
    struct dbssl_snapshot *s = current(h, conn, &refresh);

    if (s == NULL) {
        *code = MHD_HTTP_SERVICE_UNAVAILABLE;
        return mark_refresh(static_body(BODY_NO_SNAPSHOT), refresh);
    }
    return mark_refresh(snapshot_body(s, s->ssl_json, s->ssl_json_len, code), refresh);
}

static struct MHD_Response *route_db(struct dbssl_http *h, struct MHD_Connection *conn,
                                     unsigned *code)
{
    const char *refresh;
    struct dbssl_snapshot *s = current(h, conn, &refresh);

    if (s == NULL) {
        *code = MHD_HTTP_SERVICE_UNAVAILABLE;
        return mark_refresh(static_body(BODY_NO_SNAPSHOT), refresh);
    }
    return mark_refresh(snapshot_body(s, s->db_json, s->db_json_len, code), refresh);
}

/* Always 200: a scrape must see dbssl_up 0 rather than fail. */
static struct MHD_Response *route_metrics(struct dbssl_http *h, struct MHD_Connection *conn,
                                          unsigned *code)
{
    struct dbssl_snapshot *s = dbssl_board_get(h->board);
    struct MHD_Response *r;

    (void)conn;
    if (s == NULL) {
        *code = MHD_HTTP_SERVICE_UNAVAILABLE;
        return static_body("# no check has run yet\n");
    }
    r = snapshot_body(s, s->metrics, s->metrics_len, code);
    *code = MHD_HTTP_OK;
    return r;
}

static struct MHD_Response *route_alive(struct dbssl_http *h, struct MHD_Connection *conn,
                                        unsigned *code)
{
    (void)h;
    (void)conn;
    *code = MHD_HTTP_OK;
    return static_body(BODY_ALIVE);
}

static struct MHD_Response *route_ready(struct dbssl_http *h, struct MHD_Connection *conn,
                                        unsigned *code)
{
    const char *refresh;
    struct dbssl_snapshot *s = current(h, conn, &refresh);
    char body[128];
    bool ready = s != NULL && s->status != DBSSL_HEALTH_UNHEALTHY;

    snprintf(body, sizeof(body), "{\"ready\": %s, \"status\": \"%s\"}\n", ready ? "true" : "false",
             dbssl_health_status_name(s ? s->status : DBSSL_HEALTH_UNHEALTHY));
    dbssl_snapshot_unref(s);
    *code = ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
    return mark_refresh(MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY),
                        refresh);
}

static const struct route routes[] = {
    {"GET", "/health/database/ssl", route_ssl, JSON},
    {"HEAD", "/health/database/ssl", route_ssl, JSON},
    {"GET", "/health/database", route_db, JSON},
    {"HEAD", "/health/database", route_db, JSON},
    {"GET", "/health", route_alive, JSON},
    {"HEAD", "/health", route_alive, JSON},
    {"GET", "/health/ready", route_ready, JSON},
    {"HEAD", "/health/ready", route_ready, JSON},
    {"GET", "/metrics", route_metrics, PROM},
    {"HEAD", "/metrics", route_metrics, PROM},
};

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned code, struct MHD_Response *r,
                             const char *ctype, bool allow)
{
    enum MHD_Result ret;

    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
    static int seen;
    struct dbssl_http *h = cls;
    bool path_known = false;
    unsigned code = MHD_HTTP_OK;

    (void)version;
    (void)upload_data;
    /* Queueing on the first call makes libmicrohttpd close the connection
     * (it has not read the request completely): answer on the second. */
    if (*req_cls == NULL) {
        *req_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* a body is ignored */
        return MHD_YES;
    }
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strcmp(routes[i].path, url) != 0)
            continue;
        path_known = true;
        if (strcmp(routes[i].method, method) == 0) {
            struct MHD_Response *r = routes[i].fn(h, conn, &code);
            return queue(conn, code, r, routes[i].ctype, false);
        }
    }
    if (path_known)
        return queue(conn, MHD_HTTP_METHOD_NOT_ALLOWED, static_body(BODY_NOT_ALLOWED), JSON, true);
    return queue(conn, MHD_HTTP_NOT_FOUND, static_body(BODY_NOT_FOUND), JSON, false);
}

/* Splits "HOST:PORT" / "[V6]:PORT" into host and port. */
static int split_listen(const char *addr, char *host, size_t hostlen, char *port, size_t portlen,
                        struct dbssl_error *err)
{
    const char *colon = strrchr(addr, ':');
    const char *h = addr, *hend;
    long p;

    if (colon == NULL || colon == addr)
        goto bad;
    hend = colon;
    if (addr[0] == '[') {
        if (colon[-1] != ']')
            goto bad;
        h = addr + 1;
        hend = colon - 1;
    } else if (memchr(addr, ':', (size_t)(colon - addr)) != NULL) {
        goto bad;
    }
    if (hend <= h || (size_t)(hend - h) >= hostlen || !parse_long(colon + 1, 1, 65535, &p))
        goto bad;
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = '\0';
    snprintf(port, portlen, "%ld", p);
    return 0;
bad:
    dbssl_error_set(err, DBSSL_ERR_USAGE,
                    "Use HOST:PORT, for example 127.0.0.1:8000 or [::1]:8000.",
                    "invalid listen address \"%s\"", addr);
    return -1;
}

/* Resolves and binds; returns the listening socket or -1. */
static int bind_listen(const char *addr, bool *v6, struct dbssl_error *err)
{
    char host[256], port[16];
    struct addrinfo hints, *res = NULL;
    int fd = -1, rc, one = 1;

    if (split_listen(addr, host, sizeof(host), port, sizeof(port), err) != 0)
        return -1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        dbssl_error_set(err, DBSSL_ERR_USAGE,
                        "Set HTTP_LISTEN (or --listen) to an address of this machine, for "
                        "example 127.0.0.1:8000.",
                        "could not resolve listen address \"%s\": %s", addr, gai_strerror(rc));
        return -1;
    }
    *v6 = res->ai_family == AF_INET6;
    fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (fd < 0)
        goto fail;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (*v6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0)
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

struct dbssl_http *dbssl_http_start(const char *addr, struct dbssl_board *board,
                                    struct dbssl_checker *checker, struct dbssl_error *err)
{
    struct dbssl_http *h = calloc(1, sizeof(*h));
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    bool v6 = false;
    int fd = -1;

    if (h == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        goto fail;
    }
    h->board = board;
    atomic_init(&h->checker, checker);
    snprintf(h->address, sizeof(h->address), "%s", addr);
    if ((fd = bind_listen(addr, &v6, err)) < 0)
        goto fail;
    if (v6)
        flags |= MHD_USE_IPv6;
    h->daemon =
        MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_LISTEN_SOCKET, fd,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
                         MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK_BYTES, MHD_OPTION_END);
    if (h->daemon == NULL) {
        dbssl_error_set(err, DBSSL_ERR_INTERNAL, NULL, "could not start the HTTP server on \"%s\"",
                        addr);
        goto fail;
    }
    return h;
fail:
    if (fd >= 0)
        close(fd);
    free(h);
    return NULL;
}

void dbssl_http_attach_checker(struct dbssl_http *h, struct dbssl_checker *checker)
{
    atomic_store(&h->checker, checker);
}

const char *dbssl_http_address(const struct dbssl_http *h)
{
    return h->address;
}

void dbssl_http_stop(struct dbssl_http *h)
{
    if (h == NULL)
        return;
    /* also closes the listening socket it was given */
    MHD_stop_daemon(h->daemon);
    free(h);
}
