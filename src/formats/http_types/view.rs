//! The views an http-types exchange is read through, and their upgrade into the model:
//! lenient where the schema is, and every error located by a JSON pointer.

use super::META_KEY;
use crate::codec::json::JsonError;
use crate::codec::query;
use crate::model::{
    Body, Cut, Exchange, Headers, Request, Response, Scheme, Source, Timestamp, TlsInfo,
};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// Rewords a failure where the line, `request` or `response` is not an object.
///
/// serde's derive names the private view struct there ("null, expected struct ExchangeView"),
/// and reads an array as the struct's fields in order, so it reports a pointer into the array
/// ("/0/request: unknown field"). Users should read "an array, expected an object" at the
/// value itself. Runs on the error path only: the line is parsed again as a plain value.
pub(super) fn not_an_object(bytes: &[u8], error: JsonError) -> JsonError {
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
pub(super) fn describe(value: &Value) -> String {
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
pub(super) struct ExchangeView {
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
pub(super) const ENCODING_HEADERS: [&str; 2] = ["content-encoding", "content-length"];

/// The headers to write for `body`, and those left out of them as [`ENCODING_HEADERS`].
/// Name → value (one) or values (several), in order of first appearance.
pub(super) type Grouped<S> = Vec<(S, Vec<S>)>;

pub(super) fn describing<'h>(
    headers: &'h Headers,
    body: &Body,
) -> (Grouped<&'h str>, Vec<(String, String)>) {
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
pub(super) struct Extras {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) request_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) response_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) interim: Vec<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) trailers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) request_trailers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) request_decoded_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) response_decoded_from: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) request_encoding_headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) response_encoding_headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) omitted_bodies: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) request_body_cut: Option<Cut>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) response_body_cut: Option<Cut>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) flow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) tls: Option<TlsInfo>,
}

impl Extras {
    pub(super) fn is_empty(&self) -> bool {
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
    pub(super) fn into_exchange(self, mut source: Source) -> Result<Exchange, JsonError> {
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
