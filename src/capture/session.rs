//! One TCP connection's protocol stack above TCP: an optional TLS layer, then the
//! application-protocol parser chosen for the connection.
//!
//! [`super::tcp_reassembly`] hands each direction's bytes in stream order to a [`Session`],
//! which decides on the first bytes what they carry and from then on feeds the stack it
//! chose. A ClientHello puts [`super::tls`] in front, and the parser is then picked by the
//! ALPN the handshake agreed. Every parser has the same surface ([`App`]), so the flow table
//! above and the accounting below do not know which one runs.

use super::connection::{FlowInfo, HttpOptions, Ready, Role};
use super::http1;
use super::tcp_reassembly::Chunk;
use super::tls::{self, Failure, TlsStream, keylog::KeyLog};
use super::{Note, Stats};
use crate::model::Timestamp;
use std::sync::Arc;

/// The parser of a connection's application protocol.
#[derive(Debug)]
pub enum App {
    /// HTTP/1.x.
    Http1(http1::Connection),
}

impl App {
    /// The parser for a connection whose protocol was agreed by ALPN (`None`: not said).
    pub fn for_alpn(
        info: FlowInfo,
        opts: HttpOptions,
        from_start: bool,
        _alpn: Option<&str>,
    ) -> App {
        App::Http1(http1::Connection::new(info, opts, from_start))
    }

    /// Takes one chunk of one direction.
    pub fn feed(&mut self, role: Role, chunk: Chunk<'_>) {
        match self {
            App::Http1(c) => c.feed(role, chunk),
        }
    }

    /// The connection ended: flush what waits.
    pub fn finish(&mut self) {
        match self {
            App::Http1(c) => c.finish(),
        }
    }

    /// Whether both directions stopped parsing.
    pub fn stopped(&self) -> bool {
        match self {
            App::Http1(c) => c.stopped(),
        }
    }

    /// The time of the oldest byte that may still become part of an exchange.
    pub fn oldest_pending(&self) -> Option<Timestamp> {
        match self {
            App::Http1(c) => c.oldest_pending(),
        }
    }

    /// Finished exchanges, taken.
    pub fn take_ready(&mut self) -> Vec<Ready> {
        match self {
            App::Http1(c) => std::mem::take(&mut c.ready),
        }
    }

    /// Whether the bytes turned out not to be this protocol at all.
    fn not_http(&self) -> bool {
        match self {
            App::Http1(c) => c.not_http() || (c.requests == 0 && c.responses == 0),
        }
    }

    /// Bytes skipped while looking for message starts.
    fn skipped(&self) -> u64 {
        match self {
            App::Http1(c) => c.skipped(),
        }
    }

    /// Adds this connection's counts to `stats`.
    fn account(&self, stats: &mut Stats) {
        match self {
            App::Http1(c) => {
                stats.http.requests += c.requests;
                stats.http.responses += c.responses;
                stats.notes.merge(c.notes.clone());
            }
        }
    }
}

/// A connection's stack; see the module documentation.
#[derive(Debug)]
pub struct Session {
    info: FlowInfo,
    opts: HttpOptions,
    from_start: bool,
    keys: Arc<KeyLog>,
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
    pub fn new(info: FlowInfo, opts: HttpOptions, from_start: bool, keys: Arc<KeyLog>) -> Self {
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
            Layer::Tls(stream, app) => {
                let (info, opts, from_start) = (&self.info, self.opts, self.from_start);
                stream.feed(role, chunk, &mut |role, plain, tls| {
                    app.get_or_insert_with(|| {
                        let info = FlowInfo {
                            tls: Some(tls.clone()),
                            ..info.clone()
                        };
                        App::for_alpn(info, opts, from_start, tls.alpn.as_deref())
                    })
                    .feed(role, plain);
                });
            }
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
                    Failure::NoKey { .. } => Note::TlsNoKey,
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
