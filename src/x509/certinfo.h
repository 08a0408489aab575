/*
 * certinfo.h - reading certificates, keys and CRLs from PEM files.
 *
 * The only place besides certs.c that knows OpenSSL: everything crosses this
 * boundary as plain C (strings, epoch seconds, booleans), so validation, the
 * CLI and the health report never see an OpenSSL type.
 *
 * Every function that reads a file reports a missing file, a directory, an
 * unreadable file, a non-PEM file and a PEM file of the wrong kind as
 * distinct messages naming the file, with a hint.  Files are read with
 * read_file_at() (util.h): only regular files, never blocking on a FIFO.
 * The _at variants read a file relative to a directory descriptor (the
 * generated set, without following symlinks) and can return the fstat() of
 * the very file read, for permission checks that must see that file.
 *
 * Inspection sits below the settings: it uses the helpers alone (util.h,
 * pemtext.h, error_int.h), never config.h, so that validation reads
 * certificates without reaching up to where they are generated (certs.h).
 */
#ifndef DBSSL_CERTINFO_H
#define DBSSL_CERTINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "error_int.h"

struct file_at; /* util.h: a file named relative to a directory descriptor */
struct stat;

struct dbssl_certinfo {
    char *subject; /* RFC 2253, e.g. "CN=localhost,O=dbssl" */
    char *issuer;
    char *common_name; /* CN or "" */
    char *serial;      /* upper-case hex */
    char *sans;        /* "DNS:localhost, IP:127.0.0.1" or "" */
    char *fingerprint; /* SHA-256, colon-separated upper-case hex */
    char key_type[16]; /* "EC", "RSA", "ED25519", ... */
    int key_bits;
    long long not_before; /* epoch seconds */
    long long not_after;
    unsigned char *spki; /* DER SubjectPublicKeyInfo, to match keys without re-parsing */
    size_t spki_len;
    void *x509;       /* the certificate as OpenSSL holds it (a reference), or NULL */
    bool is_ca;       /* basicConstraints CA:TRUE */
    bool self_signed; /* issued by itself and its signature verifies with its own key */
};

struct dbssl_certlist {
    struct dbssl_certinfo *certs;
    size_t n;
};

/*
 * What a TLS report shows of a certificate OpenSSL already holds (conn.c:
 * the server's, from libpq's connection), read from it as it is: no
 * re-encoding, re-parsing or digest.  subject is formatted as in
 * dbssl_certinfo, serial in upper-case hex.  -1 when a field cannot be read.
 */
struct x509_st; /* OpenSSL's X509, for conn.c only */
int dbssl_cert_brief(const struct x509_st *x, char *subject, size_t subject_len, char *serial,
                     size_t serial_len, long long *not_before,
                     long long *not_after) DBSSL_MUSTCHECK;

/*
 * Reads every certificate of a PEM file (a CA bundle may hold several).
 * what names the file in messages ("certificate file", "CA certificate file").
 * Fails when the file holds no certificate, or junk outside its PEM blocks
 * (text after the last block, a damaged block, binary data); comments before
 * and between blocks are fine.  The key and CRL readers apply the same rule.  Free out with
 * dbssl_certlist_free().
 */
int dbssl_certlist_load(const char *path, const char *what, struct dbssl_certlist *out,
                        struct dbssl_error *err) DBSSL_MUSTCHECK;
int dbssl_certlist_load_at(const struct file_at *f, const char *what, struct dbssl_certlist *out,
                           struct stat *st, struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * A trust store holding the certificates of the CA file f, read as
 * dbssl_certlist_load_at() reads it (so refused for what validation
 * refuses), or the system's default locations when f is NULL.  NULL with
 * err on failure; the caller frees it with OpenSSL's X509_STORE_free().
 * The one loader of trust stores (verification here, and the scanner's).
 */
struct x509_store_st; /* OpenSSL's X509_STORE */
struct x509_store_st *dbssl_ca_store_new(const struct file_at *f,
                                         struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Parses PEM certificates from memory (for server certificates seen on the wire). */
int dbssl_certlist_parse(const char *pem, size_t len, const char *name, struct dbssl_certlist *out,
                         struct dbssl_error *err) DBSSL_MUSTCHECK;

void dbssl_certlist_free(struct dbssl_certlist *list);

struct dbssl_keyinfo {
    char key_type[16];
    int bits;
    bool der;       /* the file is DER, not PEM (set also when it cannot be used) */
    bool encrypted; /* the key is passphrase-protected (idem) */
};

/* The passphrase of an encrypted key, and where it came from (for messages only). */
struct dbssl_key_pass {
    const char *text;
    const char *from; /* e.g. DB_SSL_CLIENT_KEY_PASSWORD_FILE ("/run/secrets/pass") */
};

/*
 * Reads a private key: PEM, or DER as libpq reads it too.  An encrypted key
 * without a passphrase is an error with code DBSSL_ERR_CERT and a message
 * saying so (dbssl never prompts); the _at reader takes the passphrase.
 */
int dbssl_key_load(const char *path, struct dbssl_keyinfo *out,
                   struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Parses a private key from memory; name (e.g. "private key file \"PATH\"") is for messages. */
int dbssl_key_parse(const char *pem, size_t len, const char *name, struct dbssl_keyinfo *out,
                    struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * dbssl_key_load(), and when cert is not NULL also sets *match to whether
 * the key belongs to that (already parsed) certificate: one parse of each
 * file, where loading them again would double OpenSSL's decoding cost.
 */
int dbssl_key_load_for(const char *path, const struct dbssl_certinfo *cert,
                       struct dbssl_keyinfo *out, bool *match,
                       struct dbssl_error *err) DBSSL_MUSTCHECK;
/* pass: the passphrase of an encrypted key, NULL when none is configured */
int dbssl_key_load_at(const struct file_at *f, const struct dbssl_key_pass *pass,
                      const struct dbssl_certinfo *cert, struct dbssl_keyinfo *out, bool *match,
                      struct stat *st, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Sets *match to whether key_path holds the private key of cert_path's first certificate. */
int dbssl_key_matches_cert(const char *cert_path, const char *key_path, bool *match,
                           struct dbssl_error *err) DBSSL_MUSTCHECK;
int dbssl_key_matches_cert_at(const struct file_at *cert, const struct file_at *key, bool *match,
                              struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * Verifies cert_path's first certificate against the CA bundle ca_path
 * (no host name check).  *ok tells the result; reason gets OpenSSL's text.
 */
int dbssl_cert_verify_chain(const char *cert_path, const char *ca_path, bool *ok, char *reason,
                            size_t reason_len, struct dbssl_error *err) DBSSL_MUSTCHECK;
int dbssl_cert_verify_chain_at(const struct file_at *cert, const struct file_at *ca, bool *ok,
                               char *reason, size_t reason_len,
                               struct dbssl_error *err) DBSSL_MUSTCHECK;
/*
 * The same for a certificate and CA certificates already read (the lists
 * keep OpenSSL's objects): nothing parsed again.  -1 (err set) when a
 * certificate of either is not OpenSSL's (as dbssl_certlist_parse() makes).
 */
int dbssl_cert_verify_in(const struct dbssl_certinfo *cert, const struct dbssl_certlist *cas,
                         bool *ok, char *reason, size_t reason_len,
                         struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Reads a PEM CRL; next_update is 0 when the CRL has none. */
int dbssl_crl_load(const char *path, long long *last_update, long long *next_update,
                   struct dbssl_error *err) DBSSL_MUSTCHECK;

/* dbssl_crl_load() from memory; name (e.g. "CRL file \"PATH\"") is for messages. */
int dbssl_crl_parse(const char *pem, size_t len, const char *name, long long *last_update,
                    long long *next_update, struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * Sets *revoked to whether a CRL of the file crl_path (issued by the
 * certificate's issuer) lists the PEM certificate cert_pem.
 */
int dbssl_crl_lists_cert(const char *crl_path, const char *cert_pem, size_t cert_len, bool *revoked,
                         struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * libpq's private key file rule, exactly: a regular file, and no group or
 * world access unless owned by root, in which case up to 0640.  Returns true
 * when the file passes; else fills msg (libpq's wording) and hint (the
 * chmod/chown fix).  A file that cannot be stat'ed passes here (the reader
 * reports it).
 */
bool dbssl_key_permissions_ok(const char *path, char *msg, size_t msglen, char *hint,
                              size_t hintlen);
/* The same rule on an fstat() of the key (path only names it in msg and hint). */
bool dbssl_key_mode_ok(const struct stat *st, const char *path, char *msg, size_t msglen,
                       char *hint, size_t hintlen);

/* OpenSSL's last queued error as text in buf; never NULL ("unknown error" when none). */
const char *dbssl_openssl_errstr(char *buf, size_t len);

/* Whether path is writable by group or others (certificates and keys must not be). */
bool dbssl_file_group_world_writable(const char *path, unsigned *mode);

/* The length of a SHA-256 digest in base64. */
#define DBSSL_SHA256_B64_LEN 44

/*
 * The SHA-256 of data in base64, as a Content-Security-Policy hash source
 * ('sha256-...') names an inline style sheet; "" when OpenSSL fails.
 */
void dbssl_sha256_base64(const void *data, size_t len, char out[DBSSL_SHA256_B64_LEN + 1]);

#endif
