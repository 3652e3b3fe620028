//! The canonical model every format reads into and writes from.
//!
//! Each field keeps the richest form any format has: raw body bytes, ordered headers with
//! duplicates, method and target as sent. Formats never talk to each other, only to this.

mod body;
mod headers;
mod meta;
pub mod simulation;

pub use body::{Body, Bytes, Cut};
pub use headers::{Header, Headers};
pub use meta::{Location, Source, Timestamp, TimestampError, TlsInfo};
pub use simulation::{Matcher, Pair, RequestMatcher, ResponseTemplate, Simulation};

use serde::Serialize;

/// One HTTP request and, when it was seen, its response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exchange {
    /// The request as sent.
    pub request: Request,
    /// The final response; `None` when the capture or recording has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Response>,
    /// Where the exchange was read from.
    pub source: Source,
    /// Free-form metadata carried by the source format (http-types `meta`).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Exchange {
    /// Bytes held in the request and response bodies.
    pub fn body_bytes(&self) -> usize {
        self.request.body.bytes.len() + self.response.as_ref().map_or(0, |r| r.body.bytes.len())
    }
}

/// `http` or `https`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Cleartext HTTP.
    #[default]
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// The port used when none is given.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// Parses a scheme name, ignoring case.
    pub fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("http") {
            Some(Scheme::Http)
        } else if s.eq_ignore_ascii_case("https") {
            Some(Scheme::Https)
        } else {
            None
        }
    }
}

/// An HTTP request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// The method exactly as sent (`GET`, `get`, `PROPFIND` …).
    pub method: String,
    /// The scheme the request used.
    pub scheme: Scheme,
    /// The host the request was addressed to, without the port; empty when no source said.
    pub host: String,
    /// The port, when one was given explicitly or seen on the wire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The request-target as sent: origin form `/path?query`, `*`, or an absolute URL.
    pub target: String,
    /// The protocol version, e.g. `HTTP/1.1`; `None` when the source format does not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Header fields in order.
    pub headers: Headers,
    /// The body.
    pub body: Body,
    /// Trailer fields of a chunked body, in order.
    #[serde(skip_serializing_if = "Headers::is_empty")]
    pub trailers: Headers,
    /// When the first byte of the request was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
}

impl Request {
    /// The target's path, without query or fragment.
    pub fn path(&self) -> &str {
        let end = self.target.find(['?', '#']).unwrap_or(self.target.len());
        &self.target[..end]
    }

    /// The raw query string after `?` (not decoded), if there is one.
    pub fn query(&self) -> Option<&str> {
        let start = self.target.find('?')? + 1;
        let end = self.target[start..]
            .find('#')
            .map_or(self.target.len(), |i| start + i);
        Some(&self.target[start..end])
    }

    /// `host[:port]`, leaving the port out when it is the scheme's default.
    pub fn authority(&self) -> String {
        match self.port {
            Some(p) if p != self.scheme.default_port() => format!("{}:{p}", self.host),
            _ => self.host.clone(),
        }
    }
}

/// An HTTP response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The reason phrase, when the source carries one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The protocol version, e.g. `HTTP/1.1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Header fields in order.
    pub headers: Headers,
    /// Trailer fields of a chunked body, in order.
    #[serde(skip_serializing_if = "Headers::is_empty")]
    pub trailers: Headers,
    /// The body.
    pub body: Body,
    /// When the last byte of the response was received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    /// Interim (1xx) responses that came before this one, e.g. `100` for `Expect: 100-continue`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub interim: Vec<u16>,
}

/// Splits `host[:port]` (with IPv6 literals in brackets) into host and port.
pub fn split_authority(authority: &str) -> (String, Option<u16>) {
    if let Some(rest) = authority.strip_prefix('[') {
        if let Some(end) = rest.find(']') {
            let host = format!("[{}]", &rest[..end]);
            let port = rest[end + 1..]
                .strip_prefix(':')
                .and_then(|p| p.parse().ok());
            return (host, port);
        }
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => match p.parse() {
            Ok(port) => (h.to_owned(), Some(port)),
            Err(_) => (authority.to_owned(), None),
        },
        _ => (authority.to_owned(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::request;

    #[test]
    fn target_splits_into_path_and_query() {
        assert_eq!(request("/a/b?x=1&y#f").path(), "/a/b");
        assert_eq!(request("/a/b?x=1&y#f").query(), Some("x=1&y"));
        assert_eq!(request("/a").query(), None);
        assert_eq!(request("*").path(), "*");
    }

    #[test]
    fn authority_splits_host_and_port() {
        assert_eq!(
            split_authority("a.test:8080"),
            ("a.test".into(), Some(8080))
        );
        assert_eq!(split_authority("a.test"), ("a.test".into(), None));
        assert_eq!(split_authority("[::1]:80"), ("[::1]".into(), Some(80)));
        assert_eq!(split_authority("::1"), ("::1".into(), None));
    }
}
