/*
 * test_certfacts.c - the generated set's record (src/x509/certfacts.h):
 * what it gives back is exactly what parsing gives, for certificates (every
 * field but the OpenSSL object) and keys (description, match); it answers
 * only for the very file it recorded; it is refused when it is not a
 * private regular file of ours.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "certfacts.h"
#include "certinfo.h"
#include "testutil.h"
#include "util.h"

static void assert_same_cert(const struct dbssl_certinfo *a, const struct dbssl_certinfo *b)
{
    assert_string_equal(a->subject, b->subject);
    assert_string_equal(a->issuer, b->issuer);
    assert_string_equal(a->common_name, b->common_name);
    assert_string_equal(a->serial, b->serial);
    assert_string_equal(a->sans, b->sans);
    assert_string_equal(a->fingerprint, b->fingerprint);
    assert_string_equal(a->key_type, b->key_type);
    assert_int_equal(a->key_bits, b->key_bits);
    assert_int_equal(a->not_before, b->not_before);
    assert_int_equal(a->not_after, b->not_after);
    assert_int_equal(a->spki_len, b->spki_len);
    assert_memory_equal(a->spki, b->spki, a->spki_len);
    assert_int_equal(a->is_ca, b->is_ca);
    assert_int_equal(a->self_signed, b->self_signed);
}

/* Records dir's client pair (as parsed) and CA certificate; returns the directory's fd. */
static int record_set(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct file_at crt = {fd, "client.crt", NULL, FILE_AT_NOFOLLOW};
    struct file_at key = {fd, "client.key", NULL, FILE_AT_NOFOLLOW};
    struct dbssl_certfacts *k = dbssl_certfacts_new();
    struct dbssl_certlist list;
    struct dbssl_keyinfo ki;
    struct dbssl_error e;
    struct stat cst, kst;
    bool match = false;

    assert_true(fd >= 0 && k != NULL);
    assert_int_equal(dbssl_certlist_load_at(&crt, "certificate file", &list, &cst, &e), 0);
    assert_int_equal(dbssl_key_load_at(&key, NULL, &list.certs[0], &ki, &match, &kst, &e), 0);
    assert_true(match);
    dbssl_certfacts_note_certs(k, "client.crt", &cst, &list, true);
    dbssl_certfacts_note_key(k, "client.key", &kst, &ki, &list.certs[0]);
    assert_int_equal(dbssl_certfacts_write(k, fd, &e), 0);
    dbssl_certfacts_free(k);
    dbssl_certlist_free(&list);
    return fd;
}

static struct dbssl_certfacts *read_record(int fd)
{
    struct file_at rec = {fd, DBSSL_CERTFACTS_FILE, NULL, 0};

    return dbssl_certfacts_read(&rec);
}

static void test_round_trip(void **state)
{
    const char *dir = tu_dir;
    int fd;
    struct dbssl_certfacts *k;
    struct file_at crt, key;
    struct dbssl_certlist parsed, known;
    struct dbssl_keyinfo ki_parsed, ki_known;
    struct dbssl_error e;
    struct stat st;
    bool hit = false, m1 = false, m2 = false;

    (void)state;
    tu_make_client_pki(dir, "facts CA");
    fd = record_set(dir);
    crt = (struct file_at){fd, "client.crt", NULL, FILE_AT_NOFOLLOW};
    key = (struct file_at){fd, "client.key", NULL, FILE_AT_NOFOLLOW};
    assert_non_null(k = read_record(fd));

    assert_int_equal(dbssl_certlist_load_at(&crt, "certificate file", &parsed, NULL, &e), 0);
    assert_int_equal(dbssl_certlist_load_known(k, &crt, "certificate file", &known, &st, &hit, &e),
                     0);
    assert_true(hit);
    assert_null(known.certs[0].x509);
    assert_int_equal(known.n, parsed.n);
    assert_same_cert(&known.certs[0], &parsed.certs[0]);
    assert_true(dbssl_certfacts_chain_ok(k, "client.crt", &st));

    assert_int_equal(dbssl_key_load_at(&key, NULL, &parsed.certs[0], &ki_parsed, &m1, NULL, &e), 0);
    assert_int_equal(
        dbssl_key_load_known(k, &key, NULL, &known.certs[0], &ki_known, &m2, NULL, &hit, &e), 0);
    assert_true(hit);
    assert_true(m1 && m2);
    assert_string_equal(ki_known.key_type, ki_parsed.key_type);
    assert_int_equal(ki_known.bits, ki_parsed.bits);

    /* a key is not the certificate's when its record says another public half */
    {
        struct tu_cert_opts other = {"other", false, -1, 365, NULL, NULL, NULL, NULL};
        struct dbssl_certlist o;
        tu_make_cert(tu_path(dir, "other.crt"), tu_path(dir, "other.key"), &other);
        assert_int_equal(dbssl_certlist_load(tu_path(dir, "other.crt"), "certificate file", &o, &e),
                         0);
        assert_int_equal(
            dbssl_key_load_known(k, &key, NULL, &o.certs[0], &ki_known, &m2, NULL, &hit, &e), 0);
        assert_true(hit);
        assert_false(m2);
        dbssl_certlist_free(&o);
    }
    dbssl_certlist_free(&parsed);
    dbssl_certlist_free(&known);
    dbssl_certfacts_free(k);
    close(fd);
}

static void test_changed_file_is_parsed(void **state)
{
    const char *dir = tu_dir;
    int fd;
    struct dbssl_certfacts *k;
    struct file_at crt;
    struct dbssl_certlist l;
    struct dbssl_error e;
    char *text = NULL;
    size_t len = 0;

    (void)state;
    tu_make_client_pki(dir, "facts CA");
    fd = record_set(dir);
    assert_non_null(k = read_record(fd));
    crt = (struct file_at){fd, "client.crt", NULL, FILE_AT_NOFOLLOW};
    /* the same bytes written again: the ctime moves, the record no longer answers */
    assert_int_equal(read_file(tu_path(dir, "client.crt"), "file", 1 << 16, &text, &len, &e), 0);
    usleep(10000);
    tu_write(tu_path(dir, "client.crt"), text, 0644);
    {
        bool hit = true;
        struct stat st;
        assert_int_equal(dbssl_certlist_load_known(k, &crt, "certificate file", &l, &st, &hit, &e),
                         0);
        assert_false(hit);
        assert_non_null(l.certs[0].x509); /* parsed */
        assert_false(dbssl_certfacts_chain_ok(k, "client.crt", &st));
        dbssl_certlist_free(&l);
    }
    free(text);
    dbssl_certfacts_free(k);
    close(fd);
}

static void test_untrusted_record(void **state)
{
    const char *dir = tu_dir;
    int fd;
    struct dbssl_certfacts *k;

    (void)state;
    tu_make_client_pki(dir, "facts CA");
    fd = record_set(dir);
    assert_int_equal(fchmodat(fd, DBSSL_CERTFACTS_FILE, 0640, 0), 0);
    assert_null(read_record(fd));
    assert_int_equal(fchmodat(fd, DBSSL_CERTFACTS_FILE, 0600, 0), 0);
    assert_non_null(k = read_record(fd));
    dbssl_certfacts_free(k);
    /* a symlink to a good record is no record */
    assert_int_equal(renameat(fd, DBSSL_CERTFACTS_FILE, fd, "elsewhere"), 0);
    assert_int_equal(symlinkat("elsewhere", fd, DBSSL_CERTFACTS_FILE), 0);
    assert_null(read_record(fd));
    /* nor is a directory, or nothing at all */
    assert_int_equal(unlinkat(fd, DBSSL_CERTFACTS_FILE, 0), 0);
    assert_null(read_record(fd));
    assert_int_equal(mkdirat(fd, DBSSL_CERTFACTS_FILE, 0700), 0);
    assert_null(read_record(fd));
    dbssl_certfacts_free(NULL);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_changed_file_is_parsed, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_untrusted_record, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
