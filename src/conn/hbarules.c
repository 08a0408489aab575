/*
 * hbarules.c - pg_hba.conf rules judged line by line (see hbarules.h).
 */
#include "hbarules.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "jsonutil.h"
#include "util.h"

const char *dbssl_hba_check_name(enum dbssl_hba_check c)
{
    switch (c) {
    case DBSSL_HBA_PLAINTEXT_NETWORK:
        return "plaintext_network";
    case DBSSL_HBA_WEAK_AUTH:
        return "weak_auth";
    case DBSSL_HBA_NO_CLIENT_CERT:
        return "no_client_cert";
    case DBSSL_HBA_LINE_ERROR:
        return "line_error";
    }
    return "unknown";
}

/* The bytes of an IPv4 or IPv6 address; 4, 16, or 0 when it is not one. */
static size_t addr_bytes(const char *s, unsigned char *b)
{
    if (inet_pton(AF_INET, s, b) == 1)
        return 4;
    if (inet_pton(AF_INET6, s, b) == 1)
        return 16;
    return 0;
}

bool dbssl_hba_address_local(const char *address, const char *netmask)
{
    static const unsigned char v4_mapped[12] = {[10] = 0xff, [11] = 0xff};
    static const unsigned char v6_loopback[16] = {[15] = 1};
    unsigned char a[16];
    size_t n = addr_bytes(address, a);
    struct dbssl_hba_netmask m;
    int bits;

    if (str_ieq(address, "localhost") || str_ieq(address, "samehost"))
        return true;
    if (n == 0)
        return false; /* all, samenet, a host name: whatever it resolves to */
    /* the leading ones of the mask, contiguous or not: every address the rule matches has
     * those bits of the rule's address (127.0.0.1 255.255.0.255 matches 127.0.x.1 only) */
    if (netmask[0] == '\0')
        bits = (int)n * 8;
    else if (dbssl_hba_netmask_parse(netmask, &m) && m.bytes == n)
        bits = m.leading_ones;
    else
        return false;
    /* the first bits of the network are fixed by the mask: 127.0.0.0/8 needs 8 of them */
    if (n == 4)
        return a[0] == 127 && bits >= 8;
    if (memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0)
        return a[12] == 127 && bits >= 96 + 8;
    return memcmp(a, v6_loopback, sizeof(v6_loopback)) == 0 && bits == 128;
}

/* The option word of a rule ("clientcert=verify-full"), as a whole word. */
static bool has_option(const char *options, const char *opt)
{
    size_t n = strlen(opt);

    for (const char *p = options; (p = strstr(p, opt)) != NULL; p += n)
        if ((p == options || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
            return true;
    return false;
}

struct judge {
    struct dbssl_hba_findings *out;
    bool oom;
};

static void add(struct judge *j, const struct dbssl_hba_rule *r, enum dbssl_hba_check c, bool fail,
                const char *fmt, ...) DBSSL_PRINTF(5, 6);

static void add(struct judge *j, const struct dbssl_hba_rule *r, enum dbssl_hba_check c, bool fail,
                const char *fmt, ...)
{
    struct dbssl_hba_finding *v = realloc(j->out->v, (j->out->n + 1) * sizeof(*v)), *f;
    va_list ap;

    if (v == NULL) {
        j->oom = true;
        return;
    }
    j->out->v = v;
    f = &v[j->out->n++];
    memset(f, 0, sizeof(*f));
    f->check = c;
    f->fail = fail;
    f->line_number = r->line_number;
    snprintf(f->line, sizeof(f->line), "%s", r->line);
    va_start(ap, fmt);
    vsnprintf(f->why, sizeof(f->why), fmt, ap);
    va_end(ap);
}

static void judge_rule(struct judge *j, const struct dbssl_hba_rule *r, bool client_cert_policy)
{
    const char *t = r->type, *m = r->auth_method;
    bool tcp = strncmp(t, "host", 4) == 0;
    /* lines that also match sessions without TLS */
    bool plain_ok =
        strcmp(t, "host") == 0 || strcmp(t, "hostnossl") == 0 || strcmp(t, "hostnogssenc") == 0;
    bool tls_ok =
        strcmp(t, "host") == 0 || strcmp(t, "hostssl") == 0 || strcmp(t, "hostnogssenc") == 0;
    char where[400];

    if (r->error[0] != '\0') {
        add(j, r, DBSSL_HBA_LINE_ERROR, false,
            "PostgreSQL cannot use this line (%s): a reload keeps the previous rules and a "
            "restart fails",
            r->error);
        return;
    }
    if (!tcp || strcmp(m, "reject") == 0)
        return;
    dbssl_hba_rule_address(r, where, sizeof(where));
    if (plain_ok && !dbssl_hba_address_local(r->address, r->netmask))
        add(j, r, DBSSL_HBA_PLAINTEXT_NETWORK, true, "%s accepts TCP sessions without TLS from %s",
            t, where);
    if (strcmp(m, "trust") == 0)
        add(j, r, DBSSL_HBA_WEAK_AUTH, true,
            "trust over TCP: whoever reaches %s connects as any role it lists, without a password",
            where);
    else if (strcmp(m, "ident") == 0)
        add(j, r, DBSSL_HBA_WEAK_AUTH, true,
            "ident over TCP believes what the client machine says about its user");
    else if ((strcmp(m, "password") == 0 || strcmp(m, "md5") == 0) && plain_ok)
        add(j, r, DBSSL_HBA_WEAK_AUTH, true, "%s on a line that accepts sessions without TLS: %s",
            m,
            strcmp(m, "password") == 0
                ? "the password crosses the network in clear"
                : "the MD5 exchange can be replayed or cracked by whoever reads the wire");
    else if (strcmp(m, "password") == 0)
        add(j, r, DBSSL_HBA_WEAK_AUTH, false,
            "password inside TLS: the server receives the password itself, which scram-sha-256 "
            "never sends");
    else if (strcmp(m, "md5") == 0)
        add(j, r, DBSSL_HBA_WEAK_AUTH, false,
            "md5 inside TLS: a stolen MD5 hash logs in as the role, where a SCRAM verifier "
            "does not");
    if (client_cert_policy && tls_ok && strcmp(m, "cert") != 0 &&
        !has_option(r->options, "clientcert=verify-full") &&
        !has_option(r->options, "clientcert=verify-ca"))
        add(j, r, DBSSL_HBA_NO_CLIENT_CERT, true, "%s",
            strcmp(t, "hostssl") == 0
                ? "a TLS session is accepted without a client certificate "
                  "(no clientcert=verify-full, no cert method)"
                : "the line accepts TLS sessions and cannot ask for a client certificate "
                  "(clientcert is allowed on hostssl lines only)");
}

int dbssl_hba_check(const struct dbssl_hba_rule *rules, size_t n, bool client_cert_policy,
                    struct dbssl_hba_findings *out, struct dbssl_error *err)
{
    struct judge j = {out, false};

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++)
        judge_rule(&j, &rules[i], client_cert_policy);
    if (j.oom) {
        dbssl_hba_findings_free(out);
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return -1;
    }
    return 0;
}

void dbssl_hba_findings_free(struct dbssl_hba_findings *f)
{
    if (f == NULL)
        return;
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

json_t *dbssl_hba_findings_to_json(const struct dbssl_hba_findings *f)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < f->n; i++)
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:i, s:o, s:o}", "check", dbssl_hba_check_name(f->v[i].check),
                         "severity", f->v[i].fail ? "fail" : "warn", "line_number",
                         f->v[i].line_number, "line", dbssl_json_str(f->v[i].line), "why",
                         dbssl_json_str(f->v[i].why)));
    return a;
}

json_t *dbssl_server_settings_json(const struct dbssl_serverinfo *si, bool client_cert_policy)
{
    struct dbssl_hba_findings hf = {NULL, 0};
    json_t *j = dbssl_serverinfo_to_json(si), *findings;

    if (j == NULL)
        return NULL;
    /* the health body carries what is wrong, not every rule */
    json_object_set_new(j, "hba_rules", json_integer((json_int_t)si->n_hba));
    json_object_del(j, "hba");
    if (si->hba_state == DBSSL_SI_READ &&
        dbssl_hba_check(si->hba, si->n_hba, client_cert_policy, &hf, NULL) != 0) {
        json_decref(j);
        return NULL;
    }
    findings = si->hba_state == DBSSL_SI_READ ? dbssl_hba_findings_to_json(&hf) : json_null();
    dbssl_hba_findings_free(&hf);
    if (findings == NULL || json_object_set_new(j, "hba_findings", findings) != 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

json_t *dbssl_server_settings_read(struct pg_conn *conn, const struct dbssl_config *cfg,
                                   struct dbssl_error *err)
{
    struct dbssl_file_ref cert, key;
    struct dbssl_serverinfo si;
    json_t *j;

    if (dbssl_serverinfo_read(conn, cfg->connect_timeout, &si, err) != 0)
        return NULL;
    j = dbssl_server_settings_json(&si, dbssl_config_client_files(cfg, &cert, &key));
    dbssl_serverinfo_free(&si);
    if (j == NULL)
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
    return j;
}
