/*
 * proc.c - fork/exec of helper programs with a deadline, as an unprivileged
 * user when we are root.
 *
 * The privilege drop is done here in C (setgroups, setgid, setuid, then a
 * check that root cannot be regained) rather than through runuser or su:
 * those are not everywhere (runuser is util-linux only, su may ask for a
 * password or go through PAM), they need arguments quoted for a shell, and
 * they pass on an environment we do not control.  Here the child gets exactly
 * the argv and the small environment we choose.
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "util.h"

#define OUTPUT_MAX (64 * 1024)

static int user_from_passwd(const struct passwd *pw, struct dbssl_proc_user *u,
                            struct dbssl_error *err)
{
    if (strlen(pw->pw_name) >= sizeof(u->name)) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, NULL, "user name \"%s\" is too long", pw->pw_name);
        return -1;
    }
    u->uid = pw->pw_uid;
    u->gid = pw->pw_gid;
    snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
    u->drop = geteuid() == 0 && pw->pw_uid != 0;
    return 0;
}

int dbssl_proc_user_by_name(const char *name, struct dbssl_proc_user *u, struct dbssl_error *err)
{
    struct passwd *pw;

    errno = 0;
    pw = getpwnam(name);
    if (pw == NULL) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, "Create the user or run dbssl as another user.",
                        "system user \"%s\" does not exist", name);
        return -1;
    }
    return user_from_passwd(pw, u, err);
}

int dbssl_proc_user_by_uid(uid_t uid, struct dbssl_proc_user *u, struct dbssl_error *err)
{
    struct passwd *pw;

    errno = 0;
    pw = getpwuid(uid);
    if (pw == NULL) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, NULL, "no system user has uid %ld", (long)uid);
        return -1;
    }
    return user_from_passwd(pw, u, err);
}

int dbssl_proc_user_unprivileged(struct dbssl_proc_user *u, struct dbssl_error *err)
{
    if (geteuid() != 0)
        return dbssl_proc_user_by_uid(geteuid(), u, err);
    /* initdb and postgres refuse root: use the distribution's server account */
    if (getpwnam("postgres") != NULL)
        return dbssl_proc_user_by_name("postgres", u, err);
    return dbssl_proc_user_by_name("nobody", u, err);
}

/* In the child: never returns. */
static void child_exec(const struct dbssl_proc_run *r, int in_fd, int out_fd)
{
    static char *const envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C", "LANG=C",
                                 "HOME=/", NULL};
    int devnull;

    /* own group so that a timeout can kill the program and what it started */
    setpgid(0, 0);
    if (in_fd < 0) {
        devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            in_fd = devnull;
    }
    if (in_fd >= 0 && dup2(in_fd, STDIN_FILENO) < 0)
        _exit(126);
    if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(out_fd, STDERR_FILENO) < 0)
        _exit(126);
    if (r->as != NULL && r->as->drop) {
        if (setgroups(1, &r->as->gid) != 0 || setgid(r->as->gid) != 0 || setuid(r->as->uid) != 0) {
            fprintf(stderr, "could not switch to user \"%s\": %s\n", r->as->name, strerror(errno));
            _exit(126);
        }
        if (setuid(0) == 0) {
            fprintf(stderr, "could not drop root privileges\n");
            _exit(126);
        }
    }
    if (chdir(r->cwd ? r->cwd : "/") != 0) {
        fprintf(stderr, "could not change directory to \"%s\": %s\n", r->cwd ? r->cwd : "/",
                strerror(errno));
        _exit(126);
    }
    execve(r->argv[0], (char *const *)r->argv, envp);
    fprintf(stderr, "could not execute \"%s\": %s\n", r->argv[0], strerror(errno));
    _exit(127);
}

/*
 * write() that cannot raise SIGPIPE when the program exited without reading
 * its input, without touching the process-wide disposition (as libpq does:
 * block the signal, then swallow it if it became pending).
 */
static ssize_t write_nosigpipe(int fd, const char *buf, size_t len)
{
    sigset_t block, old, pending;
    struct timespec zero = {0, 0};
    bool was_pending;
    ssize_t w;
    int saved;

    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    sigpending(&pending);
    was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    w = write(fd, buf, len);
    saved = errno;
    if (w < 0 && saved == EPIPE && !was_pending)
        sigtimedwait(&block, NULL, &zero);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return w;
}

/* Pumps input into in_fd and output from out_fd until EOF or the deadline. */
static bool pump(int in_fd, const char *input, int out_fd, struct strbuf *out, long long deadline)
{
    size_t in_left = input ? strlen(input) : 0;
    char buf[4096];

    if (in_fd >= 0 && in_left == 0) {
        close(in_fd);
        in_fd = -1;
    }
    while (out_fd >= 0) {
        struct pollfd pfd[2] = {{out_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
        long long left = deadline - dbssl_mono_ms();
        int n;

        if (left <= 0)
            break;
        n = poll(pfd, in_fd >= 0 ? 2 : 1, (int)(left > 1000 ? 1000 : left));
        if (n < 0 && errno != EINTR)
            break;
        if (n <= 0)
            continue;
        if (in_fd >= 0 && (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write_nosigpipe(in_fd, input, in_left);
            if (w > 0) {
                input += w;
                in_left -= (size_t)w;
            }
            if (w < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (w < 0 || in_left == 0) {
                close(in_fd);
                in_fd = -1;
            }
        }
        if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t rd = read(out_fd, buf, sizeof(buf));
            if (rd <= 0) {
                if (rd < 0 && errno == EINTR)
                    continue;
                close(out_fd);
                out_fd = -1;
            } else if (out->len < OUTPUT_MAX) {
                strbuf_append_n(out, buf, (size_t)rd);
            }
        }
    }
    if (in_fd >= 0)
        close(in_fd);
    if (out_fd >= 0) {
        close(out_fd);
        return false;
    }
    return true;
}

/* Waits for pid until the deadline; kills its group when it passes. */
static int reap(pid_t pid, long long deadline, bool timed_out)
{
    int status;

    for (;;) {
        pid_t w = timed_out ? 0 : waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            return -1;
        if (timed_out || dbssl_mono_ms() >= deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            return -1;
        }
        usleep(10000);
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int dbssl_proc_run(const struct dbssl_proc_run *r, int *exit_status, char **output,
                   struct dbssl_error *err)
{
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
    long long deadline = dbssl_mono_ms() + (long long)r->timeout_s * MS_PER_SECOND;
    struct strbuf out;
    pid_t pid;
    bool done;
    int ret = -1;

    strbuf_init(&out);
    if (output)
        *output = NULL;
    if ((r->input != NULL && pipe2(in_pipe, O_CLOEXEC) != 0) || pipe2(out_pipe, O_CLOEXEC) != 0) {
        dbssl_error_set(err, DBSSL_ERR_INTERNAL, NULL, "could not create a pipe: %s",
                        strerror(errno));
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        dbssl_error_set(err, DBSSL_ERR_INTERNAL, NULL, "could not run \"%s\": %s", r->argv[0],
                        strerror(errno));
        goto out;
    }
    if (pid == 0)
        child_exec(r, in_pipe[0], out_pipe[1]);
    /* non-blocking: a blocked write while the child blocks writing its output is a deadlock */
    if (in_pipe[1] >= 0)
        (void)fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
    close(out_pipe[1]);
    out_pipe[1] = -1;
    if (in_pipe[0] >= 0) {
        close(in_pipe[0]);
        in_pipe[0] = -1;
    }
    done = pump(in_pipe[1], r->input, out_pipe[0], &out, deadline);
    in_pipe[1] = out_pipe[0] = -1; /* closed by pump */
    *exit_status = reap(pid, deadline, !done);
    if (output)
        *output = strbuf_take(&out);
    ret = 0;
out:
    for (int i = 0; i < 2; i++) {
        if (in_pipe[i] >= 0)
            close(in_pipe[i]);
        if (out_pipe[i] >= 0)
            close(out_pipe[i]);
    }
    strbuf_free(&out);
    return ret;
}

bool dbssl_proc_user_can_use_dir(const struct dbssl_proc_user *u, const char *dir)
{
    pid_t pid;
    int status;

    if (u == NULL || !u->drop)
        return access(dir, R_OK | W_OK | X_OK) == 0;
    pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        if (setgroups(1, &u->gid) != 0 || setgid(u->gid) != 0 || setuid(u->uid) != 0)
            _exit(1);
        _exit(access(dir, R_OK | W_OK | X_OK) == 0 ? 0 : 1);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
