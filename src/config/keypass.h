/*
 * keypass.h - the passphrase of an encrypted client key, as libpq's
 * sslpassword: from DB_SSL_CLIENT_KEY_PASSWORD_FILE (a file read like every
 * other file dbssl reads: a regular file, at most KEYPASS_MAX bytes, no
 * group or world access), or sslpassword in DATABASE_URL.
 *
 * The passphrase is a secret: it is held only as long as a caller needs it
 * (validation decrypts the key in memory, conn.c hands it to libpq), wiped
 * when released, and never part of a message.  Part of the settings layer.
 */
#ifndef DBSSL_KEYPASS_H
#define DBSSL_KEYPASS_H

#include <stdbool.h>

#include "config.h"

/* One constant for the size of a passphrase file: a line, with room to spare. */
#define KEYPASS_MAX 4096

struct dbssl_keypass {
    char *text; /* the passphrase, or NULL when none is configured */
    const char
        *setting; /* where it came from: "DB_SSL_CLIENT_KEY_PASSWORD_FILE" or "DATABASE_URL" */
    char from[PATH_TEXT_BUF]; /* that place for messages, e.g. DB_SSL_CLIENT_KEY_PASSWORD_FILE
                                 ("/p") */
};

/*
 * The passphrase the settings give (the file when both the file and the
 * URL's sslpassword are set: validation reports that as a conflict).  A
 * trailing newline (as "echo secret > file" writes) is not part of it.
 * Returns 0 (out->text NULL when none is set) or -1 with err naming the
 * file, what is wrong and the fix, never its content.  Release out with
 * dbssl_keypass_clear().
 */
int dbssl_keypass_get(const struct dbssl_config *cfg, struct dbssl_keypass *out,
                      struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Wipes and frees the passphrase; NULL and a cleared one are fine. */
void dbssl_keypass_clear(struct dbssl_keypass *kp);

#endif
