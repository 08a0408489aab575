#!/usr/bin/env bash
# test_sessions.sh - session coverage (issue 13, item 2) against a real
# PostgreSQL 15: `dbssl serve` watches the sessions of the application's
# role.  A plaintext psql of that role (application_name=plainclient) makes
# the endpoint degraded and names it; once it is gone the next check is
# healthy.  Then, one-shot with `dbssl status`: a session below
# DB_SSL_MIN_PROTOCOL_VERSION, DB_SSL_SESSIONS_ENFORCE (unhealthy), and a
# role without pg_read_all_stats ("not checked" with the GRANT, never ok).
# The peers are psql/libpq sessions no one here wrote; promtool checks
# /metrics.  Everything on loopback; cleanup on any exit.
set -euo pipefail
. "${DBSSL_SRC:?source tree}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init

WORK=$T
C=$WORK/certs
make_test_certs "$C" app_user

# TLS and plaintext both allowed: the second client is what we must catch
pg_start_tls "$C/server.crt" "$C/server.key" "$C/ca.crt" "hostssl all all 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 scram-sha-256" "ssl_min_protocol_version = 'TLSv1.2'"
pg_sql "create role app_user login password 'pw-S3cret'; create role watcher login password 'pw-W4tch'" >/dev/null
URL="postgresql://app_user:pw-S3cret@127.0.0.1:$PG_PORT/postgres"
T_SECRETS='pw-S3cret|pw-W4tch'
PSQL=$PG_BIN/psql

envfile() { # NAME URL SETTING... (the test certificates' 30 days are no warning)
    local f=$WORK/$1.env
    { echo "DATABASE_URL=$2"; echo "DB_SSL_EXPIRY_WARN_DAYS=7"; printf '%s\n' "${@:3}"; } >"$f"
    echo "$f"
}

# client NAME CONNINFO... : a psql session of app_user that stays open (pg_sleep) in the background
CLIENT_PIDS=()
t_cleanup_add 'for p in "${CLIENT_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done'
client() {
    local name=$1
    shift
    env PGPASSWORD=pw-S3cret "$PSQL" -X -q "host=127.0.0.1 port=$PG_PORT dbname=postgres user=app_user application_name=$name $*" \
        -c 'select pg_sleep(120)' >/dev/null 2>"$WORK/$name.err" &
    CLIENT_PIDS+=($!)
    # wait for the server to list it (an event, not a fixed sleep)
    for _ in $(seq 1 100); do
        [ "$(pg_sql_value "select count(*) from pg_stat_activity where application_name = '$name'")" = 1 ] && return 0
        sleep 0.1
    done
    t_fail "client $name never appeared: $(cat "$WORK/$name.err")"
    return 1
}
pg_sql_value() {
    pg_as_owner "$PG_BIN/psql" -X -qAt -h "$PG_DIR/srv" -p "$PG_PORT" -U postgres -d postgres -c "$1"
}
# end_client NAME : the server ends the session, the psql process is reaped
end_client() {
    pg_sql "select pg_terminate_backend(pid) from pg_stat_activity where application_name = '$1'" >/dev/null
    for _ in $(seq 1 100); do
        [ "$(pg_sql_value "select count(*) from pg_stat_activity where application_name = '$1'")" = 0 ] && return 0
        sleep 0.1
    done
    t_fail "session $1 did not end"
}

# ---- serve: one TLS session and one plaintext session of the watched role
HTTP_PORT=$(free_port 57532)
BASE="http://127.0.0.1:$HTTP_PORT"
SERVE_PID=
t_cleanup_add 'if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID"; wait "$SERVE_PID"; fi'
env -i PATH="$PATH" "$DBSSL" serve --listen "127.0.0.1:$HTTP_PORT" --env-file "$(envfile serve "$URL" \
    DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$C/ca.crt" DB_SSL_REQUIRED=true \
    DB_HEALTH_CHECK_INTERVAL=1 DB_CONNECT_TIMEOUT=2)" 2>"$WORK/serve.log" &
SERVE_PID=$!
for _ in $(seq 1 50); do curl -s -o /dev/null "$BASE/health" && break; sleep 0.1; done

client tlsclient "sslmode=verify-full sslrootcert=$C/ca.crt"
client plainclient "sslmode=disable"

body=$(curl -s "$BASE/health/database/ssl?refresh=1")
if jcheck "$body" 'j["status"]=="degraded" and j["sessions"]["checked"] is True and j["sessions"]["total"]==2 and j["sessions"]["encrypted"]==1 and j["sessions"]["plaintext"]==1 and j["sessions"]["by_version"]=={"TLSv1.3":1} and j["sessions"]["without_client_certificate"]==1'; then
    t_pass "a plaintext session of the watched role: degraded, counted (1 TLSv1.3, 1 plaintext)"
else
    t_fail "plaintext session: $body"
fi
if jcheck "$body" 'len(j["sessions"]["offenders"])==1 and j["sessions"]["offenders"][0]["application_name"]=="plainclient" and j["sessions"]["offenders"][0]["client_addr"]=="127.0.0.1" and j["sessions"]["offenders"][0]["reason"]=="plaintext" and j["sessions"]["offenders"][0]["backend_start"]'; then
    t_pass "the offender is plainclient from 127.0.0.1, with its start time"
else
    t_fail "offenders: $body"
fi
if jcheck "$body" 'any("plainclient" in w and "127.0.0.1" in w and "not encrypted" in w for w in j["warnings"])'; then
    t_pass "a warning names the client (address and application_name)"
else
    t_fail "warnings: $body"
fi
if jcheck "$body" '"tlsclient" not in json.dumps(j["sessions"]["offenders"]) and "dbssl" not in [o["application_name"] for o in j["sessions"]["offenders"]]'; then
    t_pass "neither the TLS client nor dbssl's own session is an offender"
else
    t_fail "offenders: $body"
fi
curl -s "$BASE/metrics" >"$WORK/metrics.txt"
for series in 'dbssl_sessions_checked 1' 'dbssl_sessions_watched 2' 'dbssl_sessions_plaintext 1' \
    'dbssl_sessions_encrypted 1' 'dbssl_sessions_tls_version{version="TLSv1.3"} 1'; do
    if grep -qxF "$series" "$WORK/metrics.txt"; then t_pass "metrics: $series"; else t_fail "metrics lack $series"; fi
done
if PROMTOOL=$(prometheus_tool promtool) &&
    "$PROMTOOL" check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1; then
    t_pass "promtool check metrics accepts the session gauges"
else
    t_fail "promtool check metrics: $(cat "$WORK/promtool.out" 2>/dev/null)"
fi

# the plaintext client goes away: healthy at the next check
end_client plainclient
body=$(curl -s "$BASE/health/database/ssl?refresh=1")
if jcheck "$body" 'j["status"]=="healthy" and j["sessions"]["plaintext"]==0 and j["sessions"]["total"]==1 and j["sessions"]["offenders"]==[]'; then
    t_pass "the plaintext session ended: healthy at the next check"
else
    t_fail "after the plaintext session ended: $body"
fi
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || t_fail "serve exited non-zero after SIGTERM"
SERVE_PID=

# ---- below the minimum protocol: a TLSv1.2 session while TLSv1.3 is the floor
client oldtls "sslmode=verify-full sslrootcert=$C/ca.crt ssl_max_protocol_version=TLSv1.2"
status_case "a TLSv1.2 session below DB_SSL_MIN_PROTOCOL_VERSION=TLSv1.3: degraded, named" 0 \
    'j["status"]=="degraded" and j["sessions"]["below_min_protocol"]==1 and j["sessions"]["by_version"]["TLSv1.2"]==1 and [o["application_name"] for o in j["sessions"]["offenders"]]==["oldtls"] and j["sessions"]["offenders"][0]["reason"]=="below_min_protocol" and any("oldtls" in w and "TLSv1.2" in w for w in j["warnings"])' \
    "$(envfile tls13 "$URL" DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$C/ca.crt" DB_SSL_MIN_PROTOCOL_VERSION=TLSv1.3)"
status_case "the same with TLSv1.2 as the floor: healthy" 0 \
    'j["status"]=="healthy" and j["sessions"]["below_min_protocol"]==0 and j["sessions"]["encrypted"]==2' \
    "$(envfile tls12 "$URL" DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$C/ca.crt")"
end_client oldtls

# ---- enforced: DB_SSL_REQUIRED and DB_SSL_SESSIONS_ENFORCE make it unhealthy (tlsclient is still there)
client plain2 "sslmode=disable"
status_case "DB_SSL_SESSIONS_ENFORCE=true with DB_SSL_REQUIRED=true: unhealthy" 1 \
    'j["status"]=="unhealthy" and j["sessions"]["plaintext"]==1 and j["error"] is None' \
    "$(envfile enforce "$URL" DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$C/ca.crt" DB_SSL_REQUIRED=true DB_SSL_SESSIONS_ENFORCE=true)"

out=$(env -i PATH="$PATH" "$DBSSL" status --env-file "$WORK/enforce.env" 2>&1) || true
if grep -qE '^sessions: +2 watched, 1 encrypted, 1 plaintext' <<<"$out" && grep -q '^warning: .*plain2' <<<"$out"; then
    t_pass "dbssl status (text) counts the sessions and names plain2"
else
    t_fail "dbssl status text: $out"
fi

# ---- another role watches app_user: not checked without pg_read_all_stats, never "ok"
WURL="postgresql://watcher:pw-W4tch@127.0.0.1:$PG_PORT/postgres"
status_case "watching another role without pg_read_all_stats: not checked, with the GRANT" 0 \
    'j["status"]=="healthy" and j["sessions"]["checked"] is False and j["sessions"]["state"]=="not_checked" and j["sessions"]["plaintext"] is None and "GRANT pg_read_all_stats TO \"watcher\"" in j["sessions"]["hint"] and any("not checked" in w for w in j["warnings"])' \
    "$(envfile noperm "$WURL" DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$C/ca.crt" DB_SSL_WATCH_ROLES=app_user)"
status_case "the same by application name: not checked" 0 \
    'j["sessions"]["checked"] is False and "pg_read_all_stats" in j["sessions"]["reason"]' \
    "$(envfile noperm-app "$WURL" DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$C/ca.crt" DB_SSL_WATCH_APPLICATIONS=plain2)"
status_case "not checked with DB_SSL_SESSIONS_ENFORCE=true: degraded, not healthy" 0 \
    'j["status"]=="degraded" and j["sessions"]["checked"] is False' \
    "$(envfile noperm-enforce "$WURL" DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$C/ca.crt" DB_SSL_WATCH_ROLES=app_user DB_SSL_SESSIONS_ENFORCE=true)"
pg_sql "grant pg_read_all_stats to watcher" >/dev/null
status_case "after GRANT pg_read_all_stats: checked, plain2 named" 0 \
    'j["status"]=="degraded" and j["sessions"]["checked"] is True and [o["application_name"] for o in j["sessions"]["offenders"]]==["plain2"]' \
    "$WORK/noperm-app.env"
end_client plain2

if grep -q 'pw-S3cret' "$WORK/serve.log"; then t_fail "the password appears in the log"; fi
t_done
