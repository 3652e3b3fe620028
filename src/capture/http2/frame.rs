//! HTTP/2 framing for one direction (RFC 9113 §4): the client connection preface, the 9-byte
//! frame header, and payloads with padding and priority fields removed.
//!
//! The parser is incremental: bytes arrive in stream order in pieces of any size, and "need
//! more bytes" is its resting state. DATA payloads are passed on as they arrive, without being
//! buffered, so a large download costs no memory here. Other frames are collected whole, up to
//! a per-type limit ([`keep_limit`]); what lies past it is skipped and the frame is reported
//! as cut. After a gap the frame boundaries are still known when the gap ends inside the
//! payload of the current frame (its length says where the next header starts): the frame is
//! reported lost or its DATA damaged and parsing goes on. After a gap that reaches a frame
//! header, the next frame is looked for in the bytes that follow (see [`FrameParser::gap`]
//! and [`super::resync`]).

use super::resync::{Found, Resync};
use crate::capture::tcp_reassembly::Origin;

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Length of a frame header (RFC 9113 §4.1).
pub const HEADER_LEN: usize = 9;

/// Largest frame payload accepted: 2^24-1, the most the 24-bit length field can say, and the
/// upper bound of SETTINGS_MAX_FRAME_SIZE (RFC 9113 §6.5.2). A passive reader never knows
/// whether the receiver raised its limit, so it takes every length the field can carry.
pub const MAX_FRAME_BYTES: usize = (1 << 24) - 1;

/// Largest header-block fragment (HEADERS, PUSH_PROMISE, CONTINUATION payload) kept; a larger
/// frame is skipped and its block counted as lost to a limit.
pub const MAX_HEADER_FRAGMENT_BYTES: usize = 256 << 10;

/// SETTINGS payload kept: 64 parameters of 6 bytes, far more than the 6 RFC 9113 defines.
pub const MAX_SETTINGS_BYTES: usize = 64 * 6;

/// Frame types of RFC 9113 §6.
pub mod kind {
    /// DATA (§6.1).
    pub const DATA: u8 = 0x0;
    /// HEADERS (§6.2).
    pub const HEADERS: u8 = 0x1;
    /// PRIORITY (§6.3).
    pub const PRIORITY: u8 = 0x2;
    /// RST_STREAM (§6.4).
    pub const RST_STREAM: u8 = 0x3;
    /// SETTINGS (§6.5).
    pub const SETTINGS: u8 = 0x4;
    /// PUSH_PROMISE (§6.6).
    pub const PUSH_PROMISE: u8 = 0x5;
    /// PING (§6.7).
    pub const PING: u8 = 0x6;
    /// GOAWAY (§6.8).
    pub const GOAWAY: u8 = 0x7;
    /// WINDOW_UPDATE (§6.9).
    pub const WINDOW_UPDATE: u8 = 0x8;
    /// CONTINUATION (§6.10).
    pub const CONTINUATION: u8 = 0x9;
}

/// Frame flags of RFC 9113 §6.
pub mod flag {
    /// END_STREAM on DATA and HEADERS; ACK on SETTINGS and PING.
    pub const END_STREAM: u8 = 0x1;
    /// END_HEADERS on HEADERS, PUSH_PROMISE and CONTINUATION.
    pub const END_HEADERS: u8 = 0x4;
    /// PADDED on DATA, HEADERS and PUSH_PROMISE.
    pub const PADDED: u8 = 0x8;
    /// PRIORITY on HEADERS: 5 bytes of stream dependency and weight precede the block.
    pub const PRIORITY: u8 = 0x20;
}

/// Largest frame a plausibility check accepts: the initial SETTINGS_MAX_FRAME_SIZE (RFC 9113
/// §6.5.2). A peer may have raised it, but guessing at frame boundaries is only done where
/// a false positive would cost more than a missed connection.
pub const PLAUSIBLE_FRAME_BYTES: usize = 1 << 14;

/// SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2).
pub const SETTINGS_HEADER_TABLE_SIZE: u16 = 0x1;

/// A frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Payload length.
    pub len: usize,
    /// Frame type.
    pub kind: u8,
    /// Flags.
    pub flags: u8,
    /// Stream identifier, reserved bit cleared.
    pub stream: u32,
}

impl Head {
    /// Whether this could be a frame a peer sent: a type of RFC 9113 §6 with only its defined
    /// flags, the stream id its type requires (zero or not), and a length within the initial
    /// maximum.
    pub fn plausible(&self) -> bool {
        let (flags, on_stream) = match self.kind {
            kind::DATA => (flag::END_STREAM | flag::PADDED, Some(true)),
            kind::HEADERS => (
                flag::END_STREAM | flag::END_HEADERS | flag::PADDED | flag::PRIORITY,
                Some(true),
            ),
            kind::PRIORITY | kind::RST_STREAM => (0, Some(true)),
            kind::SETTINGS | kind::PING => (flag::END_STREAM, Some(false)),
            kind::PUSH_PROMISE => (flag::END_HEADERS | flag::PADDED, Some(true)),
            kind::GOAWAY => (0, Some(false)),
            kind::WINDOW_UPDATE => (0, None),
            kind::CONTINUATION => (flag::END_HEADERS, Some(true)),
            _ => return false,
        };
        self.flags & !flags == 0
            && on_stream.is_none_or(|s| s == (self.stream != 0))
            && self.len <= PLAUSIBLE_FRAME_BYTES
    }

    /// [`Head::plausible`], of the length RFC 9113 §6 fixes for its type, and not empty where
    /// a sender has no reason to send it empty (DATA without END_STREAM, a header block
    /// fragment): the test for where frames start again after a gap ([`super::resync`]).
    /// Zeros in a body would otherwise read as empty DATA frames.
    pub fn resumable(&self) -> bool {
        self.plausible()
            && match self.kind {
                kind::DATA => self.len > 0 || self.has(flag::END_STREAM),
                kind::HEADERS | kind::PUSH_PROMISE | kind::CONTINUATION => self.len > 0,
                kind::PRIORITY => self.len == 5,
                kind::RST_STREAM | kind::WINDOW_UPDATE => self.len == 4,
                kind::SETTINGS if self.has(flag::END_STREAM) => self.len == 0,
                kind::SETTINGS => self.len % 6 == 0,
                kind::PING => self.len == 8,
                kind::GOAWAY => self.len >= 8,
                _ => true,
            }
    }

    /// Parses the 9 bytes of a frame header.
    pub fn parse(b: &[u8; HEADER_LEN]) -> Self {
        Self {
            len: usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]),
            kind: b[3],
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }

    /// Whether `f` is set.
    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }
}

/// What the parser found, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// The client connection preface.
    Preface,
    /// A whole frame other than DATA. For HEADERS and PUSH_PROMISE the payload is the part
    /// after padding length, priority fields and promised stream id: `promised` holds the
    /// latter. `cut` says bytes past [`keep_limit`] were skipped.
    Frame {
        /// The header.
        head: Head,
        /// The payload kept, fields described above removed.
        payload: &'a [u8],
        /// The promised stream of a PUSH_PROMISE.
        promised: Option<u32>,
        /// Bytes past the keep limit were skipped.
        cut: bool,
        /// The packet holding the header's first byte.
        start: Origin,
        /// The packet holding the last byte.
        end: Origin,
    },
    /// Content bytes of a DATA frame (padding excluded).
    Data {
        /// The stream.
        stream: u32,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// Content bytes of a DATA frame lost in a gap; the frame's framing (its length and
    /// padding) is known, so the stream goes on with a hole in its body.
    DataLost {
        /// The stream.
        stream: u32,
        /// How many content bytes.
        bytes: u64,
    },
    /// The content of a DATA frame from here to its end was lost in a gap that took its pad
    /// length byte: how much of the rest is content is unknown, but where the frame ends is
    /// known, so parsing goes on at the next frame and the stream with its body cut here.
    DataRestLost {
        /// The stream.
        stream: u32,
    },
    /// A DATA frame ended.
    DataEnd {
        /// The header.
        head: Head,
        /// The packet holding the last byte.
        end: Origin,
    },
    /// Bytes of a frame were in a gap that ended inside it: the frame is gone (for DATA, the
    /// stream's content is damaged), the next one is parsed where the length says.
    Lost(Head),
    /// A frame whose padding or fields do not fit its length; skipped.
    Malformed(Head, &'static str),
    /// The first bytes are not the client preface: the direction is not HTTP/2.
    NotHttp2,
    /// A direction joined mid-stream does not begin with a plausible frame header: where
    /// its frames start is unknown, and it stopped.
    Unsynced,
    /// After a gap that took a frame header, frames start again `skipped` bytes after it.
    Resynced {
        /// Bytes between the gap and the first frame found.
        skipped: u64,
        /// The packet holding the first frame found.
        at: Origin,
    },
    /// The direction ended before frames were found again after such a gap.
    ResyncFailed {
        /// Bytes after the gap, none of them read.
        skipped: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Matching the client preface; the count matched so far.
    Preface(usize),
    /// Collecting a frame header.
    Header,
    /// Collecting a non-DATA payload: bytes still to come, and how many of them to keep.
    Payload { left: usize, keep: usize },
    /// DATA: waiting for the pad length byte.
    PadLength { left: usize },
    /// DATA: content bytes left, then padding bytes.
    Data { data: usize, pad: usize },
    /// A gap took a frame header: looking for where frames start again.
    Resync,
    /// Framing lost or not HTTP/2: every later byte is ignored.
    Stopped,
}

/// An incremental frame parser for one direction.
#[derive(Debug)]
pub struct FrameParser {
    state: State,
    head: [u8; HEADER_LEN],
    head_len: usize,
    current: Option<Head>,
    payload: Vec<u8>,
    start: Option<Origin>,
    /// A gap hit the current frame: report it lost at its end.
    damaged: bool,
    /// The next frame header is a guess (a direction joined mid-stream): check it.
    guessing: bool,
    /// The bytes after a gap that took a frame header, in [`State::Resync`].
    resync: Option<Box<Resync>>,
}

/// How much of a payload of `kind` is kept; the rest is skipped.
pub fn keep_limit(kind: u8) -> usize {
    match kind {
        kind::HEADERS | kind::PUSH_PROMISE | kind::CONTINUATION => MAX_HEADER_FRAGMENT_BYTES,
        kind::SETTINGS => MAX_SETTINGS_BYTES,
        // Last-Stream-ID and error code; the debug data is not needed.
        kind::GOAWAY => 8,
        kind::RST_STREAM => 4,
        // PRIORITY, PING, WINDOW_UPDATE and unknown types (ignored, RFC 9113 §4.1, §5.5).
        _ => 0,
    }
}

impl FrameParser {
    /// A parser at the start of a direction: the client's starts with the preface.
    pub fn new(expect_preface: bool) -> Self {
        Self {
            state: if expect_preface {
                State::Preface(0)
            } else {
                State::Header
            },
            head: [0; HEADER_LEN],
            head_len: 0,
            current: None,
            payload: Vec::new(),
            start: None,
            damaged: false,
            guessing: false,
            resync: None,
        }
    }

    /// A parser for a direction joined mid-stream, taking its first byte for a frame header
    /// only if it reads as a plausible one ([`Head::plausible`]).
    pub fn guessing() -> Self {
        Self {
            guessing: true,
            ..Self::new(false)
        }
    }

    /// Whether the direction stopped (framing lost, or not HTTP/2).
    pub fn stopped(&self) -> bool {
        self.state == State::Stopped
    }

    /// Stops for good.
    pub fn stop(&mut self) {
        self.state = State::Stopped;
        self.payload = Vec::new();
        self.current = None;
        self.start = None;
        self.resync = None;
    }

    /// The direction ended: one still looking for its frames after a gap takes what
    /// [`Resync::end`] finds, or reports [`Event::ResyncFailed`] and stops.
    pub fn end_resync(&mut self, out: &mut impl FnMut(Event<'_>)) {
        if let Some(mut r) = self.resync.take() {
            match r.end() {
                Some(found) => self.resume(found, out),
                None => {
                    self.stop();
                    out(Event::ResyncFailed {
                        skipped: r.skipped(),
                    });
                }
            }
        }
    }

    fn resume(&mut self, found: Found, out: &mut impl FnMut(Event<'_>)) {
        self.resync = None;
        self.state = State::Header;
        self.head_len = 0;
        if let Some(&(_, at)) = found.pieces.first() {
            out(Event::Resynced {
                skipped: found.skipped,
                at,
            });
        }
        for (bytes, origin) in found.pieces {
            self.push(&bytes, origin, out);
        }
    }

    /// The packet where the frame in progress began, if one is.
    pub fn pending_since(&self) -> Option<Origin> {
        match self.state {
            State::Header if self.head_len == 0 => None,
            State::Stopped | State::Resync => None,
            _ => self.start,
        }
    }

    /// Whether a frame (or the preface) is partly read.
    pub fn in_frame(&self) -> bool {
        match self.state {
            State::Preface(n) => n > 0,
            State::Header => self.head_len > 0,
            State::Stopped | State::Resync => false,
            _ => true,
        }
    }

    /// Parses `data`, reporting what it completes to `out`.
    pub fn push(&mut self, mut data: &[u8], origin: Origin, out: &mut impl FnMut(Event<'_>)) {
        while !data.is_empty() {
            match self.state {
                State::Stopped => return,
                State::Resync => {
                    let found = self.resync.as_mut().and_then(|r| r.push(data, origin));
                    if let Some(found) = found {
                        self.resume(found, out);
                    }
                    return;
                }
                State::Preface(n) => {
                    let take = (PREFACE.len() - n).min(data.len());
                    if data[..take] != PREFACE[n..n + take] {
                        self.stop();
                        out(Event::NotHttp2);
                        return;
                    }
                    data = &data[take..];
                    if n + take == PREFACE.len() {
                        self.state = State::Header;
                        out(Event::Preface);
                    } else {
                        self.state = State::Preface(n + take);
                    }
                }
                State::Header => {
                    if self.head_len == 0 {
                        self.start = Some(origin);
                    }
                    let take = (HEADER_LEN - self.head_len).min(data.len());
                    self.head[self.head_len..self.head_len + take].copy_from_slice(&data[..take]);
                    self.head_len += take;
                    data = &data[take..];
                    if self.head_len == HEADER_LEN {
                        self.head_len = 0;
                        self.begin(Head::parse(&self.head), origin, out);
                    }
                }
                State::Payload { left, keep } => {
                    let take = left.min(data.len());
                    let room = keep.saturating_sub(self.payload.len()).min(take);
                    self.payload.extend_from_slice(&data[..room]);
                    data = &data[take..];
                    self.state = State::Payload {
                        left: left - take,
                        keep,
                    };
                    if left == take {
                        self.end_payload(origin, out);
                    }
                }
                State::PadLength { left } => {
                    let pad = usize::from(data[0]);
                    data = &data[1..];
                    let left = left - 1;
                    match left.checked_sub(pad) {
                        Some(n) => self.state = State::Data { data: n, pad },
                        None => {
                            // RFC 9113 §6.1: padding longer than the payload; skip the frame.
                            if let Some(head) = self.current.take() {
                                out(Event::Malformed(head, "DATA padding longer than the frame"));
                            }
                            self.state = State::Data { data: 0, pad: left };
                        }
                    }
                    self.maybe_end_data(origin, out);
                }
                State::Data { data: n, pad } => {
                    if n > 0 {
                        let take = n.min(data.len());
                        if let (Some(head), false) = (self.current, self.damaged) {
                            out(Event::Data {
                                stream: head.stream,
                                bytes: &data[..take],
                            });
                        }
                        data = &data[take..];
                        self.state = State::Data {
                            data: n - take,
                            pad,
                        };
                    } else {
                        let take = pad.min(data.len());
                        data = &data[take..];
                        self.state = State::Data {
                            data: 0,
                            pad: pad - take,
                        };
                    }
                    self.maybe_end_data(origin, out);
                }
            }
        }
    }

    /// A frame header was read.
    fn begin(&mut self, head: Head, origin: Origin, out: &mut impl FnMut(Event<'_>)) {
        if std::mem::take(&mut self.guessing) && !head.plausible() {
            self.stop();
            out(Event::Unsynced);
            return;
        }
        self.current = Some(head);
        self.damaged = false;
        self.payload.clear();
        if head.kind == kind::DATA {
            self.state = if head.has(flag::PADDED) {
                if head.len == 0 {
                    out(Event::Malformed(
                        head,
                        "padded DATA frame without pad length",
                    ));
                    self.current = None;
                    State::Data { data: 0, pad: 0 }
                } else {
                    State::PadLength { left: head.len }
                }
            } else {
                State::Data {
                    data: head.len,
                    pad: 0,
                }
            };
            self.maybe_end_data(origin, out);
        } else {
            self.state = State::Payload {
                left: head.len,
                keep: keep_limit(head.kind),
            };
            if head.len == 0 {
                self.end_payload(origin, out);
            }
        }
    }

    fn maybe_end_data(&mut self, origin: Origin, out: &mut impl FnMut(Event<'_>)) {
        if self.state != (State::Data { data: 0, pad: 0 }) {
            return;
        }
        self.state = State::Header;
        let Some(head) = self.current.take() else {
            return;
        };
        if std::mem::take(&mut self.damaged) {
            out(Event::Lost(head));
        } else {
            out(Event::DataEnd { head, end: origin });
        }
    }

    fn end_payload(&mut self, end: Origin, out: &mut impl FnMut(Event<'_>)) {
        self.state = State::Header;
        let Some(head) = self.current.take() else {
            return;
        };
        if std::mem::take(&mut self.damaged) {
            out(Event::Lost(head));
            return;
        }
        let start = self.start.unwrap_or(end);
        let cut = head.len > self.payload.len();
        match strip(head, &self.payload, cut) {
            Ok((payload, promised)) => out(Event::Frame {
                head,
                payload,
                promised,
                cut,
                start,
                end,
            }),
            Err(why) => out(Event::Malformed(head, why)),
        }
    }

    /// `n` bytes were lost. Returns `false` when the framing is lost with them: the gap did
    /// not end inside the current frame's payload, so where the next frame starts is unknown.
    /// The parser then looks for it in the bytes that follow ([`super::resync`]), and
    /// reports [`Event::Resynced`] when it is found. A gap in the client's preface stops it.
    pub fn gap(&mut self, n: u64, out: &mut impl FnMut(Event<'_>)) -> bool {
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        let left = match self.state {
            State::Payload { left, .. } => left,
            State::PadLength { left } => left,
            State::Data { data, pad } => data + pad,
            State::Stopped => return false,
            State::Resync => {
                // Bytes before a second gap cannot chain with those after it.
                let skipped = self.resync.as_ref().map_or(0, |r| r.skipped());
                self.resync = Some(Box::new(Resync::after(skipped)));
                return false;
            }
            State::Preface(n) if n > 0 => {
                self.stop();
                return false;
            }
            State::Preface(_) | State::Header => 0,
        };
        if n > left || self.current.is_none() {
            self.stop();
            self.state = State::Resync;
            self.resync = Some(Box::default());
            return false;
        }
        // Inside DATA content whose padding is known, the hole is only in the body; over its
        // pad length, the body is cut there.
        match (self.state, self.current) {
            (State::Data { data, .. }, Some(head)) if data > 0 => out(Event::DataLost {
                stream: head.stream,
                bytes: n.min(data) as u64,
            }),
            (State::Data { .. }, _) => {}
            (State::PadLength { .. }, Some(head)) => out(Event::DataRestLost {
                stream: head.stream,
            }),
            _ => self.damaged = true,
        }
        self.state = match self.state {
            State::Payload { left, keep } => State::Payload {
                left: left - n,
                keep,
            },
            // The pad length byte itself was lost: how much is padding is unknown, but the
            // frame's end is known. Everything left is skipped, and the frame ends as usual.
            State::PadLength { left } => State::Data {
                data: 0,
                pad: left - n,
            },
            State::Data { data, pad } if n <= data => State::Data {
                data: data - n,
                pad,
            },
            State::Data { data, pad } => State::Data {
                data: 0,
                pad: pad - (n - data),
            },
            other => other,
        };
        let origin = self.start.unwrap_or(Origin {
            ts: crate::model::Timestamp::from_unix(0, 0),
            packet: 0,
        });
        match self.state {
            State::Payload { left: 0, .. } => self.end_payload(origin, out),
            State::Data { .. } => self.maybe_end_data(origin, out),
            _ => {}
        }
        true
    }
}

/// Whether `data` is one or more whole, plausible frames and nothing else: the test for a
/// client stream joined after its preface. A TCP segment of an HTTP/2 sender usually ends at
/// a frame boundary; HTTP/1.x text never parses this way (its first byte would be a 24-bit
/// length of at least 4 MiB).
pub fn plausible_frames(data: &[u8]) -> bool {
    let mut rest = data;
    while !rest.is_empty() {
        let Some(h) = rest.get(..HEADER_LEN) else {
            return false;
        };
        let mut b = [0; HEADER_LEN];
        b.copy_from_slice(h);
        let head = Head::parse(&b);
        if !head.plausible() {
            return false;
        }
        let Some(next) = rest.get(HEADER_LEN + head.len..) else {
            return false;
        };
        rest = next;
    }
    !data.is_empty()
}

/// Removes padding, priority fields and the promised stream id (RFC 9113 §6.2, §6.6).
fn strip(head: Head, payload: &[u8], cut: bool) -> Result<(&[u8], Option<u32>), &'static str> {
    let mut p = payload;
    let mut pad = 0;
    let padded = matches!(head.kind, kind::HEADERS | kind::PUSH_PROMISE) && head.has(flag::PADDED);
    if padded {
        let (&n, rest) = p.split_first().ok_or("padded frame without pad length")?;
        pad = usize::from(n);
        p = rest;
    }
    let mut promised = None;
    match head.kind {
        kind::HEADERS if head.has(flag::PRIORITY) => {
            p = p
                .get(5..)
                .ok_or("HEADERS too short for its priority fields")?;
        }
        kind::PUSH_PROMISE => {
            let id = p
                .get(..4)
                .ok_or("PUSH_PROMISE too short for its stream id")?;
            promised = Some(u32::from_be_bytes([id[0], id[1], id[2], id[3]]) & 0x7fff_ffff);
            p = &p[4..];
        }
        _ => {}
    }
    if padded && !cut {
        // RFC 9113 §6.2: padding that exceeds the rest is a protocol error.
        let keep = p
            .len()
            .checked_sub(pad)
            .ok_or("padding longer than the frame")?;
        p = &p[..keep];
    }
    Ok((p, promised))
}

/// The SETTINGS_HEADER_TABLE_SIZE value of a SETTINGS payload, the last if repeated
/// (RFC 9113 §6.5: parameters are processed in order).
pub fn header_table_size(settings: &[u8]) -> Option<u32> {
    settings
        .chunks_exact(6)
        .filter(|p| u16::from_be_bytes([p[0], p[1]]) == SETTINGS_HEADER_TABLE_SIZE)
        .map(|p| u32::from_be_bytes([p[2], p[3], p[4], p[5]]))
        .next_back()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::Timestamp;

    pub(crate) fn origin(packet: u64) -> Origin {
        Origin {
            ts: Timestamp::from_unix(packet as i64, 0),
            packet,
        }
    }

    /// A frame: header for `payload` plus the payload.
    pub(crate) fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut f = len.to_be_bytes()[1..].to_vec();
        f.extend([kind, flags]);
        f.extend(stream.to_be_bytes());
        f.extend(payload);
        f
    }

    /// One line per event, adjacent DATA pieces of a stream joined.
    fn record(got: &mut Vec<String>, e: Event<'_>) {
        let line = match e {
            Event::Preface => "preface".to_string(),
            Event::Frame {
                head,
                payload,
                promised,
                cut,
                ..
            } => format!(
                "{}:{} {:?}{}{}",
                head.kind,
                head.stream,
                String::from_utf8_lossy(payload),
                promised
                    .map(|p| format!(" promised {p}"))
                    .unwrap_or_default(),
                if cut { " cut" } else { "" }
            ),
            Event::Data { stream, bytes } => {
                format!("data:{stream} {:?}", String::from_utf8_lossy(bytes))
            }
            Event::DataEnd { head, .. } => format!("end:{} flags {}", head.stream, head.flags),
            Event::DataLost { stream, bytes } => format!("data lost:{stream} {bytes}"),
            Event::DataRestLost { stream } => format!("data rest lost:{stream}"),
            Event::Lost(head) => format!("lost {}:{}", head.kind, head.stream),
            Event::Malformed(head, why) => format!("malformed {}: {why}", head.kind),
            Event::NotHttp2 => "not http/2".to_string(),
            Event::Unsynced => "unsynced".to_string(),
            Event::Resynced { skipped, .. } => format!("resynced after {skipped}"),
            Event::ResyncFailed { skipped } => format!("not resynced in {skipped}"),
        };
        // Adjacent DATA pieces are joined, so every split reads the same.
        if let (Some(last), Some(rest)) = (got.last_mut(), line.strip_prefix("data:")) {
            if let Some(prev) = last.strip_prefix("data:") {
                let (ps, pv) = prev.split_once(' ').expect("data line");
                let (s, v) = rest.split_once(' ').expect("data line");
                if ps == s {
                    let joined = format!(
                        "data:{s} \"{}{}\"",
                        &pv[1..pv.len() - 1],
                        &v[1..v.len() - 1]
                    );
                    *last = joined;
                    return;
                }
            }
        }
        got.push(line);
    }

    /// Parses `bytes` cut into pieces of `size`; one line per event.
    fn events_in(bytes: &[u8], size: usize, preface: bool) -> Vec<String> {
        let mut p = FrameParser::new(preface);
        let mut got: Vec<String> = Vec::new();
        let mut out = |e: Event<'_>| record(&mut got, e);
        for (i, piece) in bytes.chunks(size.max(1)).enumerate() {
            p.push(piece, origin(i as u64 + 1), &mut out);
        }
        got
    }

    macro_rules! frames {
        ($bytes:expr => [$($want:expr),*]) => {{
            let bytes: Vec<u8> = $bytes;
            let whole = events_in(&bytes, bytes.len(), false);
            assert_eq!(whole, vec![$($want.to_string()),*] as Vec<String>);
            for size in 1..bytes.len() {
                assert_eq!(events_in(&bytes, size, false), whole, "pieces of {size}");
            }
        }};
    }

    #[test]
    fn plain_frames_and_data() {
        frames!([frame(kind::HEADERS, flag::END_HEADERS, 1, b"hb"), frame(kind::DATA, 1, 1, b"body")].concat()
            => ["1:1 \"hb\"", "data:1 \"body\"", "end:1 flags 1"]);
        frames!(frame(kind::DATA, 0, 3, b"") => ["end:3 flags 0"]);
    }

    #[test]
    fn padding_and_priority_are_removed() {
        frames!(frame(kind::DATA, flag::PADDED, 1, b"\x03abc\0\0\0") => ["data:1 \"abc\"", "end:1 flags 8"]);
        frames!(frame(kind::HEADERS, flag::PADDED | flag::PRIORITY, 1, b"\x02\0\0\0\x03\x10hb\0\0")
            => ["1:1 \"hb\""]);
        frames!(frame(kind::PUSH_PROMISE, flag::PADDED, 1, b"\x01\0\0\0\x02pp\0")
            => ["5:1 \"pp\" promised 2"]);
        frames!(frame(kind::HEADERS, flag::PADDED, 1, b"\x09hb") => ["malformed 1: padding longer than the frame"]);
        frames!([frame(kind::DATA, flag::PADDED, 1, b"\x09ab"), frame(kind::PING, 0, 0, b"12345678")].concat()
            => ["malformed 0: DATA padding longer than the frame", "6:0 \"\" cut"]);
    }

    #[test]
    fn unknown_types_and_long_payloads_are_skipped() {
        frames!([frame(0xfa, 0, 1, b"whatever"), frame(kind::RST_STREAM, 0, 1, b"\0\0\0\x08")].concat()
            => ["250:1 \"\" cut", "3:1 \"\\0\\0\\0\\u{8}\""]);
        frames!(frame(kind::GOAWAY, 0, 0, b"\0\0\0\x05\0\0\0\0debug") => ["7:0 \"\\0\\0\\0\\u{5}\\0\\0\\0\\0\" cut"]);
    }

    #[test]
    fn preface_is_required_when_expected() {
        let mut bytes = PREFACE.to_vec();
        bytes.extend(frame(kind::SETTINGS, 0, 0, b""));
        for size in 1..bytes.len() {
            assert_eq!(events_in(&bytes, size, true), ["preface", "4:0 \"\""]);
        }
        assert_eq!(events_in(b"GET / HTTP/1.1\r\n", 4, true), ["not http/2"]);
    }

    #[test]
    fn gaps_inside_a_payload_keep_the_framing() {
        let mut p = FrameParser::new(false);
        let mut got = Vec::new();
        let mut out =
            |e: Event<'_>| got.push(format!("{e:?}").chars().take(12).collect::<String>());
        let data = frame(kind::DATA, 0, 1, b"0123456789");
        p.push(&data[..12], origin(1), &mut out);
        assert!(p.gap(4, &mut out));
        p.push(&data[16..], origin(2), &mut out);
        p.push(&frame(kind::PING, 0, 0, b""), origin(3), &mut out);
        assert!(
            !p.gap(3, &mut out),
            "a gap at a frame boundary loses the framing"
        );
        assert!(!p.stopped(), "it looks for the next frame");
        assert_eq!(
            got,
            [
                "Data { strea",
                "DataLost { s",
                "Data { strea",
                "DataEnd { he",
                "Frame { head"
            ]
        );
    }

    /// Issue 16: after a gap that took a frame header, the bytes up to the first run of frame
    /// headers are skipped and the frames from there on are read as if nothing happened, in
    /// pieces of any size; a direction that ends without such a run says so.
    #[test]
    fn after_a_gap_over_a_frame_header_the_frames_are_found_again() {
        let after = [
            frame(kind::DATA, 0, 3, b"end of a body"),
            frame(kind::HEADERS, flag::END_HEADERS, 5, b"h"),
            frame(kind::DATA, flag::END_STREAM, 5, b"five"),
            frame(kind::PING, 0, 0, b"12345678"),
        ]
        .concat();
        let tail = &after[4..];
        for size in 1..tail.len() {
            let mut p = FrameParser::new(false);
            let mut got = Vec::new();
            let mut out = |e: Event<'_>| record(&mut got, e);
            p.push(&frame(kind::DATA, 0, 1, b"01")[..10], origin(1), &mut out);
            assert!(!p.gap(30, &mut out));
            for piece in tail.chunks(size) {
                p.push(piece, origin(2), &mut out);
            }
            p.end_resync(&mut out);
            assert_eq!(
                got,
                [
                    "data:1 \"0\"",
                    "resynced after 18",
                    "1:5 \"h\"",
                    "data:5 \"five\"",
                    "end:5 flags 1",
                    "6:0 \"\" cut",
                ],
                "pieces of {size}"
            );
        }
        let mut p = FrameParser::new(false);
        let mut got = Vec::new();
        let mut out = |e: Event<'_>| record(&mut got, e);
        assert!(!p.gap(30, &mut out));
        // The HEADERS frame whole and the next cut: no run of frames.
        p.push(&tail[..30], origin(2), &mut out);
        p.end_resync(&mut out);
        assert_eq!(got, ["not resynced in 30"]);
        assert!(p.stopped());
    }

    /// Issue 16: a gap over a padded DATA frame's pad length byte: how much of the rest is
    /// content is unknown, but the frame's end is, so the next frame is read, and the frame
    /// still ends (with its END_STREAM) instead of being lost.
    #[test]
    fn a_gap_over_the_pad_length_cuts_the_body_and_keeps_the_framing() {
        let mut p = FrameParser::new(false);
        let mut got = Vec::new();
        let mut out = |e: Event<'_>| {
            got.push(match e {
                Event::DataRestLost { stream } => format!("rest lost:{stream}"),
                Event::DataEnd { head, .. } => format!("end:{} flags {}", head.stream, head.flags),
                Event::Frame { head, .. } => format!("frame {}", head.kind),
                other => format!("{other:?}"),
            })
        };
        let padded = [&[3u8][..], b"abcdef", &[0, 0, 0]].concat();
        let data = frame(kind::DATA, flag::PADDED | flag::END_STREAM, 1, &padded);
        p.push(&data[..9], origin(1), &mut out);
        assert!(p.gap(4, &mut out));
        p.push(&data[13..], origin(2), &mut out);
        p.push(&frame(kind::PING, 0, 0, b"12345678"), origin(3), &mut out);
        assert_eq!(got, ["rest lost:1", "end:1 flags 9", "frame 6"]);
    }

    #[test]
    fn joined_mid_stream_only_plausible_frames_are_taken() {
        let get = frame(
            kind::HEADERS,
            flag::END_HEADERS | flag::END_STREAM,
            3,
            b"\x82\x84",
        );
        assert!(plausible_frames(
            &[get.clone(), frame(kind::WINDOW_UPDATE, 0, 0, b"\0\0\0\x01")].concat()
        ));
        assert!(!plausible_frames(&get[..10]), "a frame cut off");
        assert!(!plausible_frames(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(
            !plausible_frames(&frame(kind::SETTINGS, 0, 1, b"")),
            "SETTINGS on a stream"
        );
        assert!(
            !plausible_frames(&frame(kind::DATA, 0x40, 1, b"")),
            "undefined flag"
        );
        assert!(!plausible_frames(&frame(0x0c, 0, 1, b"")), "unknown type");
        let mut p = FrameParser::guessing();
        let mut got = Vec::new();
        p.push(b"\x17\x03\x03\x00\x20....", origin(1), &mut |e| {
            got.push(format!("{e:?}"))
        });
        assert_eq!(got, ["Unsynced"]);
        assert!(p.stopped());
    }

    #[test]
    fn settings_header_table_size() {
        assert_eq!(
            header_table_size(b"\0\x03\0\0\0\x64\0\x01\0\0\x10\0"),
            Some(4096)
        );
        assert_eq!(header_table_size(b"\0\x03\0\0\0\x64"), None);
    }
}
