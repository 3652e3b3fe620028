//! One TCP connection's protocol stack above TCP: the application-protocol parser chosen for
//! the connection from its first bytes.
//!
//! [`super::tcp_reassembly`] hands each direction's bytes in stream order to a [`Session`],
//! which decides once what they carry and from then on feeds the parser it chose. Every
//! parser has the same surface ([`App`]), so the flow table above and the accounting below do
//! not know which one runs.

use super::connection::{FlowInfo, HttpOptions, Ready, Role};
use super::http1;
use super::tcp_reassembly::Chunk;
use super::{Note, Stats};
use crate::model::Timestamp;

/// The parser of a connection's application protocol.
#[derive(Debug)]
pub enum App {
    /// HTTP/1.x.
    Http1(http1::Connection),
}

impl App {
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
    app: App,
}

impl Session {
    /// A session for a connection whose client is known; `from_start` when its SYN was seen.
    pub fn new(info: FlowInfo, opts: HttpOptions, from_start: bool) -> Self {
        Self {
            app: App::Http1(http1::Connection::new(info, opts, from_start)),
        }
    }

    /// Takes one chunk of one direction, in stream order.
    pub fn feed(&mut self, role: Role, chunk: Chunk<'_>) {
        self.app.feed(role, chunk);
    }

    /// Whether nothing more can come of this connection's bytes.
    pub fn stopped(&self) -> bool {
        self.app.stopped()
    }

    /// The connection ended.
    pub fn finish(&mut self) {
        self.app.finish();
    }

    /// The time of the oldest byte that may still become part of an exchange.
    pub fn oldest_pending(&self) -> Option<Timestamp> {
        self.app.oldest_pending()
    }

    /// Finished exchanges, taken.
    pub fn take_ready(&mut self) -> Vec<Ready> {
        self.app.take_ready()
    }

    /// Adds the connection's counts to `stats`; `payload` is its TCP payload in bytes and
    /// `label` names it for notes.
    pub fn account(&self, stats: &mut Stats, payload: u64, label: impl FnOnce() -> String) {
        if self.app.not_http() {
            not_http(stats, payload, label);
        } else {
            stats.tcp.http_flows += 1;
            stats.tcp.resync_skipped_bytes += self.app.skipped();
        }
        self.app.account(stats);
    }
}

/// Counts a connection whose bytes are not HTTP.
pub fn not_http(stats: &mut Stats, payload: u64, label: impl FnOnce() -> String) {
    stats.tcp.non_http_bytes += payload;
    stats.notes.record(Note::NonHttpFlow, label);
}
