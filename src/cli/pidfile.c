/*
 * pidfile.c - the pid file of `dbssl serve` (see pidfile.h).
 *
 * /proc/PID/comm is checked before signalling so that a stale file whose
 * pid was reused by another program never makes us send it SIGHUP.
 */
#include "pidfile.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int cli_pidfile_write(const char *path, struct dbssl_error *err)
{
    char buf[32];
    int len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

    /* replaced atomically: `dbssl reload` never reads a half-written pid */
    if (write_file_replace(path, buf, (size_t)len, 0644, (uid_t)-1, (gid_t)-1, err) != 0) {
        dbssl_error_replace_hint(
            err, "Choose a --pid-file in a directory the user running dbssl can write.");
        return -1;
    }
    return 0;
}

/* The pid written in path, or -1 with err set. */
static int read_pid(const char *path, pid_t *pid, struct dbssl_error *err)
{
    char *text = NULL, *nl;
    size_t len;
    long v;
    int ret = -1;

    if (read_file(path, "pid file", 64, &text, &len, err) != 0) {
        dbssl_error_replace_hint(err, "Is dbssl serve running with --pid-file? Pass the same file "
                                      "to \"dbssl reload --pid-file\", or use \"kill -HUP\" with "
                                      "its pid.");
        goto out;
    }
    if ((nl = strchr(text, '\n')) != NULL)
        *nl = '\0';
    if (!parse_long(text, 1, 4194304, &v)) {
        dbssl_error_set(err, DBSSL_ERR_IO,
                        "Delete the file and restart dbssl serve with --pid-file.",
                        "pid file \"%s\" does not contain a process id", path);
        goto out;
    }
    *pid = (pid_t)v;
    ret = 0;
out:
    free(text);
    return ret;
}

void cli_pidfile_remove(const char *path)
{
    pid_t pid;

    if (path != NULL && read_pid(path, &pid, NULL) == 0 && pid == getpid())
        (void)unlink(path);
}

int cli_pidfile_find(const char *path, pid_t *pid, struct dbssl_error *err)
{
    char comm_path[64], comm[64] = "";
    FILE *f;

    if (read_pid(path, pid, err) != 0)
        return -1;
    if (kill(*pid, 0) != 0 && errno == ESRCH) {
        dbssl_error_set(err, DBSSL_ERR_IO,
                        "The pid file is stale: dbssl serve is not running. Start it again, "
                        "or delete the file.",
                        "no process %ld is running (from pid file \"%s\")", (long)*pid, path);
        return -1;
    }
    /* /proc files report size 0: read them as a stream */
    snprintf(comm_path, sizeof(comm_path), "/proc/%ld/comm", (long)*pid);
    if ((f = fopen(comm_path, "re")) == NULL)
        return 0; /* no /proc: trust the file */
    if (fgets(comm, sizeof(comm), f) != NULL)
        comm[strcspn(comm, "\n")] = '\0';
    fclose(f);
    if (strcmp(comm, "dbssl") != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO,
                        "The pid file is stale and its pid now belongs to another program. "
                        "Delete the file and restart dbssl serve with --pid-file.",
                        "process %ld (from pid file \"%s\") is \"%s\", not dbssl", (long)*pid, path,
                        comm);
        return -1;
    }
    return 0;
}

/* Whether /proc/PID/cmdline is "dbssl serve ...". */
static bool is_serve(long pid)
{
    char path[64], buf[256];
    size_t len;
    FILE *f;
    const char *argv0, *argv1, *base;

    snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
    if ((f = fopen(path, "re")) == NULL)
        return false;
    len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    argv0 = buf;
    if (strlen(argv0) + 1 >= len)
        return false;
    argv1 = argv0 + strlen(argv0) + 1;
    base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    return strcmp(base, "dbssl") == 0 && strcmp(argv1, "serve") == 0;
}

void cli_find_serve_processes(pid_t *pids, size_t max, size_t *n)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    long self = (long)getpid();

    *n = 0;
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        char path[64];
        struct stat st;
        long v;
        if (!parse_long(de->d_name, 1, 4194304, &v) || v == self)
            continue;
        snprintf(path, sizeof(path), "/proc/%ld", v);
        /* ours only: another user's serve is not ours to reload */
        if (stat(path, &st) != 0 || (st.st_uid != geteuid() && geteuid() != 0))
            continue;
        if (!is_serve(v))
            continue;
        if (*n < max)
            pids[*n] = (pid_t)v;
        (*n)++;
    }
    closedir(d);
}
