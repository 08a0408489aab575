#!/usr/bin/env bash
# test_env_file.sh - .env content as `dbssl validate` sees it: a NUL byte in a
# value is an error, a key set twice and an unset ${NAME} are warnings, each
# naming the file and line; and ${NAME} expands to what python-dotenv (the
# guide's application reads the same file with it) makes of it, checked
# against python-dotenv itself.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
cd "$T"
URL='postgresql://app:Sup3rS3cret@db.example.com/app'

# --- findings, with the exit status they give
printf 'DATABASE_URL=%s\nDB_SSL_MODE=require\0junk\n' "$URL" >nul.env
run_split env -i "$DBSSL" validate --env-file nul.env
assert_rc 2 "NUL byte"
assert_line "$OUT" 'error: DB_SSL_MODE: the value of DB_SSL_MODE in env file "nul.env" line 2 holds a NUL byte: it would be cut short there'

printf 'DATABASE_URL=%s\nDB_SSL_MODE=verify-full\nDB_SSL_MODE=require\n' "$URL" >dup.env
run_split env -i "$DBSSL" validate --env-file dup.env
assert_rc 0 "duplicate key"
assert_line "$OUT" 'warning: DB_SSL_MODE: DB_SSL_MODE is set twice in env file "dup.env", on lines 2 and 3: line 3 wins'

printf 'DATABASE_URL=postgresql://app:${DB_PASSWORD}@db.example.com/app\nDB_SSL_MODE=require\n' >ref.env
run_split env -i "$DBSSL" validate --env-file ref.env
assert_rc 0 "unset reference"
# DATABASE_URL holds a password: the reference is not named, the line is
assert_line "$OUT" 'warning: DATABASE_URL: DATABASE_URL in env file "ref.env" line 1 refers to a variable (${...}), which is not set: it expands to an empty string'
# in a setting of dbssl's own that is no secret, it is named
printf 'DATABASE_URL=postgresql://app@db.example.com/app\nDB_SSL_MODE=require\nDB_SSL_AUTO_CERT_DIR=${CERTS}/db\n' >ref2.env
run_split env -i "$DBSSL" validate --env-file ref2.env
assert_line "$OUT" 'warning: DB_SSL_AUTO_CERT_DIR: DB_SSL_AUTO_CERT_DIR in env file "ref2.env" line 3 refers to ${CERTS}, which is not set: it expands to an empty string'
# set in the environment: expanded, nothing to say
run_split env -i DB_PASSWORD=Sup3rS3cret "$DBSSL" validate --env-file ref.env
assert_rc 0 "reference set in the environment"
assert_not_contains "$OUT" "refers to"
assert_not_contains "$OUT$ERR" "Sup3rS3cret"

# --- ${NAME} as python-dotenv expands it: the value dbssl uses for
# DB_SSL_AUTO_CERT_DIR (a plain path setting) against load_dotenv(override=False)
if ! python3 -c 'import dotenv' 2>/dev/null; then
    t_fail "python-dotenv is missing (Debian: python3-dotenv; make test installs it)"
fi
n=0
while IFS= read -r body; do
    n=$((n + 1))
    printf '%b' "$body" >"ref$n.env"
    ours=$(env -i BASE=/env "$DBSSL" config --env-file "ref$n.env" --json |
        python3 -c 'import json,sys; print([s["value"] for s in json.load(sys.stdin)["settings"] if s["name"]=="DB_SSL_AUTO_CERT_DIR"][0])')
    theirs=$(env -i PATH="$PATH" BASE=/env python3 -c '
import os, sys, dotenv
dotenv.load_dotenv(sys.argv[1], override=False)
print(os.environ.get("DB_SSL_AUTO_CERT_DIR", "./ssl_certs/db"))' "ref$n.env")
    assert_eq "$theirs" "$ours" "python-dotenv and dbssl on: $body"
done <<'EOF'
DB_SSL_AUTO_CERT_DIR=${BASE}/certs\n
BASE=/file\nDB_SSL_AUTO_CERT_DIR=${BASE}/certs\n
ROOT=/srv\nSUB=${ROOT}/app\nDB_SSL_AUTO_CERT_DIR=${SUB}/certs\n
DB_SSL_AUTO_CERT_DIR=${NOPE:-/default}/certs\n
DB_SSL_AUTO_CERT_DIR=/a${NOPE}b\n
DB_SSL_AUTO_CERT_DIR='${BASE}/single'\n
DB_SSL_AUTO_CERT_DIR="${BASE}/double"\n
DB_SSL_AUTO_CERT_DIR=$BASE/unbraced\n
DB_SSL_AUTO_CERT_DIR=$${BASE}\n
DB_SSL_AUTO_CERT_DIR=${BASE:x}\n
DB_SSL_AUTO_CERT_DIR=${LATER}/x\nLATER=/later\n
DB_SSL_AUTO_CERT_DIR=${DB_SSL_AUTO_CERT_DIR}/self\n
DB_SSL_AUTO_CERT_DIR=/one\nDB_SSL_AUTO_CERT_DIR=${DB_SSL_AUTO_CERT_DIR}/two\n
EOF
t_done
