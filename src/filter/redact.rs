//! Redaction (`--redact`): secret values replaced by [`MARKER`] before anything is written,
//! so recordings can be shared.
//!
//! What is replaced:
//! - the values of sensitive headers ([`DEFAULT_HEADERS`] and user names), in requests,
//!   responses and trailers. `Cookie` keeps each cookie's name and `Set-Cookie` its name and
//!   attributes; `Authorization` keeps its scheme (`Bearer REDACTED`);
//! - query parameters named in [`DEFAULT_PARAMS`] or by the user, in the request target and
//!   in URLs carried by `Referer`, `Location` and `Content-Location` (fragments too, where
//!   OAuth puts `access_token`);
//! - form fields of the same names in `application/x-www-form-urlencoded` bodies;
//! - JSON fields, by pointer (`/user/password`) or by key name anywhere (`password`, the
//!   default names included), in any body whose bytes parse as JSON. The JSON is not
//!   re-serialised: only the replaced values' bytes change, so the rest of the body stays
//!   byte for byte as it was;
//! - the copies formats keep beside the model: `Exchange::extra` (HAR's `extra["har"]`
//!   cookies, headers, queryString, postData params and URLs; http-types `meta`).
//!
//! A body still content-encoded (`--keep-encoding`, or a Hoverfly `encodedBody` of gzip) is
//! decoded to be looked at; when something in it is replaced it stays decoded, marked as
//! such. Names are compared without regard to case. Not looked into: multipart bodies,
//! bodies that do not decode, and Hoverfly templates' literals and variables.

use crate::formats::query;
use crate::model::{Body, Bytes, Exchange, Headers, Matcher, Pair};
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// What a redacted value becomes.
pub const MARKER: &str = "REDACTED";

/// Headers redacted by default.
pub const DEFAULT_HEADERS: [&str; 5] = [
    "authorization",
    "cookie",
    "set-cookie",
    "proxy-authorization",
    "x-api-key",
];

/// Query parameters, form fields and JSON keys redacted by default: the names that commonly
/// carry credentials.
pub const DEFAULT_PARAMS: [&str; 8] = [
    "api_key",
    "apikey",
    "access_token",
    "token",
    "key",
    "password",
    "secret",
    "signature",
];

/// Headers whose value is a URL, whose query is redacted like the request target's.
const URL_HEADERS: [&str; 3] = ["referer", "location", "content-location"];

/// A `--redact-json` value: a JSON pointer (starts with `/`) or a key name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonField {
    /// RFC 6901 reference tokens, unescaped (`~1` is `/`, `~0` is `~`).
    Pointer(Vec<String>),
    /// A key matched at any depth.
    Name(String),
}

/// Why a `--redact-json` value did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a JSON pointer like /user/password or a key name like password, found {0:?}")]
pub struct JsonFieldError(String);

impl FromStr for JsonField {
    type Err = JsonFieldError;
    fn from_str(s: &str) -> Result<Self, JsonFieldError> {
        match s.strip_prefix('/') {
            Some(rest) => Ok(JsonField::Pointer(
                rest.split('/')
                    .map(|t| t.replace("~1", "/").replace("~0", "~"))
                    .collect(),
            )),
            None if s.trim().is_empty() => Err(JsonFieldError(s.to_owned())),
            None => Ok(JsonField::Name(s.to_owned())),
        }
    }
}

/// How many values were replaced, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Redacted {
    /// Header values (cookies not included).
    pub headers: u64,
    /// Cookie values, in `Cookie` and `Set-Cookie`.
    pub cookies: u64,
    /// Query parameters, in targets, URL headers and Hoverfly query matchers.
    pub query: u64,
    /// Form fields of form-encoded bodies.
    pub form: u64,
    /// JSON fields of bodies.
    pub json: u64,
    /// Copies in the metadata formats carry beside the model (HAR extras, http-types meta).
    pub metadata: u64,
}

impl Redacted {
    /// All kinds together.
    pub fn total(&self) -> u64 {
        self.headers + self.cookies + self.query + self.form + self.json + self.metadata
    }

    /// Adds `other` into this tally.
    pub fn merge(&mut self, other: &Redacted) {
        self.headers += other.headers;
        self.cookies += other.cookies;
        self.query += other.query;
        self.form += other.form;
        self.json += other.json;
        self.metadata += other.metadata;
    }
}

/// `redacted 5 values (headers 1, cookies 2, query 2)`.
impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.total();
        write!(
            f,
            "redacted {n} {}",
            if n == 1 { "value" } else { "values" }
        )?;
        let kinds = [
            ("headers", self.headers),
            ("cookies", self.cookies),
            ("query", self.query),
            ("form", self.form),
            ("json", self.json),
            ("metadata", self.metadata),
        ];
        let mut sep = " (";
        for (name, n) in kinds.into_iter().filter(|(_, n)| *n > 0) {
            write!(f, "{sep}{name} {n}")?;
            sep = ", ";
        }
        if sep == ", " {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// What to redact: the defaults plus the user's names.
#[derive(Debug, Clone)]
pub struct Redaction {
    headers: Vec<String>,
    params: Vec<String>,
    json: Vec<JsonField>,
}

impl Redaction {
    /// The default names plus `headers` (header names), `params` (query parameter and form
    /// field names) and `json` (JSON pointers and key names, besides [`DEFAULT_PARAMS`]).
    pub fn new(headers: &[String], params: &[String], json: &[JsonField]) -> Self {
        let names = |defaults: &[&str], extra: &[String]| {
            let mut all: Vec<String> = defaults.iter().map(|s| (*s).to_owned()).collect();
            all.extend(extra.iter().map(|s| s.to_ascii_lowercase()));
            all.sort();
            all.dedup();
            all
        };
        let mut json = json.to_vec();
        json.extend(
            DEFAULT_PARAMS
                .iter()
                .map(|n| JsonField::Name((*n).to_owned())),
        );
        Redaction {
            headers: names(&DEFAULT_HEADERS, headers),
            params: names(&DEFAULT_PARAMS, params),
            json,
        }
    }

    fn is_header(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    fn is_param(&self, name: &str) -> bool {
        self.params.iter().any(|p| p.eq_ignore_ascii_case(name))
    }

    fn is_json_name(&self, name: &str) -> bool {
        self.json
            .iter()
            .any(|f| matches!(f, JsonField::Name(n) if n.eq_ignore_ascii_case(name)))
    }

    /// Redacts everything in `ex`, counting into `tally`.
    pub fn exchange(&self, ex: &mut Exchange, tally: &mut Redacted) {
        let req = &mut ex.request;
        if let Some(t) = self.url(&req.target, &mut tally.query) {
            req.target = t;
        }
        self.headers(&mut req.headers, tally);
        self.headers(&mut req.trailers, tally);
        self.body(&mut req.body, &mut req.headers, tally);
        if let Some(resp) = &mut ex.response {
            self.headers(&mut resp.headers, tally);
            self.headers(&mut resp.trailers, tally);
            self.body(&mut resp.body, &mut resp.headers, tally);
        }
        for (key, value) in &mut ex.extra {
            self.metadata(key, value, &mut tally.metadata);
        }
    }

    /// Redacts a Hoverfly pair: its header, query and body matchers and its response.
    pub fn pair(&self, pair: &mut Pair, tally: &mut Redacted) {
        let r = &mut pair.request;
        let form_body = r.headers.iter().any(|(name, ms)| {
            name.eq_ignore_ascii_case("content-type")
                && ms
                    .iter()
                    .any(|m| m.value.as_str().is_some_and(is_form_type))
        });
        for (name, ms) in &mut r.headers {
            if self.is_header(name) {
                for m in ms {
                    self.matcher_strings(m, &mut |s| {
                        self.header_value(name, s, tally.for_header(name))
                    });
                }
            }
        }
        for (key, ms) in r.query.iter_mut().flatten() {
            if self.is_param(key) {
                for m in ms {
                    self.matcher_strings(m, &mut |s| replace(s, &mut tally.query));
                }
            }
        }
        for m in &mut r.deprecated_query {
            self.matcher_strings(m, &mut |s| self.query(s, &mut tally.query));
        }
        for m in &mut r.body {
            self.body_matcher(m, form_body, tally);
        }
        let resp = &mut pair.response;
        self.headers(&mut resp.headers, tally);
        self.body(&mut resp.body, &mut resp.headers, tally);
        // A template body is served as stored: one decoded here is served plain, without
        // the coding it no longer has, as Hoverfly's capture stores a decoded body.
        if resp.body.decoded_from.take().is_some() {
            resp.headers.remove("content-encoding");
            resp.headers.remove("content-length");
        }
    }

    /// Calls `f` on every string value of `m` (an `array` matcher's items too) and on its
    /// chain, replacing each with what `f` returns.
    fn matcher_strings(&self, m: &mut Matcher, f: &mut dyn FnMut(&str) -> Option<String>) {
        match &mut m.value {
            Value::String(s) => {
                if let Some(new) = f(s) {
                    *s = new;
                }
            }
            Value::Array(items) => {
                for item in items {
                    if let Value::String(s) = item {
                        if let Some(new) = f(s) {
                            *s = new;
                        }
                    }
                }
            }
            _ => {}
        }
        if let Some(next) = &mut m.do_match {
            self.matcher_strings(next, f);
        }
    }

    fn body_matcher(&self, m: &mut Matcher, form_body: bool, tally: &mut Redacted) {
        if m.is("form") {
            if let Value::Object(fields) = &mut m.value {
                for (key, ms) in fields {
                    if self.is_param(key) || self.is_json_name(key) {
                        redact_matcher_values(ms, &mut tally.form);
                    }
                }
            }
            return;
        }
        if !(m.is("exact") || m.is("json") || m.is("glob")) {
            return;
        }
        self.matcher_strings(m, &mut |s| {
            if let Some(bytes) = self.json(s.as_bytes(), &mut tally.json) {
                return String::from_utf8(bytes).ok();
            }
            if form_body {
                return self.query(s, &mut tally.form);
            }
            None
        });
    }

    fn headers(&self, headers: &mut Headers, tally: &mut Redacted) {
        for h in headers.iter_mut() {
            let new = if self.is_header(&h.name) {
                self.header_value(&h.name, &h.value, tally.for_header(&h.name))
            } else if URL_HEADERS.iter().any(|u| h.name.eq_ignore_ascii_case(u)) {
                self.url(&h.value, &mut tally.query)
            } else {
                None
            };
            if let Some(v) = new {
                h.value = v;
            }
        }
    }

    /// The redacted value of the sensitive header `name`, or `None` when nothing changed.
    fn header_value(&self, name: &str, value: &str, count: &mut u64) -> Option<String> {
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "cookie" => cookies(value, count),
            "set-cookie" => {
                let (cookie, attributes) = value.split_once(';').unwrap_or((value, ""));
                let mut new = cookies(cookie, count)?;
                if value.len() > cookie.len() {
                    new.push(';');
                    new.push_str(attributes);
                }
                Some(new)
            }
            "authorization" | "proxy-authorization" => match value.trim().split_once(' ') {
                Some((scheme, creds)) if !creds.trim().is_empty() => {
                    let new = format!("{scheme} {MARKER}");
                    (new != value).then(|| {
                        *count += 1;
                        new
                    })
                }
                _ => replace(value, count),
            },
            _ => replace(value, count),
        }
    }

    /// A URL or request target with its sensitive query (and fragment) parameters redacted.
    fn url(&self, url: &str, count: &mut u64) -> Option<String> {
        let q = url.find('?');
        let f = url.find('#');
        let query = q.map(|q| (q + 1, f.filter(|f| *f > q).unwrap_or(url.len())));
        let fragment = f.map(|f| (f + 1, url.len()));
        let mut out = url.to_owned();
        let mut changed = false;
        // The fragment first: it comes last, so the query's offsets still hold after it.
        for (start, end) in [fragment, query].into_iter().flatten() {
            if let Some(new) = self.query(&url[start..end], count) {
                out.replace_range(start..end, &new);
                changed = true;
            }
        }
        changed.then_some(out)
    }

    /// A query string (or form body) with the values of sensitive parameters redacted;
    /// everything else stays as written.
    fn query(&self, q: &str, count: &mut u64) -> Option<String> {
        let mut changed = false;
        let parts: Vec<String> = q
            .split('&')
            .map(|part| match part.split_once('=') {
                Some((name, value))
                    if value != MARKER && self.is_param(&query::unquote_plus(name)) =>
                {
                    *count += 1;
                    changed = true;
                    format!("{name}={MARKER}")
                }
                _ => part.to_owned(),
            })
            .collect();
        changed.then(|| parts.join("&"))
    }

    fn body(&self, body: &mut Body, headers: &mut Headers, tally: &mut Redacted) {
        let form = headers.first("content-type").is_some_and(is_form_type);
        let looks_json = |b: &[u8]| {
            b.iter()
                .find(|c| !c.is_ascii_whitespace())
                .is_some_and(|c| matches!(c, b'{' | b'['))
        };
        let redact = |bytes: &[u8], tally: &mut Redacted| -> Option<Vec<u8>> {
            if looks_json(bytes) {
                if let Some(new) = self.json(bytes, &mut tally.json) {
                    return Some(new);
                }
            }
            if form {
                let text = std::str::from_utf8(bytes).ok()?;
                return self.query(text, &mut tally.form).map(String::into_bytes);
            }
            None
        };
        if let Some(new) = redact(&body.bytes, tally) {
            body.bytes = Bytes::from(new);
            if body.decoded_from.is_none() && body.cut.is_none() {
                let len = body.bytes.len().to_string();
                for h in headers.iter_mut() {
                    if h.name.eq_ignore_ascii_case("content-length") {
                        h.value.clone_from(&len);
                    }
                }
            }
            return;
        }
        if body.decoded_from.is_some() || body.cut.is_some() {
            return;
        }
        let Some(plain) = crate::capture::http1::decode_content(headers, &body.bytes) else {
            return;
        };
        if let Some(new) = redact(&plain, tally) {
            body.decoded_from = headers.first("content-encoding").map(str::to_owned);
            body.bytes = Bytes::from(new);
        }
    }

    /// `bytes` with the values of matching fields replaced, when they are a JSON document
    /// and something matched.
    fn json(&self, bytes: &[u8], count: &mut u64) -> Option<Vec<u8>> {
        // Checked whole first, so the scan below can trust the syntax (and serde_json's
        // nesting limit bounds its recursion).
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes).ok()?;
        let mut scan = Scan {
            b: bytes,
            i: 0,
            spans: Vec::new(),
            rules: self,
        };
        scan.ws();
        scan.value(&mut Vec::new(), true);
        if scan.spans.is_empty() {
            return None;
        }
        let marker = format!("\"{MARKER}\"");
        let mut out = Vec::with_capacity(bytes.len());
        let mut at = 0;
        for (start, end) in scan.spans {
            out.extend_from_slice(&bytes[at..start]);
            out.extend_from_slice(marker.as_bytes());
            at = end;
            *count += 1;
        }
        out.extend_from_slice(&bytes[at..]);
        Some(out)
    }

    /// Scrubs metadata kept beside the model: HAR's name/value lists, URLs, and any key that
    /// names a sensitive header or JSON field.
    fn metadata(&self, key: &str, value: &mut Value, count: &mut u64) {
        let k = key.to_ascii_lowercase();
        match value {
            Value::Array(items) if matches!(k.as_str(), "headers" | "trailers") => {
                for (name, v) in name_values(items) {
                    if self.is_header(&name) {
                        if let Some(new) = self.header_value(&name, v, count) {
                            *v = new;
                        }
                    } else if URL_HEADERS.iter().any(|u| name.eq_ignore_ascii_case(u)) {
                        if let Some(new) = self.url(v, count) {
                            *v = new;
                        }
                    }
                }
            }
            Value::Array(items) if k == "cookies" => {
                for (_, v) in name_values(items) {
                    if let Some(new) = replace(v, count) {
                        *v = new;
                    }
                }
            }
            Value::Array(items) if matches!(k.as_str(), "querystring" | "params") => {
                for (name, v) in name_values(items) {
                    if self.is_param(&name) || self.is_json_name(&name) {
                        if let Some(new) = replace(v, count) {
                            *v = new;
                        }
                    }
                }
            }
            Value::String(s) if matches!(k.as_str(), "url" | "path" | "target") => {
                if let Some(new) = self.url(s, count) {
                    *s = new;
                }
            }
            Value::String(s) if self.is_header(&k) => {
                if let Some(new) = self.header_value(&k, s, count) {
                    *s = new;
                }
            }
            Value::String(s) if self.is_json_name(&k) || self.is_param(&k) => {
                if let Some(new) = replace(s, count) {
                    *s = new;
                }
            }
            Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_)
                if self.is_json_name(&k) =>
            {
                *value = Value::String(MARKER.to_owned());
                *count += 1;
            }
            Value::Array(items) => {
                for item in items {
                    self.metadata("", item, count);
                }
            }
            Value::Object(map) => {
                for (key, v) in map {
                    self.metadata(key, v, count);
                }
            }
            _ => {}
        }
    }
}

impl Redacted {
    /// The counter a sensitive header's values go to.
    fn for_header(&mut self, name: &str) -> &mut u64 {
        if name.eq_ignore_ascii_case("cookie") || name.eq_ignore_ascii_case("set-cookie") {
            &mut self.cookies
        } else {
            &mut self.headers
        }
    }
}

/// The `name`/`value` string pairs of a HAR list (headers, cookies, queryString, params).
fn name_values(items: &mut [Value]) -> impl Iterator<Item = (String, &mut String)> {
    items.iter_mut().filter_map(|item| {
        let obj = item.as_object_mut()?;
        let name = obj.get("name")?.as_str()?.to_owned();
        match obj.get_mut("value")? {
            Value::String(v) => Some((name, v)),
            _ => None,
        }
    })
}

/// Replaces the `value` of every matcher object in `ms` (a form matcher's field list).
fn redact_matcher_values(ms: &mut Value, count: &mut u64) {
    let Value::Array(ms) = ms else { return };
    for m in ms {
        if let Some(v) = m.get_mut("value") {
            match v {
                Value::String(s) if s == MARKER => {}
                _ => {
                    *v = Value::String(MARKER.to_owned());
                    *count += 1;
                }
            }
        }
    }
}

/// The marker in place of `value`, unless it already is the marker.
fn replace(value: &str, count: &mut u64) -> Option<String> {
    (value != MARKER).then(|| {
        *count += 1;
        MARKER.to_owned()
    })
}

/// A `Cookie` value (`a=1; b=2`) with every cookie's value redacted and names kept.
fn cookies(value: &str, count: &mut u64) -> Option<String> {
    let mut changed = false;
    let parts: Vec<String> = value
        .split(';')
        .map(|part| {
            let (name, v) = match part.split_once('=') {
                Some((name, v)) => (Some(name), v),
                None => (None, part.trim()),
            };
            if v.trim().is_empty() || v.trim() == MARKER {
                return part.to_owned();
            }
            *count += 1;
            changed = true;
            match name {
                Some(name) => format!("{name}={MARKER}"),
                None => {
                    let lead = &part[..part.len() - part.trim_start().len()];
                    format!("{lead}{MARKER}")
                }
            }
        })
        .collect();
    changed.then(|| parts.join(";"))
}

fn is_form_type(ct: &str) -> bool {
    ct.split(';').next().is_some_and(|t| {
        t.trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}

/// A walk over JSON that is known to be valid, collecting the byte spans of values to
/// replace.
struct Scan<'a> {
    b: &'a [u8],
    i: usize,
    spans: Vec<(usize, usize)>,
    rules: &'a Redaction,
}

impl Scan<'_> {
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    /// Moves past the value at `i`; `look` is false inside a value already being replaced.
    fn value(&mut self, path: &mut Vec<String>, look: bool) {
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                loop {
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b'}') => {
                            self.i += 1;
                            return;
                        }
                        Some(b',') => {
                            self.i += 1;
                            continue;
                        }
                        Some(b'"') => {}
                        _ => return,
                    }
                    let key_start = self.i;
                    self.string();
                    let key: String =
                        serde_json::from_slice(&self.b[key_start..self.i]).unwrap_or_default();
                    self.ws();
                    self.i += 1; // the colon
                    self.ws();
                    let start = self.i;
                    path.push(key);
                    let hit = look && self.matches(path);
                    self.value(path, look && !hit);
                    path.pop();
                    if hit && &self.b[start..self.i] != format!("\"{MARKER}\"").as_bytes() {
                        self.spans.push((start, self.i));
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut index = 0usize;
                loop {
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b']') => {
                            self.i += 1;
                            return;
                        }
                        Some(b',') => {
                            self.i += 1;
                            continue;
                        }
                        None => return,
                        _ => {}
                    }
                    let start = self.i;
                    path.push(index.to_string());
                    let hit = look && self.matches_pointer(path);
                    self.value(path, look && !hit);
                    path.pop();
                    if hit {
                        self.spans.push((start, self.i));
                    }
                    index += 1;
                }
            }
            Some(b'"') => self.string(),
            Some(_) => {
                while self
                    .b
                    .get(self.i)
                    .is_some_and(|c| !matches!(c, b',' | b']' | b'}') && !c.is_ascii_whitespace())
                {
                    self.i += 1;
                }
            }
            None => {}
        }
    }

    fn string(&mut self) {
        self.i += 1;
        while let Some(&c) = self.b.get(self.i) {
            self.i += 1;
            match c {
                b'\\' => self.i += 1,
                b'"' => return,
                _ => {}
            }
        }
    }

    fn matches(&self, path: &[String]) -> bool {
        let key = path.last().map_or("", String::as_str);
        self.rules.is_json_name(key) || self.matches_pointer(path)
    }

    fn matches_pointer(&self, path: &[String]) -> bool {
        self.rules
            .json
            .iter()
            .any(|f| matches!(f, JsonField::Pointer(p) if p == path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Redaction {
        Redaction::new(
            &["X-Session".into()],
            &["sid".into()],
            &["/user/pin".parse().unwrap(), "card".parse().unwrap()],
        )
    }

    macro_rules! json {
        ($in:expr => $out:expr) => {{
            let mut n = 0;
            let got = rules().json($in.as_bytes(), &mut n);
            assert_eq!(
                got.as_deref().map(|b| std::str::from_utf8(b).unwrap()),
                $out
            );
        }};
    }

    #[test]
    fn json_fields_by_name_and_pointer_keep_the_rest_byte_for_byte() {
        json!(r#"{"user": {"pin": 1234, "name": "a"},  "Password":"x"}"# =>
            Some(r#"{"user": {"pin": "REDACTED", "name": "a"},  "Password":"REDACTED"}"#));
        json!(r#"[{"card": {"no": "4111"}}, {"pin": 1}]"# =>
            Some(r#"[{"card": "REDACTED"}, {"pin": 1}]"#));
        json!(r#"{"token":"REDACTED"}"# => None);
        json!(r#"{"a":"b\"token\": 1"}"# => None);
        json!(r#"{"token": 1"# => None);
        json!("not json" => None);
    }

    #[test]
    fn json_pointer_tokens_unescape() {
        let f: JsonField = "/a~1b/~0c/0".parse().unwrap();
        assert_eq!(
            f,
            JsonField::Pointer(vec!["a/b".into(), "~c".into(), "0".into()])
        );
        assert!("".parse::<JsonField>().is_err());
    }

    #[test]
    fn query_values_are_redacted_names_kept() {
        let r = rules();
        let mut n = 0;
        assert_eq!(
            r.url("/a?x=1&API_KEY=s3&sid=9&token#access_token=t", &mut n)
                .as_deref(),
            Some("/a?x=1&API_KEY=REDACTED&sid=REDACTED&token#access_token=REDACTED")
        );
        assert_eq!(n, 3);
        assert_eq!(r.url("/a?x=1", &mut n), None);
        assert_eq!(r.url("/a#x", &mut n), None);
    }

    #[test]
    fn cookies_keep_names_and_attributes() {
        let r = rules();
        let mut n = 0;
        assert_eq!(
            r.header_value("Cookie", "a=1; b=2; c", &mut n).as_deref(),
            Some("a=REDACTED; b=REDACTED; REDACTED")
        );
        assert_eq!(
            r.header_value("set-cookie", "id=9; Path=/; HttpOnly", &mut n)
                .as_deref(),
            Some("id=REDACTED; Path=/; HttpOnly")
        );
        assert_eq!(
            r.header_value("Authorization", "Bearer abc", &mut n)
                .as_deref(),
            Some("Bearer REDACTED")
        );
        assert_eq!(
            r.header_value("x-session", "abc", &mut n).as_deref(),
            Some(MARKER)
        );
        assert_eq!(
            r.header_value("authorization", "Bearer REDACTED", &mut n),
            None
        );
        assert_eq!(n, 6);
    }

    #[test]
    fn har_copies_in_metadata_are_scrubbed() {
        let r = rules();
        let mut extra = serde_json::json!({"entry": {"request": {
            "url": "http://h/?token=t1",
            "headers": [{"name": "authorization", "value": "Basic dTpw"}, {"name": "a", "value": "b"}],
            "cookies": [{"name": "s", "value": "c1"}],
            "queryString": [{"name": "token", "value": "t1"}, {"name": "q", "value": "v"}],
            "postData": {"params": [{"name": "password", "value": "p1"}]}
        }}});
        let mut n = 0;
        r.metadata("har", &mut extra, &mut n);
        let text = extra.to_string();
        for secret in ["t1", "dTpw", "c1", "p1"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains(r#""value":"b""#) && text.contains(r#""value":"v""#));
        assert_eq!(n, 5);
    }
}
