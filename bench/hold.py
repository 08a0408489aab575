#!/usr/bin/env python3
"""hold.py - opens N keep-alive connections to an HTTP server on loopback,
asks GET PATH once on each (so that the server holds a connection that has
served a request, as a pool of clients would), then keeps them open until
its standard input closes.  Prints one line "held OK FAILED" once every
connection has its answer (or failed).

The connections come from two source addresses, 127.0.0.1 and 127.0.0.2,
half each: a server may cap the connections of one address (dbssl allows
half of its limit per address).  Python 3 standard library only.

Usage: hold.py PORT N [PATH]   (bench/run.sh)
"""
import resource
import selectors
import socket
import sys


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    path = sys.argv[3] if len(sys.argv) > 3 else "/health/database/ssl"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode()
    sel = selectors.DefaultSelector()
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.%d" % (1 + i % 2), 0))
            s.connect(("127.0.0.1", port))
            s.sendall(req)
        except OSError:
            s.close()  # refused or reset: counts as failed
            continue
        s.setblocking(False)
        socks.append(s)
        sel.register(s, selectors.EVENT_READ, b"")
    pending, ok = len(socks), 0
    while pending > 0:
        events = sel.select(timeout=30)
        if not events:
            break  # a server that stopped answering: the rest count as failed
        for key, _ in events:
            s = key.fileobj
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            buf = key.data + data
            end = buf.find(b"\r\n\r\n")
            complete = False
            if end >= 0:
                length = 0
                for line in buf[:end].split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                complete = len(buf) >= end + 4 + length
            if complete or not data:
                sel.unregister(s)
                pending -= 1
                ok += complete
            else:
                sel.modify(s, selectors.EVENT_READ, buf)
    failed = n - ok
    print("held %d %d" % (ok, failed), flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
