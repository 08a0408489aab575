/*
 * scan_profile.c - the TLS profiles (one table) and the grading of a scan.
 *
 * Source of the data: Mozilla's server-side TLS guidelines, version 5.7,
 * https://ssl-config.mozilla.org/guidelines/5.7.json (configurations
 * "modern", "intermediate" and "old"; the wiki page
 * https://wiki.mozilla.org/Security/Server_Side_TLS explains them).  Where
 * dbssl departs from it, the line says so:
 *  - "compat" is Mozilla's "old" but also accepts ECDSA certificates
 *    (PostgreSQL clients that can do TLS at all can verify them);
 *  - the groups are named as the scanner shows them (P-256 is Mozilla's
 *    prime256v1);
 *  - the postgresql.conf values are PostgreSQL's (ssl_ciphers covers TLS 1.2
 *    and older only; ssl_ecdh_curve takes one curve up to PostgreSQL 17).
 */
#include "scan_profile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expiry.h"
#include "tlsver.h"
#include "util.h"

#define MOZ_TLS13 "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
/* intermediate: ECDHE or DHE key exchange, AES-GCM or ChaCha20-Poly1305, nothing else */
#define MOZ_INTERMEDIATE                                                                           \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                                   \
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
#define MOZ_OLD                                                                                    \
    MOZ_INTERMEDIATE ":ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:"                         \
                     "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:"      \
                     "ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:"        \
                     "DHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA256:AES128-GCM-SHA256:"              \
                     "AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA:"        \
                     "DES-CBC3-SHA"
#define MOZ_GROUPS "X25519:P-256:P-384"
/* the guide's ssl_ciphers ("PostgreSQL Server Configuration") */
#define GUIDE_CIPHERS "HIGH:!aNULL:!MD5"

static const struct dbssl_tls_profile profiles[] = {
    {
        .name = "intermediate",
        .title = "Mozilla intermediate, server-side TLS 5.7",
        .min_proto = DBSSL_SCAN_TLS1_2,
        .tls12_suites = MOZ_INTERMEDIATE,
        .tls13_suites = MOZ_TLS13,
        .groups = MOZ_GROUPS,
        .key_types = "EC,RSA",
        .rsa_min_bits = 2048,
        .dh_min_bits = 2048,
        .max_lifespan_days = 366,
        .server_order = false, /* Mozilla: the client chooses; every suite allowed is strong */
        .pg_min_version = "TLSv1.2",
        .pg_ciphers = MOZ_INTERMEDIATE,
        .pg_ecdh_curve = "prime256v1",
        .warning = NULL,
    },
    {
        .name = "modern",
        .title = "Mozilla modern, server-side TLS 5.7",
        .min_proto = DBSSL_SCAN_TLS1_3,
        .tls12_suites = "",
        .tls13_suites = MOZ_TLS13,
        .groups = MOZ_GROUPS,
        .key_types = "EC",
        .rsa_min_bits = 2048,
        .dh_min_bits = 2048,
        .max_lifespan_days = 366,
        .server_order = false,
        .pg_min_version = "TLSv1.3",
        /* unused while the minimum is TLS 1.3; strong should anyone lower it */
        .pg_ciphers = MOZ_INTERMEDIATE,
        .pg_ecdh_curve = "prime256v1",
        .warning = NULL,
    },
    {
        .name = "compat",
        .title = "Mozilla old, server-side TLS 5.7",
        .min_proto = DBSSL_SCAN_TLS1_0,
        .tls12_suites = MOZ_OLD,
        .tls13_suites = MOZ_TLS13,
        .groups = MOZ_GROUPS,
        .key_types = "EC,RSA", /* Mozilla old: RSA only */
        .rsa_min_bits = 2048,
        .dh_min_bits = 1024,
        .max_lifespan_days = 366,
        .server_order = true,
        /* the guide's lines: TLS 1.2 and its cipher string */
        .pg_min_version = "TLSv1.2",
        .pg_ciphers = GUIDE_CIPHERS,
        .pg_ecdh_curve = "prime256v1",
        .warning = "profile \"compat\" writes the guide's ssl_ciphers = '" GUIDE_CIPHERS
                   "', which on TLS 1.2 still allows CBC suites, SHA-1 MACs, CAMELLIA, ARIA, "
                   "CCM8 and RSA key exchange (no forward secrecy); use it only for clients "
                   "that cannot do ECDHE with AES-GCM or ChaCha20-Poly1305, and check the "
                   "server with \"dbssl scan\"",
    },
};
#define NPROFILES (sizeof(profiles) / sizeof(profiles[0]))

const struct dbssl_tls_profile *dbssl_tls_profile_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < NPROFILES; i++)
        if (strcmp(profiles[i].name, name) == 0)
            return &profiles[i];
    return NULL;
}

const char *dbssl_tls_profile_names(void)
{
    return "intermediate|modern|compat";
}

bool dbssl_tls_list_has(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; p != NULL && *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p = end ? end + 1 : p + len;
    }
    return false;
}

const char *dbssl_tls_pg_version(enum dbssl_scan_proto p)
{
    return (unsigned)p < DBSSL_SCAN_NPROTO ? dbssl_tlsv_pg_name((int)p + DBSSL_TLSV_1_0)
                                           : "TLSv1.2";
}

const char *dbssl_scan_severity_name(enum dbssl_scan_severity s)
{
    return s == DBSSL_SCAN_FAIL ? "fail" : "warn";
}

/* What is weak about a suite, as an auditor reads it: "CBC, SHA-1 MAC". */
static void suite_weakness(const struct dbssl_scan_suite *s, char *out, size_t len)
{
    static const struct {
        const char *prefix;
        const char *says;
    } ciphers[] = {
        {"AESCCM8", "CCM8"},
        {"AESCCM", "CCM"},
        {"Camellia", "CAMELLIA"},
        {"ARIA", "ARIA"},
        {"3DES", "3DES"},
        {"DES", "DES"},
        {"RC4", "RC4"},
        {"RC2", "RC2"},
        {"SEED", "SEED"},
        {"IDEA", "IDEA"},
        {"None", "no encryption"},
    };
    struct strbuf sb;
    char *txt;

    strbuf_init(&sb);
#define SAY(what) (strbuf_append(&sb, sb.len ? ", " : ""), strbuf_append(&sb, (what)))
    if (strcmp(s->kx, "RSA") == 0)
        SAY("RSA key exchange (no forward secrecy)");
    if (strcmp(s->auth, "None") == 0)
        SAY("anonymous (no authentication)");
    for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
        if (strncmp(s->enc, ciphers[i].prefix, strlen(ciphers[i].prefix)) == 0) {
            SAY(ciphers[i].says);
            break;
        }
    if (s->mac[0] != '\0' && strcmp(s->mac, "AEAD") != 0 && strncmp(s->enc, "RC4", 3) != 0 &&
        strcmp(s->enc, "None") != 0)
        SAY("CBC");
    if (strcmp(s->mac, "SHA1") == 0)
        SAY("SHA-1 MAC");
    else if (strcmp(s->mac, "MD5") == 0)
        SAY("MD5 MAC");
#undef SAY
    txt = strbuf_take(&sb);
    snprintf(out, len, "%s", txt ? txt : "");
    free(txt);
}

/* The grade being built; oom is sticky. */
struct grader {
    struct dbssl_scan_grade *g;
    bool oom;
};

static struct dbssl_scan_finding *add(struct grader *gr, enum dbssl_scan_severity sev,
                                      const char *id, const char *hint, const char *fmt, ...)
    DBSSL_PRINTF(5, 6);

static struct dbssl_scan_finding *add(struct grader *gr, enum dbssl_scan_severity sev,
                                      const char *id, const char *hint, const char *fmt, ...)
{
    struct dbssl_scan_grade *g = gr->g;
    struct dbssl_scan_finding *n, *f;
    va_list ap;

    n = realloc(g->v, (g->n + 1) * sizeof(*n));
    if (n == NULL) {
        gr->oom = true;
        return NULL;
    }
    g->v = n;
    f = &g->v[g->n++];
    memset(f, 0, sizeof(*f));
    f->severity = sev;
    f->id = id;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof(f->message), fmt, ap);
    va_end(ap);
    snprintf(f->hint, sizeof(f->hint), "%s", hint ? hint : "");
    if (sev == DBSSL_SCAN_FAIL)
        g->passed = false;
    return f;
}

static void add_item(struct grader *gr, struct dbssl_scan_finding *f, const char *name,
                     const char *why)
{
    struct dbssl_scan_item *n;

    if (f == NULL)
        return;
    n = realloc(f->items, (f->n_items + 1) * sizeof(*n));
    if (n == NULL) {
        gr->oom = true;
        return;
    }
    f->items = n;
    snprintf(f->items[f->n_items].name, sizeof(n->name), "%s", name);
    snprintf(f->items[f->n_items].why, sizeof(n->why), "%s", why ? why : "");
    f->n_items++;
}

static void grade_protocols(struct grader *gr, const struct dbssl_scan_result *r,
                            const struct dbssl_tls_profile *p)
{
    struct dbssl_scan_finding *f = NULL;

    for (int v = 0; v < (int)p->min_proto; v++) {
        if (!r->protocols[v])
            continue;
        if (f == NULL) {
            f = add(gr, DBSSL_SCAN_FAIL, "protocol_version",
                    "Raise the minimum version in postgresql.conf and reload the server; clients "
                    "that cannot follow need upgrading, not a weaker server.",
                    "the server accepts protocol versions below %s",
                    dbssl_scan_proto_name(p->min_proto));
            if (f != NULL)
                snprintf(f->fix, sizeof(f->fix), "ssl_min_protocol_version = '%s'",
                         dbssl_tls_pg_version(p->min_proto));
        }
        add_item(gr, f, dbssl_scan_proto_name((enum dbssl_scan_proto)v), NULL);
    }
    if (!r->protocols[DBSSL_SCAN_TLS1_3]) {
        f = add(gr, p->min_proto == DBSSL_SCAN_TLS1_3 ? DBSSL_SCAN_FAIL : DBSSL_SCAN_WARN,
                "tls13_missing",
                "TLS 1.3 needs PostgreSQL 12 or later built with OpenSSL 1.1.1 or later; an "
                "empty ssl_max_protocol_version lets the server use the newest version.",
                "the server does not accept TLS 1.3");
        if (f != NULL)
            snprintf(f->fix, sizeof(f->fix), "ssl_max_protocol_version = ''");
    }
}

static void grade_suites(struct grader *gr, const struct dbssl_scan_result *r,
                         const struct dbssl_tls_profile *p)
{
    static const char *const ids[DBSSL_SCAN_NPROTO] = {"tls10_suites", "tls11_suites",
                                                       "tls12_suites", "tls13_suites"};

    /* versions below the minimum are one finding already, their suites are not another */
    for (int v = (int)p->min_proto; v < DBSSL_SCAN_NPROTO; v++) {
        const struct dbssl_scan_suites *s = &r->suites[v];
        const char *allowed = v == DBSSL_SCAN_TLS1_3 ? p->tls13_suites : p->tls12_suites;
        struct dbssl_scan_finding *f = NULL;
        size_t bad = 0;

        for (size_t i = 0; r->protocols[v] && i < s->n; i++)
            bad += !dbssl_tls_list_has(allowed, s->v[i].name);
        if (bad == 0)
            continue;
        if (v == DBSSL_SCAN_TLS1_3) {
            f = add(gr, DBSSL_SCAN_FAIL, ids[v],
                    "PostgreSQL 17 and older cannot choose TLS 1.3 suites: set Ciphersuites in "
                    "the OpenSSL configuration the server reads (openssl.cnf), or "
                    "ssl_tls13_ciphers on PostgreSQL 18.",
                    "%zu TLS 1.3 suite%s outside the %s profile", bad, bad == 1 ? "" : "s",
                    p->name);
        } else {
            f = add(gr, DBSSL_SCAN_FAIL, ids[v],
                    "Set ssl_ciphers to the profile's suites and reload the server "
                    "(\"dbssl pg-config\" prints it).",
                    "%zu %s suite%s outside the %s profile", bad,
                    dbssl_scan_proto_name((enum dbssl_scan_proto)v), bad == 1 ? "" : "s", p->name);
            if (f != NULL)
                snprintf(f->fix, sizeof(f->fix), "ssl_ciphers = '%s'", p->tls12_suites);
        }
        for (size_t i = 0; i < s->n; i++) {
            char why[80];
            if (dbssl_tls_list_has(allowed, s->v[i].name))
                continue;
            suite_weakness(&s->v[i], why, sizeof(why));
            add_item(gr, f, s->v[i].name, why);
        }
    }
}

static void grade_kx(struct grader *gr, const struct dbssl_scan_result *r,
                     const struct dbssl_tls_profile *p)
{
    struct dbssl_scan_finding *f = NULL;

    for (size_t i = 0; i < r->n_groups; i++) {
        if (dbssl_tls_list_has(p->groups, r->groups[i]))
            continue;
        if (f == NULL) {
            f = add(gr, DBSSL_SCAN_FAIL, "groups",
                    "PostgreSQL 17 and older use the one curve named in ssl_ecdh_curve; "
                    "PostgreSQL 18 takes a list in ssl_groups.",
                    "the server accepts key-exchange groups outside the %s profile", p->name);
            if (f != NULL)
                snprintf(f->fix, sizeof(f->fix), "ssl_ecdh_curve = '%s'", p->pg_ecdh_curve);
        }
        add_item(gr, f, r->groups[i], NULL);
    }

    f = NULL;
    for (int v = (int)p->min_proto; v < DBSSL_SCAN_NPROTO; v++) {
        for (size_t i = 0; r->protocols[v] && i < r->suites[v].n; i++) {
            const struct dbssl_scan_suite *s = &r->suites[v].v[i];
            char what[80];
            if (strcmp(s->kx_group, "DH") != 0 || s->kx_bits <= 0 || s->kx_bits >= p->dh_min_bits)
                continue;
            if (f == NULL) {
                f = add(gr, DBSSL_SCAN_FAIL, "dh_params",
                        "Generate stronger parameters (openssl dhparam -out dh.pem 2048) and "
                        "name the file in ssl_dh_params_file, or leave DHE out of ssl_ciphers.",
                        "DHE with parameters below %d bits", p->dh_min_bits);
                if (f != NULL)
                    snprintf(f->fix, sizeof(f->fix), "ssl_dh_params_file = 'dh.pem'");
            }
            snprintf(what, sizeof(what), "DH %d bits", s->kx_bits);
            add_item(gr, f, s->name, what);
        }
    }

    if (!p->server_order)
        return;
    f = NULL;
    for (int v = (int)p->min_proto; v < DBSSL_SCAN_NPROTO; v++) {
        if (r->suites[v].server_order == DBSSL_SCAN_UNKNOWN)
            continue;
        if (r->suites[v].server_order)
            continue;
        if (f == NULL) {
            f = add(gr, DBSSL_SCAN_FAIL, "server_order",
                    "With weak suites still on offer, the server must pick the strongest one a "
                    "client supports, not the client's first.",
                    "the server follows the client's order of suites");
            if (f != NULL)
                snprintf(f->fix, sizeof(f->fix), "ssl_prefer_server_ciphers = on");
        }
        add_item(gr, f, dbssl_scan_proto_name((enum dbssl_scan_proto)v), NULL);
    }
}

static bool weak_signature(const char *alg)
{
    char low[64];
    size_t i;

    for (i = 0; alg[i] && i + 1 < sizeof(low); i++)
        low[i] = (char)(alg[i] >= 'A' && alg[i] <= 'Z' ? alg[i] + 32 : alg[i]);
    low[i] = '\0';
    return strstr(low, "sha1") != NULL || strstr(low, "md5") != NULL ||
           strstr(low, "md2") != NULL || strstr(low, "md4") != NULL;
}

static void grade_key(struct grader *gr, const struct dbssl_certinfo *leaf,
                      const struct dbssl_tls_profile *p)
{
    char what[64];
    const char *problem = NULL;
    char types[32];
    bool allowed = false;

    snprintf(types, sizeof(types), "%s", p->key_types);
    for (char *t = types, *end; t != NULL; t = end) {
        end = strchr(t, ',');
        if (end != NULL)
            *end++ = '\0';
        allowed |= strcmp(t, leaf->key_type) == 0;
    }
    if (!allowed)
        problem = "key type outside the profile";
    else if (strcmp(leaf->key_type, "RSA") == 0 && leaf->key_bits < p->rsa_min_bits)
        problem = "RSA key too short";
    else if (strcmp(leaf->key_type, "EC") == 0 && leaf->key_bits < 256)
        problem = "EC key below 256 bits";
    if (problem == NULL)
        return;
    snprintf(what, sizeof(what), "%s %d bits", leaf->key_type, leaf->key_bits);
    add_item(gr,
             add(gr, DBSSL_SCAN_FAIL, "cert_key",
                 "Issue the server certificate with an ECDSA P-256 key (\"dbssl certs generate "
                 "--key-type ec-p256\" for the development set) or RSA of at least 2048 bits "
                 "where the profile allows RSA.",
                 "the server certificate's key does not meet the %s profile: %s", p->name, problem),
             leaf->subject, what);
}

static void grade_certs(struct grader *gr, const struct dbssl_scan_result *r,
                        const struct dbssl_tls_profile *p, long warn_days)
{
    const struct dbssl_certinfo *leaf;
    struct dbssl_scan_finding *f;

    if (r->chain.n == 0) {
        if (r->tls && r->complete)
            add(gr, DBSSL_SCAN_FAIL, "cert_missing",
                "Configure ssl_cert_file and ssl_key_file; a server without a certificate can "
                "only offer anonymous suites, which anyone in the middle can impersonate.",
                "the server sent no certificate");
        return;
    }
    leaf = &r->chain.certs[0];
    grade_key(gr, leaf, p);

    f = NULL;
    for (size_t i = 0; i < r->chain.n; i++) {
        if (r->chain.certs[i].self_signed || !weak_signature(r->sig_alg[i]))
            continue; /* a root's own signature is never checked */
        if (f == NULL)
            f = add(gr, DBSSL_SCAN_FAIL, "cert_signature",
                    "Reissue the certificate with a SHA-256 (or stronger) signature.",
                    "a certificate is signed with a broken hash");
        add_item(gr, f, r->chain.certs[i].subject, r->sig_alg[i]);
    }

    for (size_t i = 0; i < r->chain.n; i++) {
        const struct dbssl_certinfo *c = &r->chain.certs[i];
        enum dbssl_expiry_state st =
            dbssl_expiry_state(c->not_before, c->not_after, r->scanned_at, warn_days);
        char when[64], date[32];
        long long days = dbssl_expiry_days_left(c->not_after, r->scanned_at);
        if (st == DBSSL_EXPIRY_VALID)
            continue;
        format_rfc3339(st == DBSSL_EXPIRY_NOT_YET_VALID ? c->not_before : c->not_after, date,
                       sizeof(date));
        if (st == DBSSL_EXPIRY_EXPIRED) {
            f = add(gr, DBSSL_SCAN_FAIL, "cert_expired",
                    "Renew the certificate and reload the server (pg_ctl reload); clients that "
                    "verify refuse an expired one.",
                    "a certificate the server sends has expired");
            snprintf(when, sizeof(when), "expired %s", date);
        } else if (st == DBSSL_EXPIRY_NOT_YET_VALID) {
            f = add(gr, DBSSL_SCAN_FAIL, "cert_not_yet_valid",
                    "Check the clock of the machine that issued it, or wait until it is valid.",
                    "a certificate the server sends is not valid yet");
            snprintf(when, sizeof(when), "valid from %s", date);
        } else {
            f = add(gr, DBSSL_SCAN_WARN, "cert_expiring",
                    "Renew the certificate before it expires and reload the server.",
                    "a certificate the server sends expires within %ld days", warn_days);
            snprintf(when, sizeof(when), "%lld days left, until %s", days, date);
        }
        add_item(gr, f, c->subject, when);
    }

    if (leaf->not_after - leaf->not_before > p->max_lifespan_days * SECONDS_PER_DAY) {
        char what[48];
        snprintf(what, sizeof(what), "%lld days",
                 (leaf->not_after - leaf->not_before) / SECONDS_PER_DAY);
        add_item(gr,
                 add(gr, DBSSL_SCAN_WARN, "cert_lifespan",
                     "Issue server certificates for at most a year (90 days where renewal is "
                     "automated), so that a stolen key is useful for less time.",
                     "the server certificate is valid for more than %ld days",
                     p->max_lifespan_days),
                 leaf->subject, what);
    }
    if (r->host_matches == 0)
        add_item(gr,
                 add(gr, DBSSL_SCAN_FAIL, "cert_host",
                     "Issue the certificate with the name clients put in their connection "
                     "string as a subjectAltName (DNS:name or IP:address); sslmode=verify-full "
                     "refuses it otherwise.",
                     "the server certificate does not name \"%s\"", r->host),
                 leaf->subject, leaf->sans[0] ? leaf->sans : "no subjectAltName");
    if (leaf->self_signed)
        add_item(gr,
                 add(gr, DBSSL_SCAN_WARN, "cert_self_signed",
                     "Clients can only verify a self-signed certificate by pinning it as their "
                     "root (sslrootcert); issue it from a CA instead.",
                     "the server certificate is self-signed"),
                 leaf->subject, NULL);
    if (r->chain_complete == 0)
        add(gr, DBSSL_SCAN_WARN, "chain_incomplete",
            "Put the intermediate certificates after the server certificate in ssl_cert_file, "
            "or scan with --ca-file naming the root that clients use.",
            "the chain is not complete: %s", r->chain_note);
    if (r->trusted == 0 && r->chain_complete != 0) {
        bool given = strcmp(r->trust_store, "system") != 0;
        add(gr, given ? DBSSL_SCAN_FAIL : DBSSL_SCAN_WARN, "chain_untrusted",
            given ? "Check that the CA file is the one that issued the server certificate."
                  : "Clients need the CA that issued it (sslrootcert); scan with --ca-file to "
                    "check against it.",
            "the chain does not verify: %s", r->chain_note);
    }
}

int dbssl_scan_grade(const struct dbssl_scan_result *r, const struct dbssl_tls_profile *p,
                     long warn_days, struct dbssl_scan_grade *out, struct dbssl_error *err)
{
    struct grader gr = {out, false};

    memset(out, 0, sizeof(*out));
    out->profile = p;
    out->passed = true;
    if (!r->complete)
        add(&gr, DBSSL_SCAN_FAIL, "scan_incomplete",
            "Run the scan again; give a slow server more time with --timeout.",
            "the scan is incomplete, %s", r->incomplete);
    grade_protocols(&gr, r, p);
    grade_suites(&gr, r, p);
    grade_kx(&gr, r, p);
    grade_certs(&gr, r, p, warn_days);
    if (gr.oom) {
        dbssl_scan_grade_free(out);
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return -1;
    }
    return 0;
}

void dbssl_scan_grade_free(struct dbssl_scan_grade *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->n; i++)
        free(g->v[i].items);
    free(g->v);
    g->v = NULL;
    g->n = 0;
}
