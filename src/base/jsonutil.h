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
#include <stdbool.h>
#include <stddef.h>

#include "error_int.h"

/* A JSON string of s (invalid bytes written as \xNN), or JSON null for NULL s. */
json_t *dbssl_json_str(const char *s);

/* Milliseconds as a JSON number rounded to the microsecond (three decimals). */
json_t *dbssl_json_ms(double ms);

/*
 * Epoch seconds as an RFC 3339 UTC string ("2026-11-27T21:00:00Z"), or JSON
 * null for 0, the one "unknown" of every time dbssl keeps (a date that
 * could not be read, a check that never ran).  A negative t is a date
 * before 1970, which a certificate's notBefore may be: shown, not null.
 * The one form of every time in dbssl's JSON; DBSSL_JF_TIME below is it.
 */
json_t *dbssl_json_time(long long t);

/*
 * json_dumps() that prints a rounded number as rounded: jansson's default
 * %.17g shows 1.303 as 1.3029999999999999; DBL_DIG (15) significant digits
 * print every decimal of up to 15 digits exactly as it was rounded.
 */
char *dbssl_json_dumps(const json_t *j, size_t flags);

/*
 * Plain structs to JSON and back, described by a table of fields, so that
 * the two directions cannot disagree on a name or a type (the audit's
 * evidence, the server's settings and rules).  A table ends with
 * DBSSL_JF_END.  Kinds:
 *   STR    a char array in the struct (truncated when read); "" <-> null with DBSSL_JF_NULLABLE
 *   INT    int; LLONG long long
 *   BOOL   bool
 *   TIME   epoch seconds (long long) as RFC 3339 UTC; 0 <-> null
 *   MODE   a file mode (unsigned) as an octal string such as "0600"; the kind's 0 <-> null
 *          only with DBSSL_JF_NULLABLE
 *   ENUM   an int holding an index into aux, a NULL-terminated array of names
 *   ARRAY  a pointer (at off) to count (size_t at count_off) elements of size bytes,
 *          each described by the table aux; allocated when read, freed by dbssl_jf_free()
 *   OBJECT a struct inside the struct, described by the table aux
 */
enum dbssl_jf_kind {
    DBSSL_JF_STR = 1,
    DBSSL_JF_INT,
    DBSSL_JF_LLONG,
    DBSSL_JF_BOOL,
    DBSSL_JF_TIME,
    DBSSL_JF_MODE,
    DBSSL_JF_ENUM,
    DBSSL_JF_ARRAY,
    DBSSL_JF_OBJECT,
};

#define DBSSL_JF_NULLABLE 0x1u

struct dbssl_jf {
    const char *name; /* NULL ends the table */
    enum dbssl_jf_kind kind;
    size_t off;
    size_t size;      /* STR: the array's bytes; ARRAY: one element's bytes */
    const void *aux;  /* ENUM: names; ARRAY, OBJECT: the element's table */
    size_t count_off; /* ARRAY: where its size_t count is */
    unsigned flags;
};

/* clang-format off */ /* it cannot tell a stringized field name from a directive */
#define DBSSL_JF_MEMBER_SIZE(T, f) sizeof(((T *)0)->f)
#define DBSSL_JF_STR_F(T, f, fl)                                                                   \
    {#f, DBSSL_JF_STR, offsetof(T, f), DBSSL_JF_MEMBER_SIZE(T, f), NULL, 0, (fl)}
#define DBSSL_JF_STR(T, f)  DBSSL_JF_STR_F(T, f, 0)
#define DBSSL_JF_INT(T, f)  {#f, DBSSL_JF_INT, offsetof(T, f), 0, NULL, 0, 0}
#define DBSSL_JF_LLONG(T, f) {#f, DBSSL_JF_LLONG, offsetof(T, f), 0, NULL, 0, 0}
#define DBSSL_JF_BOOL(T, f) {#f, DBSSL_JF_BOOL, offsetof(T, f), 0, NULL, 0, 0}
#define DBSSL_JF_TIME(T, f) {#f, DBSSL_JF_TIME, offsetof(T, f), 0, NULL, 0, 0}
#define DBSSL_JF_MODE(T, f) {#f, DBSSL_JF_MODE, offsetof(T, f), 0, NULL, 0, DBSSL_JF_NULLABLE}
#define DBSSL_JF_ENUM(T, f, names) {#f, DBSSL_JF_ENUM, offsetof(T, f), 0, (names), 0, 0}
#define DBSSL_JF_ARRAY(T, f, n, E, table)                                                          \
    {#f, DBSSL_JF_ARRAY, offsetof(T, f), sizeof(E), (table), offsetof(T, n), 0}
#define DBSSL_JF_OBJECT(T, f, table) {#f, DBSSL_JF_OBJECT, offsetof(T, f), 0, (table), 0, 0}
#define DBSSL_JF_END                 {NULL, 0, 0, 0, NULL, 0, 0}
/* clang-format on */

/* The JSON object of obj (a new reference), fields in table order; NULL on out of memory. */
json_t *dbssl_jf_to_json(const struct dbssl_jf *table, const void *obj);

/*
 * Fills obj (zeroed by the caller) from j.  Every field of the table must
 * be present with its type: a missing or mistyped field fails with err
 * naming it and what (e.g. "audit evidence"), so that data written by hand
 * cannot silently read as false or empty.  Fields of j the table does not
 * name are ignored (computed ones, such as days left).  On failure obj may
 * be partly filled: free it with dbssl_jf_free().
 */
int dbssl_jf_from_json(const struct dbssl_jf *table, const json_t *j, void *obj, const char *what,
                       struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Frees the arrays of obj (recursively) and zeroes their pointers and counts. */
void dbssl_jf_free(const struct dbssl_jf *table, void *obj);

#endif
