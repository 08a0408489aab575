/*
 * pemload.c - benchmark: the OpenSSL 3 ways to read a certificate and a
 * private key from PEM, in one process after a warm-up (the steady cost a
 * reload or a check pays), microseconds per read, median of RUNS:
 *
 *   cert PEM_read_bio_X509          PEM to X509 in one call
 *   cert PEM_read_bio + d2i_X509    the base64 decoded first, then DER
 *   key  PEM_read_bio_PrivateKey    OSSL_DECODER with every structure and type
 *   key  d2i_AutoPrivateKey         DER, type guessed
 *   key  EVP_PKCS82PKEY             PKCS#8 structure, type from its OID
 *   key  OSSL_DECODER, told         structure and type told: certinfo.c's way
 *
 * bench/run.sh prints them as rows beside the whole-process `dbssl validate`.
 * Usage: bench_pemload CERT.pem KEY.pem [RUNS]   (one line per way: NAME MICROSECONDS)
 */
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static char *slurp(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(1 << 16);

    if (f == NULL || buf == NULL) {
        perror(path);
        exit(1);
    }
    *len = (long)fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

/* The DER of the first PEM block (freed with OPENSSL_free), its label in *label. */
static unsigned char *der_of(const char *pem, long len, long *der_len, char **label)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    char *header = NULL;
    unsigned char *der = NULL;

    if (b == NULL || PEM_read_bio(b, label, &header, &der, der_len) != 1)
        der = NULL;
    OPENSSL_free(header);
    BIO_free(b);
    return der;
}

/* The readers that take the whole PEM text. */
static void *cert_pem(const char *pem, long len)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

    BIO_free(b);
    return x;
}

static void *key_pem(const char *pem, long len)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);

    BIO_free(b);
    return k;
}

/* The readers of the DER inside (PEM_read_bio() decodes it first, within the time measured). */
static void *cert_d2i(const unsigned char *p, long n)
{
    return d2i_X509(NULL, &p, n);
}

static void *key_auto(const unsigned char *p, long n)
{
    return d2i_AutoPrivateKey(NULL, &p, n);
}

static void *key_pkcs8(const unsigned char *p, long n)
{
    PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, n);
    EVP_PKEY *k = p8 ? EVP_PKCS82PKEY(p8) : NULL;

    PKCS8_PRIV_KEY_INFO_free(p8);
    return k;
}

static void *key_told(const unsigned char *der, long n)
{
    const unsigned char *p = der;
    PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, n);
    const ASN1_OBJECT *alg = NULL;
    EVP_PKEY *k = NULL;
    char type[80];

    if (p8 != NULL && PKCS8_pkey_get0(&alg, NULL, NULL, NULL, p8) == 1 &&
        OBJ_obj2txt(type, sizeof(type), alg, 1) > 0) {
        OSSL_DECODER_CTX *d = OSSL_DECODER_CTX_new_for_pkey(&k, "DER", "PrivateKeyInfo", type,
                                                            EVP_PKEY_KEYPAIR, NULL, NULL);
        size_t left = (size_t)n;
        p = der;
        if (d != NULL)
            (void)OSSL_DECODER_from_data(d, &p, &left);
        OSSL_DECODER_CTX_free(d);
    }
    PKCS8_PRIV_KEY_INFO_free(p8);
    return k;
}

static const struct way {
    const char *name;
    bool cert;
    void *(*from_pem)(const char *pem, long len);
    void *(*from_der)(const unsigned char *der, long len);
} ways[] = {
    {"cert-PEM_read_bio_X509", true, cert_pem, NULL},
    {"cert-d2i_X509", true, NULL, cert_d2i},
    {"key-PEM_read_bio_PrivateKey", false, key_pem, NULL},
    {"key-d2i_AutoPrivateKey", false, NULL, key_auto},
    {"key-EVP_PKCS82PKEY", false, NULL, key_pkcs8},
    {"key-OSSL_DECODER_told", false, NULL, key_told},
};

static void *read_with(const struct way *w, const char *pem, long len)
{
    char *label = NULL;
    long n = 0;
    unsigned char *der;
    void *o;

    if (w->from_pem != NULL)
        return w->from_pem(pem, len);
    der = der_of(pem, len, &n, &label);
    o = der != NULL ? w->from_der(der, n) : NULL;
    OPENSSL_free(der);
    OPENSSL_free(label);
    return o;
}

int main(int argc, char **argv)
{
    long clen, klen, runs = argc > 3 ? strtol(argv[3], NULL, 10) : 200;
    char *cert, *key;
    double *t;

    if (argc < 3 || runs < 1) {
        fprintf(stderr, "usage: bench_pemload CERT.pem KEY.pem [RUNS]\n");
        return 2;
    }
    cert = slurp(argv[1], &clen);
    key = slurp(argv[2], &klen);
    if ((t = calloc((size_t)runs, sizeof(*t))) == NULL)
        return 1;
    for (size_t w = 0; w < sizeof(ways) / sizeof(ways[0]); w++) {
        const char *pem = ways[w].cert ? cert : key;
        long len = ways[w].cert ? clen : klen;
        for (long i = -5; i < runs; i++) { /* 5 warm-up reads */
            double t0 = bench_now_ms();
            void *o = read_with(&ways[w], pem, len);
            if (o == NULL) {
                fprintf(stderr, "bench_pemload: %s could not read it\n", ways[w].name);
                return 1;
            }
            if (i >= 0)
                t[i] = (bench_now_ms() - t0) * 1e3; /* µs */
            if (ways[w].cert)
                X509_free(o);
            else
                EVP_PKEY_free(o);
        }
        qsort(t, (size_t)runs, sizeof(*t), bench_cmp_double);
        printf("%s %.1f\n", ways[w].name, t[runs / 2]);
    }
    free(t);
    free(cert);
    free(key);
    return 0;
}
