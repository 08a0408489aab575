/*
 * mapping.c - docs/controls.tsv, compiled in, read into a table: which
 * framework requirement each control evidences, with its source (see
 * audit.h).  The file is data a person edits, so it is checked like input:
 * the header names the columns, every line has all six.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "controls_tsv.h"
#include "util.h"

#define NCOLS 6
static const char *const columns[NCOLS] = {"control",     "framework", "reference",
                                           "requirement", "document",  "url"};

static int bad_line(struct dbssl_error *err, int line, const char *what)
{
    dbssl_error_set(err, DBSSL_ERR_INTERNAL,
                    "Fix docs/controls.tsv: tab-separated, one mapping per line, six columns.",
                    "docs/controls.tsv line %d: %s", line, what);
    return -1;
}

/* Splits line at tabs into f; returns the number of fields. */
static size_t split(char *line, char **f, size_t max)
{
    size_t n = 0;

    for (char *p = line; n < max; n++) {
        char *tab = strchr(p, '\t');
        f[n] = p;
        if (tab == NULL)
            return n + 1;
        *tab = '\0';
        p = tab + 1;
    }
    return max + 1; /* too many */
}

int dbssl_audit_mappings_load(const char *text, struct dbssl_audit_mappings *out,
                              struct dbssl_error *err)
{
    bool header = false;
    int lineno = 0;
    char *p;

    memset(out, 0, sizeof(*out));
    if ((out->buf = xstrdup(text ? text : dbssl_controls_tsv)) == NULL)
        goto oom;
    for (p = out->buf; *p != '\0';) {
        char *nl = strchr(p, '\n'), *f[NCOLS + 1];
        struct dbssl_audit_mapping *v;
        size_t n;
        char *line = p;
        if (nl != NULL)
            *nl = '\0';
        p = nl ? nl + 1 : p + strlen(p);
        lineno++;
        if (line[0] == '#' || line[0] == '\0')
            continue;
        n = split(line, f, NCOLS);
        if (n != NCOLS) {
            dbssl_audit_mappings_free(out);
            return bad_line(err, lineno, "expected six tab-separated columns");
        }
        if (!header) {
            for (size_t i = 0; i < NCOLS; i++)
                if (strcmp(f[i], columns[i]) != 0) {
                    dbssl_audit_mappings_free(out);
                    return bad_line(err, lineno,
                                    "the header must name the columns "
                                    "control, framework, reference, requirement, "
                                    "document, url");
                }
            header = true;
            continue;
        }
        for (size_t i = 0; i + 1 < NCOLS; i++)
            if (f[i][0] == '\0') {
                dbssl_audit_mappings_free(out);
                return bad_line(err, lineno, "an empty column (only url may be empty)");
            }
        if ((v = realloc(out->v, (out->n + 1) * sizeof(*v))) == NULL)
            goto oom;
        out->v = v;
        out->v[out->n++] = (struct dbssl_audit_mapping){f[0], f[1], f[2], f[3], f[4], f[5]};
    }
    if (out->n == 0) {
        dbssl_audit_mappings_free(out);
        return bad_line(err, lineno, "no mapping at all");
    }
    return 0;
oom:
    dbssl_audit_mappings_free(out);
    dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
    return -1;
}

void dbssl_audit_mappings_free(struct dbssl_audit_mappings *m)
{
    if (m == NULL)
        return;
    free(m->v);
    free(m->buf);
    memset(m, 0, sizeof(*m));
}
