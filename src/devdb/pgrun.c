/*
 * pgrun.c - finding the machine's PostgreSQL server programs and running one
 * of them (initdb, pg_ctl, psql) with a deadline, turning a failure into an
 * error that quotes the last lines it printed.
 */
#include "pgrun.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* The last n non-empty lines of text, joined by " | ", redacted; caller frees. */
char *dbssl_pgrun_tail(const struct dbssl_config *cfg, const char *text, int n)
{
    const char *p = text ? text + strlen(text) : NULL;
    const char *start;
    struct strbuf sb;
    char *joined, *safe;
    int found = 0;

    if (p == NULL || p == text)
        return xstrdup("");
    while (p > text && (p[-1] == '\n' || p[-1] == ' '))
        p--;
    start = p;
    while (start > text && found < n) {
        start--;
        if (*start == '\n' && start + 1 < p)
            found++;
    }
    if (*start == '\n')
        start++;
    strbuf_init(&sb);
    for (const char *c = start; c < p; c++)
        strbuf_append(&sb, *c == '\n' ? " | " : (char[2]){*c, '\0'});
    joined = strbuf_take(&sb);
    safe = dbssl_config_redact(cfg, joined);
    free(joined);
    return safe;
}

char *dbssl_pgrun_file_tail(const struct dbssl_config *cfg, const char *path, int n)
{
    char *data = NULL, *tail;
    size_t len;

    if (read_file(path, "log file", SERVER_FILE_MAX, &data, &len, NULL) != 0)
        return xstrdup("");
    tail = dbssl_pgrun_tail(cfg, data, n);
    free(data);
    return tail;
}

/* ---- locating PostgreSQL -------------------------------------------------------- */

static bool has_server_programs(const char *bindir)
{
    static const char *const progs[] = {"initdb", "pg_ctl", "psql", "postgres"};
    char p[PATH_BUF];

    for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
        if (!path_join(p, sizeof(p), bindir, progs[i]) || access(p, X_OK) != 0)
            return false;
    }
    return true;
}

bool dbssl_pgrun_which(const char *name, char *out, size_t len)
{
    const char *path = getenv("PATH");

    for (const char *p = path; p != NULL && *p != '\0';) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        /* only absolute entries: a relative one would depend on the working directory */
        if (n > 0 && p[0] == '/' && (size_t)snprintf(out, len, "%.*s/%s", (int)n, p, name) < len &&
            access(out, X_OK) == 0)
            return true;
        p = colon ? colon + 1 : NULL;
    }
    if (len > 0)
        out[0] = '\0';
    return false;
}

/* pg_config from PATH (execve does not search PATH). */
static bool bindir_from_pg_config(char *out, size_t len)
{
    char prog[PATH_BUF], *output = NULL;
    const char *argv[] = {prog, "--bindir", NULL};
    struct dbssl_proc_run r = {argv, NULL, NULL, NULL, 10};
    int status = -1;
    bool ok = false;

    if (!dbssl_pgrun_which("pg_config", prog, sizeof(prog)))
        return false;
    if (dbssl_proc_run(&r, &status, &output, NULL) != 0 || status != 0 || output == NULL)
        goto out;
    output[strcspn(output, "\r\n")] = '\0';
    if (output[0] == '/' && strlen(output) < len && has_server_programs(output)) {
        snprintf(out, len, "%s", output);
        ok = true;
    }
out:
    free(output);
    return ok;
}

/* The newest /usr/lib/postgresql/<version>/bin with the server programs. */
static bool bindir_from_debian_layout(char *out, size_t len)
{
    DIR *d = opendir("/usr/lib/postgresql");
    struct dirent *de;
    long best = -1, v;
    char cand[PATH_BUF];

    if (d == NULL)
        return false;
    while ((de = readdir(d)) != NULL) {
        if (!parse_long(de->d_name, 1, 1000, &v) || v <= best)
            continue;
        snprintf(cand, sizeof(cand), "/usr/lib/postgresql/%s/bin", de->d_name);
        if (has_server_programs(cand) && strlen(cand) < len) {
            best = v;
            snprintf(out, len, "%s", cand);
        }
    }
    closedir(d);
    return best >= 0;
}

int dbssl_pgrun_find_bindir(char *out, size_t len, struct dbssl_error *err)
{
    if (bindir_from_pg_config(out, len) || bindir_from_debian_layout(out, len))
        return 0;
    dbssl_error_set(err, DBSSL_ERR_IO,
                    "Install the PostgreSQL server (Debian and Ubuntu: apt-get install "
                    "postgresql), or put the pg_config of an installed server on PATH.",
                    "could not find the PostgreSQL server programs (initdb, pg_ctl, postgres)");
    return -1;
}

/*
 * Runs bindir/prog with args; on failure sets err with what failed and the
 * last lines of its output.  *output (optional) gets the output.
 */
int dbssl_pgrun(const struct dbssl_pgrun *rn, const char *what, const char *const *args,
                const char *input, int timeout_s, const char *hint, struct dbssl_error *err)
{
    const char *argv[24];
    char prog[PATH_BUF], *output = NULL, *tail = NULL;
    size_t n = 0;
    int status = -1, ret = -1;
    struct dbssl_proc_run r;

    if (!path_join(prog, sizeof(prog), rn->bindir, args[0])) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, NULL, "path \"%s/%s\" is too long", rn->bindir,
                        args[0]);
        goto out;
    }
    argv[n++] = prog;
    for (size_t i = 1; args[i] != NULL && n < 23; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    r = (struct dbssl_proc_run){argv, rn->user, rn->cwd, input, timeout_s};
    if (dbssl_proc_run(&r, &status, &output, err) != 0)
        goto out;
    if (status != 0) {
        tail = dbssl_pgrun_tail(rn->cfg, output, DBSSL_PGRUN_TAIL_LINES);
        if (status < 0)
            dbssl_error_set(err, DBSSL_ERR_IO, hint, "%s did not finish within %d seconds: %s",
                            what, timeout_s, tail ? tail : "");
        else
            dbssl_error_set(err, DBSSL_ERR_IO, hint, "%s failed (exit status %d): %s", what, status,
                            tail ? tail : "");
        goto out;
    }
    ret = 0;
out:
    free(tail);
    free(output);
    return ret;
}
