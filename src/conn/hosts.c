/*
 * hosts.c - every host of a multi-host DATABASE_URL, probed on its own
 * (see hosts.h).  The list is DATABASE_URL as the settings layer parsed it
 * with libpq (dburl.h: comma-separated host, hostaddr and port, one port for
 * all or one each, and target_session_attrs).
 */
#include "hosts.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conn_int.h"
#include "util.h"

static const char ROLE_SQL[] = "select pg_is_in_recovery()";

const char *dbssl_host_role_name(enum dbssl_host_role r)
{
    switch (r) {
    case DBSSL_HOST_PRIMARY:
        return "primary";
    case DBSSL_HOST_STANDBY:
        return "standby";
    case DBSSL_HOST_ROLE_UNKNOWN:
        break;
    }
    return "unknown";
}

bool dbssl_host_satisfies(enum dbssl_host_role r, enum dbssl_session_want want)
{
    switch (want) {
    case DBSSL_WANT_PRIMARY:
        return r == DBSSL_HOST_PRIMARY;
    case DBSSL_WANT_STANDBY:
        return r == DBSSL_HOST_STANDBY;
    case DBSSL_WANT_ANY:
        break;
    }
    return r != DBSSL_HOST_ROLE_UNKNOWN;
}

void dbssl_host_name(const struct dbssl_host_probe *h, char *buf, size_t len)
{
    char port[16] = "";

    if (h->port > 0)
        snprintf(port, sizeof(port), "%d", h->port);
    format_host_port(buf, len, h->host, port);
}

bool dbssl_host_is_session(const struct dbssl_host_probe *h, const struct dbssl_tls_state *t)
{
    long port;

    if (!t->connected || strcmp(h->host, t->server_host) != 0)
        return false;
    /* the default port: libpq reports the port it used */
    return h->port == 0 || (parse_long(t->server_port, 1, 65535, &port) && port == h->port);
}

static enum dbssl_session_want want_of(const char *attrs)
{
    if (attrs == NULL)
        return DBSSL_WANT_ANY;
    if (strcmp(attrs, "read-write") == 0 || strcmp(attrs, "primary") == 0)
        return DBSSL_WANT_PRIMARY;
    if (strcmp(attrs, "read-only") == 0 || strcmp(attrs, "standby") == 0)
        return DBSSL_WANT_STANDBY;
    return DBSSL_WANT_ANY; /* any, prefer-standby */
}

static const char *nonempty(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

void dbssl_hosts_list(const struct dbssl_config *cfg, struct dbssl_hosts *out)
{
    /* DATABASE_URL as the settings layer parsed it (with libpq); "" as absent */
    const char *host = nonempty(cfg->url.host), *hostaddr = nonempty(cfg->url.hostaddr),
               *port = nonempty(cfg->url.port), *attrs = nonempty(cfg->url.target_session_attrs),
               *names;
    size_t n, nports;

    memset(out, 0, sizeof(*out));
    snprintf(out->want_text, sizeof(out->want_text), "any");
    if (cfg->database_url == NULL || !cfg->url.parsed)
        return;
    out->want = want_of(attrs);
    if (attrs != NULL)
        snprintf(out->want_text, sizeof(out->want_text), "%s", attrs);
    /* the names verify-full checks are the hosts; hostaddr alone names addresses */
    names = host != NULL ? host : hostaddr;
    n = list_count(names);
    nports = list_count(port);
    if (n > 1) {
        for (size_t i = 0; i < n; i++) {
            struct dbssl_host_probe *h;
            const char *s;
            size_t len;
            if (out->n == DBSSL_HOSTS_MAX) {
                out->skipped = n - i;
                break;
            }
            h = &out->v[out->n];
            if ((s = list_item(names, i, &len)) == NULL || len == 0 || len >= sizeof(h->host))
                continue; /* an empty element means libpq's default: the session covers it */
            memcpy(h->host, s, len);
            h->host[len] = '\0';
            /* host names what verify-full checks, hostaddr where to connect */
            if (host != NULL && hostaddr != NULL && (s = list_item(hostaddr, i, &len)) != NULL &&
                len < sizeof(h->hostaddr)) {
                memcpy(h->hostaddr, s, len);
                h->hostaddr[len] = '\0';
            }
            if (nports > 0 && (s = list_item(port, nports == 1 ? 0 : i, &len)) != NULL && len > 0 &&
                len < 8) {
                char buf[8];
                long v;
                memcpy(buf, s, len);
                buf[len] = '\0';
                if (parse_long(buf, 1, 65535, &v))
                    h->port = (int)v;
            }
            out->n++;
        }
    }
}

/* Whether the host is in recovery, asked over conn within the time left. */
static enum dbssl_host_role read_role(PGconn *conn, long long deadline_ms)
{
    long timeout_s = dbssl_conn_seconds_left(deadline_ms);
    enum dbssl_host_role r = DBSSL_HOST_ROLE_UNKNOWN;
    PGresult *res = NULL;

    if (dbssl_conn_exec_bounded(conn, ROLE_SQL, timeout_s, &res) == 0 && PQntuples(res) == 1)
        r = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? DBSSL_HOST_STANDBY : DBSSL_HOST_PRIMARY;
    PQclear(res);
    return r;
}

struct probe_job {
    const struct dbssl_config *cfg;
    const struct dbssl_conn_files *files;
    struct dbssl_host_probe *h; /* this job's own: no other thread writes it */
};

static void *probe_one(void *arg)
{
    const struct probe_job *j = arg;
    struct dbssl_host_probe *h = j->h;
    long long deadline = dbssl_mono_ms() + (long long)j->cfg->connect_timeout * MS_PER_SECOND;
    struct dbssl_conn_to to = {h->host, h->port, deadline,
                               "any",   false,   h->hostaddr[0] != '\0' ? h->hostaddr : NULL};
    PGconn *conn = dbssl_connect_to(j->cfg, j->files, &to, &h->tls, NULL);

    h->role = DBSSL_HOST_ROLE_UNKNOWN;
    if (conn != NULL)
        h->role = read_role(conn, deadline);
    PQfinish(conn);
    return NULL;
}

void dbssl_hosts_probe(const struct dbssl_config *cfg, const struct dbssl_conn_files *files,
                       struct dbssl_hosts *out)
{
    struct probe_job jobs[DBSSL_HOSTS_MAX];
    pthread_t threads[DBSSL_HOSTS_MAX];
    bool started[DBSSL_HOSTS_MAX] = {false};

    for (size_t i = 0; i < out->n; i++)
        jobs[i] = (struct probe_job){cfg, files, &out->v[i]};
    /* a host whose thread cannot be started is probed here, after the first */
    for (size_t i = 1; i < out->n; i++)
        started[i] = pthread_create(&threads[i], NULL, probe_one, &jobs[i]) == 0;
    for (size_t i = 0; i < out->n; i++)
        if (!started[i])
            probe_one(&jobs[i]);
    for (size_t i = 1; i < out->n; i++)
        if (started[i])
            pthread_join(threads[i], NULL);
}
