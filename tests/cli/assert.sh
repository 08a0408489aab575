# assert.sh - tiny assertion helpers for the CLI tests (sourced).
# run CMD...: captures stdout in $OUT, stderr in $ERR, exit status in $RC.
set -u
FAILS=0
PASSES=0
TMP=$(mktemp -d /tmp/dbssl-cli-XXXXXX)
trap 'rm -rf "$TMP"' EXIT

run() {
  OUT=$("$@" 2>"$TMP/stderr"); RC=$?
  ERR=$(cat "$TMP/stderr")
}
ok()   { PASSES=$((PASSES + 1)); }
fail() { FAILS=$((FAILS + 1)); echo "FAIL: $*" >&2; echo "  stdout: $OUT" >&2; echo "  stderr: $ERR" >&2; }
expect_rc()      { [ "$RC" -eq "$1" ] && ok || fail "${2:-}: exit status $RC, expected $1"; }
expect_out()     { grep -qF -- "$1" <<<"$OUT" && ok || fail "stdout lacks: $1"; }
expect_err()     { grep -qF -- "$1" <<<"$ERR" && ok || fail "stderr lacks: $1"; }
expect_no()      { ! grep -qF -- "$1" <<<"$OUT$ERR" && ok || fail "output contains: $1"; }
expect_line()    { grep -qxF -- "$1" <<<"$OUT" && ok || fail "stdout has no line: $1"; }
finish() {
  echo "$PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}
