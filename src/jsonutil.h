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

#endif
