#!/usr/bin/env bash
# test_keys_failures.sh - libpq parity against a real PostgreSQL 15: a DER
# client key and a passphrase-protected one connect (dbssl itself, and psql
# started through `dbssl exec`), the passphrase appearing in no output; and
# the failures PostgreSQL 15 really sends get their own reason and hint:
# our client certificate revoked by the server's ssl_crl_file, the server's
# certificate revoked by DB_SSL_CRL, a client certificate whose CN is not
# the user under "cert" and under "scram-sha-256 clientcert=verify-full"
# (which the client sees only as a failed password) and "trust
# clientcert=verify-full".  The certificates come from the openssl factory of
# tests/lib.sh; the CRL from "openssl ca".
. "${DBSSL_SRC:?}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init

t_unset_settings
C=$T/certs
PASS='Pa55-phr@se-7731'
make_test_certs "$C" app || exit 1
cert_leaf "$C" other ca other 30 "" clientAuth &&
  cert_leaf "$C" revc ca app 30 "" clientAuth &&
  cert_leaf "$C" revs ca localhost 30 "DNS:localhost,IP:127.0.0.1" serverAuth || exit 1
# the CA revokes one client and one server certificate
mkdir -p "$C/db" && : >"$C/db/index.txt" && echo 1000 >"$C/db/crlnumber"
printf '[ca]\ndefault_ca=x\n[x]\ndatabase=%s\ncrlnumber=%s\ndefault_md=sha256\ndefault_crl_days=30\n' \
  "$C/db/index.txt" "$C/db/crlnumber" >"$C/ca.cnf"
for c in revc revs; do
  openssl ca -config "$C/ca.cnf" -keyfile "$C/ca.key" -cert "$C/ca.crt" -revoke "$C/$c.crt" >/dev/null 2>&1 ||
    { t_fail "openssl ca could not revoke $c"; t_done; }
done
openssl ca -config "$C/ca.cnf" -keyfile "$C/ca.key" -cert "$C/ca.crt" -gencrl -out "$C/crl.pem" >/dev/null 2>&1 &&
  chmod 0644 "$C/crl.pem" || { t_fail "no CRL"; t_done; }
# the client key as DER, and encrypted (PKCS#8 and the traditional form)
openssl pkey -in "$C/client.key" -outform DER -out "$C/client.der" &&
  openssl pkey -in "$C/client.key" -aes256 -passout "pass:$PASS" -out "$C/client.enc" &&
  openssl ec -in "$C/client.key" -aes256 -passout "pass:$PASS" -out "$C/client.trad" 2>/dev/null &&
  chmod 0600 "$C"/client.* || exit 1
printf '%s\n' "$PASS" >"$C/pass" && chmod 0600 "$C/pass"

pg_setup || exit 1
pg_install_server_cert "$C/server.crt" "$C/server.key" "$C/ca.crt"
install -m 0644 "$C/crl.pem" "$PG_DIR/srv/crl.pem"
pg_configure "$(pg_tls_conf with-ca)
ssl_crl_file = '$PG_DIR/srv/crl.pem'
log_connections = on
log_line_prefix = '%m [%p] user=%u '" "hostssl all app 127.0.0.1/32 cert
hostssl all app2 127.0.0.1/32 scram-sha-256 clientcert=verify-full
hostssl all app3 127.0.0.1/32 trust clientcert=verify-full" || exit 1
pg_start || exit 1
pg_sql "create role app login; create role app2 login password 'pw2'; create role app3 login" >/dev/null

# env FILE USER CERT KEY [MORE]: verify-full, required, mutual TLS as USER
env_file() {
  printf 'DATABASE_URL=postgresql://%s@127.0.0.1:%s/postgres\nDB_SSL_MODE=verify-full\n' "$2" "$PG_PORT" >"$1"
  printf 'DB_SSL_REQUIRED=true\nDB_SSL_EXPIRY_WARN_DAYS=7\nDB_SSL_CA_CERT=%s\nDB_SSL_CLIENT_CERT=%s\nDB_SSL_CLIENT_KEY=%s\n%s' \
    "$C/ca.crt" "$C/$3.crt" "$C/$4" "${5:-}" >>"$1"
}
# status_json FILE: the body of GET /health/database/ssl from one `dbssl status`
status_json() { "$DBSSL" status --json --env-file "$1" 2>/dev/null; }
# field A.B: that field of the JSON on stdin ("null" when absent), printed by Python
field() { /usr/bin/python3 -c 'import json,sys
j=json.load(sys.stdin)
for k in sys.argv[1].split("."): j=j.get(k) if isinstance(j, dict) else None
print(j if j is not None else "null")' "$1"; }

SQL="select ssl, version, client_dn from pg_stat_ssl where pid = pg_backend_pid()"
# ---- keys libpq reads: DER, encrypted PEM with the passphrase from a file or the URL ----
env_file "$T/der.env" app client client.der
env_file "$T/enc.env" app client client.enc "DB_SSL_CLIENT_KEY_PASSWORD_FILE=$C/pass
"
env_file "$T/trad.env" app client client.trad
sed -i "s#^DATABASE_URL=.*#&?sslpassword=$PASS#" "$T/trad.env"
for k in der enc trad; do
  out=$(status_json "$T/$k.env")
  if [ "$(field ssl_version <<<"$out")/$(field client_certificate <<<"$out")/$(field status <<<"$out")" = "TLSv1.3/True/healthy" ]; then
    t_pass "dbssl connects with the $k client key, TLS 1.3, the certificate sent"
  else
    t_fail "$k key: $out"
  fi
  assert_not_contains "$out" "$PASS" "the passphrase is not in the $k status"
  # psql, started through exec: DATABASE_URL carries sslpassword (libpq reads no variable for it)
  out=$("$DBSSL" exec --env-file "$T/$k.env" -- sh -c 'exec "$0" -XAt "$DATABASE_URL" -c "$1"' \
    "$PG_BIN/psql" "$SQL" 2>&1)
  assert_eq "t|TLSv1.3|/CN=app" "$out" "psql through dbssl exec connects with the $k key"
done
out=$("$DBSSL" env --env-file "$T/enc.env" 2>&1)
assert_not_contains "$out" "$PASS" "dbssl env masks the passphrase"
assert_contains "$out" "only DATABASE_URL carries" "dbssl env says only the URL carries sslpassword"
# the wrong passphrase: refused before connecting, naming the file and the setting
printf 'not-the-passphrase\n' >"$C/wrong" && chmod 0600 "$C/wrong"
sed "s#$C/pass#$C/wrong#" "$T/enc.env" >"$T/wrong.env"
run_split "$DBSSL" status --env-file "$T/wrong.env"
assert_rc 2 "a wrong passphrase is invalid configuration"
assert_contains "$ERR$OUT" "DB_SSL_CLIENT_KEY_PASSWORD_FILE: could not decrypt private key file \"$C/client.enc\"" \
  "the finding names the setting and the key file"

# ---- failures, each with PostgreSQL 15's own message ----
# expect NAME FILE CLASS REASON HINT-WORDS
expect() {
  local out got
  out=$(status_json "$2")
  got="$(field error.class <<<"$out")/$(field error.reason <<<"$out")"
  if [ "$got" = "$3/$4" ]; then t_pass "$1: $got"; else t_fail "$1: got $got, want $3/$4: $out"; fi
  assert_contains "$(field error.hint <<<"$out")" "$5" "$1: the hint speaks of $5"
}
env_file "$T/revc.env" app revc revc.key
expect "our certificate revoked by the server's CRL" "$T/revc.env" client_certificate_rejected revoked CRL
env_file "$T/cn.env" app other other.key
expect "CN is not the user (cert)" "$T/cn.env" client_certificate_rejected null pg_ident.conf
env_file "$T/cn3.env" app3 other other.key
expect "CN is not the user (trust clientcert=verify-full)" "$T/cn3.env" client_certificate_rejected null pg_ident.conf
env_file "$T/cn2.env" app2 other other.key
sed -i "s#app2@#app2:pw2@#" "$T/cn2.env"
expect "CN is not the user (scram clientcert=verify-full), seen as a password failure" "$T/cn2.env" \
  client_certificate_rejected null pg_ident.conf
# the same wrong password with the right CN stays a password problem
cert_leaf "$C" app2 ca app2 30 "" clientAuth || exit 1
env_file "$T/pw.env" app2 app2 app2.key
sed -i "s#app2@#app2:wrong@#" "$T/pw.env"
expect "a wrong password with the right CN" "$T/pw.env" authentication_failed null password

# the server's certificate revoked, and DB_SSL_CRL says so
env_file "$T/revs.env" app client client.key "DB_SSL_CRL=$C/crl.pem
"
out=$(status_json "$T/revs.env")
assert_eq healthy "$(field status <<<"$out")" "with the CRL, a server certificate it does not list is fine"
pg_install_server_cert "$C/revs.crt" "$C/revs.key" "$C/ca.crt"
pg_restart || exit 1
seen=$(wc -l <"$PG_DIR/srv/server.log")
expect "the server's certificate revoked by DB_SSL_CRL" "$T/revs.env" certificate_verification_failed revoked "newly issued"
# Telling "revoked" takes a second handshake without verification (the
# server's certificate to hold against the CRL).  It stops once TLS is up:
# the server that failed verification never gets the startup packet, so
# never our user name (the server logs the user of every session that sent
# one; log_line_prefix has user=%u).
after=$(tail -n +"$((seen + 1))" "$PG_DIR/srv/server.log")
if grep -q 'connection received' <<<"$after" && ! grep -q 'user=app' <<<"$after"; then
  t_pass "the revocation probe sent the server no user name ($(grep -c 'connection received' <<<"$after") connections seen)"
else t_fail "the server saw the user name, or no connection: $after"; fi
t_done
