//! A fast path for http-types lines: decides that a line is valid without building a
//! `serde_json::Value`.
//!
//! Building a `Value` (a map per object, a `String` per key and string) is most of the cost
//! of validating a big recording, and almost every line is valid. So each line is first
//! deserialised into borrowed views whose visitors check the strict profile's schema (types,
//! required fields, enums, no unknown keys, date-time timestamps) and the http-types rules
//! as they go, keeping only what the rules need: lengths, a few header values, the path and
//! the query. Strings are never copied except query values.
//!
//! The fast path may only say yes when the full check (schema + [`rules::http_types`]) would
//! find nothing; on anything unusual (duplicate keys, a float status, a lower-case `t` in a
//! timestamp, `url`, …) it says no and the caller runs the full check, which then finds the
//! exact problems or none. Strict-valid lines are also valid under the published schema, so
//! the same path serves both profiles (`--profile schema` skips the rules). It also hands
//! back the line's timestamps for the check across lines, parsed as the full check parses
//! them.
//!
//! [`rules::http_types`]: super::rules::http_types

use super::schemas::Schema;
use super::{Profile, Times};
use crate::formats::query::parse_qs;
use crate::model::Timestamp;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// The line's timestamps when `line` is certainly valid under `schema` and, if `profile`
/// has them, the http-types rules; `None` when the full check must decide.
pub(super) fn check(line: &[u8], schema: &Schema, profile: Profile) -> Option<Times> {
    if !schema.format.starts_with("http-types") {
        return None;
    }
    // One UTF-8 check for the whole line (fast on ASCII) lets serde_json skip it per string.
    let line = std::str::from_utf8(line).ok()?;
    let ex = serde_json::from_str::<ExchangeView<'_>>(line).ok()?;
    // The strict schema: without path, pathname and query are both required.
    if ex.request.path.0.is_none()
        && (ex.request.pathname.0.is_none() || ex.request.query.0.is_none())
    {
        return None;
    }
    if profile.rules() && !ex.passes_rules() {
        return None;
    }
    Some(Times {
        request: ex.request.timestamp.0.map(|t| t.0),
        response: ex.response.timestamp.0.map(|t| t.0),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeView<'a> {
    #[serde(borrow)]
    request: RequestView<'a>,
    response: ResponseView,
    #[serde(default)]
    #[allow(dead_code)]
    meta: Field<AnyObject>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestView<'a> {
    method: Method,
    #[allow(dead_code)]
    protocol: Protocol,
    #[allow(dead_code)]
    host: NonEmpty,
    #[serde(default, borrow)]
    path: Field<Cow<'a, str>>,
    #[serde(default, borrow)]
    pathname: Field<Cow<'a, str>>,
    #[serde(default)]
    query: Field<QueryView>,
    #[serde(default)]
    headers: Field<HeadersView>,
    #[serde(default)]
    body: Field<StrLen>,
    #[serde(default)]
    timestamp: Field<Ts>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseView {
    #[serde(rename = "statusCode")]
    status_code: Status,
    headers: HeadersView,
    #[serde(default)]
    body: Field<StrLen>,
    #[serde(default)]
    timestamp: Field<Ts>,
}

impl ExchangeView<'_> {
    /// The http-types rules, as [`super::rules::http_types`] applies them; false on any
    /// finding.
    fn passes_rules(&self) -> bool {
        let (req, resp) = (&self.request, &self.response);
        let status = resp.status_code.0;
        if !(100..=599).contains(&status) {
            return false;
        }
        let no_body = req.method.is_head || status == 304;
        if !no_body
            && !resp
                .headers
                .content_length_ok(resp.body.0.map_or(0, |b| b.0))
        {
            return false;
        }
        if let Some(h) = &req.headers.0 {
            if !h.content_length_ok(req.body.0.map_or(0, |b| b.0)) {
                return false;
            }
        }
        if let Some(path) = &req.path.0 {
            let no_fragment = path.split_once('#').map_or(&**path, |(p, _)| p);
            let (pathname, query) = no_fragment.split_once('?').unwrap_or((no_fragment, ""));
            if req.pathname.0.as_ref().is_some_and(|p| p != pathname) {
                return false;
            }
            if let Some(given) = &req.query.0 {
                let mut want = parse_qs(query);
                want.sort();
                let mut have = given.0.clone();
                have.sort();
                if want != have {
                    return false;
                }
            }
        }
        if let (Some(a), Some(b)) = (req.timestamp.0, resp.timestamp.0) {
            if b.0 < a.0 {
                return false;
            }
        }
        true
    }
}

/// An optional field that, unlike `Option`, rejects `null` (the schema does).
struct Field<T>(Option<T>);

impl<T> Default for Field<T> {
    fn default() -> Self {
        Field(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(|t| Field(Some(t)))
    }
}

/// Implements `Deserialize` for a type read from a JSON string by `$check(&str)`.
macro_rules! from_str {
    ($ty:ident, $expecting:literal, |$s:ident| $body:expr) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, $s: &str) -> Result<$ty, E> {
                        $body.ok_or_else(|| E::custom("rejected"))
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

const METHODS: [&str; 9] = [
    "get", "put", "post", "patch", "delete", "options", "trace", "head", "connect",
];

struct Method {
    is_head: bool,
}
from_str!(Method, "a lower-case method", |s| METHODS
    .contains(&s)
    .then_some(Method {
        is_head: s == "head"
    }));

struct Protocol;
from_str!(Protocol, "http or https", |s| matches!(s, "http" | "https")
    .then_some(Protocol));

struct NonEmpty;
from_str!(NonEmpty, "a non-empty string", |s| (!s.is_empty())
    .then_some(NonEmpty));

/// A string's length in bytes once unescaped (what Content-Length counts).
#[derive(Clone, Copy)]
struct StrLen(usize);
from_str!(StrLen, "a string", |s| Some(StrLen(s.len())));

/// An RFC 3339 `date-time`, checked no more leniently than the schema's `format`.
#[derive(Clone, Copy)]
struct Ts(Timestamp);
from_str!(Ts, "an RFC 3339 date-time", |s| strict_date_time(s)
    .then(|| Timestamp::parse_rfc3339(s).ok())
    .flatten()
    .map(Ts));

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` with real calendar ranges: a subset of what
/// JSON Schema's `date-time` accepts (leap seconds and lower-case letters fall back).
fn strict_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(sec)) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    ) else {
        return false;
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return false;
    }
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if y < 1000 || d == 0 || d > days || h > 23 || mi > 59 || sec > 59 {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match &b[i..] {
        b"Z" => true,
        [sign, ..] if (*sign == b'+' || *sign == b'-') && b.len() == i + 6 => {
            b[i + 3] == b':'
                && num(i + 1..i + 3).is_some_and(|oh| oh <= 23)
                && num(i + 4..i + 6).is_some_and(|om| om <= 59)
        }
        _ => false,
    }
}

/// An integer status code (a float such as `200.0` falls back to the full check).
struct Status(u64);

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Status;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Status, E> {
                Ok(Status(v))
            }
        }
        d.deserialize_u64(V)
    }
}

/// Any JSON object, skipped.
struct AnyObject;

impl<'de> Deserialize<'de> for AnyObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnyObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyObject, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(AnyObject)
            }
        }
        d.deserialize_map(V)
    }
}

/// The headers the rules look at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Interesting {
    ContentLength,
    TransferEncoding,
    ContentEncoding,
    Other,
}

struct HeaderName(Interesting);
from_str!(HeaderName, "a header name", |s| Some(HeaderName(
    if s.eq_ignore_ascii_case("content-length") {
        Interesting::ContentLength
    } else if s.eq_ignore_ascii_case("transfer-encoding") {
        Interesting::TransferEncoding
    } else if s.eq_ignore_ascii_case("content-encoding") {
        Interesting::ContentEncoding
    } else {
        Interesting::Other
    }
)));

/// A header or query value: a string or an array of strings. Keeps the first string when
/// asked to.
struct StrOrList {
    keep: bool,
}

impl<'de> DeserializeSeed<'de> for StrOrList {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrOrList {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<String>, E> {
        Ok(self.keep.then(|| s.to_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<String>, A::Error> {
        let mut first = None;
        let mut i = 0usize;
        while let Some(s) = seq.next_element_seed(StrOnly {
            keep: self.keep && i == 0,
        })? {
            if i == 0 {
                first = s;
            }
            i += 1;
        }
        Ok(first)
    }
}

struct StrOnly {
    keep: bool,
}

impl<'de> DeserializeSeed<'de> for StrOnly {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_str(StrOrList { keep: self.keep })
    }
}

/// The header facts the rules need.
#[derive(Default)]
struct HeadersView {
    content_length: Option<String>,
    transfer_encoding: bool,
    content_encoding: bool,
}

impl HeadersView {
    /// [`super::rules`]' Content-Length check for a decoded body of `len` bytes.
    fn content_length_ok(&self, len: usize) -> bool {
        let Some(cl) = &self.content_length else {
            return true;
        };
        if self.transfer_encoding {
            return false;
        }
        if self.content_encoding {
            return true;
        }
        cl.trim().parse::<usize>().is_ok_and(|n| n == len)
    }
}

impl<'de> Deserialize<'de> for HeadersView {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HeadersView;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a header map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeadersView, A::Error> {
                let mut h = HeadersView::default();
                let mut seen_cl = false;
                while let Some(HeaderName(kind)) = map.next_key()? {
                    let value = map.next_value_seed(StrOrList {
                        keep: kind == Interesting::ContentLength,
                    })?;
                    match kind {
                        // Two spellings of Content-Length: let the full check decide.
                        Interesting::ContentLength if seen_cl => {
                            return Err(de::Error::custom("repeated"));
                        }
                        Interesting::ContentLength => {
                            seen_cl = true;
                            // An empty list has no first value: the rules skip it.
                            h.content_length = value;
                        }
                        Interesting::TransferEncoding => h.transfer_encoding = true,
                        Interesting::ContentEncoding => h.content_encoding = true,
                        Interesting::Other => {}
                    }
                }
                Ok(h)
            }
        }
        d.deserialize_map(V)
    }
}

/// A query map, as `(name, values)` pairs.
struct QueryView(Vec<(String, Vec<String>)>);

impl<'de> Deserialize<'de> for QueryView {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = QueryView;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a query map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<QueryView, A::Error> {
                let mut out: Vec<(String, Vec<String>)> = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    let values = map.next_value::<OneOrMany>()?.0;
                    if out.iter().any(|(n, _)| *n == name) {
                        return Err(de::Error::custom("repeated"));
                    }
                    out.push((name, values));
                }
                Ok(QueryView(out))
            }
        }
        d.deserialize_map(V)
    }
}

struct OneOrMany(Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![s.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(OneOrMany(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_are_checked_strictly() {
        for ok in [
            "2023-11-14T22:13:20Z",
            "2023-11-14T22:13:20.003000+00:00",
            "2024-02-29T00:00:00-05:30",
        ] {
            assert!(strict_date_time(ok), "{ok}");
        }
        for bad in [
            "2023-11-14T22:13:20",
            "2023-02-29T00:00:00Z",
            "2023-11-14t22:13:20Z",
            "2023-11-14T24:00:00Z",
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20+0000",
            "yesterday",
            "2023-11-14T22:13:60Z",
        ] {
            assert!(!strict_date_time(bad), "{bad}");
        }
    }
}
