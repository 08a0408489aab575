#!/usr/bin/env bash
# test_probe.sh - GET /probe against real PostgreSQL 15 servers and broken
# peers, as Prometheus would call it, and what a user of the endpoint sees:
#  - tls: a good server (by each address its certificate names, and by a
#    name), its grade equal to `dbssl scan`'s; the system trust store that
#    does not know the CA; an expired certificate, a wrong name, ssl = off,
#    a black hole (bounded by X-Prometheus-Scrape-Timeout-Seconds), a closed
#    port - each with its failure reason;
#  - login: a verified login with the module's role (settings and sessions
#    as far as the role may see them), a wrong password, the expired and
#    wrong-name servers; no password in any answer;
#  - the requests refused (400, 403, 404), the exposition linted by promtool;
#  - a flood of black-hole probes slows neither /health nor a healthy target;
#  - /probe/overview: worst first, well-formed, its CSP hash matches its style;
#  - SIGHUP with a broken probe file keeps the modules, a good one adds one;
#    serve refuses to start on a broken file (exit 2, file and line named).
. "${DBSSL_SRC:?}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
. "$DBSSL_SRC/tests/integration/pgfleet.sh"
t_init

fleet_clean_env
PROMTOOL=$(prometheus_tool promtool) || t_done
cd "$T" || exit 1
C=$T/certs
mkdir -p "$C" && chmod 700 "$C"
PG_PORT_BASE=57700
cert_ca "$C" ca "probe test CA" 30 || exit 1
cert_leaf "$C" good ca localhost 30 "DNS:localhost,IP:127.0.0.1,IP:127.0.0.2" serverAuth || exit 1
cert_leaf "$C" wrong ca elsewhere.example 30 "DNS:elsewhere.example" serverAuth || exit 1
# valid from 40 days ago for 30 days: expired ten days ago
fleet_cert_expired "$C" expired ca "IP:127.0.0.3" || { t_fail "no expired certificate"; t_done; }

HBA="hostssl all all 127.0.0.0/8 scram-sha-256"
fleet_pg 127.0.0.1,127.0.0.2 "$C/good.crt" "$C/good.key" "" "$HBA" || exit 1
GOOD=$FLEET_PORT
pg_sql "create role probe login password 'probe-pw-123'; grant pg_read_all_settings, pg_read_all_stats to probe;
        create role weak login password 'weak-pw-456'" >/dev/null
fleet_pg 127.0.0.3 "$C/expired.crt" "$C/expired.key" "" "$HBA" || exit 1
EXPIRED=$FLEET_PORT
fleet_pg 127.0.0.4 "$C/wrong.crt" "$C/wrong.key" "" "$HBA" || exit 1
WRONG=$FLEET_PORT
fleet_pg 127.0.0.5 "" "" "ssl = off" "host all all 127.0.0.0/8 trust" || exit 1
PLAIN=$FLEET_PORT
fleet_hole 127.0.0.6 || exit 1
HOLE=$FLEET_PORT
CLOSED=$(free_port 58700) || exit 1

login_env() { # NAME USER PASSWORD
  printf 'DATABASE_URL=postgresql://%s:%s@/postgres\nDB_SSL_MODE=verify-full\nDB_SSL_CA_CERT=%s\n' \
    "$2" "$3" "$C/ca.crt" >"$T/$1.env"
}
login_env login probe probe-pw-123
login_env weak weak weak-pw-456
login_env badpw probe wrong-pw-789
cat >"$T/probe.ini" <<EOF
# the modules of this test
[targets]
allow = 127.0.0.0/8, localhost
[module tls]
kind = tls
ca_file = $C/ca.crt
expiry_warn_days = 7
[module system]
kind = tls
grade_every = off
[module login]
kind = login
env_file = $T/login.env
[module weak]
kind = login
env_file = $T/weak.env
[module badpw]
kind = login
env_file = $T/badpw.env
EOF
HTTP=127.0.0.1:$(free_port 57790) || exit 1
cat >"$T/serve.env" <<EOF
DATABASE_URL=postgresql://probe:probe-pw-123@localhost:$GOOD/postgres
DB_SSL_MODE=verify-full
DB_SSL_CA_CERT=$C/ca.crt
HTTP_LISTEN=$HTTP
DB_PROBE_CONFIG=$T/probe.ini
DB_PROBE_CONCURRENCY=4
EOF
fleet_serve "$T/serve.env" "$T/serve.log" || exit 1
SERVE=$FLEET_SERVE_PID

# probe TARGET [MODULE] [SCRAPE_TIMEOUT] : the answer's body in OUT, status in CODE, seconds in SECS
probe() {
  local q="target=$1${2:+&module=$2}" h=()
  [ -n "${3:-}" ] && h=(-H "X-Prometheus-Scrape-Timeout-Seconds: $3")
  OUT=$(curl -s --max-time 20 "${h[@]}" -w '\n%{http_code} %{time_total}' "http://$HTTP/probe?$q")
  CODE=$(tail -1 <<<"$OUT" | cut -d' ' -f1)
  SECS=$(tail -1 <<<"$OUT" | cut -d' ' -f2)
  OUT=$(sed '$d' <<<"$OUT")
}
# value NAME_WITH_LABELS : the sample's value in OUT ("" when absent)
value() { grep -F "$1 " <<<"$OUT" | grep -v '^#' | head -1 | awk '{print $NF}'; }
lt() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$1" "$2"; }

# ---- tls: a good server by each name its certificate has ----
for target in "127.0.0.1:$GOOD" "127.0.0.2:$GOOD" "localhost:$GOOD"; do
  probe "$target"
  assert_eq 200 "$CODE" "$target: status"
  assert_eq 1 "$(value probe_success)" "$target: probe_success"
  assert_eq 1 "$(value dbssl_probe_hostname_match)" "$target: hostname_match"
  assert_eq 1 "$(value dbssl_probe_chain_verified)" "$target: chain_verified"
  assert_not_contains "$OUT" "dbssl_probe_failed{" "$target: no failure"
done
probe "127.0.0.1:$GOOD"
assert_line "$OUT" 'dbssl_probe_ssl_enabled 1' "ssl_enabled"
assert_match "$OUT" '^dbssl_probe_tls_info\{version="TLSv1.3",cipher="TLS_AES_256_GCM_SHA384",group="[^"]+"\} 1$' "tls_info"
assert_line "$OUT" 'dbssl_probe_cert_expiry_state{state="valid",days_left="29"} 1' \
  "expiry state and days left of a 30-day certificate"
assert_match "$OUT" '^dbssl_probe_cert_not_after_seconds\{subject="CN=localhost",issuer="CN=probe test CA",serial="[0-9A-F]+"\} [0-9]+$' "not_after"
# the grade: the findings `dbssl scan` fails the server on (PostgreSQL's default ssl_ciphers)
scan_fails=$("$DBSSL" scan --json --ca-file "$C/ca.crt" "127.0.0.1:$GOOD" |
  python3 -c 'import json,sys; print(" ".join(sorted(f["id"] for f in json.load(sys.stdin)["grade"]["findings"] if f["severity"] == "fail")))')
probe_fails=$(sed -n 's/^dbssl_probe_grade_failed_check{profile="intermediate",check="\([a-z0-9_]*\)"} 1$/\1/p' <<<"$OUT" | sort | tr '\n' ' ' | sed 's/ $//')
[ -n "$scan_fails" ] && t_pass || t_fail "dbssl scan found nothing failing on PostgreSQL's defaults"
assert_eq "$scan_fails" "$probe_fails" "the grade's failed checks are dbssl scan's"
assert_line "$OUT" 'dbssl_probe_grade_passed{profile="intermediate"} 0' "grade"
printf '%s\n' "$OUT" >"$T/good.prom"
run_cmd "$PROMTOOL" check metrics <"$T/good.prom"
assert_rc 0 "promtool check metrics on a probe answer"

probe "127.0.0.1:$GOOD" system
assert_eq 0 "$(value probe_success)" "system trust store: probe_success"
assert_line "$OUT" 'dbssl_probe_failed{reason="untrusted"} 1' "system trust store: untrusted"
assert_line "$OUT" 'dbssl_probe_chain_verified 0' "system trust store: chain_verified"
assert_not_contains "$OUT" "dbssl_probe_grade_" "grade_every = off: no grade"

# ---- tls: the broken ones ----
probe "127.0.0.3:$EXPIRED"
assert_eq 0 "$(value probe_success)" "expired: probe_success"
assert_line "$OUT" 'dbssl_probe_failed{reason="expired"} 1' "expired: reason"
assert_not_contains "$OUT" 'reason="untrusted"' "expired: the date is the reason, not the chain"
assert_line "$OUT" 'dbssl_probe_cert_expiry_state{state="expired",days_left="-11"} 1' \
  "expired: state and days left"
probe "127.0.0.4:$WRONG"
assert_line "$OUT" 'dbssl_probe_failed{reason="hostname_mismatch"} 1' "wrong name: reason"
assert_line "$OUT" 'dbssl_probe_hostname_match 0' "wrong name: hostname_match"
assert_line "$OUT" 'dbssl_probe_chain_verified 1' "wrong name: the chain itself verifies"
probe "127.0.0.5:$PLAIN"
assert_line "$OUT" 'dbssl_probe_failed{reason="ssl_unavailable"} 1' "plaintext: reason"
assert_line "$OUT" 'dbssl_probe_ssl_enabled 0' "plaintext: ssl_enabled"
probe "127.0.0.7:$CLOSED"
assert_line "$OUT" 'dbssl_probe_failed{reason="connection_refused"} 1' "closed port: reason"
assert_not_contains "$OUT" "dbssl_probe_ssl_enabled" "closed port: ssl unknown"
probe "127.0.0.6:$HOLE" "" 2
assert_line "$OUT" 'dbssl_probe_failed{reason="timeout"} 1' "black hole: reason"
d=$(value probe_duration_seconds)
lt 1.3 "$d" && lt "$d" 1.7 && t_pass "black hole: probed for the scrape timeout less the margin ($d s)" ||
  t_fail "black hole: probe_duration_seconds $d, expected 1.5 (2 s less 0.5 s)"
lt "$SECS" 2 && t_pass || t_fail "black hole: answered after $SECS s, the scrape timeout is 2 s"

# ---- login ----
probe "localhost:$GOOD" login
assert_eq 1 "$(value probe_success)" "login: probe_success"
assert_match "$OUT" '^dbssl_probe_server_info\{version="15\.[0-9]+"\} 1$' "login: server version"
assert_line "$OUT" 'dbssl_probe_server_setting{name="ssl",value="on"} 1' "login: ssl setting"
assert_line "$OUT" 'dbssl_probe_server_setting{name="ssl_min_protocol_version",value="TLSv1.2"} 1' \
  "login: a setting pg_read_all_settings shows"
assert_line "$OUT" 'dbssl_probe_client_certificate_sent 0' "login: no client certificate"
ssl_sessions=$(value 'dbssl_probe_sessions{ssl="true"}')
[ "${ssl_sessions:-0}" -ge 1 ] && t_pass || t_fail "login: its own TLS session not counted: $OUT"
assert_line "$OUT" 'dbssl_probe_sessions{ssl="unknown"} 0' "login: pg_read_all_stats sees every session"
probe "localhost:$GOOD" weak
assert_eq 1 "$(value probe_success)" "weak role: probe_success"
assert_not_contains "$OUT" 'name="ssl_min_protocol_version"' "weak role: hidden settings left out"
assert_line "$OUT" 'dbssl_probe_server_setting{name="ssl",value="on"} 1' "weak role: visible settings"
unknown=$(value 'dbssl_probe_sessions{ssl="unknown"}')
[ "${unknown:-0}" -ge 1 ] && t_pass || t_fail "weak role: the sessions of others are not 'unknown': $OUT"
probe "localhost:$GOOD" badpw
assert_line "$OUT" 'dbssl_probe_failed{reason="authentication_failed"} 1' "wrong password: reason"
probe "127.0.0.3:$EXPIRED" login
assert_line "$OUT" 'dbssl_probe_failed{reason="expired"} 1' "login, expired: reason"
probe "127.0.0.4:$WRONG" login
assert_line "$OUT" 'dbssl_probe_failed{reason="hostname_mismatch"} 1' "login, wrong name: reason"
probe "127.0.0.5:$PLAIN" login
assert_line "$OUT" 'dbssl_probe_failed{reason="ssl_unavailable"} 1' "login, plaintext: reason"

# ---- what is refused ----
for bad in "" "target=" "target=http://127.0.0.1:$GOOD" "target=127.0.0.1:$GOOD/x" \
  "target=probe@127.0.0.1" "target=127.0.0.1%0a" "target=127.0.0.1:99999" \
  "target=127.0.0.1&module=nope" "target=$(printf 'a%.0s' $(seq 300))"; do
  code=$(curl -s --max-time 20 -o "$T/bad.out" -w '%{http_code}' "http://$HTTP/probe?$bad")
  assert_eq 400 "$code" "/probe?${bad:0:60}"
done
code=$(curl -s --max-time 20 -o "$T/bad.out" -w '%{http_code}' "http://$HTTP/probe?target=10.0.0.1:5432")
assert_eq 403 "$code" "a target outside the allow list"
assert_contains "$(cat "$T/bad.out")" "is not allowed" "403's message"
code=$(curl -s --max-time 20 -o /dev/null -w '%{http_code}' -H 'X-Prometheus-Scrape-Timeout-Seconds: soon' \
  "http://$HTTP/probe?target=127.0.0.1:$GOOD")
assert_eq 400 "$code" "an invalid scrape timeout"
code=$(curl -s --max-time 20 -o /dev/null -w '%{http_code}' -X POST "http://$HTTP/probe?target=127.0.0.1:$GOOD")
assert_eq 405 "$code" "POST /probe"

# ---- a flood of black holes: /health and a healthy target answer at once ----
flood=()
for i in $(seq 1 30); do
  curl -s --max-time 20 -o /dev/null -H 'X-Prometheus-Scrape-Timeout-Seconds: 3' \
    "http://$HTTP/probe?target=127.0.0.6:$HOLE&i=$i" &
  flood+=($!)
done
sleep 0.3
t0=$(date +%s%N)
curl -s --max-time 20 -o /dev/null "http://$HTTP/health/database/ssl"
health_ms=$((($(date +%s%N) - t0) / 1000000))
probe "127.0.0.2:$GOOD" "" 3
wait "${flood[@]}"
[ "$health_ms" -lt 500 ] && t_pass "/health/database/ssl in $health_ms ms during the flood" ||
  t_fail "/health/database/ssl took $health_ms ms during a flood of black-hole probes"
assert_eq 1 "$(value probe_success)" "a healthy target during the flood"
lt "$SECS" 1 && t_pass "the healthy target answered in $SECS s during the flood" ||
  t_fail "the healthy target waited $SECS s behind the black holes"
metrics=$(curl -s --max-time 20 "http://$HTTP/metrics")
assert_match "$metrics" '^dbssl_probes_total\{result="failure"\} [0-9]+$' "/metrics: probe counters"
assert_line "$metrics" 'dbssl_probe_workers{state="idle"} 5' "/metrics: the workers are free again"

# ---- the overview ----
run_split curl -s --max-time 20 -D "$T/overview.headers" "http://$HTTP/probe/overview"
printf '%s' "$OUT" >"$T/overview.html"
run_cmd python3 - "$T/overview.html" "$T/overview.headers" <<'PY'
import base64, hashlib, re, sys
import xml.etree.ElementTree as ET
html = open(sys.argv[1], encoding="utf-8").read()
headers = open(sys.argv[2]).read()
csp = re.search(r"(?im)^Content-Security-Policy: (.*)\r?$", headers).group(1)
style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
assert csp.startswith("default-src 'none'; style-src 'sha256-%s'" % digest), csp
assert "script" not in csp and "<script" not in html
assert not re.search(r"(src|href)=", html), "a resource to load"
root = ET.fromstring(html.split("\n", 1)[1])  # well-formed (after the doctype)
rows = [[("".join(td.itertext())) for td in tr.findall("td")] for tr in root.iter("tr") if tr.findall("td")]
order = {"failed": 0, "profile": 1, "expiring": 2, "ok": 3}
ranks = [order[r[0]] for r in rows]
assert ranks == sorted(ranks), ranks
print(len(rows), rows[0][0], sum(1 for r in rows if r[0] == "failed"))
PY
assert_rc 0 "overview: CSP hash, no resources, well-formed, worst first"
read -r nrows first nfailed <<<"$OUT"
assert_eq failed "$first" "overview: a failure on top"
[ "${nrows:-0}" -ge 12 ] && [ "${nfailed:-0}" -ge 8 ] && t_pass ||
  t_fail "overview: $nrows rows, $nfailed failed"
assert_not_contains "$(cat "$T/overview.html")" "probe-pw-123" "overview: no password"
assert_not_contains "$(cat "$T/overview.html")" "wrong-pw-789" "overview: no password"
assert_not_contains "$(cat "$T/serve.log")" "probe-pw-123" "log: no password"
assert_not_contains "$(cat "$T/serve.log")" "wrong-pw-789" "log: no password"

# ---- reload: a broken file keeps the modules, a good one is taken ----
cp "$T/probe.ini" "$T/probe.good"
printf '[targets]\nallow = 127.0.0.0/8\n[module tls]\nkind = tls\ntimout = 3\n' >"$T/probe.ini"
kill -HUP "$SERVE"
for _ in $(seq 1 50); do grep -q probe_config_reload_failed "$T/serve.log" && break; sleep 0.1; done
assert_contains "$(cat "$T/serve.log")" 'line 5: unknown setting' "SIGHUP with a broken probe file: logged"
probe "localhost:$GOOD" login
assert_eq 1 "$(value probe_success)" "after a broken reload: the modules in use"
{ cat "$T/probe.good"; printf '[module extra]\nkind = tls\nca_file = %s\ngrade_every = off\n' "$C/ca.crt"; } >"$T/probe.ini"
kill -HUP "$SERVE"
for _ in $(seq 1 50); do grep -q probe_config_reloaded "$T/serve.log" && break; sleep 0.1; done
probe "127.0.0.1:$GOOD" extra
assert_eq 1 "$(value probe_success)" "after a good reload: the new module"

# ---- serve refuses a broken file ----
cp "$T/serve.env" "$T/broken.env"
printf '[targets]\nallow = 127.0.0.1/8\n[module tls]\nkind = tls\n' >"$T/broken.ini"
sed -i "s|^DB_PROBE_CONFIG=.*|DB_PROBE_CONFIG=$T/broken.ini|; s|^HTTP_LISTEN=.*|HTTP_LISTEN=127.0.0.1:1|" "$T/broken.env"
run_split "$DBSSL" serve --env-file "$T/broken.env"
assert_rc 2 "serve with a broken DB_PROBE_CONFIG"
assert_contains "$ERR" "DB_PROBE_CONFIG \"$T/broken.ini\", line 2: invalid network \"127.0.0.1/8\"" "serve: the file and line"

stop_timed "$SERVE"
assert_eq 0 "$RC" "serve stops on SIGTERM"
t_done
