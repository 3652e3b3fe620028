//! One TCP connection's protocol stack above TCP: an optional TLS layer, then the
//! application-protocol parser chosen for the connection.
//!
//! [`super::tcp_reassembly`] hands each direction's bytes in stream order to a [`Session`],
//! which decides on the first bytes what they carry and from then on feeds the stack it
//! chose. A ClientHello (or, mid-connection, any TLS record) puts [`super::tls`] in front,
//! and the parser is then picked by the ALPN the handshake agreed ([`App::for_alpn`]). Every
//! parser has the same surface ([`App`]), so the flow table above and the accounting below do
//! not know which one runs.
//!
//! Without ALPN the parser is chosen on the first client bytes: the HTTP/2 connection preface
//! (RFC 9113 §3.4, "prior knowledge") means HTTP/2, anything else HTTP/1.x. Up to 23 bytes that
//! could still become the preface are held until the next chunk decides; server bytes or a gap
//! before any client byte mean HTTP/1.x, as a server never speaks first in HTTP/2 over
//! cleartext. Without the SYN, a client segment of whole, plausible HTTP/2 frames also means
//! HTTP/2, joined mid-stream ([`http2::Connection::mid_stream`]). An HTTP/1.1 connection whose
//! `Upgrade: h2c` is accepted by a `101` goes on as HTTP/2 (RFC 7540 §3.2): the request
//! becomes stream 1, and the bytes HTTP/1.x had not parsed are handed over.

use super::connection::{FlowInfo, HttpOptions, Ready, Role};
use super::http2::frame::PREFACE;
use super::tcp_reassembly::{Chunk, Origin};
use super::tls::keylog::{Resumption, SharedKeys};
use super::tls::{self, Failure, TlsStream};
use super::{Note, Stats, http1, http2};
use crate::model::{Timestamp, TlsInfo};
use std::sync::Arc;

/// The parser of a connection's application protocol.
// The HTTP/1 variant is the larger by the limits its two parsers carry; a session is boxed in
// its flow (capture/mod.rs), so the difference costs once per flow and boxing a variant would
// only add a second allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum App {
    /// Not chosen yet: waiting for the first client bytes.
    Sniffing(Sniffer),
    /// HTTP/1.x.
    Http1(http1::Connection),
    /// HTTP/2.
    Http2(http2::Connection),
    /// HTTP/1.1 that switched to HTTP/2 by `Upgrade: h2c`.
    Upgraded(Box<Upgraded>),
}

/// What decides between HTTP/1.x and HTTP/2 on the first client bytes.
#[derive(Debug)]
pub struct Sniffer {
    info: FlowInfo,
    opts: HttpOptions,
    from_start: bool,
    /// Client bytes so far, all a prefix of the preface.
    held: Vec<u8>,
    at: Option<Origin>,
}

/// An `Upgrade: h2c` connection: the HTTP/1.1 part, finished, and the HTTP/2 part.
#[derive(Debug)]
pub struct Upgraded {
    http1: http1::Connection,
    http2: http2::Connection,
}

impl App {
    /// The parser for a connection whose protocol was negotiated by ALPN (RFC 7301): `h2` is
    /// HTTP/2; anything else, or nothing, is chosen on the first client bytes, where the
    /// HTTP/2 preface wins.
    pub fn for_alpn(
        info: FlowInfo,
        opts: HttpOptions,
        from_start: bool,
        alpn: Option<&str>,
    ) -> App {
        if alpn == Some("h2") {
            return App::Http2(http2::Connection::new(info, opts, from_start));
        }
        App::Sniffing(Sniffer {
            info,
            opts,
            from_start,
            held: Vec::new(),
            at: None,
        })
    }

    /// Takes one chunk of one direction.
    pub fn feed(&mut self, role: Role, chunk: Chunk<'_>) {
        match self {
            App::Sniffing(s) => {
                if let Some(app) = s.decide(role, &chunk) {
                    *self = app;
                    self.feed(role, chunk);
                }
            }
            App::Http1(c) => {
                c.feed(role, chunk);
                if let Some(up) = c.take_h2c() {
                    self.upgrade(up);
                }
            }
            App::Http2(c) => c.feed(role, chunk),
            App::Upgraded(u) => u.http2.feed(role, chunk),
        }
    }

    /// Goes on as HTTP/2 after an accepted `Upgrade: h2c`.
    fn upgrade(&mut self, up: http1::H2cUpgrade) {
        let App::Http1(c) = self else { return };
        let http1::H2cUpgrade {
            request,
            start,
            index,
            client,
            server,
        } = up;
        let mut http2 = http2::Connection::upgraded(
            c.info().clone(),
            c.options(),
            http2::Upgrade {
                request,
                start,
                index,
            },
        );
        for (bytes, origin) in &server {
            http2.feed(Role::Response, Chunk::Data(bytes, *origin));
        }
        for (bytes, origin) in &client {
            http2.feed(Role::Request, Chunk::Data(bytes, *origin));
        }
        // The finished HTTP/1.1 parser moves out; an empty one stands in for the swap.
        let stand_in = http1::Connection::new(c.info().clone(), c.options(), false);
        let http1 = std::mem::replace(c, stand_in);
        *self = App::Upgraded(Box::new(Upgraded { http1, http2 }));
    }

    /// The connection ended: flush what waits.
    pub fn finish(&mut self) {
        if let App::Sniffing(s) = self {
            let app = s.choose_http1();
            *self = app;
        }
        match self {
            App::Sniffing(_) => {}
            App::Http1(c) => c.finish(),
            App::Http2(c) => c.finish(),
            App::Upgraded(u) => u.http2.finish(),
        }
    }

    /// Whether both directions stopped parsing.
    pub fn stopped(&self) -> bool {
        match self {
            App::Sniffing(_) => false,
            App::Http1(c) => c.stopped(),
            App::Http2(c) => c.stopped(),
            App::Upgraded(u) => u.http2.stopped(),
        }
    }

    /// The time of the oldest byte that may still become part of an exchange.
    pub fn oldest_pending(&self) -> Option<Timestamp> {
        match self {
            App::Sniffing(s) => s.at.map(|o| o.ts),
            App::Http1(c) => c.oldest_pending(),
            App::Http2(c) => c.oldest_pending(),
            App::Upgraded(u) => u.http2.oldest_pending(),
        }
    }

    /// Finished exchanges, taken.
    pub fn take_ready(&mut self) -> Vec<Ready> {
        match self {
            App::Sniffing(_) => Vec::new(),
            App::Http1(c) => std::mem::take(&mut c.ready),
            App::Http2(c) => std::mem::take(&mut c.ready),
            App::Upgraded(u) => {
                let mut ready = std::mem::take(&mut u.http1.ready);
                ready.append(&mut u.http2.ready);
                ready
            }
        }
    }

    /// Whether the bytes turned out not to be this protocol at all.
    fn not_http(&self) -> bool {
        match self {
            App::Sniffing(_) => true,
            App::Http1(c) => c.not_http() || (c.requests == 0 && c.responses == 0),
            App::Http2(c) => c.not_http(),
            App::Upgraded(_) => false,
        }
    }

    /// Bytes skipped while looking for message starts.
    fn skipped(&self) -> u64 {
        match self {
            App::Sniffing(_) => 0,
            App::Http1(c) => c.skipped(),
            App::Http2(c) => c.skipped(),
            App::Upgraded(u) => u.http1.skipped() + u.http2.skipped(),
        }
    }

    /// Adds this connection's counts to `stats`.
    fn account(&self, stats: &mut Stats) {
        match self {
            App::Sniffing(_) => {}
            App::Http1(c) => account_http1(c, stats),
            App::Http2(c) => account_http2(c, stats),
            App::Upgraded(u) => {
                account_http1(&u.http1, stats);
                account_http2(&u.http2, stats);
            }
        }
    }
}

fn account_http1(c: &http1::Connection, stats: &mut Stats) {
    stats.http.requests += c.requests;
    stats.http.responses += c.responses;
    stats.notes.merge(c.notes.clone());
}

fn account_http2(c: &http2::Connection, stats: &mut Stats) {
    stats.http.requests += c.requests;
    stats.http.responses += c.responses;
    stats.http2 += &c.stats;
    stats.notes.merge(c.notes.clone());
}

impl Sniffer {
    /// Whether `chunk` decides the protocol; the parser chosen, which still has to be fed the
    /// chunk (bytes held earlier are fed to it already).
    fn decide(&mut self, role: Role, chunk: &Chunk<'_>) -> Option<App> {
        match (role, chunk) {
            (Role::Request, Chunk::Data(data, origin)) => {
                if data.is_empty() {
                    return None;
                }
                let n = self.held.len();
                let more = (PREFACE.len() - n).min(data.len());
                if PREFACE[n..n + more] != data[..more] {
                    if n == 0 && !self.from_start && http2::frame::plausible_frames(data) {
                        return Some(App::Http2(http2::Connection::mid_stream(
                            self.info.clone(),
                            self.opts,
                        )));
                    }
                    return Some(self.choose_http1());
                }
                if n + more < PREFACE.len() {
                    // Still a prefix of the preface: hold it for the next chunk.
                    self.held.extend_from_slice(data);
                    self.at.get_or_insert(*origin);
                    return None;
                }
            }
            _ => return Some(self.choose_http1()),
        }
        let mut c = http2::Connection::new(self.info.clone(), self.opts, self.from_start);
        if let (Some(at), false) = (self.at, self.held.is_empty()) {
            c.feed(Role::Request, Chunk::Data(&self.held, at));
        }
        Some(App::Http2(c))
    }

    /// HTTP/1.x, fed the bytes held so far.
    fn choose_http1(&mut self) -> App {
        let mut c = http1::Connection::new(self.info.clone(), self.opts, self.from_start);
        if let (Some(at), false) = (self.at, self.held.is_empty()) {
            c.feed(Role::Request, Chunk::Data(&self.held, at));
        }
        App::Http1(c)
    }
}

/// A connection's stack; see the module documentation.
#[derive(Debug)]
pub struct Session {
    info: FlowInfo,
    opts: HttpOptions,
    from_start: bool,
    keys: SharedKeys,
    layer: Layer,
}

#[derive(Debug)]
enum Layer {
    /// No bytes yet.
    Undecided,
    /// Cleartext.
    Plain(App),
    /// TLS, and the parser once the first plaintext arrives.
    Tls(Box<TlsStream>, Option<App>),
}

impl Session {
    /// A session for a connection whose client is known; `from_start` when its SYN was seen.
    /// `keys` decrypt it if it turns out to be TLS.
    pub fn new(info: FlowInfo, opts: HttpOptions, from_start: bool, keys: SharedKeys) -> Self {
        Self {
            info,
            opts,
            from_start,
            keys,
            layer: Layer::Undecided,
        }
    }

    /// Takes one chunk of one direction, in stream order.
    pub fn feed(&mut self, role: Role, chunk: Chunk<'_>) {
        if let Layer::Undecided = self.layer {
            self.layer = match chunk {
                Chunk::Data(data, _) if tls::looks_like_tls(role, data) => {
                    Layer::Tls(Box::new(TlsStream::new(self.keys.clone())), None)
                }
                _ => Layer::Plain(App::for_alpn(
                    self.info.clone(),
                    self.opts,
                    self.from_start,
                    None,
                )),
            };
        }
        match &mut self.layer {
            Layer::Undecided => {}
            Layer::Plain(app) => app.feed(role, chunk),
            Layer::Tls(..) => {
                self.through_tls(|stream, mut out| stream.feed(role, chunk, &mut out))
            }
        }
    }

    /// Runs `step` on the TLS layer, handing the plaintext to the parser (made on the first
    /// plaintext, for the protocol ALPN agreed).
    fn through_tls(
        &mut self,
        step: impl FnOnce(&mut TlsStream, &mut dyn FnMut(Role, Chunk<'_>, &Arc<TlsInfo>)),
    ) {
        let Layer::Tls(stream, app) = &mut self.layer else {
            return;
        };
        let (info, opts, from_start) = (&self.info, self.opts, self.from_start);
        let failed = stream.failure().is_some();
        step(stream, &mut |role, plain, tls| {
            app.get_or_insert_with(|| {
                let info = FlowInfo {
                    tls: Some(tls.clone()),
                    ..info.clone()
                };
                App::for_alpn(info, opts, from_start, tls.alpn.as_deref())
            })
            .feed(role, plain);
        });
        // Decryption stopped for good: what the parser still waits for is lost.
        if !failed && stream.failure().is_some() {
            if let Some(app) = app {
                app.feed(Role::Request, Chunk::Gap(tls::UNKNOWN_GAP));
                app.feed(Role::Response, Chunk::Gap(tls::UNKNOWN_GAP));
            }
        }
    }

    /// Whether a TLS 1.2 resumption waits for the sessions of the batch.
    pub fn waiting(&self) -> bool {
        matches!(&self.layer, Layer::Tls(stream, _) if stream.waiting())
    }

    /// Tries a waiting resumption again (see [`TlsStream::retry`]).
    pub fn retry(&mut self) {
        self.through_tls(|stream, mut out| stream.retry(&mut out));
    }

    /// TLS 1.2 sessions the connection established, for the key log.
    pub fn take_learned(&mut self) -> Vec<(Resumption, Vec<u8>)> {
        match &mut self.layer {
            Layer::Tls(stream, _) => stream.take_learned(),
            _ => Vec::new(),
        }
    }

    fn app(&self) -> Option<&App> {
        match &self.layer {
            Layer::Undecided => None,
            Layer::Plain(app) => Some(app),
            Layer::Tls(_, app) => app.as_ref(),
        }
    }

    /// Whether nothing more can come of this connection's bytes.
    pub fn stopped(&self) -> bool {
        match &self.layer {
            Layer::Undecided => false,
            Layer::Plain(app) => app.stopped(),
            Layer::Tls(stream, app) => {
                stream.failure().is_some() || app.as_ref().is_some_and(App::stopped)
            }
        }
    }

    /// The connection ended.
    pub fn finish(&mut self) {
        self.through_tls(|stream, mut out| stream.end_resync(&mut out));
        if let Layer::Tls(stream, _) = &mut self.layer {
            stream.finish();
        }
        match &mut self.layer {
            Layer::Undecided | Layer::Tls(_, None) => {}
            Layer::Plain(app) | Layer::Tls(_, Some(app)) => app.finish(),
        }
    }

    /// The time of the oldest byte that may still become part of an exchange.
    pub fn oldest_pending(&self) -> Option<Timestamp> {
        let app = self.app().and_then(App::oldest_pending);
        let tls = match &self.layer {
            Layer::Tls(stream, _) => stream.oldest_buffered(),
            _ => None,
        };
        [app, tls].into_iter().flatten().min()
    }

    /// Finished exchanges, taken.
    pub fn take_ready(&mut self) -> Vec<Ready> {
        match &mut self.layer {
            Layer::Undecided | Layer::Tls(_, None) => Vec::new(),
            Layer::Plain(app) | Layer::Tls(_, Some(app)) => app.take_ready(),
        }
    }

    /// Adds the connection's counts to `stats`; `payload` is its TCP payload in bytes and
    /// `label` names it for notes.
    pub fn account(&self, stats: &mut Stats, payload: u64, label: impl FnOnce() -> String) {
        if let Layer::Tls(stream, _) = &self.layer {
            let mut counts = stream.stats.clone();
            if stream.decrypted() {
                counts.decrypted = 1;
            } else {
                counts.not_decrypted = 1;
            }
            stats.tls += &counts;
            if let Some(failure) = stream.failure() {
                let note = match failure {
                    Failure::NoHandshake => Note::TlsNoHandshake,
                    Failure::NoKey { .. } | Failure::NoTrafficSecret { .. } => Note::TlsNoKey,
                    Failure::ResumedWithoutKey { .. } => Note::TlsResumedWithoutKey,
                    Failure::UnsupportedVersion(_) | Failure::UnsupportedSuite(_) => {
                        Note::TlsUnsupported
                    }
                    Failure::AuthFailed { .. } => Note::TlsAuthFailed,
                    Failure::RecordGap { .. } => Note::TlsRecordGap,
                    Failure::Malformed { .. } => Note::TlsMalformed,
                };
                stats
                    .notes
                    .record(note, || format!("{}: {failure}", self.info.label));
            }
        }
        match self.app() {
            None => {
                if !matches!(self.layer, Layer::Tls(..)) {
                    not_http(stats, payload, label);
                }
            }
            Some(app) => {
                if app.not_http() {
                    not_http(stats, payload, label);
                } else {
                    stats.tcp.http_flows += 1;
                    stats.tcp.resync_skipped_bytes += app.skipped();
                }
                app.account(stats);
            }
        }
    }
}

/// Counts a connection whose bytes are not HTTP.
pub fn not_http(stats: &mut Stats, payload: u64, label: impl FnOnce() -> String) {
    stats.tcp.non_http_bytes += payload;
    stats.notes.record(Note::NonHttpFlow, label);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::http2::frame::tests::{frame, origin};
    use crate::capture::http2::frame::{flag, kind};
    use std::sync::Arc;

    fn info() -> FlowInfo {
        FlowInfo::for_test("10.0.0.2:8080")
    }

    /// Feeds the parts, finishes, and lists `METHOD target version -> status body`.
    fn run(parts: &[(Role, &[u8])]) -> (Vec<String>, Stats) {
        let mut s = Session::new(info(), HttpOptions::default(), true, Arc::default());
        for (i, (role, bytes)) in parts.iter().enumerate() {
            s.feed(*role, Chunk::Data(bytes, origin(i as u64 + 1)));
        }
        s.finish();
        let mut ready = s.take_ready();
        ready.sort_by_key(|r| r.index);
        let lines = ready
            .iter()
            .map(|r| {
                let e = &r.exchange;
                let v = e.request.version.as_deref().unwrap_or("?");
                match &e.response {
                    Some(p) => format!(
                        "{} {} {v} -> {:?} {} {:?}",
                        e.request.method,
                        e.request.target,
                        p.interim,
                        p.status,
                        String::from_utf8_lossy(&p.body.bytes)
                    ),
                    None => format!("{} {} {v} -> none", e.request.method, e.request.target),
                }
            })
            .collect();
        let mut stats = Stats::default();
        s.account(&mut stats, 1, || "flow".into());
        (lines, stats)
    }

    use Role::{Request as C, Response as S};

    fn h2_get(enc: &mut loona_hpack::Encoder<'_>, id: u32, path: &str) -> Vec<u8> {
        let fields: [(&[u8], &[u8]); 2] = [(b":method", b"GET"), (b":path", path.as_bytes())];
        frame(
            kind::HEADERS,
            flag::END_HEADERS | flag::END_STREAM,
            id,
            &enc.encode(fields),
        )
    }

    fn h2_ok(enc: &mut loona_hpack::Encoder<'_>, id: u32, body: &str) -> Vec<u8> {
        let fields: [(&[u8], &[u8]); 1] = [(b":status", b"200")];
        let mut f = frame(kind::HEADERS, flag::END_HEADERS, id, &enc.encode(fields));
        f.extend(frame(kind::DATA, flag::END_STREAM, id, body.as_bytes()));
        f
    }

    #[test]
    fn the_preface_chooses_http2_even_in_pieces() {
        let (mut c, mut s) = (loona_hpack::Encoder::new(), loona_hpack::Encoder::new());
        let client = [
            PREFACE.as_slice(),
            &frame(kind::SETTINGS, 0, 0, b""),
            &h2_get(&mut c, 1, "/a"),
        ]
        .concat();
        let server = [frame(kind::SETTINGS, 0, 0, b""), h2_ok(&mut s, 1, "a")].concat();
        let (got, stats) = run(&[
            (C, &client[..3]),
            (C, &client[3..20]),
            (C, &client[20..]),
            (S, &server),
        ]);
        assert_eq!(got, ["GET /a HTTP/2 -> [] 200 \"a\""]);
        assert_eq!(
            (
                stats.tcp.http_flows,
                stats.http2.connections,
                stats.http2.streams
            ),
            (1, 1, 1)
        );
        assert_eq!((stats.http.requests, stats.http.responses), (1, 1));
    }

    #[test]
    fn anything_else_is_http1_with_the_held_bytes() {
        let (got, stats) = run(&[
            (C, b"PR"),
            (C, b"OPFIND /d HTTP/1.1\r\n\r\n"),
            (S, b"HTTP/1.1 207 Multi\r\nContent-Length: 1\r\n\r\nm"),
        ]);
        assert_eq!(got, ["PROPFIND /d HTTP/1.1 -> [] 207 \"m\""]);
        assert_eq!(stats.http2.connections, 0);
        let (got, _) = run(&[(S, b"HTTP/1.1 200 OK\r\n\r\n"), (C, PREFACE.as_slice())]);
        assert!(got.is_empty(), "a server that speaks first is not HTTP/2");
        let (_, stats) = run(&[(C, b"PRI * HTTP/2")]);
        assert_eq!(stats.notes.count(Note::NonHttpFlow), 1, "a cut-off preface");
    }

    #[test]
    fn without_the_syn_whole_frames_mean_http2_joined_mid_stream() {
        let (mut c, mut s) = (loona_hpack::Encoder::new(), loona_hpack::Encoder::new());
        let get = h2_get(&mut c, 5, "/late");
        let ok = h2_ok(&mut s, 5, "x");
        let mut session = Session::new(info(), HttpOptions::default(), false, Arc::default());
        session.feed(C, Chunk::Data(&get, origin(1)));
        session.feed(S, Chunk::Data(&ok, origin(2)));
        session.finish();
        let ready = session.take_ready();
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].exchange.request.target, "/late");
        // With the SYN seen, the same bytes are not HTTP/2 (nor HTTP/1.x).
        let (got, stats) = run(&[(C, &get), (S, &ok)]);
        assert!(got.is_empty());
        assert_eq!(stats.notes.count(Note::NonHttpFlow), 1);
    }

    #[test]
    fn alpn_h2_needs_no_sniffing() {
        let app = App::for_alpn(info(), HttpOptions::default(), true, Some("h2"));
        assert!(matches!(app, App::Http2(_)));
        let app = App::for_alpn(info(), HttpOptions::default(), true, Some("http/1.1"));
        assert!(matches!(app, App::Sniffing(_)));
    }

    #[test]
    fn upgrade_h2c_goes_on_as_http2() {
        let (mut c, mut s) = (loona_hpack::Encoder::new(), loona_hpack::Encoder::new());
        let request = b"GET /a HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n";
        let switch = [
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
                .as_slice(),
            &frame(kind::SETTINGS, 0, 0, b""),
            &h2_ok(&mut s, 1, "one"),
        ]
        .concat();
        let client = [
            PREFACE.as_slice(),
            &frame(kind::SETTINGS, 0, 0, b""),
            &h2_get(&mut c, 3, "/b"),
        ]
        .concat();
        let (got, stats) = run(&[
            (C, b"GET /first HTTP/1.1\r\nHost: a.test\r\n\r\n"),
            (S, b"HTTP/1.1 204 No Content\r\n\r\n"),
            (C, request),
            (S, &switch[..80]),
            (S, &switch[80..]),
            (C, &client),
            (S, &h2_ok(&mut s, 3, "two")),
        ]);
        assert_eq!(
            got,
            [
                "GET /first HTTP/1.1 -> [] 204 \"\"",
                "GET /a HTTP/1.1 -> [101] 200 \"one\"",
                "GET /b HTTP/2 -> [] 200 \"two\"",
            ]
        );
        assert_eq!(stats.notes.count(Note::Upgrade), 0);
        assert_eq!((stats.http.requests, stats.http.responses), (3, 3));
        assert_eq!((stats.tcp.http_flows, stats.http2.connections), (1, 1));
    }
}
