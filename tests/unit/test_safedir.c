/*
 * test_safedir.c - which directories dbssl trusts with keys, case by case:
 * each case builds a small tree under a fresh directory, opens one path in
 * it and checks the verdict (the message, with {t} for the tree) or, when
 * it is accepted, the path that was opened.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safedir.h"

#define NOBODY 65534

struct step {
    char op;          /* 'd' mkdir, 'l' symlink (arg -> name), 'o' chown nobody, 'c' chdir */
    const char *name; /* below the tree */
    unsigned mode;    /* 'd': chmod after mkdir (so the umask plays no part) */
    const char *arg;  /* 'l': the link's target ({t} for the tree) */
};

struct tcase {
    const char *what;
    struct step steps[4];
    const char *path; /* {t}/... or relative (after a 'c' step) */
    unsigned flags;
    const char *expect;   /* the error message, or NULL: accepted */
    const char *resolved; /* when accepted: the path opened */
    bool needs_root;      /* to give a directory to another user */
};

static const struct tcase cases[] = {
    {"a private directory",
     {{'d', "d", 0700, NULL}},
     "{t}/d",
     SAFEDIR_NO_LINK,
     NULL,
     "{t}/d",
     false},
    {"world-writable",
     {{'d', "d", 0777, NULL}},
     "{t}/d",
     SAFEDIR_NO_LINK,
     "certificate directory \"{t}/d\" is writable by other users (mode 0777)",
     NULL,
     false},
    {"group-writable",
     {{'d', "d", 0770, NULL}},
     "{t}/d",
     SAFEDIR_NO_LINK,
     "certificate directory \"{t}/d\" is writable by other users (mode 0770)",
     NULL,
     false},
    {"sticky is not enough for the set itself",
     {{'d', "d", 01777, NULL}},
     "{t}/d",
     SAFEDIR_NO_LINK,
     "certificate directory \"{t}/d\" is writable by other users (mode 1777)",
     NULL,
     false},
    {"a sticky shared base (as /tmp)",
     {{'d', "d", 01777, NULL}},
     "{t}/d",
     SAFEDIR_SHARED,
     NULL,
     "{t}/d",
     false},
    {"a shared base without the sticky bit",
     {{'d', "d", 0777, NULL}},
     "{t}/d",
     SAFEDIR_SHARED,
     "certificate directory \"{t}/d\" is writable by other users (mode 0777)",
     NULL,
     false},
    {"a world-writable parent",
     {{'d', "p", 0777, NULL}, {'d', "p/d", 0700, NULL}},
     "{t}/p/d",
     SAFEDIR_NO_LINK,
     "directory \"{t}/p\" above certificate directory \"{t}/p/d\" is writable by other users "
     "(mode 0777)",
     NULL,
     false},
    {"a sticky world-writable parent",
     {{'d', "p", 01777, NULL}, {'d', "p/d", 0700, NULL}},
     "{t}/p/d",
     SAFEDIR_NO_LINK,
     NULL,
     "{t}/p/d",
     false},
    {"owned by another user",
     {{'d', "d", 0700, NULL}, {'o', "d", 0, NULL}},
     "{t}/d",
     SAFEDIR_NO_LINK,
     "certificate directory \"{t}/d\" is owned by another user, \"nobody\" (uid 65534)",
     NULL,
     true},
    {"a parent owned by another user",
     {{'d', "p", 0755, NULL}, {'d', "p/d", 0700, NULL}, {'o', "p", 0, NULL}},
     "{t}/p/d",
     SAFEDIR_NO_LINK,
     "directory \"{t}/p\" above certificate directory \"{t}/p/d\" is owned by another user, "
     "\"nobody\" (uid 65534)",
     NULL,
     true},
    {"the set is a symlink",
     {{'d', "real", 0700, NULL}, {'l', "l", 0, "real"}},
     "{t}/l",
     SAFEDIR_NO_LINK,
     "certificate directory \"{t}/l\" is a symbolic link",
     NULL,
     false},
    {"a symlink above the set, in a safe directory",
     {{'d', "real", 0755, NULL}, {'d', "real/d", 0700, NULL}, {'l', "l", 0, "{t}/real"}},
     "{t}/l/d",
     SAFEDIR_NO_LINK,
     NULL,
     "{t}/real/d",
     false},
    {"a symlink to an unsafe directory",
     {{'d', "real", 0777, NULL}, {'l', "l", 0, "real"}},
     "{t}/l",
     SAFEDIR_SHARED,
     "certificate directory \"{t}/real\" is writable by other users (mode 0777)",
     NULL,
     false},
    {"a loop of links",
     {{'l', "a", 0, "b"}, {'l', "b", 0, "a"}},
     "{t}/a/d",
     SAFEDIR_NO_LINK,
     "too many levels of symbolic links in \"{t}/a/d\"",
     NULL,
     false},
    {"dot-dot",
     {{'d', "p", 0755, NULL}, {'d', "d", 0700, NULL}},
     "{t}/p/../d",
     SAFEDIR_NO_LINK,
     NULL,
     "{t}/d",
     false},
    {"relative to the working directory",
     {{'d', "d", 0700, NULL}, {'c', "", 0, NULL}},
     "./d",
     SAFEDIR_NO_LINK,
     NULL,
     "{t}/d",
     false},
    {"a file, not a directory",
     {{'d', "p", 0755, NULL}, {'l', "p/f", 0, "/etc/hostname"}},
     "{t}/p/f",
     SAFEDIR_NO_LINK,
     "certificate directory \"{t}/p/f\" is a symbolic link",
     NULL,
     false},
};

/* s with every {t} replaced by t */
static void expand(const char *s, const char *t, char *out, size_t len)
{
    size_t n = 0;

    for (; *s && n + 1 < len; s++) {
        if (strncmp(s, "{t}", 3) == 0) {
            n += (size_t)snprintf(out + n, len - n, "%s", t);
            s += 2;
        } else {
            out[n++] = *s;
        }
    }
    out[n < len ? n : len - 1] = '\0';
}

static void run_steps(const struct tcase *c, const char *t)
{
    for (size_t i = 0; i < sizeof(c->steps) / sizeof(c->steps[0]) && c->steps[i].op; i++) {
        const struct step *s = &c->steps[i];
        char target[PATH_MAX];
        switch (s->op) {
        case 'd':
            assert_int_equal(mkdir(tu_path(t, s->name), 0700), 0);
            assert_int_equal(chmod(tu_path(t, s->name), s->mode), 0);
            break;
        case 'l':
            expand(s->arg, t, target, sizeof(target));
            assert_int_equal(symlink(target, tu_path(t, s->name)), 0);
            break;
        case 'o':
            assert_int_equal(chown(tu_path(t, s->name), NOBODY, NOBODY), 0);
            break;
        case 'c':
            assert_int_equal(chdir(t), 0);
            break;
        }
    }
}

static void test_cases(void **state)
{
    const struct safedir_names names = {"certificate directory", "DB_SSL_AUTO_CERT_DIR"};
    char cwd[PATH_MAX];
    int failed = 0;

    (void)state;
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct tcase *c = &cases[i];
        char *t, path[PATH_MAX], want[2 * PATH_MAX], resolved[PATH_MAX] = "";
        struct dbssl_error e;
        int fd;

        if (c->needs_root && geteuid() != 0) {
            fprintf(stderr, "case \"%s\": skipped, it needs root to give a directory away\n",
                    c->what);
            continue;
        }
        t = tu_mkdtemp();
        run_steps(c, t);
        expand(c->path, t, path, sizeof(path));
        dbssl_error_clear(&e);
        fd = safedir_open(path, c->flags, 0700, &names, resolved, sizeof(resolved), NULL, &e);
        expand(c->expect ? c->expect : c->resolved, t, want, sizeof(want));
        if (c->expect != NULL && (fd >= 0 || strcmp(e.message, want) != 0)) {
            fprintf(stderr, "case \"%s\": expected \"%s\", got %s \"%s\"\n", c->what, want,
                    fd >= 0 ? "accepted" : "error", fd >= 0 ? resolved : e.message);
            failed++;
        } else if (c->expect != NULL && (e.code != DBSSL_ERR_CONFIG || e.hint[0] == '\0')) {
            fprintf(stderr, "case \"%s\": no hint or not a configuration error\n", c->what);
            failed++;
        } else if (c->expect == NULL && (fd < 0 || strcmp(resolved, want) != 0)) {
            fprintf(stderr, "case \"%s\": expected to open \"%s\", got \"%s\" (%s)\n", c->what,
                    want, resolved, e.message);
            failed++;
        }
        if (fd >= 0)
            close(fd);
        assert_int_equal(chdir(cwd), 0);
        tu_rmrf(t);
        free(t);
    }
    assert_int_equal(failed, 0);
}

/* Without SAFEDIR_CREATE a missing directory is reported as missing, not an error. */
static void test_missing_and_create(void **state)
{
    const struct safedir_names names = {"certificate directory", "--dir"};
    struct dbssl_error e;
    struct stat st;
    bool missing = false;
    int fd;

    (void)state;
    dbssl_error_clear(&e);
    fd = safedir_open(tu_path(tu_dir, "a/b/c"), 0, 0700, &names, NULL, 0, &missing, &e);
    assert_int_equal(fd, -1);
    assert_true(missing);
    assert_int_equal(e.code, DBSSL_OK);
    /* created: the parents 0755 (at most), the directory itself with the mode asked */
    fd = safedir_open(tu_path(tu_dir, "a/b/c"), SAFEDIR_CREATE | SAFEDIR_NO_LINK, 0700, &names,
                      NULL, 0, &missing, &e);
    assert_true(fd >= 0);
    assert_false(missing);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(st.st_uid, geteuid());
    close(fd);
    assert_int_equal(stat(tu_path(tu_dir, "a/b"), &st), 0);
    assert_int_equal(st.st_mode & 022, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test_setup_teardown(test_missing_and_create, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
