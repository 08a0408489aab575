/*
 * serverinfo.c - the server's TLS settings and pg_hba.conf rules, read with
 * SQL over an existing connection (see serverinfo.h).
 *
 * Privileges are asked for first (is the role a superuser, does it have
 * pg_read_all_settings, may it read pg_hba_file_rules), so that a setting
 * missing from pg_settings can be told apart: hidden from this role, or
 * absent from this server version.  Only constant SQL is sent.
 */
#include "serverinfo.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_int.h"
#include "jsonutil.h"
#include "clock.h"
#include "util.h"

const char *const dbssl_si_state_names[] = {"read", "not_checked", "absent", "failed", NULL};

/* What the server's TLS posture depends on, in the order reports show them. */
static const char *const setting_names[DBSSL_SERVERINFO_NSETTINGS] = {
    "ssl",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "ssl_ciphers",
    "ssl_ecdh_curve",
    "ssl_prefer_server_ciphers",
    "ssl_ca_file",
    "ssl_crl_file",
    "ssl_crl_dir",
    "password_encryption",
};

static const char PRIV_SQL[] =
    "select current_user, current_setting('is_superuser') = 'on', "
    "pg_catalog.pg_has_role(current_user, 'pg_read_all_settings', 'USAGE'), "
    "current_setting('server_version_num')::int, "
    "has_table_privilege('pg_catalog.pg_hba_file_rules', 'SELECT') and "
    "has_function_privilege('pg_catalog.pg_hba_file_rules()', 'EXECUTE')";

static const char SETTINGS_SQL[] =
    "select name, setting from pg_catalog.pg_settings where name in ('ssl', "
    "'ssl_min_protocol_version', 'ssl_max_protocol_version', 'ssl_ciphers', 'ssl_ecdh_curve', "
    "'ssl_prefer_server_ciphers', 'ssl_ca_file', 'ssl_crl_file', 'ssl_crl_dir', "
    "'password_encryption')";

/* one more than the cap, to know that there were more */
static const char HBA_SQL[] =
    "select line_number, type, coalesce(array_to_string(database, ','), ''), "
    "coalesce(array_to_string(user_name, ','), ''), coalesce(address, ''), "
    "coalesce(netmask, ''), coalesce(auth_method, ''), "
    "coalesce(array_to_string(options, ' '), ''), coalesce(error, '') "
    "from pg_catalog.pg_hba_file_rules order by line_number limit 2049";

/* A megabyte is far beyond any pg_hba.conf; a larger one is rebuilt from the rules instead. */
static const char HBA_TEXT_SQL[] =
    "select pg_catalog.pg_read_file(current_setting('hba_file'), 0, 1048576)";

_Static_assert(DBSSL_SERVERINFO_MAX_RULES == 2048, "HBA_SQL's limit is the cap plus one");

static void copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

/* Runs sql; on a lost or hung connection sets err and returns -1, on an SQL error 1. */
static int query(PGconn *conn, const char *sql, long timeout_s, PGresult **res, char *why,
                 size_t whylen, struct dbssl_error *err)
{
    char detail[512];
    int rc = dbssl_conn_exec_bounded(conn, sql, timeout_s, res);

    if (rc == 0)
        return 0;
    if (rc == -2) {
        dbssl_error_set(err, DBSSL_ERR_CONNECT,
                        "Check the server's load; raise DB_CONNECT_TIMEOUT for a slow server.",
                        "the server did not answer a query on its settings within %ld s",
                        timeout_s);
        return -1;
    }
    dbssl_conn_message_one_line(detail, sizeof(detail), PQerrorMessage(conn));
    if (PQstatus(conn) != CONNECTION_OK) {
        dbssl_error_setx(err, DBSSL_ERR_CONNECT, detail, NULL,
                         "lost the connection while reading the server's settings");
        return -1;
    }
    copy(why, whylen, detail);
    return 1;
}

bool dbssl_hba_netmask_parse(const char *mask, struct dbssl_hba_netmask *out)
{
    unsigned char b[16];
    int ones = 0, lead = -1;

    if (inet_pton(AF_INET, mask, b) == 1)
        out->bytes = 4;
    else if (inet_pton(AF_INET6, mask, b) == 1)
        out->bytes = 16;
    else
        return false;
    for (int i = 0; i < (int)out->bytes * 8; i++) {
        if ((b[i / 8] >> (7 - i % 8)) & 1)
            ones++;
        else if (lead < 0)
            lead = i;
    }
    out->leading_ones = lead < 0 ? ones : lead;
    /* contiguous: no one bit after the first zero */
    out->prefix = ones == out->leading_ones ? ones : -1;
    return true;
}

void dbssl_hba_rule_address(const struct dbssl_hba_rule *r, char *out, size_t len)
{
    struct dbssl_hba_netmask m;

    if (r->address[0] && r->netmask[0] && dbssl_hba_netmask_parse(r->netmask, &m) && m.prefix >= 0)
        snprintf(out, len, "%s/%d", r->address, m.prefix);
    else if (r->address[0] && r->netmask[0])
        snprintf(out, len, "%s %s", r->address, r->netmask);
    else
        snprintf(out, len, "%s", r->address);
}

void dbssl_hba_rule_rebuild(const struct dbssl_hba_rule *r, char *out, size_t len)
{
    char addr[400];

    if (r->type[0] == '\0') { /* PostgreSQL could not parse it: only the error is known */
        snprintf(out, len, "(a line PostgreSQL cannot parse)");
        return;
    }
    dbssl_hba_rule_address(r, addr, sizeof(addr));
    snprintf(out, len, "%s %s %s%s%s %s%s%s", r->type, r->database, r->user_name,
             addr[0] ? " " : "", addr, r->auth_method, r->options[0] ? " " : "", r->options);
}

static int read_settings(PGconn *conn, long timeout_s, struct dbssl_serverinfo *si,
                         struct dbssl_error *err)
{
    PGresult *res = NULL;
    char why[512] = "";
    int rc;

    si->settings = calloc(DBSSL_SERVERINFO_NSETTINGS, sizeof(*si->settings));
    if (si->settings == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return -1;
    }
    si->n_settings = DBSSL_SERVERINFO_NSETTINGS;
    for (size_t i = 0; i < si->n_settings; i++) {
        struct dbssl_server_setting *s = &si->settings[i];
        copy(s->name, sizeof(s->name), setting_names[i]);
        /* what pg_settings does not list: hidden from this role, or not in this version */
        if (si->superuser || si->read_all_settings) {
            s->state = DBSSL_SI_ABSENT;
        } else {
            s->state = DBSSL_SI_NOT_CHECKED;
            copy(s->privilege, sizeof(s->privilege), DBSSL_SI_PRIV_SETTINGS);
        }
    }
    if ((rc = query(conn, SETTINGS_SQL, timeout_s, &res, why, sizeof(why), err)) < 0)
        return -1;
    for (size_t i = 0; i < si->n_settings; i++) {
        struct dbssl_server_setting *s = &si->settings[i];
        if (rc != 0) {
            s->state = DBSSL_SI_FAILED;
            copy(s->value, sizeof(s->value), why);
            continue;
        }
        for (int row = 0; row < PQntuples(res); row++) {
            if (strcmp(PQgetvalue(res, row, 0), s->name) != 0)
                continue;
            s->state = DBSSL_SI_READ;
            s->privilege[0] = '\0';
            copy(s->value, sizeof(s->value), PQgetvalue(res, row, 1));
        }
    }
    PQclear(res);
    return 0;
}

/* The file's own text of each rule's line, where the role may read the file. */
static void read_hba_text(PGconn *conn, long timeout_s, struct dbssl_serverinfo *si)
{
    PGresult *res = NULL;
    char why[256];
    const char *text;
    int line = 1;

    if (!si->superuser || query(conn, HBA_TEXT_SQL, timeout_s, &res, why, sizeof(why), NULL) != 0)
        return;
    text = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "";
    for (const char *p = text; *p != '\0'; line++) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        for (size_t i = 0; i < si->n_hba; i++) {
            struct dbssl_hba_rule *r = &si->hba[i];
            if (r->line_number != line)
                continue;
            snprintf(r->line, sizeof(r->line), "%.*s",
                     (int)(n < sizeof(r->line) ? n : sizeof(r->line) - 1), p);
            r->verbatim = true;
        }
        p += n + (nl ? 1 : 0);
    }
    PQclear(res);
}

static int read_hba(PGconn *conn, long timeout_s, bool allowed, struct dbssl_serverinfo *si,
                    struct dbssl_error *err)
{
    PGresult *res = NULL;
    int rc, rows;

    if (!allowed) {
        si->hba_state = DBSSL_SI_NOT_CHECKED;
        snprintf(si->hba_note, sizeof(si->hba_note),
                 "role \"%s\" may not read pg_hba_file_rules: it needs %s", si->role,
                 DBSSL_SI_PRIV_HBA);
        return 0;
    }
    if ((rc = query(conn, HBA_SQL, timeout_s, &res, si->hba_note, sizeof(si->hba_note), err)) < 0)
        return -1;
    if (rc != 0) {
        si->hba_state = DBSSL_SI_FAILED;
        return 0;
    }
    rows = PQntuples(res);
    si->hba_truncated = rows > DBSSL_SERVERINFO_MAX_RULES;
    if (si->hba_truncated)
        rows = DBSSL_SERVERINFO_MAX_RULES;
    if (rows > 0 && (si->hba = calloc((size_t)rows, sizeof(*si->hba))) == NULL) {
        PQclear(res);
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return -1;
    }
    for (int i = 0; i < rows; i++) {
        struct dbssl_hba_rule *r = &si->hba[si->n_hba++];
        long n;
        /* every row has its line number; 0 (none) should one ever not */
        r->line_number = parse_long(PQgetvalue(res, i, 0), 0, 1L << 30, &n) ? (int)n : 0;
        copy(r->type, sizeof(r->type), PQgetvalue(res, i, 1));
        copy(r->database, sizeof(r->database), PQgetvalue(res, i, 2));
        copy(r->user_name, sizeof(r->user_name), PQgetvalue(res, i, 3));
        copy(r->address, sizeof(r->address), PQgetvalue(res, i, 4));
        copy(r->netmask, sizeof(r->netmask), PQgetvalue(res, i, 5));
        copy(r->auth_method, sizeof(r->auth_method), PQgetvalue(res, i, 6));
        copy(r->options, sizeof(r->options), PQgetvalue(res, i, 7));
        copy(r->error, sizeof(r->error), PQgetvalue(res, i, 8));
        dbssl_hba_rule_rebuild(r, r->line, sizeof(r->line));
    }
    PQclear(res);
    si->hba_state = DBSSL_SI_READ;
    read_hba_text(conn, timeout_s, si);
    return 0;
}

int dbssl_serverinfo_read(struct pg_conn *conn, long timeout_s, struct dbssl_serverinfo *out,
                          struct dbssl_error *err)
{
    PGresult *res = NULL;
    char why[512] = "";
    bool hba_allowed = false;
    int rc;

    memset(out, 0, sizeof(*out));
    out->read_at = dbssl_now();
    if ((rc = query(conn, PRIV_SQL, timeout_s, &res, why, sizeof(why), err)) < 0)
        goto fail;
    if (rc == 0 && PQntuples(res) == 1) {
        long v;
        copy(out->role, sizeof(out->role), PQgetvalue(res, 0, 0));
        out->superuser = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
        out->read_all_settings = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
        /* 0: unknown, as before the query */
        out->server_version_num = parse_long(PQgetvalue(res, 0, 3), 0, 10000000, &v) ? (int)v : 0;
        hba_allowed = out->superuser || strcmp(PQgetvalue(res, 0, 4), "t") == 0;
    }
    PQclear(res);
    if (read_settings(conn, timeout_s, out, err) != 0 ||
        read_hba(conn, timeout_s, hba_allowed, out, err) != 0)
        goto fail;
    if (rc != 0) {
        /* a server too old for the privilege functions: nothing is known to be readable */
        out->hba_state = DBSSL_SI_FAILED;
        copy(out->hba_note, sizeof(out->hba_note), why);
    }
    return 0;
fail:
    dbssl_serverinfo_free(out);
    return -1;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static const struct dbssl_jf setting_fields[] = {
    DBSSL_JF_STR(struct dbssl_server_setting, name),
    DBSSL_JF_ENUM(struct dbssl_server_setting, state, dbssl_si_state_names),
    DBSSL_JF_STR_F(struct dbssl_server_setting, value, DBSSL_JF_NULLABLE),
    DBSSL_JF_STR_F(struct dbssl_server_setting, privilege, DBSSL_JF_NULLABLE),
    DBSSL_JF_END,
};

static const struct dbssl_jf rule_fields[] = {
    DBSSL_JF_INT(struct dbssl_hba_rule, line_number),
    DBSSL_JF_STR(struct dbssl_hba_rule, type),
    DBSSL_JF_STR(struct dbssl_hba_rule, database),
    DBSSL_JF_STR(struct dbssl_hba_rule, user_name),
    DBSSL_JF_STR_F(struct dbssl_hba_rule, address, DBSSL_JF_NULLABLE),
    DBSSL_JF_STR_F(struct dbssl_hba_rule, netmask, DBSSL_JF_NULLABLE),
    DBSSL_JF_STR(struct dbssl_hba_rule, auth_method),
    DBSSL_JF_STR_F(struct dbssl_hba_rule, options, DBSSL_JF_NULLABLE),
    DBSSL_JF_STR_F(struct dbssl_hba_rule, error, DBSSL_JF_NULLABLE),
    DBSSL_JF_STR(struct dbssl_hba_rule, line),
    DBSSL_JF_BOOL(struct dbssl_hba_rule, verbatim),
    DBSSL_JF_END,
};

static const struct dbssl_jf serverinfo_fields[] = {
    DBSSL_JF_TIME(struct dbssl_serverinfo, read_at),
    DBSSL_JF_STR(struct dbssl_serverinfo, role),
    DBSSL_JF_BOOL(struct dbssl_serverinfo, superuser),
    DBSSL_JF_BOOL(struct dbssl_serverinfo, read_all_settings),
    DBSSL_JF_INT(struct dbssl_serverinfo, server_version_num),
    DBSSL_JF_ARRAY(struct dbssl_serverinfo, settings, n_settings, struct dbssl_server_setting,
                   setting_fields),
    DBSSL_JF_ENUM(struct dbssl_serverinfo, hba_state, dbssl_si_state_names),
    DBSSL_JF_STR_F(struct dbssl_serverinfo, hba_note, DBSSL_JF_NULLABLE),
    DBSSL_JF_BOOL(struct dbssl_serverinfo, hba_truncated),
    DBSSL_JF_ARRAY(struct dbssl_serverinfo, hba, n_hba, struct dbssl_hba_rule, rule_fields),
    DBSSL_JF_END,
};

json_t *dbssl_serverinfo_to_json(const struct dbssl_serverinfo *si)
{
    return dbssl_jf_to_json(serverinfo_fields, si);
}

int dbssl_serverinfo_from_json(const json_t *j, struct dbssl_serverinfo *out,
                               struct dbssl_error *err)
{
    memset(out, 0, sizeof(*out));
    if (dbssl_jf_from_json(serverinfo_fields, j, out, "server settings", err) != 0) {
        dbssl_serverinfo_free(out);
        return -1;
    }
    return 0;
}

void dbssl_serverinfo_free(struct dbssl_serverinfo *si)
{
    if (si != NULL)
        dbssl_jf_free(serverinfo_fields, si);
}

bool dbssl_serverinfo_due(long long read_at, unsigned checks, long long now)
{
    return read_at == 0 || checks >= DBSSL_SERVERINFO_REFRESH_CHECKS ||
           now - read_at >= DBSSL_SERVERINFO_REFRESH_SECONDS || now < read_at;
}

const struct dbssl_server_setting *dbssl_serverinfo_setting(const struct dbssl_serverinfo *si,
                                                            const char *name)
{
    for (size_t i = 0; si != NULL && i < si->n_settings; i++)
        if (strcmp(si->settings[i].name, name) == 0)
            return &si->settings[i];
    return NULL;
}
