/*
 * test_watch.c - file change detection as rotation produces it: plain
 * overwrite, rename over, and the Kubernetes `..data` symlink swap; quiet
 * files report nothing; a burst of writes is reported once.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "watch.h"

static struct dbssl_watch *watch_one(const char *path)
{
    const char *paths[] = {path};
    struct dbssl_watch *w = dbssl_watch_new(paths, 1, NULL);

    assert_non_null(w);
    return w;
}

static void test_quiet_file_is_not_a_change(void **state)
{
    struct dbssl_watch *w;

    (void)state;
    tu_write(tu_path(tu_dir, "ca.crt"), "one\n", 0644);
    w = watch_one(tu_path(tu_dir, "ca.crt"));
    assert_false(dbssl_watch_wait(w, 50, 20));
    /* unrelated files in the directory do not count */
    tu_write(tu_path(tu_dir, "other.txt"), "x\n", 0644);
    assert_false(dbssl_watch_wait(w, 50, 20));
    dbssl_watch_free(w);
}

static void test_overwrite_and_rename(void **state)
{
    struct dbssl_watch *w;

    (void)state;
    tu_write(tu_path(tu_dir, "ca.crt"), "one\n", 0644);
    w = watch_one(tu_path(tu_dir, "ca.crt"));
    tu_write(tu_path(tu_dir, "ca.crt"), "two, longer\n", 0644);
    assert_true(dbssl_watch_wait(w, 1000, 20));
    assert_false(dbssl_watch_wait(w, 50, 20));
    tu_write(tu_path(tu_dir, "new.crt"), "three\n", 0644);
    assert_int_equal(rename(tu_path(tu_dir, "new.crt"), tu_path(tu_dir, "ca.crt")), 0);
    assert_true(dbssl_watch_wait(w, 1000, 20));
    unlink(tu_path(tu_dir, "ca.crt"));
    assert_true(dbssl_watch_wait(w, 1000, 20));
    dbssl_watch_free(w);
}

static void test_kubernetes_symlink_swap(void **state)
{
    struct dbssl_watch *w;
    char target[4096];

    (void)state;
    /* secret/ca.crt -> ..data/ca.crt, ..data -> ..v1 */
    assert_int_equal(mkdir(tu_path(tu_dir, "..v1"), 0755), 0);
    assert_int_equal(mkdir(tu_path(tu_dir, "..v2"), 0755), 0);
    tu_write(tu_path(tu_dir, "..v1/ca.crt"), "v1\n", 0644);
    tu_write(tu_path(tu_dir, "..v2/ca.crt"), "v2\n", 0644);
    assert_int_equal(symlink("..v1", tu_path(tu_dir, "..data")), 0);
    assert_int_equal(symlink("..data/ca.crt", tu_path(tu_dir, "ca.crt")), 0);
    w = watch_one(tu_path(tu_dir, "ca.crt"));
    assert_false(dbssl_watch_wait(w, 50, 20));
    /* the swap: a new symlink renamed over ..data */
    assert_int_equal(symlink("..v2", tu_path(tu_dir, "..data_tmp")), 0);
    assert_int_equal(rename(tu_path(tu_dir, "..data_tmp"), tu_path(tu_dir, "..data")), 0);
    assert_true(dbssl_watch_wait(w, 1000, 20));
    assert_true(realpath(tu_path(tu_dir, "ca.crt"), target) != NULL);
    assert_non_null(strstr(target, "..v2"));
    dbssl_watch_free(w);
}

static void test_burst_reported_once(void **state)
{
    const char *paths[3];
    struct dbssl_watch *w;

    (void)state;
    paths[0] = tu_path(tu_dir, "ca.crt");
    paths[1] = tu_path(tu_dir, "client.crt");
    paths[2] = tu_path(tu_dir, "client.key");
    for (int i = 0; i < 3; i++)
        tu_write(paths[i], "old\n", 0644);
    w = dbssl_watch_new(paths, 3, NULL);
    assert_non_null(w);
    for (int i = 0; i < 3; i++) {
        paths[i] = tu_path(tu_dir, i == 0 ? "ca.crt" : i == 1 ? "client.crt" : "client.key");
        tu_write(paths[i], "new content\n", 0644);
        usleep(10000);
    }
    assert_true(dbssl_watch_wait(w, 1000, 100));
    assert_false(dbssl_watch_wait(w, 50, 20));
    dbssl_watch_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_quiet_file_is_not_a_change, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_overwrite_and_rename, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_kubernetes_symlink_swap, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_burst_reported_once, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
