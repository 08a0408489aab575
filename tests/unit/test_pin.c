/*
 * test_pin.c - the private copies of the accepted TLS files, attacked as
 * another local user would: the directory vanishes (a tmp cleaner), that
 * user re-creates it under the same name open to all and plants a CA.  The
 * copies must go to a fresh directory that only we can change, libpq must be
 * pointed there, and nothing of ours may be written to or read from theirs.
 * Runs the other user as nobody (65534) when the tests run as root.
 */
#include "testutil.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "conn_int.h"
#include "pin.h"
#include "util.h"

#define NOBODY 65534

static char *base; /* RUNTIME_DIRECTORY of the test: sticky and open to all, as /tmp */

static int setup(void **state)
{
    tu_setup_dir(state);
    base = tu_mkdtemp();
    assert_int_equal(chmod(base, 01777), 0);
    assert_int_equal(setenv("RUNTIME_DIRECTORY", base, 1), 0);
    return 0;
}

static int teardown(void **state)
{
    unsetenv("RUNTIME_DIRECTORY");
    tu_rmrf(base);
    free(base);
    return tu_teardown_dir(state);
}

static char *slurp(const char *path)
{
    char *s = NULL;

    assert_int_equal(read_file(path, "file", 1 << 20, &s, NULL, NULL), 0);
    return s;
}

/* Settings naming a CA, with its private copy made into pin. */
static struct dbssl_config *pinned_config(struct dbssl_pinned *pin)
{
    struct tu_cert_opts ca = {"pin ca", true, -1, 365, NULL, NULL, NULL, NULL};
    char ca_env[4200];
    const char *envp[] = {"DATABASE_URL=postgresql://app@127.0.0.1/db", "DB_SSL_MODE=verify-full",
                          ca_env, NULL};
    struct dbssl_config *cfg;
    struct dbssl_error e;

    tu_make_cert(tu_path(tu_dir, "ca.crt"), tu_path(tu_dir, "ca.key"), &ca);
    snprintf(ca_env, sizeof(ca_env), "DB_SSL_CA_CERT=%s", tu_path(tu_dir, "ca.crt"));
    cfg = test_config_from(envp);
    dbssl_error_clear(&e);
    dbssl_pin_init(pin);
    if (dbssl_pin_files(cfg, pin, &e) != 0)
        fail_msg("pinning failed: %s", e.message);
    return cfg;
}

/* Runs fn(arg) as another user (nobody) in a child; as ourselves when not root. */
static void as_other_user(void (*fn)(const char *), const char *arg)
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
            _exit(2);
        fn(arg);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The other user's move: the name, open to everyone, with their CA in it. */
static void plant(const char *dir)
{
    umask(0);
    if (mkdir(dir, 0777) != 0)
        _exit(1);
    tu_write(tu_path(dir, "ca.crt"), "-----BEGIN CERTIFICATE-----\nEVIL\n", 0666);
}

static size_t entries(const char *dir)
{
    char cmd[4300], out[64] = "";
    FILE *p;

    snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
    p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, sizeof(out), p));
    pclose(p);
    return (size_t)strtoul(out, NULL, 10);
}

static void test_vanished_directory_is_never_reused(void **state)
{
    struct dbssl_pinned pin;
    struct dbssl_config *cfg = pinned_config(&pin);
    struct dbssl_conn_files files;
    char old[4096], prefix[4200];
    char *orig, *copy, *theirs;
    struct dbssl_conn_params p;
    struct dbssl_error e;
    struct stat st;

    (void)state;
    orig = slurp(tu_path(tu_dir, "ca.crt"));
    snprintf(old, sizeof(old), "%s", pin.dir);
    snprintf(prefix, sizeof(prefix), "%s/dbssl-tls-%ld-", base, (long)getpid());
    assert_memory_equal(old, prefix, strlen(prefix));

    /* a tmp cleaner removes it; another user takes the name */
    tu_rmrf(old);
    as_other_user(plant, old);

    dbssl_error_clear(&e);
    assert_int_equal(dbssl_pin_restore(&pin, &e), 0);
    /* a fresh directory, ours alone */
    assert_string_not_equal(pin.dir, old);
    assert_memory_equal(pin.dir, prefix, strlen(prefix));
    assert_int_equal(lstat(pin.dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_uid, geteuid());
    assert_int_equal(st.st_mode & 07777, 0700);
    /* libpq is pointed there, at the accepted bytes */
    files = (struct dbssl_conn_files){pin.ca.path, pin.cert.path, pin.key.path, pin.crl.path};
    assert_int_equal(dbssl_conn_build_params(cfg, &files, &p, &e), 0);
    assert_string_equal(dbssl_conn_params_get(&p, "sslrootcert"), pin.ca.path);
    assert_memory_equal(pin.ca.path, pin.dir, strlen(pin.dir));
    copy = slurp(pin.ca.path);
    assert_string_equal(copy, orig);
    dbssl_conn_params_free(&p);
    /* their directory: nothing of ours written, their file as they left it */
    assert_int_equal(entries(old), 1);
    theirs = slurp(tu_path(old, "ca.crt"));
    assert_string_equal(theirs, "-----BEGIN CERTIFICATE-----\nEVIL\n");

    /* removing our copies leaves theirs alone too */
    snprintf(prefix, sizeof(prefix), "%s", pin.dir);
    dbssl_pin_remove(&pin);
    assert_int_not_equal(access(prefix, F_OK), 0);
    assert_int_equal(entries(old), 1);
    free(orig);
    free(copy);
    free(theirs);
    dbssl_config_free(cfg);
}

/*
 * The key's passphrase is pinned with the key: a passphrase file changed
 * after the set was validated (a rotation half done) does not reach libpq
 * until a reload validates the pair again; removing the pin wipes it.
 */
static void test_passphrase_pinned_with_the_key(void **state)
{
    struct tu_cert_opts c = {"app", false, -1, 365, NULL, NULL, NULL, NULL};
    char cert_env[4200], key_env[4200], pass_env[4200];
    const char *envp[] = {"DATABASE_URL=postgresql://app@127.0.0.1/db", "DB_SSL_MODE=verify-full",
                          cert_env, key_env, pass_env, NULL};
    struct dbssl_config *cfg;
    struct dbssl_pinned pin;
    struct dbssl_conn_files files;
    struct dbssl_conn_params p;
    struct dbssl_error e;

    (void)state;
    tu_make_cert(tu_path(tu_dir, "client.crt"), tu_path(tu_dir, "client.key"), &c);
    tu_write(tu_path(tu_dir, "pass"), "first-Pa55\n", 0600);
    snprintf(cert_env, sizeof(cert_env), "DB_SSL_CLIENT_CERT=%s", tu_path(tu_dir, "client.crt"));
    snprintf(key_env, sizeof(key_env), "DB_SSL_CLIENT_KEY=%s", tu_path(tu_dir, "client.key"));
    snprintf(pass_env, sizeof(pass_env), "DB_SSL_CLIENT_KEY_PASSWORD_FILE=%s",
             tu_path(tu_dir, "pass"));
    cfg = test_config_from(envp);
    dbssl_error_clear(&e);
    dbssl_pin_init(&pin);
    if (dbssl_pin_files(cfg, &pin, &e) != 0)
        fail_msg("pinning failed: %s", e.message);
    assert_string_equal(pin.keypass, "first-Pa55");

    tu_write(tu_path(tu_dir, "pass"), "second-Pa55\n", 0600);
    files = (struct dbssl_conn_files){pin.ca.path, pin.cert.path, pin.key.path, pin.crl.path,
                                      pin.keypass};
    assert_int_equal(dbssl_conn_build_params(cfg, &files, &p, &e), 0);
    assert_string_equal(dbssl_conn_params_get(&p, "sslpassword"), "first-Pa55");
    dbssl_conn_params_free(&p);
    /* without a pin: the file as it is now */
    assert_int_equal(dbssl_conn_build_params(cfg, NULL, &p, &e), 0);
    assert_string_equal(dbssl_conn_params_get(&p, "sslpassword"), "second-Pa55");
    dbssl_conn_params_free(&p);

    dbssl_pin_remove(&pin);
    assert_null(pin.keypass);
    dbssl_config_free(cfg);
}

/* Copies deleted from a directory that is still ours are written again in it. */
static void test_deleted_copies_come_back_in_place(void **state)
{
    struct dbssl_pinned pin;
    struct dbssl_config *cfg = pinned_config(&pin);
    char dir[4096];
    char *copy, *orig = slurp(tu_path(tu_dir, "ca.crt"));

    (void)state;
    snprintf(dir, sizeof(dir), "%s", pin.dir);
    assert_int_equal(unlink(pin.ca.path), 0);
    assert_int_equal(dbssl_pin_restore(&pin, NULL), 0);
    assert_string_equal(pin.dir, dir);
    copy = slurp(pin.ca.path);
    assert_string_equal(copy, orig);
    free(copy);
    free(orig);
    dbssl_pin_remove(&pin);
    dbssl_config_free(cfg);
}

static void make_dir(const char *dir)
{
    if (mkdir(dir, 0755) != 0)
        _exit(1);
}

/*
 * Stale copies of dead processes are removed, but only directories of ours:
 * not another user's, and a symlink is not followed.
 */
static void test_stale_copies_only_ours(void **state)
{
    struct dbssl_pinned pin;
    char ours[4300], theirs[4300], link[4300], victim[4300];
    struct dbssl_config *cfg;
    pid_t dead = fork();

    (void)state;
    assert_true(dead >= 0);
    if (dead == 0)
        _exit(0);
    assert_int_equal(waitpid(dead, NULL, 0), dead);
    snprintf(ours, sizeof(ours), "%s/dbssl-tls-%ld-aaaaaa", base, (long)dead);
    snprintf(theirs, sizeof(theirs), "%s/dbssl-tls-%ld-bbbbbb", base, (long)dead);
    snprintf(link, sizeof(link), "%s/dbssl-tls-%ld-cccccc", base, (long)dead);
    snprintf(victim, sizeof(victim), "%s/victim", tu_dir);
    assert_int_equal(mkdir(ours, 0700), 0);
    tu_write(tu_path(ours, "client.key"), "old key\n", 0600);
    assert_int_equal(mkdir(victim, 0755), 0);
    tu_write(tu_path(victim, "keep"), "keep\n", 0644);
    assert_int_equal(symlink(victim, link), 0);
    if (geteuid() == 0)
        as_other_user(make_dir, theirs);

    cfg = pinned_config(&pin); /* pinning clears what dead processes left */
    assert_int_not_equal(access(ours, F_OK), 0);
    assert_int_equal(access(tu_path(victim, "keep"), F_OK), 0);
    if (geteuid() == 0)
        assert_int_equal(access(theirs, F_OK), 0);
    dbssl_pin_remove(&pin);
    dbssl_config_free(cfg);
}

/* A base that others could change is skipped: the copies go to the next one. */
static void test_unsafe_base_is_skipped(void **state)
{
    struct dbssl_pinned pin;
    struct dbssl_config *cfg;

    (void)state;
    assert_int_equal(chmod(base, 0777), 0); /* no sticky bit: anyone may rename in it */
    cfg = pinned_config(&pin);
    assert_memory_not_equal(pin.dir, base, strlen(base));
    dbssl_pin_remove(&pin);
    dbssl_config_free(cfg);
}

/*
 * A forced stop erases the copies (one may be a key) while another thread
 * may still hold the pin: the files and directory go, the memory stays
 * usable until the pin is removed.
 */
static void test_erase_leaves_no_copy(void **state)
{
    struct dbssl_pinned pin;
    struct dbssl_config *cfg = pinned_config(&pin);
    char dir[4096];

    (void)state;
    snprintf(dir, sizeof(dir), "%s", pin.dir);
    assert_int_equal(access(pin.ca.path, F_OK), 0);
    dbssl_pin_erase(&pin);
    assert_int_not_equal(access(dir, F_OK), 0);
    assert_string_equal(pin.dir, dir);
    assert_non_null(pin.ca.data);
    dbssl_pin_remove(&pin);
    assert_null(pin.dir);
    assert_null(pin.ca.path);
    dbssl_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_vanished_directory_is_never_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_copies_come_back_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_copies_only_ours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsafe_base_is_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erase_leaves_no_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passphrase_pinned_with_the_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
