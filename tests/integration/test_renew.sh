#!/usr/bin/env bash
# test_renew.sh - issue 5: an auto-generated client certificate that reaches
# two thirds of its lifetime is renewed by the running `dbssl serve` and the
# new one is in use without a restart, against a real PostgreSQL that
# requires client certificates (dbssl dev-db).
#
# On simulated time (the test-clock dbssl, src/base/clock.h) instead of waiting:
# the set is made 17 hours ago, the CA and server pair for three days and
# the client pair for one, so the client pair fell due an hour ago while
# the CA is not due (the renewed pair is signed by the CA the server already
# trusts).  dev-db and serve start with their clock two hours back, when
# nothing was due yet; then the test moves serve's clock to the real time
# and the watcher renews the pair at once.  The server, at the real time,
# accepts the old pair and the new one.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|HTTP_LISTEN\|PG[A-Z]*\)=.*/\1/p'); do unset "$v"; done
: "${DBSSL_TESTCLOCK:?the test-clock dbssl}"

cd "$T" || exit 1
PGPORT=$(free_port 59532) || exit 1
HTTP=$(free_port 18700) || exit 1
printf '%s\n' "DATABASE_URL=postgresql://renew:unused@localhost:$PGPORT/renew" \
  DB_SSL_MODE=verify-full DB_SSL_REQUIRED=true DB_SSL_AUTO_GENERATE=true \
  DB_SSL_AUTO_GENERATE_CLIENT=true DB_SSL_AUTO_CERT_VALIDITY_DAYS=1 DB_SSL_EXPIRY_WARN_DAYS=0 \
  DB_HEALTH_CHECK_INTERVAL=1 DB_CONNECT_TIMEOUT=3 "HTTP_LISTEN=127.0.0.1:$HTTP" >.env
run_cmd env DBSSL_TEST_NOW=-61200 DB_SSL_AUTO_CERT_VALIDITY_DAYS=3 "$DBSSL_TESTCLOCK" certs generate
assert_rc 0 "the set 17 hours ago, for three days"
CA_SUM=$(sha256sum <ssl_certs/db/ca.crt)
rm -f ssl_certs/db/client.crt ssl_certs/db/client.key
run_cmd env DBSSL_TEST_NOW=-61200 "$DBSSL_TESTCLOCK" certs generate
assert_rc 0 "the client pair 17 hours ago, for a day"
assert_contains "$OUT" "client.crt" "the client pair is re-issued"
assert_eq "$CA_SUM" "$(sha256sum <ssl_certs/db/ca.crt)" "the CA is kept"
OLD=$(openssl x509 -noout -enddate -in ssl_certs/db/client.crt)
# two thirds of its lifetime are behind it: due now, not two hours ago
nb=$(date -d "$(openssl x509 -noout -startdate -in ssl_certs/db/client.crt | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -noout -enddate -in ssl_certs/db/client.crt | cut -d= -f2)" +%s)
due=$((nb + (na - nb) * 2 / 3)) now=$(date +%s)
[ "$due" -le "$now" ] && [ "$due" -gt $((now - 7200)) ] && t_pass || t_fail "due at $due, now $now"
echo -7200 >"$T/now"

t_cleanup_add "\"$DBSSL\" dev-db stop --dir '$T/.dev'"
run_cmd env DBSSL_TEST_NOW_FILE="$T/now" "$DBSSL_TESTCLOCK" dev-db start --dir "$T/.dev" --port "$PGPORT"
assert_rc 0 "dev database; output: $OUT"

DBSSL_TEST_NOW_FILE="$T/now" "$DBSSL_TESTCLOCK" serve >"$T/serve.log" 2>&1 &
SERVE_PID=$!
t_cleanup_add "kill $SERVE_PID"

# "STATUS NOT_AFTER" of the client certificate in /health/database/ssl
client_state() {
  curl -s --max-time 2 "http://127.0.0.1:$HTTP/health/database/ssl" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["status"], [c["not_after"] for c in d["certificates"] if c["role"] == "client"][0])' 2>/dev/null
}
FIRST=""
for _ in $(seq 1 100); do
  FIRST=$(client_state)
  case "$FIRST" in healthy*) break ;; esac
  sleep 0.2
done
case "$FIRST" in healthy*) t_pass ;; *) t_fail "serve not healthy at start: \"$FIRST\"; log: $(cat "$T/serve.log")" ;; esac

# two hours later by serve's clock: the pair is due, and renewed without a restart
assert_not_contains "$(cat "$T/serve.log")" "event=certificate_renewed" "nothing renewed before"
echo 0 >"$T/now"
NOW=""
for _ in $(seq 1 100); do
  NOW=$(client_state)
  if [ -n "$NOW" ] && [ "$NOW" != "$FIRST" ]; then
    case "$NOW" in healthy*) break ;; esac
  fi
  sleep 0.2
done
[ -n "$NOW" ] && [ "$NOW" != "$FIRST" ] && t_pass || t_fail "the client certificate was not renewed: still \"$NOW\""
case "$NOW" in healthy*) t_pass ;; *) t_fail "not healthy with the renewed pair: \"$NOW\"" ;; esac
NEW=$(openssl x509 -noout -enddate -in ssl_certs/db/client.crt)
[ "$OLD" != "$NEW" ] && t_pass || t_fail "client.crt on disk was not replaced ($OLD)"
run_cmd openssl verify -CAfile ssl_certs/db/ca.crt ssl_certs/db/client.crt
assert_rc 0 "the renewed pair is signed by the same CA"
assert_eq "$CA_SUM" "$(sha256sum <ssl_certs/db/ca.crt)" "the CA is still the one the server trusts"
LOG=$(cat "$T/serve.log")
assert_contains "$LOG" "event=certificate_renewed" "the renewal is logged"
assert_contains "$LOG" "event=reloaded" "and taken into use by a reload"
assert_eq 1 "$(grep -c 'event=reloaded' "$T/serve.log")" "one reload for one renewal"
run_cmd kill -0 "$SERVE_PID"
assert_rc 0 "serve kept running (no restart)"
t_done
