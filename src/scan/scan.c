/*
 * scan.c - the scanner's strategy: which offers to make, in which order,
 * and what each answer means (scan_conn.c makes the connections).
 *
 * Suites are found by elimination, as sslscan and testssl.sh do: offer
 * every suite OpenSSL knows for a version, note the one the server picks,
 * take it out, offer the rest again, until the server refuses.  That costs
 * one handshake per accepted suite plus one, where one handshake per
 * candidate would cost 86 for TLS 1.2 alone; each accepted suite must be
 * seen in a handshake of its own anyway, so no exact method needs fewer.
 * The groups are found the same way.  When the server imposes its own
 * order, elimination finds the suites in that order; one more handshake
 * (the first two suites offered the other way round) tells which it is.
 *
 * Inside the scanner only, OpenSSL's security level is 0, so that TLS 1.0,
 * 1.1 and weak suites can be offered and detected: nothing else in dbssl
 * ever connects like this, and no data is exchanged on these connections.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "clock.h"
#include "scan_int.h"
#include "tlsver.h"
#include "util.h"

/* Every suite OpenSSL has, weak ones included (COMPLEMENTOFALL: the eNULL ones). */
#define ALL_SUITES "ALL:COMPLEMENTOFALL:@SECLEVEL=0"
#define ALL_TLS13                                                                                  \
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:"                  \
    "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"

/* The groups offered: name for SSL_set1_groups_list, NID, name shown, TLS 1.3 too. */
static const struct group {
    const char *offer;
    int nid;
    const char *shown;
    bool tls13;
} groups[] = {
    {"X25519", NID_X25519, "X25519", true},
    {"P-256", NID_X9_62_prime256v1, "P-256", true},
    {"P-384", NID_secp384r1, "P-384", true},
    {"P-521", NID_secp521r1, "P-521", true},
    {"X448", NID_X448, "X448", true},
    {"ffdhe2048", NID_ffdhe2048, "ffdhe2048", true},
    {"ffdhe3072", NID_ffdhe3072, "ffdhe3072", true},
    {"ffdhe4096", NID_ffdhe4096, "ffdhe4096", true},
    {"ffdhe6144", NID_ffdhe6144, "ffdhe6144", true},
    {"ffdhe8192", NID_ffdhe8192, "ffdhe8192", true},
    /* TLS 1.2 only in OpenSSL 3.0 */
    {"secp256k1", NID_secp256k1, "secp256k1", false},
    {"brainpoolP256r1", NID_brainpoolP256r1, "brainpoolP256r1", false},
    {"brainpoolP384r1", NID_brainpoolP384r1, "brainpoolP384r1", false},
    {"brainpoolP512r1", NID_brainpoolP512r1, "brainpoolP512r1", false},
    {"secp224r1", NID_secp224r1, "secp224r1", false},
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

static const int versions[DBSSL_SCAN_NPROTO] = {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION,
                                                TLS1_3_VERSION};
_Static_assert(DBSSL_SCAN_TLS1_0 + DBSSL_TLSV_1_0 == DBSSL_TLSV_1_0 &&
                   DBSSL_SCAN_TLS1_3 + DBSSL_TLSV_1_0 == DBSSL_TLSV_1_3,
               "the scanner's versions are tlsver.h's from TLS 1.0 on");

const char *dbssl_scan_proto_name(enum dbssl_scan_proto p)
{
    return (unsigned)p < DBSSL_SCAN_NPROTO ? dbssl_tlsv_report_name((int)p + DBSSL_TLSV_1_0)
                                           : "unknown";
}

const char *dbssl_scan_failure_name(enum dbssl_scan_failure f)
{
    static const char *const names[] = {
        "none",          "host_not_found",  "connection_refused", "unreachable", "timeout",
        "ssl_unavailable", "not_postgresql", "handshake_failed",  "other",
    };

    return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "other";
}

int dbssl_scan_proto_from_name(const char *name)
{
    int v = dbssl_tlsv_from_name(name);

    return v >= DBSSL_TLSV_1_0 ? v - DBSSL_TLSV_1_0 : -1;
}

struct scanner {
    const struct dbssl_scan_opts *o;
    struct dbssl_scan_result *r;
    SSL_CTX *ctx;
    struct sockaddr_storage sa;
    socklen_t salen;
    long long end; /* of the whole scan (dbssl_mono_ms), 0: none */
    int max_handshakes;
    bool sni;     /* host is a name: send it, as libpq does */
    bool stopped; /* a connection failed: no more attempts */
    bool got_chain;
};

/* What to offer in one handshake. */
struct offer {
    enum dbssl_scan_proto proto;
    const char *ciphers; /* below TLS 1.3; NULL: all */
    const char *suites;  /* TLS 1.3; NULL: all */
    const char *groups;  /* NULL: all */
};

/* What the server answered. */
struct answer {
    enum scan_status st;
    bool picked; /* the server chose a suite (even if the handshake then failed) */
    struct dbssl_scan_suite suite;
    int group;                   /* index into groups[], -1 */
    enum dbssl_scan_proto proto; /* the version negotiated, when st is SCAN_OK */
    char why[256];
};

static void copy_field(const char *desc, const char *key, char *out, size_t outlen)
{
    const char *p = strstr(desc, key);
    size_t n = 0;

    out[0] = '\0';
    if (p == NULL)
        return;
    p += strlen(key);
    while (p[n] && p[n] != ' ' && p[n] != '\n')
        n++;
    snprintf(out, outlen, "%.*s", (int)n, p);
}

/* The suite's facts, as `openssl ciphers -v` prints them. */
static void describe_suite(const SSL_CIPHER *c, struct dbssl_scan_suite *s)
{
    char desc[256];
    const char *iana = SSL_CIPHER_standard_name(c);
    int alg_bits = 0;

    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", SSL_CIPHER_get_name(c));
    snprintf(s->iana, sizeof(s->iana), "%s", iana ? iana : "");
    s->id = SSL_CIPHER_get_protocol_id(c);
    s->bits = SSL_CIPHER_get_bits(c, &alg_bits);
    if (SSL_CIPHER_description(c, desc, sizeof(desc)) != NULL) {
        copy_field(desc, "Kx=", s->kx, sizeof(s->kx));
        copy_field(desc, "Au=", s->auth, sizeof(s->auth));
        copy_field(desc, "Enc=", s->enc, sizeof(s->enc));
        copy_field(desc, "Mac=", s->mac, sizeof(s->mac));
    }
}

static int group_by_nid(int nid)
{
    for (size_t i = 0; i < NGROUPS; i++)
        if (groups[i].nid == nid)
            return (int)i;
    return -1;
}

/* The key exchange of a finished handshake into a->suite.kx_group/kx_bits. */
static void describe_kx(SSL *ssl, struct answer *a)
{
    EVP_PKEY *tmp = NULL;
    int nid = SSL_get_negotiated_group(ssl), g = -1;

    if (nid != NID_undef)
        g = group_by_nid(nid);
    a->group = g;
    if (SSL_get_peer_tmp_key(ssl, &tmp) != 1 || tmp == NULL)
        return;
    a->suite.kx_bits = EVP_PKEY_get_bits(tmp);
    if (g >= 0)
        snprintf(a->suite.kx_group, sizeof(a->suite.kx_group), "%s", groups[g].shown);
    else if (EVP_PKEY_is_a(tmp, "DH"))
        snprintf(a->suite.kx_group, sizeof(a->suite.kx_group), "DH");
    else
        snprintf(a->suite.kx_group, sizeof(a->suite.kx_group), "%s",
                 nid != NID_undef ? OBJ_nid2sn(nid) : EVP_PKEY_get0_type_name(tmp));
    EVP_PKEY_free(tmp);
}

static void stop(struct scanner *sc, const char *what, const char *why)
{
    if (!sc->stopped) {
        sc->stopped = true;
        sc->r->complete = false;
        snprintf(sc->r->incomplete, sizeof(sc->r->incomplete), "%s%.200s", what, why);
    }
}

/* The deadline of the next connection. */
static long long next_deadline(const struct scanner *sc)
{
    long long d = dbssl_mono_ms() + sc->o->timeout_ms;

    return sc->end != 0 && sc->end < d ? sc->end : d;
}

static SSL *make_ssl(struct scanner *sc, const struct offer *of)
{
    SSL *ssl = SSL_new(sc->ctx);
    char ciphers[8192];

    if (ssl == NULL)
        return NULL;
    /* the level again in the string: SSL_set_cipher_list() would otherwise keep the default */
    snprintf(ciphers, sizeof(ciphers), "%s%s", of->ciphers ? of->ciphers : ALL_SUITES,
             of->ciphers ? ":@SECLEVEL=0" : "");
    /* DBSSL_SCAN_NPROTO: every version, as a client that lets the server choose */
    if (SSL_set_min_proto_version(ssl, of->proto == DBSSL_SCAN_NPROTO ? TLS1_VERSION
                                                                      : versions[of->proto]) != 1 ||
        SSL_set_max_proto_version(ssl, of->proto == DBSSL_SCAN_NPROTO ? TLS1_3_VERSION
                                                                      : versions[of->proto]) != 1 ||
        SSL_set_cipher_list(ssl, ciphers) != 1 ||
        SSL_set_ciphersuites(ssl, of->suites ? of->suites : ALL_TLS13) != 1 ||
        (of->groups != NULL && SSL_set1_groups_list(ssl, of->groups) != 1) ||
        (sc->sni && SSL_set_tlsext_host_name(ssl, sc->o->host) != 1)) {
        SSL_free(ssl);
        ERR_clear_error();
        return NULL;
    }
    return ssl;
}

/*
 * The handshake of one offer on fd, a connection whose SSLRequest was
 * answered with 'S' (closed here), and what it tells.
 */
static void handshake_on(struct scanner *sc, const struct offer *of, SSL *ssl, int fd,
                         struct answer *a, bool *timed_out)
{
    sc->r->handshakes++;
    a->st = scan_handshake(ssl, fd, next_deadline(sc), a->why, sizeof(a->why), timed_out);
    if (a->st == SCAN_OK || a->st == SCAN_REJECTED) {
        /* a suite the server chose counts even when the handshake failed after ServerHello */
        const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
        if (c != NULL && (a->st == SCAN_OK || (of->proto != DBSSL_SCAN_NPROTO &&
                                               SSL_version(ssl) == versions[of->proto]))) {
            describe_suite(c, &a->suite);
            a->picked = true;
        }
    }
    if (a->st == SCAN_OK) {
        describe_kx(ssl, a);
        for (int p = 0; p < DBSSL_SCAN_NPROTO; p++)
            if (SSL_version(ssl) == versions[p])
                a->proto = (enum dbssl_scan_proto)p;
        if (!sc->got_chain) {
            sc->got_chain = true;
            scan_chain(SSL_get_peer_cert_chain(ssl), sc->o->host, sc->o->ca_file, sc->r);
        }
    }
    scan_close(ssl, fd);
}

/* One connection with one offer. */
static void probe(struct scanner *sc, const struct offer *of, struct answer *a)
{
    SSL *ssl = NULL;
    int fd = -1;
    bool timed_out = false;

    memset(a, 0, sizeof(*a));
    a->st = SCAN_FAILED;
    a->group = -1;
    if (sc->stopped)
        return;
    if (sc->r->handshakes >= sc->max_handshakes) {
        stop(sc, "stopped at the cap on handshakes", "");
        return;
    }
    if (sc->end != 0 && dbssl_mono_ms() >= sc->end) {
        stop(sc, "stopped at the time limit of the scan", "");
        return;
    }
    if ((ssl = make_ssl(sc, of)) == NULL) {
        snprintf(a->why, sizeof(a->why), "OpenSSL refused the offer");
        a->st = SCAN_REJECTED; /* nothing to offer: as good as refused */
        return;
    }
    a->st = scan_sslrequest((struct sockaddr *)&sc->sa, sc->salen, next_deadline(sc), &fd, a->why,
                            sizeof(a->why), &timed_out, NULL);
    if (a->st == SCAN_OK)
        handshake_on(sc, of, ssl, fd, a, &timed_out);
    else
        scan_close(NULL, fd);
    SSL_free(ssl);
    ERR_clear_error();
    if (a->st == SCAN_FAILED || a->st == SCAN_NO_TLS)
        stop(sc, "a connection failed: ", a->why);
}

/* Appends name to a ':'-list in sb. */
static void list_add(struct strbuf *sb, const char *name)
{
    if (sb->len > 0)
        strbuf_append_c(sb, ':');
    strbuf_append(sb, name);
}

static bool have_suite(const struct dbssl_scan_suites *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return true;
    return false;
}

static void add_suite(struct dbssl_scan_suites *s, const struct dbssl_scan_suite *suite)
{
    if (s->n < DBSSL_SCAN_MAX_SUITES && !have_suite(s, suite->name))
        s->v[s->n++] = *suite;
}

static void add_group(struct dbssl_scan_result *r, int g)
{
    if (g < 0)
        return;
    for (size_t i = 0; i < r->n_groups; i++)
        if (strcmp(r->groups[i], groups[g].shown) == 0)
            return;
    if (r->n_groups < DBSSL_SCAN_MAX_GROUPS)
        snprintf(r->groups[r->n_groups++], sizeof(r->groups[0]), "%s", groups[g].shown);
}

/* The names of the suites OpenSSL would offer for one version, as a ':'-list. */
static int candidate_suites(struct scanner *sc, enum dbssl_scan_proto p, struct strbuf *out)
{
    struct offer of = {p, NULL, NULL, NULL};
    STACK_OF(SSL_CIPHER) * sk;
    SSL *ssl;

    if (p == DBSSL_SCAN_TLS1_3) {
        strbuf_append(out, ALL_TLS13);
        return 0;
    }
    if ((ssl = make_ssl(sc, &of)) == NULL)
        return -1;
    sk = SSL_get1_supported_ciphers(ssl);
    for (int i = 0; sk != NULL && i < sk_SSL_CIPHER_num(sk); i++) {
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
        if (strcmp(SSL_CIPHER_get_version(c), "TLSv1.3") != 0)
            list_add(out, SSL_CIPHER_get_name(c));
    }
    sk_SSL_CIPHER_free(sk);
    SSL_free(ssl);
    return 0;
}

/* Removes name from the ':'-list in sb. */
static void list_remove(struct strbuf *sb, const char *name)
{
    size_t n = strlen(name);

    for (char *p = sb->data; p != NULL && *p;) {
        char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) {
            /* drop the name and one separator next to it */
            char *from = end ? end + 1 : p + len;
            if (end == NULL && p > sb->data)
                p--; /* the last one: take the ':' before it */
            memmove(p, from, strlen(from) + 1);
            sb->len = strlen(sb->data);
            return;
        }
        p = end ? end + 1 : p + len;
    }
}

/* Every suite of version p the server accepts, by elimination. */
static void find_suites(struct scanner *sc, enum dbssl_scan_proto p)
{
    struct dbssl_scan_suites *s = &sc->r->suites[p];
    struct strbuf rest;
    struct answer a;

    strbuf_init(&rest);
    if (candidate_suites(sc, p, &rest) != 0)
        goto out;
    for (size_t i = 0; i < s->n; i++)
        list_remove(&rest, s->v[i].name);
    while (!sc->stopped && rest.len > 0 && !rest.oom) {
        struct offer of = {p, p == DBSSL_SCAN_TLS1_3 ? NULL : rest.data,
                           p == DBSSL_SCAN_TLS1_3 ? rest.data : NULL, NULL};
        probe(sc, &of, &a);
        if (!a.picked || have_suite(s, a.suite.name))
            break;
        add_suite(s, &a.suite);
        list_remove(&rest, a.suite.name);
    }
out:
    strbuf_free(&rest);
}

/* Whether the server picks by its own order: the first two suites the other way round. */
static void find_order(struct scanner *sc, enum dbssl_scan_proto p)
{
    struct dbssl_scan_suites *s = &sc->r->suites[p];
    char list[160];
    struct answer a;

    s->server_order = DBSSL_SCAN_UNKNOWN;
    if (s->n < 2)
        return;
    snprintf(list, sizeof(list), "%s:%s", s->v[1].name, s->v[0].name);
    struct offer of = {p, p == DBSSL_SCAN_TLS1_3 ? NULL : list,
                       p == DBSSL_SCAN_TLS1_3 ? list : NULL, NULL};
    probe(sc, &of, &a);
    if (a.picked)
        s->server_order = strcmp(a.suite.name, s->v[0].name) == 0;
}

/* The key-exchange groups, by elimination, on TLS 1.3 when the server has it. */
static void find_groups(struct scanner *sc)
{
    struct dbssl_scan_result *r = sc->r;
    bool tls13 = r->protocols[DBSSL_SCAN_TLS1_3];
    enum dbssl_scan_proto p = tls13 ? DBSSL_SCAN_TLS1_3 : DBSSL_SCAN_TLS1_2;
    struct strbuf ecdhe, rest;
    struct answer a;

    strbuf_init(&ecdhe);
    strbuf_init(&rest);
    if (!tls13) {
        /* below TLS 1.3 only ECDHE suites negotiate a group */
        for (size_t i = 0; i < r->suites[p].n; i++)
            if (strcmp(r->suites[p].v[i].kx, "ECDH") == 0)
                list_add(&ecdhe, r->suites[p].v[i].name);
        if (!r->protocols[p] || ecdhe.len == 0)
            goto out;
    }
    for (size_t g = 0; g < NGROUPS; g++) {
        bool found = false;
        for (size_t i = 0; i < r->n_groups; i++)
            found |= strcmp(r->groups[i], groups[g].shown) == 0;
        if ((groups[g].tls13 || !tls13) && !found)
            list_add(&rest, groups[g].offer);
    }
    while (!sc->stopped && rest.len > 0 && !rest.oom && !ecdhe.oom) {
        struct offer of = {p, tls13 ? NULL : ecdhe.data, NULL, rest.data};
        probe(sc, &of, &a);
        if (a.st != SCAN_OK || a.group < 0)
            break;
        add_group(r, a.group);
        list_remove(&rest, groups[a.group].offer);
    }
out:
    strbuf_free(&ecdhe);
    strbuf_free(&rest);
}

bool scan_is_ip(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static void address_text(const struct sockaddr *sa, char *out, size_t len)
{
    const void *a = sa->sa_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

    if (inet_ntop(sa->sa_family, a, out, (socklen_t)len) == NULL)
        snprintf(out, len, "?");
}

static void fail_as(const struct scanner *sc, enum dbssl_scan_failure f)
{
    if (sc->o->failure != NULL)
        *sc->o->failure = f;
}

/* The class of a connection that never got an answer to its SSLRequest. */
static enum dbssl_scan_failure no_answer_class(int connect_errno, bool timed_out)
{
    if (connect_errno == ECONNREFUSED)
        return DBSSL_SCAN_FAILURE_REFUSED;
    if (connect_errno != 0)
        return timed_out ? DBSSL_SCAN_FAILURE_TIMEOUT : DBSSL_SCAN_FAILURE_UNREACHABLE;
    return timed_out ? DBSSL_SCAN_FAILURE_TIMEOUT : DBSSL_SCAN_FAILURE_OTHER;
}

/*
 * The handshake of a handshake_only scan, on the connection the first
 * contact made: every version offered, the server picks.
 */
static int one_handshake(struct scanner *sc, int fd, struct answer *a, struct dbssl_error *err)
{
    const struct offer of = {DBSSL_SCAN_NPROTO, NULL, NULL, NULL};
    bool timed_out = false;
    SSL *ssl = make_ssl(sc, &of);

    memset(a, 0, sizeof(*a));
    a->group = -1;
    if (ssl == NULL) {
        scan_close(NULL, fd);
        fail_as(sc, DBSSL_SCAN_FAILURE_OTHER);
        dbssl_error_set(err, DBSSL_ERR_INTERNAL, NULL, "OpenSSL refused the offer");
        return -1;
    }
    handshake_on(sc, &of, ssl, fd, a, &timed_out);
    SSL_free(ssl);
    ERR_clear_error();
    if (a->st == SCAN_OK)
        return 0;
    fail_as(sc, timed_out ? DBSSL_SCAN_FAILURE_TIMEOUT : DBSSL_SCAN_FAILURE_HANDSHAKE);
    dbssl_error_setx(err, DBSSL_ERR_CONNECT, a->why,
                     timed_out ? "Check that nothing between here and the server holds the "
                                 "connection; give a slow network more time."
                               : "The server's log says why it refused the handshake (a "
                                 "certificate it cannot load, ssl_min_protocol_version above "
                                 "what OpenSSL offers).",
                     "server at \"%s\" (%s), port %d %s", sc->o->host, sc->r->address, sc->o->port,
                     timed_out ? "did not finish the TLS handshake in time"
                               : "refused the TLS handshake");
    return -1;
}

/*
 * The first connection: each address of the host in turn until one answers
 * like PostgreSQL.  It offers TLS 1.3; its answer is the first data point.
 * A handshake_only scan makes its one handshake on that very connection.
 */
static int first_contact(struct scanner *sc, struct answer *a, struct dbssl_error *err)
{
    const struct dbssl_scan_opts *o = sc->o;
    struct addrinfo hints = {0}, *res = NULL;
    char port[16], why[256] = "", where[320];
    bool timed_out = false;
    int rc, ret = -1, connect_errno = 0, kept = -1;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%d", o->port);
    rc = getaddrinfo(o->host, port, &hints, &res);
    if (rc != 0) {
        fail_as(sc, DBSSL_SCAN_FAILURE_HOST_NOT_FOUND);
        dbssl_error_setx(err, DBSSL_ERR_CONNECT, gai_strerror(rc),
                         "Check the host name, or give an address.",
                         "could not resolve host \"%s\"", o->host);
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int fd = -1;
        enum scan_status st;
        if (ai->ai_addrlen > sizeof(sc->sa))
            continue;
        memcpy(&sc->sa, ai->ai_addr, ai->ai_addrlen);
        sc->salen = ai->ai_addrlen;
        address_text(ai->ai_addr, sc->r->address, sizeof(sc->r->address));
        st = scan_sslrequest(ai->ai_addr, ai->ai_addrlen, next_deadline(sc), &fd, why, sizeof(why),
                             &timed_out, &connect_errno);
        if (st == SCAN_OK && o->handshake_only)
            kept = fd;
        else if (fd >= 0)
            close(fd);
        if (st == SCAN_OK) {
            sc->r->tls = true;
            ret = 0;
            break;
        }
        snprintf(where, sizeof(where), "server at \"%s\" (%s), port %d", o->host, sc->r->address,
                 o->port);
        if (st == SCAN_NO_TLS) {
            fail_as(sc, DBSSL_SCAN_FAILURE_SSL_UNAVAILABLE);
            dbssl_error_setx(err, DBSSL_ERR_CONNECT,
                             "it answered the SSLRequest with \"N\": ssl = off",
                             "Turn TLS on in postgresql.conf (ssl = on, with ssl_cert_file and "
                             "ssl_key_file; \"dbssl pg-config\" prints the lines), then reload "
                             "the server.",
                             "%s does not accept TLS", where);
            goto out;
        }
        if (timed_out && ai->ai_next == NULL) {
            fail_as(sc, DBSSL_SCAN_FAILURE_TIMEOUT);
            dbssl_error_setx(err, DBSSL_ERR_CONNECT, why,
                             "Check the host and port and that no firewall drops the "
                             "connection; give a slow network more time with --timeout.",
                             "%s did not answer in time", where);
            goto out;
        }
        if (strncmp(why, "could not", 9) != 0 && ai->ai_next == NULL) {
            fail_as(sc, DBSSL_SCAN_FAILURE_NOT_POSTGRESQL);
            dbssl_error_setx(err, DBSSL_ERR_CONNECT, why,
                             "Check that HOST:PORT is a PostgreSQL server (and not, for example, "
                             "a connection pooler without TLS or another service).",
                             "%s did not answer like PostgreSQL", where);
            goto out;
        }
    }
    if (ret != 0) {
        fail_as(sc, no_answer_class(connect_errno, timed_out));
        dbssl_error_setx(err, DBSSL_ERR_CONNECT, why,
                         "Check that the server is running and accepts TCP connections on this "
                         "host and port (listen_addresses and port in postgresql.conf, "
                         "pg_hba.conf is not involved yet).",
                         "could not connect to the server at \"%s\", port %d", o->host, o->port);
        goto out;
    }
    if (o->handshake_only) {
        ret = one_handshake(sc, kept, a, err);
    } else {
        struct offer of = {DBSSL_SCAN_TLS1_3, NULL, NULL, NULL};
        probe(sc, &of, a);
    }
out:
    freeaddrinfo(res);
    return ret;
}

static void record_protocol(struct scanner *sc, enum dbssl_scan_proto p, const struct answer *a)
{
    if (a->st != SCAN_OK)
        return;
    sc->r->protocols[p] = true;
    add_suite(&sc->r->suites[p], &a->suite);
    if (p == DBSSL_SCAN_TLS1_3)
        add_group(sc->r, a->group);
}

struct dbssl_scan_result *dbssl_scan_run(const struct dbssl_scan_opts *o, struct dbssl_error *err)
{
    struct scanner sc = {0};
    struct dbssl_scan_result *r = dbssl_scan_result_new();
    struct answer a;
    long long t0 = dbssl_mono_ms();
    char reasons[512] = "";
    bool any = false;

    if (o->failure != NULL)
        *o->failure = DBSSL_SCAN_FAILURE_OTHER; /* until it is known */
    if (r == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    sc.o = o;
    sc.r = r;
    sc.end = o->total_ms > 0 ? t0 + o->total_ms : 0;
    sc.max_handshakes = o->max_handshakes > 0 ? o->max_handshakes : DBSSL_SCAN_MAX_HANDSHAKES;
    sc.sni = !scan_is_ip(o->host);
    snprintf(r->host, sizeof(r->host), "%s", o->host);
    r->port = o->port;
    r->scanned_at = dbssl_now();
    r->complete = true;

    sc.ctx = SSL_CTX_new(TLS_client_method());
    if (sc.ctx == NULL) {
        dbssl_error_set(err, DBSSL_ERR_INTERNAL, NULL, "could not create a TLS context");
        goto fail;
    }
    SSL_CTX_set_security_level(sc.ctx, 0);
    SSL_CTX_set_verify(sc.ctx, SSL_VERIFY_NONE, NULL); /* the chain is judged in scan_cert.c */
    SSL_CTX_set_options(sc.ctx, SSL_OP_NO_TICKET | SSL_OP_LEGACY_SERVER_CONNECT);
    /* every group, so that a server with an unusual ssl_ecdh_curve still shows its ECDHE suites */
    {
        struct strbuf all;
        strbuf_init(&all);
        for (size_t g = 0; g < NGROUPS; g++)
            list_add(&all, groups[g].offer);
        if (all.oom || SSL_CTX_set1_groups_list(sc.ctx, all.data) != 1) {
            strbuf_free(&all);
            dbssl_error_set(err, DBSSL_ERR_INTERNAL, NULL, "OpenSSL refused the group list");
            goto fail;
        }
        strbuf_free(&all);
    }

    /* protocol versions, newest first: the first answer also brings the certificate */
    if (first_contact(&sc, &a, err) != 0)
        goto fail;
    if (o->handshake_only) {
        record_protocol(&sc, a.proto, &a);
        r->complete = false;
        snprintf(r->incomplete, sizeof(r->incomplete),
                 "one handshake only: the version and suite the server picked");
        goto done;
    }
    for (int p = DBSSL_SCAN_TLS1_3; p >= DBSSL_SCAN_TLS1_0 && !sc.stopped; p--) {
        if (p != DBSSL_SCAN_TLS1_3) {
            struct offer of = {(enum dbssl_scan_proto)p, NULL, NULL, NULL};
            probe(&sc, &of, &a);
        }
        record_protocol(&sc, (enum dbssl_scan_proto)p, &a);
        any |= a.st == SCAN_OK;
        if (a.st == SCAN_REJECTED && strlen(reasons) + strlen(a.why) + 16 < sizeof(reasons))
            snprintf(reasons + strlen(reasons), sizeof(reasons) - strlen(reasons), "%s%s: %s",
                     reasons[0] ? "; " : "", dbssl_scan_proto_name((enum dbssl_scan_proto)p), a.why);
    }
    if (!any && !sc.stopped) {
        fail_as(&sc, DBSSL_SCAN_FAILURE_HANDSHAKE);
        dbssl_error_setx(err, DBSSL_ERR_CONNECT, reasons,
                         "The server refused every TLS version from 1.0 to 1.3; its log says why "
                         "(a certificate it cannot load, ssl_min_protocol_version above what "
                         "OpenSSL offers).",
                         "server at \"%s\", port %d accepted no TLS handshake", o->host, o->port);
        goto fail;
    }
    for (int p = DBSSL_SCAN_TLS1_3; p >= DBSSL_SCAN_TLS1_0; p--)
        if (r->protocols[p]) {
            find_suites(&sc, (enum dbssl_scan_proto)p);
            find_order(&sc, (enum dbssl_scan_proto)p);
        }
    find_groups(&sc);
done:
    SSL_CTX_free(sc.ctx);
    r->duration_ms = (long)(dbssl_mono_ms() - t0);
    if (o->failure != NULL)
        *o->failure = DBSSL_SCAN_FAILURE_NONE;
    return r;
fail:
    SSL_CTX_free(sc.ctx);
    dbssl_scan_result_free(r);
    return NULL;
}

struct dbssl_scan_result *dbssl_scan_result_new(void)
{
    struct dbssl_scan_result *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->host_matches = r->chain_complete = r->trusted = DBSSL_SCAN_UNKNOWN;
    for (int p = 0; p < DBSSL_SCAN_NPROTO; p++)
        r->suites[p].server_order = DBSSL_SCAN_UNKNOWN;
    r->complete = true;
    return r;
}

void dbssl_scan_result_free(struct dbssl_scan_result *r)
{
    if (r == NULL)
        return;
    dbssl_certlist_free(&r->chain);
    free(r);
}

bool dbssl_scan_parse_target(const char *target, char *host, size_t hostlen, int *port, char *msg,
                             size_t msglen)
{
    const char *h = target, *colon = NULL;
    size_t hlen;
    long p = DBSSL_SCAN_DEFAULT_PORT;

    if (target == NULL || target[0] == '\0') {
        snprintf(msg, msglen, "no host given");
        return false;
    }
    if (target[0] == '[') {
        const char *close = strchr(target, ']');
        if (close == NULL) {
            snprintf(msg, msglen, "invalid target \"%s\": unterminated \"[\"", target);
            return false;
        }
        h = target + 1;
        hlen = (size_t)(close - h);
        if (close[1] == ':')
            colon = close + 1;
        else if (close[1] != '\0') {
            snprintf(msg, msglen, "invalid target \"%s\": expected \":PORT\" after \"]\"", target);
            return false;
        }
    } else {
        colon = strchr(target, ':');
        /* two colons or more: a bare IPv6 address, no port */
        if (colon != NULL && strchr(colon + 1, ':') != NULL)
            colon = NULL;
        hlen = colon ? (size_t)(colon - target) : strlen(target);
    }
    if (hlen == 0 || hlen >= hostlen) {
        snprintf(msg, msglen, "invalid target \"%s\": %s", target,
                 hlen == 0 ? "no host" : "host name too long");
        return false;
    }
    if (colon != NULL && !parse_long(colon + 1, 1, 65535, &p)) {
        snprintf(msg, msglen, "invalid port \"%s\": must be 1 to 65535", colon + 1);
        return false;
    }
    snprintf(host, hostlen, "%.*s", (int)hlen, h);
    *port = (int)p;
    return true;
}
