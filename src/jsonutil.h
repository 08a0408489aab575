/*
 * jsonutil.h - JSON strings from bytes that are not always UTF-8.
 *
 * Paths, certificate subjects and libpq messages are bytes; jansson refuses
 * invalid UTF-8 (json_string returns NULL) and a NULL added to an object is
 * a field silently lost.  Every string that can come from outside goes
 * through dbssl_json_str().
 */
#ifndef DBSSL_JSONUTIL_H
#define DBSSL_JSONUTIL_H

#include <jansson.h>

/* A JSON string of s (invalid bytes written as \xNN), or JSON null for NULL s. */
json_t *dbssl_json_str(const char *s);

/* Milliseconds as a JSON number rounded to the microsecond (three decimals). */
json_t *dbssl_json_ms(double ms);

/*
 * json_dumps() that prints a rounded number as rounded: jansson's default
 * %.17g shows 1.303 as 1.3029999999999999; DBL_DIG (15) significant digits
 * print every decimal of up to 15 digits exactly as it was rounded.
 */
char *dbssl_json_dumps(const json_t *j, size_t flags);

#endif
