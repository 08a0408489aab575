#!/usr/bin/env bash
# test_audit.sh - `dbssl audit` against real PostgreSQL 15 servers, as an
# assessor runs it.
#  - A server whose pg_hba.conf has "host all all 0.0.0.0/0 scram-sha-256":
#    audited as a superuser, the control hba.tls_only fails naming line 3
#    and the line as written; audited as an ordinary role, the same control
#    is not_checked with the privilege it needs (and the hidden settings
#    too); the JSON validates against docs/audit.schema.json (Debian's
#    python3-jsonschema), the Markdown's summary has the same controls and
#    results, the HTML parses with a strict XML parser and loads nothing
#    from outside.
#  - The development setup `make run` makes (the .env scripts/dev-run.sh
#    writes, `dbssl dev-db`): `dbssl audit --html` passes every control but
#    the two that are development-only by design, which it names.
#  - Invalid settings: exit 2 and no report.
# No report ever carries the password.
. "${DBSSL_SRC:?}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init

for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|APP_ENV\|PG[A-Z]*\)=.*/\1/p'); do unset "$v"; done
# Debian's python3-jsonschema, with Debian's interpreter (not a python on PATH from elsewhere)
PY=/usr/bin/python3
SCHEMA=$DBSSL_SRC/docs/audit.schema.json
"$PY" -c 'import jsonschema' 2>/dev/null ||
  { t_fail "python3-jsonschema is not installed (scripts/install-deps.sh --test)"; t_done; }

CERTS=$T/certs
make_test_certs "$CERTS" auditor || exit 1
cd "$T" || exit 1 # no .env of the checkout

# validate FILE : the report against the schema
validate() {
  "$PY" - "$SCHEMA" "$1" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))
print("valid")
PY
}
# control FILE ID EXPR : EXPR over c (the control's JSON object)
control() {
  "$PY" - "$1" "$2" "$3" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
c = next(c for c in j["controls"] if c["id"] == sys.argv[2])
print(eval(sys.argv[3]))
PY
}
# "id result" of each control, from the JSON and from the Markdown's summary table
json_results() {
  "$PY" -c 'import json,sys; [print(c["id"], c["result"]) for c in json.load(open(sys.argv[1]))["controls"]]' "$1"
}
md_results() {
  sed -n 's/^| `\([a-z._]*\)` | \([a-z_]*\).*/\1 \2/p' "$1"
}
# the HTML: well-formed XML, parsed by the HTML parser too, nothing loaded from outside
html_check() {
  "$PY" - "$1" <<'PY'
import sys, re, xml.etree.ElementTree as ET
from html.parser import HTMLParser
text = open(sys.argv[1], encoding="utf-8").read()
assert text.startswith("<!DOCTYPE html>"), "no doctype"
ET.fromstring(text[len("<!DOCTYPE html>"):])          # strict: every element closed
bad = []
class P(HTMLParser):
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "srcset", "action", "data", "poster", "background"):
                bad.append(f"{tag} {k}={v}")
            if k == "href" and not (v or "").startswith("#"):
                bad.append(f"{tag} href={v}")
        if tag in ("script", "link", "iframe", "img", "object", "embed"):
            bad.append(tag)
P().feed(text)
if re.search(r"url\(|@import", text):
    bad.append("url() or @import in the style sheet")
assert not bad, bad
assert "@media print" in text and "break-inside:avoid" in text and "table-header-group" in text
print("ok")
PY
}

# ---- a server with a plaintext "host" line open to the network -----------------------
# the strong profile of pg-config, so that pg_hba.conf is what this server gets wrong
PGCONF=$("$DBSSL" pg-config 2>/dev/null | grep -E "^ssl_(min|max)_protocol_version|^ssl_ciphers|^ssl_prefer")
# pg_configure (in pg_start_tls) puts "local all all trust" on line 1: the host line is line 3
pg_start_tls "$CERTS/server.crt" "$CERTS/server.key" "$CERTS/ca.crt" "hostssl all all 127.0.0.1/32 scram-sha-256
host all all 0.0.0.0/0 scram-sha-256" "$PGCONF" || exit 1
PW_SU="Su-pw'9x"
PW_PLAIN="pl41n-pw"
pg_sql "create role auditor login superuser password 'Su-pw''9x'" >/dev/null
pg_sql "create role plain login password '$PW_PLAIN'" >/dev/null
assert_eq "3" "$(pg_sql "select line_number from pg_hba_file_rules where type = 'host'" | sed -n 3p | tr -d ' ')" \
  "PostgreSQL reads the host line as line 3"

cat >"$T/su.env" <<EOF
DATABASE_URL=postgresql://auditor:Su-pw%279x@localhost:$PG_PORT/postgres
DB_SSL_MODE=verify-full
DB_SSL_REQUIRED=true
DB_SSL_CA_CERT=$CERTS/ca.crt
DB_SSL_EXPIRY_WARN_DAYS=7
EOF
sed -e "s|auditor:Su-pw%279x|plain:$PW_PLAIN|" "$T/su.env" >"$T/plain.env"

run_split "$DBSSL" audit --json --env-file "$T/su.env"
assert_rc 1 "a failed control: exit 1"
printf '%s\n' "$OUT" >"$T/su.json"
assert_eq "valid" "$(validate "$T/su.json" 2>&1)" "the superuser's JSON validates against the schema"
assert_eq "fail" "$(control "$T/su.json" hba.tls_only 'c["result"]')" "hba.tls_only fails"
assert_eq "[(3, 'host all all 0.0.0.0/0 scram-sha-256')]" \
  "$(control "$T/su.json" hba.tls_only '[(i["line_number"], i["name"]) for f in c["findings"] for i in f["items"]]')" \
  "the offending line with its number, as written in pg_hba.conf"
assert_contains "$(control "$T/su.json" hba.tls_only 'c["findings"][0]["items"][0]["why"]')" \
  "accepts TCP sessions without TLS from 0.0.0.0" "why the line fails"
assert_eq "True" "$(control "$T/su.json" hba.tls_only '"hostssl" in c["findings"][0]["hint"] and len(c["frameworks"]) >= 3')" \
  "the fix and the frameworks"
assert_eq "pass" "$(control "$T/su.json" server.settings 'c["result"]')" "the superuser sees every setting"
assert_eq "fail" "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"])' "$T/su.json")" \
  "the report's result"
# the register: the CA file, and the chain the server sent, with SHA-256 fingerprints
assert_eq "ca server" "$("$PY" -c '
import json, sys
e = json.load(open(sys.argv[1]))["evidence"]
print(" ".join(sorted({c["role"] for c in e["certs"] if len(c["fingerprint_sha256"]) == 95})))' "$T/su.json")" \
  "the certificate register"
assert_not_contains "$OUT" "Su-pw" "no password in the JSON"

# the same server as an ordinary role: not checked, with the privilege it needs
run_split "$DBSSL" audit --json --env-file "$T/plain.env"
printf '%s\n' "$OUT" >"$T/plain.json"
assert_eq "valid" "$(validate "$T/plain.json" 2>&1)" "the ordinary role's JSON validates"
assert_eq "not_checked" "$(control "$T/plain.json" hba.tls_only 'c["result"]')" \
  "hba.tls_only is not checked for an ordinary role"
WHY=$(control "$T/plain.json" hba.tls_only 'c["why"]')
assert_contains "$WHY" 'role "plain" may not read pg_hba_file_rules' "the reason names the role"
assert_contains "$WHY" "superuser, or SELECT on pg_hba_file_rules" "and the privilege"
assert_contains "$(control "$T/plain.json" hba.tls_only 'c["findings"][0]["hint"]')" \
  'GRANT EXECUTE ON FUNCTION pg_hba_file_rules() TO "plain"' "the hint grants it"
assert_eq "not_checked" "$(control "$T/plain.json" server.settings 'c["result"]')" "hidden settings: not checked"
assert_contains "$(control "$T/plain.json" server.settings 'c["why"]')" \
  "ssl_min_protocol_version, ssl_max_protocol_version, ssl_ciphers, ssl_ecdh_curve not visible to role \"plain\": it needs pg_read_all_settings" \
  "the hidden settings and the privilege"
assert_eq "0" "$(control "$T/plain.json" server.settings 'sum(1 for e in c["evidence"] if "ssl_ciphers = (not_checked)" in e) - 1')" \
  "a hidden setting is shown as not checked, never as a value"
assert_eq "warn" "$(control "$T/plain.json" assessment.coverage 'c["result"]')" "the coverage says what was missed"
assert_eq "pass" "$(control "$T/su.json" sessions.tls 'c["result"]')" "no plaintext session of the auditor's role"
assert_contains "$(control "$T/su.json" sessions.tls '" ".join(c["evidence"])')" "0 plaintext" \
  "the session counts are evidence"
assert_rc 0 "no control fails for the ordinary role (the host line is not seen)"

# Markdown: the same controls and results as the JSON, and the offending line
run_split "$DBSSL" audit --markdown --env-file "$T/su.env"
printf '%s\n' "$OUT" >"$T/su.md"
assert_rc 1 "Markdown: exit 1 too"
json_results "$T/su.json" >"$T/su.json.results"
md_results "$T/su.md" >"$T/su.md.results"
[ -s "$T/su.md.results" ] && t_pass || t_fail "no summary rows in the Markdown"
if diff "$T/su.json.results" "$T/su.md.results" >/dev/null; then t_pass; else
  t_fail "Markdown and JSON differ:"$'\n'"$(diff "$T/su.json.results" "$T/su.md.results")"
fi
assert_contains "$OUT" '  - line 3: `host all all 0.0.0.0/0 scram-sha-256`' "the line in the Markdown"

# HTML to a file: self-contained, parses, and says the same
run_split "$DBSSL" audit --html --out "$T/su.html" --env-file "$T/su.env"
assert_rc 1 "HTML: exit 1"
assert_eq "" "$OUT" "--out: nothing on stdout"
assert_contains "$ERR" "wrote $T/su.html: FAIL" "--out says what it wrote"
assert_eq "ok" "$(html_check "$T/su.html" 2>&1)" "the HTML parses and loads nothing from outside"
assert_contains "$(cat "$T/su.html")" "host all all 0.0.0.0/0 scram-sha-256" "the line in the HTML"
assert_not_contains "$(cat "$T/su.html" "$T/su.md" "$T/plain.json")" "Su-pw" "no password in any report"
assert_not_contains "$(cat "$T/plain.json")" "$PW_PLAIN" "no password of the ordinary role"

# a report that cannot be written: exit 1, the reason
run_split "$DBSSL" audit --out "$T/no/such/dir/r.md" --env-file "$T/su.env"
assert_rc 1 "--out into a missing directory"
assert_contains "$ERR" "$T/no/such/dir/r.md" "the error names the file"
pg_stop
pg_cleanup

# ---- invalid settings: exit 2, no report -----------------------------------------------
printf 'DATABASE_URL=postgresql://a@localhost/a\nDB_SSL_MODE=verify-full\n' >"$T/bad.env"
run_split "$DBSSL" audit --json --env-file "$T/bad.env"
assert_rc 2 "verify-full without a CA: invalid settings"
assert_eq "" "$OUT" "no report on invalid settings"
assert_contains "$ERR" "DB_SSL_CA_CERT" "the finding names the setting"
run_split "$DBSSL" audit --json --html
assert_rc 2 "two formats: usage"

# ---- the development setup of make run -------------------------------------------------
P=$(free_port 55470) || exit 1
DEVPW="dev-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
mkdir -p "$T/dev" && cd "$T/dev" || exit 1
# the lines scripts/dev-run.sh writes, with a free port
sed -n '/^DATABASE_URL=/,/^EOF/p' "$DBSSL_SRC/scripts/dev-run.sh" | sed '$d' |
  sed -e "s|\$pw|$DEVPW|" -e "s|:5433/|:$P/|" >.env
assert_eq "5" "$(grep -c . .env)" "the .env of dev-run.sh"
chmod 600 .env
"$DBSSL" certs generate --client >/dev/null || t_fail "certs generate"
t_cleanup_add "\"$DBSSL\" dev-db stop --dir '$T/dev/.dev'"
run_cmd "$DBSSL" dev-db start --dir "$T/dev/.dev"
assert_rc 0 "dev-db start"
run_split "$DBSSL" audit --html --out "$T/dev/audit.html"
assert_rc 0 "the development setup: no control fails"
assert_eq "ok" "$(html_check "$T/dev/audit.html" 2>&1)" "the development report parses, self-contained"
HTML=$(cat "$T/dev/audit.html")
assert_contains "$HTML" "Development-only by design" "the report names what is development-only"
assert_contains "$HTML" "<code>cert.production_ca</code>" "the development set's CA"
assert_contains "$HTML" "<code>cert.revocation</code>" "and its missing CRL"
run_split "$DBSSL" audit --json
assert_rc 0 "JSON of the development setup"
printf '%s\n' "$OUT" >"$T/dev.json"
assert_eq "valid" "$(validate "$T/dev.json" 2>&1)" "the development JSON validates"
assert_eq "cert.production_ca warn True
cert.revocation warn True" "$("$PY" -c '
import json, sys
for c in json.load(open(sys.argv[1]))["controls"]:
    if c["result"] != "pass": print(c["id"], c["result"], c["development_only"])' "$T/dev.json" | sort)" \
  "every other control passes"
assert_eq "['cert.revocation', 'cert.production_ca']" \
  "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["development_only"])' "$T/dev.json")" \
  "the summary names them"
assert_not_contains "$OUT$HTML" "$DEVPW" "no password in the development reports"
# outside development the same set fails: validation refuses it in production
run_split env APP_ENV=production "$DBSSL" audit --json
assert_rc 2 "APP_ENV=production with the auto-generated set: invalid settings"
"$DBSSL" dev-db stop --dir "$T/dev/.dev" >/dev/null

t_done
