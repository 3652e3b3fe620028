#!/usr/bin/env python3
"""Deterministic content for the TLS / HTTP/2 test captures (make_tls_captures.sh): seeded, so a rerun
serves byte-identical files. Usage: gen_tls_www.py DIR  ->  DIR/www/... (served) and DIR/bodies/... (uploaded)."""
import json, os, random, sys
root = sys.argv[1]
rnd = random.Random(20261124)
WORDS = ("alpha beta gamma delta order customer invoice shipping price quantity total status pending "
         "complete widget gadget sprocket label description category warehouse region north south").split()
def words(n): return " ".join(rnd.choice(WORDS) for _ in range(n))
def w(path, data):
    p = os.path.join(root, path); os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f: f.write(data if isinstance(data, bytes) else data.encode())
def items(n):
    return json.dumps({"items": [{"id": i, "sku": f"SKU-{rnd.randrange(10**6):06d}", "name": words(3),
        "price": round(rnd.uniform(1, 500), 2), "tags": [rnd.choice(WORDS) for _ in range(2)]} for i in range(n)],
        "total": n}, indent=1) + "\n"
# text (nginx gzips these: text/html, text/css, application/json over gzip_min_length)
w("www/index.html", "<!doctype html><html><head><title>tls shop</title><link rel=stylesheet href=/style.css></head><body>\n"
  + "".join(f"<p class=c{i}>{words(12)}</p>\n" for i in range(20)) + "</body></html>\n")
w("www/style.css", "".join(f".c{i} {{ color: #{rnd.randrange(16**6):06x}; margin: {rnd.randrange(20)}px; }}\n" for i in range(60)))
w("www/data/items.json", items(40))            # ~6 KB, gzip-able
w("www/hello.txt", "hello over tls\n")         # tiny, under gzip_min_length: sent as is
w("www/large.bin", rnd.randbytes(50_000))      # incompressible "large" download
# request bodies
w("bodies/upload.json", items(20))             # ~3 KB
w("bodies/small.json", json.dumps({"name": "widget", "qty": 3, "tags": ["a", "b"]}) + "\n")
# fixed mtimes, so Last-Modified is the same on every run
for d, _, fs in os.walk(root):
    for f in fs: os.utime(os.path.join(d, f), (1790000000, 1790000000))
