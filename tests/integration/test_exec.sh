#!/usr/bin/env bash
# test_exec.sh - `dbssl exec` with real clients no one here wrote, against a
# real PostgreSQL 15 that accepts only TLS with client certificates: psql
# (which reads libpq's PG* variables) and Python programs using Debian's
# psycopg2 and psycopg 3 (which read DATABASE_URL), none given an ssl option.
# Each prints its own session's row of pg_stat_ssl: TLS 1.3, the client
# certificate, verify-full.  Each is refused before it starts on an invalid
# setup.  A password with awkward characters, several hosts and IPv6 travel
# in the rewritten URL; a host name the certificate does not cover fails,
# which proves the clients verify.  Last, the development default
# (`dbssl dev-db` with the .env scripts/dev-run.sh writes).
. "${DBSSL_SRC:?}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init

t_unset_settings
# Debian's interpreter, with Debian's python3-psycopg2 (not a python on PATH from elsewhere)
PY=/usr/bin/python3
APP_PY=$DBSSL_SRC/tests/integration/exec_app.py
SQL="select ssl, version, client_dn is not null from pg_stat_ssl where pid = pg_backend_pid()"

CERTS=$T/certs
make_test_certs "$CERTS" app || exit 1

# ---- the server: TLS only; "app" by certificate, "billing" by certificate and password ----
PW="Bi11ing'\"@:/%\$x"
PW_ENC="Bi11ing%27%22%40%3A%2F%25%24x"
pg_start_tls "$CERTS/server.crt" "$CERTS/server.key" "$CERTS/ca.crt" "hostssl all billing 127.0.0.1/32 scram-sha-256 clientcert=verify-ca
hostssl all billing ::1/128 scram-sha-256 clientcert=verify-ca
hostssl all all 127.0.0.1/32 cert
hostssl all all ::1/128 cert" "listen_addresses = '127.0.0.1,::1'" || exit 1
pg_sql "create role app login" >/dev/null
pg_sql "create role billing login password 'Bi11ing''\"@:/%\$x'" >/dev/null
DEAD=$(free_port 56900) || exit 1 # nothing listens there: the first host of a list fails

# write_env FILE URL [MORE]: the settings of every case here (verify-full, required,
# mutual TLS), with DATABASE_URL=URL and MORE lines
write_env() {
  printf 'DATABASE_URL=%s\nDB_SSL_MODE=verify-full\nDB_SSL_REQUIRED=true\n' "$2" >"$1"
  printf 'DB_SSL_CA_CERT=%s\nDB_SSL_CLIENT_CERT=%s\nDB_SSL_CLIENT_KEY=%s\n%s' \
    "$CERTS/ca.crt" "$CERTS/client.crt" "$CERTS/client.key" "${3:-}" >>"$1"
}
write_env "$T/app.env" "postgresql://app@localhost:$PG_PORT/postgres" "DB_SSL_MIN_PROTOCOL_VERSION=TLSv1.3"
# several hosts (the first refuses), IPv6, a password that needs %-encoding
write_env "$T/billing.env" "'postgresql://billing:$PW_ENC@localhost:$DEAD,[::1]:$PG_PORT/postgres'"
# libpq connects to 127.0.0.1, but the name to verify is one the certificate does not cover
write_env "$T/wrongname.env" "postgresql://app@wrong.example/postgres?hostaddr=127.0.0.1&port=$PG_PORT"
# invalid: the CA file does not exist
sed "s#^DB_SSL_CA_CERT=.*#DB_SSL_CA_CERT=$T/no-such-ca.crt#" "$T/app.env" >"$T/bad.env"

# ---- psql: no ssl option, no URL argument: libpq's variables carry everything ----
run_split "$DBSSL" exec --env-file "$T/app.env" -- psql -X -Atc "$SQL"
assert_rc 0 "psql through dbssl exec"
assert_eq "t|TLSv1.3|t" "$OUT" "psql: TLS 1.3 with the client certificate"
# an inherited weaker sslmode is overridden (the server would refuse a plaintext session)
run_split env PGSSLMODE=disable PGSSLCERT=/nonexistent "$DBSSL" exec --env-file "$T/app.env" -- psql -X -Atc "$SQL"
assert_eq "t|TLSv1.3|t" "$OUT" "psql: an inherited PGSSLMODE=disable does not win"
run_split "$DBSSL" exec --env-file "$T/app.env" -- psql -X -Atc \
  "select application_name from pg_stat_activity where pid = pg_backend_pid()"
assert_eq "psql" "$OUT" "psql keeps its own application name"
run_split "$DBSSL" exec --env-file "$T/billing.env" -- psql -X -Atc "select current_user, ssl from pg_stat_ssl where pid = pg_backend_pid()"
assert_eq "billing|t" "$OUT" "psql: password (PGPASSWORD), several hosts, IPv6"
run_split "$DBSSL" exec --env-file "$T/wrongname.env" -- psql -X -Atc "$SQL"
assert_rc 2 "psql refuses a server whose certificate does not name the host"
assert_contains "$ERR" 'does not match host name "wrong.example"' "psql verified the host name (verify-full)"
run_split "$DBSSL" exec --env-file "$T/bad.env" -- psql -X -Atc "$SQL"
assert_rc 2 "psql: invalid setup"
assert_eq "" "$OUT" "psql never printed"
assert_contains "$ERR" "error: DB_SSL_CA_CERT: certificate file \"$T/no-such-ca.crt\" does not exist" "the findings"
assert_not_contains "$ERR" "psql:" "psql never ran"

# ---- Python: DATABASE_URL only, as the guide's application reads it ----
DRIVERS=psycopg2
if "$PY" -c "import psycopg" 2>/dev/null; then DRIVERS="psycopg2 psycopg"; else t_log "python3-psycopg not installed: psycopg 3 skipped"; fi
for drv in $DRIVERS; do
  case $drv in psycopg2) proto=TLSv1.3 ;; *) proto=in-use ;; esac
  for mode in "" --url-only; do
    rm -f "$T/started"
    run_split "$DBSSL" exec --env-file "$T/app.env" -- "$PY" "$APP_PY" "$drv" "$T/started" $mode
    assert_rc 0 "$drv $mode through dbssl exec"
    assert_eq "ssl=t version=TLSv1.3 client_cert=t user=app app=- sslmode=verify-full protocol=$proto" "$OUT" \
      "$drv ${mode:-(PG* variables present)}: its own session"
    run_split "$DBSSL" exec --env-file "$T/billing.env" -- "$PY" "$APP_PY" "$drv" "$T/started" $mode
    assert_eq "ssl=t version=TLSv1.3 client_cert=t user=billing app=- sslmode=verify-full protocol=$proto" "$OUT" \
      "$drv $mode: the %-encoded password, several hosts and IPv6 from DATABASE_URL"
  done
  run_split "$DBSSL" exec --env-file "$T/wrongname.env" -- "$PY" "$APP_PY" "$drv" "$T/started" --url-only
  assert_rc 1 "$drv refuses a server whose certificate does not name the host"
  assert_contains "$ERR" 'does not match host name "wrong.example"' "$drv verified the host name from the URL alone"
  rm -f "$T/started"
  run_split "$DBSSL" exec --env-file "$T/bad.env" -- "$PY" "$APP_PY" "$drv" "$T/started"
  assert_rc 2 "$drv: invalid setup"
  [ ! -e "$T/started" ] && t_pass "$drv: the program never started" || t_fail "$drv ran despite an invalid setup"
  assert_contains "$ERR" "error: DB_SSL_CA_CERT: certificate file \"$T/no-such-ca.crt\" does not exist" "$drv: the findings"
  assert_eq "" "$OUT" "$drv: nothing on stdout"
done

# ---- the password: in the program's environment, in no output ----
run_cmd "$DBSSL" env --env-file "$T/billing.env"
assert_not_contains "$OUT" "Bi11ing" "env prints no password"
run_cmd "$DBSSL" env --env-file "$T/billing.env" --format json --show-secrets
assert_contains "$OUT" "$PW_ENC" "--show-secrets prints it, %-encoded in the URL"
# what `dbssl env` printed, eval'd in a shell, connects psql like exec does
run_cmd env -i PATH="$PATH" bash -c 'eval "$("$1" env --env-file "$2" --show-secrets)" && psql -X -Atc "$3"' _ "$DBSSL" "$T/billing.env" "$SQL"
assert_eq "t|TLSv1.3|t" "$OUT" "eval \"\$(dbssl env --show-secrets)\" then psql"
run_cmd grep -F "Bi11ing" "$PG_DIR/srv/server.log"
assert_rc 1 "the password never reaches the server log"

# ---- a connection service beats libpq's variables: why exec refuses one ----
printf '[billing]\nsslmode=disable\n' >"$T/pg_service.conf"
run_cmd env -i PATH="$PATH" PGSERVICEFILE="$T/pg_service.conf" bash -c \
  'eval "$("$1" env --env-file "$2" --show-secrets)" && PGSERVICE=billing psql -X -Atc "$3"' _ "$DBSSL" "$T/app.env" "$SQL"
assert_contains "$OUT" "no encryption" "libpq 15: the service's sslmode=disable wins over PGSSLMODE=verify-full"
run_split env PGSERVICEFILE="$T/pg_service.conf" PGSERVICE=billing "$DBSSL" exec --env-file "$T/app.env" -- psql -X -Atc "$SQL"
assert_rc 2 "dbssl exec refuses to start a program under a connection service"
assert_contains "$ERR" 'a connection service (PGSERVICE "billing") would override the validated settings'
assert_eq "" "$OUT" "psql never ran under the service"

# ---- the development default: dev-db with the .env scripts/dev-run.sh writes ----
DEV_PORT=$(free_port 55800) || exit 1
PROJ=$T/proj
mkdir -p "$PROJ"
cat >"$PROJ/.env" <<EOF
DATABASE_URL=postgresql://dbssl:$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')@localhost:$DEV_PORT/dbssl
DB_SSL_MODE=verify-full
DB_SSL_REQUIRED=true
DB_SSL_AUTO_GENERATE=true
DB_SSL_AUTO_GENERATE_CLIENT=true
EOF
t_cleanup_add "cd '$PROJ' && \"$DBSSL\" dev-db stop --dir '$PROJ/.dev'"
t_cleanup_add "[ -f '$PROJ/.dev/pgdata/postmaster.pid' ] && kill -9 \$(head -1 '$PROJ/.dev/pgdata/postmaster.pid')"
run_cmd sh -c 'cd "$1" && "$2" certs generate --client && "$2" dev-db start --dir .dev --port "$3"' _ "$PROJ" "$DBSSL" "$DEV_PORT"
assert_rc 0 "dev-db start with the development .env"
run_split sh -c 'cd "$1" && "$2" exec -- "$3" "$4" psycopg2 "$5"' _ "$PROJ" "$DBSSL" "$PY" "$APP_PY" "$T/started"
assert_eq "ssl=t version=TLSv1.3 client_cert=t user=dbssl app=- sslmode=verify-full protocol=TLSv1.3" "$OUT" \
  "dbssl exec -- python3 app.py on the development default"
run_split sh -c 'cd "$1" && "$2" exec -- psql -X -Atc "$3"' _ "$PROJ" "$DBSSL" "$SQL"
assert_eq "t|TLSv1.3|t" "$OUT" "dbssl exec -- psql on the development default"
run_cmd sh -c 'cd "$1" && "$2" dev-db stop --dir .dev' _ "$PROJ" "$DBSSL"
assert_rc 0 "dev-db stop"

t_done
