//! The incremental HTTP/1.x message parser of one direction: heads by httparse, bodies as
//! [`super::Framing`] says, chunked transfer coding undone (trailers kept), and resynchronising
//! at the next message start after a gap or mid-connection. "Need more bytes" is its resting
//! state: [`MessageParser::poll`] returns `None`.

use super::head::{
    header_room, lenient_response, looks_like_start, response_head, to_headers, too_many_headers,
};
use super::{
    Framing, MAX_CHUNK_LINE_BYTES, MAX_HEADERS, MAX_RESYNC_SCAN_BYTES, RESERVE_BODY_BYTES, Role,
};
use crate::capture::Note;
use crate::capture::tcp_reassembly::Origin;
use crate::limits::Limits;
use crate::model::{Cut, Headers};
use std::collections::VecDeque;

/// Methods recognised when resynchronising. Any token is accepted at a known message
/// boundary; mid-stream, only these mark one, so body bytes are not taken for a request.
pub(super) const METHODS: [&str; 16] = [
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

/// Stands in for the packet of a byte before any was seen (never, once bytes arrived).
fn no_origin() -> Origin {
    Origin {
        ts: crate::model::Timestamp::from_unix(0, 0),
        packet: 0,
    }
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
        /// Ranges of the body lost in gaps, as `[start, end)` offsets into the body as sent;
        /// `body` holds only the bytes that were seen.
        missing: Vec<[u64; 2]>,
        /// A gap took the body's framing (a chunk size line, say): where the body ended is
        /// not known, and `body` is what arrived before it.
        end_lost: bool,
        /// Bytes past [`MAX_BODY_BYTES`] were discarded.
        truncated: bool,
    },
    /// The first bytes of a connection are not HTTP.
    NotHttp,
    /// A head that did not parse, or was over a limit ([`Note::Limit`]); bytes are skipped to
    /// the next message start.
    Unparseable(Note, String, Origin),
}

/// What a gap did to the message in progress ([`MessageParser::gap`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapEffect {
    /// The lost bytes were all inside the body in progress: it goes on, or ended exactly
    /// with them, marked with the missing range. No message boundary was lost.
    InBody,
    /// Message boundaries may have been in the gap (it fell between messages, or went past
    /// the end of a body): whole messages may be lost, and parsing resynchronises.
    Boundaries,
    /// The message whose head was returned was lost with the gap.
    MessageLost,
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
    /// Offset, in the body in progress as sent, of its next byte (gaps counted).
    sent: u64,
    /// Ranges of the body in progress lost in gaps (see [`Event::Body`]).
    missing: Vec<[u64; 2]>,
    /// A body a gap ended, to hand out at the next poll.
    ended_by_gap: Option<Event>,
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
            sent: 0,
            missing: Vec::new(),
            ended_by_gap: None,
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
            self.sent = self.sent.saturating_add(take as u64);
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

    /// Bytes were lost. A gap inside a body is kept as a missing range of it (the exchange is
    /// real: its head and the rest of its body were seen); a gap that takes a body's framing
    /// ends the body there, marked, and parsing resynchronises at the next message start.
    pub fn gap(&mut self, n: u64) -> GapEffect {
        self.compact();
        // Body bytes of known length never wait in `buf` (see `push` and `step`); a chunk
        // line or head cut by the gap may.
        let flushed = self.buf.is_empty();
        match self.phase {
            Phase::Length(rem) | Phase::Chunked(ChunkState::Data(rem)) if n < rem && flushed => {
                self.note_missing(n);
                self.phase = match self.phase {
                    Phase::Length(_) => Phase::Length(rem - n),
                    _ => Phase::Chunked(ChunkState::Data(rem - n)),
                };
                GapEffect::InBody
            }
            Phase::Length(rem) if flushed => {
                // The body's end was in the gap: it is complete but for the range, and the
                // next message starts `n - rem` bytes after the gap's start.
                self.note_missing(rem);
                self.phase = Phase::Head;
                self.ended_by_gap = Some(self.body_done(false));
                if n == rem {
                    self.base = self.base.saturating_add(n);
                    self.marks.clear();
                    GapEffect::InBody
                } else {
                    self.resync_after(n);
                    GapEffect::Boundaries
                }
            }
            Phase::Chunked(state) => {
                // The chunk framing was in the gap: the body's end cannot be found.
                if let (ChunkState::Data(rem), true) = (state, flushed) {
                    self.note_missing(rem);
                }
                self.ended_by_gap = Some(self.body_done(true));
                self.resync_after(n);
                GapEffect::Boundaries
            }
            Phase::Close => {
                // Everything to the end of the connection is this body.
                let kept = self.buf.len() - self.pos;
                self.keep(kept);
                self.compact();
                self.note_missing(n);
                self.base = self.base.saturating_add(n);
                GapEffect::InBody
            }
            Phase::Stopped => GapEffect::InBody,
            Phase::Head | Phase::Resync | Phase::AwaitFraming | Phase::Length(_) => {
                self.lose_to_gap(n)
            }
        }
    }

    /// Records `n` bytes of the body in progress as lost at its current offset.
    fn note_missing(&mut self, n: u64) {
        if n == 0 {
            return;
        }
        self.sent = Cut::extend_missing(&mut self.missing, self.sent, n);
    }

    /// Skips past a gap of `n` bytes (and anything unparsed before it) to resynchronise.
    fn resync_after(&mut self, n: u64) {
        self.base = self
            .base
            .saturating_add(self.buf.len() as u64)
            .saturating_add(n);
        self.buf.clear();
        self.pos = 0;
        self.marks.clear();
        self.phase = Phase::Resync;
    }

    /// A gap outside any body: what was in progress is dropped, and parsing resynchronises.
    fn lose_to_gap(&mut self, n: u64) -> GapEffect {
        let lost = !matches!(self.phase, Phase::Head | Phase::Resync);
        self.resync_after(n);
        self.body.clear();
        self.clear_body_flags();
        if lost {
            GapEffect::MessageLost
        } else {
            GapEffect::Boundaries
        }
    }

    /// The stream ended. A close-delimited body completes; anything else in progress is
    /// returned as truncated by the caller's accounting.
    pub fn finish(&mut self) -> Option<Event> {
        match self.phase {
            Phase::Close => {
                self.phase = Phase::Stopped;
                Some(self.body_done(false))
            }
            _ => None,
        }
    }

    /// Gives up on the message whose head was just returned, its body's end unknown (an
    /// invalid Content-Length), and looks for the next message start.
    pub fn skip_to_next_message(&mut self) {
        self.clear_body_flags();
        self.body.clear();
        self.phase = Phase::Resync;
    }

    /// Sets how the body after the last head is framed.
    pub fn set_framing(&mut self, framing: Framing) {
        self.phase = match framing {
            Framing::Empty => {
                self.sent = 0;
                Phase::Length(0)
            }
            Framing::Length(n) => {
                self.sent = 0;
                self.length = n;
                // Grown by doubling, a body is copied about once more; a lying length cannot
                // reserve more than RESERVE_BODY_BYTES.
                self.body
                    .reserve_exact(n.min(RESERVE_BODY_BYTES as u64) as usize);
                Phase::Length(n)
            }
            Framing::Chunked => {
                self.sent = 0;
                Phase::Chunked(ChunkState::Size)
            }
            Framing::Close => {
                self.sent = 0;
                Phase::Close
            }
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
        let missing = std::mem::take(&mut self.missing);
        let lost: u64 = missing.iter().map(|[a, b]| b - a).sum();
        let cut = match self.phase {
            Phase::Length(rem) => Cut {
                seen: (self.length - rem).saturating_sub(lost),
                announced: Some(self.length),
                missing,
            },
            Phase::Chunked(_) => Cut {
                seen: self.sent.saturating_sub(lost),
                announced: None,
                missing,
            },
            _ => return None,
        };
        self.clear_body_flags();
        Some((std::mem::take(&mut self.body), cut, self.last))
    }

    /// Forgets the trailers and marks of a body given up on.
    fn clear_body_flags(&mut self) {
        self.trailers = Headers::new();
        self.missing.clear();
        self.sent = 0;
        self.truncated = false;
    }

    fn body_done(&mut self, end_lost: bool) -> Event {
        let end = self.last.unwrap_or_else(no_origin);
        self.sent = 0;
        Event::Body {
            body: std::mem::take(&mut self.body),
            trailers: std::mem::take(&mut self.trailers),
            end,
            missing: std::mem::take(&mut self.missing),
            end_lost,
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
        self.sent = self.sent.saturating_add(n as u64);
        self.pos += n;
    }

    /// The next event, or `None` when more bytes are needed.
    pub fn poll(&mut self) -> Option<Event> {
        if let Some(event) = self.ended_by_gap.take() {
            return Some(event);
        }
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
                    return Some(self.body_done(false));
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
                Err(Some(self.body_done(false)))
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
            .unwrap_or_else(no_origin);
        self.body.clear();
        self.clear_body_flags();
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

#[cfg(test)]
mod tests {
    use super::*;
    use Role::{Request as C, Response as S};

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
