/*
 * conn_pgbouncer.c - PgBouncer's two hops from its admin console (see
 * conn_pgbouncer.h).
 *
 * The admin console speaks the simple query protocol only and knows no
 * SQL: one connection (DB_PGBOUNCER_ADMIN_URL, the TLS settings of
 * DATABASE_URL), SHOW SERVERS and SHOW CLIENTS within one deadline, columns
 * found by name so that a PgBouncer that adds columns still reads.  dbssl's
 * own admin session is one of the clients and is counted (it uses TLS
 * whenever the settings require it).
 */
#include "conn_pgbouncer.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conn_int.h"
#include "jsonutil.h"
#include "util.h"

const char *dbssl_pgbouncer_side_name(int side)
{
    return side == DBSSL_PGBOUNCER_CLIENT ? "client" : "server";
}

void dbssl_pgbouncer_add(struct dbssl_pgbouncer *out, int side, const char *addr, int port,
                         const char *user, const char *database, const char *tls)
{
    struct dbssl_pgbouncer_count *c =
        side == DBSSL_PGBOUNCER_CLIENT ? &out->clients : &out->servers;
    struct dbssl_pgbouncer_hop *h;

    c->total++;
    /* a Unix-domain socket never leaves the machine, and TLS cannot apply to it */
    if (strcmp(addr, "unix") == 0) {
        c->local++;
        return;
    }
    if (tls[0] != '\0') {
        c->tls++;
        return;
    }
    c->plaintext++;
    if (out->n_plaintext_hops == DBSSL_PGBOUNCER_MAX_HOPS)
        return;
    h = &out->plaintext_hops[out->n_plaintext_hops++];
    h->side = side;
    snprintf(h->addr, sizeof(h->addr), "%s", addr);
    h->port = port;
    snprintf(h->user, sizeof(h->user), "%s", user);
    snprintf(h->database, sizeof(h->database), "%s", database);
}

static void not_checked(struct dbssl_pgbouncer *out, const char *why, const char *hint)
{
    memset(out, 0, sizeof(*out));
    out->state = DBSSL_PGBOUNCER_NOT_CHECKED;
    snprintf(out->note, sizeof(out->note), "%s", why);
    snprintf(out->hint, sizeof(out->hint), "%s", hint);
}

static const char ADMIN_HINT[] =
    "Allow DB_PGBOUNCER_ADMIN_URL's user in the admin console (admin_users or stats_users in "
    "pgbouncer.ini) and check that its database is \"pgbouncer\".";

static const char AUTH_HINT[] =
    "Give DB_PGBOUNCER_ADMIN_URL a user and password of PgBouncer's auth_file, listed in "
    "admin_users or stats_users in pgbouncer.ini.";

/* Counts the rows of one SHOW command; false (and out NOT_CHECKED) when it failed. */
static bool read_side(PGconn *conn, const struct dbssl_config *admin, int side, const char *sql,
                      long long deadline_ms, struct dbssl_pgbouncer *out)
{
    long timeout_s = dbssl_conn_seconds_left(deadline_ms);
    PGresult *res = NULL;
    int rc = dbssl_conn_exec_bounded(conn, sql, timeout_s, &res);
    int c_tls, c_addr, c_port, c_user, c_db;
    char why[512];

    if (rc == -2) {
        snprintf(why, sizeof(why), "PgBouncer's admin console did not answer %s in time", sql);
        not_checked(out, why, "Check PgBouncer's load; raise DB_CONNECT_TIMEOUT for a slow one.");
        return false;
    }
    if (rc != 0) {
        char *m = dbssl_config_redact(admin, PQerrorMessage(conn));
        char line[400];
        dbssl_conn_message_one_line(line, sizeof(line), m ? m : "out of memory");
        free(m);
        snprintf(why, sizeof(why), "%s failed: %s", sql, line);
        not_checked(out, why, ADMIN_HINT);
        return false;
    }
    c_tls = PQfnumber(res, "tls");
    c_addr = PQfnumber(res, "addr");
    c_port = PQfnumber(res, "port");
    c_user = PQfnumber(res, "user");
    c_db = PQfnumber(res, "database");
    if (c_tls < 0 || c_addr < 0 || c_port < 0 || c_user < 0 || c_db < 0) {
        snprintf(why, sizeof(why), "%s has no \"tls\" column: this PgBouncer is too old", sql);
        not_checked(out, why, "Upgrade PgBouncer to 1.11 or later, which shows each hop's TLS.");
        PQclear(res);
        return false;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        long port = 0;
        if (!parse_long(PQgetvalue(res, i, c_port), 0, 65535, &port))
            port = 0;
        dbssl_pgbouncer_add(out, side, PQgetvalue(res, i, c_addr), (int)port,
                            PQgetvalue(res, i, c_user), PQgetvalue(res, i, c_db),
                            PQgetvalue(res, i, c_tls));
    }
    PQclear(res);
    return true;
}

void dbssl_pgbouncer_read(const struct dbssl_config *cfg, const struct dbssl_conn_files *files,
                          struct dbssl_pgbouncer *out)
{
    /* the settings with the admin console's URL in place of DATABASE_URL: the
     * same TLS on the way in (PgBouncer's client hop asks every client alike) */
    struct dbssl_config admin = *cfg;
    long long deadline = dbssl_mono_ms() + (long long)cfg->connect_timeout * MS_PER_SECOND;
    struct dbssl_conn_to to = {NULL, 0, deadline, NULL, true};
    struct dbssl_tls_state st;
    PGconn *conn;

    memset(out, 0, sizeof(*out));
    if (cfg->pgbouncer_admin_url == NULL)
        return;
    admin.database_url = cfg->pgbouncer_admin_url;
    admin.url = cfg->pgbouncer_admin;
    if ((conn = dbssl_connect_to(&admin, files, &to, &st, NULL)) == NULL) {
        char why[512];
        snprintf(why, sizeof(why),
                 "cannot connect to PgBouncer's admin console (DB_PGBOUNCER_ADMIN_URL): "
                 "%.150s%s%.250s",
                 st.error_message, st.error_detail[0] ? ": " : "", st.error_detail);
        /* a refused login is the admin console's own setup, not the server's */
        not_checked(out, why, st.error_class == DBSSL_CONN_AUTH_FAILED ? AUTH_HINT : st.error_hint);
        return;
    }
    out->state = DBSSL_PGBOUNCER_CHECKED;
    if (read_side(conn, &admin, DBSSL_PGBOUNCER_SERVER, "SHOW SERVERS", deadline, out))
        (void)read_side(conn, &admin, DBSSL_PGBOUNCER_CLIENT, "SHOW CLIENTS", deadline, out);
    PQfinish(conn);
}

/* ---- the JSON form ------------------------------------------------------------------ */

static json_t *counts_json(bool checked, const struct dbssl_pgbouncer_count *c)
{
    if (!checked)
        return json_null();
    return json_pack("{s:I, s:I, s:I, s:I}", "total", (json_int_t)c->total, "tls",
                     (json_int_t)c->tls, "plaintext", (json_int_t)c->plaintext, "local",
                     (json_int_t)c->local);
}

json_t *dbssl_pgbouncer_to_json(const struct dbssl_pgbouncer *p)
{
    bool checked = p->state == DBSSL_PGBOUNCER_CHECKED;
    json_t *hops;

    if (p->state == DBSSL_PGBOUNCER_UNSET)
        return json_null();
    hops = checked ? json_array() : json_null();
    for (size_t i = 0; checked && i < p->n_plaintext_hops; i++) {
        const struct dbssl_pgbouncer_hop *h = &p->plaintext_hops[i];
        json_array_append_new(
            hops, json_pack("{s:s, s:o, s:o, s:o, s:o}", "side", dbssl_pgbouncer_side_name(h->side),
                            "addr", dbssl_json_str(h->addr), "port",
                            h->port > 0 ? json_integer(h->port) : json_null(), "user",
                            dbssl_json_str(h->user), "database", dbssl_json_str(h->database)));
    }
    return json_pack("{s:b, s:s, s:o, s:o, s:o, s:o, s:o}", "checked", checked, "state",
                     checked ? "checked" : "not_checked", "reason",
                     checked ? json_null() : dbssl_json_str(p->note), "hint",
                     checked ? json_null() : dbssl_json_str(p->hint), "servers",
                     counts_json(checked, &p->servers), "clients",
                     counts_json(checked, &p->clients), "plaintext_hops", hops);
}
