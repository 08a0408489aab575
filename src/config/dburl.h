/*
 * dburl.h - DATABASE_URL parsed by libpq into struct dbssl_url,
 * its display string, and a description without its content when libpq
 * rejects it.
 */
#ifndef DBSSL_DBURL_H
#define DBSSL_DBURL_H

#include <stdbool.h>
#include <stddef.h>

#include "error_int.h"

/* DATABASE_URL as libpq parses it (PQconninfoParse); all strings owned here. */
struct dbssl_url {
    bool parsed;      /* PQconninfoParse accepted it (and dbssl too: see userinfo_raw) */
    char *error;      /* why it was rejected, without its content, when !parsed */
    const char *hint; /* static hint for error */
    char *host;       /* as given, possibly a comma-separated list; NULL = default */
    char *hostaddr;   /* as given or NULL */
    char *port;       /* as given or NULL */
    char *user;       /* NULL when not in the URL */
    char *dbname;
    char *password; /* never printed; kept only to redact it from messages */
    /* passwords as written in the URL (%-encoded, quoted), found without
     * libpq, so that they are masked in libpq's messages as written too */
    char *raw_secrets[8];
    size_t n_raw_secrets;
    /* a raw "/" or "@" in the URI's password: libpq would read part of it as
     * host, port or database, so the URL counts as rejected */
    bool userinfo_raw;
    /* ssl keywords present in the URL itself, NULL when absent */
    char *sslmode;
    char *sslrootcert;
    char *sslcert;
    char *sslkey;
    char *sslcrl;
    char *sslpassword;
    char *channel_binding;
    char *application_name;
    /* more keywords dbssl also has a setting for: the URL's own value is not
     * silently replaced by a DB_* default (config.c adopts it) */
    char *ssl_min_protocol_version;
    char *connect_timeout;
    char *sslnegotiation;       /* libpq 17 */
    char *sslcertmode;          /* libpq 16 */
    char *require_auth;         /* libpq 16 */
    char *target_session_attrs; /* a multi-host URL's choice of host (conn/hosts.c) */
};

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
