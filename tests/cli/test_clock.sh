#!/usr/bin/env bash
# test_clock.sh - the injectable clock (src/base/clock.h): the test-clock dbssl
# ($DBSSL_TESTCLOCK, built only for the tests) moves its time by
# DBSSL_TEST_NOW and DBSSL_TEST_NOW_FILE; the shipped program and library
# cannot: the same variables change nothing, and neither holds the hook or
# the variables' names.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
: "${DBSSL_TESTCLOCK:?the test-clock dbssl}" "${DBSSL_BUILD:?build tree}"
cd "$T" || exit 1

# valid for 10 days from now
cert_ca "$T" c "dbssl clock test" 10
expired() { # expired BINARY [VAR=VALUE...] : "true"/"false" as certs inspect --json says
  local bin=$1
  shift
  env "$@" "$bin" certs inspect --json "$T/c.crt" 2>/dev/null |
    python3 -c 'import json,sys; print(str(json.load(sys.stdin)["certificates"][0]["expired"]).lower())'
}

assert_eq false "$(expired "$DBSSL_TESTCLOCK")" "test clock without a setting: the real time"
assert_eq true "$(expired "$DBSSL_TESTCLOCK" DBSSL_TEST_NOW=+864060)" "DBSSL_TEST_NOW=+10 days 1 min: expired"
assert_eq true "$(expired "$DBSSL_TESTCLOCK" DBSSL_TEST_NOW=@4102444800)" "DBSSL_TEST_NOW=@2100-01-01: expired"
echo "+864060" >"$T/now"
assert_eq true "$(expired "$DBSSL_TESTCLOCK" DBSSL_TEST_NOW_FILE="$T/now")" "DBSSL_TEST_NOW_FILE moves it"
echo "0" >"$T/now"
assert_eq false "$(expired "$DBSSL_TESTCLOCK" DBSSL_TEST_NOW_FILE="$T/now" DBSSL_TEST_NOW=+864060)" \
  "the file wins over the variable, and rewriting it moves the time back"
assert_eq false "$(expired "$DBSSL_TESTCLOCK" DBSSL_TEST_NOW=soon)" "a malformed setting is the real time"

# the shipped program: the same settings change nothing
assert_eq false "$(expired "$DBSSL" DBSSL_TEST_NOW=+864060)" "dbssl ignores DBSSL_TEST_NOW"
echo "+864060" >"$T/now"
assert_eq false "$(expired "$DBSSL" DBSSL_TEST_NOW_FILE="$T/now")" "dbssl ignores DBSSL_TEST_NOW_FILE"
for bin in "$DBSSL" "$DBSSL_BUILD/libdbssl.so"; do
  assert_not_contains "$(strings "$bin")" "DBSSL_TEST_NOW" "$(basename "$bin") has no test clock setting"
  assert_eq "" "$(nm "$bin" 2>/dev/null | awk '$2 ~ /^[TtWw]$/ && $3 == "dbssl_clock_test_now"')" \
    "$(basename "$bin") defines no clock hook"
done
# the check can fail: the test program has both
assert_contains "$(strings "$DBSSL_TESTCLOCK")" "DBSSL_TEST_NOW" "the test clock program has the setting"
assert_match "$(nm "$DBSSL_TESTCLOCK" | awk '$3 == "dbssl_clock_test_now" {print $2}')" "^[Tt]$" \
  "the test clock program defines the hook"
t_done
