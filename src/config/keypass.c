/*
 * keypass.c - the client key's passphrase (see keypass.h).
 *
 * The file rule is libpq's rule for the key it unlocks: a passphrase
 * readable by others is no better than an unencrypted key.  The file is
 * judged by the fstat() of the descriptor it was read from.
 */
#include "keypass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

static int refuse_mode(const char *path, const struct stat *st, struct dbssl_error *err)
{
    unsigned mode = (unsigned)(st->st_mode & 07777);
    char hint[PATH_TEXT_BUF];

    if (secret_file_mode_ok(st))
        return 0;
    snprintf(hint, sizeof(hint),
             "Run \"chmod 0600 %s\" (or 0640 when owned by root): a passphrase others can read "
             "protects nothing.",
             path);
    dbssl_error_setx(err, DBSSL_ERR_CERT, NULL, hint,
                     "passphrase file \"%s\" has group or world access (mode %04o)", path, mode);
    return -1;
}

static int read_passfile(const char *path, struct dbssl_keypass *out, struct dbssl_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    struct stat st;

    if (read_file_at(&FILE_AT_PATH(path), "passphrase file", KEYPASS_MAX, &buf, &len, &st, err) !=
        0)
        return -1;
    if (refuse_mode(path, &st, err) != 0)
        goto fail;
    if (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
    if (len > 0 && buf[len - 1] == '\r')
        buf[--len] = '\0';
    if (len == 0 || memchr(buf, '\0', len) != NULL || memchr(buf, '\n', len) != NULL) {
        dbssl_error_setx(err, DBSSL_ERR_CERT, NULL,
                         "Write the passphrase alone on the file's one line, for example with "
                         "printf '%%s\\n' PASSPHRASE > FILE.",
                         "passphrase file \"%s\" %s", path,
                         len == 0 ? "is empty" : "holds more than one line or a NUL byte");
        goto fail;
    }
    out->text = buf;
    return 0;
fail:
    explicit_bzero(buf, len);
    free(buf);
    return -1;
}

int dbssl_keypass_get(const struct dbssl_config *cfg, struct dbssl_keypass *out,
                      struct dbssl_error *err)
{
    memset(out, 0, sizeof(*out));
    if (cfg->client_key_password_file != NULL) {
        out->setting = "DB_SSL_CLIENT_KEY_PASSWORD_FILE";
        snprintf(out->from, sizeof(out->from), "DB_SSL_CLIENT_KEY_PASSWORD_FILE (\"%s\")",
                 cfg->client_key_password_file);
        return read_passfile(cfg->client_key_password_file, out, err);
    }
    if (cfg->url.parsed && cfg->url.sslpassword != NULL && cfg->url.sslpassword[0] != '\0') {
        out->setting = "DATABASE_URL";
        snprintf(out->from, sizeof(out->from), "sslpassword in DATABASE_URL");
        if ((out->text = xstrdup(cfg->url.sslpassword)) == NULL) {
            dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
            return -1;
        }
    }
    return 0;
}

void dbssl_keypass_clear(struct dbssl_keypass *kp)
{
    if (kp == NULL)
        return;
    if (kp->text != NULL) {
        explicit_bzero(kp->text, strlen(kp->text));
        free(kp->text);
    }
    kp->text = NULL;
}
