#!/usr/bin/env bash
# test_certs_pg.sh - a real PostgreSQL 15 accepts the generated set, configured
# with the `dbssl pg-config` lines: verify-full + password + client certificate
# succeeds over localhost, 127.0.0.1 and ::1 with TLSv1.3; plaintext TCP, a
# missing client certificate and a wrong password are each refused.
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
export DATABASE_URL="postgresql://app:app-pw@localhost:$port/app" DB_SSL_AUTO_GENERATE=true \
    DB_SSL_AUTO_GENERATE_CLIENT=true DB_SSL_AUTO_CERT_DIR="$work/certs" DB_SSL_MODE=verify-full

"$DBSSL" certs generate "${owner[@]}" >/dev/null
# the server's settings are the `dbssl pg-config --loopback` lines, on 127.0.0.1 and ::1
pg_configure "$("$DBSSL" pg-config --loopback | sed -n '/postgresql.conf ----/,/pg_hba.conf/p' | grep -v '^# ----')
listen_addresses = '127.0.0.1,::1'" \
    "$("$DBSSL" pg-config --loopback | sed -n '/pg_hba.conf/,$p' | grep -v '^#' | grep -v '^local')"
pg_start
pg_sql "create role app login password 'app-pw'" >/dev/null
export PGPASSWORD=app-pw
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
# the right password without the client certificate: clientcert=verify-full refuses
if out=$("$bindir/psql" -X -At "host=localhost port=$port user=app dbname=app sslmode=verify-full sslrootcert=$c/ca.crt sslcert=/nonexistent sslkey=/nonexistent" -c "select 1" 2>&1); then
    t_fail "connection without client certificate accepted"
else
    grep -q 'requires a valid client certificate' <<<"$out" && t_pass "no client certificate, refused" ||
        t_fail "without a client certificate: $out"
fi
# the client certificate without the right password: scram refuses
if out=$(PGPASSWORD=wrong "$bindir/psql" -X -At "host=localhost port=$port user=app dbname=app sslmode=verify-full sslrootcert=$c/ca.crt sslcert=$c/client.crt sslkey=$c/client.key" -c "select 1" 2>&1); then
    t_fail "a wrong password with the client certificate was accepted"
else
    grep -q 'password authentication failed' <<<"$out" && t_pass "wrong password, refused" ||
        t_fail "wrong password: $out"
fi
t_done
