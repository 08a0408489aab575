#!/usr/bin/env bash
# test_http_burst.sh - 1024 kept-alive connections, each asking again as
# soon as it has its answer (as wrk does), against `dbssl serve` on one CPU
# (taskset: one event-loop thread): every connection must keep being
# answered.  libmicrohttpd's own event loop (0.9.75) took ready connections
# in batches of 128 and, after a full batch, waited again with its whole
# timeout while those sat in its ready list: the service then answered
# nothing for up to 80 s (src/service/http_loop.h), 0 to 6 answers per connection
# in 3 s where this loop gives hundreds.  No database is needed: GET
# /health is static.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
for v in $(env | sed -n 's/^\(DATABASE_URL\|DB_[A-Z_]*\|HTTP_LISTEN\|APP_ENV\|LOG_FORMAT\|PG[A-Z]*\)=.*/\1/p'); do unset "$v"; done
cd "$T" || exit 1
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
N=1024
if [ "$(ulimit -n)" -lt $((2 * N + 300)) ]; then
  t_fail "an open-files limit of $(ulimit -n) cannot hold $N connections on both ends"
  t_done
fi
command -v taskset >/dev/null || { t_fail "taskset is missing (util-linux)"; t_done; }

HTTP=$(free_port 18890) || exit 1
printf '%s\n' "DATABASE_URL=postgresql://app@127.0.0.1:1/app" DB_SSL_MODE=disable \
  DB_SSL_REQUIRED=false "HTTP_LISTEN=127.0.0.1:$HTTP" >.env
taskset -c 0 "$DBSSL" serve >serve.log 2>&1 &
SERVE_PID=$!
t_cleanup_add "kill -9 $SERVE_PID"
wait_http "http://127.0.0.1:$HTTP/health" || t_fail "serve did not start: $(cat serve.log)"
assert_contains "$(cat serve.log)" "threads=1" "one event-loop thread on one CPU"

# prints the fewest answers any connection got in SECONDS, then the total
out=$(python3 - "$HTTP" "$N" 3 <<'PY'
import select, socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
req = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
ep, conns = select.epoll(), {}
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    ep.register(s.fileno(), select.EPOLLOUT)
    conns[s.fileno()] = {"s": s, "buf": b"", "answers": 0}
t0 = time.time()
while time.time() - t0 < secs:
    for fd, ev in ep.poll(0.5):
        c = conns[fd]
        if ev & select.EPOLLOUT:  # connected: the first request
            c["s"].send(req)
            ep.modify(fd, select.EPOLLIN)
            continue
        data = c["s"].recv(65536)
        if not data:
            ep.unregister(fd)
            continue
        c["buf"] += data
        if c["buf"].endswith(b"}\n"):  # the whole {"status": "alive"} answer
            c["buf"] = b""
            c["answers"] += 1
            c["s"].send(req)
counts = [c["answers"] for c in conns.values()]
print(min(counts), sum(counts))
PY
)
read -r fewest total <<<"$out"
echo "fewest answers on one connection: $fewest, all together: $total, in 3 s"
if [ "${fewest:-0}" -ge 10 ]; then
  t_pass "every one of $N busy connections was answered at least 10 times in 3 s"
else
  t_fail "a connection got only ${fewest:-no} answers in 3 s: the event loop stalled"
fi
t_done
