#!/usr/bin/env bash
# test_man.sh - the manual page docs/dbssl.1 lints clean (mandoc, and man's
# own warnings), its SETTINGS entries are the option table ("dbssl config
# --man", as the README's table is "--markdown"), and it names every command
# of "dbssl --help", the exit statuses and the version of the program.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
PAGE=$DBSSL_SRC/docs/dbssl.1

run_cmd mandoc -T lint -W style "$PAGE"
assert_rc 0 "mandoc -T lint"
assert_eq "" "$OUT" "mandoc's findings"
run_split env MANWIDTH=80 man --warnings -l "$PAGE"
assert_rc 0 "man --warnings -l"
assert_eq "" "$ERR" "man's (groff's) warnings"
RENDERED=$OUT

# the settings between the markers are what the option table prints
sed -n '/^\.\\" settings:begin$/,/^\.\\" settings:end$/p' "$PAGE" | sed '1d;$d' >"$T/page-settings"
"$DBSSL" config --man >"$T/real-settings"
[ -s "$T/real-settings" ] && diff -u "$T/page-settings" "$T/real-settings" >"$T/diff" &&
  t_pass "SETTINGS is 'dbssl config --man'" ||
  t_fail "dbssl(1) SETTINGS differs from 'dbssl config --man' (paste its output between the markers):"$'\n'"$(cat "$T/diff")"
for name in $("$DBSSL" config --markdown | sed -n 's/^| `\([A-Z_]*\)` .*/\1/p'); do
  assert_match "$RENDERED" "^ +$name\$" "dbssl(1) entry"
done

# every command of the program has its entry (a ".B command" line in COMMANDS)
commands=$("$DBSSL" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF {print $1}')
[ -n "$commands" ] && t_pass || t_fail "no commands in dbssl --help"
# the tag lines of the COMMANDS list (each follows a .TP)
section=$(sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$PAGE" | awk '/^\.TP/ {getline; print}')
for c in $commands; do
  assert_match "$section" "^\\.B ${c//-/\\\\-}( |\\\\|$)" "dbssl(1) command $c"
done
# the exit statuses of include/dbssl/error.h, and the program's version
exits=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$PAGE")
for s in 0 1 2; do assert_line "$exits" ".B $s" "dbssl(1) exit status $s"; done
assert_contains "$(sed -n 1,10p "$PAGE" | grep '^\.TH')" "\"$("$DBSSL" --version)\"" "dbssl(1)'s version"
# the files a user finds
for f in ./.env ./ssl_certs/db/ca.crt ./ssl_certs/db/server.crt ./ssl_certs/db/client.crt ./.dev/; do
  assert_contains "$RENDERED" "$f" "dbssl(1) FILES"
done
t_done
