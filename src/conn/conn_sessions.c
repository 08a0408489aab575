/*
 * conn_sessions.c - the watched sessions' TLS, counted from
 * pg_stat_activity and pg_stat_ssl (see conn_sessions.h).
 *
 * Two queries: first whether the role can see every session it watches
 * (pg_read_all_stats, superuser, or the privileges of each watched role;
 * applications can run under any role), then the sessions themselves.  A
 * row PostgreSQL hides anyway (backend_start null) also makes the result
 * "not checked".  The lists travel as query parameters, never pasted into
 * SQL.
 */
#include "conn_sessions.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conn_int.h"
#include "tlsver.h"
#include "jsonutil.h"
#include "util.h"

/* The comma lists $1 (roles) and $2 (applications) as trimmed arrays. */
#define WATCH_ARRAYS                                                                               \
    "array(select pg_catalog.btrim(x) from pg_catalog.unnest(pg_catalog.string_to_array($1, "      \
    "',')) x) as roles, array(select pg_catalog.btrim(x) from "                                    \
    "pg_catalog.unnest(pg_catalog.string_to_array($2, ',')) x) as apps"

static const char PRIV_SQL[] =
    "with w as (select " WATCH_ARRAYS ") "
    "select session_user::text, "
    "pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') or "
    "current_setting('is_superuser') = 'on', "
    "pg_catalog.cardinality(w.apps) = 0 and coalesce((select "
    "bool_and(pg_catalog.pg_has_role(current_user, r.oid, 'USAGE')) from pg_catalog.pg_roles r "
    "where r.rolname::text = any(w.roles)), true) from w";

_Static_assert(DBSSL_SESSIONS_MAX_ROWS == 100000, "ROWS_SQL's limit is the cap");

static const char ROWS_SQL[] =
    "with w as (select " WATCH_ARRAYS ") "
    "select coalesce(pg_catalog.host(a.client_addr), ''), coalesce(a.application_name, ''), "
    "coalesce(a.usename::text, ''), coalesce(extract(epoch from a.backend_start)::bigint, 0), "
    "coalesce(a.client_port = -1, false), coalesce(s.ssl, false), coalesce(s.version, ''), "
    "coalesce(s.client_dn, '') <> '', a.backend_start is null "
    "from pg_catalog.pg_stat_activity a left join pg_catalog.pg_stat_ssl s on s.pid = a.pid, w "
    "where a.pid <> pg_catalog.pg_backend_pid() "
    "and coalesce(a.backend_type, 'client backend') = 'client backend' "
    "and ((pg_catalog.cardinality(w.roles) = 0 and pg_catalog.cardinality(w.apps) = 0 "
    "and a.usename = session_user) or a.usename::text = any(w.roles) "
    "or a.application_name = any(w.apps)) "
    "order by a.backend_start limit 100000";

const char *dbssl_sessions_state_name(int state)
{
    switch (state) {
    case DBSSL_SESSIONS_CHECKED:
        return "checked";
    case DBSSL_SESSIONS_NOT_CHECKED:
        return "not_checked";
    case DBSSL_SESSIONS_FAILED:
        return "failed";
    default:
        return "unread";
    }
}

const char *dbssl_session_offence_name(int reason)
{
    return reason == DBSSL_SESSION_BELOW_MIN_PROTOCOL ? "below_min_protocol" : "plaintext";
}

void dbssl_sessions_begin(struct dbssl_sessions *s)
{
    memset(s, 0, sizeof(*s));
    s->state = DBSSL_SESSIONS_CHECKED;
}

static void count_version(struct dbssl_sessions *s, const char *version)
{
    size_t i;

    for (i = 0; i < s->n_versions; i++)
        if (strcmp(s->by_version[i].version, version) == 0)
            break;
    if (i == s->n_versions) {
        if (s->n_versions == DBSSL_SESSIONS_MAX_VERSIONS)
            return;
        snprintf(s->by_version[i].version, sizeof(s->by_version[i].version), "%s", version);
        s->n_versions++;
    }
    s->by_version[i].n++;
}

static void offend(struct dbssl_sessions *s, const struct dbssl_session_row *row, int reason)
{
    struct dbssl_session_offender *o;

    if (s->n_offenders == DBSSL_SESSIONS_MAX_OFFENDERS)
        return;
    o = &s->offenders[s->n_offenders++];
    snprintf(o->client_addr, sizeof(o->client_addr), "%s", row->client_addr);
    snprintf(o->application_name, sizeof(o->application_name), "%s", row->application_name);
    snprintf(o->role, sizeof(o->role), "%s", row->role);
    snprintf(o->version, sizeof(o->version), "%s", row->ssl ? row->version : "");
    o->backend_start = row->backend_start;
    o->reason = reason;
}

void dbssl_sessions_add(struct dbssl_sessions *s, const struct dbssl_session_row *row,
                        enum dbssl_tls_version min)
{
    int lowest =
        dbssl_tlsv_from_name(dbssl_option_choice(OPT_DB_SSL_MIN_PROTOCOL_VERSION, (int)min));
    int v;

    s->total++;
    /* a Unix-domain socket never leaves the machine, and TLS cannot apply to it */
    if (row->local) {
        s->local++;
        return;
    }
    if (!row->ssl) {
        s->plaintext++;
        offend(s, row, DBSSL_SESSION_PLAINTEXT);
        return;
    }
    s->encrypted++;
    count_version(s, row->version[0] ? row->version : "unknown");
    if (!row->client_cert)
        s->without_client_certificate++;
    /* a version we do not know is judged new enough */
    v = dbssl_tlsv_from_name(row->version);
    if (v >= 0 && v < lowest) {
        s->below_min_protocol++;
        offend(s, row, DBSSL_SESSION_BELOW_MIN_PROTOCOL);
    }
}

/* Marks s as not read for why (a query's message), with hint. */
static void not_read(struct dbssl_sessions *s, int state, const char *why, const char *hint)
{
    memset(s, 0, sizeof(*s));
    s->state = state;
    snprintf(s->note, sizeof(s->note), "%s", why);
    snprintf(s->hint, sizeof(s->hint), "%s", hint);
}

/* Runs sql with the two lists; -1 and err when the connection failed, 1 on an SQL error. */
static int query(PGconn *conn, const struct dbssl_config *cfg, const char *sql, PGresult **res,
                 struct dbssl_sessions *out, struct dbssl_error *err)
{
    const char *params[2] = {cfg->watch_roles ? cfg->watch_roles : "",
                             cfg->watch_applications ? cfg->watch_applications : ""};
    char detail[512];
    int rc = dbssl_conn_exec_params_bounded(conn, sql, 2, params, cfg->connect_timeout, res);

    if (rc == 0)
        return 0;
    if (rc == -2) {
        not_read(out, DBSSL_SESSIONS_FAILED, "the server did not answer in time",
                 "Check the server's load; raise DB_CONNECT_TIMEOUT for a slow server.");
        dbssl_error_set(err, DBSSL_ERR_CONNECT, out->hint,
                        "the server did not answer a query on the watched sessions within %ld s",
                        cfg->connect_timeout);
        return -1;
    }
    dbssl_conn_message_one_line(detail, sizeof(detail), PQerrorMessage(conn));
    not_read(out, DBSSL_SESSIONS_FAILED, detail,
             "Read the PostgreSQL server log for the cause of the failed query.");
    if (PQstatus(conn) != CONNECTION_OK) {
        dbssl_error_setx(err, DBSSL_ERR_CONNECT, detail, NULL,
                         "lost the connection while reading the watched sessions");
        return -1;
    }
    return 1;
}

static bool is_true(const PGresult *res, int row, int col)
{
    return strcmp(PQgetvalue(res, row, col), "t") == 0;
}

/* Why the role cannot see them all, and the GRANT that fixes it. */
static void not_visible(struct dbssl_sessions *out, const char *role, const char *why)
{
    char hint[512];

    snprintf(hint, sizeof(hint),
             "Let dbssl's role see every session: GRANT pg_read_all_stats TO \"%s\"; (or watch "
             "only roles it belongs to with DB_SSL_WATCH_ROLES).",
             role);
    not_read(out, DBSSL_SESSIONS_NOT_CHECKED, why, hint);
}

int dbssl_sessions_read(PGconn *conn, const struct dbssl_config *cfg, struct dbssl_sessions *out,
                        struct dbssl_error *err)
{
    PGresult *res = NULL;
    char role[DBSSL_PG_NAME_BUF];
    unsigned hidden = 0;
    int rc;

    if ((rc = query(conn, cfg, PRIV_SQL, &res, out, err)) != 0)
        return rc < 0 ? -1 : 0;
    if (PQntuples(res) != 1) {
        not_read(out, DBSSL_SESSIONS_FAILED, "the privilege query returned no row",
                 "Read the PostgreSQL server log for the cause of the failed query.");
        PQclear(res);
        return 0;
    }
    snprintf(role, sizeof(role), "%s", PQgetvalue(res, 0, 0));
    if (!is_true(res, 0, 1) && !is_true(res, 0, 2)) {
        char why[256];
        snprintf(why, sizeof(why),
                 "role \"%s\" may not see the sessions of every watched %s: it needs "
                 "pg_read_all_stats",
                 role, cfg->watch_applications ? "application" : "role");
        not_visible(out, role, why);
        PQclear(res);
        return 0;
    }
    PQclear(res);
    res = NULL;
    if ((rc = query(conn, cfg, ROWS_SQL, &res, out, err)) != 0)
        return rc < 0 ? -1 : 0;
    dbssl_sessions_begin(out);
    for (int i = 0; i < PQntuples(res); i++) {
        struct dbssl_session_row row = {PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                                        PQgetvalue(res, i, 2), 0,
                                        is_true(res, i, 4),    is_true(res, i, 5),
                                        PQgetvalue(res, i, 6), is_true(res, i, 7)};
        long start;
        if (is_true(res, i, 8)) {
            hidden++;
            continue;
        }
        if (parse_long(PQgetvalue(res, i, 3), 0, 1L << 40, &start))
            row.backend_start = start;
        dbssl_sessions_add(out, &row, cfg->min_protocol);
    }
    PQclear(res);
    if (hidden > 0) {
        char why[256];
        snprintf(why, sizeof(why), "%u watched session%s hidden from role \"%s\"", hidden,
                 hidden == 1 ? " is" : "s are", role);
        not_visible(out, role, why);
    }
    return 0;
}

/* ---- every session of the server (a fleet probe) ------------------------------------ */

/*
 * Client sessions over TLS, plaintext over TCP (a Unix socket is not a
 * network hop), and those the role may not see (pg_stat_activity hides
 * another role's session, backend_type included, from a role without
 * pg_read_all_stats: a process attached to a database and a role is counted
 * as one).
 */
static const char CENSUS_SQL[] =
    "select count(*) filter (where backend_type = 'client backend' and ssl), "
    "count(*) filter (where backend_type = 'client backend' and not ssl and client_port > 0), "
    "count(*) filter (where backend_type is null and datid is not null and usesysid is not null) "
    "from pg_catalog.pg_stat_get_activity(NULL)";

bool dbssl_sessions_census(struct pg_conn *conn, long timeout_s, struct dbssl_sessions_census *out)
{
    PGresult *res = NULL;
    long v[3];
    bool ok = false;

    out->tls = out->plain = out->unknown = -1;
    if (timeout_s < 1 || dbssl_conn_exec_bounded(conn, CENSUS_SQL, timeout_s, &res) != 0)
        goto out;
    if (PQntuples(res) != 1 || PQnfields(res) != 3)
        goto out;
    for (int i = 0; i < 3; i++)
        if (!parse_long(PQgetvalue(res, 0, i), 0, 1L << 30, &v[i]))
            goto out;
    out->tls = v[0];
    out->plain = v[1];
    out->unknown = v[2];
    ok = true;
out:
    PQclear(res);
    return ok;
}

/* ---- the JSON form ------------------------------------------------------------------ */

static json_t *count_or_null(bool checked, unsigned n)
{
    return checked ? json_integer((json_int_t)n) : json_null();
}

static json_t *text_or_null(const char *s)
{
    return s[0] ? dbssl_json_str(s) : json_null();
}

json_t *dbssl_sessions_to_json(const struct dbssl_sessions *ss)
{
    bool checked = ss->state == DBSSL_SESSIONS_CHECKED;
    json_t *versions = checked ? json_object() : json_null();
    json_t *offenders = checked ? json_array() : json_null();

    if (ss->state == DBSSL_SESSIONS_UNREAD) {
        json_decref(versions);
        json_decref(offenders);
        return json_null();
    }
    for (size_t i = 0; checked && i < ss->n_versions; i++)
        json_object_set_new(versions, ss->by_version[i].version,
                            json_integer((json_int_t)ss->by_version[i].n));
    for (size_t i = 0; checked && i < ss->n_offenders; i++) {
        const struct dbssl_session_offender *o = &ss->offenders[i];
        json_array_append_new(offenders, json_pack("{s:o, s:o, s:o, s:o, s:o, s:s}", "client_addr",
                                                   text_or_null(o->client_addr), "application_name",
                                                   dbssl_json_str(o->application_name), "role",
                                                   dbssl_json_str(o->role), "backend_start",
                                                   dbssl_json_time(o->backend_start), "ssl_version",
                                                   text_or_null(o->version), "reason",
                                                   dbssl_session_offence_name(o->reason)));
    }
    return json_pack(
        "{s:b, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "checked", checked, "state",
        dbssl_sessions_state_name(ss->state), "reason",
        checked ? json_null() : dbssl_json_str(ss->note), "hint",
        checked ? json_null() : dbssl_json_str(ss->hint), "total",
        count_or_null(checked, ss->total), "encrypted", count_or_null(checked, ss->encrypted),
        "plaintext", count_or_null(checked, ss->plaintext), "below_min_protocol",
        count_or_null(checked, ss->below_min_protocol), "without_client_certificate",
        count_or_null(checked, ss->without_client_certificate), "local",
        count_or_null(checked, ss->local), "by_version", versions, "offenders", offenders);
}

/* Reading back: the first field that is missing or of the wrong type names itself. */
struct reader {
    const char *bad;
};

static const char *get_text(struct reader *r, const json_t *j, const char *name, bool nullable)
{
    const json_t *v = json_object_get(j, name);

    if (json_is_string(v))
        return json_string_value(v);
    if (nullable && json_is_null(v))
        return "";
    if (r->bad == NULL)
        r->bad = name;
    return "";
}

static unsigned get_count(struct reader *r, const json_t *j, const char *name)
{
    const json_t *v = json_object_get(j, name);

    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= UINT32_MAX)
        return (unsigned)json_integer_value(v);
    if (r->bad == NULL)
        r->bad = name;
    return 0;
}

static long long get_time(struct reader *r, const json_t *j, const char *name)
{
    long long t = 0;
    const char *s = get_text(r, j, name, true);

    if (s[0] && !parse_rfc3339(s, &t) && r->bad == NULL)
        r->bad = name;
    return t;
}

static void read_offender(struct reader *r, const json_t *o, struct dbssl_session_offender *out)
{
    const char *reason = get_text(r, o, "reason", false);

    snprintf(out->client_addr, sizeof(out->client_addr), "%s", get_text(r, o, "client_addr", true));
    snprintf(out->application_name, sizeof(out->application_name), "%s",
             get_text(r, o, "application_name", false));
    snprintf(out->role, sizeof(out->role), "%s", get_text(r, o, "role", false));
    snprintf(out->version, sizeof(out->version), "%s", get_text(r, o, "ssl_version", true));
    out->backend_start = get_time(r, o, "backend_start");
    out->reason = strcmp(reason, dbssl_session_offence_name(DBSSL_SESSION_BELOW_MIN_PROTOCOL)) == 0
                      ? DBSSL_SESSION_BELOW_MIN_PROTOCOL
                      : DBSSL_SESSION_PLAINTEXT;
}

static void read_counts(struct reader *r, const json_t *j, struct dbssl_sessions *out)
{
    const json_t *versions = json_object_get(j, "by_version"), *v, *o;
    const char *key;
    size_t i;

    out->total = get_count(r, j, "total");
    out->encrypted = get_count(r, j, "encrypted");
    out->plaintext = get_count(r, j, "plaintext");
    out->below_min_protocol = get_count(r, j, "below_min_protocol");
    out->without_client_certificate = get_count(r, j, "without_client_certificate");
    out->local = get_count(r, j, "local");
    if (!json_is_object(versions) && r->bad == NULL)
        r->bad = "by_version";
    json_object_foreach((json_t *)versions, key, v)
    {
        if (out->n_versions == DBSSL_SESSIONS_MAX_VERSIONS)
            break;
        snprintf(out->by_version[out->n_versions].version,
                 sizeof(out->by_version[out->n_versions].version), "%s", key);
        out->by_version[out->n_versions++].n = get_count(r, versions, key);
    }
    if (!json_is_array(json_object_get(j, "offenders")) && r->bad == NULL)
        r->bad = "offenders";
    json_array_foreach(json_object_get(j, "offenders"), i, o)
    {
        if (out->n_offenders < DBSSL_SESSIONS_MAX_OFFENDERS)
            read_offender(r, o, &out->offenders[out->n_offenders++]);
    }
}

int dbssl_sessions_from_json(const json_t *j, struct dbssl_sessions *out, struct dbssl_error *err)
{
    struct reader r = {NULL};
    const char *state;

    memset(out, 0, sizeof(*out));
    if (j == NULL || json_is_null(j))
        return 0;
    if (!json_is_object(j)) {
        r.bad = "sessions";
        goto bad;
    }
    state = get_text(&r, j, "state", false);
    for (int s = DBSSL_SESSIONS_CHECKED; s <= DBSSL_SESSIONS_FAILED; s++)
        if (strcmp(state, dbssl_sessions_state_name(s)) == 0)
            out->state = s;
    if (out->state == DBSSL_SESSIONS_UNREAD && r.bad == NULL)
        r.bad = "state";
    if (out->state == DBSSL_SESSIONS_CHECKED) {
        read_counts(&r, j, out);
    } else {
        snprintf(out->note, sizeof(out->note), "%s", get_text(&r, j, "reason", false));
        snprintf(out->hint, sizeof(out->hint), "%s", get_text(&r, j, "hint", false));
    }
    if (r.bad == NULL)
        return 0;
bad:
    dbssl_error_set(err, DBSSL_ERR_USAGE, "Give the JSON that dbssl itself writes for it.",
                    "sessions: \"%s\" is missing or of the wrong type", r.bad);
    return -1;
}
