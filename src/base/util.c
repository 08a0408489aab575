/*
 * util.c - strbuf, string and file helpers shared by all modules.
 */
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
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

void strbuf_append_pct(struct strbuf *sb, const char *s, size_t len, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *c = (const unsigned char *)s; c < (const unsigned char *)s + len;
         c++) {
        bool plain = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                     (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_' || *c == '~' ||
                     (*c != '\0' && strchr(keep, *c) != NULL);
        if (plain) {
            strbuf_append_c(sb, (char)*c);
        } else {
            strbuf_append_c(sb, '%');
            strbuf_append_c(sb, hex[*c >> 4]);
            strbuf_append_c(sb, hex[*c & 15]);
        }
    }
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

void strbuf_append_html(struct strbuf *sb, const char *s)
{
    for (; s != NULL && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '&' || ch == '<' || ch == '>' || ch == '"' || ch == '\'')
            strbuf_printf(sb, "&#%d;", ch);
        else if (ch < 0x20 && ch != '\n' && ch != '\t')
            strbuf_append_c(sb, ' ');
        else
            strbuf_append_c(sb, (char)ch);
    }
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

size_t list_count(const char *list)
{
    size_t n = 1;

    if (list == NULL || list[0] == '\0')
        return 0;
    for (const char *c = list; *c; c++)
        n += *c == ',';
    return n;
}

const char *list_item(const char *list, size_t i, size_t *len)
{
    const char *s = list, *e;

    if (list == NULL || list[0] == '\0')
        return NULL;
    while (i-- > 0) {
        s = strchr(s, ',');
        if (s == NULL)
            return NULL;
        s++;
    }
    e = strchr(s, ',');
    *len = e ? (size_t)(e - s) : strlen(s);
    return s;
}

bool host_is_socket(const char *h, size_t len)
{
    return len == 0 || h[0] == '/' || h[0] == '@';
}

void format_host_port(char *buf, size_t len, const char *host, const char *port)
{
    bool v6 = strchr(host, ':') != NULL;

    if (port == NULL || port[0] == '\0')
        snprintf(buf, len, "%s", host);
    else
        snprintf(buf, len, "%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

enum listen_form parse_listen(const char *value, char host[LISTEN_HOST_MAX], long *port)
{
    const char *colon = strrchr(value, ':');
    const char *h = value, *hend;

    host[0] = '\0';
    if (colon == NULL || colon == value)
        return LISTEN_NO_PORT;
    hend = colon;
    if (value[0] == '[') {
        if (colon[-1] != ']')
            return LISTEN_UNTERMINATED;
        h = value + 1;
        hend = colon - 1;
    } else if (memchr(value, ':', (size_t)(colon - value)) != NULL) {
        return LISTEN_BARE_V6;
    }
    if (hend <= h)
        return LISTEN_EMPTY_HOST;
    if ((size_t)(hend - h) >= LISTEN_HOST_MAX)
        return LISTEN_LONG_HOST;
    if (!parse_long(colon + 1, 1, 65535, port))
        return LISTEN_BAD_PORT;
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = '\0';
    return LISTEN_OK;
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

/* What a file that is not a regular file is, for messages. */
static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a named pipe (FIFO), not a regular file";
    if (S_ISSOCK(mode))
        return "a socket, not a regular file";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device, not a regular file";
    return "not a regular file";
}

static void not_regular(const char *what, const char *shown, mode_t mode, struct dbssl_error *err)
{
    dbssl_error_set(err, DBSSL_ERR_CONFIG,
                    S_ISDIR(mode) ? "Name the file itself, not its directory."
                                  : "Name a regular file (a symlink to one is fine); dbssl does "
                                    "not read pipes, sockets or devices.",
                    "%s \"%s\" is %s", what, shown, file_kind(mode));
}

static int read_all(int fd, char *buf, size_t want, size_t *got)
{
    *got = 0;
    while (*got < want) {
        ssize_t n = read(fd, buf + *got, want - *got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break; /* the file shrank meanwhile: what is there */
        *got += (size_t)n;
    }
    return 0;
}

int read_file_at(const struct file_at *f, const char *what, size_t max, char **out, size_t *len,
                 struct stat *stp, struct dbssl_error *err)
{
    const char *shown = f->shown ? f->shown : f->name;
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int fd = -1;
    int ret = -1;

    /*
     * O_NONBLOCK: opening a FIFO for reading otherwise blocks until some
     * writer opens it, so a FIFO given as a certificate or .env would hang
     * validate, status and serve (and a reload, and with it shutdown).  It
     * changes nothing for a regular file, the only kind read below.
     */
    fd = openat(f->dir, f->name,
                O_RDONLY | O_NONBLOCK | O_CLOEXEC |
                    ((f->flags & FILE_AT_NOFOLLOW) ? O_NOFOLLOW : 0));
    if (fd < 0) {
        int e = errno;
        /* a socket cannot be opened at all (ENXIO): still say what it is */
        if (e != ENOENT && e != ELOOP && fstatat(f->dir, f->name, &st, 0) == 0 &&
            !S_ISREG(st.st_mode)) {
            not_regular(what, shown, st.st_mode, err);
            goto out;
        }
        errno = e;
        if (errno == ENOENT)
            dbssl_error_set(err, DBSSL_ERR_IO, READ_HINT, "%s \"%s\" does not exist", what, shown);
        else if (errno == ELOOP && (f->flags & FILE_AT_NOFOLLOW))
            dbssl_error_set(err, DBSSL_ERR_CONFIG,
                            "Remove the link and run \"dbssl certs generate\": dbssl never follows "
                            "a symbolic link inside its generated certificate set.",
                            "%s \"%s\" is a symbolic link", what, shown);
        else
            dbssl_error_set(err, DBSSL_ERR_IO, READ_HINT, "could not open %s \"%s\": %s", what,
                            shown, strerror(errno));
        goto out;
    }
    /* the type of the file opened, not of whatever the path names by now */
    if (fstat(fd, &st) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not stat %s \"%s\": %s", what, shown,
                        strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        not_regular(what, shown, st.st_mode, err);
        goto out;
    }
    if ((size_t)st.st_size > max) {
        dbssl_error_set(err, DBSSL_ERR_IO, "Check that the setting names the right file.",
                        "%s \"%s\" is too large (%lld bytes, at most %zu)", what, shown,
                        (long long)st.st_size, max);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    if (read_all(fd, buf, (size_t)st.st_size, &got) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not read %s \"%s\": %s", what, shown,
                        strerror(errno));
        goto out;
    }
    buf[got] = '\0';
    *out = buf;
    if (len)
        *len = got;
    if (stp)
        *stp = st;
    buf = NULL;
    ret = 0;
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return ret;
}

int read_file(const char *path, const char *what, size_t max, char **out, size_t *len,
              struct dbssl_error *err)
{
    return read_file_at(&FILE_AT_PATH(path), what, max, out, len, NULL, err);
}

bool secret_file_mode_ok(const struct stat *st)
{
    if (st->st_uid == 0)
        return (st->st_mode & (S_IWGRP | S_IXGRP | S_IRWXO)) == 0;
    return (st->st_mode & (S_IRWXG | S_IRWXO)) == 0;
}

int write_file_at(const struct file_at *f, const void *data, size_t len, mode_t mode, uid_t uid,
                  gid_t gid, struct dbssl_error *err)
{
    const char *shown = f->shown ? f->shown : f->name;
    int fd = openat(f->dir, f->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    size_t done = 0;
    int ret = -1;

    if (fd < 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not create file \"%s\": %s", shown,
                        strerror(errno));
        goto out;
    }
    while (done < len) {
        ssize_t n = write(fd, (const char *)data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not write file \"%s\": %s", shown,
                            strerror(errno));
            goto out;
        }
        done += (size_t)n;
    }
    /* fchmod() only undoes a umask that would narrow a certificate's mode */
    if (fchmod(fd, mode) != 0 || (uid != (uid_t)-1 && fchown(fd, uid, gid) != 0) ||
        fsync(fd) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not finish file \"%s\": %s", shown,
                        strerror(errno));
        goto out;
    }
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    return ret;
}

int write_file_new(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
                   gid_t gid, struct dbssl_error *err)
{
    return write_file_at(&FILE_AT_PATH(path), data, len, mode, uid, gid, err);
}

int write_file_replace(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
                       gid_t gid, struct dbssl_error *err)
{
    char tmp[PATH_BUF];

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

/* Deeper than any tree dbssl makes; bounds the descriptors held open. */
#define REMOVE_DEPTH_MAX 32

static int remove_at(int dir, const char *name, int depth)
{
    struct stat st;
    struct dirent *de;
    DIR *d;
    int fd, ret = 0;

    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(dir, name, 0) == 0 || errno == ENOENT ? 0 : -1;
    if (depth >= REMOVE_DEPTH_MAX)
        return -1;
    /* O_NOFOLLOW: had the directory been swapped for a symlink since the
     * fstatat(), the removal must not continue wherever the link points */
    fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if ((d = fdopendir(fd)) == NULL) {
        close(fd);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (remove_at(dirfd(d), de->d_name, depth + 1) != 0)
            ret = -1;
    }
    closedir(d);
    if (unlinkat(dir, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        ret = -1;
    return ret;
}

int remove_tree_at(int dir, const char *name)
{
    return remove_at(dir, name, 0);
}

void remove_tree(const char *path)
{
    /* best effort, as util.h says: its callers clean up after a failure or on their way out,
     * with nothing better to do should this fail too (and GCC does not let a (void) cast
     * ignore a DBSSL_MUSTCHECK result) */
    if (remove_tree_at(AT_FDCWD, path) != 0)
        return;
}

void format_rfc3339(long long t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "%s", "1970-01-01T00:00:00Z");
}

bool parse_rfc3339(const char *s, long long *out)
{
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);

    if (end == NULL || *end != '\0')
        return false;
    *out = (long long)timegm(&tm);
    return true;
}

bool path_join(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);
    return n > 0 && (size_t)n < len;
}

long usable_cpus(void)
{
    cpu_set_t set;
    long n;

    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}
