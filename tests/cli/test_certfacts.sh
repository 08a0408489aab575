#!/usr/bin/env bash
# test_certfacts.sh - the generated set's record (.facts, src/x509/certfacts.h):
# a check that found the set good records what each file holds, and the next
# process takes those facts instead of parsing an unchanged file.  What a user
# sees: the same verdicts as without the record, whatever is done to the files
# or to the record itself.
#
# The record's use is made visible by editing it: a forged expiry date in a
# trusted record shows up in `validate` (so it was read), and the same
# forgery is ignored as soon as the file it describes changes, or the record
# is not ours, not private, a symlink, from another OpenSSL, or not JSON.
set -euo pipefail

. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
cd "$T"
for v in $(env | sed -n 's/^\(DB_SSL_[A-Z_]*\|DB_[A-Z_]*\|APP_ENV\|DATABASE_URL\)=.*/\1/p'); do unset "$v"; done
cat >.env <<EOF
DATABASE_URL=postgresql://app:pw@localhost:5432/app
DB_SSL_MODE=verify-full
DB_SSL_AUTO_GENERATE=true
DB_SSL_AUTO_GENERATE_CLIENT=true
DB_SSL_AUTO_CERT_DIR=$T/set
EOF
d=$T/set
rec=$d/.facts

"$DBSSL" certs generate >/dev/null
[ ! -e "$rec" ] && t_pass "no record right after generating (the new files are checked next time)" ||
    t_fail "a record right after generating"
"$DBSSL" validate >/dev/null
[ -f "$rec" ] && [ "$(stat -c %a "$rec")" = 600 ] && t_pass "validate records the set, mode 0600" ||
    t_fail "record: $(ls -la "$d")"
python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert sorted(r["files"]) == ["ca.crt", "ca.key", "client.crt", "client.key", "server.crt", "server.key"], r["files"].keys()' "$rec" &&
    t_pass "every file of the set is recorded" || t_fail "recorded files"
grep -q 'PRIVATE' "$rec" && t_fail "the record holds a private key" || t_pass "no private key in the record"

# forge(FILE, SECONDS) : the record says FILE's certificate ends at that epoch time
forge() {
    python3 - "$rec" "$1" "$2" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
r["files"][sys.argv[2]]["certs"][0]["not_after"] = int(sys.argv[3])
open(sys.argv[1], "w").write(json.dumps(r))
EOF
}
pristine=$T/facts.pristine
cp -p "$rec" "$pristine"
expired=$(($(date +%s) - 86400))

forge client.crt "$expired"
out=$("$DBSSL" validate --no-generate 2>&1) && rc=0 || rc=$?
grep -q "client.crt.*expired on" <<<"$out" && t_pass "a trusted record is what validate reads (forged expiry shows)" ||
    t_fail "forged record not read: rc=$rc $out"

# any change to the file itself: its facts are read again (ctime moves even when size and mtime are kept)
cp -p "$d/client.crt" "$T/client.crt.keep"
cat "$T/client.crt.keep" >"$d/client.crt"
touch -r "$T/client.crt.keep" "$d/client.crt"
out=$("$DBSSL" validate --no-generate 2>&1) && rc=0 || rc=$?
[ "$rc" = 0 ] && ! grep -q 'expired' <<<"$out" && t_pass "rewritten file (same bytes, same mtime): parsed again, valid" || t_fail "rc=$rc $out"

# a different certificate in place of client.crt: caught, and the pair is issued again
cp -p "$pristine" "$rec"
cp "$d/server.crt" "$d/client.crt"
out=$("$DBSSL" certs generate 2>&1)
grep -q 'client.crt' <<<"$out" && t_pass "replaced client.crt: re-issued ($(head -1 <<<"$out"))" ||
    t_fail "replaced client.crt not noticed: $out"
"$DBSSL" validate >/dev/null && t_pass "valid after re-issue" || t_fail "invalid after re-issue"
[ "$(cd "$d" && openssl verify -CAfile ca.crt client.crt 2>&1)" = "client.crt: OK" ] &&
    t_pass "re-issued client.crt verifies" || t_fail "re-issued client.crt"

# records that are not trusted: the same forgery changes nothing
cp -p "$rec" "$pristine"
untrusted() { # DESCRIPTION : validate is clean although the record says client.crt expired
    local out rc
    out=$("$DBSSL" validate --no-generate 2>&1) && rc=0 || rc=$?
    [ "$rc" = 0 ] && ! grep -q 'expired' <<<"$out" && t_pass "ignored: $1" || t_fail "$1: rc=$rc $out"
    rm -f "$rec"
    cp -p "$pristine" "$rec"
}
forge client.crt "$expired"
chmod 0644 "$rec"
untrusted "a record readable by others"
forge client.crt "$expired"
if [ "$(id -u)" = 0 ]; then
    chown nobody "$rec"
    untrusted "a record owned by another user"
else
    t_log "not root: the record of another user is not tried"
fi
forge client.crt "$expired"
mv "$rec" "$T/elsewhere.facts"
ln -s "$T/elsewhere.facts" "$rec"
untrusted "a record that is a symlink"
forge client.crt "$expired"
sed -i 's/"openssl": *"[^"]*"/"openssl": "OpenSSL 0.9.8"/' "$rec"
untrusted "a record written with another OpenSSL"
forge client.crt "$expired"
sed -i 's/"dbssl": *"[^"]*"/"dbssl": "0.0.1"/' "$rec"
untrusted "a record written by another dbssl"
printf '{"format": 1, "files": ' >"$rec"
untrusted "a record that is not JSON"

# a broken record is replaced by the next full check
printf 'garbage' >"$rec"
"$DBSSL" validate >/dev/null
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$rec" && t_pass "a broken record is written anew" ||
    t_fail "record still broken: $(head -c 80 "$rec")"
t_done
