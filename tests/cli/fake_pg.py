#!/usr/bin/env python3
"""fake_pg.py - a loopback server that answers PostgreSQL's SSLRequest the
wrong way, for tests/cli/test_scan_cli.sh.

Usage: fake_pg.py PORT MODE
  blackhole  accept, read, never answer
  http       answer like a web server
  refuse     answer 'N' (ssl = off)
  error      answer with an ErrorResponse
  inject     answer 'S' followed at once by bytes that are not TLS (CVE-2021-23222)
  notls      answer 'S', then close at the ClientHello
Prints "ready" once listening; serves until killed.
"""
import socket
import sys
import threading
import time

port, mode = int(sys.argv[1]), sys.argv[2]
held = []


def serve(c):
    try:
        c.recv(8)
        if mode == "blackhole":
            held.append(c)
            return
        if mode == "http":
            c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        elif mode == "refuse":
            c.sendall(b"N")
        elif mode == "error":
            fields = b"SFATAL\0C53300\0Msorry, too many clients already\0\0"
            c.sendall(b"E" + (len(fields) + 4).to_bytes(4, "big") + fields)
        elif mode == "inject":
            c.sendall(b"S" + b"\x17\x03\x03\x00\x05hello")
            time.sleep(0.5)
        elif mode == "notls":
            c.sendall(b"S")
            c.recv(4096)
        c.close()
    except OSError:
        pass


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
print("ready", flush=True)
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
