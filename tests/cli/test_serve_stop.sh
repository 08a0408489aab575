#!/usr/bin/env bash
# test_serve_stop.sh - issue 8: SIGTERM stops `dbssl serve` within a second
# in every state: idle, right after a SIGHUP (a reload under way), and while
# a renewal of the generated set waits for the set's lock (another dbssl
# holds it; the wait may last 30 s) with a SIGHUP reload queued behind it.
# Serve used to run SIGHUP reloads on the thread that takes signals, so a
# reload stuck behind a renewal kept SIGTERM unseen until it ended.
# The renewal runs on simulated time (the test-clock dbssl, src/base/clock.h):
# a set made 17 hours ago for a day, serve's clock moved to when it is due.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|HTTP_LISTEN\|APP_ENV\|LOG_FORMAT\|PG[A-Z]*\)=.*/\1/p'); do unset "$v"; done
: "${DBSSL_TESTCLOCK:?the test-clock dbssl}"
cd "$T" || exit 1

HTTP=$(free_port 18860) || exit 1
# no database listens on port 1: serve keeps retrying, which is a state too
printf '%s\n' "DATABASE_URL=postgresql://app@127.0.0.1:1/app" DB_SSL_MODE=verify-full \
  DB_SSL_AUTO_GENERATE=true DB_SSL_AUTO_GENERATE_CLIENT=true DB_SSL_AUTO_CERT_VALIDITY_DAYS=1 \
  DB_SSL_EXPIRY_WARN_DAYS=0 DB_HEALTH_CHECK_INTERVAL=1 "HTTP_LISTEN=127.0.0.1:$HTTP" >.env

# the private copies of the TLS files go under $T/run (pin.h's base: TMPDIR here)
mkdir -m 0700 "$T/run"
start_serve() { # start_serve LOG [DBSSL] : serve in the background (SERVE_PID), up and answering
  env -u RUNTIME_DIRECTORY -u XDG_RUNTIME_DIR TMPDIR="$T/run" DBSSL_TEST_NOW_FILE="$T/now" \
    "${2:-$DBSSL}" serve >"$1" 2>&1 &
  SERVE_PID=$!
  t_cleanup_add "kill -9 $SERVE_PID"
  for _ in $(seq 1 100); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$HTTP/health" && return 0
    sleep 0.1
  done
  t_fail "serve did not start: $(cat "$1")"
}
stopped_fast() { # stopped_fast WHAT : after stop_timed
  if [ "$RC" = 0 ] && [ "$ELAPSED" -lt 1000 ]; then t_pass; else
    t_fail "$1: exit status $RC after $ELAPSED ms"
  fi
  echo "SIGTERM $1: stopped in $ELAPSED ms"
}

run_cmd "$DBSSL" certs generate
assert_rc 0 "a fresh set; $OUT"

start_serve "$T/idle.log"
stop_timed "$SERVE_PID"
stopped_fast "when idle"

start_serve "$T/reload.log"
kill -HUP "$SERVE_PID"
stop_timed "$SERVE_PID"
stopped_fast "right after SIGHUP"

# ---- during a renewal that waits for the set's lock -----------------------------------
# due at two thirds of the lifetime (a day and the 5 minutes notBefore is
# backdated): made 17 hours ago, the set fell due an hour ago
run_cmd env DBSSL_TEST_NOW=-61200 "$DBSSL_TESTCLOCK" certs generate --force
assert_rc 0 "a set made 17 hours ago; $OUT"
nb=$(date -d "$(openssl x509 -noout -startdate -in ssl_certs/db/client.crt | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -noout -enddate -in ssl_certs/db/client.crt | cut -d= -f2)" +%s)
due=$((nb + (na - nb) * 2 / 3)) now=$(date +%s)
if [ "$due" -gt "$now" ] || [ "$due" -le $((now - 7200)) ]; then
  t_fail "the set was not made in the past (the test clock had no effect): due at $due, now $now"
  t_done
fi
before=$(sha256sum ssl_certs/db/*.crt ssl_certs/db/*.key)
echo -7200 >"$T/now" # serve starts two hours back, when nothing was due
start_serve "$T/renew.log" "$DBSSL_TESTCLOCK"
# another dbssl is updating the set: a process holding its flock (one
# process, so that killing it releases the lock)
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(60)' ssl_certs/db/.lock "$T/locked" &
LOCKER=$!
t_cleanup_add "kill $LOCKER"
for _ in $(seq 1 100); do [ -e "$T/locked" ] && break; sleep 0.05; done
[ -e "$T/locked" ] && t_pass || t_fail "the locker did not take the lock"
echo 0 >"$T/now" # now it is due: the watcher's renewal waits for the locker's flock
for _ in $(seq 1 100); do # serve holds .lock open while it waits for it
  ls -l "/proc/$SERVE_PID/fd" 2>/dev/null | grep -q '/ssl_certs/db/\.lock$' && break
  sleep 0.05
done
if ls -l "/proc/$SERVE_PID/fd" 2>/dev/null | grep -q '/ssl_certs/db/\.lock$'; then
  t_pass "the renewal waits for the set's lock"
else
  t_fail "no renewal waiting for the lock: $(cat "$T/renew.log")"
fi
kill -HUP "$SERVE_PID" # queued behind the renewal, which holds the reload lock
sleep 0.2
copies=$(ls -d "$T/run/dbssl-tls-$SERVE_PID-"* 2>/dev/null)
[ -n "$copies" ] && [ -e "$copies/client.key" ] && t_pass || t_fail "no private copies while serving: $(ls -la "$T/run")"
stop_timed "$SERVE_PID"
stopped_fast "during a renewal"
# the renewal really was under way: the stop had to leave it behind
assert_contains "$(cat "$T/renew.log")" "event=stop_forced" "the renewal was still waiting at SIGTERM"
# and the copies (a client key among them) did not outlive the forced stop
assert_eq "" "$(ls -A "$T/run")" "the private copies are erased by the forced stop"
assert_not_contains "$(cat "$T/renew.log")" "event=certificate_renewed" "nothing was renewed"
kill "$LOCKER"
wait "$LOCKER" 2>/dev/null
assert_eq "$before" "$(sha256sum ssl_certs/db/*.crt ssl_certs/db/*.key)" "the set is untouched"
[ ! -e ssl_certs/db/.pending ] && t_pass || t_fail "a staging area was left behind"
run_cmd "$DBSSL" certs generate
assert_rc 0 "the next run renews the set; $OUT"
run_cmd openssl verify -CAfile ssl_certs/db/ca.crt ssl_certs/db/server.crt ssl_certs/db/client.crt
assert_rc 0 "the renewed set verifies"

t_done
