#!/usr/bin/env python3
"""http_starve.py - tries to starve a running `dbssl serve` of connections,
the way issue 8 found it could be (Python 3 standard library only).

  1. opens IDLE keep-alive connections: each asks GET /health once, reads
     the answer and then stays open, silent;
  2. opens SLOW slowloris connections: each sends a request line and then
     one more header byte about every second, never finishing its headers;
  3. with both held, makes PROBES sequential probes of PATH, each on a fresh
     connection, and times each one (connect to last byte);
  4. waits for the server to close the slowloris connections and records
     when it did, relative to each one's connect;
  5. re-uses every idle connection that is still open for one more request;
  6. with --hold, keeps the idle connections open that many seconds more
     (after printing), so that the caller can look at the server meanwhile.

Prints one JSON object with what it saw; the caller (test_http_starve.sh)
asserts on it.  Only 127.0.0.1.
"""
import argparse
import json
import resource
import selectors
import socket
import statistics
import threading
import time

HOST = "127.0.0.1"


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def request(path, close=False):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n"
            % (path, HOST, "Connection: close\r\n" if close else "")).encode()


def parse_response(buf):
    """(status, total length) once buf holds a whole answer, else None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    length = 0
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    total = end + 4 + length
    return (status, total) if len(buf) >= total else None


def exchange_many(socks, payload, timeout):
    """Sends payload on each socket and reads one answer from each, all at
    once.  Returns {sock: status or None (closed, error or timeout)}."""
    sel = selectors.DefaultSelector()
    result = {}
    bufs = {}
    for s in socks:
        try:
            s.sendall(payload)
            sel.register(s, selectors.EVENT_READ)
            bufs[s] = b""
        except OSError:
            result[s] = None
    deadline = time.monotonic() + timeout
    while bufs and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                result[s] = None
            else:
                bufs[s] += data
                got = parse_response(bufs[s])
                if got is None:
                    continue
                result[s] = got[0]
            sel.unregister(s)
            del bufs[s]
    for s in bufs:
        result[s] = None
        sel.unregister(s)
    sel.close()
    return result


def open_idle(port, n, batch, timeout):
    """n keep-alive connections that each got one answer, opened batch by batch."""
    held, failed = [], 0
    for start in range(0, n, batch):
        socks = []
        for _ in range(min(batch, n - start)):
            s = socket.socket()
            s.settimeout(timeout)
            try:
                s.connect((HOST, port))
                s.setblocking(False)
                socks.append(s)
            except OSError:
                failed += 1
                s.close()
        for s, status in exchange_many(socks, request("/health"), timeout).items():
            if status == 200:
                held.append(s)
            else:
                failed += 1
                s.close()
    return held, failed


class Slowloris:
    """Slow connections: a request line, then a header byte about every second."""

    def __init__(self, port, n, interval):
        self.interval = interval
        self.opened = {}  # sock -> connect time
        self.closed = {}  # sock -> seconds from connect to the server's close
        self.refused = 0
        for _ in range(n):
            s = socket.socket()
            try:
                s.connect((HOST, port))
                s.sendall(b"GET /health HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\nX-Slow: ")
                s.setblocking(False)
                self.opened[s] = time.monotonic()
            except OSError:
                self.refused += 1
                s.close()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def mark_closed(self, s, sel):
        if s not in self.closed:
            self.closed[s] = time.monotonic() - self.opened[s]
            sel.unregister(s)

    def run(self):
        sel = selectors.DefaultSelector()
        for s in self.opened:
            sel.register(s, selectors.EVENT_READ)
        next_tick = time.monotonic() + self.interval
        while not self.stop.is_set() and len(self.closed) < len(self.opened):
            for key, _ in sel.select(timeout=max(0.0, next_tick - time.monotonic())):
                try:
                    data = key.fileobj.recv(4096)
                except OSError:
                    data = b""
                if not data:  # an answer would be data: only a close ends it
                    self.mark_closed(key.fileobj, sel)
            if time.monotonic() >= next_tick:
                next_tick += self.interval
                for s in self.opened:
                    if s in self.closed:
                        continue
                    try:
                        s.send(b"a")
                    except OSError:
                        self.mark_closed(s, sel)
        sel.close()

    def wait_closed(self, timeout):
        self.thread.join(timeout)
        self.stop.set()
        self.thread.join()


def probe(port, path, timeout):
    """One request on a fresh connection: (status or None, seconds)."""
    t0 = time.monotonic()
    status = None
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as s:
            s.sendall(request(path, close=True))
            buf = b""
            while True:
                got = parse_response(buf)
                if got is not None:
                    status = got[0]
                    break
                data = s.recv(65536)
                if not data:
                    break
                buf += data
    except OSError:
        pass
    return status, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--idle", type=int, default=4096)
    ap.add_argument("--slow", type=int, default=500)
    ap.add_argument("--probes", type=int, default=1000)
    ap.add_argument("--path", default="/health/database/ssl")
    ap.add_argument("--probe-timeout", type=float, default=5.0)
    ap.add_argument("--slow-wait", type=float, default=15.0,
                    help="how long to wait for the server to close the slowloris connections")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--hold", type=float, default=0.0)
    args = ap.parse_args()

    out = {"nofile": raise_nofile()}
    t0 = time.monotonic()
    idle, out["idle_failed"] = open_idle(args.port, args.idle, args.batch, args.probe_timeout)
    out["idle_held"] = len(idle)
    slow = Slowloris(args.port, args.slow, 1.0)
    out["slow_opened"] = len(slow.opened)
    out["slow_refused"] = slow.refused
    out["setup_s"] = round(time.monotonic() - t0, 3)

    out["slow_open_at_probe_start"] = len(slow.opened) - len(slow.closed)
    codes, times, failures = {}, [], 0
    for _ in range(args.probes):
        status, took = probe(args.port, args.path, args.probe_timeout)
        times.append(took)
        codes[str(status)] = codes.get(str(status), 0) + 1
        if status is None:
            failures += 1
    out["probes"] = {
        "count": len(times), "codes": codes, "failures": failures,
        "median_ms": round(statistics.median(times) * 1000, 3) if times else None,
        "p99_ms": round(sorted(times)[int(len(times) * 0.99) - 1] * 1000, 3) if times else None,
        "max_ms": round(max(times) * 1000, 3) if times else None,
        "over_1s": sum(1 for t in times if t >= 1.0),
    }
    out["slow_open_during_probes"] = len(slow.opened) - len(slow.closed)

    slow.wait_closed(args.slow_wait)
    after = sorted(slow.closed.values())
    out["slow_closed"] = len(after)
    out["slow_closed_after_s"] = {
        "min": round(after[0], 3) if after else None,
        "max": round(after[-1], 3) if after else None,
    }

    reused = exchange_many(idle, request("/health/database/ssl"), args.probe_timeout)
    statuses = {}
    for status in reused.values():
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    out["reuse"] = statuses
    print(json.dumps(out), flush=True)
    time.sleep(args.hold)
    for s in idle:
        s.close()


if __name__ == "__main__":
    main()
