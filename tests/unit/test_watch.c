/*
 * test_watch.c - file change detection as rotation produces it: plain
 * overwrite, rename over, and the Kubernetes `..data` symlink swap; quiet
 * files report nothing; a burst of writes is reported once; a file is
 * reported only once complete (its writer closed it, its content stable
 * across the window); a change behind a symlink to another directory is
 * still found by the re-stat; a stop never waits for a window.
 */
#include "testutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
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
    assert_false(dbssl_watch_wait(w, 50, 20, -1));
    /* unrelated files in the directory do not count */
    tu_write(tu_path(tu_dir, "other.txt"), "x\n", 0644);
    assert_false(dbssl_watch_wait(w, 50, 20, -1));
    dbssl_watch_free(w);
}

static void test_overwrite_and_rename(void **state)
{
    struct dbssl_watch *w;

    (void)state;
    tu_write(tu_path(tu_dir, "ca.crt"), "one\n", 0644);
    w = watch_one(tu_path(tu_dir, "ca.crt"));
    tu_write(tu_path(tu_dir, "ca.crt"), "two, longer\n", 0644);
    assert_true(dbssl_watch_wait(w, 1000, 20, -1));
    assert_false(dbssl_watch_wait(w, 50, 20, -1));
    tu_write(tu_path(tu_dir, "new.crt"), "three\n", 0644);
    assert_int_equal(rename(tu_path(tu_dir, "new.crt"), tu_path(tu_dir, "ca.crt")), 0);
    assert_true(dbssl_watch_wait(w, 1000, 20, -1));
    unlink(tu_path(tu_dir, "ca.crt"));
    assert_true(dbssl_watch_wait(w, 1000, 20, -1));
    dbssl_watch_free(w);
}

/*
 * A watch rebuilt for another list of files (serve adds a refused set's
 * files after a failed reload) still reports a change made between the
 * old watch's last look and the new watch: the .env put right at once.
 */
static void test_rebuilt_watch_keeps_what_was_seen(void **state)
{
    const char *two[2];
    struct dbssl_watch *old, *fresh, *blind;

    (void)state;
    tu_write(tu_path(tu_dir, ".env"), "DB_SSL_MODE=verify-everything\n", 0644);
    old = watch_one(tu_path(tu_dir, ".env"));
    /* put right before the new watch exists: no event reaches it */
    tu_write(tu_path(tu_dir, ".env"), "DB_SSL_MODE=verify-full\n", 0644);
    two[0] = tu_path(tu_dir, ".env");
    two[1] = tu_path(tu_dir, "ca.crt");
    fresh = dbssl_watch_new(two, 2, NULL);
    blind = dbssl_watch_new(two, 2, NULL);
    assert_non_null(fresh);
    assert_non_null(blind);
    dbssl_watch_inherit(fresh, old);
    assert_true(dbssl_watch_wait(fresh, 50, 20, -1));
    assert_false(dbssl_watch_wait(fresh, 50, 20, -1));
    /* without what the old watch saw, the change is lost */
    assert_false(dbssl_watch_wait(blind, 50, 20, -1));
    /* nothing changed since: an inherited watch reports nothing */
    dbssl_watch_free(old);
    old = watch_one(tu_path(tu_dir, ".env"));
    dbssl_watch_free(blind);
    blind = dbssl_watch_new(two, 2, NULL);
    dbssl_watch_inherit(blind, old);
    assert_false(dbssl_watch_wait(blind, 50, 20, -1));
    dbssl_watch_inherit(blind, NULL);
    dbssl_watch_free(old);
    dbssl_watch_free(fresh);
    dbssl_watch_free(blind);
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
    assert_false(dbssl_watch_wait(w, 50, 20, -1));
    /* the swap: a new symlink renamed over ..data */
    assert_int_equal(symlink("..v2", tu_path(tu_dir, "..data_tmp")), 0);
    assert_int_equal(rename(tu_path(tu_dir, "..data_tmp"), tu_path(tu_dir, "..data")), 0);
    assert_true(dbssl_watch_wait(w, 1000, 20, -1));
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
    assert_true(dbssl_watch_wait(w, 1000, 100, -1));
    assert_false(dbssl_watch_wait(w, 50, 20, -1));
    dbssl_watch_free(w);
}

static char *slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

#define FIRST_HALF  "DATABASE_URL=postgresql://app@127.0.0.1/db\nDB_SSL_MODE=prefer\n"
#define SECOND_HALF "DB_SSL_CA_CERT=/etc/dbssl/ca.crt\n"

/*
 * The half-written .env of the issue, written in one open: the first half
 * sits unchanged for many windows, but the writer still has the file open,
 * so nothing is reported until it closes it.  IN_MODIFY alone never counts.
 */
static void test_file_open_for_writing_is_not_complete(void **state)
{
    const char *env = tu_path(tu_dir, "app.env");
    struct dbssl_watch *w;
    int fd;

    (void)state;
    tu_write(env, "DATABASE_URL=postgresql://app@127.0.0.1/db\nDB_SSL_MODE=verify-full\n", 0600);
    w = watch_one(env);
    fd = open(env, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, FIRST_HALF, strlen(FIRST_HALF)), (ssize_t)strlen(FIRST_HALF));
    /* 2 calls x (timeout or 8 windows of 20 ms): the first half is stable all along */
    assert_false(dbssl_watch_wait(w, 200, 20, -1));
    assert_false(dbssl_watch_wait(w, 200, 20, -1));
    assert_int_equal(write(fd, SECOND_HALF, strlen(SECOND_HALF)), (ssize_t)strlen(SECOND_HALF));
    assert_false(dbssl_watch_wait(w, 200, 20, -1));
    assert_int_equal(close(fd), 0);
    assert_true(dbssl_watch_wait(w, 1000, 20, -1));
    assert_string_equal(slurp(env), FIRST_HALF SECOND_HALF);
    assert_false(dbssl_watch_wait(w, 50, 20, -1));
    dbssl_watch_free(w);
}

#define PIECES 8

struct pieces {
    char path[4096]; /* a copy: tu_path's buffers are not the thread's */
    int gap_ms;
};

/* The first half, then PIECES lines one by one, each write a complete
 * open-write-close (stdio only: cmocka's asserts belong to the main thread). */
static void *write_in_pieces(void *arg)
{
    const struct pieces *pc = arg;
    struct timespec gap = {0, pc->gap_ms * 1000000L};
    FILE *f;

    if ((f = fopen(pc->path, "w")) != NULL) {
        fputs(FIRST_HALF, f);
        fclose(f);
    }
    for (int i = 0; i < PIECES; i++) {
        nanosleep(&gap, NULL);
        if ((f = fopen(pc->path, "a")) != NULL) {
            fprintf(f, "PIECE_%d=%d\n", i, i);
            fclose(f);
        }
    }
    return NULL;
}

/*
 * A file rewritten in pieces 100 ms apart, each piece closed, behind a
 * symlink into another directory so that no inotify event reaches the
 * watched one and only the re-stat sees it: the change is found after the
 * first piece, but its content differs between the start and the end of
 * every 300 ms window until the last piece, so it is reported once, whole.
 */
static void test_content_must_be_stable_across_the_window(void **state)
{
    struct pieces pc = {"", 100};
    struct dbssl_watch *w;
    pthread_t t;
    int i;

    (void)state;
    assert_int_equal(mkdir(tu_path(tu_dir, "real"), 0755), 0);
    snprintf(pc.path, sizeof(pc.path), "%s", tu_path(tu_dir, "real/app.env"));
    tu_write(pc.path, "DATABASE_URL=postgresql://app@127.0.0.1/db\n", 0600);
    assert_int_equal(symlink(pc.path, tu_path(tu_dir, "app.env")), 0);
    w = watch_one(tu_path(tu_dir, "app.env"));
    assert_int_equal(pthread_create(&t, NULL, write_in_pieces, &pc), 0);
    for (i = 0; i < 500 && !dbssl_watch_wait(w, 10, 300, -1); i++)
        ;
    assert_true(i < 500);
    assert_non_null(strstr(slurp(pc.path), "PIECE_7=7\n"));
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_false(dbssl_watch_wait(w, 50, 20, -1)); /* once */
    dbssl_watch_free(w);
}

/* A file reached through a symlink into another directory changes without
 * an event in the watched one: the re-stat after the timeout finds it. */
static void test_change_behind_symlink_found_by_restat(void **state)
{
    struct dbssl_watch *w;

    (void)state;
    assert_int_equal(mkdir(tu_path(tu_dir, "real"), 0755), 0);
    assert_int_equal(mkdir(tu_path(tu_dir, "conf"), 0755), 0);
    tu_write(tu_path(tu_dir, "real/ca.crt"), "v1\n", 0644);
    assert_int_equal(symlink(tu_path(tu_dir, "real/ca.crt"), tu_path(tu_dir, "conf/ca.crt")), 0);
    w = watch_one(tu_path(tu_dir, "conf/ca.crt"));
    tu_write(tu_path(tu_dir, "real/ca.crt"), "v2, longer\n", 0644);
    assert_true(dbssl_watch_wait(w, 200, 20, -1));
    assert_false(dbssl_watch_wait(w, 50, 20, -1));
    dbssl_watch_free(w);
}

/* A readable cancel descriptor ends a wait at once, also one settling a change. */
static void test_cancel_ends_the_wait(void **state)
{
    const char *env = tu_path(tu_dir, "app.env");
    const uint64_t one = 1;
    struct dbssl_watch *w;
    long long t0;
    int efd, fd;

    (void)state;
    tu_write(env, "A=1\n", 0600);
    w = watch_one(env);
    efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(efd >= 0);
    /* a writer holds the file open: without the cancel this would settle for 8 x 5 s */
    fd = open(env, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "B=2\n", 4), 4);
    assert_int_equal(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
    t0 = dbssl_mono_ms();
    assert_false(dbssl_watch_wait(w, 5000, 5000, efd));
    assert_false(dbssl_watch_wait(w, 5000, 5000, efd));
    assert_true(dbssl_mono_ms() - t0 < 1000);
    close(fd);
    close(efd);
    dbssl_watch_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_quiet_file_is_not_a_change, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_overwrite_and_rename, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_rebuilt_watch_keeps_what_was_seen, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_kubernetes_symlink_swap, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_burst_reported_once, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_file_open_for_writing_is_not_complete, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_content_must_be_stable_across_the_window, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_change_behind_symlink_found_by_restat, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_cancel_ends_the_wait, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
