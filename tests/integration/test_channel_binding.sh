#!/usr/bin/env bash
# test_channel_binding.sh - DB_SSL_CHANNEL_BINDING (issue 13, item 3)
# against a real PostgreSQL 15: with SCRAM over TLS, channel_binding=require
# connects and is reported; where the server offers no SCRAM-SHA-256-PLUS
# (trust, md5) the failure is authentication_failed with the reason
# channel_binding_unavailable and a hint, from the setting or from
# DATABASE_URL alike; `dbssl exec` hands the setting to psql, which libpq
# then enforces by itself.  Everything on loopback; cleanup on any exit.
set -uo pipefail
. "${DBSSL_SRC:?source tree}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init

WORK=$T
C=$WORK/certs
make_test_certs "$C" app_user

pg_start_tls "$C/server.crt" "$C/server.key" "" "hostssl all trusty 127.0.0.1/32 trust
hostssl all md5_user 127.0.0.1/32 md5
hostssl all all 127.0.0.1/32 scram-sha-256" || exit 1
pg_sql "create role app_user login password 'pw-S3cret';
create role trusty login;
set password_encryption = 'md5'; create role md5_user login password 'pw-Md5'" >/dev/null
url() { echo "postgresql://$1@127.0.0.1:$PG_PORT/postgres${2:-}"; }
T_SECRETS='pw-S3cret|pw-Md5'

envfile() { # NAME URL SETTING... (verified TLS; the test certificates' 30 days are no warning)
    local f=$WORK/$1.env
    { echo "DATABASE_URL=$2"; echo "DB_SSL_MODE=verify-full"; echo "DB_SSL_CA_CERT=$C/ca.crt"
      echo "DB_SSL_EXPIRY_WARN_DAYS=7"; printf '%s\n' "${@:3}"; } >"$f"
    echo "$f"
}
UNAVAILABLE='j["status"]=="unhealthy" and j["error"]["class"]=="authentication_failed" and j["error"]["reason"]=="channel_binding_unavailable" and "SCRAM-SHA-256-PLUS" in j["error"]["hint"] and "channel binding" in j["error"]["detail"]'

status_case "SCRAM over TLS with channel_binding=require: healthy, reported" 0 \
    'j["status"]=="healthy" and j["channel_binding"]=="require" and j["ssl_version"]=="TLSv1.3"' \
    "$(envfile scram "$(url app_user:pw-S3cret)" DB_SSL_CHANNEL_BINDING=require)"
status_case "the default is libpq's prefer, reported as such" 0 \
    'j["status"]=="healthy" and j["channel_binding"]=="prefer"' \
    "$(envfile scram-default "$(url app_user:pw-S3cret)")"
status_case "trust authentication with channel_binding=require: channel_binding_unavailable" 1 \
    "$UNAVAILABLE" "$(envfile trust "$(url trusty)" DB_SSL_CHANNEL_BINDING=require)"
status_case "md5 authentication with channel_binding=require: channel_binding_unavailable" 1 \
    "$UNAVAILABLE" "$(envfile md5 "$(url md5_user:pw-Md5)" DB_SSL_CHANNEL_BINDING=require)"
status_case "channel_binding=require in DATABASE_URL is adopted: the same failure" 1 \
    "$UNAVAILABLE and j[\"channel_binding\"]==\"require\"" \
    "$(envfile trust-url "$(url trusty '?channel_binding=require')")"
status_case "trust authentication with channel_binding=prefer connects" 0 \
    'j["status"]=="healthy" and j["channel_binding"]=="prefer"' \
    "$(envfile trust-prefer "$(url trusty)" DB_SSL_CHANNEL_BINDING=prefer)"

# the human form names the reason too
out=$(env -i PATH="$PATH" "$DBSSL" status --env-file "$WORK/trust.env" 2>&1) || true
assert_contains "$out" "channel_binding_unavailable" "dbssl status (text) names the reason"

# dbssl exec: psql gets PGCHANNELBINDING and libpq enforces it without dbssl
run_cmd env -i PATH="$PATH" "$DBSSL" exec --env-file "$WORK/scram.env" -- \
    psql -X -qAt -c "select 'bound:' || ssl from pg_stat_ssl where pid = pg_backend_pid()"
assert_rc 0 "psql through dbssl exec with channel_binding=require (SCRAM)"
assert_contains "$OUT" "bound:t" "psql's own session uses TLS"
run_split env -i PATH="$PATH" "$DBSSL" exec --env-file "$WORK/trust.env" -- \
    sh -c 'echo "PGCHANNELBINDING=$PGCHANNELBINDING"; psql -X -qAt -c "select 1"'
assert_contains "$OUT" "PGCHANNELBINDING=require" "dbssl exec exports PGCHANNELBINDING"
assert_contains "$ERR" "channel binding required" "psql itself refuses the trust login"

t_done
