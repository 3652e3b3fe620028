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

mod json;

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

/// The shortest redacted value that is also looked for elsewhere in its exchange (see
/// [`Redaction::exchange`]): a shorter one (a cookie `1`) would hit unrelated text.
pub const MIN_ECHO_BYTES: usize = 6;

/// Where a replacement is counted, and the values replaced, to find their echoes.
struct Hits<'a> {
    count: &'a mut u64,
    found: &'a mut Vec<String>,
}

impl Hits<'_> {
    /// Counts one replacement of `old`.
    fn hit(&mut self, old: &str) {
        *self.count += 1;
        self.also(old);
    }

    /// Remembers another spelling of a value just counted (a query value as written).
    fn also(&mut self, old: &str) {
        let old = old.trim();
        if old.len() >= MIN_ECHO_BYTES && old != MARKER {
            self.found.push(old.to_owned());
        }
    }
}

/// The kinds [`Redacted`] counts.
#[derive(Clone, Copy)]
enum Kind {
    Headers,
    Cookies,
    Query,
    Form,
    Json,
    Metadata,
}

/// One exchange's (or pair's) redaction: the run's tally and the values replaced so far.
struct Pass<'a> {
    tally: &'a mut Redacted,
    found: Vec<String>,
}

impl<'a> Pass<'a> {
    fn new(tally: &'a mut Redacted) -> Self {
        Pass {
            tally,
            found: Vec::new(),
        }
    }

    fn at(&mut self, kind: Kind) -> Hits<'_> {
        let t = &mut *self.tally;
        let count = match kind {
            Kind::Headers => &mut t.headers,
            Kind::Cookies => &mut t.cookies,
            Kind::Query => &mut t.query,
            Kind::Form => &mut t.form,
            Kind::Json => &mut t.json,
            Kind::Metadata => &mut t.metadata,
        };
        Hits {
            count,
            found: &mut self.found,
        }
    }

    /// Where a sensitive header's values are counted.
    fn header(&mut self, name: &str) -> Hits<'_> {
        if name.eq_ignore_ascii_case("cookie") || name.eq_ignore_ascii_case("set-cookie") {
            self.at(Kind::Cookies)
        } else {
            self.at(Kind::Headers)
        }
    }

    /// The values replaced, longest first, so a value that contains another is replaced
    /// whole.
    fn echoes(&mut self) -> Vec<String> {
        let mut found = std::mem::take(&mut self.found);
        found.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        found.dedup();
        found
    }
}

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
    /// Redacted values found again elsewhere in their exchange (a server echoing a cookie).
    pub echoes: u64,
}

impl Redacted {
    /// All kinds together.
    pub fn total(&self) -> u64 {
        self.headers
            + self.cookies
            + self.query
            + self.form
            + self.json
            + self.metadata
            + self.echoes
    }

    /// Adds `other` into this tally.
    pub fn merge(&mut self, other: &Redacted) {
        self.headers += other.headers;
        self.cookies += other.cookies;
        self.query += other.query;
        self.form += other.form;
        self.json += other.json;
        self.metadata += other.metadata;
        self.echoes += other.echoes;
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
            ("echoes", self.echoes),
        ];
        super::write_counts(f, kinds.into_iter().filter(|(_, n)| *n > 0))
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

    /// Redacts everything in `ex`, counting into `tally`. Then every value replaced (of at
    /// least [`MIN_ECHO_BYTES`]) is replaced wherever else it occurs in the exchange: a
    /// server that echoes the request's cookie in its body (a debug endpoint, an error page)
    /// echoes the secret. Echoes are looked for within one exchange only, so the result
    /// does not depend on the order exchanges are read in.
    pub fn exchange(&self, ex: &mut Exchange, tally: &mut Redacted) {
        let pass = &mut Pass::new(tally);
        let req = &mut ex.request;
        if let Some(t) = self.url(&req.target, &mut pass.at(Kind::Query)) {
            req.target = t;
        }
        self.headers(&mut req.headers, pass);
        self.headers(&mut req.trailers, pass);
        self.body(&mut req.body, &mut req.headers, pass);
        if let Some(resp) = &mut ex.response {
            self.headers(&mut resp.headers, pass);
            self.headers(&mut resp.trailers, pass);
            self.body(&mut resp.body, &mut resp.headers, pass);
        }
        for (key, value) in &mut ex.extra {
            self.metadata(key, value, &mut pass.at(Kind::Metadata));
        }
        let echoes = pass.echoes();
        if echoes.is_empty() {
            return;
        }
        let n = &mut pass.tally.echoes;
        let req = &mut ex.request;
        if let Some(t) = echo(&req.target, &echoes, n) {
            req.target = t;
        }
        echo_headers(&mut req.headers, &echoes, n);
        echo_headers(&mut req.trailers, &echoes, n);
        echo_body(&mut req.body, &mut req.headers, &echoes, n);
        if let Some(resp) = &mut ex.response {
            echo_headers(&mut resp.headers, &echoes, n);
            echo_headers(&mut resp.trailers, &echoes, n);
            echo_body(&mut resp.body, &mut resp.headers, &echoes, n);
        }
        for value in ex.extra.values_mut() {
            echo_value(value, &echoes, n);
        }
    }

    /// Redacts a Hoverfly pair: its header, query and body matchers and its response, and
    /// echoes of what was replaced in the response and the matchers (see
    /// [`Redaction::exchange`]).
    pub fn pair(&self, pair: &mut Pair, tally: &mut Redacted) {
        let pass = &mut Pass::new(tally);
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
                        self.header_value(name, s, &mut pass.header(name))
                    });
                }
            }
        }
        for (key, ms) in r.query.iter_mut().flatten() {
            if self.is_param(key) {
                for m in ms {
                    self.matcher_strings(m, &mut |s| replace(s, &mut pass.at(Kind::Query)));
                }
            }
        }
        for m in &mut r.deprecated_query {
            self.matcher_strings(m, &mut |s| self.query(s, &mut pass.at(Kind::Query)));
        }
        for m in &mut r.body {
            self.body_matcher(m, form_body, pass);
        }
        let resp = &mut pair.response;
        self.headers(&mut resp.headers, pass);
        self.body(&mut resp.body, &mut resp.headers, pass);
        // A template body is served as stored: one decoded here is served plain, without
        // the coding it no longer has, as Hoverfly's capture stores a decoded body.
        if resp.body.decoded_from.take().is_some() {
            resp.headers.remove("content-encoding");
            resp.headers.remove("content-length");
        }
        let echoes = pass.echoes();
        if echoes.is_empty() {
            return;
        }
        let n = &mut pass.tally.echoes;
        echo_headers(&mut resp.headers, &echoes, n);
        echo_body(&mut resp.body, &mut resp.headers, &echoes, n);
        let r = &mut pair.request;
        let fields = [&mut r.path, &mut r.body, &mut r.deprecated_query];
        let named = r.headers.iter_mut().chain(r.query.iter_mut().flatten());
        for ms in fields.into_iter().chain(named.map(|(_, ms)| ms)) {
            for m in ms {
                self.matcher_strings(m, &mut |s| echo(s, &echoes, n));
            }
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

    fn body_matcher(&self, m: &mut Matcher, form_body: bool, pass: &mut Pass<'_>) {
        if m.is("form") {
            if let Value::Object(fields) = &mut m.value {
                for (key, ms) in fields {
                    if self.is_param(key) {
                        redact_matcher_values(ms, &mut pass.at(Kind::Form));
                    }
                }
            }
            return;
        }
        if !(m.is("exact") || m.is("json") || m.is("glob")) {
            return;
        }
        self.matcher_strings(m, &mut |s| {
            if let Some(bytes) = self.json(s.as_bytes(), &mut pass.at(Kind::Json)) {
                return String::from_utf8(bytes).ok();
            }
            if form_body {
                return self.query(s, &mut pass.at(Kind::Form));
            }
            None
        });
    }

    fn headers(&self, headers: &mut Headers, pass: &mut Pass<'_>) {
        for h in headers.iter_mut() {
            let new = if self.is_header(&h.name) {
                self.header_value(&h.name, &h.value, &mut pass.header(&h.name))
            } else if URL_HEADERS.iter().any(|u| h.name.eq_ignore_ascii_case(u)) {
                self.url(&h.value, &mut pass.at(Kind::Query))
            } else {
                None
            };
            if let Some(v) = new {
                h.value = v;
            }
        }
    }

    /// The redacted value of the sensitive header `name`, or `None` when nothing changed.
    fn header_value(&self, name: &str, value: &str, hits: &mut Hits<'_>) -> Option<String> {
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "cookie" => cookies(value, hits),
            "set-cookie" => {
                let (cookie, attributes) = value.split_once(';').unwrap_or((value, ""));
                let mut new = cookies(cookie, hits)?;
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
                        hits.hit(creds);
                        new
                    })
                }
                _ => replace(value, hits),
            },
            _ => replace(value, hits),
        }
    }

    /// A URL or request target with its sensitive query (and fragment) parameters redacted.
    fn url(&self, url: &str, hits: &mut Hits<'_>) -> Option<String> {
        let q = url.find('?');
        let f = url.find('#');
        let query = q.map(|q| (q + 1, f.filter(|f| *f > q).unwrap_or(url.len())));
        let fragment = f.map(|f| (f + 1, url.len()));
        let mut out = url.to_owned();
        let mut changed = false;
        // The fragment first: it comes last, so the query's offsets still hold after it.
        for (start, end) in [fragment, query].into_iter().flatten() {
            if let Some(new) = self.query(&url[start..end], hits) {
                out.replace_range(start..end, &new);
                changed = true;
            }
        }
        changed.then_some(out)
    }

    /// A query string (or form body) with the values of sensitive parameters redacted;
    /// everything else stays as written.
    fn query(&self, q: &str, hits: &mut Hits<'_>) -> Option<String> {
        let mut changed = false;
        let parts: Vec<String> = q
            .split('&')
            .map(|part| match part.split_once('=') {
                Some((name, value))
                    if value != MARKER && self.is_param(&query::unquote_plus(name)) =>
                {
                    hits.hit(&query::unquote_plus(value));
                    hits.also(value);
                    changed = true;
                    format!("{name}={MARKER}")
                }
                _ => part.to_owned(),
            })
            .collect();
        changed.then(|| parts.join("&"))
    }

    fn body(&self, body: &mut Body, headers: &mut Headers, pass: &mut Pass<'_>) {
        let form = headers.first("content-type").is_some_and(is_form_type);
        let looks_json = |b: &[u8]| {
            b.iter()
                .find(|c| !c.is_ascii_whitespace())
                .is_some_and(|c| matches!(c, b'{' | b'['))
        };
        let redact = |bytes: &[u8], pass: &mut Pass<'_>| -> Option<Vec<u8>> {
            if looks_json(bytes) {
                if let Some(new) = self.json(bytes, &mut pass.at(Kind::Json)) {
                    return Some(new);
                }
            }
            if form {
                let text = std::str::from_utf8(bytes).ok()?;
                return self
                    .query(text, &mut pass.at(Kind::Form))
                    .map(String::into_bytes);
            }
            None
        };
        if let Some(new) = redact(&body.bytes, pass) {
            set_body(body, headers, new);
            return;
        }
        if body.decoded_from.is_some() || body.cut.is_some() {
            return;
        }
        let Some(plain) = crate::capture::http1::decode_content(headers, &body.bytes) else {
            return;
        };
        if let Some(new) = redact(&plain, pass) {
            body.decoded_from = headers.first("content-encoding").map(str::to_owned);
            body.bytes = Bytes::from(new);
        }
    }

    /// Scrubs metadata kept beside the model: HAR's name/value lists, URLs, and any key that
    /// names a sensitive header or JSON field.
    fn metadata(&self, key: &str, value: &mut Value, hits: &mut Hits<'_>) {
        let k = key.to_ascii_lowercase();
        match value {
            Value::Array(items) if matches!(k.as_str(), "headers" | "trailers") => {
                for (name, v) in name_values(items) {
                    if self.is_header(&name) {
                        if let Some(new) = self.header_value(&name, v, hits) {
                            *v = new;
                        }
                    } else if URL_HEADERS.iter().any(|u| name.eq_ignore_ascii_case(u)) {
                        if let Some(new) = self.url(v, hits) {
                            *v = new;
                        }
                    }
                }
            }
            Value::Array(items) if k == "cookies" => {
                for (_, v) in name_values(items) {
                    if let Some(new) = replace(v, hits) {
                        *v = new;
                    }
                }
            }
            Value::Array(items) if matches!(k.as_str(), "querystring" | "params") => {
                for (name, v) in name_values(items) {
                    if self.is_param(&name) {
                        if let Some(new) = replace(v, hits) {
                            *v = new;
                        }
                    }
                }
            }
            Value::String(s) if matches!(k.as_str(), "url" | "path" | "target") => {
                if let Some(new) = self.url(s, hits) {
                    *s = new;
                }
            }
            Value::String(s) if self.is_header(&k) => {
                if let Some(new) = self.header_value(&k, s, hits) {
                    *s = new;
                }
            }
            Value::String(s) if self.is_json_name(&k) || self.is_param(&k) => {
                if let Some(new) = replace(s, hits) {
                    *s = new;
                }
            }
            Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_)
                if self.is_json_name(&k) =>
            {
                hits.hit(&value.to_string());
                *value = Value::String(MARKER.to_owned());
            }
            Value::Array(items) => {
                for item in items {
                    self.metadata("", item, hits);
                }
            }
            Value::Object(map) => {
                for (key, v) in map {
                    self.metadata(key, v, hits);
                }
            }
            _ => {}
        }
    }
}

/// Puts `new` in place of a body's bytes; a `Content-Length` of the bytes as they are
/// follows them (one of a body still to be encoded, or of a cut one, says something else).
fn set_body(body: &mut Body, headers: &mut Headers, new: Vec<u8>) {
    body.bytes = Bytes::from(new);
    if body.decoded_from.is_none() && body.cut.is_none() {
        let len = body.bytes.len().to_string();
        for h in headers.iter_mut() {
            if h.name.eq_ignore_ascii_case("content-length") {
                h.value.clone_from(&len);
            }
        }
    }
}

/// `s` with every occurrence of the `echoes` replaced, when there is one.
fn echo(s: &str, echoes: &[String], count: &mut u64) -> Option<String> {
    let bytes = echo_bytes(s.as_bytes(), echoes, count)?;
    String::from_utf8(bytes).ok()
}

fn echo_bytes(b: &[u8], echoes: &[String], count: &mut u64) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for e in echoes {
        let hay = out.as_deref().unwrap_or(b);
        let at: Vec<usize> = memchr::memmem::find_iter(hay, e.as_bytes()).collect();
        if at.is_empty() {
            continue;
        }
        let mut next = Vec::with_capacity(hay.len());
        let mut from = 0;
        for i in at {
            // Occurrences can overlap (`aaaaaa` in `aaaaaaa`): the first one wins.
            if i < from {
                continue;
            }
            next.extend_from_slice(&hay[from..i]);
            next.extend_from_slice(MARKER.as_bytes());
            from = i + e.len();
            *count += 1;
        }
        next.extend_from_slice(&hay[from..]);
        out = Some(next);
    }
    out
}

fn echo_headers(headers: &mut Headers, echoes: &[String], count: &mut u64) {
    for h in headers.iter_mut() {
        if let Some(v) = echo(&h.value, echoes, count) {
            h.value = v;
        }
    }
}

fn echo_body(body: &mut Body, headers: &mut Headers, echoes: &[String], count: &mut u64) {
    if let Some(new) = echo_bytes(&body.bytes, echoes, count) {
        set_body(body, headers, new);
    }
}

fn echo_value(v: &mut Value, echoes: &[String], count: &mut u64) {
    match v {
        Value::String(s) => {
            if let Some(new) = echo(s, echoes, count) {
                *s = new;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| echo_value(i, echoes, count)),
        Value::Object(map) => map.values_mut().for_each(|i| echo_value(i, echoes, count)),
        _ => {}
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
fn redact_matcher_values(ms: &mut Value, hits: &mut Hits<'_>) {
    let Value::Array(ms) = ms else { return };
    for m in ms {
        if let Some(v) = m.get_mut("value") {
            match v {
                Value::String(s) if s == MARKER => {}
                _ => {
                    hits.hit(
                        v.as_str()
                            .map_or_else(|| v.to_string(), str::to_owned)
                            .as_str(),
                    );
                    *v = Value::String(MARKER.to_owned());
                }
            }
        }
    }
}

/// The marker in place of `value`, unless it already is the marker.
fn replace(value: &str, hits: &mut Hits<'_>) -> Option<String> {
    (value != MARKER).then(|| {
        hits.hit(value);
        MARKER.to_owned()
    })
}

/// A `Cookie` value (`a=1; b=2`) with every cookie's value redacted and names kept.
fn cookies(value: &str, hits: &mut Hits<'_>) -> Option<String> {
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
            hits.hit(v);
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

    /// Runs `f` with a fresh counter; returns what it gave and the count.
    fn counted<T>(f: impl FnOnce(&mut Hits<'_>) -> T) -> (T, u64) {
        let (mut count, mut found) = (0, Vec::new());
        let got = f(&mut Hits {
            count: &mut count,
            found: &mut found,
        });
        (got, count)
    }

    macro_rules! json {
        ($in:expr => $out:expr) => {{
            let (got, _) = counted(|h| rules().json($in.as_bytes(), h));
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
    fn json_bodies_nested_a_million_deep_are_redacted_on_a_small_stack() {
        let depth = 1_000_000;
        let body = |secret: &str| {
            format!(
                r#"{{"a":{}{{"token":{secret},"b":[1, {{}}]}}{}}}"#,
                "[".repeat(depth),
                "]".repeat(depth)
            )
        };
        json!(body("\"s3cret\"") => Some(body("\"REDACTED\"").as_str()));
        json!(body("[1, {\"c\": 2}]") => Some(body("\"REDACTED\"").as_str()));
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
        let (got, n) = counted(|h| r.url("/a?x=1&API_KEY=s3&sid=9&token#access_token=t", h));
        assert_eq!(
            got.as_deref(),
            Some("/a?x=1&API_KEY=REDACTED&sid=REDACTED&token#access_token=REDACTED")
        );
        assert_eq!(n, 3);
        assert_eq!(counted(|h| r.url("/a?x=1", h)), (None, 0));
        assert_eq!(counted(|h| r.url("/a#x", h)), (None, 0));
    }

    #[test]
    fn cookies_keep_names_and_attributes() {
        let r = rules();
        let header = |name: &str, value: &str| counted(|h| r.header_value(name, value, h));
        let redacted = |s: &str, n| (Some(s.to_owned()), n);
        assert_eq!(
            header("Cookie", "a=1; b=2; c"),
            redacted("a=REDACTED; b=REDACTED; REDACTED", 3)
        );
        assert_eq!(
            header("set-cookie", "id=9; Path=/; HttpOnly"),
            redacted("id=REDACTED; Path=/; HttpOnly", 1)
        );
        assert_eq!(
            header("Authorization", "Bearer abc"),
            redacted("Bearer REDACTED", 1)
        );
        assert_eq!(header("x-session", "abc"), redacted(MARKER, 1));
        assert_eq!(header("authorization", "Bearer REDACTED"), (None, 0));
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
        let ((), n) = counted(|h| r.metadata("har", &mut extra, h));
        let text = extra.to_string();
        for secret in ["t1", "dTpw", "c1", "p1"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains(r#""value":"b""#) && text.contains(r#""value":"v""#));
        assert_eq!(n, 5);
    }

    #[test]
    fn echoes_of_a_redacted_value_are_replaced_too() {
        let text = r#"{"request":{"method":"get","protocol":"http","host":"a.test","path":"/?token=tok-123456","headers":{"Cookie":"sid=abcdef12; x=1"}},"response":{"statusCode":200,"headers":{},"body":"you sent sid=abcdef12 and tok-123456, x=1"}}"#;
        let mut ex =
            crate::formats::http_types::parse_exchange(text.as_bytes(), Default::default())
                .unwrap();
        let mut tally = Redacted::default();
        rules().exchange(&mut ex, &mut tally);
        let body = ex.response.unwrap().body;
        assert_eq!(
            body.as_text(),
            Some("you sent sid=REDACTED and REDACTED, x=1")
        );
        assert_eq!((tally.cookies, tally.query, tally.echoes), (2, 1, 2));
    }
}
