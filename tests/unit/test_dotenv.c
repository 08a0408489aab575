/*
 * test_dotenv.c - the .env syntax users know, and the errors for what they
 * get wrong (file:line named, content never echoed).
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "dotenv.h"

static struct dotenv parse_ok(const char *text)
{
    struct dotenv env;
    struct dbssl_error e;

    dbssl_error_clear(&e);
    assert_int_equal(dotenv_parse(text, strlen(text), "t.env", &env, &e), 0);
    assert_int_equal(e.code, DBSSL_OK);
    return env;
}

static void check_value(const char *text, const char *key, const char *value)
{
    struct dotenv env = parse_ok(text);

    assert_non_null(dotenv_get(&env, key));
    assert_string_equal(dotenv_get(&env, key), value);
    dotenv_free(&env);
}

static void check_error(const char *text, const char *message, const char *detail)
{
    struct dotenv env;
    struct dbssl_error e;

    dbssl_error_clear(&e);
    assert_int_equal(dotenv_parse(text, strlen(text), "t.env", &env, &e), -1);
    assert_int_equal(e.code, DBSSL_ERR_CONFIG);
    assert_string_equal(e.message, message);
    assert_string_equal(e.detail, detail);
    assert_true(strlen(e.hint) > 0);
    assert_int_equal(env.n, 0);
}

static void test_plain_forms(void **state)
{
    (void)state;
    check_value("A=1\n", "A", "1");
    check_value("export A=1\n", "A", "1");
    check_value("  A = spaced value  \n", "A", "spaced value");
    check_value("A=\n", "A", "");
    check_value("A=x=y=z\n", "A", "x=y=z");
    check_value("A=1", "A", "1"); /* no final newline */
    check_value("export_A=2\n", "export_A", "2");
}

static void test_comments_and_blanks(void **state)
{
    struct dotenv env;

    (void)state;
    env = parse_ok("# comment\n\n   \n\t# indented comment\nA=1\n");
    assert_int_equal(env.n, 1);
    dotenv_free(&env);
    check_value("A=value # trailing comment\n", "A", "value");
    check_value("A=pass#word\n", "A", "pass#word");
    check_value("A='quoted # not a comment' # comment\n", "A", "quoted # not a comment");
}

static void test_quotes(void **state)
{
    (void)state;
    check_value("A='lit\\n$HOME'\n", "A", "lit\\n$HOME");
    check_value("A=\"a\\nb\"\n", "A", "a\nb");
    check_value("A=\"say \\\"hi\\\"\"\n", "A", "say \"hi\"");
    check_value("A=\"back\\\\slash\"\n", "A", "back\\slash");
    check_value("A=\"line1\nline2\"\nB=2\n", "A", "line1\nline2");
    check_value("A=\"line1\nline2\"\nB=2\n", "B", "2");
    check_value("A=\"\"\n", "A", "");
}

static void test_crlf_and_bom(void **state)
{
    (void)state;
    check_value("A=1\r\nB=two\r\n", "B", "two");
    check_value("A=\"q\"\r\n", "A", "q");
    check_value("\xEF\xBB\xBF"
                "A=1\n",
                "A", "1");
}

static void test_last_wins(void **state)
{
    (void)state;
    check_value("A=1\nA=2\n", "A", "2");
}

static void test_errors_name_file_and_line(void **state)
{
    (void)state;
    check_error("A=1\nthis is not valid\n", "syntax error in env file \"t.env:2\"",
                "expected \"=\" after the variable name");
    check_error("A=1\n\n=nokey\n", "syntax error in env file \"t.env:3\"",
                "expected a variable name");
    check_error("A='open\nB=2\n", "syntax error in env file \"t.env:1\"",
                "unterminated single-quoted value");
    check_error("X=1\nA=\"open\n", "syntax error in env file \"t.env:2\"",
                "unterminated double-quoted value");
    check_error("A=\"v\" junk\n", "syntax error in env file \"t.env:1\"",
                "unexpected text after the closing quote");
}

static void test_error_does_not_echo_secret(void **state)
{
    struct dotenv env;
    struct dbssl_error e;
    const char *text = "DATABASE_URL postgresql://u:hunter2@h/db\n";

    (void)state;
    dbssl_error_clear(&e);
    assert_int_equal(dotenv_parse(text, strlen(text), "t.env", &env, &e), -1);
    assert_null(strstr(e.message, "hunter2"));
    assert_null(strstr(e.hint, "hunter2"));
}

/* ---- notes: what parses but looks wrong --------------------------------------- */

static void test_nul_in_value_is_noted(void **state)
{
    static const char text[] = "A=ok\nB=before\0after\nC='q\0uoted'\n";
    struct dotenv env;
    struct dbssl_error e;

    (void)state;
    dbssl_error_clear(&e);
    assert_int_equal(dotenv_parse(text, sizeof(text) - 1, "t.env", &env, &e), 0);
    assert_string_equal(dotenv_get(&env, "B"), "before");
    assert_int_equal(env.n_notes, 2);
    assert_int_equal(env.notes[0].kind, DOTENV_NOTE_NUL);
    assert_string_equal(env.notes[0].key, "B");
    assert_int_equal(env.notes[0].line, 2);
    assert_int_equal(env.notes[1].kind, DOTENV_NOTE_NUL);
    assert_string_equal(env.notes[1].key, "C");
    assert_int_equal(env.notes[1].line, 3);
    dotenv_free(&env);
}

static void test_duplicates_are_noted(void **state)
{
    struct dotenv env = parse_ok("A=1\nB=x\n\nA=2\nA=3\n");

    (void)state;
    assert_string_equal(dotenv_get(&env, "A"), "3");
    assert_int_equal(env.n_notes, 2);
    /* each repeat names the line it overrides */
    assert_int_equal(env.notes[0].kind, DOTENV_NOTE_DUPLICATE);
    assert_int_equal(env.notes[0].line, 4);
    assert_int_equal(env.notes[0].other_line, 1);
    assert_int_equal(env.notes[1].line, 5);
    assert_int_equal(env.notes[1].other_line, 4);
    dotenv_free(&env);
}

/* parse, expand with envp, and return key's value (the env is freed by the caller) */
static const char *expanded(struct dotenv *env, const char *text, const char *const *envp,
                            const char *key)
{
    *env = parse_ok(text);
    assert_int_equal(dotenv_expand(env, envp), 0);
    return dotenv_get(env, key);
}

static void test_expansion_as_python_dotenv(void **state)
{
    static const char *const envp[] = {"HOME=/home/app", "BASE=/from-env", NULL};
    static const struct {
        const char *text, *key, *want;
    } cases[] = {
        {"A=${HOME}/x\n", "A", "/home/app/x"},
        {"PW=s3cret\nURL=postgresql://app:${PW}@h/db\n", "URL", "postgresql://app:s3cret@h/db"},
        /* the environment wins over the file, as with load_dotenv(override=False) */
        {"BASE=/from-file\nA=${BASE}\n", "A", "/from-env"},
        {"A=${NOPE:-fallback}\n", "A", "fallback"},
        {"A=${NOPE:-}\n", "A", ""},
        {"A=x${NOPE}y\n", "A", "xy"},
        /* single and double quotes alike, as python-dotenv does */
        {"A='${HOME}'\nB=\"${HOME}\"\n", "A", "/home/app"},
        {"A='${HOME}'\nB=\"${HOME}\"\n", "B", "/home/app"},
        /* a reference sees lines above only, and the expanded value */
        {"A=1\nB=${A}2\nC=${B}3\n", "C", "123"},
        {"B=${A}\nA=1\n", "B", ""},
        /* not references: kept as written */
        {"A=$HOME\n", "A", "$HOME"},
        {"A=${HOME\n", "A", "${HOME"},
        {"A=${HOME:x}\n", "A", "${HOME:x}"},
        {"A=$${HOME}\n", "A", "$/home/app"},
        {"A=pa$$word\n", "A", "pa$$word"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dotenv env;
        const char *got = expanded(&env, cases[i].text, envp, cases[i].key);
        if (got == NULL || strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: %s=\"%s\", want \"%s\"", i, cases[i].key, got ? got : "(none)",
                     cases[i].want);
        dotenv_free(&env);
    }
}

static void test_unset_reference_is_noted(void **state)
{
    struct dotenv env;

    (void)state;
    assert_string_equal(expanded(&env, "A=1\nB=x${NOPE}y${LATER}\nLATER=2\n", NULL, "B"), "xy");
    assert_int_equal(env.n_notes, 2);
    assert_int_equal(env.notes[0].kind, DOTENV_NOTE_UNSET_REF);
    assert_string_equal(env.notes[0].key, "B");
    assert_string_equal(env.notes[0].name, "NOPE");
    assert_int_equal(env.notes[0].line, 2);
    assert_int_equal(env.notes[0].other_line, 0);
    assert_string_equal(env.notes[1].name, "LATER");
    assert_int_equal(env.notes[1].other_line, 3);
    dotenv_free(&env);
    /* a default or a value: nothing to say */
    expanded(&env, "A=${NOPE:-d}\nB=${A}\n", NULL, "B");
    assert_int_equal(env.n_notes, 0);
    dotenv_free(&env);
}

static void test_missing_file(void **state)
{
    struct dotenv env;
    struct dbssl_error e;

    (void)state;
    dbssl_error_clear(&e);
    assert_int_equal(dotenv_load("/nonexistent/dir/.env", &env, &e), -1);
    assert_string_equal(e.message, "env file \"/nonexistent/dir/.env\" does not exist");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_forms),
        cmocka_unit_test(test_comments_and_blanks),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_crlf_and_bom),
        cmocka_unit_test(test_last_wins),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_error_does_not_echo_secret),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_nul_in_value_is_noted),
        cmocka_unit_test(test_duplicates_are_noted),
        cmocka_unit_test(test_expansion_as_python_dotenv),
        cmocka_unit_test(test_unset_reference_is_noted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
