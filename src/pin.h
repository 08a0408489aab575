/*
 * pin.h - private copies of the TLS files a set of settings was validated
 * with.
 *
 * libpq reads sslrootcert, sslcert, sslkey and sslcrl at every connect.
 * Pointing it at copies made when the settings were accepted means that a
 * reconnect uses exactly the accepted files, never files replaced on disk
 * since (a refused reload, a half-written rotation).  The copies live in a
 * private 0700 directory ($RUNTIME_DIRECTORY, else $TMPDIR, else /tmp); their
 * bytes are kept so that a /tmp cleaner deleting them does no harm.
 */
#ifndef DBSSL_PIN_H
#define DBSSL_PIN_H

#include "config.h"
#include "error_int.h"

/* Copies the TLS files of cfg (those that exist) and records them in cfg->pinned. */
int dbssl_pin_files(struct dbssl_config *cfg, struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * Fails when an original no longer holds the bytes that were copied: the
 * file changed while the settings were being validated, so what was
 * validated may not be what was copied.
 */
int dbssl_pin_verify(const struct dbssl_config *cfg, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Re-creates copies (and their directory) that something deleted. */
int dbssl_pin_restore(const struct dbssl_config *cfg, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Deletes the copies and their directory. */
void dbssl_pin_remove(const struct dbssl_config *cfg);

#endif
