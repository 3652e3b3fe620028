#!/usr/bin/env python3
"""Makes testdata/http-types/py-recorder.jsonl: real HTTP traffic on loopback, recorded the way
HMT's recorder does it and written by py-http-types 0.0.18's own HttpExchangeWriter.

A Python http.server answers; http.client sends real requests; each exchange is built from the
bytes on the wire (query as parse_qs lists, repeated headers as lists, UTC timestamps) and
serialised with HttpExchangeWriter.write, so the file carries path, pathname and query
together, as py-http-types writes them.

    python3 -m venv .venv && .venv/bin/pip install http-types==0.0.18
    .venv/bin/python testdata/http-types/make_py_recording.py > testdata/http-types/py-recorder.jsonl
"""
import http.client
import json
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from http_types import HttpExchangeBuilder, HttpExchangeWriter

PORT = 18731


class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, status, body, ctype="application/json", extra=()):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/pets":
            q = parse_qs(url.query)
            pets = [{"id": 1, "name": "Rex"}, {"id": 2, "name": "Tom"}]
            limit = int(q.get("limit", ["10"])[0])
            self._send(200, json.dumps(pets[:limit]), extra=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
        elif url.path == "/text":
            self._send(200, "h\u00e9llo w\u00f6rld\n", "text/plain; charset=utf-8")
        else:
            self._send(404, json.dumps({"error": "not found", "path": url.path}))

    do_HEAD = do_GET

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8")
        self._send(201, json.dumps({"created": json.loads(body)}))

    def do_DELETE(self):
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def headers_dict(items):
    out = {}
    for k, v in items:
        out.setdefault(k, []).append(v)
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


def now():
    return datetime.now(timezone.utc).isoformat()


def exchange(conn, method, path, body=None, headers=()):
    sent = now()
    hdrs = dict(headers)
    conn.request(method, path, body=body, headers=hdrs)
    resp = conn.getresponse()
    data = resp.read().decode("utf-8")
    url = urlparse(path)
    req_headers = {"Host": f"127.0.0.1:{PORT}", "Accept-Encoding": "identity", **hdrs}
    if body is not None:
        req_headers["Content-Length"] = str(len(body.encode("utf-8")))
    return HttpExchangeBuilder.from_dict({
        "request": {
            "method": method.lower(), "protocol": "http", "host": f"127.0.0.1:{PORT}",
            "path": path, "pathname": url.path,
            "query": {k: v for k, v in parse_qs(url.query).items()},
            "headers": {k: [v] for k, v in req_headers.items()},
            "body": body or "", "timestamp": sent,
        },
        "response": {
            "statusCode": resp.status, "headers": headers_dict(resp.getheaders()),
            "body": data, "timestamp": now(),
        },
    })


def main():
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conn = http.client.HTTPConnection("127.0.0.1", PORT)
    exchanges = [
        exchange(conn, "GET", "/pets?limit=1&tag=a&tag=b"),
        exchange(conn, "GET", "/pets"),
        exchange(conn, "GET", "/text"),
        exchange(conn, "POST", "/pets", body='{"name": "Kit"}', headers=[("Content-Type", "application/json")]),
        exchange(conn, "HEAD", "/pets"),
        exchange(conn, "DELETE", "/pets/2"),
        exchange(conn, "GET", "/missing?q=x+y"),
    ]
    server.shutdown()
    writer = HttpExchangeWriter(sys.stdout)
    for ex in exchanges:
        writer.write(ex)


if __name__ == "__main__":
    main()
