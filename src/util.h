/*
 * util.h - small helpers every module needs: a growable string buffer,
 * bounded string handling and whole-file reads.  No dependencies beyond libc.
 */
#ifndef DBSSL_UTIL_H
#define DBSSL_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error_int.h"

/* Growable NUL-terminated buffer.  A failed append marks it broken (oom). */
struct strbuf {
    char *data;
    size_t len;
    size_t cap;
    bool oom;
};

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_append(struct strbuf *sb, const char *s);
void strbuf_append_n(struct strbuf *sb, const char *s, size_t n);
void strbuf_append_c(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) DBSSL_PRINTF(2, 3);
/* Hands the buffer to the caller (never NULL unless oom); sb is reset. */
char *strbuf_take(struct strbuf *sb);

/* strdup that accepts NULL. */
char *xstrdup(const char *s);
/* Allocating printf; NULL on out-of-memory. */
char *xasprintf(const char *fmt, ...) DBSSL_PRINTF(1, 2);

/* Case-insensitive ASCII equality. */
bool str_ieq(const char *a, const char *b);

/* The value of one hexadecimal digit, or -1 (for %XX decoding). */
int hex_digit(char c);

/*
 * Parses a whole decimal integer in [min, max].  Returns false on anything
 * else (empty, trailing junk, overflow, out of range).
 */
bool parse_long(const char *s, long min, long max, long *out);

/*
 * Reads a whole file (at most max bytes) into a NUL-terminated buffer.
 * On failure sets err (DBSSL_ERR_IO) with what, e.g. "certificate file",
 * naming the file; returns -1.
 */
int read_file(const char *path, const char *what, size_t max, char **out, size_t *len,
              struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Writes "dir/name" into out; false when it does not fit. */
bool path_join(char *out, size_t len, const char *dir, const char *name);

/*
 * Creates path, which must not exist, with exactly mode given to open()
 * itself (so a key is never readable by others, not even for a moment),
 * owned by uid:gid unless uid is (uid_t)-1, writes data and fsyncs.
 */
int write_file_new(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
                   gid_t gid, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Replaces path atomically: write_file_new() on "path.tmp", then rename(). */
int write_file_replace(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
                       gid_t gid, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* rm -rf path (symlinks are removed, not followed); missing path is fine. */
void remove_tree(const char *path);

/* Seconds since the epoch. */
long long now_epoch(void);

/* Formats t as RFC 3339 UTC ("2026-11-27T21:00:00Z") into buf (>= 21 bytes). */
void format_rfc3339(long long t, char *buf, size_t len);

#endif
