/*
 * scan_conn.c - one connection of the scanner: TCP connect, PostgreSQL's
 * SSLRequest, and a TLS handshake, each bounded by a deadline.
 *
 * The socket is non-blocking from the start and every wait is a poll() with
 * the time left, so a black hole (a firewall that drops packets), a server
 * that accepts and never answers and one that stalls mid-handshake all end
 * at the deadline.  Nothing is ever sent after the handshake: no
 * StartupMessage, so there is no login and no password to protect.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "clock.h"
#include "scan_int.h"

/* PostgreSQL's SSLRequest: length 8, then the code 1234 << 16 | 5679 (80877103). */
static const unsigned char ssl_request[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};

/* Waits for events on fd until deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        struct pollfd p = {fd, events, 0};
        long long left = deadline - dbssl_mono_ms();
        int n;
        if (left <= 0)
            return 0;
        n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

static enum scan_status timed_out_at(const char *what, char *why, size_t whylen, bool *timed_out)
{
    *timed_out = true;
    snprintf(why, whylen, "timed out %s", what);
    return SCAN_FAILED;
}

/* The first byte of the answer to the SSLRequest, or -1 with why set. */
static int read_answer(int fd, long long deadline, char *why, size_t whylen, bool *timed_out)
{
    unsigned char c;

    for (;;) {
        ssize_t n = recv(fd, &c, 1, 0);
        if (n == 1)
            return c;
        if (n == 0) {
            snprintf(why, whylen, "the server closed the connection after the SSLRequest");
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            snprintf(why, whylen, "could not read the answer to the SSLRequest: %s",
                     strerror(errno));
            return -1;
        }
        int w = wait_fd(fd, POLLIN, deadline);
        if (w == 0) {
            timed_out_at("waiting for the answer to the SSLRequest", why, whylen, timed_out);
            return -1;
        }
        if (w < 0) {
            snprintf(why, whylen, "poll failed: %s", strerror(errno));
            return -1;
        }
    }
}

/* The text of an ErrorResponse ('E' already read), best effort, into why. */
static void read_error_response(int fd, long long deadline, char *why, size_t whylen)
{
    char buf[512];
    size_t have = 0;

    /* at most one buffer, for at most the time left: the message is for the user only */
    while (have < sizeof(buf) - 1 && wait_fd(fd, POLLIN, deadline) == 1) {
        ssize_t n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    buf[have] = '\0';
    /* after the 4-byte length come fields "Xtext\0"; M is the message */
    for (size_t i = 4; i < have; i += strlen(buf + i) + 1) {
        if (buf[i] == 'M') {
            snprintf(why, whylen, "the server answered the SSLRequest with an error: %s",
                     buf + i + 1);
            return;
        }
        if (buf[i] == '\0')
            break;
    }
    snprintf(why, whylen, "the server answered the SSLRequest with an error");
}

enum scan_status scan_sslrequest(const struct sockaddr *sa, socklen_t salen, long long deadline,
                                 int *fd, char *why, size_t whylen, bool *timed_out,
                                 int *connect_errno)
{
    enum scan_status st = SCAN_FAILED;
    size_t sent = 0;
    int s, c, w, unused;

    *fd = -1;
    *timed_out = false;
    if (connect_errno == NULL)
        connect_errno = &unused;
    *connect_errno = 0;
    s = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) {
        snprintf(why, whylen, "could not create a socket: %s", strerror(errno));
        return SCAN_FAILED;
    }
    if (connect(s, sa, salen) != 0) {
        int e = 0;
        socklen_t elen = sizeof(e);
        if (errno != EINPROGRESS) {
            *connect_errno = errno;
            snprintf(why, whylen, "could not connect: %s", strerror(errno));
            goto out;
        }
        w = wait_fd(s, POLLOUT, deadline);
        if (w == 0) {
            timed_out_at("connecting", why, whylen, timed_out);
            goto out;
        }
        if (w < 0 || getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &elen) != 0 || e != 0) {
            *connect_errno = e ? e : errno;
            snprintf(why, whylen, "could not connect: %s", strerror(e ? e : errno));
            goto out;
        }
    }
    while (sent < sizeof(ssl_request)) {
        ssize_t n = send(s, ssl_request + sent, sizeof(ssl_request) - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(s, POLLOUT, deadline) == 0) {
                timed_out_at("sending the SSLRequest", why, whylen, timed_out);
                goto out;
            }
            continue;
        }
        snprintf(why, whylen, "could not send the SSLRequest: %s", strerror(errno));
        goto out;
    }
    c = read_answer(s, deadline, why, whylen, timed_out);
    if (c < 0)
        goto out;
    if (c == 'N') {
        snprintf(why, whylen, "the server answered the SSLRequest with \"N\"");
        st = SCAN_NO_TLS;
        goto out;
    }
    if (c == 'E') {
        read_error_response(s, deadline, why, whylen);
        goto out;
    }
    if (c != 'S') {
        snprintf(why, whylen,
                 "the server answered the SSLRequest with byte 0x%02x, not \"S\" or \"N\"",
                 (unsigned)c);
        goto out;
    }
    /*
     * Bytes already waiting behind the 'S' were not encrypted by the server's
     * TLS: someone in the middle injected them (CVE-2021-23222); libpq
     * refuses such a connection, and so does the scanner.
     */
    {
        unsigned char extra;
        if (recv(s, &extra, 1, MSG_PEEK | MSG_DONTWAIT) == 1) {
            snprintf(why, whylen,
                     "the server sent unencrypted data after its answer to the SSLRequest");
            goto out;
        }
    }
    *fd = s;
    s = -1;
    st = SCAN_OK;
out:
    if (s >= 0)
        close(s);
    return st;
}

enum scan_status scan_handshake(SSL *ssl, int fd, long long deadline, char *why, size_t whylen,
                                bool *timed_out)
{
    *timed_out = false;
    if (SSL_set_fd(ssl, fd) != 1) {
        snprintf(why, whylen, "SSL_set_fd failed");
        return SCAN_FAILED;
    }
    ERR_clear_error();
    for (;;) {
        int r = SSL_connect(ssl), e, w;
        unsigned long code;
        if (r == 1)
            return SCAN_OK;
        e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            w = wait_fd(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
            if (w == 0)
                return timed_out_at("during the TLS handshake", why, whylen, timed_out);
            if (w < 0) {
                snprintf(why, whylen, "poll failed: %s", strerror(errno));
                return SCAN_FAILED;
            }
            continue;
        }
        code = ERR_peek_last_error();
        if (code != 0) {
            const char *reason = ERR_reason_error_string(code);
            snprintf(why, whylen, "%s", reason ? reason : "TLS handshake failed");
        } else if (e == SSL_ERROR_SYSCALL && errno != 0) {
            snprintf(why, whylen, "%s", strerror(errno));
        } else {
            snprintf(why, whylen, "the server closed the connection during the handshake");
        }
        ERR_clear_error();
        /*
         * A refusal is an alert, or a hang-up after the ClientHello (a server
         * that rejects an offer may just close).  Either way the server
         * answered: this offer is not accepted.
         */
        return SCAN_REJECTED;
    }
}

void scan_close(SSL *ssl, int fd)
{
    if (ssl != NULL) {
        /* one close_notify, without waiting for the server's */
        if (SSL_is_init_finished(ssl))
            (void)SSL_shutdown(ssl);
        ERR_clear_error();
    }
    if (fd >= 0)
        close(fd);
}
