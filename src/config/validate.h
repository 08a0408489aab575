/*
 * validate.h - internals of dbssl_config_validate() (validate.c: each value,
 * the rules between settings; validate_files.c: the files they name),
 * reporting into findings.h's list.
 */
#ifndef DBSSL_VALIDATE_H
#define DBSSL_VALIDATE_H

#include <stdbool.h>

#include "config.h"
#include "error_int.h"
#include "findings.h"
#include "keypass.h"

/*
 * Whether cfg may use auto-generated certificates at all: never in
 * APP_ENV=production.  NULL when it may, else the refusal (a primary
 * message) and *hint: the one text of validation's finding and of
 * dbssl_certs_ensure()'s error.
 */
const char *dbssl_autogen_refusal(const struct dbssl_config *cfg, const char **hint);

/* ---- shared by validate.c and validate_files.c ---------------------------- */

/*
 * The generated set is trusted only in a directory no other user can
 * change (safedir.h).  False when it is not safe (a finding says why):
 * nothing in it is then read.  A directory that does not exist yet is fine.
 */
bool validate_cert_dir(const struct dbssl_config *cfg, struct dbssl_findings *f);

struct dbssl_certfacts;

/*
 * The generated set's record of its files (certfacts.h), read once the
 * directory passed validate_cert_dir(); NULL when there is none.  The
 * readers below take a generated file's facts from it when the file is
 * unchanged, and parse everything else.
 */
struct dbssl_certfacts *validate_known(const struct dbssl_config *cfg);

/* The CA bundle: readable, each certificate a CA in its validity; true when it was read. */
bool validate_ca(const struct dbssl_config *cfg, struct dbssl_findings *f,
                 const struct dbssl_file_ref *ca, long long now,
                 const struct dbssl_certfacts *known);

/* What the client files were found to be, for the rules between settings. */
struct validate_client_state {
    bool cert_ok;
    bool key_ok;
    bool match_known; /* both parsed: match says whether they belong together */
    bool match;
};

/*
 * The key's passphrase (keypass.h) into kp, a finding when its file cannot
 * be used or it disagrees with the URL's sslpassword; -1 when it could not
 * be read (kp then holds none).  The caller clears kp.
 */
int validate_keypass(const struct dbssl_config *cfg, struct dbssl_findings *f,
                     struct dbssl_keypass *kp) DBSSL_MUSTCHECK;

/*
 * The client certificate and key: readable (PEM or DER, an encrypted key
 * unlocked with kp's passphrase), in their validity, libpq's key permissions.
 */
void validate_client(const struct dbssl_config *cfg, struct dbssl_findings *f,
                     const struct dbssl_file_ref *cert, const struct dbssl_file_ref *key,
                     const struct dbssl_keypass *kp, long long now,
                     const struct dbssl_certfacts *known, struct validate_client_state *cs);

/*
 * The settings that need a newer libpq than some have (libpqcaps.h): each
 * refused, naming the libpq version it needs and the linked one, where the
 * linked libpq lacks its parameter; and the rules libpq itself applies to
 * them (direct negotiation and the system store need verification...).
 * have_client: a client certificate is configured.  validate_libpq.c.
 */
void validate_libpq(const struct dbssl_config *cfg, struct dbssl_findings *f, bool have_client);

/* DB_SSL_CRL: readable and not stale. */
void validate_crl(const struct dbssl_config *cfg, struct dbssl_findings *f, long long now);

#endif
