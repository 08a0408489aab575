# pg.sh - start and stop a real PostgreSQL 15 for integration tests (sourced
# after tests/lib.sh, whose free_port and cleanup registry it uses).
#
# Everything lives in one temporary directory; the server listens on a free
# loopback port only and on a Unix socket inside that directory.  When the
# tests run as root the server runs as "postgres" (initdb refuses root).
# pg_setup registers pg_cleanup with t_cleanup_add, so that a failing test
# never leaves a server behind.
#
#   pg_setup                 creates $PG_DIR, picks $PG_PORT (from $PG_PORT_BASE), runs initdb
#   pg_configure CONF HBA    replaces the test's postgresql.conf include and pg_hba.conf
#   pg_start / pg_stop / pg_restart
#   pg_sql SQL               runs SQL as the superuser over the socket
#   pg_install_server_cert CRT KEY [CA]   copies them where the server can read them
#   pg_tls_conf [with-ca]    prints the postgresql.conf lines for the installed pair:
#                            ssl = on, ssl_cert_file, ssl_key_file (and ssl_ca_file with
#                            with-ca), for pg_configure's CONF
#   pg_start_tls CRT KEY CA HBA [CONF]   pg_setup, the server certificate (CA: "" for
#                            none, else also ssl_ca_file), pg_tls_conf and CONF, HBA, pg_start
#   pg_start_mtls CRT KEY CA ROLE [CONF]   pg_start_tls with client certificates required
#                            (hostssl ... cert), and a login ROLE
#   pg_cleanup               stops the server and removes $PG_DIR
declare -F t_cleanup_add >/dev/null || { echo "pg.sh: source tests/lib.sh first" >&2; exit 1; }
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=
PG_PORT=
PG_DATA=

pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_setup() {
    PG_DIR=$(mktemp -d /tmp/dbssl-pg.XXXXXX)
    t_cleanup_add pg_cleanup
    chmod 755 "$PG_DIR"
    PG_DATA=$PG_DIR/data
    mkdir -p "$PG_DATA" "$PG_DIR/srv"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$PG_DATA" "$PG_DIR/srv"; fi
    chmod 700 "$PG_DATA"
    PG_PORT=$(free_port "${PG_PORT_BASE:-56432}") || return 1
    pg_as_owner "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust --no-sync \
        >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $PG_PORT"
        echo "unix_socket_directories = '$PG_DIR/srv'"
        echo "fsync = off"
        echo "include_if_exists = 'test.conf'"
    } | pg_as_owner tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

pg_configure() {
    printf '%s\n' "$1" | pg_as_owner tee "$PG_DATA/test.conf" >/dev/null
    printf 'local all all trust\n%s\n' "$2" | pg_as_owner tee "$PG_DATA/pg_hba.conf" >/dev/null
}

pg_install_server_cert() {
    install -m 0644 "$1" "$PG_DIR/srv/server.crt"
    install -m 0600 "$2" "$PG_DIR/srv/server.key"
    if [ -n "${3:-}" ]; then install -m 0644 "$3" "$PG_DIR/srv/ca.crt"; fi
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$PG_DIR"/srv/server.*; fi
}

# pg_tls_conf: where pg_install_server_cert put the pair, said once; the CA only
# when asked, since ssl_ca_file makes the server ask clients for a certificate
pg_tls_conf() {
    case "${1:-}" in
    "" | with-ca) ;;
    *) echo "pg_tls_conf: \"$1\": want with-ca or nothing" >&2; return 1 ;;
    esac
    echo "ssl = on"
    echo "ssl_cert_file = '$PG_DIR/srv/server.crt'"
    echo "ssl_key_file = '$PG_DIR/srv/server.key'"
    if [ "${1:-}" = with-ca ]; then echo "ssl_ca_file = '$PG_DIR/srv/ca.crt'"; fi
}

# pg_start: when another process took PG_PORT since pg_setup chose it (tests of
# other trees run at the same time), the server starts on another free port:
# PG_PORT says which (a later "port =" line wins in postgresql.conf).
pg_start() {
    local try
    for try in 1 2 3; do
        if pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/srv/server.log" -w -t 30 start >/dev/null; then
            return 0
        fi
        grep -q 'could not bind .*Address already in use' "$PG_DIR/srv/server.log" || break
        PG_PORT=$(free_port "$((PG_PORT + 1))") || break
        echo "port = $PG_PORT" | pg_as_owner tee -a "$PG_DATA/postgresql.conf" >/dev/null
        : >"$PG_DIR/srv/server.log"
    done
    tail -20 "$PG_DIR/srv/server.log" >&2
    return 1
}

pg_stop() {
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1 || true
}

pg_restart() {
    pg_stop
    pg_start
}

pg_sql() {
    pg_as_owner "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR/srv" -p "$PG_PORT" \
        -U postgres -d postgres -c "$1"
}

pg_cleanup() {
    if [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ]; then pg_stop; fi
    if [ -n "$PG_DIR" ]; then rm -rf "$PG_DIR"; fi
}

pg_start_tls() {
    pg_setup &&
        pg_install_server_cert "$1" "$2" "$3" &&
        pg_configure "$(pg_tls_conf "${3:+with-ca}")${5:+
$5}" "$4" &&
        pg_start
}

pg_start_mtls() {
    pg_start_tls "$1" "$2" "$3" "hostssl all all 127.0.0.1/32 cert" "${5:-}" &&
        pg_sql "create role $4 login" >/dev/null
}
