#!/usr/bin/env python3
"""Writes a large, varied, valid http-types JSONL file (strict profile) for benchmarks.

usage: gen-http-types.py OUT MEGABYTES
Deterministic (seeded). Exchanges look like a JSON API's traffic: several hosts, methods,
paths with ids and query strings, 6-14 headers, JSON bodies of 0-3 KB, timestamps rising.
"""
import json
import random
import sys
from datetime import datetime, timedelta, timezone

out, mb = sys.argv[1], float(sys.argv[2])
rng = random.Random(7)
HOSTS = ["api.example.test", "auth.example.test:8443", "cdn.example.test", "billing.internal:9000"]
RESOURCES = ["users", "orders", "items", "invoices", "sessions", "search", "carts", "reviews"]
WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho".split()
UA = ["curl/8.4.0", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Safari/537.36",
      "python-requests/2.31.0", "okhttp/4.12.0"]


def body(n):
    items = [{"id": rng.randrange(1, 10**6), "name": " ".join(rng.choices(WORDS, k=3)),
              "price": round(rng.random() * 1000, 2), "tags": rng.sample(WORDS, 3),
              "active": rng.random() < 0.5, "note": "caf\u00e9 \"quoted\" \\ path/x"}
             for _ in range(n)]
    return json.dumps({"data": items, "page": rng.randrange(1, 50)}, separators=(",", ":"))


def headers(kind, length):
    h = {"content-type": "application/json", "date": "Tue, 14 Nov 2023 22:13:20 GMT",
         "x-request-id": "%032x" % rng.getrandbits(128)}
    if kind == "req":
        h.update({"accept": "application/json", "user-agent": rng.choice(UA),
                  "accept-encoding": "gzip, deflate", "authorization": "Bearer " + "%064x" % rng.getrandbits(256)})
    else:
        h.update({"server": "nginx/1.25.3", "cache-control": rng.choice(["no-store", "max-age=60", "private"]),
                  "vary": ["Accept-Encoding", "Origin"]})
    h["content-length"] = str(length)
    for i in range(rng.randrange(0, 6)):
        h[f"x-extra-{i}"] = rng.choice(WORDS) * rng.randrange(1, 4)
    return h


t = datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
limit = int(mb * 1e6)
written = 0
with open(out, "w", encoding="utf-8") as f:
    while written < limit:
        method = rng.choice(["get", "get", "get", "post", "put", "delete", "patch"])
        res = rng.choice(RESOURCES)
        pathname = f"/v1/{res}/{rng.randrange(1, 10**5)}" if rng.random() < 0.6 else f"/v1/{res}"
        query = {}
        if rng.random() < 0.5:
            query["page"] = str(rng.randrange(1, 20))
        if rng.random() < 0.3:
            query["q"] = rng.choice(WORDS)
        if rng.random() < 0.1:
            query["tag"] = rng.sample(WORDS, 2)
        qs = "&".join(f"{k}={x}" for k, v in query.items() for x in (v if isinstance(v, list) else [v]))
        req_body = body(rng.randrange(1, 3)) if method in ("post", "put", "patch") else ""
        resp_body = body(rng.randrange(0, 8)) if method != "delete" else ""
        status = rng.choice([200, 200, 200, 201, 204, 304, 400, 404, 500]) if resp_body else 204
        t += timedelta(microseconds=rng.randrange(100, 50000))
        t2 = t + timedelta(microseconds=rng.randrange(500, 200000))
        ex = {"request": {"method": method, "protocol": "https", "host": rng.choice(HOSTS),
                          "path": pathname + ("?" + qs if qs else ""), "pathname": pathname, "query": query,
                          "headers": headers("req", len(req_body.encode())), "body": req_body,
                          "timestamp": t.isoformat()},
              "response": {"statusCode": status, "headers": headers("resp", len(resp_body.encode())),
                           "body": resp_body, "timestamp": t2.isoformat()},
              "meta": {"connection": rng.randrange(1, 5000)}}
        if status == 304:
            ex["response"]["body"] = ""
            ex["response"]["headers"]["content-length"] = "0"
        line = json.dumps(ex, separators=(",", ":"), ensure_ascii=False) + "\n"
        f.write(line)
        written += len(line.encode())
