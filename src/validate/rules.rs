//! Semantic checks: what a JSON Schema cannot say about a document, each with a stable rule
//! id. They run on parsed `serde_json` values after the schema, so they never depend on the
//! format readers, and they only look at values of the expected type (the schema reports
//! the rest).

use super::{Finding, Severity};
use crate::codec::query::parse_qs;
use crate::model::Timestamp;
use base64::Engine as _;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// Rule ids and what each checks; `wirecap validate --help` and the docs list them.
pub const RULES: &[(&str, &str)] = &[
    ("json-syntax", "the file or line is not JSON"),
    (
        "utf8-bom",
        "a UTF-8 byte-order mark first, which wirecap reads past and Hoverfly refuses",
    ),
    (
        "misnamed",
        "the file's name says one format and its content another (the content decides)",
    ),
    (
        "capture",
        "a pcap or pcapng capture, which is converted, not validated",
    ),
    (
        "jsonl-framing",
        "http-types exchanges as one pretty-printed document or an array, not one per line",
    ),
    (
        "unknown-format",
        "the document is none of the formats wirecap knows",
    ),
    (
        "schema-version",
        "meta.schemaVersion is missing, not a string, or not one Hoverfly reads",
    ),
    (
        "schema/<keyword>",
        "the document breaks its schema (the JSON Schema keyword that failed)",
    ),
    (
        "utf16",
        "UTF-16 text, which no reader takes (JSON is UTF-8, RFC 8259 §8.1)",
    ),
    (
        "encoded-body",
        "a body marked base64 (Hoverfly's encodedBody, HAR's encoding) that is not base64",
    ),
    (
        "duplicate-key",
        "an http-types field given twice, which `convert` refuses (py-http-types takes the last)",
    ),
    (
        "reader",
        "anything else `convert`'s reader refuses where the schema and the rules do not",
    ),
    ("status-range", "a status code outside 100-599"),
    (
        "status-missing",
        "a Hoverfly response without a status (Hoverfly serves it as status 0)",
    ),
    ("content-length", "Content-Length disagrees with the body"),
    (
        "content-encoding",
        "Content-Encoding on an http-types body, which is the decoded text",
    ),
    (
        "content-length-transfer-encoding",
        "both Content-Length and Transfer-Encoding are set",
    ),
    (
        "duplicate-pair",
        "a pair whose request matchers equal an earlier pair's (Hoverfly skips it)",
    ),
    (
        "state-never-set",
        "requiresState wants a state no transitionsState ever sets",
    ),
    ("unknown-matcher", "a matcher name Hoverfly does not know"),
    (
        "body-and-body-file",
        "both body and bodyFile are set (Hoverfly uses bodyFile)",
    ),
    (
        "delay",
        "a delay with an empty or invalid urlPattern, a zero delay, or a log-normal min over max",
    ),
    (
        "path-query",
        "pathname disagrees with path (error), or query does (warning)",
    ),
    (
        "timestamp-order",
        "a response timestamped before its request, or before an earlier JSONL line's request",
    ),
    (
        "blank-line",
        "a blank line in JSONL (py-http-types cannot read it)",
    ),
    ("line-too-long", "a JSONL line longer than --max-line-bytes"),
];

/// Matcher names Hoverfly v1.12 knows (case-insensitive), from `core/matching/matchers`.
const MATCHERS: &[&str] = &[
    "exact",
    "glob",
    "regex",
    "json",
    "jsonpath",
    "jsonpartial",
    "xml",
    "xpath",
    "xmltemplated",
    "array",
    "jwt",
    "jwtjsonpath",
    "form",
    "negate",
];

fn push(out: &mut Vec<Finding>, sev: Severity, rule: &'static str, ptr: String, msg: String) {
    out.push(Finding {
        pointer: ptr,
        message: msg,
        rule: rule.into(),
        severity: sev,
        keys: Vec::new(),
    });
}

/// `key` as a JSON pointer segment (RFC 6901: `~` as `~0`, `/` as `~1`).
pub(super) fn esc(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn header<'a>(headers: Option<&'a Value>, name: &str) -> Option<(&'a str, &'a Value)> {
    headers?
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(k, v)| (k.as_str(), v))
}

/// The first string of a header value: `"v"` (http-types) or `["v", …]` (both formats).
fn first_str(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Array(a) => a.first()?.as_str(),
        _ => None,
    }
}

fn check_status(v: Option<&Value>, ptr: String, out: &mut Vec<Finding>) {
    let Some(n) = v.and_then(Value::as_f64) else {
        return;
    };
    if !(100.0..=599.0).contains(&n) {
        push(
            out,
            Severity::Error,
            "status-range",
            ptr,
            format!("status {} is outside 100-599", v.expect("checked")),
        );
    }
}

/// Hoverfly writes an unset status as 0 and reads it back (v1.12 accepted such files), so
/// 0 is only a warning there; anything else outside 100-599 cannot be served.
fn check_hoverfly_status(v: Option<&Value>, ptr: String, out: &mut Vec<Finding>) {
    if v.and_then(Value::as_i64) == Some(0) {
        push(
            out,
            Severity::Warning,
            "status-range",
            ptr,
            "status 0 means unset to Hoverfly; it cannot serve this response".into(),
        );
        return;
    }
    check_status(v, ptr, out);
}

/// Content-Length against the body's length, and Content-Length with Transfer-Encoding.
fn check_content_length(
    headers: Option<&Value>,
    headers_ptr: &str,
    body_len: Option<usize>,
    decoded: bool,
    out: &mut Vec<Finding>,
) {
    let Some((name, cl)) = header(headers, "content-length") else {
        return;
    };
    let ptr = format!("{headers_ptr}/{}", esc(name));
    if header(headers, "transfer-encoding").is_some() {
        push(
            out,
            Severity::Warning,
            "content-length-transfer-encoding",
            ptr,
            "both Content-Length and Transfer-Encoding are set; remove one".into(),
        );
        return;
    }
    // A decoded body (http-types bodies are de-chunked and decompressed) cannot be compared.
    if decoded && header(headers, "content-encoding").is_some() {
        return;
    }
    let (Some(cl), Some(len)) = (first_str(cl), body_len) else {
        return;
    };
    // An empty body with a Content-Length is what HEAD and 304 answers look like: the length
    // is that of the body a GET would get (RFC 9110 §8.6).
    if len == 0 {
        return;
    }
    match cl.trim().parse::<usize>() {
        Ok(n) if n == len => {}
        Ok(n) => push(
            out,
            Severity::Warning,
            "content-length",
            ptr,
            format!("Content-Length is {n} but the body is {len} bytes"),
        ),
        Err(_) => push(
            out,
            Severity::Warning,
            "content-length",
            ptr,
            format!("Content-Length {cl:?} is not a number"),
        ),
    }
}

/// A Content-Encoding on an http-types body (issue 14). The body is text, so it is the decoded
/// one: a mock replaying the exchange would serve plain bytes labelled with the coding.
fn check_content_encoding(
    headers: Option<&Value>,
    headers_ptr: &str,
    body_len: Option<usize>,
    out: &mut Vec<Finding>,
) {
    let Some((name, value)) = header(headers, "content-encoding") else {
        return;
    };
    let Some(coding) = first_str(value).map(str::trim) else {
        return;
    };
    if coding.eq_ignore_ascii_case("identity") || body_len.is_none_or(|n| n == 0) {
        return;
    }
    push(
        out,
        Severity::Warning,
        "content-encoding",
        format!("{headers_ptr}/{}", esc(name)),
        format!(
            "Content-Encoding is {coding:?} but an http-types body is text, the decoded body: a mock would serve it labelled {coding:?}"
        ),
    );
}

/// Checks one Hoverfly response object (any simulation version or legacy record).
fn hoverfly_response(resp: &Value, ptr: &str, out: &mut Vec<Finding>) {
    let Some(r) = resp.as_object() else { return };
    if r.get("status").is_none() {
        // Hoverfly v1.12.10 imports such a pair and answers it with status 0, which every
        // HTTP client refuses; the schema (and `--profile schema`) allow it.
        push(
            out,
            Severity::Error,
            "status-missing",
            ptr.to_owned(),
            "the response has no status; Hoverfly would serve it as status 0".into(),
        );
    }
    check_hoverfly_status(r.get("status"), format!("{ptr}/status"), out);
    check_log_normal(
        r.get("logNormalDelay"),
        &format!("{ptr}/logNormalDelay"),
        out,
    );
    let body = r.get("body").and_then(Value::as_str);
    let encoded = r.get("encodedBody").and_then(Value::as_bool) == Some(true);
    let mut body_len = body.map(str::len);
    if let (true, Some(b)) = (encoded, body) {
        match base64::engine::general_purpose::STANDARD.decode(b) {
            Ok(bytes) => body_len = Some(bytes.len()),
            Err(e) => {
                body_len = None;
                push(
                    out,
                    Severity::Error,
                    "encoded-body",
                    format!("{ptr}/body"),
                    crate::formats::hoverfly::not_base64(&e),
                );
            }
        }
    }
    let body_file = r.get("bodyFile").and_then(Value::as_str);
    if body_file.is_some() && body.is_some_and(|b| !b.is_empty()) {
        push(
            out,
            Severity::Warning,
            "body-and-body-file",
            format!("{ptr}/bodyFile"),
            "both body and bodyFile are set; Hoverfly serves bodyFile".into(),
        );
    }
    let templated = r.get("templated").and_then(Value::as_bool) == Some(true);
    if templated || body_file.is_some() {
        body_len = None;
    }
    check_content_length(
        r.get("headers"),
        &format!("{ptr}/headers"),
        body_len,
        false,
        out,
    );
}

fn check_delays(delays: Option<&Value>, ptr: &str, out: &mut Vec<Finding>) {
    let Some(list) = delays.and_then(Value::as_array) else {
        return;
    };
    for (i, d) in list.iter().enumerate() {
        let Some(d) = d.as_object() else { continue };
        let p = format!("{ptr}/{i}");
        match d.get("urlPattern").and_then(Value::as_str) {
            None => push(
                out,
                Severity::Error,
                "delay",
                p.clone(),
                "the delay has no urlPattern".into(),
            ),
            Some("") => push(
                out,
                Severity::Error,
                "delay",
                format!("{p}/urlPattern"),
                "urlPattern is empty".into(),
            ),
            Some(pat) => {
                if let Err(e) = regex::Regex::new(pat) {
                    let first = e.to_string().lines().last().unwrap_or_default().to_owned();
                    push(
                        out,
                        Severity::Error,
                        "delay",
                        format!("{p}/urlPattern"),
                        format!(
                            "urlPattern is not a valid regular expression: {}",
                            first.trim_start_matches("error: ")
                        ),
                    );
                }
            }
        }
        match d.get("delay") {
            None => push(
                out,
                Severity::Error,
                "delay",
                p.clone(),
                "the delay has no delay (milliseconds)".into(),
            ),
            Some(v) if v.as_i64() == Some(0) => push(
                out,
                Severity::Error,
                "delay",
                format!("{p}/delay"),
                "the delay is 0".into(),
            ),
            Some(_) => {}
        }
    }
}

/// A log-normal delay (`{min, max, mean, median}` in milliseconds) whose `min` is over its
/// `max`: Hoverfly v1.12.10 refuses it in `globalActions.delaysLogNormal` at import ("min
/// delay must be less than max one"), so that is an error; a response's own `logNormalDelay`
/// is not checked at import, and such a delay only misbehaves when served: a warning.
fn check_log_normal(delay: Option<&Value>, ptr: &str, out: &mut Vec<Finding>) {
    check_log_normal_as(delay, ptr, Severity::Warning, out);
}

fn check_log_normal_as(delay: Option<&Value>, ptr: &str, sev: Severity, out: &mut Vec<Finding>) {
    let Some(d) = delay.and_then(Value::as_object) else {
        return;
    };
    let (Some(min), Some(max)) = (
        d.get("min").and_then(Value::as_f64),
        d.get("max").and_then(Value::as_f64),
    ) else {
        return;
    };
    if min > max {
        push(
            out,
            sev,
            "delay",
            format!("{ptr}/min"),
            format!(
                "min delay {min} is greater than max delay {max}; Hoverfly wants min below max"
            ),
        );
    }
}

fn check_log_normal_delays(delays: Option<&Value>, ptr: &str, out: &mut Vec<Finding>) {
    for (i, d) in delays
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        check_log_normal_as(Some(d), &format!("{ptr}/{i}"), Severity::Error, out);
    }
}

/// A canonical text for a JSON value: object keys sorted, so equal maps compare equal.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for k in keys {
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&m[k], out);
                out.push(',');
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for x in a {
                canonical(x, out);
                out.push(',');
            }
            out.push(']');
        }
        _ => out.push_str(&v.to_string()),
    }
}

fn matchers(list: &Value, ptr: &str, out: &mut Vec<Finding>) {
    let Some(list) = list.as_array() else { return };
    for (i, m) in list.iter().enumerate() {
        let mut m = m;
        let mut p = format!("{ptr}/{i}");
        // doMatch chains: check each link.
        while let Some(obj) = m.as_object() {
            if let Some(name) = obj.get("matcher").and_then(Value::as_str) {
                if !MATCHERS.iter().any(|k| k.eq_ignore_ascii_case(name)) {
                    push(
                        out,
                        Severity::Warning,
                        "unknown-matcher",
                        format!("{p}/matcher"),
                        format!(
                            "Hoverfly has no matcher {name:?}; it accepts the file but the pair never matches"
                        ),
                    );
                }
            }
            match obj.get("doMatch") {
                Some(next) => {
                    m = next;
                    p.push_str("/doMatch");
                }
                None => break,
            }
        }
    }
}

/// Checks a Hoverfly simulation document of any schemaVersion.
pub fn hoverfly_simulation(doc: &Value, v5: bool, out: &mut Vec<Finding>) {
    let data = doc.get("data");
    let pairs = data
        .and_then(|d| d.get("pairs"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    check_delays(
        data.and_then(|d| d.get("globalActions"))
            .and_then(|g| g.get("delays")),
        "/data/globalActions/delays",
        out,
    );
    check_log_normal_delays(
        data.and_then(|d| d.get("globalActions"))
            .and_then(|g| g.get("delaysLogNormal")),
        "/data/globalActions/delaysLogNormal",
        out,
    );
    let mut seen: HashMap<String, usize> = HashMap::new();
    // Every (key, value) some response sets; a templated value may set anything.
    let mut sets: HashSet<(&str, &str)> = HashSet::new();
    let mut set_any: HashSet<&str> = HashSet::new();
    for pair in pairs {
        if let Some(ts) = pair
            .pointer("/response/transitionsState")
            .and_then(Value::as_object)
        {
            for (k, v) in ts {
                match v.as_str() {
                    Some(s) if s.contains("{{") => {
                        set_any.insert(k);
                    }
                    Some(s) => {
                        sets.insert((k, s));
                    }
                    None => {}
                }
            }
        }
    }
    for (i, pair) in pairs.iter().enumerate() {
        let ptr = format!("/data/pairs/{i}");
        if let Some(resp) = pair.get("response") {
            hoverfly_response(resp, &format!("{ptr}/response"), out);
        }
        let Some(req) = pair.get("request") else {
            continue;
        };
        let mut key = String::new();
        canonical(req, &mut key);
        if let Some(first) = seen.get(&key) {
            push(
                out,
                Severity::Warning,
                "duplicate-pair",
                format!("{ptr}/request"),
                format!(
                    "the same request matchers as /data/pairs/{first}; Hoverfly skips this pair"
                ),
            );
        } else {
            seen.insert(key, i);
        }
        if let Some(rs) = req.get("requiresState").and_then(Value::as_object) {
            for (k, v) in rs {
                let Some(v) = v.as_str() else { continue };
                // Hoverfly starts every `sequence:` state at "1".
                let initial = k.starts_with("sequence:") && v == "1";
                if !initial && !set_any.contains(k.as_str()) && !sets.contains(&(k.as_str(), v)) {
                    push(
                        out,
                        Severity::Warning,
                        "state-never-set",
                        format!("{ptr}/request/requiresState/{}", esc(k)),
                        format!(
                            "no response sets state {k:?} to {v:?}, so this pair only matches if it is set from outside"
                        ),
                    );
                }
            }
        }
        if v5 {
            if let Some(r) = req.as_object() {
                for (field, value) in r {
                    let fp = format!("{ptr}/request/{}", esc(field));
                    match field.as_str() {
                        "headers" | "query" => {
                            for (k, list) in value.as_object().into_iter().flatten() {
                                matchers(list, &format!("{fp}/{}", esc(k)), out);
                            }
                        }
                        "path" | "method" | "destination" | "scheme" | "body"
                        | "deprecatedQuery" => matchers(value, &fp, out),
                        _ => {}
                    }
                }
            }
        }
    }
}

/// Checks a legacy `/api/records`, `/api/templates` or `/api/delays` body.
pub fn hoverfly_legacy(doc: &Value, request_key: Option<&str>, out: &mut Vec<Finding>) {
    let Some(items) = doc.get("data").and_then(Value::as_array) else {
        return;
    };
    let Some(request_key) = request_key else {
        check_delays(doc.get("data"), "/data", out);
        return;
    };
    let mut seen: HashMap<Vec<Option<&str>>, usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let ptr = format!("/data/{i}");
        if let Some(resp) = item.get("response") {
            hoverfly_response(resp, &format!("{ptr}/response"), out);
        }
        // Recordings are keyed by destination, path, method, query and body; a later one
        // with the same key replaces the earlier (Hoverfly v0.10 `RequestDetails.Hash`).
        let Some(req) = item.get(request_key).and_then(Value::as_object) else {
            continue;
        };
        let recording = request_key == "request"
            && req
                .get("requestType")
                .and_then(Value::as_str)
                .is_none_or(|t| t == "recording");
        if recording {
            let key: Vec<Option<&str>> = ["destination", "path", "method", "query", "body"]
                .iter()
                .map(|f| req.get(*f).and_then(Value::as_str))
                .collect();
            if let Some(first) = seen.get(&key) {
                push(
                    out,
                    Severity::Warning,
                    "duplicate-pair",
                    format!("{ptr}/{request_key}"),
                    format!(
                        "the same destination, path, method, query and body as /data/{first}; Hoverfly keeps only the later one"
                    ),
                );
            } else {
                seen.insert(key, i);
            }
        }
    }
}

fn str_or_list(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// HAR: a body marked base64 (`response.content.encoding`, `request.postData._encoding`)
/// must decode, as the reader decodes it; the schema cannot say so.
pub fn har(doc: &Value, out: &mut Vec<Finding>) {
    let Some(entries) = doc.pointer("/log/entries").and_then(Value::as_array) else {
        return;
    };
    for (i, entry) in entries.iter().enumerate() {
        for (at, key) in [
            ("/response/content", "encoding"),
            ("/request/postData", "_encoding"),
        ] {
            let Some(part) = entry.pointer(at) else {
                continue;
            };
            if part.get(key).and_then(Value::as_str) != Some("base64") {
                continue;
            }
            let Some(text) = part.get("text").and_then(Value::as_str) else {
                continue;
            };
            if let Some(why) = crate::formats::har::base64_refusal(text) {
                let ptr = format!("/log/entries/{i}{at}/text");
                push(out, Severity::Error, "encoded-body", ptr, why);
            }
        }
    }
}

/// Checks one http-types exchange (one JSONL line).
pub fn http_types(doc: &Value, out: &mut Vec<Finding>) {
    let req = doc.get("request").and_then(Value::as_object);
    let resp = doc.get("response").and_then(Value::as_object);
    // wirecap marks a body the capture cut off: its Content-Length is the announced one.
    let cut = |which: &str| {
        doc.pointer(&format!("/meta/wirecap/{which}BodyCut"))
            .is_some()
    };
    if let Some(r) = resp {
        check_status(r.get("statusCode"), "/response/statusCode".into(), out);
        let body_len = body_len(r.get("body")).filter(|_| !cut("response"));
        let no_body = req
            .and_then(|q| q.get("method"))
            .and_then(Value::as_str)
            .is_some_and(|m| m.eq_ignore_ascii_case("head"))
            || r.get("statusCode").and_then(Value::as_f64) == Some(304.0);
        if !no_body {
            check_content_length(r.get("headers"), "/response/headers", body_len, true, out);
        }
        check_content_encoding(r.get("headers"), "/response/headers", body_len, out);
    }
    let Some(req) = req else { return };
    let request_body_len = req
        .get("body")
        .and_then(Value::as_str)
        .map(str::len)
        .or(Some(0))
        .filter(|_| !cut("request"));
    check_content_length(
        req.get("headers"),
        "/request/headers",
        request_body_len,
        true,
        out,
    );
    check_content_encoding(
        req.get("headers"),
        "/request/headers",
        request_body_len,
        out,
    );
    path_query(req, out);
    let ts = |o: Option<&Map<String, Value>>| {
        o.and_then(|o| o.get("timestamp"))
            .and_then(Value::as_str)
            .and_then(|s| Timestamp::parse_rfc3339(s).ok())
    };
    if let (Some(a), Some(b)) = (ts(Some(req)), ts(resp)) {
        if b < a {
            push(
                out,
                Severity::Warning,
                "timestamp-order",
                "/response/timestamp".into(),
                "the response is timestamped before its request".into(),
            );
        }
    }
}

/// An http-types body's length in bytes: absent is empty; a non-string is the schema's problem.
fn body_len(body: Option<&Value>) -> Option<usize> {
    match body {
        None => Some(0),
        Some(Value::String(s)) => Some(s.len()),
        Some(_) => None,
    }
}

fn path_query(req: &Map<String, Value>, out: &mut Vec<Finding>) {
    let Some(path) = req.get("path").and_then(Value::as_str) else {
        return;
    };
    let no_fragment = path.split_once('#').map_or(path, |(p, _)| p);
    let (pathname, query) = no_fragment.split_once('?').unwrap_or((no_fragment, ""));
    if let Some(given) = req.get("pathname").and_then(Value::as_str) {
        if given != pathname {
            push(
                out,
                Severity::Error,
                "path-query",
                "/request/pathname".into(),
                format!("pathname {given:?} disagrees with path {path:?}"),
            );
        }
    }
    if let Some(given) = req.get("query").and_then(Value::as_object) {
        let mut want = parse_qs(query);
        want.sort();
        let mut have: Vec<(String, Vec<String>)> = given
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    str_or_list(v).into_iter().map(str::to_owned).collect(),
                )
            })
            .collect();
        have.sort();
        if want != have {
            // py-http-types and hmt read such a line (each keeps one of the two), so it is
            // only a warning; `--deny-warnings` fails it.
            push(
                out,
                Severity::Warning,
                "path-query",
                "/request/query".into(),
                format!("query disagrees with the query string of path {path:?}"),
            );
        }
    }
}
