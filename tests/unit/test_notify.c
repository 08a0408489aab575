/*
 * test_notify.c - the sd_notify messages arrive on a real NOTIFY_SOCKET, as
 * systemd would receive them, a path or an abstract name ("@..."); without
 * NOTIFY_SOCKET nothing is sent.
 */
#include "testutil.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

static int listen_at(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void receive(int fd, char *buf, size_t len)
{
    struct timeval tv = {2, 0};
    ssize_t n;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    n = recv(fd, buf, len - 1, 0);
    assert_true(n > 0);
    buf[n] = '\0';
}

static void test_messages(void **state)
{
    const char *path = tu_path(tu_dir, "notify.sock");
    int fd = listen_at(path);
    char buf[1024];

    (void)state;
    setenv("NOTIFY_SOCKET", path, 1);
    dbssl_notify_ready("connected");
    receive(fd, buf, sizeof(buf));
    assert_non_null(strstr(buf, "READY=1"));
    assert_non_null(strstr(buf, "STATUS=connected"));
    dbssl_notify_reloading();
    receive(fd, buf, sizeof(buf));
    assert_non_null(strstr(buf, "RELOADING=1"));
    dbssl_notify_stopping();
    receive(fd, buf, sizeof(buf));
    assert_non_null(strstr(buf, "STOPPING=1"));
    unsetenv("NOTIFY_SOCKET");
    dbssl_notify_ready("nobody listens");
    {
        struct timeval tv = {0, 100000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        assert_true(recv(fd, buf, sizeof(buf), 0) < 0);
    }
    close(fd);
}

static void test_abstract_socket(void **state)
{
    struct sockaddr_un sa;
    char name[64], buf[1024];
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    size_t len;

    (void)state;
    assert_true(fd >= 0);
    len = (size_t)snprintf(name, sizeof(name), "@dbssl-test-notify-%ld", (long)getpid());
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path + 1, name + 1, len - 1); /* sun_path[0] = '\0': abstract */
    assert_int_equal(
        bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
        0);
    setenv("NOTIFY_SOCKET", name, 1);
    dbssl_notify_status("checking");
    receive(fd, buf, sizeof(buf));
    assert_string_equal(buf, "STATUS=checking");
    unsetenv("NOTIFY_SOCKET");
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_messages, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test(test_abstract_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
