/*
 * jsonutil.c - see jsonutil.h.
 */
#include "jsonutil.h"

#include <float.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Length of the valid UTF-8 sequence at p, or 0. */
static size_t utf8_len(const unsigned char *p)
{
    size_t n;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        n = 2;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        n = 3;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        n = 4;
    else
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

static char *escape_invalid(const char *s, bool all_high)
{
    struct strbuf sb;
    const unsigned char *p = (const unsigned char *)s;

    strbuf_init(&sb);
    strbuf_append(&sb, "");
    while (*p) {
        size_t n = all_high && *p >= 0x80 ? 0 : utf8_len(p);
        if (n == 0) {
            strbuf_printf(&sb, "\\x%02X", *p);
            p++;
        } else {
            strbuf_append_n(&sb, (const char *)p, n);
            p += n;
        }
    }
    return strbuf_take(&sb);
}

json_t *dbssl_json_str(const char *s)
{
    json_t *j;
    char *clean;

    if (s == NULL)
        return json_null();
    if ((j = json_string(s)) != NULL)
        return j;
    /* overlong forms and surrogates pass utf8_len: then escape every high byte */
    clean = escape_invalid(s, false);
    j = clean ? json_string(clean) : NULL;
    free(clean);
    if (j == NULL) {
        clean = escape_invalid(s, true);
        j = clean ? json_string(clean) : NULL;
        free(clean);
    }
    return j ? j : json_string("");
}

json_t *dbssl_json_ms(double ms)
{
    double us = ms * 1000.0;

    return json_real((double)(long long)(us < 0 ? us - 0.5 : us + 0.5) / 1000.0);
}

json_t *dbssl_json_time(long long t)
{
    char buf[32];

    if (t == 0)
        return json_null();
    format_rfc3339(t, buf, sizeof(buf));
    return json_string(buf);
}

char *dbssl_json_dumps(const json_t *j, size_t flags)
{
    return json_dumps(j, flags | JSON_REAL_PRECISION(DBL_DIG));
}

/* ---- field tables ----------------------------------------------------------------------- */

#define AT(obj, off, T)   ((T *)(void *)((char *)(obj) + (off)))
#define AT_C(obj, off, T) ((const T *)(const void *)((const char *)(obj) + (off)))

static json_t *field_to_json(const struct dbssl_jf *f, const void *obj)
{
    char buf[32];

    switch (f->kind) {
    case DBSSL_JF_STR: {
        const char *s = AT_C(obj, f->off, char);
        if ((f->flags & DBSSL_JF_NULLABLE) && s[0] == '\0')
            return json_null();
        return dbssl_json_str(s);
    }
    case DBSSL_JF_INT:
        return json_integer(*AT_C(obj, f->off, int));
    case DBSSL_JF_LLONG:
        return json_integer((json_int_t)*AT_C(obj, f->off, long long));
    case DBSSL_JF_BOOL:
        return json_boolean(*AT_C(obj, f->off, bool));
    case DBSSL_JF_TIME:
        return dbssl_json_time(*AT_C(obj, f->off, long long));
    case DBSSL_JF_MODE: {
        unsigned m = *AT_C(obj, f->off, unsigned);
        if ((f->flags & DBSSL_JF_NULLABLE) && m == 0)
            return json_null();
        snprintf(buf, sizeof(buf), "%04o", m & 07777u);
        return json_string(buf);
    }
    case DBSSL_JF_ENUM: {
        const char *const *names = f->aux;
        int v = *AT_C(obj, f->off, int);
        for (int i = 0; names[i] != NULL; i++)
            if (i == v)
                return json_string(names[i]);
        return json_null();
    }
    case DBSSL_JF_ARRAY: {
        const char *base = *AT_C(obj, f->off, char *);
        size_t n = *AT_C(obj, f->count_off, size_t);
        json_t *a = json_array();
        for (size_t i = 0; a != NULL && i < n; i++)
            if (json_array_append_new(a, dbssl_jf_to_json(f->aux, base + i * f->size)) != 0) {
                json_decref(a);
                a = NULL;
            }
        return a;
    }
    case DBSSL_JF_OBJECT:
        return dbssl_jf_to_json(f->aux, AT_C(obj, f->off, char));
    }
    return NULL;
}

json_t *dbssl_jf_to_json(const struct dbssl_jf *table, const void *obj)
{
    json_t *o = json_object();

    for (const struct dbssl_jf *f = table; o != NULL && f->name != NULL; f++) {
        json_t *v = field_to_json(f, obj);
        if (v == NULL || json_object_set_new(o, f->name, v) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

static bool field_from_json(const struct dbssl_jf *f, const json_t *v, void *obj,
                            struct dbssl_error *err, const char *what);

static bool wrong(const struct dbssl_jf *f, const char *what, const char *expected,
                  struct dbssl_error *err)
{
    dbssl_error_set(err, DBSSL_ERR_USAGE, "Give the JSON that dbssl itself writes for it.",
                    "%s: field \"%s\" is %s%s", what, f->name, expected ? "not " : "missing",
                    expected ? expected : "");
    return false;
}

static bool array_from_json(const struct dbssl_jf *f, const json_t *v, void *obj,
                            struct dbssl_error *err, const char *what)
{
    size_t n = json_array_size(v), i;
    char *base;
    const json_t *e;

    if (!json_is_array(v))
        return wrong(f, what, "an array", err);
    if (n == 0)
        return true;
    if ((base = calloc(n, f->size)) == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return false;
    }
    *AT(obj, f->off, char *) = base;
    json_array_foreach(v, i, e)
    {
        *AT(obj, f->count_off, size_t) = i + 1;
        if (dbssl_jf_from_json(f->aux, e, base + i * f->size, what, err) != 0)
            return false;
    }
    return true;
}

static bool field_from_json(const struct dbssl_jf *f, const json_t *v, void *obj,
                            struct dbssl_error *err, const char *what)
{
    switch (f->kind) {
    case DBSSL_JF_STR:
        if (json_is_null(v) && (f->flags & DBSSL_JF_NULLABLE)) {
            AT(obj, f->off, char)[0] = '\0';
            return true;
        }
        if (!json_is_string(v))
            return wrong(f, what, "a string", err);
        snprintf(AT(obj, f->off, char), f->size, "%s", json_string_value(v));
        return true;
    case DBSSL_JF_INT:
    case DBSSL_JF_LLONG:
        if (!json_is_integer(v))
            return wrong(f, what, "an integer", err);
        if (f->kind == DBSSL_JF_INT)
            *AT(obj, f->off, int) = (int)json_integer_value(v);
        else
            *AT(obj, f->off, long long) = (long long)json_integer_value(v);
        return true;
    case DBSSL_JF_BOOL:
        if (!json_is_boolean(v))
            return wrong(f, what, "true or false", err);
        *AT(obj, f->off, bool) = json_is_true(v);
        return true;
    case DBSSL_JF_TIME:
        *AT(obj, f->off, long long) = 0;
        if (json_is_null(v))
            return true;
        if (!json_is_string(v) || !parse_rfc3339(json_string_value(v), AT(obj, f->off, long long)))
            return wrong(f, what, "an RFC 3339 UTC time or null", err);
        return true;
    case DBSSL_JF_MODE: {
        const char *s;
        unsigned m = 0;
        size_t i;
        *AT(obj, f->off, unsigned) = 0;
        if (json_is_null(v) && (f->flags & DBSSL_JF_NULLABLE))
            return true;
        s = json_string_value(v);
        for (i = 0; s != NULL && s[i] >= '0' && s[i] <= '7' && i < 5; i++)
            m = m * 8 + (unsigned)(s[i] - '0');
        if (s == NULL || i == 0 || s[i] != '\0' || m > 07777u)
            return wrong(f, what, "an octal file mode such as \"0600\"", err);
        *AT(obj, f->off, unsigned) = m;
        return true;
    }
    case DBSSL_JF_ENUM: {
        const char *const *names = f->aux;
        if (json_is_string(v))
            for (int i = 0; names[i] != NULL; i++)
                if (strcmp(names[i], json_string_value(v)) == 0) {
                    *AT(obj, f->off, int) = i;
                    return true;
                }
        return wrong(f, what, "one of its names", err);
    }
    case DBSSL_JF_ARRAY:
        return array_from_json(f, v, obj, err, what);
    case DBSSL_JF_OBJECT:
        if (!json_is_object(v))
            return wrong(f, what, "an object", err);
        return dbssl_jf_from_json(f->aux, v, AT(obj, f->off, char), what, err) == 0;
    }
    return wrong(f, what, "known", err);
}

int dbssl_jf_from_json(const struct dbssl_jf *table, const json_t *j, void *obj, const char *what,
                       struct dbssl_error *err)
{
    if (!json_is_object(j)) {
        dbssl_error_set(err, DBSSL_ERR_USAGE, "Give the JSON that dbssl itself writes for it.",
                        "%s: expected a JSON object", what);
        return -1;
    }
    for (const struct dbssl_jf *f = table; f->name != NULL; f++) {
        const json_t *v = json_object_get(j, f->name);
        if (v == NULL) {
            wrong(f, what, NULL, err);
            return -1;
        }
        if (!field_from_json(f, v, obj, err, what))
            return -1;
    }
    return 0;
}

void dbssl_jf_free(const struct dbssl_jf *table, void *obj)
{
    for (const struct dbssl_jf *f = table; f->name != NULL; f++) {
        if (f->kind == DBSSL_JF_OBJECT) {
            dbssl_jf_free(f->aux, AT(obj, f->off, char));
        } else if (f->kind == DBSSL_JF_ARRAY) {
            char *base = *AT(obj, f->off, char *);
            size_t n = *AT(obj, f->count_off, size_t);
            for (size_t i = 0; i < n; i++)
                dbssl_jf_free(f->aux, base + i * f->size);
            free(base);
            *AT(obj, f->off, char *) = NULL;
            *AT(obj, f->count_off, size_t) = 0;
        }
    }
}
