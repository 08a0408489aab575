/*
 * safedir.c - the walk from "/" down to a directory, by descriptors, with
 * the ownership and mode checks of safedir.h.
 *
 * The walk keeps the part of the path still to go in `rest`; a symlink met
 * on the way is replaced by its target followed by the rest (an absolute
 * target restarts at "/"), as the kernel resolves paths, but each directory
 * is checked before anything in it is believed.  "shown" is the absolute,
 * link-free path of the directory reached so far: what messages name.
 */
#include "safedir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* as the kernel's limit: a loop of links fails instead of spinning */
#define LINKS_MAX 40

struct walk {
    const struct safedir_names *names;
    const char *target; /* the whole path, absolute, for messages */
    unsigned flags;
    char rest[2 * PATH_BUF];
    char shown[PATH_BUF];
    int fd; /* the directory reached (shown) */
};

/* "postgres" (uid 101), or uid 101 when the user has no name. */
static void describe_user(uid_t uid, char *buf, size_t len)
{
    struct passwd pw, *res = NULL;
    char tmp[1024];

    if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res != NULL)
        snprintf(buf, len, "\"%s\" (uid %u)", pw.pw_name, (unsigned)uid);
    else
        snprintf(buf, len, "uid %u", (unsigned)uid);
}

static int open_dir_at(int dir, const char *name)
{
    return openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Whether s holds no component but "." (the end of the path). */
static bool at_end(const char *s)
{
    while (*s) {
        size_t n;
        while (*s == '/')
            s++;
        n = strcspn(s, "/");
        if (n == 0)
            break;
        if (n != 1 || s[0] != '.')
            return false;
        s += n;
    }
    return true;
}

/*
 * The rules, on the fstat() of a directory just opened.  A directory above
 * the target may be writable by others only with the sticky bit (nobody
 * can then rename what is not theirs); the target itself not at all,
 * unless it is a shared base (SAFEDIR_SHARED) in which only a private
 * directory is made.  Ownership: us or root (root can do anything anyway).
 */
static int check(struct walk *w, const struct stat *st, bool last, struct dbssl_error *err)
{
    const struct safedir_names *nm = w->names;
    bool shared = last && (w->flags & SAFEDIR_SHARED);
    bool writable = (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
    char user[300], me[300];

    if (st->st_uid != geteuid() && st->st_uid != 0) {
        describe_user(st->st_uid, user, sizeof(user));
        describe_user(geteuid(), me, sizeof(me));
        if (last) {
            char hint[1024];
            snprintf(hint, sizeof(hint),
                     "Its owner can replace anything in it: choose for %s a directory of the user "
                     "running dbssl, %s, or of root (a new one: mkdir -m 0700 DIR).",
                     nm->named_by, me);
            dbssl_error_set(err, DBSSL_ERR_CONFIG, hint, "%s \"%s\" is owned by another user, %s",
                            nm->what, w->shown, user);
        } else {
            char hint[1024];
            snprintf(hint, sizeof(hint),
                     "Its owner could replace the %s: choose for %s a directory whose parents "
                     "all belong to the user running dbssl, %s, or to root.",
                     nm->what, nm->named_by, me);
            dbssl_error_set(err, DBSSL_ERR_CONFIG, hint,
                            "directory \"%s\" above %s \"%s\" is owned by another user, %s",
                            w->shown, nm->what, w->target, user);
        }
        return -1;
    }
    if (!writable || ((!last || shared) && (st->st_mode & S_ISVTX)))
        return 0;
    if (last) {
        char hint[PATH_TEXT_BUF];
        if (shared)
            snprintf(hint, sizeof(hint),
                     "Other users could replace what dbssl creates in it: give it the sticky bit "
                     "(chmod +t \"%s\", as /tmp has), or choose for %s a directory only you can "
                     "write.",
                     w->shown, nm->named_by);
        else
            snprintf(hint, sizeof(hint),
                     "Use a directory only you can write, for example chmod 0700 \"%s\".",
                     w->shown);
        dbssl_error_set(err, DBSSL_ERR_CONFIG, hint,
                        "%s \"%s\" is writable by other users (mode %04o)", nm->what, w->shown,
                        (unsigned)(st->st_mode & 07777));
    } else {
        char hint[PATH_TEXT_BUF];
        snprintf(hint, sizeof(hint),
                 "Other users could rename what is in it and put their own in its place: run "
                 "chmod go-w \"%s\" (or chmod +t for a shared directory such as /tmp), or "
                 "choose for %s a directory elsewhere.",
                 w->shown, nm->named_by);
        dbssl_error_set(err, DBSSL_ERR_CONFIG, hint,
                        "directory \"%s\" above %s \"%s\" is writable by other users (mode %04o)",
                        w->shown, nm->what, w->target, (unsigned)(st->st_mode & 07777));
    }
    return -1;
}

/* Moves to fd (already checked), named name below shown ("..": up one). */
static void step(struct walk *w, int fd, const char *name)
{
    size_t n = strlen(w->shown);

    close(w->fd);
    w->fd = fd;
    if (strcmp(name, "..") == 0) {
        char *slash = strrchr(w->shown, '/');
        if (slash != NULL && slash != w->shown)
            *slash = '\0';
        else
            snprintf(w->shown, sizeof(w->shown), "/");
        return;
    }
    snprintf(w->shown + n, sizeof(w->shown) - n, "%s%s", n > 1 ? "/" : "", name);
}

/* Restarts at "/", checked like every directory on the way. */
static int start_at_root(struct walk *w, bool last, struct dbssl_error *err)
{
    struct stat st;
    int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not open \"/\": %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (w->fd >= 0)
        close(w->fd);
    w->fd = fd;
    snprintf(w->shown, sizeof(w->shown), "/");
    return check(w, &st, last, err);
}

/* Replaces the link name (in the checked directory w->fd) by its target. */
static int follow_link(struct walk *w, const char *name, struct dbssl_error *err)
{
    char target[PATH_BUF], rest[2 * PATH_BUF];
    ssize_t n = readlinkat(w->fd, name, target, sizeof(target) - 1);

    if (n < 0 || (size_t)n >= sizeof(target) - 1) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not read symbolic link \"%s/%s\": %s",
                        w->shown, name, n < 0 ? strerror(errno) : "too long");
        return -1;
    }
    target[n] = '\0';
    if ((size_t)snprintf(rest, sizeof(rest), "%s/%s", target, w->rest) >= sizeof(rest)) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, "Use a shorter path, without long symlink chains.",
                        "path \"%s\" is too long", w->target);
        return -1;
    }
    memcpy(w->rest, rest, sizeof(rest));
    return target[0] == '/' ? start_at_root(w, at_end(w->rest), err) : 0;
}

static void link_error(struct walk *w, const char *name, struct dbssl_error *err)
{
    char path[PATH_BUF], real[PATH_BUF], hint[PATH_TEXT_BUF];

    /* longer than any path the kernel takes: the link is named alone */
    if ((size_t)snprintf(path, sizeof(path), "%s%s%s", w->shown, strlen(w->shown) > 1 ? "/" : "",
                         name) >= sizeof(path))
        snprintf(path, sizeof(path), "%s", name);
    if (realpath(path, real) == NULL)
        snprintf(real, sizeof(real), "the real directory");
    snprintf(hint, sizeof(hint),
             "Give %s the directory the link points to (\"%s\") instead: whoever can change "
             "a link there chooses where the files are written.",
             w->names->named_by, real);
    dbssl_error_set(err, DBSSL_ERR_CONFIG, hint, "%s \"%s\" is a symbolic link", w->names->what,
                    path);
}

/* One component: open it below w->fd (creating it if asked), or follow its link. */
static int walk_one(struct walk *w, const char *name, bool last, mode_t mode, bool *missing,
                    int *links, struct dbssl_error *err)
{
    struct stat st;
    int fd = open_dir_at(w->fd, name), e;

    if (fd < 0 && errno == ENOENT && (w->flags & SAFEDIR_CREATE)) {
        if (mkdirat(w->fd, name, last ? mode : 0755) != 0 && errno != EEXIST) {
            char hint[600];
            snprintf(hint, sizeof(hint),
                     "Check the directory given by %s and that the user running dbssl may "
                     "create it.",
                     w->names->named_by);
            dbssl_error_set(err, DBSSL_ERR_IO, hint, "could not create directory \"%s%s%s\": %s",
                            w->shown, strlen(w->shown) > 1 ? "/" : "", name, strerror(errno));
            return -1;
        }
        fd = open_dir_at(w->fd, name);
    }
    e = errno;
    if (fd < 0 && e == ENOENT && missing != NULL) {
        *missing = true;
        return -1;
    }
    /* O_NOFOLLOW refused it: a symlink (ELOOP), or a non-directory (ENOTDIR) */
    if (fd < 0 && (e == ELOOP || e == ENOTDIR) &&
        fstatat(w->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        if (last && (w->flags & SAFEDIR_NO_LINK)) {
            link_error(w, name, err);
            return -1;
        }
        if (++*links > LINKS_MAX) {
            char hint[600];
            snprintf(hint, sizeof(hint), "Give %s the real directory, not a loop of links.",
                     w->names->named_by);
            dbssl_error_set(err, DBSSL_ERR_CONFIG, hint,
                            "too many levels of symbolic links in \"%s\"", w->target);
            return -1;
        }
        return follow_link(w, name, err);
    }
    if (fd < 0) {
        char hint[600];
        snprintf(hint, sizeof(hint), "Give %s a directory.", w->names->named_by);
        dbssl_error_set(err, e == ENOTDIR ? DBSSL_ERR_CONFIG : DBSSL_ERR_IO, hint,
                        "could not open directory \"%s%s%s\": %s", w->shown,
                        strlen(w->shown) > 1 ? "/" : "", name, strerror(e));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not stat \"%s\": %s", name,
                        strerror(errno));
        close(fd);
        return -1;
    }
    step(w, fd, name);
    return check(w, &st, last, err);
}

int safedir_open(const char *path, unsigned flags, mode_t mode, const struct safedir_names *names,
                 char *resolved, size_t resolved_len, bool *missing, struct dbssl_error *err)
{
    struct walk *w = calloc(1, sizeof(*w));
    char target[PATH_BUF];
    int links = 0, ret = -1;

    if (missing != NULL)
        *missing = false;
    if (w == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return -1;
    }
    w->names = names;
    w->flags = flags;
    w->fd = -1;
    w->target = target;
    /* a relative path starts at the working directory: check its parents too */
    if (path[0] == '/')
        snprintf(target, sizeof(target), "%s", path);
    else if (getcwd(target, sizeof(target)) == NULL ||
             strlen(target) + strlen(path) + 2 > sizeof(target))
        target[0] = '\0';
    else
        snprintf(target + strlen(target), sizeof(target) - strlen(target), "/%s", path);
    if (path[0] == '\0' || target[0] == '\0' || strlen(target) >= PATH_MAX - 1) {
        char hint[PATH_TEXT_BUF];
        snprintf(hint, sizeof(hint), "Give %s an existing directory with a shorter path.",
                 names->named_by);
        dbssl_error_set(err, DBSSL_ERR_CONFIG, hint, "%s \"%s\" is empty or too long", names->what,
                        path);
        goto out;
    }
    snprintf(w->rest, sizeof(w->rest), "%s", target);
    if (start_at_root(w, at_end(w->rest), err) != 0)
        goto out;
    for (;;) {
        char name[NAME_MAX + 1];
        char *p = w->rest;
        size_t n;
        bool last;

        while (*p == '/')
            p++;
        n = strcspn(p, "/");
        if (n == 0)
            break;
        if (n > NAME_MAX) {
            dbssl_error_set(err, DBSSL_ERR_CONFIG, "Use a shorter path.",
                            "a name in \"%s\" is too long", target);
            goto out;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        memmove(w->rest, p + n, strlen(p + n) + 1);
        if (strcmp(name, ".") == 0)
            continue;
        last = at_end(w->rest);
        if (walk_one(w, name, last, mode, missing, &links, err) != 0)
            goto out;
    }
    if (resolved != NULL)
        snprintf(resolved, resolved_len, "%s", w->shown);
    ret = w->fd;
    w->fd = -1;
out:
    if (w->fd >= 0)
        close(w->fd);
    free(w);
    return ret;
}
