#!/usr/bin/env bash
# test_http_fds.sh - `dbssl serve` out of file descriptors (its open-files
# limit lowered under it with prlimit, as another part of the process or an
# operator's limit could do): connections keep arriving, accept() fails with
# EMFILE.  The listening socket is level-triggered, so an event loop that
# just tried again would spin at 100 % of a CPU; serve stops accepting for
# 100 ms at a time instead, and takes the waiting connections up once
# descriptors are free again.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|HTTP_LISTEN\|APP_ENV\|LOG_FORMAT\|PG[A-Z]*\)=.*/\1/p'); do unset "$v"; done
cd "$T" || exit 1
command -v prlimit >/dev/null || { t_fail "prlimit is missing (util-linux)"; t_done; }

HTTP=$(free_port 18920) || exit 1
printf '%s\n' "DATABASE_URL=postgresql://app@127.0.0.1:1/app" DB_SSL_MODE=disable \
  DB_SSL_REQUIRED=false "HTTP_LISTEN=127.0.0.1:$HTTP" >.env
"$DBSSL" serve >serve.log 2>&1 &
SERVE_PID=$!
t_cleanup_add "kill -9 $SERVE_PID"
wait_http "http://127.0.0.1:$HTTP/health" || t_fail "serve did not start: $(cat serve.log)"
hard=$(prlimit --pid "$SERVE_PID" --nofile --noheadings --output HARD --raw)
used=$(ls /proc/"$SERVE_PID"/fd | wc -l)
prlimit --pid "$SERVE_PID" --nofile=$((used + 5)):"$hard"

# 20 clients hold a kept-alive connection each, which takes more
# descriptors than serve has left; 5 more connect (the kernel completes them
# in the backlog) and wait for their answer
python3 - "$HTTP" >clients.out 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
req = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
for s in held:
    s.sendall(req)
waiting = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
for s in waiting:
    s.sendall(req)
answered = 0
for s in held + waiting:
    s.settimeout(15)
    try:
        answered += s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        pass
print("answered", answered)
PY
CLIENTS=$!
sleep 1
ticks() { awk '{ print $14 + $15 }' /proc/"$SERVE_PID"/stat; }
t0=$(ticks)
sleep 2
t1=$(ticks)
hz=$(getconf CLK_TCK)
# a spinning loop takes all of a CPU: 2 s of it
if [ $((t1 - t0)) -lt $((hz / 2)) ]; then
  t_pass "out of descriptors, serve used $((t1 - t0)) of $((2 * hz)) clock ticks in 2 s"
else
  t_fail "out of descriptors, serve spun: $((t1 - t0)) of $((2 * hz)) clock ticks in 2 s"
fi
prlimit --pid "$SERVE_PID" --nofile="$hard":"$hard"
wait "$CLIENTS"
assert_eq "answered 25" "$(cat clients.out)" "every waiting client answered once descriptors are free"
t_done
