#!/usr/bin/env bash
# test_renew.sh - issue 5: an auto-generated client certificate that reaches
# two thirds of its lifetime is renewed by the running `dbssl serve` and the
# new one is in use without a restart, against a real PostgreSQL that
# requires client certificates (dbssl dev-db).
#
# The pair is made by dbssl itself under faketime, 57475 s in the past with a
# one-day validity, so that it falls due about 25 s after the test starts;
# the CA is made at the real time and is not due, so the renewed pair is
# signed by the same CA the server already trusts.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|HTTP_LISTEN\|PG[A-Z]*\)=.*/\1/p'); do unset "$v"; done
command -v faketime >/dev/null || { t_fail "faketime is not installed (scripts/install-deps.sh installs it)"; t_done; }

cd "$T" || exit 1
PGPORT=$(free_port 59532) || exit 1
HTTP=$(free_port 18700) || exit 1
printf '%s\n' "DATABASE_URL=postgresql://renew:unused@localhost:$PGPORT/renew" \
  DB_SSL_MODE=verify-full DB_SSL_REQUIRED=true DB_SSL_AUTO_GENERATE=true \
  DB_SSL_AUTO_GENERATE_CLIENT=true DB_SSL_AUTO_CERT_VALIDITY_DAYS=1 DB_SSL_EXPIRY_WARN_DAYS=0 \
  DB_HEALTH_CHECK_INTERVAL=1 DB_CONNECT_TIMEOUT=3 "HTTP_LISTEN=127.0.0.1:$HTTP" >.env
run_cmd "$DBSSL" certs generate
assert_rc 0 "the set at the real time"
CA_SUM=$(sha256sum <ssl_certs/db/ca.crt)
rm -f ssl_certs/db/client.crt ssl_certs/db/client.key
run_cmd faketime -f "-57475" "$DBSSL" certs generate
assert_rc 0 "the client pair in the past"
assert_contains "$OUT" "client.crt" "the client pair is re-issued"
assert_eq "$CA_SUM" "$(sha256sum <ssl_certs/db/ca.crt)" "the CA is kept"
OLD=$(openssl x509 -noout -enddate -in ssl_certs/db/client.crt)

t_cleanup_add "\"$DBSSL\" dev-db stop --dir '$T/.dev'"
run_cmd "$DBSSL" dev-db start --dir "$T/.dev" --port "$PGPORT"
assert_rc 0 "dev database; output: $OUT"

"$DBSSL" serve >"$T/serve.log" 2>&1 &
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

# due about 25 s after the pair was made: the watcher wakes at the due time
NOW=""
for _ in $(seq 1 300); do
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
