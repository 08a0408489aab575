#!/usr/bin/env bash
# The one exit-status contract (dbssl_error_exit_status in dbssl/error.h, the
# README): 0 ok, 1 runtime failure, 2 invalid configuration or usage - and
# where an expired certificate belongs: 2 for `validate` (are the settings
# right?), 1 for the commands that run and find it (`certs inspect`, `status`,
# `serve`).  Also the detail line of errors: primary, "  detail:", "  hint:".
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
cd "$T"
unset DATABASE_URL DB_SSL_MODE DB_SSL_REQUIRED DB_SSL_CA_CERT APP_ENV
# port 1 on loopback: nothing listens, libpq fails at once with "Connection refused"
URL="postgresql://app:Sup3r-S3cret_pw@127.0.0.1:1/app"

# an expired self-signed CA, made with the openssl CA tool (valid for one day in 2020)
mkdir oldca && touch oldca/index.txt && echo 01 >oldca/serial
printf '[ca]\ndefault_ca=x\n[x]\ndatabase=oldca/index.txt\nnew_certs_dir=oldca\nserial=oldca/serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n' >oldca.cnf
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout old.key -out old.csr \
    -subj "/CN=old CA" 2>/dev/null
openssl ca -batch -config oldca.cnf -selfsign -keyfile old.key -in old.csr -out old.crt \
    -startdate 20200101000000Z -enddate 20200102000000Z >/dev/null 2>&1 || t_fail "openssl ca"
cert_ca "$T/good" ca "good CA" 30 || t_fail "cert_ca"

printf 'DATABASE_URL=%s\nDB_SSL_MODE=verify-ca\nDB_SSL_CA_CERT=%s/good/ca.crt\nDB_CONNECT_TIMEOUT=2\n' "$URL" "$T" >ok.env
printf 'DATABASE_URL=%s\nDB_SSL_MODE=verify-ca\nDB_SSL_CA_CERT=%s/old.crt\nDB_CONNECT_TIMEOUT=2\n' "$URL" "$T" >expired.env
printf 'DATABASE_URL=%s\nDB_SSL_MODE=verify-fast\nDB_SSL_CA_CERT=%s/good/ca.crt\n' "$URL" "$T" >badmode.env
printf 'DATABASE_URL=%s\nDB_SSL_MODE=verify-fast\nDB_SSL_CA_CERT=%s/old.crt\n' "$URL" "$T" >both.env
echo "not a certificate" >junk.crt
printf 'DATABASE_URL=%s\nDB_SSL_MODE=verify-ca\nDB_SSL_CA_CERT=%s/junk.crt\n' "$URL" "$T" >junk.env

# --- 2: usage ---
run_split "$DBSSL" frobnicate;                assert_rc 2 "unknown command"
run_split "$DBSSL" status --bogus;            assert_rc 2 "status: unknown option"
run_split "$DBSSL" certs inspect --bogus;     assert_rc 2 "inspect: unknown option"

# --- 2: invalid configuration, the same for every command that validates ---
for cmd in validate status serve; do
    run_split "$DBSSL" $cmd --env-file badmode.env
    assert_rc 2 "$cmd with an invalid DB_SSL_MODE"
    run_split "$DBSSL" $cmd --env-file junk.env
    assert_rc 2 "$cmd with a CA file that is not PEM"
    # an expired certificate does not hide a wrong setting
    run_split "$DBSSL" $cmd --env-file both.env
    assert_rc 2 "$cmd with an invalid mode and an expired CA"
done

# --- an expired certificate: 2 for validate, 1 where something runs ---
run_split "$DBSSL" validate --env-file expired.env
assert_rc 2 "validate: expired CA"
assert_match "$OUT" '^error: DB_SSL_CA_CERT: certificate "CN ?= ?old CA" in ".*/old.crt" has expired' "validate names the expired CA"
run_split "$DBSSL" status --env-file expired.env
assert_rc 1 "status: expired CA"
assert_contains "$OUT" "has expired" "status prints the finding"
run_split "$DBSSL" serve --env-file expired.env --listen 127.0.0.1:1
assert_rc 1 "serve: expired CA (refuses to start)"
run_split "$DBSSL" certs inspect old.crt
assert_rc 1 "certs inspect: expired"

# --- 1: runtime failure, with the detail line ---
run_split "$DBSSL" validate --env-file ok.env
assert_rc 0 "validate: valid settings"
run_split "$DBSSL" status --env-file ok.env
assert_rc 1 "status: database unreachable"
assert_line "$OUT" "error:                  connection_refused: could not connect to the server" "status primary"
assert_match "$OUT" '^  detail: .*Connection refused' "status detail: libpq's text"
assert_match "$OUT" '^  hint: Check that PostgreSQL is running' "status hint"
assert_not_contains "$OUT$ERR" "Sup3r-S3cret_pw" "password in status output"
# the line order is PostgreSQL's: message, detail, hint
order=$(grep -nE '^(error: |  detail: |  hint: )' <<<"$OUT" | cut -d: -f2 | tr -d ' \n')
assert_eq "errordetailhint" "$order" "status: message, detail, hint in that order"
run_split "$DBSSL" status --env-file ok.env --json
assert_rc 1 "status --json: database unreachable"
python3 - "$OUT" <<'PY' && t_pass || t_fail "status --json error object: $OUT"
import json, sys
e = json.loads(sys.argv[1])["error"]
assert list(e) == ["class", "reason", "message", "detail", "hint"], e
assert e["class"] == "connection_refused" and e["message"] == "could not connect to the server", e
assert "Connection refused" in e["detail"] and "Sup3r" not in e["detail"], e
PY

# --- a finding with a detail: validate prints it between message and hint (then where the
# value came from), JSON carries it ---
printf 'DATABASE_URL=postgresql://app@db/app?nosuchparam=1\nDB_SSL_MODE=require\n' >url.env
run_split "$DBSSL" validate --env-file url.env
assert_rc 2 "validate: invalid DATABASE_URL"
assert_line "$OUT" 'error: DATABASE_URL: invalid DATABASE_URL'
assert_line "$OUT" '  detail: an unknown query parameter (37 bytes, not shown: it may hold a password)'
order=$(grep -nE '^(error: |  detail: |  source: |  hint: )' <<<"$OUT" | cut -d: -f2 | tr -d ' \n')
assert_eq "errordetailsourcehint" "$order" "validate: message, detail, source, hint in that order"
run_split "$DBSSL" validate --env-file url.env --json
python3 - "$OUT" <<'PY' && t_pass || t_fail "validate --json detail: $OUT"
import json, sys
f = json.loads(sys.argv[1])["errors"][0]
assert list(f) == ["setting", "source", "message", "detail", "hint"], f
assert f["source"] == ".env line 1", f
assert f["detail"] == 'an unknown query parameter (37 bytes, not shown: it may hold a password)', f
PY
t_done
