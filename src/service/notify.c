/*
 * notify.c - sd_notify() messages for systemd's Type=notify.
 *
 * The protocol is one datagram on the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace), which
 * systemd documents as stable and meant to be spoken without libsystemd
 * (sd_notify(3), "Notes").  We speak it ourselves: linking libsystemd only
 * for this loaded seven libraries (lz4, zstd, lzma, gcrypt, gpg-error, cap)
 * into every dbssl process, 0.6 ms of each command's start
 * (BENCHMARKS.md).  MAINPID is sent with READY so that a `dbssl serve`
 * started through a wrapper script is still tracked.
 */
#include "notify.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void say(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = path ? strlen(path) : 0;
    int fd;

    /* failures are not actionable: the service manager will time us out */
    if (len < 2 || len >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
        return;
    memcpy(sa.sun_path, path, len);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0'; /* the abstract namespace */
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    (void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (const struct sockaddr *)&sa,
                 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
    close(fd);
}

void dbssl_notify_ready(const char *status)
{
    char msg[512];

    snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%ld\nSTATUS=%s", (long)getpid(),
             status ? status : "ready");
    say(msg);
}

void dbssl_notify_reloading(void)
{
    say("RELOADING=1\nSTATUS=reloading configuration");
}

void dbssl_notify_stopping(void)
{
    say("STOPPING=1\nSTATUS=stopping");
}

void dbssl_notify_status(const char *status)
{
    char msg[512];

    snprintf(msg, sizeof(msg), "STATUS=%s", status ? status : "");
    say(msg);
}
