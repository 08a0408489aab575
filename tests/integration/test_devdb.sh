#!/usr/bin/env bash
# test_devdb.sh - `dbssl dev-db` against the real PostgreSQL it starts: TLS 1.3
# on localhost, 127.0.0.1 and ::1 with verify-full and a client certificate,
# plaintext refused, status/stop/idempotence, --pgbouncer without PgBouncer
# leaving the running server alone, a busy port and the scram variant.
# Mistakes that need no server: tests/cli/test_devdb_cli.sh.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init

# the runner's own settings must not leak into the test's .env files
for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|PG[A-Z]*\)=.*/\1/p'); do unset "$v"; done

CERTS=$T/certs
make_test_certs "$CERTS" app || exit 1

# $1 dir: stop the server of that dev directory at exit, whatever happens
stop_at_exit() {
  t_cleanup_add "\"$DBSSL\" dev-db stop --dir '$1'"
  # last resort if dbssl itself cannot stop it
  t_cleanup_add "[ -f '$1/pgdata/postmaster.pid' ] && kill -9 \$(head -1 '$1/pgdata/postmaster.pid')"
}

# tls_query HOST PORT [extra conninfo]: what pg_stat_ssl says about this session
# (PGPASSWORD: the role's password, set by dev-db from DATABASE_URL)
tls_query() {
  PGPASSWORD=${PGPASSWORD:-$MTLS_PW} psql -X -A -t -c "select ssl, version from pg_stat_ssl where pid = pg_backend_pid()" \
    "host=$1 port=$2 user=app dbname=appdb sslmode=verify-full sslrootcert=$CERTS/ca.crt connect_timeout=10 ${3:-}" 2>&1
}

# ---- mutual TLS: a password and a client certificate ---------------------------
MTLS_PW=mtls-Secret-pw
P=$(free_port 55432) || exit 1
DEV=$T/mtls/.dev
mkdir -p "$T/mtls"
cat >"$T/mtls/.env" <<EOF
DATABASE_URL=postgresql://app:$MTLS_PW@localhost:$P/appdb
DB_SSL_MODE=verify-full
DB_SSL_AUTO_GENERATE=true
DB_SSL_AUTO_GENERATE_CLIENT=true
DB_SSL_AUTO_CERT_DIR=$CERTS
EOF
stop_at_exit "$DEV"
run_cmd "$DBSSL" dev-db start --dir "$DEV" --env-file "$T/mtls/.env"
assert_rc 0 "dev-db start"
assert_contains "$OUT" "on port $P" "start names the port"
assert_contains "$OUT" "DATABASE_URL=postgresql://app:***@localhost:$P/appdb" "start prints the redacted URL"
assert_not_contains "$OUT" "$MTLS_PW" "start never prints the password"
assert_contains "$OUT" "scram-sha-256 password and client certificate (clientcert=verify-full)" \
  "start says how clients authenticate"

CLIENT="sslcert=$CERTS/client.crt sslkey=$CERTS/client.key"
for host in localhost 127.0.0.1 ::1; do
  assert_eq "t|TLSv1.3" "$(tls_query "$host" "$P" "$CLIENT")" "TLS session over $host"
done
run_cmd psql -X -A -t -c "select 1" "host=127.0.0.1 port=$P user=app dbname=appdb sslmode=disable connect_timeout=10"
[ "$RC" -ne 0 ] && t_pass || t_fail "a plaintext TCP connection was accepted"
assert_contains "$OUT" "no encryption" "the plaintext refusal comes from pg_hba"
run_cmd tls_query localhost "$P" "sslcert=/nonexistent sslkey=/nonexistent"
assert_not_contains "$OUT" "t|TLSv1.3" "without a client certificate the server refuses"
assert_contains "$OUT" "certificate" "the refusal is about the certificate"
# the certificate does not replace the password
run_cmd env PGPASSWORD=wrong psql -X -A -t -c "select 1" \
  "host=localhost port=$P user=app dbname=appdb sslmode=verify-full sslrootcert=$CERTS/ca.crt $CLIENT connect_timeout=10"
assert_contains "$OUT" "password authentication failed" "a wrong password with a good certificate is refused"

# the server's key copy follows PostgreSQL's rule; the directory is private
assert_eq "600" "$(stat -c %a "$DEV/pgdata/server.key")" "server key mode"
assert_eq "$(stat -c %U "$DEV/pgdata")" "$(stat -c %U "$DEV/pgdata/server.key")" "server key owner"
assert_eq "700" "$(stat -c %a "$DEV")" "dev directory mode"
if [ "$(id -u)" = 0 ]; then
  assert_eq "postgres" "$(stat -c %U "$DEV/pgdata")" "as root the server runs as postgres"
fi

run_cmd "$DBSSL" dev-db status --dir "$DEV"
assert_rc 0 "status while running"
assert_contains "$OUT" "running on port $P" "status says running and the port"

run_cmd "$DBSSL" dev-db start --dir "$DEV" --env-file "$T/mtls/.env"
assert_rc 0 "start when already running"
assert_contains "$OUT" "already running on port $P" "second start says so"

# a set renewed while the server runs: the next start hands the server the
# new files (a reload), so that clients with the new ca.crt verify it
SPID=$(head -1 "$DEV/pgdata/postmaster.pid")
old_fp=$(openssl x509 -in "$DEV/pgdata/server.crt" -noout -fingerprint -sha256)
run_cmd "$DBSSL" certs generate --force --env-file "$T/mtls/.env"
assert_rc 0 "certs generate --force while the server runs"
run_cmd "$DBSSL" dev-db start --dir "$DEV" --env-file "$T/mtls/.env"
assert_rc 0 "start after the set was renewed"
assert_contains "$OUT" "certificate set changed since the server started: copied it and reloaded the server" \
  "start says it handed the new set to the server"
[ "$(openssl x509 -in "$DEV/pgdata/server.crt" -noout -fingerprint -sha256)" != "$old_fp" ] &&
  cmp -s "$CERTS/server.crt" "$DEV/pgdata/server.crt" && t_pass ||
  t_fail "the server's copy of server.crt is not the renewed one"
assert_eq "t|TLSv1.3" "$(tls_query localhost "$P" "$CLIENT")" "verify-full with the renewed ca.crt and client pair"
assert_eq "$SPID" "$(head -1 "$DEV/pgdata/postmaster.pid")" "the same server process (reloaded, not restarted)"
run_cmd "$DBSSL" dev-db start --dir "$DEV" --env-file "$T/mtls/.env"
assert_not_contains "$OUT" "reloaded the server" "nothing changed: no reload"

# --pgbouncer where PgBouncer is absent (tests/lib.sh without_pgbouncer): refused,
# and the server already running is left as it was
SPID=$(head -1 "$DEV/pgdata/postmaster.pid")
run_split without_pgbouncer "${DBSSL_TESTCLOCK:?the test dbssl}" dev-db start --pgbouncer --dir "$DEV" \
  --env-file "$T/mtls/.env"
assert_rc 1 "start --pgbouncer without PgBouncer while the server runs"
assert_contains "$ERR" 'PgBouncer is not installed: no "pgbouncer" program on PATH or in /usr/sbin' \
  "the refusal says PgBouncer is not installed"
assert_contains "$ERR" 'hint: Install Debian'"'"'s PgBouncer with "apt-get install pgbouncer"' "with the hint"
[ ! -e "$DEV/pgbouncer.ini" ] && [ ! -e "$DEV/pgbouncer.pid" ] && t_pass ||
  t_fail "a refused --pgbouncer start wrote PgBouncer's files"
run_cmd "$DBSSL" dev-db status --dir "$DEV"
assert_contains "$OUT" "running on port $P (pid $SPID" "the server still runs, the same process"
kill -0 "$SPID" 2>/dev/null && port_busy "$P" && t_pass || t_fail "the server (pid $SPID) no longer listens on $P"

# ---- a busy port: the default moves on, --port refuses ------------------------
DEV2=$T/second/.dev
mkdir -p "$T/second"
stop_at_exit "$DEV2"
run_cmd "$DBSSL" dev-db start --dir "$DEV2" --env-file "$T/mtls/.env" --port "$P"
assert_rc 1 "start on a fixed busy port"
assert_contains "$OUT" "port $P on the loopback interface is already in use" "busy port message"
[ ! -e "$DEV2/pgdata" ] && t_pass || t_fail "a failed start left $DEV2/pgdata behind"
run_cmd "$DBSSL" dev-db start --dir "$DEV2" --env-file "$T/mtls/.env"
assert_rc 0 "start when the URL port is busy"
assert_contains "$OUT" "port $P is in use, using port" "moving to another port is announced"
P2=$(printf '%s\n' "$OUT" | sed -n 's/.*started PostgreSQL on port \([0-9]*\).*/\1/p')
[ -n "$P2" ] && [ "$P2" != "$P" ] && t_pass || t_fail "second server port \"$P2\""
assert_contains "$OUT" "DATABASE_URL=postgresql://app:***@localhost:$P2/appdb" "URL with the new port"
assert_eq "t|TLSv1.3" "$(tls_query 127.0.0.1 "$P2" "$CLIENT")" "TLS on the moved port"
run_cmd "$DBSSL" dev-db stop --dir "$DEV2"
assert_rc 0 "stop the second server"

# ---- a failed first start leaves no half-made cluster ---------------------------
# A socket lock file naming a live process of the server user (the running
# postmaster) makes the new postmaster refuse to start after initdb succeeded.
P4=$(free_port 55432) || exit 1
DEV4=$T/lockfail/.dev
mkdir -p "$DEV4" && chmod 0700 "$DEV4"
head -1 "$DEV/pgdata/postmaster.pid" >"$DEV4/.s.PGSQL.$P4.lock"
chown -R "$(stat -c %u:%g "$DEV/pgdata")" "$DEV4"
stop_at_exit "$DEV4"
run_cmd "$DBSSL" dev-db start --dir "$DEV4" --env-file "$T/mtls/.env" --port "$P4"
assert_rc 1 "start that PostgreSQL refuses"
assert_contains "$OUT" "could not start PostgreSQL" "start failure message"
assert_contains "$OUT" "lock file" "the server's own reason, from its log"
assert_contains "$OUT" "$DEV4/postgres.log" "the hint names the log"
[ ! -e "$DEV4/pgdata" ] && t_pass || t_fail "a failed start left the cluster it created"
[ -s "$DEV4/postgres.log" ] && t_pass || t_fail "the log of the failed start is kept"

# ---- as root, a directory the server user cannot reach (a checkout in /root) ---
if [ "$(id -u)" = 0 ]; then
  mkdir -m 0700 "$T/private"
  run_cmd "$DBSSL" dev-db start --dir "$T/private/.dev" --env-file "$T/mtls/.env" --port "$P"
  assert_rc 1 "busy port in an unreachable directory"
  [ ! -e "$T/private/.dev" ] && [ ! -L "$T/private/.dev" ] && t_pass ||
    t_fail "a failed start left $T/private/.dev"
  P5=$(free_port 55432) || exit 1
  stop_at_exit "$T/private/.dev"
  t_cleanup_add "rm -rf \"\$(readlink '$T/private/.dev')\""
  run_cmd "$DBSSL" dev-db start --dir "$T/private/.dev" --env-file "$T/mtls/.env" --port "$P5"
  assert_rc 0 "start in a directory postgres cannot reach"
  assert_contains "$OUT" "so the cluster lives in \"/tmp/dbssl-dev." "relocation is announced"
  [ -L "$T/private/.dev" ] && t_pass || t_fail "$T/private/.dev is not a link to the cluster"
  assert_eq "t|TLSv1.3" "$(tls_query localhost "$P5" "$CLIENT")" "TLS from the relocated cluster"
  run_cmd "$DBSSL" dev-db status --dir "$T/private/.dev"
  assert_contains "$OUT" "running on port $P5" "status follows the link"
  run_cmd "$DBSSL" dev-db stop --dir "$T/private/.dev"
  assert_rc 0 "stop follows the link"
fi

# ---- stop: nothing left behind ------------------------------------------------
PID=$(head -1 "$DEV/pgdata/postmaster.pid")
CHILDREN=$(pgrep -P "$PID" | tr '\n' ' ')
run_cmd "$DBSSL" dev-db stop --dir "$DEV"
assert_rc 0 "dev-db stop"
assert_contains "$OUT" "stopped" "stop says stopped"
run_cmd pgrep -f "$DEV/pgdata"
assert_rc 1 "no postgres process of the data directory after stop"
left=""
for c in $PID $CHILDREN; do kill -0 "$c" 2>/dev/null && left="$left $c"; done
assert_eq "" "$left" "no server child process after stop"
run_cmd "$DBSSL" dev-db status --dir "$DEV"
assert_rc 1 "status after stop"
assert_contains "$OUT" "not running" "status says not running"
run_cmd "$DBSSL" dev-db stop --dir "$DEV"
assert_rc 0 "stop when stopped"

# ---- scram-sha-256: no client certificate, a password with awkward characters --
P3=$(free_port 55432) || exit 1
DEV3=$T/scram/.dev
mkdir -p "$T/scram"
PW="it's a \"secret\" \\ %"
ENC_PW="it%27s%20a%20%22secret%22%20%5C%20%25"
cat >"$T/scram/.env" <<EOF
DATABASE_URL=postgresql://app:$ENC_PW@127.0.0.1:$P3/appdb
DB_SSL_MODE=verify-full
DB_SSL_CA_CERT=$CERTS/ca.crt
DB_SSL_AUTO_CERT_DIR=$CERTS
EOF
stop_at_exit "$DEV3"
run_cmd "$DBSSL" dev-db start --dir "$DEV3" --env-file "$T/scram/.env"
assert_rc 0 "scram dev-db start"
assert_contains "$OUT" "scram-sha-256 password, plaintext TCP refused" "start says password authentication"
assert_eq "t|TLSv1.3" "$(PGPASSWORD=$PW tls_query localhost "$P3")" "scram login over TLS"
assert_eq "t|TLSv1.3" "$(PGPASSWORD=$PW tls_query ::1 "$P3")" "scram login over ::1"
run_cmd env PGPASSWORD=wrong psql -X -A -t -c "select 1" \
  "host=localhost port=$P3 user=app dbname=appdb sslmode=verify-full sslrootcert=$CERTS/ca.crt"
assert_contains "$OUT" "password authentication failed" "a wrong password is refused"
run_cmd grep -F "secret" "$DEV3/postgres.log"
assert_rc 1 "the password never reaches the server log"
run_cmd "$DBSSL" dev-db stop --dir "$DEV3"
assert_rc 0 "scram stop"

t_done
