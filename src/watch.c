/*
 * watch.c - change detection for certificate files: inotify on their
 * directories plus a stat() fingerprint of each file as the ground truth.
 *
 * The fingerprint follows symlinks (device, inode, size, mtime, ctime), so
 * a Kubernetes secret update, which only renames the `..data` symlink in the
 * directory, changes the inode seen through the file's own path.
 */
#include "watch.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct fingerprint {
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    struct timespec ctime;
};

struct dbssl_watch {
    char **paths;
    struct fingerprint *seen;
    size_t n;
    int ifd; /* inotify, or -1 */
};

static void fingerprint(const char *path, struct fingerprint *fp)
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
}

static bool fp_equal(const struct fingerprint *a, const struct fingerprint *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static void watch_dir_of(int ifd, const char *path)
{
    char dir[4096];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    /* a directory that does not exist yet is covered by the re-stat */
    (void)inotify_add_watch(ifd, dir,
                            IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                                IN_ATTRIB | IN_MODIFY);
}

struct dbssl_watch *dbssl_watch_new(const char *const *paths, size_t n, struct dbssl_error *err)
{
    struct dbssl_watch *w = calloc(1, sizeof(*w));

    if (w == NULL)
        goto oom;
    w->ifd = -1;
    w->paths = calloc(n ? n : 1, sizeof(*w->paths));
    w->seen = calloc(n ? n : 1, sizeof(*w->seen));
    if (w->paths == NULL || w->seen == NULL)
        goto oom;
    w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        if (paths[i] == NULL || paths[i][0] == '\0')
            continue;
        for (size_t k = 0; k < w->n; k++)
            dup = dup || strcmp(w->paths[k], paths[i]) == 0;
        if (dup)
            continue;
        if ((w->paths[w->n] = xstrdup(paths[i])) == NULL)
            goto oom;
        fingerprint(paths[i], &w->seen[w->n]);
        if (w->ifd >= 0)
            watch_dir_of(w->ifd, paths[i]);
        w->n++;
    }
    return w;
oom:
    dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
    dbssl_watch_free(w);
    return NULL;
}

void dbssl_watch_free(struct dbssl_watch *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->n; i++)
        free(w->paths[i]);
    free(w->paths);
    free(w->seen);
    if (w->ifd >= 0)
        close(w->ifd);
    free(w);
}

/* Waits up to ms for inotify activity; drains it.  True when there was some. */
static bool wait_events(struct dbssl_watch *w, int ms)
{
    struct pollfd pfd = {w->ifd, POLLIN, 0};
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool any = false;

    if (w->ifd < 0) {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        return false;
    }
    if (poll(&pfd, 1, ms) <= 0)
        return false;
    while (read(w->ifd, buf, sizeof(buf)) > 0)
        any = true;
    return any;
}

static bool changed(struct dbssl_watch *w)
{
    for (size_t i = 0; i < w->n; i++) {
        struct fingerprint fp;
        fingerprint(w->paths[i], &fp);
        if (!fp_equal(&fp, &w->seen[i]))
            return true;
    }
    return false;
}

static void remember(struct dbssl_watch *w)
{
    for (size_t i = 0; i < w->n; i++)
        fingerprint(w->paths[i], &w->seen[i]);
}

bool dbssl_watch_wait(struct dbssl_watch *w, int timeout_ms, int debounce_ms)
{
    wait_events(w, timeout_ms);
    if (!changed(w))
        return false;
    /* settle: a set is often written file by file; bounded, because other
     * files in the same directory (a busy log) must not delay it forever */
    for (int i = 0; i < 20 && wait_events(w, debounce_ms); i++)
        ;
    remember(w);
    return true;
}
