//! One HTTP/2 stream (RFC 9113 §5, §8.1): the request and response assembled from decoded
//! header blocks and DATA, and the [`Exchange`] made of them once the stream closes.
//!
//! A message is a header section (pseudo-header fields apart, §8.3), DATA content, and an
//! optional trailer section: a second HEADERS block, which carries END_STREAM. On the
//! response side, HEADERS with a 1xx `:status` before the final one are interim responses
//! (§8.1). Content codings are left as sent: the pipeline undoes them for every exchange.

use super::hpack::Field;
use crate::capture::connection::FlowInfo;
use crate::capture::http1::RESERVE_BODY_BYTES;
use crate::capture::tcp_reassembly::Origin;
use crate::model::{Body, Cut, Exchange, Headers, Request, Response, split_authority};

/// The protocol version written on HTTP/2 messages.
pub const VERSION: &str = "HTTP/2";

/// The pseudo-header fields of RFC 9113 §8.3.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pseudo {
    /// `:method`.
    pub method: Option<String>,
    /// `:scheme`, as the client said it (the model's scheme comes from the connection).
    pub scheme: Option<String>,
    /// `:authority`.
    pub authority: Option<String>,
    /// `:path`.
    pub path: Option<String>,
    /// `:status`.
    pub status: Option<String>,
}

/// Splits decoded fields into pseudo-header fields and regular ones (order and duplicates
/// kept, names as received). Values that are not UTF-8 get U+FFFD, as HTTP/1.x obs-text does.
pub fn split(fields: Vec<Field>) -> (Pseudo, Headers) {
    let mut pseudo = Pseudo::default();
    let mut headers = Headers::new();
    for (name, value) in fields {
        let name = String::from_utf8_lossy(&name).into_owned();
        let value = String::from_utf8_lossy(&value).into_owned();
        let slot = match name.as_str() {
            ":method" => &mut pseudo.method,
            ":scheme" => &mut pseudo.scheme,
            ":authority" => &mut pseudo.authority,
            ":path" => &mut pseudo.path,
            ":status" => &mut pseudo.status,
            // `:protocol` (RFC 8441) and unknown pseudo-headers are not header fields either.
            n if n.starts_with(':') => continue,
            _ => {
                headers.push(name, value);
                continue;
            }
        };
        // The first of a repeated pseudo-header counts (repeating one is malformed, §8.3).
        slot.get_or_insert(value);
    }
    (pseudo, headers)
}

/// One direction's message on a stream.
#[derive(Debug, Default)]
pub struct Message {
    /// The header section arrived.
    pub head: bool,
    /// Pseudo-header fields of the header section.
    pub pseudo: Pseudo,
    /// Regular header fields.
    pub headers: Headers,
    /// DATA content.
    pub body: Vec<u8>,
    /// Trailer fields.
    pub trailers: Headers,
    /// END_STREAM was seen, or the client's RST_STREAM ended the request.
    pub ended: bool,
    /// A RST_STREAM ended it before END_STREAM.
    pub reset_early: bool,
    /// Content past [`crate::capture::http1::MAX_BODY_BYTES`] was discarded.
    pub truncated: bool,
    /// Offset of the next content byte in the body as sent (gaps counted).
    pub sent: u64,
    /// Ranges of the body lost in gaps (see [`Cut::missing`]).
    pub missing: Vec<[u64; 2]>,
    /// The body from offset `sent` on was lost in a gap that took its framing (a frame
    /// header or a pad length): how much is unknown, so later content is held in `tail`.
    pub end_lost: bool,
    /// Content after such a gap. Placed at the end of the body when END_STREAM comes and
    /// `content-length` says where the end is (the hole is then exactly before it);
    /// otherwise it cannot be placed, and is not kept.
    tail: Vec<u8>,
}

impl Message {
    /// What arrived of a body that did not reach END_STREAM, or that the body limit cut.
    pub fn cut(&self) -> Option<Cut> {
        let whole = self.ended && !self.reset_early && !self.truncated && !self.gapped();
        if whole {
            return None;
        }
        let announced = self.announced();
        let mut missing = self.missing.clone();
        // As HTTP/1 does: a lost end is a range only when the length was announced.
        if let Some(n) = announced.filter(|&n| self.end_lost && n > self.sent) {
            missing.push([self.sent, n]);
        }
        Some(Cut {
            seen: self.body.len() as u64,
            announced,
            missing,
        })
    }

    /// Bytes of the body were lost in a gap.
    pub fn gapped(&self) -> bool {
        !self.missing.is_empty() || self.end_lost
    }

    /// The rest of the body was lost in a gap, its length unknown. Content held from an
    /// earlier such gap cannot be placed either.
    pub fn lose_rest(&mut self) {
        self.end_lost = true;
        self.tail = Vec::new();
    }

    /// END_STREAM: content after a gap of unknown length is placed before the end, when the
    /// length was announced and the bytes fit in it.
    pub fn end(&mut self) {
        self.ended = true;
        let tail = std::mem::take(&mut self.tail);
        let Some(n) = self.announced().filter(|_| self.end_lost) else {
            return;
        };
        let Some(start) = n.checked_sub(tail.len() as u64).filter(|&s| s >= self.sent) else {
            return;
        };
        if start > self.sent {
            self.missing.push([self.sent, start]);
        }
        self.body.extend_from_slice(&tail);
        self.sent = n;
        self.end_lost = false;
    }

    fn announced(&self) -> Option<u64> {
        self.headers
            .first("content-length")
            .and_then(|v| v.trim().parse().ok())
    }

    /// `n` content bytes were lost in a gap at the current offset.
    pub fn lose_body(&mut self, n: u64) {
        if self.end_lost {
            return;
        }
        self.sent = Cut::extend_missing(&mut self.missing, self.sent, n);
    }

    /// Appends DATA content; returns `true` the first time the body limit (`limit` bytes,
    /// [`crate::capture::http1::MAX_BODY_BYTES`] by default) cuts it.
    pub fn push_body(&mut self, bytes: &[u8], limit: usize) -> bool {
        if self.end_lost {
            // Past the limit what is held is let go: what is held after it is still the end
            // of the body, so it can still be placed (its hole is then the larger).
            if self.body.len() + self.tail.len() + bytes.len() <= limit {
                self.tail.extend_from_slice(bytes);
            } else {
                self.tail = Vec::new();
            }
            return false;
        }
        if self.body.capacity() == 0 {
            // As HTTP/1 does: grown by doubling, a body is copied about once more and faults
            // in twice its pages; a lying length reserves at most RESERVE_BODY_BYTES.
            if let Some(n) = self.announced().and_then(|n| usize::try_from(n).ok()) {
                self.body.reserve_exact(n.min(RESERVE_BODY_BYTES));
            }
        }
        self.sent = self.sent.saturating_add(bytes.len() as u64);
        let room = limit.saturating_sub(self.body.len());
        let take = room.min(bytes.len());
        self.body.extend_from_slice(&bytes[..take]);
        let first_cut = take < bytes.len() && !self.truncated;
        self.truncated |= take < bytes.len();
        first_cut
    }
}

/// Why a stream makes no exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// Bytes of it were in a gap: counted as lost when the stream ends.
    Gap,
    /// Already counted where it happened (HPACK loss, a limit, a malformed block).
    Counted,
}

/// A stream's state.
#[derive(Debug)]
pub struct Stream {
    /// Order of creation in the connection.
    pub index: u64,
    /// The packet that began the request's header section (or the PUSH_PROMISE).
    pub start: Origin,
    /// The request.
    pub request: Message,
    /// The request as built by HTTP/1.1, for stream 1 of an `Upgrade: h2c` connection.
    pub upgraded: Option<Request>,
    /// The response.
    pub response: Message,
    /// Interim status codes, in order.
    pub interim: Vec<u16>,
    /// The packet that ended the response.
    pub end: Option<Origin>,
    /// Set when the stream makes no exchange.
    pub dropped: Option<Dropped>,
    /// RST_STREAM closed it.
    pub reset: bool,
    /// The exchange was handed on already (a CONNECT tunnel, at its 2xx).
    pub emitted: bool,
}

impl Stream {
    /// A stream whose request begins at `start`.
    pub fn new(index: u64, start: Origin) -> Self {
        Self {
            index,
            start,
            request: Message::default(),
            upgraded: None,
            response: Message::default(),
            interim: Vec::new(),
            end: None,
            dropped: None,
            reset: false,
            emitted: false,
        }
    }

    /// Marks the stream as making no exchange; a gap wins over a counted reason, so the
    /// exchange is still counted as lost.
    pub fn drop_for(&mut self, why: Dropped) {
        if self.dropped != Some(Dropped::Gap) {
            self.dropped = Some(why);
        }
    }

    /// Both directions ended.
    pub fn closed(&self) -> bool {
        self.request.ended && self.response.ended
    }

    /// Whether the request is a CONNECT (RFC 9113 §8.5).
    pub fn is_connect(&self) -> bool {
        self.request
            .pseudo
            .method
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("CONNECT"))
    }

    /// The request's method and target, for notes.
    pub fn describe(&self) -> String {
        match &self.upgraded {
            Some(r) => format!("{} {}", r.method, r.target),
            None => {
                let p = &self.request.pseudo;
                format!(
                    "{} {}",
                    p.method.as_deref().unwrap_or("?"),
                    p.path.as_deref().or(p.authority.as_deref()).unwrap_or("?")
                )
            }
        }
    }

    /// The model's request.
    pub fn to_request(&mut self, info: &FlowInfo) -> Request {
        if let Some(r) = self.upgraded.take() {
            return r;
        }
        let connect = self.is_connect();
        let m = &mut self.request;
        let p = &m.pseudo;
        let method = p.method.clone().unwrap_or_default();
        // RFC 9113 §8.5: a CONNECT names its target in :authority and has no :path.
        let target = p
            .path
            .clone()
            .or_else(|| p.authority.clone())
            .unwrap_or_default();
        // §8.3.1: :authority stands for Host; without it, the Host field; without either,
        // the server's name or address.
        let authority = p
            .authority
            .as_deref()
            .or_else(|| m.headers.first("host"))
            .unwrap_or("");
        let (mut host, mut port) = split_authority(authority.trim());
        if host.is_empty() {
            (host, port) = info.fallback_authority();
        }
        Request {
            method,
            scheme: info.scheme(),
            host,
            port,
            target,
            version: Some(VERSION.into()),
            body: Body {
                // A CONNECT's request never ends: its stream becomes the tunnel.
                cut: m.cut().filter(|_| !connect),
                ..Body::from_bytes(std::mem::take(&mut m.body))
            },
            headers: std::mem::take(&mut m.headers),
            trailers: std::mem::take(&mut m.trailers),
            timestamp: Some(self.start.ts),
        }
    }

    /// The model's response, once its header section arrived; `status` parsed by the caller.
    pub fn to_response(&mut self, status: u16) -> Response {
        let m = &mut self.response;
        Response {
            status,
            reason: None,
            version: Some(VERSION.into()),
            body: Body {
                cut: m.cut(),
                ..Body::from_bytes(std::mem::take(&mut m.body))
            },
            headers: std::mem::take(&mut m.headers),
            trailers: std::mem::take(&mut m.trailers),
            timestamp: self.end.map(|o| o.ts),
            interim: std::mem::take(&mut self.interim),
        }
    }

    /// The exchange, with the response if its header section arrived.
    pub fn to_exchange(&mut self, info: &FlowInfo) -> Exchange {
        let request = self.to_request(info);
        let response = self
            .response
            .pseudo
            .status
            .as_deref()
            .and_then(|s| s.parse().ok())
            .filter(|_| self.response.head)
            .map(|status| self.to_response(status));
        Exchange {
            request,
            response,
            source: info.source(self.start),
            extra: serde_json::Map::new(),
        }
    }
}

/// Parses a `:status` value: three digits (RFC 9113 §8.3.2, RFC 9110 §15).
pub fn parse_status(s: &str) -> Option<u16> {
    (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(n: &str, v: &str) -> Field {
        (n.as_bytes().to_vec(), v.as_bytes().to_vec())
    }

    fn info() -> FlowInfo {
        FlowInfo::for_test("10.0.0.2:8080")
    }

    fn origin() -> Origin {
        Origin {
            ts: crate::model::Timestamp::from_unix(1, 0),
            packet: 1,
        }
    }

    #[test]
    fn pseudo_headers_are_kept_apart() {
        let (p, h) = split(vec![
            f(":method", "GET"),
            f(":path", "/a"),
            f(":protocol", "websocket"),
            f("cookie", "a=1"),
            f("cookie", "b=2"),
            f(":method", "POST"),
        ]);
        assert_eq!(p.method.as_deref(), Some("GET"));
        assert_eq!(p.path.as_deref(), Some("/a"));
        assert_eq!(h.all("cookie").collect::<Vec<_>>(), ["a=1", "b=2"]);
        assert_eq!(h.len(), 2);
    }

    macro_rules! authority {
        ([$($n:expr => $v:expr),*] => $method:expr, $target:expr, $host:expr, $port:expr) => {{
            let mut s = Stream::new(0, origin());
            s.request.pseudo = split(vec![$(f($n, $v)),*]).0;
            s.request.headers = split(vec![$(f($n, $v)),*]).1;
            let r = s.to_request(&info());
            assert_eq!((r.method.as_str(), r.target.as_str(), r.host.as_str(), r.port),
                       ($method, $target, $host, $port));
        }};
    }

    #[test]
    fn target_and_authority_follow_the_pseudo_headers() {
        authority!([":method" => "GET", ":path" => "/x", ":authority" => "a.test:8443"]
                   => "GET", "/x", "a.test", Some(8443));
        authority!([":method" => "GET", ":path" => "/x", "host" => "h.test"]
                   => "GET", "/x", "h.test", None);
        authority!([":method" => "GET", ":path" => "/x"] => "GET", "/x", "10.0.0.2", Some(8080));
        authority!([":method" => "CONNECT", ":authority" => "t.test:443"]
                   => "CONNECT", "t.test:443", "t.test", Some(443));
    }

    #[test]
    fn status_is_three_digits_and_bodies_are_capped() {
        assert_eq!(parse_status("200"), Some(200));
        assert_eq!(parse_status("20"), None);
        assert_eq!(parse_status("+20"), None);
        let mut m = Message::default();
        assert!(!m.push_body(b"abc", crate::capture::http1::MAX_BODY_BYTES));
        assert_eq!(m.body, b"abc");
    }

    /// Issue 16: after a gap of unknown length, the content that follows is the end of the
    /// body; with `content-length` it is placed there and the hole is exactly before it.
    #[test]
    fn content_after_a_gap_of_unknown_length_is_placed_by_the_announced_length() {
        let limit = crate::capture::http1::MAX_BODY_BYTES;
        for (length, body, missing) in [
            (Some("10"), &b"01289"[..], vec![[3, 8]]),
            (Some("5"), b"01289", vec![]),
            (Some("4"), b"012", vec![]),
            (None, b"012", vec![]),
        ] {
            let mut m = Message::default();
            if let Some(n) = length {
                m.headers.push("content-length", n);
            }
            m.push_body(b"012", limit);
            m.lose_rest();
            m.push_body(b"8", limit);
            m.push_body(b"9", limit);
            m.end();
            assert_eq!(m.body, body, "{length:?}");
            assert_eq!(m.missing, missing, "{length:?}");
            // Placed, the end is known; not placed, the rest stays lost.
            assert_eq!(m.end_lost, m.body.len() == 3, "{length:?}");
        }
    }
}
