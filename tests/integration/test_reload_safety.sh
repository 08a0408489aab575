#!/usr/bin/env bash
# test_reload_safety.sh - a reload never weakens TLS silently, against a real
# PostgreSQL 15 that requires client certificates (hostssl ... cert), with
# `dbssl serve` on verify-full + client certificate + DB_SSL_REQUIRED=true +
# TLSv1.3 and a sampler reading /health/database/ssl every 50 ms throughout:
#   (a) .env rewritten in one open, two writes 1.5 s apart: nothing is read
#       before the close, so nothing is refused and nothing weakens;
#   (b) .env rewritten in two complete writes 1.5 s apart (the first only
#       DATABASE_URL and DB_SSL_MODE=prefer; then a truncated first half and
#       the rest appended): the first is refused with what would weaken, the
#       second finds the settings in use unchanged and keeps the record;
#   (c) each of DB_SSL_REQUIRED=false and a lower DB_SSL_MIN_PROTOCOL_VERSION
#       on its own: refused, named, logged;
#   (d) a different valid set is adopted and clears the record;
#   (e) a reload whose settings cannot connect logs reconnect_failed with the
#       class and hint once, not once per check, and restored once;
#   (f) SIGHUP with nothing changed: unchanged, no reconnect.
# Every sample must show verify-full with a client certificate over TLSv1.3
# until (e).  Certificates are made with the openssl CLI.  Loopback only.
set -euo pipefail
. "${DBSSL_SRC:?source tree}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init

C=$T/certs
make_test_certs "$C" dbssl_test

pg_start_mtls "$C/server.crt" "$C/server.key" "$C/ca.crt" dbssl_test

SERVE_PID= SAMPLER_PID=
t_cleanup_add 'if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID"; wait "$SERVE_PID"; fi'
t_cleanup_add 'if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID"; fi'
HTTP_PORT=$(free_port 18900)
BASE="http://127.0.0.1:$HTTP_PORT"
ENV=$T/serve.env
LOG=$T/serve.log
URL="postgresql://dbssl_test@127.0.0.1:$PG_PORT/postgres"
ORIGINAL="DATABASE_URL=$URL
DB_SSL_MODE=verify-full
DB_SSL_REQUIRED=true
DB_SSL_CA_CERT=$C/ca.crt
DB_SSL_CLIENT_CERT=$C/client.crt
DB_SSL_CLIENT_KEY=$C/client.key
DB_SSL_MIN_PROTOCOL_VERSION=TLSv1.3
DB_SSL_EXPIRY_WARN_DAYS=7
DB_HEALTH_CHECK_INTERVAL=1
DB_CONNECT_TIMEOUT=3
"
NEUTRAL=${ORIGINAL//DB_SSL_EXPIRY_WARN_DAYS=7/DB_SSL_EXPIRY_WARN_DAYS=8}
printf '%s' "$ORIGINAL" >"$ENV"
chmod 0600 "$ENV"

env -i PATH="$PATH" "$DBSSL" serve --env-file "$ENV" --listen "127.0.0.1:$HTTP_PORT" 2>"$LOG" &
SERVE_PID=$!

# probe PYEXPR : the expression over j (the /health/database/ssl body) holds
probe() {
    python3 - "$BASE" "$1" <<'PY'
import json, sys, urllib.request
base, expr = sys.argv[1], sys.argv[2]
try:
    with urllib.request.urlopen(base + "/health/database/ssl", timeout=2) as r:
        body = r.read().decode()
except urllib.error.HTTPError as e:
    body = e.read().decode()
j = json.loads(body)
sys.exit(0 if eval(expr) else 1)
PY
}
# wait_until SECONDS PYEXPR
wait_until() {
    local end=$(($(date +%s) + $1))
    while [ "$(date +%s)" -le "$end" ]; do
        if probe "$2" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}
# count EVENT : log lines of that event so far
count() { grep -c "event=$1 " "$LOG" || true; }
# wait_count SECONDS EVENT N : until the log has at least N lines of EVENT
wait_count() {
    local end=$(($(date +%s) + $1))
    while [ "$(date +%s)" -le "$end" ]; do
        if [ "$(count "$2")" -ge "$3" ]; then return 0; fi
        sleep 0.05
    done
    return 1
}
# checks : health checks run so far (dbssl_checks_total, every result)
checks() { curl -s "$BASE/metrics" | awk '/^dbssl_checks_total\{/ {n += $2} END {print n + 0}'; }
# wait_checks SECONDS N : until at least N checks have run
wait_checks() {
    local end=$(($(date +%s) + $1))
    while [ "$(date +%s)" -le "$end" ]; do
        if [ "$(checks)" -ge "$2" ]; then return 0; fi
        sleep 0.1
    done
    return 1
}
# last_reload_error as "MESSAGE | DETAIL | HINT", or null
reload_error() {
    curl -s "$BASE/health/database/ssl" |
        python3 -c 'import json,sys; e=json.load(sys.stdin)["last_reload_error"]; print(" | ".join(e[k] or "" for k in ("message", "detail", "hint")) if e else "null")'
}
REFUSED='refused: the new settings weaken TLS'
DELIBERATELY='Restart dbssl serve to apply them deliberately.'
# sampler_start / sampler_check WHAT : every sample in between shows the strong settings in use
sampler_start() {
    rm -f "$T/samples" "$T/stop-sampler"
    python3 - "$BASE" "$T/stop-sampler" "$T/samples" <<'PY' &
import json, os, sys, time, urllib.request
base, stop, out = sys.argv[1], sys.argv[2], sys.argv[3]
with open(out, "w", buffering=1) as f:
    while not os.path.exists(stop):
        try:
            with urllib.request.urlopen(base + "/health/database/ssl", timeout=2) as r:
                j = json.loads(r.read().decode())
            f.write("%s %s %s %s\n" % (j["ssl_mode"], j["client_certificate"], j["ssl_version"], j["status"]))
        except Exception as e:
            f.write("error %s\n" % e)
        time.sleep(0.05)
PY
    SAMPLER_PID=$!
}
sampler_check() {
    touch "$T/stop-sampler"
    wait "$SAMPLER_PID" || true
    SAMPLER_PID=
    local n bad
    n=$(wc -l <"$T/samples")
    bad=$(grep -vc '^verify-full True TLSv1.3 healthy$' "$T/samples" || true)
    if [ "$n" -ge 20 ] && [ "$bad" -eq 0 ]; then
        t_pass "$1: all $n samples verify-full, client certificate, TLSv1.3, healthy"
    else
        t_fail "$1: $bad of $n samples differ: $(grep -v '^verify-full True TLSv1.3 healthy$' "$T/samples" | sort | uniq -c | head -5)"
    fi
}
# write_env TEXT : one complete write (open, write, close), as `cat > .env` does
write_env() { printf '%s' "$1" >"$ENV"; }
# replace_env TEXT : written beside, renamed into place (an editor, a config-management tool)
replace_env() { printf '%s' "$1" >"$ENV.tmp" && chmod 0600 "$ENV.tmp" && mv -f "$ENV.tmp" "$ENV"; }

if wait_until 15 'j["status"]=="healthy" and j["client_certificate"] is True and j["ssl_version"]=="TLSv1.3"'; then
    t_pass "serve is healthy: verify-full, client certificate, TLSv1.3"
else
    t_fail "serve did not become healthy"; cat "$LOG" >&2; t_done
fi

# ---- (a) one open, two writes 1.5 s apart: read only once closed
FIRST_HALF=$(printf '%s' "$ORIGINAL" | head -3)$'\n'
REST=$(printf '%s' "$ORIGINAL" | tail -n +4)$'\n'
failed0=$(count reload_failed) unchanged0=$(count reload_unchanged)
sampler_start
python3 - "$ENV" "$FIRST_HALF" "$REST" <<'PY'
import sys, time
path, first, rest = sys.argv[1:4]
with open(path, "w") as f:
    f.write(first)
    f.flush()
    time.sleep(1.5)
    f.write(rest)
PY
if wait_count 5 reload_unchanged $((unchanged0 + 1)); then
    t_pass "(a) one open, two writes: one reload after the close, settings unchanged"
else
    t_fail "(a) no reload after the close: $(tail -5 "$LOG")"
fi
assert_eq "$failed0" "$(count reload_failed)" "(a) reloads refused while the file was open"
assert_eq null "$(reload_error)" "(a) last_reload_error"
sampler_check "(a) one open, two writes"

# ---- (b1) two complete writes 1.5 s apart: DATABASE_URL + DB_SSL_MODE=prefer, then the original
WEAKENED="$REFUSED | "'DB_SSL_MODE "verify-full" -> "prefer"; DB_SSL_REQUIRED true -> false; client certificate dropped; DB_SSL_MIN_PROTOCOL_VERSION "TLSv1.3" -> "TLSv1.2"; server certificate no longer verified (CA certificate dropped)'" | $DELIBERATELY"
failed0=$(count reload_failed) unchanged0=$(count reload_unchanged)
sampler_start
write_env "DATABASE_URL=$URL
DB_SSL_MODE=prefer
"
sleep 1.5
write_env "$ORIGINAL"
wait_count 5 reload_unchanged $((unchanged0 + 1)) || t_fail "(b1) no reload after the second write"
sampler_check "(b1) two writes, prefer first"
assert_eq $((failed0 + 1)) "$(count reload_failed)" "(b1) refused reloads"
wait_until 3 'j["last_reload_error"] is not None' || true
assert_eq "$WEAKENED" "$(reload_error)" "(b1) last_reload_error after both writes"
assert_contains "$(grep 'event=reload_failed' "$LOG" | tail -1)" 'error="refused: the new settings weaken TLS" detail="DB_SSL_MODE \"verify-full\" -> \"prefer\"' "(b1) reload_failed log line"
assert_contains "$(grep 'event=reload_unchanged' "$LOG" | tail -1)" "generation=1" "(b1) still the first set: nothing swapped"

# ---- (b2) a truncated first half, then the rest appended 1.5 s later
TRUNCATED="$REFUSED | "'client certificate dropped; DB_SSL_MIN_PROTOCOL_VERSION "TLSv1.3" -> "TLSv1.2"; CA certificate dropped'" | $DELIBERATELY"
failed0=$(count reload_failed) unchanged0=$(count reload_unchanged)
sampler_start
write_env "$FIRST_HALF"
sleep 1.5
printf '%s' "$REST" >>"$ENV"
wait_count 5 reload_unchanged $((unchanged0 + 1)) || t_fail "(b2) no reload after the second write"
sampler_check "(b2) two writes, truncated first half"
assert_eq $((failed0 + 1)) "$(count reload_failed)" "(b2) refused reloads"
wait_until 3 '"client certificate dropped; DB_SSL_MIN" in ((j["last_reload_error"] or {}).get("detail") or "")' || true
assert_eq "$TRUNCATED" "$(reload_error)" "(b2) last_reload_error after both writes"

# ---- (c) each weakening on its own, renamed into place
sampler_start
for c in 'DB_SSL_REQUIRED=true|DB_SSL_REQUIRED=false|DB_SSL_REQUIRED true -> false' \
    'DB_SSL_MIN_PROTOCOL_VERSION=TLSv1.3|DB_SSL_MIN_PROTOCOL_VERSION=TLSv1.2|DB_SSL_MIN_PROTOCOL_VERSION "TLSv1.3" -> "TLSv1.2"' \
    "DB_SSL_CLIENT_KEY=$C/client.key|#|client certificate dropped"; do
    IFS='|' read -r from to why <<<"$c"
    text=${ORIGINAL//"$from"/"$to"}
    if [ "$to" = "#" ]; then text=$(grep -v '^DB_SSL_CLIENT_' <<<"$ORIGINAL")$'\n'; fi
    failed0=$(count reload_failed)
    replace_env "$text"
    if wait_count 5 reload_failed $((failed0 + 1)) && wait_until 3 "(j['last_reload_error'] or {}).get('detail') == '''$why'''" &&
        [ "$(reload_error)" = "$REFUSED | $why | $DELIBERATELY" ]; then
        t_pass "(c) refused: $why"
    else
        t_fail "(c) $why: last_reload_error $(reload_error)"
    fi
done
unchanged0=$(count reload_unchanged)
replace_env "$ORIGINAL"
wait_count 5 reload_unchanged $((unchanged0 + 1)) || t_fail "(c) restoring the original: no reload"
sampler_check "(c) each weakening"
assert_eq "$REFUSED | client certificate dropped | $DELIBERATELY" \
    "$(reload_error)" "(c) the latest refused downgrade stays after restoring"

# ---- (d) a different valid set is adopted: the record goes
reloaded0=$(count reloaded)
replace_env "$NEUTRAL"
if wait_count 5 reloaded $((reloaded0 + 1)) && wait_until 3 'j["last_reload_error"] is None'; then
    t_pass "(d) a neutral change is adopted and clears last_reload_error"
else
    t_fail "(d) $(reload_error)"
fi
assert_contains "$(grep 'event=reloaded' "$LOG" | tail -1)" "generation=2" "(d) the second set"

# ---- (e) the new settings cannot connect: logged once with class and hint, then restored once
DEAD_PORT=$(free_port 19400)
reconnect_failed0=$(count reconnect_failed) connect_failed0=$(count connect_failed) restored0=$(count restored)
replace_env "${NEUTRAL//127.0.0.1:$PG_PORT/127.0.0.1:$DEAD_PORT}"
if wait_count 10 reconnect_failed $((reconnect_failed0 + 1)); then
    t_pass "(e) reconnect after the reload failed: logged"
else
    t_fail "(e) no reconnect_failed: $(tail -5 "$LOG")"
fi
line=$(grep 'event=reconnect_failed' "$LOG" | tail -1)
assert_contains "$line" "level=error" "(e) level"
assert_contains "$line" "class=connection_refused" "(e) class"
assert_match "$line" 'hint="[A-Z][^"]+\."' "(e) hint"
assert_contains "$line" "generation=3" "(e) the reloaded set"
wait_until 10 'j["status"]=="unhealthy"' || t_fail "(e) not unhealthy while the database is unreachable"
# several more failed checks (DB_HEALTH_CHECK_INTERVAL=1)
wait_checks 10 $(($(checks) + 3)) || t_fail "(e) no more checks ran"
assert_eq $((reconnect_failed0 + 1)) "$(count reconnect_failed)" "(e) reconnect_failed lines after several failed checks"
assert_eq "$connect_failed0" "$(count connect_failed)" "(e) connect_failed lines"
replace_env "$NEUTRAL"
if wait_count 10 restored $((restored0 + 1)) && wait_until 10 'j["status"]=="healthy"'; then
    t_pass "(e) back on the reachable settings: restored"
else
    t_fail "(e) not restored: $(tail -5 "$LOG")"
fi
wait_checks 10 $(($(checks) + 2)) || t_fail "(e) no more checks ran after restored"
assert_eq $((restored0 + 1)) "$(count restored)" "(e) restored lines"

# ---- (f) SIGHUP with nothing changed: unchanged, no reconnect
unchanged0=$(count reload_unchanged) reconnecting0=$(count reconnecting)
kill -HUP "$SERVE_PID"
if wait_count 5 reload_unchanged $((unchanged0 + 1)); then t_pass "(f) SIGHUP: settings unchanged"; else t_fail "(f) SIGHUP: no reload"; fi
# a check after the reload: a reconnect would come with it
wait_checks 10 $(($(checks) + 1)) || t_fail "(f) no check after the reload"
assert_eq "$reconnecting0" "$(count reconnecting)" "(f) reconnects after an unchanged reload"

kill -TERM "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
SERVE_PID=
assert_eq 0 "$rc" "serve exit status"
t_done
