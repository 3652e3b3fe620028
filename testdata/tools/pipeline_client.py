#!/usr/bin/env python3
"""Sends several HTTP/1.1 requests in one write (pipelining) on one connection, then reads
until the server has answered them all or closed. Usage: pipeline_client.py HOST PORT"""
import socket, sys, time

host, port = sys.argv[1], int(sys.argv[2])
reqs = [
    b"GET /py/items?page=1&n=2 HTTP/1.1\r\nHost: %s:%d\r\n\r\n",
    b"HEAD /py/text HTTP/1.1\r\nHost: %s:%d\r\n\r\n",
    b"POST /py/items HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"pipe\":true}",
    b"GET /py/stream?n=3 HTTP/1.1\r\nHost: %s:%d\r\n\r\n",
    b"GET /py/close HTTP/1.1\r\nHost: %s:%d\r\n\r\n",
]
s = socket.create_connection((host, port), timeout=5)
s.sendall(b"".join(r % (host.encode(), port) if b"%s" in r else r for r in reqs))
s.settimeout(5)
got = b""
deadline = time.time() + 5
while time.time() < deadline:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        break
    if not chunk:
        break
    got += chunk
s.close()
print(got.count(b"HTTP/1.1 "), "responses")
