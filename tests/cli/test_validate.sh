#!/usr/bin/env bash
# The `dbssl validate`, `dbssl config` and top-level CLI as a user runs them:
# exit statuses, the exact lines printed, JSON shape, and no password ever.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
cd "$T"
SECRET='Sup3r-S3cret_pw'
URL="postgresql://app:${SECRET}@db.example.com:5432/app"
unset DATABASE_URL DB_SSL_MODE DB_SSL_REQUIRED APP_ENV

# --- top level ---
run_split "$DBSSL" --help;            assert_rc 0 "--help"; assert_contains "$OUT" "validate"
run_split "$DBSSL" --version;         assert_rc 0; assert_line "$OUT" "dbssl 0.2.0"
run_split "$DBSSL";                   assert_rc 2 "no command"; assert_contains "$ERR" "Usage: dbssl COMMAND"
run_split "$DBSSL" frobnicate;        assert_rc 2 "unknown command"; assert_contains "$ERR" 'unknown command "frobnicate"'
run_split "$DBSSL" help validate;     assert_rc 0; assert_contains "$OUT" "Usage: dbssl validate"
run_split "$DBSSL" help nope;         assert_rc 2
run_split "$DBSSL" validate --bogus;  assert_rc 2 "unknown flag"; assert_contains "$ERR" 'unknown option "--bogus"'
run_split "$DBSSL" validate --env-file; assert_rc 2 "flag without value"; assert_contains "$ERR" 'needs a value'
run_split "$DBSSL" validate extra;    assert_rc 2; assert_contains "$ERR" 'unexpected argument "extra"'

# --- valid settings: exit 0 ---
printf 'DATABASE_URL=%s\nDB_SSL_MODE=require\nDB_SSL_REQUIRED=true\n' "$URL" > good.env
run_split "$DBSSL" validate --env-file good.env
assert_rc 0 "valid"; assert_line "$OUT" "configuration is valid (0 warnings)"

# --- warnings only: still exit 0 ---
printf 'DATABASE_URL=%s\n' "$URL" > warn.env
run_split "$DBSSL" validate --env-file warn.env
assert_rc 0 "warnings only"
assert_line "$OUT" 'warning: DB_SSL_MODE: DB_SSL_MODE "prefer" falls back to an unencrypted connection without warning when the server does not offer TLS'
assert_line "$OUT" "configuration is valid (1 warning)"

# --- errors: exit 2, every finding with an indented hint ---
printf 'DATABASE_URL=%s\nDB_SSL_MODE=verify-full\nDB_SSL_REQUIRED=true\nDB_SSL_CA_CERT=/x/ca.crt\nDB_CONNECT_TIMEOUT=0\n' "$URL" > bad.env
run_split "$DBSSL" validate --env-file bad.env
assert_rc 2 "invalid"
assert_line "$OUT" 'error: DB_SSL_CA_CERT: certificate file "/x/ca.crt" does not exist'
assert_line "$OUT" 'error: DB_CONNECT_TIMEOUT: value 0 is out of range (must be between 1 and 600)'
assert_contains "$OUT" '  hint: Check that the path in DB_SSL_CA_CERT is correct'
assert_line "$OUT" "configuration is invalid: 2 errors, 0 warnings"

# --- JSON ---
run_split "$DBSSL" validate --env-file bad.env --json
assert_rc 2 "json invalid"
python3 - "$OUT" <<'PY' && t_pass || t_fail "json shape"
import json, sys
d = json.loads(sys.argv[1])
assert d["valid"] is False
assert len(d["errors"]) == 2 and d["warnings"] == []
for f in d["errors"]:
    assert list(f) == ["setting", "source", "message", "detail", "hint"], f
    assert f["detail"] is None, f  # no detail: null, as "reason" on the endpoint
assert d["errors"][0]["setting"] == "DB_CONNECT_TIMEOUT"
# each finding names where its value came from: the line of bad.env
assert d["errors"][0]["source"] == ".env line 5", d["errors"][0]
assert d["errors"][1]["source"] == ".env line 4", d["errors"][1]
PY
run_split "$DBSSL" validate --env-file good.env --json
assert_rc 0; python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d=={"valid":True,"errors":[],"warnings":[]}' "$OUT" && t_pass || t_fail "json valid"

# a path that is not UTF-8 still reaches the JSON (escaped), never dropped
printf 'DATABASE_URL=%s\nDB_SSL_MODE=require\nDB_SSL_CA_CERT=/x/\xff.crt\n' "$URL" > latin1.env
run_split "$DBSSL" validate --env-file latin1.env --json
assert_rc 2 "non-UTF-8 path"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["errors"][0]["message"]=="certificate file \"/x/\\xFF.crt\" does not exist", d' "$OUT" && t_pass || t_fail "non-UTF-8 path in JSON"

# --- .env rules ---
run_split "$DBSSL" validate --env-file nope.env
assert_rc 2 "missing explicit env file"; assert_contains "$ERR" 'env file "nope.env" does not exist'; assert_contains "$ERR" "hint:"
mkdir empty && cd empty
run_split env DATABASE_URL="$URL" DB_SSL_MODE=require "$DBSSL" validate
assert_rc 0 "no default .env is fine"
printf 'DATABASE_URL=%s\nthis line is wrong\n' "$URL" > .env
run_split "$DBSSL" validate
assert_rc 2 "syntax error"; assert_contains "$ERR" 'syntax error in env file "./.env:2"'
cd ..

# --- config: sources, precedence, masking ---
printf 'DATABASE_URL=%s\nDB_SSL_MODE=require\n' "$URL" > c.env
run_split env DB_SSL_MODE=verify-ca "$DBSSL" config --env-file c.env
assert_rc 0
assert_match "$OUT" '^DB_SSL_MODE +verify-ca +\(environment\)$' "env wins over .env"
assert_match "$OUT" '^DATABASE_URL +postgresql://app:\*\*\*@db.example.com:5432/app +\(.env line 1\)$' "masked url"
assert_match "$OUT" '^DB_SSL_AUTO_CERT_DIR +./ssl_certs/db +\(default\)$' "default"
run_split "$DBSSL" config --env-file c.env --json
python3 -c '
import json,sys
d=json.loads(sys.argv[1]); s={x["name"]:x for x in d["settings"]}
assert d["env_file"]=="c.env"
assert s["DB_SSL_MODE"]["source"]==".env" and s["DB_SSL_MODE"]["value"]=="require"
assert s["DB_SSL_MODE"]["from"]==".env line 2", s["DB_SSL_MODE"]
assert s["DB_SSL_AUTO_CERT_VALIDITY_DAYS"]["value"]=="365" and s["DB_SSL_AUTO_CERT_VALIDITY_DAYS"]["source"]=="default"
assert s["DATABASE_URL"]["value"]=="postgresql://app:***@db.example.com:5432/app"
' "$OUT" && t_pass || t_fail "config json"

# --- config: the effective value, not "(unset)": the generated set's paths
# (those status and the endpoint use) and the sslmode taken from DATABASE_URL ---
printf 'DATABASE_URL=postgresql://app:Sup3rS3cret@db.example.com/app?sslmode=verify-ca\nDB_SSL_AUTO_GENERATE=true\nDB_SSL_AUTO_GENERATE_CLIENT=true\nDB_SSL_AUTO_CERT_DIR=./gen\n' > auto.env
run_split env DB_SSL_MIN_PROTOCOL_VERSION=TLSv1.3 "$DBSSL" config --env-file auto.env
assert_rc 0 "config auto"
assert_match "$OUT" '^DB_SSL_MODE +verify-ca +\(DATABASE_URL \(.env line 1\)\)$' "sslmode from the URL"
assert_match "$OUT" '^DB_SSL_CA_CERT +./gen/ca.crt +\(auto-generate\)$' "generated CA path"
assert_match "$OUT" '^DB_SSL_CLIENT_CERT +./gen/client.crt +\(auto-generate\)$' "generated client cert"
assert_match "$OUT" '^DB_SSL_CLIENT_KEY +./gen/client.key +\(auto-generate\)$' "generated client key"
assert_match "$OUT" '^DB_SSL_AUTO_CERT_DIR +./gen +\(.env line 4\)$' "line of .env"
assert_match "$OUT" '^DB_SSL_MIN_PROTOCOL_VERSION +TLSv1.3 +\(environment\)$' "environment"
assert_not_contains "$OUT" "Sup3rS3cret"
run_split env DB_SSL_MIN_PROTOCOL_VERSION=TLSv1.3 "$DBSSL" config --env-file auto.env --json
python3 -c '
import json,sys
d=json.loads(sys.argv[1]); s={x["name"]:x for x in d["settings"]}
assert s["DB_SSL_CA_CERT"]=={"name":"DB_SSL_CA_CERT","value":"./gen/ca.crt","source":"auto-generate","from":"auto-generate","default":""}, s["DB_SSL_CA_CERT"]
assert s["DB_SSL_MODE"]["source"]=="DATABASE_URL" and s["DB_SSL_MODE"]["from"]=="DATABASE_URL (.env line 1)", s["DB_SSL_MODE"]
assert s["DB_SSL_MIN_PROTOCOL_VERSION"]["source"]=="environment", s
assert "Sup3rS3cret" not in sys.argv[1]
' "$OUT" && t_pass || t_fail "config json: effective values"
# a CA named by the user is shown as named, never replaced by the generated one
printf 'DB_SSL_CA_CERT=/etc/own/ca.crt\n' >> auto.env
run_split "$DBSSL" config --env-file auto.env
assert_match "$OUT" '^DB_SSL_CA_CERT +/etc/own/ca.crt +\(.env line 5\)$' "own CA wins"

# --- a URL-sourced finding says where and how to fix it in one step ---
printf 'DATABASE_URL=postgresql://app:Sup3rS3cret@db.example.com/app?sslmode=disable\nDB_SSL_REQUIRED=true\n' > urlmode.env
run_split "$DBSSL" validate --env-file urlmode.env --no-generate
assert_rc 2 "url sslmode=disable with DB_SSL_REQUIRED"
assert_line "$OUT" 'error: DB_SSL_MODE: DB_SSL_REQUIRED is true but DB_SSL_MODE "disable" allows an unencrypted connection'
assert_line "$OUT" '  source: DATABASE_URL (.env line 1)'
assert_line "$OUT" '  hint: Change sslmode=disable to sslmode=require in DATABASE_URL (.env line 1), or change .env line 2 to DB_SSL_REQUIRED=false.'
# following the hint is the whole fix: no error is left
sed -i 's/sslmode=disable/sslmode=require/' urlmode.env
run_split "$DBSSL" validate --env-file urlmode.env --no-generate
assert_rc 0 "the hint's fix works in one step: $OUT"

run_split "$DBSSL" config --markdown
assert_contains "$OUT" '| `DB_SSL_MODE` | enum | `prefer` |'

# --- the password never leaves: every form of tests/data/url_forms/forms.tsv
# through every command and endpoint is tests/cli/test_secrets.sh ---
# --- the README's settings table is the option table ---
if [ -n "${DBSSL_SRC:-}" ]; then
  sed -n '/<!-- settings:begin -->/,/<!-- settings:end -->/p' "$DBSSL_SRC/README.md" | sed '1d;$d' > readme-table
  "$DBSSL" config --markdown > real-table
  diff -u readme-table real-table && t_pass || t_fail "README settings table differs from 'dbssl config --markdown'"
fi
t_done
