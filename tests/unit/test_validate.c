/*
 * test_validate.c - dbssl_config_validate(), rule by rule, on situations
 * built for real: certificate files made here with OpenSSL (expired, not yet
 * valid, mismatched, non-CA, encrypted), real file modes and owners, and
 * the data-driven table of .env files in tests/data/config/<case>/.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "certinfo.h"
#include "config.h"
#include "util.h"
#include "validate.h"

#define SECRET "Sup3rS3cret"

#define dir      tu_dir
#define setup    tu_setup_dir
#define teardown tu_teardown_dir

/*
 * "severity: SETTING: message" per finding and its "  detail: ..." line, as
 * `dbssl validate` prints them, read through the public accessors.
 */
static char *render(const struct dbssl_findings *f)
{
    struct strbuf sb;

    strbuf_init(&sb);
    strbuf_append(&sb, "");
    for (size_t i = 0; i < dbssl_findings_count(f); i++) {
        const char *detail = dbssl_findings_detail(f, i);
        strbuf_printf(&sb, "%s: %s: %s\n", dbssl_severity_name(dbssl_findings_severity(f, i)),
                      dbssl_findings_setting(f, i), dbssl_findings_message(f, i));
        if (detail[0] != '\0')
            strbuf_printf(&sb, "  detail: %s\n", detail);
        /* secrets never leave, not even in details and hints */
        assert_null(strstr(dbssl_findings_message(f, i), SECRET));
        assert_null(strstr(detail, SECRET));
        assert_null(strstr(dbssl_findings_hint(f, i), SECRET));
        assert_true(dbssl_findings_hint(f, i)[0] != '\0');
        /* exactly the errors time made are marked so (status and serve exit 1 for them) */
        {
            const struct dbssl_finding *fd = dbssl_findings_at(f, i);
            bool timed =
                fd->severity == DBSSL_SEVERITY_ERROR &&
                (strstr(fd->message, "has expired") || strstr(fd->message, "not yet valid"));
            assert_int_equal((fd->flags & DBSSL_FINDING_EXPIRY) != 0, timed);
        }
    }
    return strbuf_take(&sb);
}

/* A settings load that failed, as the CLI prints it: the primary, then the detail line. */
static char *load_error(const struct dbssl_error *e)
{
    return e->detail[0] ? xasprintf("load error: %s\n  detail: %s\n", e->message, e->detail)
                        : xasprintf("load error: %s\n", e->message);
}

/* Loads settings from text (and nothing from the process environment), validates, renders. */
static char *validate_text(const char *text)
{
    struct dbssl_error e;
    struct dbssl_config *cfg;
    struct dbssl_findings *f;
    const char *path = tu_path(dir, "t.env");
    char *out;

    tu_write(path, text, 0600);
    dbssl_error_clear(&e);
    cfg = dbssl_config_load_from(path, true, NULL, &e);
    if (cfg == NULL)
        return load_error(&e);
    f = dbssl_config_validate(cfg, &e);
    assert_non_null(f);
    out = render(f);
    dbssl_findings_free(f);
    dbssl_config_free(cfg);
    return out;
}

static void assert_findings(const char *text, const char *expected)
{
    char *got = validate_text(text);

    if (strcmp(got, expected) != 0)
        fprintf(stderr, "--- settings:\n%s--- expected:\n%s--- got:\n%s", text, expected, got);
    assert_string_equal(got, expected);
    free(got);
}

/* A CA and a server/client pair signed by it, valid for a year. */
static void make_pki(void)
{
    tu_make_client_pki(dir, "Test CA");
}

static char *settings(const char *extra)
{
    return xasprintf("DATABASE_URL=postgresql://app:" SECRET "@db.example.com/app\n"
                     "DB_SSL_MODE=verify-full\nDB_SSL_REQUIRED=true\n"
                     "DB_SSL_CA_CERT=%s/ca.crt\n%s",
                     dir, extra);
}

/* Validates settings(extra); "{dir}" in expected stands for the test directory. */
static void check(const char *extra, const char *expected)
{
    char *text = settings(extra);
    struct strbuf sb;
    const char *p = expected, *hit;
    char *want;

    strbuf_init(&sb);
    strbuf_append(&sb, "");
    while ((hit = strstr(p, "{dir}")) != NULL) {
        strbuf_append_n(&sb, p, (size_t)(hit - p));
        strbuf_append(&sb, dir);
        p = hit + 5;
    }
    strbuf_append(&sb, p);
    want = strbuf_take(&sb);
    assert_findings(text, want);
    free(want);
    free(text);
}

static void test_valid_verify_full(void **state)
{
    (void)state;
    make_pki();
    check("", "");
}

static void test_valid_mutual_tls(void **state)
{
    char extra[8192];

    (void)state;
    make_pki();
    snprintf(extra, sizeof(extra),
             "DB_SSL_CLIENT_CERT=%s/client.crt\nDB_SSL_CLIENT_KEY=%s/client.key\n", dir, dir);
    check(extra, "");
}

static void test_ca_expired_and_not_yet_valid(void **state)
{
    struct tu_cert_opts expired = {"Old CA", true, -400, -2, NULL, NULL, NULL, NULL};
    struct tu_cert_opts future = {"Future CA", true, 3, 365, NULL, NULL, NULL, NULL};
    struct dbssl_certlist l;
    char when[32], expected[8192];

    (void)state;
    tu_make_cert(tu_path(dir, "ca.crt"), NULL, &expired);
    assert_int_equal(dbssl_certlist_load(tu_path(dir, "ca.crt"), "certificate file", &l, NULL), 0);
    format_rfc3339(l.certs[0].not_after, when, sizeof(when));
    dbssl_certlist_free(&l);
    snprintf(expected, sizeof(expected),
             "error: DB_SSL_CA_CERT: certificate \"CN=Old CA\" in \"%s/ca.crt\" has expired (not "
             "after %s)\n  detail: days remaining: -2\n",
             dir, when);
    check("", expected);

    tu_make_cert(tu_path(dir, "ca.crt"), NULL, &future);
    assert_int_equal(dbssl_certlist_load(tu_path(dir, "ca.crt"), "certificate file", &l, NULL), 0);
    format_rfc3339(l.certs[0].not_before, when, sizeof(when));
    dbssl_certlist_free(&l);
    snprintf(expected, sizeof(expected),
             "error: DB_SSL_CA_CERT: certificate \"CN=Future CA\" in \"%s/ca.crt\" is not yet "
             "valid (not before %s)\n",
             dir, when);
    check("", expected);
}

static void test_ca_expiring_soon_is_warning(void **state)
{
    struct tu_cert_opts soon = {"Soon CA", true, -300, 10, NULL, NULL, NULL, NULL};
    struct dbssl_certlist l;
    char *got, *text;
    long long not_after;

    (void)state;
    tu_make_cert(tu_path(dir, "ca.crt"), NULL, &soon);
    assert_int_equal(dbssl_certlist_load(tu_path(dir, "ca.crt"), "certificate file", &l, NULL), 0);
    not_after = l.certs[0].not_after;
    dbssl_certlist_free(&l);
    /* exactly 10 days before: 10 days left, inside the default 30 */
    tu_set_now(not_after - 10 * SECONDS_PER_DAY);
    text = settings("");
    got = validate_text(text);
    assert_non_null(strstr(got, "warning: DB_SSL_CA_CERT: certificate \"CN=Soon CA\" in \""));
    assert_non_null(strstr(got, "expires in 10 days"));
    assert_null(strstr(got, "error:"));
    free(got);
    free(text);
    /* DB_SSL_EXPIRY_WARN_DAYS=10 warns from fewer than 10 whole days: not yet */
    text = settings("DB_SSL_EXPIRY_WARN_DAYS=10\n");
    got = validate_text(text);
    assert_string_equal(got, "");
    free(got);
    /* one second later: 9 days and a bit, 9 days left */
    tu_set_now(not_after - 10 * SECONDS_PER_DAY + 1);
    got = validate_text(text);
    assert_non_null(strstr(got, "expires in 9 days"));
    free(got);
    free(text);
    tu_set_now(0);
}

static void test_ca_file_with_leaf_certificate(void **state)
{
    struct tu_cert_opts leaf = {"db.example.com", false, -1, 365, NULL, NULL, NULL, NULL};

    (void)state;
    make_pki();
    leaf.issuer_cert = tu_path(dir, "ca.crt");
    leaf.issuer_key = tu_path(dir, "ca.key");
    tu_make_cert(tu_path(dir, "server.crt"), NULL, &leaf);
    rename(tu_path(dir, "server.crt"), tu_path(dir, "ca.crt"));
    check("", "error: DB_SSL_CA_CERT: certificate \"CN=db.example.com\" in \"{dir}/ca.crt\" is "
              "neither a CA certificate nor self-signed\n");
}

static void test_ca_bundle_each_certificate_checked(void **state)
{
    struct tu_cert_opts good = {"Good CA", true, -1, 365, NULL, NULL, NULL, NULL};
    struct tu_cert_opts old = {"Old CA", true, -400, -2, NULL, NULL, NULL, NULL};
    char *a, *b, *bundle, *got, *text;

    (void)state;
    tu_make_cert(tu_path(dir, "a.crt"), NULL, &good);
    tu_make_cert(tu_path(dir, "b.crt"), NULL, &old);
    assert_int_equal(read_file(tu_path(dir, "a.crt"), "x", 65536, &a, NULL, NULL), 0);
    assert_int_equal(read_file(tu_path(dir, "b.crt"), "x", 65536, &b, NULL, NULL), 0);
    bundle = xasprintf("%s%s", a, b);
    tu_write(tu_path(dir, "ca.crt"), bundle, 0644);
    text = settings("");
    got = validate_text(text);
    assert_non_null(strstr(got, "error: DB_SSL_CA_CERT: certificate \"CN=Old CA\""));
    assert_null(strstr(got, "Good CA"));
    free(a);
    free(b);
    free(bundle);
    free(got);
    free(text);
}

static void test_self_signed_server_cert_as_ca_is_fine(void **state)
{
    struct tu_cert_opts self = {"localhost", false, -1, 365, NULL, NULL, "DNS:localhost", NULL};

    (void)state;
    tu_make_cert(tu_path(dir, "ca.crt"), NULL, &self);
    check("", "");
}

static void test_missing_directory_unparsable_files(void **state)
{
    (void)state;
    check("", "error: DB_SSL_CA_CERT: certificate file \"{dir}/ca.crt\" does not exist\n");
    assert_int_equal(mkdir(tu_path(dir, "ca.crt"), 0755), 0);
    check("", "error: DB_SSL_CA_CERT: certificate file \"{dir}/ca.crt\" is a directory\n");
    rmdir(tu_path(dir, "ca.crt"));
    tu_write(tu_path(dir, "ca.crt"), "just text\n", 0644);
    check("", "error: DB_SSL_CA_CERT: certificate file \"{dir}/ca.crt\" is not in PEM format\n");
}

static void test_unreadable_file(void **state)
{
    pid_t pid;
    int status;

    (void)state;
    make_pki();
    assert_int_equal(chmod(tu_path(dir, "ca.crt"), 0600), 0);
    /*
     * root reads everything, so the check runs in a child that gives up
     * root; as a normal user the file is simply not ours to read.
     */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct dbssl_certlist l;
        struct dbssl_error e;
        char expected[4200];
        if (geteuid() == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(3);
        } else if (chmod(tu_path(dir, "ca.crt"), 0000) != 0) {
            _exit(4);
        }
        dbssl_error_clear(&e);
        if (dbssl_certlist_load(tu_path(dir, "ca.crt"), "certificate file", &l, &e) == 0)
            _exit(5);
        snprintf(expected, sizeof(expected),
                 "could not open certificate file \"%s/ca.crt\": Permission denied", dir);
        _exit(strcmp(e.message, expected) == 0 ? 0 : 6);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_client_pair_rules(void **state)
{
    struct tu_cert_opts other = {"other", false, -1, 365, NULL, NULL, NULL, NULL};
    char extra[8192];

    (void)state;
    make_pki();
    tu_make_cert(tu_path(dir, "other.crt"), tu_path(dir, "other.key"), &other);
    snprintf(extra, sizeof(extra),
             "DB_SSL_CLIENT_CERT=%s/client.crt\nDB_SSL_CLIENT_KEY=%s/other.key\n", dir, dir);
    check(extra, "error: DB_SSL_CLIENT_KEY: private key \"{dir}/other.key\" does not match client "
                 "certificate \"{dir}/client.crt\"\n");
    snprintf(extra, sizeof(extra), "DB_SSL_CLIENT_CERT=%s/client.crt\n", dir);
    check(extra,
          "error: DB_SSL_CLIENT_KEY: DB_SSL_CLIENT_CERT is set but DB_SSL_CLIENT_KEY is not\n");
    snprintf(extra, sizeof(extra), "DB_SSL_CLIENT_KEY=%s/client.key\n", dir);
    check(extra,
          "error: DB_SSL_CLIENT_CERT: DB_SSL_CLIENT_KEY is set but DB_SSL_CLIENT_CERT is not\n");
    /* a certificate where the key should be */
    snprintf(extra, sizeof(extra),
             "DB_SSL_CLIENT_CERT=%s/client.crt\nDB_SSL_CLIENT_KEY=%s/client.crt\n", dir, dir);
    assert_int_equal(chmod(tu_path(dir, "client.crt"), 0600), 0);
    check(extra,
          "error: DB_SSL_CLIENT_KEY: private key file \"{dir}/client.crt\" does not contain a "
          "private key (found \"CERTIFICATE\")\n");
}

static void test_encrypted_key(void **state)
{
    char extra[8192];

    (void)state;
    make_pki();
    tu_make_encrypted_key(tu_path(dir, "client.key"));
    snprintf(extra, sizeof(extra),
             "DB_SSL_CLIENT_CERT=%s/client.crt\nDB_SSL_CLIENT_KEY=%s/client.key\n", dir, dir);
    check(extra, "error: DB_SSL_CLIENT_KEY: private key file \"{dir}/client.key\" is encrypted "
                 "and no passphrase is configured\n");
}

/* Settings naming dir's client.crt, the key file key and the passphrase file pass (NULL: none). */
static void key_settings(char *buf, size_t len, const char *key, const char *pass)
{
    int n = snprintf(buf, len, "DB_SSL_CLIENT_CERT=%s/client.crt\nDB_SSL_CLIENT_KEY=%s/%s\n", dir,
                     dir, key);

    if (pass != NULL && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, "DB_SSL_CLIENT_KEY_PASSWORD_FILE=%s/%s\n", dir, pass);
}

/* An EC key encrypted with "k3y-Pass" (PKCS#8, AES-256-CBC) whose decryption
 * with "not-it" ends in a padding error: the same error every run. */
#define WRONG_PASSPHRASE_KEY                                                                       \
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"                                                      \
    "MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhkFF/yyCg25QICCAAw\n"                           \
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEELDgV8lWQqiAAH/BNVNXagQEgZB6\n"                           \
    "fuTs2fCs3zm70quyzztDk5DHa1gBTIQJ70pKcAc+giVD+sjSEOnaC6Mb4tK1YEqp\n"                           \
    "BIxOTzpmvoQYv+sgwjqpqTPqLdAN8n/NIYzKUkRqhsJAQC8BPIBfDrGVuamB/iZe\n"                           \
    "x8Mfrg6UPOLMSbjI1R6qtc5go2svMbJBnQ03PVBmFl2wEqpS+3P4f9hYtYZakFI=\n"                           \
    "-----END ENCRYPTED PRIVATE KEY-----\n"

/*
 * libpq reads encrypted PEM keys with sslpassword and DER keys: so does
 * validation, and it still checks that the key belongs to the certificate.
 */
static void test_der_and_encrypted_keys(void **state)
{
    char extra[8192];

    (void)state;
    make_pki();
    tu_convert_key(tu_path(dir, "client.key"), tu_path(dir, "client.der"), NULL);
    tu_convert_key(tu_path(dir, "client.key"), tu_path(dir, "client.enc"), "k3y-Pass");
    tu_write(tu_path(dir, "pass"), "k3y-Pass\n", 0600);
    tu_write(tu_path(dir, "wrong"), "not-it\n", 0600);
    tu_write(tu_path(dir, "open"), "k3y-Pass\n", 0644);

    key_settings(extra, sizeof(extra), "client.der", NULL);
    check(extra, "");
    key_settings(extra, sizeof(extra), "client.enc", "pass");
    check(extra, "");
    /* the wrong passphrase: the file and the setting, never the passphrase.  A
     * key encrypted once and kept: OpenSSL's detail depends on the random salt
     * and IV (about one key in 256 decrypts to valid padding with a wrong
     * passphrase and then fails as "decode error" instead) */
    tu_write(tu_path(dir, "fixed.enc"), WRONG_PASSPHRASE_KEY, 0600);
    key_settings(extra, sizeof(extra), "fixed.enc", "wrong");
    check(extra, "error: DB_SSL_CLIENT_KEY_PASSWORD_FILE: could not decrypt private key file "
                 "\"{dir}/fixed.enc\" with the passphrase from DB_SSL_CLIENT_KEY_PASSWORD_FILE "
                 "(\"{dir}/wrong\")\n  detail: error:11800074:PKCS12 routines::pkcs12 cipherfinal "
                 "error\n");
    /* a passphrase others can read */
    key_settings(extra, sizeof(extra), "client.enc", "open");
    check(extra, "error: DB_SSL_CLIENT_KEY_PASSWORD_FILE: passphrase file \"{dir}/open\" has "
                 "group or world access (mode 0644)\n");
    /* a DER key of another pair is still caught */
    assert_int_equal(mkdir(tu_path(dir, "other"), 0700), 0);
    tu_make_client_pki(tu_path(dir, "other"), "Other CA");
    tu_convert_key(tu_path(dir, "other/client.key"), tu_path(dir, "other.der"), NULL);
    key_settings(extra, sizeof(extra), "other.der", NULL);
    check(extra, "error: DB_SSL_CLIENT_KEY: private key \"{dir}/other.der\" does not match client "
                 "certificate \"{dir}/client.crt\"\n");
}

static void test_key_permissions_libpq_rule(void **state)
{
    char extra[8192];
    const char *perm_error =
        "error: DB_SSL_CLIENT_KEY: private key file \"{dir}/client.key\" has group or world "
        "access; "
        "file must have permissions u=rw (0600) or less if owned by the current user, or "
        "permissions u=rw,g=r (0640) or less if owned by root\n";

    (void)state;
    make_pki();
    snprintf(extra, sizeof(extra),
             "DB_SSL_CLIENT_CERT=%s/client.crt\nDB_SSL_CLIENT_KEY=%s/client.key\n", dir, dir);
    assert_int_equal(chmod(tu_path(dir, "client.key"), 0644), 0);
    check(extra, perm_error);
    assert_int_equal(chmod(tu_path(dir, "client.key"), 0604), 0);
    check(extra, perm_error);
    assert_int_equal(chmod(tu_path(dir, "client.key"), 0400), 0);
    check(extra, "");
    if (geteuid() == 0) {
        /* root-owned: 0640 is allowed, 0660 is not */
        assert_int_equal(chmod(tu_path(dir, "client.key"), 0640), 0);
        check(extra, "");
        assert_int_equal(chmod(tu_path(dir, "client.key"), 0660), 0);
        check(extra, perm_error);
        /* owned by someone else: 0640 is not */
        assert_int_equal(chown(tu_path(dir, "client.key"), 65534, 65534), 0);
        assert_int_equal(chmod(tu_path(dir, "client.key"), 0640), 0);
        check(extra, perm_error);
    }
}

static void test_certificate_group_writable(void **state)
{
    (void)state;
    make_pki();
    assert_int_equal(chmod(tu_path(dir, "ca.crt"), 0664), 0);
    check("", "error: DB_SSL_CA_CERT: file \"{dir}/ca.crt\" is writable by group or others (mode "
              "0664)\n");
}

static void test_require_with_ca_warns(void **state)
{
    char *text, *got, expected[8192];

    (void)state;
    make_pki();
    text = xasprintf("DATABASE_URL=postgresql://app:" SECRET "@db/app\nDB_SSL_MODE=require\n"
                     "DB_SSL_CA_CERT=%s/ca.crt\n",
                     dir);
    got = validate_text(text);
    snprintf(expected, sizeof(expected),
             "warning: DB_SSL_MODE: DB_SSL_MODE is \"require\" but a CA certificate is configured\n"
             "  detail: Given a CA certificate (\"%s/ca.crt\"), libpq verifies the server "
             "certificate as with verify-ca.\n",
             dir);
    assert_string_equal(got, expected);
    free(got);
    free(text);
}

/* ---- junk outside PEM blocks (the CA file's cases are data-driven) ---------------- */

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int c, n = 0;

    assert_non_null(f);
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void append(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "a");

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

static void test_pem_junk_in_key_and_crl(void **state)
{
    char extra[8192], want[8192], *a, *b;
    int n;

    (void)state;
    make_pki();
    /* a key file that holds the certificate too (after the key) is fine: both
     * are PEM blocks */
    assert_int_equal(read_file(tu_path(dir, "client.key"), "t", 1 << 20, &a, NULL, NULL), 0);
    assert_int_equal(read_file(tu_path(dir, "client.crt"), "t", 1 << 20, &b, NULL, NULL), 0);
    tu_write(tu_path(dir, "combined.pem"), a, 0600);
    append(tu_path(dir, "combined.pem"), b, strlen(b));
    free(a);
    free(b);
    snprintf(extra, sizeof(extra),
             "DB_SSL_CLIENT_CERT=%s/client.crt\nDB_SSL_CLIENT_KEY=%s/combined.pem\n", dir, dir);
    check(extra, "");

    /* text after the key: an error that names the line, never the text */
    n = count_lines(tu_path(dir, "client.key"));
    append(tu_path(dir, "client.key"), "Sup3rS3cret leftovers\n", 22);
    snprintf(extra, sizeof(extra),
             "DB_SSL_CLIENT_CERT=%s/client.crt\nDB_SSL_CLIENT_KEY=%s/client.key\n", dir, dir);
    snprintf(want, sizeof(want),
             "error: DB_SSL_CLIENT_KEY: private key file \"{dir}/client.key\" has text after its "
             "last PEM block (line %d)\n",
             n + 1);
    check(extra, want);

    /* binary data after a CRL */
    tu_make_crl(tu_path(dir, "ok.crl"), tu_path(dir, "ca.crt"), tu_path(dir, "ca.key"), 7);
    n = count_lines(tu_path(dir, "ok.crl"));
    append(tu_path(dir, "ok.crl"), "\x30\x82\x01\x00", 4);
    snprintf(extra, sizeof(extra), "DB_SSL_CRL=%s/ok.crl\n", dir);
    snprintf(want, sizeof(want),
             "error: DB_SSL_CRL: CRL file \"{dir}/ok.crl\" has binary data outside its PEM blocks "
             "(line %d)\n",
             n + 1);
    check(extra, want);
}

/* A BEGIN line without its closing dashes: the key after it is never quoted as a "label". */
static void test_pem_label_stays_on_its_line(void **state)
{
    static const char key[] = "-----BEGIN PRIVATE KEY\n"
                              "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSecretKeyMaterial\n"
                              "-----END PRIVATE KEY-----\n";
    struct dbssl_keyinfo info;
    struct dbssl_error e;

    (void)state;
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_key_parse(key, sizeof(key) - 1, "private key file \"k\"", &info, &e),
                     -1);
    assert_string_equal(e.message, "private key file \"k\" has a damaged PEM block that would be "
                                   "ignored (line 1)");
    assert_null(strstr(e.hint, "SecretKeyMaterial"));
}

/* Comments before and between blocks: every certificate of the bundle is read. */
static void test_pem_comments_keep_every_block(void **state)
{
    struct dbssl_certlist list;
    struct dbssl_error e;
    char path[4096];

    (void)state;
    snprintf(path, sizeof(path), "%s/config/pem-comments-between-blocks/ca.crt",
             getenv("DBSSL_TEST_DATA"));
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_certlist_load(path, "CA certificate file", &list, &e), 0);
    assert_int_equal(list.n, 2);
    assert_string_equal(list.certs[0].common_name, "dbssl test data CA 1");
    assert_string_equal(list.certs[1].common_name, "dbssl test data CA 2");
    dbssl_certlist_free(&list);
}

static void test_crl(void **state)
{
    char extra[8192];

    (void)state;
    make_pki();
    tu_make_crl(tu_path(dir, "ok.crl"), tu_path(dir, "ca.crt"), tu_path(dir, "ca.key"), 7);
    tu_make_crl(tu_path(dir, "old.crl"), tu_path(dir, "ca.crt"), tu_path(dir, "ca.key"), -3);
    snprintf(extra, sizeof(extra), "DB_SSL_CRL=%s/ok.crl\n", dir);
    check(extra, "");
    snprintf(extra, sizeof(extra), "DB_SSL_CRL=%s/old.crl\n", dir);
    {
        char *text = settings(extra), *got = validate_text(text);
        char prefix[4300];
        snprintf(prefix, sizeof(prefix),
                 "error: DB_SSL_CRL: CRL file \"%s/old.crl\" has expired (next update was due ",
                 dir);
        assert_non_null(strstr(got, prefix));
        free(got);
        free(text);
    }
}

static void test_generated_files(void **state)
{
    struct tu_cert_opts expired = {"dbssl dev CA", true, -400, -2, NULL, NULL, NULL, NULL};
    char *text, *got;

    (void)state;
    /* not generated yet: nothing to complain about */
    text = xasprintf("DATABASE_URL=postgresql://app:" SECRET "@localhost/app\n"
                     "DB_SSL_MODE=verify-full\nDB_SSL_REQUIRED=true\nDB_SSL_AUTO_GENERATE=true\n"
                     "DB_SSL_AUTO_GENERATE_CLIENT=true\nDB_SSL_AUTO_CERT_DIR=%s/gen\n",
                     dir);
    got = validate_text(text);
    assert_string_equal(got, "");
    free(got);
    /* generated and expired: a warning, generation renews it */
    assert_int_equal(mkdir(tu_path(dir, "gen"), 0700), 0);
    tu_make_cert(tu_path(dir, "gen/ca.crt"), NULL, &expired);
    got = validate_text(text);
    assert_non_null(strstr(got, "warning: DB_SSL_AUTO_CERT_DIR: generated certificate \""));
    assert_non_null(strstr(got, "will be renewed"));
    assert_null(strstr(got, "error:"));
    free(got);
    free(text);
}

/* The accessors of findings: each part, and i out of range or no findings at all. */
static void test_findings_accessors(void **state)
{
    struct dbssl_findings *f = dbssl_findings_new();

    (void)state;
    assert_non_null(f);
    assert_int_equal(dbssl_findings_addx(f, DBSSL_SEVERITY_WARNING, 0, "DATABASE_URL", "libpq said",
                                         "Do this.", "invalid %s", "thing"),
                     0);
    assert_int_equal(dbssl_findings_count(f), 1);
    assert_int_equal(dbssl_findings_severity(f, 0), DBSSL_SEVERITY_WARNING);
    assert_string_equal(dbssl_findings_setting(f, 0), "DATABASE_URL");
    assert_string_equal(dbssl_findings_message(f, 0), "invalid thing");
    assert_string_equal(dbssl_findings_detail(f, 0), "libpq said");
    assert_string_equal(dbssl_findings_hint(f, 0), "Do this.");
    /* the source is set once: the most specific caller (a line of .env) wins */
    assert_string_equal(dbssl_findings_source(f, 0), "");
    assert_int_equal(dbssl_findings_set_source(f, 0, ".env line 4"), 0);
    assert_int_equal(dbssl_findings_set_source(f, 0, "environment"), 0);
    assert_string_equal(dbssl_findings_source(f, 0), ".env line 4");
    for (int k = 0; k < 2; k++) {
        /* out of range, then no findings at all: an error with empty parts, never NULL */
        const struct dbssl_findings *g = k == 0 ? f : NULL;
        assert_int_equal(dbssl_findings_severity(g, 1), DBSSL_SEVERITY_ERROR);
        assert_string_equal(dbssl_findings_setting(g, 1), "");
        assert_string_equal(dbssl_findings_message(g, 1), "");
        assert_string_equal(dbssl_findings_detail(g, 1), "");
        assert_string_equal(dbssl_findings_hint(g, 1), "");
        assert_string_equal(dbssl_findings_source(g, 1), "");
    }
    dbssl_findings_free(f);
    dbssl_findings_free(NULL);
}

/* ---- data-driven cases -------------------------------------------------------- */

/*
 * render() with the two lines a user acts on: where the value came from
 * ("  source: ...", when the finding is about one value) and the hint.  The
 * data cases pin both, so a hint that stops naming the place to fix (the
 * URL's sslmode, a line of .env) fails here.
 */
static char *render_full(const struct dbssl_findings *f)
{
    char *plain = render(f);
    struct strbuf sb;
    const char *p = plain;

    strbuf_init(&sb);
    strbuf_append(&sb, "");
    for (size_t i = 0; i < dbssl_findings_count(f); i++) {
        /* the finding's own lines: its primary and, when there is one, its detail */
        const char *end = strchr(p, '\n') + 1;
        if (strncmp(end, "  detail: ", 10) == 0)
            end = strchr(end, '\n') + 1;
        strbuf_append_n(&sb, p, (size_t)(end - p));
        p = end;
        if (dbssl_findings_source(f, i)[0] != '\0')
            strbuf_printf(&sb, "  source: %s\n", dbssl_findings_source(f, i));
        strbuf_printf(&sb, "  hint: %s\n", dbssl_findings_hint(f, i));
    }
    free(plain);
    return strbuf_take(&sb);
}

/* A case: its "env" file, loaded and validated; the findings as text. */
static char *run_data_case(const char *name)
{
    struct dbssl_error e;
    struct dbssl_config *cfg;
    char *got;

    (void)name;
    dbssl_error_clear(&e);
    cfg = dbssl_config_load_from("env", true, NULL, &e);
    if (cfg == NULL) {
        got = load_error(&e);
    } else {
        struct dbssl_findings *f = dbssl_config_validate(cfg, &e);
        assert_non_null(f);
        got = render_full(f);
        dbssl_findings_free(f);
        dbssl_config_free(cfg);
    }
    assert_null(strstr(got, SECRET));
    return got;
}

static void test_data_cases(void **state)
{
    (void)state;
    tu_data_cases("config", run_data_case, 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid_verify_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_valid_mutual_tls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_expired_and_not_yet_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_expiring_soon_is_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_file_with_leaf_certificate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_bundle_each_certificate_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_signed_server_cert_as_ca_is_fine, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missing_directory_unparsable_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_pair_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encrypted_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_der_and_encrypted_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_permissions_libpq_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate_group_writable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_require_with_ca_warns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pem_junk_in_key_and_crl, setup, teardown),
        cmocka_unit_test(test_pem_comments_keep_every_block),
        cmocka_unit_test(test_pem_label_stays_on_its_line),
        cmocka_unit_test_setup_teardown(test_generated_files, setup, teardown),
        cmocka_unit_test(test_findings_accessors),
        cmocka_unit_test_setup_teardown(test_data_cases, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
