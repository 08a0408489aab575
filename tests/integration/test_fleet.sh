#!/usr/bin/env bash
# test_fleet.sh - 500 targets through /probe with the real engine: Prometheus
# (unpacked by scripts/prometheus-tools.sh, run here on loopback with its own
# storage, never as a service) scrapes two dbssl instances, the targets
# sharded between them with hashmod, half of the list from file_sd and half
# from http_sd, relabelled to ?target= as docs/fleet.md shows.
#
# The fleet: 400 addresses of eight real PostgreSQL 15 servers, each listening
# on 50 loopback addresses with a certificate that names them, and the broken
# ones - 30 addresses of a server whose certificate expired, 30 of one whose
# certificate names another host, 20 of one with ssl = off, 20 black holes
# (they accept and never answer).  Then Prometheus's HTTP API must show: a
# fresh sample of every target, probe_success 1 for exactly the good ones,
# the right failure reason on exactly the broken ones, both shards at work;
# the probe duration quantiles and each instance's memory are printed.
#
# Wall time is bounded by the scrape interval (5 s) and timeout (3 s): the
# black holes cost 2.5 s each, and the test waits for two complete rounds.
. "${DBSSL_SRC:?}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
. "$DBSSL_SRC/tests/integration/pgfleet.sh"
t_init

fleet_clean_env
PROMETHEUS=$(prometheus_tool prometheus) || t_done
PROMTOOL=$(prometheus_tool promtool) || t_done
cd "$T" || exit 1
C=$T/certs
mkdir -p "$C" && chmod 700 "$C"
PG_PORT_BASE=57800
INTERVAL=5
TIMEOUT=3
T0=$(date +%s)

# ---- the fleet ----
cert_ca "$C" ca "fleet test CA" 30 || exit 1
declare -A EXPECT # target -> "ok" or the failure reason it must carry
GOOD_SERVERS=8
PER_SERVER=50
for s in $(seq 1 $GOOD_SERVERS); do
  addrs=$(fleet_addrs "127.1.$s" 1 $PER_SERVER)
  cert_leaf "$C" "good$s" ca "fleet-$s" 30 "$(fleet_sans "$addrs")" serverAuth || exit 1
  fleet_pg "$addrs" "$C/good$s.crt" "$C/good$s.key" || exit 1
  for a in ${addrs//,/ }; do EXPECT["$a:$FLEET_PORT"]=ok; done
  [ "$s" = 1 ] && FIRST_GOOD="127.1.1.1:$FLEET_PORT"
done
addrs=$(fleet_addrs 127.2.0 1 30)
fleet_cert_expired "$C" expired ca "$(fleet_sans "$addrs")" || { t_fail "no expired certificate"; t_done; }
fleet_pg "$addrs" "$C/expired.crt" "$C/expired.key" || exit 1
for a in ${addrs//,/ }; do EXPECT["$a:$FLEET_PORT"]=expired; done
addrs=$(fleet_addrs 127.3.0 1 30)
cert_leaf "$C" wrong ca elsewhere.example 30 "DNS:elsewhere.example" serverAuth || exit 1
fleet_pg "$addrs" "$C/wrong.crt" "$C/wrong.key" || exit 1
for a in ${addrs//,/ }; do EXPECT["$a:$FLEET_PORT"]=hostname_mismatch; done
addrs=$(fleet_addrs 127.4.0 1 20)
fleet_pg "$addrs" "" "" "ssl = off" "host all all 127.0.0.0/8 trust" || exit 1
for a in ${addrs//,/ }; do EXPECT["$a:$FLEET_PORT"]=ssl_unavailable; done
addrs=$(fleet_addrs 127.5.0 1 20)
fleet_hole "$addrs" || exit 1
for a in ${addrs//,/ }; do EXPECT["$a:$FLEET_PORT"]=timeout; done
assert_eq 500 "${#EXPECT[@]}" "targets in the fleet"
t_log "the fleet is up after $(($(date +%s) - T0)) s"

# ---- two dbssl instances (the shards) ----
fleet_probe_ini "$T/probe.ini" "$C/ca.crt"
SHARDS=()
for shard in 0 1; do
  port=$(free_port $((57890 + shard * 5))) || exit 1
  cat >"$T/serve$shard.env" <<EOF
DATABASE_URL=postgresql://postgres@127.1.1.1:${FIRST_GOOD##*:}/postgres
DB_SSL_MODE=verify-full
DB_SSL_CA_CERT=$C/ca.crt
HTTP_LISTEN=127.0.0.1:$port
DB_PROBE_CONFIG=$T/probe.ini
EOF
  fleet_serve "$T/serve$shard.env" "$T/serve$shard.log" || exit 1
  SHARDS+=("127.0.0.1:$port")
  eval "SERVE_PID$shard=$FLEET_SERVE_PID"
done

# ---- the target lists: half file_sd, half http_sd ----
mkdir -p "$T/sd"
python3 - "$T/sd" "${!EXPECT[@]}" <<'PY'
import json, sys
targets = sorted(sys.argv[2:])
half = len(targets) // 2
json.dump([{"targets": targets[:half], "labels": {"list": "file_sd"}}],
          open(sys.argv[1] + "/file.json", "w"))
json.dump([{"targets": targets[half:], "labels": {"list": "http_sd"}}],
          open(sys.argv[1] + "/http.json", "w"))
PY
SD_PORT=$(free_port 57910) || exit 1
(cd "$T/sd" && exec python3 -m http.server --bind 127.0.0.1 "$SD_PORT") >"$T/sd.log" 2>&1 &
t_cleanup_add "kill $!"

# ---- Prometheus, configured as docs/fleet.md shows ----
PROM_PORT=$(free_port 57920) || exit 1
relabel() { # the relabelling of docs/fleet.md, with the shards of this test
  cat <<EOF
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: target
      - source_labels: [__param_target]
        modulus: 2
        target_label: __tmp_shard
        action: hashmod
      - source_labels: [__tmp_shard]
        regex: "0"
        target_label: __address__
        replacement: ${SHARDS[0]}
      - source_labels: [__tmp_shard]
        regex: "1"
        target_label: __address__
        replacement: ${SHARDS[1]}
EOF
}
cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: ${INTERVAL}s
  scrape_timeout: ${TIMEOUT}s
scrape_configs:
  - job_name: dbssl_fleet
    metrics_path: /probe
    params:
      module: [tls]
    file_sd_configs:
      - files: ["$T/sd/file.json"]
    http_sd_configs:
      - url: http://127.0.0.1:$SD_PORT/http.json
$(relabel)
EOF
run_cmd "$PROMTOOL" check config "$T/prometheus.yml"
assert_rc 0 "promtool check config"
"$PROMETHEUS" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$T/prometheus.log" 2>&1 &
PROM_PID=$!
t_cleanup_add "kill $PROM_PID; wait $PROM_PID"
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null && t_pass ||
  { t_fail "Prometheus did not start: $(cat "$T/prometheus.log")"; t_done; }
PROM_T0=$(date +%s)

# query EXPR : the result vector as "label=value ... value" lines ({{labels}} sorted),
# evaluated at $QUERY_TIME.  Once every target had a fresh sample, the checks
# below all look at that one instant: a scrape that fails later on a loaded
# machine marks its series stale, and a count taken after it would lose a
# target the fleet did probe.
QUERY_TIME=
query() {
  curl -s --max-time 10 --data-urlencode "query=$1" ${QUERY_TIME:+--data-urlencode "time=$QUERY_TIME"} \
    "http://127.0.0.1:$PROM_PORT/api/v1/query" |
    python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["status"] == "success", j
for r in j["data"]["result"]:
    print(" ".join("%s=%s" % kv for kv in sorted(r["metric"].items())), r["value"][1])'
}
scalar() { query "$1" | awk '{print $NF}' | head -1; }

# ---- every target probed, twice: a fresh sample of each ----
FRESH="time() - timestamp(probe_success{job=\"dbssl_fleet\"}) < $((2 * INTERVAL))"
ok=
for _ in $(seq 1 60); do
  QUERY_TIME=$(date +%s.%N)
  n=$(scalar "count($FRESH)")
  rounds=$(scalar 'min(count_over_time(probe_success{job="dbssl_fleet"}[1h]))')
  if [ "${n:-0}" = 500 ] && [ "${rounds:-0}" -ge 2 ]; then ok=1; break; fi
  sleep 1
done
t_log "Prometheus saw every target twice after $(($(date +%s) - PROM_T0)) s (fresh: ${n:-0}, rounds: ${rounds:-0})"
[ -n "$ok" ] && t_pass "a fresh sample of each of the 500 targets" ||
  t_fail "fresh samples: ${n:-none} of 500 (at least 2 rounds each: ${rounds:-0}); prometheus: $(tail -5 "$T/prometheus.log")"
assert_eq 500 "$(scalar 'count(up{job="dbssl_fleet"} == 1)')" "every scrape of /probe answered (up == 1)"

# ---- the verdicts: exactly the good ones succeed, each broken one says why ----
# lines "TARGET VERDICT" from Prometheus, compared with what the fleet is made of
query 'probe_success{job="dbssl_fleet"} == 1' | sed -n 's/.*target=\([^ ]*\).*/\1 ok/p' >"$T/seen"
# every failure with its reason, whichever it is: a good target that failed
# shows in the diff below with the reason it got (labels come sorted)
query 'dbssl_probe_failed{job="dbssl_fleet"}' |
  sed -n 's/.*reason=\([^ ]*\) .*target=\([^ ]*\).*/\2 \1/p' >>"$T/seen"
for t in "${!EXPECT[@]}"; do echo "$t ${EXPECT[$t]}"; done | sort >"$T/expected"
sort "$T/seen" >"$T/seen.sorted"
if diff -u "$T/expected" "$T/seen.sorted" >"$T/verdicts.diff"; then
  t_pass "each target's verdict (400 ok, 30 expired, 30 hostname_mismatch, 20 ssl_unavailable, 20 timeout)"
else
  t_fail "verdicts differ (- expected, + Prometheus):"$'\n'"$(head -40 "$T/verdicts.diff")"
fi
assert_eq 0 "$(scalar 'count(dbssl_probe_failed{job="dbssl_fleet",reason!~"expired|hostname_mismatch|ssl_unavailable|timeout"}) or vector(0)')" \
  "no other failure reason anywhere"
assert_eq 20 "$(scalar 'count(dbssl_probe_ssl_enabled{job="dbssl_fleet"} == 0)')" "plaintext servers seen as such"
assert_eq 30 "$(scalar 'count(dbssl_probe_cert_expiry_seconds{job="dbssl_fleet"} < 0)')" "expired certificates by date"
shards=$(query 'count by (instance) (probe_success{job="dbssl_fleet"})' | awk '{print $NF}' | sort -n | tr '\n' ' ')
read -r s0 s1 <<<"$shards"
[ -n "${s1:-}" ] && [ "$((s0 + s1))" = 500 ] && [ "$s0" -ge 150 ] && t_pass "hashmod shards: $s0 and $s1 targets" ||
  t_fail "hashmod sharding: targets per instance: $shards"
assert_eq 250 "$(scalar 'count(probe_success{job="dbssl_fleet",list="http_sd"})')" "http_sd's half"

# ---- the fleet's alert rules of docs/fleet.md over this fleet ----
# (their syntax and firing on made-up series: tests/cli/test_alerts.sh; here on the real fleet)
for alert in DbsslFleetPlaintext DbsslFleetCertificateExpired DbsslFleetHostnameMismatch DbsslFleetProbeFailing; do
  expr=$(python3 - "$DBSSL_SRC/docs/fleet-alerts.yml" "$alert" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
# the alert's expr: line (comment lines may stand between)
m = re.search(r"- alert: %s\n(?:\s*#.*\n)*\s+expr: (.*)\n" % sys.argv[2], text)
print(m.group(1) if m else "")
PY
)
  [ -n "$expr" ] && t_pass || t_fail "no alert $alert in docs/fleet-alerts.yml"
  firing=$(query "$expr" | wc -l)
  case $alert in
    DbsslFleetPlaintext) want=20 ;;
    DbsslFleetCertificateExpired) want=30 ;;
    DbsslFleetHostnameMismatch) want=30 ;;
    DbsslFleetProbeFailing) want=100 ;;
  esac
  assert_eq "$want" "$firing" "$alert's expression over the fleet"
done

# ---- what it costs: probe durations, scrape durations, memory ----
for q in 0.5 0.9 0.99; do
  p=$(scalar "quantile($q, probe_duration_seconds{job=\"dbssl_fleet\"} and on (target) probe_success == 1)")
  s=$(scalar "quantile($q, scrape_duration_seconds{job=\"dbssl_fleet\"})")
  t_log "quantile $q: probe_duration_seconds $p (good targets), scrape_duration_seconds $s (all)"
done
t_log "black holes: probe_duration_seconds max $(scalar 'max(probe_duration_seconds{job="dbssl_fleet"} and on (target) dbssl_probe_failed{reason="timeout"})') (scrape timeout ${TIMEOUT} s)"
for shard in 0 1; do
  pid_var=SERVE_PID$shard
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/${!pid_var}/status")
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/${!pid_var}/status")
  t_log "dbssl serve shard $shard: RSS ${rss} kB (peak ${hwm} kB), $(curl -s --max-time 5 "http://${SHARDS[$shard]}/metrics" | sed -n 's/^dbssl_probe_targets //p') targets"
  [ "${rss:-0}" -gt 0 ] && [ "$rss" -lt 262144 ] && t_pass || t_fail "shard $shard: RSS ${rss:-?} kB"
done
# the health endpoint of each instance stayed fast meanwhile
for shard in 0 1; do
  secs=$(curl -s --max-time 5 -o /dev/null -w '%{time_total}' "http://${SHARDS[$shard]}/health/database/ssl")
  python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 0.5 else 1)" "$secs" && t_pass ||
    t_fail "shard $shard: /health/database/ssl took $secs s under the fleet's scrapes"
done
t_log "total wall time $(($(date +%s) - T0)) s"
t_done
