/*
 * test_devdb.c - the parts of dev-db that need no server: the URL printed to
 * the user, status read from a cluster's postmaster.pid, and refusing
 * settings the development database cannot serve.  Starting a real server is
 * tests/integration/test_devdb.sh.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "devdb.h"
#include "util.h"

static struct dbssl_config *load_gen(const char *url, const char *cert_dir, bool generate)
{
    char u[512], d[512];
    const char *envp[] = {u, d, generate ? "DB_SSL_AUTO_GENERATE=true" : NULL, NULL};
    struct dbssl_config *cfg;

    snprintf(u, sizeof(u), "DATABASE_URL=%s", url);
    snprintf(d, sizeof(d), "DB_SSL_AUTO_CERT_DIR=%s", cert_dir ? cert_dir : "/nonexistent");
    cfg = dbssl_config_load_from(NULL, false, envp, NULL);
    assert_non_null(cfg);
    return cfg;
}

static struct dbssl_config *load(const char *url, const char *cert_dir)
{
    return load_gen(url, cert_dir, true);
}

static char *url_for_port(const char *url, int port)
{
    struct dbssl_config *cfg = load(url, NULL);
    struct dbssl_devdb_state st;
    char *s;

    memset(&st, 0, sizeof(st));
    st.port = port;
    s = dbssl_devdb_url(cfg, &st);
    dbssl_config_free(cfg);
    assert_non_null(s);
    return s;
}

static void test_url_same_port_is_the_configured_one_redacted(void **state)
{
    char *s = url_for_port("postgresql://app:pw123@localhost:5433/appdb?application_name=x", 5433);

    (void)state;
    assert_string_equal(s, "postgresql://app:***@localhost:5433/appdb?application_name=x");
    free(s);
}

static void test_url_moved_port(void **state)
{
    char *s = url_for_port("postgresql://app:pw123@127.0.0.1:5433/appdb", 5440);

    (void)state;
    assert_string_equal(s, "postgresql://app:***@127.0.0.1:5440/appdb");
    free(s);
    s = url_for_port("postgresql://my%20user@[::1]/my%2Fdb", 5433);
    assert_string_equal(s, "postgresql://my%20user@[::1]:5433/my%2Fdb");
    free(s);
}

static int start_error(const char *url, struct dbssl_error *e)
{
    struct dbssl_config *cfg = load(url, NULL);
    struct dbssl_devdb_tls tls;
    struct dbssl_devdb_opts opts = {"/nonexistent/dir", 0, false};
    struct dbssl_devdb_state st;
    int rc;

    memset(&tls, 0, sizeof(tls));
    dbssl_error_clear(e);
    rc = dbssl_devdb_start(cfg, &tls, &opts, &st, e);
    dbssl_config_free(cfg);
    return rc;
}

static void test_refuses_non_loopback_hosts(void **state)
{
    struct dbssl_error e;

    (void)state;
    assert_int_equal(start_error("postgresql://app@db.example.com/app", &e), -1);
    assert_int_equal(e.code, DBSSL_ERR_CONFIG);
    assert_string_equal(e.message,
                        "DATABASE_URL host \"db.example.com\" is not a loopback address");
    assert_non_null(strstr(e.hint, "localhost, 127.0.0.1 or ::1"));
    assert_int_equal(start_error("postgresql://app@localhost,10.0.0.5/app", &e), -1);
    assert_string_equal(e.message, "DATABASE_URL host \"10.0.0.5\" is not a loopback address");
    assert_int_equal(start_error("postgresql://app@/app", &e), -1);
    assert_non_null(strstr(e.message, "names no host"));
}

/* scram-sha-256 on every TCP line: a URL without a password could never log in */
static void test_refuses_url_without_password(void **state)
{
    struct dbssl_error e;

    (void)state;
    assert_int_equal(start_error("postgresql://app@localhost:5433/app", &e), -1);
    assert_int_equal(e.code, DBSSL_ERR_CONFIG);
    assert_string_equal(e.message, "DATABASE_URL names no password, and the development "
                                   "database authenticates with scram-sha-256");
    assert_non_null(strstr(e.hint, "postgresql://app:PASSWORD@localhost:5433/app"));
    assert_int_equal(start_error("postgresql://app:@localhost:5433/app", &e), -1);
    assert_non_null(strstr(e.message, "names no password"));
}

static void test_missing_server_certificate(void **state)
{
    /* user-supplied server files: nothing generates them */
    struct dbssl_config *cfg =
        load_gen("postgresql://app@localhost/app", "/proc/nonexistent/certs", false);
    struct dbssl_devdb_tls tls;
    struct dbssl_error e;

    (void)state;
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_devdb_tls_from_config(cfg, &tls, &e), -1);
    assert_int_equal(e.code, DBSSL_ERR_CERT);
    assert_string_equal(e.message,
                        "server certificate file \"/proc/nonexistent/certs/server.crt\" is "
                        "not readable: No such file or directory");
    assert_non_null(strstr(e.hint, "dbssl certs generate"));
    dbssl_config_free(cfg);
}

/* A base dir with pgdata/postmaster.pid naming pid and port. */
static void write_pidfile(const char *base, long pid, int port)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/pgdata", base);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/pgdata/postmaster.pid", base);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%ld\n%s/pgdata\n1700000000\n%d\n%s\n127.0.0.1\n  0  0\nready   \n", pid, base, port,
            base);
    fclose(f);
}

static void remove_base(const char *base)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/pgdata/postmaster.pid", base);
    unlink(path);
    snprintf(path, sizeof(path), "%s/pgdata", base);
    rmdir(path);
    rmdir(base);
}

static void test_status(void **state)
{
    char base[] = "/tmp/dbssl-devdb-unit.XXXXXX";
    struct dbssl_devdb_state st;

    (void)state;
    assert_int_equal(dbssl_devdb_status("/nonexistent/dev", &st, NULL), 0);
    assert_false(st.running);

    assert_non_null(mkdtemp(base));
    assert_int_equal(dbssl_devdb_status(base, &st, NULL), 0);
    assert_false(st.running);

    /* a live pid: ours stands in for the postmaster */
    write_pidfile(base, (long)getpid(), 55999);
    assert_int_equal(dbssl_devdb_status(base, &st, NULL), 0);
    assert_true(st.running);
    assert_int_equal(st.port, 55999);
    assert_int_equal(st.pid, (long)getpid());
    remove_base(base);

    /* a stale file left by a crash: a pid that cannot exist */
    assert_int_equal(mkdir(base, 0700), 0);
    write_pidfile(base, 0x7ffffff0L, 55999);
    assert_int_equal(dbssl_devdb_status(base, &st, NULL), 0);
    assert_false(st.running);
    remove_base(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_same_port_is_the_configured_one_redacted),
        cmocka_unit_test(test_url_moved_port),
        cmocka_unit_test(test_refuses_non_loopback_hosts),
        cmocka_unit_test(test_refuses_url_without_password),
        cmocka_unit_test(test_missing_server_certificate),
        cmocka_unit_test(test_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
