#!/usr/bin/env python3
"""A small site for the HAR fixtures (testdata/make_har.sh): one page whose script makes the
requests a browser export should hold. A GET with a query string and cookies, a form POST, a
JSON POST, a gzip response, a PNG image, a redirect and a 404, all HTTP/1.1 on 127.0.0.1."""
import gzip, json, struct, sys, zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>wirecap HAR site</title></head>
<body><img id="logo" src="/logo.png" alt="logo"><script>
async function run() {
  await new Promise(r => document.getElementById('logo').complete ? r() : document.getElementById('logo').onload = r);
  await (await fetch('/api/items?q=red+shoes&page=2&empty=')).text();
  await (await fetch('/api/items', {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({name: 'lamp', tags: ['desk', 'led'], price: 19.5})})).text();
  await (await fetch('/signup', {method: 'POST',
    body: new URLSearchParams({user: 'ada lovelace', lang: 'en', note: 'a&b=c'})})).text();
  await (await fetch('/api/report.json')).text();
  await (await fetch('/old-path')).text();
  await (await fetch('/missing')).text();
  document.title = 'done';
}
run();
</script></body></html>"""


def png(width=8, height=8):
    """A real PNG: a small gradient, not valid UTF-8 (the signature starts with 0x89)."""
    rows = b"".join(b"\x00" + b"".join(bytes((x * 32, y * 32, 128)) for x in range(width)) for y in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def log_message(self, *a): pass
    def version_string(self): return "har-site/1.0"
    def date_time_string(self, timestamp=None): return "Mon, 23 Nov 2026 09:00:00 GMT"

    def _send(self, code, body=b"", ctype="application/json", extra=(), gz=False):
        if isinstance(body, str): body = body.encode()
        if gz: body = gzip.compress(body, compresslevel=6, mtime=0)
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in extra: self.send_header(k, v)
        if gz: self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        u = urlsplit(self.path)
        if u.path == "/":
            return self._send(200, PAGE, "text/html; charset=utf-8", extra=(
                ("Set-Cookie", "session=s3cr3t-42; Path=/; HttpOnly; SameSite=Lax"),
                ("Set-Cookie", "theme=dark; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT"),
                ("Cache-Control", "no-store")))
        if u.path == "/logo.png":
            return self._send(200, png(), "image/png", extra=(("Cache-Control", "no-store"),))
        if u.path == "/api/items":
            q = parse_qs(u.query, keep_blank_values=True)
            doc = {"query": q, "cookie": self.headers.get("Cookie", ""), "items": [{"id": i, "name": f"red shoe {i}"} for i in range(3)]}
            return self._send(200, json.dumps(doc), extra=(("Cache-Control", "no-store"),))
        if u.path == "/api/report.json":
            doc = {"rows": [{"n": i, "label": "compressible row"} for i in range(40)]}
            return self._send(200, json.dumps(doc), gz="gzip" in self.headers.get("Accept-Encoding", ""),
                              extra=(("Vary", "Accept-Encoding"), ("Cache-Control", "no-store")))
        if u.path == "/old-path":
            return self._send(302, "", "text/plain", extra=(("Location", "/new-path?from=old"), ("Cache-Control", "no-store")))
        if u.path == "/new-path":
            return self._send(200, "moved here\n", "text/plain; charset=utf-8", extra=(("Cache-Control", "no-store"),))
        return self._send(404, json.dumps({"error": "not found", "path": u.path}), extra=(("Cache-Control", "no-store"),))

    def do_POST(self):
        body = self._body()
        ctype = self.headers.get("Content-Type", "")
        if self.path == "/signup":
            form = parse_qs(body.decode(), keep_blank_values=True)
            return self._send(201, json.dumps({"created": form.get("user", [""])[0]}),
                              extra=(("Set-Cookie", "signed_up=1; Path=/"), ("Cache-Control", "no-store")))
        doc = {"received": json.loads(body) if "json" in ctype else body.decode("utf-8", "replace")}
        return self._send(201, json.dumps(doc), extra=(("Location", "/api/items/7"), ("Cache-Control", "no-store")))


if __name__ == "__main__":
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
    srv.daemon_threads = True
    srv.serve_forever()
