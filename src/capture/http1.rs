//! HTTP/1.x over one reassembled TCP connection: incremental message parsing, FIFO pairing of
//! requests and responses, and content decoding.
//!
//! Fifth step of the capture pipeline, after [`super::tcp_reassembly`]. Each direction has a
//! [`MessageParser`] fed in stream order; "need more bytes" is its normal resting state. Heads
//! are parsed by httparse; body length follows RFC 9112 §6.3: no body for a response to HEAD,
//! for 1xx, 204 and 304; chunked when it is the final transfer coding (trailers kept); else
//! Content-Length; else, for a response, until the connection closes. Responses pair with
//! requests strictly in order (RFC 9112 §9.3.2), so pipelining pairs correctly; interim 1xx
//! responses (`Expect: 100-continue`) attach to the next final response. A `101 Switching
//! Protocols` or a successful `CONNECT` ends HTTP parsing for the connection; when the 101
//! accepts `Upgrade: h2c`, the request and the bytes not yet parsed are kept for
//! [`super::session`] to go on with HTTP/2 ([`Connection::take_h2c`]).
//!
//! After a gap, or when a capture starts mid-connection, a parser resynchronises at the next
//! line that starts a message (a known method and `HTTP/1.x`, or an `HTTP/1.x nnn` status
//! line). A gap inside a body of known length keeps the parser in step: that one message is
//! dropped (counted), the next one is found where the length says. When a gap swallows whole
//! messages, pairing is repaired with two rules: a response cannot start before its request
//! (else it is an orphan), and after a gap in the responses every open request followed by a
//! later request sent before the next response began is taken as answered inside the gap.
//! Both assume no pipelining across the gap; with pipelining there, pairs can still be off.
//!
//! Header values that are not UTF-8 (obs-text) are kept with U+FFFD in place of the bad bytes,
//! because the model holds header values as strings.

pub use super::connection::{FlowInfo, HttpOptions, Ready, Role};
use super::tcp_reassembly::{Chunk, Origin};
use super::{Note, Notes};
use crate::limits::Limits;
use crate::memo::Memo;
use crate::model::{Body, Bytes, Cut, Exchange, Headers, Request, Response};
use std::collections::VecDeque;
use std::io::Read;

/// Longest message head (request or status line plus header fields) accepted by default
/// (`--max-head-bytes`); a longer one is skipped to the next message and noted as a limit.
pub const MAX_HEAD_BYTES: usize = 64 << 10;

/// Most header (or trailer) fields in one message by default (`--max-headers`); a message with
/// more is skipped and noted as a limit.
pub const MAX_HEADERS: usize = 256;

/// Longest chunk-size line of a chunked body.
pub const MAX_CHUNK_LINE_BYTES: usize = 4096;

/// Largest body kept per message by default (`--max-body-bytes`, HTTP/1 and HTTP/2); the rest
/// is counted and discarded, and the exchange kept with its body cut and noted.
pub const MAX_BODY_BYTES: usize = 64 << 20;

/// Most room set aside for a body ahead of its bytes, on the word of its `Content-Length`.
pub const RESERVE_BODY_BYTES: usize = 1 << 20;

/// Largest body produced by content decoding (a guard against decompression bombs); past it
/// the encoded bytes are kept as they are.
pub const MAX_DECODED_BYTES: usize = 256 << 20;

/// Requests waiting for their response on one connection (pipelining depth); past it the
/// oldest is written out without a response.
pub const MAX_PIPELINED: usize = 1024;

/// Bytes scanned for a first message start on a connection before it is called non-HTTP.
pub const MAX_RESYNC_SCAN_BYTES: usize = 256 << 10;

/// Methods recognised when resynchronising. Any token is accepted at a known message
/// boundary; mid-stream, only these mark one, so body bytes are not taken for a request.
const METHODS: [&str; 16] = [
    "GET",
    "POST",
    "PUT",
    "DELETE",
    "HEAD",
    "OPTIONS",
    "PATCH",
    "CONNECT",
    "TRACE",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
];

/// How a message's body ends, decided once its head is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Until the connection closes.
    Close,
    /// Not HTTP any more (upgrade, tunnel): stop parsing.
    Stop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// At a message boundary, expecting a head.
    Head,
    /// A head was returned; the caller must say how the body is framed.
    AwaitFraming,
    Length(u64),
    Chunked(ChunkState),
    Close,
    /// Looking for the next message start.
    Resync,
    /// Parsing ended for good.
    Stopped,
}

/// A parsed head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// A request line and fields.
    Request {
        /// The method as sent.
        method: String,
        /// The request-target as sent.
        target: String,
        /// `HTTP/1.0` or `HTTP/1.1`.
        version: String,
        /// Header fields.
        headers: Headers,
    },
    /// A status line and fields.
    Response {
        /// The status code.
        status: u16,
        /// The reason phrase.
        reason: String,
        /// `HTTP/1.0` or `HTTP/1.1`.
        version: String,
        /// Header fields.
        headers: Headers,
    },
}

/// What a parser found.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A message head; call [`MessageParser::set_framing`] next.
    Head(Head, Origin),
    /// The current message's body ended.
    Body {
        /// The body after transfer decoding.
        body: Vec<u8>,
        /// Trailer fields of a chunked body.
        trailers: Headers,
        /// The packet holding the last byte.
        end: Origin,
        /// Bytes were lost to a gap inside this body.
        damaged: bool,
        /// Bytes past [`MAX_BODY_BYTES`] were discarded.
        truncated: bool,
    },
    /// The first bytes of a connection are not HTTP.
    NotHttp,
    /// A head that did not parse, or was over a limit ([`Note::Limit`]); bytes are skipped to
    /// the next message start.
    Unparseable(Note, String, Origin),
}

/// An incremental HTTP/1.x parser for one direction.
#[derive(Debug)]
pub struct MessageParser {
    role: Role,
    phase: Phase,
    buf: Vec<u8>,
    pos: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    /// (stream offset, origin) of each chunk still (partly) in `buf`.
    marks: VecDeque<(u64, Origin)>,
    last: Option<Origin>,
    body: Vec<u8>,
    trailers: Headers,
    damaged: bool,
    truncated: bool,
    /// The `Content-Length` of the body in progress, for [`MessageParser::take_cut`].
    length: u64,
    /// Whether any message start was found yet.
    matched: bool,
    /// Bytes skipped while resynchronising.
    pub skipped: u64,
    scanned: u64,
    /// Response heads read leniently (see [`lenient_response`]) and not yet noted.
    pub lenient: u64,
    /// The limits in force.
    limits: Limits,
}

impl MessageParser {
    /// A parser at the start of a stream. `from_start` says the stream's first byte was seen
    /// (a SYN): it must then begin with a message, else the connection is not HTTP.
    pub fn new(role: Role, from_start: bool) -> Self {
        Self {
            role,
            phase: if from_start {
                Phase::Head
            } else {
                Phase::Resync
            },
            buf: Vec::new(),
            pos: 0,
            base: 0,
            marks: VecDeque::new(),
            last: None,
            body: Vec::new(),
            trailers: Headers::new(),
            damaged: false,
            truncated: false,
            length: 0,
            matched: false,
            skipped: 0,
            scanned: 0,
            lenient: 0,
            limits: Limits::default(),
        }
    }

    /// The same parser with other header, head and body limits (the `--max-*` flags).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether parsing ended for good.
    pub fn stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }

    /// Ends parsing: the rest of the stream is not HTTP.
    pub fn stop(&mut self) {
        self.phase = Phase::Stopped;
        self.buf = Vec::new();
        self.pos = 0;
        self.marks.clear();
    }

    /// Whether a message is in progress (a head or part of one was seen).
    pub fn in_message(&self) -> bool {
        match self.phase {
            Phase::Head => self.pos < self.buf.len(),
            Phase::Resync | Phase::Stopped => false,
            _ => true,
        }
    }

    /// The origin of the oldest byte not yet part of a finished message, if any.
    pub fn oldest_pending(&self) -> Option<Origin> {
        if self.in_message() {
            self.marks.front().map(|m| m.1)
        } else {
            None
        }
    }

    /// Appends stream bytes.
    pub fn push(&mut self, mut data: &[u8], origin: Origin) {
        if self.phase == Phase::Stopped {
            return;
        }
        // Fast path: body bytes of known length (the whole body, or the rest of a chunk) go
        // straight into the body, not via `buf`.
        self.compact();
        let known = match self.phase {
            Phase::Length(rem) | Phase::Chunked(ChunkState::Data(rem)) => Some(rem),
            _ => None,
        };
        if let (Some(rem), true) = (known, self.buf.is_empty()) {
            let take = rem.min(data.len() as u64) as usize;
            let room = self.limits.body_bytes.saturating_sub(self.body.len());
            if take > room {
                self.truncated = true;
            }
            self.body.extend_from_slice(&data[..take.min(room)]);
            let rem = rem - take as u64;
            self.phase = match self.phase {
                Phase::Chunked(_) if rem == 0 => Phase::Chunked(ChunkState::DataEnd),
                Phase::Chunked(_) => Phase::Chunked(ChunkState::Data(rem)),
                _ => Phase::Length(rem),
            };
            self.base += take as u64;
            self.last = Some(origin);
            data = &data[take..];
            self.marks.clear();
            if data.is_empty() {
                // Keep one mark so the origin of later bytes is known.
                self.marks.push_back((self.base, origin));
                return;
            }
        }
        let offset = self.base + self.buf.len() as u64;
        self.marks.push_back((offset, origin));
        self.last = Some(origin);
        self.buf.extend_from_slice(data);
    }

    /// Bytes were lost. Returns whether the message in progress was lost with them (its head
    /// was already returned).
    pub fn gap(&mut self, n: u64) -> bool {
        self.compact();
        match self.phase {
            Phase::Length(rem) if self.buf.is_empty() && n < rem => {
                self.phase = Phase::Length(rem - n);
                self.damaged = true;
                false
            }
            Phase::Chunked(ChunkState::Data(rem)) if self.buf.is_empty() && n < rem => {
                self.phase = Phase::Chunked(ChunkState::Data(rem - n));
                self.damaged = true;
                false
            }
            Phase::Close => {
                self.damaged = true;
                false
            }
            Phase::Stopped => false,
            phase => {
                let lost = !matches!(phase, Phase::Head | Phase::Resync);
                self.base = self
                    .base
                    .saturating_add(self.buf.len() as u64)
                    .saturating_add(n);
                self.buf.clear();
                self.pos = 0;
                self.marks.clear();
                self.body.clear();
                self.trailers = Headers::new();
                self.damaged = false;
                self.truncated = false;
                self.phase = Phase::Resync;
                lost
            }
        }
    }

    /// The stream ended. A close-delimited body completes; anything else in progress is
    /// returned as truncated by the caller's accounting.
    pub fn finish(&mut self) -> Option<Event> {
        match self.phase {
            Phase::Close => {
                self.phase = Phase::Stopped;
                Some(self.body_done())
            }
            _ => None,
        }
    }

    /// Sets how the body after the last head is framed.
    pub fn set_framing(&mut self, framing: Framing) {
        self.phase = match framing {
            Framing::Empty => Phase::Length(0),
            Framing::Length(n) => {
                self.length = n;
                // Grown by doubling, a body is copied about once more; a lying length cannot
                // reserve more than RESERVE_BODY_BYTES.
                self.body
                    .reserve_exact(n.min(RESERVE_BODY_BYTES as u64) as usize);
                Phase::Length(n)
            }
            Framing::Chunked => Phase::Chunked(ChunkState::Size),
            Framing::Close => Phase::Close,
            Framing::Stop => {
                self.stop();
                Phase::Stopped
            }
        };
    }

    fn origin_at(&self, offset: u64) -> Option<Origin> {
        self.marks
            .iter()
            .rev()
            .find(|(o, _)| *o <= offset)
            .map(|(_, origin)| *origin)
    }

    /// Drops consumed bytes from the buffer.
    fn compact(&mut self) {
        if self.pos == 0 {
            return;
        }
        let consumed = self.base + self.pos as u64;
        if self.pos == self.buf.len() {
            self.buf.clear();
        } else {
            self.buf.drain(..self.pos);
        }
        self.base = consumed;
        self.pos = 0;
        while self.marks.len() > 1 && self.marks[1].0 <= consumed {
            self.marks.pop_front();
        }
    }

    /// The stream ended inside a body: what arrived of it, with the packet of its last byte.
    /// `None` when no body was in progress (between messages, or inside a head).
    pub fn take_cut(&mut self) -> Option<(Vec<u8>, Cut, Option<Origin>)> {
        let cut = match self.phase {
            Phase::Length(rem) => Cut {
                seen: self.length - rem,
                announced: Some(self.length),
            },
            Phase::Chunked(_) => Cut {
                seen: self.body.len() as u64,
                announced: None,
            },
            _ => return None,
        };
        self.trailers = Headers::new();
        self.damaged = false;
        self.truncated = false;
        Some((std::mem::take(&mut self.body), cut, self.last))
    }

    fn body_done(&mut self) -> Event {
        let end = self.last.unwrap_or(Origin {
            ts: crate::model::Timestamp::from_unix(0, 0),
            packet: 0,
        });
        Event::Body {
            body: std::mem::take(&mut self.body),
            trailers: std::mem::take(&mut self.trailers),
            end,
            damaged: std::mem::take(&mut self.damaged),
            truncated: std::mem::take(&mut self.truncated),
        }
    }

    fn keep(&mut self, n: usize) {
        let data = &self.buf[self.pos..self.pos + n];
        let room = self.limits.body_bytes.saturating_sub(self.body.len());
        if n > room {
            self.truncated = true;
        }
        self.body.extend_from_slice(&data[..n.min(room)]);
        self.pos += n;
    }

    /// The next event, or `None` when more bytes are needed.
    pub fn poll(&mut self) -> Option<Event> {
        let event = self.step();
        if event.is_none() {
            self.compact();
        }
        event
    }

    fn step(&mut self) -> Option<Event> {
        loop {
            let avail = self.buf.len() - self.pos;
            match self.phase {
                Phase::Stopped | Phase::AwaitFraming => return None,
                Phase::Resync => {
                    if !self.resync() {
                        return None;
                    }
                }
                Phase::Head => {
                    // RFC 9112 §2.2: empty lines before a request line are ignored.
                    while self.buf[self.pos..].starts_with(b"\r\n") {
                        self.pos += 2;
                    }
                    while self.buf[self.pos..].starts_with(b"\n") {
                        self.pos += 1;
                    }
                    if self.pos == self.buf.len() {
                        return None;
                    }
                    return self.head();
                }
                Phase::Length(rem) => {
                    let take = rem.min(avail as u64) as usize;
                    self.keep(take);
                    let rem = rem - take as u64;
                    self.phase = Phase::Length(rem);
                    if rem > 0 {
                        return None;
                    }
                    self.phase = Phase::Head;
                    return Some(self.body_done());
                }
                Phase::Close => {
                    self.keep(avail);
                    return None;
                }
                Phase::Chunked(state) => match self.chunked(state) {
                    Ok(true) => {}
                    Ok(false) => return None,
                    Err(done) => return done,
                },
            }
        }
    }

    /// One step of chunked decoding: `Ok(true)` to go on, `Ok(false)` for more bytes, `Err`
    /// with the event that ends the body (or the error that abandons it).
    fn chunked(&mut self, state: ChunkState) -> Result<bool, Option<Event>> {
        let data = &self.buf[self.pos..];
        match state {
            ChunkState::Size => {
                let Some(nl) = data.iter().position(|&b| b == b'\n') else {
                    if data.len() > MAX_CHUNK_LINE_BYTES {
                        return Err(Some(self.abandon("chunk size line too long")));
                    }
                    return Ok(false);
                };
                let line = &data[..nl];
                let digits = line
                    .iter()
                    .take_while(|b| b.is_ascii_hexdigit())
                    .copied()
                    .collect::<Vec<u8>>();
                let size = std::str::from_utf8(&digits)
                    .ok()
                    .and_then(|s| u64::from_str_radix(s, 16).ok());
                let Some(size) = size else {
                    return Err(Some(self.abandon("bad chunk size")));
                };
                self.pos += nl + 1;
                self.phase = Phase::Chunked(if size == 0 {
                    ChunkState::Trailers
                } else {
                    ChunkState::Data(size)
                });
                Ok(true)
            }
            ChunkState::Data(rem) => {
                let take = rem.min(data.len() as u64) as usize;
                if take == 0 {
                    return Ok(false);
                }
                self.keep(take);
                let rem = rem - take as u64;
                self.phase = Phase::Chunked(if rem == 0 {
                    ChunkState::DataEnd
                } else {
                    ChunkState::Data(rem)
                });
                Ok(true)
            }
            ChunkState::DataEnd => {
                if data.starts_with(b"\r\n") {
                    self.pos += 2;
                } else if data.starts_with(b"\n") {
                    self.pos += 1;
                } else if data.len() < 2 {
                    return Ok(false);
                } else {
                    return Err(Some(self.abandon("chunk data not followed by CRLF")));
                }
                self.phase = Phase::Chunked(ChunkState::Size);
                Ok(true)
            }
            ChunkState::Trailers => {
                let end = if data.starts_with(b"\r\n") {
                    Some(2)
                } else if data.starts_with(b"\n") {
                    Some(1)
                } else {
                    let mut stack = [httparse::EMPTY_HEADER; MAX_HEADERS];
                    let mut heap = Vec::new();
                    let fields = header_room(&mut stack, &mut heap, self.limits.headers);
                    match httparse::parse_headers(data, fields) {
                        Ok(httparse::Status::Complete((n, fields))) => {
                            for f in fields.iter() {
                                self.trailers
                                    .push(f.name, String::from_utf8_lossy(f.value).into_owned());
                            }
                            Some(n)
                        }
                        Ok(httparse::Status::Partial) if data.len() <= self.limits.head_bytes => {
                            None
                        }
                        Err(httparse::Error::TooManyHeaders) => {
                            let why = too_many_headers(self.limits.headers, "trailer");
                            return Err(Some(self.abandon_for(Note::Limit, &why)));
                        }
                        _ => return Err(Some(self.abandon("bad trailer fields"))),
                    }
                };
                let Some(n) = end else {
                    return Ok(false);
                };
                self.pos += n;
                self.phase = Phase::Head;
                Err(Some(self.body_done()))
            }
        }
    }

    /// Gives up on the message in progress and resynchronises.
    fn abandon(&mut self, why: &str) -> Event {
        self.abandon_for(Note::UnparseableHead, why)
    }

    /// [`Self::abandon`], counted as `note`.
    fn abandon_for(&mut self, note: Note, why: &str) -> Event {
        let at = self
            .origin_at(self.base + self.pos as u64)
            .or(self.last)
            .unwrap_or(Origin {
                ts: crate::model::Timestamp::from_unix(0, 0),
                packet: 0,
            });
        self.body.clear();
        self.trailers = Headers::new();
        self.damaged = false;
        self.truncated = false;
        self.phase = Phase::Resync;
        Event::Unparseable(note, why.to_owned(), at)
    }

    fn head(&mut self) -> Option<Event> {
        let data = &self.buf[self.pos..];
        let start = self.base + self.pos as u64;
        let max_headers = self.limits.headers;
        let mut stack = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut heap = Vec::new();
        let fields = header_room(&mut stack, &mut heap, max_headers);
        let parsed = match self.role {
            Role::Request => {
                let mut req = httparse::Request::new(fields);
                match req.parse(data) {
                    Ok(httparse::Status::Complete(n)) => Ok(Some((
                        n,
                        Head::Request {
                            method: req.method.unwrap_or_default().to_owned(),
                            target: req.path.unwrap_or_default().to_owned(),
                            version: format!("HTTP/1.{}", req.version.unwrap_or(1)),
                            headers: to_headers(req.headers),
                        },
                    ))),
                    Ok(httparse::Status::Partial) => Ok(None),
                    Err(e) => Err(e),
                }
            }
            Role::Response => {
                let mut resp = httparse::Response::new(fields);
                match resp.parse(data) {
                    Ok(httparse::Status::Complete(n)) => Ok(Some((n, response_head(&resp)))),
                    Ok(httparse::Status::Partial) => Ok(None),
                    Err(e) => match lenient_response(data, max_headers) {
                        Some(found) => {
                            self.lenient += 1;
                            Ok(Some(found))
                        }
                        None => Err(e),
                    },
                }
            }
        };
        let origin = self.origin_at(start)?;
        match parsed {
            Ok(Some((n, head))) => {
                self.pos += n;
                self.matched = true;
                self.phase = Phase::AwaitFraming;
                Some(Event::Head(head, origin))
            }
            Ok(None) if data.len() <= self.limits.head_bytes => None,
            Ok(None) => {
                self.pos += 1;
                let why = format!(
                    "message head over {} bytes (raise it with --max-head-bytes)",
                    self.limits.head_bytes
                );
                Some(self.abandon_for(Note::Limit, &why))
            }
            Err(httparse::Error::TooManyHeaders) => {
                self.pos += 1;
                let why = too_many_headers(max_headers, "header");
                Some(self.abandon_for(Note::Limit, &why))
            }
            // A first message that starts like HTTP but breaks later (a space before a colon,
            // a folded line) is a bad head, not a sign that the stream is another protocol.
            Err(_) if !self.matched && looks_like_start(self.role, data) != Some(true) => {
                self.stop();
                Some(Event::NotHttp)
            }
            Err(e) => {
                self.pos += 1;
                let mut ev = self.abandon("");
                if let Event::Unparseable(_, why, _) = &mut ev {
                    *why = format!("unparseable head: {e}");
                }
                Some(ev)
            }
        }
    }

    /// Skips to the next line that starts a message; `true` when found.
    fn resync(&mut self) -> bool {
        let data = &self.buf[self.pos..];
        let mut i = 0;
        while i < data.len() {
            let at_line_start = i == 0 || data[i - 1] == b'\n';
            if at_line_start {
                match looks_like_start(self.role, &data[i..]) {
                    Some(true) => {
                        self.skipped += i as u64;
                        self.pos += i;
                        self.phase = Phase::Head;
                        return true;
                    }
                    // Undecided: keep these bytes until more arrive.
                    None => {
                        self.skipped += i as u64;
                        self.scanned += i as u64;
                        self.pos += i;
                        return false;
                    }
                    Some(false) => {}
                }
            }
            i += match data[i..].iter().position(|&b| b == b'\n') {
                Some(nl) => nl + 1,
                None => data.len() - i,
            };
        }
        self.skipped += data.len() as u64;
        self.scanned += data.len() as u64;
        self.pos = self.buf.len();
        if !self.matched && self.scanned > MAX_RESYNC_SCAN_BYTES as u64 {
            self.stop();
        }
        false
    }

    /// Takes the bytes received but not parsed, each run with the packet it came in.
    pub fn take_rest(&mut self) -> Vec<(Vec<u8>, Origin)> {
        let from = self.base + self.pos as u64;
        let end = self.base + self.buf.len() as u64;
        let mut runs = Vec::new();
        for (i, &(at, origin)) in self.marks.iter().enumerate() {
            let next = self.marks.get(i + 1).map_or(end, |m| m.0);
            let (a, b) = (at.max(from), next.min(end));
            if a < b {
                let (a, b) = ((a - self.base) as usize, (b - self.base) as usize);
                runs.push((self.buf[a..b].to_vec(), origin));
            }
        }
        self.pos = self.buf.len();
        runs
    }

    /// Whether this parser gave up looking for a first message.
    pub fn never_matched(&self) -> bool {
        !self.matched
    }

    /// Takes the stream for HTTP from now on, as when the other direction carried a message:
    /// bytes that do not parse are then bad heads to skip, not another protocol.
    pub fn expect_http(&mut self) {
        self.matched = true;
    }
}

fn response_head(resp: &httparse::Response<'_, '_>) -> Head {
    Head::Response {
        status: resp.code.unwrap_or_default(),
        reason: resp.reason.unwrap_or_default().to_owned(),
        version: format!("HTTP/1.{}", resp.version.unwrap_or(1)),
        headers: to_headers(resp.headers),
    }
}

/// Room for `limit` header fields: the stack array up to [`MAX_HEADERS`], else `heap`.
fn header_room<'a, 'h>(
    stack: &'a mut [httparse::Header<'h>; MAX_HEADERS],
    heap: &'a mut Vec<httparse::Header<'h>>,
    limit: usize,
) -> &'a mut [httparse::Header<'h>] {
    if limit <= MAX_HEADERS {
        &mut stack[..limit]
    } else {
        heap.resize(limit, httparse::EMPTY_HEADER);
        heap
    }
}

/// What a message over the field count limit is noted with.
fn too_many_headers(limit: usize, what: &str) -> String {
    format!("more than {limit} {what} fields (raise it with --max-headers)")
}

/// A response head that only a lenient reading accepts, as a proxy must read it: whitespace
/// between a field name and its colon is removed (RFC 9112 §5.1: "a proxy MUST remove any
/// such whitespace from a response message before forwarding"), and an obs-fold line is joined
/// to the field before it (§5.2). Express servers send `Access-Control-Allow-Credentials :
/// true`; browsers accept it.
fn lenient_response(data: &[u8], max_headers: usize) -> Option<(usize, Head)> {
    let mut stack = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut heap = Vec::new();
    let mut resp = httparse::Response::new(header_room(&mut stack, &mut heap, max_headers));
    let mut config = httparse::ParserConfig::default();
    config
        .allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .allow_multiple_spaces_in_response_status_delimiters(true);
    match config.parse_response(&mut resp, data) {
        Ok(httparse::Status::Complete(n)) => Some((n, response_head(&resp))),
        _ => None,
    }
}

fn to_headers(fields: &[httparse::Header<'_>]) -> Headers {
    fields
        .iter()
        .map(|f| {
            (
                f.name.to_owned(),
                String::from_utf8_lossy(f.value).into_owned(),
            )
        })
        .collect()
}

/// Whether `line` starts a message: `Some(true)` yes, `Some(false)` no, `None` not enough
/// bytes to tell.
pub(super) fn looks_like_start(role: Role, line: &[u8]) -> Option<bool> {
    const LONGEST_LINE: usize = 8192;
    let eol = line.iter().take(LONGEST_LINE).position(|&b| b == b'\n');
    match role {
        Role::Response => {
            let want = b"HTTP/1.";
            let n = line.len().min(12);
            let ok = line[..n.min(7)] == want[..n.min(7)]
                && line.get(7).is_none_or(u8::is_ascii_digit)
                && line.get(8).is_none_or(|&b| b == b' ')
                && line[9.min(n)..n].iter().all(u8::is_ascii_digit);
            if !ok {
                Some(false)
            } else if n < 12 {
                None
            } else {
                Some(true)
            }
        }
        Role::Request => {
            let space = line.iter().take(12).position(|&b| b == b' ');
            let Some(space) = space else {
                let prefix = METHODS.iter().any(|m| m.as_bytes().starts_with(line));
                return if prefix && line.len() < 12 {
                    None
                } else {
                    Some(false)
                };
            };
            if !METHODS.iter().any(|m| m.as_bytes() == &line[..space]) {
                return Some(false);
            }
            match eol {
                None if line.len() < LONGEST_LINE => None,
                None => Some(false),
                Some(eol) => {
                    let l = line[..eol].strip_suffix(b"\r").unwrap_or(&line[..eol]);
                    Some(l.len() > 9 && l[l.len() - 9..l.len() - 1] == *b" HTTP/1.")
                }
            }
        }
    }
}

#[derive(Debug)]
struct Slot {
    request: Request,
    start: Origin,
    done: bool,
    damaged: bool,
    response: Option<Response>,
    interim: Vec<u16>,
}

#[derive(Debug)]
struct CurrentResponse {
    response: Response,
    /// Index into `slots`, or `None` for a response without a request.
    slot: Option<usize>,
    interim: bool,
}

/// What an accepted `Upgrade: h2c` leaves for HTTP/2: the request, which becomes stream 1,
/// and each direction's bytes after the HTTP/1.1 messages.
#[derive(Debug)]
pub struct H2cUpgrade {
    /// The upgraded request.
    pub request: Request,
    /// The packet that began it.
    pub start: Origin,
    /// Its index among the connection's exchanges.
    pub index: u64,
    /// Client bytes not parsed as HTTP/1.1 (the HTTP/2 preface, if it came already).
    pub client: Vec<(Vec<u8>, Origin)>,
    /// Server bytes after the `101` head (its SETTINGS frame first).
    pub server: Vec<(Vec<u8>, Origin)>,
}

/// One TCP connection's HTTP state: two parsers and the requests awaiting responses.
#[derive(Debug)]
pub struct Connection {
    client: MessageParser,
    server: MessageParser,
    slots: VecDeque<Slot>,
    /// How many of the front slots have their final response.
    answered: usize,
    current: Option<CurrentResponse>,
    info: FlowInfo,
    opts: HttpOptions,
    next_index: u64,
    /// Finished exchanges not yet taken.
    pub ready: Vec<Ready>,
    /// What went wrong, counted.
    pub notes: Notes,
    /// Messages seen, for the summary.
    pub requests: u64,
    /// Final responses seen.
    pub responses: u64,
    not_http: bool,
    after_server_gap: bool,
    h2c: Option<H2cUpgrade>,
}

impl Connection {
    /// A connection; `from_start` when its SYN was captured.
    pub fn new(info: FlowInfo, opts: HttpOptions, from_start: bool) -> Self {
        Self {
            client: MessageParser::new(Role::Request, from_start).with_limits(opts.limits),
            server: MessageParser::new(Role::Response, from_start).with_limits(opts.limits),
            slots: VecDeque::new(),
            answered: 0,
            current: None,
            info,
            opts,
            next_index: 0,
            ready: Vec::new(),
            notes: Notes::default(),
            requests: 0,
            responses: 0,
            not_http: false,
            after_server_gap: false,
            h2c: None,
        }
    }

    /// What the connection's exchanges are stamped with.
    pub fn info(&self) -> &FlowInfo {
        &self.info
    }

    /// The choices it was made with.
    pub fn options(&self) -> HttpOptions {
        self.opts
    }

    /// The `Upgrade: h2c` this connection stopped for, taken; HTTP/2 goes on from there.
    pub fn take_h2c(&mut self) -> Option<H2cUpgrade> {
        self.h2c.take()
    }

    /// Whether the connection was found not to be HTTP.
    pub fn not_http(&self) -> bool {
        self.not_http
    }

    /// Whether both directions stopped parsing (not HTTP, upgraded, tunnelled).
    pub fn stopped(&self) -> bool {
        self.client.stopped() && self.server.stopped()
    }

    /// The time of the oldest byte that may still become part of an exchange not yet ready.
    pub fn oldest_pending(&self) -> Option<crate::model::Timestamp> {
        let slot = self.slots.front().map(|s| s.start.ts);
        let client = self.client.oldest_pending().map(|o| o.ts);
        [slot, client].into_iter().flatten().min()
    }

    /// Takes one chunk of one direction.
    pub fn feed(&mut self, role: Role, chunk: Chunk<'_>) {
        match chunk {
            Chunk::Data(data, origin) => {
                let parser = match role {
                    Role::Request => &mut self.client,
                    Role::Response => &mut self.server,
                };
                if parser.stopped() {
                    return;
                }
                parser.push(data, origin);
            }
            Chunk::Gap(n) => {
                self.info.note_gap(&mut self.notes, role, n);
                match role {
                    Role::Request => {
                        if self.client.gap(n) {
                            if let Some(s) = self.slots.back_mut() {
                                s.damaged = true;
                                s.done = true;
                            }
                        }
                    }
                    Role::Response => {
                        self.after_server_gap = true;
                        if self.server.gap(n) {
                            if let Some(cur) = self.current.take() {
                                self.lose_response(cur);
                            }
                        }
                    }
                }
            }
        }
        self.drive(role);
    }

    fn drive(&mut self, role: Role) {
        loop {
            let event = match role {
                Role::Request => self.client.poll(),
                Role::Response => self.server.poll(),
            };
            let Some(event) = event else { break };
            match role {
                Role::Request => self.on_request_event(event),
                Role::Response => self.on_response_event(event),
            }
        }
        self.emit();
    }

    fn on_request_event(&mut self, event: Event) {
        match event {
            Event::Head(
                Head::Request {
                    method,
                    target,
                    version,
                    headers,
                },
                start,
            ) => {
                self.requests += 1;
                self.server.expect_http();
                let framing = request_framing(&headers);
                let framing = match framing {
                    Ok(f) => f,
                    Err(why) => {
                        self.notes.record(Note::UnparseableHead, || {
                            format!("{}: packet {}: {why}", self.info.label, start.packet)
                        });
                        Framing::Empty
                    }
                };
                let request = self.build_request(method, target, version, headers, start);
                if self.slots.len() >= MAX_PIPELINED {
                    self.notes.record(Note::Limit, || {
                        format!(
                            "{}: more than {MAX_PIPELINED} requests pipelined",
                            self.info.label
                        )
                    });
                    if let Some(s) = self.slots.pop_front() {
                        self.answered = self.answered.saturating_sub(1);
                        if let Some(cur) = &mut self.current {
                            cur.slot = cur.slot.and_then(|i| i.checked_sub(1));
                        }
                        self.finish_slot(s);
                    }
                }
                // Room for one request, not four: most connections never pipeline. Later
                // pushes grow by doubling.
                if self.slots.capacity() == 0 {
                    self.slots.reserve_exact(1);
                }
                self.slots.push_back(Slot {
                    request,
                    start,
                    done: false,
                    damaged: false,
                    response: None,
                    interim: Vec::new(),
                });
                self.client.set_framing(framing);
            }
            Event::Body {
                body,
                trailers,
                damaged,
                truncated,
                ..
            } => {
                let Some(slot) = self.slots.back_mut() else {
                    return;
                };
                let label = &self.info.label;
                if truncated {
                    self.notes.record(Note::Limit, || {
                        format!(
                            "{label}: request body over {} bytes cut (--max-body-bytes)",
                            self.opts.limits.body_bytes
                        )
                    });
                }
                let is_connect = slot.request.method.eq_ignore_ascii_case("CONNECT");
                slot.request.body = limited_body(body, truncated, &slot.request.headers);
                slot.request.trailers = trailers;
                slot.done = true;
                slot.damaged |= damaged;
                if is_connect {
                    // Bytes after a CONNECT request belong to the tunnel unless it is refused;
                    // wait for the response before parsing more.
                    self.client.set_framing(Framing::Close);
                }
            }
            // A request parser only returns request heads.
            Event::Head(Head::Response { .. }, _) => {}
            Event::NotHttp => self.mark_not_http(),
            Event::Unparseable(note, why, at) => {
                self.notes.record(note, || {
                    format!("{}: packet {}: request: {why}", self.info.label, at.packet)
                });
                if let Some(s) = self.slots.back_mut().filter(|s| !s.done) {
                    s.damaged = true;
                    s.done = true;
                }
            }
        }
    }

    fn on_response_event(&mut self, event: Event) {
        match event {
            Event::Head(
                Head::Response {
                    status,
                    reason,
                    version,
                    headers,
                },
                start,
            ) => {
                if std::mem::take(&mut self.server.lenient) > 0 {
                    self.notes.record(Note::LenientHead, || {
                        format!("{}: packet {}: {status}", self.info.label, start.packet)
                    });
                }
                if std::mem::take(&mut self.after_server_gap) {
                    self.skip_answered_in_gap(start);
                }
                let mut slot = (self.answered < self.slots.len()).then_some(self.answered);
                // A response cannot begin before its request: after requests were lost in a gap,
                // a response to one of them finds a later request first. It has no request here.
                if slot.is_some_and(|i| self.slots[i].start.packet > start.packet) {
                    slot = None;
                }
                let method = slot.map(|i| self.slots[i].request.method.clone());
                if slot.is_none() {
                    self.notes.record(Note::OrphanResponse, || {
                        format!("{}: packet {}: {status}", self.info.label, start.packet)
                    });
                }
                let interim = (100..200).contains(&status) && status != 101;
                let framing = response_framing(method.as_deref(), status, &headers);
                let h2c = status == 101
                    && slot.is_some_and(|i| offers_h2c(&self.slots[i].request, &headers));
                self.current = Some(CurrentResponse {
                    response: Response {
                        status,
                        reason: Some(reason),
                        version: Some(version),
                        headers,
                        trailers: Headers::new(),
                        body: Body::default(),
                        timestamp: None,
                        interim: Vec::new(),
                    },
                    slot,
                    interim,
                });
                if h2c {
                    self.current = None;
                    self.upgrade_h2c(slot.unwrap_or_default());
                } else if framing == Framing::Stop {
                    // 101 or a CONNECT tunnel: the exchange is complete at the head.
                    let what = if status == 101 { "upgrade" } else { "tunnel" };
                    self.notes.record(Note::Upgrade, || {
                        format!("{}: packet {}: {what}", self.info.label, start.packet)
                    });
                    self.on_response_event(Event::Body {
                        body: Vec::new(),
                        trailers: Headers::new(),
                        end: start,
                        damaged: false,
                        truncated: false,
                    });
                    if let Some(s) = slot.and_then(|i| self.slots.get_mut(i)) {
                        s.done = true;
                    }
                    self.server.stop();
                    self.client.stop();
                } else {
                    self.server.set_framing(framing);
                }
            }
            Event::Body {
                body,
                trailers,
                end,
                damaged,
                truncated,
            } => {
                let Some(mut cur) = self.current.take() else {
                    return;
                };
                if cur.interim {
                    if let Some(s) = cur.slot.and_then(|i| self.slots.get_mut(i)) {
                        s.interim.push(cur.response.status);
                    }
                    return;
                }
                self.responses += 1;
                let label = &self.info.label;
                if truncated {
                    self.notes.record(Note::Limit, || {
                        format!(
                            "{label}: response body over {} bytes cut (--max-body-bytes)",
                            self.opts.limits.body_bytes
                        )
                    });
                }
                cur.response.body = limited_body(body, truncated, &cur.response.headers);
                cur.response.trailers = trailers;
                cur.response.timestamp = Some(end.ts);
                let Some(i) = cur.slot else { return };
                let Some(slot) = self.slots.get_mut(i) else {
                    return;
                };
                cur.response.interim = std::mem::take(&mut slot.interim);
                slot.damaged |= damaged;
                let connect_ok = slot.request.method.eq_ignore_ascii_case("CONNECT")
                    && (200..300).contains(&cur.response.status);
                let was_connect = slot.request.method.eq_ignore_ascii_case("CONNECT");
                slot.response = Some(cur.response);
                self.answered += 1;
                if was_connect && !connect_ok {
                    // Refused: the client may go on with HTTP.
                    self.client.set_framing(Framing::Empty);
                }
            }
            // A response parser only returns response heads.
            Event::Head(Head::Request { .. }, _) => {}
            Event::NotHttp => self.mark_not_http(),
            Event::Unparseable(note, why, at) => {
                self.notes.record(note, || {
                    format!("{}: packet {}: response: {why}", self.info.label, at.packet)
                });
                if let Some(cur) = self.current.take() {
                    self.lose_response(cur);
                } else if self
                    .slots
                    .get(self.answered)
                    .is_some_and(|s| s.start.packet <= at.packet)
                {
                    // The broken head answered the oldest open request, which stays without a
                    // response; the next response pairs with the next request (FIFO).
                    self.answered += 1;
                }
            }
        }
    }

    /// A `101` accepted `Upgrade: h2c` for slot `i`: earlier exchanges are written out, the
    /// request and the unparsed bytes are kept for HTTP/2, and parsing stops.
    fn upgrade_h2c(&mut self, i: usize) {
        for _ in 0..i {
            if let Some(s) = self.slots.pop_front() {
                self.finish_slot(s);
            }
        }
        self.answered = 0;
        let Some(slot) = self.slots.pop_front() else {
            return;
        };
        let index = self.next_index;
        self.next_index += 1;
        self.h2c = Some(H2cUpgrade {
            request: slot.request,
            start: slot.start,
            index,
            client: self.client.take_rest(),
            server: self.server.take_rest(),
        });
        while let Some(s) = self.slots.pop_front() {
            self.finish_slot(s);
        }
        self.server.stop();
        self.client.stop();
    }

    fn mark_not_http(&mut self) {
        if self.requests == 0 && self.responses == 0 {
            self.not_http = true;
        }
        self.client.stop();
        self.server.stop();
    }

    /// After a gap in the responses, the first response found may not answer the oldest open
    /// request: whole responses can be in the gap. Without pipelining a client sends its next
    /// request only after the previous response, so every open request followed by another
    /// request sent before this response began was answered inside the gap: those are marked
    /// lost. (With pipelining this guess can drop too many; it never pairs wrongly in the
    /// non-pipelined case, which is what the FIFO rule alone would do.)
    fn skip_answered_in_gap(&mut self, response_start: Origin) {
        let open = self.answered..self.slots.len();
        let Some(last_before) = open
            .clone()
            .rev()
            .find(|&i| self.slots[i].start.packet < response_start.packet)
        else {
            return;
        };
        for i in open.start..last_before {
            let slot = &mut self.slots[i];
            slot.damaged = true;
            slot.done = true;
            slot.response = Some(Response {
                status: 0,
                reason: None,
                version: None,
                headers: Headers::new(),
                trailers: Headers::new(),
                body: Body::default(),
                timestamp: None,
                interim: Vec::new(),
            });
            self.answered += 1;
        }
    }

    /// A response lost in the middle: its request still takes its turn, marked damaged.
    fn lose_response(&mut self, cur: CurrentResponse) {
        if cur.interim {
            return;
        }
        if let Some(slot) = cur.slot.and_then(|i| self.slots.get_mut(i)) {
            slot.damaged = true;
            slot.response = Some(cur.response);
            self.answered += 1;
        }
    }

    fn build_request(
        &self,
        method: String,
        target: String,
        version: String,
        headers: Headers,
        start: Origin,
    ) -> Request {
        let absolute = (!target.starts_with('/'))
            .then(|| target.split_once("://"))
            .flatten()
            .map(|(_, rest)| rest.split(['/', '?']).next().unwrap_or(""));
        let authority = absolute.or_else(|| headers.first("host")).unwrap_or("");
        // The Host header (or an absolute target) names the origin, port included when it is
        // not the default; only without one do the server's address and port stand in.
        let (mut host, mut port) = crate::model::split_authority(authority.trim());
        if host.is_empty() {
            (host, port) = self.info.fallback_authority();
        }
        Request {
            method,
            scheme: self.info.scheme(),
            host,
            port,
            target,
            version: Some(version),
            headers,
            body: Body::default(),
            trailers: Headers::new(),
            timestamp: Some(start.ts),
        }
    }

    /// Moves finished exchanges from the front of the queue to `ready`.
    fn emit(&mut self) {
        while let Some(front) = self.slots.front() {
            if !(front.done && front.response.is_some()) {
                break;
            }
            let slot = self.slots.pop_front().expect("front exists");
            self.answered = self.answered.saturating_sub(1);
            if let Some(cur) = &mut self.current {
                cur.slot = cur.slot.and_then(|i| i.checked_sub(1));
            }
            self.finish_slot(slot);
        }
    }

    fn finish_slot(&mut self, slot: Slot) {
        let index = self.next_index;
        self.next_index += 1;
        if slot.damaged {
            self.notes.record(Note::LostToGap, || {
                format!(
                    "{}: packet {}: {} {}",
                    self.info.label, slot.start.packet, slot.request.method, slot.request.target
                )
            });
            return;
        }
        if slot.response.is_none() {
            self.notes.record(Note::Incomplete, || {
                format!(
                    "{}: packet {}: {} {}",
                    self.info.label, slot.start.packet, slot.request.method, slot.request.target
                )
            });
            if self.opts.drop_incomplete {
                return;
            }
        }
        // Most connections carry one exchange: room for one, not the four a first push makes
        // (a million open flows held 2.8 KB each that way). Later pushes grow by doubling.
        if self.ready.capacity() == 0 {
            self.ready.reserve_exact(1);
        }
        self.ready.push(Ready {
            ts: slot.start.ts,
            index,
            exchange: Exchange {
                request: slot.request,
                response: slot.response,
                source: self.info.source(slot.start),
                extra: serde_json::Map::new(),
            },
        });
    }

    /// The connection ended: completes close-delimited bodies and writes out what waits.
    pub fn finish(&mut self) {
        if let Some(ev) = self.server.finish() {
            self.on_response_event(ev);
        }
        if let Some(ev) = self.client.finish() {
            self.on_request_event(ev);
        }
        if self.server.in_message() {
            if let Some(cur) = self.current.take() {
                self.keep_cut_response(cur);
            }
        }
        if self.client.in_message() {
            if let Some(slot) = self.slots.back_mut().filter(|s| !s.done) {
                let cut = self.client.take_cut();
                self.notes.record(Note::Truncated, || {
                    format!(
                        "{}: packet {}: request cut off{}",
                        self.info.label,
                        slot.start.packet,
                        describe_cut(cut.as_ref().map(|c| &c.1))
                    )
                });
                if let Some((body, cut, _)) = cut {
                    slot.request.body = cut_body(body, cut);
                }
                slot.done = true;
            }
        }
        self.client.stop();
        self.server.stop();
        self.emit();
        while let Some(mut slot) = self.slots.pop_front() {
            slot.done = true;
            self.finish_slot(slot);
        }
        self.answered = 0;
    }

    /// The connection ended inside a response: one whose body had begun is kept with what
    /// arrived, marked as cut; one cut inside its head (or an interim one) is lost.
    fn keep_cut_response(&mut self, mut cur: CurrentResponse) {
        let cut = self.server.take_cut();
        self.notes.record(Note::Truncated, || {
            format!(
                "{}: response {} cut off{}",
                self.info.label,
                cur.response.status,
                describe_cut(cut.as_ref().map(|c| &c.1))
            )
        });
        let Some(slot) = cur.slot.and_then(|i| self.slots.get_mut(i)) else {
            return;
        };
        match cut {
            Some((body, cut, last)) if !cur.interim => {
                self.responses += 1;
                cur.response.body = cut_body(body, cut);
                cur.response.timestamp = last.map(|o| o.ts).or(cur.response.timestamp);
                cur.response.interim = std::mem::take(&mut slot.interim);
                slot.response = Some(cur.response);
            }
            _ => slot.interim.clear(),
        }
    }

    /// Bytes skipped while looking for message starts, both directions.
    pub fn skipped(&self) -> u64 {
        self.client.skipped + self.server.skipped
    }
}

/// Whether a `101` with `response` headers accepts an `Upgrade: h2c` offered by `request`
/// (RFC 7540 §3.2). A 101 must name the protocol it switches to (RFC 9110 §7.8); one that
/// names none is taken to accept the only offer.
fn offers_h2c(request: &Request, response: &Headers) -> bool {
    let h2c = |v: &str| v.split(',').any(|p| p.trim().eq_ignore_ascii_case("h2c"));
    let offered: Vec<&str> = request.headers.all("upgrade").collect();
    if !offered.iter().any(|v| h2c(v)) {
        return false;
    }
    match response.first("upgrade") {
        Some(v) => h2c(v),
        None => offered.len() == 1 && offered[0].split(',').count() == 1,
    }
}

/// Whether the last transfer coding is chunked, and whether any is present.
fn transfer_coding(headers: &Headers) -> Option<bool> {
    let mut last = None;
    for v in headers.all("transfer-encoding") {
        for coding in v.split(',') {
            let c = coding.trim();
            if !c.is_empty() {
                last = Some(c.eq_ignore_ascii_case("chunked"));
            }
        }
    }
    last
}

fn content_length(headers: &Headers) -> Result<Option<u64>, String> {
    let mut found: Option<u64> = None;
    for v in headers.all("content-length") {
        for part in v.split(',') {
            let n: u64 = part
                .trim()
                .parse()
                .map_err(|_| format!("bad Content-Length {v:?}"))?;
            if found.is_some_and(|f| f != n) {
                return Err(format!("conflicting Content-Length {v:?}"));
            }
            found = Some(n);
        }
    }
    Ok(found)
}

/// RFC 9112 §6.3 for requests: chunked, else Content-Length, else no body.
fn request_framing(headers: &Headers) -> Result<Framing, String> {
    match transfer_coding(headers) {
        Some(true) => Ok(Framing::Chunked),
        Some(false) => Err("request with a transfer coding other than chunked".into()),
        None => Ok(content_length(headers)?.map_or(Framing::Empty, Framing::Length)),
    }
}

/// RFC 9112 §6.3 for responses, given the request method when known.
fn response_framing(method: Option<&str>, status: u16, headers: &Headers) -> Framing {
    let is = |m: &str| method.is_some_and(|x| x.eq_ignore_ascii_case(m));
    if status == 101 || (is("CONNECT") && (200..300).contains(&status)) {
        return Framing::Stop;
    }
    if is("HEAD") || (100..200).contains(&status) || status == 204 || status == 304 {
        return Framing::Empty;
    }
    match transfer_coding(headers) {
        Some(true) => Framing::Chunked,
        Some(false) => Framing::Close,
        None => match content_length(headers) {
            Ok(Some(n)) => Framing::Length(n),
            Ok(None) => Framing::Close,
            Err(_) => Framing::Close,
        },
    }
}

/// A finished body; one the body limit cut is marked cut (what was kept, of the announced
/// length), so no writer passes it off as whole and it is not content-decoded.
fn limited_body(bytes: Vec<u8>, truncated: bool, headers: &Headers) -> Body {
    if !truncated {
        return Body::from_bytes(bytes);
    }
    let cut = Cut {
        seen: bytes.len() as u64,
        announced: headers
            .first("content-length")
            .and_then(|v| v.trim().parse().ok()),
    };
    cut_body(bytes, cut)
}

fn cut_body(bytes: Vec<u8>, cut: Cut) -> Body {
    Body {
        cut: Some(cut),
        ..Body::from_bytes(bytes)
    }
}

/// `", after 10 of 300 body bytes"`, for the notes on cut messages.
fn describe_cut(cut: Option<&Cut>) -> String {
    cut.map_or_else(String::new, |c| format!(", {c}"))
}

/// Undoes the `Content-Encoding` of both bodies of `ex` (see [`decode_body`]); returns the
/// nanoseconds it took. Connections hand bodies over as sent and the pipeline decodes them
/// afterwards, exchange by exchange in parallel: a few long keep-alive connections would
/// otherwise leave the cores unevenly loaded.
pub fn decode_bodies(ex: &mut Exchange, notes: &mut Notes, memo: &Decoded) -> u64 {
    let started = std::time::Instant::now();
    let label = ex.source.flow.as_deref().unwrap_or("");
    let req = &mut ex.request;
    if req.body.cut.is_none() {
        req.body = decode_body(
            std::mem::take(&mut req.body.bytes),
            &req.headers,
            notes,
            label,
            memo,
        );
    }
    if let Some(resp) = ex.response.as_mut().filter(|r| r.body.cut.is_none()) {
        resp.body = decode_body(
            std::mem::take(&mut resp.body.bytes),
            &resp.headers,
            notes,
            label,
            memo,
        );
    }
    started.elapsed().as_nanos() as u64
}

/// Decoded bodies by their codings and encoded bytes: servers send the same compressed page
/// again and again, and inflating it is most of the decoding cost.
pub type Decoded = Memo<Result<Bytes, String>>;

/// A memo for [`decode_bodies`]; even small inputs are worth it, as each inflate sets up
/// tens of kilobytes of state.
pub fn decoded_memo() -> Decoded {
    Memo::new(64)
}

/// Undoes `Content-Encoding` (gzip, deflate, br, in reverse order of application). On failure
/// or a limit, the bytes stay as sent and a note says why.
fn decode_body(
    bytes: Bytes,
    headers: &Headers,
    notes: &mut Notes,
    label: &str,
    memo: &Decoded,
) -> Body {
    let Some(encoding) = headers.first("content-encoding") else {
        return Body::from_bytes(bytes);
    };
    let codings = codings(headers);
    if codings.is_empty() || bytes.is_empty() {
        return Body::from_bytes(bytes);
    }
    let decoded = memo.get(&codings.join(","), &bytes, |bytes| {
        decode_all(&codings, bytes).map(Bytes::from)
    });
    match decoded.into_owned() {
        Ok(data) => Body {
            bytes: data,
            decoded_from: Some(encoding.to_owned()),
            cut: None,
        },
        Err(why) => {
            notes.record(Note::DecodeFailed, || format!("{label}: {why}"));
            Body::from_bytes(bytes)
        }
    }
}

/// The content codings `headers` name, in the order they were applied (`identity` left out).
fn codings(headers: &Headers) -> Vec<&str> {
    headers
        .all("content-encoding")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"))
        .collect()
}

/// Undoes `codings` (in reverse order of application), up to [`MAX_DECODED_BYTES`].
fn decode_all(codings: &[&str], bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut data: Option<Vec<u8>> = None;
    for coding in codings.iter().rev() {
        let input = data.as_deref().unwrap_or(bytes);
        match decode(coding, input, MAX_DECODED_BYTES) {
            Ok(decoded) => data = Some(decoded),
            Err(why) => return Err(format!("{coding}: {why}")),
        }
    }
    Ok(data.unwrap_or_default())
}

/// The body a message's `Content-Encoding` hides, for a body still encoded (kept as sent);
/// `None` when there is no coding or it does not decode.
pub(crate) fn decode_content(headers: &Headers, bytes: &[u8]) -> Option<Vec<u8>> {
    let codings = codings(headers);
    if codings.is_empty() || bytes.is_empty() {
        return None;
    }
    decode_all(&codings, bytes).ok()
}

/// Decodes one content coding (RFC 9110 §8.4.1).
fn decode(coding: &str, data: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    use flate2::bufread::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};
    // A first guess at the decoded size saves regrowing the output: gzip records it (mod 2^32)
    // in its last four bytes (RFC 1952 §2.3.1 ISIZE); otherwise assume 4:1.
    let guess = match coding.to_ascii_lowercase().as_str() {
        "gzip" | "x-gzip" if data.len() >= 18 => {
            let tail: [u8; 4] = data[data.len() - 4..].try_into().expect("4 bytes");
            u32::from_le_bytes(tail) as usize
        }
        _ => data.len().saturating_mul(4),
    };
    let capacity = guess.min(limit).min(data.len().saturating_mul(64)) + 1;
    match coding.to_ascii_lowercase().as_str() {
        "gzip" | "x-gzip" => read_limited(MultiGzDecoder::new(data), limit, capacity),
        // "deflate" is zlib-wrapped (RFC 9110 §8.4.1.2), but some servers send it raw.
        "deflate" => read_limited(ZlibDecoder::new(data), limit, capacity)
            .or_else(|_| read_limited(DeflateDecoder::new(data), limit, capacity)),
        "br" => read_limited(brotli::Decompressor::new(data, 64 << 10), limit, capacity),
        other => Err(format!("unsupported content coding {other:?}")),
    }
}

/// Reads a whole decoder, stopping past `limit`.
fn read_limited(mut r: impl Read, limit: usize, capacity: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(capacity);
    let n = r
        .by_ref()
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    if n > limit {
        return Err(format!("decoded body over {limit} bytes"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;

    fn origin(packet: u64) -> Origin {
        Origin {
            ts: Timestamp::from_unix(packet as i64, 0),
            packet,
        }
    }

    fn conn() -> Connection {
        Connection::new(
            FlowInfo::for_test("10.0.0.2:80"),
            HttpOptions::default(),
            true,
        )
    }

    /// Feeds `(role, bytes)` in order, finishes, and lists `METHOD target -> status body`.
    fn run(parts: &[(Role, &str)]) -> Vec<String> {
        let mut c = conn();
        for (i, (role, bytes)) in parts.iter().enumerate() {
            c.feed(*role, Chunk::Data(bytes.as_bytes(), origin(i as u64 + 1)));
        }
        c.finish();
        c.ready
            .iter()
            .map(|r| {
                let e = &r.exchange;
                match &e.response {
                    Some(resp) => format!(
                        "{} {} -> {}{:?} {:?}",
                        e.request.method,
                        e.request.target,
                        resp.status,
                        resp.interim,
                        String::from_utf8_lossy(&resp.body.bytes)
                    ),
                    None => format!("{} {} -> none", e.request.method, e.request.target),
                }
            })
            .collect()
    }

    use Role::{Request as C, Response as S};

    macro_rules! http {
        ([$($role:ident $bytes:expr),*] => [$($want:expr),*]) => {
            assert_eq!(run(&[$(($role, $bytes)),*]), vec![$($want.to_string()),*] as Vec<String>)
        };
    }

    /// Issue 15: what real servers send and browsers accept, and RFC 9112 lets a recipient
    /// read: bare LF line ends (§2.2), no reason phrase, with or without its space (§4).
    #[test]
    fn issue_15_bare_lf_and_missing_reasons_are_read() {
        http!([C "GET /a HTTP/1.1\nHost: h\n\n", S "HTTP/1.1 200 OK\nContent-Length: 1\n\nx"]
            => ["GET /a -> 200[] \"x\""]);
        http!([C "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", S "HTTP/1.1 204 \r\n\r\n"]
            => ["GET /a -> 204[] \"\""]);
        http!([C "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", S "HTTP/1.1 204\r\n\r\n"]
            => ["GET /a -> 204[] \"\""]);
    }

    /// Issue 15: a response head a proxy must accept (RFC 9112 §5.1, §5.2) is kept, its field
    /// named without the space, and noted; the same fault in a request is still refused.
    #[test]
    fn issue_15_lenient_response_heads_are_kept_and_noted() {
        let mut c = conn();
        let get = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
        let reply = "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Credentials : true\r\nX-Long: a\r\n b\r\nContent-Length: 2\r\n\r\nok";
        c.feed(Role::Request, Chunk::Data(get.as_bytes(), origin(1)));
        c.feed(Role::Response, Chunk::Data(reply.as_bytes(), origin(2)));
        c.finish();
        let resp = c.ready[0].exchange.response.as_ref().expect("kept");
        assert_eq!(
            resp.headers.first("access-control-allow-credentials"),
            Some("true")
        );
        assert!(
            resp.headers
                .first("x-long")
                .is_some_and(|v| v.starts_with('a'))
        );
        assert_eq!(&resp.body.bytes[..], b"ok");
        assert_eq!(c.notes.count(Note::LenientHead), 1);
        assert_eq!(
            run(&[
                (C, "GET /a HTTP/1.1\r\nHost : h\r\n\r\n"),
                (S, "HTTP/1.1 200 OK\r\n\r\n")
            ]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn pairs_pipelined_requests_in_order() {
        http!([C "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
               S "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 No\r\nContent-Length: 1\r\n\r\nb"]
              => ["GET /a -> 200[] \"a\"", "GET /b -> 404[] \"b\""]);
    }

    #[test]
    fn bodies_end_by_length_chunks_or_close() {
        http!([C "GET / HTTP/1.1\r\n\r\n", S "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n"]
              => ["GET / -> 200[] \"abcde\""]);
        http!([C "GET / HTTP/1.0\r\n\r\n", S "HTTP/1.0 200 OK\r\n\r\nto the ", S "end"]
              => ["GET / -> 200[] \"to the end\""]);
        http!([C "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", S "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"]
              => ["POST /p -> 201[] \"\""]);
    }

    #[test]
    fn chunked_bodies_split_anywhere_read_as_in_one_piece() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        let body = "5\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n";
        let whole = run(&[(C, "GET / HTTP/1.1\r\n\r\n"), (S, head), (S, body)]);
        assert_eq!(whole, ["GET / -> 200[] \"hello world\""]);
        for size in 1..body.len() {
            let mut parts = vec![(C, "GET / HTTP/1.1\r\n\r\n"), (S, head)];
            parts.extend(
                body.as_bytes()
                    .chunks(size)
                    .map(|p| (S, std::str::from_utf8(p).expect("ASCII"))),
            );
            assert_eq!(run(&parts), whole, "pieces of {size}");
        }
    }

    #[test]
    fn no_body_for_head_204_304() {
        http!([C "HEAD / HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n",
               S "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"]
              => ["HEAD / -> 200[] \"\"", "GET /x -> 304[] \"\""]);
        http!([C "DELETE /d HTTP/1.1\r\n\r\n", S "HTTP/1.1 204 No Content\r\n\r\n"]
              => ["DELETE /d -> 204[] \"\""]);
    }

    #[test]
    fn expect_continue_keeps_the_interim_response() {
        http!([C "PUT /u HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
               S "HTTP/1.1 100 Continue\r\n\r\n",
               C "ok",
               S "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]
              => ["PUT /u -> 200[100] \"\""]);
    }

    #[test]
    fn upgrade_stops_parsing_and_unanswered_requests_are_kept() {
        http!([C "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", S "HTTP/1.1 101 Switching\r\n\r\n\x01\x05hello", C "\x01\x05junk"]
              => ["GET /ws -> 101[] \"\""]);
        http!([C "GET /late HTTP/1.1\r\n\r\n"] => ["GET /late -> none"]);
    }

    #[test]
    fn not_http_and_resync_after_gap() {
        let mut c = conn();
        c.feed(C, Chunk::Data(b"\x16\x03\x01\x02\x00\x01", origin(1)));
        assert!(c.not_http());

        let mut c = conn();
        c.feed(C, Chunk::Data(b"GET /a HTTP/1.1\r\n\r\n", origin(1)));
        c.feed(
            S,
            Chunk::Data(
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01",
                origin(2),
            ),
        );
        c.feed(S, Chunk::Gap(100));
        c.feed(C, Chunk::Data(b"GET /b HTTP/1.1\r\n\r\n", origin(3)));
        c.feed(
            S,
            Chunk::Data(
                b"junk\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb",
                origin(4),
            ),
        );
        c.finish();
        let got: Vec<&str> = c
            .ready
            .iter()
            .map(|r| r.exchange.request.target.as_str())
            .collect();
        assert_eq!(got, ["/b"]);
        assert_eq!(c.notes.count(Note::LostToGap), 1);
    }

    #[test]
    fn detects_message_starts() {
        assert_eq!(looks_like_start(C, b"GET / HTTP/1.1\r\n"), Some(true));
        assert_eq!(looks_like_start(C, b"GE"), None);
        assert_eq!(looks_like_start(C, b"GET /x"), None);
        assert_eq!(looks_like_start(C, b"FOO / HTTP/1.1\r\n"), Some(false));
        assert_eq!(looks_like_start(S, b"HTTP/1.1 200 OK"), Some(true));
        assert_eq!(looks_like_start(S, b"HTTP/1."), None);
        assert_eq!(looks_like_start(S, b"HTTP/2 200"), Some(false));
    }
}
