/*
 * validate_files.c - pass 1 of validation for the files the settings name:
 * the generated set's directory, the CA bundle, the client certificate and
 * key, the CRL.  Each is read the way it will be used (a generated file
 * never through a symlink), its dates judged by expiry.h's rules at the
 * time of the check, its permissions checked on the very file read.  A
 * reader's error becomes a finding with the reader's detail and a hint that
 * names the setting.
 */
#include "validate.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certfacts.h"
#include "certinfo.h"
#include "expiry.h"
#include "safedir.h"
#include "util.h"

/*
 * The hint for a finding made from the reader's error e: the reader's own,
 * or one naming the setting (written into buf).  generated: the file is in
 * the generated set, whose reader's hints (a symlink there) are the ones to
 * give.
 */
static const char *read_hint(const struct dbssl_error *e, const char *setting, bool generated,
                             char *buf, size_t len)
{
    /* a FIFO, socket, device or directory where a file belongs */
    if (e->code == DBSSL_ERR_CONFIG && !generated) {
        snprintf(buf, len,
                 "Point %s at the file itself, a regular file (a symlink to one is fine); dbssl "
                 "does not read directories, pipes, sockets or devices.",
                 setting);
        return buf;
    }
    /* a file that cannot be read: say which setting names it */
    if (e->hint[0] != '\0' && e->code != DBSSL_ERR_IO)
        return e->hint;
    snprintf(buf, len,
             "Check that the path in %s is correct and that the file is readable by the user "
             "running dbssl.",
             setting);
    return buf;
}

/* A finding for a file of setting that could not be used: the reader's error with its detail. */
static void read_finding(struct dbssl_findings *f, const char *setting, bool generated,
                         const struct dbssl_error *e)
{
    char hint[sizeof(e->hint)];

    dbssl_findings_addx(f, DBSSL_SEVERITY_ERROR, 0, setting, e->detail,
                        read_hint(e, setting, generated, hint, sizeof(hint)), "%s", e->message);
}

/* Expiry and validity window of one certificate (the rules are expiry.h's). */
static void check_dates(const struct dbssl_config *cfg, struct dbssl_findings *f,
                        const char *setting, const char *path, const struct dbssl_certinfo *ci,
                        bool generated, long long now)
{
    long long days_left = dbssl_expiry_days_left(ci->not_after, now);
    char when[32], days[64];

    switch (dbssl_expiry_state(ci->not_before, ci->not_after, now, cfg->expiry_warn_days)) {
    case DBSSL_EXPIRY_EXPIRED:
        format_rfc3339(ci->not_after, when, sizeof(when));
        /* the count /health/database/ssl and `certs inspect` show for it */
        snprintf(days, sizeof(days), "days remaining: %lld", days_left);
        if (generated)
            dbssl_findings_addx(f, DBSSL_SEVERITY_WARNING, 0, setting, days,
                                "Generated certificates are renewed by \"dbssl certs generate\" "
                                "and on start.",
                                "generated certificate \"%s\" (\"%s\") expired on %s and will be "
                                "renewed",
                                path, ci->subject, when);
        else
            dbssl_findings_addx(f, DBSSL_SEVERITY_ERROR, DBSSL_FINDING_EXPIRY, setting, days,
                                "Obtain a renewed certificate from its issuer and replace the "
                                "file; \"dbssl certs inspect\" shows the dates.",
                                "certificate \"%s\" in \"%s\" has expired (not after %s)",
                                ci->subject, path, when);
        break;
    case DBSSL_EXPIRY_NOT_YET_VALID:
        format_rfc3339(ci->not_before, when, sizeof(when));
        dbssl_findings_addx(f, DBSSL_SEVERITY_ERROR, DBSSL_FINDING_EXPIRY, setting, NULL,
                            "Check the system clock, or use a certificate that is already valid.",
                            "certificate \"%s\" in \"%s\" is not yet valid (not before %s)",
                            ci->subject, path, when);
        break;
    case DBSSL_EXPIRY_EXPIRING:
        format_rfc3339(ci->not_after, when, sizeof(when));
        dbssl_findings_add(f, DBSSL_SEVERITY_WARNING, setting,
                           generated ? "Generated certificates are renewed automatically before "
                                       "they expire."
                                     : "Renew the certificate before it expires; the warning "
                                       "threshold is DB_SSL_EXPIRY_WARN_DAYS.",
                           "certificate \"%s\" in \"%s\" expires in %lld days (on %s)", ci->subject,
                           path, days_left, when);
        break;
    case DBSSL_EXPIRY_VALID:
        break;
    }
}

/* st: the fstat() of the file as it was read, so that the file judged is the file used */
static void check_writable(struct dbssl_findings *f, const char *setting, const char *path,
                           const struct stat *st)
{
    unsigned mode = (unsigned)(st->st_mode & 07777);
    char hint[PATH_TEXT_BUF];

    if ((st->st_mode & (S_IWGRP | S_IWOTH)) == 0)
        return;
    snprintf(hint, sizeof(hint), "Run \"chmod go-w %s\"; only its owner may change it.", path);
    dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, setting, hint,
                       "file \"%s\" is writable by group or others (mode %04o)", path, mode);
}

static bool missing_generated(const struct dbssl_file_ref *ref)
{
    struct stat st;

    return ref->generated && stat(ref->path, &st) != 0;
}

/*
 * How a file of ref is read: a generated one (inside DB_SSL_AUTO_CERT_DIR)
 * never through a symlink, as certs_files.c reads the set; a user-supplied
 * one may be a symlink (a Kubernetes secret is).
 */
static struct file_at ref_file(const struct dbssl_file_ref *ref)
{
    return (struct file_at){AT_FDCWD, ref->path, NULL, ref->generated ? FILE_AT_NOFOLLOW : 0};
}

/*
 * The generated set is trusted only in a directory no other user can change:
 * the check `dbssl certs generate` makes before writing there (safedir.h),
 * made here too so that `validate --no-generate`, and a set generated before
 * the directory was opened up, are judged the same.  False when it is not
 * safe (a finding says why): nothing in it is then read.  A directory that
 * does not exist yet is fine (generation creates it).
 */
int validate_keypass(const struct dbssl_config *cfg, struct dbssl_findings *f,
                     struct dbssl_keypass *kp)
{
    struct dbssl_error e;

    dbssl_error_clear(&e);
    if (cfg->settings[OPT_DB_SSL_CLIENT_KEY_PASSWORD_FILE].error != NULL)
        return -1;
    if (dbssl_keypass_get(cfg, kp, &e) != 0) {
        read_finding(f, "DB_SSL_CLIENT_KEY_PASSWORD_FILE", false, &e);
        return -1;
    }
    /* two passphrases: libpq would be given one of them without a word */
    if (cfg->client_key_password_file != NULL && cfg->url.sslpassword != NULL &&
        strcmp(cfg->url.sslpassword, kp->text) != 0)
        dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, "DB_SSL_CLIENT_KEY_PASSWORD_FILE",
                           "Remove sslpassword from DATABASE_URL and keep the passphrase in the "
                           "file only.",
                           "DATABASE_URL sets sslpassword and DB_SSL_CLIENT_KEY_PASSWORD_FILE "
                           "(\"%s\") holds a different passphrase",
                           cfg->client_key_password_file);
    return 0;
}

bool validate_cert_dir(const struct dbssl_config *cfg, struct dbssl_findings *f)
{
    const struct safedir_names names = {"certificate directory", "DB_SSL_AUTO_CERT_DIR"};
    struct dbssl_error e;
    bool missing = false;
    int fd;

    if (!cfg->auto_generate || cfg->auto_cert_dir == NULL ||
        cfg->settings[OPT_DB_SSL_AUTO_CERT_DIR].error != NULL)
        return true;
    dbssl_error_clear(&e);
    fd = safedir_open(cfg->auto_cert_dir, SAFEDIR_NO_LINK, 0, &names, NULL, 0, &missing, &e);
    if (fd >= 0)
        close(fd);
    if (fd >= 0 || missing)
        return true;
    dbssl_findings_addx(f, DBSSL_SEVERITY_ERROR, 0, "DB_SSL_AUTO_CERT_DIR", e.detail, e.hint, "%s",
                        e.message);
    return false;
}

struct dbssl_certfacts *validate_known(const struct dbssl_config *cfg)
{
    char path[PATH_BUF];

    if (!cfg->auto_generate || cfg->auto_cert_dir == NULL ||
        cfg->settings[OPT_DB_SSL_AUTO_CERT_DIR].error != NULL ||
        !path_join(path, sizeof(path), cfg->auto_cert_dir, DBSSL_CERTFACTS_FILE))
        return NULL;
    return dbssl_certfacts_read(&FILE_AT_PATH(path));
}

bool validate_ca(const struct dbssl_config *cfg, struct dbssl_findings *f,
                 const struct dbssl_file_ref *ca, long long now,
                 const struct dbssl_certfacts *known)
{
    struct file_at at = ref_file(ca);
    struct dbssl_certlist list;
    struct dbssl_error e;
    struct stat st;
    bool hit;

    dbssl_error_clear(&e);
    if (missing_generated(ca))
        return false;
    if (dbssl_certlist_load_known(ca->generated ? known : NULL, &at, "certificate file", &list, &st,
                                  &hit, &e) != 0) {
        read_finding(f, ca->setting, ca->generated, &e);
        return false;
    }
    check_writable(f, ca->setting, ca->path, &st);
    for (size_t i = 0; i < list.n; i++) {
        const struct dbssl_certinfo *ci = &list.certs[i];
        check_dates(cfg, f, ca->setting, ca->path, ci, ca->generated, now);
        if (!ci->is_ca && !ci->self_signed)
            dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, ca->setting,
                               "The CA file must hold the certificate of the authority that "
                               "signed the server certificate (and any intermediates), not the "
                               "server's own certificate.",
                               "certificate \"%s\" in \"%s\" is neither a CA certificate nor "
                               "self-signed",
                               ci->subject, ca->path);
    }
    dbssl_certlist_free(&list);
    return true;
}

void validate_client(const struct dbssl_config *cfg, struct dbssl_findings *f,
                     const struct dbssl_file_ref *cert, const struct dbssl_file_ref *key,
                     const struct dbssl_keypass *kp, long long now,
                     const struct dbssl_certfacts *known, struct validate_client_state *cs)
{
    struct file_at cert_at = ref_file(cert), key_at = ref_file(key);
    struct dbssl_certlist list = {NULL, 0};
    struct dbssl_error e;
    struct stat st;
    bool hit;

    memset(cs, 0, sizeof(*cs));
    if (cert->path[0] != '\0' && !missing_generated(cert)) {
        dbssl_error_clear(&e);
        if (dbssl_certlist_load_known(cert->generated ? known : NULL, &cert_at, "certificate file",
                                      &list, &st, &hit, &e) != 0) {
            read_finding(f, cert->setting, cert->generated, &e);
        } else {
            cs->cert_ok = true;
            check_dates(cfg, f, cert->setting, cert->path, &list.certs[0], cert->generated, now);
            check_writable(f, cert->setting, cert->path, &st);
        }
    }
    if (key->path[0] != '\0' && !missing_generated(key)) {
        struct dbssl_keyinfo ki;
        struct dbssl_key_pass pass = {kp->text, kp->from};
        char msg[1024], hint[1024];
        dbssl_error_clear(&e);
        st.st_mode = 0; /* set by the read, even when the key then does not parse */
        if (dbssl_key_load_known(key->generated ? known : NULL, &key_at, kp->text ? &pass : NULL,
                                 cs->cert_ok ? &list.certs[0] : NULL, &ki, &cs->match, &st, &hit,
                                 &e) != 0) {
            /* a passphrase that does not unlock the key: the passphrase's setting to fix */
            read_finding(f, ki.encrypted && !ki.der && kp->text ? kp->setting : key->setting,
                         key->generated, &e);
        } else {
            cs->key_ok = true;
            cs->match_known = cs->cert_ok;
        }
        /* libpq's permission rule, on the very file that was read */
        if (S_ISREG(st.st_mode) &&
            !dbssl_key_mode_ok(&st, key->path, msg, sizeof(msg), hint, sizeof(hint))) {
            cs->key_ok = false;
            dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, key->setting, hint, "%s", msg);
        }
        /* 0640 root:group keys are fine for reading, never for writing */
        else if (S_ISREG(st.st_mode))
            check_writable(f, key->setting, key->path, &st);
    }
    dbssl_certlist_free(&list);
}

void validate_crl(const struct dbssl_config *cfg, struct dbssl_findings *f, long long now)
{
    long long last = 0, next = 0;
    struct dbssl_error e;
    char when[32];

    if (cfg->crl == NULL)
        return;
    dbssl_error_clear(&e);
    if (dbssl_crl_load(cfg->crl, &last, &next, &e) != 0) {
        read_finding(f, "DB_SSL_CRL", false, &e);
        return;
    }
    if (next != 0 && next < now) {
        format_rfc3339(next, when, sizeof(when));
        dbssl_findings_addx(f, DBSSL_SEVERITY_ERROR, DBSSL_FINDING_EXPIRY, "DB_SSL_CRL", NULL,
                            "Download the current CRL from the CA; OpenSSL rejects every "
                            "connection while the CRL is stale.",
                            "CRL file \"%s\" has expired (next update was due %s)", cfg->crl, when);
    }
}
