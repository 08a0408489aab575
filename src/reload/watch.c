/*
 * watch.c - change detection for certificate and .env files: inotify on
 * their directories plus a stat() fingerprint of each file as the ground
 * truth, and a content fingerprint to tell a finished file from one still
 * being written (see watch.h).
 *
 * The fingerprint follows symlinks (device, inode, size, mtime, ctime), so
 * a Kubernetes secret update, which only renames the `..data` symlink in the
 * directory, changes the inode seen through the file's own path.
 */
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "util.h"

/* windows one call settles for before it returns with the change pending,
 * so that the caller gets to look at its stop flag and renewal clock */
#define SETTLE_WINDOWS 8
/* bytes of a file hashed for its content fingerprint: as much as dbssl
 * reads of a certificate, key or .env (past it, size and mtime still count) */
#define HASH_MAX_BYTES CONFIG_FILE_MAX
#define HASH_CHUNK     8192

struct fingerprint {
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    struct timespec ctime;
    uint64_t hash; /* FNV-1a of the bytes; only in content fingerprints */
};

struct watched {
    char *path;
    const char *name; /* base name, inside path: what inotify reports */
    int wd;           /* inotify watch of the directory, or -1 */
    bool writing;     /* IN_MODIFY seen, IN_CLOSE_WRITE not yet: a writer has it open */
    struct fingerprint seen;
};

struct dbssl_watch {
    struct watched *files;
    size_t n;
    int ifd;      /* inotify, or -1 */
    bool pending; /* a change was seen but has not settled yet */
    struct fingerprint *before, *after;
};

/* FNV-1a over the file's bytes, read without blocking on anything but a regular file. */
static uint64_t content_hash(const char *path, const struct stat *st)
{
    unsigned char buf[HASH_CHUNK];
    uint64_t h = 1469598103934665603ULL;
    size_t total = 0;
    struct stat fst;
    ssize_t got;
    int fd;

    /* a FIFO or device is never opened: the reload names it as an error */
    if (!S_ISREG(st->st_mode))
        return 0;
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return 0;
    if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode)) {
        close(fd);
        return 0;
    }
    while (total < HASH_MAX_BYTES && (got = read(fd, buf, sizeof(buf))) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (ssize_t i = 0; i < got; i++) {
            h ^= buf[i];
            h *= 1099511628211ULL;
        }
        total += (size_t)got;
    }
    close(fd);
    explicit_bzero(buf, sizeof(buf)); /* a key passed through */
    return h;
}

static void fingerprint(const char *path, bool content, struct fingerprint *fp)
{
    struct stat st;

    memset(fp, 0, sizeof(*fp));
    if (stat(path, &st) != 0)
        return;
    fp->exists = true;
    fp->dev = st.st_dev;
    fp->ino = st.st_ino;
    fp->size = st.st_size;
    fp->mtime = st.st_mtim;
    fp->ctime = st.st_ctim;
    if (content)
        fp->hash = content_hash(path, &st);
}

static bool ts_equal(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static bool fp_equal(const struct fingerprint *a, const struct fingerprint *b, bool content)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           ts_equal(a->mtime, b->mtime) && ts_equal(a->ctime, b->ctime) &&
           (!content || a->hash == b->hash);
}

/* Watches the directory of f; a directory that does not exist yet is covered by the re-stat. */
static void watch_dir_of(int ifd, struct watched *f)
{
    char dir[PATH_BUF];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", f->path);
    slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    /* IN_MODIFY only marks a file as being written: the close or a rename
     * into place is what completes it */
    f->wd = inotify_add_watch(ifd, dir,
                              IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                                  IN_ATTRIB | IN_MODIFY);
}

struct dbssl_watch *dbssl_watch_new(const char *const *paths, size_t n, struct dbssl_error *err)
{
    struct dbssl_watch *w = calloc(1, sizeof(*w));
    size_t cap = n ? n : 1;

    if (w == NULL)
        goto oom;
    w->ifd = -1;
    w->files = calloc(cap, sizeof(*w->files));
    w->before = calloc(cap, sizeof(*w->before));
    w->after = calloc(cap, sizeof(*w->after));
    if (w->files == NULL || w->before == NULL || w->after == NULL)
        goto oom;
    w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    for (size_t i = 0; i < n; i++) {
        struct watched *f = &w->files[w->n];
        const char *slash;
        bool dup = false;

        if (paths[i] == NULL || paths[i][0] == '\0')
            continue;
        for (size_t k = 0; k < w->n; k++)
            dup = dup || strcmp(w->files[k].path, paths[i]) == 0;
        if (dup)
            continue;
        if ((f->path = xstrdup(paths[i])) == NULL)
            goto oom;
        slash = strrchr(f->path, '/');
        f->name = slash ? slash + 1 : f->path;
        f->wd = -1;
        fingerprint(f->path, false, &f->seen);
        if (w->ifd >= 0)
            watch_dir_of(w->ifd, f);
        w->n++;
    }
    return w;
oom:
    dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
    dbssl_watch_free(w);
    return NULL;
}

static bool changed(struct dbssl_watch *w);

void dbssl_watch_inherit(struct dbssl_watch *w, const struct dbssl_watch *old)
{
    if (w == NULL || old == NULL)
        return;
    for (size_t i = 0; i < w->n; i++)
        for (size_t k = 0; k < old->n; k++)
            if (strcmp(w->files[i].path, old->files[k].path) == 0)
                w->files[i].seen = old->files[k].seen;
    /* settle it at the next wait without waiting for an event already gone */
    w->pending = old->pending || changed(w);
}

void dbssl_watch_free(struct dbssl_watch *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->n; i++)
        free(w->files[i].path);
    free(w->files);
    free(w->before);
    free(w->after);
    if (w->ifd >= 0)
        close(w->ifd);
    free(w);
}

/* What an event says about whether a watched file is still being written. */
static void note_event(struct dbssl_watch *w, const struct inotify_event *ev)
{
    const uint32_t done = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE;

    if (ev->mask & IN_Q_OVERFLOW) {
        /* events were lost, a close perhaps: content stability alone decides */
        for (size_t i = 0; i < w->n; i++)
            w->files[i].writing = false;
        return;
    }
    if (ev->len == 0)
        return;
    for (size_t i = 0; i < w->n; i++) {
        struct watched *f = &w->files[i];
        if (f->wd != ev->wd || strcmp(f->name, ev->name) != 0)
            continue;
        /* in the order they happened: a write then its close leaves it done */
        if (ev->mask & IN_MODIFY)
            f->writing = true;
        if (ev->mask & done)
            f->writing = false;
    }
}

static void drain(struct dbssl_watch *w)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t got;

    while ((got = read(w->ifd, buf, sizeof(buf))) > 0) {
        for (char *p = buf; p < buf + got;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            note_event(w, ev);
            p += sizeof(*ev) + ev->len;
        }
    }
}

enum wait_result { WAIT_QUIET, WAIT_EVENTS, WAIT_CANCELLED };

/* Waits up to ms for inotify activity (processed) or for cancel_fd. */
static enum wait_result wait_events(struct dbssl_watch *w, int ms, int cancel_fd)
{
    struct pollfd pfd[2];
    nfds_t n = 0;
    int ev_at = -1, cancel_at = -1;

    if (w->ifd >= 0) {
        ev_at = (int)n;
        pfd[n++] = (struct pollfd){w->ifd, POLLIN, 0};
    }
    if (cancel_fd >= 0) {
        cancel_at = (int)n;
        pfd[n++] = (struct pollfd){cancel_fd, POLLIN, 0};
    }
    if (n == 0) {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        return WAIT_QUIET;
    }
    if (poll(pfd, n, ms) <= 0)
        return WAIT_QUIET;
    if (cancel_at >= 0 && pfd[cancel_at].revents != 0)
        return WAIT_CANCELLED;
    if (ev_at >= 0 && pfd[ev_at].revents != 0) {
        drain(w);
        return WAIT_EVENTS;
    }
    return WAIT_QUIET;
}

/* Lets a whole window of ms pass, taking note of events.  False when cancelled. */
static bool window(struct dbssl_watch *w, int ms, int cancel_fd)
{
    long long end = dbssl_mono_ms() + ms;

    for (long long left = ms; left > 0; left = end - dbssl_mono_ms())
        if (wait_events(w, (int)left, cancel_fd) == WAIT_CANCELLED)
            return false;
    return true;
}

static bool changed(struct dbssl_watch *w)
{
    for (size_t i = 0; i < w->n; i++) {
        struct fingerprint fp;
        fingerprint(w->files[i].path, false, &fp);
        if (!fp_equal(&fp, &w->files[i].seen, false))
            return true;
    }
    return false;
}

static void content_of(struct dbssl_watch *w, struct fingerprint *out)
{
    for (size_t i = 0; i < w->n; i++)
        fingerprint(w->files[i].path, true, &out[i]);
}

/* Complete: nobody writes any of the files, and no byte changed across the window. */
static bool settled(const struct dbssl_watch *w)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->files[i].writing || !fp_equal(&w->before[i], &w->after[i], true))
            return false;
    return true;
}

bool dbssl_watch_wait(struct dbssl_watch *w, int timeout_ms, int debounce_ms, int cancel_fd)
{
    if (!w->pending && wait_events(w, timeout_ms, cancel_fd) == WAIT_CANCELLED)
        return false;
    if (!changed(w)) {
        w->pending = false;
        return false;
    }
    w->pending = true;
    content_of(w, w->before);
    for (int i = 0; i < SETTLE_WINDOWS; i++) {
        struct fingerprint *t;
        if (!window(w, debounce_ms, cancel_fd))
            return false;
        content_of(w, w->after);
        if (settled(w)) {
            for (size_t k = 0; k < w->n; k++)
                w->files[k].seen = w->after[k];
            w->pending = false;
            return true;
        }
        t = w->before;
        w->before = w->after;
        w->after = t;
    }
    return false;
}
