/*
 * test_http_admit.c - the HTTP server's connection limits: exact per
 * address and in total, a place given back is free again, the port does
 * not make another client, refusals are counted, and two threads taking
 * and giving back at once never break the counts.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

#include "http_admit.h"

static struct dbssl_http_peer v4(const char *ip, int port)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    assert_int_equal(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
    return dbssl_http_peer_of((struct sockaddr *)&sa, sizeof(sa));
}

static struct dbssl_http_peer v6(const char *ip)
{
    struct sockaddr_in6 sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, ip, &sa.sin6_addr), 1);
    return dbssl_http_peer_of((struct sockaddr *)&sa, sizeof(sa));
}

static void test_per_address_and_total(void **state)
{
    struct dbssl_http_admit *a = dbssl_http_admit_new(5, 3);
    struct dbssl_http_peer one = v4("127.0.0.1", 40000), one_again = v4("127.0.0.1", 40001);
    struct dbssl_http_peer two = v4("127.0.0.2", 40000), six = v6("::1");

    (void)state;
    assert_non_null(a);
    /* three from one address, whatever their ports; the fourth is refused */
    assert_true(dbssl_http_admit_take(a, &one));
    assert_true(dbssl_http_admit_take(a, &one_again));
    assert_true(dbssl_http_admit_take(a, &one));
    assert_false(dbssl_http_admit_take(a, &one_again));
    /* another address still gets in, up to the total of five */
    assert_true(dbssl_http_admit_take(a, &two));
    assert_true(dbssl_http_admit_take(a, &six));
    assert_false(dbssl_http_admit_take(a, &two));
    assert_int_equal(dbssl_http_admit_stats(a).held, 5);
    assert_int_equal(dbssl_http_admit_stats(a).refused, 2);
    /* a place given back is taken again, by anyone */
    dbssl_http_admit_release(a, &one);
    assert_true(dbssl_http_admit_take(a, &two));
    assert_false(dbssl_http_admit_take(a, &one));
    dbssl_http_admit_release(a, &one);
    assert_true(dbssl_http_admit_take(a, &one));
    assert_int_equal(dbssl_http_admit_stats(a).held, 5);
    assert_int_equal(dbssl_http_admit_stats(a).refused, 3);
    dbssl_http_admit_free(a);
}

static void test_families_are_distinct(void **state)
{
    struct dbssl_http_admit *a = dbssl_http_admit_new(10, 1);
    struct dbssl_http_peer p4 = v4("127.0.0.1", 1), p6 = v6("::ffff:127.0.0.1"), unix_peer;
    struct sockaddr sa = {.sa_family = AF_UNIX};

    (void)state;
    unix_peer = dbssl_http_peer_of(&sa, sizeof(sa));
    assert_true(dbssl_http_admit_take(a, &p4));
    assert_true(dbssl_http_admit_take(a, &p6));
    /* not an IP address: all such peers are one client */
    assert_true(dbssl_http_admit_take(a, &unix_peer));
    assert_false(dbssl_http_admit_take(a, &unix_peer));
    /* giving back what was never taken changes nothing */
    {
        struct dbssl_http_peer other = v4("10.0.0.1", 1);
        dbssl_http_admit_release(a, &other);
    }
    assert_int_equal(dbssl_http_admit_stats(a).held, 3);
    dbssl_http_admit_free(a);
}

#define ROUNDS 20000

static void *churn(void *arg)
{
    struct dbssl_http_admit *a = arg;
    struct dbssl_http_peer p = v4("127.0.0.1", 0);

    for (int i = 0; i < ROUNDS; i++)
        if (dbssl_http_admit_take(a, &p))
            dbssl_http_admit_release(a, &p);
    return NULL;
}

static void test_threads(void **state)
{
    struct dbssl_http_admit *a = dbssl_http_admit_new(100, 1);
    pthread_t t[2];

    (void)state;
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn, a), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    /* every admitted one was given back; one address never held two */
    assert_int_equal(dbssl_http_admit_stats(a).held, 0);
    {
        struct dbssl_http_peer p = v4("127.0.0.1", 0);
        assert_true(dbssl_http_admit_take(a, &p));
        assert_false(dbssl_http_admit_take(a, &p));
    }
    dbssl_http_admit_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_address_and_total),
        cmocka_unit_test(test_families_are_distinct),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
