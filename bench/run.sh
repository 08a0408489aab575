#!/usr/bin/env bash
# run.sh - `make bench`: dbssl against a peer doing the same work, measured on
# this machine in the same run, for each row of issue 11's table:
#
#   http     GET /health/database/ssl with wrk at -c64/-c256/-c1024/-c4096:
#            dbssl serve vs nginx serving the same bytes (a static file, and
#            `return 200` from memory); requests/s, socket errors, CPU per
#            request, resident memory idle, under load and with 10,000
#            connections held; idle memory also vs a program that only holds
#            one libpq TLS connection (bench/libpq_idle.c)
#   check    the checker's check duration idle and while wrk runs at -c1024
#            for BENCH_LOAD_SECONDS (60), and whether the service reported
#            the database `lost` meanwhile
#   connect  a new verified connection + SELECT 1: dbssl_connect() vs a
#            plain libpq PQconnectdb() loop vs pgbench -C
#   validate `dbssl validate` (whole process) vs an empty program linked
#            with libpq
#   certs    `dbssl certs generate --client` (whole process) vs the openssl
#            command-line recipe (bench/certs-openssl.sh), rsa-2048 and
#            ec-p256; and the generator alone (bench_certgen)
#   scan     `dbssl scan` vs sslscan --starttls-psql
#   profile  where the time goes at wrk -c1024, dbssl serve and nginx side
#            by side: CPU by object and symbol (perf record), system calls
#            per answer (strace -c); bench/profile.py writes it, the report
#            puts it under the tables
#
# Every pair runs in alternating order (A B, then B A, ...) for BENCH_ROUNDS
# (3) rounds; the report takes medians and ranges.  Its own PostgreSQL
# (`dbssl dev-db`: TLS only, verify-full, client certificates), nginx (its
# own configuration and prefix, never the system service) and dbssl run on
# loopback only and are stopped however the run ends.  Missing tools are
# installed first (scripts/install-deps.sh --bench).
#
# Writes bench/results/latest.json, latest.md (the table) and ratios.png
# (the chart), and prints each ratio with whether it meets its target.  A run
# of every section also rewrites the marked block of BENCHMARKS.md (the
# tables, the machine, its load) and bench/ratios.png; the prose around the
# block is kept.  BENCH_DOC=none leaves them alone.
#
# Usage: bench/run.sh [SECTION...]   (default: all; sections as above)
# Environment: BENCH_ROUNDS (3), BENCH_HTTP_SECONDS (5), BENCH_LOAD_SECONDS
# (60), BENCH_HOLD (10000), DBSSL_BUILD (./build), BENCH_DBSSL (the dbssl program measured,
# $DBSSL_BUILD/dbssl: another build's for an A/B of two versions), BENCH_OUT (bench/results),
# BENCH_DOC (BENCHMARKS.md), BENCH_PROFILE_SECONDS (5)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${DBSSL_BUILD:-$SRC/build}
OUT=${BENCH_OUT:-$SRC/bench/results}
ROUNDS=${BENCH_ROUNDS:-3}
HTTP_SECONDS=${BENCH_HTTP_SECONDS:-5}
LOAD_SECONDS=${BENCH_LOAD_SECONDS:-60}
HOLD=${BENCH_HOLD:-10000}
PROFILE_SECONDS=${BENCH_PROFILE_SECONDS:-5}
ALL_SECTIONS="http check connect validate certs scan profile"
CHECK_ROUNDS_MIN=5
SECTIONS=${*:-$ALL_SECTIONS}
DOC=${BENCH_DOC:-$SRC/BENCHMARKS.md}
# what was run, as a reader would type it again (the settings that differ from the defaults too)
COMMAND="${BENCH_COMMAND:-bench/run.sh${*:+ $*}}"
for v in BENCH_ROUNDS BENCH_HTTP_SECONDS BENCH_LOAD_SECONDS BENCH_HOLD; do
  [ -n "${!v:-}" ] && COMMAND="$v=${!v} $COMMAND"
done
say() { printf 'bench: %s\n' "$*" >&2; }

# ---- tools and build -------------------------------------------------------------
"$SRC/scripts/install-deps.sh" --bench
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target dbssl_cli bench_connect bench_empty bench_certgen \
  bench_pemload bench_libpq_idle >/dev/null
DBSSL=${BENCH_DBSSL:-$BUILD/dbssl}
export DBSSL DBSSL_SRC=$SRC
set +u
. "$SRC/tests/lib.sh" # free_port, wait_http, t_cleanup_add, the temporary directory $T
set -u
t_init
T_DONE=1 # not a test: lib.sh's "ended before t_done" check does not apply
W=$T
SAMPLES=$W/samples.tsv
META=$W/meta.tsv
: >"$SAMPLES"
: >"$META"
# the highest open-files limit this shell may have: wrk, nginx and dbssl inherit it
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
TCK=$(getconf CLK_TCK)

# sample KEY ROUND VALUE / meta KEY VALUE
sample() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$SAMPLES"; }
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# cpu_ticks PID... : user + system clock ticks of the processes, summed
cpu_ticks() {
  local p t=0 f
  for p in "$@"; do
    # the fields after "pid (comm) ": utime and stime are the 12th and 13th
    read -ra f < <(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    t=$((t + ${f[11]:-0} + ${f[12]:-0}))
  done
  echo "$t"
}
# mem_kib FIELD FILE PID... : a /proc/PID/FILE memory field in KiB, summed
# (VmRSS of status: resident; Pss of smaps_rollup: shared pages divided among their users)
mem_kib() {
  local field=$1 file=$2 p t=0 v
  shift 2
  for p in "$@"; do
    v=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$p/$file" 2>/dev/null) || v=0
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
rss_kib() { mem_kib VmRSS status "$@"; }
pss_kib() { mem_kib Pss smaps_rollup "$@"; }
# order ROUND A B [C] : the names rotated by the round, so that none always goes first
order() {
  local r=$1 i
  shift
  local a=("$@") n=$#
  for ((i = 0; i < n; i++)); do printf '%s ' "${a[$(((i + r) % n))]}"; done
}

meta command "$COMMAND"
meta started "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
meta load_start "$(loadavg)"
meta cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
meta cores "$(nproc)"
meta memory "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
meta kernel "$(uname -r)"
meta os "$(. /etc/os-release && echo "$PRETTY_NAME")"
meta commit "$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$SRC" diff --quiet HEAD 2>/dev/null || echo +changes)"
meta versions "$("$DBSSL" --version); $(nginx -v 2>&1 | sed 's/^nginx version: //'); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); $(hyperfine --version); $(openssl version | cut -d' ' -f1-2); libpq $(pg_config --version 2>/dev/null | cut -d' ' -f2 || echo 15); libmicrohttpd $(dpkg-query -W -f='${Version}' libmicrohttpd12 2>/dev/null)"
meta rounds "$ROUNDS"
meta http_seconds "$HTTP_SECONDS"
meta wrk_load_seconds "$LOAD_SECONDS"
meta nofile "$NOFILE"
meta hold "$HOLD"

# ---- the database: `dbssl dev-db` with a generated set -------------------------------
PG_PORT=$(free_port 22432)
HTTP_PORT=$(free_port 22800)
mkdir -p "$W/app"
cat >"$W/app/.env" <<EOF
DATABASE_URL=postgresql://bench:bench-pw@localhost:$PG_PORT/bench
DB_SSL_MODE=verify-full
DB_SSL_REQUIRED=true
DB_SSL_AUTO_GENERATE=true
DB_SSL_AUTO_GENERATE_CLIENT=true
DB_SSL_AUTO_CERT_DIR=$W/app/certs
DB_HEALTH_CHECK_INTERVAL=1
EOF
ENV_FILE=$W/app/.env
dbssl_app() { (cd "$W/app" && env -i PATH="$PATH" HOME="$W/app" "$DBSSL" "$@"); }
dbssl_app certs generate >/dev/null
t_cleanup_add "(cd '$W/app' && '$DBSSL' dev-db stop --dir '$W/app/dev')"
dbssl_app dev-db start --dir "$W/app/dev" --port "$PG_PORT" >/dev/null
# the same settings as libpq's variables, for libpq itself and pgbench
eval "$(dbssl_app env --show-secrets | grep '^export PG')"

# ---- http ------------------------------------------------------------------------------
SERVE_PID=
# In a session of its own, as nginx is (it daemonizes) and as a service
# manager starts it: with the kernel's autogroup scheduling each session
# gets an equal share of the CPU, so a server left in this script's session
# would share one share with wrk while nginx had one to itself.  setsid does
# not fork here (a background job of a script leads no process group), so
# $! stays the server's pid.
start_serve() {
  (cd "$W/app" && exec setsid env -i PATH="$PATH" HOME="$W/app" "$DBSSL" serve \
    --listen "127.0.0.1:$HTTP_PORT") >"$W/serve.log" 2>&1 &
  SERVE_PID=$!
  t_cleanup_add "kill $SERVE_PID"
  wait_http "http://127.0.0.1:$HTTP_PORT/health/database/ssl"
  # and healthy: the first check has run (its answer is nginx's body)
  for _ in $(seq 1 50); do
    curl -fs -o /dev/null "http://127.0.0.1:$HTTP_PORT/health/database/ssl" && return 0
    sleep 0.1
  done
  say "dbssl serve is not healthy: $(cat "$W/serve.log")"
  return 1
}

NGINX_DIR=$W/nginx
start_nginx() {
  local body
  mkdir -p "$NGINX_DIR/www" "$NGINX_DIR/tmp"
  curl -fs "http://127.0.0.1:$HTTP_PORT/health/database/ssl" >"$NGINX_DIR/www/ssl.json"
  chmod -R a+rX "$NGINX_DIR"
  body=$(cat "$NGINX_DIR/www/ssl.json"; printf x)
  body=${body%x}
  case "$body" in *"'"* | *'$'* | *'\'*) say "the body needs quoting nginx.conf.in does not do"; return 1 ;; esac
  STATIC_PORT=$(free_port 22900)
  RETURN_PORT=$(free_port $((STATIC_PORT + 1)))
  BODY=$body DIR=$NGINX_DIR NOFILE=$NOFILE STATIC_PORT=$STATIC_PORT RETURN_PORT=$RETURN_PORT \
    BACKLOG=$(cat /proc/sys/net/core/somaxconn) python3 -c 'import os, sys
s = sys.stdin.read()
for k in ("DIR", "NOFILE", "STATIC_PORT", "RETURN_PORT", "BACKLOG", "BODY"):
    s = s.replace("@" + k + "@", os.environ[k])
sys.stdout.write(s)' <"$SRC/bench/nginx.conf.in" >"$NGINX_DIR/nginx.conf"
  nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log"
  t_cleanup_add "nginx -p '$NGINX_DIR' -c '$NGINX_DIR/nginx.conf' -e '$NGINX_DIR/error.log' -s stop"
  wait_http "http://127.0.0.1:$STATIC_PORT/health/database/ssl"
  wait_http "http://127.0.0.1:$RETURN_PORT/health/database/ssl"
  curl -fs "http://127.0.0.1:$RETURN_PORT/health/database/ssl" | cmp -s - "$NGINX_DIR/www/ssl.json" ||
    { say "nginx's return 200 does not send dbssl's bytes"; return 1; }
}
nginx_pids() {
  local m
  m=$(cat "$NGINX_DIR/nginx.pid")
  echo "$m $(pgrep -P "$m" | tr '\n' ' ')"
}
# pids_of SERVER / port_of SERVER
pids_of() { if [ "$1" = dbssl ]; then echo "$SERVE_PID"; else nginx_pids; fi; }
port_of() {
  case $1 in dbssl) echo "$HTTP_PORT" ;; nginx_static) echo "$STATIC_PORT" ;; *) echo "$RETURN_PORT" ;; esac
}

# wrk_run SERVER CONNS ROUND : one wrk run; records req/s, errors, CPU per request, memory
wrk_run() {
  local server=$1 c=$2 r=$3 pids c0 c1 out wpid rss reqs rps errs
  pids=$(pids_of "$server")
  c0=$(cpu_ticks $pids)
  wrk -t2 -c"$c" -d"${HTTP_SECONDS}s" "http://127.0.0.1:$(port_of "$server")/health/database/ssl" \
    >"$W/wrk.out" 2>&1 &
  wpid=$!
  sleep "$(awk -v s="$HTTP_SECONDS" 'BEGIN { print s / 2 }')"
  rss=$(rss_kib $pids)
  wait "$wpid" || true
  c1=$(cpu_ticks $pids)
  out=$(cat "$W/wrk.out")
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out")
  reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
  errs=$(awk '/Socket errors:/ { gsub(",", ""); n = $4 + $6 + $8 + $10 } /Non-2xx/ { n += $NF } END { print n + 0 }' <<<"$out")
  if [ -z "$rps" ] || [ -z "$reqs" ] || [ "$reqs" -eq 0 ]; then
    say "wrk against $server at -c$c gave no result: $out"
    rps=0 reqs=1
  fi
  sample "http.c$c.$server.rps" "$r" "$rps"
  sample "http.c$c.$server.errors" "$r" "$errs"
  sample "http.c$c.$server.cpu_us" "$r" "$(awk -v t=$((c1 - c0)) -v k="$TCK" -v n="$reqs" 'BEGIN { printf "%.3f", t / k * 1e6 / n }')"
  sample "http.c$c.$server.rss_kib" "$r" "$rss"
  printf '  %-13s -c%-5s %10.0f req/s  %s errors\n' "$server" "$c" "$rps" "$errs" >&2
}

# hold_run SERVER : RSS with BENCH_HOLD connections held (each served one request)
hold_run() {
  local server=$1 pids before fifo line
  pids=$(pids_of "$server")
  before=$(rss_kib $pids)
  fifo=$W/hold.in
  rm -f "$fifo"
  mkfifo "$fifo"
  python3 "$SRC/bench/hold.py" "$(port_of "$server")" "$HOLD" <"$fifo" >"$W/hold.out" &
  local hpid=$!
  exec 9>"$fifo"
  for _ in $(seq 1 600); do
    [ -s "$W/hold.out" ] && break
    sleep 0.1
  done
  line=$(cat "$W/hold.out")
  sample "hold.$server.rss_kib" 1 "$(rss_kib $pids)"
  sample "hold.$server.rss_before_kib" 1 "$before"
  sample "hold.$server.held" 1 "$(cut -d' ' -f2 <<<"$line")"
  sample "hold.$server.failed" 1 "$(cut -d' ' -f3 <<<"$line")"
  exec 9>&-
  wait "$hpid" || true
  printf '  %-13s %s connections: %s\n' "$server" "$HOLD" "$line" >&2
}

# libpq_idle_run : the resident memory of a program that only holds one
# libpq TLS connection (bench/libpq_idle.c, with the PG* settings above)
libpq_idle_run() {
  local fifo=$W/libpq_idle.in pid line
  rm -f "$fifo"
  mkfifo "$fifo"
  "$BUILD/bench_libpq_idle" <"$fifo" >"$W/libpq_idle.out" 2>&1 &
  pid=$!
  exec 8>"$fifo"
  for _ in $(seq 1 100); do
    read -r line <"$W/libpq_idle.out" 2>/dev/null || true
    [ "$line" = ready ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if [ "$line" = ready ]; then
    sample "http.idle.libpq.rss_kib" 1 "$(rss_kib "$pid")"
    sample "http.idle.libpq.anon_kib" 1 "$(mem_kib RssAnon status "$pid")"
    sample "http.idle.libpq.file_kib" 1 "$(mem_kib RssFile status "$pid")"
  else
    say "bench_libpq_idle did not connect: $(cat "$W/libpq_idle.out")"
  fi
  exec 8>&-
  wait "$pid" || true
}

section_http() {
  local c r s
  say "http: dbssl serve vs nginx, wrk -t2, ${HTTP_SECONDS}s a run, $ROUNDS rounds"
  sleep 2 # a few checks: the idle state of a running service
  sample "http.idle.dbssl.rss_kib" 1 "$(rss_kib "$SERVE_PID")"
  sample "http.idle.dbssl.pss_kib" 1 "$(pss_kib "$SERVE_PID")"
  sample "http.idle.dbssl.anon_kib" 1 "$(mem_kib RssAnon status "$SERVE_PID")"
  sample "http.idle.dbssl.file_kib" 1 "$(mem_kib RssFile status "$SERVE_PID")"
  sample "http.idle.dbssl.threads" 1 "$(awk '/^Threads:/ { print $2 }' "/proc/$SERVE_PID/status")"
  libpq_idle_run
  start_nginx
  sample "http.idle.nginx.rss_kib" 1 "$(rss_kib $(nginx_pids))"
  sample "http.idle.nginx.pss_kib" 1 "$(pss_kib $(nginx_pids))"
  sample "http.idle.nginx.anon_kib" 1 "$(mem_kib RssAnon status $(nginx_pids))"
  sample "http.idle.nginx.file_kib" 1 "$(mem_kib RssFile status $(nginx_pids))"
  for s in dbssl nginx_static nginx_return; do # warm-up, not recorded
    wrk -t2 -c64 -d1s "http://127.0.0.1:$(port_of $s)/health/database/ssl" >/dev/null 2>&1 || true
  done
  # memory with many connections held, first: from the idle state of both
  if [ "$NOFILE" -gt $((HOLD + 200)) ]; then
    for s in dbssl nginx_static; do hold_run "$s"; done
  else
    say "open-files limit $NOFILE: not enough to hold $HOLD connections"
  fi
  for c in 64 256 1024 4096; do
    for ((r = 1; r <= ROUNDS; r++)); do
      for s in $(order "$r" dbssl nginx_static nginx_return); do
        wrk_run "$s" "$c" "$r"
      done
    done
  done
  sample "http.after.dbssl.rss_kib" 1 "$(rss_kib "$SERVE_PID")"
  meta load_http "$(loadavg)"
}

# ---- check: the checker under HTTP load --------------------------------------------------
metric() { curl -fs "http://127.0.0.1:$HTTP_PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
# refreshes KEY ROUND N PAUSE : N checks asked with ?refresh=1, each one's latency_ms recorded
refreshes() {
  local i v
  for ((i = 0; i < $3; i++)); do
    v=$(curl -fs --max-time 15 "http://127.0.0.1:$HTTP_PORT/health/database?refresh=1" |
      sed -n 's/^ *"latency_ms": \([0-9.]*\).*/\1/p') || true
    [ -n "$v" ] && sample "$1" "$2" "$v"
    sleep "$4"
  done
}
# window KEY ROUND CMD... : the mean check duration while CMD runs (Δsum / Δcount of the histogram)
window() {
  local key=$1 r=$2 s0 n0 s1 n1
  shift 2
  s0=$(metric dbssl_check_duration_seconds_sum)
  n0=$(metric dbssl_check_duration_seconds_count)
  "$@"
  s1=$(metric dbssl_check_duration_seconds_sum)
  n1=$(metric dbssl_check_duration_seconds_count)
  sample "$key.checks" "$r" $((n1 - n0))
  sample "$key.mean_ms" "$r" "$(awk -v a="$s0" -v b="$s1" -v m="$n0" -v n="$n1" 'BEGIN { printf "%.3f", (b - a) / (n - m) * 1000 }')"
}
# loaded KEY ROUND SECONDS : wrk -c1024 for SECONDS, a ?refresh=1 check every 0.25 s meanwhile
loaded() {
  local wpid
  wrk -t2 -c1024 -d"${3}s" "http://127.0.0.1:$HTTP_PORT/health/database/ssl" \
    >"$W/wrk-load.out" 2>&1 &
  wpid=$!
  sleep 1
  refreshes "$1.latency_ms" "$2" $((($3 - 2) * 4)) 0.25
  wait "$wpid" || true
}
section_check() {
  local r lost0 lost1 rec0 rec1
  # a round's mean moves with the scheduler (1.5-2.4 times idle across runs
  # of the same build): more rounds than the other sections, for a median
  local rounds=$((ROUNDS > CHECK_ROUNDS_MIN ? ROUNDS : CHECK_ROUNDS_MIN))
  say "check: the checker's check idle and under wrk -c1024, $rounds rounds of each; then ${LOAD_SECONDS}s of load for losses"
  for ((r = 1; r <= rounds; r++)); do
    window check.idle "$r" refreshes check.idle.latency_ms "$r" 20 0.1
    window check.load "$r" loaded check.load "$r" 10
  done
  lost0=$(grep -c 'event=lost' "$W/serve.log" || true)
  rec0=$(metric dbssl_reconnects_total)
  window check.long 1 loaded check.long 1 "$LOAD_SECONDS"
  lost1=$(grep -c 'event=lost' "$W/serve.log" || true)
  rec1=$(metric dbssl_reconnects_total)
  sample check.long.lost 1 $((lost1 - lost0))
  sample check.long.reconnects 1 $((rec1 - rec0))
  sample check.long.rps 1 "$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$W/wrk-load.out")"
  sample check.long.up_at_end 1 "$(metric dbssl_up)"
  # what the database itself logged meanwhile (a cause of a loss that is not ours)
  meta check_db_errors "$(grep -cE 'FATAL|PANIC|ERROR' "$W/app/dev/postgres.log" || true)"
  meta load_check "$(loadavg)"
  printf '  lost %s, reconnects %s during %ss at -c1024\n' $((lost1 - lost0)) $((rec1 - rec0)) "$LOAD_SECONDS" >&2
}

# ---- connect ---------------------------------------------------------------------------
section_connect() {
  local r m n=100 v
  say "connect: $n connections + SELECT 1 each way, $ROUNDS rounds"
  printf 'SELECT 1;\n' >"$W/select1.sql"
  for ((r = 1; r <= ROUNDS; r++)); do
    for m in $(order "$r" ab pgbench dbssl-state); do
      case $m in
      ab) # dbssl_connect and libpq alternating connection by connection: medians
        read -r v w < <(cd "$W/app" && "$BUILD/bench_connect" ab "$n")
        sample connect.dbssl.ms "$r" "$v"
        sample connect.libpq.ms "$r" "$w"
        printf '  %-12s %s ms\n  %-12s %s ms\n' dbssl "$v" libpq "$w" >&2
        continue
        ;;
      pgbench)
        v=$(pgbench -n -C -c1 -j1 -t "$n" -f "$W/select1.sql" 2>/dev/null |
          awk '/^tps = / { printf "%.4f", 1000 / $3 }')
        ;;
      *) v=$(cd "$W/app" && "$BUILD/bench_connect" "$m" "$n") ;;
      esac
      sample "connect.$m.ms" "$r" "$v"
      printf '  %-12s %s ms\n' "$m" "$v" >&2
    done
  done
  meta load_connect "$(loadavg)"
}

# ---- whole processes with hyperfine --------------------------------------------------------
# hf KEY ROUND RUNS [hyperfine options...] -- CMD : the median of RUNS runs, in ms
hf() {
  local key=$1 r=$2 runs=$3 v
  shift 3
  hyperfine -N --style none --runs "$runs" --export-json "$W/hf.json" "$@" >/dev/null 2>&1 ||
    { say "hyperfine failed: $*"; return 1; }
  v=$(python3 -c 'import json, sys; print("%.4f" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1000))' "$W/hf.json")
  sample "$key" "$r" "$v"
  printf '  %-28s %s ms\n' "$key" "$v" >&2
}

section_validate() {
  local r m t d
  say "validate: dbssl validate vs an empty program linked with libpq, $ROUNDS rounds"
  for ((r = 1; r <= ROUNDS; r++)); do
    # where the time goes: the program alone, then without the generated set's check
    for m in $(order "$r" dbssl empty version nogen); do
      case $m in
      dbssl) hf validate.dbssl.ms "$r" 40 --warmup 3 "$DBSSL validate --env-file $ENV_FILE" ;;
      empty) hf validate.empty.ms "$r" 40 --warmup 3 "$BUILD/bench_empty" ;;
      version) hf validate.version.ms "$r" 40 --warmup 3 "$DBSSL --version" ;;
      nogen) hf validate.nogen.ms "$r" 40 --warmup 3 \
        "$DBSSL validate --env-file $ENV_FILE --no-generate" ;;
      esac
    done
  done
  # how each way of reading PEM costs in one process (the development set's EC keys, and an RSA set)
  "$DBSSL" certs generate --env-file "$ENV_FILE" --dir "$W/rsa-set" --key-type rsa-2048 >/dev/null
  for ((r = 1; r <= ROUNDS; r++)); do
    for t in ec rsa; do
      if [ $t = ec ]; then d=$W/app/certs; else d=$W/rsa-set; fi
      "$BUILD/bench_pemload" "$d/server.crt" "$d/server.key" 200 | while read -r m v; do
        sample "pemload.$t.$m.us" "$r" "$v"
      done
    done
  done
  meta load_validate "$(loadavg)"
}

section_certs() {
  local r m t runs d
  say "certs: whole process vs the openssl command line, $ROUNDS rounds"
  for t in rsa-2048 ec-p256; do
    runs=15
    # an RSA set's time is the luck of six prime searches (the command
    # line's 0.63-0.83 s within one run): nine runs a round for its median
    [ "$t" = rsa-2048 ] && runs=9
    for ((r = 1; r <= ROUNDS; r++)); do
      for m in $(order "$r" dbssl openssl); do
        d=$W/certs-$m-$t
        if [ "$m" = dbssl ]; then
          hf "certs.$t.dbssl.ms" "$r" "$runs" --prepare "rm -rf $d" \
            "$DBSSL certs generate --env-file $ENV_FILE --dir $d --key-type $t --client"
        else
          hf "certs.$t.openssl.ms" "$r" "$runs" --prepare "rm -rf $d" \
            "$SRC/bench/certs-openssl.sh $d $t"
        fi
      done
    done
  done
  # the generator alone (in process, no process start), for comparison
  for ((r = 1; r <= ROUNDS; r++)); do
    "$BUILD/bench_certgen" 9 | while read -r t _ a _ _ _ b _; do
      sample "certgen.$t.inproc.ms" "$r" "$a"
      sample "certgen.$t.openssl.ms" "$r" "$b"
    done
  done
  meta load_certs "$(loadavg)"
}

section_scan() {
  local r m
  if ! command -v sslscan >/dev/null; then
    say "scan: sslscan is not installed (scripts/install-deps.sh --test): skipped"
    return 0
  fi
  say "scan: dbssl scan vs sslscan --starttls-psql, $ROUNDS rounds"
  for ((r = 1; r <= ROUNDS; r++)); do
    for m in $(order "$r" dbssl sslscan); do
      if [ "$m" = dbssl ]; then
        hf scan.dbssl.ms "$r" 5 -i "$DBSSL scan 127.0.0.1:$PG_PORT"
      else
        hf scan.sslscan.ms "$r" 5 -i "sslscan --starttls-psql --no-colour 127.0.0.1:$PG_PORT"
      fi
    done
  done
  meta load_scan "$(loadavg)"
}

# ---- profile: where the time goes under load -----------------------------------------------
# profile_one SERVER : perf record during one wrk -c1024 run, strace -c during another
profile_one() {
  local server=$1 pids wpid spid reqs
  pids=$(pids_of "$server")
  wrk -t2 -c1024 -d"$((PROFILE_SECONDS + 3))s" "http://127.0.0.1:$(port_of "$server")/health/database/ssl" \
    >/dev/null 2>&1 &
  wpid=$!
  sleep 1.5
  perf record -q -F 999 -g -o "$W/perf.data" -p "$(tr ' ' ',' <<<"$pids" | sed 's/,*$//')" \
    -- sleep "$PROFILE_SECONDS" >/dev/null 2>&1 || say "perf record failed against $server"
  wait "$wpid" || true
  perf report -i "$W/perf.data" --no-children -g none --sort dso --stdio >"$W/perf-dso.txt" 2>/dev/null || true
  perf report -i "$W/perf.data" --no-children -g none --sort dso,sym --stdio >"$W/perf-sym.txt" 2>/dev/null || true
  # shellcheck disable=SC2046 # one -p per process
  strace -c -f -o "$W/strace.txt" $(printf -- '-p %s ' $pids) 2>/dev/null &
  spid=$!
  t_cleanup_add "kill -INT $spid"
  sleep 1 # attached
  reqs=$(wrk -t2 -c1024 -d3s "http://127.0.0.1:$(port_of "$server")/health/database/ssl" 2>&1 |
    sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
  kill -INT "$spid" 2>/dev/null || true
  wait "$spid" || true
  python3 "$SRC/bench/profile.py" "$server" "$W/perf-dso.txt" "$W/perf-sym.txt" "$W/strace.txt" \
    "${reqs:-0}" >>"$W/profile.md"
}
section_profile() {
  local s
  if ! command -v perf >/dev/null || ! command -v strace >/dev/null; then
    say "profile: perf or strace is not installed (scripts/install-deps.sh --bench): skipped"
    return 0
  fi
  say "profile: dbssl serve and nginx under wrk -c1024 (perf record ${PROFILE_SECONDS}s, strace -c 3s)"
  [ -n "${STATIC_PORT:-}" ] || start_nginx
  printf 'wrk -t2 -c1024 against each server; `perf record -F 999 -g` for %s s of it, `strace -c -f` over another 3 s run (strace slows the server: the calls per answer count, not the rate).\n\n' \
    "$PROFILE_SECONDS" >"$W/profile.md"
  for s in dbssl nginx_static; do profile_one "$s"; done
  cp "$W/profile.md" "$OUT/profile.md"
  meta load_profile "$(loadavg)"
}

# ---- run ---------------------------------------------------------------------------------
T0=$(date +%s)
case " $SECTIONS " in *" http "* | *" check "* | *" profile "*) start_serve ;; esac
mkdir -p "$OUT"
rm -f "$OUT/profile.md"
for s in $SECTIONS; do
  case $s in
  http | check | connect | validate | certs | scan | profile) "section_$s" ;;
  *) say "unknown section \"$s\" ($ALL_SECTIONS)"; exit 2 ;;
  esac
done
meta load_end "$(loadavg)"
meta seconds $(($(date +%s) - T0))
mkdir -p "$OUT"
# the document keeps the numbers of a whole run only
if [ "$SECTIONS" != "$ALL_SECTIONS" ] || [ "$DOC" = none ]; then
  [ "$DOC" = none ] || say "some sections only: $DOC is not rewritten (bench/results/latest.md is)"
  DOC=
fi
python3 "$SRC/bench/report.py" "$SAMPLES" "$META" "$OUT" ${DOC:+"$DOC"}
