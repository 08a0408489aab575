/*
 * conn_failure.c - why a connection failed, and what to do about it.
 *
 * Failures are classified from libpq's message with a table of patterns, so
 * that the health report can say *why* (and what to do) instead of echoing
 * text.  libpq 15 messages are not translated here (lc_messages of the client
 * is C in services), which is what makes matching them reliable.  The table
 * holds the messages PostgreSQL 15 really sends (tests/unit/test_conn.c,
 * tests/integration/test_keys_failures.sh).  Where the message alone says
 * too little ("certificate verify failed", a password failure that is really
 * a CN mismatch), dbssl_conn_explain() looks further.
 */
#include "conn_int.h"

#include <errno.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certinfo.h"
#include "clock.h"
#include "expiry.h"

/* ---- names ----------------------------------------------------------------- */

const char *dbssl_conn_class_name(enum dbssl_conn_class c)
{
    switch (c) {
    case DBSSL_CONN_OK:
        return "ok";
    case DBSSL_CONN_SSL_UNAVAILABLE:
        return "ssl_unavailable";
    case DBSSL_CONN_CERT_VERIFY_FAILED:
        return "certificate_verification_failed";
    case DBSSL_CONN_CLIENT_CERT_REJECTED:
        return "client_certificate_rejected";
    case DBSSL_CONN_AUTH_FAILED:
        return "authentication_failed";
    case DBSSL_CONN_SERVER_REJECTED:
        return "server_rejected";
    case DBSSL_CONN_TIMEOUT:
        return "timeout";
    case DBSSL_CONN_REFUSED:
        return "connection_refused";
    case DBSSL_CONN_HOST_NOT_FOUND:
        return "host_not_found";
    case DBSSL_CONN_OTHER:
        return "other";
    case DBSSL_CONN_TOO_MANY_CONNECTIONS:
        return "too_many_connections";
    }
    return "other";
}

const char *dbssl_verify_reason_name(enum dbssl_verify_reason r)
{
    switch (r) {
    case DBSSL_VERIFY_NONE:
        return "none";
    case DBSSL_VERIFY_UNKNOWN_CA:
        return "unknown_ca";
    case DBSSL_VERIFY_EXPIRED:
        return "expired";
    case DBSSL_VERIFY_HOSTNAME_MISMATCH:
        return "hostname_mismatch";
    case DBSSL_VERIFY_OTHER:
        return "other";
    case DBSSL_VERIFY_CHANNEL_BINDING_UNAVAILABLE:
        return "channel_binding_unavailable";
    case DBSSL_VERIFY_REVOKED:
        return "revoked";
    }
    return "other";
}

/* ---- classification -------------------------------------------------------- */

static const char HINT_SSL_UNAVAILABLE[] =
    "Verify that the PostgreSQL server has SSL enabled (ssl = on in postgresql.conf, with "
    "ssl_cert_file and ssl_key_file readable by the server), then reload it.";
static const char HINT_UNKNOWN_CA[] =
    "Verify that DB_SSL_CA_CERT is the CA certificate that signed the server certificate and "
    "that the chain is complete (put intermediate certificates in the CA file).";
static const char HINT_EXPIRED[] =
    "Check certificate expiration with \"openssl x509 -in FILE -noout -dates\" and renew the "
    "expired certificate.";
static const char HINT_HOSTNAME[] =
    "Connect using a name the server certificate lists in its subject alternative names, or "
    "re-issue the server certificate with this host name or IP address; DB_SSL_MODE=verify-ca "
    "skips the host name check.";
static const char HINT_VERIFY_OTHER[] =
    "Verify that the CA certificate matches the server certificate, that no certificate has "
    "expired, and that the certificate chain is complete.";
static const char HINT_CLIENT_CERT[] =
    "The server requires a client certificate it trusts: set DB_SSL_CLIENT_CERT and "
    "DB_SSL_CLIENT_KEY to a pair signed by the server's ssl_ca_file, with the database user "
    "name as the certificate's common name.";
static const char HINT_SERVER_REVOKED[] =
    "The server's certificate is listed in the CRL of DB_SSL_CRL: it was revoked by its CA. The "
    "server needs a newly issued certificate (ssl_cert_file) from the CA; if the revocation is "
    "wrong, get a current CRL from the CA.";
static const char HINT_CLIENT_REVOKED[] =
    "The server's CRL (ssl_crl_file) lists our client certificate (DB_SSL_CLIENT_CERT): have the "
    "CA issue a new client certificate and key, and point DB_SSL_CLIENT_CERT and "
    "DB_SSL_CLIENT_KEY at them.";
static const char HINT_CLIENT_CN[] =
    "The server checks that the client certificate's common name (CN) is the database user "
    "(pg_hba.conf \"cert\", or clientcert=verify-full): re-issue the client certificate with "
    "CN set to the user in DATABASE_URL, or map the CN to the user in pg_ident.conf (map= on "
    "the pg_hba.conf line).";
static const char HINT_CLIENT_CN_PASSWORD[] =
    "The client certificate's common name (CN) is not the user in DATABASE_URL, and with "
    "clientcert=verify-full PostgreSQL reports that as a failed password: re-issue the client "
    "certificate with CN set to the user, or map the CN to the user in pg_ident.conf (map= on "
    "the pg_hba.conf line); if they are meant to differ, check the password.";
static const char HINT_AUTH[] =
    "Check the user name and password in DATABASE_URL against the database role.";
static const char HINT_CHANNEL_BINDING[] =
    "DB_SSL_CHANNEL_BINDING=require needs SCRAM-SHA-256-PLUS over TLS: make the server "
    "authenticate this role with scram-sha-256 on a hostssl line of pg_hba.conf and a password "
    "stored as SCRAM (password_encryption = scram-sha-256), or set DB_SSL_CHANNEL_BINDING=prefer "
    "for a server that authenticates otherwise (cert, md5, trust).";
static const char HINT_SERVER_REJECTED[] =
    "Add a pg_hba.conf entry on the server for this client address, user and database (hostssl "
    "for TLS connections) and reload the server.";
static const char HINT_TIMEOUT[] =
    "Check network connectivity, that a firewall allows the connection, and the PostgreSQL port "
    "(usually 5432); raise DB_CONNECT_TIMEOUT if the server is slow to answer.";
static const char HINT_REFUSED[] =
    "Check that PostgreSQL is running and listening on this host and port (listen_addresses and "
    "port in postgresql.conf) and that DATABASE_URL names them.";
static const char HINT_HOST[] =
    "Check the host name in DATABASE_URL and that DNS resolves it from this machine.";
static const char HINT_TOO_MANY[] =
    "The server has no free connection slot: raise max_connections in postgresql.conf (a "
    "restart applies it), or put a connection pooler such as PgBouncer in front of it, and "
    "check for clients that hold idle connections (pg_stat_activity).";
static const char HINT_TOO_MANY_ROLE[] =
    "The role or database has reached its connection limit: raise it (ALTER ROLE ... "
    "CONNECTION LIMIT, ALTER DATABASE ... CONNECTION LIMIT) or use a connection pooler such "
    "as PgBouncer.";
static const char HINT_LOST[] =
    "The server closed the connection, for example because it was stopped or restarted; dbssl "
    "reconnects on its own once the server is back.";
static const char HINT_CLIENT_FILES[] =
    "The client certificate or key could not be used: check that DB_SSL_CLIENT_CERT and "
    "DB_SSL_CLIENT_KEY exist, belong together (\"dbssl certs inspect\") and that the key has mode "
    "0600; \"dbssl validate\" names the problem.";
static const char HINT_OTHER[] =
    "Read libpq's message in the detail and the PostgreSQL server log for the cause.";

struct pattern {
    const char *needle; /* substring of libpq's message */
    enum dbssl_conn_class cls;
    enum dbssl_verify_reason reason;
    const char *hint;
};

/*
 * First match wins, so the specific patterns come before the generic ones:
 * a host name mismatch is reported by libpq as its own message, whereas
 * OpenSSL's "certificate verify failed" covers every chain problem.
 * Alerts *received* from the server ("tlsv1 alert unknown ca") are about
 * our client certificate, not the server's.
 */
static const struct pattern patterns[] = {
    /* our own files, before anything reaches the server */
    {"could not load private key file", DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE, HINT_CLIENT_FILES},
    {"could not read certificate file", DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE, HINT_CLIENT_FILES},
    {"could not open certificate file", DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE, HINT_CLIENT_FILES},
    {"has group or world access", DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE, HINT_CLIENT_FILES},
    {"certificate present, but not private key", DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE,
     HINT_CLIENT_FILES},
    {"does not match host name", DBSSL_CONN_CERT_VERIFY_FAILED, DBSSL_VERIFY_HOSTNAME_MISMATCH,
     HINT_HOSTNAME},
    {"could not get server's host name from server certificate", DBSSL_CONN_CERT_VERIFY_FAILED,
     DBSSL_VERIFY_HOSTNAME_MISMATCH, HINT_HOSTNAME},
    {"certificate has expired", DBSSL_CONN_CERT_VERIFY_FAILED, DBSSL_VERIFY_EXPIRED, HINT_EXPIRED},
    {"certificate is not yet valid", DBSSL_CONN_CERT_VERIFY_FAILED, DBSSL_VERIFY_OTHER,
     HINT_VERIFY_OTHER},
    {"alert unknown ca", DBSSL_CONN_CLIENT_CERT_REJECTED, DBSSL_VERIFY_NONE, HINT_CLIENT_CERT},
    {"alert bad certificate", DBSSL_CONN_CLIENT_CERT_REJECTED, DBSSL_VERIFY_NONE, HINT_CLIENT_CERT},
    {"alert certificate required", DBSSL_CONN_CLIENT_CERT_REJECTED, DBSSL_VERIFY_NONE,
     HINT_CLIENT_CERT},
    {"alert certificate expired", DBSSL_CONN_CLIENT_CERT_REJECTED, DBSSL_VERIFY_NONE,
     HINT_CLIENT_CERT},
    {"alert certificate revoked", DBSSL_CONN_CLIENT_CERT_REJECTED, DBSSL_VERIFY_REVOKED,
     HINT_CLIENT_REVOKED},
    {"connection requires a valid client certificate", DBSSL_CONN_CLIENT_CERT_REJECTED,
     DBSSL_VERIFY_NONE, HINT_CLIENT_CERT},
    /* pg_hba.conf "cert" with a CN that is not the user (PostgreSQL 15's words) */
    {"certificate authentication failed for user", DBSSL_CONN_CLIENT_CERT_REJECTED,
     DBSSL_VERIFY_NONE, HINT_CLIENT_CN},
    /* "trust clientcert=verify-full" fails only on the certificate's CN */
    {"\"trust\" authentication failed for user", DBSSL_CONN_CLIENT_CERT_REJECTED, DBSSL_VERIFY_NONE,
     HINT_CLIENT_CN},
    {"unable to get local issuer certificate", DBSSL_CONN_CERT_VERIFY_FAILED,
     DBSSL_VERIFY_UNKNOWN_CA, HINT_UNKNOWN_CA},
    {"self-signed certificate in certificate chain", DBSSL_CONN_CERT_VERIFY_FAILED,
     DBSSL_VERIFY_UNKNOWN_CA, HINT_UNKNOWN_CA},
    {"certificate verify failed", DBSSL_CONN_CERT_VERIFY_FAILED, DBSSL_VERIFY_UNKNOWN_CA,
     HINT_UNKNOWN_CA},
    {"server does not support SSL, but SSL was required", DBSSL_CONN_SSL_UNAVAILABLE,
     DBSSL_VERIFY_NONE, HINT_SSL_UNAVAILABLE},
    /* libpq 15's four ways of saying that channel_binding=require could not be met */
    {"channel binding required", DBSSL_CONN_AUTH_FAILED, DBSSL_VERIFY_CHANNEL_BINDING_UNAVAILABLE,
     HINT_CHANNEL_BINDING},
    {"channel binding is required", DBSSL_CONN_AUTH_FAILED,
     DBSSL_VERIFY_CHANNEL_BINDING_UNAVAILABLE, HINT_CHANNEL_BINDING},
    {"password authentication failed", DBSSL_CONN_AUTH_FAILED, DBSSL_VERIFY_NONE, HINT_AUTH},
    /* PgBouncer's words for a wrong SCRAM password (its auth_file, not the server's) */
    {"SASL authentication failed", DBSSL_CONN_AUTH_FAILED, DBSSL_VERIFY_NONE, HINT_AUTH},
    {"no password supplied", DBSSL_CONN_AUTH_FAILED, DBSSL_VERIFY_NONE, HINT_AUTH},
    {"no pg_hba.conf entry", DBSSL_CONN_SERVER_REJECTED, DBSSL_VERIFY_NONE, HINT_SERVER_REJECTED},
    {"pg_hba.conf rejects connection", DBSSL_CONN_SERVER_REJECTED, DBSSL_VERIFY_NONE,
     HINT_SERVER_REJECTED},
    /* the server's connection slots: all taken, or the rest kept for superusers
     * (PostgreSQL 16 words it "reserved for roles with ...") */
    {"sorry, too many clients already", DBSSL_CONN_TOO_MANY_CONNECTIONS, DBSSL_VERIFY_NONE,
     HINT_TOO_MANY},
    {"remaining connection slots are reserved", DBSSL_CONN_TOO_MANY_CONNECTIONS, DBSSL_VERIFY_NONE,
     HINT_TOO_MANY},
    {"too many connections for role", DBSSL_CONN_TOO_MANY_CONNECTIONS, DBSSL_VERIFY_NONE,
     HINT_TOO_MANY_ROLE},
    {"too many connections for database", DBSSL_CONN_TOO_MANY_CONNECTIONS, DBSSL_VERIFY_NONE,
     HINT_TOO_MANY_ROLE},
    {"timeout expired", DBSSL_CONN_TIMEOUT, DBSSL_VERIFY_NONE, HINT_TIMEOUT},
    {"Connection refused", DBSSL_CONN_REFUSED, DBSSL_VERIFY_NONE, HINT_REFUSED},
    {"could not translate host name", DBSSL_CONN_HOST_NOT_FOUND, DBSSL_VERIFY_NONE, HINT_HOST},
    {"server closed the connection unexpectedly", DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE, HINT_LOST},
    {"terminating connection due to administrator command", DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE,
     HINT_LOST},
};

struct dbssl_conn_diagnosis dbssl_conn_classify(const char *msg)
{
    struct dbssl_conn_diagnosis d = {DBSSL_CONN_OTHER, DBSSL_VERIFY_NONE, HINT_OTHER};

    if (msg == NULL)
        return d;
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        if (strstr(msg, patterns[i].needle) != NULL) {
            d.cls = patterns[i].cls;
            d.reason = patterns[i].reason;
            d.hint = patterns[i].hint;
            break;
        }
    }
    return d;
}

/* The TLS handshake of c is complete. */
static bool tls_up(PGconn *c)
{
    return PQsslInUse(c) && PQstatus(c) != CONNECTION_SSL_STARTUP;
}

/*
 * The certificate the server presents, as PEM (caller frees), fetched
 * without verifying it and without authenticating: libpq with
 * sslmode=require and no files, stopped as soon as TLS is up, before the
 * server's authentication request is answered (no password, no key is
 * used).  Only to explain a verification that failed.
 */
static char *fetch_server_cert(const struct dbssl_config *cfg, size_t *len)
{
    const char *const none = "/nonexistent/dbssl-probe"; /* libpq skips a missing file */
    const char *kw[16], *val[16];
    char timeout[24];
    size_t n = 0;
    long long deadline = dbssl_mono_ms() + (long long)cfg->connect_timeout * MS_PER_SECOND;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    PGconn *c;
    char *out = NULL;

#define PROBE(k, v)                                                                                \
    do {                                                                                           \
        if ((v) != NULL) {                                                                         \
            kw[n] = (k);                                                                           \
            val[n++] = (v);                                                                        \
        }                                                                                          \
    } while (0)
    snprintf(timeout, sizeof(timeout), "%ld", cfg->connect_timeout);
    PROBE("host", cfg->url.host);
    PROBE("hostaddr", cfg->url.hostaddr);
    PROBE("port", cfg->url.port);
    PROBE("user", cfg->url.user);
    PROBE("dbname", cfg->url.dbname);
    PROBE("sslmode", "require");
    PROBE("sslrootcert", none);
    PROBE("sslcert", none);
    PROBE("sslkey", none);
    PROBE("passfile", none);
    PROBE("gssencmode", "disable");
    PROBE("connect_timeout", timeout);
    PROBE("application_name", "dbssl");
#undef PROBE
    kw[n] = val[n] = NULL;
    c = PQconnectStartParams(kw, val, 0);
    /* libpq says "in use" from the start of the handshake: wait until it is over */
    while (c != NULL && !tls_up(c) && st != PGRES_POLLING_FAILED && st != PGRES_POLLING_OK) {
        struct pollfd pfd = {PQsocket(c), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, 0};
        long long left = deadline - dbssl_mono_ms();
        if (left <= 0 || pfd.fd < 0 || (poll(&pfd, 1, (int)left + 1) < 0 && errno != EINTR))
            break;
        st = PQconnectPoll(c);
    }
    if (c != NULL && tls_up(c)) {
        SSL *ssl = PQsslStruct(c, "OpenSSL");
        X509 *x = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
        BIO *bio = x ? BIO_new(BIO_s_mem()) : NULL;
        char *pem;
        long l;
        if (bio != NULL && PEM_write_bio_X509(bio, x) == 1 &&
            (l = BIO_get_mem_data(bio, &pem)) > 0 && (out = malloc((size_t)l + 1)) != NULL) {
            memcpy(out, pem, (size_t)l);
            out[l] = '\0';
            *len = (size_t)l;
        }
        BIO_free(bio);
        X509_free(x);
    }
    PQfinish(c);
    return out;
}

/*
 * OpenSSL only says "certificate verify failed".  When a certificate of the
 * CA bundle in use has expired, that is the cause the user must fix; when
 * the CRL in use lists the server's certificate, it was revoked (the
 * certificate is fetched again to tell: libpq keeps nothing of a failed
 * handshake).  crl: the CRL file libpq was given, or NULL.
 */
static void refine_verify_reason(const struct dbssl_config *cfg, const char *crl,
                                 struct dbssl_conn_diagnosis *d)
{
    struct dbssl_file_ref ca;
    struct dbssl_certlist list = {NULL, 0};
    long long now = dbssl_now();
    char *pem;
    size_t len = 0;
    bool revoked = false;

    if (d->reason != DBSSL_VERIFY_UNKNOWN_CA)
        return;
    if (dbssl_config_ca_file(cfg, &ca) &&
        dbssl_certlist_load(ca.path, "CA certificate file", &list, NULL) == 0) {
        for (size_t i = 0; i < list.n; i++) {
            if (dbssl_expiry_state(list.certs[i].not_before, list.certs[i].not_after, now, 0) ==
                DBSSL_EXPIRY_EXPIRED) {
                d->reason = DBSSL_VERIFY_EXPIRED;
                d->hint = HINT_EXPIRED;
            }
        }
        dbssl_certlist_free(&list);
    }
    if (d->reason != DBSSL_VERIFY_UNKNOWN_CA || crl == NULL ||
        (pem = fetch_server_cert(cfg, &len)) == NULL)
        return;
    if (dbssl_crl_lists_cert(crl, pem, len, &revoked, NULL) == 0 && revoked) {
        d->reason = DBSSL_VERIFY_REVOKED;
        d->hint = HINT_SERVER_REVOKED;
    }
    free(pem);
}

/*
 * With clientcert=verify-full and a password method, PostgreSQL 15 reports
 * a client certificate whose CN is not the user as a failed password (its
 * log says "CN mismatch", the client only "password authentication
 * failed"): when our certificate's CN is indeed not the user, that is the
 * likelier cause.
 */
static void refine_auth_failure(const char *cert, const char *user, struct dbssl_conn_diagnosis *d)
{
    struct dbssl_certlist list = {NULL, 0};

    if (d->cls != DBSSL_CONN_AUTH_FAILED || cert == NULL || user == NULL ||
        dbssl_certlist_load(cert, "certificate file", &list, NULL) != 0)
        return;
    if (strcmp(list.certs[0].common_name, user) != 0) {
        d->cls = DBSSL_CONN_CLIENT_CERT_REJECTED;
        d->hint = HINT_CLIENT_CN_PASSWORD;
    }
    dbssl_certlist_free(&list);
}

struct dbssl_conn_diagnosis dbssl_conn_diagnosis_of(enum dbssl_conn_class cls)
{
    struct dbssl_conn_diagnosis d = {cls, DBSSL_VERIFY_NONE, HINT_OTHER};

    if (cls == DBSSL_CONN_SSL_UNAVAILABLE)
        d.hint = HINT_SSL_UNAVAILABLE;
    else if (cls == DBSSL_CONN_TIMEOUT)
        d.hint = HINT_TIMEOUT;
    return d;
}

void dbssl_conn_explain(const struct dbssl_config *cfg, const struct dbssl_conn_params *p,
                        const char *user, struct dbssl_conn_diagnosis *d)
{
    if (d->cls == DBSSL_CONN_CERT_VERIFY_FAILED)
        refine_verify_reason(cfg, dbssl_conn_params_get(p, "sslcrl"), d);
    refine_auth_failure(p->cert, user, d);
}
