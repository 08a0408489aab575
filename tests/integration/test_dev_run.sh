#!/usr/bin/env bash
# test_dev_run.sh - scripts/dev-run.sh (what `make run` calls) in an empty
# project directory: it writes a private .env, brings up the dev database
# reachable over TLS with the generated client certificate, runs serve with
# the right DATABASE_URL, and on TERM stops serve and the database.
# The embedded default is honest: with this .env a wrong password, a missing
# or foreign client certificate and plaintext TCP are each refused, with the
# class a user sees in `dbssl status`; and its pg_hba.conf is, byte for byte,
# what `dbssl pg-config --loopback` prints.
#
# This is the acceptance of `make run`: afterwards
# `curl /health/database/ssl` shows TLSv1.3, verification enabled, healthy.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init

for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|HTTP_LISTEN\|PG[A-Z]*\)=.*/\1/p'); do unset "$v"; done

PROJ=$T/proj
mkdir -p "$PROJ"
t_cleanup_add "\"$DBSSL\" dev-db stop --dir '$PROJ/.dev'"
t_cleanup_add "[ -f '$PROJ/.dev/pgdata/postmaster.pid' ] && kill -9 \$(head -1 '$PROJ/.dev/pgdata/postmaster.pid')"

# occupy the .env's port 5433 (when free) with another dev database, so that
# dev-run must hand serve the port dev-db moved to
BLOCK=$T/block
make_test_certs "$BLOCK/certs" app || exit 1
printf 'DATABASE_URL=postgresql://app:pw@localhost:5433/app\nDB_SSL_AUTO_CERT_DIR=%s/certs\n' "$BLOCK" >"$BLOCK/.env"
t_cleanup_add "\"$DBSSL\" dev-db stop --dir '$BLOCK/.dev'"
run_cmd "$DBSSL" dev-db start --dir "$BLOCK/.dev" --env-file "$BLOCK/.env" --port 5433
port_busy 5433 && t_pass || t_fail "port 5433 could not be occupied: $OUT"

HTTP_PORT=$(free_port 18600)
export HTTP_LISTEN=127.0.0.1:$HTTP_PORT
(cd "$PROJ" && exec "$DBSSL_SRC/scripts/dev-run.sh" "$DBSSL") >"$T/run.out" 2>&1 &
RUN_PID=$!
t_cleanup_add "kill -TERM $RUN_PID"

# serve answers from its first check on; wait (bounded) for a healthy answer
BODY=""
for _ in $(seq 1 600); do
  BODY=$(curl -s --max-time 2 "http://127.0.0.1:$HTTP_PORT/health/database/ssl" 2>/dev/null)
  case "$BODY" in *'"status": "healthy"'* | *'"status":"healthy"'*) break ;; esac
  kill -0 "$RUN_PID" 2>/dev/null || break
  sleep 0.1
done
OUT=$(cat "$T/run.out")
CODE=$(curl -s -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/health/database/ssl")
assert_eq 200 "$CODE" "the health endpoint answers 200; output:"$'\n'"$OUT"

assert_eq "600" "$(stat -c %a "$PROJ/.env" 2>/dev/null)" ".env is private"
ENV=$(cat "$PROJ/.env" 2>/dev/null)
for line in DB_SSL_MODE=verify-full DB_SSL_REQUIRED=true DB_SSL_AUTO_GENERATE=true \
  DB_SSL_AUTO_GENERATE_CLIENT=true "DATABASE_URL=postgresql://dbssl:"; do
  assert_contains "$ENV" "$line" ".env"
done
PW=$(sed -n 's|^DATABASE_URL=postgresql://dbssl:\([^@]*\)@.*|\1|p' "$PROJ/.env")
[ "${#PW}" -ge 16 ] && t_pass || t_fail "the .env password is too short: ${#PW} characters"
assert_not_contains "$OUT" "$PW" "the password is never printed"
assert_contains "$OUT" "curl -s http://127.0.0.1:$HTTP_PORT/health/database/ssl" "the curl line"

run_cmd "$DBSSL" dev-db status --dir "$PROJ/.dev"
assert_rc 0 "dev database running under serve"
PORT=$(printf '%s\n' "$OUT" | sed -n 's/.*running on port \([0-9]*\).*/\1/p')
[ -n "$PORT" ] && [ "$PORT" != 5433 ] && t_pass || t_fail "dev database port \"$PORT\" (5433 is busy)"
# what a newcomer sees after `make run`: the guide's fields, live
python3 - "$T/body" "$PORT" <<'PY' && t_pass || t_fail "health JSON: $(cat "$T/body")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ssl_enabled"] is True, d
assert d["ssl_version"] == "TLSv1.3", d
assert d["ssl_mode"] == "verify-full", d
assert d["certificate_validation"] == "enabled", d
assert d["status"] == "healthy", d
assert d["client_certificate"] is True, d
assert d["server"] == "localhost:" + sys.argv[2], d   # serve was handed the moved port
assert d["error"] is None, d
PY
C=$PROJ/ssl_certs/db
assert_eq "t|TLSv1.3" "$(PGPASSWORD=$PW psql -X -A -t -c "select ssl, version from pg_stat_ssl where pid = pg_backend_pid()" \
  "host=localhost port=$PORT user=dbssl dbname=dbssl sslmode=verify-full sslrootcert=$C/ca.crt sslcert=$C/client.crt sslkey=$C/client.key connect_timeout=10" 2>&1)" \
  "the application's TLS session"

# ---- the embedded default refuses what it should (settings over the .env) -------
# status_class SETTING=VALUE... : "EXIT CLASS" of `dbssl status --json` in the project
status_class() {
  local out rc=0
  out=$(cd "$PROJ" && env "$@" "$DBSSL" status --json 2>"$T/status.err") || rc=$?
  printf '%s %s\n' "$rc" "$(python3 -c '
import json, sys
d = json.loads(sys.stdin.read() or "{}")
print((d.get("error") or {}).get("class") or d.get("status"))' <<<"$out" 2>/dev/null)"
}
URL="postgresql://dbssl:$PW@localhost:$PORT/dbssl"
assert_eq "0 healthy" "$(status_class DATABASE_URL="$URL")" "the .env's settings: healthy"
assert_eq "1 authentication_failed" "$(status_class DATABASE_URL="postgresql://dbssl:x$PW@localhost:$PORT/dbssl")" \
  "a wrong password"
assert_eq "1 client_certificate_rejected" \
  "$(status_class DATABASE_URL="$URL" DB_SSL_AUTO_GENERATE_CLIENT=false)" "no client certificate"
# a certificate for the right role, from a CA the server does not know
make_test_certs "$T/foreign" dbssl || exit 1
assert_eq "1 client_certificate_rejected" \
  "$(status_class DATABASE_URL="$URL" DB_SSL_AUTO_GENERATE_CLIENT=false \
    DB_SSL_CLIENT_CERT="$T/foreign/client.crt" DB_SSL_CLIENT_KEY="$T/foreign/client.key")" \
  "a client certificate of another CA"
run_cmd env PGPASSWORD="$PW" psql -X -A -t -c "select 1" \
  "host=127.0.0.1 port=$PORT user=dbssl dbname=dbssl sslmode=disable connect_timeout=10"
[ "$RC" -ne 0 ] && t_pass || t_fail "plaintext TCP was accepted: $OUT"
assert_contains "$OUT" "no encryption" "plaintext TCP: refused by pg_hba.conf"
assert_eq "1 server_rejected" \
  "$(status_class DATABASE_URL="$URL" DB_SSL_MODE=disable DB_SSL_REQUIRED=false)" "dbssl over plaintext TCP"

# ---- pg-config prints what dev-db wrote ---------------------------------------------
PGC=$(cd "$PROJ" && DATABASE_URL="$URL" "$DBSSL" pg-config --loopback)
HBA=$PROJ/.dev/pgdata/pg_hba.conf
# pg_hba.conf: dev-db's two comment lines, then exactly pg-config's lines
if cmp -s <(sed -n '/^# ---- .*pg_hba.conf/,$p' <<<"$PGC" | tail -n +2) <(tail -n +3 "$HBA"); then
  t_pass "pg_hba.conf is pg-config's, byte for byte"
else
  t_fail "pg_hba.conf differs from pg-config: $(diff <(sed -n '/^# ---- .*pg_hba.conf/,$p' <<<"$PGC" | tail -n +2) <(tail -n +3 "$HBA"))"
fi
assert_line "$(cat "$HBA")" "local      all       all                    peer" "the socket: peer, not trust"
# postgresql.conf: every line pg-config prints but the certificate paths (dev-db
# points them at its copies), in the same order, then dev-db's own lines
conf_lines() { grep -vE '^(ssl_(cert|key|ca)_file|listen_addresses|port|unix_socket_[a-z]+|password_encryption) = |^# ----|^$'; }
if cmp -s <(sed -n '/^# ---- .*postgresql.conf/,/^# ---- .*pg_hba.conf/p' <<<"$PGC" | conf_lines) \
  <(conf_lines <"$PROJ/.dev/pgdata/dbssl.conf"); then
  t_pass "dbssl.conf has pg-config's TLS lines, byte for byte"
else
  t_fail "dbssl.conf differs from pg-config: $(diff <(sed -n '/^# ---- .*postgresql.conf/,/^# ---- .*pg_hba.conf/p' <<<"$PGC" | conf_lines) <(conf_lines <"$PROJ/.dev/pgdata/dbssl.conf"))"
fi

kill -TERM "$RUN_PID"
for _ in $(seq 1 300); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
run_cmd kill -0 "$RUN_PID"
assert_rc 1 "dev-run.sh ends on TERM"
run_cmd "$DBSSL" dev-db status --dir "$PROJ/.dev"
assert_rc 1 "the dev database is stopped with it"
run_cmd pgrep -f "$PROJ/.dev/pgdata"
assert_rc 1 "no postgres process left"
run_cmd curl -s --max-time 2 "http://127.0.0.1:$HTTP_PORT/health"
[ "$RC" -ne 0 ] && t_pass || t_fail "serve is stopped with it"

t_done
