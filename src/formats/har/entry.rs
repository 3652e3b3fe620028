//! The HAR entry an exchange gives, before anything a reader kept is laid over it.
//!
//! HAR repeats much of a message in other words: `cookies` from the `Cookie` and `Set-Cookie`
//! headers, `queryString` from the URL, form `params` from the body, `mimeType` from
//! `Content-Type`, `redirectURL` from `Location`. All of them are derived here from the
//! model, and what the model does not know gets HAR's own default (`-1` for sizes and
//! timings, HAR 1.2 §timings and §request). The writer lays `extra["har"]` over this entry;
//! the reader compares a file's entry with this one and keeps only what differs, so the two
//! agree by construction.

use super::wirecap::Wirecap;
use crate::codec::query;
use crate::model::{Body, Exchange, Headers, Request, Response, Timestamp};
use base64::Engine as _;
use serde_json::{Map, Value, json};

/// The `mimeType` HAR wants for form posts, whose `params` it spells out.
const FORM: &str = "application/x-www-form-urlencoded";

/// `startedDateTime` of an exchange with no request time: HAR requires one, and the epoch
/// cannot be mistaken for a real capture time (`_wirecap.requestTimestamp` says it is none).
const NO_TIME: &str = "1970-01-01T00:00:00Z";

/// Why an exchange has no HAR entry.
pub(super) enum Skip {
    /// No authority and no `Host` header: HAR's `url` must be absolute.
    MissingHost,
}

/// The entry for `ex`, with `_wirecap` holding what HAR has no field for.
pub(super) fn build(ex: &Exchange) -> Result<Map<String, Value>, Skip> {
    let req = &ex.request;
    let mut wirecap = Wirecap::of(ex);
    let url = url(req, &mut wirecap)?;
    let elapsed = elapsed_ms(ex, &mut wirecap);
    let mut entry = Map::new();
    entry.insert(
        "startedDateTime".into(),
        req.timestamp
            .map_or_else(|| NO_TIME.to_owned(), Timestamp::to_rfc3339_z)
            .into(),
    );
    entry.insert("time".into(), number(elapsed));
    entry.insert("request".into(), request(req, url).into());
    entry.insert("response".into(), response(ex.response.as_ref()).into());
    entry.insert("cache".into(), json!({}));
    entry.insert(
        "timings".into(),
        json!({"blocked": -1, "dns": -1, "connect": -1, "send": 0, "wait": number(elapsed), "receive": 0, "ssl": -1}),
    );
    if let Some((ip, port)) = ex.source.flow.as_deref().and_then(flow_ends) {
        entry.insert("serverIPAddress".into(), ip.into());
        entry.insert("connection".into(), port.into());
    }
    if let Some(w) = wirecap.into_value() {
        entry.insert(super::WIRECAP_KEY.into(), w);
    }
    Ok(entry)
}

/// A JSON number for a duration in milliseconds (`0.0` and the like stay floats, as HAR's
/// numbers are).
fn number(ms: f64) -> Value {
    serde_json::Number::from_f64(ms).map_or(Value::from(0), Value::Number)
}

/// `time`: from the request's first byte to the response's last, in milliseconds. When the
/// model lacks either end, or they are out of order, `time` is 0 and `_wirecap` keeps the
/// response time as it was.
fn elapsed_ms(ex: &Exchange, wirecap: &mut Wirecap) -> f64 {
    let Some(resp) = &ex.response else {
        return 0.0;
    };
    match (ex.request.timestamp, resp.timestamp) {
        (Some(a), Some(b)) if b >= a => nanos_between(a, b) as f64 / 1e6,
        (_, b) => {
            wirecap.keep_response_time(b);
            0.0
        }
    }
}

fn nanos_between(a: Timestamp, b: Timestamp) -> i128 {
    let ns =
        |t: Timestamp| i128::from(t.unix_secs()) * 1_000_000_000 + i128::from(t.subsec_nanos());
    ns(b) - ns(a)
}

/// `ms` after `t`, to the nanosecond; `None` if it does not fit a timestamp.
pub(super) fn after_ms(t: Timestamp, ms: f64) -> Option<Timestamp> {
    let delta = (ms * 1e6).round();
    if !delta.is_finite() || delta.abs() > 1e30 {
        return None;
    }
    let total = i128::from(t.subsec_nanos()) + delta as i128;
    let secs = i64::try_from(total.div_euclid(1_000_000_000)).ok()?;
    let nanos = total.rem_euclid(1_000_000_000) as u32;
    Some(Timestamp::from_unix(
        t.unix_secs().checked_add(secs)?,
        nanos,
    ))
}

/// The absolute URL of the request: the target itself when it is absolute, else scheme,
/// authority (the `Host` header when the model has none) and target. Whatever reading the URL
/// back would not give goes into `_wirecap`.
fn url(req: &Request, wirecap: &mut Wirecap) -> Result<String, Skip> {
    let authority = match req.authority() {
        a if !a.is_empty() => a,
        _ => req
            .headers
            .first("host")
            .filter(|h| !h.is_empty())
            .ok_or(Skip::MissingHost)?
            .to_owned(),
    };
    let is_absolute = !req.target.starts_with('/') && req.target.contains("://");
    let url = if is_absolute {
        req.target.clone()
    } else if req.target.starts_with('/') {
        format!("{}://{authority}{}", req.scheme.as_str(), req.target)
    } else {
        format!("{}://{authority}/", req.scheme.as_str())
    };
    let parsed = split_url(&url);
    if parsed.as_ref().map(|p| &p.target) != Some(&req.target) {
        wirecap.target = Some(req.target.clone());
    }
    if parsed.as_ref().map(|p| (&p.host, p.port)) != Some((&req.host, req.port)) {
        wirecap.authority = Some((req.host.clone(), req.port));
    }
    if parsed.as_ref().map(|p| p.scheme) != Some(req.scheme) {
        wirecap.scheme = Some(req.scheme);
    }
    Ok(url)
}

/// An absolute `http(s)` URL taken apart as the reader does.
pub(super) struct Url {
    pub scheme: crate::model::Scheme,
    pub host: String,
    pub port: Option<u16>,
    pub target: String,
}

/// Splits `scheme://authority/target`; `None` when it is not an absolute http(s) URL.
pub(super) fn split_url(url: &str) -> Option<Url> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = crate::model::Scheme::parse(scheme)?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, port) = crate::model::split_authority(&rest[..end]);
    if host.is_empty() {
        return None;
    }
    let target = match &rest[end..] {
        t if t.starts_with('/') => t.to_owned(),
        t => format!("/{t}"),
    };
    Some(Url {
        scheme,
        host,
        port,
        target,
    })
}

fn request(req: &Request, url: String) -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("method".into(), req.method.clone().into());
    r.insert("url".into(), url.into());
    r.insert("httpVersion".into(), version(req.version.as_deref()));
    r.insert("cookies".into(), request_cookies(&req.headers));
    r.insert("headers".into(), headers(&req.headers));
    r.insert("queryString".into(), query_string(req.query()));
    if !req.body.is_empty() {
        r.insert("postData".into(), post_data(&req.headers, &req.body).into());
    }
    r.insert("headersSize".into(), (-1).into());
    r.insert("bodySize".into(), body_size(&req.body));
    r
}

/// A response with status 0 stands for none, as browsers write a request that got no answer.
fn response(resp: Option<&Response>) -> Map<String, Value> {
    let empty = Headers::new();
    let headers_of = resp.map_or(&empty, |r| &r.headers);
    let mut r = Map::new();
    r.insert("status".into(), resp.map_or(0, |r| r.status).into());
    r.insert(
        "statusText".into(),
        resp.and_then(|r| r.reason.clone())
            .unwrap_or_default()
            .into(),
    );
    r.insert(
        "httpVersion".into(),
        version(resp.and_then(|r| r.version.as_deref())),
    );
    r.insert("cookies".into(), response_cookies(headers_of));
    r.insert("headers".into(), headers(headers_of));
    let body = resp.map(|r| &r.body);
    r.insert("content".into(), content(headers_of, body).into());
    r.insert(
        "redirectURL".into(),
        headers_of.first("location").unwrap_or_default().into(),
    );
    r.insert("headersSize".into(), (-1).into());
    r.insert(
        "bodySize".into(),
        body.map_or_else(|| (-1).into(), body_size),
    );
    r
}

fn version(v: Option<&str>) -> Value {
    v.unwrap_or_default().into()
}

/// Bytes as sent: the body's length unless a content coding was undone (then unknown).
fn body_size(body: &Body) -> Value {
    match body.decoded_from {
        None => body.bytes.len().into(),
        Some(_) => (-1).into(),
    }
}

fn pair(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

fn headers(headers: &Headers) -> Value {
    headers.iter().map(|h| pair(&h.name, &h.value)).collect()
}

/// `name=value` pairs of every `Cookie` header (RFC 6265 §4.2).
fn request_cookies(headers: &Headers) -> Value {
    headers
        .all("cookie")
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            let (name, value) = c.split_once('=').unwrap_or((c, ""));
            pair(name.trim(), value.trim())
        })
        .collect()
}

/// One cookie per `Set-Cookie` header (RFC 6265 §4.1), with the attributes HAR names.
fn response_cookies(headers: &Headers) -> Value {
    headers
        .all("set-cookie")
        .map(|v| {
            let mut parts = v.split(';').map(str::trim);
            let first = parts.next().unwrap_or_default();
            let (name, value) = first.split_once('=').unwrap_or((first, ""));
            let mut c = Map::new();
            c.insert("name".into(), name.trim().into());
            c.insert("value".into(), value.trim().into());
            for attr in parts {
                let (key, val) = attr.split_once('=').unwrap_or((attr, ""));
                let val = val.trim();
                match key.trim().to_ascii_lowercase().as_str() {
                    "path" => {
                        c.insert("path".into(), val.into());
                    }
                    "domain" => {
                        c.insert("domain".into(), val.into());
                    }
                    "expires" => {
                        if let Some(t) = http_date(val) {
                            c.insert("expires".into(), t.to_rfc3339_z().into());
                        }
                    }
                    "httponly" => {
                        c.insert("httpOnly".into(), true.into());
                    }
                    "secure" => {
                        c.insert("secure".into(), true.into());
                    }
                    _ => {}
                }
            }
            Value::Object(c)
        })
        .collect()
}

/// An `Expires` date: `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7), or with dashes
/// between day, month and year as cookies often write it.
fn http_date(s: &str) -> Option<Timestamp> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let rest = s.split_once(',').map_or(s, |(_, r)| r).replace('-', " ");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let [day, month, year, time, ..] = fields.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|m| month.eq_ignore_ascii_case(m))? + 1;
    let day: u32 = day.parse().ok()?;
    let year: u32 = year.parse().ok()?;
    Timestamp::parse_rfc3339(&format!("{year:04}-{month:02}-{day:02}T{time}Z")).ok()
}

/// Name/value pairs of a query or form body, decoded as browsers decode forms (`+` is space).
fn form_pairs(text: &str) -> Value {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            pair(&query::unquote_plus(name), &query::unquote_plus(value))
        })
        .collect()
}

fn query_string(query: Option<&str>) -> Value {
    form_pairs(query.unwrap_or_default())
}

fn mime_type(headers: &Headers) -> &str {
    headers.first("content-type").unwrap_or_default()
}

/// HAR 1.2 has no `encoding` for `postData`: a body that is not UTF-8 is written as base64
/// with the custom field `_encoding`, as `content.encoding` would say it.
fn post_data(headers: &Headers, body: &Body) -> Map<String, Value> {
    let mime = mime_type(headers);
    let mut p = Map::new();
    p.insert("mimeType".into(), mime.into());
    match body.as_text() {
        Some(text) => {
            p.insert("text".into(), text.into());
            let essence = mime.split(';').next().unwrap_or_default().trim();
            if essence.eq_ignore_ascii_case(FORM) {
                p.insert("params".into(), form_pairs(text));
            }
        }
        None => {
            p.insert("text".into(), base64(&body.bytes).into());
            p.insert("_encoding".into(), "base64".into());
        }
    }
    p
}

fn content(headers: &Headers, body: Option<&Body>) -> Map<String, Value> {
    let bytes = body.map_or(&[][..], |b| &b.bytes);
    let mut c = Map::new();
    c.insert("size".into(), bytes.len().into());
    c.insert("mimeType".into(), mime_type(headers).into());
    if !bytes.is_empty() {
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                c.insert("text".into(), text.into());
            }
            Err(_) => {
                c.insert("text".into(), base64(bytes).into());
                c.insert("encoding".into(), "base64".into());
            }
        }
    }
    c
}

pub(super) fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The server's address and the client's port of a capture's flow,
/// `client-ip:port -> server-ip:port`: HAR's `serverIPAddress` and `connection` (which HAR
/// 1.2 says may be the client's port).
fn flow_ends(flow: &str) -> Option<(String, String)> {
    let (client, server) = flow.split_once(" -> ")?;
    let client: std::net::SocketAddr = client.parse().ok()?;
    let server: std::net::SocketAddr = server.parse().ok()?;
    Some((server.ip().to_string(), client.port().to_string()))
}

/// The content coding a HAR body was decoded from: HAR bodies are always decoded (HAR 1.2
/// §content), so the `Content-Encoding` header names it, by the rule the capture reader uses
/// (the first value, when any coding other than `identity` applies to a non-empty body).
pub(super) fn decoded_from(headers: &Headers, bytes: &[u8]) -> Option<String> {
    let applies = headers
        .all("content-encoding")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"));
    (applies && !bytes.is_empty())
        .then(|| headers.first("content-encoding").map(str::to_owned))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        pairs.iter().copied().collect()
    }

    #[test]
    fn cookies_come_from_the_cookie_headers() {
        let h = headers(&[("Cookie", "a=1; b=x=y"), ("cookie", "c")]);
        assert_eq!(
            request_cookies(&h),
            json!([{"name":"a","value":"1"},{"name":"b","value":"x=y"},{"name":"c","value":""}])
        );
        let h = headers(&[(
            "Set-Cookie",
            "sid=abc; Path=/; Domain=a.test; Expires=Wed, 21-Oct-2015 07:28:00 GMT; HttpOnly; Secure; SameSite=Lax",
        )]);
        assert_eq!(
            response_cookies(&h),
            json!([{"name":"sid","value":"abc","path":"/","domain":"a.test","expires":"2015-10-21T07:28:00Z","httpOnly":true,"secure":true}])
        );
    }

    #[test]
    fn bad_expiry_dates_are_left_out() {
        assert!(http_date("tomorrow").is_none());
        assert!(http_date("Wed, 31 Feb 2015 07:28:00 GMT").is_none());
        assert!(http_date("Wed, 21 Oct 2015 25:28:00 GMT").is_none());
    }

    #[test]
    fn query_and_form_pairs_are_decoded_and_keep_blanks() {
        assert_eq!(
            query_string(Some("q=a+b%21&empty=&flag")),
            json!([{"name":"q","value":"a b!"},{"name":"empty","value":""},{"name":"flag","value":""}])
        );
        assert_eq!(query_string(None), json!([]));
    }

    #[test]
    fn urls_split_like_the_reader_reads_them() {
        let u = split_url("https://[::1]:8443/a?b#c").expect("absolute");
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("[::1]", Some(8443), "/a?b#c")
        );
        assert_eq!(split_url("http://h?x").expect("absolute").target, "/?x");
        assert!(split_url("ftp://h/").is_none());
        assert!(split_url("http:///x").is_none());
    }

    #[test]
    fn flows_give_server_address_and_client_port() {
        assert_eq!(
            flow_ends("[fd00::1]:40000 -> [fd00::2]:8080"),
            Some(("fd00::2".into(), "40000".into()))
        );
        assert_eq!(flow_ends("junk"), None);
    }

    #[test]
    fn milliseconds_add_to_the_nanosecond() {
        let t = Timestamp::from_unix(1_700_000_000, 999_999_000);
        assert_eq!(
            after_ms(t, 0.002).map(Timestamp::to_rfc3339_z).as_deref(),
            Some("2023-11-14T22:13:21.000001Z")
        );
        assert_eq!(
            nanos_between(t, after_ms(t, 12.345678).unwrap()),
            12_345_678
        );
        assert!(after_ms(t, f64::MAX).is_none());
    }
}
