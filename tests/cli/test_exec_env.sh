#!/usr/bin/env bash
# `dbssl exec` and `dbssl env` without a database (validation needs none):
# the environment a program gets (libpq's variables override inherited ones,
# paths absolute, the generated files), exec's contract (same process id,
# signals reach the program, no descriptor leaks, 126/127, usage errors, an
# invalid setup never starts the program), and `env` in each format read
# back by its real reader: bash's eval, a JSON parser, dbssl's own dotenv
# loader; the password in no output unless asked for.
# With a real server and real clients: tests/integration/test_exec.sh.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|APP_ENV\|PG[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

# a password with every character a shell, a URI or a dotenv file could trip on
SECRET_MARK='Sup3rS3cret'
PASSWORD="${SECRET_MARK}'\"\$\`\\@:/ x"
PASSWORD_ENC="${SECRET_MARK}%27%22%24%60%5C%40%3A%2F%20x"
# a certificate directory with a space and a quote, given relative
APP=$T/app
CERTS="$APP/it's a dir/certs"
mkdir -p "$APP"
cat >"$APP/.env" <<EOF
DATABASE_URL='postgresql://app:${PASSWORD_ENC}@localhost:1/appdb'
DB_SSL_MODE=verify-full
DB_SSL_REQUIRED=true
DB_SSL_AUTO_GENERATE=true
DB_SSL_AUTO_GENERATE_CLIENT=true
DB_SSL_AUTO_CERT_DIR="./it's a dir/certs"
EOF
cd "$APP" || exit 1

# json_get FILE NAME : the value of NAME in the JSON object of FILE
json_get() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]], end="")' "$1" "$2"; }

# ---- env: the first run generates the set; stdout stays one JSON document ----
run_split "$DBSSL" env --format json
assert_rc 0 "env --format json"
assert_contains "$ERR" "generated $CERTS/ca.crt" "what was generated goes to stderr"
printf '%s' "$OUT" >"$T/masked.json"
run_cmd python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d, dict) and all(isinstance(v, str) for v in d.values()); assert list(d)[0] == "DATABASE_URL"; print(len(d))' "$T/masked.json"
assert_rc 0 "the JSON output parses to an object of strings, DATABASE_URL first"
assert_eq "verify-full" "$(json_get "$T/masked.json" PGSSLMODE)" "PGSSLMODE"
assert_eq "$CERTS/ca.crt" "$(json_get "$T/masked.json" PGSSLROOTCERT)" "the generated CA, absolute"
assert_eq "$CERTS/client.crt" "$(json_get "$T/masked.json" PGSSLCERT)" "the generated client certificate"
assert_eq "$CERTS/client.key" "$(json_get "$T/masked.json" PGSSLKEY)" "the generated client key"
assert_eq "disable" "$(json_get "$T/masked.json" PGGSSENCMODE)" "GSSAPI encryption off when TLS is required"
assert_eq "localhost" "$(json_get "$T/masked.json" PGHOST)" "PGHOST"
assert_eq "1" "$(json_get "$T/masked.json" PGPORT)" "PGPORT"
assert_eq "app" "$(json_get "$T/masked.json" PGUSER)" "PGUSER"
assert_eq "appdb" "$(json_get "$T/masked.json" PGDATABASE)" "PGDATABASE"
assert_eq "***" "$(json_get "$T/masked.json" PGPASSWORD)" "PGPASSWORD masked"
assert_contains "$(json_get "$T/masked.json" DATABASE_URL)" "postgresql://app:***@localhost:1/appdb?" "URL masked"
assert_contains "$(json_get "$T/masked.json" DATABASE_URL)" "sslmode=verify-full" "the URL carries sslmode"
assert_not_contains "$(json_get "$T/masked.json" DATABASE_URL)" "application_name" "dbssl's own application name is not the program's"

# ---- the password: nowhere unless asked for ----
for fmt in shell json dotenv; do
  run_cmd "$DBSSL" env --format "$fmt"
  assert_rc 0 "env --format $fmt"
  assert_not_contains "$OUT" "$SECRET_MARK" "env --format $fmt prints no password"
  assert_contains "$OUT" "***" "env --format $fmt shows the mask"
done
run_cmd "$DBSSL" env
assert_line "$OUT" '# secrets are masked as ***: "dbssl env --show-secrets" prints them' "the mask is explained"
run_split "$DBSSL" env --format json --show-secrets
printf '%s' "$OUT" >"$T/shown.json"
assert_eq "$PASSWORD" "$(json_get "$T/shown.json" PGPASSWORD)" "--show-secrets: the decoded password"
assert_contains "$(json_get "$T/shown.json" DATABASE_URL)" "postgresql://app:${PASSWORD_ENC}@localhost:1/appdb?" "--show-secrets: the password %-encoded in the URL"

# ---- shell: eval in bash gives every value back exactly ----
run_split "$DBSSL" env --show-secrets
assert_rc 0 "env --show-secrets"
SHELL_OUT=$OUT
mismatch=$(env -i PATH="$PATH" bash -c '
  eval "$1" || exit 9
  python3 -c "
import json, os, sys
want = json.load(open(sys.argv[1]))
bad = [k for k, v in want.items() if os.environ.get(k) != v]
print(\" \".join(bad) or \"all %d equal\" % len(want))
" "$2"' _ "$SHELL_OUT" "$T/shown.json" 2>&1)
assert_eq "all $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/shown.json") equal" "$mismatch" "eval of the shell output sets each variable to the JSON value"
assert_contains "$SHELL_OUT" "export PGSSLROOTCERT='$APP/it'\\''s a dir/certs/ca.crt'" "single quotes, an embedded quote escaped"

# ---- dotenv: dbssl's own loader reads it back ----
run_split "$DBSSL" env --format dotenv --show-secrets
assert_rc 0 "env --format dotenv"
printf '%s' "$OUT" >"$T/out.env"
run_split "$DBSSL" config --env-file "$T/out.env" --json
assert_rc 0 "dbssl config loads the dotenv output"
printf '%s' "$OUT" >"$T/config.json"
assert_eq "$(json_get "$T/masked.json" DATABASE_URL)" \
  "$(python3 -c 'import json,sys; print([s["value"] for s in json.load(open(sys.argv[1]))["settings"] if s["name"] == "DATABASE_URL"][0], end="")' "$T/config.json")" \
  "dbssl config shows the loaded URL as env shows it masked"
mkdir -p "$T/elsewhere"
OUT2=$(cd "$T/elsewhere" && "$DBSSL" env --env-file "$T/out.env" --format dotenv --show-secrets --no-generate 2>&1)
assert_eq "$(cat "$T/out.env")" "$OUT2" "the dotenv output, read as settings from another directory, gives itself"

# ---- usage ----
run_split "$DBSSL" env --format yaml
assert_rc 2 "unknown format"; assert_contains "$ERR" 'unknown format "yaml"'
run_split "$DBSSL" env extra;   assert_rc 2 "env takes no operand"
run_split "$DBSSL" exec;        assert_rc 2 "exec without a command"; assert_contains "$ERR" "no command given"
run_split "$DBSSL" exec ls -l;  assert_rc 2 "exec without --"; assert_contains "$ERR" 'the command must follow "--"'
run_split "$DBSSL" exec --;     assert_rc 2 "exec -- alone"; assert_contains "$ERR" 'no command after "--"'
run_split "$DBSSL" exec --bogus -- true; assert_rc 2 "exec unknown option"
run_split "$DBSSL" exec --help; assert_rc 0 "exec --help"; assert_contains "$OUT" "overridden by the validated one"
run_split "$DBSSL" help env;    assert_rc 0 "help env"; assert_contains "$OUT" "--show-secrets"

# ---- exec: the environment the program gets ----
run_split env PGSSLMODE=disable PGSSLROOTCERT=/wrong/ca.crt PGGSSENCMODE=prefer KEEP_ME=yes \
  "$DBSSL" exec -- sh -c 'cd / && printf "%s|%s|%s|%s|%s" "$PGSSLMODE" "$PGSSLROOTCERT" "$PGGSSENCMODE" "$KEEP_ME" "$(test -r "$PGSSLCERT" && echo readable)"'
assert_rc 0 "exec"
assert_eq "verify-full|$CERTS/ca.crt|disable|yes|readable" "$OUT" "inherited PGSSL* overridden, others kept, paths absolute"
assert_eq "" "$ERR" "nothing on stderr once the set exists"
run_split "$DBSSL" exec -- printenv DATABASE_URL
assert_eq "$(json_get "$T/shown.json" DATABASE_URL)" "$OUT" "DATABASE_URL is the rewritten one, password included"
run_split "$DBSSL" exec -- sh -c 'exit 7'
assert_rc 7 "the program's exit status is exec's"
assert_eq "$(ls /proc/self/fd | sort)" "$("$DBSSL" exec -- ls /proc/self/fd | sort)" "no descriptor of dbssl reaches the program"

# same process id, and a signal reaches the program itself
"$DBSSL" exec -- sh -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec sleep 60' "$T/child.pid" &
PID=$!
t_cleanup_add "kill -9 $PID"
for _ in $(seq 1 200); do [ -s "$T/child.pid" ] && break; sleep 0.05; done
assert_eq "$PID" "$(cat "$T/child.pid" 2>/dev/null)" "the program runs with dbssl's process id"
kill -TERM "$PID"
wait "$PID"
assert_eq "143" "$?" "SIGTERM reaches the program (sleep died of it)"

# ---- exec: a program that cannot run ----
run_split "$DBSSL" exec -- no-such-program-here
assert_rc 127 "not found"; assert_contains "$ERR" 'could not run "no-such-program-here"'
printf 'not a program\n' >"$T/plain.txt"; chmod 0644 "$T/plain.txt"
run_split "$DBSSL" exec -- "$T/plain.txt"
assert_rc 126 "not executable"

# ---- an invalid setup: refused before the program starts ----
cat >"$T/bad.env" <<EOF
DATABASE_URL='postgresql://app:${PASSWORD_ENC}@localhost:1/appdb'
DB_SSL_MODE=verify-full
DB_SSL_CA_CERT=$T/missing-ca.crt
EOF
run_split "$DBSSL" exec --env-file "$T/bad.env" -- touch "$T/started"
assert_rc 2 "invalid setup: exit 2"
assert_contains "$ERR" "error: DB_SSL_CA_CERT: certificate file \"$T/missing-ca.crt\" does not exist" "the findings on stderr"
assert_eq "" "$OUT" "nothing on the program's stdout"
[ ! -e "$T/started" ] && t_pass "the program never ran" || t_fail "the program ran despite an invalid setup"
assert_not_contains "$ERR" "$SECRET_MARK" "the findings carry no password"
run_split "$DBSSL" env --env-file "$T/bad.env"
assert_rc 2 "env refuses an invalid setup too"; assert_eq "" "$OUT" "env prints no set then"

# a connection service would beat libpq's variables (pg_service.conf before PGSSLMODE): refused
rm -f "$T/started"
run_split env PGSERVICE=billing "$DBSSL" exec -- touch "$T/started"
assert_rc 2 "exec with PGSERVICE set"
assert_contains "$ERR" 'a connection service (PGSERVICE "billing") would override the validated settings'
[ ! -e "$T/started" ] && t_pass "the program never ran under a service" || t_fail "the program ran under PGSERVICE"
run_split env PGSERVICE=billing "$DBSSL" env
assert_rc 2 "env with PGSERVICE set"

# --no-generate with a set that was never generated: refused, the paths would not exist
mkdir -p "$T/fresh"
sed 's#^DB_SSL_AUTO_CERT_DIR=.*#DB_SSL_AUTO_CERT_DIR=./never#' "$APP/.env" >"$T/fresh/.env"
run_split sh -c 'cd "$1" && "$2" exec --no-generate -- touch started' _ "$T/fresh" "$DBSSL"
assert_rc 2 "exec --no-generate without the generated set"
assert_contains "$ERR" 'error: DB_SSL_AUTO_CERT_DIR: the generated file "./never/ca.crt" does not exist'
[ ! -e "$T/fresh/started" ] && [ ! -e "$T/fresh/never" ] && t_pass "nothing ran, nothing generated" ||
  t_fail "--no-generate generated or ran"

t_done
