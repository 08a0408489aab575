/*
 * util.c - strbuf, string and file helpers shared by all modules.
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void strbuf_init(struct strbuf *sb)
{
    sb->data = NULL;
    sb->len = 0;
    sb->cap = 0;
    sb->oom = false;
}

void strbuf_free(struct strbuf *sb)
{
    free(sb->data);
    strbuf_init(sb);
}

static bool strbuf_grow(struct strbuf *sb, size_t extra)
{
    size_t need, cap;
    char *p;

    if (sb->oom)
        return false;
    need = sb->len + extra + 1;
    if (need <= sb->cap)
        return true;
    cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap *= 2;
    p = realloc(sb->data, cap);
    if (p == NULL) {
        sb->oom = true;
        return false;
    }
    sb->data = p;
    sb->cap = cap;
    return true;
}

void strbuf_append_n(struct strbuf *sb, const char *s, size_t n)
{
    if (!strbuf_grow(sb, n))
        return;
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void strbuf_append(struct strbuf *sb, const char *s)
{
    strbuf_append_n(sb, s, strlen(s));
}

void strbuf_append_c(struct strbuf *sb, char c)
{
    strbuf_append_n(sb, &c, 1);
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !strbuf_grow(sb, (size_t)n)) {
        sb->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

char *strbuf_take(struct strbuf *sb)
{
    char *p;

    if (sb->oom) {
        strbuf_free(sb);
        return NULL;
    }
    if (sb->data == NULL && !strbuf_grow(sb, 0))
        return NULL;
    if (sb->len == 0) /* never appended to: grown above, not yet terminated */
        sb->data[0] = '\0';
    p = sb->data;
    strbuf_init(sb);
    return p;
}

char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    p = malloc((size_t)n + 1);
    if (p == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool str_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = *a, cb = *b;
        if (ca >= 'A' && ca <= 'Z')
            ca = (char)(ca - 'A' + 'a');
        if (cb >= 'A' && cb <= 'Z')
            cb = (char)(cb - 'A' + 'a');
        if (ca != cb)
            return false;
    }
    return *a == *b;
}

bool parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (s == NULL || *s == '\0')
        return false;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || end == s)
        return false;
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

#define READ_HINT "Check the path and that the file is readable by the user running dbssl."

int read_file(const char *path, const char *what, size_t max, char **out, size_t *len,
              struct dbssl_error *err)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int fd = -1;
    int ret = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            dbssl_error_set(err, DBSSL_ERR_IO, READ_HINT, "%s \"%s\" does not exist", what, path);
        else
            dbssl_error_set(err, DBSSL_ERR_IO, READ_HINT, "could not open %s \"%s\": %s", what,
                            path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not stat %s \"%s\": %s", what, path,
                        strerror(errno));
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        dbssl_error_set(err, DBSSL_ERR_IO, "Name the file itself, not its directory.",
                        "%s \"%s\" is a directory", what, path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        dbssl_error_set(err, DBSSL_ERR_IO, "Name a regular file (a symlink to one is fine).",
                        "%s \"%s\" is not a regular file", what, path);
        goto out;
    }
    if ((size_t)st.st_size > max) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "%s \"%s\" is too large (%lld bytes, at most %zu)",
                        what, path, (long long)st.st_size, max);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not read %s \"%s\": %s", what, path,
                            strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    *out = buf;
    if (len)
        *len = got;
    buf = NULL;
    ret = 0;
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return ret;
}

int write_file_new(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
                   gid_t gid, struct dbssl_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    size_t done = 0;
    int ret = -1;

    if (fd < 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not create file \"%s\": %s", path,
                        strerror(errno));
        goto out;
    }
    while (done < len) {
        ssize_t n = write(fd, (const char *)data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not write file \"%s\": %s", path,
                            strerror(errno));
            goto out;
        }
        done += (size_t)n;
    }
    /* fchmod() only undoes a umask that would narrow a certificate's mode */
    if (fchmod(fd, mode) != 0 || (uid != (uid_t)-1 && fchown(fd, uid, gid) != 0) ||
        fsync(fd) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not finish file \"%s\": %s", path,
                        strerror(errno));
        goto out;
    }
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    return ret;
}

int write_file_replace(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
                       gid_t gid, struct dbssl_error *err)
{
    char tmp[4200];

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "file name \"%s\" is too long", path);
        return -1;
    }
    unlink(tmp); /* left over by a crash */
    if (write_file_new(tmp, data, len, mode, uid, gid, err) != 0)
        goto fail;
    if (rename(tmp, path) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not rename \"%s\" to \"%s\": %s", tmp, path,
                        strerror(errno));
        goto fail;
    }
    return 0;
fail:
    unlink(tmp);
    return -1;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void remove_tree(const char *path)
{
    struct stat st;

    if (lstat(path, &st) == 0)
        (void)nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

long long now_epoch(void)
{
    return (long long)time(NULL);
}

void format_rfc3339(long long t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "%s", "1970-01-01T00:00:00Z");
}

bool path_join(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);
    return n > 0 && (size_t)n < len;
}
