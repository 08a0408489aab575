#!/usr/bin/env bash
# test_install.sh - the library as an application uses it: `cmake --install`
# into a temporary prefix, build examples/app.c against it with pkg-config,
# and run it (and the copy CMake built) against a real PostgreSQL with TLS.
set -euo pipefail
: "${DBSSL_SRC:?source tree}" "${DBSSL_BUILD:?build tree}"
. "$DBSSL_SRC/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init
WORK=$T

PREFIX=$WORK/prefix
cmake --install "$DBSSL_BUILD" --prefix "$PREFIX" >/dev/null
for f in bin/dbssl include/dbssl/dbssl.h include/dbssl/conn.h; do
    if [ -e "$PREFIX/$f" ]; then t_pass "installed $f"; else t_fail "$f not installed"; fi
done
PC=$(find "$PREFIX" -name dbssl.pc | head -1)
if [ -z "$PC" ]; then t_fail "dbssl.pc not installed"; t_done; fi
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$PC")
LIBDIR=$(pkg-config --variable=libdir dbssl)
# shellcheck disable=SC2046
if cc -std=c17 -Wall -Wextra -Werror -o "$WORK/app" "$DBSSL_SRC/examples/app.c" \
    $(pkg-config --cflags --libs dbssl) 2>"$WORK/cc.log"; then
    t_pass "examples/app.c builds with pkg-config --cflags --libs dbssl"
else
    t_fail "examples/app.c does not build: $(cat "$WORK/cc.log")"
fi

# a server with TLS and a CA the app verifies it with
C=$WORK/certs
cert_ca "$C" ca "dbssl install test CA" 30
cert_leaf "$C" server ca localhost 30 "DNS:localhost,IP:127.0.0.1"
pg_setup
pg_install_server_cert "$C/server.crt" "$C/server.key"
pg_configure "ssl = on
ssl_cert_file = '$PG_DIR/srv/server.crt'
ssl_key_file = '$PG_DIR/srv/server.key'" "hostssl all all 127.0.0.1/32 trust"
pg_start

run_app() { # program, settings...
    local prog=$1
    shift
    (cd "$WORK" && env -i PATH="$PATH" LD_LIBRARY_PATH="$LIBDIR" "$@" "$prog")
}
for prog in "$WORK/app" "$DBSSL_BUILD/example-app"; do
    rc=0
    out=$(run_app "$prog" DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres" \
        DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$C/ca.crt" DB_SSL_REQUIRED=true 2>&1) || rc=$?
    if [ "$rc" -eq 0 ] && grep -q 'ssl_enabled=true ssl_version=TLSv1.3' <<<"$out"; then
        t_pass "$(basename "$prog") connects over TLSv1.3"
    else
        t_fail "$(basename "$prog"): exit $rc: $out"
    fi
    rc=0
    out=$(run_app "$prog" DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres" \
        DB_SSL_MODE=verify-full DB_SSL_REQUIRED=true 2>&1) || rc=$?
    if [ "$rc" -eq 2 ] && grep -q 'not starting' <<<"$out" && grep -q DB_SSL_CA_CERT <<<"$out"; then
        t_pass "$(basename "$prog") refuses to start on invalid settings"
    else
        t_fail "$(basename "$prog") with invalid settings: exit $rc: $out"
    fi
done
t_done
