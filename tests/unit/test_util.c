/*
 * test_util.c - the file helpers every reader goes through: only regular
 * files are read (a FIFO, socket, device or directory is an error at once,
 * never a wait), symlinks are refused where asked, writes never follow a
 * link or replace a file, and remove_tree_at() never leaves the tree.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "tlsver.h"
#include "util.h"

static void make_socket(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd); /* the socket file stays */
}

/* Every kind of file that is not a regular one: refused at once, naming it. */
static void test_only_regular_files_are_read(void **state)
{
    struct {
        const char *name;
        const char *says;
    } cases[] = {
        {"fifo", "is a named pipe (FIFO), not a regular file"},
        {"sock", "is a socket, not a regular file"},
        {"/dev/null", "is a device, not a regular file"},
        {"dir", "is a directory"},
    };

    (void)state;
    assert_int_equal(mkfifo(tu_path(tu_dir, "fifo"), 0644), 0);
    make_socket(tu_path(tu_dir, "sock"));
    assert_int_equal(mkdir(tu_path(tu_dir, "dir"), 0755), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *path = cases[i].name[0] == '/' ? cases[i].name : tu_path(tu_dir, cases[i].name);
        struct dbssl_error e;
        char *data = NULL, want[4200];
        long long t0 = dbssl_mono_ms();

        dbssl_error_clear(&e);
        /* a FIFO without a writer: a blocking open() would never return */
        assert_int_equal(read_file(path, "certificate file", CONFIG_FILE_MAX, &data, NULL, &e), -1);
        assert_true(dbssl_mono_ms() - t0 < 1000);
        assert_null(data);
        snprintf(want, sizeof(want), "certificate file \"%s\" %s", path, cases[i].says);
        assert_string_equal(e.message, want);
        assert_int_equal(e.code, DBSSL_ERR_CONFIG); /* a setting names the wrong thing: exit 2 */
        assert_true(e.hint[0] != '\0');
    }
}

static void test_regular_file_size_and_stat(void **state)
{
    const char *path = tu_path(tu_dir, "big");
    struct dbssl_error e;
    struct stat st;
    char *data = NULL;
    size_t len = 0;
    int fd;

    (void)state;
    tu_write(path, "hello\n", 0640);
    assert_int_equal(read_file_at(&FILE_AT_PATH(path), "file", 64, &data, &len, &st, NULL), 0);
    assert_string_equal(data, "hello\n");
    assert_int_equal(len, 6);
    /* the fstat() of the file read, for permission checks */
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0640);
    free(data);
    /* one byte over the limit: refused before anything is read */
    fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, CONFIG_FILE_MAX + 1), 0);
    close(fd);
    dbssl_error_clear(&e);
    assert_int_equal(read_file(path, "file", CONFIG_FILE_MAX, &data, NULL, &e), -1);
    assert_non_null(strstr(e.message, "is too large"));
}

/* Inside a generated set a symlink is never followed; a user's path may be one. */
static void test_nofollow_refuses_a_symlink(void **state)
{
    struct dbssl_error e;
    char *data = NULL;
    int dir;

    (void)state;
    tu_write(tu_path(tu_dir, "real.crt"), "real\n", 0644);
    assert_int_equal(symlink("real.crt", tu_path(tu_dir, "link.crt")), 0);
    assert_int_equal(read_file(tu_path(tu_dir, "link.crt"), "f", 64, &data, NULL, NULL), 0);
    assert_string_equal(data, "real\n");
    free(data);
    data = NULL;
    dir = open(tu_dir, O_RDONLY | O_DIRECTORY);
    assert_true(dir >= 0);
    dbssl_error_clear(&e);
    assert_int_equal(
        read_file_at(&(struct file_at){dir, "link.crt", "set/link.crt", FILE_AT_NOFOLLOW},
                     "certificate file", 64, &data, NULL, NULL, &e),
        -1);
    assert_string_equal(e.message, "certificate file \"set/link.crt\" is a symbolic link");
    assert_null(data);
    /* relative to the descriptor: the working directory plays no part */
    assert_int_equal(read_file_at(&(struct file_at){dir, "real.crt", NULL, FILE_AT_NOFOLLOW}, "f",
                                  64, &data, NULL, NULL, NULL),
                     0);
    free(data);
    close(dir);
}

/* Writes create a new file only: never through a symlink, never over a file. */
static void test_write_never_follows_or_replaces(void **state)
{
    struct dbssl_error e;
    char *data = NULL;
    int dir = open(tu_dir, O_RDONLY | O_DIRECTORY);

    (void)state;
    assert_true(dir >= 0);
    tu_write(tu_path(tu_dir, "victim"), "precious\n", 0644);
    assert_int_equal(symlink("victim", tu_path(tu_dir, "key")), 0);
    dbssl_error_clear(&e);
    assert_int_equal(write_file_at(&(struct file_at){dir, "key", NULL, 0}, "x", 1, 0600, (uid_t)-1,
                                   (gid_t)-1, &e),
                     -1);
    assert_int_equal(write_file_at(&(struct file_at){dir, "victim", NULL, 0}, "x", 1, 0600,
                                   (uid_t)-1, (gid_t)-1, NULL),
                     -1);
    assert_int_equal(read_file(tu_path(tu_dir, "victim"), "f", 64, &data, NULL, NULL), 0);
    assert_string_equal(data, "precious\n");
    free(data);
    assert_int_equal(write_file_at(&(struct file_at){dir, "new.key", NULL, 0}, "k\n", 2, 0600,
                                   (uid_t)-1, (gid_t)-1, NULL),
                     0);
    close(dir);
}

/* rm -rf by descriptors: a symlink inside (or the tree itself) is removed, never followed. */
static void test_remove_tree_stays_inside(void **state)
{
    struct stat st;
    int dir = open(tu_dir, O_RDONLY | O_DIRECTORY);

    (void)state;
    assert_true(dir >= 0);
    assert_int_equal(mkdir(tu_path(tu_dir, "outside"), 0755), 0);
    tu_write(tu_path(tu_dir, "outside/keep"), "keep\n", 0644);
    assert_int_equal(mkdir(tu_path(tu_dir, "tree"), 0755), 0);
    assert_int_equal(mkdir(tu_path(tu_dir, "tree/sub"), 0700), 0);
    tu_write(tu_path(tu_dir, "tree/sub/a"), "a\n", 0600);
    tu_write(tu_path(tu_dir, "tree/b"), "b\n", 0600);
    assert_int_equal(symlink(tu_path(tu_dir, "outside"), tu_path(tu_dir, "tree/link")), 0);
    assert_int_equal(symlink(tu_path(tu_dir, "outside"), tu_path(tu_dir, "toplink")), 0);

    assert_int_equal(remove_tree_at(dir, "tree"), 0);
    assert_int_equal(lstat(tu_path(tu_dir, "tree"), &st), -1);
    assert_int_equal(remove_tree_at(dir, "toplink"), 0); /* the link, not its target */
    assert_int_equal(lstat(tu_path(tu_dir, "toplink"), &st), -1);
    assert_int_equal(stat(tu_path(tu_dir, "outside/keep"), &st), 0);
    assert_int_equal(remove_tree_at(dir, "no-such"), 0);
    close(dir);
}

/* TLS versions: both spellings of 1.0 read, one order, each module's spelling written. */
static void test_tls_versions(void **state)
{
    (void)state;
    assert_int_equal(dbssl_tlsv_from_name("TLSv1"), DBSSL_TLSV_1_0);
    assert_int_equal(dbssl_tlsv_from_name("TLSv1.0"), DBSSL_TLSV_1_0);
    assert_int_equal(dbssl_tlsv_from_name("TLSv1.3"), DBSSL_TLSV_1_3);
    assert_int_equal(dbssl_tlsv_from_name("SSLv3"), DBSSL_TLSV_SSL3);
    assert_int_equal(dbssl_tlsv_from_name("TLSv1.4"), -1);
    assert_int_equal(dbssl_tlsv_from_name(NULL), -1);
    assert_true(dbssl_tlsv_from_name("TLSv1.1") < dbssl_tlsv_from_name("TLSv1.2"));
    assert_string_equal(dbssl_tlsv_pg_name(DBSSL_TLSV_1_0), "TLSv1");
    assert_string_equal(dbssl_tlsv_report_name(DBSSL_TLSV_1_0), "TLSv1.0");
    assert_string_equal(dbssl_tlsv_pg_name(DBSSL_TLSV_N), "unknown");
}

/* libpq's comma lists, read one way: empty items count, "" and NULL hold none. */
static void test_lists(void **state)
{
    size_t n = 99;
    const char *p;

    (void)state;
    assert_int_equal(list_count(NULL), 0);
    assert_int_equal(list_count(""), 0);
    assert_int_equal(list_count("a"), 1);
    assert_int_equal(list_count("a,,b"), 3);
    assert_int_equal(list_count("a,"), 2);
    assert_null(list_item(NULL, 0, &n));
    assert_null(list_item("", 0, &n));
    p = list_item("db1,/run/pg,db3", 1, &n);
    assert_non_null(p);
    assert_int_equal(n, 7);
    assert_memory_equal(p, "/run/pg", 7);
    p = list_item("a,", 1, &n);
    assert_non_null(p);
    assert_int_equal(n, 0);
    assert_null(list_item("a,b", 2, &n));
    assert_true(host_is_socket("", 0));
    assert_true(host_is_socket("/run/postgresql", 15));
    assert_true(host_is_socket("@pg", 3));
    assert_false(host_is_socket("db.example.com", 14));
}

/* One way to write a server: brackets around an IPv6 literal, nothing without a port. */
static void test_format_host_port(void **state)
{
    char buf[64];

    (void)state;
    format_host_port(buf, sizeof(buf), "db.example.com", "5432");
    assert_string_equal(buf, "db.example.com:5432");
    format_host_port(buf, sizeof(buf), "::1", "5432");
    assert_string_equal(buf, "[::1]:5432");
    format_host_port(buf, sizeof(buf), "127.0.0.1", NULL);
    assert_string_equal(buf, "127.0.0.1");
    format_host_port(buf, sizeof(buf), "fe80::1", "");
    assert_string_equal(buf, "fe80::1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_host_port),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_tls_versions),
        cmocka_unit_test_setup_teardown(test_only_regular_files_are_read, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_regular_file_size_and_stat, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_nofollow_refuses_a_symlink, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_write_never_follows_or_replaces, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_remove_tree_stays_inside, tu_setup_dir,
                                        tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
