#!/usr/bin/env python3
"""Writes schemas/<format>/<version>.schema.json: wirecap's own JSON Schemas.

Written from the format facts (Hoverfly's Go views and import code per schemaVersion, the
http-types spec and its readers), not copied from any upstream schema file. Run from the
repository root after editing; review the diff; `cargo test` checks that each compiles.
"""
import json
import os

BASE = "https://wirecap.dev/schemas"
DRAFT = "http://json-schema.org/draft-07/schema#"


def doc(fmt, version, title, description, body):
    out = {
        "$schema": DRAFT,
        "$id": f"{BASE}/{fmt}/{version}.schema.json",
        "title": title,
        "description": description,
    }
    out.update(body)
    return fmt, version, out


STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
STR_LIST = {"type": "array", "items": STR}
# Hoverfly headers: Go map[string][]string.
HEADER_MAP = {"type": "object", "additionalProperties": STR_LIST}
# Go *string: absent or null both mean "not set" (legacy API only).
NSTR = {"type": ["string", "null"]}

DELAY = {
    "type": "object",
    "properties": {"urlPattern": STR, "httpMethod": STR, "delay": INT},
}
DELAY_LOG_NORMAL = {
    "type": "object",
    "properties": {
        "urlPattern": STR, "httpMethod": STR,
        "min": INT, "max": INT, "mean": INT, "median": INT,
    },
}
META = {
    "type": "object",
    "required": ["schemaVersion"],
    "properties": {"schemaVersion": STR, "hoverflyVersion": STR, "timeExported": STR},
}


def simulation(version, defs, request, response, pair_extra=None, data_extra=None, global_extra=None):
    pair = {
        "type": "object",
        "required": ["request", "response"],
        "properties": {"request": {"$ref": "#/definitions/request"},
                       "response": {"$ref": "#/definitions/response"}},
    }
    if pair_extra:
        pair["properties"].update(pair_extra)
    global_actions = {"type": "object", "properties": {
        "delays": {"type": "array", "items": {"$ref": "#/definitions/delay"}}}}
    if global_extra:
        global_actions["properties"].update(global_extra)
    data = {"type": "object", "properties": {
        "pairs": {"type": "array", "items": {"$ref": "#/definitions/pair"}},
        "globalActions": global_actions,
    }}
    if data_extra:
        data["properties"].update(data_extra)
    definitions = {"delay": DELAY, "meta": META, "pair": pair,
                   "request": request, "response": response}
    definitions.update(defs)
    meta = {"allOf": [{"$ref": "#/definitions/meta"}], "properties": {
        # Hoverfly v1.10+ reads any "v5..." label with its newest (v5.3) view.
        "schemaVersion": {"type": "string", "pattern": "^v5"} if version == "v5.3"
        else {"const": version}}}
    return doc(
        "hoverfly-simulation", version,
        f"Hoverfly simulation, schemaVersion {version}",
        f"A Hoverfly simulation document (GET/PUT /api/v2/simulation) with meta.schemaVersion "
        f"\"{version}\". Unknown request and response fields are allowed, as Hoverfly allows them.",
        {
            "type": "object",
            "required": ["data", "meta"],
            "additionalProperties": False,
            "properties": {"data": data, "meta": meta},
            "definitions": definitions,
        },
    )


def response(extra=None):
    r = {"type": "object", "properties": {
        "status": INT, "body": STR, "encodedBody": BOOL,
        "headers": {"$ref": "#/definitions/headers"}}}
    if extra:
        r["properties"].update(extra)
    return r


STATE_MAP = {"type": "object", "additionalProperties": STR}

# v1: the legacy record shape; request fields are plain strings (null is rejected).
V1_REQUEST = {"type": "object", "properties": {
    "requestType": STR, "path": STR, "method": STR, "destination": STR,
    "scheme": STR, "query": STR, "body": STR, "headers": {"$ref": "#/definitions/headers"}}}

# v2-v4: one object per field whose keys are ANDed matchers.
FIELD_MATCHERS = {"type": "object", "properties": {
    k: STR for k in ["exactMatch", "globMatch", "regexMatch", "xpathMatch",
                     "jsonMatch", "xmlMatch", "jsonPathMatch"]}}


def v2_request(state=False):
    props = {k: {"$ref": "#/definitions/fieldMatchers"}
             for k in ["path", "method", "destination", "scheme", "query", "body"]}
    props["headers"] = {"$ref": "#/definitions/headers"}
    if state:
        props["requiresState"] = STATE_MAP
        # Parsed by Hoverfly v0.17+ in v4 files (never exported by a release).
        props["headersWithMatchers"] = {"type": "object",
                                        "additionalProperties": {"$ref": "#/definitions/fieldMatchers"}}
        props["queriesWithMatchers"] = {"type": "object",
                                        "additionalProperties": {"$ref": "#/definitions/fieldMatchers"}}
    return {"type": "object", "properties": props}


STATE_RESPONSE = {"transitionsState": STATE_MAP, "removesState": STR_LIST}


def v5_matcher(minor):
    m = {"type": "object", "properties": {"matcher": STR, "value": {}}}
    if minor >= 2:
        m["properties"]["config"] = {"type": "object", "properties": {
            "ignoreUnknown": BOOL, "ignoreOrder": BOOL, "ignoreOccurrences": BOOL}}
        m["properties"]["doMatch"] = {"$ref": "#/definitions/matcher"}
    return m


def v5(version, minor):
    mlist = {"type": "array", "items": {"$ref": "#/definitions/matcher"}}
    mmap = {"type": "object", "additionalProperties": {"$ref": "#/definitions/matcherList"}}
    req = {"type": "object", "properties": {
        "path": {"$ref": "#/definitions/matcherList"},
        "method": {"$ref": "#/definitions/matcherList"},
        "destination": {"$ref": "#/definitions/matcherList"},
        "scheme": {"$ref": "#/definitions/matcherList"},
        "body": {"$ref": "#/definitions/matcherList"},
        "headers": {"$ref": "#/definitions/matcherMap"},
        "query": {"$ref": "#/definitions/matcherMap"},
        "requiresState": STATE_MAP,
    }}
    if minor < 2:
        # Written only by Hoverfly's own upgrades; removed in v1.7.0 (v5.2 era).
        req["properties"]["deprecatedQuery"] = {"$ref": "#/definitions/matcherList"}
    resp_extra = {"templated": BOOL, **STATE_RESPONSE}
    if minor >= 1:
        resp_extra.update({
            "bodyFile": STR, "fixedDelay": INT,
            "logNormalDelay": {"type": "object", "properties": {
                "min": INT, "max": INT, "mean": INT, "median": INT}},
        })
    if minor >= 2:
        resp_extra["postServeAction"] = STR
    data_extra = None
    if minor >= 2:
        data_extra = {
            "literals": {"type": "array", "items": {
                "type": "object", "required": ["name", "value"],
                "properties": {"name": STR, "value": {}}}},
            "variables": {"type": "array", "items": {
                "type": "object", "required": ["name", "function"],
                "properties": {"name": STR, "function": STR, "arguments": {"type": "array"}}}},
        }
    pair_extra = {"labels": STR_LIST} if minor >= 3 else None
    defs = {"headers": HEADER_MAP, "matcher": v5_matcher(minor),
            "matcherList": mlist, "matcherMap": mmap,
            "delayLogNormal": DELAY_LOG_NORMAL}
    return simulation(version, defs, req, response(resp_extra), pair_extra, data_extra,
                      {"delaysLogNormal": {"type": "array",
                                           "items": {"$ref": "#/definitions/delayLogNormal"}}})


def legacy(fmt, title, description, item):
    return doc(fmt, "v1", title, description, {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"type": "array", "items": item}},
    })


LEGACY_HEADERS = {"type": ["object", "null"], "additionalProperties": STR_LIST}
LEGACY_RESPONSE = {"type": "object", "properties": {
    "status": INT, "body": STR, "encodedBody": BOOL, "headers": LEGACY_HEADERS}}
LEGACY_REQUEST_FIELDS = {k: NSTR for k in ["path", "method", "destination", "scheme", "query", "body"]}

schemas = [
    simulation("v1", {"headers": HEADER_MAP}, V1_REQUEST, response()),
    simulation("v2", {"headers": HEADER_MAP, "fieldMatchers": FIELD_MATCHERS},
               v2_request(), response()),
    simulation("v3", {"headers": HEADER_MAP, "fieldMatchers": FIELD_MATCHERS},
               v2_request(), response({"templated": BOOL})),
    simulation("v4", {"headers": HEADER_MAP, "fieldMatchers": FIELD_MATCHERS},
               v2_request(state=True), response({"templated": BOOL, **STATE_RESPONSE})),
    v5("v5", 0), v5("v5.1", 1), v5("v5.2", 2), v5("v5.3", 3),
    legacy("hoverfly-records", "Hoverfly legacy records",
           "The body of Hoverfly's legacy /api/records endpoint (v0.5-v0.10). Absent and null "
           "request fields both mean unset.",
           {"type": "object", "required": ["request", "response"], "properties": {
               "request": {"type": "object", "properties": {
                   "requestType": {"type": ["string", "null"]}, **LEGACY_REQUEST_FIELDS,
                   "headers": LEGACY_HEADERS}},
               "response": LEGACY_RESPONSE}}),
    legacy("hoverfly-templates", "Hoverfly legacy request templates",
           "The body of Hoverfly's legacy /api/templates endpoint (v0.8-v0.10).",
           {"type": "object", "required": ["requestTemplate", "response"], "properties": {
               "requestTemplate": {"type": "object", "properties": {
                   **LEGACY_REQUEST_FIELDS, "headers": LEGACY_HEADERS}},
               "response": LEGACY_RESPONSE}}),
    legacy("hoverfly-delays", "Hoverfly legacy delays",
           "The body of Hoverfly's legacy /api/delays endpoint (v0.7.1-v0.11.2). Hoverfly "
           "also rejects an empty or invalid urlPattern and a zero delay (wirecap's delay rule).",
           {"type": "object", "properties": {
               "urlPattern": STR, "httpMethod": STR, "delay": INT}}),
]

# http-types: one HttpExchange per JSONL line.
STR_OR_LIST = {"type": ["string", "array"], "items": STR}
HT_MAP = {"type": "object", "additionalProperties": STR_OR_LIST}
METHODS = ["get", "put", "post", "patch", "delete", "options", "trace", "head", "connect"]
TS = {"type": "string", "format": "date-time"}


def http_types(strict):
    req_props = {
        "method": {"type": "string", "enum": METHODS},
        "protocol": {"type": "string", "enum": ["http", "https"]},
        "host": {"type": "string", "minLength": 1} if strict else STR,
        "path": STR, "pathname": STR,
        "query": HT_MAP, "headers": HT_MAP, "body": STR, "timestamp": TS,
    }
    if not strict:
        req_props["url"] = STR
    request = {"type": "object", "additionalProperties": False, "properties": req_props,
               "required": ["method", "protocol", "host"] if strict else ["method"]}
    if strict:
        # py-http-types builds path from pathname and query when path is absent.
        request["if"] = {"not": {"required": ["path"]}}
        request["then"] = {"required": ["pathname", "query"]}
    response = {"type": "object", "additionalProperties": False,
                "required": ["statusCode", "headers"] if strict else ["statusCode"],
                "properties": {"statusCode": INT if strict else {"type": "number"},
                               "headers": HT_MAP, "body": STR, "timestamp": TS}}
    body = {
        "type": "object", "additionalProperties": False,
        "required": ["request", "response"] if strict else ["request"],
        "properties": {"request": request, "response": response,
                       "meta": {"type": "object"}},
    }
    if strict:
        return doc("http-types-strict", "2020-06", "http-types exchange, strict profile",
                   "One http-types HttpExchange (one JSONL line) as the real readers "
                   "(py-http-types 0.0.18, which hmt uses) require it: response, protocol, a "
                   "non-empty host, path (or pathname with query) and response headers present; "
                   "no url field; integer statusCode.", body)
    return doc("http-types", "2020-06", "http-types exchange",
               "One http-types HttpExchange (one JSONL line), as the published schema "
               "(meeshkan/http-types, June 2020) describes it.", body)


schemas += [http_types(False), http_types(True)]

for fmt, version, s in schemas:
    os.makedirs(f"schemas/{fmt}", exist_ok=True)
    with open(f"schemas/{fmt}/{version}.schema.json", "w") as f:
        json.dump(s, f, indent=2)
        f.write("\n")
    print(f"schemas/{fmt}/{version}.schema.json")
