/*
 * pgrun.h - the PostgreSQL server programs of this machine: where they are
 * and how to run one as the server user, for the development database.
 */
#ifndef DBSSL_PGRUN_H
#define DBSSL_PGRUN_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error_int.h"
#include "proc.h"
#include "util.h"

#define DBSSL_PGRUN_TAIL_LINES 3

/* The largest file of the server's dbssl reads: its log, the postgresql.conf initdb wrote. */
#define SERVER_FILE_MAX (16 * 1024 * 1024)

struct dbssl_pgrun {
    const struct dbssl_config *cfg;     /* for redacting output; may be NULL */
    const struct dbssl_proc_user *user; /* who runs the programs */
    char bindir[PATH_BUF];
    const char *cwd; /* NULL: "/" */
};

/* The first absolute PATH entry with an executable name, in out (execve does not search PATH). */
bool dbssl_pgrun_which(const char *name, char *out, size_t len);

/*
 * Finds the directory with initdb, pg_ctl, psql and postgres: `pg_config
 * --bindir` from PATH, else the newest /usr/lib/postgresql/VERSION/bin.
 */
int dbssl_pgrun_find_bindir(char *out, size_t len, struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * Runs bindir/args[0] with args[1..] (NULL-terminated, at most 22), input on
 * stdin.  A non-zero exit or timeout sets err ("WHAT failed (exit status N):
 * last lines") with hint.
 */
int dbssl_pgrun(const struct dbssl_pgrun *rn, const char *what, const char *const *args,
                const char *input, int timeout_s, const char *hint,
                struct dbssl_error *err) DBSSL_MUSTCHECK;

/* The last n non-empty lines of text joined by " | ", password-redacted; caller frees. */
char *dbssl_pgrun_tail(const struct dbssl_config *cfg, const char *text, int n);

/* The same for a file (a server log); "" when it cannot be read. */
char *dbssl_pgrun_file_tail(const struct dbssl_config *cfg, const char *path, int n);

#endif
