# pgfleet.sh - many PostgreSQL servers and broken peers at once, for the fleet
# probe's tests and benchmark (sourced after tests/lib.sh and pg.sh).
#
# Each server gets pg.sh's layout in a directory of its own, listens on a
# list of loopback addresses (127.0.0.0/8 is all loopback on Linux; up to 64
# per server, PostgreSQL's limit) and stops at exit however the test ends.
#
#   fleet_addrs PREFIX FROM N         prints N addresses PREFIX.FROM, PREFIX.FROM+1, ...
#   fleet_sans ADDRS                  "IP:a,IP:b,..." for a certificate naming ADDRS
#   fleet_pg ADDRS CRT KEY [CONF] [HBA]  a server on ADDRS (comma-separated) with ssl = on
#                                     and CRT/KEY (CONF "ssl = off": plaintext only);
#                                     sets FLEET_PORT and FLEET_DIR
#   fleet_hole ADDRS                  a black hole on ADDRS: accepts, never answers; sets
#                                     FLEET_PORT (the same on every address)
#   fleet_serve ENVFILE LOG           dbssl serve in the background until /health answers;
#                                     sets FLEET_SERVE_PID
#   fleet_probe_ini FILE CA [LINES]   a probe file: every loopback target allowed, module tls
#                                     verifying against CA, LINES added to that module
#   fleet_clean_env                   unsets the settings the caller's environment may hold
#   fleet_cert_expired DIR NAME CA SANS  DIR/NAME.{crt,key} signed by CA, valid from 40 to
#                                     10 days ago (expired; the clock is not faked)
declare -F pg_setup >/dev/null || { echo "pgfleet.sh: source tests/integration/pg.sh first" >&2; exit 1; }

FLEET_PORT=
FLEET_DIR=
FLEET_SERVE_PID=

fleet_clean_env() {
  local v
  for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|APP_ENV\|HTTP_LISTEN\|PG[A-Z]*\)=.*/\1/p'); do
    unset "$v"
  done
}

fleet_probe_ini() {
  printf '[targets]\nallow = 127.0.0.0/8\n[module tls]\nkind = tls\nca_file = %s\n%s' "$2" "${3:-}" >"$1"
}

fleet_cert_expired() {
  cert_key "$1" "$2" "fleet-$2" &&
    cert_sign_dated "$1" "$2" "$3" "$(date -u -d '-40 days' +%Y%m%d%H%M%SZ)" \
      "$(date -u -d '-10 days' +%Y%m%d%H%M%SZ)" "$4" serverAuth ||
    { t_log "could not make an expired certificate $1/$2.crt"; return 1; }
}

fleet_addrs() {
  local i out=
  for ((i = $2; i < $2 + $3; i++)); do out="$out${out:+,}$1.$i"; done
  echo "$out"
}

fleet_sans() {
  echo "IP:${1//,/,IP:}"
}

fleet_pg() {
  local addrs=$1 crt=$2 key=$3 conf=${4:-} hba=${5:-"hostssl all all 127.0.0.0/8 trust"}
  pg_setup || return 1
  # pg.sh cleans up the last server it started: each one here says which it is
  t_cleanup_add "PG_DIR=$PG_DIR PG_DATA=$PG_DATA pg_cleanup"
  if [ "$conf" = "ssl = off" ]; then
    conf="ssl = off"
  else
    pg_install_server_cert "$crt" "$key" || return 1
    conf="$(pg_tls_conf)
$conf"
  fi
  # small: many of them run at once
  pg_configure "listen_addresses = '$addrs'
shared_buffers = 16MB
max_connections = 40
$conf" "$hba" || return 1
  pg_start || return 1
  FLEET_PORT=$PG_PORT
  FLEET_DIR=$PG_DIR
}

fleet_hole() {
  local port
  port=$(free_port "${FLEET_HOLE_PORT_BASE:-58600}") || return 1
  python3 - "$1" "$port" <<'PY' >"$T/hole-$port.log" 2>&1 &
import selectors, socket, sys
sel = selectors.DefaultSelector()
for addr in sys.argv[1].split(","):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(sys.argv[2])))
    s.listen(1024)
    sel.register(s, selectors.EVENT_READ)
print("ready", flush=True)
held = []
while True:  # accept, hold, never answer
    for key, _ in sel.select():
        held.append(key.fileobj.accept()[0])
PY
  t_cleanup_add "kill $!"
  for _ in $(seq 1 50); do
    grep -q ready "$T/hole-$port.log" 2>/dev/null && { FLEET_PORT=$port; return 0; }
    sleep 0.1
  done
  t_log "the black hole did not start: $(cat "$T/hole-$port.log")"
  return 1
}

fleet_serve() {
  "$DBSSL" serve --env-file "$1" >>"$2" 2>&1 &
  FLEET_SERVE_PID=$!
  t_cleanup_add "kill $FLEET_SERVE_PID 2>/dev/null; wait $FLEET_SERVE_PID 2>/dev/null"
  local listen
  listen=$(sed -n 's/^HTTP_LISTEN=//p' "$1")
  for _ in $(seq 1 100); do
    curl -sf "http://$listen/health" >/dev/null && return 0
    kill -0 "$FLEET_SERVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  t_log "dbssl serve did not start: $(cat "$2")"
  return 1
}
