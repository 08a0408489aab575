/*
 * certinfo_int.h - what certinfo.c (certificates, chains, CRLs) and
 * certkeys.c (private keys) share inside x509/; OpenSSL types stay here.
 */
#ifndef DBSSL_CERTINFO_INT_H
#define DBSSL_CERTINFO_INT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

#include "certinfo.h"
#include "util.h"

/* The key's type name and bits, as dbssl_certinfo and dbssl_keyinfo show them. */
void dbssl_key_describe(EVP_PKEY *pkey, char *type, size_t typelen, int *bits);

struct stat;

/* A PEM file read like every other file (regular, bounded, never blocking); st and name as
 * read_file_at gives them. */
int dbssl_read_pem_at(const struct file_at *f, const char *what, char **pem, size_t *len,
                      struct stat *st, char *name, size_t namelen,
                      struct dbssl_error *err) DBSSL_MUSTCHECK;

/* A key parsed from memory (pass may be NULL), *match against cert when cert is not NULL. */
int dbssl_key_parse_for(const char *pem, size_t len, const char *name,
                        const struct dbssl_key_pass *pass, const struct dbssl_certinfo *cert,
                        struct dbssl_keyinfo *out, bool *match,
                        struct dbssl_error *err) DBSSL_MUSTCHECK;

/* The first certificate of file f, or NULL with err set. */
X509 *dbssl_load_first_cert(const struct file_at *f, struct dbssl_error *err);

#endif
