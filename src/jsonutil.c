/*
 * jsonutil.c - see jsonutil.h.
 */
#include "jsonutil.h"

#include <float.h>
#include <stdbool.h>
#include <stdlib.h>

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

char *dbssl_json_dumps(const json_t *j, size_t flags)
{
    return json_dumps(j, flags | JSON_REAL_PRECISION(DBL_DIG));
}
