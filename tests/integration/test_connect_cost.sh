#!/usr/bin/env bash
# test_connect_cost.sh - dbssl_connect() does on the wire what libpq does
# unless the caller asks for the TLS report: with no state, the server sees
# the application's own statements only (no pg_stat_ssl query), and the
# connection is as verified (verify-full, client certificate) as with a
# state; with a state, the report's server view costs one pg_stat_ssl
# query.  Without a state the fail-closed rule still holds: a plaintext
# session is refused when TLS is required.  The server logs every
# statement (log_statement = all); the client is bench/connect.c.

. "${DBSSL_SRC:?source tree}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init
PROBE=${DBSSL_BUILD:?build directory}/bench_connect
[ -x "$PROBE" ] || { t_fail "$PROBE is not built"; t_done; }

C=$T/certs
make_test_certs "$C" app
LOGGING="log_statement = 'all'
log_line_prefix = '%a '"
pg_start_mtls "$C/server.crt" "$C/server.key" "$C/ca.crt" app "$LOGGING"
LOG=$PG_DIR/srv/server.log

mkdir -p "$T/app"
cat >"$T/app/.env" <<EOF2
DATABASE_URL=postgresql://app@localhost:$PG_PORT/postgres
DB_SSL_MODE=verify-full
DB_SSL_CA_CERT=$C/ca.crt
DB_SSL_CLIENT_CERT=$C/client.crt
DB_SSL_CLIENT_KEY=$C/client.key
EOF2
probe() { (cd "$T/app" && env -i PATH="$PATH" "$PROBE" "$@"); }
# statements the server logged for application_name dbssl since line $1
statements() { tail -n +"$1" "$LOG" | grep -E '^dbssl .*LOG: +statement: ' | sed 's/.*statement: //' || true; }

mark=$(($(wc -l <"$LOG") + 1))
run_cmd probe dbssl 3
assert_rc 0 "dbssl_connect without a state, verify-full with a client certificate; $OUT"
got=$(statements "$mark")
assert_eq "$(printf 'SELECT 1\nSELECT 1\nSELECT 1')" "$got" "statements of 3 connections without a state"

mark=$(($(wc -l <"$LOG") + 1))
run_cmd probe dbssl-state 2
assert_rc 0 "dbssl_connect with a state; $OUT"
got=$(statements "$mark")
assert_eq 2 "$(grep -c 'pg_stat_ssl' <<<"$got")" "one pg_stat_ssl query per connection with a state"
assert_eq 2 "$(grep -cx 'SELECT 1' <<<"$got")" "and the application's statements"

# fail closed without a state: the server drops TLS, TLS is required
pg_configure "ssl = off
$LOGGING" "host all all 127.0.0.1/32 trust"
pg_restart
cat >"$T/app/.env" <<EOF2
DATABASE_URL=postgresql://app@localhost:$PG_PORT/postgres
DB_SSL_MODE=prefer
DB_SSL_REQUIRED=true
EOF2
run_cmd probe dbssl 1
assert_rc 1 "a plaintext session with DB_SSL_REQUIRED=true"
assert_contains "$OUT" "the connection is not encrypted but TLS is required" "refused without a state too"
t_done
