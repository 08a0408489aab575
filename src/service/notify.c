/*
 * notify.c - sd_notify() messages for systemd's Type=notify.
 *
 * libsystemd does the protocol (abstract sockets, credentials); we only
 * decide what to say.  MAINPID is sent with READY so that a `dbssl serve`
 * started through a wrapper script is still tracked.
 */
#include "notify.h"

#include <stdio.h>
#include <unistd.h>

#ifdef DBSSL_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

static void say(const char *msg)
{
    /* failures are not actionable: the service manager will time us out */
    (void)sd_notify(0, msg);
}
#else
static void say(const char *msg)
{
    (void)msg;
}
#endif

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
