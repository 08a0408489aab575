/*
 * connenv.h - the validated settings as an application's own connections
 * need them: libpq's environment variables (PGSSLMODE, PGSSLROOTCERT, ...)
 * and a DATABASE_URL that carries the effective ssl parameters, for drivers
 * that read only the URL.  `dbssl exec` puts them in a program's
 * environment, `dbssl env` prints them.
 *
 * The parameters are exactly those dbssl_connect() passes to libpq
 * (dbssl_conn_build_params), so the application gets what dbssl itself
 * uses; the variable of each keyword is libpq's own (its option table).
 */
#ifndef DBSSL_CONNENV_H
#define DBSSL_CONNENV_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error_int.h"

/* The value that stands for a secret unless it was asked for. */
#define DBSSL_CONNENV_MASK "***"

struct dbssl_connenv_var {
    char *name;  /* DATABASE_URL, PGHOST, PGSSLMODE, ... */
    char *value; /* secrets as DBSSL_CONNENV_MASK unless built with show_secrets */
};

/* The set: DATABASE_URL first, then libpq's variables in name order. */
struct dbssl_connenv {
    struct dbssl_connenv_var *vars;
    size_t n;
    /* keywords libpq reads from no variable (keepalives, sslpassword...):
     * only DATABASE_URL carries them; comma-separated, NULL when none */
    char *url_only;
    bool masked; /* a secret was replaced by DBSSL_CONNENV_MASK */
};

enum dbssl_connenv_format {
    DBSSL_CONNENV_SHELL = 0, /* export NAME='value' lines, for eval */
    DBSSL_CONNENV_JSON,      /* one object, name: value */
    DBSSL_CONNENV_DOTENV,    /* NAME='value' lines, dbssl's own dotenv syntax */
};

/*
 * Builds the set from cfg (loaded and validated by the caller) for a
 * program that inherits envp (NULL: an empty environment).  Relative file
 * paths are made absolute against the working directory, so that the
 * program may change directory.  Secrets (libpq's password fields) are
 * masked unless show_secrets.  Refused (DBSSL_ERR_CONFIG) when a connection
 * service is in play (service= in DATABASE_URL, PGSERVICE in envp): libpq
 * takes a service's values before its variables, so the variables could not
 * carry the validated settings.  On failure sets err and returns -1; out is
 * then empty.  Free with dbssl_connenv_free().
 */
int dbssl_connenv_build(const struct dbssl_config *cfg, bool show_secrets, const char *const *envp,
                        struct dbssl_connenv *out, struct dbssl_error *err) DBSSL_MUSTCHECK;

void dbssl_connenv_free(struct dbssl_connenv *env);

/* The value of name in env, or NULL. */
const char *dbssl_connenv_get(const struct dbssl_connenv *env, const char *name);

/* The format called name ("shell", "json", "dotenv"); false for another name. */
bool dbssl_connenv_format_parse(const char *name, enum dbssl_connenv_format *out) DBSSL_MUSTCHECK;

/* The set as text in fmt, ending with a newline; NULL on out-of-memory. */
char *dbssl_connenv_render(const struct dbssl_connenv *env, enum dbssl_connenv_format fmt);

/* value as one single-quoted shell word ('it'\''s'); appended to sb. */
struct strbuf;
void dbssl_connenv_shell_quote(struct strbuf *sb, const char *value);

/* value quoted so that dotenv_parse() reads it back unchanged; appended to sb. */
void dbssl_connenv_dotenv_quote(struct strbuf *sb, const char *value);

#endif
