# tests/lib.sh - the one helper library of every shell test (CLI and
# integration; source it): assertions that say what a user would see, a free
# loopback port finder, cleanup that runs even on failure, and an openssl
# certificate factory (independent of dbssl's own generator).
# tests/integration/pg.sh adds only what is PostgreSQL-specific.
#
# Usage:  . "$DBSSL_SRC/tests/lib.sh"; t_init; ...; t_done
# Every test gets T (a temp dir readable by the postgres user, removed at exit)
# and runs its registered cleanups (t_cleanup_add) in reverse order at exit.
# t_done prints "N passed, M failed" and exits non-zero on any failure.

set -u

T_FAILS=0
T_CHECKS=0
T_CLEANUPS=()
T_NAME=$(basename "${0%.sh}")

t_log() { printf '%s: %s\n' "$T_NAME" "$*" >&2; }

# Runs the registered cleanups (last first), then removes $T.  A script that
# ends without reaching t_done (a syntax slip, an early exit 0) fails: a test
# that stops half-way must never count as passed.
t_run_cleanups() {
  local rc=$? i
  if [ -z "${T_DONE:-}" ] && [ "$rc" -eq 0 ]; then
    t_log "FAIL: the script ended before t_done"
    rc=1
  fi
  for ((i = ${#T_CLEANUPS[@]} - 1; i >= 0; i--)); do
    eval "${T_CLEANUPS[$i]}" >/dev/null 2>&1 || true
  done
  T_CLEANUPS=()
  release_ports
  if [ -n "${T:-}" ] && [ -d "$T" ] && [ -z "${T_KEEP:-}" ]; then rm -rf "$T"; fi
  exit "$rc"
}

# t_cleanup_add 'shell command' - run at exit, also when the test fails or is killed.
t_cleanup_add() { T_CLEANUPS+=("$1"); }

t_init() {
  : "${DBSSL:?DBSSL must name the dbssl program (ctest sets it)}"
  # absolute, so that tests may cd (ctest passes absolute paths; people may not)
  DBSSL=$(cd "$(dirname "$DBSSL")" && pwd)/$(basename "$DBSSL")
  DBSSL_SRC=$(cd "${DBSSL_SRC:?DBSSL_SRC must name the source tree}" && pwd)
  T=$(mktemp -d "${TMPDIR:-/tmp}/dbssl-${T_NAME}.XXXXXX")
  # the PostgreSQL server of a test may run as another user: let it reach T
  chmod 0755 "$T"
  trap t_run_cleanups EXIT
  trap 'exit 130' INT TERM HUP
}

# t_unset_settings : unsets what would reach dbssl or libpq from the caller's
# environment (DATABASE_URL, DB_*, APP_ENV, libpq's PG* variables; the tests'
# own PG_* are kept), so that a test sees only the settings it writes.
t_unset_settings() {
  local v
  for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|APP_ENV\|PG[A-Z_]*\)=.*/\1/p'); do
    case "$v" in PG_*) ;; *) unset "$v" ;; esac
  done
}

# t_pass [WHAT] / t_fail WHAT : count one check (t_pass prints "ok: WHAT" when given)
t_pass() {
  T_CHECKS=$((T_CHECKS + 1))
  if [ $# -gt 0 ]; then printf 'ok: %s\n' "$*"; fi
  return 0
}
t_fail() {
  T_CHECKS=$((T_CHECKS + 1))
  T_FAILS=$((T_FAILS + 1))
  t_log "FAIL: $*"
  return 0
}

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
  if [ "$1" = "$2" ]; then t_pass; else t_fail "${3:-value}: expected \"$1\", got \"$2\""; fi
}

# assert_contains HAYSTACK NEEDLE WHAT
assert_contains() {
  case "$1" in
  *"$2"*) t_pass ;;
  *) t_fail "${3:-output}: \"$2\" not in output:"$'\n'"$1" ;;
  esac
}

# assert_not_contains HAYSTACK NEEDLE WHAT
assert_not_contains() {
  case "$1" in
  *"$2"*) t_fail "${3:-output}: \"$2\" must not appear in:"$'\n'"$1" ;;
  *) t_pass ;;
  esac
}

# assert_line HAYSTACK LINE WHAT : LINE is one whole line of HAYSTACK
assert_line() {
  if grep -qxF -- "$2" <<<"$1"; then t_pass; else t_fail "${3:-output}: no line \"$2\" in:"$'\n'"$1"; fi
}

# assert_match HAYSTACK ERE WHAT : a line of HAYSTACK matches the extended regex
assert_match() {
  if grep -qE -- "$2" <<<"$1"; then t_pass; else t_fail "${3:-output}: no line matches /$2/ in:"$'\n'"$1"; fi
}

# jcheck JSON PYEXPR : the python expression over j (JSON, parsed) is true
jcheck() {
  python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}

# status_case NAME WANT_RC PYEXPR ENVFILE : `dbssl status --json --env-file
# ENVFILE`, with nothing else from our environment, exits WANT_RC and its JSON
# satisfies PYEXPR (jcheck); no password of T_SECRETS (an extended regex the
# test sets, e.g. 'pw-one|pw-two') appears in it.
status_case() {
  local out rc=0
  out=$(env -i PATH="$PATH" "$DBSSL" status --json --env-file "$4") || rc=$?
  if [ "$rc" -ne "$2" ]; then
    t_fail "$1: dbssl status exit $rc, want $2: $out"
  elif ! jcheck "$out" "$3"; then
    t_fail "$1: JSON does not satisfy $3: $out"
  else
    t_pass "$1"
  fi
  if grep -qE -- "${T_SECRETS:?the test names its passwords in T_SECRETS}" <<<"$out"; then
    t_fail "$1: a password appears in the output"
  fi
}

# run_cmd CMD... : sets OUT (stdout+stderr) and RC; never fails the script.
run_cmd() {
  OUT=$("$@" 2>&1)
  RC=$?
  ERR=
  return 0
}

# run_split CMD... : sets OUT (stdout only), ERR (stderr only) and RC.
run_split() {
  OUT=$("$@" 2>"$T/.run_split.err")
  RC=$?
  ERR=$(cat "$T/.run_split.err")
  return 0
}

# assert_rc EXPECTED [WHAT] : checks RC of the last run_cmd / run_split.
assert_rc() {
  if [ "$RC" = "$1" ]; then t_pass; else
    t_fail "${2:-command}: exit status $RC, expected $1; output:"$'\n'"$OUT${ERR:+$'\n'stderr: $ERR}"
  fi
}

# Ends the test: prints "N passed, M failed"; exit status 0 only when every
# check passed (and there was one).
t_done() {
  T_DONE=1
  if [ "$T_CHECKS" -eq 0 ]; then t_log "FAIL: no checks ran"; fi
  echo "$((T_CHECKS - T_FAILS)) passed, $T_FAILS failed"
  if [ "$T_CHECKS" -eq 0 ] || [ "$T_FAILS" -gt 0 ]; then exit 1; fi
  exit 0
}

# prometheus_tool NAME : the path of promtool or prometheus, unpacked from
# Debian's package by scripts/prometheus-tools.sh (the package is never
# installed: it would enable prometheus.service).  Fails the test without it.
prometheus_tool() {
  local path
  if path=$("$DBSSL_SRC/scripts/prometheus-tools.sh" "$1" 2>"$T/.prometheus-tools.err"); then
    echo "$path"
  else
    t_fail "no $1: scripts/prometheus-tools.sh: $(cat "$T/.prometheus-tools.err")"
    return 1
  fi
}

# without_pgbouncer CMD... : runs CMD as on a machine without PgBouncer: no
# directory with a pgbouncer on PATH, and the fallback of the test dbssl
# ($DBSSL_TESTCLOCK; DBSSL_TEST_PGBOUNCER_FALLBACK, src/devdb/devdb.h) a
# path that does not exist.  The shipped dbssl would still find /usr/sbin's.
without_pgbouncer() {
  local d path=
  while IFS= read -r d; do
    if [ -n "$d" ] && [ ! -x "$d/pgbouncer" ]; then path=${path:+$path:}$d; fi
  done < <(tr : '\n' <<<"$PATH")
  env PATH="$path" DBSSL_TEST_PGBOUNCER_FALLBACK="$T/no-pgbouncer/pgbouncer" "$@"
}

# port_busy PORT : true when something listens on PORT on a loopback address.
port_busy() {
  ss -Htln "( sport = :$1 )" 2>/dev/null | grep -Eq '127\.0\.0\.1|\[::1\]|\*|0\.0\.0\.0|\[::\]'
}

# port_can_bind PORT : true when a TCP socket can be bound to 127.0.0.1:PORT now.
port_can_bind() {
  python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.close()
PY
}

# free_port [FROM] : prints a port from FROM (default 55432) on with no
# loopback listener that can be bound, skipping ports handed out earlier in
# this test (recorded in $T/.ports, so that `P=$(free_port)` subshells see
# each other's).  The search starts at a random offset so that the same test
# run at once from two trees (or two CI jobs) does not race for the same
# first free port.
T_PORTS_USED=" "
# Ports are also reserved across the tests that run at once (ctest -j): a
# port free when one test looked may be taken by another before the first
# binds it (two tests whose ranges overlap both picked 18932 once).  A
# reservation is a directory of T_PORT_LOCKS named by the port, made with
# mkdir (atomic) and holding the test's pid; it is removed when the test
# ends, and one whose test is gone (killed) is taken over.
T_PORT_LOCKS=${TMPDIR:-/tmp}/dbssl-test-ports
reserve_port() {
  local d=$T_PORT_LOCKS/$1 owner
  mkdir -p "$T_PORT_LOCKS" 2>/dev/null && chmod 1777 "$T_PORT_LOCKS" 2>/dev/null
  if ! mkdir "$d" 2>/dev/null; then
    owner=$(cat "$d/pid" 2>/dev/null) || owner=
    # no pid yet: its test is writing it, the port is taken (/proc, not
    # kill -0: another user's test is alive too)
    [ -n "$owner" ] && [ ! -d "/proc/$owner" ] || return 1
    rm -rf "$d"
    mkdir "$d" 2>/dev/null || return 1
  fi
  echo "$$" >"$d/pid"
}
# the reservations of this test (run at exit: free_port runs in $(...), whose
# own cleanups would be lost)
release_ports() {
  local p
  for p in $(cat "${T:-/nonexistent}/.ports" 2>/dev/null) $T_PORTS_USED; do
    [ "$(cat "$T_PORT_LOCKS/$p/pid" 2>/dev/null)" = "$$" ] && rm -rf "${T_PORT_LOCKS:?}/$p"
  done
  return 0
}

free_port() {
  local p=${1:-55432} end used
  end=$((p + 500))
  p=$((p + RANDOM % 250))
  while [ "$p" -lt "$end" ]; do
    used="$T_PORTS_USED$(cat "${T:-/nonexistent}/.ports" 2>/dev/null | tr '\n' ' ') "
    case " $used" in *" $p "*) p=$((p + 1)); continue ;; esac
    if ! port_busy "$p" && port_can_bind "$p" && reserve_port "$p"; then
      T_PORTS_USED="$T_PORTS_USED$p "
      if [ -n "${T:-}" ]; then echo "$p" >>"$T/.ports"; fi
      echo "$p"
      return 0
    fi
    p=$((p + 1))
  done
  t_log "no free port from ${1:-55432}"
  return 1
}

# wait_http URL : until URL answers at all (10 s at most); 1 when it never did
wait_http() {
  local i
  for i in $(seq 1 100); do
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  t_log "no answer from $1"
  return 1
}

# stop_timed PID : SIGTERM to PID (a child of this shell), waits for it to
# exit (killing it after 5 s, so that a hang fails instead of blocking the
# test); sets RC (its exit status, 124 when it had to be killed) and ELAPSED
# (ms from the signal to its exit).
stop_timed() {
  local t0 dog
  t0=$(date +%s%N)
  kill -TERM "$1"
  (sleep 5 && kill -KILL "$1") 2>/dev/null &
  dog=$!
  wait "$1"
  RC=$?
  ELAPSED=$((($(date +%s%N) - t0) / 1000000))
  if kill "$dog" 2>/dev/null; then wait "$dog" 2>/dev/null; else RC=124; fi
  return 0
}

# ---- the openssl certificate factory: EC P-256 keys, SHA-256 signatures.
# Files are DIR/NAME.key (0600), DIR/NAME.crt (0644); CAs sign with
# -CAcreateserial (DIR/CA.srl).  Each returns non-zero when openssl fails.

# cert_ca DIR NAME CN [DAYS=30] : a self-signed CA certificate
cert_ca() {
  local d=$1 n=$2
  mkdir -p "$d" &&
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "${4:-30}" \
      -subj "/CN=$3" -keyout "$d/$n.key" -out "$d/$n.crt" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
      >/dev/null 2>&1 &&
    chmod 0600 "$d/$n.key" && chmod 0644 "$d/$n.crt"
}

# cert_key DIR NAME CN : a key and a certificate request (DIR/NAME.csr) for CN
cert_key() {
  local d=$1 n=$2
  mkdir -p "$d" &&
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$3" \
      -keyout "$d/$n.key" -out "$d/$n.csr" >/dev/null 2>&1 &&
    chmod 0600 "$d/$n.key"
}

# cert_sign DIR NAME CA DAYS [SANS] [EKU] : DIR/NAME.csr signed by DIR/CA.{crt,key}
# as an end-entity certificate; SANS as in "DNS:localhost,IP:127.0.0.1",
# EKU as in "serverAuth" or "clientAuth" (each left out when empty).
cert_sign() {
  local d=$1 n=$2 ca=$3
  {
    echo "basicConstraints=CA:FALSE"
    if [ -n "${5:-}" ]; then echo "subjectAltName=$5"; fi
    if [ -n "${6:-}" ]; then echo "extendedKeyUsage=$6"; fi
  } >"$d/$n.ext" &&
    openssl x509 -req -in "$d/$n.csr" -CA "$d/$ca.crt" -CAkey "$d/$ca.key" -CAcreateserial \
      -days "$4" -extfile "$d/$n.ext" -out "$d/$n.crt" >/dev/null 2>&1 &&
    chmod 0644 "$d/$n.crt"
}

# cert_sign_dated DIR NAME CA START END [SANS] [EKU] : cert_sign with exact
# validity dates instead of a number of days, as "YYYYmmddHHMMSSZ" (`openssl
# ca` takes them; `openssl x509 -req` cannot start in the past), e.g. an
# expired certificate without faking the clock.  Its bookkeeping stays in
# DIR/NAME.ca/.
cert_sign_dated() {
  local d=$1 n=$2 ca=$3 db=$1/$2.ca
  mkdir -p "$db" && : >"$db/index.txt" && echo 01 >"$db/serial" &&
    printf '[ca]\ndefault_ca=x\n[x]\ndatabase=%s\nnew_certs_dir=%s\nserial=%s\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n' \
      "$db/index.txt" "$db" "$db/serial" >"$db/ca.cnf" &&
    {
      echo "basicConstraints=CA:FALSE"
      if [ -n "${6:-}" ]; then echo "subjectAltName=$6"; fi
      if [ -n "${7:-}" ]; then echo "extendedKeyUsage=$7"; fi
    } >"$d/$n.ext" &&
    openssl ca -batch -notext -config "$db/ca.cnf" -cert "$d/$ca.crt" -keyfile "$d/$ca.key" \
      -in "$d/$n.csr" -out "$d/$n.crt" -startdate "$4" -enddate "$5" -extfile "$d/$n.ext" \
      >/dev/null 2>&1 &&
    chmod 0644 "$d/$n.crt"
}

# cert_leaf DIR NAME CA CN DAYS [SANS] [EKU] : cert_key, then cert_sign
cert_leaf() {
  cert_key "$1" "$2" "$4" && cert_sign "$1" "$2" "$3" "$5" "${6:-}" "${7:-}"
}

# make_test_certs DIR ROLE : a CA, a server certificate for localhost,
# 127.0.0.1 and ::1, and a client certificate with CN=ROLE, made with the
# factory above.  Files: ca.crt ca.key server.crt server.key client.crt
# client.key (keys 0600), nothing else.
make_test_certs() {
  local d=$1 role=$2
  mkdir -p "$d" && chmod 0700 "$d" &&
    cert_ca "$d" ca "dbssl test CA" 30 &&
    cert_leaf "$d" server ca localhost 30 "DNS:localhost,IP:127.0.0.1,IP:::1" serverAuth &&
    cert_leaf "$d" client ca "$role" 30 "" clientAuth &&
    rm -f "$d"/*.csr "$d"/*.ext "$d/ca.srl" ||
    { t_log "could not make test certificates in $d"; return 1; }
}
