#!/usr/bin/env bash
# test_devdb_pgbouncer.sh - `dbssl dev-db start --pgbouncer` (issue 15 item 2):
# Debian's pgbouncer in front of the development server, as the same
# unprivileged user, on a second loopback port, configured by the lines of
# `dbssl pg-config --pgbouncer`:
#  - `dbssl status` through PgBouncer's port with verify-full and the client
#    certificate is healthy, and with DB_PGBOUNCER_ADMIN_URL both hops are TLS;
#  - no password is written to the dev-db directory (the users file holds the
#    role's SCRAM secret) or printed;
#  - `dev-db status` shows PgBouncer, a second start leaves it as it is;
#  - `dev-db stop` stops it too and leaves no process.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
t_unset_settings
[ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null ||
  { t_fail "no pgbouncer (scripts/install-deps.sh --test installs it)"; t_done; }

PW=devBouncer-S3cret-pw
P=$(free_port 55632) || exit 1
DEV=$T/.dev
cat >"$T/.env" <<EOF
DATABASE_URL=postgresql://app:$PW@localhost:$P/appdb
DB_SSL_MODE=verify-full
DB_SSL_REQUIRED=true
DB_SSL_AUTO_GENERATE=true
DB_SSL_AUTO_GENERATE_CLIENT=true
DB_SSL_AUTO_CERT_DIR=$T/certs
EOF
t_cleanup_add "\"$DBSSL\" dev-db stop --dir '$DEV' >/dev/null 2>&1"
# last resort if dbssl itself cannot stop them
t_cleanup_add "[ -f '$DEV/pgbouncer.pid' ] && kill -9 \$(cat '$DEV/pgbouncer.pid') 2>/dev/null"
t_cleanup_add "[ -f '$DEV/pgdata/postmaster.pid' ] && kill -9 \$(head -1 '$DEV/pgdata/postmaster.pid') 2>/dev/null"

run_cmd "$DBSSL" dev-db start --pgbouncer --dir "$DEV" --env-file "$T/.env"
assert_rc 0 "dev-db start --pgbouncer"
BP=$(sed -n 's/^dev-db: PgBouncer on port \([0-9]*\) (pid \([0-9]*\)).*/\1/p' <<<"$OUT")
BPID=$(sed -n 's/^dev-db: PgBouncer on port \([0-9]*\) (pid \([0-9]*\)).*/\2/p' <<<"$OUT")
if [ -n "$BP" ] && [ "$BP" != "$P" ]; then t_pass "PgBouncer on a port of its own ($BP)"; else
  t_fail "no PgBouncer port in: $OUT"; t_done; fi
assert_not_contains "$OUT" "$PW" "start never prints the password"
assert_contains "$OUT" "DB_PGBOUNCER_ADMIN_URL=postgresql://app:***@localhost:$BP/pgbouncer" \
  "start shows how to read both hops"
# the same user as the server, never root
assert_eq "$(stat -c %U "$DEV/pgdata")" "$(ps -o user= -p "$BPID" | tr -d ' ')" \
  "PgBouncer runs as the server's user"
# the lines of pg-config --pgbouncer (the dev-db copies of the set)
assert_line "$(cat "$DEV/pgbouncer.ini")" "client_tls_sslmode = verify-full" "client hop verify-full"
assert_line "$(cat "$DEV/pgbouncer.ini")" "server_tls_sslmode = verify-full" "server hop verify-full"
if grep -rqF "$PW" "$DEV/" 2>/dev/null; then t_fail "the password is written in $DEV"; else
  t_pass "no password in the dev-db directory"; fi
grep -q '^"app" "SCRAM-SHA-256\$' "$DEV/pgbouncer_users.txt" && t_pass "the users file holds the SCRAM secret" ||
  t_fail "users file: $(sed 's/\$.*//' "$DEV/pgbouncer_users.txt")"

# the application through PgBouncer, verify-full on its own hop, both hops from the admin console
sed "s/@localhost:$P\//@localhost:$BP\//" "$T/.env" >"$T/through.env"
echo "DB_PGBOUNCER_ADMIN_URL=postgresql://app:$PW@localhost:$BP/pgbouncer" >>"$T/through.env"
run_split "$DBSSL" status --env-file "$T/through.env" --json
assert_rc 0 "dbssl status through PgBouncer"
BP=$BP python3 - "$OUT" <<'PY' && t_pass "through PgBouncer: healthy, verify-full, both hops TLS" || t_fail "status: $OUT"
import json, os, sys
j = json.loads(sys.argv[1])
assert j["status"] == "healthy", (j["status"], j["warnings"])
assert j["server"] == "localhost:" + os.environ["BP"], j["server"]
assert j["ssl_version"] == "TLSv1.3" and j["hostname_verification"] is True and j["client_certificate"] is True, j
p = j["pgbouncer"]
assert p["checked"] is True and p["servers"]["tls"] >= 1 and p["servers"]["plaintext"] == 0, p
assert p["clients"]["plaintext"] == 0, p
PY

run_cmd "$DBSSL" dev-db status --dir "$DEV"
assert_rc 0 "dev-db status"
assert_contains "$OUT" "PgBouncer running on port $BP (pid $BPID" "status shows PgBouncer"
run_cmd "$DBSSL" dev-db start --pgbouncer --dir "$DEV" --env-file "$T/.env"
assert_rc 0 "a second start"
assert_contains "$OUT" "already running" "a second start finds the server running"
assert_contains "$OUT" "PgBouncer on port $BP (pid $BPID)" "and leaves PgBouncer as it is"

run_cmd "$DBSSL" dev-db stop --dir "$DEV"
assert_rc 0 "dev-db stop"
if kill -0 "$BPID" 2>/dev/null; then t_fail "PgBouncer (pid $BPID) still runs after stop"; else
  t_pass "stop ended PgBouncer"; fi
if port_busy "$BP"; then t_fail "PgBouncer's port $BP is still taken"; else t_pass "PgBouncer's port is free"; fi
if port_busy "$P"; then t_fail "the server's port $P is still taken"; else t_pass "the server's port is free"; fi
run_cmd "$DBSSL" dev-db status --dir "$DEV"
assert_rc 1 "status after stop: not running"
assert_not_contains "$OUT" "PgBouncer running" "status after stop: no PgBouncer"
t_done
