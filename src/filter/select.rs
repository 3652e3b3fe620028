//! Selection: which exchanges (or Hoverfly pairs) a run keeps, by host, method, path, status
//! and request time (`--host`, `--method`, `--path`, `--status`, `--since`, `--until`).
//!
//! Criteria of different kinds must all hold; values of one kind are alternatives (`--host a
//! --host b` keeps either). An exchange that lacks what a criterion looks at (no response for
//! `--status`, no timestamp for `--since`) does not match it: a filter keeps what it can show
//! matches, never what it cannot see.

use crate::formats::query;
use crate::model::{Exchange, Matcher, Pair, Request, Timestamp, split_authority};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// Why an exchange was left out: the first criterion (in this order) it did not meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// `--host`.
    Host,
    /// `--method`.
    Method,
    /// `--path`.
    Path,
    /// `--status`, against a response.
    Status,
    /// `--status`, with no response to look at.
    NoResponse,
    /// `--since` or `--until`, against the request timestamp.
    Time,
    /// `--since` or `--until`, with no request timestamp to look at.
    NoTimestamp,
}

impl Reason {
    /// The short name used in summaries.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Host => "host",
            Reason::Method => "method",
            Reason::Path => "path",
            Reason::Status => "status",
            Reason::NoResponse => "no response",
            Reason::Time => "time",
            Reason::NoTimestamp => "no timestamp",
        }
    }
}

/// A `--host` value: a host name, compared without regard to case, and optionally a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    host: String,
    port: Option<u16>,
}

/// Why a selection value did not parse; the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(String);

impl FromStr for HostPattern {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let bad = || {
            ParseError(format!(
                "expected a host name, optionally with a port (api.example.com, localhost:8080, [::1]:443), found {s:?}"
            ))
        };
        let (host, port) = split_authority(s.trim());
        if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
            return Err(bad());
        }
        // `host:` or `host:x` leave the colon in the host; a name never holds one.
        if !host.starts_with('[') && host.contains(':') && host.matches(':').nth(1).is_none() {
            return Err(bad());
        }
        Ok(HostPattern {
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

impl HostPattern {
    fn matches(&self, host: &str, port: u16) -> bool {
        self.host.eq_ignore_ascii_case(host) && self.port.is_none_or(|p| p == port)
    }
}

/// A `--method` value: an HTTP method token, compared without regard to case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodPattern(String);

impl FromStr for MethodPattern {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let is_tchar = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
        if s.is_empty() || !s.bytes().all(is_tchar) {
            return Err(ParseError(format!(
                "expected an HTTP method like GET or post, found {s:?}"
            )));
        }
        Ok(MethodPattern(s.to_ascii_uppercase()))
    }
}

/// A `--path` value: a glob over the percent-decoded path, without the query.
///
/// `*` and `?` stay within one segment and `**` spans segments (`/api/**`), as in shells and
/// `.gitignore`; `[abc]` and `[!abc]` are character classes. Case matters, as it does in
/// paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern(glob::Pattern);

impl FromStr for PathPattern {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let pattern = glob::Pattern::new(s).map_err(|e| {
            ParseError(format!(
                "expected a path glob like /api/* or /v1/**/items, found {s:?} ({} at character {})",
                e.msg,
                e.pos + 1
            ))
        })?;
        Ok(PathPattern(pattern))
    }
}

impl PathPattern {
    const OPTIONS: glob::MatchOptions = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };

    fn matches(&self, path: &str) -> bool {
        self.0.matches_with(path, Self::OPTIONS)
    }
}

/// A `--status` value: codes and ranges, comma-separated (`200`, `2xx`, `400-499`,
/// `200,3xx`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRanges(Vec<(u16, u16)>);

impl FromStr for StatusRanges {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let bad = |part: &str| {
            ParseError(format!(
                "expected status codes or ranges like 200, 2xx or 400-499 (comma-separated), found {part:?}"
            ))
        };
        let code = |t: &str| {
            t.parse::<u16>()
                .ok()
                .filter(|c| (100..=999).contains(c) && t.len() == 3)
        };
        let mut ranges = Vec::new();
        for part in s.split(',') {
            let t = part.trim();
            let range = if let Some(class) = t.strip_suffix("xx").or_else(|| t.strip_suffix("XX")) {
                match class.parse::<u16>() {
                    Ok(d @ 1..=9) if class.len() == 1 => (d * 100, d * 100 + 99),
                    _ => return Err(bad(part)),
                }
            } else if let Some((lo, hi)) = t.split_once('-') {
                match (code(lo.trim()), code(hi.trim())) {
                    (Some(lo), Some(hi)) if lo <= hi => (lo, hi),
                    _ => return Err(bad(part)),
                }
            } else {
                let c = code(t).ok_or_else(|| bad(part))?;
                (c, c)
            };
            ranges.push(range);
        }
        Ok(StatusRanges(ranges))
    }
}

impl StatusRanges {
    fn contains(&self, status: u16) -> bool {
        self.0.iter().any(|&(lo, hi)| (lo..=hi).contains(&status))
    }
}

/// Which exchanges a run keeps. The default keeps everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Request hosts kept (any of them); empty: every host.
    pub hosts: Vec<HostPattern>,
    /// Methods kept; empty: every method.
    pub methods: Vec<MethodPattern>,
    /// Path globs kept; empty: every path.
    pub paths: Vec<PathPattern>,
    /// Response statuses kept; empty: any response, or none.
    pub statuses: Vec<StatusRanges>,
    /// Requests at or after this time are kept.
    pub since: Option<Timestamp>,
    /// Requests before this time are kept (`--since A --until B` is the half-open `[A, B)`,
    /// so consecutive windows split a recording without overlap).
    pub until: Option<Timestamp>,
}

/// What selection looks at, from an exchange or from a pair's exact matchers; `None` where
/// the source does not pin the value down.
struct Seen<'a> {
    host: Option<(String, u16)>,
    method: Option<&'a str>,
    path: Option<String>,
    status: Option<u16>,
    timestamp: Option<Timestamp>,
}

impl Selection {
    /// Whether every exchange is kept.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
            && self.methods.is_empty()
            && self.paths.is_empty()
            && self.statuses.is_empty()
            && self.since.is_none()
            && self.until.is_none()
    }

    /// `Ok` when `ex` is kept, else the first criterion it fails.
    pub fn check(&self, ex: &Exchange) -> Result<(), Reason> {
        let req = &ex.request;
        self.judge(&Seen {
            host: (!self.hosts.is_empty()).then(|| host_of(req)).flatten(),
            method: Some(&req.method),
            path: (!self.paths.is_empty()).then(|| query::go_path_unescape(origin_path(req))),
            status: ex.response.as_ref().map(|r| r.status),
            timestamp: req.timestamp,
        })
    }

    /// `Ok` when the Hoverfly pair is kept, else the first criterion it fails. A pair is
    /// judged by what its matchers pin down: a single `exact` destination, method or path
    /// (a glob or regex matcher matches many requests, so it matches no filter on that
    /// field). Pairs carry no timestamp, so `--since` and `--until` leave every pair out.
    pub fn check_pair(&self, pair: &Pair) -> Result<(), Reason> {
        let r = &pair.request;
        let host = exact(&r.destination).map(|d| {
            let (host, port) = split_authority(d);
            let default = match exact(&r.scheme) {
                Some(s) if s.eq_ignore_ascii_case("https") => 443,
                _ => 80,
            };
            (host, port.unwrap_or(default))
        });
        self.judge(&Seen {
            host,
            method: exact(&r.method),
            path: exact(&r.path).map(str::to_owned),
            // Hoverfly exports a pair without status as 0: there is no response to look at.
            status: Some(pair.response.status).filter(|s| *s != 0),
            timestamp: None,
        })
    }

    fn judge(&self, seen: &Seen<'_>) -> Result<(), Reason> {
        let fail = |ok: bool, why: Reason| if ok { Ok(()) } else { Err(why) };
        if !self.hosts.is_empty() {
            let ok = seen
                .host
                .as_ref()
                .is_some_and(|(h, p)| self.hosts.iter().any(|m| m.matches(h, *p)));
            fail(ok, Reason::Host)?;
        }
        if !self.methods.is_empty() {
            let ok = seen
                .method
                .is_some_and(|m| self.methods.iter().any(|p| p.0.eq_ignore_ascii_case(m)));
            fail(ok, Reason::Method)?;
        }
        if !self.paths.is_empty() {
            let ok = seen
                .path
                .as_deref()
                .is_some_and(|path| self.paths.iter().any(|p| p.matches(path)));
            fail(ok, Reason::Path)?;
        }
        if !self.statuses.is_empty() {
            let status = seen.status.ok_or(Reason::NoResponse)?;
            fail(
                self.statuses.iter().any(|r| r.contains(status)),
                Reason::Status,
            )?;
        }
        if self.since.is_some() || self.until.is_some() {
            let t = seen.timestamp.ok_or(Reason::NoTimestamp)?;
            let ok = self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u);
            fail(ok, Reason::Time)?;
        }
        Ok(())
    }
}

/// The host and port a request went to: the model's host, else the `Host` header's, with
/// the scheme's port when none was given.
fn host_of(req: &Request) -> Option<(String, u16)> {
    let (host, port) = if req.host.is_empty() {
        split_authority(req.headers.first("host")?.trim())
    } else {
        (req.host.clone(), req.port)
    };
    Some((host, port.unwrap_or_else(|| req.scheme.default_port())))
}

/// The path of an origin-form or absolute-form target, without query or fragment.
fn origin_path(req: &Request) -> &str {
    let path = req.path();
    for scheme in ["http://", "https://"] {
        if path.len() > scheme.len() && path[..scheme.len()].eq_ignore_ascii_case(scheme) {
            let rest = &path[scheme.len()..];
            return rest.find('/').map_or("/", |i| &rest[i..]);
        }
    }
    path
}

fn exact(field: &[Matcher]) -> Option<&str> {
    match field {
        [m] => m.exact_value(),
        _ => None,
    }
}

/// How many exchanges selection kept and left out, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectTally {
    /// Exchanges (or pairs) left out, in all.
    pub filtered_out: u64,
    /// The same, by the first criterion each one failed.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub filtered_out_by: std::collections::BTreeMap<Reason, u64>,
}

impl SelectTally {
    /// Counts one exchange left out for `why`.
    pub fn record(&mut self, why: Reason) {
        self.filtered_out += 1;
        *self.filtered_out_by.entry(why).or_default() += 1;
    }

    /// Adds `other` into this tally.
    pub fn merge(&mut self, other: &SelectTally) {
        self.filtered_out += other.filtered_out;
        for (why, n) in &other.filtered_out_by {
            *self.filtered_out_by.entry(*why).or_default() += n;
        }
    }
}

/// `3 filtered out (host 2, no timestamp 1)`.
impl fmt::Display for SelectTally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} filtered out", self.filtered_out)?;
        let counts = self.filtered_out_by.iter().map(|(why, n)| (why.name(), *n));
        super::write_counts(f, counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Source;
    use crate::test_support;

    fn exchange(host: &str, port: Option<u16>, method: &str, target: &str) -> Exchange {
        Exchange {
            request: Request {
                method: method.into(),
                host: host.into(),
                port,
                timestamp: Some(Timestamp::from_unix(1_000, 0)),
                ..test_support::request(target)
            },
            response: Some(test_support::response(404)),
            source: Source::default(),
            extra: serde_json::Map::new(),
        }
    }

    macro_rules! keeps {
        ($sel:expr, $ex:expr => $want:expr) => {
            assert_eq!($sel.check(&$ex), $want, "{:?}", $sel)
        };
    }

    fn sel(f: impl FnOnce(&mut Selection)) -> Selection {
        let mut s = Selection::default();
        f(&mut s);
        s
    }

    #[test]
    fn hosts_ignore_case_and_match_a_port_only_when_given() {
        let ex = exchange("API.test", Some(8080), "GET", "/");
        keeps!(sel(|s| s.hosts = vec!["api.TEST".parse().unwrap()]), ex => Ok(()));
        keeps!(sel(|s| s.hosts = vec!["api.test:8080".parse().unwrap()]), ex => Ok(()));
        keeps!(sel(|s| s.hosts = vec!["api.test:80".parse().unwrap()]), ex => Err(Reason::Host));
        let default_port = exchange("a.test", None, "GET", "/");
        keeps!(sel(|s| s.hosts = vec!["a.test:80".parse().unwrap()]), default_port => Ok(()));
    }

    #[test]
    fn host_comes_from_the_host_header_when_the_model_has_none() {
        let mut ex = exchange("", None, "GET", "/");
        ex.request.headers.push("Host", "h.test:81");
        keeps!(sel(|s| s.hosts = vec!["h.test:81".parse().unwrap()]), ex => Ok(()));
    }

    #[test]
    fn methods_ignore_case() {
        let ex = exchange("a", None, "post", "/");
        keeps!(sel(|s| s.methods = vec!["POST".parse().unwrap()]), ex => Ok(()));
        keeps!(sel(|s| s.methods = vec!["get".parse().unwrap()]), ex => Err(Reason::Method));
    }

    #[test]
    fn path_globs_see_the_decoded_path_without_query() {
        let ex = exchange("a", None, "GET", "/api/v1/a%20b?x=/api/q");
        let path = |p: &str| sel(|s| s.paths = vec![p.parse().unwrap()]);
        keeps!(path("/api/*/a b"), ex => Ok(()));
        keeps!(path("/api/*"), ex => Err(Reason::Path));
        keeps!(path("/api/**"), ex => Ok(()));
        keeps!(path("/API/**"), ex => Err(Reason::Path));
        let absolute = exchange("a", None, "GET", "http://a/api/x?y");
        keeps!(path("/api/x"), absolute => Ok(()));
    }

    #[test]
    fn status_ranges_parse_and_need_a_response() {
        let r = |s: &str| s.parse::<StatusRanges>().map(|r| r.0);
        assert_eq!(r("200"), Ok(vec![(200, 200)]));
        assert_eq!(r("2xx, 400-404"), Ok(vec![(200, 299), (400, 404)]));
        for bad in ["20", "2x", "0xx", "499-400", "abc", "", "1000", "200,"] {
            assert!(r(bad).is_err(), "{bad}");
        }
        let mut ex = exchange("a", None, "GET", "/");
        let s4 = sel(|s| s.statuses = vec!["4xx".parse().unwrap()]);
        keeps!(s4, ex => Ok(()));
        keeps!(sel(|s| s.statuses = vec!["2xx".parse().unwrap()]), ex => Err(Reason::Status));
        ex.response = None;
        keeps!(s4, ex => Err(Reason::NoResponse));
    }

    #[test]
    fn time_window_is_half_open_and_needs_a_timestamp() {
        let mut ex = exchange("a", None, "GET", "/");
        let at = |s| Some(Timestamp::from_unix(s, 0));
        keeps!(sel(|s| s.since = at(1_000)), ex => Ok(()));
        keeps!(sel(|s| s.until = at(1_000)), ex => Err(Reason::Time));
        keeps!(sel(|s| { s.since = at(999); s.until = at(1_001) }), ex => Ok(()));
        ex.request.timestamp = None;
        keeps!(sel(|s| s.since = at(0)), ex => Err(Reason::NoTimestamp));
    }

    #[test]
    fn bad_values_say_what_was_expected() {
        let e = "a b".parse::<HostPattern>().unwrap_err().to_string();
        assert!(e.contains("expected a host name"), "{e}");
        assert!("h:x".parse::<HostPattern>().is_err());
        assert!("G ET".parse::<MethodPattern>().is_err());
        let e = "/a/[".parse::<PathPattern>().unwrap_err().to_string();
        assert!(e.contains("expected a path glob"), "{e}");
    }

    #[test]
    fn pairs_match_only_on_exact_matchers() {
        let mut losses = crate::loss::Losses::default();
        let ex = exchange("a.test", None, "GET", "/x");
        let mut pair = Pair::from_exchange(&ex, &mut losses).unwrap();
        let s = sel(|s| s.paths = vec!["/x".parse().unwrap()]);
        assert_eq!(s.check_pair(&pair), Ok(()));
        let h = sel(|s| s.hosts = vec!["a.test:80".parse().unwrap()]);
        assert_eq!(h.check_pair(&pair), Ok(()));
        pair.request.path = vec![Matcher::new("glob", "/x")];
        assert_eq!(s.check_pair(&pair), Err(Reason::Path));
        let t = sel(|s| s.since = Some(Timestamp::from_unix(0, 0)));
        assert_eq!(t.check_pair(&pair), Err(Reason::NoTimestamp));
    }
}
