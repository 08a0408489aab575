#!/usr/bin/env bash
# test_certs.sh - `dbssl certs generate|inspect` and `dbssl pg-config` as a
# user runs them (issue 3's acceptance steps), plus the kill test: SIGKILL
# `dbssl certs generate --force` at random points (40 times, 0-99 ms after
# start) and check that the next run
# finds the old complete set or the new complete set, never a mix.
set -euo pipefail

. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
work=$T
cd "$work"
for v in $(env | sed -n 's/^\(DB_SSL_[A-Z_]*\|APP_ENV\|DATABASE_URL\)=.*/\1/p'); do unset "$v"; done
export DATABASE_URL='postgresql://app:s3cret@localhost:5432/app'

fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
state() { # fingerprints and nanosecond mtimes of a set
    local d=$1 f
    for f in ca.crt server.crt client.crt; do fp "$d/$f"; done
    stat -c '%n %a %.9Y' "$d"/ca.crt "$d"/ca.key "$d"/server.* "$d"/client.*
}
pair_matches() {
    [ "$(openssl x509 -in "$1" -noout -pubkey | sha256sum)" = \
      "$(openssl pkey -in "$2" -pubout 2>/dev/null | sha256sum)" ]
}

# ---- generate in an empty directory ------------------------------------------------
out=$("$DBSSL" certs generate --client)
d=ssl_certs/db
grep -q "wrote $work/$d/client.key" <<<"$out" && t_pass "generate lists the files written" ||
    t_fail "generate output: $out"
if (cd $d && openssl verify -CAfile ca.crt server.crt client.crt >/dev/null); then
    t_pass "openssl verify -CAfile ca.crt server.crt client.crt"
else
    t_fail "openssl verify"
fi
modes=$(stat -c '%a' $d $d/ca.crt $d/ca.key $d/server.crt $d/server.key $d/client.crt $d/client.key | tr '\n' ' ')
[ "$modes" = "700 644 600 644 600 644 600 " ] && t_pass "modes 0700/0600/0644" || t_fail "modes: $modes"
openssl x509 -in $d/client.crt -noout -subject | grep -q 'CN *= *app' && t_pass "client CN is the role" ||
    t_fail "client CN"
openssl x509 -in $d/server.crt -noout -ext subjectAltName | grep -q 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1' &&
    t_pass "server SANs" || t_fail "server SANs"

# ---- a second run changes nothing ----------------------------------------------------
before=$(state $d)
sleep 0.05
out=$("$DBSSL" certs generate --client)
[ "$out" = "$work/$d: up to date" ] && t_pass "second run: up to date" || t_fail "second run: $out"
[ "$(state $d)" = "$before" ] && t_pass "same fingerprints and mtimes" || t_fail "second run changed the set"

# ---- a missing client.crt re-issues only the client pair -----------------------------
ca_fp=$(fp $d/ca.crt) server_fp=$(fp $d/server.crt) client_fp=$(fp $d/client.crt)
rm $d/client.crt
out=$("$DBSSL" certs generate --client)
written=$(grep -c -E '^(wrote|renewed) ' <<<"$out" || true)
if [ "$written" = 2 ] && grep -q 'client.crt' <<<"$out" && grep -q 'client.key' <<<"$out" &&
    [ "$(fp $d/ca.crt)" = "$ca_fp" ] && [ "$(fp $d/server.crt)" = "$server_fp" ] &&
    [ "$(fp $d/client.crt)" != "$client_fp" ] &&
    openssl verify -CAfile $d/ca.crt $d/client.crt >/dev/null; then
    t_pass "missing client.crt: only the client pair re-issued by the same CA"
else
    t_fail "re-issue of client pair: $out"
fi

# ---- inspect ---------------------------------------------------------------------------
export DB_SSL_AUTO_GENERATE=true DB_SSL_AUTO_GENERATE_CLIENT=true
if out=$("$DBSSL" certs inspect) && grep -q 'chains to CA: *yes' <<<"$out" &&
    grep -q 'key matches: *yes' <<<"$out" && grep -q "SHA-256: *$server_fp" <<<"$out" &&
    grep -q 'days left: *36[45]' <<<"$out"; then
    t_pass "inspect: chain, key match, fingerprint, days left"
else
    t_fail "inspect output: $out"
fi
json=$("$DBSSL" certs inspect --json)
[ "$(jq -r '.ok' <<<"$json")" = true ] &&
    [ "$(jq -r '[.certificates[].file] | join(" ")' <<<"$json")" = "./$d/ca.crt ./$d/server.crt ./$d/client.crt" ] &&
    [ "$(jq -r '.certificates[1].key_matches' <<<"$json")" = true ] &&
    [ "$(jq -r '.certificates[2].chains_to_ca' <<<"$json")" = true ] &&
    t_pass "inspect --json" || t_fail "inspect --json: $json"
assert_not_contains "$json$out" s3cret "password in inspect output"
unset DB_SSL_AUTO_GENERATE DB_SSL_AUTO_GENERATE_CLIENT

cp $d/server.crt mixed.crt && cp $d/client.key mixed.key && chmod 600 mixed.key
set +e
out=$("$DBSSL" certs inspect mixed.crt 2>&1); rc=$?
set -e
[ $rc = 1 ] && grep -q 'key matches: *NO' <<<"$out" && t_pass "inspect: mismatched key, exit 1" ||
    t_fail "mismatched key: rc=$rc $out"

# an expired certificate, made with the openssl CA tool
mkdir oldca && touch oldca/index.txt && echo 01 >oldca/serial
printf '[ca]\ndefault_ca=x\n[x]\ndatabase=oldca/index.txt\nnew_certs_dir=oldca\nserial=oldca/serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n' >oldca.cnf
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout old.key -out old.csr \
    -subj /CN=old 2>/dev/null
openssl ca -batch -config oldca.cnf -selfsign -keyfile old.key -in old.csr -out old.crt \
    -startdate 20200101000000Z -enddate 20200102000000Z >/dev/null 2>&1
set +e
out=$("$DBSSL" certs inspect old.crt 2>&1); rc=$?
set -e
[ $rc = 1 ] && grep -q 'EXPIRED' <<<"$out" && t_pass "inspect: expired, exit 1" || t_fail "expired: rc=$rc $out"
set +e
out=$("$DBSSL" certs inspect nosuch.crt 2>&1); rc=$?
set -e
[ $rc = 1 ] && grep -q 'certificate file "nosuch.crt" does not exist' <<<"$out" &&
    t_pass "inspect: missing file, exit 1" || t_fail "missing: rc=$rc $out"
set +e
"$DBSSL" certs inspect --bogus >/dev/null 2>&1; rc=$?
set -e
[ $rc = 2 ] && t_pass "inspect: unknown option, exit 2" || t_fail "unknown option rc=$rc"

# ---- renewal; user-supplied files are reported, not replaced ---------------------------
"$DBSSL" certs generate --dir short --days 1 >/dev/null
cp short/ca.crt user-ca.crt
user_before=$(stat -c '%.9Y' user-ca.crt)
out=$(DB_SSL_CA_CERT=$work/user-ca.crt "$DBSSL" certs generate --dir short)
grep -q "renewed $work/short/server.crt" <<<"$out" && t_pass "--days 1 set renewed by the next run" ||
    t_fail "renewal: $out"
grep -q "user-supplied certificate \"$work/user-ca.crt\" (DB_SSL_CA_CERT) expires in" <<<"$out" &&
    grep -q 'not replaced' <<<"$out" && [ "$(stat -c '%.9Y' user-ca.crt)" = "$user_before" ] &&
    t_pass "user-supplied expiring CA reported, not replaced" || t_fail "user-supplied: $out"

# ---- validate generates first, --no-generate has no side effects -----------------------
mkdir v && (
    cd v
    export DB_SSL_AUTO_GENERATE=true
    "$DBSSL" validate --no-generate >/dev/null
    [ ! -e ssl_certs ] && echo "ok: validate --no-generate writes nothing" ||
        { echo "FAIL: --no-generate wrote" >&2; exit 1; }
    out=$("$DBSSL" validate)
    grep -q 'generated .*/ssl_certs/db/server.key' <<<"$out" && [ -f ssl_certs/db/server.crt ] &&
        echo "ok: validate generated the set" || { echo "FAIL: validate: $out" >&2; exit 1; }
) && t_pass "validate in a new directory" || t_fail "validate in a new directory"

# ---- pg-config -------------------------------------------------------------------------------
out=$("$DBSSL" pg-config)
grep -qx 'ssl = on' <<<"$out" && grep -qx "ssl_cert_file = '$work/ssl_certs/db/server.crt'" <<<"$out" &&
    grep -qx "ssl_key_file = '$work/ssl_certs/db/server.key'" <<<"$out" &&
    grep -qx "ssl_ca_file = '$work/ssl_certs/db/ca.crt'" <<<"$out" &&
    grep -qx "ssl_min_protocol_version = 'TLSv1.2'" <<<"$out" &&
    grep -q "^ssl_ciphers = 'ECDHE-ECDSA-AES128-GCM-SHA256:" <<<"$out" &&
    grep -qx "ssl_prefer_server_ciphers = on" <<<"$out" &&
    grep -qE '^hostssl +all +all +0.0.0.0/0 +scram-sha-256$' <<<"$out" &&
    ! grep -qE '^host ' <<<"$out" && t_pass "pg-config: absolute paths, hostssl scram, no plaintext host" ||
    t_fail "pg-config: $out"
out=$(DB_SSL_AUTO_GENERATE=true DB_SSL_AUTO_GENERATE_CLIENT=true "$DBSSL" pg-config --loopback)
grep -qE '^hostssl +all +all +127.0.0.1/32 +scram-sha-256 clientcert=verify-full$' <<<"$out" &&
    grep -qE '^hostssl +all +all +::1/128 +scram-sha-256 clientcert=verify-full$' <<<"$out" &&
    ! grep -q '0.0.0.0/0 *scram' <<<"$out" && ! grep -qE ' (cert|trust)$' <<<"$out" &&
    grep -qE '^hostnossl +all +all +0.0.0.0/0 +reject$' <<<"$out" &&
    grep -qE '^hostnossl +all +all +::/0 +reject$' <<<"$out" &&
    t_pass "pg-config: mutual TLS is a password and a certificate, --loopback" || t_fail "pg-config mTLS: $out"
# the socket: each system user as its own role, never trust
assert_eq "local      all       all                    peer" "$(grep '^local' <<<"$out")" "pg-config's local line"

# ---- the kill test -----------------------------------------------------------------------------
k=killdir
"$DBSSL" certs generate --client --dir $k >/dev/null
old=0 new=0 mixed_before_recovery=0 journal_seen=0
for i in $(seq 1 40); do
    prev=$(cd $k && sha256sum ca.crt server.crt client.crt | cut -d' ' -f1)
    "$DBSSL" certs generate --client --force --dir $k >/dev/null 2>&1 &
    pid=$!
    # 0-99 ms: a run takes about 60-100 ms here, most of it process start-up,
    # so the kills land before, inside and after the swap
    sleep "0.0$(printf '%02d' $((RANDOM % 100)))"
    kill -KILL $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    # Before the next run: the visible set may be a mix only under a committed journal.
    if [ -e $k/.pending/COMMIT ]; then journal_seen=$((journal_seen + 1)); fi
    if ! pair_matches $k/server.crt $k/server.key 2>/dev/null ||
        ! pair_matches $k/client.crt $k/client.key 2>/dev/null ||
        ! openssl verify -CAfile $k/ca.crt $k/server.crt $k/client.crt >/dev/null 2>&1; then
        mixed_before_recovery=$((mixed_before_recovery + 1))
        [ -e $k/.pending/COMMIT ] || t_fail "iteration $i: mixed set without a committed journal"
    fi
    out=$("$DBSSL" certs generate --client --dir $k)
    grep -q 'up to date' <<<"$out" || t_fail "iteration $i: the next run issued again: $out"
    for f in ca.crt ca.key server.crt server.key client.crt client.key; do
        [ -f $k/$f ] || t_fail "iteration $i: $f missing"
    done
    [ ! -e $k/.pending ] || t_fail "iteration $i: .pending left after the next run"
    pair_matches $k/server.crt $k/server.key || t_fail "iteration $i: server key does not match"
    pair_matches $k/client.crt $k/client.key || t_fail "iteration $i: client key does not match"
    pair_matches $k/ca.crt $k/ca.key || t_fail "iteration $i: CA key does not match"
    openssl verify -CAfile $k/ca.crt $k/server.crt $k/client.crt >/dev/null ||
        t_fail "iteration $i: set does not verify"
    cur=$(cd $k && sha256sum ca.crt server.crt client.crt | cut -d' ' -f1)
    same=$(comm -12 <(sort <<<"$prev") <(sort <<<"$cur") | wc -l)
    case $same in
    3) old=$((old + 1)) ;;
    0) new=$((new + 1)) ;;
    *) t_fail "iteration $i: $same of 3 certificates from the old set" ;;
    esac
done
echo "kill test: 40 kills, $old left the old set, $new the new set," \
    "$journal_seen inside a committed swap ($mixed_before_recovery visible mixes, all rolled forward)"

t_done
