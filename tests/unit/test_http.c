/*
 * test_http.c - the HTTP server with a real checker, over real sockets:
 * ?refresh=1 is answered "done" once a fresh check finished; while a check
 * hangs (a database that accepts and never answers), a refresh request is
 * suspended without holding up other requests, and stopping the server
 * does not wait for it.
 */
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "checker.h"
#include "http.h"
#include "reload.h"
#include "render.h"

/* A loopback listener on a port the kernel picks; *port set. */
static int listener(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static int free_port(void)
{
    int port, fd = listener(&port);

    close(fd);
    return port;
}

static int send_request(int port, const char *target)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    char req[256];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
             target);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    return fd;
}

/* Everything fd sends until it closes or ms pass; "" when nothing came. */
static char *read_all(int fd, int ms)
{
    static char buf[65536];
    size_t n = 0;
    struct pollfd p = {fd, POLLIN, 0};

    while (n + 1 < sizeof(buf) && poll(&p, 1, ms) == 1) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return buf;
}

/* One request on a fresh connection: the whole answer. */
static char *fetch(int port, const char *target)
{
    int fd = send_request(port, target);
    char *r = read_all(fd, 5000);

    close(fd);
    return r;
}

static double mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct server {
    struct dbssl_runtime rt;
    struct dbssl_board board;
    struct dbssl_http *http;
    struct dbssl_checker *checker;
    int port;
};

static void server_start(struct server *s, int db_port)
{
    char url[128], addr[64];
    const char *envp[] = {url, "DB_SSL_MODE=disable", "DB_SSL_REQUIRED=false",
                          "DB_CONNECT_TIMEOUT=2", NULL};
    struct dbssl_error e;

    snprintf(url, sizeof(url), "DATABASE_URL=postgresql://app@127.0.0.1:%d/db", db_port);
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_runtime_init(&s->rt, NULL, test_config_from(envp), &e), 0);
    dbssl_board_init(&s->board);
    s->port = free_port();
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", s->port);
    s->http = dbssl_http_start(addr, &s->board, NULL, &e);
    if (s->http == NULL)
        fail_msg("%s", e.message);
    s->checker = dbssl_checker_start(&s->rt, &s->board, &e);
    assert_non_null(s->checker);
    dbssl_http_attach_checker(s->http, s->checker);
}

static void server_stop(struct server *s)
{
    dbssl_checker_begin_stop(s->checker);
    dbssl_http_stop(s->http);
    dbssl_checker_stop(s->checker);
    dbssl_board_destroy(&s->board);
    dbssl_runtime_destroy(&s->rt);
}

static void test_refresh_done(void **state)
{
    struct server s;
    int closed_port = free_port(); /* nothing listens: each check fails at once */
    char *r, *p;

    (void)state;
    server_start(&s, closed_port);
    r = fetch(s.port, "/health/database/ssl?refresh=1");
    assert_non_null(strstr(r, "HTTP/1.1 503"));
    assert_non_null(strstr(r, "X-Dbssl-Refresh: done"));
    assert_non_null(strstr(r, "\"connection_refused\""));
    r = fetch(s.port, "/metrics");
    assert_non_null(strstr(r, "HTTP/1.1 200"));
    assert_non_null(strstr(r, "\ndbssl_up 0\n"));
    assert_non_null(strstr(r, "\ndbssl_http_connections_refused_total 0\n"));
    /* this one at least (the previous may not be cleaned up yet) */
    assert_non_null(p = strstr(r, "\ndbssl_http_connections "));
    assert_true(strtol(p + strlen("\ndbssl_http_connections "), NULL, 10) >= 1);
    /* the status page: HTML of the same check, under a policy that lets nothing load or run */
    r = fetch(s.port, "/?refresh=1");
    assert_non_null(strstr(r, "HTTP/1.1 503"));
    assert_non_null(strstr(r, "\r\nContent-Type: text/html; charset=utf-8\r\n"));
    assert_non_null(strstr(r, "\r\nContent-Security-Policy: default-src 'none'; style-src "
                              "'sha256-"));
    assert_null(strstr(r, "unsafe-inline"));
    assert_non_null(strstr(r, "\r\nX-Content-Type-Options: nosniff\r\n"));
    assert_non_null(strstr(r, "class=\"banner unhealthy\""));
    assert_non_null(strstr(r, "<code>connection_refused</code>"));
    r = fetch(s.port, "/health/database/ssl");
    assert_null(strstr(r, "Content-Security-Policy"));
    server_stop(&s);
}

static void test_stop_does_not_wait_for_a_hung_check(void **state)
{
    struct server s;
    int db_port, hole = listener(&db_port); /* accepts (backlog) and never answers */
    int waiting[4];
    char *r;
    double t0, took;
    struct pollfd p;

    (void)state;
    server_start(&s, db_port);
    for (int i = 0; i < 4; i++)
        waiting[i] = send_request(s.port, "/health/database/ssl?refresh=1");
    /* the refreshes wait, holding no thread: other requests are answered at once */
    t0 = mono_s();
    r = fetch(s.port, "/health");
    assert_non_null(strstr(r, "HTTP/1.1 200"));
    assert_true(mono_s() - t0 < 0.5);
    p = (struct pollfd){waiting[0], POLLIN, 0};
    assert_int_equal(poll(&p, 1, 300), 0);
    /* the server stops first, while the check still hangs */
    t0 = mono_s();
    dbssl_http_stop(s.http);
    took = mono_s() - t0;
    assert_true(took < 1.0);
    for (int i = 0; i < 4; i++) {
        r = read_all(waiting[i], 1000);
        /* answered (timed-out) or closed: never left hanging */
        assert_true(r[0] == '\0' || strstr(r, "X-Dbssl-Refresh: timed-out") != NULL);
        close(waiting[i]);
    }
    dbssl_checker_begin_stop(s.checker);
    dbssl_checker_stop(s.checker);
    dbssl_board_destroy(&s.board);
    dbssl_runtime_destroy(&s.rt);
    close(hole);
}

static void test_checker_stop_answers_waiting_refreshes(void **state)
{
    struct server s;
    int db_port, hole = listener(&db_port);
    int waiting[4];
    double t0;
    char *r;

    (void)state;
    server_start(&s, db_port);
    for (int i = 0; i < 4; i++)
        waiting[i] = send_request(s.port, "/health/database/ssl?refresh=1");
    (void)read_all(waiting[0], 300); /* nothing yet: the check hangs */
    /* serve's order: the checker lets its waiters go, then the server stops */
    t0 = mono_s();
    dbssl_checker_begin_stop(s.checker);
    for (int i = 0; i < 4; i++) {
        r = read_all(waiting[i], 1000);
        assert_non_null(strstr(r, "X-Dbssl-Refresh: timed-out"));
        close(waiting[i]);
    }
    assert_true(mono_s() - t0 < 1.0);
    dbssl_http_stop(s.http);
    dbssl_checker_stop(s.checker);
    dbssl_board_destroy(&s.board);
    dbssl_runtime_destroy(&s.rt);
    close(hole);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refresh_done),
        cmocka_unit_test(test_stop_does_not_wait_for_a_hung_check),
        cmocka_unit_test(test_checker_stop_answers_waiting_refreshes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
