/*
 * test_http_conns.c - connection deadlines with a test clock and real
 * sockets: a slow request is cut at its deadline however many bytes it
 * trickles, an idle keep-alive connection at its own, a busy one never; a
 * waiting request is handed over exactly once; the HTTP limits follow the
 * open-files limit.  Also the log throttle libmicrohttpd's messages go
 * through.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"

#include "http_conns.h"
#include "http_listen.h"
#include "throttle.h"

#define REQ  5000LL
#define IDLE 75000LL

struct pair {
    int server, client;
    struct dbssl_http_conn c;
};

static void pair_open(struct pair *p)
{
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    p->server = sv[0];
    p->client = sv[1];
    assert_int_equal(fcntl(p->client, F_SETFL, O_NONBLOCK), 0);
}

static void pair_close(struct pair *p)
{
    close(p->server);
    close(p->client);
}

/* Whether the server side was shut down: the client reads end-of-stream. */
static bool was_cut(struct pair *p)
{
    char b;
    return read(p->client, &b, 1) == 0;
}

static int expired;
static void on_expired(struct dbssl_http_conn *c, void *arg)
{
    (void)c;
    (void)arg;
    expired++;
}

static void test_slow_request_is_cut_at_its_deadline(void **state)
{
    struct dbssl_http_conns *s = dbssl_http_conns_new(REQ, IDLE, on_expired, NULL);
    struct pair p;

    (void)state;
    pair_open(&p);
    dbssl_http_conns_add(s, &p.c, p.server, 1000);
    /* a slowloris client: bytes keep coming, and change nothing */
    for (long long t = 1000; t < 1000 + REQ; t += 1000) {
        assert_true(dbssl_http_conns_sweep(s, t, false) <= 1000 + REQ);
        dbssl_http_conns_request_line(s, &p.c, t); /* even a request line does not extend it */
        assert_false(was_cut(&p));
    }
    assert_int_equal(dbssl_http_conns_sweep(s, 1000 + REQ - 1, false), 1000 + REQ);
    assert_false(was_cut(&p));
    dbssl_http_conns_sweep(s, 1000 + REQ, false);
    assert_true(was_cut(&p));
    assert_int_equal(dbssl_http_conns_phase(&p.c), DBSSL_HTTP_CUT);
    assert_int_equal(dbssl_http_conns_stats(s).request_timeouts, 1);
    assert_int_equal(dbssl_http_conns_stats(s).open, 1);
    dbssl_http_conns_remove(s, &p.c);
    assert_int_equal(dbssl_http_conns_stats(s).open, 0);
    pair_close(&p);
    dbssl_http_conns_free(s);
}

static void test_keep_alive_phases(void **state)
{
    struct dbssl_http_conns *s = dbssl_http_conns_new(REQ, IDLE, on_expired, NULL);
    struct pair p;

    (void)state;
    pair_open(&p);
    dbssl_http_conns_add(s, &p.c, p.server, 0);
    dbssl_http_conns_busy(&p.c); /* headers in within the deadline */
    dbssl_http_conns_sweep(s, 10 * IDLE, false);
    assert_false(was_cut(&p)); /* being answered: no deadline of ours */
    /* answered at t=100000: idle until t=175000 */
    dbssl_http_conns_idle(s, &p.c, 100000);
    assert_int_equal(dbssl_http_conns_sweep(s, 100000 + IDLE - 1, false), 100000 + IDLE);
    assert_false(was_cut(&p));
    /* the next request line at t=170000 gives its headers REQ from then */
    dbssl_http_conns_request_line(s, &p.c, 170000);
    assert_int_equal(dbssl_http_conns_phase(&p.c), DBSSL_HTTP_HEADERS);
    dbssl_http_conns_sweep(s, 170000 + REQ - 1, false);
    assert_false(was_cut(&p));
    dbssl_http_conns_sweep(s, 170000 + REQ, false);
    assert_true(was_cut(&p));
    dbssl_http_conns_remove(s, &p.c);
    pair_close(&p);

    /* a silent (or trickling) keep-alive connection: cut at its idle deadline */
    pair_open(&p);
    dbssl_http_conns_add(s, &p.c, p.server, 0);
    dbssl_http_conns_busy(&p.c);
    dbssl_http_conns_idle(s, &p.c, 1000);
    dbssl_http_conns_sweep(s, 1000 + IDLE, false);
    assert_true(was_cut(&p));
    assert_int_equal(dbssl_http_conns_stats(s).idle_timeouts, 1);
    assert_int_equal(dbssl_http_conns_stats(s).request_timeouts, 1);
    dbssl_http_conns_remove(s, &p.c);
    pair_close(&p);
    dbssl_http_conns_free(s);
}

static void test_waiting_is_handed_over_once(void **state)
{
    struct dbssl_http_conns *s = dbssl_http_conns_new(REQ, IDLE, on_expired, NULL);
    struct pair p, q;

    (void)state;
    expired = 0;
    pair_open(&p);
    pair_open(&q);
    dbssl_http_conns_add(s, &p.c, p.server, 0);
    dbssl_http_conns_add(s, &q.c, q.server, 0);
    dbssl_http_conns_busy(&p.c);
    dbssl_http_conns_busy(&q.c);
    dbssl_http_conns_wait(&p.c, 3000);
    dbssl_http_conns_wait(&q.c, 3000);
    /* the earliest deadline is what the timer sleeps until */
    assert_int_equal(dbssl_http_conns_sweep(s, 1000, false), 3000);
    /* q's check finished first: the deadline no longer applies to it */
    assert_true(dbssl_http_conns_wake(&q.c));
    assert_false(dbssl_http_conns_wake(&q.c));
    dbssl_http_conns_sweep(s, 3000, false);
    assert_int_equal(expired, 1); /* p only, and not shut down: it is answered */
    assert_false(was_cut(&p));
    assert_false(dbssl_http_conns_wake(&p.c)); /* the late completion does nothing */
    dbssl_http_conns_sweep(s, 4000, false);
    assert_int_equal(expired, 1);
    /* stopping hands over every waiting connection whatever its deadline */
    dbssl_http_conns_wait(&p.c, 1000000);
    dbssl_http_conns_sweep(s, 4000, true);
    assert_int_equal(expired, 2);
    dbssl_http_conns_remove(s, &p.c);
    dbssl_http_conns_remove(s, &q.c);
    pair_close(&p);
    pair_close(&q);
    dbssl_http_conns_free(s);
}

static void test_limits_follow_open_files(void **state)
{
    struct dbssl_http_limits l;

    (void)state;
    l = dbssl_http_limits_for(1048576, 2);
    assert_int_equal(l.connections, 16384);
    /* the acceptance load from one address fits: 4096 idle + 500 slow + probes */
    assert_true(l.per_address >= 4096 + 500 + 100);
    assert_true(l.per_address < l.connections);
    assert_int_equal(l.threads, 2);
    assert_false(l.reduced);
    l = dbssl_http_limits_for(20000, 64);
    assert_int_equal(l.connections, 16384);
    assert_int_equal(l.threads, 8);
    l = dbssl_http_limits_for(1024, 1);
    assert_true(l.reduced);
    assert_true(l.connections < 1024 && l.connections >= 512);
    assert_int_equal(l.per_address, l.connections / 2);
    assert_int_equal(l.threads, 1);
    l = dbssl_http_limits_for(20, 0);
    assert_true(l.connections >= 1 && l.per_address >= 1 && l.threads == 1);
}

static void test_listen_errors_name_the_address(void **state)
{
    struct dbssl_error e;
    bool v6;
    int fd, fd2;

    (void)state;
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_http_listen("127.0.0.1", 16, &v6, &e), -1);
    assert_int_equal(e.code, DBSSL_ERR_USAGE);
    assert_non_null(strstr(e.message, "\"127.0.0.1\""));
    fd = dbssl_http_listen("127.0.0.1:58719", 16, &v6, NULL);
    if (fd < 0)
        skip(); /* the port is taken on this machine */
    dbssl_error_clear(&e);
    fd2 = dbssl_http_listen("127.0.0.1:58719", 16, &v6, &e);
    assert_int_equal(fd2, -1);
    assert_int_equal(e.code, DBSSL_ERR_IO);
    assert_non_null(strstr(e.message, "could not listen on \"127.0.0.1:58719\""));
    close(fd);
}

static int emitted;
static unsigned long long emitted_repeats;
static void emit(const void *key, const char *text, unsigned long long repeats, void *arg)
{
    (void)key;
    (void)arg;
    assert_string_equal(text, "closed 3");
    emitted++;
    emitted_repeats = repeats;
}

static void test_throttle_first_then_summary(void **state)
{
    static const char a[] = "kind a", b[] = "kind b";
    struct dbssl_throttle t;
    unsigned long long unreported;
    char text[32];

    (void)state;
    dbssl_throttle_init(&t, 60000);
    assert_true(dbssl_throttle_hit(&t, a, "closed 0", 0, &unreported));
    assert_int_equal(unreported, 0);
    for (int i = 1; i <= 3; i++) {
        snprintf(text, sizeof(text), "closed %d", i);
        assert_false(dbssl_throttle_hit(&t, a, text, i * 1000, &unreported));
    }
    assert_true(dbssl_throttle_hit(&t, b, "other", 5000, &unreported)); /* its own kind */
    emitted = 0;
    dbssl_throttle_flush(&t, 59999, emit, NULL);
    assert_int_equal(emitted, 0); /* the window is not over */
    dbssl_throttle_flush(&t, 60000, emit, NULL);
    assert_int_equal(emitted, 1); /* b had no repeats: nothing to say */
    assert_int_equal(emitted_repeats, 3);
    /* a forgotten kind is logged at once again */
    assert_true(dbssl_throttle_hit(&t, a, "closed 4", 61000, &unreported));
    /* a window over but not flushed: the next line carries its count */
    assert_false(dbssl_throttle_hit(&t, a, "closed 5", 62000, &unreported));
    assert_true(dbssl_throttle_hit(&t, a, "closed 6", 121000, &unreported));
    assert_int_equal(unreported, 1);
}

static void test_throttle_table_full_logs_everything(void **state)
{
    static char keys[DBSSL_THROTTLE_KINDS + 4];
    struct dbssl_throttle t;
    unsigned long long unreported;

    (void)state;
    dbssl_throttle_init(&t, 60000);
    for (size_t i = 0; i < sizeof(keys); i++)
        assert_true(dbssl_throttle_hit(&t, &keys[i], "x", 0, &unreported));
    /* the kinds that found no slot are never silenced */
    assert_true(dbssl_throttle_hit(&t, &keys[sizeof(keys) - 1], "x", 1, &unreported));
    assert_false(dbssl_throttle_hit(&t, &keys[0], "x", 1, &unreported));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_request_is_cut_at_its_deadline),
        cmocka_unit_test(test_keep_alive_phases),
        cmocka_unit_test(test_waiting_is_handed_over_once),
        cmocka_unit_test(test_limits_follow_open_files),
        cmocka_unit_test(test_listen_errors_name_the_address),
        cmocka_unit_test(test_throttle_first_then_summary),
        cmocka_unit_test(test_throttle_table_full_logs_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
