#!/usr/bin/env python3
"""Upstream for nginx's /upload in make_tls_captures.sh: HTTP/1.1 keep-alive, answers any request with a
small JSON summary of what it received (method, path, body length and sha256). Usage: echo_server.py PORT"""
import hashlib, json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def version_string(self): return "echo/1.0"
    def _answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        doc = json.dumps({"method": self.command, "path": self.path, "length": len(body),
                          "sha256": hashlib.sha256(body).hexdigest(),
                          "contentType": self.headers.get("Content-Type")}).encode() + b"\n"
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(doc)))
        self.end_headers()
        self.wfile.write(doc)
    do_POST = do_PUT = do_GET = _answer

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
