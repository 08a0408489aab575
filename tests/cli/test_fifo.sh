#!/usr/bin/env bash
# test_fifo.sh - issue 8: a FIFO (named pipe) where a file belongs.  Opening
# a FIFO for reading waits for a writer, so a FIFO given as a certificate,
# key, CRL or .env used to hang validate, status, certs inspect and serve,
# and a .env swapped for a FIFO blocked the reload and with it SIGTERM.
# Each case must now fail within a second with an error naming the setting
# (timeout 5 turns a regression into a failure instead of a hang); serve
# with a FIFO .env swapped in keeps running and stops within a second.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|HTTP_LISTEN\|APP_ENV\|LOG_FORMAT\|PG[A-Z]*\)=.*/\1/p'); do unset "$v"; done
cd "$T" || exit 1

make_test_certs "$T/pki" app || { t_fail "test certificates"; t_done; }
mkfifo "$T/pipe"
HTTP=$(free_port 18830) || exit 1
# a database nobody listens on: nothing here needs one
export DATABASE_URL="postgresql://app@127.0.0.1:1/app" DB_SSL_MODE=verify-full \
  DB_SSL_CA_CERT="$T/pki/ca.crt" DB_SSL_CLIENT_CERT="$T/pki/client.crt" \
  DB_SSL_CLIENT_KEY="$T/pki/client.key" HTTP_LISTEN="127.0.0.1:$HTTP" DB_HEALTH_CHECK_INTERVAL=1

# run_timed CMD... : run_cmd under timeout 5; ELAPSED is the wall time in ms
run_timed() {
  local t0
  t0=$(date +%s%N)
  run_cmd timeout 5 "$@"
  ELAPSED=$((($(date +%s%N) - t0) / 1000000))
}
fast() { # fast WHAT : the last run_timed took less than a second
  if [ "$RC" != 124 ] && [ "$ELAPSED" -lt 1000 ]; then t_pass; else t_fail "$1 took $ELAPSED ms (rc $RC)"; fi
}

run_cmd "$DBSSL" validate --no-generate
assert_rc 0 "the settings without a FIFO are valid (so the FIFO is the only fault); $OUT"

# ---- a FIFO in each file setting: validate, status, serve ------------------------------
# setting           what the reader calls the file
cases="DB_SSL_CA_CERT     certificate file
DB_SSL_CLIENT_CERT  certificate file
DB_SSL_CLIENT_KEY   private key file
DB_SSL_CRL          CRL file"
while read -r setting what; do
  for cmd in validate status serve; do
    run_timed env "$setting=$T/pipe" "$DBSSL" $cmd
    fast "$cmd with $setting a FIFO"
    assert_rc 2 "$cmd with $setting a FIFO"
    assert_contains "$OUT" "error: $setting: $what \"$T/pipe\" is a named pipe (FIFO), not a regular file" \
      "$cmd names $setting"
    assert_contains "$OUT" "hint: Point $setting at the file itself" "$cmd: the fix for $setting"
  done
done <<<"$cases"

# ---- certs inspect: a FIFO named on the command line, and as the CA to verify against ---
run_timed "$DBSSL" certs inspect "$T/pipe"
fast "certs inspect FIFO"
assert_rc 1 "certs inspect FIFO"
assert_contains "$OUT" "certificate file \"$T/pipe\" is a named pipe (FIFO)" "certs inspect names the file"
run_timed env DB_SSL_CA_CERT="$T/pipe" "$DBSSL" certs inspect "$T/pki/client.crt"
fast "certs inspect with DB_SSL_CA_CERT a FIFO"
assert_contains "$OUT" "CA certificate file \"$T/pipe\" is a named pipe (FIFO)" \
  "certs inspect: the CA to verify against is a FIFO"
run_timed env DB_SSL_CA_CERT="$T/pipe" "$DBSSL" certs inspect
fast "certs inspect of the configured files, CA a FIFO"
assert_contains "$OUT" "certificate file \"$T/pipe\" is a named pipe (FIFO)" "certs inspect (settings)"

# ---- .env as a FIFO: the default ./.env and --env-file -----------------------------------
ln -s "$T/pipe" .env
for cmd in validate status serve; do
  run_timed "$DBSSL" $cmd
  fast "$cmd with ./.env a FIFO"
  assert_rc 2 "$cmd with ./.env a FIFO"
  assert_contains "$OUT" "env file \"./.env\" is a named pipe (FIFO)" "$cmd names ./.env"
  run_timed "$DBSSL" $cmd --env-file "$T/pipe"
  fast "$cmd --env-file FIFO"
  assert_rc 2 "$cmd --env-file FIFO"
  assert_contains "$OUT" "env file \"$T/pipe\" is a named pipe (FIFO)" "$cmd names the --env-file"
done
rm .env

# ---- serve: .env swapped for a FIFO; the reload fails at once, SIGTERM still works ------
env | grep -E '^(DATABASE_URL|DB_|HTTP_LISTEN)' >.env
for v in $(sed 's/=.*//' .env); do unset "$v"; done
"$DBSSL" serve >"$T/serve.log" 2>&1 &
SERVE_PID=$!
t_cleanup_add "kill -9 $SERVE_PID"
for _ in $(seq 1 100); do
  curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$HTTP/health" && break
  sleep 0.1
done
curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$HTTP/health" && t_pass ||
  t_fail "serve did not start: $(cat "$T/serve.log")"

mv .env env.good && ln -s "$T/pipe" .env
for _ in $(seq 1 50); do # the watcher reloads on the change
  grep -q 'event=reload_failed.*is a named pipe' "$T/serve.log" && break
  sleep 0.1
done
assert_match "$(cat "$T/serve.log")" 'event=reload_failed .*env file \\"./.env\\" is a named pipe \(FIFO\)' \
  "the reload refuses the FIFO .env"
kill -HUP "$SERVE_PID" # and a reload by signal, still on the FIFO
sleep 0.3
run_cmd kill -0 "$SERVE_PID"
assert_rc 0 "serve keeps running on the settings it had"
curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$HTTP/health" && t_pass ||
  t_fail "serve does not answer after the refused reloads"
stop_timed "$SERVE_PID"
fast "SIGTERM with a FIFO .env"
assert_eq 0 "$RC" "serve stopped by SIGTERM exits 0"
echo "SIGTERM to serve with a FIFO .env: stopped in $ELAPSED ms"

t_done
