#!/usr/bin/env bash
# test_scan.sh - `dbssl scan` against real PostgreSQL 15 servers, with
# sslscan (Debian's sslscan, --starttls-psql) as the oracle: a server with
# PostgreSQL's default ssl_ciphers, one with the guide's 'HIGH:!aNULL:!MD5',
# and the development database (`dbssl dev-db start`, configured by
# pgconf.c's default profile).  For each, the protocols and suites dbssl
# finds are the ones sslscan finds; the first two fail the intermediate
# profile naming the offending suites, the development database passes it,
# and sslscan finds nothing weak on it.  Then ssl = off.
# Mistakes that need no PostgreSQL: tests/cli/test_scan_cli.sh.
. "${DBSSL_SRC:?}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init

for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|PG[A-Z]*\)=.*/\1/p'); do unset "$v"; done
command -v sslscan >/dev/null || { t_fail "sslscan is not installed (scripts/install-deps.sh --test)"; t_done; }

CERTS=$T/certs
make_test_certs "$CERTS" app || exit 1
cd "$T" || exit 1 # no .env of the checkout

# "PROTO NAME" lines of what dbssl found, sorted
dbssl_suites() {
  python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
for proto, s in j["cipher_suites"].items():
    for suite in s["suites"]:
        print(proto, suite["name"])' "$1" | sort
}
dbssl_protocols() {
  python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print(" ".join(p for p, on in sorted(j["protocols"].items()) if on))' "$1"
}
# the same from sslscan's report
sslscan_suites() {
  sed -n 's/^\(Preferred\|Accepted\) *\(TLSv1\.[0-3]\) *[0-9]* bits *\([^ ]*\).*/\2 \3/p' "$1" | sort
}
sslscan_protocols() {
  sed -n 's/^\(TLSv1\.[0-3]\) *enabled$/\1/p' "$1" | sort | tr '\n' ' ' | sed 's/ $//'
}

# scan_and_compare NAME PORT [dbssl options]: dbssl scan --json and sslscan, compared
scan_and_compare() {
  local name=$1 port=$2
  shift 2
  run_split "$DBSSL" scan --json "127.0.0.1:$port" "$@"
  SCAN_RC=$RC
  printf '%s\n' "$OUT" >"$T/$name.json"
  sslscan --starttls-psql --no-colour "127.0.0.1:$port" >"$T/$name.sslscan" 2>&1
  assert_eq "$(sslscan_protocols "$T/$name.sslscan")" "$(dbssl_protocols "$T/$name.json")" \
    "$name: protocols (dbssl vs sslscan)"
  local ours theirs
  ours=$(dbssl_suites "$T/$name.json")
  theirs=$(sslscan_suites "$T/$name.sslscan")
  [ -n "$theirs" ] && t_pass || t_fail "$name: sslscan found no suite:"$'\n'"$(cat "$T/$name.sslscan")"
  if [ "$ours" = "$theirs" ]; then t_pass; else
    t_fail "$name: suites differ (< dbssl, > sslscan):"$'\n'"$(diff <(echo "$ours") <(echo "$theirs"))"
  fi
  # bounded: a generous limit, the measured figure is in the output
  local hs ms
  hs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["handshakes"])' "$T/$name.json")
  ms=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["duration_ms"])' "$T/$name.json")
  t_log "$name: $hs handshakes in $ms ms"
  [ "$hs" -le 60 ] && t_pass || t_fail "$name: $hs handshakes"
  [ "$ms" -lt 20000 ] && t_pass || t_fail "$name: the scan took $ms ms"
}

# ---- one cluster, reconfigured: PostgreSQL's default ssl_ciphers, then the guide's ----
pg_setup || exit 1
pg_install_server_cert "$CERTS/server.crt" "$CERTS/server.key" "$CERTS/ca.crt"
TLS_CONF=$(pg_tls_conf)
pg_configure "$TLS_CONF
log_connections = on" "hostssl all all 127.0.0.1/32 trust"
pg_start || exit 1
assert_eq "HIGH:MEDIUM:+3DES:!aNULL" "$(pg_sql 'show ssl_ciphers' | sed -n 3p | tr -d ' ')" "the default ssl_ciphers"

LOGGED_IN=$(grep -c "connection authorized" "$PG_DIR/srv/server.log")
scan_and_compare pgdefault "$PG_PORT" --ca-file "$CERTS/ca.crt"
# the scanner connected many times and never logged in (no StartupMessage)
assert_eq "$LOGGED_IN" "$(grep -c "connection authorized" "$PG_DIR/srv/server.log")" "no login by the scanner"
RECEIVED=$(grep -c "connection received: host=127.0.0.1" "$PG_DIR/srv/server.log")
[ "$RECEIVED" -ge 20 ] && t_pass || t_fail "the server saw $RECEIVED scanner connections"
assert_eq 1 "$SCAN_RC" "PostgreSQL's default fails the intermediate profile"
FAILED=$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
for f in j["grade"]["findings"]:
    if f["severity"] == "fail":
        for i in f["items"]: print(f["id"], i["name"], "|", f["fix"])' "$T/pgdefault.json")
assert_contains "$FAILED" "tls12_suites ECDHE-ECDSA-AES128-SHA " "a CBC/SHA-1 suite is named"
assert_contains "$FAILED" "tls12_suites ECDHE-ECDSA-AES256-CCM8 " "a CCM8 suite is named"
assert_contains "$FAILED" "tls12_suites ECDHE-ECDSA-CAMELLIA128-SHA256 " "a CAMELLIA suite is named"
assert_contains "$FAILED" "tls12_suites ECDHE-ECDSA-ARIA128-GCM-SHA256 " "an ARIA suite is named"
assert_contains "$FAILED" "| ssl_ciphers = 'ECDHE-ECDSA-AES128-GCM-SHA256:" "the fix is the ssl_ciphers line"
assert_not_contains "$FAILED" "ECDHE-ECDSA-AES128-GCM-SHA256 |" "a profile suite is not named"
# PostgreSQL's ssl_prefer_server_ciphers is on by default, ssl_ecdh_curve prime256v1
assert_eq "True P-256" "$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print(j["cipher_suites"]["TLSv1.2"]["server_order"], " ".join(j["groups"]))' "$T/pgdefault.json")" \
  "server order and groups"
assert_eq "True True True" "$(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["chain"]
print(c["host_matches"], c["complete"], c["trusted"])' "$T/pgdefault.json")" "the chain against --ca-file"

# a CA file with text after its certificate is refused as validation refuses it,
# before any connection (the trust store's loader refusing it too: unit/test_scan)
{ cat "$CERTS/ca.crt"; echo "not a certificate"; } >"$T/junk-ca.crt"
run_split "$DBSSL" scan "localhost:$PG_PORT" --json --ca-file "$T/junk-ca.crt"
assert_rc 2 "scan with a damaged --ca-file"
assert_contains "$ERR" "CA file \"$T/junk-ca.crt\"" "the error names the refused CA file"

# the human report says the same, with the reasons
run_cmd "$DBSSL" scan "127.0.0.1:$PG_PORT"
assert_rc 1 "text scan of the default"
assert_match "$OUT" "^fail: 12 TLSv1.2 suites outside the intermediate profile$" "the count of offending suites"
assert_match "$OUT" "ECDHE-ECDSA-AES128-SHA +CBC, SHA-1 MAC$" "the reason of a suite"
assert_contains "$OUT" "  fix: ssl_ciphers = '" "the fix line"
assert_contains "$OUT" "profile intermediate" "the profile is named"
# compat (Mozilla old) allows CBC and SHA-1, not CAMELLIA, ARIA or CCM
run_cmd "$DBSSL" scan "127.0.0.1:$PG_PORT" --profile compat
assert_rc 1 "the default against compat"
assert_match "$OUT" "ECDHE-ECDSA-CAMELLIA128-SHA256 +CAMELLIA, CBC$" "compat names CAMELLIA"
assert_not_contains "${OUT#*profile compat}" "ECDHE-ECDSA-AES128-SHA " "compat allows ECDHE-ECDSA-AES128-SHA"

# ---- the guide's HIGH:!aNULL:!MD5 ------------------------------------------------
pg_configure "$TLS_CONF
ssl_ciphers = 'HIGH:!aNULL:!MD5'" "hostssl all all 127.0.0.1/32 trust"
pg_restart || exit 1
scan_and_compare guide "$PG_PORT"
assert_eq 1 "$SCAN_RC" "the guide's ssl_ciphers fail the intermediate profile"
run_cmd python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print([i["name"] for f in j["grade"]["findings"] if f["id"] == "tls12_suites" for i in f["items"]])' "$T/guide.json"
assert_contains "$OUT" "ECDHE-ECDSA-AES256-SHA384" "the guide's CBC suite is named"
assert_contains "$OUT" "ECDHE-ECDSA-AES128-CCM8" "the guide's CCM8 suite is named"
# modern: TLS 1.2 itself is the deviation, fixed by the minimum version
run_cmd "$DBSSL" scan "127.0.0.1:$PG_PORT" --profile modern
assert_rc 1 "the guide's server against modern"
assert_contains "$OUT" "fix: ssl_min_protocol_version = 'TLSv1.3'" "modern's fix"

# ---- pg-config's default lines on the same server pass -------------------------------
PGCONF=$("$DBSSL" pg-config 2>/dev/null | grep -E "^ssl_(min|max)_protocol_version|^ssl_ciphers|^ssl_prefer")
pg_configure "$TLS_CONF
$PGCONF" "hostssl all all 127.0.0.1/32 trust"
pg_restart || exit 1
scan_and_compare pgconfig "$PG_PORT" --ca-file "$CERTS/ca.crt"
assert_eq 0 "$SCAN_RC" "pg-config's lines meet the intermediate profile: $(cat "$T/pgconfig.json")"
run_cmd "$DBSSL" scan "127.0.0.1:$PG_PORT" --profile modern
assert_rc 1 "pg-config's default lines keep TLS 1.2 (modern fails)"

# ---- ssl = off: a clear error ----------------------------------------------------------
pg_configure "ssl = off" "host all all 127.0.0.1/32 trust"
pg_restart || exit 1
run_split "$DBSSL" scan "127.0.0.1:$PG_PORT"
assert_rc 1 "a server without TLS"
assert_contains "$ERR" "does not accept TLS" "ssl = off is said"
assert_contains "$ERR" "hint: Turn TLS on in postgresql.conf (ssl = on" "with the fix"
run_split "$DBSSL" scan --json "127.0.0.1:$PG_PORT"
assert_rc 1 "--json on a server without TLS"
assert_contains "$OUT" '"message": "server at' "the error is in the JSON too"
pg_stop
pg_cleanup

# ---- the development database --------------------------------------------------------
P=$(free_port 55460) || exit 1
DEV=$T/devdb/.dev
mkdir -p "$T/devdb"
cat >"$T/devdb/.env" <<EOF2
DATABASE_URL=postgresql://app:scan-pw@localhost:$P/appdb
DB_SSL_MODE=verify-full
DB_SSL_AUTO_GENERATE=true
DB_SSL_AUTO_GENERATE_CLIENT=true
DB_SSL_AUTO_CERT_DIR=$CERTS
EOF2
t_cleanup_add "\"$DBSSL\" dev-db stop --dir '$DEV'"
run_cmd "$DBSSL" dev-db start --dir "$DEV" --env-file "$T/devdb/.env"
assert_rc 0 "dev-db start"
scan_and_compare devdb "$P" --ca-file "$CERTS/ca.crt"
assert_eq 0 "$SCAN_RC" "the development database meets the intermediate profile: $(cat "$T/devdb.json")"
run_cmd "$DBSSL" scan "localhost:$P" --ca-file "$CERTS/ca.crt"
assert_rc 0 "by name too"
assert_match "$OUT" "^profile intermediate .*: met, 0 failures" "the text says met"

# sslscan on the development database: nothing below TLS 1.2, only ECDHE/DHE with AEAD.
# The allowed set is what `openssl ciphers -v` calls Kx=ECDH/DH, Mac=AEAD, AES-GCM or ChaCha20.
GOOD=$(openssl ciphers -v 'ALL:@SECLEVEL=0' | awk '$2 == "TLSv1.2" && ($3 == "Kx=ECDH" || $3 == "Kx=DH") && $6 == "Mac=AEAD" && ($5 ~ /^Enc=AESGCM/ || $5 ~ /^Enc=CHACHA20/) {print $1}')
assert_eq "TLSv1.2 TLSv1.3" "$(sslscan_protocols "$T/devdb.sslscan")" "sslscan: only TLS 1.2 and 1.3"
bad=""
while read -r proto name; do
  [ "$proto" = TLSv1.3 ] && continue
  grep -qxF "$name" <<<"$GOOD" || bad="$bad $name"
done < <(sslscan_suites "$T/devdb.sslscan")
assert_eq "" "$bad" "sslscan: no CBC, SHA-1 MAC, CCM8, CAMELLIA, ARIA or RSA key exchange"
assert_not_contains "$(cat "$T/devdb.sslscan")" "CCM" "sslscan: no CCM suite at all"

# libpq still connects with verify-full, the password and the client certificate
export PGPASSWORD=scan-pw
assert_eq "t|TLSv1.3" "$(psql -X -A -t -c "select ssl, version from pg_stat_ssl where pid = pg_backend_pid()" \
  "host=localhost port=$P user=app dbname=appdb sslmode=verify-full sslrootcert=$CERTS/ca.crt sslcert=$CERTS/client.crt sslkey=$CERTS/client.key connect_timeout=10" 2>&1)" \
  "verify-full with a client certificate"
# a TLS 1.2 client gets an AEAD suite with forward secrecy (the server's first choice)
assert_eq "t|TLSv1.2|ECDHE-ECDSA-AES128-GCM-SHA256" "$(psql -X -A -t -c "select ssl, version, cipher from pg_stat_ssl where pid = pg_backend_pid()" \
  "host=localhost port=$P user=app dbname=appdb sslmode=verify-full sslrootcert=$CERTS/ca.crt sslcert=$CERTS/client.crt sslkey=$CERTS/client.key ssl_max_protocol_version=TLSv1.2 connect_timeout=10" 2>&1)" \
  "a TLS 1.2 session"
"$DBSSL" dev-db stop --dir "$DEV" >/dev/null

t_done
