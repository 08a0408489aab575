/*
 * pidfile.h - `serve --pid-file F` writes its pid there; `dbssl reload`
 * reads it to send SIGHUP, refusing files that are missing, malformed, stale
 * or name a process that is not dbssl.
 */
#ifndef DBSSL_CLI_PIDFILE_H
#define DBSSL_CLI_PIDFILE_H

#include <sys/types.h>

#include "error_int.h"

/* The default of `dbssl reload` (contrib/dbssl.service passes it to serve). */
#define CLI_DEFAULT_PID_FILE "/run/dbssl/dbssl.pid"

/* Writes our pid to path (replacing it). */
int cli_pidfile_write(const char *path, struct dbssl_error *err) DBSSL_MUSTCHECK;
/* Removes path if it still holds our pid; NULL is fine. */
void cli_pidfile_remove(const char *path);
/* The pid of the running dbssl named in path. */
int cli_pidfile_find(const char *path, pid_t *pid, struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * The running `dbssl serve` processes of this user, found through /proc, for
 * when there is no pid file.  Fills at most max pids; *n is how many exist.
 */
void cli_find_serve_processes(pid_t *pids, size_t max, size_t *n);

#endif
