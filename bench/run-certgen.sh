#!/usr/bin/env bash
# run-certgen.sh - builds and runs the certificate generation benchmark:
# in-process set vs the openssl command-line recipe, same run, same key type.
# Usage: bench/run-certgen.sh [RUNS]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${DBSSL_BUILD:-$src/build}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target bench_certgen >/dev/null
echo "openssl: $(openssl version)"
"$build/bench_certgen" "${1:-15}"
