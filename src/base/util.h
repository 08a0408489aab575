/*
 * util.h - small helpers every module needs: a growable string buffer,
 * bounded string handling and whole-file reads.  No dependencies beyond libc.
 */
#ifndef DBSSL_UTIL_H
#define DBSSL_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
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
/* s[0..len) %-encoded as a URI component (RFC 3986's unreserved characters and those in
 * keep stay as they are): the one encoder of the URLs dbssl writes. */
void strbuf_append_pct(struct strbuf *sb, const char *s, size_t len, const char *keep);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) DBSSL_PRINTF(2, 3);
/*
 * Appends s as HTML (and XML) text, safe in element content and in quoted
 * attribute values: the markup characters & < > " ' as numeric references,
 * control bytes other than newline and tab as spaces.  The one escaper of
 * the HTML pages (the audit report, the probe overview, the status page).
 */
void strbuf_append_html(struct strbuf *sb, const char *s);
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
bool parse_long(const char *s, long min, long max, long *out) DBSSL_MUSTCHECK;

/*
 * libpq's comma lists (host, hostaddr, port): list_count() is 0 for NULL or
 * "", else one more than the commas (an empty item counts); list_item()
 * gives item i's start and length, NULL when there is no item i.  The one
 * reading of such a list.
 */
size_t list_count(const char *list);
const char *list_item(const char *list, size_t i, size_t *len);

/* Whether a libpq host item (len bytes) names a Unix-domain socket: empty (the
 * default socket), a directory, or an abstract socket ("@name"). */
bool host_is_socket(const char *h, size_t len);

/* "host:port", "[v6]:port" for an IPv6 literal, or "host" when port is NULL or "". */
void format_host_port(char *buf, size_t len, const char *host, const char *port);

/* The longest host of a listen address (a name or an address, without brackets). */
#define LISTEN_HOST_MAX 256

enum listen_form {
    LISTEN_OK = 0,
    LISTEN_NO_PORT,      /* no ":PORT", or nothing before it */
    LISTEN_UNTERMINATED, /* "[" without "]" before the port */
    LISTEN_BARE_V6,      /* an IPv6 address without brackets */
    LISTEN_EMPTY_HOST,   /* "[]:PORT" */
    LISTEN_LONG_HOST,    /* LISTEN_HOST_MAX or longer */
    LISTEN_BAD_PORT,     /* a port that is not 1 to 65535 */
};

/*
 * HOST:PORT or [IPv6]:PORT, as HTTP_LISTEN and --listen take it: the host
 * without its brackets into host (LISTEN_HOST_MAX bytes) and the port into
 * *port.  The one reading of a listen address, for validation and for the
 * server that binds it.
 */
enum listen_form parse_listen(const char *value, char host[LISTEN_HOST_MAX], long *port);

/*
 * The largest certificate, key, CRL or .env file dbssl reads: far above any
 * real one (a CA bundle of a few hundred certificates), small enough that a
 * wrong path (a log, a disk image) fails at once instead of filling memory.
 */
#define CONFIG_FILE_MAX (4 * 1024 * 1024)

/*
 * The one size of a buffer that holds a path: any path the kernel takes
 * (PATH_MAX, NUL included) with room to join a file name or a suffix to it
 * ("/.pending/server.key.tmp").  A longer one is still refused where it is
 * made (snprintf's result, path_join).
 */
#define PATH_BUF (PATH_MAX + 256)

/* A line of text quoting up to two paths: a message, a hint, a label. */
#define PATH_TEXT_BUF (2 * PATH_BUF + 512)

/* "[host]:port" as text: a DNS name (at most 255 bytes) and a port. */
#define ADDR_BUF 300

/*
 * Where a file is: name relative to dir (AT_FDCWD: the working directory, or
 * an absolute name), shown in messages as shown (NULL: name).
 */
struct file_at {
    int dir;
    const char *name;
    const char *shown;
    unsigned flags; /* FILE_AT_NOFOLLOW */
};

/*
 * The last component must not be a symlink: files inside a generated set.
 * Paths a user gives may be symlinks (Kubernetes secrets are), so readers
 * follow them unless told otherwise.
 */
#define FILE_AT_NOFOLLOW 0x1u

/* A file given by path, as struct file_at. */
#define FILE_AT_PATH(path) ((struct file_at){AT_FDCWD, (path), NULL, 0})

/*
 * Reads a whole file (at most max bytes) into a NUL-terminated buffer.
 * Only a regular file is read: it is opened without blocking (a FIFO would
 * otherwise wait for a writer for ever) and its type and size are checked
 * with fstat() on that descriptor before anything is read, so a FIFO,
 * socket, device or directory is an error at once.  st, when not NULL,
 * gets that fstat(), for checks that must see the very file read
 * (permissions).  On failure sets err with what, e.g. "certificate file",
 * naming the file: DBSSL_ERR_CONFIG when it is not a regular file (a setting
 * names the wrong thing), else DBSSL_ERR_IO; returns -1.
 */
int read_file_at(const struct file_at *f, const char *what, size_t max, char **out, size_t *len,
                 struct stat *st, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* read_file_at() of a path. */
int read_file(const char *path, const char *what, size_t max, char **out, size_t *len,
              struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * libpq's rule for a private key file, and so for anything that unlocks one
 * (its passphrase): no access for group or others, except that a file owned
 * by root may be read by its group (0640), how services share system keys.
 */
bool secret_file_mode_ok(const struct stat *st);

/* Writes "dir/name" into out; false when it does not fit. */
bool path_join(char *out, size_t len, const char *dir, const char *name) DBSSL_MUSTCHECK;

/*
 * Creates f, which must not exist (O_EXCL, never through a symlink), with
 * exactly mode given to open() itself (so a key is never readable by others,
 * not even for a moment), owned by uid:gid unless uid is (uid_t)-1, writes
 * data and fsyncs.
 */
int write_file_at(const struct file_at *f, const void *data, size_t len, mode_t mode, uid_t uid,
                  gid_t gid, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* write_file_at() of a path. */
int write_file_new(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
                   gid_t gid, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Replaces path atomically: write_file_new() on "path.tmp", then rename(). */
int write_file_replace(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
                       gid_t gid, struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * rm -rf of name relative to the directory descriptor dir (AT_FDCWD: a
 * path).  Works by descriptors all the way down (openat O_NOFOLLOW,
 * unlinkat): a symlink is removed, never followed, and a directory renamed
 * or replaced by a symlink meanwhile cannot redirect the removal outside the
 * tree.  A missing name is fine (0); -1 when something could not be removed.
 */
int remove_tree_at(int dir, const char *name) DBSSL_MUSTCHECK;

/* remove_tree_at() of a path, ignoring failures. */
void remove_tree(const char *path);

/* The one seconds-per-day constant (certificate lifetimes, expiry windows). */
#define SECONDS_PER_DAY 86400LL

/* Formats t as RFC 3339 UTC ("2026-11-27T21:00:00Z") into buf (>= 21 bytes). */
void format_rfc3339(long long t, char *buf, size_t len);
/* Reads what format_rfc3339() writes; false on anything else. */
bool parse_rfc3339(const char *s, long long *out) DBSSL_MUSTCHECK;

/* The CPUs this process may run on (a cpuset or taskset may allow fewer than
 * the machine has); at least 1. */
long usable_cpus(void);

#endif
