/*
 * hbarules.h - the one judgement of pg_hba.conf rules (as pg_hba_file_rules
 * returns them, serverinfo.h): which lines let a client in without TLS
 * from the network, with a weak or no authentication over TCP, or without
 * a client certificate where mutual TLS is the policy.  Pure functions of
 * the rules: the audit and the health endpoint both ask here.
 *
 * The rules, line by line ("reject" lines never match a finding; "local"
 * lines are the Unix socket, never TCP):
 *  - plaintext_network (fail): host, hostnossl or hostnogssenc from an
 *    address that is not loopback (127.0.0.0/8, ::1, "localhost",
 *    "samehost"): such a line accepts a session without TLS across the
 *    network (CIS PostgreSQL 6.8, the guide's "hostssl for remote").
 *  - weak_auth: trust (fail: no authentication at all) and ident (fail: it
 *    believes the client machine) on any TCP line; password and md5 fail
 *    where the line also accepts sessions without TLS (the password, or an
 *    MD5 challenge open to replay, crosses the wire in clear) and warn on
 *    hostssl (scram-sha-256 never sends the password; CIS 5.2).
 *  - no_client_cert (fail, only when mutual TLS is the policy): a TCP line
 *    that accepts TLS without a client certificate: hostssl without "cert"
 *    or clientcert=verify-ca/verify-full, and host/hostnogssenc, where
 *    PostgreSQL does not allow clientcert at all.
 *  - line_error (warn): a line PostgreSQL cannot parse; a reload keeps the
 *    previous rules and a restart fails.
 */
#ifndef DBSSL_HBARULES_H
#define DBSSL_HBARULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "error_int.h"
#include "serverinfo.h"

enum dbssl_hba_check {
    DBSSL_HBA_PLAINTEXT_NETWORK = 0, /* "plaintext_network" */
    DBSSL_HBA_WEAK_AUTH,             /* "weak_auth" */
    DBSSL_HBA_NO_CLIENT_CERT,        /* "no_client_cert" */
    DBSSL_HBA_LINE_ERROR,            /* "line_error" */
};

const char *dbssl_hba_check_name(enum dbssl_hba_check c);

/* One offending line. */
struct dbssl_hba_finding {
    enum dbssl_hba_check check;
    bool fail; /* else a warning */
    int line_number;
    char line[1024];
    char why[256];
};

struct dbssl_hba_findings {
    struct dbssl_hba_finding *v;
    size_t n;
};

/*
 * Judges rules (in file order); client_cert_policy: mutual TLS is
 * configured, so every TLS line must ask for a client certificate.  out is
 * the caller's; free it with dbssl_hba_findings_free().  -1 only when out of
 * memory.
 */
int dbssl_hba_check(const struct dbssl_hba_rule *rules, size_t n, bool client_cert_policy,
                    struct dbssl_hba_findings *out, struct dbssl_error *err) DBSSL_MUSTCHECK;

void dbssl_hba_findings_free(struct dbssl_hba_findings *f);

/*
 * Whether a rule's address (with its netmask, "" when none) covers only the
 * machine itself: loopback networks, "localhost" and "samehost".
 */
bool dbssl_hba_address_local(const char *address, const char *netmask);

/* [{"check", "severity", "line_number", "line", "why"}], a new reference. */
json_t *dbssl_hba_findings_to_json(const struct dbssl_hba_findings *f);

/*
 * What GET /health/database/ssl shows under "server_settings": the settings
 * as read (each with its state and, when not read, the privilege it needs),
 * whether pg_hba_file_rules could be read, how many rules, and the findings
 * of dbssl_hba_check() with each line (the rules themselves are in the
 * audit).  A new reference, NULL on out of memory.
 */
json_t *dbssl_server_settings_json(const struct dbssl_serverinfo *si, bool client_cert_policy);

struct dbssl_config;

/*
 * Reads them over conn (each query bounded by DB_CONNECT_TIMEOUT) and
 * returns that form, judged with cfg's client certificate policy: what
 * serve's checker publishes and `dbssl status` prints.  A new reference;
 * NULL and err when the server could not be read (or out of memory).
 */
json_t *dbssl_server_settings_read(struct pg_conn *conn, const struct dbssl_config *cfg,
                                   struct dbssl_error *err) DBSSL_MUSTCHECK;

#endif
