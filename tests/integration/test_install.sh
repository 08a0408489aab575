#!/usr/bin/env bash
# test_install.sh - the library as an application uses it: `cmake --install`
# into a temporary prefix, build examples/app.c against it with pkg-config,
# and run it (and the copy CMake built) against a real PostgreSQL with TLS.
set -euo pipefail
: "${DBSSL_SRC:?source tree}" "${DBSSL_BUILD:?build tree}"
. "$DBSSL_SRC/tests/integration/pg.sh"

WORK=$(mktemp -d /tmp/dbssl-install.XXXXXX)
trap 'pg_cleanup; rm -rf "$WORK"' EXIT
FAILED=0
fail() { echo "FAIL: $*" >&2; FAILED=$((FAILED + 1)); }
pass() { echo "ok: $*"; }

PREFIX=$WORK/prefix
cmake --install "$DBSSL_BUILD" --prefix "$PREFIX" >/dev/null
for f in bin/dbssl include/dbssl/dbssl.h include/dbssl/conn.h; do
    if [ -e "$PREFIX/$f" ]; then pass "installed $f"; else fail "$f not installed"; fi
done
PC=$(find "$PREFIX" -name dbssl.pc | head -1)
if [ -z "$PC" ]; then fail "dbssl.pc not installed"; echo "$FAILED failure(s)"; exit 1; fi
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$PC")
LIBDIR=$(pkg-config --variable=libdir dbssl)
# shellcheck disable=SC2046
if cc -std=c17 -Wall -Wextra -Werror -o "$WORK/app" "$DBSSL_SRC/examples/app.c" \
    $(pkg-config --cflags --libs dbssl) 2>"$WORK/cc.log"; then
    pass "examples/app.c builds with pkg-config --cflags --libs dbssl"
else
    fail "examples/app.c does not build: $(cat "$WORK/cc.log")"
fi

# a server with TLS and a CA the app verifies it with
C=$WORK/certs
mkdir -p "$C"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=dbssl install test CA" -keyout "$C/ca.key" -out "$C/ca.crt" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$C/server.key" -out "$C/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$C/server.ext"
openssl x509 -req -in "$C/server.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial \
    -days 30 -extfile "$C/server.ext" -out "$C/server.crt" 2>/dev/null
chmod 644 "$C/ca.crt"
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
        pass "$(basename "$prog") connects over TLSv1.3"
    else
        fail "$(basename "$prog"): exit $rc: $out"
    fi
    rc=0
    out=$(run_app "$prog" DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres" \
        DB_SSL_MODE=verify-full DB_SSL_REQUIRED=true 2>&1) || rc=$?
    if [ "$rc" -eq 2 ] && grep -q 'not starting' <<<"$out" && grep -q DB_SSL_CA_CERT <<<"$out"; then
        pass "$(basename "$prog") refuses to start on invalid settings"
    else
        fail "$(basename "$prog") with invalid settings: exit $rc: $out"
    fi
done
echo "$FAILED failure(s)"
[ "$FAILED" -eq 0 ]
