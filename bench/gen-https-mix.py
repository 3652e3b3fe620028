#!/usr/bin/env python3
"""Request mix for bench/make_https_corpus.sh: one seeded, shuffled list of N transfers over the
files of ../shared/captures/corpus_tools/gen_www.py (2 KB..420 KB, gzip-able text and
incompressible binaries), plus 201/200/204/304/404 answers from nginx's /api/ and missing paths.
Writes, for one client variant:
  OUT.curl       curl -K config (blocks joined by `next`), every block carrying the variant's
                 own options (given as extra arguments, one config line each) so that all
                 transfers share one connection (h1 keep-alive, h2 streams)
  OUT.h2load.*   the same GETs split by header set, and the bodies sent, for h2load (h2c, no
                 per-request headers there): OUT.h2load.plain / .gz / .ims (URI lists) and
                 OUT.h2load.posts (one "BODYFILE COUNT" line per body)
Usage: gen-https-mix.py BASE_URL BODIES_DIR N SEED OUT [CURL_OPTION_LINE...]"""
import random, sys
base, bodies, n, seed, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
extra = sys.argv[6:]
# (weight, method, path, kind, body): kind = plain | gz (Accept-Encoding: gzip, curl decodes) | ims
MIX = [
    (16, "GET", "/index.html", "gz", None), (8, "GET", "/css/site.css", "gz", None),
    (5, "GET", "/js/app.js", "gz", None), (1, "GET", "/js/vendor.js", "gz", None),
    (8, "GET", "/data/items-1k.json", "plain", None), (5, "GET", "/data/items-16k.json", "gz", None),
    (3, "GET", "/data/items-64k.json", "plain", None), (1, "GET", "/data/big.json", "plain", None),
    (10, "GET", "/img/2k.bin", "plain", None), (6, "GET", "/img/16k.bin", "plain", None),
    (4, "GET", "/img/48k.bin", "plain", None), (2, "GET", "/img/128k.bin", "plain", None),
    (1, "GET", "/img/420k.bin", "plain", None),
    (5, "GET", "/api/items?page=3&sort=price&q=red%20widget&tag=a&tag=b", "gz", None),
    (3, "GET", "/css/site.css", "ims", None), (2, "GET", "/missing/page-x.html", "plain", None),
    (6, "POST", "/api/items", "plain", "small.json"), (3, "POST", "/api/items?validate=true", "plain", "med.json"),
    (1, "POST", "/api/items/bulk", "plain", "large.json"), (3, "PUT", "/api/items/12345", "plain", "med.json"),
    (2, "DELETE", "/api/items/12345", "plain", None),
]
rnd = random.Random(seed)
pool = [m for m in MIX for _ in range(m[0])]
reqs = [rnd.choice(pool) for _ in range(n)]

def block(method, path, kind, body):
    lines = [f'url = "{base}{path}"', 'output = "/dev/null"', 'write-out = "%{http_code} %{http_version}\\n"', 'header = "Expect:"']
    lines += extra
    if kind == "gz": lines.append("compressed")
    if kind == "ims": lines += ['header = "If-Modified-Since: Sun, 01 Jan 2034 00:00:00 GMT"', "compressed"]
    if method in ("PUT", "DELETE"): lines.append(f'request = "{method}"')
    if body:
        lines += ['header = "Content-Type: application/json"', f'data-binary = "@{bodies}/{body}"']
    return "\n".join(lines)

with open(out + ".curl", "w") as f:
    f.write("\nnext\n".join(block(*r[1:]) for r in reqs) + "\n")
lists = {"plain": [], "gz": [], "ims": []}
posts = {}
for _, method, path, kind, body in reqs:
    if body:  # h2load can only POST: PUT bodies go as POSTs, DELETEs are left out
        posts[body] = posts.get(body, 0) + 1
    elif method == "GET":
        lists[kind].append(base + path)
for kind, urls in lists.items():
    with open(f"{out}.h2load.{kind}", "w") as f:
        f.write("".join(u + "\n" for u in urls))
with open(out + ".h2load.posts", "w") as f:
    f.write("".join(f"{bodies}/{b} {c}\n" for b, c in sorted(posts.items())))
