/*
 * proc.h - running a helper program (initdb, pg_ctl, psql) with a deadline,
 * optionally as another user, feeding it stdin and capturing its output.
 *
 * Used by the development database: PostgreSQL's server programs refuse to
 * run as root, so when dbssl runs as root they run as an unprivileged user.
 */
#ifndef DBSSL_PROC_H
#define DBSSL_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "error_int.h"

/* Who a program runs as.  drop=false: as ourselves. */
struct dbssl_proc_user {
    bool drop;
    uid_t uid;
    gid_t gid;
    char name[64];
};

/* Fills u for the system user called name (DBSSL_ERR_CONFIG when unknown). */
int dbssl_proc_user_by_name(const char *name, struct dbssl_proc_user *u,
                            struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Fills u for uid; drop is set only when we are root and uid is not. */
int dbssl_proc_user_by_uid(uid_t uid, struct dbssl_proc_user *u,
                           struct dbssl_error *err) DBSSL_MUSTCHECK;

/* The user the server programs run as: ourselves, or "postgres" / "nobody" when root. */
int dbssl_proc_user_unprivileged(struct dbssl_proc_user *u,
                                 struct dbssl_error *err) DBSSL_MUSTCHECK;

struct dbssl_proc_run {
    const char *const *argv;          /* argv[0] is an absolute path */
    const struct dbssl_proc_user *as; /* NULL: ourselves */
    const char *cwd;                  /* NULL: "/" */
    const char *input;                /* written to stdin, NULL for /dev/null */
    int timeout_s;                    /* the child's process group is killed after it */
};

/*
 * Runs r->argv with a minimal environment (PATH, LC_ALL=C, no PG* variables).
 * *exit_status is the exit code, 128+signal when killed, or -1 on timeout.
 * *output (caller frees, may be NULL) holds stdout and stderr, at most 64 kB.
 * Returns -1 only when the program could not be run at all.
 */
int dbssl_proc_run(const struct dbssl_proc_run *r, int *exit_status, char **output,
                   struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Whether u can read, write and enter dir (checked in a child running as u). */
bool dbssl_proc_user_can_use_dir(const struct dbssl_proc_user *u, const char *dir);

#endif
