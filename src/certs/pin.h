/*
 * pin.h - private copies of the TLS files a set of settings was validated
 * with.
 *
 * libpq reads sslrootcert, sslcert, sslkey and sslcrl at every connect.
 * Pointing it at copies made when the settings were accepted means that a
 * reconnect uses exactly the accepted files, never files replaced on disk
 * since (a refused reload, a half-written rotation).  The copies live in a
 * private 0700 directory made by mkdtemp() in $RUNTIME_DIRECTORY, else
 * $XDG_RUNTIME_DIR, else $TMPDIR, else /tmp (the first no other user can
 * change) and held open; their bytes are kept so that a /tmp cleaner
 * deleting them does no harm: they are written again into a fresh directory.
 */
#ifndef DBSSL_PIN_H
#define DBSSL_PIN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error_int.h"

/* One private copy. */
struct dbssl_pinned_file {
    char *path; /* the copy, or NULL when the settings name no such file */
    char *data; /* its bytes, to re-create it if something deletes it */
    size_t len;
};

/*
 * The private copies of one set of settings, owned by the set that was
 * validated with them (reload.h's struct dbssl_loaded).  dir is NULL while
 * there are none.  dirfd and the paths change only in dbssl_pin_restore(),
 * under mu, which dbssl_pin_erase() takes too.
 */
struct dbssl_pinned {
    char *dir;
    int dirfd; /* dir, held open; valid while dir is not NULL */
    struct dbssl_pinned_file ca, cert, key, crl;
    /* DB_SSL_CLIENT_KEY_PASSWORD_FILE's passphrase as it was read with the
     * files (a key and its passphrase change together); NULL when none.
     * Only in memory, wiped when the pin is removed. */
    char *keypass;
    pthread_mutex_t mu;
};

/* Makes pin empty (no copies); a pin is used only after this, and never copied. */
void dbssl_pin_init(struct dbssl_pinned *pin);

/*
 * Copies the TLS files of cfg (those that exist) into a fresh private
 * directory and records them in pin, which must be empty.  On failure pin
 * is empty again.
 */
int dbssl_pin_files(const struct dbssl_config *cfg, struct dbssl_pinned *pin,
                    struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * Fails when an original no longer holds the bytes that were copied: the
 * file changed while the settings were being validated, so what was
 * validated may not be what was copied.
 */
int dbssl_pin_verify(const struct dbssl_config *cfg, const struct dbssl_pinned *pin,
                     struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Whether a and b hold copies of the same files, byte for byte. */
bool dbssl_pin_same(const struct dbssl_pinned *a, const struct dbssl_pinned *b);

/*
 * Re-creates copies that something deleted.  When their directory is gone
 * (or its name now belongs to something else) a fresh one is made with
 * mkdtemp() and pin's paths change: the old name is never re-used, since
 * another user may have created it meanwhile.  Called by the one thread
 * that connects with the copies (the checker), before connecting.
 */
int dbssl_pin_restore(struct dbssl_pinned *pin, struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * Deletes the copies and their directory now, leaving pin's memory alone:
 * for a process that must end while another thread may still use pin (a
 * forced stop), so that no copy of a key outlives it.  Safe against a
 * concurrent dbssl_pin_restore().
 */
void dbssl_pin_erase(struct dbssl_pinned *pin);

/*
 * Deletes the copies and their directory and frees what pin holds (the
 * bytes wiped first: one may be a private key).  pin needs
 * dbssl_pin_init() before it is used again.
 */
void dbssl_pin_remove(struct dbssl_pinned *pin);

#endif
