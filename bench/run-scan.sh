#!/usr/bin/env bash
# run-scan.sh - the cost of `dbssl scan` against sslscan --starttls-psql on
# the same local PostgreSQL 15 (PostgreSQL's default ssl_ciphers, an ECDSA
# certificate), in the same run: median wall time of each and the ratio,
# and dbssl's handshake count.
# Usage: bench/run-scan.sh [RUNS]   (needs sslscan: scripts/install-deps.sh --test)
set -euo pipefail
runs=${1:-10}
. "$(dirname "$0")/servers.sh"
t_init
make_test_certs "$T/certs" app
pg_setup
pg_install_server_cert "$T/certs/server.crt" "$T/certs/server.key"
pg_configure "ssl = on
ssl_cert_file = '$PG_DIR/srv/server.crt'
ssl_key_file = '$PG_DIR/srv/server.key'" "hostssl all all 127.0.0.1/32 trust"
pg_start

# median_ms CMD...: the median wall time of RUNS runs, in ms
median_ms() {
  local i t0 all=()
  for ((i = 0; i < runs; i++)); do
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    all+=($((($(date +%s%N) - t0) / 1000000)))
  done
  printf '%s\n' "${all[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}
ours=$(median_ms "$DBSSL" scan "127.0.0.1:$PG_PORT")
theirs=$(median_ms sslscan --starttls-psql --no-colour "127.0.0.1:$PG_PORT")
hs=$({ "$DBSSL" scan --json "127.0.0.1:$PG_PORT" || true; } | sed -n 's/^  "handshakes": \([0-9]*\),/\1/p')
echo "dbssl scan:    median ${ours} ms ($hs handshakes), $runs runs"
echo "sslscan:       median ${theirs} ms"
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "ratio dbssl/sslscan: %.2f\n", a / b }'
t_pass
t_done >/dev/null
