//! What the simulation writers share: options, key order, Hoverfly's `encodedBody` rule,
//! headers grouped by name, `meta`, and the global delays as written.

pub(super) mod v1;
pub(super) mod v4;
pub(super) mod v5;

use super::SchemaVersion;
use crate::model::simulation::{Delay, Fields};
use crate::model::{Body, Headers, Simulation, Timestamp};
use base64::Engine as _;
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::io::{self, Write};

// ---------------------------------------------------------------------------------------------
// Writing.

/// What a simulation writer needs beyond the simulation.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// The `schemaVersion` to write; `None` picks [`SchemaVersion::required_for`].
    pub schema_version: Option<SchemaVersion>,
    /// `meta.timeExported`; `None` keeps the input's, else leaves it to the caller's clock.
    pub time_exported: Option<Timestamp>,
    /// The order of object keys in v5.x documents.
    pub key_order: KeyOrder,
}

/// The order of object keys a v5.x writer uses. Fixed fields (`path`, `method`, …) always
/// come in the order of Hoverfly's view structs; what differs is maps and `labels`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeyOrder {
    /// Header, query and state maps, and matcher values, keep the order they were read in;
    /// `labels` come after `response` (wirecap's default).
    #[default]
    AsRead,
    /// Hoverfly's export order (`--hoverfly-compat`): Go's `encoding/json` writes every map
    /// with its keys sorted bytewise (headers, query, state, and objects inside matcher
    /// values and configs, literals and variable arguments), and `labels` first in a pair,
    /// where `RequestMatcherResponsePairViewV5` declares it.
    Hoverfly,
}

impl KeyOrder {
    /// `fields` in this order: as they are, or sorted by key as Go marshals a map.
    fn fields<T>(self, mut fields: Fields<T>) -> Fields<T> {
        if self == KeyOrder::Hoverfly {
            fields.sort_by(|a, b| a.0.cmp(&b.0));
        }
        fields
    }

    /// `value` in this order: borrowed as it is, or a copy with every object's keys sorted.
    fn value(self, value: &Value) -> Cow<'_, Value> {
        match (self, value) {
            (KeyOrder::Hoverfly, Value::Object(m)) => Cow::Owned(Value::Object(go_sorted(m))),
            (KeyOrder::Hoverfly, Value::Array(vs)) => Cow::Owned(Value::Array(
                vs.iter().map(|v| self.value(v).into_owned()).collect(),
            )),
            _ => Cow::Borrowed(value),
        }
    }

    /// A matcher's `value` in this order. Hoverfly holds a `form` matcher's value as a map of
    /// field names to matcher views, so the names are sorted but each matcher's keys come in
    /// the view's order (`matcher`, `value`, `config`, `doMatch`); any other value is plain
    /// JSON (`interface{}`), sorted throughout.
    fn matcher_value<'v>(self, matcher: &str, value: &'v Value) -> Cow<'v, Value> {
        match (self, value) {
            (KeyOrder::Hoverfly, Value::Object(fields)) if matcher.eq_ignore_ascii_case("form") => {
                let mut entries: Vec<(&String, &Value)> = fields.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                let form = entries.into_iter().map(|(k, ms)| {
                    let ms = match ms {
                        Value::Array(ms) => Value::Array(ms.iter().map(go_matcher).collect()),
                        other => self.value(other).into_owned(),
                    };
                    (k.clone(), ms)
                });
                Cow::Owned(Value::Object(form.collect()))
            }
            _ => self.value(value),
        }
    }

    /// `map` in this order, as [`KeyOrder::value`] orders an object.
    fn map(self, map: &Map<String, Value>) -> Cow<'_, Map<String, Value>> {
        match self {
            KeyOrder::AsRead => Cow::Borrowed(map),
            KeyOrder::Hoverfly => Cow::Owned(go_sorted(map)),
        }
    }
}

/// A matcher view inside a `form` value, in Hoverfly's order: `matcher`, `value`, `config`,
/// `doMatch` (`MatcherViewV5`), then anything else sorted; not an object: sorted as JSON.
fn go_matcher(m: &Value) -> Value {
    let Value::Object(fields) = m else {
        return KeyOrder::Hoverfly.value(m).into_owned();
    };
    let name = fields.get("matcher").and_then(Value::as_str).unwrap_or("");
    let mut out = Map::new();
    for key in ["matcher", "value", "config", "doMatch"] {
        if let Some(v) = fields.get(key) {
            let v = match key {
                "value" => KeyOrder::Hoverfly.matcher_value(name, v).into_owned(),
                "doMatch" => go_matcher(v),
                _ => KeyOrder::Hoverfly.value(v).into_owned(),
            };
            out.insert(key.to_owned(), v);
        }
    }
    for (k, v) in go_sorted(fields) {
        if !out.contains_key(&k) {
            out.insert(k, v);
        }
    }
    Value::Object(out)
}

/// A copy of `map` with its keys, and those of every object inside, sorted bytewise.
fn go_sorted(map: &Map<String, Value>) -> Map<String, Value> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
        .into_iter()
        .map(|(k, v)| (k.clone(), KeyOrder::Hoverfly.value(v).into_owned()))
        .collect()
}

/// Whether Hoverfly exports a body as base64: iff the response has a `Content-Encoding`
/// header, or Go's `http.DetectContentType` names a type containing none of `text`, `plain`,
/// `css`, `html`, `json`, `xml`, `js`, `javascript` (`ConvertToResponseDetailsViewV5`,
/// `util.SupportedMimeTypes`). Bodies that are not UTF-8 are always base64: a JSON string
/// cannot hold them (Go would replace the bytes with U+FFFD).
pub fn needs_base64(body: &[u8], headers: &Headers) -> bool {
    if headers.contains("content-encoding") || std::str::from_utf8(body).is_err() {
        return true;
    }
    let ct = detect_content_type(body);
    ![
        "text",
        "plain",
        "css",
        "html",
        "json",
        "xml",
        "js",
        "javascript",
    ]
    .iter()
    .any(|t| ct.contains(t))
}

/// The subset of Go's `http.DetectContentType` (net/http/sniff.go) that decides the
/// `encodedBody` rule for UTF-8 bodies: signatures of non-text types that are printable ASCII,
/// then the binary-byte scan of the first 512 bytes.
pub fn detect_content_type(body: &[u8]) -> &'static str {
    let data = &body[..body.len().min(512)];
    let ws = data
        .iter()
        .position(|b| !matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' '))
        .unwrap_or(data.len());
    let trimmed = &data[ws..];
    let starts = |p: &[u8]| data.starts_with(p);
    if trimmed.len() >= 5 && trimmed[..5].eq_ignore_ascii_case(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    if starts(b"%PDF-") {
        return "application/pdf";
    }
    if starts(b"%!PS-Adobe-") {
        return "application/postscript";
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return "image/gif";
    }
    if starts(b"BM") {
        return "image/bmp";
    }
    if starts(b"ID3") {
        return "audio/mpeg";
    }
    if starts(b"wOFF") {
        return "font/woff";
    }
    if starts(b"wOF2") {
        return "font/woff2";
    }
    if data.len() >= 12 && starts(b"RIFF") {
        match &data[8..12] {
            b"WAVE" => return "audio/wave",
            b"AVI " => return "video/avi",
            _ => {}
        }
        if data.len() >= 14 && &data[8..14] == b"WEBPVP" {
            return "image/webp";
        }
    }
    if data.len() >= 12 && starts(b"FORM") && &data[8..12] == b"AIFF" {
        return "audio/aiff";
    }
    if data
        .iter()
        .any(|&b| matches!(b, 0x00..=0x08 | 0x0b | 0x0e..=0x1a | 0x1c..=0x1f))
    {
        return "application/octet-stream";
    }
    "text/plain; charset=utf-8"
}

/// The body as Hoverfly exports it: text, or base64 with `encodedBody`.
pub(super) fn body_out(body: &Body, headers: &Headers) -> (String, bool) {
    if needs_base64(&body.bytes, headers) {
        (
            base64::engine::general_purpose::STANDARD.encode(&body.bytes),
            true,
        )
    } else {
        (String::from_utf8_lossy(&body.bytes).into_owned(), false)
    }
}

/// Groups headers by name for Hoverfly's `map[string][]string`.
pub(super) fn headers_out(h: &Headers) -> Fields<Vec<String>> {
    h.grouped()
        .into_iter()
        .map(|(n, vs)| (n.to_owned(), vs.into_iter().map(str::to_owned).collect()))
        .collect()
}

/// A global delay as written (`globalActions.delays`, `/api/delays`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DelayOut<'a> {
    url_pattern: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_method: Option<&'a str>,
    delay: i64,
}

/// How a delay for every method (an empty `httpMethod`) is written: v2+ views always carry
/// the field, v1 writers leave it out, as Hoverfly v0.10's `omitempty` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AnyMethod {
    /// `"httpMethod": ""`.
    Empty,
    /// No `httpMethod` key.
    Omitted,
}

/// The global delays as written: the one mapping every writer uses.
pub(super) fn delays_out(delays: &[Delay], any: AnyMethod) -> Vec<DelayOut<'_>> {
    delays
        .iter()
        .map(|d| DelayOut {
            url_pattern: &d.url_pattern,
            http_method: (any == AnyMethod::Empty || !d.http_method.is_empty())
                .then_some(d.http_method.as_str()),
            delay: d.delay,
        })
        .collect()
}

/// `meta` as written.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MetaOut {
    pub schema_version: &'static str,
    pub hoverfly_version: String,
    pub time_exported: String,
}

#[derive(Serialize)]
pub(super) struct DocOut<D> {
    pub data: D,
    pub meta: MetaOut,
}

/// The `hoverflyVersion` wirecap writes: who produced the file (Hoverfly ignores it).
pub(super) fn hoverfly_version() -> String {
    concat!("wirecap-v", env!("CARGO_PKG_VERSION")).to_owned()
}

pub(super) fn meta_out(version: SchemaVersion, sim: &Simulation, opts: &WriteOptions) -> MetaOut {
    let time_exported = match (opts.time_exported, &sim.meta.time_exported) {
        (Some(t), _) => t.to_rfc3339_z(),
        (None, Some(t)) => t.clone(),
        (None, None) => "1970-01-01T00:00:00Z".to_owned(),
    };
    MetaOut {
        schema_version: version.name(),
        hoverfly_version: hoverfly_version(),
        time_exported,
    }
}

/// Writes a whole document, pretty-printed with a final newline as Hoverfly exports it, and
/// returns `written` (the pairs it holds).
pub(super) fn finish<W: Write>(
    out: &mut W,
    doc: &impl Serialize,
    written: usize,
) -> io::Result<usize> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    out.write_all(b"\n")?;
    Ok(written)
}
