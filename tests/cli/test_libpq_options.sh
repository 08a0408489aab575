#!/usr/bin/env bash
# test_libpq_options.sh - the newer libpq options on this machine's libpq 15,
# as a user meets them: DB_SSL_NEGOTIATION=direct (libpq 17),
# DB_SSL_CERT_MODE, DB_REQUIRE_AUTH and DB_SSL_CA_CERT=system (libpq 16) are
# each refused by `validate` and `exec` (exit 2, the program never starts),
# naming the setting, the libpq version it needs and the linked one; their
# defaults are fine.  A URL's own ssl_min_protocol_version and
# connect_timeout reach the program instead of dbssl's defaults, and a URL
# disagreeing with the setting is refused.  (The pass-through where libpq
# has them: tests/unit/test_libpq17.c.)
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
cd "$T"
t_unset_settings
LINKED=$(pg_config --version 2>/dev/null | sed -n 's/^PostgreSQL \([0-9.]*\).*/\1/p')
URL="postgresql://app@db.example.com:5432/app"
base() { printf 'DATABASE_URL=%s\nDB_SSL_MODE=verify-full\nDB_SSL_REQUIRED=true\n%s\n' "${2:-$URL}" "$3" >"$1"; }

# refused SETTING=VALUE MAJOR KEYWORD
refused() {
  base "$T/r.env" "" "$1"
  run_split "$DBSSL" validate --env-file "$T/r.env"
  assert_rc 2 "$1 on libpq $LINKED"
  assert_contains "$OUT$ERR" "error: ${1%%=*}: ${1%%=*} \"${1#*=}\" needs libpq $2 or later, but the linked libpq is $LINKED" \
    "$1 names the libpq it needs and the linked one"
  assert_contains "$OUT$ERR" "libpq $LINKED has no connection parameter \"$3\"" "$1: the detail names the parameter"
  run_split "$DBSSL" exec --env-file "$T/r.env" -- sh -c 'echo started'
  assert_rc 2 "exec refuses $1"
  assert_not_contains "$OUT" "started" "the program does not start with $1"
}
refused DB_SSL_NEGOTIATION=direct 17 sslnegotiation
refused DB_SSL_CERT_MODE=require 16 sslcertmode
refused DB_SSL_CERT_MODE=disable 16 sslcertmode
refused DB_REQUIRE_AUTH=scram-sha-256 16 require_auth
refused DB_SSL_CA_CERT=system 16 sslcertmode
# the same asked for in DATABASE_URL: libpq 15 does not even parse it
base "$T/u.env" "$URL?sslnegotiation=direct" ""
run_split "$DBSSL" validate --env-file "$T/u.env"
assert_rc 2 "sslnegotiation in the URL on libpq 15"

# what every libpq does needs nothing
base "$T/d.env" "" "DB_SSL_NEGOTIATION=postgres
DB_SSL_CERT_MODE=allow
DB_SSL_CA_CERT=$T/none-needed-for-this-check.crt"
run_split "$DBSSL" validate --env-file "$T/d.env"
assert_not_contains "$OUT$ERR" "needs libpq" "postgres negotiation and sslcertmode allow need no newer libpq"
base "$T/bad.env" "" "DB_REQUIRE_AUTH=scram,!md5"
run_split "$DBSSL" validate --env-file "$T/bad.env"
assert_rc 2 "a require_auth typo"
assert_contains "$OUT$ERR" 'error: DB_REQUIRE_AUTH: unknown authentication method "scram"' "the typo is named"

# a URL's own protocol floor and timeout reach the program
printf 'DATABASE_URL=%s?ssl_min_protocol_version=TLSv1.3&connect_timeout=17\nDB_SSL_MODE=require\n' "$URL" >"$T/url.env"
run_split "$DBSSL" env --env-file "$T/url.env"
assert_rc 0 "dbssl env with the URL's floor"
assert_line "$OUT" "export PGSSLMINPROTOCOLVERSION='TLSv1.3'" "the URL's TLSv1.3 is not lowered to the default 1.2"
assert_line "$OUT" "export PGCONNECT_TIMEOUT='17'" "the URL's connect_timeout is kept"
printf 'DB_SSL_MIN_PROTOCOL_VERSION=TLSv1.2\n' >>"$T/url.env"
run_split "$DBSSL" validate --env-file "$T/url.env"
assert_rc 2 "URL and setting disagree"
assert_contains "$OUT$ERR" 'DATABASE_URL sets ssl_min_protocol_version="TLSv1.3" but DB_SSL_MIN_PROTOCOL_VERSION is "TLSv1.2"' \
  "the conflict is a finding"
t_done
