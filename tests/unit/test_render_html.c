/*
 * test_render_html.c - the status page (GET / and /status) for constructed
 * check results: the banner a person reads first, one timeline bar per
 * certificate in use with expiry.h's verdict, today and the warning window
 * drawn, and every outside string escaped.  The browser's view of the same
 * page is tests/integration/test_status_page.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "clock.h"
#include "health.h"
#include "render.h"
#include "util.h"

#define NOW 1900000000LL /* 2030-03-17, a fixed "now" */
#define DAY SECONDS_PER_DAY

/* A TLS 1.3 check that sent the client certificate; the server's issued 10 days ago. */
static struct dbssl_tls_state tls_ok(void)
{
    struct dbssl_tls_state t;

    tu_tls_ok(&t, NOW);
    t.client_cert_sent = true;
    t.server_cert_not_before = NOW - 10 * DAY;
    return t;
}

/* The page of one check, as the server sends it (caller frees). */
static char *page(const char *const *envp, const struct dbssl_tls_state *t,
                  const struct dbssl_inuse_certs *certs)
{
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_snapshot *s = tu_snapshot(cfg, t, certs, NOW, NOW, NULL);
    char *html;

    assert_non_null(s);
    assert_non_null(s->html.data);
    assert_int_equal(strlen(s->html.data), s->html.len);
    html = xstrdup(s->html.data);
    dbssl_snapshot_unref(s);
    dbssl_config_free(cfg);
    return html;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void test_healthy_page_has_banner_facts_and_one_bar_per_certificate(void **state)
{
    const char *envp[] = {"DB_SSL_MODE=verify-full", "DB_SSL_EXPIRY_WARN_DAYS=30", NULL};
    struct dbssl_inuse_cert c[2] = {
        {"ca", "/c/ca.crt", "CN=Dev CA", "01", NOW - 100 * DAY, NOW + 3000 * DAY},
        {"client", "/c/client.crt", "CN=app", "02", NOW - DAY, NOW + 300 * DAY},
    };
    struct dbssl_inuse_certs certs = {c, 2, NULL, 0};
    struct dbssl_tls_state t = tls_ok();
    char *html;

    (void)state;
    html = page(envp, &t, &certs);
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_non_null(strstr(html, "<meta name=\"viewport\" content=\"width=device-width"));
    /* a page left open follows the service by itself (no script: the CSP has none) */
    assert_non_null(strstr(html, "<meta http-equiv=\"refresh\" content=\"15\">"));
    assert_non_null(strstr(html, "reloads itself every 15 s"));
    assert_non_null(strstr(html, "class=\"banner healthy\""));
    assert_non_null(strstr(html, "<p class=\"state\">healthy</p>"));
    assert_non_null(strstr(html, "<dt>TLS</dt><dd>TLSv1.3</dd>"));
    assert_non_null(strstr(html, "<dt>Cipher</dt><dd>TLS_AES_256_GCM_SHA384</dd>"));
    assert_non_null(strstr(html, "<dt>Client certificate</dt><dd>sent</dd>"));
    assert_non_null(strstr(html, "<dt>Server</dt><dd>127.0.0.1:5432</dd>"));
    /* CA, client and the server's own: one bar each, in that order */
    assert_int_equal(count(html, "<rect class=\"bar "), 3);
    assert_non_null(strstr(html, "<rect class=\"bar valid\" data-role=\"ca\""));
    assert_true(strstr(html, "data-role=\"ca\"") < strstr(html, "data-role=\"client\""));
    assert_true(strstr(html, "data-role=\"client\"") < strstr(html, "data-role=\"server\""));
    /* today marked on every row at the same place, the warning window shaded */
    assert_int_equal(count(html, "<line class=\"today\""), 3);
    assert_int_equal(count(html, "<rect class=\"window\""), 3);
    assert_non_null(strstr(html, "the next 30 days (DB_SSL_EXPIRY_WARN_DAYS)"));
    {
        const char *a = strstr(html, "<line class=\"today\" x1=\"");
        const char *b = strstr(a + 1, "<line class=\"today\" x1=\"");
        assert_memory_equal(a, b, 40);
    }
    /* the days left are expiry.h's, as in the JSON */
    assert_non_null(strstr(html, "<strong>300 days left</strong>, valid"));
    assert_non_null(strstr(html, "until 2030-10-03"));
    /* nothing runs, nothing loads */
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "href="));
    free(html);
}

static void test_verdicts_color_the_bars(void **state)
{
    const char *envp[] = {"DB_SSL_MODE=verify-full", "DB_SSL_EXPIRY_WARN_DAYS=30", NULL};
    struct dbssl_inuse_cert c[2] = {
        {"ca", "/c/ca.crt", "CN=Dev CA", "01", NOW - 100 * DAY, NOW + 10 * DAY},
        {"client", "/c/client.crt", "CN=app", "02", NOW - 100 * DAY, NOW - 3600},
    };
    struct dbssl_inuse_certs certs = {c, 2, NULL, 0};
    struct dbssl_tls_state t = tls_ok();
    char *html;

    (void)state;
    html = page(envp, &t, &certs);
    assert_non_null(strstr(html, "class=\"banner unhealthy\""));
    assert_non_null(strstr(html, "<rect class=\"bar expiring\" data-role=\"ca\""));
    assert_non_null(strstr(html, "<rect class=\"bar expired\" data-role=\"client\""));
    assert_non_null(strstr(html, "<strong>-1 day left</strong>, expired"));
    /* the rules' warnings are listed */
    assert_non_null(strstr(html, "<ul class=\"warnings\" id=\"warnings\">"));
    free(html);

    /* DB_SSL_EXPIRY_WARN_DAYS=0: no window to shade, and the legend says why */
    {
        const char *envp0[] = {"DB_SSL_MODE=verify-full", "DB_SSL_EXPIRY_WARN_DAYS=0", NULL};
        html = page(envp0, &t, &certs);
        assert_int_equal(count(html, "<rect class=\"window\""), 0);
        assert_non_null(strstr(html, "DB_SSL_EXPIRY_WARN_DAYS is 0"));
        free(html);
    }
}

static void test_failure_shows_error_and_hint_escaped(void **state)
{
    const char *envp[] = {"DB_SSL_MODE=verify-full", NULL};
    struct dbssl_inuse_cert c[1] = {
        {"ca", "/c/ca.crt", "CN=<script>alert(1)</script>&\"'", "01", NOW - DAY, NOW + 90 * DAY},
    };
    struct dbssl_inuse_certs certs = {c, 1, NULL, 0};
    struct dbssl_tls_state t;
    char *html;

    (void)state;
    memset(&t, 0, sizeof(t));
    t.error_class = DBSSL_CONN_REFUSED;
    snprintf(t.error_message, sizeof(t.error_message), "could not connect to <img src=x>");
    snprintf(t.error_detail, sizeof(t.error_detail), "Connection refused; Is the server running?");
    snprintf(t.error_hint, sizeof(t.error_hint), "Check that PostgreSQL is running & listening.");
    html = page(envp, &t, &certs);
    assert_non_null(strstr(html, "class=\"banner unhealthy\""));
    assert_non_null(strstr(html, "<p class=\"state\">unhealthy</p>"));
    assert_non_null(strstr(html, "<code>connection_refused</code>: could not connect to "
                                 "&#60;img src=x&#62;"));
    assert_non_null(strstr(html, "<p class=\"detail\">Detail: Connection refused; Is the server "
                                 "running?</p>"));
    assert_non_null(
        strstr(html, "<p class=\"hint\">Hint: Check that PostgreSQL is running &#38; listening."));
    /* outside text never becomes markup */
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<img"));
    assert_non_null(strstr(html, "CN=&#60;script&#62;alert(1)&#60;/script&#62;&#38;&#34;&#39;"));
    /* no TLS, no server certificate: the CA alone is on the timeline */
    assert_int_equal(count(html, "<rect class=\"bar "), 1);
    assert_non_null(strstr(html, "<dt>TLS</dt><dd>not in use</dd>"));
    free(html);

    /* nothing in use at all: said in words, not an empty chart */
    html = page(envp, &t, NULL);
    assert_int_equal(count(html, "<rect class=\"bar "), 0);
    assert_non_null(strstr(html, "id=\"no-certificates\""));
    free(html);
}

/* A bundle of 20 CAs (the system's may hold a hundred): the 12 that expire first, then a count. */
static void test_large_bundle_draws_the_first_to_expire(void **state)
{
    const char *envp[] = {"DB_SSL_MODE=verify-full", NULL};
    struct dbssl_inuse_cert c[21];
    struct dbssl_inuse_certs certs = {c, 21, NULL, 0};
    struct dbssl_tls_state t = tls_ok();
    char subj[21][32], *html;

    (void)state;
    for (int i = 0; i < 20; i++) {
        snprintf(subj[i], sizeof(subj[i]), "CN=root %02d", i);
        /* root 19 expires first, root 00 last */
        c[i] = (struct dbssl_inuse_cert){"ca", "/c/bundle.crt", subj[i],
                                         "01", NOW - DAY,       NOW + (100 + 20 - i) * DAY};
    }
    c[20] = (struct dbssl_inuse_cert){"client", "/c/client.crt", "CN=app",
                                      "02",     NOW - DAY,       NOW + 300 * DAY};
    html = page(envp, &t, &certs);
    assert_int_equal(count(html, "<rect class=\"bar valid\" data-role=\"ca\""), 12);
    assert_int_equal(count(html, "<rect class=\"bar "), 14); /* and the client's, the server's */
    assert_non_null(strstr(html, "CN=root 19"));
    assert_non_null(strstr(html, "CN=root 08"));
    assert_null(strstr(html, "CN=root 07"));
    assert_true(strstr(html, "CN=root 19") < strstr(html, "CN=root 18"));
    assert_non_null(strstr(html, "8 more CA certificates of the bundle expire later"));
    free(html);
}

/* A multi-host URL: each host listed with its role; another host's certificate gets its bar. */
static void test_hosts_and_sessions(void **state)
{
    const char *envp[] = {"DB_SSL_MODE=verify-full", "DB_SSL_EXPIRY_WARN_DAYS=30", NULL};
    struct dbssl_config *cfg = test_config_from(envp);
    struct dbssl_snapshot_extra x = {0};
    struct dbssl_tls_state t = tls_ok();
    struct dbssl_sessions ss;
    struct dbssl_hosts *hs = calloc(1, sizeof(*hs));
    struct dbssl_snapshot *s;
    const char *html;

    (void)state;
    assert_non_null(hs);
    hs->n = 3;
    snprintf(hs->v[0].host, sizeof(hs->v[0].host), "127.0.0.1");
    hs->v[0].port = 5432;
    hs->v[0].role = DBSSL_HOST_PRIMARY;
    hs->v[0].tls = t;
    snprintf(hs->v[1].host, sizeof(hs->v[1].host), "<standby>");
    hs->v[1].port = 5433;
    hs->v[1].role = DBSSL_HOST_STANDBY;
    hs->v[1].tls = t;
    snprintf(hs->v[1].tls.server_cert_subject, sizeof(hs->v[1].tls.server_cert_subject),
             "CN=standby");
    hs->v[1].tls.server_cert_not_after = NOW + 5 * DAY;
    snprintf(hs->v[2].host, sizeof(hs->v[2].host), "db3");
    snprintf(hs->v[2].tls.error_message, sizeof(hs->v[2].tls.error_message),
             "could not connect to the server");
    memset(&ss, 0, sizeof(ss));
    ss.state = DBSSL_SESSIONS_CHECKED;
    ss.total = 3;
    ss.encrypted = 2;
    ss.plaintext = 1;
    x.hosts = hs;
    x.sessions = &ss;
    s = tu_snapshot(cfg, &t, NULL, NOW, NOW, &x);
    assert_non_null(s);
    html = s->html.data;
    assert_non_null(strstr(html, "<section><h2>Hosts</h2><dl class=\"facts\" id=\"hosts\">"));
    assert_non_null(
        strstr(html, "<dt>127.0.0.1:5432</dt><dd>primary, TLSv1.3, the session&#39;s host</dd>"));
    assert_non_null(strstr(html, "<dt>&#60;standby&#62;:5433</dt><dd>standby, TLSv1.3</dd>"));
    assert_non_null(
        strstr(html, "<dt>db3</dt><dd>not reached: could not connect to the server</dd>"));
    assert_null(strstr(html, "<standby>"));
    /* the session's server, then the standby's own bar, expiring, named by its host */
    assert_int_equal(count(html, "<rect class=\"bar "), 2);
    assert_non_null(strstr(html, "<span class=\"role\">server</span><span class=\"host\">&#60;"
                                 "standby&#62;:5433</span><span class=\"subject\">CN=standby"));
    assert_non_null(strstr(html, "<rect class=\"bar expiring\" data-role=\"server\""));
    assert_non_null(strstr(html, "<dt>Application's sessions</dt><dd>3 watched: 2 encrypted, 1 "
                                 "plaintext, 0 below the minimum protocol</dd>"));
    dbssl_snapshot_unref(s);
    dbssl_config_free(cfg);
    free(hs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthy_page_has_banner_facts_and_one_bar_per_certificate),
        cmocka_unit_test(test_verdicts_color_the_bars),
        cmocka_unit_test(test_failure_shows_error_and_hint_escaped),
        cmocka_unit_test(test_large_bundle_draws_the_first_to_expire),
        cmocka_unit_test(test_hosts_and_sessions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
