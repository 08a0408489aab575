#!/usr/bin/env bash
# test_multihost.sh - a primary and a streaming standby behind one multi-host
# DATABASE_URL (target_session_attrs=read-write), each with its own
# certificate for its own address, replication itself over verify-full TLS
# with a replication client certificate.  /health/database/ssl shows every
# host with its role and certificate; stopping the primary and promoting the
# standby moves the session to the new primary within one interval plus the
# connect timeout, and the status follows the rules (degraded: a host of the
# list is down).  Then a standby whose certificate names another host makes
# the service degraded, naming that host.
. "${DBSSL_SRC:?}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init
command -v curl >/dev/null || { t_fail "curl is needed"; t_done; }

WORK=$T/work
C=$T/certs
mkdir -p "$WORK" "$C"
# one CA (dbssl's shared set, with the application's client pair); each
# server's own set from it names its own address only (certs generate
# --ca-dir); the replication and wrong-name certificates from the same CA
SETS=$T/sets
gen() { env -i PATH="$PATH" DATABASE_URL="postgresql://app@127.0.0.1/app" "$DBSSL" certs generate --days 365 "$@"; }
gen --dir "$SETS/shared" --client >"$WORK/gen.out" 2>&1 &&
  gen --dir "$SETS/primary" --hosts 127.0.0.1 --ca-dir "$SETS/shared" >>"$WORK/gen.out" 2>&1 &&
  gen --dir "$SETS/standby" --hosts 127.0.0.2 --ca-dir "$SETS/shared" >>"$WORK/gen.out" 2>&1 ||
  { t_fail "dbssl certs generate: $(cat "$WORK/gen.out")"; t_done; }
assert_eq "X509v3 Subject Alternative Name: IP Address:127.0.0.2" \
  "$(openssl x509 -in "$SETS/standby/server.crt" -noout -ext subjectAltName | tr -s ' \n' ' ' | sed 's/ $//')" \
  "the standby's certificate names the standby only"
if [ ! -e "$SETS/standby/ca.key" ] && cmp -s "$SETS/shared/ca.crt" "$SETS/standby/ca.crt"; then
  t_pass "a host's set holds the shared CA's certificate and not its key"
else t_fail "the standby's set: $(ls "$SETS/standby")"; fi
assert_contains "$(env -i PATH="$PATH" "$DBSSL" pg-config --cert-dir "$SETS/standby")" \
  "ssl_cert_file = '$SETS/standby/server.crt'" "pg-config --cert-dir names the host's own pair"
cp "$SETS/shared/ca.crt" "$SETS/shared/ca.key" "$C/" &&
  cp "$SETS/primary/server.crt" "$C/primary.crt" && cp "$SETS/primary/server.key" "$C/primary.key" &&
  cp "$SETS/standby/server.crt" "$C/standby.crt" && cp "$SETS/standby/server.key" "$C/standby.key" &&
  cp "$SETS/shared/client.crt" "$C/app.crt" && cp "$SETS/shared/client.key" "$C/app.key" &&
  cert_leaf "$C" wrongname ca db.elsewhere.test 365 "DNS:db.elsewhere.test" serverAuth &&
  cert_leaf "$C" replicator ca replicator 365 "" clientAuth ||
  { t_fail "the test certificates"; t_done; }
# the servers run as postgres when we are root: they read their keys from srv/
chmod 0755 "$C" && chmod 0644 "$C"/*.key

# ---- the primary, on 127.0.0.1
pg_start_tls "$C/primary.crt" "$C/primary.key" "$C/ca.crt" "hostssl replication replicator 127.0.0.0/8 cert
hostssl all app 127.0.0.0/8 cert" "wal_level = replica
hot_standby = on" || { t_fail "the primary did not start"; t_done; }
P1=$PG_PORT
PRIMARY_DIR=$PG_DIR
pg_sql "create role replicator login replication" >/dev/null &&
  pg_sql "create role app login" >/dev/null &&
  pg_sql "create database app owner app" >/dev/null ||
  { t_fail "roles and database"; t_done; }

# ---- the standby, on 127.0.0.2: a base backup over TLS as the replicator
STANDBY_DIR=$(mktemp -d /tmp/dbssl-pg-standby.XXXXXX)
t_cleanup_add "pg_as_owner '$PG_BIN/pg_ctl' -D '$STANDBY_DIR/data' -m immediate -w stop >/dev/null 2>&1; rm -rf '$STANDBY_DIR'"
chmod 755 "$STANDBY_DIR"
mkdir -p "$STANDBY_DIR/srv"
# pg.sh's layout in the standby's own directory: pg.sh's helpers with PG_DIR set to it
PG_DIR=$STANDBY_DIR pg_install_server_cert "$C/standby.crt" "$C/standby.key" "$C/ca.crt"
install -m 0644 "$C/replicator.crt" "$STANDBY_DIR/srv/replicator.crt"
install -m 0600 "$C/replicator.key" "$STANDBY_DIR/srv/replicator.key"
if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$STANDBY_DIR"; fi
P2=$(free_port 56700) || { t_fail "no port for the standby"; t_done; }
REPL="host=127.0.0.1 port=$P1 user=replicator sslmode=verify-full sslrootcert=$STANDBY_DIR/srv/ca.crt sslcert=$STANDBY_DIR/srv/replicator.crt sslkey=$STANDBY_DIR/srv/replicator.key"
pg_as_owner "$PG_BIN/pg_basebackup" -d "$REPL" -D "$STANDBY_DIR/data" -R -X stream -c fast --no-sync \
  >"$WORK/basebackup.log" 2>&1 || { t_fail "pg_basebackup over verify-full: $(cat "$WORK/basebackup.log")"; t_done; }
{
  echo "listen_addresses = '127.0.0.2'"
  echo "port = $P2"
  echo "unix_socket_directories = '$STANDBY_DIR/srv'"
  PG_DIR=$STANDBY_DIR pg_tls_conf with-ca
} | pg_as_owner tee -a "$STANDBY_DIR/data/postgresql.conf" >/dev/null
# the base backup copied test.conf's include (ssl = on, the primary's pair); its
# lines come before ours
pg_as_owner "$PG_BIN/pg_ctl" -D "$STANDBY_DIR/data" -l "$STANDBY_DIR/srv/server.log" -w -t 30 start >/dev/null ||
  { t_fail "the standby did not start: $(tail -5 "$STANDBY_DIR/srv/server.log")"; t_done; }

# replication itself runs over TLS with the replicator's certificate
repl=""
for _ in $(seq 1 50); do
  repl=$(pg_sql "copy (select s.ssl, s.client_dn from pg_stat_replication r join pg_stat_ssl s using (pid)) to stdout" 2>/dev/null)
  [ -n "$repl" ] && break
  sleep 0.2
done
assert_eq "t	/CN=replicator" "$repl" "streaming replication over TLS, as the replicator's certificate"

# ---- dbssl serve on both hosts
URL="postgresql://app@127.0.0.1:$P1,127.0.0.2:$P2/app?target_session_attrs=read-write"
cat >"$WORK/serve.env" <<EOF
DATABASE_URL=$URL
DB_SSL_MODE=verify-full
DB_SSL_REQUIRED=true
DB_SSL_CA_CERT=$C/ca.crt
DB_SSL_CLIENT_CERT=$C/app.crt
DB_SSL_CLIENT_KEY=$C/app.key
DB_HEALTH_CHECK_INTERVAL=1
DB_CONNECT_TIMEOUT=2
EOF
chmod 0600 "$C/app.key"
HTTP_PORT=$(free_port 57600) || { t_fail "no HTTP port"; t_done; }
BASE="http://127.0.0.1:$HTTP_PORT"
SERVE_PID=
t_cleanup_add 'if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID"; fi'
env -i PATH="$PATH" "$DBSSL" serve --env-file "$WORK/serve.env" --listen "127.0.0.1:$HTTP_PORT" 2>"$WORK/serve.log" &
SERVE_PID=$!
for _ in $(seq 1 50); do curl -s -o /dev/null "$BASE/health" && break; sleep 0.1; done

host() { echo "[h for h in j['hosts'] if h['host']=='$1'][0]"; }
body=$(curl -s "$BASE/health/database/ssl?refresh=1")
if jcheck "$body" "len(j['hosts'])==2 and j['status']=='healthy' and j['server']=='127.0.0.1:$P1'"; then
  t_pass "two hosts, healthy, the session on the primary"
else t_fail "before the failover: $body"; fi
if jcheck "$body" "$(host 127.0.0.1)['role']=='primary' and $(host 127.0.0.1)['session'] is True and $(host 127.0.0.1)['server_certificate']['subject'].startswith('CN=127.0.0.1,') and $(host 127.0.0.1)['ssl_version']=='TLSv1.3'" &&
  jcheck "$body" "$(host 127.0.0.2)['role']=='standby' and $(host 127.0.0.2)['session'] is False and $(host 127.0.0.2)['server_certificate']['subject'].startswith('CN=127.0.0.2,') and $(host 127.0.0.2)['port']==$P2 and $(host 127.0.0.2)['error'] is None"; then
  t_pass "each host with its role and its own certificate"
else t_fail "per-host state: $body"; fi
metrics=$(curl -s "$BASE/metrics")
assert_line "$metrics" "dbssl_host_primary{host=\"127.0.0.1\",port=\"$P1\"} 1" "metrics: the primary"
assert_line "$metrics" "dbssl_host_primary{host=\"127.0.0.2\",port=\"$P2\"} 0" "metrics: the standby"
assert_line "$metrics" "dbssl_host_session{host=\"127.0.0.1\",port=\"$P1\"} 1" "metrics: the session's host"
if promtool=$(prometheus_tool promtool 2>/dev/null); then
  if curl -s "$BASE/metrics" | "$promtool" check metrics >"$WORK/promtool.out" 2>&1; then t_pass "promtool check metrics"
  else t_fail "promtool: $(cat "$WORK/promtool.out")"; fi
fi

# ---- failover: the primary stops, the standby is promoted
pg_stop
t0=$(date +%s%N)
pg_as_owner "$PG_BIN/pg_ctl" -D "$STANDBY_DIR/data" -w promote >/dev/null || t_fail "pg_ctl promote"
followed=
for _ in $(seq 1 150); do
  body=$(curl -s "$BASE/health/database/ssl")
  if jcheck "$body" "j['server']=='127.0.0.2:$P2' and $(host 127.0.0.2)['role']=='primary'"; then
    followed=$((($(date +%s%N) - t0) / 1000000))
    break
  fi
  sleep 0.1
done
# the bound: one interval (1 s) plus the connect timeout (2 s) per host tried
# before the new primary (the old one refuses at once), plus a second of slack
if [ -n "$followed" ] && [ "$followed" -le 6000 ]; then
  t_pass "the new primary is followed after ${followed} ms (interval 1 s + connect timeout 2 s)"
else t_fail "the failover was not followed within 6 s (${followed:-never}): $body"; fi
if jcheck "$body" "j['status']=='degraded' and $(host 127.0.0.1)['reachable'] is False and $(host 127.0.0.1)['error']['class']=='connection_refused' and $(host 127.0.0.2)['session'] is True and any('127.0.0.1:$P1' in w for w in j['warnings'])"; then
  t_pass "degraded after the failover, naming the host that is down"
else t_fail "after the failover: $body"; fi

# ---- a host whose certificate names another host: degraded, naming it
# (the old primary comes back with the wrong certificate, as a plain server)
PG_DIR=$PRIMARY_DIR pg_install_server_cert "$C/wrongname.crt" "$C/wrongname.key"
pg_start || t_fail "the old primary did not start again"
ok=
for _ in $(seq 1 60); do
  body=$(curl -s "$BASE/health/database/ssl")
  if jcheck "$body" "$(host 127.0.0.1)['reachable'] is False and ($(host 127.0.0.1)['error'] or {}).get('class')=='certificate_verification_failed'"; then ok=1; break; fi
  sleep 0.1
done
if [ -n "$ok" ] && jcheck "$body" "j['status']=='degraded' and j['server']=='127.0.0.2:$P2' and any('127.0.0.1:$P1' in w for w in j['warnings'])"; then
  t_pass "a host whose certificate names another host: degraded, certificate_verification_failed"
else t_fail "wrong-name host: $body"; fi

if grep -q 'BEGIN' "$WORK/serve.log"; then t_fail "key material in the log"; fi
kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || t_fail "serve exited $? on SIGTERM"
SERVE_PID=

# ---- hosts that never answer are probed at once, not one after another
# Four black holes (they accept the connection and never say a word) after
# the primary: each costs up to the connect timeout (2 s; libpq counts it in
# whole seconds, so 1-2 s).  Probed together they cost one timeout, and a
# check fits in the wait of ?refresh=1 (the timeout plus a second); probed
# one after the other (before) they cost four, and it never did.
BH_PIDS=
t_cleanup_add 'for p in $BH_PIDS; do kill "$p" 2>/dev/null; done'
BH=
for addr in 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6; do
  port=$(free_port 57700) || { t_fail "no port for a black hole"; t_done; }
  python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
print("ready", flush=True)
time.sleep(600)' "$addr" "$port" >"$WORK/bh-$addr.out" &
  BH_PIDS="$BH_PIDS $!"
  BH="$BH,$addr:$port"
  for _ in $(seq 1 50); do [ -s "$WORK/bh-$addr.out" ] && break; sleep 0.1; done
done
sed -i "s|^DATABASE_URL=.*|DATABASE_URL=postgresql://app@127.0.0.2:$P2$BH/app|" "$WORK/serve.env"
env -i PATH="$PATH" "$DBSSL" serve --env-file "$WORK/serve.env" --listen "127.0.0.1:$HTTP_PORT" 2>"$WORK/serve2.log" &
SERVE_PID=$!
for _ in $(seq 1 50); do curl -s -o /dev/null "$BASE/health" && break; sleep 0.1; done
# asked just after a check ended (the checker then waits its 1 s interval),
# so that the refresh starts a check of its own at once
checks() { curl -s "$BASE/metrics" | awk '$1 == "dbssl_check_duration_seconds_count" { print $2 }'; }
n0=$(checks)
for _ in $(seq 1 200); do [ "$(checks)" != "$n0" ] && break; sleep 0.05; done
t0=$(date +%s%N)
body=$(curl -s -D "$WORK/refresh.h" --max-time 15 "$BASE/health/database/ssl?refresh=1")
took=$((($(date +%s%N) - t0) / 1000000))
if jcheck "$body" "len(j['hosts'])==5 and [h['reachable'] for h in j['hosts']]==[True, False, False, False, False] and all(h['error']['class']=='timeout' for h in j['hosts'][1:])"; then
  t_pass "four black holes: all probed, each a timeout"
else t_fail "black holes: $body"; fi
# ?refresh=1 waits for a check at most the connect timeout plus a second:
# a check that probed the holes one after another never fitted in it
if grep -qi '^X-Dbssl-Refresh: done' "$WORK/refresh.h"; then
  t_pass "?refresh=1 with four black holes answered by a fresh check (${took} ms; each hole up to 2 s)"
else t_fail "?refresh=1 with four black holes was not fresh (${took} ms): $(tr -d '\r' <"$WORK/refresh.h" | grep -i x-dbssl)"; fi
kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || t_fail "serve exited $? on SIGTERM"
SERVE_PID=
t_done
