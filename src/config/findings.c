/*
 * findings.c - the list validation reports: every finding with its
 * severity, setting, primary message, detail and hint, read by the CLI and
 * by applications (dbssl/config.h's dbssl_findings_*).
 */
#include "findings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

struct dbssl_findings {
    struct dbssl_finding *items;
    size_t n;
    bool oom;
};

struct dbssl_findings *dbssl_findings_new(void)
{
    return calloc(1, sizeof(struct dbssl_findings));
}

int dbssl_findings_addx(struct dbssl_findings *f, enum dbssl_severity sev, unsigned flags,
                        const char *setting, const char *detail, const char *hint, const char *fmt,
                        ...)
{
    struct dbssl_finding *n;
    va_list ap;
    char msg[2048];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    n = realloc(f->items, (f->n + 1) * sizeof(*n));
    if (n == NULL) {
        f->oom = true;
        return -1;
    }
    f->items = n;
    n[f->n].severity = sev;
    n[f->n].flags = flags;
    n[f->n].setting = xstrdup(setting);
    n[f->n].message = xstrdup(msg);
    n[f->n].detail = xstrdup(detail ? detail : "");
    n[f->n].hint = xstrdup(hint ? hint : "");
    if (!n[f->n].setting || !n[f->n].message || !n[f->n].detail || !n[f->n].hint) {
        free((char *)n[f->n].setting);
        free((char *)n[f->n].message);
        free((char *)n[f->n].detail);
        free((char *)n[f->n].hint);
        f->oom = true;
        return -1;
    }
    f->n++;
    return 0;
}

size_t dbssl_findings_count(const struct dbssl_findings *f)
{
    return f ? f->n : 0;
}

static size_t count_sev(const struct dbssl_findings *f, enum dbssl_severity sev)
{
    size_t c = 0;

    for (size_t i = 0; f && i < f->n; i++)
        if (f->items[i].severity == sev)
            c++;
    return c;
}

size_t dbssl_findings_errors(const struct dbssl_findings *f)
{
    return count_sev(f, DBSSL_SEVERITY_ERROR);
}

size_t dbssl_findings_warnings(const struct dbssl_findings *f)
{
    return count_sev(f, DBSSL_SEVERITY_WARNING);
}

const struct dbssl_finding *dbssl_findings_at(const struct dbssl_findings *f, size_t i)
{
    return (f && i < f->n) ? &f->items[i] : NULL;
}

/* Finding i, or for i out of range an error with empty strings (see dbssl/config.h). */
static const struct dbssl_finding *finding_or_none(const struct dbssl_findings *f, size_t i)
{
    static const struct dbssl_finding none = {DBSSL_SEVERITY_ERROR, 0, "", "", "", ""};
    const struct dbssl_finding *fd = dbssl_findings_at(f, i);

    return fd ? fd : &none;
}

enum dbssl_severity dbssl_findings_severity(const struct dbssl_findings *f, size_t i)
{
    return finding_or_none(f, i)->severity;
}

const char *dbssl_findings_setting(const struct dbssl_findings *f, size_t i)
{
    return finding_or_none(f, i)->setting;
}

const char *dbssl_findings_message(const struct dbssl_findings *f, size_t i)
{
    return finding_or_none(f, i)->message;
}

const char *dbssl_findings_detail(const struct dbssl_findings *f, size_t i)
{
    return finding_or_none(f, i)->detail;
}

const char *dbssl_findings_hint(const struct dbssl_findings *f, size_t i)
{
    return finding_or_none(f, i)->hint;
}

void dbssl_findings_free(struct dbssl_findings *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free((char *)f->items[i].setting);
        free((char *)f->items[i].message);
        free((char *)f->items[i].detail);
        free((char *)f->items[i].hint);
    }
    free(f->items);
    free(f);
}

bool dbssl_findings_oom(const struct dbssl_findings *f)
{
    return f != NULL && f->oom;
}

const char *dbssl_severity_name(enum dbssl_severity severity)
{
    return severity == DBSSL_SEVERITY_ERROR ? "error" : "warning";
}
