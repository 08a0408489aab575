/*
 * log.h - one line per event on stderr, as key=value text or JSON lines.
 *
 * Callers name an event and pass key/value string pairs; the format is
 * chosen once (LOG_FORMAT), so adding a format never touches a call site.
 * Values must never hold secrets: pass libpq messages through
 * dbssl_config_redact() first.  A helper below the settings: the settings
 * parse LOG_FORMAT into its enum, the logger knows nothing of them.
 */
#ifndef DBSSL_LOG_H
#define DBSSL_LOG_H

#include <stddef.h>

/* LOG_FORMAT's values, in the order of its choices in the option table (options.c). */
enum dbssl_log_format {
    DBSSL_LOG_TEXT = 0,
    DBSSL_LOG_JSON,
};

enum dbssl_log_level {
    DBSSL_LOG_DEBUG = 0,
    DBSSL_LOG_INFO,
    DBSSL_LOG_WARN,
    DBSSL_LOG_ERROR,
};

void dbssl_log_set_format(enum dbssl_log_format format);

/*
 * Writes "ts=... level=... event=EVENT key=value ..." (or the JSON object)
 * as one line.  The variable arguments are const char * pairs ending with
 * NULL; a NULL or empty value is left out.
 */
void dbssl_log(enum dbssl_log_level level, const char *event, ...);

/* The same line as dbssl_log() would write, for tests.  Caller frees. */
char *dbssl_log_format_line(enum dbssl_log_format format, long long ts, enum dbssl_log_level level,
                            const char *event, const char *const *kv, size_t n_kv);

#endif
