#!/usr/bin/env bash
# test_certs_pg.sh - a real PostgreSQL 15 accepts the generated set, configured
# with the `dbssl pg-config` lines: verify-full + client certificate succeeds
# over localhost, 127.0.0.1 and ::1 with TLSv1.3, and plaintext TCP is refused.
# The server runs in a temp dir on a free loopback port, as "postgres" when
# we are root (with `certs generate --owner postgres`), and is always stopped.
set -euo pipefail

: "${DBSSL:?path of the dbssl program}"
bindir=/usr/lib/postgresql/15/bin
work=$(mktemp -d /tmp/dbssl-it-certs.XXXXXX)
chmod 755 "$work"
as_pg=()
owner=()
if [ "$(id -u)" = 0 ]; then
    as_pg=(runuser -u postgres --)
    owner=(--owner postgres)
fi
stop() {
    "${as_pg[@]}" "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap stop EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cd "$work"
for v in $(env | sed -n 's/^\(DB_SSL_[A-Z_]*\|APP_ENV\|DATABASE_URL\)=.*/\1/p'); do unset "$v"; done
export DATABASE_URL="postgresql://app@localhost:$port/app" DB_SSL_AUTO_GENERATE=true \
    DB_SSL_AUTO_GENERATE_CLIENT=true DB_SSL_AUTO_CERT_DIR="$work/certs" DB_SSL_MODE=verify-full

"$DBSSL" certs generate "${owner[@]}" >/dev/null
mkdir sock && chmod 777 sock
mkdir -m 700 data
if [ "$(id -u)" = 0 ]; then chown postgres data; fi
"${as_pg[@]}" "$bindir/initdb" -D "$work/data" -U postgres --auth-local=trust >/dev/null 2>&1
"$DBSSL" pg-config --loopback | sed -n '/postgresql.conf ----/,/pg_hba.conf/p' | grep -v '^# ----' \
    >>data/postgresql.conf
printf "listen_addresses = '127.0.0.1,::1'\nport = %s\nunix_socket_directories = '%s'\n" \
    "$port" "$work/sock" >>data/postgresql.conf
{
    echo "local all all trust"
    "$DBSSL" pg-config --loopback | sed -n '/pg_hba.conf/,$p' | grep -v '^#' | grep -v '^local'
} >data/pg_hba.conf
"${as_pg[@]}" "$bindir/pg_ctl" -D "$work/data" -l "$work/data/log" -w -t 30 start >/dev/null ||
    { cat "$work/data/log"; exit 1; }
"$bindir/psql" -X -q -h "$work/sock" -p "$port" -U postgres -d postgres \
    -c "create role app login" -c "create database app owner app" >/dev/null

fails=0
c=$work/certs
for host in localhost 127.0.0.1 ::1; do
    if [ "$host" = ::1 ] && ! ip -6 addr show lo 2>/dev/null | grep -q '::1'; then
        echo "skip: no IPv6 loopback"
        continue
    fi
    out=$("$bindir/psql" -X -At "host=$host port=$port user=app dbname=app sslmode=verify-full sslrootcert=$c/ca.crt sslcert=$c/client.crt sslkey=$c/client.key" \
        -c "select ssl, version, client_dn from pg_stat_ssl where pid = pg_backend_pid()" 2>&1) || true
    if [ "$out" = "t|TLSv1.3|/O=dbssl development/CN=app" ]; then
        echo "ok: verify-full + client certificate via $host: $out"
    else
        echo "FAIL: $host: $out" >&2
        fails=$((fails + 1))
    fi
done
if out=$("$bindir/psql" -X -At "host=127.0.0.1 port=$port user=app dbname=app sslmode=disable" -c "select 1" 2>&1); then
    echo "FAIL: plaintext TCP connection accepted" >&2
    fails=$((fails + 1))
else
    grep -q 'no encryption' <<<"$out" && echo "ok: plaintext refused: $out" ||
        { echo "FAIL: unexpected refusal: $out" >&2; fails=$((fails + 1)); }
fi
# without the client certificate the cert method refuses
if "$bindir/psql" -X -At "host=localhost port=$port user=app dbname=app sslmode=verify-full sslrootcert=$c/ca.crt sslcert=/nonexistent sslkey=/nonexistent" -c "select 1" >/dev/null 2>&1; then
    echo "FAIL: connection without client certificate accepted" >&2
    fails=$((fails + 1))
else
    echo "ok: no client certificate, refused"
fi
[ $fails = 0 ]
