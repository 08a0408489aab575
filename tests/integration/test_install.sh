#!/usr/bin/env bash
# test_install.sh - the library as an application uses it: `cmake --install`
# into a temporary prefix, build examples/app.c against it with the README's
# command (pkg-config, and -Wl,-rpath for a prefix the loader does not search;
# the installed headers alone: every type opaque, read through accessors),
# and run it (and the copy CMake built) against a real PostgreSQL with TLS,
# with no LD_LIBRARY_PATH: as a user runs it after `make install PREFIX=...`.
set -euo pipefail
: "${DBSSL_SRC:?source tree}" "${DBSSL_BUILD:?build tree}"
. "$DBSSL_SRC/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init
WORK=$T

PREFIX=$WORK/prefix
cmake --install "$DBSSL_BUILD" --prefix "$PREFIX" >"$WORK/install.log"
for f in bin/dbssl include/dbssl/dbssl.h include/dbssl/conn.h share/man/man1/dbssl.1; do
    if [ -e "$PREFIX/$f" ]; then t_pass "installed $f"; else t_fail "$f not installed"; fi
done
PC=$(find "$PREFIX" -name dbssl.pc | head -1)
if [ -z "$PC" ]; then t_fail "dbssl.pc not installed"; t_done; fi
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$PC")
LIBDIR=$(pkg-config --variable=libdir dbssl)
# the prefix given to --install, not the configure step's /usr/local
assert_eq "$PREFIX/lib" "$LIBDIR" "pkg-config's libdir"
# a prefix the loader does not search: the install says how to link
assert_contains "$(cat "$WORK/install.log")" "-Wl,-rpath,$PREFIX/lib" "the install's rpath note"

# the README's command, word for word (only the file names differ)
readme_cc=$(grep -F 'cc app.c $(pkg-config --cflags --libs dbssl)' "$DBSSL_SRC/README.md" | grep -F -- '-Wl,-rpath' | head -1)
assert_eq 'cc app.c $(pkg-config --cflags --libs dbssl) -Wl,-rpath,$(pkg-config --variable=libdir dbssl) -o app' \
    "$(sed 's/^[$] *//' <<<"$readme_cc")" "the README's build command"
cp "$DBSSL_SRC/examples/app.c" "$WORK/app.c"
# shellcheck disable=SC2046
if (cd "$WORK" && cc -std=c17 -Wall -Wextra -Werror app.c $(pkg-config --cflags --libs dbssl) \
    -Wl,-rpath,$(pkg-config --variable=libdir dbssl) -o app) 2>"$WORK/cc.log"; then
    t_pass "examples/app.c builds with the README's command"
else
    t_fail "examples/app.c does not build: $(cat "$WORK/cc.log")"
fi
assert_contains "$(readelf -d "$WORK/app")" "[$LIBDIR]" "the example's run path"
# linked against the ABI of the opaque types, libdbssl.so.1, never .so.0
needed=$(readelf -d "$WORK/app" | sed -n 's/.*NEEDED.*\[\(libdbssl[^]]*\)\].*/\1/p')
assert_eq "libdbssl.so.1" "$needed" "the example's libdbssl"
if [ -e "$LIBDIR/libdbssl.so.1" ]; then t_pass "installed libdbssl.so.1"; else t_fail "no $LIBDIR/libdbssl.so.1"; fi

# a server with TLS and a CA the app verifies it with
C=$WORK/certs
cert_ca "$C" ca "dbssl install test CA" 30
cert_leaf "$C" server ca localhost 30 "DNS:localhost,IP:127.0.0.1"
pg_start_tls "$C/server.crt" "$C/server.key" "" "hostssl all all 127.0.0.1/32 trust"

# no LD_LIBRARY_PATH, no environment but the settings: as a user runs them
run_app() { # program, settings...
    local prog=$1
    shift
    (cd "$WORK" && env -i PATH=/usr/bin:/bin "$@" "$prog")
}
run_cmd env -i PATH=/usr/bin:/bin "$PREFIX/bin/dbssl" --version
assert_rc 0 "the installed dbssl runs"
assert_match "$OUT" '^dbssl [0-9]+\.[0-9]+\.[0-9]+' "the installed dbssl --version"
# the installed manual page, as man(1) shows it
run_split env MANWIDTH=80 man --warnings -l "$PREFIX/share/man/man1/dbssl.1"
assert_rc 0 "man -l renders dbssl(1)"
assert_eq "" "$ERR" "man's warnings"
for heading in NAME SYNOPSIS COMMANDS SETTINGS "EXIT STATUS" FILES EXAMPLES; do
    assert_line "$OUT" "$heading" "dbssl(1) section"
done
assert_match "$OUT" '^ +DB_SSL_MODE$' "dbssl(1) lists the settings"
for prog in "$WORK/app" "$DBSSL_BUILD/example-app"; do
    rc=0
    out=$(run_app "$prog" DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres" \
        DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$C/ca.crt" DB_SSL_REQUIRED=true 2>&1) || rc=$?
    if [ "$rc" -eq 0 ] && grep -qx 'protocol=TLSv1.3' <<<"$out"; then
        t_pass "$(basename "$prog") connects over TLSv1.3"
    else
        t_fail "$(basename "$prog"): exit $rc: $out"
    fi
    # the TLS state as dbssl_tls_attribute() reads it: every name once, with its value
    # (alpn empty: libpq 15 has no direct negotiation)
    for line in connected=true ssl_in_use=true server_sees_ssl=true client_cert_sent=false \
        server_host=127.0.0.1 "server_port=$PG_PORT" server_cert_subject=CN=localhost \
        error_class=ok verify_reason=none error_message= error_detail= alpn=; do
        assert_line "$out" "$line" "$(basename "$prog") TLS state"
    done
    assert_match "$out" '^cipher=TLS_[A-Z0-9_]+$' "$(basename "$prog") cipher"
    assert_match "$out" '^key_bits=(128|256)$' "$(basename "$prog") key bits"
    assert_match "$out" '^server_version=15\.[0-9]+$' "$(basename "$prog") server version"
    assert_match "$out" '^server_cert_not_after=20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z$' \
        "$(basename "$prog") not_after in RFC 3339"
    assert_eq 21 "$(grep -cE '^[a-z_]+=' <<<"$out")" "$(basename "$prog") prints every attribute once"
    rc=0
    out=$(run_app "$prog" DATABASE_URL="postgresql://postgres@127.0.0.1:1/postgres" \
        DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$C/ca.crt" DB_SSL_REQUIRED=true 2>&1) || rc=$?
    if [ "$rc" -eq 1 ] &&
        grep -qx 'app: connection_refused: could not connect to the server' <<<"$out" &&
        grep -q '^  detail: .*Connection refused' <<<"$out" && grep -q '^  hint: ' <<<"$out"; then
        t_pass "$(basename "$prog") reports a failure: message, detail, hint; exit 1"
    else
        t_fail "$(basename "$prog") against a closed port: exit $rc: $out"
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
