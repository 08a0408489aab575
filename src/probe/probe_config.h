/*
 * probe_config.h - the fleet probe's modules and allowed targets, read from
 * the file DB_PROBE_CONFIG names, and the strict reading of a target.
 *
 * The file is INI-like (docs/fleet.md has the whole format):
 *
 *   # comment (also ';')
 *   [targets]
 *   allow = 10.0.0.0/8, db1.example.com, *.db.internal
 *   default_module = tls
 *
 *   [module tls]
 *   kind = tls
 *   ca_file = /etc/dbssl/fleet-ca.crt
 *
 *   [module login]
 *   kind = login
 *   env_file = /etc/dbssl/probe-login.env
 *
 * Every line is "key = value", a [section] or a comment; an unknown key, a
 * key given twice, a value out of range or a section other than these is an
 * error naming the file, the line and the fix, so that a typo never passes
 * for a default.  Paths are used as written (relative ones from the working
 * directory, as every dbssl setting).  A login module's env file is loaded
 * here, alone (the process environment does not reach it), and must ask for
 * verify-full: its credentials go only to servers whose certificate names
 * them.
 *
 * Targets come from Prometheus (/probe?target=HOST[:PORT]), so they are
 * read strictly: an IPv4 address, an [IPv6] address or a DNS name (letters,
 * digits, '-', '.'), an optional port, nothing else: no scheme, user, path,
 * query, percent sign, space or NUL.  A target must then match the allow
 * list: an address inside one of its networks, or a name equal to one of
 * its names or under one of its "*.domain" entries (names are not resolved
 * to be checked: list the names you trust).
 */
#ifndef DBSSL_PROBE_CONFIG_H
#define DBSSL_PROBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error_int.h"
#include "scan/scan_profile.h"

#define DBSSL_PROBE_NAME_MAX    32 /* a module name: [a-z0-9_-] */
#define DBSSL_PROBE_MAX_MODULES 32
#define DBSSL_PROBE_MAX_ALLOW   256
/* the longest DNS name (RFC 1035), the longest target text: "[v6]:port" or "name:port" */
#define DBSSL_PROBE_HOST_MAX   253
#define DBSSL_PROBE_TARGET_MAX (DBSSL_PROBE_HOST_MAX + 8)
/* a module's timeout when the file gives none, and its range (seconds) */
#define DBSSL_PROBE_DEFAULT_TIMEOUT_S 10
#define DBSSL_PROBE_MAX_TIMEOUT_S     120
/* how often a target's full scan (its grade) is made again by default (seconds) */
#define DBSSL_PROBE_DEFAULT_GRADE_EVERY_S 3600

enum dbssl_probe_kind {
    DBSSL_PROBE_TLS = 0, /* "tls": SSLRequest, handshake, chain, expiry, grade; no login */
    DBSSL_PROBE_LOGIN,   /* "login": a verified connection with the module's credentials */
};

const char *dbssl_probe_kind_name(enum dbssl_probe_kind k);

struct dbssl_probe_module {
    char name[DBSSL_PROBE_NAME_MAX + 1];
    enum dbssl_probe_kind kind;
    long timeout_s; /* the longest a probe takes; a shorter scrape timeout wins */
    char *ca_file;  /* tls: the chain's trust anchors, NULL: the system's */
    const struct dbssl_tls_profile *profile; /* tls: the grade's profile */
    long grade_every_s;                      /* tls: -1: no grade; else seconds between scans */
    long expiry_warn_days;                   /* expiry.h's window */
    char *env_file;                          /* login: the settings file */
    struct dbssl_config *login;              /* login: its settings, loaded and checked (owned) */
    bool server_settings;                    /* login: read pg_settings and session coverage */
};

/* One entry of the allow list. */
struct dbssl_probe_allow {
    enum { DBSSL_ALLOW_NET = 0, DBSSL_ALLOW_NAME, DBSSL_ALLOW_SUFFIX } kind;
    int family;                          /* NET: AF_INET or AF_INET6 */
    unsigned char addr[16];              /* NET: the network address */
    int prefix;                          /* NET: bits */
    char name[DBSSL_PROBE_HOST_MAX + 2]; /* NAME: lower case; SUFFIX: ".domain" */
};

struct dbssl_probe_config {
    char *path;
    struct dbssl_probe_module modules[DBSSL_PROBE_MAX_MODULES];
    size_t n_modules;
    struct dbssl_probe_allow allow[DBSSL_PROBE_MAX_ALLOW];
    size_t n_allow;
    const struct dbssl_probe_module *default_module;
};

/*
 * Reads and checks the file at path (a regular file, at most CONFIG_FILE_MAX
 * bytes), loading each login module's env file.  *out is the caller's (free
 * with dbssl_probe_config_free()).  On an error: -1, err naming the file,
 * the line and the fix (DBSSL_ERR_CONFIG, DBSSL_ERR_IO when unreadable).
 */
int dbssl_probe_config_load(const char *path, struct dbssl_probe_config **out,
                            struct dbssl_error *err) DBSSL_MUSTCHECK;

/* The same from text already read; path names it in messages. */
int dbssl_probe_config_parse(const char *text, size_t len, const char *path,
                             struct dbssl_probe_config **out,
                             struct dbssl_error *err) DBSSL_MUSTCHECK;

void dbssl_probe_config_free(struct dbssl_probe_config *c);

/* The module called name (NULL or "": the default one), or NULL. */
const struct dbssl_probe_module *dbssl_probe_config_module(const struct dbssl_probe_config *c,
                                                           const char *name);

/* A target as read from the request. */
struct dbssl_probe_target {
    char host[DBSSL_PROBE_HOST_MAX +
              1]; /* an address (IPv6 without brackets) or a lower-case name */
    int port;
    bool is_ip;
    char text[DBSSL_PROBE_TARGET_MAX + 1]; /* normalised "host:port" / "[v6]:port" */
};

/*
 * Reads s as HOST[:PORT] (see above; the port defaults to 5432).  False with
 * msg (which quotes s only when it is printable and short) on anything else.
 */
bool dbssl_probe_target_parse(const char *s, struct dbssl_probe_target *t, char *msg,
                              size_t msglen) DBSSL_MUSTCHECK;

/* Whether the allow list lets t be probed. */
bool dbssl_probe_target_allowed(const struct dbssl_probe_config *c,
                                const struct dbssl_probe_target *t);

#endif
