#!/usr/bin/env bash
# test_pgbouncer.sh - issue 15: PgBouncer (Debian's pgbouncer, run here as an
# unprivileged process on loopback, never as a service) between dbssl and a
# real PostgreSQL 15, with TLS on both hops configured from the generated set
# by exactly the lines of `dbssl pg-config --pgbouncer`:
#  - dbssl (and psql) through PgBouncer with verify-full and the client
#    certificate: healthy, TLS on its own hop;
#  - the server hop is TLS with the client certificate (pg_stat_ssl of the
#    backend PgBouncer opened, and PgBouncer's SHOW SERVERS);
#  - PgBouncer refuses a plaintext client and a client without certificate;
#  - a plaintext server hop (server_tls_sslmode = disable) is refused by the
#    server (hostnossl reject) and dbssl reports the failure with its cause;
#  - `dbssl scan` grades PgBouncer's client hop against the profile;
#  - with DB_PGBOUNCER_ADMIN_URL (a stats user of the admin console), the
#    server hop read from SHOW SERVERS / SHOW CLIENTS: TLS on both hops is
#    healthy with no plaintext hop (status and serve's /ssl and /metrics,
#    promtool); a wrong admin password is "not checked", never "ok", and the
#    password is printed nowhere; a plaintext server hop the server accepts
#    (hostnossl for that test) is degraded, the warning naming the hop.
. "${DBSSL_SRC:?source tree}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
. "$DBSSL_SRC/tests/integration/pgfleet.sh"
t_init
fleet_clean_env
PGBOUNCER=${PGBOUNCER:-/usr/sbin/pgbouncer}
[ -x "$PGBOUNCER" ] || { t_fail "no pgbouncer (scripts/install-deps.sh --test installs it)"; t_done; }
cd "$T"
owner=()
as_bouncer=()
if [ "$(id -u)" = 0 ]; then owner=(--owner postgres); as_bouncer=(runuser -u postgres --); fi

PG_PORT_BASE=58480 pg_setup
B=$T/bouncer
mkdir -p "$B"
BPORT=$(free_port 58490)
# the application's settings: DATABASE_URL names PgBouncer, verify-full, client certificate
cat >"$T/app.env" <<EOF
DATABASE_URL=postgresql://app:app-pw@localhost:$BPORT/app
DB_SSL_MODE=verify-full
DB_SSL_REQUIRED=true
DB_SSL_AUTO_GENERATE=true
DB_SSL_AUTO_GENERATE_CLIENT=true
DB_SSL_AUTO_CERT_DIR=$T/certs
EOF
"$DBSSL" certs generate --env-file "$T/app.env" "${owner[@]}" >/dev/null
# PgBouncer's own copy of the client pair (its user must read the key): the
# "given certificates" form of pg-config, DB_SSL_CLIENT_CERT / _KEY
install -m 0644 "$T/certs/client.crt" "$B/client.crt"
install -m 0600 "$T/certs/client.key" "$B/client.key"
{ cat "$T/app.env"; echo "DB_SSL_CLIENT_CERT=$B/client.crt"; echo "DB_SSL_CLIENT_KEY=$B/client.key"; } >"$T/bouncer.env"

# PostgreSQL with the `dbssl pg-config --loopback` lines
pg_configure "$("$DBSSL" pg-config --env-file "$T/app.env" --loopback | sed -n '/postgresql.conf ----/,/pg_hba.conf/p' | grep -v '^# ----')
listen_addresses = '127.0.0.1'" \
  "$("$DBSSL" pg-config --env-file "$T/app.env" --loopback | sed -n '/pg_hba.conf/,$p' | grep -v '^#' | grep -v '^local')"
pg_start
pg_sql "create role app login password 'app-pw'" >/dev/null
pg_sql "create database app owner app" >/dev/null

# PgBouncer with the `dbssl pg-config --pgbouncer` lines
run_split "$DBSSL" pg-config --env-file "$T/bouncer.env" --pgbouncer
assert_rc 0 "pg-config --pgbouncer"
assert_line "$OUT" "client_tls_sslmode = verify-full" "client hop: client certificates required"
assert_line "$OUT" "server_tls_sslmode = verify-full" "server hop: verify-full"
assert_line "$OUT" "server_tls_cert_file = $B/client.crt" "server hop: the given client certificate"
assert_line "$OUT" "client_tls_cert_file = $T/certs/server.crt" "client hop: the generated server pair"
BOUNCER_TLS=$OUT
# watcher: the admin console's stats user dbssl reads SHOW SERVERS / SHOW CLIENTS as
ADMIN_PW='Adm1n-S3cret-pw'
printf '"app" "app-pw"\n"watcher" "%s"\n' "$ADMIN_PW" >"$B/userlist.txt"
write_ini() { # write_ini [EXTRA]: pgbouncer.ini, EXTRA lines last (a later setting wins)
  cat >"$B/pgbouncer.ini" <<EOF
[databases]
app = host=localhost port=$PG_PORT dbname=app
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BPORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $B/userlist.txt
admin_users = app
stats_users = watcher
pidfile = $B/pgbouncer.pid
logfile = $B/pgbouncer.log
pool_mode = session
$BOUNCER_TLS
${1:-}
EOF
}
bouncer_start() { # in the foreground of a background job: its complaints reach start.log
  "${as_bouncer[@]}" "$PGBOUNCER" "$B/pgbouncer.ini" >>"$B/start.log" 2>&1 &
  for _ in $(seq 1 50); do port_busy "$BPORT" && return 0; sleep 0.1; done
  t_fail "pgbouncer does not listen: $(cat "$B/start.log" "$B/pgbouncer.log" 2>&1)"
  t_done
}
bouncer_stop() { # until its port is free, so that the next start is seen as such
  [ -f "$B/pgbouncer.pid" ] || return 0
  kill "$(cat "$B/pgbouncer.pid")" 2>/dev/null || true
  for _ in $(seq 1 50); do port_busy "$BPORT" || return 0; sleep 0.1; done
  t_fail "pgbouncer did not stop"
}
# PgBouncer's directory is its user's: it writes its pid file and log there
if [ "$(id -u)" = 0 ]; then chown -R postgres "$B"; fi
write_ini
t_cleanup_add bouncer_stop
bouncer_start

C=$T/certs
PSQL=("$PG_BIN/psql" -X -At)
conninfo="host=localhost port=$BPORT user=app dbname=app sslmode=verify-full sslrootcert=$C/ca.crt sslcert=$C/client.crt sslkey=$C/client.key"

# ---- both hops with TLS ----
run_split "$DBSSL" status --env-file "$T/app.env" --json
assert_rc 0 "dbssl status through PgBouncer"
python3 - "$OUT" <<'PY' && t_pass "dbssl through PgBouncer: healthy, TLS, verify-full, the client certificate" || t_fail "status: $OUT"
import json, sys
j = json.loads(sys.argv[1])
assert j["status"] == "healthy", j["status"]
assert j["ssl_enabled"] is True
assert j["ssl_mode"] == "verify-full", j["ssl_mode"]
assert j["certificate_validation"] == "enabled", j["certificate_validation"]
assert j["hostname_verification"] is True, j["hostname_verification"]
assert j["client_certificate"] is True, j["client_certificate"]
PY
# the backend PgBouncer opened for us: TLS, and PgBouncer's client certificate
out=$(PGPASSWORD=app-pw "${PSQL[@]}" "$conninfo" -c "select s.ssl, s.client_dn from pg_stat_ssl s where s.pid = pg_backend_pid()" 2>&1) || true
assert_eq "t|/O=dbssl development/CN=app" "$out" "server hop: TLS with the client certificate (pg_stat_ssl)"
out=$(PGPASSWORD=app-pw "${PSQL[@]}" "host=localhost port=$BPORT user=app dbname=pgbouncer sslmode=verify-full sslrootcert=$C/ca.crt sslcert=$C/client.crt sslkey=$C/client.key" -c "show servers" 2>&1) || true
grep -q "TLSv1.3" <<<"$out" && t_pass "SHOW SERVERS: the server hop is TLSv1.3" || t_fail "show servers: $out"

# ---- PgBouncer refuses plaintext and a client without certificate ----
if out=$(PGPASSWORD=app-pw "${PSQL[@]}" "host=127.0.0.1 port=$BPORT user=app dbname=app sslmode=disable" -c "select 1" 2>&1); then
  t_fail "PgBouncer accepted a plaintext client"
else
  t_pass "plaintext client refused: $(head -1 <<<"$out")"
fi
if out=$(PGPASSWORD=app-pw "${PSQL[@]}" "host=localhost port=$BPORT user=app dbname=app sslmode=verify-full sslrootcert=$C/ca.crt sslcert=/nonexistent sslkey=/nonexistent" -c "select 1" 2>&1); then
  t_fail "PgBouncer accepted a client without certificate"
else
  t_pass "client without certificate refused: $(head -1 <<<"$out")"
fi

# ---- the client hop against the profile ----
# (PgBouncer ends a TLS 1.2 handshake without a client certificate, which the
# scanner does not send: only TLS 1.3 shows; the groups are the profile's one)
run_split "$DBSSL" scan "localhost:$BPORT" --ca-file "$C/ca.crt"
assert_rc 0 "dbssl scan of PgBouncer's client hop"
assert_contains "$OUT" "TLSv1.3 yes" "scan of PgBouncer's hop: TLS 1.3"
assert_contains "$OUT" "TLSv1.1 no, TLSv1.0 no" "scan of PgBouncer's hop: nothing below TLS 1.2"
assert_line "$OUT" "groups       P-256" "scan of PgBouncer's hop: one group, client_tls_ecdhcurve"
assert_contains "$OUT" "profile intermediate (Mozilla intermediate, server-side TLS 5.7): met" \
  "PgBouncer's hop meets the profile"

# ---- both hops from PgBouncer's admin console (DB_PGBOUNCER_ADMIN_URL) ----
admin_env() { # admin_env NAME PASSWORD: $T/NAME.env, the application's settings and the admin URL
  { cat "$T/app.env"; echo "DB_PGBOUNCER_ADMIN_URL=postgresql://watcher:$2@localhost:$BPORT/pgbouncer"; } >"$T/$1.env"
}
admin_env admin "$ADMIN_PW"
run_split "$DBSSL" status --env-file "$T/admin.env" --json
assert_rc 0 "dbssl status with the admin console"
python3 - "$OUT" <<'PY' && t_pass "admin console: both hops TLS, no plaintext hop, healthy" || t_fail "admin console: $OUT"
import json, sys
j = json.loads(sys.argv[1])
p = j["pgbouncer"]
assert j["status"] == "healthy", (j["status"], j["warnings"])
assert p["checked"] is True and p["state"] == "checked", p
assert p["servers"]["total"] >= 1 and p["servers"]["tls"] == p["servers"]["total"], p
assert p["servers"]["plaintext"] == 0 and p["clients"]["plaintext"] == 0, p
assert p["clients"]["tls"] >= 1, p  # dbssl's own admin session at least
assert p["plaintext_hops"] == [], p
PY
run_split "$DBSSL" status --env-file "$T/admin.env"
assert_match "$OUT" "^pgbouncer: +server hops [1-9][0-9]* TLS, 0 plaintext; client hops [1-9][0-9]* TLS, 0 plaintext$" \
  "status: both hops in one line"
# dbssl serve: the same on the endpoint, gauges on /metrics that promtool accepts
HTTP_PORT=$(free_port 58496)
SERVE_PID=
t_cleanup_add 'if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID"; fi'
{ cat "$T/admin.env"; echo "DB_HEALTH_CHECK_INTERVAL=1"; echo "DB_CONNECT_TIMEOUT=3"; } >"$T/serve.env"
"$DBSSL" serve --listen "127.0.0.1:$HTTP_PORT" --env-file "$T/serve.env" 2>"$T/serve.log" &
SERVE_PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/health" && break; sleep 0.1; done
body=$(curl -s "http://127.0.0.1:$HTTP_PORT/health/database/ssl?refresh=1")
python3 - "$body" <<'PY' && t_pass "serve: pgbouncer on /health/database/ssl, healthy" || t_fail "serve body: $body"
import json, sys
j = json.loads(sys.argv[1])
assert j["status"] == "healthy", (j["status"], j["warnings"])
assert j["pgbouncer"]["checked"] is True and j["pgbouncer"]["servers"]["plaintext"] == 0, j["pgbouncer"]
PY
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" >"$T/metrics.txt"
for series in 'dbssl_pgbouncer_checked 1' 'dbssl_pgbouncer_hops{side="server",encryption="plaintext"} 0' \
  'dbssl_pgbouncer_hops{side="client",encryption="plaintext"} 0'; do
  grep -qxF "$series" "$T/metrics.txt" && t_pass "metrics: $series" || t_fail "metrics lack $series"
done
grep -qE '^dbssl_pgbouncer_hops\{side="server",encryption="tls"\} [1-9]' "$T/metrics.txt" &&
  t_pass "metrics: the server hops with TLS counted" || t_fail "metrics: $(grep pgbouncer "$T/metrics.txt")"
if PROMTOOL=$(prometheus_tool promtool) &&
  "$PROMTOOL" check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1; then
  t_pass "promtool check metrics accepts the PgBouncer gauges"
else
  t_fail "promtool check metrics: $(cat "$T/promtool.out" 2>/dev/null)"
fi
kill "$SERVE_PID"; wait "$SERVE_PID" || true; SERVE_PID=
# a wrong admin password: "not checked" with the reason, and no password anywhere
BAD_PW='Wr0ng-Adm1n-pw'
admin_env badadmin "$BAD_PW"
run_split "$DBSSL" status --env-file "$T/badadmin.env" --json
assert_rc 0 "dbssl status with an admin console it cannot read: the application's hop is fine"
python3 - "$OUT" <<'PY' && t_pass "admin console refused: not checked, with the reason and a warning" || t_fail "refused admin console: $OUT"
import json, sys
j = json.loads(sys.argv[1])
p = j["pgbouncer"]
assert p["checked"] is False and p["state"] == "not_checked", p
assert p["servers"] is None and p["clients"] is None and p["plaintext_hops"] is None, p
assert "DB_PGBOUNCER_ADMIN_URL" in p["reason"] and "authentication failed" in p["reason"], p["reason"]
assert "stats_users" in p["hint"], p["hint"]
assert any("PgBouncer's hops were not checked" in w for w in j["warnings"]), j["warnings"]
PY
all_out="$OUT$ERR$(cat "$T/serve.log")"
for args in "status --env-file $T/badadmin.env" "config --env-file $T/badadmin.env" "validate --env-file $T/badadmin.env" \
  "status --env-file $T/admin.env --json"; do
  # shellcheck disable=SC2086
  all_out+=$("$DBSSL" $args 2>&1 || true)
done
assert_not_contains "$all_out" "$BAD_PW" "the wrong admin password is printed nowhere"
assert_not_contains "$all_out" "$ADMIN_PW" "the admin password is printed nowhere"

# ---- a plaintext server hop: refused by PostgreSQL, reported by dbssl ----
bouncer_stop
write_ini "server_tls_sslmode = disable"
bouncer_start
run_split "$DBSSL" status --env-file "$T/app.env" --json
assert_rc 1 "dbssl status with a plaintext server hop"
python3 - "$OUT" <<'PY' && t_pass "plaintext server hop: unhealthy, the server's refusal in the error" || t_fail "plaintext server hop: $OUT"
import json, sys
j = json.loads(sys.argv[1])
assert j["status"] == "unhealthy", j["status"]
assert "no encryption" in (j["error"]["detail"] or "") + j["error"]["message"], j["error"]
PY

# ---- a plaintext server hop the server accepts: degraded, the hop named ----
{ printf 'hostnossl app app 127.0.0.1/32 scram-sha-256\n'; cat "$PG_DATA/pg_hba.conf"; } >"$T/hba"
pg_as_owner tee "$PG_DATA/pg_hba.conf" <"$T/hba" >/dev/null
pg_sql "select pg_reload_conf()" >/dev/null
# a new PgBouncer: the refused logins above left it waiting server_login_retry before the next
bouncer_stop
bouncer_start
run_split "$DBSSL" status --env-file "$T/admin.env" --json
assert_rc 0 "dbssl status with an accepted plaintext server hop"
PG_PORT=$PG_PORT python3 - "$OUT" <<'PY' && t_pass "plaintext server hop: degraded, counted, the warning names it" || t_fail "plaintext server hop: $OUT"
import json, os, sys
j = json.loads(sys.argv[1])
p = j["pgbouncer"]
port = int(os.environ["PG_PORT"])
assert j["status"] == "degraded", (j["status"], j["warnings"])
assert p["checked"] is True and p["servers"]["plaintext"] >= 1, p
hop = {"side": "server", "addr": "127.0.0.1", "port": port, "user": "app", "database": "app"}
assert hop in p["plaintext_hops"], p["plaintext_hops"]
assert any(f"PgBouncer's server hop to 127.0.0.1:{port}" in w and "server_tls_sslmode" in w
           for w in j["warnings"]), j["warnings"]
PY
t_done
