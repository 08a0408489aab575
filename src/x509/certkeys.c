/*
 * certkeys.c - private keys as libpq reads them (PEM, DER, encrypted with a
 * passphrase, never a terminal prompt), whether a key belongs to its
 * certificate, and the file modes libpq accepts for a key (see certinfo.h).
 * Certificates, chains and CRLs are certinfo.c's.
 */
#include "certinfo.h"

#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "certfacts.h"
#include "certinfo_int.h"
#include "pemtext.h"
#include "util.h"

/*
 * The passphrase callback: the one given, or a refusal (dbssl never prompts,
 * and OpenSSL's default would read the terminal).
 */
static int give_password(char *buf, int size, int rwflag, void *u)
{
    const char *pass = u;
    size_t n;

    (void)rwflag;
    if (pass == NULL || size <= 0)
        return -1;
    n = strlen(pass);
    if (n > (size_t)size)
        return -1;
    memcpy(buf, pass, n);
    return (int)n;
}

/*
 * The key of the first PEM block with the narrowest OpenSSL 3 decoder: the
 * DER structure and the key type told, not guessed.  PEM_read_bio_PrivateKey()
 * tries every decoder of every provider for each key (450-670 µs a key here,
 * most of it looking decoders up); told the structure and type, the look-up
 * finds the one that fits (120-190 µs; bench/run.sh, BENCHMARKS.md).  NULL
 * when the block is not one of these forms or does not decode: the caller
 * then asks the general reader, whose error messages are the ones users see.
 */
static EVP_PKEY *decode_key_told(const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    char *label = NULL, *header = NULL, type[80] = "";
    unsigned char *der = NULL;
    const char *structure = NULL;
    long der_len = 0;
    EVP_PKEY *pkey = NULL;

    if (bio == NULL || PEM_read_bio(bio, &label, &header, &der, &der_len) != 1)
        goto out;
    if (strcmp(label, "PRIVATE KEY") == 0) {
        /* PKCS#8: the algorithm's OID names the key type (OpenSSL knows keys by OID too) */
        const unsigned char *p = der;
        PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, der_len);
        const ASN1_OBJECT *alg = NULL;
        if (p8 != NULL && PKCS8_pkey_get0(&alg, NULL, NULL, NULL, p8) == 1 &&
            OBJ_obj2txt(type, sizeof(type), alg, 1) > 0)
            structure = "PrivateKeyInfo";
        PKCS8_PRIV_KEY_INFO_free(p8);
    } else if (strcmp(label, "EC PRIVATE KEY") == 0 || strcmp(label, "RSA PRIVATE KEY") == 0) {
        snprintf(type, sizeof(type), "%s", label[0] == 'E' ? "EC" : "RSA");
        structure = "type-specific";
    }
    if (structure != NULL) {
        const unsigned char *p = der;
        size_t left = (size_t)der_len;
        OSSL_DECODER_CTX *d = OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER", structure, type,
                                                            EVP_PKEY_KEYPAIR, NULL, NULL);
        if (d == NULL || OSSL_DECODER_from_data(d, &p, &left) != 1 || left != 0) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
        OSSL_DECODER_CTX_free(d);
    }
out:
    if (der != NULL)
        OPENSSL_cleanse(der, (size_t)der_len);
    OPENSSL_free(der);
    OPENSSL_free(label);
    OPENSSL_free(header);
    BIO_free(bio);
    ERR_clear_error();
    return pkey;
}

/* A DER key starts with a SEQUENCE and has no PEM armour. */
static bool looks_der(const char *data, size_t len)
{
    return len > 2 && (unsigned char)data[0] == 0x30 && memmem(data, len, "-----BEGIN", 10) == NULL;
}

/*
 * A key in DER form, as libpq reads one when the file is not PEM
 * (SSL_use_PrivateKey_file with SSL_FILETYPE_ASN1): unencrypted only, as
 * libpq gives no passphrase to that reader.
 */
static EVP_PKEY *parse_der_key(const char *der, size_t len, const char *name,
                               struct dbssl_keyinfo *info, struct dbssl_error *err)
{
    const unsigned char *p = (const unsigned char *)der;
    EVP_PKEY *pkey;
    X509_SIG *enc;
    char ebuf[256];

    info->der = true;
    ERR_clear_error();
    if ((pkey = d2i_AutoPrivateKey(NULL, &p, (long)len)) != NULL)
        return pkey;
    p = (const unsigned char *)der;
    if ((enc = d2i_X509_SIG(NULL, &p, (long)len)) != NULL) {
        X509_SIG_free(enc);
        info->encrypted = true;
        dbssl_error_set(err, DBSSL_ERR_CERT,
                        "Convert it to an encrypted PEM key, which libpq can unlock with "
                        "sslpassword: \"openssl pkey -inform DER -in KEY -passin file:PASSFILE "
                        "-aes256 -passout file:PASSFILE -out KEY.pem\".",
                        "%s is an encrypted key in DER form, which libpq cannot read", name);
        return NULL;
    }
    dbssl_error_setx(err, DBSSL_ERR_CERT, dbssl_openssl_errstr(ebuf, sizeof(ebuf)),
                     "The key is damaged; obtain a fresh copy or generate a new key pair.",
                     "could not load %s (DER)", name);
    return NULL;
}

/*
 * Parses a private key from memory: PEM, encrypted PEM (with pass, the
 * passphrase that pass_from names in messages) or DER, as libpq reads it.
 * name ("private key file \"PATH\"") is for messages; info gets the form
 * found, also when the key cannot be used.
 */
static EVP_PKEY *parse_key(const char *pem, size_t len, const char *name, const char *pass,
                           const char *pass_from, struct dbssl_keyinfo *info,
                           struct dbssl_error *err)
{
    char label[64];
    char ebuf[256];
    BIO *bio = NULL;
    EVP_PKEY *pkey = NULL;

    memset(info, 0, sizeof(*info));
    if (looks_der(pem, len))
        return parse_der_key(pem, len, name, info, err);
    if (pemtext_check(pem, len, name, label, sizeof(label), err) != 0)
        goto out;
    info->encrypted = strstr(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----") != NULL ||
                      strstr(pem, "Proc-Type: 4,ENCRYPTED") != NULL;
    if (info->encrypted && pass == NULL) {
        dbssl_error_set(err, DBSSL_ERR_CERT,
                        "Put the passphrase in a file of mode 0600 and set "
                        "DB_SSL_CLIENT_KEY_PASSWORD_FILE to it (or sslpassword in DATABASE_URL); "
                        "dbssl never prompts for it.",
                        "%s is encrypted and no passphrase is configured", name);
        goto out;
    }
    if (strstr(label, "PRIVATE KEY") == NULL) {
        dbssl_error_set(err, DBSSL_ERR_CERT,
                        "Point the setting at the private key (\"-----BEGIN PRIVATE KEY-----\"), "
                        "not at a certificate.",
                        "%s does not contain a private key (found \"%s\")", name, label);
        goto out;
    }
    if (!info->encrypted && (pkey = decode_key_told(pem, len)) != NULL)
        goto out;
    ERR_clear_error();
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio != NULL)
        pkey = PEM_read_bio_PrivateKey(bio, NULL, give_password, (void *)pass);
    if (pkey == NULL && info->encrypted)
        dbssl_error_setx(err, DBSSL_ERR_CERT, dbssl_openssl_errstr(ebuf, sizeof(ebuf)),
                         "Put the key's passphrase in its place, or use the key the passphrase "
                         "belongs to.",
                         "could not decrypt %s with the passphrase from %s", name,
                         pass_from ? pass_from : "the settings");
    else if (pkey == NULL)
        dbssl_error_setx(err, DBSSL_ERR_CERT, dbssl_openssl_errstr(ebuf, sizeof(ebuf)),
                         "The key is damaged; obtain a fresh copy or generate a new key pair.",
                         "could not load %s", name);
out:
    ERR_clear_error();
    BIO_free(bio);
    return pkey;
}

static EVP_PKEY *load_key(const struct file_at *f, const struct dbssl_key_pass *pass,
                          struct dbssl_keyinfo *info, struct stat *st, struct dbssl_error *err)
{
    char *pem = NULL;
    size_t len = 0;
    char name[PATH_TEXT_BUF];
    EVP_PKEY *pkey;

    memset(info, 0, sizeof(*info));
    if (dbssl_read_pem_at(f, "private key file", &pem, &len, st, name, sizeof(name), err) != 0)
        return NULL;
    pkey = parse_key(pem, len, name, pass ? pass->text : NULL, pass ? pass->from : NULL, info, err);
    OPENSSL_cleanse(pem, len);
    free(pem);
    return pkey;
}

int dbssl_key_parse(const char *pem, size_t len, const char *name, struct dbssl_keyinfo *out,
                    struct dbssl_error *err)
{
    EVP_PKEY *pkey = parse_key(pem, len, name, NULL, NULL, out, err);

    if (pkey == NULL)
        return -1;
    dbssl_key_describe(pkey, out->key_type, sizeof(out->key_type), &out->bits);
    EVP_PKEY_free(pkey);
    return 0;
}

int dbssl_key_parse_for(const char *pem, size_t len, const char *name,
                        const struct dbssl_key_pass *pass, const struct dbssl_certinfo *cert,
                        struct dbssl_keyinfo *out, bool *match, struct dbssl_error *err)
{
    EVP_PKEY *pkey =
        parse_key(pem, len, name, pass ? pass->text : NULL, pass ? pass->from : NULL, out, err);
    unsigned char *der = NULL;
    int n;

    if (pkey == NULL)
        return -1;
    dbssl_key_describe(pkey, out->key_type, sizeof(out->key_type), &out->bits);
    if (cert != NULL && cert->x509 != NULL) {
        /* compared as keys: encoding the public half (i2d_PUBKEY) would
         * look OpenSSL 3's encoders up, 5 % of a `dbssl validate` */
        *match = EVP_PKEY_eq(X509_get0_pubkey(cert->x509), pkey) == 1;
    } else if (cert != NULL) {
        /* the public half, encoded as certificates carry it */
        n = i2d_PUBKEY(pkey, &der);
        *match = n > 0 && (size_t)n == cert->spki_len && memcmp(der, cert->spki, (size_t)n) == 0;
        OPENSSL_free(der);
    }
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return 0;
}

int dbssl_key_load_at(const struct file_at *f, const struct dbssl_key_pass *pass,
                      const struct dbssl_certinfo *cert, struct dbssl_keyinfo *out, bool *match,
                      struct stat *st, struct dbssl_error *err)
{
    bool hit;

    return dbssl_key_load_known(NULL, f, pass, cert, out, match, st, &hit, err);
}

int dbssl_key_load_for(const char *path, const struct dbssl_certinfo *cert,
                       struct dbssl_keyinfo *out, bool *match, struct dbssl_error *err)
{
    return dbssl_key_load_at(&FILE_AT_PATH(path), NULL, cert, out, match, NULL, err);
}

int dbssl_key_load(const char *path, struct dbssl_keyinfo *out, struct dbssl_error *err)
{
    return dbssl_key_load_for(path, NULL, out, NULL, err);
}

int dbssl_key_matches_cert_at(const struct file_at *cert, const struct file_at *key, bool *match,
                              struct dbssl_error *err)
{
    X509 *x = dbssl_load_first_cert(cert, err);
    EVP_PKEY *pkey = NULL;
    struct dbssl_keyinfo info;
    int ret = -1;

    if (x == NULL)
        goto out;
    if ((pkey = load_key(key, NULL, &info, NULL, err)) == NULL)
        goto out;
    *match = EVP_PKEY_eq(X509_get0_pubkey(x), pkey) == 1;
    ret = 0;
out:
    ERR_clear_error();
    EVP_PKEY_free(pkey);
    X509_free(x);
    return ret;
}

int dbssl_key_matches_cert(const char *cert_path, const char *key_path, bool *match,
                           struct dbssl_error *err)
{
    return dbssl_key_matches_cert_at(&FILE_AT_PATH(cert_path), &FILE_AT_PATH(key_path), match, err);
}

bool dbssl_key_permissions_ok(const char *path, char *msg, size_t msglen, char *hint,
                              size_t hintlen)
{
    struct stat st;

    /* stat() of a FIFO does not open it: this never blocks */
    if (stat(path, &st) != 0)
        return true;
    return dbssl_key_mode_ok(&st, path, msg, msglen, hint, hintlen);
}

bool dbssl_key_mode_ok(const struct stat *stp, const char *path, char *msg, size_t msglen,
                       char *hint, size_t hintlen)
{
    const struct stat st = *stp;

    if (!S_ISREG(st.st_mode)) {
        snprintf(msg, msglen, "private key file \"%s\" is not a regular file", path);
        snprintf(hint, hintlen, "Point the setting at the key file itself.");
        return false;
    }
    /*
     * Be as strict as libpq, and no stricter: a key readable by others is
     * refused, except a root-owned key readable by its group, which lets
     * services share system keys through group membership.
     */
    if (!secret_file_mode_ok(&st)) {
        snprintf(msg, msglen,
                 "private key file \"%s\" has group or world access; file must have permissions "
                 "u=rw (0600) or less if owned by the current user, or permissions u=rw,g=r "
                 "(0640) or less if owned by root",
                 path);
        snprintf(hint, hintlen,
                 "Run \"chmod 0600 %s\" (owned by the user that connects), or \"chown root:GROUP "
                 "%s && chmod 0640 %s\" to share it through a group; in Kubernetes set the "
                 "secret volume's defaultMode to 0600.",
                 path, path, path);
        return false;
    }
    return true;
}
