/*
 * test_hosts.c - the hosts of a multi-host DATABASE_URL as libpq reads them
 * (hosts.c), and the status rules for them (health.c): no host satisfying
 * target_session_attrs is unhealthy, a host that is down, plaintext or has
 * an expiring certificate is degraded, and the body and metrics show each.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "conn_int.h"
#include "health.h"
#include "hosts.h"
#include "render.h"
#include "util.h"

#define NOW 1900000000LL
#define DAY SECONDS_PER_DAY

static struct dbssl_hosts list_of(const char *url)
{
    char var[512];
    const char *envp[] = {var, NULL};
    struct dbssl_config *cfg;
    struct dbssl_hosts h;

    snprintf(var, sizeof(var), "DATABASE_URL=%s", url);
    cfg = test_config_from(envp);
    dbssl_hosts_list(cfg, &h);
    dbssl_config_free(cfg);
    return h;
}

static void test_list_as_libpq_reads_it(void **state)
{
    struct dbssl_hosts h;

    (void)state;
    /* one host: the session is the probe */
    h = list_of("postgresql://app@db1:5433/app");
    assert_int_equal(h.n, 0);
    /* one port per host, and target_session_attrs */
    h = list_of("postgresql://app@db1:5433,db2:5434/app?target_session_attrs=read-write");
    assert_int_equal(h.n, 2);
    assert_string_equal(h.v[0].host, "db1");
    assert_int_equal(h.v[0].port, 5433);
    assert_string_equal(h.v[1].host, "db2");
    assert_int_equal(h.v[1].port, 5434);
    assert_int_equal(h.want, DBSSL_WANT_PRIMARY);
    assert_string_equal(h.want_text, "read-write");
    /* one port for all; standby wanted */
    h = list_of("host=a,b,c port=6000 dbname=x target_session_attrs=standby");
    assert_int_equal(h.n, 3);
    assert_int_equal(h.v[2].port, 6000);
    assert_int_equal(h.want, DBSSL_WANT_STANDBY);
    /* no port: libpq's default, shown without one; no attrs: any */
    h = list_of("postgresql://app@a,b/app");
    assert_int_equal(h.n, 2);
    assert_int_equal(h.v[1].port, 0);
    assert_int_equal(h.want, DBSSL_WANT_ANY);
    assert_string_equal(h.want_text, "any");
    /* host and hostaddr lists: each host probed at its address, verified by its name */
    h = list_of("host=db-a.invalid,db-b.invalid hostaddr=127.0.0.1,127.0.0.2 port=5432 dbname=x");
    assert_int_equal(h.n, 2);
    assert_string_equal(h.v[0].host, "db-a.invalid");
    assert_string_equal(h.v[0].hostaddr, "127.0.0.1");
    assert_string_equal(h.v[1].host, "db-b.invalid");
    assert_string_equal(h.v[1].hostaddr, "127.0.0.2");
    /* hostaddr alone: the addresses are the hosts */
    h = list_of("hostaddr=127.0.0.1,127.0.0.2 dbname=x");
    assert_int_equal(h.n, 2);
    assert_string_equal(h.v[1].host, "127.0.0.2");
    assert_string_equal(h.v[1].hostaddr, "");
    /* IPv6 addresses keep their brackets off; shown with them */
    h = list_of("postgresql://app@[::1]:5432,127.0.0.2:5433/app");
    assert_int_equal(h.n, 2);
    assert_string_equal(h.v[0].host, "::1");
    {
        char name[ADDR_BUF + 16];
        dbssl_host_name(&h.v[0], name, sizeof(name));
        assert_string_equal(name, "[::1]:5432");
    }
}

/* A probe of one host of a host + hostaddr list connects to its address, verifies its name. */
static void test_probe_params_keep_hostaddr(void **state)
{
    const char *envp[] = {
        "DATABASE_URL=host=db-a.invalid,db-b.invalid "
        "hostaddr=127.0.0.1,127.0.0.2 port=5432 dbname=x user=app sslmode=require",
        NULL};
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_hosts h;
    struct dbssl_conn_params p;
    struct dbssl_error e;

    (void)state;
    dbssl_hosts_list(cfg, &h);
    assert_int_equal(h.n, 2);
    {
        struct dbssl_conn_to to = {h.v[1].host, h.v[1].port, 0, "any", false, h.v[1].hostaddr};
        assert_int_equal(dbssl_conn_build_params_to(cfg, NULL, &to, &p, &e), 0);
    }
    assert_string_equal(dbssl_conn_params_get(&p, "host"), "db-b.invalid");
    assert_string_equal(dbssl_conn_params_get(&p, "hostaddr"), "127.0.0.2");
    assert_string_equal(dbssl_conn_params_get(&p, "port"), "5432");
    dbssl_conn_params_free(&p);
    /* without an address: the name alone, none of the URL's addresses */
    {
        struct dbssl_conn_to to = {"db-b.invalid", 5432, 0, "any", false, NULL};
        assert_int_equal(dbssl_conn_build_params_to(cfg, NULL, &to, &p, &e), 0);
    }
    assert_null(dbssl_conn_params_get(&p, "hostaddr"));
    dbssl_conn_params_free(&p);
    dbssl_config_free(cfg);
}

static void test_roles_and_wants(void **state)
{
    (void)state;
    assert_true(dbssl_host_satisfies(DBSSL_HOST_PRIMARY, DBSSL_WANT_PRIMARY));
    assert_false(dbssl_host_satisfies(DBSSL_HOST_STANDBY, DBSSL_WANT_PRIMARY));
    assert_true(dbssl_host_satisfies(DBSSL_HOST_STANDBY, DBSSL_WANT_STANDBY));
    assert_true(dbssl_host_satisfies(DBSSL_HOST_STANDBY, DBSSL_WANT_ANY));
    assert_false(dbssl_host_satisfies(DBSSL_HOST_ROLE_UNKNOWN, DBSSL_WANT_ANY));
}

static struct dbssl_host_probe probe(const char *host, int port, enum dbssl_host_role role,
                                     long long not_after)
{
    struct dbssl_host_probe h;

    memset(&h, 0, sizeof(h));
    snprintf(h.host, sizeof(h.host), "%s", host);
    h.port = port;
    h.role = role;
    tu_tls_ok(&h.tls, NOW);
    snprintf(h.tls.server_host, sizeof(h.tls.server_host), "%s", host);
    snprintf(h.tls.server_port, sizeof(h.tls.server_port), "%d", port);
    snprintf(h.tls.server_cert_subject, sizeof(h.tls.server_cert_subject), "CN=%s", host);
    h.tls.server_cert_not_after = not_after;
    return h;
}

/* The status and the parsed body of a check whose session is on hs->v[0]. */
static json_t *judge(const struct dbssl_hosts *hs, const char **status, char **metrics)
{
    const char *envp[] = {"DATABASE_URL=postgresql://app@a:5432,b:5433/app", "DB_SSL_MODE=verify-full",
                          "DB_SSL_EXPIRY_WARN_DAYS=30", NULL};
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_snapshot_extra x = {0};
    struct dbssl_snapshot *s;
    json_t *j;

    x.hosts = hs;
    s = tu_snapshot(cfg, &hs->v[0].tls, NULL, NOW, NOW, &x);
    assert_non_null(s);
    *status = dbssl_health_status_name(s->status);
    j = json_loads(s->ssl_json.data, 0, NULL);
    assert_non_null(j);
    *metrics = xstrdup(s->metrics.data);
    dbssl_snapshot_unref(s);
    dbssl_config_free(cfg);
    return j;
}

static bool warned(json_t *j, const char *needle)
{
    json_t *v;
    size_t i;

    json_array_foreach(json_object_get(j, "warnings"), i, v)
    {
        if (strstr(json_string_value(v), needle) != NULL)
            return true;
    }
    return false;
}

static void test_host_rules(void **state)
{
    struct dbssl_hosts hs;
    const char *status;
    char *metrics;
    json_t *j, *h;

    (void)state;
    memset(&hs, 0, sizeof(hs));
    hs.n = 2;
    hs.want = DBSSL_WANT_PRIMARY;
    snprintf(hs.want_text, sizeof(hs.want_text), "read-write");
    hs.v[0] = probe("a", 5432, DBSSL_HOST_PRIMARY, NOW + 400 * DAY);
    hs.v[1] = probe("b", 5433, DBSSL_HOST_STANDBY, NOW + 400 * DAY);

    /* both ready: healthy; the body shows both, the session on a */
    j = judge(&hs, &status, &metrics);
    assert_string_equal(status, "healthy");
    assert_int_equal(json_array_size(json_object_get(j, "hosts")), 2);
    h = json_array_get(json_object_get(j, "hosts"), 1);
    assert_string_equal(json_string_value(json_object_get(h, "role")), "standby");
    assert_false(json_is_true(json_object_get(h, "session")));
    assert_true(json_is_true(json_object_get(json_array_get(json_object_get(j, "hosts"), 0), "session")));
    assert_non_null(strstr(metrics, "dbssl_host_primary{host=\"b\",port=\"5433\"} 0\n"));
    assert_non_null(strstr(metrics, "dbssl_host_session{host=\"a\",port=\"5432\"} 1\n"));
    json_decref(j);
    free(metrics);

    /* the standby's certificate expires within the window: degraded, naming it */
    hs.v[1].tls.server_cert_not_after = NOW + 5 * DAY;
    j = judge(&hs, &status, &metrics);
    assert_string_equal(status, "degraded");
    assert_true(warned(j, "host \"b:5433\" (standby)"));
    json_decref(j);
    free(metrics);
    /* expired on the standby: still degraded (the session is on a) */
    hs.v[1].tls.server_cert_not_after = NOW - DAY;
    j = judge(&hs, &status, &metrics);
    assert_string_equal(status, "degraded");
    json_decref(j);
    free(metrics);

    /* the standby cannot be reached: degraded */
    hs.v[1].tls.server_cert_not_after = NOW + 400 * DAY;
    hs.v[1].tls.connected = false;
    hs.v[1].role = DBSSL_HOST_ROLE_UNKNOWN;
    snprintf(hs.v[1].tls.error_message, sizeof(hs.v[1].tls.error_message), "connection refused");
    j = judge(&hs, &status, &metrics);
    assert_string_equal(status, "degraded");
    assert_true(warned(j, "\"b:5433\" of DATABASE_URL cannot be reached"));
    json_decref(j);
    free(metrics);

    /* a standby in plaintext although TLS is required: degraded */
    hs.v[1] = probe("b", 5433, DBSSL_HOST_STANDBY, NOW + 400 * DAY);
    hs.v[1].tls.ssl_in_use = false;
    j = judge(&hs, &status, &metrics);
    assert_string_equal(status, "degraded");
    assert_true(warned(j, "not encrypted"));
    json_decref(j);
    free(metrics);

    /* no primary among the hosts (both standbys) for read-write: unhealthy */
    hs.v[0].role = DBSSL_HOST_STANDBY;
    hs.v[1] = probe("b", 5433, DBSSL_HOST_STANDBY, NOW + 400 * DAY);
    j = judge(&hs, &status, &metrics);
    assert_string_equal(status, "unhealthy");
    assert_true(warned(j, "satisfies target_session_attrs \"read-write\""));
    json_decref(j);
    free(metrics);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_as_libpq_reads_it),
        cmocka_unit_test(test_probe_params_keep_hostaddr),
        cmocka_unit_test(test_roles_and_wants),
        cmocka_unit_test(test_host_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
