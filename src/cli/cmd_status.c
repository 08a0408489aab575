/*
 * cmd_status.c - `dbssl status`: connect once and report the TLS state as
 * the health endpoint would, for a shell or a deployment script.
 * Exit 0 healthy or degraded, 1 unhealthy, 2 invalid settings.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "dbssl/conn.h" /* the connect API: one session, closed with PQfinish() */
#include "hbarules.h"
#include "health.h"
#include "prepare.h"
#include "render.h"
#include "util.h"

/* One "key: value" line per field of the JSON body, so both views agree. */
/* The application's sessions in one line: the counts, or why they were not checked. */
static void print_sessions(json_t *v)
{
    if (!json_is_true(json_object_get(v, "checked"))) {
        printf("%-23s not checked: %s\n",
               "sessions:", json_string_value(json_object_get(v, "reason")));
        return;
    }
    printf("%-23s %lld watched, %lld encrypted, %lld plaintext, %lld below the minimum "
           "protocol, %lld without a client certificate\n",
           "sessions:", (long long)json_integer_value(json_object_get(v, "total")),
           (long long)json_integer_value(json_object_get(v, "encrypted")),
           (long long)json_integer_value(json_object_get(v, "plaintext")),
           (long long)json_integer_value(json_object_get(v, "below_min_protocol")),
           (long long)json_integer_value(json_object_get(v, "without_client_certificate")));
}

/* PgBouncer's two hops in one line: the counts, or why they were not checked. */
static void print_pgbouncer(json_t *v)
{
    json_t *sv = json_object_get(v, "servers"), *cl = json_object_get(v, "clients");

    if (!json_is_true(json_object_get(v, "checked"))) {
        printf("%-23s not checked: %s\n",
               "pgbouncer:", json_string_value(json_object_get(v, "reason")));
        return;
    }
    printf("%-23s server hops %lld TLS, %lld plaintext; client hops %lld TLS, %lld plaintext\n",
           "pgbouncer:", (long long)json_integer_value(json_object_get(sv, "tls")),
           (long long)json_integer_value(json_object_get(sv, "plaintext")),
           (long long)json_integer_value(json_object_get(cl, "tls")),
           (long long)json_integer_value(json_object_get(cl, "plaintext")));
}

static void print_human(const char *body)
{
    json_t *j = json_loads(body, 0, NULL), *v, *e;
    const char *key;
    size_t i;

    if (j == NULL)
        return;
    json_object_foreach(j, key, v)
    {
        if (strcmp(key, "certificates") == 0 || strcmp(key, "warnings") == 0 ||
            strcmp(key, "error") == 0)
            continue;
        if (strcmp(key, "sessions") == 0 && json_is_object(v)) {
            print_sessions(v);
        } else if (strcmp(key, "pgbouncer") == 0 && json_is_object(v)) {
            print_pgbouncer(v);
        } else if (strcmp(key, "server_certificate") == 0 && json_is_object(v)) {
            printf("%-23s %s, expires %s (%lld days)\n",
                   "server_certificate:", json_string_value(json_object_get(v, "subject")),
                   json_string_value(json_object_get(v, "not_after")),
                   (long long)json_integer_value(json_object_get(v, "days_remaining")));
        } else if (!json_is_null(v) && !json_is_object(v)) {
            char label[64], *s = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY);
            snprintf(label, sizeof(label), "%s:", key);
            printf("%-23s %s\n", label, s ? s : json_string_value(v));
            free(s);
        }
    }
    json_array_foreach(json_object_get(j, "certificates"), i, v)
    {
        printf("%-23s %s %s, expires %s (%lld days)\n",
               "certificate:", json_string_value(json_object_get(v, "role")),
               json_string_value(json_object_get(v, "path")),
               json_string_value(json_object_get(v, "not_after")),
               (long long)json_integer_value(json_object_get(v, "days_remaining")));
    }
    json_array_foreach(json_object_get(j, "warnings"), i, v)
        printf("%-23s %s\n", "warning:", json_string_value(v));
    e = json_object_get(j, "error");
    if (json_is_object(e)) {
        const char *reason = json_string_value(json_object_get(e, "reason"));
        printf("%-23s %s%s%s: %s\n", "error:", json_string_value(json_object_get(e, "class")),
               reason ? "/" : "", reason ? reason : "",
               json_string_value(json_object_get(e, "message")));
        if (json_is_string(json_object_get(e, "detail")))
            printf("  detail: %s\n", json_string_value(json_object_get(e, "detail")));
        printf("  hint: %s\n", json_string_value(json_object_get(e, "hint")));
    }
    json_decref(j);
}

static int run(int argc, char **argv)
{
    const char *env_file = NULL;
    bool json = false;
    struct dbssl_config *cfg = NULL;
    struct dbssl_inuse_certs certs = {NULL, 0, NULL, 0};
    struct dbssl_snapshot *snap = NULL;
    struct dbssl_snapshot_extra x = {0};
    struct dbssl_hosts hosts;
    struct dbssl_tls_state tls;
    struct dbssl_sessions sessions;
    struct dbssl_pgbouncer pgbouncer;
    struct dbssl_error e;
    json_t *server_settings = NULL;
    PGconn *conn;
    long long now;
    int c, status = EXIT_CONFIG;

    const struct cli_option opts[] = {
        {"env-file", 'e', CLI_STRING, &env_file},
        {"json", 'j', CLI_FLAG, &json},
        {NULL, 0, CLI_FLAG, NULL},
    };

    if ((c = cli_parse(argc, argv, &cmd_status, opts, 0)) >= 0)
        return c;

    cfg = cli_prepare_config(env_file, json, &status);
    if (cfg == NULL)
        goto out;
    status = EXIT_RUNTIME;
    dbssl_error_clear(&e);
    conn = dbssl_connect(cfg, &tls, NULL);
    now = dbssl_now();
    /* the application's sessions, as serve's checker reads them; a failure is marked in
     * sessions itself (state "failed", its note in the body), so the result adds nothing */
    memset(&sessions, 0, sizeof(sessions));
    if (conn != NULL && dbssl_sessions_read(conn, cfg, &sessions, NULL) != 0)
        sessions.state = DBSSL_SESSIONS_FAILED;
    x.sessions = &sessions;
    /* the server's settings and pg_hba.conf findings, as serve's checker reads them
     * (null when they cannot be read: the body says so, the status does not change) */
    if (conn != NULL)
        server_settings = dbssl_server_settings_read(conn, cfg, NULL);
    x.server_settings = server_settings;
    PQfinish(conn);
    /* a multi-host URL: every host, as serve's checks see them */
    dbssl_hosts_list(cfg, &hosts);
    dbssl_hosts_probe(cfg, NULL, &hosts);
    x.hosts = &hosts;
    /* PgBouncer's hops, as serve's checks read them */
    dbssl_pgbouncer_read(cfg, NULL, &pgbouncer);
    x.pgbouncer = &pgbouncer;
    if (dbssl_inuse_certs_collect(cfg, &certs, &e) != 0 ||
        (snap = dbssl_snapshot_new(cfg, &tls, &certs, now, tls.connected ? now : 0, &x, &e)) ==
            NULL ||
        dbssl_render_snapshot(snap, &e) != 0) {
        cli_print_error(&e);
        goto out;
    }
    if (json)
        fputs(snap->ssl_json.data, stdout);
    else
        print_human(snap->ssl_json.data);
    status = snap->status == DBSSL_HEALTH_UNHEALTHY ? EXIT_RUNTIME : EXIT_OK;
out:
    json_decref(server_settings);
    dbssl_snapshot_unref(snap);
    dbssl_inuse_certs_free(&certs);
    dbssl_config_free(cfg);
    return status;
}

const struct cli_command cmd_status = {
    "status",
    run,
    "connect once and report the TLS state of the database connection",
    "Usage: dbssl status [--env-file FILE] [--json]\n"
    "\n"
    "Loads and validates the settings (invalid settings: the findings and exit\n"
    "status 2), connects to DATABASE_URL once with the configured TLS settings\n"
    "and reports what was negotiated: TLS version, cipher, certificates and their\n"
    "expiry, and on failure the cause with a hint.\n"
    "\n"
    "  --env-file FILE  read FILE instead of ./.env (it must exist)\n"
    "  --json           print the body of GET /health/database/ssl\n"
    "\n"
    "Exit status: 0 healthy or degraded, 1 unhealthy, 2 invalid settings.\n",
};
