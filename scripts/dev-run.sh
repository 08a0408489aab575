#!/usr/bin/env bash
# dev-run.sh - the development setup behind `make run`: a .env for a local
# TLS database (written once), the certificate set, the dev database, and
# `dbssl serve` in the foreground.  Ctrl-C (or TERM) stops serve and the
# database.  Works in the current directory (.env, ./ssl_certs/db, ./.dev).
#
# Usage: scripts/dev-run.sh PATH/TO/dbssl
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 PATH/TO/dbssl  (build it first: make build)" >&2
  exit 2
fi
DBSSL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DEV_DIR=${DEV_DIR:-./.dev}
say() { printf 'dev-run: %s\n' "$*"; }

# ---- .env: written once, never overwritten ----------------------------------
if [ ! -e .env ]; then
  # a fresh random password per checkout: the dev database is still a database
  pw=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  (
    umask 077
    cat >.env <<EOF
# Development settings written by scripts/dev-run.sh (make run).  Edit freely:
# this file is never overwritten.  The database is the local one of
# "dbssl dev-db", reachable only over TLS on loopback.
DATABASE_URL=postgresql://dbssl:$pw@localhost:5433/dbssl
DB_SSL_MODE=verify-full
DB_SSL_REQUIRED=true
DB_SSL_AUTO_GENERATE=true
DB_SSL_AUTO_GENERATE_CLIENT=true
EOF
  )
  say "wrote .env (DATABASE_URL with a random password, verify-full, mutual TLS)"
else
  say "using the existing .env"
fi

# ---- certificates -------------------------------------------------------------
gen_args=()
if grep -Eq '^[[:space:]]*DB_SSL_AUTO_GENERATE_CLIENT[[:space:]]*=[[:space:]]*"?(true|1|yes|on)' .env; then
  gen_args+=(--client)
fi
"$DBSSL" certs generate "${gen_args[@]}"

# ---- the dev database; stopped again however this script ends ------------------
SERVE_PID=""
cleanup() {
  trap - EXIT INT TERM HUP
  if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    # bounded: serve stops on TERM within a second or two
    for _ in $(seq 1 50); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVE_PID" 2>/dev/null || true
  fi
  say "stopping the dev database"
  "$DBSSL" dev-db stop --dir "$DEV_DIR" || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

"$DBSSL" dev-db start --dir "$DEV_DIR"

# dev-db moves to the next free port when the configured one is busy: hand serve
# the URL with the port actually used (the environment wins over .env)
port=$("$DBSSL" dev-db status --dir "$DEV_DIR" | sed -n 's/.*running on port \([0-9]*\).*/\1/p')
url=${DATABASE_URL:-$(sed -n 's/^[[:space:]]*DATABASE_URL[[:space:]]*=[[:space:]]*//p' .env | tail -1)}
url=${url%\"}
url=${url#\"}
if [ -n "$port" ] && [[ "$url" =~ ^(postgres(ql)?://[^/]*:)([0-9]+)(/.*)?$ ]] &&
  [ "${BASH_REMATCH[3]}" != "$port" ]; then
  export DATABASE_URL="${BASH_REMATCH[1]}$port${BASH_REMATCH[4]}"
  say "the dev database listens on port $port: serve uses that port (your .env is unchanged)"
fi

# ---- serve in the foreground ----------------------------------------------------
listen=${HTTP_LISTEN:-$(sed -n 's/^[[:space:]]*HTTP_LISTEN[[:space:]]*=[[:space:]]*"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' .env | tail -1)}
say "try:  curl -s http://${listen:-127.0.0.1:8000}/health/database/ssl"
say "Ctrl-C stops the server and the dev database"
"$DBSSL" serve &
SERVE_PID=$!
# wait returns early on a signal; the traps then run cleanup
set +e
wait "$SERVE_PID"
status=$?
SERVE_PID=""
exit "$status"
