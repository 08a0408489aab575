#!/usr/bin/env bash
# test_health_settings.sh - "server_settings" on GET /health/database/ssl: the
# server's TLS settings and the findings of its pg_hba.conf, read by the
# checker over its own session now and then, never on every check.
#  - as a superuser: every setting read, the plaintext host line found with
#    its line number; "server" stays the public "host:port" string;
#  - read_at stays while checks go on (the slow refresh);
#  - as an ordinary role: the hidden settings and the rules are
#    "not_checked" with the privilege they need, never a value.
. "${DBSSL_SRC:?}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init

for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|APP_ENV\|HTTP_LISTEN\|PG[A-Z]*\)=.*/\1/p'); do unset "$v"; done
CERTS=$T/certs
make_test_certs "$CERTS" auditor || exit 1
cd "$T" || exit 1

pg_setup || exit 1
pg_install_server_cert "$CERTS/server.crt" "$CERTS/server.key" "$CERTS/ca.crt"
pg_configure "$(pg_tls_conf)" "hostssl all all 127.0.0.1/32 scram-sha-256
host all all 0.0.0.0/0 scram-sha-256"
pg_start || exit 1
pg_sql "create role auditor login superuser password 'su-pw'" >/dev/null
pg_sql "create role plain login password 'plain-pw'" >/dev/null

HTTP_PORT=$(free_port 57480) || exit 1
SERVE_PID=
t_cleanup_add 'if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID"; wait "$SERVE_PID"; fi'
# serve ROLE PASSWORD : dbssl serve as ROLE, until the first check is published
serve() {
  cat >"$T/$1.env" <<EOF
DATABASE_URL=postgresql://$1:$2@localhost:$PG_PORT/postgres
DB_SSL_MODE=verify-full
DB_SSL_REQUIRED=true
DB_SSL_CA_CERT=$CERTS/ca.crt
DB_SSL_EXPIRY_WARN_DAYS=7
EOF
  "$DBSSL" serve --env-file "$T/$1.env" --listen "127.0.0.1:$HTTP_PORT" 2>>"$T/serve.log" &
  SERVE_PID=$!
  for _ in $(seq 1 100); do
    curl -s "http://127.0.0.1:$HTTP_PORT/health/ready" | grep -q '"ready": true' && return 0
    sleep 0.1
  done
  t_fail "serve did not become ready: $(cat "$T/serve.log")"
}
stop_serve() {
  kill -TERM "$SERVE_PID"
  wait "$SERVE_PID"
  SERVE_PID=
}
# body : the ssl body after a check made now
body() { curl -s "http://127.0.0.1:$HTTP_PORT/health/database/ssl?refresh=1"; }
# jq_ BODY EXPR : a Python expression over j (the body), S (its server_settings) and
# setting (S's settings by name)
jq_() {
  python3 -c '
import json, sys
j = json.loads(sys.argv[1])
S = j.get("server_settings") or {}
setting = {x["name"]: x for x in S.get("settings", [])}
print(eval(sys.argv[2]))' "$1" "$2"
}

serve auditor su-pw
B=$(body)
assert_eq "localhost:$PG_PORT" "$(jq_ "$B" 'j["server"]')" "\"server\" keeps its string"
assert_eq "auditor True read" "$(jq_ "$B" '"%s %s %s" % (S["role"], S["superuser"], S["hba_state"])')" \
  "the superuser reads the settings and the rules"
assert_eq "on read" "$(jq_ "$B" 'setting["ssl"]["value"] + " " + setting["ssl"]["state"]')" \
  "ssl = on"
assert_eq "[(3, 'host all all 0.0.0.0/0 scram-sha-256', 'fail')]" \
  "$(jq_ "$B" '[(f["line_number"], f["line"], f["severity"]) for f in j["server_settings"]["hba_findings"] if f["check"] == "plaintext_network"]')" \
  "the plaintext host line with its number"
assert_eq "3" "$(jq_ "$B" 'j["server_settings"]["hba_rules"]')" "the number of rules (the rules themselves are the audit's)"
# `dbssl status --json` prints the same body: the same server_settings, read the same way
SETTINGS_OF='json.dumps({k: v for k, v in S.items() if k != "read_at"}, sort_keys=True)'
STATUS_OUT=$("$DBSSL" status --json --env-file "$T/auditor.env" 2>>"$T/status.err")
assert_eq "$(jq_ "$B" "$SETTINGS_OF")" "$(jq_ "$STATUS_OUT" "$SETTINGS_OF")" \
  "dbssl status --json: the server_settings of GET /health/database/ssl"
READ_AT=$(jq_ "$B" 'j["server_settings"]["read_at"]')
CHECKED=$(jq_ "$B" 'j["checked_at"]')
# more checks, a second apart: checked_at moves on, the settings are not read again
sleep 1.1
B=$(body)
B=$(body)
assert_eq "$READ_AT" "$(jq_ "$B" 'j["server_settings"]["read_at"]')" "not read again on every check"
[ "$(jq_ "$B" 'j["checked_at"]')" != "$CHECKED" ] && t_pass || t_fail "the checks went on: $B"
stop_serve

serve plain plain-pw
B=$(body)
assert_eq "plain not_checked None" "$(jq_ "$B" '"%s %s %s" % (S["role"], S["hba_state"], S["hba_findings"])')" \
  "an ordinary role may not read the rules"
assert_contains "$(jq_ "$B" 'j["server_settings"]["hba_note"]')" "superuser, or SELECT on pg_hba_file_rules" \
  "with the privilege it needs"
assert_eq "not_checked None pg_read_all_settings (or superuser)" \
  "$(jq_ "$B" '"%s %s %s" % tuple(setting["ssl_ciphers"][k] for k in ("state", "value", "privilege"))')" \
  "a hidden setting: not checked, no value"
assert_not_contains "$B" "plain-pw" "no password in the body"
stop_serve

t_done
