/*
 * safedir.h - opening a directory only when no other user can change what
 * is in it.
 *
 * Whoever can write to a directory, or to any directory above it, can
 * rename things in it and put their own in their place: a key written there
 * can be read, a CA found there can be planted.  So before dbssl writes keys
 * into a directory or trusts what it finds there, the directory is opened
 * here and kept open: every directory from "/" down is opened relative to
 * the one above it (openat, O_NOFOLLOW) and checked on that descriptor
 * (fstat): owned by the user running dbssl or by root, and not writable by
 * group or others unless it has the sticky bit (as /tmp has, where nobody
 * can rename what is not theirs).  The directory itself must not be
 * writable by others at all, sticky or not, unless SAFEDIR_SHARED says it is
 * only a base in which a private directory is created.
 *
 * A symlink on the way is followed only when it lives in a directory that
 * passed the checks (so only root or we could have made it), and its target
 * is checked in turn; the directory itself must not be a symlink when
 * SAFEDIR_NO_LINK says so (the certificate set: a link there would let
 * whoever can change it choose where keys go).
 *
 * Callers then work relative to the descriptor (openat, mkdirat, renameat,
 * unlinkat), so a path renamed meanwhile cannot redirect them.
 */
#ifndef DBSSL_SAFEDIR_H
#define DBSSL_SAFEDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error_int.h"

#define SAFEDIR_CREATE  0x1u /* create missing directories: the last with mode, others 0755 */
#define SAFEDIR_NO_LINK 0x2u /* the directory itself must not be a symlink */
#define SAFEDIR_SHARED  0x4u /* the directory may be shared if sticky (a base such as /tmp) */

/*
 * What a directory is, for messages: what ("certificate directory") and
 * named_by, the setting or option that names it ("DB_SSL_AUTO_CERT_DIR",
 * "--dir"), used in hints.
 */
struct safedir_names {
    const char *what;
    const char *named_by;
};

/*
 * Opens path as described above and returns its descriptor (O_DIRECTORY,
 * close-on-exec), or -1 with err set (DBSSL_ERR_CONFIG when the directory
 * is not safe, naming the directory at fault and the fix).  resolved, when
 * not NULL, gets the absolute path opened (symlinks above it resolved).
 * Without SAFEDIR_CREATE, a path that does not exist sets *missing (when
 * missing is not NULL) instead of an error.
 */
int safedir_open(const char *path, unsigned flags, mode_t mode, const struct safedir_names *names,
                 char *resolved, size_t resolved_len, bool *missing,
                 struct dbssl_error *err) DBSSL_MUSTCHECK;

#endif
