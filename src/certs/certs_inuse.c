/*
 * certs_inuse.c - reading the certificates in use (see certs_inuse.h).
 */
#include "certs_inuse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certinfo.h"
#include "util.h"

void dbssl_inuse_cert_clear(struct dbssl_inuse_cert *c)
{
    free(c->path);
    free(c->subject);
    free(c->serial);
    memset(c, 0, sizeof(*c));
}

void dbssl_inuse_certs_free(struct dbssl_inuse_certs *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        dbssl_inuse_cert_clear(&c->v[i]);
    for (size_t i = 0; i < c->n_notes; i++)
        free(c->notes[i]);
    free(c->v);
    free(c->notes);
    memset(c, 0, sizeof(*c));
}

/* Fills dst from the parts; -1 on out-of-memory (dst then clear). */
static int cert_set(struct dbssl_inuse_cert *dst, const char *role, const char *path,
                    const char *subject, const char *serial, long long nb, long long na)
{
    memset(dst, 0, sizeof(*dst));
    snprintf(dst->role, sizeof(dst->role), "%s", role);
    dst->path = xstrdup(path);
    dst->subject = xstrdup(subject);
    dst->serial = xstrdup(serial);
    dst->not_before = nb;
    dst->not_after = na;
    if (dst->path && dst->subject && dst->serial)
        return 0;
    dbssl_inuse_cert_clear(dst);
    return -1;
}

int dbssl_inuse_cert_copy(struct dbssl_inuse_cert *dst, const struct dbssl_inuse_cert *src)
{
    return cert_set(dst, src->role, src->path, src->subject, src->serial, src->not_before,
                    src->not_after);
}

static int add_note(struct dbssl_inuse_certs *c, const char *msg)
{
    char **n = realloc(c->notes, (c->n_notes + 1) * sizeof(*n));

    if (n == NULL)
        return -1;
    c->notes = n;
    if ((n[c->n_notes] = xstrdup(msg)) == NULL)
        return -1;
    c->n_notes++;
    return 0;
}

static int collect_file(struct dbssl_inuse_certs *c, const char *role, const char *path,
                        const char *what)
{
    struct dbssl_certlist list = {NULL, 0};
    struct dbssl_error e;
    struct dbssl_inuse_cert *v;
    int ret = -1;

    dbssl_error_clear(&e);
    if (dbssl_certlist_load(path, what, &list, &e) != 0) {
        ret = e.code == DBSSL_ERR_NOMEM ? -1 : add_note(c, e.message);
        goto out;
    }
    v = realloc(c->v, (c->n + list.n) * sizeof(*v));
    if (v == NULL)
        goto out;
    c->v = v;
    for (size_t i = 0; i < list.n; i++) {
        const struct dbssl_certinfo *ci = &list.certs[i];
        if (cert_set(&c->v[c->n], role, path, ci->subject, ci->serial, ci->not_before,
                     ci->not_after) != 0)
            goto out;
        c->n++;
    }
    ret = 0;
out:
    dbssl_certlist_free(&list);
    return ret;
}

int dbssl_inuse_certs_collect(const struct dbssl_config *cfg, struct dbssl_inuse_certs *out,
                              struct dbssl_error *err)
{
    struct dbssl_file_ref ca, cert, key;
    int ret = -1;

    memset(out, 0, sizeof(*out));
    if (dbssl_config_ca_file(cfg, &ca) &&
        collect_file(out, "ca", ca.path, "CA certificate file") != 0)
        goto out;
    if (dbssl_config_client_files(cfg, &cert, &key) && cert.path[0] != '\0' &&
        collect_file(out, "client", cert.path, "client certificate file") != 0)
        goto out;
    ret = 0;
out:
    if (ret != 0) {
        dbssl_inuse_certs_free(out);
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
    }
    return ret;
}
