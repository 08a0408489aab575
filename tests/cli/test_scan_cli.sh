#!/usr/bin/env bash
# test_scan_cli.sh - `dbssl scan` where no PostgreSQL is needed: usage
# errors (exit 2), a closed port, a black hole, servers that answer the
# SSLRequest wrongly (exit 1, each with its own message and a hint), and
# the server profile `dbssl pg-config` writes, checked with `openssl ciphers
# -v` (the real servers: tests/integration/test_scan.sh).
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|PG[A-Z]*\)=.*/\1/p'); do unset "$v"; done
cd "$T" || exit 1

# ---- usage: exit 2 --------------------------------------------------------------
for args in "" "db:0" "db:65536" "[::1" "db --profile old" "db --timeout 0" "db --timeout x" \
  "db --bogus" "a b"; do
  # shellcheck disable=SC2086
  run_split "$DBSSL" scan $args
  assert_rc 2 "dbssl scan $args"
  assert_contains "$ERR" "dbssl help scan" "usage pointer for \"$args\""
done
run_split "$DBSSL" scan db --profile old
assert_contains "$ERR" "unknown profile \"old\": expected intermediate|modern|compat" "profile message"
run_split "$DBSSL" scan db --ca-file "$T/missing.crt"
assert_rc 2 "a CA file that does not exist"
assert_contains "$ERR" "missing.crt" "the CA file is named"
run_cmd "$DBSSL" help scan
assert_rc 0 "help scan"
assert_contains "$OUT" "Exit status: 0 the profile is met" "help says the exit statuses"
run_cmd "$DBSSL" --help
assert_match "$OUT" "^  scan " "scan is in the command list"

# ---- nobody listening: exit 1 with a hint ---------------------------------------------
CLOSED=$(free_port 57100) || exit 1
run_split "$DBSSL" scan "127.0.0.1:$CLOSED"
assert_rc 1 "a closed port"
assert_contains "$ERR" "could not connect to the server at \"127.0.0.1\", port $CLOSED" "closed port message"
assert_contains "$ERR" "Connection refused" "the system's reason"
assert_contains "$ERR" "hint: Check that the server is running" "closed port hint"
run_split "$DBSSL" scan --json "127.0.0.1:$CLOSED"
assert_rc 1 "a closed port, --json"
assert_eq "could not connect" "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["error"]["message"][:17])' "$OUT")" \
  "the JSON carries the error"
run_split "$DBSSL" scan "no-such-host.invalid"
assert_rc 1 "a name that does not resolve"
assert_contains "$ERR" "could not resolve host \"no-such-host.invalid\"" "resolve message"

# ---- servers that answer wrongly ------------------------------------------------------
# fake MODE: starts tests/cli/fake_pg.py in MODE on a free port, sets FAKE_PORT
fake() {
  FAKE_PORT=$(free_port 57200) || exit 1
  python3 "$DBSSL_SRC/tests/cli/fake_pg.py" "$FAKE_PORT" "$1" >"$T/fake.$1" 2>&1 &
  t_cleanup_add "kill $!"
  for _ in $(seq 1 100); do grep -q ready "$T/fake.$1" 2>/dev/null && return 0; sleep 0.05; done
  t_fail "fake server $1 did not start"
}

fake blackhole
t0=$(date +%s%N)
run_split "$DBSSL" scan "127.0.0.1:$FAKE_PORT" --timeout 1
ms=$((($(date +%s%N) - t0) / 1000000))
assert_rc 1 "a server that never answers"
assert_contains "$ERR" "did not answer in time" "black hole message"
assert_contains "$ERR" "timed out waiting for the answer to the SSLRequest" "black hole detail"
assert_contains "$ERR" "--timeout" "black hole hint"
[ "$ms" -lt 10000 ] && t_pass || t_fail "--timeout 1 took $ms ms"

fake http
run_split "$DBSSL" scan "127.0.0.1:$FAKE_PORT"
assert_rc 1 "a web server"
assert_contains "$ERR" "did not answer like PostgreSQL" "not PostgreSQL"
assert_contains "$ERR" "byte 0x48" "what it answered"

fake refuse
run_split "$DBSSL" scan "127.0.0.1:$FAKE_PORT"
assert_rc 1 "a server without TLS"
assert_contains "$ERR" "does not accept TLS" "ssl = off"
assert_contains "$ERR" "ssl = on" "the fix"

fake error
run_split "$DBSSL" scan "127.0.0.1:$FAKE_PORT"
assert_rc 1 "an error response"
assert_contains "$ERR" "sorry, too many clients already" "the server's own message"

fake inject
run_split "$DBSSL" scan "127.0.0.1:$FAKE_PORT"
assert_rc 1 "bytes injected after 'S'"
assert_contains "$ERR" "unencrypted data after its answer to the SSLRequest" "injection refused"

fake notls
run_split "$DBSSL" scan "127.0.0.1:$FAKE_PORT"
assert_rc 1 "'S' and then no TLS"
assert_contains "$ERR" "accepted no TLS handshake" "no version"
assert_contains "$ERR" "TLSv1.3:" "the reason per version"

# ---- the server profile pg-config writes --------------------------------------------------
run_split "$DBSSL" pg-config
assert_rc 0 "pg-config"
assert_eq "" "$ERR" "no warning for the default profile"
assert_line "$OUT" "ssl_min_protocol_version = 'TLSv1.2'" "TLS 1.2 minimum"
assert_match "$OUT" "^ssl_max_protocol_version = ''" "TLS 1.3 not capped"
assert_line "$OUT" "ssl_prefer_server_ciphers = on" "the server's order"
CIPHERS=$(sed -n "s/^ssl_ciphers = '\(.*\)'$/\1/p" <<<"$OUT")
[ -n "$CIPHERS" ] && t_pass || t_fail "no ssl_ciphers line in:"$'\n'"$OUT"
# what OpenSSL makes of it: TLS 1.2 suites with ECDHE/DHE and AEAD only
V=$(openssl ciphers -v "$CIPHERS")
weak=$(awk '$2 != "TLSv1.3" && !(($3 == "Kx=ECDH" || $3 == "Kx=DH") && $6 == "Mac=AEAD" && ($5 ~ /^Enc=AESGCM/ || $5 ~ /^Enc=CHACHA20/))' <<<"$V")
assert_eq "" "$weak" "every TLS 1.2 suite has forward secrecy and AEAD"
assert_eq 9 "$(awk '$2 == "TLSv1.2"' <<<"$V" | wc -l | tr -d ' ')" "Mozilla intermediate's nine suites"
run_split "$DBSSL" pg-config --profile modern
assert_line "$OUT" "ssl_min_protocol_version = 'TLSv1.3'" "modern: TLS 1.3 only"
run_split "$DBSSL" pg-config --profile compat
assert_rc 0 "pg-config --profile compat"
assert_line "$OUT" "ssl_ciphers = 'HIGH:!aNULL:!MD5'" "compat: the guide's string"
for what in CBC SHA-1 CAMELLIA ARIA CCM8 "RSA key exchange"; do
  assert_contains "$ERR" "$what" "the compat warning names $what"
done
assert_not_contains "$OUT" "warning" "the warning is on stderr, not in the lines"
# and the warning is true: OpenSSL's own view of the guide's string
G=$(openssl ciphers -v 'HIGH:!aNULL:!MD5' | awk '$2 != "TLSv1.3"')
for field in "Mac=SHA1" "Enc=Camellia" "Enc=ARIA" "Enc=AESCCM8" "Kx=RSA " "Enc=AES(256)"; do
  assert_contains "$G" "$field" "HIGH:!aNULL:!MD5 allows $field"
done
run_split "$DBSSL" pg-config --profile weak
assert_rc 2 "an unknown pg-config profile"

t_done
