/*
 * test_metrics.c - GET /metrics as a scraper sees it, for constructed
 * snapshots: every certificate with its dates, label values escaped, the
 * histogram and counters carried across checks, reload outcomes in both
 * the metrics and the JSON body; promtool accepts the exposition.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "health.h"
#include "util.h"

#define NOW 1900000000LL
#define DAY 86400LL

/* The healthy check, its server certificate "CN=db", serial 0A1B, from yesterday for 300 days. */
static struct dbssl_tls_state tls_ok(void)
{
    struct dbssl_tls_state t;

    tu_tls_ok(&t, NOW);
    snprintf(t.server_cert_subject, sizeof(t.server_cert_subject), "CN=db");
    snprintf(t.server_cert_serial, sizeof(t.server_cert_serial), "0A1B");
    t.server_cert_not_before = NOW - DAY;
    t.server_cert_not_after = NOW + 300 * DAY;
    return t;
}

static struct dbssl_config *config(void)
{
    const char *envp[] = {"DATABASE_URL=postgresql://app@127.0.0.1/db", "DB_SSL_MODE=require",
                          NULL};
    return test_config_from(envp);
}

static void test_labels_escaped_and_certificates_listed(void **state)
{
    struct dbssl_inuse_cert v[1] = {{"client", (char *)"/etc/a\\b.crt", (char *)"CN=x\"y\nz",
                                     (char *)"01", NOW - DAY, NOW + DAY}};
    struct dbssl_inuse_certs certs = {v, 1, NULL, 0};
    struct dbssl_config *cfg = config();
    struct dbssl_tls_state t = tls_ok();
    struct dbssl_snapshot *s = tu_snapshot(cfg, &t, &certs, NOW, NOW, NULL);

    (void)state;
    assert_non_null(s);
    assert_non_null(strstr(s->metrics.data,
                           "dbssl_cert_not_after_seconds{role=\"client\",path=\"/etc/"
                           "a\\\\b.crt\",subject=\"CN=x\\\"y\\nz\",serial=\"01\"} "
                           "1900086400\n"));
    assert_non_null(strstr(s->metrics.data, "dbssl_cert_not_before_seconds{role=\"client\""));
    assert_non_null(strstr(s->metrics.data, "dbssl_cert_not_after_seconds{role=\"server\",path="
                                            "\"127.0.0.1:5432\",subject=\"CN=db\",serial=\"0A1B\"} "
                                            "1925920000\n"));
    assert_non_null(strstr(s->metrics.data,
                           "dbssl_tls_info{version=\"TLSv1.3\",cipher=\"TLS_AES_256_"
                           "GCM_SHA384\"} 1\n"));
    assert_non_null(strstr(s->metrics.data, "\ndbssl_up 1\n"));
    assert_non_null(strstr(s->metrics.data, "\ndbssl_ssl_enabled 1\n"));
    assert_int_equal(s->metrics.len, strlen(s->metrics.data));
    dbssl_snapshot_unref(s);
    dbssl_config_free(cfg);
}

static void test_counters_and_histogram_accumulate(void **state)
{
    struct dbssl_check_stats st;
    struct dbssl_reload_stats rl;
    struct dbssl_config *cfg = config();
    struct dbssl_tls_state t = tls_ok(), down;
    struct dbssl_snapshot *s;
    struct dbssl_snapshot_extra x = {&rl, &st, true, 0.003};
    json_t *j;

    (void)state;
    memset(&st, 0, sizeof(st));
    memset(&rl, 0, sizeof(rl));
    memset(&down, 0, sizeof(down));
    down.error_class = DBSSL_CONN_REFUSED;
    s = tu_snapshot(cfg, &t, NULL, NOW, NOW, &x);
    dbssl_snapshot_unref(s);
    rl.success = 3;
    rl.failure = 2;
    rl.last_success_at = NOW - 60;
    rl.last_error_at = NOW - 5;
    dbssl_error_setx(&rl.last_error, DBSSL_ERR_CONFIG, "DB_SSL_CLIENT_KEY: does not match", NULL,
                     "refused: the new settings are invalid");
    x.duration_s = 0.2;
    s = tu_snapshot(cfg, &down, NULL, NOW, NOW, &x);
    assert_non_null(s);
    assert_non_null(strstr(s->metrics.data, "dbssl_checks_total{result=\"healthy\"} 1\n"));
    assert_non_null(strstr(s->metrics.data, "dbssl_checks_total{result=\"unhealthy\"} 1\n"));
    assert_non_null(
        strstr(s->metrics.data, "dbssl_check_duration_seconds_bucket{le=\"0.005\"} 1\n"));
    assert_non_null(strstr(s->metrics.data, "dbssl_check_duration_seconds_bucket{le=\"0.1\"} 1\n"));
    assert_non_null(
        strstr(s->metrics.data, "dbssl_check_duration_seconds_bucket{le=\"0.25\"} 2\n"));
    assert_non_null(
        strstr(s->metrics.data, "dbssl_check_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(s->metrics.data, "dbssl_check_duration_seconds_count 2\n"));
    assert_non_null(strstr(s->metrics.data, "dbssl_check_duration_seconds_sum 0.203000\n"));
    assert_non_null(strstr(s->metrics.data, "dbssl_config_reloads_total{result=\"success\"} 3\n"));
    assert_non_null(strstr(s->metrics.data, "dbssl_config_reloads_total{result=\"failure\"} 2\n"));
    assert_non_null(strstr(s->metrics.data, "dbssl_config_last_reload_success_timestamp_seconds "
                                            "1899999940\n"));
    assert_non_null(strstr(s->metrics.data, "\ndbssl_up 0\n"));
    /* no TLS: no tls_info series, no server certificate */
    assert_null(strstr(s->metrics.data, "dbssl_tls_info{"));
    assert_null(strstr(s->metrics.data, "role=\"server\""));
    j = json_loads(s->ssl_json.data, 0, NULL);
    assert_non_null(j);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "last_reload_error"), "message")),
        "refused: the new settings are invalid");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "last_reload_error"), "detail")),
        "DB_SSL_CLIENT_KEY: does not match");
    assert_true(json_is_null(json_object_get(json_object_get(j, "last_reload_error"), "hint")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "last_reload_error"), "at")),
        "2030-03-17T17:46:35Z");
    json_decref(j);
    dbssl_snapshot_unref(s);
    dbssl_config_free(cfg);
}

static void test_promtool_accepts(void **state)
{
    struct dbssl_inuse_cert v[2] = {
        {"ca", (char *)"/c/ca.crt", (char *)"CN=ca \\ \"q\"", (char *)"AB", NOW - DAY, NOW + DAY},
        {"client", (char *)"/c/cl\nient.crt", (char *)"CN=c", (char *)"CD", NOW - DAY, NOW}};
    struct dbssl_inuse_certs certs = {v, 2, NULL, 0};
    struct dbssl_check_stats st;
    struct dbssl_config *cfg = config();
    struct dbssl_tls_state t = tls_ok();
    struct dbssl_snapshot_extra x = {NULL, &st, true, 0.01};
    struct dbssl_snapshot *s;
    const char *path = tu_path(tu_dir, "metrics.txt");
    const char *src = getenv("DBSSL_SRC");
    char cmd[1200], promtool[1024] = "";
    FILE *f;

    (void)state;
    /* Debian's promtool, unpacked by the script (the package is never installed) */
    assert_non_null(src);
    snprintf(cmd, sizeof(cmd), "'%s/scripts/prometheus-tools.sh' promtool", src);
    f = popen(cmd, "r");
    assert_non_null(f);
    if (fgets(promtool, sizeof(promtool), f) != NULL)
        promtool[strcspn(promtool, "\n")] = '\0';
    if (pclose(f) != 0 || promtool[0] == '\0')
        fail_msg("no promtool: %s failed (run scripts/install-deps.sh --test)", cmd);
    memset(&st, 0, sizeof(st));
    s = tu_snapshot(cfg, &t, &certs, NOW, NOW, &x);
    assert_non_null(s);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(s->metrics.data, 1, s->metrics.len, f), s->metrics.len);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "'%s' check metrics < '%s'", promtool, path);
    assert_int_equal(system(cmd), 0);
    dbssl_snapshot_unref(s);
    dbssl_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labels_escaped_and_certificates_listed),
        cmocka_unit_test(test_counters_and_histogram_accumulate),
        cmocka_unit_test_setup_teardown(test_promtool_accepts, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
