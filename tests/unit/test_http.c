/*
 * test_http.c - the HTTP server with a real checker, over real sockets:
 * ?refresh=1 is answered "done" once a fresh check finished; while a check
 * hangs (a database that accepts and never answers), a refresh request is
 * suspended without holding up other requests, and stopping the server
 * does not wait for it.  The prebuilt answers follow the board at once, on
 * a kept-alive connection too; a browser's request with its cookies fits
 * (tests/cli/test_http_burst.sh has the many-connections case).
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
#include "clock.h"
#include "conn_int.h"
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
    long long t0;
    struct pollfd p;

    (void)state;
    server_start(&s, db_port);
    for (int i = 0; i < 4; i++)
        waiting[i] = send_request(s.port, "/health/database/ssl?refresh=1");
    /* the refreshes wait, holding no thread: other requests are answered at once */
    t0 = dbssl_mono_ms();
    r = fetch(s.port, "/health");
    assert_non_null(strstr(r, "HTTP/1.1 200"));
    assert_true(dbssl_mono_ms() - t0 < 500);
    p = (struct pollfd){waiting[0], POLLIN, 0};
    assert_int_equal(poll(&p, 1, 300), 0);
    /* the server stops first, while the check still hangs */
    t0 = dbssl_mono_ms();
    dbssl_http_stop(s.http);
    assert_true(dbssl_mono_ms() - t0 < 1000);
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
    long long t0;
    char *r;

    (void)state;
    server_start(&s, db_port);
    for (int i = 0; i < 4; i++)
        waiting[i] = send_request(s.port, "/health/database/ssl?refresh=1");
    (void)read_all(waiting[0], 300); /* nothing yet: the check hangs */
    /* serve's order: the checker lets its waiters go, then the server stops */
    t0 = dbssl_mono_ms();
    dbssl_checker_begin_stop(s.checker);
    for (int i = 0; i < 4; i++) {
        r = read_all(waiting[i], 1000);
        assert_non_null(strstr(r, "X-Dbssl-Refresh: timed-out"));
        close(waiting[i]);
    }
    assert_true(dbssl_mono_ms() - t0 < 1000);
    dbssl_http_stop(s.http);
    dbssl_checker_stop(s.checker);
    dbssl_board_destroy(&s.board);
    dbssl_runtime_destroy(&s.rt);
    close(hole);
}

/* ---- answers over kept-alive connections --------------------------------- */

static int connect_to(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void send_all(int fd, const char *data)
{
    size_t n = strlen(data), done = 0;

    while (done < n) {
        ssize_t w = write(fd, data + done, n - done);
        assert_true(w > 0);
        done += (size_t)w;
    }
}

/* One whole answer from a kept-alive connection (headers, then Content-Length bytes). */
static char *read_answer(int fd, bool head)
{
    static char buf[65536];
    size_t n = 0;
    struct pollfd p = {fd, POLLIN, 0};

    buf[0] = '\0';
    while (n + 1 < sizeof(buf) && poll(&p, 1, 5000) == 1) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
        char *end, *cl;
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")) == NULL)
            continue;
        cl = strstr(buf, "Content-Length: ");
        if (head ||
            (cl != NULL && (size_t)(end + 4 - buf) + (size_t)strtol(cl + 16, NULL, 10) <= n))
            break;
    }
    return buf;
}

static char *ask(int fd, const char *method, const char *target)
{
    char req[256];

    snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", method, target);
    send_all(fd, req);
    return read_answer(fd, strcmp(method, "HEAD") == 0);
}

/* An IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", within a few seconds of now. */
static void assert_date_now(const char *answer)
{
    const char *d = strstr(answer, "\r\nDate: ");
    struct tm tm;
    char *end;

    assert_non_null(d);
    memset(&tm, 0, sizeof(tm));
    end = strptime(d + 8, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    assert_non_null(end);
    assert_true(strncmp(end, "\r\n", 2) == 0);
    assert_true(llabs((long long)timegm(&tm) - (long long)time(NULL)) <= 5);
}

static void test_answers_follow_the_board(void **state)
{
    const char *envp[] = {"DATABASE_URL=postgresql://app@127.0.0.1:5432/db", "DB_SSL_MODE=disable",
                          "DB_SSL_REQUIRED=false", NULL};
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_tls_state t;
    struct dbssl_board board;
    struct dbssl_http *http;
    struct dbssl_error e;
    char addr[64], *r;
    int port = free_port(), fd;

    (void)state;
    tu_tls_ok(&t, time(NULL));
    dbssl_error_clear(&e);
    dbssl_board_init(&board);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    http = dbssl_http_start(addr, &board, NULL, &e);
    assert_non_null(http);
    fd = connect_to(port);
    /* before any check */
    r = ask(fd, "GET", "/health/database/ssl");
    assert_non_null(strstr(r, "HTTP/1.1 503"));
    assert_non_null(strstr(r, "no check has run yet"));
    dbssl_board_publish(&board, tu_snapshot(cfg, &t, NULL, time(NULL), time(NULL), NULL));
    for (int i = 0; i < 3; i++) { /* built once, then answered from the cache */
        r = ask(fd, "GET", "/health/database/ssl");
        assert_non_null(strstr(r, "HTTP/1.1 200"));
        assert_non_null(strstr(r, "\"status\": \"healthy\""));
        assert_non_null(strstr(r, "Content-Type: application/json"));
        assert_non_null(strstr(r, "Cache-Control: no-store"));
        assert_date_now(r);
    }
    r = ask(fd, "GET", "/health/ready");
    assert_non_null(strstr(r, "{\"ready\": true, \"status\": \"healthy\"}"));
    /* a new snapshot is what the very next request on the same connection sees */
    t.connected = false;
    dbssl_board_publish(&board, tu_snapshot(cfg, &t, NULL, time(NULL), 0, NULL));
    r = ask(fd, "GET", "/health/database/ssl");
    assert_non_null(strstr(r, "HTTP/1.1 503"));
    assert_non_null(strstr(r, "\"status\": \"unhealthy\""));
    r = ask(fd, "GET", "/health/ready");
    assert_non_null(strstr(r, "HTTP/1.1 503"));
    r = ask(fd, "HEAD", "/health/database/ssl");
    assert_non_null(strstr(r, "HTTP/1.1 503"));
    assert_null(strstr(r, "unhealthy")); /* no body */
    for (int i = 0; i < 2; i++) {
        r = ask(fd, "POST", "/health");
        assert_non_null(strstr(r, "HTTP/1.1 405"));
        assert_non_null(strstr(r, "Allow: GET, HEAD"));
        r = ask(fd, "GET", "/nope");
        assert_non_null(strstr(r, "HTTP/1.1 404"));
    }
    r = ask(fd, "GET", "/metrics");
    assert_non_null(strstr(r, "\ndbssl_up 0\n"));
    assert_non_null(strstr(r, "Content-Type: text/plain; version=0.0.4"));
    close(fd);
    dbssl_http_stop(http);
    dbssl_board_destroy(&board);
    dbssl_config_free(cfg);
}

/* GET /health with headers as a browser sends them, cookies of `cookie` bytes. */
static char *browser_request(int port, size_t cookie)
{
    char *req = malloc(cookie + 1024), *r;
    int fd = connect_to(port);
    size_t n;

    assert_non_null(req);
    n = (size_t)snprintf(req, 1024,
                         "GET /health HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: Mozilla/5.0 "
                         "(X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                         "Chrome/120.0.0.0 Safari/537.36\r\nAccept: text/html,application/"
                         "xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
                         "Accept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate, "
                         "br\r\nCookie: session=");
    memset(req + n, 'x', cookie);
    snprintf(req + n + cookie, 1024 - n, "\r\nConnection: close\r\n\r\n");
    send_all(fd, req);
    r = read_all(fd, 5000);
    close(fd);
    free(req);
    return r;
}

static void test_request_sizes(void **state)
{
    struct dbssl_board board;
    struct dbssl_http *http;
    struct dbssl_error e;
    char addr[64];
    int port = free_port();

    (void)state;
    dbssl_error_clear(&e);
    dbssl_board_init(&board);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    http = dbssl_http_start(addr, &board, NULL, &e);
    assert_non_null(http);
    /* what http.c promises for its per-connection memory: a browser with 3.5 KB of cookies */
    assert_non_null(strstr(browser_request(port, 3500), "HTTP/1.1 200"));
    /* far beyond: refused as too large, not a crash or a hang */
    assert_non_null(strstr(browser_request(port, 16000), "HTTP/1.1 431"));
    dbssl_http_stop(http);
    dbssl_board_destroy(&board);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refresh_done),
        cmocka_unit_test(test_stop_does_not_wait_for_a_hung_check),
        cmocka_unit_test(test_checker_stop_answers_waiting_refreshes),
        cmocka_unit_test(test_answers_follow_the_board),
        cmocka_unit_test(test_request_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
