/*
 * libpqcaps.h - what the linked libpq can do, asked at run time.
 *
 * libpq keeps growing TLS parameters (sslcertmode and require_auth in 16,
 * sslnegotiation in 17).  dbssl is built against one libpq and may run with
 * a newer one, so a parameter's presence is asked of the libpq in the
 * process (PQconndefaults(), the table libpq itself parses with), never
 * decided at compile time.  Part of the settings layer: validation refuses
 * a setting the linked libpq cannot honour.
 */
#ifndef DBSSL_LIBPQCAPS_H
#define DBSSL_LIBPQCAPS_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the linked libpq knows the connection parameter keyword. */
bool dbssl_libpq_has(const char *keyword);

/*
 * Whether keyword is a secret: password and sslpassword, and whatever else
 * the linked libpq marks as one in its table (dispchar "*", as
 * oauth_client_secret in libpq 18), so that a newer libpq's secret is
 * masked too.  The one answer for masking DATABASE_URL and for listing
 * connection parameters.
 */
bool dbssl_libpq_is_secret(const char *keyword);

/* The linked libpq's version as PQlibVersion() gives it (150018 for 15.18). */
int dbssl_libpq_version(void);

/* A PostgreSQL version number (PQlibVersion, PQserverVersion) as written: "15.18", "9.6.24". */
void dbssl_pg_version_text(int version, char *buf, size_t len);

#endif
