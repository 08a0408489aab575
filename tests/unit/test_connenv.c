/*
 * test_connenv.c - the settings as libpq's variables and a rewritten
 * DATABASE_URL, case by case from tests/data/connenv/<case>/ (env: the
 * settings as a dotenv file; expected: every variable, the keywords only the
 * URL carries, and the URL with the password masked).  Every case is also
 * checked against libpq itself: PQconninfoParse() of the rewritten URL gives
 * back each value dbssl connects with, writing the URL again changes nothing,
 * the password appears in no masked output, and the shell and dotenv texts
 * read back to the same values.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "config.h"
#include "conn_int.h"
#include "connenv.h"
#include "dotenv.h"
#include "util.h"

static struct dbssl_connenv build(const struct dbssl_config *cfg, bool show)
{
    struct dbssl_connenv env;
    struct dbssl_error e;

    dbssl_error_clear(&e);
    if (dbssl_connenv_build(cfg, show, NULL, &env, &e) != 0)
        fail_msg("dbssl_connenv_build: %s (%s)", e.message, e.detail);
    return env;
}

static struct dbssl_config *load_url(const char *url, const struct dbssl_config *like)
{
    char *kv = xasprintf("DATABASE_URL=%s", url);
    const char *envp[DBSSL_OPTION_COUNT + 1];
    char *owned[DBSSL_OPTION_COUNT];
    size_t n = 0;
    struct dbssl_config *cfg;

    /* the same DB_SSL_* settings, the URL replaced */
    envp[n] = kv;
    owned[n++] = NULL;
    for (int i = 1; i < DBSSL_OPTION_COUNT; i++) {
        if (like->settings[i].source != DBSSL_SOURCE_DOTENV)
            continue;
        owned[n] = xasprintf("%s=%s", dbssl_options[i].name, like->settings[i].value);
        envp[n] = owned[n];
        n++;
    }
    envp[n] = NULL;
    cfg = test_config_from(envp);
    free(kv);
    for (size_t i = 1; i < n; i++)
        free(owned[i]);
    return cfg;
}

/* A single port written after each of several hosts means the same to libpq. */
static bool same_port(const char *want, const char *got, const char *host)
{
    struct strbuf sb;
    bool same;

    if (strcmp(want, got) == 0)
        return true;
    if (strchr(want, ',') != NULL || host == NULL)
        return false;
    strbuf_init(&sb);
    strbuf_append(&sb, want);
    for (const char *c = host; *c; c++)
        if (*c == ',')
            strbuf_printf(&sb, ",%s", want);
    same = strcmp(sb.data, got) == 0;
    strbuf_free(&sb);
    return same;
}

/* libpq reads the rewritten URL back to the values of every variable. */
static void check_libpq_reads_back(const struct dbssl_connenv *env, const char *name)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(dbssl_connenv_get(env, "DATABASE_URL"), &errmsg);
    const char *host = dbssl_connenv_get(env, "PGHOST");

    if (opts == NULL)
        fail_msg("%s: libpq rejects the rewritten URL: %s", name, errmsg ? errmsg : "oom");
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        const char *want = o->envvar ? dbssl_connenv_get(env, o->envvar) : NULL;
        if (o->envvar == NULL)
            continue;
        if (want == NULL && o->val == NULL)
            continue;
        if (want == NULL || o->val == NULL ||
            (strcmp(o->keyword, "port") == 0 ? !same_port(want, o->val, host)
                                             : strcmp(want, o->val) != 0))
            fail_msg("%s: %s is \"%s\" but the URL gives libpq \"%s\"", name, o->envvar,
                     want ? want : "(unset)", o->val ? o->val : "(unset)");
    }
    PQconninfoFree(opts);
}

/* The dotenv text reads back (dotenv.c) to the very values. */
static void check_dotenv_reads_back(const struct dbssl_connenv *env, const char *name)
{
    char *text = dbssl_connenv_render(env, DBSSL_CONNENV_DOTENV);
    struct dotenv parsed;
    struct dbssl_error e;

    assert_non_null(text);
    dbssl_error_clear(&e);
    if (dotenv_parse(text, strlen(text), name, &parsed, &e) != 0)
        fail_msg("%s: the dotenv output does not parse: %s", name, e.message);
    assert_int_equal(parsed.n, env->n);
    for (size_t i = 0; i < env->n; i++) {
        const char *got = dotenv_get(&parsed, env->vars[i].name);
        assert_non_null(got);
        assert_string_equal(got, env->vars[i].value);
    }
    dotenv_free(&parsed);
    free(text);
}

static char *run_case(const char *name)
{
    struct dbssl_error e;
    struct dbssl_config *cfg, *again;
    struct dbssl_connenv shown, masked, twice;
    struct strbuf out;
    char cwd[4096];
    const char *password;

    dbssl_error_clear(&e);
    cfg = dbssl_config_load_from("env", true, NULL, &e);
    if (cfg == NULL)
        fail_msg("%s: %s", name, e.message);
    shown = build(cfg, true);
    masked = build(cfg, false);

    check_libpq_reads_back(&shown, name);
    check_dotenv_reads_back(&shown, name);
    check_dotenv_reads_back(&masked, name);
    /* written again from its own output, the URL is the same */
    again = load_url(dbssl_connenv_get(&shown, "DATABASE_URL"), cfg);
    twice = build(again, true);
    assert_string_equal(dbssl_connenv_get(&twice, "DATABASE_URL"),
                        dbssl_connenv_get(&shown, "DATABASE_URL"));
    /* the password in no masked output, in any format */
    password = cfg->url.password;
    if (password != NULL && password[0] != '\0') {
        for (int f = DBSSL_CONNENV_SHELL; f <= DBSSL_CONNENV_DOTENV; f++) {
            char *text = dbssl_connenv_render(&masked, (enum dbssl_connenv_format)f);
            assert_non_null(text);
            if (strstr(text, password) != NULL)
                fail_msg("%s: the password is in masked output:\n%s", name, text);
            free(text);
        }
        assert_true(masked.masked);
    }

    strbuf_init(&out);
    for (size_t i = 0; i < shown.n; i++)
        strbuf_printf(&out, "%s=%s\n", shown.vars[i].name, shown.vars[i].value);
    strbuf_printf(&out, "url only: %s\n", shown.url_only ? shown.url_only : "(none)");
    strbuf_printf(&out, "masked: %s\n", dbssl_connenv_get(&masked, "DATABASE_URL"));

    /* absolute paths name the case directory: written as $CASE */
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    {
        struct strbuf rel;
        const char *s = out.data, *hit;
        strbuf_init(&rel);
        while ((hit = strstr(s, cwd)) != NULL) {
            strbuf_append_n(&rel, s, (size_t)(hit - s));
            strbuf_append(&rel, "$CASE");
            s = hit + strlen(cwd);
        }
        strbuf_append(&rel, s);
        strbuf_free(&out);
        out = rel;
    }
    dbssl_connenv_free(&shown);
    dbssl_connenv_free(&masked);
    dbssl_connenv_free(&twice);
    dbssl_config_free(again);
    dbssl_config_free(cfg);
    return strbuf_take(&out);
}

static void test_cases(void **state)
{
    (void)state;
    tu_data_cases("connenv", run_case, 12);
}

/* ---- quoting ------------------------------------------------------------------- */

static const char *const nasty[] = {
    "plain", "it's", "a\"b\\c", "line1\nline2", "tab\there", "$HOME `id` $(id)", " # not a comment",
    "",      "'",    "''",      "\\",           "\"",        "#",
};

static void test_dotenv_quote_reads_back(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++) {
        struct strbuf sb;
        struct dotenv parsed;
        struct dbssl_error e;

        strbuf_init(&sb);
        strbuf_append(&sb, "KEY=");
        dbssl_connenv_dotenv_quote(&sb, nasty[i]);
        strbuf_append(&sb, "\nNEXT=1\n");
        dbssl_error_clear(&e);
        if (dotenv_parse(sb.data, sb.len, "quoted", &parsed, &e) != 0)
            fail_msg("value %zu: %s in:\n%s", i, e.message, sb.data);
        assert_string_equal(dotenv_get(&parsed, "KEY"), nasty[i]);
        assert_string_equal(dotenv_get(&parsed, "NEXT"), "1");
        dotenv_free(&parsed);
        strbuf_free(&sb);
    }
}

/* The shell's own reading, by /bin/sh: printf of the quoted word gives the value back. */
static void test_shell_quote_reads_back(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++) {
        struct strbuf cmd;
        char got[256];
        size_t n;
        FILE *p;

        strbuf_init(&cmd);
        strbuf_append(&cmd, "V=");
        dbssl_connenv_shell_quote(&cmd, nasty[i]);
        strbuf_append(&cmd, "; printf '%s' \"$V\"");
        p = popen(cmd.data, "r");
        assert_non_null(p);
        n = fread(got, 1, sizeof(got) - 1, p);
        got[n] = '\0';
        assert_int_equal(pclose(p), 0);
        assert_string_equal(got, nasty[i]);
        strbuf_free(&cmd);
    }
}

/* A connection service would beat libpq's variables: refused, from the URL and inherited. */
static void test_service_refused(void **state)
{
    const char *in_url[] = {"DATABASE_URL=service=billing user=app", "DB_SSL_MODE=require", NULL};
    const char *plain[] = {"DATABASE_URL=postgresql://app@db/app", "DB_SSL_MODE=require", NULL};
    const char *inherited[] = {"HOME=/root", "PGSERVICE=billing", NULL};
    struct dbssl_config *cfg;
    struct dbssl_connenv env;
    struct dbssl_error e;

    (void)state;
    cfg = test_config_from(in_url);
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_connenv_build(cfg, true, NULL, &env, &e), -1);
    assert_int_equal(e.code, DBSSL_ERR_CONFIG);
    assert_string_equal(e.message, "a connection service (service= in DATABASE_URL \"billing\") "
                                   "would override the validated settings");
    assert_int_equal(env.n, 0);
    dbssl_config_free(cfg);

    cfg = test_config_from(plain);
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_connenv_build(cfg, true, inherited, &env, &e), -1);
    assert_string_equal(e.message,
                        "a connection service (PGSERVICE \"billing\") would override the validated "
                        "settings");
    assert_non_null(strstr(e.hint, "Unset PGSERVICE"));
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_connenv_build(cfg, true, inherited + 2, &env, &e), 0);
    dbssl_connenv_free(&env);
    dbssl_config_free(cfg);
}

static void test_formats(void **state)
{
    enum dbssl_connenv_format f;

    (void)state;
    assert_true(dbssl_connenv_format_parse("shell", &f));
    assert_int_equal(f, DBSSL_CONNENV_SHELL);
    assert_true(dbssl_connenv_format_parse("json", &f));
    assert_int_equal(f, DBSSL_CONNENV_JSON);
    assert_true(dbssl_connenv_format_parse("dotenv", &f));
    assert_int_equal(f, DBSSL_CONNENV_DOTENV);
    assert_false(dbssl_connenv_format_parse("yaml", &f));
    assert_false(dbssl_connenv_format_parse("", &f));
    dbssl_connenv_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_dotenv_quote_reads_back),
        cmocka_unit_test(test_shell_quote_reads_back),
        cmocka_unit_test(test_service_refused),
        cmocka_unit_test(test_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
