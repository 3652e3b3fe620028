#!/usr/bin/env python3
"""TLS client for make_tls_captures.sh, on Python's own ssl + http.client (HTTP/1.1). The key log comes
from ssl.create_default_context(), which honours SSLKEYLOGFILE.
  py_tls_client.py keepalive HOST PORT CAFILE   two GETs on one connection (TLS 1.3), the first gzip
  py_tls_client.py resume13  HOST PORT CAFILE   GET on a full TLS 1.3 handshake, then a second connection
                                                that resumes its session (PSK from a NewSessionTicket), GET + POST
  py_tls_client.py resume12  HOST PORT CAFILE   the same with TLS 1.2 (session ticket), ECDHE-RSA-AES128-GCM-SHA256
Prints one line per response and, for the resume modes, whether the second connection was resumed."""
import http.client, ssl, sys

mode, host, port, cafile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def context(tls12=False):
    ctx = ssl.create_default_context(cafile=cafile)      # reads SSLKEYLOGFILE
    ctx.set_alpn_protocols(["http/1.1"])
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx

class Conn(http.client.HTTPSConnection):
    """HTTPSConnection that can offer a saved TLS session (http.client has no parameter for it)."""
    def __init__(self, *a, session=None, **kw):
        super().__init__(*a, **kw); self._session = session
    def connect(self):
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host, session=self._session)

def get(c, path, **kw):
    c.request("GET", path, headers={"User-Agent": "py-tls-client/1.0", **kw})
    r = c.getresponse(); body = r.read()
    print(r.status, path, len(body))

if mode == "keepalive":
    c = Conn(host, port, context=context())
    get(c, "/data/items.json", **{"Accept-Encoding": "gzip"})   # gzip on the wire; http.client does not decode
    get(c, "/hello.txt")
    c.close()
elif mode in ("resume13", "resume12"):
    ctx = context(tls12=(mode == "resume12"))
    c1 = Conn(host, port, context=ctx)
    get(c1, "/hello.txt")
    session = c1.sock.session                             # TLS 1.3: the ticket arrived with the response
    print("first:", c1.sock.version(), c1.sock.cipher()[0], "ticket" if session.has_ticket else "no ticket")
    c1.close()
    c2 = Conn(host, port, context=ctx, session=session)
    get(c2, "/index.html")
    c2.request("POST", "/upload", body=b'{"resumed": true}\n', headers={"Content-Type": "application/json"})
    r = c2.getresponse(); print(r.status, "/upload", len(r.read()))
    print("second:", c2.sock.version(), c2.sock.cipher()[0], "resumed" if c2.sock.session_reused else "NOT resumed")
    c2.close()
else:
    sys.exit(f"unknown mode {mode}")
