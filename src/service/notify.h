/*
 * notify.h - service manager readiness (systemd Type=notify).
 *
 * No-ops when NOTIFY_SOCKET is not set (or names no AF_UNIX socket), so
 * callers never need to ask.
 */
#ifndef DBSSL_NOTIFY_H
#define DBSSL_NOTIFY_H

/* READY=1 with a STATUS= line. */
void dbssl_notify_ready(const char *status);
/* RELOADING=1 (a READY=1 must follow when the reload is over). */
void dbssl_notify_reloading(void);
/* STOPPING=1 */
void dbssl_notify_stopping(void);
/* STATUS=... only. */
void dbssl_notify_status(const char *status);

#endif
