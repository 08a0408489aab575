#!/usr/bin/env bash
# run-probe.sh - the cost of one fleet probe (GET /probe, module kind tls, no
# grade) against `openssl s_client -starttls postgres` on the same local
# PostgreSQL 15 in the same run: the median wall time of each (one curl
# request vs one s_client process, both a complete SSLRequest + handshake +
# certificate check) and the ratio; then the throughput: PROBES requests,
# CONC at once, over TARGETS loopback addresses of the server, as probes per
# second of wall time and per CPU second of `dbssl serve` (its user + system
# time from /proc: probes per second per core), and serve's memory (VmRSS)
# once it remembers every target.
# Usage: bench/run-probe.sh [RUNS] [PROBES] [TARGETS] [CONC]   (defaults 20 2000 500 16)
set -euo pipefail
runs=${1:-20}
probes=${2:-2000}
ntargets=${3:-500}
conc=${4:-16}
. "$(dirname "$0")/servers.sh"
. "$src/tests/integration/pgfleet.sh"
t_init
fleet_clean_env
C=$T/certs
mkdir -p "$C" && chmod 700 "$C"
cert_ca "$C" ca "bench CA" 30
# the server listens on 50 addresses; the targets cycle over them and ports are not varied
addrs=$(fleet_addrs 127.9.0 1 50)
cert_leaf "$C" srv ca bench 30 "$(fleet_sans "$addrs")" serverAuth
fleet_pg "$addrs" "$C/srv.crt" "$C/srv.key"
port=$(free_port 58700)
fleet_probe_ini "$T/probe.ini" "$C/ca.crt" "grade_every = off
"
cat >"$T/serve.env" <<EOF
DATABASE_URL=postgresql://postgres@127.9.0.1:$FLEET_PORT/postgres
DB_SSL_MODE=verify-full
DB_SSL_CA_CERT=$C/ca.crt
HTTP_LISTEN=127.0.0.1:$port
DB_PROBE_CONFIG=$T/probe.ini
DB_PROBE_CONCURRENCY=$conc
EOF
fleet_serve "$T/serve.env" "$T/serve.log"
base=http://127.0.0.1:$port

# median_ms CMD...: the median wall time of RUNS runs, in ms (3 decimals)
median_ms() {
  local i t0 all=()
  for ((i = 0; i < runs; i++)); do
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 </dev/null || true
    all+=($(($(date +%s%N) - t0)))
  done
  printf '%s\n' "${all[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p" | awk '{printf "%.3f", $1 / 1e6}'
}
target=127.9.0.1:$FLEET_PORT
curl -sf "$base/probe?target=$target" | grep -q '^probe_success 1$' ||
  { echo "the probe of $target does not succeed: $(curl -s "$base/probe?target=$target")"; exit 1; }
echo | openssl s_client -starttls postgres -connect "$target" -verify_return_error -CAfile "$C/ca.crt" \
  -verify_ip 127.9.0.1 >/dev/null 2>&1 ||
  { echo "openssl s_client does not verify $target"; exit 1; }
ours=$(median_ms curl -sf "$base/probe?target=$target")
theirs=$(median_ms openssl s_client -starttls postgres -connect "$target" -verify_return_error \
  -CAfile "$C/ca.crt" -verify_ip 127.9.0.1)
echo "one tls probe (curl GET /probe):     median $ours ms, $runs runs"
echo "openssl s_client -starttls postgres: median $theirs ms"
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "ratio probe/s_client: %.2f\n", a / b }'

# throughput: PROBES requests over TARGETS addresses, 50 per server (PostgreSQL
# listens on at most 64): the first server's, then one more server per 50
pid=$FLEET_SERVE_PID
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; } # utime + stime, clock ticks
tick=$(getconf CLK_TCK)
PORTS=("$FLEET_PORT")
for ((s = 1; s < (ntargets + 49) / 50; s++)); do
  a2=$(fleet_addrs "127.9.$s" 1 50)
  cert_leaf "$C" "srv$s" ca bench 30 "$(fleet_sans "$a2")" serverAuth
  fleet_pg "$a2" "$C/srv$s.crt" "$C/srv$s.key"
  PORTS+=("$FLEET_PORT")
done
for ((i = 0; i < probes; i++)); do
  a=$((i % ntargets))
  echo "$base/probe?target=127.9.$((a / 50)).$((a % 50 + 1)):${PORTS[a / 50]}"
done >"$T/urls"
c0=$(cpu)
t0=$(date +%s%N)
# the bodies of every probe, one after the other: each has one probe_success line
xargs -P "$conc" -n 20 curl -s <"$T/urls" >"$T/bodies" || true
t1=$(date +%s%N)
c1=$(cpu)
ok=$(grep -c '^probe_success 1$' "$T/bodies" || true)
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
cpus=$(awk -v a="$c0" -v b="$c1" -v t="$tick" 'BEGIN { printf "%.2f", (b - a) / t }')
known=$(curl -s "$base/metrics" | sed -n 's/^dbssl_probe_targets //p')
echo "$ok of $probes probes succeeded in $wall s, $conc at once, over $ntargets targets ($known remembered)"
awk -v n="$probes" -v w="$wall" -v c="$cpus" 'BEGIN { printf "probes per second: %.0f (wall, 2 cores shared with PostgreSQL and curl), %.0f per CPU second of dbssl serve (%.2f s of CPU)\n", n / w, n / c, c }'
echo "dbssl serve memory: VmRSS $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status") kB, VmHWM $(awk '/^VmHWM/ {print $2}' "/proc/$pid/status") kB"
[ "$ok" = "$probes" ] || { echo "not every probe succeeded: see $T"; exit 1; }
t_pass
t_done >/dev/null
