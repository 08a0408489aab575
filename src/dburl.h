/*
 * dburl.h - DATABASE_URL parsed by libpq into struct dbssl_url (config.h),
 * its display string, and a description without its content when libpq
 * rejects it.
 */
#ifndef DBSSL_DBURL_H
#define DBSSL_DBURL_H

#include "config.h"

/*
 * Parses url (NULL or "" for unset) into u, which must be zeroed.  When libpq
 * accepts it, u->parsed is true and *display is url with its passwords masked
 * ("***"); the masked spans are kept in u->raw_secrets.  When libpq rejects it
 * (or reads part of a password as host, port or database), u->error and
 * u->hint say why without a byte of url beyond its scheme, and *display only
 * gives its length.  *display is the caller's.  Returns -1 only when out of
 * memory.
 */
int dbssl_url_parse(struct dbssl_url *u, const char *url, char **display) DBSSL_MUSTCHECK;

/* Frees the strings of u (not u itself). */
void dbssl_url_free(struct dbssl_url *u);

#endif
