#!/usr/bin/env bash
# The `dbssl validate`, `dbssl config` and top-level CLI as a user runs them:
# exit statuses, the exact lines printed, JSON shape, and no password ever.
. "$(dirname "$0")/assert.sh"
: "${DBSSL:?path of the dbssl program}"
cd "$TMP"
SECRET='Sup3r-S3cret_pw'
URL="postgresql://app:${SECRET}@db.example.com:5432/app"
unset DATABASE_URL DB_SSL_MODE DB_SSL_REQUIRED APP_ENV

# --- top level ---
run "$DBSSL" --help;            expect_rc 0 "--help"; expect_out "validate"
run "$DBSSL" --version;         expect_rc 0; expect_line "dbssl 0.1.0"
run "$DBSSL";                   expect_rc 2 "no command"; expect_err "Usage: dbssl COMMAND"
run "$DBSSL" frobnicate;        expect_rc 2 "unknown command"; expect_err 'unknown command "frobnicate"'
run "$DBSSL" help validate;     expect_rc 0; expect_out "Usage: dbssl validate"
run "$DBSSL" help nope;         expect_rc 2
run "$DBSSL" validate --bogus;  expect_rc 2 "unknown flag"; expect_err 'unknown option "--bogus"'
run "$DBSSL" validate --env-file; expect_rc 2 "flag without value"; expect_err 'needs a value'
run "$DBSSL" validate extra;    expect_rc 2; expect_err 'unexpected argument "extra"'

# --- valid settings: exit 0 ---
printf 'DATABASE_URL=%s\nDB_SSL_MODE=require\nDB_SSL_REQUIRED=true\n' "$URL" > good.env
run "$DBSSL" validate --env-file good.env
expect_rc 0 "valid"; expect_line "configuration is valid (0 warnings)"

# --- warnings only: still exit 0 ---
printf 'DATABASE_URL=%s\n' "$URL" > warn.env
run "$DBSSL" validate --env-file warn.env
expect_rc 0 "warnings only"
expect_line 'warning: DB_SSL_MODE: DB_SSL_MODE "prefer" falls back to an unencrypted connection without warning when the server does not offer TLS'
expect_line "configuration is valid (1 warning)"

# --- errors: exit 2, every finding with an indented hint ---
printf 'DATABASE_URL=%s\nDB_SSL_MODE=verify-full\nDB_SSL_REQUIRED=true\nDB_SSL_CA_CERT=/x/ca.crt\nDB_CONNECT_TIMEOUT=0\n' "$URL" > bad.env
run "$DBSSL" validate --env-file bad.env
expect_rc 2 "invalid"
expect_line 'error: DB_SSL_CA_CERT: certificate file "/x/ca.crt" does not exist'
expect_line 'error: DB_CONNECT_TIMEOUT: value 0 is out of range (must be between 1 and 600)'
expect_out '  hint: Check that the path in DB_SSL_CA_CERT is correct'
expect_line "configuration is invalid: 2 errors, 0 warnings"

# --- JSON ---
run "$DBSSL" validate --env-file bad.env --json
expect_rc 2 "json invalid"
python3 - "$OUT" <<'PY' && ok || fail "json shape"
import json, sys
d = json.loads(sys.argv[1])
assert d["valid"] is False
assert len(d["errors"]) == 2 and d["warnings"] == []
for f in d["errors"]:
    assert set(f) == {"setting", "message", "hint"}, f
assert d["errors"][0]["setting"] == "DB_CONNECT_TIMEOUT"
PY
run "$DBSSL" validate --env-file good.env --json
expect_rc 0; python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d=={"valid":True,"errors":[],"warnings":[]}' "$OUT" && ok || fail "json valid"

# a path that is not UTF-8 still reaches the JSON (escaped), never dropped
printf 'DATABASE_URL=%s\nDB_SSL_MODE=require\nDB_SSL_CA_CERT=/x/\xff.crt\n' "$URL" > latin1.env
run "$DBSSL" validate --env-file latin1.env --json
expect_rc 2 "non-UTF-8 path"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["errors"][0]["message"]=="certificate file \"/x/\\xFF.crt\" does not exist", d' "$OUT" && ok || fail "non-UTF-8 path in JSON"

# --- .env rules ---
run "$DBSSL" validate --env-file nope.env
expect_rc 2 "missing explicit env file"; expect_err 'env file "nope.env" does not exist'; expect_err "hint:"
mkdir empty && cd empty
run env DATABASE_URL="$URL" DB_SSL_MODE=require "$DBSSL" validate
expect_rc 0 "no default .env is fine"
printf 'DATABASE_URL=%s\nthis line is wrong\n' "$URL" > .env
run "$DBSSL" validate
expect_rc 2 "syntax error"; expect_err 'syntax error in env file "./.env:2"'
cd ..

# --- config: sources, precedence, masking ---
printf 'DATABASE_URL=%s\nDB_SSL_MODE=require\n' "$URL" > c.env
run env DB_SSL_MODE=verify-ca "$DBSSL" config --env-file c.env
expect_rc 0
grep -qE '^DB_SSL_MODE +verify-ca +\(env\)$' <<<"$OUT" && ok || fail "env wins over .env"
grep -qE '^DATABASE_URL +postgresql://app:\*\*\*@db.example.com:5432/app +\(.env\)$' <<<"$OUT" && ok || fail "masked url"
grep -qE '^DB_SSL_AUTO_CERT_DIR +./ssl_certs/db +\(default\)$' <<<"$OUT" && ok || fail "default"
run "$DBSSL" config --env-file c.env --json
python3 -c '
import json,sys
d=json.loads(sys.argv[1]); s={x["name"]:x for x in d["settings"]}
assert d["env_file"]=="c.env"
assert s["DB_SSL_MODE"]["source"]==".env" and s["DB_SSL_MODE"]["value"]=="require"
assert s["DB_SSL_AUTO_CERT_VALIDITY_DAYS"]["value"]=="365" and s["DB_SSL_AUTO_CERT_VALIDITY_DAYS"]["source"]=="default"
assert s["DATABASE_URL"]["value"]=="postgresql://app:***@db.example.com:5432/app"
' "$OUT" && ok || fail "config json"
run "$DBSSL" config --markdown
expect_out '| `DB_SSL_MODE` | enum | `prefer` |'

# --- the password never leaves, whatever the command or error ---
printf 'DATABASE_URL=postgresql://app:%s@db/app?sslmode=disable\nDB_SSL_MODE=verify-full\nDB_SSL_REQUIRED=perhaps\n' "$SECRET" > s1.env
printf 'DATABASE_URL=postgresql://app:%s%%zz@db/app\n' "$SECRET" > s2.env
printf 'DATABASE_URL="host=db user=app password=%s dbname=app"\n' "$SECRET" > s3.env
printf 'DATABASE_URL=postgresql://app@db/app?password=%s&bogus=1\n' "$SECRET" > s4.env
# libpq quotes a malformed token back: it must be masked wherever it was written
printf 'DATABASE_URL=postgresql://app@db/app?password=%s%%zz\n' "$SECRET" > s5.env
printf 'DATABASE_URL=postgresql://app@db/app?sslpassword=%s%%zz\n' "$SECRET" > s6.env
for f in s1.env s2.env s3.env s4.env s5.env s6.env; do
  for cmd in "validate" "validate --json" "config" "config --json"; do
    run "$DBSSL" $cmd --env-file "$f"
    expect_no "$SECRET"
  done
done
# --- the README's settings table is the option table ---
if [ -n "${DBSSL_SRC:-}" ]; then
  sed -n '/<!-- settings:begin -->/,/<!-- settings:end -->/p' "$DBSSL_SRC/README.md" | sed '1d;$d' > readme-table
  "$DBSSL" config --markdown > real-table
  diff -u readme-table real-table && ok || fail "README settings table differs from 'dbssl config --markdown'"
fi
finish
