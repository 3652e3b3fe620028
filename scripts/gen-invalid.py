#!/usr/bin/env python3
"""Writes testdata/invalid/: small documents, each with exactly one problem.

Run from the repository root. The expected location and rule of each file are in
tests/invalid.rs, written by hand; this script only builds the inputs from a valid base.
"""
import copy
import json
import os

OUT = "testdata/invalid"


def write(name, text):
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


# ---- http-types: line 1 valid, line 2 the case, line 3 valid --------------------------------
HT = {"request": {"method": "get", "protocol": "http", "host": "example.test", "path": "/a?x=1",
                  "pathname": "/a", "query": {"x": "1"}, "headers": {"accept": "*/*"}, "body": "",
                  "timestamp": "2023-11-14T22:13:20+00:00"},
      "response": {"statusCode": 200, "headers": {"content-type": "text/plain", "content-length": "2"},
                   "body": "ok", "timestamp": "2023-11-14T22:13:21+00:00"}}


def ht(name, edit, raw=None):
    doc = copy.deepcopy(HT)
    if edit:
        edit(doc)
    line = raw if raw is not None else json.dumps(doc, separators=(",", ":"))
    ok = json.dumps(HT, separators=(",", ":"))
    write(f"http-types/{name}.jsonl", f"{ok}\n{line}\n{ok}\n")


def setp(path, value):
    def f(d):
        *head, last = path
        for k in head:
            d = d[k]
        d[last] = value
    return f


def delp(path):
    def f(d):
        *head, last = path
        for k in head:
            d = d[k]
        del d[last]
    return f


ht("method-upper-case", setp(["request", "method"], "GET"))
ht("method-unknown", setp(["request", "method"], "propfind"))
ht("protocol-missing", delp(["request", "protocol"]))
ht("protocol-upper-case", setp(["request", "protocol"], "HTTP"))
ht("host-missing", delp(["request", "host"]))
ht("host-empty", setp(["request", "host"], ""))
ht("url-field", setp(["request", "url"], "http://example.test/a?x=1"))
ht("no-path-no-pathname", lambda d: (d["request"].pop("path"), d["request"].pop("pathname"), d["request"].pop("query")))
ht("pathname-without-query", lambda d: (d["request"].pop("path"), d["request"].pop("query")))
ht("response-missing", delp(["response"]))
ht("response-headers-missing", lambda d: d["response"].pop("headers"))
ht("status-string", setp(["response", "statusCode"], "200"))
ht("status-99", setp(["response", "statusCode"], 99))
ht("status-600", setp(["response", "statusCode"], 600))
ht("timestamp-no-offset", setp(["request", "timestamp"], "2023-11-14T22:13:20"))
ht("timestamp-word", setp(["response", "timestamp"], "yesterday"))
ht("timestamp-number", setp(["request", "timestamp"], 1700000000))
ht("body-object", setp(["response", "body"], {"a": 1}))
ht("header-value-integer", setp(["request", "headers", "accept"], 1))
ht("query-null", setp(["request", "query"], None))
ht("top-level-extra-key", setp(["extra"], True))
ht("body-as-json", setp(["response", "bodyAsJson"], {}))
ht("pathname-disagrees", setp(["request", "pathname"], "/b"))
ht("query-disagrees", setp(["request", "query"], {"x": "2"}))
ht("content-length-wrong", setp(["response", "headers", "content-length"], "3"))
ht("content-length-and-chunked", setp(["response", "headers", "transfer-encoding"], "chunked"))
ht("content-encoding-on-text", setp(["response", "headers", "content-encoding"], "gzip"))
ht("response-before-request", setp(["response", "timestamp"], "2023-11-14T22:13:19+00:00"))
ht("truncated-line", None, raw=json.dumps(HT, separators=(",", ":"))[:40])
ht("blank-line", None, raw="   ")
ht("array-line", None, raw="[1,2]")
ht("schema-profile-method-upper-case", setp(["request", "method"], "PUT"))

# ---- Hoverfly simulations --------------------------------------------------------------------
V5 = {"data": {"pairs": [{
    "request": {"path": [{"matcher": "exact", "value": "/a"}],
                "method": [{"matcher": "exact", "value": "GET"}]},
    "response": {"status": 200, "body": "ok", "encodedBody": False, "templated": False,
                 "headers": {"Content-Type": ["text/plain"]}}}],
    "globalActions": {"delays": [], "delaysLogNormal": []}},
    "meta": {"schemaVersion": "v5.2", "hoverflyVersion": "v1.12.10",
             "timeExported": "2026-06-21T00:00:00Z"}}


def sim(name, edit, version=None, base=V5):
    doc = copy.deepcopy(base)
    if version:
        doc["meta"]["schemaVersion"] = version
    edit(doc)
    write(f"hoverfly-simulation/{name}.json", json.dumps(doc, indent=2) + "\n")


P0 = ["data", "pairs", 0]
R0 = P0 + ["response"]
Q0 = P0 + ["request"]


def second_pair(change):
    def f(d):
        p = copy.deepcopy(d["data"]["pairs"][0])
        change(p)
        d["data"]["pairs"].append(p)
    return f


sim("v5.2-status-string", setp(R0 + ["status"], "200"))
sim("v5-encoded-body-not-base64", lambda d: (setp(R0 + ["encodedBody"], True)(d), setp(R0 + ["body"], "%%not base64")(d)), "v5")
sim("v5-status-700", setp(R0 + ["status"], 700), "v5")
sim("v5-duplicate-pairs", second_pair(lambda p: p["response"].update(body="other")), "v5")
sim("v5-state-never-set", setp(Q0 + ["requiresState"], {"stage": "two"}), "v5")
sim("v5-unknown-matcher", setp(Q0 + ["path", 0, "matcher"], "exactly"), "v5")
sim("v5-matchers-not-array", setp(Q0 + ["path"], {"matcher": "exact", "value": "/a"}), "v5")
sim("v5-query-null", setp(Q0 + ["query"], None), "v5")
sim("v5.1-fixed-delay-string", setp(R0 + ["fixedDelay"], "100"), "v5.1")
sim("v5.1-body-and-body-file", setp(R0 + ["bodyFile"], "responses/a.txt"), "v5.1")
sim("v5.2-literal-without-value", setp(["data", "literals"], [{"name": "x"}]))
sim("v5.2-variable-without-function", setp(["data", "variables"], [{"name": "x"}]))
sim("v5.3-labels-not-strings", setp(P0 + ["labels"], ["a", 1]), "v5.3")
sim("v5.3-pair-without-response", delp(R0), "v5.3")
sim("meta-missing", delp(["meta"]))
sim("schema-version-number", setp(["meta", "schemaVersion"], 5))
sim("schema-version-v6", setp(["meta", "schemaVersion"], "v6"))
sim("schema-version-v5.9", lambda d: None, "v5.9")
sim("top-level-extra-key", setp(["extra"], {}))
sim("delay-bad-pattern", setp(["data", "globalActions", "delays"], [{"urlPattern": "(", "delay": 100}]))
sim("delay-zero", setp(["data", "globalActions", "delays"], [{"urlPattern": ".", "delay": 0}]))
sim("v5-content-length-wrong", setp(R0 + ["headers", "Content-Length"], ["3"]), "v5")
sim("v5.2-do-match-unknown-matcher", setp(Q0 + ["path", 0, "doMatch"], {"matcher": "sounds-like", "value": "x"}))
sim("v5-meta-not-object", setp(["meta"], "v5"))
# Hoverfly v1.12.10 refuses these at PUT /api/v2/simulation ("min delay must be less than max
# one") or serves them with status 0 (issue 16).
sim("v5.1-log-normal-min-over-max", setp(["data", "globalActions", "delaysLogNormal"],
    [{"urlPattern": ".", "httpMethod": "GET", "min": 500, "max": 100, "mean": 200, "median": 150}]), "v5.1")
sim("v5-status-missing", delp(R0 + ["status"]), "v5")

V1 = {"data": {"pairs": [{
    "request": {"requestType": "recording", "path": "/a", "method": "GET", "destination": "example.test",
                "scheme": "http", "query": "", "body": "", "headers": {"Accept": ["*/*"]}},
    "response": {"status": 200, "body": "ok", "encodedBody": False, "headers": {"X": ["1"]}}}],
    "globalActions": {"delays": []}},
    "meta": {"schemaVersion": "v1", "hoverflyVersion": "v0.10.1", "timeExported": "2017-02-15T00:00:00Z"}}
sim("v1-scheme-null", setp(Q0 + ["scheme"], None), base=V1)
sim("v1-status-string", setp(R0 + ["status"], "200"), base=V1)
sim("v1-header-not-list", setp(R0 + ["headers", "X"], "1"), base=V1)

V2 = {"data": {"pairs": [{
    "request": {"path": {"exactMatch": "/a"}, "method": {"exactMatch": "GET"}},
    "response": {"status": 200, "body": "ok", "encodedBody": False, "headers": {}}}],
    "globalActions": {"delays": []}},
    "meta": {"schemaVersion": "v2", "hoverflyVersion": "v0.11.2", "timeExported": "2017-04-27T00:00:00Z"}}
sim("v2-path-string", setp(Q0 + ["path"], "/a"), base=V2)
sim("v2-exact-match-number", setp(Q0 + ["path", "exactMatch"], 1), base=V2)
sim("v3-templated-string", setp(R0 + ["templated"], "false"), "v3", base=V2)
sim("v4-requires-state-number", setp(Q0 + ["requiresState"], {"a": 1}), "v4", base=V2)
sim("v4-removes-state-string", setp(R0 + ["removesState"], "a"), "v4", base=V2)

# ---- legacy bodies ---------------------------------------------------------------------------
REC = {"data": [{"request": {"requestType": "recording", "path": "/a", "method": "GET",
                             "destination": "example.test", "scheme": "http", "query": "",
                             "body": "", "headers": {"Accept": ["*/*"]}},
                 "response": {"status": 200, "body": "ok", "encodedBody": False,
                              "headers": {"X": ["1"]}}}]}


def legacy(name, base, edit):
    doc = copy.deepcopy(base)
    edit(doc)
    write(f"{name}.json", json.dumps(doc, indent=2) + "\n")


legacy("hoverfly-records/status-string", REC, setp(["data", 0, "response", "status"], "200"))
legacy("hoverfly-records/response-missing", REC, delp(["data", 0, "response"]))
legacy("hoverfly-records/duplicate-recording", REC,
       lambda d: d["data"].append(copy.deepcopy(d["data"][0]) | {"response": {"status": 201}}))
legacy("hoverfly-records/encoded-body-not-base64", REC,
       lambda d: d["data"][0]["response"].update(encodedBody=True, body="***"))
TPL = {"data": [{"requestTemplate": {"path": "/a", "method": "GET", "destination": None,
                                     "scheme": None, "query": None, "body": None,
                                     "headers": {"Match": ["true"]}},
                 "response": {"status": 201, "body": "ok", "encodedBody": False, "headers": None}}]}
legacy("hoverfly-templates/header-not-list", TPL, setp(["data", 0, "requestTemplate", "headers", "Match"], "true"))
legacy("hoverfly-templates/status-700", TPL, setp(["data", 0, "response", "status"], 700))
legacy("hoverfly-templates/path-number", TPL, setp(["data", 0, "requestTemplate", "path"], 1))
DEL = {"data": [{"urlPattern": "example\\.test", "delay": 100},
                {"urlPattern": ".", "httpMethod": "POST", "delay": 20}]}
legacy("hoverfly-delays/delay-zero", DEL, setp(["data", 1, "delay"], 0))
legacy("hoverfly-delays/pattern-empty", DEL, setp(["data", 1, "urlPattern"], ""))
legacy("hoverfly-delays/pattern-invalid", DEL, setp(["data", 1, "urlPattern"], "(["))
legacy("hoverfly-delays/delay-string", DEL, setp(["data", 0, "delay"], "100"))

# ---- not a known format ----------------------------------------------------------------------
write("other/array.json", "[\n  1,\n  2\n]\n")
write("other/not-json.json", "{\n  \"data\": {\n    \"pairs\": [,]\n  }\n}\n")
write("other/no-data-no-meta.json", "{\n  \"hello\": \"world\"\n}\n")
