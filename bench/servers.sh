# servers.sh - sourced by the benchmarks that start real servers outside
# `make bench` (run-probe.sh): builds the dbssl program (RelWithDebInfo,
# $DBSSL_BUILD or build/) and loads the tests' helpers (tests/lib.sh, tests/integration/pg.sh),
# so a benchmark sets its servers up exactly as the tests do.  Sets src,
# build, DBSSL and DBSSL_SRC.
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${DBSSL_BUILD:-$src/build}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target dbssl_cli >/dev/null
export DBSSL=$build/dbssl DBSSL_SRC=$src
set +u
. "$src/tests/lib.sh"
. "$src/tests/integration/pg.sh"
