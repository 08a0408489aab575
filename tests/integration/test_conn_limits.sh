#!/usr/bin/env bash
# test_conn_limits.sh - a server with no free connection slot, as a busy
# PostgreSQL 15 says it: `dbssl status` reports class too_many_connections
# with the hint to raise max_connections or use a pooler, for the slots kept
# for superusers ("remaining connection slots are reserved ...") and for a
# full server ("sorry, too many clients already").  One slot for ordinary
# roles (max_connections = 2, superuser_reserved_connections = 1), taken by
# psql sessions this test holds open.
set -euo pipefail
. "${DBSSL_SRC:?source tree}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init

PG_PORT_BASE=56700 pg_setup
pg_configure "max_connections = 2
superuser_reserved_connections = 1" "host all all 127.0.0.1/32 trust"
pg_start
pg_sql "create role dbssl_test login" >/dev/null
printf 'DATABASE_URL=postgresql://dbssl_test@127.0.0.1:%s/postgres\nDB_SSL_MODE=disable\nDB_CONNECT_TIMEOUT=3\n' \
    "$PG_PORT" >"$T/limits.env"

# hold USER : a psql session of USER that stays until the test ends; returns
# once it holds its slot (it printed "held"), retrying when it lost the race
# for the slot to a rejected connection that was still going away
hold() {
    local tries=20 out=$T/hold-$1 n
    while [ "$tries" -gt 0 ]; do
        "$PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$PG_PORT" -U "$1" -d postgres \
            -c "select 'held'" -c 'select pg_sleep(600)' >"$out" 2>&1 &
        HOLD_PID=$!
        for ((n = 0; n < 50; n++)); do
            if grep -q '^held$' "$out"; then
                t_cleanup_add "kill $HOLD_PID"
                return 0
            fi
            kill -0 "$HOLD_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill "$HOLD_PID" 2>/dev/null || true
        wait "$HOLD_PID" 2>/dev/null || true
        tries=$((tries - 1))
        sleep 0.2
    done
    t_fail "could not hold a connection as $1: $(cat "$out")"
    return 1
}

# status_until WORDS : dbssl status --json until libpq's message has WORDS
# (the held session needs a moment to take its slot); prints the last JSON
status_until() {
    local out n=50
    while [ "$n" -gt 0 ]; do
        out=$(env -i PATH="$PATH" "$DBSSL" status --json --env-file "$T/limits.env" 2>/dev/null) || true
        if grep -qF "$1" <<<"$out"; then break; fi
        sleep 0.1
        n=$((n - 1))
    done
    printf '%s' "$out"
}

# check NAME JSON : class too_many_connections, unhealthy, the pooler hint
check() {
    if python3 -c '
import json, sys
j = json.loads(sys.argv[1])
e = j["error"]
assert j["status"] == "unhealthy", j["status"]
assert e["class"] == "too_many_connections", e
assert "max_connections" in e["hint"] and "PgBouncer" in e["hint"], e["hint"]
' "$2"; then t_pass "$1"; else t_fail "$1: $2"; fi
}

# the one ordinary slot taken: the rest is for superusers
hold dbssl_test
out=$(status_until "remaining connection slots are reserved")
check "reserved slots: too_many_connections" "$out"

# and the superuser's slot too: the server is full
hold postgres
out=$(status_until "sorry, too many clients already")
check "full server: too_many_connections" "$out"

# the human form names the class, libpq's words as the detail, and the hint
out=$(env -i PATH="$PATH" "$DBSSL" status --env-file "$T/limits.env" 2>&1) || true
assert_match "$out" '^error: +too_many_connections: could not connect to the server$' "human status"
assert_match "$out" '^  detail: .*too many clients already' "human detail"
assert_contains "$out" "hint: The server has no free connection slot: raise max_connections" "human hint"
t_done
