/*
 * certs_swap.c - the generated set's directory as dbssl changes it: the
 * lock, the staging area .pending/ and the crash-safe swap (see certs.h for
 * the functions, certs_files.c for what goes into the set).
 *
 * Files of DB_SSL_AUTO_CERT_DIR besides the set:
 *   .lock        flock(2): one dbssl changes the set at a time
 *   .pending/    staging, with COMMIT (the journal) once committed
 *
 * THE SWAP.  The set must be complete or absent: a kill at any instant
 * leaves the previous complete set or the new complete set.  Renaming several
 * files is not atomic, so the swap is a small redo journal:
 *   1. every new file is written into a fresh .pending/ and fsync'ed;
 *   2. .pending/COMMIT (the list of names) is written to COMMIT.tmp,
 *      fsync'ed and renamed: this rename is the commit point;
 *   3. each listed file is renamed from .pending/ into the directory,
 *      the directory fsync'ed, then COMMIT and .pending/ removed.
 * Every run takes the lock and, before anything else, looks at .pending/:
 * without COMMIT the update never committed and .pending/ is discarded (the
 * old set was not touched); with COMMIT it is rolled forward, renaming the
 * files still in .pending/ (a missing one was already moved).  So after a
 * kill the next dbssl run (generate, ensure, validate) finds the old or the
 * new set, never a mix.  A reader that does not go through dbssl
 * (PostgreSQL itself) can see a mix only inside step 3's few renames, or
 * after a kill inside step 3 until the next dbssl run; it then fails to load
 * a mismatched pair rather than use it.
 *
 * TRUST.  Everything here works relative to the directory's descriptor,
 * opened by safedir_open() (only we or root can change it), and never
 * follows a symlink (openat/mkdirat/renameat/unlinkat, O_NOFOLLOW).  A
 * .pending/ that dbssl did not leave as it is (a symlink, another owner,
 * files of someone else) was planted: rolling it forward would install
 * their CA and deleting it could delete what a link points to, so it is
 * refused and left untouched.
 */
#include "certs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PENDING         ".pending"
#define COMMIT          "COMMIT"
#define MANIFEST_HEADER "dbssl-certs 1\n"
#define LOCK_WAIT_MS    30000
/* the journal names at most the six files of a set: far below this */
#define JOURNAL_MAX 4096

/* name (relative to the set, e.g. ".pending/COMMIT") as a path for messages */
void certs_dir_path(const struct certs_dir *d, const char *name, char *buf, size_t len)
{
    /* too long to show with its directory: the name alone still says which file */
    if ((size_t)snprintf(buf, len, "%s/%s", d->path, name) >= len)
        snprintf(buf, len, "%s", name);
}

/* name in the directory dirfd of the set (the set itself or .pending) */
struct file_at certs_dir_file(const struct certs_dir *d, int dirfd, const char *name, char *buf,
                              size_t len)
{
    if (dirfd == d->fd)
        certs_dir_path(d, name, buf, len);
    else if ((size_t)snprintf(buf, len, "%s/%s/%s", d->path, PENDING, name) >= len)
        snprintf(buf, len, "%s/%s", PENDING, name);
    return (struct file_at){dirfd, name, buf, FILE_AT_NOFOLLOW};
}

static int fsync_fd(int fd, const char *path, struct dbssl_error *err)
{
    if (fsync(fd) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not sync directory \"%s\": %s", path,
                        strerror(errno));
        return -1;
    }
    return 0;
}

/* Takes the directory's lock, waiting a bounded time for another dbssl. */
int certs_dir_lock(const struct certs_dir *d, struct dbssl_error *err)
{
    char path[PATH_BUF];
    struct stat st;
    int fd;

    certs_dir_path(d, ".lock", path, sizeof(path));
    /* O_NONBLOCK: a FIFO planted as .lock must not hang us (it is refused below) */
    fd = openat(d->fd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        dbssl_error_set(err, DBSSL_ERR_IO, "Remove it; dbssl creates it again.",
                        "could not open lock file \"%s\": %s", path,
                        fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; waited += 50) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        if ((errno != EWOULDBLOCK && errno != EINTR) || waited >= LOCK_WAIT_MS) {
            dbssl_error_set(err, DBSSL_ERR_IO,
                            "Another dbssl process is updating the certificates; try again when "
                            "it has finished.",
                            "could not lock \"%s\": %s", path,
                            errno == EWOULDBLOCK ? "timed out" : strerror(errno));
            close(fd);
            return -1;
        }
        nanosleep(&ts, NULL);
    }
    return fd;
}

/* ---- the staging area and the journal -------------------------------------------- */

#define STAGING_HINT                                                                               \
    "dbssl did not make it, so it neither uses nor deletes it: check who did (ls -la), "           \
    "remove it, and run \"dbssl certs generate\" again."

/* Whether a staged file may be ours: see check_staged(). */
static bool staged_owner_ok(const char *name, const struct stat *st)
{
    int f = certs_file_index(name);

    if (st->st_uid == geteuid())
        return true;
    /* root stages the server pair already owned by --owner (postgres) */
    return geteuid() == 0 && (f == DBSSL_CERTS_SERVER_CRT || f == DBSSL_CERTS_SERVER_KEY);
}

/*
 * Trusts .pending only as dbssl leaves it: a directory (not a symlink) of
 * the user running dbssl, writable by nobody else, holding only regular
 * files of ours under the names we write.  Anything else was put there by
 * someone else (planted while the directory was writable by others, say):
 * rolling it forward would install their CA, and discarding it would delete
 * what a symlink points to.  So it is refused, untouched.
 */
static int check_staged(const struct certs_dir *d, int pfd, struct dbssl_error *err)
{
    char path[PATH_TEXT_BUF];
    struct dirent *de;
    struct stat st;
    int dfd = dup(pfd), ret = 0;
    DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;

    certs_dir_path(d, PENDING, path, sizeof(path));
    if (dir == NULL) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not read staging directory \"%s\": %s",
                        path, strerror(errno));
        if (dfd >= 0)
            close(dfd);
        return -1;
    }
    if (fstat(pfd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        dbssl_error_set(
            err, DBSSL_ERR_IO, STAGING_HINT, "staging directory \"%s\" is %s (uid %u, mode %04o)",
            path, st.st_uid != geteuid() ? "owned by another user" : "writable by other users",
            (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        ret = -1;
    }
    while (ret == 0 && (de = readdir(dir)) != NULL) {
        const char *why = NULL;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        certs_dir_file(d, pfd, de->d_name, path, sizeof(path));
        if (fstatat(pfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* gone meanwhile */
        if (certs_file_index(de->d_name) < 0 && strcmp(de->d_name, COMMIT) != 0 &&
            strcmp(de->d_name, COMMIT ".tmp") != 0)
            why = "not a file dbssl writes";
        else if (S_ISLNK(st.st_mode))
            why = "a symbolic link";
        else if (!S_ISREG(st.st_mode))
            why = "not a regular file";
        else if (!staged_owner_ok(de->d_name, &st))
            why = "owned by another user";
        else if (st.st_nlink != 1)
            why = "linked from elsewhere (it has other hard links)";
        if (why != NULL) {
            dbssl_error_set(err, DBSSL_ERR_IO, STAGING_HINT, "staged file \"%s\" is %s", path, why);
            ret = -1;
        }
    }
    closedir(dir);
    return ret;
}

/*
 * Opens .pending when it is there: 1 with *pfd set, 0 when there is none,
 * -1 when it is not to be trusted (check_staged()).
 */
static int open_pending(const struct certs_dir *d, int *pfd, struct dbssl_error *err)
{
    char path[PATH_BUF];
    struct stat st;
    int fd;

    *pfd = -1;
    certs_dir_path(d, PENDING, path, sizeof(path));
    if (fstatat(d->fd, PENDING, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT)
        return 0;
    fd = openat(d->fd, PENDING, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, STAGING_HINT, "staging directory \"%s\" is %s", path,
                        errno == ELOOP || errno == ENOTDIR ? "a symbolic link or not a directory"
                                                           : strerror(errno));
        return -1;
    }
    if (check_staged(d, fd, err) != 0) {
        close(fd);
        return -1;
    }
    *pfd = fd;
    return 1;
}

/* Removes .pending and what it holds, by descriptor (only files of ours are there). */
static int discard_pending(const struct certs_dir *d, struct dbssl_error *err)
{
    char path[PATH_BUF];

    if (remove_tree_at(d->fd, PENDING) != 0) {
        certs_dir_path(d, PENDING, path, sizeof(path));
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not remove \"%s\": %s", path,
                        strerror(errno));
        return -1;
    }
    return 0;
}

/* Step 3 of the swap (see the header comment); also the roll-forward of a recovery. */
static int roll_forward(const struct certs_dir *d, int pfd, struct dbssl_error *err)
{
    char commit[PATH_BUF], from[PATH_BUF], to[PATH_BUF];
    struct file_at journal = certs_dir_file(d, pfd, COMMIT, commit, sizeof(commit));
    char *manifest = NULL, *line, *next;
    int ret = -1;

    if (read_file_at(&journal, "certificate update journal", JOURNAL_MAX, &manifest, NULL, NULL,
                     err) != 0)
        goto out;
    if (strncmp(manifest, MANIFEST_HEADER, strlen(MANIFEST_HEADER)) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, "Remove the directory's .pending/ and run again.",
                        "certificate update journal \"%s\" is damaged", commit);
        goto out;
    }
    for (line = manifest + strlen(MANIFEST_HEADER); *line; line = next) {
        next = line + strcspn(line, "\n");
        if (*next == '\n')
            *next++ = '\0';
        if (certs_file_index(line) < 0)
            continue; /* only our own names are ever moved */
        if (renameat(pfd, line, d->fd, line) != 0 && errno != ENOENT) {
            certs_dir_file(d, pfd, line, from, sizeof(from));
            certs_dir_path(d, line, to, sizeof(to));
            dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not rename \"%s\" to \"%s\": %s", from,
                            to, strerror(errno));
            goto out;
        }
    }
    if (fsync_fd(d->fd, d->path, err) != 0)
        goto out;
    unlinkat(pfd, COMMIT, 0);
    if (discard_pending(d, err) != 0 || fsync_fd(d->fd, d->path, err) != 0)
        goto out;
    ret = 0;
out:
    free(manifest);
    return ret;
}

/* Completes or discards an update a killed process left behind. */
int certs_dir_recover(const struct certs_dir *d, bool *recovered, struct dbssl_error *err)
{
    struct stat st;
    int pfd, rc = open_pending(d, &pfd, err);

    if (rc <= 0)
        return rc;
    *recovered = true;
    if (fstatat(pfd, COMMIT, &st, AT_SYMLINK_NOFOLLOW) == 0)
        rc = roll_forward(d, pfd, err);
    else
        rc = discard_pending(d, err) == 0 ? fsync_fd(d->fd, d->path, err) : -1;
    close(pfd);
    return rc;
}

/* Steps 1-3 of the swap for the files in out[] that have data. */
int certs_dir_swap_in(const struct certs_dir *d, const struct certs_staged *out, uid_t uid,
                      gid_t gid, struct dbssl_error *err)
{
    char pending[PATH_BUF], path[PATH_BUF], tmp[PATH_BUF];
    struct strbuf manifest;
    struct file_at f;
    bool committed = false;
    int pfd = -1, ret = -1;

    strbuf_init(&manifest);
    strbuf_append(&manifest, MANIFEST_HEADER);
    certs_dir_path(d, PENDING, pending, sizeof(pending));
    if (mkdirat(d->fd, PENDING, 0700) != 0 ||
        (pfd = openat(d->fd, PENDING, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not create directory \"%s\": %s", pending,
                        strerror(errno));
        goto out;
    }
    for (int i = 0; i < DBSSL_CERTS_NFILES; i++) {
        bool server = i == DBSSL_CERTS_SERVER_CRT || i == DBSSL_CERTS_SERVER_KEY;
        if (out[i].data == NULL)
            continue;
        f = certs_dir_file(d, pfd, dbssl_certs_file_name((enum dbssl_certs_file)i), path,
                           sizeof(path));
        if (write_file_at(&f, out[i].data, out[i].len, certs_is_key_file(i) ? 0600 : 0644,
                          server ? uid : (uid_t)-1, gid, err) != 0)
            goto out;
        strbuf_printf(&manifest, "%s\n", dbssl_certs_file_name((enum dbssl_certs_file)i));
    }
    if (manifest.oom) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    f = certs_dir_file(d, pfd, COMMIT ".tmp", tmp, sizeof(tmp));
    if (fsync_fd(pfd, pending, err) != 0 ||
        write_file_at(&f, manifest.data, manifest.len, 0600, (uid_t)-1, (gid_t)-1, err) != 0)
        goto out;
    if (renameat(pfd, COMMIT ".tmp", pfd, COMMIT) != 0) { /* the commit point */
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not rename \"%s\": %s", tmp,
                        strerror(errno));
        goto out;
    }
    committed = true;
    if (fsync_fd(pfd, pending, err) != 0 || roll_forward(d, pfd, err) != 0)
        goto out;
    ret = 0;
out:
    if (ret != 0 && !committed && pfd >= 0) {
        struct dbssl_error ignored;
        discard_pending(d, &ignored); /* not committed: leave the old set alone */
    }
    if (pfd >= 0)
        close(pfd);
    strbuf_free(&manifest);
    return ret;
}
