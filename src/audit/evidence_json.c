/*
 * evidence_json.c - the audit's evidence as JSON and back (see audit.h).
 * One table per struct (jsonutil.h) serves both directions; the scan and
 * the server's settings have their own JSON forms, reused as they are.
 * Facts computed from others (a certificate's days left and expiry state,
 * the scan's grade) are written, never read back: they are judged again.
 */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "expiry.h"
#include "jsonutil.h"

#define T struct dbssl_audit_target
static const struct dbssl_jf target_fields[] = {
    DBSSL_JF_STR(T, host), DBSSL_JF_INT(T, port), DBSSL_JF_STR(T, dbname),
    DBSSL_JF_STR(T, user), DBSSL_JF_END,
};
#undef T

#define T struct dbssl_audit_note
static const struct dbssl_jf note_fields[] = {
    DBSSL_JF_STR(T, severity),
    DBSSL_JF_STR(T, setting),
    DBSSL_JF_STR(T, message),
    DBSSL_JF_END,
};
#undef T

#define T struct dbssl_audit_client
static const struct dbssl_jf client_fields[] = {
    DBSSL_JF_STR(T, ssl_mode),
    DBSSL_JF_BOOL(T, ssl_required),
    DBSSL_JF_STR(T, min_protocol),
    DBSSL_JF_STR(T, app_env),
    DBSSL_JF_BOOL(T, ca_configured),
    DBSSL_JF_BOOL(T, mutual_tls),
    DBSSL_JF_BOOL(T, crl_configured),
    DBSSL_JF_BOOL(T, auto_generate),
    DBSSL_JF_LLONG(T, expiry_warn_days),
    DBSSL_JF_LLONG(T, health_check_interval),
    DBSSL_JF_ARRAY(T, validation, n_validation, struct dbssl_audit_note, note_fields),
    DBSSL_JF_END,
};
#undef T

#define T struct dbssl_audit_session
static const struct dbssl_jf session_fields[] = {
    DBSSL_JF_BOOL(T, connected),
    DBSSL_JF_BOOL(T, ssl_in_use),
    DBSSL_JF_BOOL(T, server_sees_ssl),
    DBSSL_JF_BOOL(T, client_cert_sent),
    DBSSL_JF_STR_F(T, protocol, DBSSL_JF_NULLABLE),
    DBSSL_JF_STR_F(T, cipher, DBSSL_JF_NULLABLE),
    DBSSL_JF_INT(T, key_bits),
    DBSSL_JF_STR_F(T, server_version, DBSSL_JF_NULLABLE),
    DBSSL_JF_STR_F(T, server_host, DBSSL_JF_NULLABLE),
    DBSSL_JF_STR_F(T, server_port, DBSSL_JF_NULLABLE),
    DBSSL_JF_STR(T, error_class),
    DBSSL_JF_STR_F(T, error_message, DBSSL_JF_NULLABLE),
    DBSSL_JF_STR_F(T, error_detail, DBSSL_JF_NULLABLE),
    DBSSL_JF_STR_F(T, error_hint, DBSSL_JF_NULLABLE),
    DBSSL_JF_END,
};
#undef T

#define T struct dbssl_audit_cert
static const struct dbssl_jf cert_fields[] = {
    DBSSL_JF_STR(T, role),
    DBSSL_JF_STR(T, source),
    DBSSL_JF_INT(T, position),
    DBSSL_JF_STR(T, subject),
    DBSSL_JF_STR_F(T, issuer, DBSSL_JF_NULLABLE),
    DBSSL_JF_STR(T, serial),
    DBSSL_JF_STR_F(T, fingerprint_sha256, DBSSL_JF_NULLABLE),
    DBSSL_JF_STR_F(T, key_type, DBSSL_JF_NULLABLE),
    DBSSL_JF_INT(T, key_bits),
    DBSSL_JF_TIME(T, not_before),
    DBSSL_JF_TIME(T, not_after),
    DBSSL_JF_BOOL(T, is_ca),
    DBSSL_JF_BOOL(T, self_signed),
    DBSSL_JF_BOOL(T, generated),
    DBSSL_JF_END,
};
#undef T

#define T struct dbssl_audit_file
static const struct dbssl_jf file_fields[] = {
    DBSSL_JF_STR(T, role),
    DBSSL_JF_STR(T, setting),
    DBSSL_JF_STR(T, path),
    DBSSL_JF_BOOL(T, present),
    DBSSL_JF_BOOL(T, regular),
    DBSSL_JF_MODE(T, mode),
    DBSSL_JF_LLONG(T, uid),
    DBSSL_JF_STR_F(T, error, DBSSL_JF_NULLABLE),
    DBSSL_JF_END,
};
#undef T

#define T struct dbssl_audit_evidence
static const struct dbssl_jf evidence_fields[] = {
    DBSSL_JF_TIME(T, generated_at),
    DBSSL_JF_STR(T, dbssl_version),
    DBSSL_JF_STR(T, profile),
    DBSSL_JF_OBJECT(T, target, target_fields),
    DBSSL_JF_OBJECT(T, client, client_fields),
    DBSSL_JF_OBJECT(T, session, session_fields),
    DBSSL_JF_ARRAY(T, certs, n_certs, struct dbssl_audit_cert, cert_fields),
    DBSSL_JF_ARRAY(T, files, n_files, struct dbssl_audit_file, file_fields),
    DBSSL_JF_STR_F(T, scan_error, DBSSL_JF_NULLABLE),
    DBSSL_JF_BOOL(T, scan_no_tls),
    DBSSL_JF_STR_F(T, scan_hint, DBSSL_JF_NULLABLE),
    DBSSL_JF_STR_F(T, server_error, DBSSL_JF_NULLABLE),
    DBSSL_JF_BOOL(T, server_read),
    DBSSL_JF_END,
};
#undef T

json_t *dbssl_audit_evidence_to_json(const struct dbssl_audit_evidence *ev,
                                     const struct dbssl_scan_grade *g)
{
    json_t *j = dbssl_jf_to_json(evidence_fields, ev), *certs;
    size_t i;
    json_t *c;

    if (j == NULL)
        return NULL;
    certs = json_object_get(j, "certs");
    json_array_foreach(certs, i, c)
    {
        const struct dbssl_audit_cert *r = &ev->certs[i];
        enum dbssl_expiry_state st = dbssl_expiry_state(
            r->not_before, r->not_after, ev->generated_at, (long)ev->client.expiry_warn_days);
        json_object_set_new(c, "days_left",
                            json_integer(dbssl_expiry_days_left(r->not_after, ev->generated_at)));
        json_object_set_new(c, "expiry", json_string(dbssl_expiry_state_name(st)));
    }
    json_object_set_new(j, "scan",
                        ev->scan
                            ? dbssl_scan_to_json(ev->scan, g, (long)ev->client.expiry_warn_days)
                            : json_null());
    json_object_set_new(j, "server",
                        ev->server_read ? dbssl_serverinfo_to_json(&ev->server) : json_null());
    json_object_set_new(j, "sessions", dbssl_sessions_to_json(&ev->sessions));
    return j;
}

int dbssl_audit_evidence_from_json(const json_t *j, struct dbssl_audit_evidence *ev,
                                   struct dbssl_error *err)
{
    const json_t *scan = json_object_get(j, "scan"), *server = json_object_get(j, "server");

    memset(ev, 0, sizeof(*ev));
    if (dbssl_jf_from_json(evidence_fields, j, ev, "audit evidence", err) != 0)
        goto fail;
    if (json_is_object(scan) && (ev->scan = dbssl_scan_from_json(scan, err)) == NULL)
        goto fail;
    if (ev->server_read && dbssl_serverinfo_from_json(server, &ev->server, err) != 0)
        goto fail;
    /* evidence kept before sessions were read has none: "not checked" */
    if (dbssl_sessions_from_json(json_object_get(j, "sessions"), &ev->sessions, err) != 0)
        goto fail;
    return 0;
fail:
    dbssl_audit_evidence_free(ev);
    return -1;
}

void dbssl_audit_evidence_free(struct dbssl_audit_evidence *ev)
{
    if (ev == NULL)
        return;
    dbssl_jf_free(evidence_fields, ev);
    dbssl_scan_result_free(ev->scan);
    ev->scan = NULL;
    dbssl_serverinfo_free(&ev->server);
}
