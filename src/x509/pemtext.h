/*
 * pemtext.h - the shape of a PEM text (the label of its first block, junk
 * outside its blocks), checked before OpenSSL reads it.  No OpenSSL here.
 */
#ifndef DBSSL_PEMTEXT_H
#define DBSSL_PEMTEXT_H

#include <stddef.h>

#include "error_int.h"

/*
 * The start of every PEM reader: the label of pem's first block (e.g.
 * "PRIVATE KEY") into label, and no junk outside the blocks (text after the
 * last block, a damaged block, binary data; comments before and between
 * blocks are fine).  name ("certificate file \"PATH\"") names the text in
 * messages.  Returns -1 with err set when the text is not PEM or has junk.
 */
int pemtext_check(const char *pem, size_t len, const char *name, char *label, size_t labellen,
                  struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * The line of the certificate block after the first n ("-----BEGIN
 * CERTIFICATE-----" and the two older labels OpenSSL reads as one), or 0 when
 * there are n or fewer.
 */
int pemtext_cert_block_after(const char *pem, size_t len, size_t n);

#endif
