#!/usr/bin/env python3
"""ASGI app for the h2c upgrade capture (make_tls_captures.sh): nginx cannot take `Upgrade: h2c`, Hypercorn
can. Serves the files under $WWW (GET) and answers POST with the same JSON summary as echo_server.py.
Run: WWW=DIR hypercorn --bind 127.0.0.1:PORT h2c_app:app  (from this folder)."""
import hashlib, json, mimetypes, os

WWW = os.environ.get("WWW", "www")

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        m = await receive()
        body += m.get("body", b"")
        if not m.get("more_body"):
            break
    path = scope["path"]
    if scope["method"] == "POST":
        status, ctype = 201, "application/json"
        data = json.dumps({"method": "POST", "path": path, "length": len(body),
                           "sha256": hashlib.sha256(body).hexdigest()}).encode() + b"\n"
    else:
        f = os.path.normpath(os.path.join(WWW, path.lstrip("/")))
        if f.startswith(os.path.abspath(WWW)) and os.path.isfile(f):
            status, ctype = 200, mimetypes.guess_type(f)[0] or "application/octet-stream"
            with open(f, "rb") as fh:
                data = fh.read()
        else:
            status, ctype, data = 404, "text/plain", b"not found\n"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", ctype.encode()), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
