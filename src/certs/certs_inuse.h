/*
 * certs_inuse.h - the certificates a set of settings puts in use: each
 * certificate of the CA bundle and the client certificate, read once when
 * the set is loaded (reload.h) and carried into every health snapshot
 * (health.h), so that what is reported is the set in use, even after the
 * files on disk were replaced by ones a reload refused.  Plain C: the
 * reading is certinfo.c's.
 */
#ifndef DBSSL_CERTS_INUSE_H
#define DBSSL_CERTS_INUSE_H

#include <stddef.h>

#include "config.h"
#include "error_int.h"

/* One certificate in use (the server's own is in the TLS state, conn_int.h). */
struct dbssl_inuse_cert {
    char role[16]; /* "ca", "client" */
    char *path;
    char *subject;
    char *serial;
    long long not_before;
    long long not_after;
};

struct dbssl_inuse_certs {
    struct dbssl_inuse_cert *v;
    size_t n;
    char **notes; /* files that could not be read: become warnings */
    size_t n_notes;
};

/*
 * Reads the certificates in use (CA bundle, client certificate) of cfg.  An
 * unreadable file is a note, not a failure.  -1 only on out-of-memory.
 * Free with dbssl_inuse_certs_free().
 */
int dbssl_inuse_certs_collect(const struct dbssl_config *cfg, struct dbssl_inuse_certs *out,
                              struct dbssl_error *err) DBSSL_MUSTCHECK;
/* Frees what c holds and empties it; NULL is fine. */
void dbssl_inuse_certs_free(struct dbssl_inuse_certs *c);

/* A deep copy of src into dst (cleared first); -1 on out-of-memory (dst then clear). */
int dbssl_inuse_cert_copy(struct dbssl_inuse_cert *dst,
                          const struct dbssl_inuse_cert *src) DBSSL_MUSTCHECK;
/* Frees what c holds and zeroes it. */
void dbssl_inuse_cert_clear(struct dbssl_inuse_cert *c);

#endif
