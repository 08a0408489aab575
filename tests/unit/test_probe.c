/*
 * test_probe.c - the fleet probe without a network: the probe file's parser
 * (tests/data/probe/config/<case>.ini, each naming the message it expects),
 * the strict reading of targets (tests/data/probe/targets.tsv) and the allow
 * list, a login module's env file rules, the exposition of results, the
 * per-target cache (grade due, kept, worst first, the slow lane's flag) and
 * the overview page's escaping and CSP.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "certinfo.h"
#include "probe/probe.h"
#include "probe/probe_cache.h"
#include "probe/probe_config.h"
#include "probe/probe_overview.h"
#include "util.h"

static char *read_all(const char *path, size_t *len)
{
    char *data = NULL;

    assert_int_equal(read_file(path, "test file", 1 << 20, &data, len, NULL), 0);
    return data;
}

/* ---- the file ------------------------------------------------------------------------ */

static void test_config_cases(void **state)
{
    char dir[4096];
    struct dirent *de;
    DIR *d;
    int n = 0;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/probe/config", getenv("DBSSL_TEST_DATA"));
    assert_non_null(d = opendir(dir));
    while ((de = readdir(d)) != NULL) {
        struct dbssl_probe_config *c = NULL;
        struct dbssl_error e;
        char path[4400], expect[256];
        size_t len;
        char *text;
        int rc;

        if (strstr(de->d_name, ".ini") == NULL)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        text = read_all(path, &len);
        assert_int_equal(sscanf(text, "# expect: %255[^\r\n]", expect), 1);
        dbssl_error_clear(&e);
        rc = dbssl_probe_config_parse(text, len, de->d_name, &c, &e);
        if (strcmp(expect, "ok") == 0) {
            if (rc != 0)
                fail_msg("%s: %s", de->d_name, e.message);
            assert_non_null(c);
            assert_non_null(c->default_module);
        } else {
            if (rc == 0)
                fail_msg("%s: accepted, expected \"%s\"", de->d_name, expect);
            if (strstr(e.message, expect) == NULL)
                fail_msg("%s: \"%s\" does not say \"%s\"", de->d_name, e.message, expect);
            /* every message names the setting and the file */
            assert_non_null(strstr(e.message, "DB_PROBE_CONFIG \""));
            assert_null(c);
        }
        dbssl_probe_config_free(c);
        free(text);
        n++;
    }
    closedir(d);
    assert_true(n >= 20);
}

static struct dbssl_probe_config *parse(const char *text)
{
    struct dbssl_probe_config *c = NULL;
    struct dbssl_error e;

    dbssl_error_clear(&e);
    if (dbssl_probe_config_parse(text, strlen(text), "test.ini", &c, &e) != 0)
        fail_msg("%s", e.message);
    return c;
}

static void test_config_values(void **state)
{
    struct dbssl_probe_config *c;
    const struct dbssl_probe_module *m;

    (void)state;
    c = parse("[targets]\nallow = 127.0.0.1\ndefault_module = b\n"
              "[module a]\nkind = tls\n"
              "[module b]\nkind = tls\ntimeout = 7\nprofile = modern\ngrade_every = off\n"
              "expiry_warn_days = 0\n");
    assert_int_equal(c->n_modules, 2);
    assert_string_equal(c->default_module->name, "b");
    assert_ptr_equal(dbssl_probe_config_module(c, NULL), c->default_module);
    assert_ptr_equal(dbssl_probe_config_module(c, ""), c->default_module);
    assert_null(dbssl_probe_config_module(c, "c"));
    m = dbssl_probe_config_module(c, "a");
    assert_int_equal(m->timeout_s, DBSSL_PROBE_DEFAULT_TIMEOUT_S);
    assert_int_equal(m->grade_every_s, DBSSL_PROBE_DEFAULT_GRADE_EVERY_S);
    assert_string_equal(m->profile->name, "intermediate");
    assert_int_equal(m->expiry_warn_days, 30);
    assert_null(m->ca_file);
    m = dbssl_probe_config_module(c, "b");
    assert_int_equal(m->timeout_s, 7);
    assert_int_equal(m->grade_every_s, -1);
    assert_string_equal(m->profile->name, "modern");
    assert_int_equal(m->expiry_warn_days, 0);
    dbssl_probe_config_free(c);

    /* without default_module: "tls" when there is one, else the first */
    c = parse("[targets]\nallow = ::1\n[module x]\nkind = tls\n[module tls]\nkind = tls\n");
    assert_string_equal(c->default_module->name, "tls");
    dbssl_probe_config_free(c);
    c = parse("[targets]\nallow = ::1\n[module x]\nkind = tls\n[module y]\nkind = tls\n");
    assert_string_equal(c->default_module->name, "x");
    dbssl_probe_config_free(c);
}

/* One module with server_settings = word: its value. */
static bool server_settings(const char *word)
{
    char text[128];
    struct dbssl_probe_config *c;
    bool v;

    snprintf(text, sizeof(text),
             "[targets]\nallow = 127.0.0.1\n[module x]\nkind = tls\nserver_settings = %s\n", word);
    c = parse(text);
    v = c->modules[0].server_settings;
    dbssl_probe_config_free(c);
    return v;
}

/* An on/off key reads a boolean as every setting does (config.h's words, any case). */
static void test_config_onoff(void **state)
{
    static const char *const off[] = {"off", "OFF", "no", "0", "false", "n", "f"};
    static const char *const on[] = {"on", "Yes", "1", "true", "y", "T"};

    (void)state;
    for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++)
        assert_false(server_settings(off[i]));
    for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++)
        assert_true(server_settings(on[i]));
}

/* A login module's env file: loaded alone (not from the environment) and verify-full. */
static void test_login_env(void **state)
{
    struct dbssl_probe_config *c = NULL;
    struct dbssl_error e;
    char ini[8192];
    const char *env = tu_path(tu_dir, "probe.env");

    (void)state;
    tu_make_client_pki(tu_dir, "probe CA");
    snprintf(ini, sizeof(ini), "[targets]\nallow = 127.0.0.1\n[module login]\nkind = login\n"
                               "env_file = %s\n", env);
    tu_write(env,
             "DATABASE_URL=postgresql://probe:secret@/postgres\nDB_SSL_MODE=require\n",
             0600);
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_probe_config_parse(ini, strlen(ini), "t.ini", &c, &e), -1);
    assert_non_null(strstr(e.message, "has DB_SSL_MODE \"require\", not verify-full"));
    assert_null(strstr(e.message, "secret"));

    /* the process environment does not reach the module's file */
    setenv("DB_SSL_MODE", "verify-full", 1);
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_probe_config_parse(ini, strlen(ini), "t.ini", &c, &e), -1);
    unsetenv("DB_SSL_MODE");

    {
        char text[8192];
        snprintf(text, sizeof(text),
                 "DATABASE_URL=postgresql://probe:secret@/postgres\nDB_SSL_MODE=verify-full\n"
                 "DB_SSL_CA_CERT=%s\n",
                 tu_path(tu_dir, "ca.crt"));
        tu_write(env, text, 0600);
    }
    dbssl_error_clear(&e);
    if (dbssl_probe_config_parse(ini, strlen(ini), "t.ini", &c, &e) != 0)
        fail_msg("%s", e.message);
    assert_int_equal(c->modules[0].kind, DBSSL_PROBE_LOGIN);
    assert_non_null(c->modules[0].login);
    assert_int_equal(c->modules[0].login->ssl_mode, DBSSL_SSLMODE_VERIFY_FULL);
    dbssl_probe_config_free(c);
}

/* ---- targets and the allow list -------------------------------------------------------- */

/* "\x0a" escapes of the data file as bytes. */
static void unescape(char *s)
{
    char *w = s;

    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] == 'x' && hex_digit(r[2]) >= 0 && hex_digit(r[3]) >= 0) {
            *w++ = (char)(hex_digit(r[2]) * 16 + hex_digit(r[3]));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

static void test_targets(void **state)
{
    char path[4096], line[1024];
    FILE *f;
    int n = 0;

    (void)state;
    snprintf(path, sizeof(path), "%s/probe/targets.tsv", getenv("DBSSL_TEST_DATA"));
    assert_non_null(f = fopen(path, "r"));
    while (fgets(line, sizeof(line), f) != NULL) {
        struct dbssl_probe_target t, again;
        char *tab = strchr(line, '\t'), msg[256];
        bool ok;

        if (line[0] == '#' || tab == NULL)
            continue;
        *tab = '\0';
        tab[1 + strcspn(tab + 1, "\n")] = '\0';
        unescape(line);
        ok = dbssl_probe_target_parse(line, &t, msg, sizeof(msg));
        if (strcmp(tab + 1, "-") == 0) {
            if (ok)
                fail_msg("target \"%s\" accepted as \"%s\"", line, t.text);
            /* the message never echoes what it cannot print safely */
            for (const char *p = msg; *p; p++)
                assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
        } else {
            if (!ok)
                fail_msg("target \"%s\" refused: %s", line, msg);
            assert_string_equal(t.text, tab + 1);
            /* the normal form reads back as itself */
            assert_true(dbssl_probe_target_parse(t.text, &again, msg, sizeof(msg)));
            assert_string_equal(again.text, t.text);
        }
        n++;
    }
    fclose(f);
    assert_true(n >= 40);
    assert_false(dbssl_probe_target_parse(NULL, &(struct dbssl_probe_target){0}, (char[64]){0}, 64));
}

static bool allowed(const struct dbssl_probe_config *c, const char *target)
{
    struct dbssl_probe_target t;
    char msg[256];

    assert_true(dbssl_probe_target_parse(target, &t, msg, sizeof(msg)));
    return dbssl_probe_target_allowed(c, &t);
}

static void test_allow(void **state)
{
    struct dbssl_probe_config *c;

    (void)state;
    c = parse("[targets]\nallow = 127.0.0.0/8, 10.1.0.0/17, 192.0.2.7, fd00::/8, "
              "db1.example.com, *.db.internal\n[module tls]\nkind = tls\n");
    assert_true(allowed(c, "127.0.0.1"));
    assert_true(allowed(c, "127.255.255.254:5433"));
    assert_false(allowed(c, "128.0.0.1"));
    assert_true(allowed(c, "10.1.127.255"));
    assert_false(allowed(c, "10.1.128.0"));
    assert_true(allowed(c, "192.0.2.7"));
    assert_false(allowed(c, "192.0.2.8"));
    assert_true(allowed(c, "[fd12::1]"));
    assert_false(allowed(c, "[fe80::1]"));
    assert_false(allowed(c, "[::1]")); /* IPv6 loopback is not 127.0.0.0/8 */
    assert_true(allowed(c, "db1.example.com"));
    assert_true(allowed(c, "DB1.EXAMPLE.COM:5433"));
    assert_false(allowed(c, "db2.example.com"));
    assert_false(allowed(c, "x.db1.example.com"));
    assert_true(allowed(c, "a.db.internal"));
    assert_true(allowed(c, "a.b.db.internal"));
    assert_false(allowed(c, "db.internal"));
    assert_false(allowed(c, "evildb.internal"));
    assert_false(allowed(c, "localhost"));
    dbssl_probe_config_free(c);
}

/* ---- the exposition ---------------------------------------------------------------------- */

static struct dbssl_probe_result *sample(bool success)
{
    static struct dbssl_probe_module m = {.name = "tls", .kind = DBSSL_PROBE_TLS,
                                          .expiry_warn_days = 30};
    static struct dbssl_probe_result r;
    struct dbssl_probe_target t;
    char msg[128];

    assert_true(dbssl_probe_target_parse("127.0.0.2:5432", &t, msg, sizeof(msg)));
    dbssl_probe_result_init(&r, &m, &t);
    r.probed_at = 1800000000;
    r.duration_s = 0.0125;
    r.success = success;
    return &r;
}

static void test_render(void **state)
{
    struct dbssl_probe_result *r = sample(false);
    size_t len;
    char *out;

    (void)state;
    /* nothing known: no made-up zeroes */
    dbssl_probe_fail(r, "timeout");
    dbssl_probe_fail(r, "timeout");
    out = dbssl_probe_render(r, &len);
    assert_int_equal(len, strlen(out));
    assert_non_null(strstr(out, "\nprobe_success 0\n"));
    assert_non_null(strstr(out, "\nprobe_duration_seconds 0.012500\n"));
    assert_non_null(strstr(out, "\ndbssl_probe_failed{reason=\"timeout\"} 1\n"));
    assert_null(strstr(out, "reason=\"timeout\"} 1\ndbssl_probe_failed{reason=\"timeout\"}"));
    assert_null(strstr(out, "dbssl_probe_ssl_enabled "));
    assert_null(strstr(out, "dbssl_probe_hostname_match"));
    assert_null(strstr(out, "dbssl_probe_cert_"));
    assert_null(strstr(out, "dbssl_probe_grade_"));
    free(out);

    /* a certificate that expired a day ago, a subject that needs escaping, a grade */
    r = sample(false);
    dbssl_probe_fail(r, "expired");
    dbssl_probe_fail(r, "hostname_mismatch");
    r->ssl = 1;
    snprintf(r->tls_version, sizeof(r->tls_version), "TLSv1.2");
    snprintf(r->cipher, sizeof(r->cipher), "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    snprintf(r->group, sizeof(r->group), "X25519");
    r->have_cert = true;
    snprintf(r->subject, sizeof(r->subject), "CN=a\"b\\c\nd");
    snprintf(r->serial, sizeof(r->serial), "0A");
    r->not_before = r->probed_at - 400 * 86400LL;
    r->not_after = r->probed_at - 86400 - 60;
    r->hostname_match = 0;
    r->chain_verified = 0;
    r->chain_complete = 1;
    r->grade.have = true;
    r->grade.passed = false;
    r->grade.graded_at = 1799990000;
    snprintf(r->grade.profile, sizeof(r->grade.profile), "intermediate");
    snprintf(r->grade.failed[r->grade.n_failed++], sizeof(r->grade.failed[0]), "tls12_suites");
    out = dbssl_probe_render(r, &len);
    assert_non_null(strstr(out, "\ndbssl_probe_failed{reason=\"expired\"} 1\n"
                                "dbssl_probe_failed{reason=\"hostname_mismatch\"} 1\n"));
    assert_non_null(strstr(out, "\ndbssl_probe_ssl_enabled 1\n"));
    assert_non_null(strstr(out, "\ndbssl_probe_tls_info{version=\"TLSv1.2\",cipher=\"TLS_ECDHE_"
                                "ECDSA_WITH_AES_128_GCM_SHA256\",group=\"X25519\"} 1\n"));
    assert_non_null(strstr(out, "{subject=\"CN=a\\\"b\\\\c\\nd\",issuer=\"\",serial=\"0A\"} "));
    assert_non_null(strstr(out, "\ndbssl_probe_cert_expiry_seconds -86460\n"));
    assert_non_null(strstr(out, "\ndbssl_probe_cert_expiry_state{state=\"expired\","
                                "days_left=\"-2\"} 1\n"));
    assert_non_null(strstr(out, "\ndbssl_probe_hostname_match 0\n"));
    assert_non_null(strstr(out, "\ndbssl_probe_chain_verified 0\n"));
    assert_non_null(strstr(out, "\ndbssl_probe_grade_passed{profile=\"intermediate\"} 0\n"));
    assert_non_null(strstr(out, "\ndbssl_probe_grade_failed_check{profile=\"intermediate\","
                                "check=\"tls12_suites\"} 1\n"));
    assert_non_null(strstr(out, "\ndbssl_probe_grade_timestamp_seconds 1799990000\n"));
    /* each family has its HELP and TYPE once */
    assert_non_null(strstr(out, "# TYPE dbssl_probe_failed gauge\n"));
    assert_null(strstr(strstr(out, "# TYPE dbssl_probe_failed gauge\n") + 1,
                       "# TYPE dbssl_probe_failed gauge\n"));
    free(out);

    /* a plaintext-only server */
    r = sample(false);
    dbssl_probe_fail(r, "ssl_unavailable");
    r->ssl = 0;
    out = dbssl_probe_render(r, &len);
    assert_non_null(strstr(out, "\ndbssl_probe_ssl_enabled 0\n"));
    free(out);
}

/* ---- the cache ------------------------------------------------------------------------ */

static void put(struct dbssl_probe_cache *c, const char *target, long long at, bool success,
                const char *reason, long long not_after, int grade, bool claimed)
{
    struct dbssl_probe_result *r = sample(success);
    struct dbssl_probe_target t;
    char msg[128];

    assert_true(dbssl_probe_target_parse(target, &t, msg, sizeof(msg)));
    snprintf(r->target, sizeof(r->target), "%s", t.text);
    r->probed_at = at;
    if (reason != NULL)
        dbssl_probe_fail(r, reason);
    if (not_after != 0) {
        r->have_cert = true;
        r->not_before = at - 86400;
        r->not_after = not_after;
    }
    if (grade >= 0) {
        r->grade.have = true;
        r->grade.passed = grade == 1;
        r->grade.graded_at = at;
    }
    dbssl_probe_cache_put(c, r, claimed);
}

static void test_cache_grade(void **state)
{
    struct dbssl_probe_cache *c = dbssl_probe_cache_new();
    struct dbssl_probe_result *r;
    long long t0 = 1800000000;

    (void)state;
    assert_false(dbssl_probe_cache_claim_grade(c, "tls", "h:1", t0, -1)); /* grade = off */
    assert_true(dbssl_probe_cache_claim_grade(c, "tls", "h:1", t0, 3600));
    /* claimed: no second full scan of the same target meanwhile */
    assert_false(dbssl_probe_cache_claim_grade(c, "tls", "h:1", t0, 3600));
    assert_true(dbssl_probe_cache_claim_grade(c, "tls", "h:2", t0, 3600));
    put(c, "h:1", t0, true, NULL, t0 + 90 * 86400, 1, true);
    assert_false(dbssl_probe_cache_claim_grade(c, "tls", "h:1", t0 + 3599, 3600));
    assert_true(dbssl_probe_cache_claim_grade(c, "tls", "h:1", t0 + 3600, 3600));
    put(c, "h:1", t0 + 3600, true, NULL, t0 + 90 * 86400, -1, true);
    /* a full scan that could not finish: tried again after the retry wait, not every probe */
    put(c, "h:2", t0, true, NULL, t0 + 90 * 86400, -1, true);
    assert_false(dbssl_probe_cache_claim_grade(c, "tls", "h:2", t0 + 10, 3600));
    assert_true(dbssl_probe_cache_claim_grade(c, "tls", "h:2", t0 + DBSSL_PROBE_GRADE_RETRY_S,
                                              3600));
    /* a probe without a fresh grade carries the one kept */
    r = sample(true);
    snprintf(r->target, sizeof(r->target), "h:1");
    dbssl_probe_cache_put(c, r, false);
    assert_true(r->grade.have);
    assert_true(r->grade.passed);
    /* grade_every 0: every probe that may */
    assert_true(dbssl_probe_cache_claim_grade(c, "other", "h:1", t0, 0));
    put(c, "h:1", t0, true, NULL, 0, 1, true);
    dbssl_probe_cache_free(c);
}

static void test_cache_order(void **state)
{
    struct dbssl_probe_cache *c = dbssl_probe_cache_new();
    struct dbssl_probe_summary *v = NULL;
    long long now = 1800000000;
    size_t n;

    (void)state;
    put(c, "ok-late", now, true, NULL, now + 300 * 86400, 1, false);
    put(c, "ok-soon", now, true, NULL, now + 100 * 86400, 1, false);
    put(c, "expiring", now, true, NULL, now + 3 * 86400, -1, false);
    put(c, "grade", now, true, NULL, now + 200 * 86400, 0, false);
    put(c, "hole", now, false, "timeout", 0, -1, false);
    put(c, "expired", now, false, "expired", now - 86400, -1, false);
    put(c, "forgotten", now - DBSSL_PROBE_CACHE_FORGET_S - 1, true, NULL, now + 86400 * 90, -1,
        false);
    assert_int_equal(dbssl_probe_cache_size(c), 7);
    n = dbssl_probe_cache_list(c, now, &v);
    assert_int_equal(n, 6);
    assert_int_equal(dbssl_probe_cache_size(c), 6);
    /* among the failures, nothing known (no answer) before a known certificate */
    assert_string_equal(v[0].target, "hole:5432");
    assert_string_equal(v[0].reasons, "timeout");
    assert_string_equal(v[1].target, "expired:5432");
    assert_string_equal(v[2].target, "grade:5432");
    assert_string_equal(v[3].target, "expiring:5432");
    assert_string_equal(v[4].target, "ok-soon:5432");
    assert_string_equal(v[5].target, "ok-late:5432");
    free(v);
    assert_true(dbssl_probe_cache_timed_out(c, "tls", "hole:5432"));
    assert_false(dbssl_probe_cache_timed_out(c, "tls", "expired:5432"));
    assert_false(dbssl_probe_cache_timed_out(c, "tls", "never:5432"));
    put(c, "hole", now + 1, true, NULL, now + 90 * 86400, -1, false);
    assert_false(dbssl_probe_cache_timed_out(c, "tls", "hole:5432"));
    dbssl_probe_cache_free(c);
}

/* ---- the overview ------------------------------------------------------------------------ */

static void test_overview(void **state)
{
    struct dbssl_probe_summary s[2];
    char want[128], hash[DBSSL_SHA256_B64_LEN + 1], csp[DBSSL_HTML_CSP_LEN];
    const char *style, *end;
    size_t len;
    char *html;

    (void)state;
    memset(s, 0, sizeof(s));
    snprintf(s[0].target, sizeof(s[0].target), "db.example.com:5432");
    snprintf(s[0].module, sizeof(s[0].module), "tls");
    snprintf(s[0].reasons, sizeof(s[0].reasons), "untrusted");
    snprintf(s[0].message, sizeof(s[0].message), "<script>alert(1)</script> & \"x\"");
    s[0].probed_at = 1800000000;
    snprintf(s[1].target, sizeof(s[1].target), "ok:5432");
    s[1].success = true;
    s[1].probed_at = 1800000000;
    html = dbssl_probe_overview_html(s, 2, 1800000005, "probe.ini", &len);
    assert_int_equal(len, strlen(html));
    assert_null(strstr(html, "<script"));
    assert_non_null(strstr(html, "&#60;script&#62;alert(1)&#60;/script&#62; &#38; &#34;x&#34;"));
    assert_non_null(strstr(html, "2 targets: <span class=\"badge failed\">1 failed</span>"));
    assert_non_null(strstr(html, "5 s ago"));
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    /* the CSP allows exactly the page's one style sheet, nothing else */
    style = strstr(html, "<style>");
    end = strstr(html, "</style>");
    assert_non_null(style);
    assert_non_null(end);
    assert_null(strstr(end + 1, "<style"));
    style += strlen("<style>");
    dbssl_sha256_base64(style, (size_t)(end - style), hash);
    snprintf(want, sizeof(want), "default-src 'none'; style-src 'sha256-%s';", hash);
    dbssl_probe_overview_csp(csp);
    assert_non_null(strstr(csp, want));
    free(html);

    html = dbssl_probe_overview_html(NULL, 0, 1800000005, "probe.ini", &len);
    assert_non_null(strstr(html, "No target has been probed yet"));
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_cases),
        cmocka_unit_test(test_config_values),
        cmocka_unit_test(test_config_onoff),
        cmocka_unit_test_setup_teardown(test_login_env, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_allow),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_cache_grade),
        cmocka_unit_test(test_cache_order),
        cmocka_unit_test(test_overview),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
