#!/usr/bin/env bash
# test_health.sh - `dbssl status` and `dbssl serve` against real PostgreSQL 15
# servers this test starts: the issue's matrix of server TLS setups and
# client settings, then an outage while `serve` runs.  Certificates are made
# here with the openssl CLI.  Everything on loopback; cleanup on any exit.
set -euo pipefail
. "${DBSSL_SRC:?source tree}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init

WORK=$T

# ---- certificates: CA1, CA2; server1 (CA1, SANs localhost/127.0.0.1/::1);
#      server2 (CA1, DNS:localhost only); client (CA1, CN=dbssl_test)
C=$WORK/certs
cert_ca "$C" ca1 "dbssl test ca1" 60
cert_ca "$C" ca2 "dbssl test ca2" 60
cert_leaf "$C" server1 ca1 localhost 50 "DNS:localhost,IP:127.0.0.1,IP:::1"
cert_leaf "$C" server2 ca1 localhost 50 "DNS:localhost"
cert_leaf "$C" client ca1 dbssl_test 50 "" clientAuth

# ---- the database
pg_setup
SSL_ON="$(pg_tls_conf with-ca)
ssl_min_protocol_version = 'TLSv1.2'"
HBA_PW="hostssl all all 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 scram-sha-256"
HBA_CERT="hostssl all all 127.0.0.1/32 cert"
pg_install_server_cert "$C/server1.crt" "$C/server1.key" "$C/ca1.crt"
pg_configure "ssl = off" "$HBA_PW"
pg_start
pg_sql "create role dbssl_test login password 'pw-S3cret'" >/dev/null
URL="postgresql://dbssl_test:pw-S3cret@127.0.0.1:$PG_PORT/postgres"

# envfile NAME SETTING... : a .env with DATABASE_URL and the given settings
envfile() {
    local f=$WORK/$1.env
    shift
    { echo "DATABASE_URL=$URL"; printf '%s\n' "$@"; } >"$f"
    echo "$f"
}

# run dbssl with only PATH from our environment, so nothing leaks in
dbssl_clean() { env -i PATH="$PATH" "$DBSSL" "$@"; }

T_SECRETS='pw-S3cret'

# ---- server with ssl = off
status_case off-disable 0 'j["status"]=="healthy" and j["ssl_enabled"] is False and j["warnings"]' \
    "$(envfile off-disable DB_SSL_MODE=disable DB_SSL_REQUIRED=false)"
status_case off-prefer 0 'j["status"]=="degraded" and j["ssl_enabled"] is False' \
    "$(envfile off-prefer DB_SSL_MODE=prefer DB_SSL_REQUIRED=false)"
for mode in require verify-ca verify-full; do
    status_case "off-$mode" 1 'j["status"]=="unhealthy" and j["error"]["class"]=="ssl_unavailable" and j["error"]["hint"]' \
        "$(envfile "off-$mode" DB_SSL_MODE=$mode DB_SSL_CA_CERT="$C/ca1.crt" DB_SSL_REQUIRED=true)"
done

# ---- server certificate from CA1 with IP SAN
pg_configure "$SSL_ON" "$HBA_PW"
pg_restart
status_case ca1-verify-full 0 'j["status"]=="healthy" and j["ssl_enabled"] is True and j["ssl_version"]=="TLSv1.3" and j["certificate_validation"]=="enabled" and j["hostname_verification"] is True and j["ssl_cipher"] and j["server_certificate"]["subject"]=="CN=localhost" and j["certificates"][0]["role"]=="ca" and j["error"] is None' \
    "$(envfile ca1-verify-full DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$C/ca1.crt" DB_SSL_REQUIRED=true)"
status_case ca2-verify-full 1 'j["status"]=="unhealthy" and j["error"]["class"]=="certificate_verification_failed" and j["error"]["reason"]=="unknown_ca"' \
    "$(envfile ca2-verify-full DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$C/ca2.crt" DB_SSL_REQUIRED=true)"
status_case require-no-ca 0 'j["status"]=="healthy" and j["ssl_enabled"] is True and j["certificate_validation"]=="disabled"' \
    "$(envfile require-no-ca DB_SSL_MODE=require DB_SSL_REQUIRED=true)"

# human output names the state too
out=$(dbssl_clean status --env-file "$WORK/ca1-verify-full.env") || true
if grep -q '^ssl_version: *TLSv1.3' <<<"$out" && grep -q '^status: *healthy' <<<"$out"; then
    t_pass "human status lines"
else
    t_fail "human status lines: $out"
fi

# ---- serve: the live endpoint, methods, keep-alive
SERVE_PID= LOOP_PID=
t_cleanup_add 'if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID"; wait "$SERVE_PID"; fi'
t_cleanup_add 'if [ -n "$LOOP_PID" ]; then kill "$LOOP_PID"; fi'
HTTP_PORT=$(free_port 57432)
BASE="http://127.0.0.1:$HTTP_PORT"
start_serve() { # envfile
    env -i PATH="$PATH" "$DBSSL" serve --env-file "$1" --listen "127.0.0.1:$HTTP_PORT" 2>>"$WORK/serve.log" &
    SERVE_PID=$!
    for _ in $(seq 1 50); do
        curl -s -o /dev/null "$BASE/health" && return 0
        sleep 0.1
    done
    t_fail "serve did not start"; cat "$WORK/serve.log" >&2; return 1
}
stop_serve() {
    kill -TERM "$SERVE_PID"
    local rc=0
    wait "$SERVE_PID" || rc=$?
    SERVE_PID=
    if [ "$rc" -ne 0 ]; then t_fail "serve exited $rc after SIGTERM"; else t_pass "serve stops cleanly on SIGTERM"; fi
}
# endpoint_case NAME PATH WANT_CODE PYEXPR
endpoint_case() {
    local body code
    body=$(curl -s -w '\n%{http_code}' "$BASE$2")
    code=${body##*$'\n'}
    body=${body%$'\n'*}
    if [ "$code" != "$3" ]; then t_fail "$1: HTTP $code, want $3: $body"
    elif ! jcheck "$body" "$4"; then t_fail "$1: JSON does not satisfy $4: $body"
    else t_pass "$1"; fi
}
start_serve "$(envfile serve-ok DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$C/ca1.crt" DB_SSL_REQUIRED=true DB_HEALTH_CHECK_INTERVAL=1 DB_CONNECT_TIMEOUT=2)"
endpoint_case "serve ssl ?refresh=1" "/health/database/ssl?refresh=1" 200 \
    'j["status"]=="healthy" and j["ssl_version"]=="TLSv1.3" and j["ssl_enabled"] is True and j["certificate_validation"]=="enabled"'
endpoint_case "serve database" "/health/database" 200 \
    'j["connected"] is True and j["server"]=="127.0.0.1:'"$PG_PORT"'" and j["server_version"].startswith("15.") and j["last_success"]'
endpoint_case "serve liveness" "/health" 200 'j["status"]=="alive"'
hdrs=$(curl -s -D - -o /dev/null "$BASE/health/database/ssl?refresh=1")
if grep -qi '^X-Dbssl-Refresh: done' <<<"$hdrs"; then t_pass "?refresh=1 says the answer is fresh"; else t_fail "?refresh=1 headers: $hdrs"; fi
hdrs=$(curl -s -D - -o /dev/null "$BASE/health/database/ssl")
if ! grep -qi '^X-Dbssl-Refresh' <<<"$hdrs"; then t_pass "no refresh header without ?refresh"; else t_fail "refresh header without ?refresh: $hdrs"; fi
endpoint_case "serve ready" "/health/ready" 200 'j["ready"] is True'
endpoint_case "serve unknown path" "/nope" 404 'j["error"]=="not_found"'
hdrs=$(curl -s -D - -o /dev/null -X POST "$BASE/health/database/ssl")
if grep -q '^HTTP/1.1 405' <<<"$hdrs" && grep -qi '^Allow: GET, HEAD' <<<"$hdrs" &&
    grep -qi '^Content-Type: application/json' <<<"$hdrs"; then t_pass "POST gives 405 with Allow"; else t_fail "POST: $hdrs"; fi
hdrs=$(curl -s -I "$BASE/health/database/ssl")
if grep -q '^HTTP/1.1 200' <<<"$hdrs" && grep -qi '^Content-Type: application/json' <<<"$hdrs"; then t_pass "HEAD"; else t_fail "HEAD: $hdrs"; fi
kv=$(curl -sv -o /dev/null -o /dev/null "$BASE/health/database/ssl" "$BASE/health/database" 2>&1)
if grep -q 'Re-using existing connection' <<<"$kv"; then t_pass "keep-alive"; else t_fail "keep-alive: connection not re-used"; fi
# a second serve on the same port: a clear error, exit 1
rc=0
err=$(env -i PATH="$PATH" "$DBSSL" serve --env-file "$WORK/serve-ok.env" --listen "127.0.0.1:$HTTP_PORT" 2>&1 >/dev/null) || rc=$?
if [ "$rc" -eq 1 ] && grep -q "could not listen on \"127.0.0.1:$HTTP_PORT\"" <<<"$err"; then t_pass "port in use"; else t_fail "port in use: exit $rc: $err"; fi
stop_serve

# ---- server certificate without an IP SAN, reached as 127.0.0.1
pg_install_server_cert "$C/server2.crt" "$C/server2.key" "$C/ca1.crt"
pg_restart
status_case noipsan-verify-full 1 'j["error"]["class"]=="certificate_verification_failed" and j["error"]["reason"]=="hostname_mismatch"' \
    "$(envfile noipsan-verify-full DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$C/ca1.crt" DB_SSL_REQUIRED=true)"
status_case noipsan-verify-ca 0 'j["status"]=="healthy" and j["hostname_verification"] is False' \
    "$(envfile noipsan-verify-ca DB_SSL_MODE=verify-ca DB_SSL_CA_CERT="$C/ca1.crt" DB_SSL_REQUIRED=true)"

# ---- server requiring client certificates
pg_install_server_cert "$C/server1.crt" "$C/server1.key" "$C/ca1.crt"
pg_configure "$SSL_ON" "$HBA_CERT"
pg_restart
status_case cert-none 1 'j["error"]["class"]=="client_certificate_rejected"' \
    "$(envfile cert-none DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$C/ca1.crt" DB_SSL_REQUIRED=true)"
status_case cert-pair 0 'j["status"]=="healthy" and j["client_certificate"] is True and any(c["role"]=="client" for c in j["certificates"])' \
    "$(envfile cert-pair DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$C/ca1.crt" DB_SSL_REQUIRED=true \
        DB_SSL_CLIENT_CERT="$C/client.crt" DB_SSL_CLIENT_KEY="$C/client.key")"

# ---- invalid settings: serve refuses before binding
rc=0
timeout 20 env -i PATH="$PATH" "$DBSSL" serve --env-file "$(envfile invalid DB_SSL_MODE=verify-full DB_SSL_REQUIRED=true)" \
    --listen "127.0.0.1:$HTTP_PORT" >"$WORK/invalid.out" 2>&1 || rc=$?
if [ "$rc" -eq 2 ] && grep -q DB_SSL_CA_CERT "$WORK/invalid.out" && port_can_bind "$HTTP_PORT"; then
    t_pass "invalid settings: serve exits 2 before binding"
else
    t_fail "invalid settings: exit $rc: $(cat "$WORK/invalid.out")"
fi

# ---- outage while serve runs
pg_configure "$SSL_ON" "$HBA_PW"
pg_restart
start_serve "$WORK/serve-ok.env"
endpoint_case "outage: healthy first" "/health/database/ssl?refresh=1" 200 'j["status"]=="healthy"'
: >"$WORK/times"
(   # every request of the outage, timed; bounded
    for _ in $(seq 1 3000); do
        [ -f "$WORK/stop-loop" ] && break
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$BASE/health/database/ssl" >>"$WORK/times" || echo "000 9" >>"$WORK/times"
        sleep 0.02
    done
) &
LOOP_PID=$!
# wait_for WANT_CODE WANT_STATUS SECONDS : prints the seconds it took
wait_for() {
    local t0 body
    t0=$(date +%s.%N)
    while :; do
        body=$(curl -s -w '\n%{http_code}' "$BASE/health/database/ssl")
        if [ "${body##*$'\n'}" = "$1" ] && jcheck "${body%$'\n'*}" "j[\"status\"]==\"$2\""; then
            python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$t0" "$(date +%s.%N)"
            return 0
        fi
        if python3 -c "import sys; sys.exit(0 if float(sys.argv[2]) - float(sys.argv[1]) > float(sys.argv[3]) else 1)" "$t0" "$(date +%s.%N)" "$3"; then
            return 1
        fi
        sleep 0.1
    done
}
pg_stop
if took=$(wait_for 503 unhealthy 4); then t_pass "database stopped: 503 unhealthy after ${took}s (interval 1 s + connect timeout 2 s)"; else t_fail "no 503 within 4 s of stopping the database"; fi
endpoint_case "outage: ready is 503" "/health/ready" 503 'j["ready"] is False'
endpoint_case "outage: database body" "/health/database" 503 'j["connected"] is False and j["error"]["class"]=="connection_refused"'
pg_start
if took=$(wait_for 200 healthy 10); then t_pass "database back: healthy after ${took}s without restarting dbssl"; else t_fail "not healthy again within 10 s"; fi
touch "$WORK/stop-loop"
wait "$LOOP_PID" || true
LOOP_PID=
n=$(wc -l <"$WORK/times")
# a request that waited on the database would take up to the connect timeout
# (2 s): half of it separates "waited" from "a loaded machine" (how fast the
# answers are is make bench's business, not a test's)
slow=$(awk '$1 == "000" || $2 >= 1.0' "$WORK/times" | wc -l)
max=$(sort -k2 -g "$WORK/times" | tail -1)
if [ "$n" -ge 20 ] && [ "$slow" -eq 0 ]; then t_pass "$n requests during the outage, none waited on the database (slowest: $max)"
else t_fail "$slow of $n requests failed or took >= 1 s, half the connect timeout (slowest: $max)"; fi
for ev in connected lost restored; do
    if grep -q "event=$ev " "$WORK/serve.log"; then t_pass "log line event=$ev"; else t_fail "no event=$ev log line"; fi
done
stop_serve
if grep -q 'pw-S3cret' "$WORK/serve.log"; then t_fail "the password appears in the log"; fi

t_done
