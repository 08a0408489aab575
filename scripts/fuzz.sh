#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS [TARGET...]] - runs the libFuzzer targets of
# tests/fuzz (default: each for 20 s: dotenv, http_route, url, pem) from
# their committed seeds (tests/fuzz/corpus/TARGET; the url target also from
# the URL forms of tests/data/url_forms/forms.tsv).  Builds them with clang in
# ./build-fuzz (ASan + UBSan, coverage of the whole library).  New inputs go
# to a temporary directory; a crash leaves its input as
# build-fuzz/crash-TARGET-* and fails the run.  Without clang's libFuzzer it
# says so and succeeds: the seeds are then only replayed, by CTest
# (make test-fast).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(dotenv http_route url pem)
BUILD=${BUILD_FUZZ:-build-fuzz}
JOBS=$(nproc 2>/dev/null || echo 2)

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe/p.c"
if ! command -v clang >/dev/null 2>&1 ||
    ! clang -fsanitize=fuzzer,address -o "$probe/p" "$probe/p.c" >/dev/null 2>&1; then
    echo "fuzz: clang with libFuzzer (clang, libclang-rt-14-dev) is not installed:" \
        "the seed corpora were replayed by CTest instead"
    exit 0
fi

CC=clang cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDBSSL_FUZZ=ON >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]/#/fuzz_}" >/dev/null

status=0
for t in "${TARGETS[@]}"; do
    work=$probe/$t
    seeds=$probe/$t-seeds
    mkdir -p "$work" "$seeds"
    if [ "$t" = url ]; then
        # the URL forms, {PW} and {PWPCT} as the target's marker bytes 1 and 2
        i=0
        while IFS=$'\t' read -r name _ url; do
            case "$name" in '#'* | '') continue ;; esac
            url=${url//\{PWPCT\}/$'\x02'}
            printf '%s' "${url//\{PW\}/$'\x01'}" >"$seeds/form-$i"
            i=$((i + 1))
        done <tests/data/url_forms/forms.tsv
    fi
    log=$BUILD/fuzz-$t.log
    if "$BUILD/tests/fuzz_$t" -max_total_time="$SECS" -print_final_stats=1 -timeout=10 \
        -rss_limit_mb=4096 -artifact_prefix="$BUILD/crash-$t-" \
        "$work" "tests/fuzz/corpus/$t" "$seeds" >"$log" 2>&1; then
        execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
        echo "fuzz: $t: ${SECS} s, ${execs:-?} inputs, $cov, no crash"
    else
        echo "fuzz: $t: FAILED, see $log:" >&2
        grep -E 'ERROR|fuzz_|SUMMARY|Test unit written' "$log" | head -20 >&2
        status=1
    fi
done
exit $status
