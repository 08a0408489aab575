/*
 * certs.h - the generated certificate set of DB_SSL_AUTO_CERT_DIR: a CA, a
 * server pair for PostgreSQL and, for mutual TLS, a client pair.
 *
 * dbssl_certs_ensure() is what the program calls on start (and `dbssl
 * validate`): it generates or renews per the settings and is a no-op when
 * DB_SSL_AUTO_GENERATE is false.  dbssl_certs_generate() is the same engine
 * driven by explicit options (`dbssl certs generate`).  Both are idempotent:
 * a valid set is left untouched, byte for byte.
 *
 * The file-level guarantees are described in certs_files.c (modes, the
 * directory's trust) and certs_swap.c (lock, crash-safe swap); the X.509
 * profile in certs.c.
 */
#ifndef DBSSL_CERTS_H
#define DBSSL_CERTS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error_int.h"
#include "util.h"

/* The files of a set, in the order they are reported. */
enum dbssl_certs_file {
    DBSSL_CERTS_CA_CRT = 0,
    DBSSL_CERTS_CA_KEY,
    DBSSL_CERTS_SERVER_CRT,
    DBSSL_CERTS_SERVER_KEY,
    DBSSL_CERTS_CLIENT_CRT,
    DBSSL_CERTS_CLIENT_KEY,
    DBSSL_CERTS_NFILES
};

struct dbssl_certs_opts {
    const char *dir;          /* the set's directory, created 0700 when missing */
    const char *dir_named_by; /* what named it, for messages; NULL: DB_SSL_AUTO_CERT_DIR */
    long days;                /* validity of new certificates */
    enum dbssl_key_type key_type;
    bool with_ca;             /* false: self-signed server (and client), bundled as ca.crt */
    bool with_client;         /* issue client.crt/client.key */
    const char *client_cn;    /* the database role; NULL: the current OS user, like libpq */
    const char *url_hosts;    /* DATABASE_URL host (comma-separated list) or NULL */
    const char *url_hostaddr; /* DATABASE_URL hostaddr list or NULL */
    const char *extra_hosts;  /* DB_SSL_AUTO_CERT_HOSTS / --hosts, comma-separated, or NULL */
    long renew_within_days;   /* DB_SSL_EXPIRY_WARN_DAYS */
    bool force;               /* replace the whole set */
    const char *owner;        /* user that gets server.crt/server.key (root only), or NULL */
    /* one host's own set (`certs generate --ca-dir`): the server pair is signed by the CA
     * of this other set (its ca.crt and ca.key, read under its lock), the set holds a copy
     * of that ca.crt and no ca.key, and the server certificate names extra_hosts only */
    const char *ca_dir;
};

struct dbssl_certs_result {
    char dir[PATH_BUF]; /* the directory, absolute */
    bool up_to_date;    /* nothing was written */
    bool recovered;     /* an interrupted update was completed (or discarded) first */
    bool owner_changed; /* --owner changed the server pair's ownership */
    unsigned written;   /* bit (1u << enum dbssl_certs_file) per file written */
    unsigned replaced;  /* of those, the files that existed before */
    char reason[DBSSL_CERTS_NFILES][160]; /* why each written file was issued */
    /* user-supplied files: reported, never touched */
    char notes[4][600];
    size_t n_notes;
};

/* Fills opts from the settings (DB_SSL_AUTO_*, DATABASE_URL). */
void dbssl_certs_opts_from_config(const struct dbssl_config *cfg, struct dbssl_certs_opts *opts);

/*
 * Generates, re-issues or renews the set described by opts.  Takes the
 * directory's lock; completes or discards an interrupted earlier update
 * first.  res is always filled.
 */
int dbssl_certs_generate(const struct dbssl_certs_opts *opts, struct dbssl_certs_result *res,
                         struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * Generates/renews per the settings when cfg->auto_generate, else does
 * nothing (res->up_to_date).  User-supplied DB_SSL_CA_CERT and DB_SSL_CLIENT_*
 * files are never written, nor read: their expiry is validation's to report
 * (dbssl_config_validate), and dbssl_certs_report_user_files() notes it for
 * `certs generate`.  Refuses (DBSSL_ERR_CONFIG) when an auto-generation
 * setting is invalid or APP_ENV=production.
 */
int dbssl_certs_ensure(const struct dbssl_config *cfg, struct dbssl_certs_result *res,
                       struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Adds a note to res for every user-supplied certificate that is expired or expiring. */
void dbssl_certs_report_user_files(const struct dbssl_config *cfg, struct dbssl_certs_result *res);

/* "ca.crt", "server.key", ... */
const char *dbssl_certs_file_name(enum dbssl_certs_file f);

/* ---- shared by certs.c and certs_files.c (no OpenSSL types) -------------- */

/* A certificate and its key in PEM; free with certs_pem_clear() (cleanses the key). */
struct certs_pem {
    char *cert;
    size_t cert_len;
    char *key;
    size_t key_len;
};

void certs_pem_clear(struct certs_pem *p);

enum certs_kind {
    CERTS_KIND_CA = 0,
    CERTS_KIND_SERVER,
    CERTS_KIND_CLIENT,
};

/*
 * The server certificate's names as "DNS:name" / "IP:addr" (addresses in
 * inet_ntop form, names lower-case, no duplicates), the format of
 * dbssl_certinfo.sans, NULL-terminated.  Free with certs_names_free().
 */
char **certs_server_names(const struct dbssl_certs_opts *opts, struct dbssl_error *err);
void certs_names_free(char **names);

/* The client certificate's CN: opts->client_cn or the current user's name. */
int certs_client_cn(const struct dbssl_certs_opts *opts, char *buf, size_t len,
                    struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * Private keys of one type made ahead, all at once: RSA keys on a thread
 * each (an RSA-2048 key takes tens to hundreds of milliseconds of prime
 * search; a set needs three), an EC key in a few microseconds on the
 * caller's thread.  certs_issue() takes them in the order they were asked
 * for, whichever thread finished first.  NULL (err set) on failure.
 */
struct certs_keys;
struct certs_keys *certs_keys_make(enum dbssl_key_type t, unsigned n,
                                   struct dbssl_error *err) DBSSL_MUSTCHECK;
void certs_keys_free(struct certs_keys *k);

/*
 * Issues one certificate with the next key of keys (or, when keys is NULL
 * or used up, a new key of opts->key_type).  issuer is the signing CA (cert
 * and key PEM), or NULL for a self-signed certificate.  names: the SANs of
 * a server certificate (certs_server_names); cn: the client's CN.
 */
int certs_issue(enum certs_kind kind, const struct dbssl_certs_opts *opts,
                const struct certs_pem *issuer, char *const *names, const char *cn,
                struct certs_keys *keys, struct certs_pem *out,
                struct dbssl_error *err) DBSSL_MUSTCHECK;

/* The type name a key of type t reports in dbssl_certinfo.key_type, and its bits. */
void certs_key_type_info(enum dbssl_key_type t, const char **name, int *bits);

/* ---- shared by certs_files.c and certs_swap.c ------------------------------ */

/* The index of "ca.crt", "server.key", ... in enum dbssl_certs_file, or -1. */
int certs_file_index(const char *name);
bool certs_is_key_file(int f);

/*
 * The set's directory, opened by safedir_open() (only we or root can change
 * it), and its absolute path for messages.  Everything inside is reached
 * relative to fd, never by following a symlink: a name in the set that is
 * a link is read as "not a usable file", and replaced.
 */
struct certs_dir {
    int fd;
    char path[PATH_BUF];
};

/* name (relative to the set) as a path for messages */
void certs_dir_path(const struct certs_dir *d, const char *name, char *buf, size_t len);

/*
 * name in the directory dirfd, which is d->fd or the descriptor of
 * .pending/, as a struct file_at that does not follow symlinks; buf gets
 * the path shown in messages.
 */
struct file_at certs_dir_file(const struct certs_dir *d, int dirfd, const char *name, char *buf,
                              size_t len);

/* Takes the directory's lock (waiting a bounded time); the descriptor, or -1. */
int certs_dir_lock(const struct certs_dir *d, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Completes or discards an update a killed process left behind (refuses a planted one). */
int certs_dir_recover(const struct certs_dir *d, bool *recovered,
                      struct dbssl_error *err) DBSSL_MUSTCHECK;

/* A file's new content, or data NULL: unchanged. */
struct certs_staged {
    const char *data;
    size_t len;
};

/* Swaps in the files of out[] that have data (the server pair owned by uid:gid unless -1). */
int certs_dir_swap_in(const struct certs_dir *d, const struct certs_staged *out, uid_t uid,
                      gid_t gid, struct dbssl_error *err) DBSSL_MUSTCHECK;

#endif
