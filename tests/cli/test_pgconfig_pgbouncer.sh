#!/usr/bin/env bash
# test_pgconfig_pgbouncer.sh - `dbssl pg-config --pgbouncer` follows the
# settings: without client certificates the client hop is "require" and the
# server hop sends none; a CA the settings name (relative) is written as an
# absolute path (PgBouncer would resolve it from its own directory); the
# modern profile is TLS 1.3 only on both hops.  (With PgBouncer itself:
# tests/integration/test_pgbouncer.sh.)
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
cd "$T" || exit 1
mkdir -p certs given
cat >one.env <<EOF2
DATABASE_URL=postgresql://app@localhost:6432/app
DB_SSL_MODE=verify-full
DB_SSL_AUTO_CERT_DIR=certs
DB_SSL_CA_CERT=given/ca.crt
EOF2
run_split env -i PATH="$PATH" "$DBSSL" pg-config --env-file one.env --pgbouncer
assert_rc 0 "pg-config --pgbouncer"
assert_line "$OUT" "client_tls_sslmode = require" "no client certificates: the client hop requires TLS only"
assert_not_contains "$OUT" "client_tls_ca_file" "no client CA on the client hop"
assert_not_contains "$OUT" "server_tls_cert_file" "no client certificate on the server hop"
assert_line "$OUT" "server_tls_sslmode = verify-full" "server hop verify-full"
assert_line "$OUT" "server_tls_ca_file = $T/given/ca.crt" "the given CA, absolute"
assert_line "$OUT" "client_tls_cert_file = $T/certs/server.crt" "the set's server certificate, absolute"
assert_line "$OUT" "client_tls_protocols = tlsv1.2,tlsv1.3" "intermediate: TLS 1.2 and 1.3"
assert_line "$OUT" "client_tls_ecdhcurve = prime256v1" "one ECDH curve"
run_split env -i PATH="$PATH" "$DBSSL" pg-config --env-file one.env --pgbouncer --profile modern
assert_line "$OUT" "client_tls_protocols = tlsv1.3" "modern: TLS 1.3 only (client hop)"
assert_line "$OUT" "server_tls_protocols = tlsv1.3" "modern: TLS 1.3 only (server hop)"
run_split env -i PATH="$PATH" "$DBSSL" pg-config --env-file one.env --pgbouncer --profile bogus
assert_rc 2 "an unknown profile is a usage error"
t_done
