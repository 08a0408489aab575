/*
 * pin.c - private copies of the accepted TLS files (see pin.h).
 *
 * The directory is made by mkdtemp() in a base no other user can change
 * (safedir.h; a sticky /tmp is fine: nobody can rename or delete what is
 * ours there) and held open: the copies are written relative to that
 * descriptor.  A /tmp cleaner may delete it; another local user may then
 * create a directory of the same name, open to everyone, and wait for us to
 * write keys into it or read their certificates from it.  So a directory
 * that vanished is never re-created or re-used by name: a fresh one is made
 * by mkdtemp() and libpq is pointed at the new paths (the checker hands
 * them to conn.c at every connect).
 *
 * The directory is named after the process ("dbssl-tls-PID-XXXXXX") so that
 * copies left by a process that was killed can be recognised and removed by
 * the next one: they may hold a private key.
 */
#include "pin.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keypass.h"
#include "log.h"
#include "safedir.h"
#include "util.h"

#define PIN_PREFIX "dbssl-tls-"
#define NPINNED    4

/* The copies' names, in the order of pinned_files(). */
static const char *const copy_names[NPINNED] = {"ca.crt", "client.crt", "client.key", "crl.pem"};

static void pinned_files(struct dbssl_pinned *pin, struct dbssl_pinned_file *pf[NPINNED])
{
    pf[0] = &pin->ca;
    pf[1] = &pin->cert;
    pf[2] = &pin->key;
    pf[3] = &pin->crl;
}

static void pin_clear(struct dbssl_pinned *pin);

void dbssl_pin_init(struct dbssl_pinned *pin)
{
    memset(pin, 0, sizeof(*pin));
    pin->dirfd = -1;
    pthread_mutex_init(&pin->mu, NULL);
}

/* A base for private directories, open, with its path. */
struct base {
    int fd;
    char path[PATH_BUF];
};

/*
 * The first safe base of $RUNTIME_DIRECTORY (systemd's, for services),
 * $XDG_RUNTIME_DIR (the user's, on a tmpfs no cleaner touches), $TMPDIR
 * (where the user asked for temporary files) and /tmp.  One that is not
 * safe is skipped with a warning: the next one is as good a place.
 */
static int open_base(struct base *b, struct dbssl_error *err)
{
    static const char *const vars[] = {"RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR", "TMPDIR"};
    struct safedir_names names = {"directory for the private copies of the TLS files", "/tmp"};

    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        struct dbssl_error e;
        /* systemd may list several runtime directories: only one is meant */
        if (v == NULL || v[0] != '/' || strchr(v, ':') != NULL)
            continue;
        names.named_by = vars[i];
        dbssl_error_clear(&e);
        b->fd = safedir_open(v, SAFEDIR_SHARED, 0, &names, b->path, sizeof(b->path), NULL, &e);
        if (b->fd >= 0)
            return 0;
        dbssl_log(DBSSL_LOG_WARN, "private_directory_base_refused", "setting", vars[i], "error",
                  e.message, "hint", e.hint, NULL);
    }
    names.named_by = "RUNTIME_DIRECTORY";
    b->fd = safedir_open("/tmp", SAFEDIR_SHARED, 0, &names, b->path, sizeof(b->path), NULL, err);
    return b->fd >= 0 ? 0 : -1;
}

/*
 * Removes our copies left behind by processes that no longer exist: only
 * directories (never symlinks) owned by us, by descriptor (remove_tree_at).
 */
static void remove_stale(const struct base *b)
{
    int fd = dup(b->fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;

    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        long pid;
        char *end;
        struct stat st;
        if (strncmp(de->d_name, PIN_PREFIX, strlen(PIN_PREFIX)) != 0)
            continue;
        pid = strtol(de->d_name + strlen(PIN_PREFIX), &end, 10);
        if (end == de->d_name + strlen(PIN_PREFIX) || *end != '-' || pid <= 0)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive, or not ours to judge */
        /* what cannot be removed may hold copies of keys: say so */
        if (fstatat(b->fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
            st.st_uid == geteuid() && remove_tree_at(b->fd, de->d_name) != 0)
            dbssl_log(DBSSL_LOG_WARN, "stale_private_directory_kept", "dir", b->path, "name",
                      de->d_name, "message",
                      "could not remove the copies of a process that has ended; the next start "
                      "tries again",
                      NULL);
    }
    closedir(d);
}

/*
 * Makes a fresh private directory in b and writes the copies there (their
 * bytes are in pin already); on success replaces pin's directory,
 * descriptor and paths (under pin->mu).  The old directory is not touched.
 */
static int make_private(struct dbssl_pinned *pin, const struct base *b, struct dbssl_error *err)
{
    struct dbssl_pinned_file *pf[NPINNED];
    char *dir = xasprintf("%s/" PIN_PREFIX "%ld-XXXXXX", b->path, (long)getpid());
    char *paths[NPINNED] = {NULL};
    const char *name = NULL;
    struct stat st;
    int fd = -1, ret = -1;

    pinned_files(pin, pf);
    if (dir == NULL || mkdtemp(dir) == NULL) {
        dbssl_error_set(err, DBSSL_ERR_IO,
                        "Set RUNTIME_DIRECTORY (or TMPDIR) to a directory the user running dbssl "
                        "can write.",
                        "could not create a private directory for the TLS files in \"%s\": %s",
                        b->path, dir ? strerror(errno) : "out of memory");
        goto out;
    }
    /* by descriptor from here on: mkdtemp made it 0700 and ours, check that it still is */
    name = strrchr(dir, '/') + 1;
    fd = openat(b->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL,
                        "private directory \"%s\" was replaced before it could be used", dir);
        goto out;
    }
    for (size_t i = 0; i < NPINNED; i++) {
        struct file_at f;
        if (pf[i]->data == NULL)
            continue;
        if ((paths[i] = xasprintf("%s/%s", dir, copy_names[i])) == NULL) {
            dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
            goto out;
        }
        f = (struct file_at){fd, copy_names[i], paths[i], 0};
        if (write_file_at(&f, pf[i]->data, pf[i]->len, 0600, (uid_t)-1, (gid_t)-1, err) != 0)
            goto out;
    }
    /* adopt: the old directory's descriptor and paths go */
    pthread_mutex_lock(&pin->mu);
    if (pin->dir != NULL)
        close(pin->dirfd);
    free(pin->dir);
    pin->dir = dir;
    pin->dirfd = fd;
    for (size_t i = 0; i < NPINNED; i++) {
        free(pf[i]->path);
        pf[i]->path = paths[i];
        paths[i] = NULL;
    }
    pthread_mutex_unlock(&pin->mu);
    dir = NULL;
    fd = -1;
    ret = 0;
out:
    if (fd >= 0) { /* half made: remove what we wrote, by descriptor */
        for (size_t i = 0; i < NPINNED; i++)
            unlinkat(fd, copy_names[i], 0);
        close(fd);
        unlinkat(b->fd, name, AT_REMOVEDIR);
    }
    for (size_t i = 0; i < NPINNED; i++)
        free(paths[i]);
    free(dir);
    return ret;
}

int dbssl_pin_files(const struct dbssl_config *cfg, struct dbssl_pinned *pin,
                    struct dbssl_error *err)
{
    struct dbssl_file_ref ca, cert, key, crl = {"DB_SSL_CRL", "", false};
    const struct dbssl_file_ref *orig[NPINNED] = {NULL, NULL, NULL, NULL};
    struct dbssl_pinned_file *pf[NPINNED];
    struct base b = {-1, ""};
    int ret = -1;

    pinned_files(pin, pf);
    /* stat(), not open(): a missing CA is not copied (validation reports it) */
    if (dbssl_config_ca_file(cfg, &ca) && access(ca.path, F_OK) == 0)
        orig[0] = &ca;
    if (dbssl_config_client_files(cfg, &cert, &key)) {
        orig[1] = &cert;
        orig[2] = &key;
    }
    if (cfg->crl != NULL) {
        snprintf(crl.path, sizeof(crl.path), "%s", cfg->crl);
        orig[3] = &crl;
    }
    for (size_t i = 0; i < NPINNED; i++) {
        /* a generated file never through a symlink, as certs_files.c reads the set */
        struct file_at f = {AT_FDCWD, orig[i] ? orig[i]->path : "", NULL,
                            orig[i] && orig[i]->generated ? FILE_AT_NOFOLLOW : 0};
        if (orig[i] != NULL && read_file_at(&f, "TLS file", CONFIG_FILE_MAX, &pf[i]->data,
                                            &pf[i]->len, NULL, err) != 0)
            goto out;
    }
    if (cfg->client_key_password_file != NULL) {
        struct dbssl_keypass kp;
        if (dbssl_keypass_get(cfg, &kp, err) != 0)
            goto out;
        pin->keypass = kp.text;
    }
    if (open_base(&b, err) != 0)
        goto out;
    remove_stale(&b);
    ret = make_private(pin, &b, err);
out:
    if (b.fd >= 0)
        close(b.fd);
    if (ret != 0)
        pin_clear(pin);
    return ret;
}

int dbssl_pin_verify(const struct dbssl_config *cfg, const struct dbssl_pinned *pin,
                     struct dbssl_error *err)
{
    struct dbssl_file_ref ca, cert, key;
    const char *orig[NPINNED] = {NULL, NULL, NULL, cfg->crl};
    const struct dbssl_pinned_file *pf[NPINNED] = {&pin->ca, &pin->cert, &pin->key, &pin->crl};

    if (dbssl_config_ca_file(cfg, &ca))
        orig[0] = ca.path;
    if (dbssl_config_client_files(cfg, &cert, &key)) {
        orig[1] = cert.path;
        orig[2] = key.path;
    }
    for (size_t i = 0; i < NPINNED; i++) {
        char *now = NULL;
        size_t len = 0;
        bool same;
        if (pf[i]->path == NULL || orig[i] == NULL)
            continue;
        if (read_file(orig[i], "TLS file", CONFIG_FILE_MAX, &now, &len, err) != 0)
            return -1;
        same = len == pf[i]->len && memcmp(now, pf[i]->data, len) == 0;
        explicit_bzero(now, len);
        free(now);
        if (!same) {
            dbssl_error_set(err, DBSSL_ERR_CERT,
                            "Write new certificate files completely (for example by a rename or a "
                            "symlink swap); the reload is tried again when they change.",
                            "file \"%s\" changed while the new settings were being checked",
                            orig[i]);
            return -1;
        }
    }
    return 0;
}

bool dbssl_pin_same(const struct dbssl_pinned *a, const struct dbssl_pinned *b)
{
    const struct dbssl_pinned_file *fa[NPINNED] = {&a->ca, &a->cert, &a->key, &a->crl};
    const struct dbssl_pinned_file *fb[NPINNED] = {&b->ca, &b->cert, &b->key, &b->crl};

    for (size_t i = 0; i < NPINNED; i++)
        if ((fa[i]->data == NULL) != (fb[i]->data == NULL) || fa[i]->len != fb[i]->len ||
            (fa[i]->len != 0 && memcmp(fa[i]->data, fb[i]->data, fa[i]->len) != 0))
            return false;
    return true;
}

/*
 * Whether the directory we hold is still where libpq looks: not deleted
 * (a directory's link count drops to 0) and its path still names it (not
 * something someone else made under that name since).
 */
static bool still_ours(const struct dbssl_pinned *pin)
{
    struct stat held, named;

    return fstat(pin->dirfd, &held) == 0 && held.st_nlink > 0 && lstat(pin->dir, &named) == 0 &&
           named.st_dev == held.st_dev && named.st_ino == held.st_ino;
}

int dbssl_pin_restore(struct dbssl_pinned *pin, struct dbssl_error *err)
{
    struct dbssl_pinned_file *pf[NPINNED];
    struct base b = {-1, ""};
    int ret;

    if (pin->dir == NULL)
        return 0;
    pinned_files(pin, pf);
    if (still_ours(pin)) {
        /* only we can write in it: a copy that is not there was deleted */
        for (size_t i = 0; i < NPINNED; i++) {
            struct stat st;
            struct file_at f = {pin->dirfd, copy_names[i], pf[i]->path, 0};
            if (pf[i]->path != NULL &&
                fstatat(pin->dirfd, copy_names[i], &st, AT_SYMLINK_NOFOLLOW) != 0 &&
                write_file_at(&f, pf[i]->data, pf[i]->len, 0600, (uid_t)-1, (gid_t)-1, err) != 0)
                return -1;
        }
        return 0;
    }
    /* gone (or replaced): a fresh directory, never the old name */
    if (open_base(&b, err) != 0)
        return -1;
    ret = make_private(pin, &b, err);
    close(b.fd);
    if (ret == 0)
        dbssl_log(DBSSL_LOG_WARN, "private_directory_replaced", "dir", pin->dir, "cause",
                  "the previous one was deleted (a tmp cleaner?); a new one was made", NULL);
    return ret;
}

/* Deletes the copies and the directory pin holds; pin's memory is left as it is. */
static void erase(const struct dbssl_pinned *pin)
{
    struct stat held, named;
    const char *name;
    int parent;

    if (pin->dir == NULL)
        return;
    for (size_t i = 0; i < NPINNED; i++)
        unlinkat(pin->dirfd, copy_names[i], 0);
    /* the directory itself, from its real parent, and only if the name is still it */
    name = strrchr(pin->dir, '/') + 1;
    parent = openat(pin->dirfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent >= 0 && fstat(pin->dirfd, &held) == 0 &&
        fstatat(parent, name, &named, AT_SYMLINK_NOFOLLOW) == 0 && named.st_dev == held.st_dev &&
        named.st_ino == held.st_ino)
        unlinkat(parent, name, AT_REMOVEDIR);
    if (parent >= 0)
        close(parent);
}

void dbssl_pin_erase(struct dbssl_pinned *pin)
{
    pthread_mutex_lock(&pin->mu);
    erase(pin);
    pthread_mutex_unlock(&pin->mu);
}

/* Deletes the copies and frees what pin holds: pin is empty again. */
static void pin_clear(struct dbssl_pinned *pin)
{
    struct dbssl_pinned_file *pf[NPINNED];

    erase(pin);
    if (pin->dir != NULL)
        close(pin->dirfd);
    pin->dirfd = -1;
    free(pin->dir);
    pin->dir = NULL;
    pinned_files(pin, pf);
    for (size_t i = 0; i < NPINNED; i++) {
        free(pf[i]->path);
        if (pf[i]->data != NULL)
            explicit_bzero(pf[i]->data, pf[i]->len); /* may be a private key */
        free(pf[i]->data);
        memset(pf[i], 0, sizeof(*pf[i]));
    }
    if (pin->keypass != NULL)
        explicit_bzero(pin->keypass, strlen(pin->keypass));
    free(pin->keypass);
    pin->keypass = NULL;
}

void dbssl_pin_remove(struct dbssl_pinned *pin)
{
    pin_clear(pin);
    pthread_mutex_destroy(&pin->mu);
}
