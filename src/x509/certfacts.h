/*
 * certfacts.h - what the files of a generated set were found to hold,
 * recorded beside them in ".facts", so that a process that finds a file
 * unchanged takes its facts instead of parsing it again.
 *
 * Why: OpenSSL 3.0 builds its name map, providers and decoders on the first
 * certificate a process parses (about 1.3 ms here, more than the rest of
 * `dbssl validate`), and every further certificate or key costs 0.1-0.3 ms.
 * `dbssl validate`, `serve` and `exec` check the generated set at every
 * start, and found the same nine files every time (issue 11: validate at
 * most 1.5 times an empty program linked with libpq).
 *
 * A file is unchanged when its device, inode, size, mtime and ctime (to
 * the nanosecond) are the ones recorded: writing it or putting another file
 * in its place changes them, and no user can set a ctime.  Facts are plain
 * data (no OpenSSL object: certinfo.x509 is NULL), with one verdict that
 * needs a second file: chain_ok, "issued by ca.crt", which holds only while
 * ca.crt is unchanged too (the caller checks ca.crt's facts hit as well).
 *
 * Trust: only the generated set's directory has a record (certs_files.c
 * writes it, under the set's lock, after a full check found every pair
 * good), and it is read only when the directory passed safedir.h's check,
 * the record is a regular file owned by this user with mode 0600, opened
 * without following a symlink, and it was written by this dbssl with this
 * OpenSSL.  Anything else, or anything unexpected inside, is no facts at
 * all: the files are parsed as before.  Encrypted keys are never recorded.
 */
#ifndef DBSSL_CERTFACTS_H
#define DBSSL_CERTFACTS_H

#include <stdbool.h>
#include <stddef.h>

#include "certinfo.h"
#include "error_int.h"

#define DBSSL_CERTFACTS_FILE ".facts"

struct file_at;
struct stat;

/* A record read, or one being made; free with dbssl_certfacts_free() (NULL is fine). */
struct dbssl_certfacts;

/* The record at f (its directory checked by the caller); NULL when absent or not trusted. */
struct dbssl_certfacts *dbssl_certfacts_read(const struct file_at *f);
/* An empty record, to note files into and write; NULL when out of memory. */
struct dbssl_certfacts *dbssl_certfacts_new(void);
void dbssl_certfacts_free(struct dbssl_certfacts *k);

/*
 * The certificates of file `name` (a file name in the set, no directory)
 * when st is the identity recorded for it: out filled (free it with
 * dbssl_certlist_free()), true.  False (out untouched) otherwise.
 */
bool dbssl_certfacts_certs(const struct dbssl_certfacts *k, const char *name, const struct stat *st,
                           struct dbssl_certlist *out);
/* Whether `name`, unchanged since, was recorded as issued by the set's ca.crt. */
bool dbssl_certfacts_chain_ok(const struct dbssl_certfacts *k, const char *name,
                              const struct stat *st);
/* The key `name` when unchanged: its description and public half (*spki malloc'ed). */
bool dbssl_certfacts_key(const struct dbssl_certfacts *k, const char *name, const struct stat *st,
                         struct dbssl_keyinfo *out, unsigned char **spki, size_t *spki_len);

/* Notes a file as read now (st: the fstat of what was read); a failure only leaves it out. */
void dbssl_certfacts_note_certs(struct dbssl_certfacts *k, const char *name, const struct stat *st,
                                const struct dbssl_certlist *list, bool chain_ok);
/* Notes an unencrypted key that belongs to cert (its public half is the certificate's). */
void dbssl_certfacts_note_key(struct dbssl_certfacts *k, const char *name, const struct stat *st,
                              const struct dbssl_keyinfo *ki, const struct dbssl_certinfo *cert);

/* Writes k in place of the record in directory dir (a new file, renamed over it), mode 0600. */
int dbssl_certfacts_write(const struct dbssl_certfacts *k, int dir,
                          struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * dbssl_certlist_load_at() and dbssl_key_load_at(), answered from known
 * (NULL: never) when the file read is unchanged since it was recorded; the
 * file is read in any case (its fstat is what is compared).  *hit tells
 * which way it went.
 */
int dbssl_certlist_load_known(const struct dbssl_certfacts *known, const struct file_at *f,
                              const char *what, struct dbssl_certlist *out, struct stat *st,
                              bool *hit, struct dbssl_error *err) DBSSL_MUSTCHECK;
int dbssl_key_load_known(const struct dbssl_certfacts *known, const struct file_at *f,
                         const struct dbssl_key_pass *pass, const struct dbssl_certinfo *cert,
                         struct dbssl_keyinfo *out, bool *match, struct stat *st, bool *hit,
                         struct dbssl_error *err) DBSSL_MUSTCHECK;

#endif
