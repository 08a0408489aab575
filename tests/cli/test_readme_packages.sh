#!/usr/bin/env bash
# test_readme_packages.sh - the README's package lists (what `make run`
# installs, what `make test` adds, what `make bench` adds) are
# scripts/install-deps.sh's, in order; prometheus is in none (it is
# unpacked, never installed).
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init

# the arrays as bash reads them from the script, without running it
script_list() {
  bash -c 'eval "$(sed -n "/^$1=(/,/^)/p" "$2")"; n="$1[*]"; echo "${!n}"' _ "$1" \
    "$DBSSL_SRC/scripts/install-deps.sh"
}
# the backquoted words of the README line that carries the marker
readme_list() {
  grep -F "<!-- packages:$1 -->" "$DBSSL_SRC/README.md" | sed 's/.*<!-- packages:[a-z]* -->//' |
    grep -o '`[^`]*`' | tr -d '`' | tr '\n' ' ' | sed 's/ $//'
}

run_list=$(script_list PACKAGES)
test_list=$(script_list TEST_PACKAGES)
bench_list=$(script_list BENCH_PACKAGES)
[ -n "$run_list" ] && [ -n "$test_list" ] && t_pass || t_fail "could not read the lists of install-deps.sh"
assert_eq "$run_list" "$(readme_list run)" "README's make run packages"
assert_eq "$test_list" "$(readme_list test)" "README's test-only packages"
assert_eq "$bench_list" "$(readme_list bench)" "README's benchmark-only packages"
for p in $run_list $test_list $bench_list; do
  case "$p" in prometheus*) t_fail "$p is installed: it enables prometheus.service" ;; esac
done
# a test-only or bench-only package in the run list would be installed by make run
for p in $test_list $bench_list; do
  case " $run_list " in *" $p "*) t_fail "$p is in both lists" ;; esac
done
t_pass "no package in both lists, no prometheus"
t_done
