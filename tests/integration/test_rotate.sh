#!/usr/bin/env bash
# test_rotate.sh - rotation without restart against a real PostgreSQL 15 that
# requires client certificates (hostssl ... cert), while a client keeps
# requesting /health/database/ssl:
#   (a) a new CA bundle + client certificate + key via the Kubernetes
#       `..data` symlink swap, (b) by plain overwrite, (c) an invalid set
#       (key not matching): zero failed or slow requests, new not_after within
#       2 s without a signal, the invalid set rejected and counted;
# then expiry (10 days left -> degraded with the exact not_after in
# /metrics; expired -> unhealthy, on simulated time: serve is the test-clock
# dbssl, whose clock is moved past the end of a certificate the server, at
# the real time, still accepts), `promtool check metrics` on the live
# /metrics, `dbssl reload --pid-file`, and sd_notify on a NOTIFY_SOCKET.
# Certificates are made with the openssl CLI.  Loopback only; cleanup on exit.
set -euo pipefail
. "${DBSSL_SRC:?source tree}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init

WORK=$T

# ---- certificates: ca1 signs the server and every client; ca2 only pads bundles
C=$WORK/certs
cert_ca "$C" ca1 "dbssl rotate ca1" 365
cert_ca "$C" ca2 "dbssl rotate ca2" 365
cat "$C/ca1.crt" "$C/ca2.crt" >"$C/bundle.crt"
cert_leaf "$C" server ca1 localhost 365 "DNS:localhost,IP:127.0.0.1"
for c in clientA:90 clientB:80 clientC:70 clientD:60; do
    cert_leaf "$C" "${c%:*}" ca1 dbssl_test "${c#*:}" "" clientAuth
done
cert_key "$C" other dbssl_test
cert_leaf "$C" clientE ca1 dbssl_test 10 "" clientAuth
# clientF expires an hour from now: `openssl ca` takes exact dates
mkdir -p "$WORK/ca/new"
: >"$WORK/ca/index.txt"
echo 1000 >"$WORK/ca/serial"
cat >"$WORK/ca/ca.cnf" <<EOF
[ ca ]
default_ca = tca
[ tca ]
database = $WORK/ca/index.txt
new_certs_dir = $WORK/ca/new
serial = $WORK/ca/serial
default_md = sha256
policy = pol
unique_subject = no
[ pol ]
commonName = supplied
EOF
cert_key "$C" clientF dbssl_test
F_END_EPOCH=
issue_short() { # clientF, valid for $1 more seconds
    F_END_EPOCH=$(( $(date +%s) + $1 ))
    openssl ca -batch -notext -config "$WORK/ca/ca.cnf" -cert "$C/ca1.crt" -keyfile "$C/ca1.key" \
        -in "$C/clientF.csr" -out "$C/clientF.crt" -startdate "$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)" \
        -enddate "$(date -u -d "@$F_END_EPOCH" +%Y%m%d%H%M%SZ)" 2>/dev/null
}

# ---- the database: TLS on, client certificates required
pg_start_mtls "$C/server.crt" "$C/server.key" "$C/ca1.crt" dbssl_test

# ---- the mounted secret, Kubernetes style: files are symlinks through ..data
K=$WORK/secret
mkdir -p "$K"
GEN=0
k8s_swap() { # ca cert key : a new timestamped dir, then ..data re-pointed by one rename
    GEN=$((GEN + 1))
    local d="..2026_01_01_00_00_0$GEN" old
    old=$(readlink "$K/..data" 2>/dev/null || true)
    mkdir "$K/$d"
    install -m 0644 "$1" "$K/$d/ca.crt"
    install -m 0644 "$2" "$K/$d/tls.crt"
    install -m 0600 "$3" "$K/$d/tls.key"
    ln -s "$d" "$K/..data_tmp"
    mv -T "$K/..data_tmp" "$K/..data"
    for f in ca.crt tls.crt tls.key; do [ -L "$K/$f" ] || ln -s "..data/$f" "$K/$f"; done
    if [ -n "$old" ]; then rm -rf "${K:?}/$old"; fi
}
k8s_swap "$C/ca1.crt" "$C/clientA.crt" "$C/clientA.key"

SERVE_PID= LOAD_PID= NOTIFY_PID=
t_cleanup_add 'if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID"; wait "$SERVE_PID"; fi'
t_cleanup_add 'for p in "$LOAD_PID" "$NOTIFY_PID"; do if [ -n "$p" ]; then kill "$p"; fi; done'
t_cleanup_add 'touch "$WORK/stop-load"'
HTTP_PORT=$(free_port 18400)
BASE="http://127.0.0.1:$HTTP_PORT"
ENV=$WORK/serve.env
cat >"$ENV" <<EOF
DATABASE_URL=postgresql://dbssl_test@127.0.0.1:$PG_PORT/postgres
DB_SSL_MODE=verify-full
DB_SSL_REQUIRED=true
DB_SSL_CA_CERT=$K/ca.crt
DB_SSL_CLIENT_CERT=$K/tls.crt
DB_SSL_CLIENT_KEY=$K/tls.key
DB_SSL_EXPIRY_WARN_DAYS=30
DB_HEALTH_CHECK_INTERVAL=5
DB_CONNECT_TIMEOUT=3
EOF

# ---- a NOTIFY_SOCKET listener standing in for systemd: one line per datagram
python3 - "$WORK/notify.sock" "$WORK/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(1)
end = time.time() + 240
with open(sys.argv[2], "a", buffering=1) as out:
    while time.time() < end:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            continue
        out.write(msg.replace("\n", "|") + "\n")
        if "STOPPING=1" in msg:
            break
PY
NOTIFY_PID=$!
for _ in $(seq 1 50); do [ -S "$WORK/notify.sock" ] && break; sleep 0.1; done

echo 0 >"$WORK/now"
env -i PATH="$PATH" NOTIFY_SOCKET="$WORK/notify.sock" DBSSL_TEST_NOW_FILE="$WORK/now" \
    "${DBSSL_TESTCLOCK:?the test-clock dbssl}" serve --env-file "$ENV" \
    --listen "127.0.0.1:$HTTP_PORT" --pid-file "$WORK/dbssl.pid" 2>"$WORK/serve.log" &
SERVE_PID=$!

# wait_until SECONDS PYEXPR [PATH] : polls until the expression over j (the JSON
# body) or m (the metrics as {series: value}) holds; prints the seconds taken
probe() {
    python3 - "$BASE" "$1" "${2:-/health/database/ssl}" <<'PY'
import json, sys, urllib.request
base, expr, path = sys.argv[1], sys.argv[2], sys.argv[3]
def get(p):
    try:
        with urllib.request.urlopen(base + p, timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
code, body = get(path)
j = json.loads(body) if path.startswith("/health") else None
m = {}
for line in get("/metrics")[1].splitlines():
    if line and not line.startswith("#"):
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
def metric(name, **labels):
    for k, v in m.items():
        if k.split("{")[0] == name and all('%s="%s"' % (a, b) in k for a, b in labels.items()):
            return v
    return None
sys.exit(0 if eval(expr) else 1)
PY
}
wait_until() {
    local t0 now
    t0=$(date +%s%N)
    while :; do
        if probe "$2" "${3:-}" 2>/dev/null; then
            now=$(date +%s%N)
            echo "$(( (now - t0) / 1000000 ))"
            return 0
        fi
        now=$(date +%s%N)
        if [ $(( (now - t0) / 1000000 )) -gt $(( $1 * 1000 )) ]; then return 1; fi
        sleep 0.05
    done
}
client_after() { # the client certificate's not_after as the JSON shows it
    python3 -c 'import json,sys,urllib.request
j=json.load(urllib.request.urlopen(sys.argv[1]+"/health/database/ssl?refresh=1", timeout=5))
print([c["not_after"] for c in j["certificates"] if c["role"]=="client"][0])' "$BASE"
}
iso_end() { # openssl enddate of a file as the JSON shows it (RFC 3339 UTC)
    date -u -d "$(openssl x509 -enddate -noout -in "$1" | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ
}

if wait_until 15 'j["status"]=="healthy" and j["client_certificate"] is True' >/dev/null; then
    t_pass "serve is healthy with mutual TLS"
else
    t_fail "serve did not become healthy"; cat "$WORK/serve.log" >&2; t_done
fi
if grep -q 'READY=1' "$WORK/notify.log" && grep 'READY=1' "$WORK/notify.log" | head -1 | grep -q 'STATUS=healthy'; then
    t_pass "sd_notify: READY=1 after the first check ($(grep -m1 READY=1 "$WORK/notify.log"))"
else
    t_fail "sd_notify: no READY=1 after the first check: $(cat "$WORK/notify.log")"
fi

# ---- continuous load: one keep-alive client, every request timed
python3 - "$HTTP_PORT" "$WORK/stop-load" "$WORK/load.out" <<'PY' &
import http.client, os, sys, time
port, stop, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
n = bad = 0
worst = 0.0
end = time.time() + 150
while time.time() < end and not os.path.exists(stop):
    t0 = time.perf_counter()
    try:
        conn.request("GET", "/health/database/ssl")
        r = conn.getresponse()
        r.read()
        ok = r.status == 200
    except Exception:
        ok = False
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    dt = time.perf_counter() - t0
    n += 1
    worst = max(worst, dt)
    if not ok or dt >= 0.050:
        bad += 1
    time.sleep(0.005)
with open(out, "w") as f:
    f.write("%d %d %.4f\n" % (n, bad, worst))
PY
LOAD_PID=$!
sleep 0.5

# (a) Kubernetes symlink swap to set B (new bundle, new client pair)
before=$(client_after)
k8s_swap "$C/bundle.crt" "$C/clientB.crt" "$C/clientB.key"
want=$(iso_end "$C/clientB.crt")
if took=$(wait_until 2 '[c["not_after"] for c in j["certificates"] if c["role"]=="client"]==["'"$want"'"] and j["status"]=="healthy"'); then
    t_pass "(a) symlink swap: client not_after $before -> $want after ${took} ms, no signal"
else
    t_fail "(a) symlink swap: client not_after still $(client_after), want $want within 2 s"
fi

# (b) plain overwrite of the files in place
cat "$C/ca1.crt" >"$K/ca.crt"
cat "$C/clientC.crt" >"$K/tls.crt"
cat "$C/clientC.key" >"$K/tls.key"
want=$(iso_end "$C/clientC.crt")
if took=$(wait_until 2 '[c["not_after"] for c in j["certificates"] if c["role"]=="client"]==["'"$want"'"] and j["status"]=="healthy"'); then
    t_pass "(b) overwrite: client not_after now $want after ${took} ms, no signal"
else
    t_fail "(b) overwrite: client not_after still $(client_after), want $want within 2 s"
fi
if probe 'j["client_certificate"] is True and j["status"]=="healthy"' '/health/database/ssl?refresh=1'; then
    t_pass "(b) the checker reconnected with the new pair"
else
    t_fail "(b) not healthy after reconnecting: $(curl -s "$BASE/health/database/ssl")"
fi

# (c) an invalid set: client certificate D with a key that is not its own
failures=$(curl -s "$BASE/metrics" | awk '/^dbssl_config_reloads_total\{result="failure"\}/ {print $2}')
k8s_swap "$C/bundle.crt" "$C/clientD.crt" "$C/other.key"
if took=$(wait_until 3 'metric("dbssl_config_reloads_total", result="failure") > '"$failures"' and j["last_reload_error"] is not None'); then
    t_pass "(c) invalid set rejected after ${took} ms: $(curl -s "$BASE/health/database/ssl" | python3 -c 'import json,sys; e = json.load(sys.stdin)["last_reload_error"]; print(e["message"], "-", e["detail"])')"
else
    t_fail "(c) no failed reload reported: $(curl -s "$BASE/health/database/ssl")"
fi
if probe '[c["not_after"] for c in j["certificates"] if c["role"]=="client"]==["'"$want"'"] and j["status"]=="healthy"' '/health/database/ssl?refresh=1'; then
    t_pass "(c) the previous set is kept and healthy"
else
    t_fail "(c) previous set not kept: $(curl -s "$BASE/health/database/ssl")"
fi
if grep -q 'event=reload_finding severity=error setting=DB_SSL_CLIENT_KEY' "$WORK/serve.log"; then
    t_pass "(c) the findings are logged"
else
    t_fail "(c) no reload_finding for DB_SSL_CLIENT_KEY in the log"
fi

touch "$WORK/stop-load"
wait "$LOAD_PID" || true
LOAD_PID=
read -r n bad worst <"$WORK/load.out"
if [ "$n" -ge 50 ] && [ "$bad" -eq 0 ]; then
    t_pass "$n requests during the rotations: none failed, none >= 50 ms (slowest ${worst} s)"
else
    t_fail "$bad of $n requests failed or took >= 50 ms (slowest ${worst} s)"
fi

# ---- promtool on the live /metrics (CA bundle, client and server certificates present)
curl -s "$BASE/metrics" >"$WORK/metrics.txt"
if PROMTOOL=$(prometheus_tool promtool) &&
    "$PROMTOOL" check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1; then
    t_pass "promtool check metrics accepts the live /metrics"
else
    t_fail "promtool check metrics: $(cat "$WORK/promtool.out" 2>/dev/null)"
fi
hdr=$(curl -s -D - -o /dev/null "$BASE/metrics")
if grep -qi '^Content-Type: text/plain; version=0.0.4' <<<"$hdr"; then t_pass "/metrics content type"; else t_fail "/metrics headers: $hdr"; fi
for series in 'dbssl_up 1' 'dbssl_ssl_enabled 1' 'dbssl_tls_info{version="TLSv1.3",' \
    'dbssl_cert_not_after_seconds{role="server",' 'dbssl_cert_not_after_seconds{role="ca",' \
    'dbssl_cert_not_before_seconds{role="client",' 'dbssl_check_duration_seconds_bucket{le="+Inf"}' \
    'dbssl_build_info{version="'; do
    if grep -qF "$series" "$WORK/metrics.txt"; then t_pass "metrics has $series"; else t_fail "metrics lacks $series"; fi
done

# ---- dbssl reload --pid-file: a reload by command counts a success
successes=$(awk '/^dbssl_config_reloads_total\{result="success"\}/ {print $2}' "$WORK/metrics.txt")
k8s_swap "$C/ca1.crt" "$C/clientC.crt" "$C/clientC.key" # valid again, then settle
wait_until 3 'metric("dbssl_config_reloads_total", result="success") > '"$successes" >/dev/null || true
successes=$(curl -s "$BASE/metrics" | awk '/^dbssl_config_reloads_total\{result="success"\}/ {print $2}')
out=$(env -i PATH="$PATH" "$DBSSL" reload --pid-file "$WORK/dbssl.pid" 2>&1) || t_fail "dbssl reload failed: $out"
if wait_until 3 'metric("dbssl_config_reloads_total", result="success") == '"$successes"' + 1' >/dev/null; then
    t_pass "dbssl reload --pid-file: reloads_total{success} $successes -> $((successes + 1))"
else
    t_fail "dbssl reload did not reload: $(grep reloads_total "$WORK/metrics.txt")"
fi
# ---- plain `dbssl reload`: no pid file, so the one running serve is found by name
if [ "$(pgrep -xc dbssl)" = 1 ] && [ ! -e /run/dbssl/dbssl.pid ]; then
    successes=$(curl -s "$BASE/metrics" | awk '/^dbssl_config_reloads_total\{result="success"\}/ {print $2}')
    out=$(env -i PATH="$PATH" "$DBSSL" reload 2>&1) || t_fail "dbssl reload without --pid-file: $out"
    if wait_until 3 'metric("dbssl_config_reloads_total", result="success") == '"$successes"' + 1' >/dev/null; then
        t_pass "dbssl reload finds the running serve without a pid file"
    else
        t_fail "dbssl reload without --pid-file did not reload: $out"
    fi
else
    echo "skipped: another dbssl process or /run/dbssl/dbssl.pid exists on this machine"
fi

# ---- the .env file is watched too: an edit is taken without a signal, a bad one refused
successes=$(curl -s "$BASE/metrics" | awk '/^dbssl_config_reloads_total\{result="success"\}/ {print $2}')
sed -i 's/^DB_SSL_EXPIRY_WARN_DAYS=30$/DB_SSL_EXPIRY_WARN_DAYS=29/' "$ENV"
if wait_until 3 'metric("dbssl_config_reloads_total", result="success") == '"$successes"' + 1' >/dev/null; then
    t_pass ".env edited: reloaded without a signal"
else
    t_fail ".env edit not reloaded: $(curl -s "$BASE/metrics" | grep reloads_total)"
fi
failures=$(curl -s "$BASE/metrics" | awk '/^dbssl_config_reloads_total\{result="failure"\}/ {print $2}')
sed -i 's/^DB_SSL_MODE=verify-full$/DB_SSL_MODE=verify-everything/' "$ENV"
if wait_until 3 'metric("dbssl_config_reloads_total", result="failure") == '"$failures"' + 1 and "DB_SSL_MODE" in j["last_reload_error"]["detail"] and j["ssl_mode"] == "verify-full"' >/dev/null; then
    t_pass ".env with an invalid DB_SSL_MODE: refused, verify-full kept"
else
    t_fail ".env with an invalid value: $(curl -s "$BASE/health/database/ssl")"
fi
sed -i 's/^DB_SSL_MODE=verify-everything$/DB_SSL_MODE=verify-full/' "$ENV"
wait_until 3 'j["last_reload_error"] is None' >/dev/null && t_pass ".env fixed: the error clears" || t_fail ".env fixed, error still shown: $(curl -s "$BASE/health/database/ssl")"
if grep -q 'RELOADING=1' "$WORK/notify.log" && [ "$(grep -c 'READY=1' "$WORK/notify.log")" -ge 2 ]; then
    t_pass "sd_notify: RELOADING=1 / READY=1 around reloads"
else
    t_fail "sd_notify: reload messages missing: $(cat "$WORK/notify.log")"
fi
rc=0
err=$(env -i PATH="$PATH" "$DBSSL" reload --pid-file "$WORK/nope.pid" 2>&1) || rc=$?
if [ "$rc" -eq 1 ] && grep -q "pid file \"$WORK/nope.pid\" does not exist" <<<"$err"; then t_pass "reload: missing pid file"; else t_fail "reload, missing pid file: exit $rc: $err"; fi
echo 4000000 >"$WORK/stale.pid"
rc=0
err=$(env -i PATH="$PATH" "$DBSSL" reload --pid-file "$WORK/stale.pid" 2>&1) || rc=$?
if [ "$rc" -eq 1 ] && grep -q 'no process 4000000 is running' <<<"$err" && grep -q 'stale' <<<"$err"; then t_pass "reload: stale pid file"; else t_fail "reload, stale pid file: exit $rc: $err"; fi

# ---- expiry: 10 days left with DB_SSL_EXPIRY_WARN_DAYS=30
k8s_swap "$C/ca1.crt" "$C/clientE.crt" "$C/clientE.key"
want_epoch=$(date -u -d "$(openssl x509 -enddate -noout -in "$C/clientE.crt" | cut -d= -f2)" +%s)
if wait_until 3 'j["status"]=="degraded" and metric("dbssl_cert_not_after_seconds", role="client") == '"$want_epoch" '/health/database/ssl?refresh=1' >/dev/null; then
    t_pass "10 days left: degraded, dbssl_cert_not_after_seconds{role=client} = $want_epoch (openssl x509 -enddate)"
else
    t_fail "10 days left: $(curl -s "$BASE/health/database/ssl" | head -c 600) / $(curl -s "$BASE/metrics" | grep 'not_after_seconds{role="client"')"
fi
sleep 0.5
probe 'True' '/health/database/ssl?refresh=1' || true
if [ "$(grep -c "event=certificate_expiring role=client" "$WORK/serve.log")" -eq 1 ]; then
    t_pass "one expiry warning in the log for the client certificate, not one per check"
else
    t_fail "expiry warnings: $(grep -c "event=certificate_expiring role=client" "$WORK/serve.log") lines, want 1"
fi

# ---- expired while running: clientF's last second passes under a live connection
issue_short 3600
k8s_swap "$C/ca1.crt" "$C/clientF.crt" "$C/clientF.key"
want=$(iso_end "$C/clientF.crt")
if wait_until 5 '[c["not_after"] for c in j["certificates"] if c["role"]=="client"]==["'"$want"'"] and j["status"]=="degraded" and j["client_certificate"] is True' '/health/database/ssl?refresh=1' >/dev/null; then
    t_pass "a certificate with an hour left is taken into use (degraded)"
else
    t_fail "clientF not in use: $(curl -s "$BASE/health/database/ssl" | head -c 600)"
fi
# serve's clock a second past clientF's end; the server (real time) still accepts it
echo "@$((F_END_EPOCH + 1))" >"$WORK/now"
if wait_until 5 'j["status"]=="unhealthy" and any("expired" in w for w in j["warnings"])' '/health/database/ssl?refresh=1' >/dev/null; then
    t_pass "expired client certificate: unhealthy (503)"
else
    t_fail "expired: $(curl -s "$BASE/health/database/ssl" | head -c 800)"
fi
if grep -q 'level=error event=certificate_expired role=client' "$WORK/serve.log"; then t_pass "expired certificate logged"; else t_fail "no certificate_expired log line"; fi

# ---- stop: STOPPING=1, pid file removed
kill -TERM "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
SERVE_PID=
if [ "$rc" -eq 0 ] && [ ! -e "$WORK/dbssl.pid" ]; then t_pass "serve stops cleanly and removes its pid file"; else t_fail "serve exit $rc, pid file: $(ls "$WORK")"; fi
for _ in $(seq 1 20); do grep -q STOPPING=1 "$WORK/notify.log" && break; sleep 0.1; done
if grep -q 'STOPPING=1' "$WORK/notify.log"; then t_pass "sd_notify: STOPPING=1"; else t_fail "sd_notify: no STOPPING=1"; fi

t_done
