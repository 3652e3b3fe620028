//! A fast path for http-types lines: decides that a line is valid without building a
//! `serde_json::Value`.
//!
//! Building a `Value` (a map per object, a `String` per key and string) is most of the cost
//! of validating a big recording, and almost every line is valid. So each line is first
//! deserialised into borrowed views whose visitors check the strict profile's schema (types,
//! required fields, enums, no unknown keys, date-time timestamps) and the http-types rules
//! as they go, keeping only what the rules need: lengths, a few header values, the path and
//! the query. Strings are borrowed from the line; only strings with escapes are copied.
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

use super::Profile;
use super::jsonl::Times;
use super::schemas::Schema;
use crate::codec::query::parse_qs;
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
    #[serde(default, borrow)]
    query: Field<QueryView<'a>>,
    #[serde(default)]
    headers: Field<HeadersView>,
    #[serde(default)]
    body: Field<BodyLen>,
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
    body: Field<BodyLen>,
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
        let resp_len = resp.body.0.map_or(0, |b| b.0);
        if !no_body && !resp.headers.content_length_ok(resp_len) {
            return false;
        }
        if !resp.headers.encoding_ok(resp_len) {
            return false;
        }
        if let Some(h) = &req.headers.0 {
            let req_len = req.body.0.map_or(0, |b| b.0);
            if !h.content_length_ok(req_len) || !h.encoding_ok(req_len) {
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
                if !given.matches(query) {
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

/// A body string's length in bytes once unescaped (what Content-Length counts).
///
/// Bodies are most of a recording's bytes and often JSON, full of `\"`. Unescaping them
/// into a buffer only to take the length was the biggest cost left, so the body is taken
/// raw (serde_json checks its syntax without copying) and its escapes are counted here.
#[derive(Clone, Copy)]
struct BodyLen(usize);

impl<'de> Deserialize<'de> for BodyLen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'de serde_json::value::RawValue>::deserialize(d)?;
        let text = raw.get().as_bytes();
        text.strip_prefix(b"\"")
            .and_then(|t| t.strip_suffix(b"\""))
            .and_then(unescaped_len)
            .map(BodyLen)
            .ok_or_else(|| de::Error::custom("not a string, or a lone surrogate"))
    }
}

/// The length in bytes of the JSON string body `s` (between the quotes, already checked by
/// serde_json) once unescaped; `None` for a lone surrogate, which serde_json (and so the
/// full check) rejects in a string but not while skipping one.
fn unescaped_len(s: &[u8]) -> Option<usize> {
    let hex4 = |i: usize| -> Option<u32> {
        let h = std::str::from_utf8(s.get(i..i + 4)?).ok()?;
        u32::from_str_radix(h, 16).ok()
    };
    let mut len = s.len();
    let mut i = 0;
    while let Some(at) = next_backslash(s, i) {
        if s.get(at + 1) != Some(&b'u') {
            // \" \\ \/ \b \f \n \r \t: two bytes become one.
            len -= 1;
            i = at + 2;
            continue;
        }
        let cp = hex4(at + 2)?;
        let (raw, bytes) = match cp {
            0..=0x7f => (6, 1),
            0x80..=0x7ff => (6, 2),
            0xd800..=0xdbff => {
                let low = (s.get(at + 6..at + 8) == Some(&b"\\u"[..]))
                    .then(|| hex4(at + 8))
                    .flatten()?;
                if !(0xdc00..=0xdfff).contains(&low) {
                    return None;
                }
                (12, 4)
            }
            0xdc00..=0xdfff => return None,
            _ => (6, 3),
        };
        len -= raw - bytes;
        i = at + raw;
    }
    Some(len)
}

/// The first `\\` in `s` at or after `from`. Escapes in JSON bodies come every few bytes,
/// too often for `memchr`'s per-call setup to pay; eight bytes at a time is cheaper.
fn next_backslash(s: &[u8], from: usize) -> Option<usize> {
    use crate::codec::json::{splat, zero_byte_marks};
    let mut i = from;
    while let Some(word) = s.get(i..i + 8) {
        let x = u64::from_le_bytes(word.try_into().expect("eight bytes")) ^ splat(b'\\');
        let found = zero_byte_marks(x);
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s.get(i..)?.iter().position(|&b| b == b'\\').map(|p| i + p)
}

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

/// Any JSON object, skipped, its values walked rather than ignored: serde_json ignores a
/// value without counting how deep it nests, and the full check (like `convert`'s reader)
/// stops at its recursion limit, so an `IgnoredAny` here would pass what they refuse.
struct AnyObject;

/// Any JSON value, walked so that serde_json counts its depth.
struct AnyValue;

impl<'de> Deserialize<'de> for AnyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnyValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<AnyValue, E> {
                Ok(AnyValue)
            }
            fn visit_i64<E>(self, _: i64) -> Result<AnyValue, E> {
                Ok(AnyValue)
            }
            fn visit_u64<E>(self, _: u64) -> Result<AnyValue, E> {
                Ok(AnyValue)
            }
            fn visit_f64<E>(self, _: f64) -> Result<AnyValue, E> {
                Ok(AnyValue)
            }
            fn visit_str<E>(self, _: &str) -> Result<AnyValue, E> {
                Ok(AnyValue)
            }
            fn visit_unit<E>(self) -> Result<AnyValue, E> {
                Ok(AnyValue)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AnyValue, A::Error> {
                while seq.next_element::<AnyValue>()?.is_some() {}
                Ok(AnyValue)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyValue, A::Error> {
                while map.next_entry::<IgnoredAny, AnyValue>()?.is_some() {}
                Ok(AnyValue)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for AnyObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnyObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyObject, A::Error> {
                while map.next_entry::<IgnoredAny, AnyValue>()?.is_some() {}
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

/// A header value (a string or an array of strings), read for its first string's number.
struct HeaderValue {
    /// Whether the first string matters (only Content-Length's does).
    keep: bool,
}

/// A Content-Length value as the rules see it: absent (an empty list), or its first string
/// as a number if it is one.
type FirstNumber = Option<Option<usize>>;

fn first_number(s: &str) -> Option<usize> {
    s.trim().parse::<usize>().ok()
}

impl<'de> DeserializeSeed<'de> for HeaderValue {
    type Value = FirstNumber;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<FirstNumber, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for HeaderValue {
    type Value = FirstNumber;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<FirstNumber, E> {
        Ok(self.keep.then(|| first_number(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FirstNumber, A::Error> {
        let mut first = None;
        while let Some(n) = seq.next_element_seed(StrOnly {
            keep: self.keep && first.is_none(),
        })? {
            first = first.or(n);
        }
        Ok(first)
    }
}

/// One string of a header list.
struct StrOnly {
    keep: bool,
}

impl<'de> DeserializeSeed<'de> for StrOnly {
    type Value = FirstNumber;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<FirstNumber, D::Error> {
        d.deserialize_str(HeaderValue { keep: self.keep })
    }
}

/// The header facts the rules need.
#[derive(Default)]
struct HeadersView {
    /// Content-Length is present (even as an empty list).
    has_content_length: bool,
    /// Its first value, if it has one.
    content_length: FirstNumber,
    transfer_encoding: bool,
    content_encoding: bool,
}

impl HeadersView {
    /// [`super::rules`]' Content-Encoding check: a body under a Content-Encoding may be a
    /// finding (the full check reads the coding, `identity` is fine).
    fn encoding_ok(&self, len: usize) -> bool {
        !self.content_encoding || len == 0
    }

    /// [`super::rules`]' Content-Length check for a decoded body of `len` bytes, in the
    /// same order.
    fn content_length_ok(&self, len: usize) -> bool {
        if !self.has_content_length {
            return true;
        }
        if self.transfer_encoding {
            return false;
        }
        if self.content_encoding {
            return true;
        }
        match self.content_length {
            None => true,
            // An empty body with a Content-Length: HEAD and 304 answers (RFC 9110 §8.6).
            Some(_) if len == 0 => true,
            Some(n) => n == Some(len),
        }
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
                while let Some(HeaderName(kind)) = map.next_key()? {
                    let value = map.next_value_seed(HeaderValue {
                        keep: kind == Interesting::ContentLength,
                    })?;
                    match kind {
                        // Two spellings of Content-Length: let the full check decide.
                        Interesting::ContentLength if h.has_content_length => {
                            return Err(de::Error::custom("repeated"));
                        }
                        Interesting::ContentLength => {
                            h.has_content_length = true;
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

/// A borrowed string (copied only when it holds escapes).
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A query map: names in order, each with its values (a string is a list of one).
struct QueryView<'a> {
    /// `(name, start, end)`: the name's values are `values[start..end]`.
    names: Vec<(Cow<'a, str>, usize, usize)>,
    values: Vec<Cow<'a, str>>,
}

impl QueryView<'_> {
    /// Whether the query string `query` parses (as [`parse_qs`] does) to exactly these names
    /// and values: the same names, and per name the same values in the same order.
    fn matches(&self, query: &str) -> bool {
        if query.contains(['%', '+']) {
            // Decoding changes the text: compare what parse_qs makes.
            let want = parse_qs(query);
            return want.len() == self.names.len()
                && want.iter().all(|(name, values)| {
                    self.names
                        .iter()
                        .any(|(n, a, b)| n == name && self.values[*a..*b].iter().eq(values.iter()))
                });
        }
        // Without `%` and `+` the text is its own decoding: compare in place, no copies.
        // parse_qs keeps `name=value` pairs with a non-empty value.
        let pairs = || {
            query
                .split('&')
                .filter_map(|p| p.split_once('='))
                .filter(|(_, v)| !v.is_empty())
        };
        let mut distinct = 0;
        for (i, (name, _)) in pairs().enumerate() {
            if !pairs().take(i).any(|(n, _)| n == name) {
                distinct += 1;
            }
        }
        distinct == self.names.len()
            && self.names.iter().all(|(name, a, b)| {
                // An empty list is a name parse_qs never makes.
                if a == b {
                    return false;
                }
                let want = pairs().filter(|(n, _)| n == name).map(|(_, v)| v);
                self.values[*a..*b].iter().map(|v| &**v).eq(want)
            })
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for QueryView<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = QueryView<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a query map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<QueryView<'de>, A::Error> {
                let mut q = QueryView {
                    names: Vec::new(),
                    values: Vec::new(),
                };
                while let Some(Text(name)) = map.next_key()? {
                    if q.names.iter().any(|(n, _, _)| *n == name) {
                        return Err(de::Error::custom("repeated"));
                    }
                    let start = q.values.len();
                    map.next_value_seed(Values(&mut q.values))?;
                    q.names.push((name, start, q.values.len()));
                }
                Ok(q)
            }
        }
        d.deserialize_map(V)
    }
}

/// A query value (a string or an array of strings), appended to a list.
struct Values<'v, 'a>(&'v mut Vec<Cow<'a, str>>);

impl<'de> DeserializeSeed<'de> for Values<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Values<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<(), E> {
        self.0.push(Cow::Borrowed(s));
        Ok(())
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        self.0.push(Cow::Owned(s.to_owned()));
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(Text(s)) = seq.next_element()? {
            self.0.push(s);
        }
        Ok(())
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

    #[test]
    fn backslashes_are_found_at_any_offset() {
        for len in 0..20 {
            for at in 0..len {
                let mut s = vec![b'a'; len];
                s[at] = b'\\';
                for from in 0..=len {
                    let want = (from <= at).then_some(at);
                    assert_eq!(next_backslash(&s, from), want, "{len} {at} {from}");
                }
            }
            assert_eq!(next_backslash(&vec![0xff; len], 0), None);
        }
    }

    #[test]
    fn unescaped_lengths() {
        for (s, want) in [
            (r#"plain"#, Some(5)),
            (r#"\"\\\/\n"#, Some(4)),
            (r#"\\u0041"#, Some(6)),
            (r#"\u0041\u00e9\u20ac\ud83d\ude00"#, Some(10)),
            (r#"\ud83d"#, None),
            (r#"\ude00"#, None),
            (r#"\ud83d\u0041"#, None),
        ] {
            assert_eq!(unescaped_len(s.as_bytes()), want, "{s}");
        }
    }
}
