/*
 * pin.c - private copies of the accepted TLS files (see pin.h).
 *
 * The directory is named after the process ("dbssl-tls-PID-XXXXXX") so that
 * copies left by a process that was killed can be recognised and removed by
 * the next one: they may hold a private key.
 */
#include "pin.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define PIN_MAX_FILE (4 * 1024 * 1024)

static const char *base_dir(void)
{
    const char *names[] = {"RUNTIME_DIRECTORY", "TMPDIR"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = getenv(names[i]);
        /* systemd may list several runtime directories: use the first */
        if (v != NULL && v[0] == '/' && strchr(v, ':') == NULL)
            return v;
    }
    return "/tmp";
}

/* Removes our copies left behind by processes that no longer exist. */
static void remove_stale(const char *base)
{
    DIR *d = opendir(base);
    struct dirent *de;
    char path[4200];

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        long pid;
        char *end;
        struct stat st;
        if (strncmp(de->d_name, "dbssl-tls-", 10) != 0)
            continue;
        pid = strtol(de->d_name + 10, &end, 10);
        if (end == de->d_name + 10 || *end != '-' || pid <= 0)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive, or not ours to judge */
        snprintf(path, sizeof(path), "%s/%s", base, de->d_name);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid())
            remove_tree(path);
    }
    closedir(d);
}

static int pin_one(struct dbssl_config *cfg, const char *src, const char *name,
                   struct dbssl_pinned_file *pf, struct dbssl_error *err)
{
    if (read_file(src, "TLS file", PIN_MAX_FILE, &pf->data, &pf->len, err) != 0)
        return -1;
    if ((pf->path = xasprintf("%s/%s", cfg->pinned.dir, name)) == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return -1;
    }
    return write_file_new(pf->path, pf->data, pf->len, 0600, (uid_t)-1, (gid_t)-1, err);
}

int dbssl_pin_files(struct dbssl_config *cfg, struct dbssl_error *err)
{
    struct dbssl_file_ref ca, cert, key;
    const char *base = base_dir();
    bool have_ca = dbssl_config_ca_file(cfg, &ca);
    bool have_client = dbssl_config_client_files(cfg, &cert, &key);
    char *dir;

    remove_stale(base);
    dir = xasprintf("%s/dbssl-tls-%ld-XXXXXX", base, (long)getpid());
    if (dir == NULL || mkdtemp(dir) == NULL) {
        dbssl_error_set(err, DBSSL_ERR_IO,
                        "Set TMPDIR (or RUNTIME_DIRECTORY) to a directory the user running dbssl "
                        "can write.",
                        "could not create a private directory for the TLS files in \"%s\": %s",
                        base, strerror(errno));
        free(dir);
        return -1;
    }
    cfg->pinned.dir = dir;
    if ((have_ca && access(ca.path, F_OK) == 0 &&
         pin_one(cfg, ca.path, "ca.crt", &cfg->pinned.ca, err) != 0) ||
        (have_client && pin_one(cfg, cert.path, "client.crt", &cfg->pinned.cert, err) != 0) ||
        (have_client && pin_one(cfg, key.path, "client.key", &cfg->pinned.key, err) != 0) ||
        (cfg->crl != NULL && pin_one(cfg, cfg->crl, "crl.pem", &cfg->pinned.crl, err) != 0)) {
        dbssl_pin_remove(cfg);
        return -1;
    }
    return 0;
}

int dbssl_pin_verify(const struct dbssl_config *cfg, struct dbssl_error *err)
{
    struct dbssl_file_ref ca, cert, key;
    const char *orig[4] = {NULL, NULL, NULL, cfg->crl};
    const struct dbssl_pinned_file *pf[4] = {&cfg->pinned.ca, &cfg->pinned.cert, &cfg->pinned.key,
                                             &cfg->pinned.crl};

    if (dbssl_config_ca_file(cfg, &ca))
        orig[0] = ca.path;
    if (dbssl_config_client_files(cfg, &cert, &key)) {
        orig[1] = cert.path;
        orig[2] = key.path;
    }
    for (size_t i = 0; i < 4; i++) {
        char *now = NULL;
        size_t len = 0;
        bool same;
        if (pf[i]->path == NULL || orig[i] == NULL)
            continue;
        if (read_file(orig[i], "TLS file", PIN_MAX_FILE, &now, &len, err) != 0)
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

int dbssl_pin_restore(const struct dbssl_config *cfg, struct dbssl_error *err)
{
    const struct dbssl_pinned_file *pf[4] = {&cfg->pinned.ca, &cfg->pinned.cert, &cfg->pinned.key,
                                             &cfg->pinned.crl};

    if (cfg->pinned.dir == NULL)
        return 0;
    if (access(cfg->pinned.dir, F_OK) != 0 && mkdir(cfg->pinned.dir, 0700) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not re-create directory \"%s\": %s",
                        cfg->pinned.dir, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < 4; i++)
        if (pf[i]->path != NULL && access(pf[i]->path, F_OK) != 0 &&
            write_file_new(pf[i]->path, pf[i]->data, pf[i]->len, 0600, (uid_t)-1, (gid_t)-1, err) !=
                0)
            return -1;
    return 0;
}

void dbssl_pin_remove(const struct dbssl_config *cfg)
{
    const struct dbssl_pinned_file *pf[4] = {&cfg->pinned.ca, &cfg->pinned.cert, &cfg->pinned.key,
                                             &cfg->pinned.crl};

    for (size_t i = 0; i < 4; i++)
        if (pf[i]->path != NULL)
            unlink(pf[i]->path);
    if (cfg->pinned.dir != NULL)
        rmdir(cfg->pinned.dir);
}
