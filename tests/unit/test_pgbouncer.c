/*
 * test_pgbouncer.c - PgBouncer's two hops (issue 15 item 2) without a
 * PgBouncer: how SHOW SERVERS / SHOW CLIENTS rows are counted, the status
 * rule, and the body and metrics a user gets.  Against the real pgbouncer:
 * tests/integration/test_pgbouncer.sh.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "conn_pgbouncer.h"
#include "health.h"

#define NOW 1900000000LL /* 2030-03-17 */

static const char *const ENVP[] = {"DATABASE_URL=postgresql://app@127.0.0.1/db", NULL};

static struct dbssl_pgbouncer checked(void)
{
    struct dbssl_pgbouncer p;

    memset(&p, 0, sizeof(p));
    p.state = DBSSL_PGBOUNCER_CHECKED;
    return p;
}

/* The snapshot with p (NULL: none), its SSL body parsed into *j; the caller frees both. */
static struct dbssl_snapshot *snap(const struct dbssl_pgbouncer *p, json_t **j)
{
    struct dbssl_config *cfg = test_config_from(ENVP);
    struct dbssl_tls_state t;
    struct dbssl_snapshot_extra x = {NULL, NULL, false, 0, NULL, NULL, NULL, p};
    struct dbssl_snapshot *s;
    json_error_t je;

    tu_tls_ok(&t, NOW);
    snprintf(t.server_port, sizeof(t.server_port), "6432"); /* the application talks to PgBouncer */
    s = tu_snapshot(cfg, &t, NULL, NOW, NOW, &x);
    assert_non_null(s);
    *j = json_loads(s->ssl_json.data, 0, &je);
    if (*j == NULL)
        fail_msg("invalid JSON: %s", je.text);
    dbssl_config_free(cfg);
    return s;
}

static void test_counting(void **state)
{
    struct dbssl_pgbouncer p = checked();

    (void)state;
    dbssl_pgbouncer_add(&p, DBSSL_PGBOUNCER_SERVER, "127.0.0.1", 5432, "app", "app",
                        "TLSv1.3/TLS_AES_256_GCM_SHA384/ECDH=X25519");
    dbssl_pgbouncer_add(&p, DBSSL_PGBOUNCER_SERVER, "10.0.0.9", 5432, "app", "orders", "");
    dbssl_pgbouncer_add(&p, DBSSL_PGBOUNCER_CLIENT, "unix", 6432, "admin", "pgbouncer", "");
    dbssl_pgbouncer_add(&p, DBSSL_PGBOUNCER_CLIENT, "10.0.0.7", 40000, "web", "app", "");
    assert_int_equal(p.servers.total, 2);
    assert_int_equal(p.servers.tls, 1);
    assert_int_equal(p.servers.plaintext, 1);
    assert_int_equal(p.clients.total, 2);
    assert_int_equal(p.clients.local, 1); /* a Unix-domain socket is never plaintext */
    assert_int_equal(p.clients.plaintext, 1);
    assert_int_equal(p.n_plaintext_hops, 2);
    assert_string_equal(p.plaintext_hops[0].addr, "10.0.0.9");
    assert_string_equal(p.plaintext_hops[0].database, "orders");
    assert_int_equal(p.plaintext_hops[1].side, DBSSL_PGBOUNCER_CLIENT);
    assert_int_equal(p.plaintext_hops[1].port, 40000);
    /* beyond the described ones, counted */
    for (int i = 0; i < 2 * DBSSL_PGBOUNCER_MAX_HOPS; i++)
        dbssl_pgbouncer_add(&p, DBSSL_PGBOUNCER_SERVER, "10.0.0.9", 5432, "app", "app", "");
    assert_int_equal(p.n_plaintext_hops, DBSSL_PGBOUNCER_MAX_HOPS);
    assert_int_equal(p.servers.plaintext, 1 + 2 * DBSSL_PGBOUNCER_MAX_HOPS);
}

static void test_plaintext_server_hop_degrades_and_is_named(void **state)
{
    struct dbssl_pgbouncer p = checked();
    struct dbssl_snapshot *s;
    json_t *j, *hop;
    const char *w;

    (void)state;
    dbssl_pgbouncer_add(&p, DBSSL_PGBOUNCER_SERVER, "10.0.0.9", 5432, "app", "orders", "");
    dbssl_pgbouncer_add(&p, DBSSL_PGBOUNCER_CLIENT, "127.0.0.1", 40000, "app", "orders",
                        "TLSv1.3/TLS_AES_256_GCM_SHA384/ECDH=X25519");
    s = snap(&p, &j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "degraded");
    w = tu_warning_with(j, "PgBouncer's server hop to 10.0.0.9:5432");
    assert_non_null(w);
    assert_non_null(strstr(w, "user \"app\", database \"orders\""));
    assert_non_null(strstr(w, "server_tls_sslmode = verify-full"));
    hop = json_array_get(json_object_get(json_object_get(j, "pgbouncer"), "plaintext_hops"), 0);
    assert_string_equal(json_string_value(json_object_get(hop, "side")), "server");
    assert_int_equal(json_integer_value(json_object_get(hop, "port")), 5432);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(j, "pgbouncer"), "servers"), "plaintext")),
                     1);
    assert_non_null(strstr(s->metrics.data,
                           "dbssl_pgbouncer_hops{side=\"server\",encryption=\"plaintext\"} 1\n"));
    assert_non_null(
        strstr(s->metrics.data, "dbssl_pgbouncer_hops{side=\"client\",encryption=\"tls\"} 1\n"));
    assert_non_null(strstr(s->metrics.data, "dbssl_pgbouncer_checked 1\n"));
    json_decref(j);
    dbssl_snapshot_unref(s);
}

static void test_all_tls_is_healthy(void **state)
{
    struct dbssl_pgbouncer p = checked();
    struct dbssl_snapshot *s;
    json_t *j;

    (void)state;
    dbssl_pgbouncer_add(&p, DBSSL_PGBOUNCER_SERVER, "127.0.0.1", 5432, "app", "app",
                        "TLSv1.3/TLS_AES_256_GCM_SHA384/ECDH=X25519");
    s = snap(&p, &j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "healthy");
    assert_int_equal(json_array_size(json_object_get(j, "warnings")), 0);
    assert_true(json_is_true(json_object_get(json_object_get(j, "pgbouncer"), "checked")));
    json_decref(j);
    dbssl_snapshot_unref(s);
}

/* An admin console that cannot be read: a warning and no counts, never a zero read as "ok". */
static void test_not_checked_is_never_ok(void **state)
{
    struct dbssl_pgbouncer p;
    struct dbssl_snapshot *s;
    json_t *j, *pj;

    (void)state;
    memset(&p, 0, sizeof(p));
    p.state = DBSSL_PGBOUNCER_NOT_CHECKED;
    snprintf(p.note, sizeof(p.note), "cannot connect to PgBouncer's admin console");
    snprintf(p.hint, sizeof(p.hint), "Allow the user in stats_users.");
    s = snap(&p, &j);
    pj = json_object_get(j, "pgbouncer");
    assert_true(json_is_false(json_object_get(pj, "checked")));
    assert_string_equal(json_string_value(json_object_get(pj, "state")), "not_checked");
    assert_true(json_is_null(json_object_get(pj, "servers")));
    assert_true(json_is_null(json_object_get(pj, "plaintext_hops")));
    assert_non_null(tu_warning_with(j, "PgBouncer's hops were not checked: cannot connect"));
    assert_non_null(strstr(s->metrics.data, "dbssl_pgbouncer_checked 0\n"));
    assert_null(strstr(s->metrics.data, "\ndbssl_pgbouncer_hops{"));
    json_decref(j);
    dbssl_snapshot_unref(s);
}

static void test_unset_is_null(void **state)
{
    struct dbssl_snapshot *s;
    json_t *j;

    (void)state;
    s = snap(NULL, &j);
    assert_true(json_is_null(json_object_get(j, "pgbouncer")));
    assert_null(strstr(s->metrics.data, "\ndbssl_pgbouncer_checked "));
    json_decref(j);
    dbssl_snapshot_unref(s);
}

/* The admin URL's password is masked wherever the settings are shown or quoted. */
static void test_admin_password_masked(void **state)
{
    const char *envp[] = {"DATABASE_URL=postgresql://app@127.0.0.1/db",
                          "DB_PGBOUNCER_ADMIN_URL=postgresql://watcher:Adm1n-pw@127.0.0.1:6432/"
                          "pgbouncer",
                          NULL};
    struct dbssl_config *cfg = test_config_from(envp);
    char *m;

    (void)state;
    assert_non_null(cfg->pgbouncer_admin_url);
    assert_null(strstr(cfg->settings[OPT_DB_PGBOUNCER_ADMIN_URL].display, "Adm1n-pw"));
    m = dbssl_config_redact(cfg, "FATAL: password \"Adm1n-pw\" is wrong");
    assert_null(strstr(m, "Adm1n-pw"));
    free(m);
    dbssl_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counting),
        cmocka_unit_test(test_plaintext_server_hop_degrades_and_is_named),
        cmocka_unit_test(test_all_tls_is_healthy),
        cmocka_unit_test(test_not_checked_is_never_ok),
        cmocka_unit_test(test_unset_is_null),
        cmocka_unit_test(test_admin_password_masked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
