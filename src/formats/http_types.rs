//! http-types JSONL: one `HttpExchange` object per line (meeshkan/http-types, the input of
//! HMT's `hmt build`).
//!
//! The reader is lenient where the published schema is (only `path`, `pathname` + `query`, or
//! `url`; header and query values as a string or a list; `null` bodies) and precise where it is
//! not: every error names the line and the JSON pointer. The writer emits the profile that the
//! schema and every real reader accept (py-http-types 0.0.18, ts- and java-http-types): lower-case
//! method, `protocol`, non-empty `host`, `path` + `pathname` + `query` together, both `headers`
//! objects, `response.body`, UTC timestamps with an offset, no extra keys.
//! What http-types has no field for (HTTP version, reason phrase, trailers, undone
//! `Content-Encoding`, 1xx responses) goes in `meta.wirecap` so wirecap reads it back losslessly.

use super::json::{self, JsonError};
use super::query;
use crate::loss::{LossKind, Losses};
use crate::memo::{Found, Memo};
use crate::model::{
    Body, Cut, Exchange, Headers, Location, Request, Response, Scheme, Source, Timestamp, TlsInfo,
};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use std::io::{self, BufRead, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest line the reader accepts. A line is parsed in one piece, so this bounds memory per
/// line; 64 MiB holds any realistic exchange while stopping a runaway file early.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// The methods http-types can name (schema enum; readers compare lower-case).
const METHODS: [&str; 9] = [
    "get", "put", "post", "patch", "delete", "options", "trace", "head", "connect",
];

/// The key inside `meta` where wirecap keeps what http-types has no field for.
const META_KEY: &str = "wirecap";

/// Why a line could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The line is not a valid exchange.
    #[error("{file}:{line}: {error}")]
    Json {
        /// The input's display name.
        file: String,
        /// 1-based line number.
        line: u64,
        /// Pointer and message.
        error: JsonError,
    },
    /// An empty or whitespace-only line: JSONL allows none, and py-http-types fails on them.
    /// The pointer is `/`, the whole line, as for every other line-level error.
    #[error("{file}:{line}: /: blank line, expected one JSON object per line")]
    BlankLine {
        /// The input's display name.
        file: String,
        /// 1-based line number.
        line: u64,
    },
    /// A line longer than the limit.
    #[error(
        "{file}:{line}: /: line longer than {limit} bytes, expected at most {limit} (raise it with --max-line-bytes)"
    )]
    LineTooLong {
        /// The input's display name.
        file: String,
        /// 1-based line number.
        line: u64,
        /// The limit in bytes.
        limit: usize,
    },
    /// Reading the input failed.
    #[error("reading {file}")]
    Io {
        /// The input's display name.
        file: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// Whether reading can go on with the next line (`--keep-going`).
    pub fn is_recoverable(&self) -> bool {
        !matches!(self, Error::Io { .. })
    }
}

/// Streams exchanges from http-types JSONL, one line at a time.
pub struct Reader<R> {
    input: R,
    file: String,
    line: u64,
    buf: Vec<u8>,
    max_line: usize,
    failed: bool,
}

impl<R: BufRead> Reader<R> {
    /// A reader over `input`, named `file` in errors and provenance.
    pub fn new(input: R, file: impl Into<String>, max_line: usize) -> Self {
        Self {
            input,
            file: file.into(),
            line: 0,
            buf: Vec::new(),
            max_line,
            failed: false,
        }
    }

    fn read_line(&mut self) -> Option<Result<(), Error>> {
        self.buf.clear();
        let limit = self.max_line as u64 + 1;
        let io = |source| Error::Io {
            file: self.file.clone(),
            source,
        };
        let n = match std::io::Read::take(&mut self.input, limit).read_until(b'\n', &mut self.buf) {
            Ok(n) => n,
            Err(e) => return Some(Err(io(e))),
        };
        if n == 0 {
            return None;
        }
        self.line += 1;
        if self.buf.last() != Some(&b'\n') && self.buf.len() > self.max_line {
            if let Err(e) = self.input.skip_until(b'\n') {
                return Some(Err(io(e)));
            }
            return Some(Err(Error::LineTooLong {
                file: self.file.clone(),
                line: self.line,
                limit: self.max_line,
            }));
        }
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        Some(Ok(()))
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Exchange, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let read = self.read_line()?;
        if let Err(e) = read {
            self.failed = matches!(e, Error::Io { .. });
            return Some(Err(e));
        }
        if self.buf.iter().all(u8::is_ascii_whitespace) {
            return Some(Err(Error::BlankLine {
                file: self.file.clone(),
                line: self.line,
            }));
        }
        let source = Source {
            file: Some(self.file.clone()),
            location: Some(Location::Line(self.line)),
            ..Source::default()
        };
        Some(
            parse_exchange(&self.buf, source).map_err(|error| Error::Json {
                file: self.file.clone(),
                line: self.line,
                error,
            }),
        )
    }
}

/// Parses one http-types exchange from JSON text.
pub fn parse_exchange(bytes: &[u8], source: Source) -> Result<Exchange, JsonError> {
    let view: ExchangeView = json::from_slice(bytes).map_err(|e| not_an_object(bytes, e))?;
    view.into_exchange(source)
}

/// Whether `head`, the start of an http-types input, is one JSON document rather than JSONL: a
/// JSON array of exchanges, or one exchange pretty-printed over several lines (what people
/// paste from logs and docs), whose first line is a lone `{`.
pub fn is_document(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let Some(start) = head.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    match head[start] {
        b'[' => true,
        b'{' => {
            let rest = &head[start + 1..];
            let line = rest.split(|&b| b == b'\n').next().unwrap_or(rest);
            line.iter().all(u8::is_ascii_whitespace) && rest.contains(&b'\n')
        }
        _ => false,
    }
}

/// Reads an http-types document (see [`is_document`]): each exchange of an array, located by
/// its index, or the one exchange. Errors give the line within the document and a pointer
/// from its root.
pub fn read_document(bytes: &[u8], file: &str) -> Vec<Result<Exchange, Error>> {
    let json_err = |line: usize, error: JsonError| Error::Json {
        file: file.to_owned(),
        line: line as u64,
        error,
    };
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let first = text.iter().position(|b| !b.is_ascii_whitespace());
    if first.and_then(|i| text.get(i)) != Some(&b'[') {
        let source = Source {
            file: Some(file.to_owned()),
            location: Some(Location::Line(1)),
            ..Source::default()
        };
        return vec![parse_exchange(text, source).map_err(|e| json_err(e.line, e))];
    }
    let items: Vec<&serde_json::value::RawValue> = match serde_json::from_slice(text) {
        Ok(items) => items,
        Err(e) => {
            let error = JsonError {
                pointer: String::new(),
                line: e.line(),
                column: e.column(),
                message: super::json::strip_position(&e.to_string()),
            };
            return vec![Err(json_err(error.line, error))];
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let raw = item.get().as_bytes();
            // The element is a slice of `text`: its first line is the document's line there.
            let offset = (raw.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
            let base = text[..offset.min(text.len())]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            let source = Source {
                file: Some(file.to_owned()),
                location: Some(Location::Index(i as u64)),
                ..Source::default()
            };
            parse_exchange(raw, source).map_err(|mut e| {
                e.pointer = format!("/{i}{}", e.pointer);
                e.line += base;
                json_err(e.line, e)
            })
        })
        .collect()
}

/// Rewords a failure where the line, `request` or `response` is not an object.
///
/// serde's derive names the private view struct there ("null, expected struct ExchangeView"),
/// and reads an array as the struct's fields in order, so it reports a pointer into the array
/// ("/0/request: unknown field"). Users should read "an array, expected an object" at the
/// value itself. Runs on the error path only: the line is parsed again as a plain value.
fn not_an_object(bytes: &[u8], error: JsonError) -> JsonError {
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        // Too deep or broken to parse as a value; an array is still told by its first byte.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'[') {
            return JsonError {
                pointer: String::new(),
                message: "an array, expected an object".to_owned(),
                ..error
            };
        }
        return error;
    };
    let (pointer, found) = match &value {
        Value::Object(root) => match (root.get("request"), root.get("response")) {
            (Some(v), _) if !v.is_object() => ("/request", v),
            (_, Some(v)) if !v.is_object() && !v.is_null() => ("/response", v),
            _ => return error,
        },
        other => ("", other),
    };
    JsonError {
        pointer: pointer.to_owned(),
        message: format!("{}, expected an object", describe(found)),
        ..error
    }
}

/// A JSON value's kind, in the words serde uses for the other type errors.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) if n.is_f64() => format!("floating point `{n}`"),
        Value::Number(n) => format!("integer `{n}`"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeView {
    request: RequestView,
    response: Option<ResponseView>,
    #[serde(default)]
    meta: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestView {
    method: MethodView,
    #[serde(default)]
    protocol: Option<SchemeView>,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    pathname: Option<String>,
    #[serde(default)]
    query: Option<Option<StringMap>>,
    #[serde(default)]
    headers: Option<StringMap>,
    #[serde(default)]
    body: Option<Option<String>>,
    #[serde(default)]
    timestamp: Option<TimestampView>,
    #[serde(default, rename = "bodyAsJson")]
    _body_as_json: Option<de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseView {
    #[serde(rename = "statusCode")]
    status_code: StatusView,
    #[serde(default)]
    headers: Option<StringMap>,
    #[serde(default)]
    body: Option<Option<String>>,
    #[serde(default)]
    timestamp: Option<TimestampView>,
    #[serde(default, rename = "bodyAsJson")]
    _body_as_json: Option<de::IgnoredAny>,
}

/// Headers that describe a body as sent rather than the decoded bytes written: left out of a
/// decoded body's `headers`, so a mock does not serve plain bytes labelled gzip with the gzip
/// length, and kept in `meta.wirecap` so reading the file back restores them.
const ENCODING_HEADERS: [&str; 2] = ["content-encoding", "content-length"];

/// The headers to write for `body`, and those left out of them as [`ENCODING_HEADERS`].
fn describing<'h>(headers: &'h Headers, body: &Body) -> (Grouped<&'h str>, Vec<(String, String)>) {
    if body.decoded_from.is_none() {
        return (headers.grouped(), Vec::new());
    }
    let (kept, left_out) = headers.grouped_except(&ENCODING_HEADERS);
    let left_out = left_out
        .into_iter()
        .map(|h| (h.name.clone(), h.value.clone()))
        .collect();
    (kept, left_out)
}

/// `headers` with the [`ENCODING_HEADERS`] a writer left out put back, at the end.
fn with_encoding(mut headers: Headers, left_out: Vec<(String, String)>) -> Headers {
    // A field the headers already hold (a file edited, or written without decoding) is not
    // doubled.
    let present: Vec<String> = left_out
        .iter()
        .filter(|(name, _)| headers.contains(name))
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect();
    for (name, value) in left_out {
        if !present.contains(&name.to_ascii_lowercase()) {
            headers.push(name, value);
        }
    }
    headers
}

/// The extras wirecap writes into `meta.wirecap`.
#[derive(Deserialize, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Extras {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    interim: Vec<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    trailers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    request_trailers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request_decoded_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response_decoded_from: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    request_encoding_headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    response_encoding_headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    omitted_bodies: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request_body_cut: Option<Cut>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response_body_cut: Option<Cut>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tls: Option<TlsInfo>,
}

impl Extras {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

fn invalid(pointer: &str, message: impl Into<String>) -> JsonError {
    JsonError {
        pointer: pointer.to_owned(),
        line: 1,
        column: 1,
        message: message.into(),
    }
}

impl ExchangeView {
    fn into_exchange(self, mut source: Source) -> Result<Exchange, JsonError> {
        let mut extra = self.meta.unwrap_or_default();
        let extras = match extra.remove(META_KEY) {
            Some(v) => serde_json::from_value::<Extras>(v)
                .map_err(|e| invalid("/meta/wirecap", e.to_string()))?,
            None => Extras::default(),
        };
        let r = self.request;
        let mut scheme = r.protocol.map(|p| p.0);
        let mut authority = r.host;
        let target = match (r.path, r.pathname, r.url) {
            (Some(path), _, _) => path,
            (None, Some(pathname), _) => {
                let pairs = r.query.flatten().unwrap_or_default();
                let q = query::urlencode(
                    pairs
                        .iter()
                        .flat_map(|(n, vs)| vs.iter().map(move |v| (n.as_str(), v.as_str()))),
                );
                if q.is_empty() {
                    pathname
                } else {
                    format!("{pathname}?{q}")
                }
            }
            (None, None, Some(url)) => {
                let (s, auth, target) = split_url(&url).ok_or_else(|| {
                    invalid(
                        "/request/url",
                        format!("expected an absolute http(s) URL, found {url:?}"),
                    )
                })?;
                scheme.get_or_insert(s);
                authority.get_or_insert(auth);
                target
            }
            (None, None, None) => {
                return Err(invalid("/request", "expected one of path, pathname or url"));
            }
        };
        let (host, port) = crate::model::split_authority(authority.as_deref().unwrap_or(""));
        source.flow = extras.flow;
        source.tls = extras.tls;
        // The note that a body was left out stays with the exchange, so writing it again
        // keeps saying so instead of passing off an empty body as the real one.
        if !extras.omitted_bodies.is_empty() {
            let note = serde_json::json!({ "omittedBodies": extras.omitted_bodies });
            extra.insert(META_KEY.to_owned(), note);
        }
        let request = Request {
            method: r.method.0,
            scheme: scheme.unwrap_or_default(),
            host,
            port,
            target,
            version: extras.request_version,
            headers: with_encoding(
                r.headers.map(StringMap::into_headers).unwrap_or_default(),
                extras.request_encoding_headers,
            ),
            body: Body {
                bytes: r.body.flatten().unwrap_or_default().into(),
                decoded_from: extras.request_decoded_from,
                cut: extras.request_body_cut,
            },
            trailers: extras.request_trailers.into_iter().collect(),
            timestamp: r.timestamp.map(|t| t.0),
        };
        let response = self.response.map(|resp| Response {
            status: resp.status_code.0,
            reason: extras.reason,
            version: extras.response_version,
            headers: with_encoding(
                resp.headers
                    .map(StringMap::into_headers)
                    .unwrap_or_default(),
                extras.response_encoding_headers,
            ),
            trailers: extras.trailers.into_iter().collect(),
            body: Body {
                bytes: resp.body.flatten().unwrap_or_default().into(),
                decoded_from: extras.response_decoded_from,
                cut: extras.response_body_cut,
            },
            timestamp: resp.timestamp.map(|t| t.0),
            interim: extras.interim,
        });
        Ok(Exchange {
            request,
            response,
            source,
            extra,
        })
    }
}

/// Splits `http://host:port/path?q` into scheme, authority and origin-form target.
fn split_url(url: &str) -> Option<(Scheme, String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = Scheme::parse(scheme)?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let target = match &rest[end..] {
        t if t.starts_with('/') => t.to_owned(),
        t => format!("/{t}"),
    };
    Some((scheme, rest[..end].to_owned(), target))
}

struct MethodView(String);

impl<'de> Deserialize<'de> for MethodView {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let is_tchar = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
        if s.is_empty() || !s.bytes().all(is_tchar) {
            return Err(de::Error::custom(format!(
                "expected an HTTP method like \"get\", found {s:?}"
            )));
        }
        Ok(MethodView(s.to_ascii_uppercase()))
    }
}

struct SchemeView(Scheme);

impl<'de> Deserialize<'de> for SchemeView {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Scheme::parse(&s).map(SchemeView).ok_or_else(|| {
            de::Error::custom(format!("expected \"http\" or \"https\", found {s:?}"))
        })
    }
}

struct TimestampView(Timestamp);

impl<'de> Deserialize<'de> for TimestampView {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = TimestampView;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an RFC 3339 date-time string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Timestamp::parse_rfc3339(s)
                    .map(TimestampView)
                    .map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

struct StatusView(u16);

impl<'de> Deserialize<'de> for StatusView {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = StatusView;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer status code")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                u16::try_from(n)
                    .ok()
                    .filter(|n| *n <= 999)
                    .map(StatusView)
                    .ok_or_else(|| {
                        E::custom(format!("expected a status code of three digits, found {n}"))
                    })
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Err(E::custom(format!(
                    "expected a status code of three digits, found {n}"
                )))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
                if n.fract() == 0.0 && (0.0..=999.0).contains(&n) {
                    Ok(StatusView(n as u16))
                } else {
                    Err(E::custom(format!(
                        "expected a status code of three digits, found {n}"
                    )))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON object whose values are a string or an array of strings (headers, query).
#[derive(Default)]
struct StringMap(Vec<(String, Vec<String>)>);

impl StringMap {
    fn into_headers(self) -> Headers {
        self.0
            .into_iter()
            .flat_map(|(n, vs)| vs.into_iter().map(move |v| (n.clone(), v)))
            .collect()
    }

    fn iter(&self) -> impl Iterator<Item = &(String, Vec<String>)> {
        self.0.iter()
    }
}

struct StringOrList(Vec<String>);

impl<'de> Deserialize<'de> for StringOrList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringOrList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(StringOrList(vec![s.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(StringOrList(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for StringMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object whose values are strings or arrays of strings")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, StringOrList>()? {
                    out.push((k, v.0));
                }
                Ok(StringMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Writes exchanges as http-types JSONL, one line each, as they arrive.
pub struct Writer<W: Write> {
    out: W,
    line: Vec<u8>,
    escaped: Escaped,
    /// Lines of the last batch, written while the next batch is encoded.
    pending: Vec<Vec<u8>>,
    /// Emptied buffers of batches written before, reused so the allocator does not map and
    /// fault in fresh pages for every batch.
    spare: Vec<Vec<u8>>,
    timings: super::WriteTimings,
}

impl<W: Write> Writer<W> {
    /// A writer onto `out`; wrap `out` in a `BufWriter` if it is unbuffered.
    pub fn new(out: W) -> Self {
        Self {
            out,
            line: Vec::with_capacity(4096),
            escaped: Memo::new(ESCAPE_MEMO_MIN_BYTES),
            pending: Vec::new(),
            spare: Vec::new(),
            timings: super::WriteTimings::default(),
        }
    }

    /// Writes one exchange, or records why it cannot be written and returns `Ok(false)`.
    pub fn write(&mut self, ex: &Exchange, losses: &mut Losses) -> io::Result<bool> {
        self.write_pending()?;
        self.line.clear();
        if !encode_line(ex, losses, &self.escaped, &mut self.line) {
            return Ok(false);
        }
        self.out.write_all(&self.line)?;
        Ok(true)
    }

    /// Writes a run of exchanges in order and returns how many were written. Their lines are
    /// encoded in parallel on rayon's pool while the previous run's lines go out on a thread
    /// of their own (copying gigabytes into the page cache costs the kernel as much as
    /// encoding them), so they reach `out` one call late, or at [`Writer::finish`]. Bytes and
    /// losses are the same as writing the exchanges one at a time.
    pub fn write_batch(&mut self, batch: &[Exchange], losses: &mut Losses) -> io::Result<u64>
    where
        W: Send,
    {
        use rayon::prelude::*;
        /// Exchanges per parallel task: enough to amortise the task, few enough to balance.
        const PER_TASK: usize = 16;
        let mut pending = std::mem::take(&mut self.pending);
        let (out, escaped) = (&mut self.out, &self.escaped);
        let spare = std::sync::Mutex::new(std::mem::take(&mut self.spare));
        let (written, encoded) = std::thread::scope(|scope| {
            let writing = scope.spawn(move || {
                let started = Instant::now();
                let done = pending.iter().try_for_each(|b| out.write_all(b));
                pending.iter_mut().for_each(Vec::clear);
                (done, started.elapsed(), pending)
            });
            let encoded: Vec<(Vec<u8>, Losses, u64, Duration)> = batch
                .par_chunks(PER_TASK)
                .map(|chunk| {
                    let started = Instant::now();
                    // Bodies plus a head each, with room for escapes: one allocation per task.
                    let bodies: usize = chunk.iter().map(Exchange::body_bytes).sum();
                    let reused = spare.lock().ok().and_then(|mut s| s.pop());
                    let mut lines = reused.unwrap_or_default();
                    lines.reserve(bodies + bodies / 16 + chunk.len() * 1024);
                    let mut lost = Losses::default();
                    let written = chunk
                        .iter()
                        .filter(|ex| encode_line(ex, &mut lost, escaped, &mut lines))
                        .count() as u64;
                    (lines, lost, written, started.elapsed())
                })
                .collect();
            let written = writing
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            (written, encoded)
        });
        let (written, took, emptied) = written;
        written?;
        self.spare = spare.into_inner().unwrap_or_default();
        self.spare.extend(emptied);
        self.spare.truncate(MAX_SPARE_BUFFERS);
        self.timings.write_ms += took.as_secs_f64() * 1e3;
        let mut count = 0;
        for (lines, lost, n, took) in encoded {
            self.pending.push(lines);
            losses.merge(lost);
            count += n;
            self.timings.encode_ms += took.as_secs_f64() * 1e3;
        }
        Ok(count)
    }

    fn write_pending(&mut self) -> io::Result<()> {
        let started = Instant::now();
        for lines in std::mem::take(&mut self.pending) {
            self.out.write_all(&lines)?;
        }
        self.timings.write_ms += started.elapsed().as_secs_f64() * 1e3;
        Ok(())
    }

    /// Time spent encoding lines (summed over threads) and handing them to the output.
    pub fn timings(&self) -> super::WriteTimings {
        self.timings
    }

    /// Writes what is pending, flushes, and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.write_pending()?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// `body` ready for a line, or `None` when it is not UTF-8.
fn as_text<'a>(body: &'a Body, escaped: &Escaped) -> Option<BodyOut<'a>> {
    let found = match escaped.find("", &body.bytes) {
        Found::Hit(found) => found,
        Found::Miss(ticket) => {
            let text = body.as_text();
            let Some(ticket) = ticket else {
                return text.map(BodyOut::Text);
            };
            escaped.keep(
                ticket,
                text.map(|t| {
                    let mut out = Vec::with_capacity(t.len() + t.len() / 8 + 2);
                    json::write_str(&mut out, t);
                    out
                }),
            )
        }
    };
    found.is_some().then_some(BodyOut::Escaped(found))
}

fn pairs(headers: &Headers) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| (h.name.clone(), h.value.clone()))
        .collect()
}

/// Bodies as JSON strings (quotes included), or `None` for bodies that are not UTF-8: a
/// recording repeats the same bodies, and escaping them is most of the cost of a line.
type Escaped = Memo<Option<Vec<u8>>>;

/// Emptied line buffers a writer keeps for reuse (two batches' worth of tasks).
const MAX_SPARE_BUFFERS: usize = 64;

/// Bodies shorter than this are escaped each time; the lookup would cost as much.
const ESCAPE_MEMO_MIN_BYTES: usize = 512;

/// A body as it goes into a line.
enum BodyOut<'a> {
    /// Text, escaped as the line is written.
    Text(&'a str),
    /// Already escaped (a `Some` from the memo).
    Escaped(Arc<Option<Vec<u8>>>),
}

/// Appends `ex` as one line to `out`, or records why it cannot be written and returns false.
fn encode_line(ex: &Exchange, losses: &mut Losses, escaped: &Escaped, out: &mut Vec<u8>) -> bool {
    let Some(view) = to_view(ex, losses, escaped) else {
        return false;
    };
    view.write_json(out);
    out.push(b'\n');
    true
}

struct ExchangeOut<'a> {
    request: RequestOut<'a>,
    response: ResponseOut<'a>,
    /// `meta` as read, less wirecap's own key.
    meta: &'a Map<String, Value>,
    extras: Extras,
}

struct RequestOut<'a> {
    method: &'static str,
    protocol: &'static str,
    host: String,
    path: &'a str,
    pathname: &'a str,
    query: Grouped<String>,
    headers: Grouped<&'a str>,
    body: Option<BodyOut<'a>>,
    timestamp: Option<String>,
}

struct ResponseOut<'a> {
    status_code: u16,
    headers: Grouped<&'a str>,
    body: Option<BodyOut<'a>>,
    timestamp: Option<String>,
}

/// Name → value (one) or values (several), in order of first appearance.
type Grouped<S> = Vec<(S, Vec<S>)>;

impl ExchangeOut<'_> {
    /// Appends the exchange as one JSON object (no newline). Written by hand rather than
    /// derived so that bodies go through [`json::write_str`]; the bytes are what serde_json
    /// would write for the same fields in the same order.
    fn write_json(&self, out: &mut Vec<u8>) {
        let r = &self.request;
        out.extend_from_slice(b"{\"request\":{\"method\":");
        json::write_str(out, r.method);
        out.extend_from_slice(b",\"protocol\":");
        json::write_str(out, r.protocol);
        out.extend_from_slice(b",\"host\":");
        json::write_str(out, &r.host);
        out.extend_from_slice(b",\"path\":");
        json::write_str(out, r.path);
        out.extend_from_slice(b",\"pathname\":");
        json::write_str(out, r.pathname);
        out.extend_from_slice(b",\"query\":");
        write_grouped(out, &r.query);
        out.extend_from_slice(b",\"headers\":");
        write_grouped(out, &r.headers);
        write_body(out, r.body.as_ref());
        write_optional(out, "timestamp", r.timestamp.as_deref());
        let p = &self.response;
        out.extend_from_slice(b"},\"response\":{\"statusCode\":");
        out.extend_from_slice(p.status_code.to_string().as_bytes());
        out.extend_from_slice(b",\"headers\":");
        write_grouped(out, &p.headers);
        write_body(out, p.body.as_ref());
        write_optional(out, "timestamp", p.timestamp.as_deref());
        out.push(b'}');
        let mut first = true;
        let mut key = |out: &mut Vec<u8>, name: &str| {
            out.extend_from_slice(if first { b",\"meta\":{" } else { b"," });
            first = false;
            json::write_str(out, name);
            out.push(b':');
        };
        for (name, value) in self.meta.iter().filter(|(name, _)| *name != META_KEY) {
            key(out, name);
            serde_json::to_writer(&mut *out, value).expect("a JSON value serialises");
        }
        if !self.extras.is_empty() {
            key(out, META_KEY);
            serde_json::to_writer(&mut *out, &self.extras).expect("extras serialise");
        }
        if !first {
            out.push(b'}');
        }
        out.push(b'}');
    }
}

fn write_optional(out: &mut Vec<u8>, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        out.push(b',');
        json::write_str(out, name);
        out.push(b':');
        json::write_str(out, value);
    }
}

fn write_body(out: &mut Vec<u8>, body: Option<&BodyOut<'_>>) {
    match body {
        None => {}
        Some(BodyOut::Text(text)) => write_optional(out, "body", Some(text)),
        Some(BodyOut::Escaped(escaped)) => {
            if let Some(json) = escaped.as_deref() {
                out.extend_from_slice(b",\"body\":");
                out.extend_from_slice(json);
            }
        }
    }
}

fn write_grouped<S: AsRef<str>>(out: &mut Vec<u8>, grouped: &Grouped<S>) {
    out.push(b'{');
    for (i, (name, values)) in grouped.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json::write_str(out, name.as_ref());
        out.push(b':');
        match values.as_slice() {
            [one] => json::write_str(out, one.as_ref()),
            many => {
                out.push(b'[');
                for (j, v) in many.iter().enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    json::write_str(out, v.as_ref());
                }
                out.push(b']');
            }
        }
    }
    out.push(b'}');
}

/// The path part of an origin-form target as Python's `urlparse(path).path` sees it:
/// without query, fragment, or `;params` on the last segment.
fn py_pathname(path: &str) -> &str {
    let end = path.find(['?', '#']).unwrap_or(path.len());
    let path = &path[..end];
    let last_slash = path.rfind('/').unwrap_or(0);
    match path[last_slash..].find(';') {
        Some(i) => &path[..last_slash + i],
        None => path,
    }
}

fn earlier_omissions(extra: &Map<String, Value>) -> Vec<String> {
    extra
        .get(META_KEY)
        .and_then(|w| w.get("omittedBodies"))
        .and_then(Value::as_array)
        .map(|notes| {
            notes
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn to_view<'a>(
    ex: &'a Exchange,
    losses: &mut Losses,
    escaped: &Escaped,
) -> Option<ExchangeOut<'a>> {
    let req = &ex.request;
    let here = || ex.source.to_string();
    let Some(method) = METHODS.iter().find(|m| m.eq_ignore_ascii_case(&req.method)) else {
        losses.record(LossKind::UnsupportedMethod, || {
            format!("{}: method {}", here(), req.method)
        });
        return None;
    };
    let Some(resp) = &ex.response else {
        losses.record(LossKind::MissingResponse, || {
            format!("{}: {} {}", here(), req.method, req.target)
        });
        return None;
    };
    let mut host = req.authority();
    if host.is_empty() {
        host = req
            .headers
            .first("host")
            .or_else(|| req.headers.first("x-forwarded-host"))
            .unwrap_or("")
            .to_owned();
    }
    if host.is_empty() {
        losses.record(LossKind::MissingHost, || {
            format!("{}: {} {}", here(), req.method, req.target)
        });
        return None;
    }
    let path = match req.target.find("://") {
        Some(i) if !req.target.starts_with('/') => {
            let rest = &req.target[i + 3..];
            rest.find(['/', '?']).map_or("/", |j| &rest[j..])
        }
        _ => req.target.as_str(),
    };
    let query = path
        .split_once('?')
        .map_or("", |(_, q)| q.split('#').next().unwrap_or(""));
    for (headers, which) in [(&req.headers, "request"), (&resp.headers, "response")] {
        if headers.is_interleaved() {
            losses.record(LossKind::HeaderOrder, || {
                format!("{}: {which} headers", here())
            });
        }
    }
    let (request_headers, request_encoding) = describing(&req.headers, &req.body);
    let (response_headers, response_encoding) = describing(&resp.headers, &resp.body);
    let mut extras = Extras {
        request_encoding_headers: request_encoding,
        response_encoding_headers: response_encoding,
        request_version: req.version.clone(),
        response_version: resp.version.clone(),
        reason: resp.reason.clone(),
        interim: resp.interim.clone(),
        trailers: pairs(&resp.trailers),
        request_trailers: pairs(&req.trailers),
        request_decoded_from: req.body.decoded_from.clone(),
        response_decoded_from: resp.body.decoded_from.clone(),
        omitted_bodies: earlier_omissions(&ex.extra),
        request_body_cut: req.body.cut,
        response_body_cut: resp.body.cut,
        flow: ex.source.flow.clone(),
        tls: ex.source.tls.clone(),
    };
    let mut text = |body: &'a Body, which: &str| match as_text(body, escaped) {
        Some(t) => Some(t),
        None => {
            losses.record(LossKind::BinaryBody, || {
                format!("{}: {which} body ({} bytes)", here(), body.bytes.len())
            });
            extras
                .omitted_bodies
                .push(format!("{which}: {} bytes, not UTF-8", body.bytes.len()));
            None
        }
    };
    let request_body = if req.body.is_empty() {
        None
    } else {
        text(&req.body, "request")
    };
    // Readers want `response.body` (py-http-types and hmt fail without it): a body left out
    // is written empty, beside the meta note that says so.
    let response_body = text(&resp.body, "response").or(Some(BodyOut::Text("")));
    Some(ExchangeOut {
        request: RequestOut {
            method,
            protocol: req.scheme.as_str(),
            host,
            path,
            pathname: py_pathname(path),
            query: query::parse_qs(query),
            headers: request_headers,
            body: request_body,
            timestamp: req.timestamp.map(Timestamp::to_rfc3339),
        },
        response: ResponseOut {
            status_code: resp.status,
            headers: response_headers,
            body: response_body,
            timestamp: resp.timestamp.map(Timestamp::to_rfc3339),
        },
        meta: &ex.extra,
        extras,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_one(line: &str) -> Result<Exchange, String> {
        let mut r = Reader::new(line.as_bytes(), "t.jsonl", MAX_LINE_BYTES);
        r.next().expect("one line").map_err(|e| e.to_string())
    }

    fn write_one(ex: &Exchange) -> (String, Losses) {
        let mut losses = Losses::default();
        let mut w = Writer::new(Vec::new());
        w.write(ex, &mut losses).expect("writes to memory");
        (
            String::from_utf8(w.finish().expect("flush")).expect("utf-8"),
            losses,
        )
    }

    macro_rules! rejects {
        ($line:expr, $msg:expr) => {
            assert_eq!(read_one($line).unwrap_err(), $msg)
        };
    }

    const BASE: &str = r#"{"request":{"method":"get","protocol":"http","host":"a.test","path":"/x?q=1"},"response":{"statusCode":200,"headers":{}}}"#;

    #[test]
    fn reads_the_three_path_spellings() {
        let p = |line: &str| read_one(line).map(|e| e.request.target);
        assert_eq!(p(BASE).as_deref(), Ok("/x?q=1"));
        assert_eq!(
            p(r#"{"request":{"method":"get","host":"h","pathname":"/x","query":{"a":["1","2"],"b":"c d"}}}"#).as_deref(),
            Ok("/x?a=1&a=2&b=c+d")
        );
        assert_eq!(
            p(r#"{"request":{"method":"get","url":"https://h:8443/y?z=1"}}"#).as_deref(),
            Ok("/y?z=1")
        );
    }

    #[test]
    fn errors_name_line_and_pointer() {
        rejects!(
            r#"{"request":{"method":"get","path":"/"},"response":{"statusCode":"200"}}"#,
            r#"t.jsonl:1: /response/statusCode: string "200", expected an integer status code"#
        );
        rejects!(
            r#"{"request":{"method":"get","path":"/","headers":{"a":1}}}"#,
            "t.jsonl:1: /request/headers/a: integer `1`, expected a string or an array of strings"
        );
        rejects!(
            r#"{"request":{"method":"get","path":"/","timestamp":"yesterday"}}"#,
            r#"t.jsonl:1: /request/timestamp: expected an RFC 3339 date-time like 2023-11-14T22:13:20.003+00:00, found "yesterday""#
        );
        rejects!(
            r#"{"request":{"method":"get","path":"/","bogus":1}}"#,
            "t.jsonl:1: /request/bogus: unknown field `bogus`, expected one of `method`, `protocol`, `host`, `url`, `path`, `pathname`, `query`, `headers`, `body`, `timestamp`, `bodyAsJson`"
        );
        rejects!(
            r#"{"request":{"method":"get"}}"#,
            "t.jsonl:1: /request: expected one of path, pathname or url"
        );
        rejects!(
            "   ",
            "t.jsonl:1: /: blank line, expected one JSON object per line"
        );
        rejects!("null", "t.jsonl:1: /: null, expected an object");
        rejects!("[]", "t.jsonl:1: /: an array, expected an object");
        rejects!(
            r#"[{"request":1}]"#,
            "t.jsonl:1: /: an array, expected an object"
        );
        rejects!(r#""x""#, r#"t.jsonl:1: /: string "x", expected an object"#);
        rejects!(
            &"[".repeat(1000),
            "t.jsonl:1: /: an array, expected an object"
        );
        rejects!(
            r#"{"request":[]}"#,
            "t.jsonl:1: /request: an array, expected an object"
        );
        rejects!(
            r#"{"request":{"method":"get","path":"/"},"response":5}"#,
            "t.jsonl:1: /response: integer `5`, expected an object"
        );
        rejects!(
            r#"{"request":{"method":"get","path":"/"},"response":{"statusCode":200,"headers":[]}}"#,
            "t.jsonl:1: /response/headers: sequence, expected an object whose values are strings or arrays of strings"
        );
        rejects!(
            r#"{"request":"#,
            "t.jsonl:1: /request: unexpected end of input while parsing a value"
        );
    }

    #[test]
    fn long_lines_are_refused_and_skipped() {
        let input = format!("{}\n{BASE}\n", "x".repeat(100));
        let mut r = Reader::new(input.as_bytes(), "t.jsonl", 50);
        assert_eq!(
            r.next().unwrap().unwrap_err().to_string(),
            "t.jsonl:1: /: line longer than 50 bytes, expected at most 50 (raise it with --max-line-bytes)"
        );
        assert!(
            r.next().is_some_and(|e| e.is_err()),
            "the 2nd line is longer than 50 too"
        );
        let mut r = Reader::new(input.as_bytes(), "t.jsonl", 200);
        assert!(r.next().unwrap().is_err());
        assert_eq!(
            r.next().unwrap().unwrap().source.location,
            Some(Location::Line(2))
        );
        assert!(r.next().is_none());
    }

    #[test]
    fn writes_the_profile_every_reader_accepts() {
        let ex = read_one(r#"{"request":{"method":"GET","protocol":"HTTP","host":"a.test:80","path":"/x;p?b=&q=1&q=2","headers":{"Accept":"*/*"}},"response":{"statusCode":204}}"#).unwrap();
        let (line, losses) = write_one(&ex);
        assert_eq!(
            line,
            concat!(
                r#"{"request":{"method":"get","protocol":"http","host":"a.test","path":"/x;p?b=&q=1&q=2","pathname":"/x","query":{"q":["1","2"]},"headers":{"Accept":"*/*"}},"#,
                r#""response":{"statusCode":204,"headers":{},"body":""}}"#,
                "\n"
            )
        );
        assert!(losses.is_empty());
    }

    #[test]
    fn repeated_bodies_are_written_as_if_each_were_new() {
        let with_body = |bytes: Vec<u8>| {
            let mut ex = read_one(BASE).unwrap();
            ex.response.as_mut().unwrap().body = Body::from_bytes(bytes);
            ex
        };
        let text = "say \"hi\"\n".repeat(200);
        let mut twin = text.clone().into_bytes();
        twin[1000] = b'!';
        let mut binary = text.clone().into_bytes();
        binary[1000] = 0xff;
        let (a, b, bin) = (
            with_body(text.into_bytes()),
            with_body(twin),
            with_body(binary),
        );
        let batch = [&a, &a, &b, &bin, &a, &bin, &b, &a, &bin, &a].map(Clone::clone);
        let mut losses = Losses::default();
        let mut w = Writer::new(Vec::new());
        assert_eq!(w.write_batch(&batch, &mut losses).expect("writes"), 10);
        let again: Vec<Exchange> = batch.iter().rev().cloned().collect();
        for ex in &again {
            w.write(ex, &mut losses).expect("writes");
        }
        let out = String::from_utf8(w.finish().expect("flush")).expect("utf-8");
        let expected: String = batch
            .iter()
            .chain(&again)
            .map(|ex| write_one(ex).0)
            .collect();
        assert_eq!(out, expected);
        let binary_notes = losses.iter().find(|(k, _)| *k == LossKind::BinaryBody);
        assert_eq!(binary_notes.map(|(_, c)| c.count), Some(6));
    }

    #[test]
    fn binary_bodies_are_left_out_and_noted() {
        let mut ex = read_one(BASE).unwrap();
        ex.response.as_mut().unwrap().body = Body::from_bytes(vec![0xff, 0x00]);
        let (line, losses) = write_one(&ex);
        assert!(
            line.contains(
                r#""meta":{"wirecap":{"omittedBodies":["response: 2 bytes, not UTF-8"]}}"#
            ),
            "{line}"
        );
        assert!(line.contains(r#""body":"""#), "{line}");
        assert_eq!(
            losses.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            [LossKind::BinaryBody]
        );
        let back = read_one(line.trim_end()).unwrap();
        assert_eq!(
            write_one(&back).0,
            line,
            "writing what was read gives the same line"
        );
    }

    #[test]
    fn extras_round_trip_through_meta() {
        let mut ex = read_one(BASE).unwrap();
        let resp = ex.response.as_mut().unwrap();
        resp.reason = Some("OK".into());
        resp.version = Some("HTTP/1.1".into());
        resp.trailers.push("Checksum", "abc");
        resp.interim.push(100);
        resp.body.decoded_from = Some("gzip".into());
        ex.request.version = Some("HTTP/1.1".into());
        let (line, _) = write_one(&ex);
        let back = read_one(line.trim_end()).unwrap();
        assert_eq!(back.response, ex.response);
        assert_eq!(back.request, ex.request);
    }

    /// Issue 15: a body the capture cut off says so in `meta.wirecap`, with how much was seen
    /// and announced, and reads back as cut.
    #[test]
    fn cut_bodies_are_marked_in_meta_and_read_back() {
        let mut ex = read_one(BASE).unwrap();
        ex.request.body = Body {
            cut: Some(Cut {
                seen: 3,
                announced: Some(5000),
            }),
            ..Body::from("abc")
        };
        ex.response.as_mut().unwrap().body.cut = Some(Cut {
            seen: 2,
            announced: None,
        });
        let (line, _) = write_one(&ex);
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            json["meta"]["wirecap"]["requestBodyCut"],
            serde_json::json!({"seen": 3, "announced": 5000})
        );
        assert_eq!(
            json["meta"]["wirecap"]["responseBodyCut"],
            serde_json::json!({"seen": 2})
        );
        let back = read_one(line.trim_end()).unwrap();
        assert_eq!((back.request, back.response), (ex.request, ex.response));
    }

    /// Issue 14: a decoded body is written without the headers that describe it as sent, and
    /// they come back from `meta.wirecap` when the file is read.
    #[test]
    fn issue_14_a_decoded_body_is_written_without_its_encoding_headers() {
        let mut ex = read_one(BASE).unwrap();
        let resp = ex.response.as_mut().unwrap();
        resp.headers.push("Content-Encoding", "gzip");
        resp.headers.push("content-length", "118");
        resp.body.decoded_from = Some("gzip".into());
        let (line, _) = write_one(&ex);
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        let headers = json["response"]["headers"].as_object().unwrap();
        assert!(
            headers
                .keys()
                .all(|k| !k.eq_ignore_ascii_case("content-encoding"))
        );
        assert!(
            headers
                .keys()
                .all(|k| !k.eq_ignore_ascii_case("content-length"))
        );
        assert_eq!(
            json["meta"]["wirecap"]["responseEncodingHeaders"],
            serde_json::json!([["Content-Encoding", "gzip"], ["content-length", "118"]])
        );
        let back = read_one(line.trim_end()).unwrap();
        assert_eq!(back.response, ex.response);
        let (again, _) = write_one(&back);
        assert_eq!(again, line);
        // Without decoding, the headers stay where they are.
        ex.response.as_mut().unwrap().body.decoded_from = None;
        assert!(write_one(&ex).0.contains(r#""Content-Encoding":"gzip""#));
    }

    /// A file whose headers already hold a field its meta also keeps does not get it twice.
    #[test]
    fn encoding_headers_in_both_places_are_not_doubled() {
        let line = r#"{"request":{"method":"get","protocol":"http","host":"a.test","path":"/"},"response":{"statusCode":200,"headers":{"Content-Encoding":"gzip"},"body":"hi"},"meta":{"wirecap":{"responseDecodedFrom":"gzip","responseEncodingHeaders":[["Content-Encoding","gzip"],["Content-Length","22"]]}}}"#;
        let ex = read_one(line).unwrap();
        let headers = &ex.response.as_ref().unwrap().headers;
        assert_eq!(headers.all("content-encoding").count(), 1);
        assert_eq!(headers.first("content-length"), Some("22"));
    }
}
