/*
 * scan_int.h - the pieces of the scanner shared by its own files (OpenSSL
 * types are fine here: nothing outside src/scan includes this).
 */
#ifndef DBSSL_SCAN_INT_H
#define DBSSL_SCAN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "scan.h"

/* What one connection attempt came to. */
enum scan_status {
    SCAN_OK = 0,   /* the handshake completed */
    SCAN_REJECTED, /* the server refused this offer (an alert, or it hung up during the handshake)
                    */
    SCAN_NO_TLS,   /* the server answered the SSLRequest with 'N' */
    SCAN_FAILED,   /* no PostgreSQL TLS conversation: connect failed, timed out, not PostgreSQL */
};

/* Whether host is an IPv4 or IPv6 address rather than a name. */
bool scan_is_ip(const char *host);

/*
 * Connects to sa before deadline (dbssl_mono_ms() time), sends the
 * SSLRequest and reads the answer.  On SCAN_OK *fd is the connected,
 * non-blocking socket, ready for the ClientHello; else why says what
 * happened (SCAN_NO_TLS, SCAN_FAILED), with *timed_out set on a timeout
 * and *connect_errno (when not NULL) set to connect's errno when no TCP
 * connection was made (ECONNREFUSED...), else 0.
 */
enum scan_status scan_sslrequest(const struct sockaddr *sa, socklen_t salen, long long deadline,
                                 int *fd, char *why, size_t whylen, bool *timed_out,
                                 int *connect_errno);

/*
 * Runs the TLS handshake of ssl on fd before deadline.  SCAN_OK,
 * SCAN_REJECTED (why: OpenSSL's reason) or SCAN_FAILED on a timeout
 * (*timed_out set) or a broken connection.
 */
enum scan_status scan_handshake(SSL *ssl, int fd, long long deadline, char *why, size_t whylen,
                                bool *timed_out);

/* Sends close_notify without waiting for the peer's, and closes fd. */
void scan_close(SSL *ssl, int fd);

/*
 * The certificate facts of the chain the server sent (leaf first) into r:
 * certinfo for each, signature algorithms, host match, completeness and
 * trust against ca_file (NULL: the system store).
 */
void scan_chain(STACK_OF(X509) * chain, const char *host, const char *ca_file,
                struct dbssl_scan_result *r);

#endif
