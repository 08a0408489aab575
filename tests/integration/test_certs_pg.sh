#!/usr/bin/env bash
# test_certs_pg.sh - a real PostgreSQL 15 accepts the generated set, configured
# with the `dbssl pg-config` lines: verify-full + client certificate succeeds
# over localhost, 127.0.0.1 and ::1 with TLSv1.3, and plaintext TCP is refused.
# The server runs in a temp dir on a free loopback port, as "postgres" when
# we are root (with `certs generate --owner postgres`), and is always stopped.
set -euo pipefail

: "${DBSSL_SRC:?source tree}"
. "$DBSSL_SRC/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init
work=$T
owner=()
if [ "$(id -u)" = 0 ]; then owner=(--owner postgres); fi

PG_PORT_BASE=58432 pg_setup
port=$PG_PORT
cd "$work"
for v in $(env | sed -n 's/^\(DB_SSL_[A-Z_]*\|APP_ENV\|DATABASE_URL\)=.*/\1/p'); do unset "$v"; done
export DATABASE_URL="postgresql://app@localhost:$port/app" DB_SSL_AUTO_GENERATE=true \
    DB_SSL_AUTO_GENERATE_CLIENT=true DB_SSL_AUTO_CERT_DIR="$work/certs" DB_SSL_MODE=verify-full

"$DBSSL" certs generate "${owner[@]}" >/dev/null
# the server's settings are the `dbssl pg-config --loopback` lines, on 127.0.0.1 and ::1
pg_configure "$("$DBSSL" pg-config --loopback | sed -n '/postgresql.conf ----/,/pg_hba.conf/p' | grep -v '^# ----')
listen_addresses = '127.0.0.1,::1'" \
    "$("$DBSSL" pg-config --loopback | sed -n '/pg_hba.conf/,$p' | grep -v '^#' | grep -v '^local')"
pg_start
pg_sql "create role app login" >/dev/null
pg_sql "create database app owner app" >/dev/null

bindir=$PG_BIN
c=$work/certs
for host in localhost 127.0.0.1 ::1; do
    if [ "$host" = ::1 ] && ! ip -6 addr show lo 2>/dev/null | grep -q '::1'; then
        echo "skip: no IPv6 loopback"
        continue
    fi
    out=$("$bindir/psql" -X -At "host=$host port=$port user=app dbname=app sslmode=verify-full sslrootcert=$c/ca.crt sslcert=$c/client.crt sslkey=$c/client.key" \
        -c "select ssl, version, client_dn from pg_stat_ssl where pid = pg_backend_pid()" 2>&1) || true
    if [ "$out" = "t|TLSv1.3|/O=dbssl development/CN=app" ]; then
        t_pass "verify-full + client certificate via $host: $out"
    else
        t_fail "$host: $out"
    fi
done
if out=$("$bindir/psql" -X -At "host=127.0.0.1 port=$port user=app dbname=app sslmode=disable" -c "select 1" 2>&1); then
    t_fail "plaintext TCP connection accepted"
else
    grep -q 'no encryption' <<<"$out" && t_pass "plaintext refused: $out" ||
        t_fail "unexpected refusal: $out"
fi
# without the client certificate the cert method refuses
if "$bindir/psql" -X -At "host=localhost port=$port user=app dbname=app sslmode=verify-full sslrootcert=$c/ca.crt sslcert=/nonexistent sslkey=/nonexistent" -c "select 1" >/dev/null 2>&1; then
    t_fail "connection without client certificate accepted"
else
    t_pass "no client certificate, refused"
fi
t_done
