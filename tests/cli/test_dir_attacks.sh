#!/usr/bin/env bash
# test_dir_attacks.sh - issue 8: another local user attacks the directories
# dbssl writes keys into or trusts, and root runs dbssl.  The other user is
# nobody, acted as with setpriv (the tests run as root in CI).
#   (a) nobody plants .pending as a symlink to a directory of root's files:
#       a root `certs generate` refuses, the files still exist;
#   (b) nobody plants .pending/COMMIT with their own ca.crt/ca.key: refused,
#       the CA in the set is unchanged, nothing of theirs is adopted;
#   (c) a certificate directory (or one above it) that others can write, or
#       owned by another user, or a symlink: refused, the path named, before
#       anything is written; a sticky parent (as /tmp) is fine;
#   (d) the /tmp hijack: the private-copy directory of a running serve is
#       deleted and nobody re-creates it 0777 with a CA of theirs: serve
#       makes a fresh mkdtemp directory and never touches theirs;
# and a root `certs generate --owner` still gives the server pair away.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|HTTP_LISTEN\|APP_ENV\|LOG_FORMAT\|RUNTIME_DIRECTORY\|XDG_RUNTIME_DIR\|TMPDIR\|PG[A-Z]*\)=.*/\1/p'); do unset "$v"; done
cd "$T" || exit 1
export DATABASE_URL="postgresql://app@127.0.0.1:1/app"

ROOT=false
[ "$(id -u)" = 0 ] && ROOT=true
NOBODY=65534
as_nobody() { setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$@"; }
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }

# ---- (c) directories others can change, case by case ---------------------------------
# case | how the directory is made | path given | what the error says
cases="world-writable    | mkdir -m 0777 c1                        | c1        | certificate directory \"$T/c1\" is writable by other users (mode 0777)
group-writable    | mkdir -m 0770 c2                        | c2        | certificate directory \"$T/c2\" is writable by other users (mode 0770)
sticky set        | mkdir -m 1777 c3                        | c3        | certificate directory \"$T/c3\" is writable by other users (mode 1777)
writable parent   | mkdir -m 0777 c4                        | c4/db     | directory \"$T/c4\" above certificate directory \"$T/c4/db\" is writable by other users (mode 0777)
a symlink         | mkdir -m 0700 real5 && ln -s real5 c5   | c5        | certificate directory \"$T/c5\" is a symbolic link
other user's      | mkdir -m 0700 c6 && chown $NOBODY c6     | c6        | certificate directory \"$T/c6\" is owned by another user, \"nobody\" (uid $NOBODY)
other user's parent | mkdir -m 0755 c7 && chown $NOBODY c7   | c7/db     | directory \"$T/c7\" above certificate directory \"$T/c7/db\" is owned by another user"
while IFS='|' read -r what make path says; do
  what=$(echo $what) path=$(echo $path) says=$(echo "$says" | sed 's/^ *//')
  case "$make" in *chown*) $ROOT || { t_log "skipped \"$what\": needs root"; continue; } ;; esac
  (eval "$make") || { t_fail "$what: could not make it"; continue; }
  run_cmd "$DBSSL" certs generate --dir "$path"
  assert_rc 2 "certs generate, $what"
  assert_contains "$OUT" "$says" "certs generate, $what"
  assert_contains "$OUT" "hint: " "certs generate, $what: a hint"
  [ -z "$(find "$T/$path/" -name '*.key' 2>/dev/null)" ] && t_pass ||
    t_fail "$what: a key was written: $(ls -la "$T/$path/")"
  # the same directory as DB_SSL_AUTO_CERT_DIR: validate (with or without
  # generating) and serve name the setting
  for cmd in "validate" "validate --no-generate" "serve"; do
    run_cmd timeout 5 env DB_SSL_AUTO_GENERATE=true "DB_SSL_AUTO_CERT_DIR=$T/$path" \
      HTTP_LISTEN=127.0.0.1:0 "$DBSSL" $cmd
    assert_rc 2 "$cmd, $what"
    assert_contains "$OUT" "error: DB_SSL_AUTO_CERT_DIR: $says" "$cmd, $what"
  done
done <<<"$cases"
# the hint says how to fix it, and the fix works
run_cmd "$DBSSL" certs generate --dir c1
assert_contains "$OUT" "hint: Use a directory only you can write, for example chmod 0700 \"$T/c1\"." "the fix"
chmod 0700 c1
run_cmd "$DBSSL" certs generate --dir c1
assert_rc 0 "after chmod 0700: $OUT"
# a parent writable by all but sticky, as /tmp
mkdir -m 1777 sticky
run_cmd "$DBSSL" certs generate --dir sticky/db
assert_rc 0 "under a sticky parent: $OUT"

if ! $ROOT; then
  t_log "the attacks by another user need root (to act as nobody): skipped"
  t_done
fi

# ---- (a) .pending planted as a symlink to root's files -------------------------------
mkdir -m 0755 victim && echo "root's data" >victim/precious && echo "more" >victim/other
mkdir -m 0777 shared
as_nobody ln -s "$T/victim" shared/.pending
run_cmd "$DBSSL" certs generate --dir shared
assert_rc 2 "(a) root certs generate in the shared directory"
assert_contains "$OUT" "certificate directory \"$T/shared\" is writable by other users" "(a) refused"
chmod 0700 shared # the administrator closes the directory; the link stays
run_cmd "$DBSSL" certs generate --dir shared
assert_rc 1 "(a) with the planted link still there"
assert_contains "$OUT" "staging directory \"$T/shared/.pending\" is a symbolic link" "(a) the link named"
assert_eq "root's data" "$(cat victim/precious)" "(a) the files it points to still exist"
[ -f victim/other ] && [ -L shared/.pending ] && t_pass || t_fail "(a) something was deleted"
[ ! -e shared/ca.key ] && t_pass || t_fail "(a) keys were written next to the planted link"

# ---- (b) .pending/COMMIT planted with another user's CA -------------------------------
mkdir -m 0700 set && "$DBSSL" certs generate --dir set --client >/dev/null || t_fail "(b) a set"
ca_before=$(fp set/ca.crt)
mkdir -m 0700 evil && chown $NOBODY evil
as_nobody openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/CN=evil CA" -keyout evil/ca.key -out evil/ca.crt \
  -addext basicConstraints=critical,CA:TRUE >/dev/null 2>&1 || t_fail "(b) the evil CA"
chmod 0777 set # an administrator's mistake, for a while
as_nobody sh -c "mkdir '$T/set/.pending' && cp '$T/evil/ca.crt' '$T/evil/ca.key' '$T/set/.pending/' &&
  printf 'dbssl-certs 1\nca.crt\nca.key\n' >'$T/set/.pending/COMMIT'" || t_fail "(b) planting"
run_cmd "$DBSSL" certs generate --dir set --client
assert_rc 2 "(b) root certs generate while the directory is open"
assert_eq "$ca_before" "$(fp set/ca.crt)" "(b) the CA is unchanged"
chmod 0700 set # closed again, the planted journal still there
for cmd in "certs generate --dir set --client" "certs generate --dir set --client --force"; do
  run_cmd "$DBSSL" $cmd
  assert_rc 1 "(b) $cmd"
  assert_contains "$OUT" "staging directory \"$T/set/.pending\" is owned by another user" "(b) $cmd"
  assert_eq "$ca_before" "$(fp set/ca.crt)" "(b) $cmd: the CA is unchanged"
done
run_cmd env DB_SSL_AUTO_GENERATE=true DB_SSL_AUTO_GENERATE_CLIENT=true "DB_SSL_AUTO_CERT_DIR=$T/set" \
  "$DBSSL" validate
assert_rc 1 "(b) validate will not generate over a planted journal"
assert_contains "$OUT" "staging directory \"$T/set/.pending\"" "(b) validate names it"
assert_eq "$ca_before" "$(fp set/ca.crt)" "(b) validate: the CA is unchanged"
[ "$(fp set/.pending/ca.crt)" = "$(fp evil/ca.crt)" ] && t_pass ||
  t_fail "(b) the planted files were deleted or changed"
run_cmd openssl verify -CAfile set/ca.crt set/server.crt set/client.crt
assert_rc 0 "(b) the set still verifies against its own CA"

# ---- root --owner: the server pair still goes to its user ------------------------------
run_cmd "$DBSSL" certs generate --dir owned --owner nobody
assert_rc 0 "--owner nobody: $OUT"
assert_eq "nobody 600" "$(stat -c '%U %a' owned/server.key)" "server.key belongs to nobody, 0600"
assert_eq "root 600" "$(stat -c '%U %a' owned/ca.key)" "ca.key stays root's"
assert_eq "711" "$(stat -c '%a' owned)" "the directory lets the owner reach its files"
run_cmd "$DBSSL" certs generate --dir owned --owner nobody
assert_contains "$OUT" "up to date" "--owner: the second run changes nothing"

# ---- (d) the private-copy directory of a running serve, hijacked -------------------------
make_test_certs "$T/pki" app || t_fail "(d) test certificates"
mkdir -m 1777 rt # RUNTIME_DIRECTORY, shared and sticky like /tmp
HTTP=$(free_port 18890) || exit 1
RUNTIME_DIRECTORY="$T/rt" DB_SSL_MODE=verify-full DB_SSL_CA_CERT="$T/pki/ca.crt" \
  DB_HEALTH_CHECK_INTERVAL=1 HTTP_LISTEN="127.0.0.1:$HTTP" "$DBSSL" serve >serve.log 2>&1 &
SERVE_PID=$!
t_cleanup_add "kill -9 $SERVE_PID"
old=""
for _ in $(seq 1 50); do
  old=$(ls -d "$T/rt/dbssl-tls-$SERVE_PID-"* 2>/dev/null | head -1)
  [ -n "$old" ] && break
  sleep 0.1
done
[ -n "$old" ] && [ "$(stat -c '%U %a' "$old")" = "root 700" ] && t_pass ||
  t_fail "(d) no private directory of serve: $(ls -la rt) $(cat serve.log)"
rm -rf "$old" # a tmp cleaner
as_nobody sh -c "umask 0; mkdir '$old' && echo EVIL >'$old/ca.crt'" || t_fail "(d) the hijack"
new=""
for _ in $(seq 1 50); do # serve reconnects (and restores its copies) every second
  new=$(ls -d "$T/rt/dbssl-tls-$SERVE_PID-"* 2>/dev/null | grep -vxF "$old" | head -1)
  [ -n "$new" ] && [ -f "$new/ca.crt" ] && break
  sleep 0.1
done
[ -n "$new" ] && t_pass || t_fail "(d) no fresh directory: $(ls -la rt) $(cat serve.log)"
assert_eq "root 700" "$(stat -c '%U %a' "$new" 2>/dev/null)" "(d) the fresh directory is root's alone"
cmp -s "$new/ca.crt" "$T/pki/ca.crt" && t_pass || t_fail "(d) the fresh copy is not the accepted CA"
assert_eq "ca.crt" "$(ls -A "$old")" "(d) nothing of root's was written into nobody's directory"
assert_eq "EVIL" "$(cat "$old/ca.crt")" "(d) nobody's file is as they left it"
assert_eq "nobody 777" "$(stat -c '%U %a' "$old")" "(d) nobody's directory is as they left it"
assert_contains "$(cat serve.log)" "event=private_directory_replaced dir=$new" "(d) logged"
stop_timed "$SERVE_PID"
assert_eq 0 "$RC" "(d) serve stops"
[ ! -e "$new" ] && t_pass || t_fail "(d) serve left its copies behind"
[ -e "$old/ca.crt" ] && t_pass || t_fail "(d) serve removed nobody's directory on exit"

t_done
