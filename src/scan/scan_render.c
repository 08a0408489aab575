/*
 * scan_render.c - a scan result and its grade as JSON (for `dbssl scan
 * --json`, the audit report and the fleet probe), read back from JSON (for
 * the grading tests and anyone who keeps scans), and as the text a person
 * reads.
 *
 * Validity verdicts (days left, expiring, expired) are computed here at the
 * scan's own time through expiry.h, never stored: a result read back from
 * JSON is judged exactly as it was when written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "expiry.h"
#include "jsonutil.h"
#include "scan.h"
#include "scan_profile.h"
#include "util.h"

static json_t *tri(int v)
{
    return v == DBSSL_SCAN_UNKNOWN ? json_null() : json_boolean(v);
}

static json_t *suite_json(const struct dbssl_scan_suite *s)
{
    char id[8];

    snprintf(id, sizeof(id), "0x%04X", s->id & 0xffffu);
    return json_pack("{s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:i, s:o, s:i}", "name",
                     dbssl_json_str(s->name), "iana", dbssl_json_str(s->iana), "id", id, "kx",
                     dbssl_json_str(s->kx), "auth", dbssl_json_str(s->auth), "enc",
                     dbssl_json_str(s->enc), "mac", dbssl_json_str(s->mac), "bits", s->bits,
                     "key_exchange", s->kx_group[0] ? dbssl_json_str(s->kx_group) : json_null(),
                     "key_exchange_bits", s->kx_bits);
}

static json_t *cert_json(const struct dbssl_certinfo *c, const char *sig_alg, long long now,
                         long warn_days)
{
    enum dbssl_expiry_state st = dbssl_expiry_state(c->not_before, c->not_after, now, warn_days);

    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:s, s:i, s:o, s:o, s:o, s:I, s:s, s:b, s:b}",
                     "subject", dbssl_json_str(c->subject), "issuer", dbssl_json_str(c->issuer),
                     "sans", dbssl_json_str(c->sans), "serial", dbssl_json_str(c->serial),
                     "fingerprint_sha256", dbssl_json_str(c->fingerprint), "key_type", c->key_type,
                     "key_bits", c->key_bits, "signature_algorithm", dbssl_json_str(sig_alg),
                     "not_before", dbssl_json_time(c->not_before), "not_after",
                     dbssl_json_time(c->not_after), "days_left",
                     (json_int_t)dbssl_expiry_days_left(c->not_after, now), "expiry",
                     dbssl_expiry_state_name(st), "self_signed", c->self_signed, "is_ca", c->is_ca);
}

static json_t *grade_json(const struct dbssl_scan_grade *g)
{
    json_t *findings = json_array();

    for (size_t i = 0; i < g->n; i++) {
        const struct dbssl_scan_finding *f = &g->v[i];
        json_t *items = json_array();
        for (size_t k = 0; k < f->n_items; k++)
            json_array_append_new(
                items,
                json_pack("{s:o, s:o}", "name", dbssl_json_str(f->items[k].name), "why",
                          f->items[k].why[0] ? dbssl_json_str(f->items[k].why) : json_null()));
        json_array_append_new(findings,
                              json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "severity",
                                        dbssl_scan_severity_name(f->severity), "id", f->id,
                                        "message", dbssl_json_str(f->message), "items", items,
                                        "fix", f->fix[0] ? dbssl_json_str(f->fix) : json_null(),
                                        "hint", dbssl_json_str(f->hint)));
    }
    return json_pack("{s:s, s:s, s:s, s:b, s:o}", "profile", g->profile->name, "title",
                     g->profile->title, "source", DBSSL_TLS_PROFILE_SOURCE, "passed", g->passed,
                     "findings", findings);
}

json_t *dbssl_scan_to_json(const struct dbssl_scan_result *r, const struct dbssl_scan_grade *g,
                           long warn_days)
{
    json_t *root, *protos = json_object(), *suites = json_object(), *groups = json_array(),
                  *certs = json_array();

    for (int p = 0; p < DBSSL_SCAN_NPROTO; p++) {
        const char *name = dbssl_scan_proto_name((enum dbssl_scan_proto)p);
        json_t *list;
        json_object_set_new(protos, name, json_boolean(r->protocols[p]));
        if (!r->protocols[p])
            continue;
        list = json_array();
        for (size_t i = 0; i < r->suites[p].n; i++)
            json_array_append_new(list, suite_json(&r->suites[p].v[i]));
        json_object_set_new(suites, name,
                            json_pack("{s:o, s:o}", "server_order", tri(r->suites[p].server_order),
                                      "suites", list));
    }
    for (size_t i = 0; i < r->n_groups; i++)
        json_array_append_new(groups, dbssl_json_str(r->groups[i]));
    for (size_t i = 0; i < r->chain.n; i++)
        json_array_append_new(
            certs, cert_json(&r->chain.certs[i], r->sig_alg[i], r->scanned_at, warn_days));
    root = json_pack(
        "{s:o, s:i, s:o, s:o, s:i, s:i, s:b, s:o, s:b, s:o, s:o, s:o, s:o, s:o}", "host",
        dbssl_json_str(r->host), "port", r->port, "address", dbssl_json_str(r->address),
        "scanned_at", dbssl_json_time(r->scanned_at), "duration_ms", (int)r->duration_ms,
        "handshakes", r->handshakes, "complete", r->complete, "incomplete_reason",
        r->complete ? json_null() : dbssl_json_str(r->incomplete), "tls", r->tls, "protocols",
        protos, "cipher_suites", suites, "groups", groups, "certificates", certs, "chain",
        json_pack("{s:o, s:o, s:o, s:o, s:o}", "host_matches", tri(r->host_matches), "complete",
                  tri(r->chain_complete), "trusted", tri(r->trusted), "trust_store",
                  dbssl_json_str(r->trust_store), "note",
                  r->chain_note[0] ? dbssl_json_str(r->chain_note) : json_null()));
    if (root != NULL && g != NULL)
        json_object_set_new(root, "grade", grade_json(g));
    return root;
}

/* ---- reading back ---------------------------------------------------------------------- */

struct reader {
    struct dbssl_error *err;
    bool bad;
};

static const json_t *need(struct reader *rd, const json_t *obj, const char *key, int type)
{
    const json_t *v = json_object_get(obj, key);

    if (v == NULL || (type >= 0 && json_typeof(v) != (json_type)type)) {
        if (!rd->bad)
            dbssl_error_set(rd->err, DBSSL_ERR_USAGE,
                            "Give the JSON that \"dbssl scan --json\" writes.",
                            "scan result: field \"%s\" is missing or of the wrong type", key);
        rd->bad = true;
        return NULL;
    }
    return v;
}

static void get_str(struct reader *rd, const json_t *obj, const char *key, char *out, size_t len)
{
    const json_t *v = json_object_get(obj, key);

    out[0] = '\0';
    if (json_is_null(v))
        return;
    v = need(rd, obj, key, JSON_STRING);
    if (v != NULL)
        snprintf(out, len, "%s", json_string_value(v));
}

static long long get_int(struct reader *rd, const json_t *obj, const char *key)
{
    const json_t *v = need(rd, obj, key, JSON_INTEGER);

    return v ? (long long)json_integer_value(v) : 0;
}

static bool get_bool(struct reader *rd, const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    if (!json_is_boolean(v))
        need(rd, obj, key, JSON_TRUE);
    return json_is_true(v);
}

static int get_tri(struct reader *rd, const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    if (json_is_null(v))
        return DBSSL_SCAN_UNKNOWN;
    return get_bool(rd, obj, key) ? 1 : 0;
}

static long long get_time(struct reader *rd, const json_t *obj, const char *key)
{
    char buf[40];
    long long t;

    get_str(rd, obj, key, buf, sizeof(buf));
    if (buf[0] == '\0')
        return 0;
    if (!parse_rfc3339(buf, &t)) {
        need(rd, obj, "(an RFC 3339 UTC time)", JSON_NULL);
        return 0;
    }
    return t;
}

static char *dup_str(struct reader *rd, const json_t *obj, const char *key)
{
    char buf[4096];
    char *s;

    get_str(rd, obj, key, buf, sizeof(buf));
    s = xstrdup(buf);
    if (s == NULL)
        rd->bad = true;
    return s;
}

static void read_suites(struct reader *rd, const json_t *list, struct dbssl_scan_suites *s)
{
    size_t i;
    const json_t *v;

    json_array_foreach(list, i, v)
    {
        struct dbssl_scan_suite *t;
        char id[16];
        if (s->n >= DBSSL_SCAN_MAX_SUITES)
            break;
        t = &s->v[s->n++];
        get_str(rd, v, "name", t->name, sizeof(t->name));
        get_str(rd, v, "iana", t->iana, sizeof(t->iana));
        get_str(rd, v, "id", id, sizeof(id));
        t->id = (unsigned)strtoul(id, NULL, 16);
        get_str(rd, v, "kx", t->kx, sizeof(t->kx));
        get_str(rd, v, "auth", t->auth, sizeof(t->auth));
        get_str(rd, v, "enc", t->enc, sizeof(t->enc));
        get_str(rd, v, "mac", t->mac, sizeof(t->mac));
        t->bits = (int)get_int(rd, v, "bits");
        get_str(rd, v, "key_exchange", t->kx_group, sizeof(t->kx_group));
        t->kx_bits = (int)get_int(rd, v, "key_exchange_bits");
    }
}

static void read_certs(struct reader *rd, const json_t *list, struct dbssl_scan_result *r)
{
    size_t i, n = json_array_size(list);
    const json_t *v;

    if (n > DBSSL_SCAN_MAX_CERTS)
        n = DBSSL_SCAN_MAX_CERTS;
    if (n == 0)
        return;
    r->chain.certs = calloc(n, sizeof(*r->chain.certs));
    if (r->chain.certs == NULL) {
        rd->bad = true;
        return;
    }
    json_array_foreach(list, i, v)
    {
        struct dbssl_certinfo *c;
        if (i >= n)
            break;
        c = &r->chain.certs[r->chain.n++];
        c->subject = dup_str(rd, v, "subject");
        c->issuer = dup_str(rd, v, "issuer");
        c->common_name = xstrdup("");
        c->sans = dup_str(rd, v, "sans");
        c->serial = dup_str(rd, v, "serial");
        c->fingerprint = dup_str(rd, v, "fingerprint_sha256");
        get_str(rd, v, "key_type", c->key_type, sizeof(c->key_type));
        c->key_bits = (int)get_int(rd, v, "key_bits");
        get_str(rd, v, "signature_algorithm", r->sig_alg[i], sizeof(r->sig_alg[i]));
        c->not_before = get_time(rd, v, "not_before");
        c->not_after = get_time(rd, v, "not_after");
        c->self_signed = get_bool(rd, v, "self_signed");
        c->is_ca = get_bool(rd, v, "is_ca");
    }
}

struct dbssl_scan_result *dbssl_scan_from_json(const json_t *j, struct dbssl_error *err)
{
    struct dbssl_scan_result *r = dbssl_scan_result_new();
    struct reader rd = {err, false};
    const json_t *protos, *suites, *groups, *chain, *v;
    const char *key;
    size_t i;

    if (r == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    get_str(&rd, j, "host", r->host, sizeof(r->host));
    r->port = (int)get_int(&rd, j, "port");
    get_str(&rd, j, "address", r->address, sizeof(r->address));
    r->scanned_at = get_time(&rd, j, "scanned_at");
    r->duration_ms = (long)get_int(&rd, j, "duration_ms");
    r->handshakes = (int)get_int(&rd, j, "handshakes");
    r->complete = get_bool(&rd, j, "complete");
    get_str(&rd, j, "incomplete_reason", r->incomplete, sizeof(r->incomplete));
    r->tls = get_bool(&rd, j, "tls");
    protos = need(&rd, j, "protocols", JSON_OBJECT);
    suites = need(&rd, j, "cipher_suites", JSON_OBJECT);
    groups = need(&rd, j, "groups", JSON_ARRAY);
    chain = need(&rd, j, "chain", JSON_OBJECT);
    if (rd.bad)
        goto fail;
    json_object_foreach((json_t *)protos, key, v)
    {
        int p = dbssl_scan_proto_from_name(key);
        if (p >= 0)
            r->protocols[p] = json_is_true(v);
    }
    json_object_foreach((json_t *)suites, key, v)
    {
        int p = dbssl_scan_proto_from_name(key);
        const json_t *list = need(&rd, v, "suites", JSON_ARRAY);
        if (p < 0 || list == NULL)
            continue;
        r->suites[p].server_order = get_tri(&rd, v, "server_order");
        read_suites(&rd, list, &r->suites[p]);
    }
    json_array_foreach(groups, i, v)
    {
        if (r->n_groups < DBSSL_SCAN_MAX_GROUPS && json_is_string(v))
            snprintf(r->groups[r->n_groups++], sizeof(r->groups[0]), "%s", json_string_value(v));
    }
    read_certs(&rd, need(&rd, j, "certificates", JSON_ARRAY), r);
    r->host_matches = get_tri(&rd, chain, "host_matches");
    r->chain_complete = get_tri(&rd, chain, "complete");
    r->trusted = get_tri(&rd, chain, "trusted");
    get_str(&rd, chain, "trust_store", r->trust_store, sizeof(r->trust_store));
    get_str(&rd, chain, "note", r->chain_note, sizeof(r->chain_note));
    if (!rd.bad)
        return r;
fail:
    dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory"); /* only when no field error */
    dbssl_scan_result_free(r);
    return NULL;
}

/* ---- text ------------------------------------------------------------------------------ */

static const char *yes_no(int v)
{
    return v == DBSSL_SCAN_UNKNOWN ? "unknown" : v ? "yes" : "no";
}

static void text_suites(struct strbuf *sb, const struct dbssl_scan_result *r)
{
    for (int p = DBSSL_SCAN_NPROTO - 1; p >= 0; p--) {
        const struct dbssl_scan_suites *s = &r->suites[p];
        if (!r->protocols[p])
            continue;
        strbuf_printf(sb, "%-12s %zu suite%s, %s\n",
                      dbssl_scan_proto_name((enum dbssl_scan_proto)p), s->n, s->n == 1 ? "" : "s",
                      s->server_order == DBSSL_SCAN_UNKNOWN ? "order not tested"
                      : s->server_order                     ? "in the server's order"
                                                            : "the client's order wins");
        for (size_t i = 0; i < s->n; i++) {
            char kx[40] = "";
            if (s->v[i].kx_group[0])
                snprintf(kx, sizeof(kx), "%s %d", s->v[i].kx_group, s->v[i].kx_bits);
            strbuf_printf(sb, "  %-31s %-5s %-6s %-24s %-6s %s\n", s->v[i].name, s->v[i].kx,
                          s->v[i].auth, s->v[i].enc, s->v[i].mac, kx);
        }
    }
}

static void text_certs(struct strbuf *sb, const struct dbssl_scan_result *r, long warn_days)
{
    for (size_t i = 0; i < r->chain.n; i++) {
        const struct dbssl_certinfo *c = &r->chain.certs[i];
        enum dbssl_expiry_state st =
            dbssl_expiry_state(c->not_before, c->not_after, r->scanned_at, warn_days);
        char nb[32], na[32];
        format_rfc3339(c->not_before, nb, sizeof(nb));
        format_rfc3339(c->not_after, na, sizeof(na));
        strbuf_printf(sb, "%-12s %s\n", i == 0 ? "certificate" : "issued by", c->subject);
        if (c->sans[0])
            strbuf_printf(sb, "  %-10s %s\n", "names", c->sans);
        strbuf_printf(sb, "  %-10s %s %d bits, signed with %s by %s%s\n", "key", c->key_type,
                      c->key_bits, r->sig_alg[i], c->issuer,
                      c->self_signed ? " (self-signed)" : "");
        strbuf_printf(sb, "  %-10s %s to %s, %lld days left (%s)\n", "valid", nb, na,
                      dbssl_expiry_days_left(c->not_after, r->scanned_at),
                      dbssl_expiry_state_name(st));
    }
    if (r->chain.n > 0) {
        strbuf_printf(sb, "%-12s %zu sent; names \"%s\": %s; complete: %s; trusted (%s): %s\n",
                      "chain", r->chain.n, r->host, yes_no(r->host_matches),
                      yes_no(r->chain_complete), r->trust_store, yes_no(r->trusted));
        if (r->chain_note[0])
            strbuf_printf(sb, "  %-10s %s\n", "note", r->chain_note);
    }
}

static void text_grade(struct strbuf *sb, const struct dbssl_scan_grade *g)
{
    size_t fails = 0, warns = 0;

    for (size_t i = 0; i < g->n; i++)
        *(g->v[i].severity == DBSSL_SCAN_FAIL ? &fails : &warns) += 1;
    strbuf_printf(sb, "\nprofile %s (%s): %s, %zu failure%s, %zu warning%s\n", g->profile->name,
                  g->profile->title, g->passed ? "met" : "NOT met", fails, fails == 1 ? "" : "s",
                  warns, warns == 1 ? "" : "s");
    for (size_t i = 0; i < g->n; i++) {
        const struct dbssl_scan_finding *f = &g->v[i];
        strbuf_printf(sb, "%s: %s\n", dbssl_scan_severity_name(f->severity), f->message);
        for (size_t k = 0; k < f->n_items; k++)
            strbuf_printf(sb, "    %-31s %s\n", f->items[k].name, f->items[k].why);
        if (f->fix[0])
            strbuf_printf(sb, "  fix: %s\n", f->fix);
        if (f->hint[0])
            strbuf_printf(sb, "  hint: %s\n", f->hint);
    }
}

char *dbssl_scan_to_text(const struct dbssl_scan_result *r, const struct dbssl_scan_grade *g,
                         long warn_days)
{
    struct strbuf sb;

    strbuf_init(&sb);
    strbuf_printf(&sb, "scan of %s port %d (%s): %d handshakes in %ld ms%s\n\n", r->host, r->port,
                  r->address, r->handshakes, r->duration_ms, r->complete ? "" : ", INCOMPLETE");
    strbuf_printf(&sb, "%-12s", "protocols");
    for (int p = DBSSL_SCAN_NPROTO - 1; p >= 0; p--)
        strbuf_printf(&sb, " %s %s%s", dbssl_scan_proto_name((enum dbssl_scan_proto)p),
                      r->protocols[p] ? "yes" : "no", p ? "," : "\n");
    text_suites(&sb, r);
    strbuf_printf(&sb, "%-12s", "groups");
    for (size_t i = 0; i < r->n_groups; i++)
        strbuf_printf(&sb, " %s", r->groups[i]);
    strbuf_append(&sb, r->n_groups ? "\n" : " none found\n");
    text_certs(&sb, r, warn_days);
    if (!r->complete)
        strbuf_printf(&sb, "%-12s %s\n", "incomplete", r->incomplete);
    if (g != NULL)
        text_grade(&sb, g);
    if (sb.oom) {
        strbuf_free(&sb);
        return NULL;
    }
    return strbuf_take(&sb);
}
