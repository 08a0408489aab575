/*
 * log.c - the logger: the one piece of global state besides the signal
 * flags and the health board.  A mutex keeps concurrent lines whole.
 */
#include "log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "jsonutil.h"
#include "util.h"

#define MAX_KV 32

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static enum dbssl_log_format log_format = DBSSL_LOG_TEXT;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void dbssl_log_set_format(enum dbssl_log_format format)
{
    pthread_mutex_lock(&log_mu);
    log_format = format;
    pthread_mutex_unlock(&log_mu);
}

/* logfmt quoting: bare when the value has no space, quote, '=' or control */
static void append_value(struct strbuf *sb, const char *v)
{
    bool bare = v[0] != '\0';

    for (const char *p = v; *p && bare; p++)
        if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p < 0x20)
            bare = false;
    if (bare) {
        strbuf_append(sb, v);
        return;
    }
    strbuf_append_c(sb, '"');
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            strbuf_append_c(sb, '\\');
        strbuf_append_c(sb, (unsigned char)*p < 0x20 ? ' ' : *p);
    }
    strbuf_append_c(sb, '"');
}

char *dbssl_log_format_line(enum dbssl_log_format format, long long ts, enum dbssl_log_level level,
                            const char *event, const char *const *kv, size_t n_kv)
{
    char tbuf[32];
    struct strbuf sb;

    format_rfc3339(ts, tbuf, sizeof(tbuf));
    if (format == DBSSL_LOG_JSON) {
        json_t *o =
            json_pack("{s:s, s:s, s:s}", "ts", tbuf, "level", level_names[level], "event", event);
        char *s, *line;
        for (size_t i = 0; o && i + 1 < n_kv; i += 2)
            if (kv[i + 1] && kv[i + 1][0])
                json_object_set_new(o, kv[i], dbssl_json_str(kv[i + 1]));
        s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        line = s ? xasprintf("%s\n", s) : NULL;
        free(s);
        return line;
    }
    strbuf_init(&sb);
    strbuf_printf(&sb, "ts=%s level=%s event=", tbuf, level_names[level]);
    append_value(&sb, event);
    for (size_t i = 0; i + 1 < n_kv; i += 2) {
        if (kv[i + 1] == NULL || kv[i + 1][0] == '\0')
            continue;
        strbuf_printf(&sb, " %s=", kv[i]);
        append_value(&sb, kv[i + 1]);
    }
    strbuf_append_c(&sb, '\n');
    return strbuf_take(&sb);
}

void dbssl_log(enum dbssl_log_level level, const char *event, ...)
{
    const char *kv[MAX_KV];
    size_t n = 0;
    va_list ap;
    char *line;

    va_start(ap, event);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (k == NULL || n + 2 > MAX_KV)
            break;
        kv[n++] = k;
        kv[n++] = va_arg(ap, const char *);
    }
    va_end(ap);
    pthread_mutex_lock(&log_mu);
    line = dbssl_log_format_line(log_format, dbssl_now(), level, event, kv, n);
    if (line != NULL)
        fputs(line, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_mu);
    free(line);
}
