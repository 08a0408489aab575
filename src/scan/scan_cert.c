/*
 * scan_cert.c - what the scanner learns from the certificate chain a
 * server sends: the facts of each certificate (read by certinfo.c, the one
 * reader of certificates, from their PEM form), the signature algorithms,
 * whether the leaf names the host, whether the chain is complete and
 * whether it verifies against a trust store.
 *
 * "Complete" means every certificate is issued by the next one sent and the
 * last one is a root, or is issued by a certificate in the trust store: a
 * server that leaves out an intermediate fails clients that only have the
 * root.  Without --ca-file the store is the system's, which does not know a
 * private CA: then the chain is reported as not complete *as far as the
 * store can tell*, with the issuer named, and grading only warns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "scan_int.h"
#include "util.h"

/* The chain as one PEM text, for certinfo.c. */
static char *chain_pem(STACK_OF(X509) * chain, int n, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL, *copy = NULL;
    long got;

    if (bio == NULL)
        return NULL;
    for (int i = 0; i < n; i++)
        if (PEM_write_bio_X509(bio, sk_X509_value(chain, i)) != 1)
            goto out;
    got = BIO_get_mem_data(bio, &data);
    if (got <= 0)
        goto out;
    copy = malloc((size_t)got + 1);
    if (copy != NULL) {
        memcpy(copy, data, (size_t)got);
        copy[got] = '\0';
        *len = (size_t)got;
    }
out:
    BIO_free(bio);
    return copy;
}

/* Completeness and trust of the chain, against store. */
static void judge_chain(STACK_OF(X509) * chain, int n, X509_STORE *store,
                        struct dbssl_scan_result *r)
{
    X509 *last = sk_X509_value(chain, n - 1), *issuer = NULL;
    X509_STORE_CTX *ctx = NULL;
    STACK_OF(X509) *untrusted = NULL;

    r->chain_complete = 1;
    for (int i = 0; i + 1 < n; i++) {
        if (X509_check_issued(sk_X509_value(chain, i + 1), sk_X509_value(chain, i)) != X509_V_OK) {
            r->chain_complete = 0;
            snprintf(r->chain_note, sizeof(r->chain_note),
                     "certificate %d is not issued by certificate %d that follows it "
                     "(the server sends them out of order or an unrelated one)",
                     i + 1, i + 2);
            return;
        }
    }
    ctx = X509_STORE_CTX_new();
    if (ctx == NULL || X509_STORE_CTX_init(ctx, store, last, NULL) != 1)
        goto out;
    if (X509_check_issued(last, last) != X509_V_OK &&
        X509_STORE_CTX_get1_issuer(&issuer, ctx, last) != 1) {
        r->chain_complete = 0;
        snprintf(r->chain_note, sizeof(r->chain_note),
                 "the issuer \"%.200s\" of the last certificate sent is not in the trust store "
                 "(%.200s)",
                 r->chain.certs[n - 1].issuer, r->trust_store);
    }
    X509_STORE_CTX_free(ctx);
    ctx = NULL;

    /* trust: the whole chain as a client would verify it, without the host name */
    untrusted = sk_X509_new_null();
    ctx = X509_STORE_CTX_new();
    if (untrusted == NULL || ctx == NULL)
        goto out;
    for (int i = 1; i < n; i++)
        if (sk_X509_push(untrusted, sk_X509_value(chain, i)) <= 0)
            goto out;
    if (X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), untrusted) != 1)
        goto out;
    r->trusted = X509_verify_cert(ctx) == 1;
    if (!r->trusted && r->chain_note[0] == '\0')
        snprintf(r->chain_note, sizeof(r->chain_note), "verification against %.200s failed: %s",
                 r->trust_store, X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
out:
    X509_free(issuer);
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
}

void scan_chain(STACK_OF(X509) * chain, const char *host, const char *ca_file,
                struct dbssl_scan_result *r)
{
    struct dbssl_certlist list = {NULL, 0};
    struct dbssl_error e;
    X509_STORE *store = NULL;
    X509 *leaf;
    char *pem;
    size_t len = 0;
    int n = chain ? sk_X509_num(chain) : 0;

    if (n <= 0)
        return;
    if (n > DBSSL_SCAN_MAX_CERTS)
        n = DBSSL_SCAN_MAX_CERTS;
    pem = chain_pem(chain, n, &len);
    if (pem == NULL || dbssl_certlist_parse(pem, len, "server certificate", &list, NULL) != 0 ||
        list.n != (size_t)n) {
        free(pem);
        dbssl_certlist_free(&list);
        snprintf(r->chain_note, sizeof(r->chain_note), "could not read the certificates sent");
        return;
    }
    free(pem);
    r->chain = list; /* the result owns it now */
    for (int i = 0; i < n; i++)
        snprintf(r->sig_alg[i], sizeof(r->sig_alg[i]), "%s",
                 OBJ_nid2ln(X509_get_signature_nid(sk_X509_value(chain, i))));

    leaf = sk_X509_value(chain, 0);
    if (scan_is_ip(host))
        r->host_matches = X509_check_ip_asc(leaf, host, 0) == 1;
    else
        r->host_matches = X509_check_host(leaf, host, 0, 0, NULL) == 1;

    snprintf(r->trust_store, sizeof(r->trust_store), "%s", ca_file ? ca_file : "system");
    dbssl_error_clear(&e);
    store = dbssl_ca_store_new(ca_file ? &FILE_AT_PATH(ca_file) : NULL, &e);
    if (store == NULL)
        snprintf(r->chain_note, sizeof(r->chain_note), "%s", e.message);
    else
        judge_chain(chain, n, store, r);
    X509_STORE_free(store);
    ERR_clear_error();
}
