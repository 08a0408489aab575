# tests/lib.sh - helpers for the shell tests (source it): assertions that say
# what a user would see, a free loopback port finder, cleanup that runs even
# on failure, and a test certificate set made with the openssl program.
#
# Usage:  . "$DBSSL_SRC/tests/lib.sh"; t_init; ...; t_done
# Every test gets T (a temp dir readable by the postgres user, removed at exit)
# and runs its registered cleanups (t_cleanup_add) in reverse order at exit.

set -u

T_FAILS=0
T_CHECKS=0
T_CLEANUPS=()
T_NAME=$(basename "${0%.sh}")

t_log() { printf '%s: %s\n' "$T_NAME" "$*" >&2; }

# Runs the registered cleanups (last first), then removes $T.
t_run_cleanups() {
  local i
  for ((i = ${#T_CLEANUPS[@]} - 1; i >= 0; i--)); do
    eval "${T_CLEANUPS[$i]}" >/dev/null 2>&1 || true
  done
  T_CLEANUPS=()
  if [ -n "${T:-}" ] && [ -d "$T" ] && [ -z "${T_KEEP:-}" ]; then rm -rf "$T"; fi
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

t_pass() { T_CHECKS=$((T_CHECKS + 1)); }
t_fail() {
  T_CHECKS=$((T_CHECKS + 1))
  T_FAILS=$((T_FAILS + 1))
  t_log "FAIL: $*"
}

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
  if [ "$1" = "$2" ]; then t_pass; else t_fail "$3: expected \"$1\", got \"$2\""; fi
}

# assert_contains HAYSTACK NEEDLE WHAT
assert_contains() {
  case "$1" in
  *"$2"*) t_pass ;;
  *) t_fail "$3: \"$2\" not in output:"$'\n'"$1" ;;
  esac
}

# assert_not_contains HAYSTACK NEEDLE WHAT
assert_not_contains() {
  case "$1" in
  *"$2"*) t_fail "$3: \"$2\" must not appear in:"$'\n'"$1" ;;
  *) t_pass ;;
  esac
}

# run_cmd CMD... : sets OUT (stdout+stderr) and RC; never fails the script.
run_cmd() {
  OUT=$("$@" 2>&1)
  RC=$?
  return 0
}

# assert_rc EXPECTED WHAT : checks RC of the last run_cmd.
assert_rc() {
  if [ "$RC" = "$1" ]; then t_pass; else t_fail "$2: exit status $RC, expected $1; output:"$'\n'"$OUT"; fi
}

# Ends the test: exit status 0 only when every check passed (and there was one).
t_done() {
  if [ "$T_CHECKS" -eq 0 ]; then
    t_log "FAIL: no checks ran"
    exit 1
  fi
  if [ "$T_FAILS" -gt 0 ]; then
    t_log "$T_FAILS of $T_CHECKS checks failed"
    exit 1
  fi
  t_log "all $T_CHECKS checks passed"
  exit 0
}

# port_busy PORT : true when something listens on PORT on a loopback address.
port_busy() {
  ss -Htln "( sport = :$1 )" 2>/dev/null | grep -Eq '127\.0\.0\.1|\[::1\]|\*|0\.0\.0\.0|\[::\]'
}

# free_port [FROM] : prints the first port from FROM (default 55432) with no
# listener, skipping ports handed out earlier in this test run.
T_PORTS_USED=" "
free_port() {
  local p=${1:-55432} end
  end=$((p + 500))
  while [ "$p" -lt "$end" ]; do
    case "$T_PORTS_USED" in *" $p "*) p=$((p + 1)); continue ;; esac
    if ! port_busy "$p"; then
      T_PORTS_USED="$T_PORTS_USED$p "
      echo "$p"
      return 0
    fi
    p=$((p + 1))
  done
  t_log "no free port from $1"
  return 1
}

# make_test_certs DIR ROLE : a CA, a server certificate for localhost,
# 127.0.0.1 and ::1, and a client certificate with CN=ROLE, made with the
# openssl program (independent of dbssl's own generator).  Files: ca.crt
# ca.key server.crt server.key client.crt client.key (keys 0600).
make_test_certs() {
  local d=$1 role=$2 ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
  mkdir -p "$d" && chmod 0700 "$d"
  (
    set -e
    cd "$d"
    umask 077
    openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 30 -subj "/CN=dbssl test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req "${ec[@]}" -keyout server.key -out server.csr -subj "/CN=localhost"
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
      -extfile server.ext -out server.crt
    openssl req "${ec[@]}" -keyout client.key -out client.csr -subj "/CN=$role"
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
      -extfile client.ext -out client.crt
    chmod 0644 ca.crt server.crt client.crt
    rm -f ./*.csr ./*.ext ca.srl
  ) >/dev/null 2>&1 || { t_log "could not make test certificates in $d"; return 1; }
}
