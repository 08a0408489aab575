#!/usr/bin/env bash
# test_days_left.sh - issue 9: the same certificate shows the same days left
# on GET /health/database/ssl, GET /metrics, `dbssl certs inspect --json` and
# `dbssl validate --json`, against a real PostgreSQL 15 that requires client
# certificates: a client certificate that expired an hour ago (-1 everywhere;
# it used to be -1 on one and 0 on another) and a CA within the warning
# window.  The service runs the test-clock dbssl, whose clock is moved to an
# hour past the client certificate's end while the server (at the real time)
# still accepts it; the commands run at that same instant (DBSSL_TEST_NOW).
# /metrics has no days: it gives not_after, and days left is
# floor((not_after - checked_at) / 86400) by expiry.h's rule.
set -euo pipefail
. "${DBSSL_SRC:?source tree}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init
: "${DBSSL_TESTCLOCK:?the test-clock dbssl}"

C=$T/certs
mkdir -p "$C" && chmod 0700 "$C"
cert_ca "$C" ca "dbssl days CA" 13
cert_leaf "$C" server ca localhost 365 "DNS:localhost,IP:127.0.0.1" serverAuth
cert_leaf "$C" client ca dbssl_test 2 "" clientAuth
pg_start_mtls "$C/server.crt" "$C/server.key" "$C/ca.crt" dbssl_test

enddate() { date -u -d "$(openssl x509 -enddate -noout -in "$1" | cut -d= -f2)" +%s; }
CLIENT_END=$(enddate "$C/client.crt")
CA_END=$(enddate "$C/ca.crt")
AT=$((CLIENT_END + 3600)) # an hour after the client certificate's last second
AT_ISO=$(date -u -d "@$AT" +%Y-%m-%dT%H:%M:%SZ)
floor_days() { python3 -c 'import sys; print((int(sys.argv[1]) - int(sys.argv[2])) // 86400)' "$1" "$2"; }
WANT_CLIENT=$(floor_days "$CLIENT_END" "$AT")
WANT_CA=$(floor_days "$CA_END" "$AT")
assert_eq -1 "$WANT_CLIENT" "the client certificate expired an hour before the check"
[ "$WANT_CA" -ge 9 ] && [ "$WANT_CA" -le 11 ] && t_pass || t_fail "CA days left $WANT_CA, want about 10"

HTTP_PORT=$(free_port 18950)
BASE="http://127.0.0.1:$HTTP_PORT"
cat >"$T/serve.env" <<EOT
DATABASE_URL=postgresql://dbssl_test@127.0.0.1:$PG_PORT/postgres
DB_SSL_MODE=verify-full
DB_SSL_REQUIRED=true
DB_SSL_CA_CERT=$C/ca.crt
DB_SSL_CLIENT_CERT=$C/client.crt
DB_SSL_CLIENT_KEY=$C/client.key
DB_SSL_EXPIRY_WARN_DAYS=30
DB_HEALTH_CHECK_INTERVAL=1
DB_CONNECT_TIMEOUT=3
EOT
echo 0 >"$T/now"
SERVE_PID=
t_cleanup_add 'if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID"; wait "$SERVE_PID"; fi'
env -i PATH="$PATH" DBSSL_TEST_NOW_FILE="$T/now" "$DBSSL_TESTCLOCK" serve --env-file "$T/serve.env" \
  --listen "127.0.0.1:$HTTP_PORT" 2>"$T/serve.log" &
SERVE_PID=$!

health() { curl -s --max-time 5 "$BASE/health/database/ssl${1:-}"; }
jq_py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
up=
for _ in $(seq 1 100); do
  if [ "$(health | jq_py 'j["client_certificate"]' 2>/dev/null)" = True ]; then up=1; break; fi
  sleep 0.1
done
[ -n "$up" ] && t_pass "serve connected with the client certificate" ||
  { t_fail "serve did not connect: $(cat "$T/serve.log")"; t_done; }

# an hour after the client certificate's end, by the service's clock
echo "@$AT" >"$T/now"
BODY=
for _ in $(seq 1 50); do
  BODY=$(health '?refresh=1')
  [ "$(jq_py 'j["checked_at"]' <<<"$BODY" 2>/dev/null)" = "$AT_ISO" ] && break
  sleep 0.1
done
assert_eq "$AT_ISO" "$(jq_py 'j["checked_at"]' <<<"$BODY")" "the check ran at the moved time"
assert_eq unhealthy "$(jq_py 'j["status"]' <<<"$BODY")" "an expired client certificate is unhealthy"
assert_eq True "$(jq_py 'j["client_certificate"]' <<<"$BODY")" "the server (real time) still took it"
days_of() { jq_py '[c["days_remaining"] for c in j["certificates"] if c["role"] == "'"$1"'"][0]' <<<"$BODY"; }
H_CLIENT=$(days_of client)
H_CA=$(days_of ca)

METRICS=$(curl -s --max-time 5 "$BASE/metrics")
gauge() { awk -v r="role=\"$1\"" '/^dbssl_cert_not_after_seconds\{/ && index($0, r) {print $NF; exit}' <<<"$METRICS"; }
M_CLIENT=$(floor_days "$(gauge client)" "$AT")
M_CA=$(floor_days "$(gauge ca)" "$AT")
assert_eq "$CLIENT_END" "$(gauge client)" "/metrics: the client certificate's not_after"

inspect_days() {
  env -i PATH="$PATH" DBSSL_TEST_NOW="@$AT" "$DBSSL_TESTCLOCK" certs inspect --json "$1" |
    jq_py 'j["certificates"][0]["days_remaining"]' || true
}
I_CLIENT=$(inspect_days "$C/client.crt")
I_CA=$(inspect_days "$C/ca.crt")

VALIDATE=$(env -i PATH="$PATH" DBSSL_TEST_NOW="@$AT" "$DBSSL_TESTCLOCK" validate --json \
  --env-file "$T/serve.env" || true)
V_CLIENT=$(jq_py '[e["detail"] for e in j["errors"] if e["setting"] == "DB_SSL_CLIENT_CERT"][0]' <<<"$VALIDATE" |
  sed -n 's/^days remaining: \(-\{0,1\}[0-9]*\)$/\1/p')
V_CA=$(jq_py '[w["message"] for w in j["warnings"] if w["setting"] == "DB_SSL_CA_CERT"][0]' <<<"$VALIDATE" |
  sed -n 's/.* expires in \([0-9]*\) days .*/\1/p')

for what in "health:$H_CLIENT:$H_CA" "metrics:$M_CLIENT:$M_CA" "inspect:$I_CLIENT:$I_CA" \
  "validate:$V_CLIENT:$V_CA"; do
  IFS=: read -r src client ca <<<"$what"
  assert_eq "$WANT_CLIENT" "$client" "$src: days left of the client certificate expired an hour ago"
  assert_eq "$WANT_CA" "$ca" "$src: days left of the CA inside the warning window"
done
assert_contains "$(cat "$T/serve.log")" "event=certificate_expired role=client" "the expiry is logged"
assert_contains "$(grep 'event=certificate_expired role=client' "$T/serve.log")" "days_remaining=-1" \
  "with the same days left"
t_done
