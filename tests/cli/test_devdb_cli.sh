#!/usr/bin/env bash
# test_devdb_cli.sh - `dbssl dev-db` refusing what a user can get wrong,
# before any server is created: a remote DATABASE_URL host, missing or
# mismatched certificate files, bad arguments, --pgbouncer without PgBouncer;
# and status/stop where nothing runs.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init

for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|PG[A-Z]*\)=.*/\1/p'); do unset "$v"; done
CERTS=$T/certs
make_test_certs "$CERTS" app || exit 1

mkdir -p "$T/bad"
printf 'DATABASE_URL=postgresql://app:pw@db.example.com:%s/appdb\nDB_SSL_AUTO_CERT_DIR=%s\n' 55999 "$CERTS" >"$T/bad/remote.env"
run_cmd "$DBSSL" dev-db start --dir "$T/bad/.dev" --env-file "$T/bad/remote.env"
assert_rc 2 "a non-loopback DATABASE_URL host"
assert_contains "$OUT" 'DATABASE_URL host "db.example.com" is not a loopback address' "remote host message"
[ ! -e "$T/bad/.dev" ] && t_pass || t_fail "a refused start created its directory"

printf 'DATABASE_URL=postgresql://app:pw@localhost:%s/appdb\nDB_SSL_AUTO_CERT_DIR=%s/nocerts\n' 55999 "$T" >"$T/bad/nocerts.env"
run_cmd "$DBSSL" dev-db start --dir "$T/bad/.dev" --env-file "$T/bad/nocerts.env"
assert_rc 2 "missing server certificate"
assert_contains "$OUT" "server certificate file \"$T/nocerts/server.crt\" is not readable" "missing certificate message"
assert_contains "$OUT" "hint:" "missing certificate hint"

run_cmd "$DBSSL" dev-db restart
assert_rc 2 "unknown action"
run_cmd "$DBSSL" dev-db start --port 99999
assert_rc 2 "invalid port"

cp -r "$CERTS" "$T/mixed" && cp "$CERTS/client.key" "$T/mixed/server.key"
printf 'DATABASE_URL=postgresql://app:pw@localhost:55999/appdb\nDB_SSL_AUTO_CERT_DIR=%s/mixed\n' "$T" >"$T/bad/mixed.env"
run_cmd "$DBSSL" dev-db start --dir "$T/bad/.dev" --env-file "$T/bad/mixed.env"
assert_rc 2 "a server key of another certificate"
assert_contains "$OUT" "server key \"$T/mixed/server.key\" does not belong to server certificate" "key mismatch message"
[ ! -e "$T/bad/.dev" ] && t_pass || t_fail "a refused start created its directory"

# ---- PgBouncer asked for and absent: refused before anything is made
: "${DBSSL_TESTCLOCK:?the test dbssl}"
NB=$T/nobouncer
P=$(free_port 55632) || exit 1
mkdir -p "$NB"
# with a set to generate: the refusal comes before it is made
printf 'DATABASE_URL=postgresql://app:pw@localhost:%s/appdb\nDB_SSL_AUTO_GENERATE=true\nDB_SSL_AUTO_CERT_DIR=%s/certs\n' "$P" "$NB" >"$NB/.env"
# should the refusal ever not come, stop what it started
t_cleanup_add "\"$DBSSL\" dev-db stop --dir '$NB/.dev'"
run_split without_pgbouncer "$DBSSL_TESTCLOCK" dev-db start --pgbouncer --dir "$NB/.dev" --env-file "$NB/.env"
assert_rc 1 "start --pgbouncer without PgBouncer: a runtime failure"
assert_line "$ERR" 'dbssl: error: PgBouncer is not installed: no "pgbouncer" program on PATH or in /usr/sbin' \
  "the refusal says PgBouncer is not installed"
assert_line "$ERR" "  hint: Install Debian's PgBouncer with \"apt-get install pgbouncer\" (dbssl runs it as a plain process; the pgbouncer service need not be enabled)." \
  "the hint says how to install it"
assert_eq "" "$OUT" "nothing on stdout: no server started"
[ ! -e "$NB/.dev" ] && t_pass || t_fail "a refused start created its directory"
[ -z "$(ls -A "$NB/certs" 2>/dev/null)" ] && t_pass "a refused start made nothing in the certificate directory" ||
  t_fail "a refused start wrote into the certificate directory: $(ls -A "$NB/certs")"
if pgrep -f -- "$NB/" >/dev/null; then t_fail "a process of $NB/.dev runs: $(pgrep -af -- "$NB/")"; else
  t_pass "no PostgreSQL was left running"; fi
if port_busy "$P"; then t_fail "port $P of DATABASE_URL is taken after the refusal"; else t_pass; fi
# the hook that made PgBouncer absent is only in the test program
assert_not_contains "$(strings "$DBSSL")" "DBSSL_TEST_PGBOUNCER_FALLBACK" "the shipped dbssl has no PgBouncer test setting"
assert_eq "" "$(nm "$DBSSL" 2>/dev/null | awk '$2 ~ /^[TtWw]$/ && $3 == "dbssl_devdb_test_bouncer_fallback"')" \
  "the shipped dbssl defines no PgBouncer hook"
assert_match "$(nm "$DBSSL_TESTCLOCK" | awk '$3 == "dbssl_devdb_test_bouncer_fallback" {print $2}')" "^[Tt]$" \
  "the test dbssl defines it"

run_cmd "$DBSSL" dev-db status --dir "$T/nothing"
assert_rc 1 "status where nothing was started"
assert_contains "$OUT" "not running" "status says not running"
run_cmd "$DBSSL" dev-db stop --dir "$T/nothing"
assert_rc 0 "stop where nothing runs"
assert_contains "$OUT" "not running" "stop says not running"
run_cmd "$DBSSL" dev-db
assert_rc 2 "no action"
assert_contains "$OUT" "missing action: start, stop or status" "no action message"
run_cmd "$DBSSL" help dev-db
assert_rc 0 "help"
assert_contains "$OUT" "Usage: dbssl dev-db start|stop|status" "usage text"

t_done
