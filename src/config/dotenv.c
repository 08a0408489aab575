/*
 * dotenv.c - parser for .env files.
 *
 * Written by hand: Debian has no maintained C dotenv library, and the syntax
 * is small.  The parser walks the whole text rather than splitting lines so
 * that quoted values may span lines, as in python-dotenv.
 */
#include "dotenv.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct cursor {
    const char *p;
    const char *end;
    int line;
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_key_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_key_char(char c)
{
    return is_key_start(c) || (c >= '0' && c <= '9') || c == '.';
}

static void skip_blanks(struct cursor *c)
{
    while (c->p < c->end && is_blank(*c->p))
        c->p++;
}

/* Skips to just past the end of the current line. */
static void skip_line(struct cursor *c)
{
    while (c->p < c->end && *c->p != '\n')
        c->p++;
    if (c->p < c->end) {
        c->p++;
        c->line++;
    }
}

/* True at end of line or a comment, after optional blanks; consumes them. */
static bool at_line_end(struct cursor *c)
{
    skip_blanks(c);
    if (c->p >= c->end || *c->p == '\n' || *c->p == '#') {
        skip_line(c);
        return true;
    }
    return false;
}

static int syntax_error(struct dbssl_error *err, const char *filename, int line, const char *what)
{
    dbssl_error_setx(err, DBSSL_ERR_CONFIG, what,
                     "Each line must be KEY=VALUE, export KEY=VALUE, a # comment or blank; quote "
                     "values that contain spaces or # with single or double quotes.",
                     "syntax error in env file \"%s:%d\"", filename, line);
    return -1;
}

static int add_entry(struct dotenv *env, char *key, char *value, int line)
{
    struct dotenv_entry *n = realloc(env->entries, (env->n + 1) * sizeof(*n));

    if (n == NULL)
        return -1;
    env->entries = n;
    n[env->n].key = key;
    n[env->n].value = value;
    n[env->n].line = line;
    env->n++;
    return 0;
}

static int add_note(struct dotenv *env, enum dotenv_note_kind kind, int line, int other_line,
                    const char *key, const char *name, size_t name_len)
{
    struct dotenv_note *n = realloc(env->notes, (env->n_notes + 1) * sizeof(*n));

    if (n == NULL)
        return -1;
    env->notes = n;
    n += env->n_notes;
    n->kind = kind;
    n->line = line;
    n->other_line = other_line;
    n->key = xstrdup(key);
    n->name = name ? strndup(name, name_len) : NULL;
    if (n->key == NULL || (name != NULL && n->name == NULL)) {
        free(n->key);
        free(n->name);
        return -1;
    }
    env->n_notes++;
    return 0;
}

/* Notes what is odd about the entry just added: a NUL in its value, a key set before. */
static int note_entry(struct dotenv *env, bool has_nul)
{
    const struct dotenv_entry *e = &env->entries[env->n - 1];

    if (has_nul && add_note(env, DOTENV_NOTE_NUL, e->line, 0, e->key, NULL, 0) != 0)
        return -1;
    for (size_t i = env->n - 1; i > 0; i--)
        if (strcmp(env->entries[i - 1].key, e->key) == 0)
            return add_note(env, DOTENV_NOTE_DUPLICATE, e->line, env->entries[i - 1].line, e->key,
                            NULL, 0);
    return 0;
}

/* *has_nul: the value held a NUL byte, where it now ends (a C string cannot hold one). */
static char *parse_value(struct cursor *c, const char *filename, bool *has_nul,
                         struct dbssl_error *err)
{
    struct strbuf sb;
    int start_line = c->line;

    strbuf_init(&sb);
    if (c->p < c->end && (*c->p == '\'' || *c->p == '"')) {
        char q = *c->p++;
        bool closed = false;

        while (c->p < c->end) {
            char ch = *c->p++;
            if (ch == q) {
                closed = true;
                break;
            }
            if (ch == '\n')
                c->line++;
            if (ch == '\\' && q == '"' && c->p < c->end) {
                char e = *c->p++;
                switch (e) {
                case 'n':
                    strbuf_append_c(&sb, '\n');
                    break;
                case 'r':
                    strbuf_append_c(&sb, '\r');
                    break;
                case 't':
                    strbuf_append_c(&sb, '\t');
                    break;
                case '"':
                case '\\':
                    strbuf_append_c(&sb, e);
                    break;
                default:
                    /* unknown escapes stay as written, like python-dotenv */
                    strbuf_append_c(&sb, '\\');
                    strbuf_append_c(&sb, e);
                    if (e == '\n')
                        c->line++;
                    break;
                }
                continue;
            }
            strbuf_append_c(&sb, ch);
        }
        if (!closed) {
            strbuf_free(&sb);
            syntax_error(err, filename, start_line,
                         q == '"' ? "unterminated double-quoted value"
                                  : "unterminated single-quoted value");
            return NULL;
        }
        if (!at_line_end(c)) {
            strbuf_free(&sb);
            syntax_error(err, filename, c->line, "unexpected text after the closing quote");
            return NULL;
        }
    } else {
        const char *s = c->p;
        const char *e;

        while (c->p < c->end && *c->p != '\n') {
            /* " #" starts a comment; a # inside a word (pass#1) does not */
            if (*c->p == '#' && c->p > s && is_blank(c->p[-1]))
                break;
            c->p++;
        }
        e = c->p;
        while (e > s && is_blank(e[-1]))
            e--;
        strbuf_append_n(&sb, s, (size_t)(e - s));
        skip_line(c);
    }
    if (sb.data == NULL)
        strbuf_append(&sb, "");
    *has_nul = sb.data != NULL && memchr(sb.data, '\0', sb.len) != NULL;
    if (sb.oom) {
        strbuf_free(&sb);
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    return strbuf_take(&sb);
}

static void dotenv_init(struct dotenv *env)
{
    env->entries = NULL;
    env->n = 0;
    env->notes = NULL;
    env->n_notes = 0;
}

int dotenv_parse(const char *text, size_t len, const char *filename, struct dotenv *out,
                 struct dbssl_error *err)
{
    struct cursor c = {text, text + len, 1};

    dotenv_init(out);

    /* a UTF-8 byte order mark from some editors is not part of the first key */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        c.p += 3;

    while (c.p < c.end) {
        const char *ks;
        char *key = NULL, *value = NULL;
        bool has_nul = false;
        int line;

        skip_blanks(&c);
        if (c.p >= c.end)
            break;
        if (*c.p == '\n' || *c.p == '#') {
            skip_line(&c);
            continue;
        }
        line = c.line;
        if ((size_t)(c.end - c.p) > 7 && memcmp(c.p, "export", 6) == 0 && is_blank(c.p[6])) {
            c.p += 6;
            skip_blanks(&c);
        }
        ks = c.p;
        if (c.p >= c.end || !is_key_start(*c.p)) {
            syntax_error(err, filename, line, "expected a variable name");
            dotenv_free(out);
            return -1;
        }
        while (c.p < c.end && is_key_char(*c.p))
            c.p++;
        key = strndup(ks, (size_t)(c.p - ks));
        skip_blanks(&c);
        if (c.p >= c.end || *c.p != '=') {
            free(key);
            syntax_error(err, filename, line, "expected \"=\" after the variable name");
            dotenv_free(out);
            return -1;
        }
        c.p++;
        skip_blanks(&c);
        value = parse_value(&c, filename, &has_nul, err);
        if (key == NULL || value == NULL || add_entry(out, key, value, line) != 0) {
            if (key != NULL && value != NULL)
                dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
            free(key);
            free(value);
            dotenv_free(out);
            return -1;
        }
        if (note_entry(out, has_nul) != 0) {
            dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
            dotenv_free(out);
            return -1;
        }
    }
    return 0;
}

/* ---- ${NAME} references ------------------------------------------------------------ */

static const char *env_get(const char *const *envp, const char *name, size_t n)
{
    for (; envp != NULL && *envp != NULL; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

/* The value of name for entry i: the environment, else the last entry above i. */
static const char *lookup(const struct dotenv *env, size_t i, const char *const *envp,
                          const char *name, size_t n)
{
    const char *v = env_get(envp, name, n);

    while (v == NULL && i > 0) {
        i--;
        if (strlen(env->entries[i].key) == n && strncmp(env->entries[i].key, name, n) == 0)
            v = env->entries[i].value;
    }
    return v;
}

/* The line of the first entry below i that sets name, or 0. */
static int set_below(const struct dotenv *env, size_t i, const char *name, size_t n)
{
    for (size_t k = i + 1; k < env->n; k++)
        if (strlen(env->entries[k].key) == n && strncmp(env->entries[k].key, name, n) == 0)
            return env->entries[k].line;
    return 0;
}

/*
 * Expands entry i's value into sb.  The grammar is python-dotenv's
 * ${NAME} or ${NAME:-DEFAULT}, NAME without "}" or ":", DEFAULT without "}";
 * anything else is kept as written.
 */
static int expand_value(struct dotenv *env, size_t i, const char *const *envp, struct strbuf *sb)
{
    const char *p = env->entries[i].value;

    while (*p) {
        const char *name, *end, *def = NULL, *v;
        size_t n;

        if (p[0] != '$' || p[1] != '{') {
            strbuf_append_c(sb, *p++);
            continue;
        }
        name = p + 2;
        n = strcspn(name, "}:");
        end = name + n;
        if (*end == ':' && end[1] == '-') {
            def = end + 2;
            end = def + strcspn(def, "}");
        }
        if (*end != '}') {
            strbuf_append_c(sb, *p++); /* not a reference: "$" as written */
            continue;
        }
        v = lookup(env, i, envp, name, n);
        if (v != NULL)
            strbuf_append(sb, v);
        else if (def != NULL)
            strbuf_append_n(sb, def, (size_t)(end - def));
        else if (add_note(env, DOTENV_NOTE_UNSET_REF, env->entries[i].line,
                          set_below(env, i, name, n), env->entries[i].key, name, n) != 0)
            return -1;
        p = end + 1;
    }
    return 0;
}

int dotenv_expand(struct dotenv *env, const char *const *envp)
{
    for (size_t i = 0; i < env->n; i++) {
        struct strbuf sb;

        if (strstr(env->entries[i].value, "${") == NULL)
            continue;
        strbuf_init(&sb);
        strbuf_append(&sb, "");
        if (expand_value(env, i, envp, &sb) != 0) {
            strbuf_free(&sb);
            return -1;
        }
        if (sb.oom) {
            strbuf_free(&sb);
            return -1;
        }
        free(env->entries[i].value);
        env->entries[i].value = strbuf_take(&sb);
    }
    return 0;
}

int dotenv_load(const char *path, struct dotenv *out, struct dbssl_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int ret;

    dotenv_init(out);
    /* read_file(): a regular file only, so a FIFO swapped in for .env is an
     * error at once instead of a reload (and shutdown) waiting for a writer */
    if (read_file(path, "env file", CONFIG_FILE_MAX, &text, &len, err) != 0)
        return -1;
    ret = dotenv_parse(text, len, path, out, err);
    free(text);
    return ret;
}

const char *dotenv_get(const struct dotenv *env, const char *key)
{
    for (size_t i = env->n; i > 0; i--)
        if (strcmp(env->entries[i - 1].key, key) == 0)
            return env->entries[i - 1].value;
    return NULL;
}

void dotenv_free(struct dotenv *env)
{
    if (env == NULL)
        return;
    for (size_t i = 0; i < env->n; i++) {
        free(env->entries[i].key);
        free(env->entries[i].value);
    }
    free(env->entries);
    dotenv_notes_free(env->notes, env->n_notes);
    dotenv_init(env);
}

void dotenv_notes_free(struct dotenv_note *notes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(notes[i].key);
        free(notes[i].name);
    }
    free(notes);
}
