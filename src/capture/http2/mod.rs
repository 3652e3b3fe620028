//! HTTP/2 over one reassembled TCP connection (RFC 9113), with HPACK header compression
//! (RFC 7541): each stream becomes one exchange.
//!
//! Fifth step of the capture pipeline, beside [`super::http1`]; [`super::session`] picks it
//! when the client's first bytes are the connection preface (prior knowledge, "h2c"), when TLS
//! negotiated `h2` by ALPN, or when an HTTP/1.1 `Upgrade: h2c` request gets its `101`. Each
//! direction has a [`frame::FrameParser`] and an [`hpack::HeaderDecoder`]; frames go to
//! [`stream::Stream`]s, which are written out as they close (both END_STREAMs, or RST_STREAM)
//! and at the end of the connection, in stream-creation order for equal request times.
//!
//! Decisions, for a reader of captures:
//!
//! - **Detection.** Cleartext HTTP/2 is recognised by the preface (or the h2c upgrade). A
//!   connection whose SYN was not captured is also taken for HTTP/2 when the client's first
//!   segment is made of whole, plausible frames ([`frame::plausible_frames`]); one whose
//!   first captured segment is the server's, or splits a frame, is left to HTTP/1.x, which
//!   calls it non-HTTP.
//! - **Header blocks.** A block is decoded only when every dynamic-table entry it refers to
//!   was seen inserted; otherwise its stream is dropped and counted ([`Note::HpackLost`]),
//!   and the decoder starts over when the block inserted entries. Headers are never made up:
//!   see [`hpack`] for the rule and why it holds.
//! - **Gaps.** A gap that ends inside a frame's payload keeps the framing (the length says
//!   where the next frame starts): DATA content lost is marked missing in its stream's body
//!   (from the gap to the frame's end when the pad length byte was lost), a header block is
//!   lost and its direction's HPACK state with it. A gap that reaches a frame header loses
//!   the framing, and how much of every body under way in that direction it held: such a
//!   body keeps its later content only if `content-length` places its end (see
//!   [`stream::Message::end`]), and is otherwise cut at the gap. The HPACK state is given up
//!   too, and the frames are looked for in the bytes after the gap ([`resync`]: three frame
//!   headers in a row, each where the one before ends) and read on from there
//!   ([`Note::Http2Resynced`]). A stream whose response head
//!   was in the gap, like every stream still waiting for one when a direction's frames are
//!   never found ([`Note::Http2FramingLost`]), is kept without a response.
//! - **Server push.** A PUSH_PROMISE becomes an exchange: its header block is the request
//!   (stamped with the PUSH_PROMISE's packet), the promised stream's HEADERS and DATA the
//!   response. The client never sent that request, so each push is also counted
//!   ([`Note::Http2PushPromise`]).
//! - **Resets and GOAWAY.** A server's RST_STREAM closes its stream; a client's ends the
//!   request, and a response the server still completes is kept. A stream reset before its
//!   response was complete has none ([`Note::Http2Reset`]). Streams above a server GOAWAY's last
//!   stream id were not processed and end without response; a GOAWAY with an error code is
//!   noted ([`Note::Http2GoAway`]).
//! - **CONNECT.** A 2xx to CONNECT makes a tunnel: the exchange is written at its response
//!   head, and the tunnelled DATA is not kept ([`Note::Upgrade`]).
//!
//! Not handled: flow control and priorities are ignored (a passive reader needs neither);
//! SETTINGS_MAX_HEADER_LIST_SIZE and the other settings are not checked, only
//! SETTINGS_HEADER_TABLE_SIZE is used.

mod emit;
pub mod frame;
pub mod hpack;
pub mod huffman;
pub mod resync;
pub mod stream;

use super::connection::missing;
pub use super::connection::{FlowInfo, HttpOptions, Ready, Role};
use super::tcp_reassembly::{Chunk, Origin};
use super::{Http2Stats, Note, Notes};
use crate::model::{Request, Timestamp};
use frame::{Event, FrameParser, Head, flag, kind};
use hpack::HeaderDecoder;
use std::collections::BTreeMap;
use stream::{Dropped, Stream};

/// Largest header block (all fragments of one HEADERS or PUSH_PROMISE with its CONTINUATION
/// frames) buffered for decoding; a larger one is lost to the limit, and its direction's
/// HPACK state with it.
pub const MAX_HEADER_BLOCK_BYTES: usize = frame::MAX_HEADER_FRAGMENT_BYTES;

/// Largest decoded header list kept per message, counted as RFC 9113 §6.5.2 does (32 bytes
/// per field plus name and value); past it the stream is dropped with a note. The same 64
/// KiB as an HTTP/1.x head ([`super::http1::MAX_HEAD_BYTES`]), plus the per-field overhead of
/// [`super::http1::MAX_HEADERS`] fields; `--max-head-bytes` and `--max-headers` move it as
/// they move those ([`header_list_limit`]).
pub const MAX_HEADER_LIST_BYTES: usize =
    super::http1::MAX_HEAD_BYTES + 32 * super::http1::MAX_HEADERS;

/// The decoded header list limit of a run: [`MAX_HEADER_LIST_BYTES`] under the run's head
/// limits.
pub fn header_list_limit(limits: &crate::limits::Limits) -> usize {
    limits
        .head_bytes
        .saturating_add(limits.headers.saturating_mul(32))
}

/// The encoded header block limit of a run: [`MAX_HEADER_BLOCK_BYTES`], or the decoded list
/// limit when that is raised past it (HPACK may encode a field no shorter than it is).
fn header_block_limit(limits: &crate::limits::Limits) -> usize {
    MAX_HEADER_BLOCK_BYTES.max(header_list_limit(limits))
}

/// Streams tracked at once per connection; past it the oldest is written out as it stands.
/// Servers commonly allow 100 to 250 concurrent streams (SETTINGS_MAX_CONCURRENT_STREAMS).
pub const MAX_OPEN_STREAMS: usize = 1024;

/// Where a direction's first frame is known to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// The client's first bytes are the preface.
    Preface,
    /// The first byte starts a frame (the server's, after the client's preface).
    Frame,
    /// Joined mid-stream: the first byte starts a frame if it reads as a plausible header.
    Guess,
}

/// A header block being collected from HEADERS or PUSH_PROMISE and CONTINUATION frames.
#[derive(Debug)]
struct Block {
    stream: u32,
    promised: Option<u32>,
    end_stream: bool,
    bytes: Vec<u8>,
    start: Origin,
    /// Why the block cannot be decoded, when it cannot.
    broken: Option<Broken>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Broken {
    Gap,
    Limit,
    Malformed,
}

/// One direction's parsing state.
#[derive(Debug)]
struct Half {
    frames: FrameParser,
    hpack: HeaderDecoder,
    block: Option<Block>,
    /// A gap took a frame header and the frames are not found again yet.
    lost: Option<LostFraming>,
    /// Frames were found again after such a gap: a response head may have been in it.
    resynced: bool,
}

/// Where a gap took a frame header, for the note that says what came of it.
#[derive(Debug, Clone, Copy)]
struct LostFraming {
    packet: u64,
    gap: u64,
    cut: usize,
}

impl Half {
    fn new(start: Start) -> Self {
        Self {
            frames: match start {
                Start::Preface => FrameParser::new(true),
                Start::Frame => FrameParser::new(false),
                Start::Guess => FrameParser::guessing(),
            },
            hpack: HeaderDecoder::new(),
            block: None,
            lost: None,
            resynced: false,
        }
    }
}

/// The HTTP/1.1 request of an `Upgrade: h2c` connection, which becomes stream 1 (RFC 7540
/// §3.2; the mechanism was dropped by RFC 9113, but clients such as curl still use it).
#[derive(Debug)]
pub struct Upgrade {
    /// The request as HTTP/1.1 parsed it.
    pub request: Request,
    /// The packet that began it.
    pub start: Origin,
    /// Its index among the connection's exchanges.
    pub index: u64,
}

/// One TCP connection's HTTP/2 state.
#[derive(Debug)]
pub struct Connection {
    info: FlowInfo,
    opts: HttpOptions,
    /// Client, then server.
    halves: [Half; 2],
    streams: BTreeMap<u32, Stream>,
    /// Highest stream id the client opened, to tell a new stream from a closed one.
    last_client_stream: u32,
    next_index: u64,
    /// Finished exchanges not yet taken.
    pub ready: Vec<Ready>,
    /// What went wrong, counted.
    pub notes: Notes,
    /// Request header sections seen (pushed requests included).
    pub requests: u64,
    /// Final response header sections seen.
    pub responses: u64,
    /// HTTP/2 counts.
    pub stats: Http2Stats,
    preface: bool,
    not_http2: bool,
    /// The packet of the chunk being parsed: where frames that end now end.
    at: Origin,
}

fn side(role: Role) -> usize {
    match role {
        Role::Request => 0,
        Role::Response => 1,
    }
}

impl Connection {
    /// A connection whose client begins with the preface. `from_start` is accepted for the
    /// same surface as HTTP/1.x; an HTTP/2 connection is only recognised at its start.
    pub fn new(info: FlowInfo, opts: HttpOptions, from_start: bool) -> Self {
        let _ = from_start;
        Self {
            info,
            opts,
            halves: [Half::new(Start::Preface), Half::new(Start::Frame)],
            streams: BTreeMap::new(),
            last_client_stream: 0,
            next_index: 0,
            ready: Vec::new(),
            notes: Notes::default(),
            requests: 0,
            responses: 0,
            stats: Http2Stats {
                connections: 1,
                ..Http2Stats::default()
            },
            preface: false,
            not_http2: false,
            at: Origin {
                ts: Timestamp::from_unix(0, 0),
                packet: 0,
            },
        }
    }

    /// A connection joined after its preface, whose client bytes read as HTTP/2 frames
    /// ([`frame::plausible_frames`]). Both directions take their first byte for a frame header
    /// if it is a plausible one, and the HPACK tables start empty: blocks that refer to entries
    /// inserted before the capture began are lost, never guessed ([`hpack`]).
    pub fn mid_stream(info: FlowInfo, opts: HttpOptions) -> Self {
        let mut c = Self::new(info, opts, false);
        c.halves = [Half::new(Start::Guess), Half::new(Start::Guess)];
        c
    }

    /// A connection that an HTTP/1.1 `Upgrade: h2c` turned into HTTP/2: the request is
    /// stream 1, half closed by the client, whose response comes as HTTP/2 (RFC 7540 §3.2).
    /// Its `HTTP2-Settings` field holds the client's SETTINGS.
    pub fn upgraded(info: FlowInfo, opts: HttpOptions, up: Upgrade) -> Self {
        let mut c = Self::new(info, opts, true);
        if let Some(size) = up
            .request
            .headers
            .first("http2-settings")
            .and_then(decode_settings)
            .as_deref()
            .and_then(frame::header_table_size)
        {
            c.halves[1].hpack.set_allowed(size);
        }
        let mut s = Stream::new(up.index, up.start);
        s.request.head = true;
        s.request.ended = true;
        s.interim.push(101);
        s.upgraded = Some(up.request);
        c.streams.insert(1, s);
        c.last_client_stream = 1;
        c.next_index = up.index + 1;
        c.stats.streams += 1;
        c
    }

    /// Whether the bytes turned out not to be HTTP/2.
    pub fn not_http(&self) -> bool {
        self.not_http2 && self.requests == 0 && self.responses == 0
    }

    /// Whether both directions stopped parsing.
    pub fn stopped(&self) -> bool {
        self.halves.iter().all(|h| h.frames.stopped())
    }

    /// The time of the oldest byte that may still become part of an exchange not yet ready.
    pub fn oldest_pending(&self) -> Option<Timestamp> {
        let streams = self
            .streams
            .values()
            .filter(|s| s.dropped.is_none() && !s.emitted)
            .map(|s| s.start.ts)
            .min();
        let halves = self
            .halves
            .iter()
            .flat_map(|h| [h.frames.pending_since(), h.block.as_ref().map(|b| b.start)])
            .flatten()
            .map(|o| o.ts)
            .min();
        [streams, halves].into_iter().flatten().min()
    }

    /// Bytes skipped while looking for frames: none, HTTP/2 does not resynchronise.
    pub fn skipped(&self) -> u64 {
        0
    }

    /// Takes one chunk of one direction.
    pub fn feed(&mut self, role: Role, chunk: Chunk<'_>) {
        let i = side(role);
        // The parser is taken out so its events can update the rest of the connection.
        let mut frames = std::mem::replace(&mut self.halves[i].frames, FrameParser::new(false));
        match chunk {
            Chunk::Data(data, origin) => {
                self.at = origin;
                frames.push(data, origin, &mut |e| self.on_event(role, e));
            }
            Chunk::Gap(n) => {
                self.info.note_gap(&mut self.notes, role, n);
                if !frames.stopped() && !frames.gap(n, &mut |e| self.on_event(role, e)) {
                    if frames.stopped() {
                        let why = format!("a gap of {} took the connection preface", missing(n));
                        self.framing_lost(role, self.at.packet, &why);
                    } else {
                        self.cut_at_gap(role, n);
                    }
                }
            }
        }
        self.halves[i].frames = frames;
    }

    /// `role`'s direction can be read no further (`why`): a gap took its frame boundaries and
    /// no frames were found after it, a gap took the preface, or its first frame header did
    /// not read as one. Streams that completed were written
    /// already. An open stream whose message in that direction had its head keeps it, the
    /// body cut where the direction stopped and marked as lost in a gap; one still waiting for
    /// its response head is kept without a response, as are later requests (a stream id pairs
    /// them exactly, so nothing is paired wrongly; whether the head was in the gap or after
    /// it is not known).
    fn framing_lost(&mut self, role: Role, packet: u64, why: &str) {
        self.halves[side(role)].block = None;
        let (mut kept, mut unanswered, mut closed) = (0, 0, Vec::new());
        for (&id, s) in &mut self.streams {
            if s.dropped.is_some() || s.emitted {
                continue;
            }
            let m = match role {
                Role::Request => &mut s.request,
                Role::Response => &mut s.response,
            };
            if m.ended {
                continue;
            }
            if m.head {
                m.lose_rest();
                kept += 1;
            } else {
                // Only a response can lack its head here (a stream opens at its request's).
                unanswered += 1;
            }
            m.ended = true;
            if role == Role::Response {
                s.end = Some(self.at);
            }
            if s.closed() {
                closed.push(id);
            }
        }
        let later = match role {
            Role::Request => "later requests are not read",
            Role::Response => "later requests are kept without a response",
        };
        self.notes.record(Note::Http2FramingLost, || {
            format!(
                "{}: {} after packet {packet}: {why}; {kept} open streams kept with their body cut there, {unanswered} without a response; {later}",
                self.info.label,
                role.direction(),
            )
        });
        for id in closed {
            self.close(id);
        }
    }

    /// A gap took a frame header of `role`'s direction, and its frame parser looks for where
    /// frames start again. What the gap may have held is given up at once: an unknown part of
    /// every body under way in that direction ([`stream::Message::lose_rest`]), the header
    /// block being collected, and the HPACK state (a lost block may have inserted entries).
    /// Streams waiting for a head stay open: it may come after the gap.
    fn cut_at_gap(&mut self, role: Role, gap: u64) {
        let i = side(role);
        if let Some(b) = self.halves[i].block.as_mut() {
            b.broken = Some(Broken::Gap);
            b.bytes = Vec::new();
            let stream = b.stream;
            self.complete_block(role, stream);
        }
        self.halves[i].hpack.lost();
        // A lost SETTINGS may have raised the table size, as in `on_broken`.
        self.halves[1 - i].hpack.set_allowed(u32::MAX);
        let mut cut = 0;
        for s in self.streams.values_mut() {
            let m = match role {
                Role::Request => &mut s.request,
                Role::Response => &mut s.response,
            };
            if s.dropped.is_none() && !s.emitted && m.head && !m.ended {
                m.lose_rest();
                cut += 1;
            }
        }
        let packet = self.at.packet;
        let lost = self.halves[i].lost.get_or_insert(LostFraming {
            packet,
            gap,
            cut: 0,
        });
        lost.cut += cut;
    }

    fn on_event(&mut self, role: Role, event: Event<'_>) {
        match event {
            Event::Preface => self.preface = true,
            Event::Unsynced => {
                let why = "its first bytes are not a frame header";
                self.framing_lost(role, self.at.packet, why);
            }
            Event::Resynced { skipped, at } => {
                let h = &mut self.halves[side(role)];
                h.resynced = true;
                if let Some(l) = h.lost.take() {
                    self.notes.record(Note::Http2Resynced, || {
                        format!(
                            "{}: {} after packet {}: a gap of {} took a frame header; frames found again {skipped} bytes after it, in packet {}; {} open streams cut at the gap",
                            self.info.label,
                            role.direction(),
                            l.packet,
                            missing(l.gap),
                            at.packet,
                            l.cut
                        )
                    });
                }
            }
            Event::ResyncFailed { skipped } => {
                let l = self.halves[side(role)].lost.take();
                let (packet, gap) = l.map_or((self.at.packet, 0), |l| (l.packet, l.gap));
                let why = format!(
                    "a gap of {} took a frame header, and no frames were found in the {skipped} bytes after it",
                    missing(gap)
                );
                self.framing_lost(role, packet, &why);
            }
            Event::NotHttp2 => {
                self.not_http2 = true;
                for h in &mut self.halves {
                    h.frames.stop();
                }
            }
            Event::Frame {
                head,
                payload,
                promised,
                cut,
                start,
                end: _,
            } => self.on_frame(role, head, payload, promised, cut, start),
            Event::Data { stream, bytes } => self.on_data(role, stream, bytes),
            Event::DataLost { stream, bytes } => {
                if let Some(s) = self.streams.get_mut(&stream) {
                    match role {
                        Role::Request => s.request.lose_body(bytes),
                        Role::Response => s.response.lose_body(bytes),
                    }
                }
            }
            Event::DataRestLost { stream } => {
                if let Some(s) = self.streams.get_mut(&stream) {
                    match role {
                        Role::Request => s.request.lose_rest(),
                        Role::Response => s.response.lose_rest(),
                    }
                }
            }
            Event::DataEnd { head, end } => {
                if head.has(flag::END_STREAM) {
                    self.end_message(role, head.stream, end);
                }
            }
            Event::Lost(head) => self.on_broken(role, head, Broken::Gap),
            Event::Malformed(head, why) => {
                self.notes.record(Note::UnparseableHead, || {
                    format!(
                        "{}: stream {}: {} frame: {why}",
                        self.info.label,
                        head.stream,
                        role.direction()
                    )
                });
                self.on_broken(role, head, Broken::Malformed);
            }
        }
    }

    /// A frame whose payload is gone (a gap) or unusable (malformed).
    fn on_broken(&mut self, role: Role, head: Head, why: Broken) {
        match head.kind {
            kind::HEADERS | kind::PUSH_PROMISE => {
                self.abandon_block(role);
                let block = Block {
                    stream: head.stream,
                    promised: None,
                    end_stream: head.has(flag::END_STREAM),
                    bytes: Vec::new(),
                    start: self.at,
                    broken: Some(why),
                };
                self.halves[side(role)].block = Some(block);
                if head.has(flag::END_HEADERS) {
                    self.complete_block(role, head.stream);
                }
            }
            kind::CONTINUATION => {
                if let Some(b) = self.halves[side(role)].block.as_mut() {
                    b.broken = Some(why);
                    b.bytes = Vec::new();
                }
                if head.has(flag::END_HEADERS) {
                    self.complete_block(role, head.stream);
                }
            }
            kind::DATA => {
                if let Some(s) = self.streams.get_mut(&head.stream) {
                    if why == Broken::Gap {
                        s.drop_for(Dropped::Gap);
                    } else {
                        s.drop_for(Dropped::Counted);
                    }
                }
                if head.has(flag::END_STREAM) {
                    self.end_message(role, head.stream, self.at);
                }
            }
            // A lost SETTINGS may have raised the table size: allow what the cap allows, so
            // no block is lost for a size update we could not check.
            kind::SETTINGS => self.halves[1 - side(role)].hpack.set_allowed(u32::MAX),
            kind::GOAWAY => self.stats.goaways += 1,
            kind::RST_STREAM => self.stats.resets += 1,
            _ => {}
        }
    }

    fn on_frame(
        &mut self,
        role: Role,
        head: Head,
        payload: &[u8],
        promised: Option<u32>,
        cut: bool,
        start: Origin,
    ) {
        let i = side(role);
        if head.kind != kind::CONTINUATION && self.halves[i].block.is_some() {
            // RFC 9113 §6.10: nothing may come between a block's frames.
            self.abandon_block(role);
        }
        match head.kind {
            kind::HEADERS | kind::PUSH_PROMISE => {
                self.halves[i].block = Some(Block {
                    stream: head.stream,
                    promised,
                    end_stream: head.has(flag::END_STREAM),
                    bytes: payload.to_vec(),
                    start,
                    broken: cut.then_some(Broken::Limit),
                });
                if head.has(flag::END_HEADERS) {
                    self.complete_block(role, head.stream);
                }
            }
            kind::CONTINUATION => {
                let Some(b) = self.halves[i].block.as_mut() else {
                    return;
                };
                if b.stream != head.stream {
                    self.abandon_block(role);
                    return;
                }
                if cut || b.bytes.len() + payload.len() > header_block_limit(&self.opts.limits) {
                    b.broken.get_or_insert(Broken::Limit);
                    b.bytes = Vec::new();
                } else if b.broken.is_none() {
                    b.bytes.extend_from_slice(payload);
                }
                if head.has(flag::END_HEADERS) {
                    self.complete_block(role, head.stream);
                }
            }
            kind::RST_STREAM => {
                self.stats.resets += 1;
                self.reset(role, head.stream);
            }
            kind::SETTINGS if !head.has(flag::END_STREAM) => {
                // END_STREAM's bit is ACK here. The receiver's table limit binds the other
                // direction's encoder (RFC 7541 §4.2).
                if let Some(size) = frame::header_table_size(payload) {
                    self.halves[1 - i].hpack.set_allowed(size);
                }
            }
            kind::GOAWAY => self.goaway(role, payload, start),
            // PING, WINDOW_UPDATE, PRIORITY, SETTINGS acks; unknown types are ignored
            // (RFC 9113 §4.1, §5.5).
            _ => {}
        }
    }

    /// Drops a block that did not end before another frame came.
    fn abandon_block(&mut self, role: Role) {
        let i = side(role);
        if let Some(b) = self.halves[i].block.as_mut() {
            b.broken.get_or_insert(Broken::Malformed);
            let stream = b.stream;
            self.notes.record(Note::UnparseableHead, || {
                format!(
                    "{}: stream {stream}: header block interrupted by another frame",
                    self.info.label
                )
            });
            self.complete_block(role, stream);
        }
    }

    /// A header block ended: decodes it and hands the fields to its stream.
    fn complete_block(&mut self, role: Role, stream_id: u32) {
        let i = side(role);
        let Some(block) = self.halves[i].block.take() else {
            return;
        };
        let label = &self.info.label;
        let fields = match block.broken {
            Some(why) => {
                self.halves[i].hpack.lost();
                if why == Broken::Limit {
                    self.notes.record(Note::Limit, || {
                        format!(
                            "{label}: stream {stream_id}: header block over {} bytes",
                            header_block_limit(&self.opts.limits)
                        )
                    });
                }
                Err(if why == Broken::Gap {
                    Dropped::Gap
                } else {
                    Dropped::Counted
                })
            }
            None => match self.halves[i]
                .hpack
                .decode(&block.bytes, header_list_limit(&self.opts.limits))
            {
                Ok(f) if f.over_limit => {
                    self.notes.record(Note::Limit, || {
                        format!(
                            "{label}: stream {stream_id}: header list over {} bytes",
                            header_list_limit(&self.opts.limits)
                        )
                    });
                    Err(Dropped::Counted)
                }
                Ok(f) => Ok(f.fields),
                Err(e) => {
                    self.stats.hpack_lost += 1;
                    self.notes.record(Note::HpackLost, || {
                        format!("{label}: stream {stream_id} ({}): {e}", role.direction())
                    });
                    Err(Dropped::Counted)
                }
            },
        };
        match (role, block.promised) {
            (Role::Response, Some(promised)) => self.on_push(promised, fields, block.start),
            // Only servers push (RFC 9113 §8.4): decoded to keep the table in step, ignored.
            (Role::Request, Some(_)) => {}
            (Role::Request, None) => self.on_request_block(&block, fields),
            (Role::Response, None) => self.on_response_block(&block, fields),
        }
        if block.end_stream && block.promised.is_none() {
            self.end_message(role, block.stream, self.at);
        }
    }

    /// Opens a stream, making room under [`MAX_OPEN_STREAMS`].
    fn open(&mut self, id: u32, start: Origin) {
        if self.streams.len() >= MAX_OPEN_STREAMS && !self.streams.contains_key(&id) {
            self.notes.record(Note::Limit, || {
                format!(
                    "{}: more than {MAX_OPEN_STREAMS} streams open",
                    self.info.label
                )
            });
            let oldest = self
                .streams
                .iter()
                .min_by_key(|(_, s)| s.index)
                .map(|(&k, _)| k);
            if let Some(k) = oldest {
                self.close(k);
            }
        }
        let index = self.next_index;
        self.next_index += 1;
        self.stats.streams += 1;
        self.streams
            .entry(id)
            .or_insert_with(|| Stream::new(index, start));
    }

    fn on_request_block(&mut self, block: &Block, fields: Result<Vec<hpack::Field>, Dropped>) {
        let id = block.stream;
        if let Some(s) = self.streams.get_mut(&id) {
            // A second block from the client is its trailer section (RFC 9113 §8.1).
            match fields {
                Ok(f) => s.request.trailers = stream::split(f).1,
                Err(why) => s.drop_for(why),
            }
            return;
        }
        // Client streams are odd and opened in increasing order (RFC 9113 §5.1.1); a lower id
        // is a stream already closed (or written out early at a limit).
        if id % 2 == 0 || id <= self.last_client_stream {
            return;
        }
        self.last_client_stream = id;
        self.open(id, block.start);
        let label = &self.info.label;
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        match fields {
            Ok(f) => {
                let (pseudo, headers) = stream::split(f);
                if pseudo.method.is_none() {
                    self.notes.record(Note::UnparseableHead, || {
                        format!("{label}: stream {id}: request without :method")
                    });
                    s.drop_for(Dropped::Counted);
                } else {
                    self.requests += 1;
                }
                s.request.head = true;
                s.request.pseudo = pseudo;
                s.request.headers = headers;
            }
            Err(why) => s.drop_for(why),
        }
    }

    fn on_response_block(&mut self, block: &Block, fields: Result<Vec<hpack::Field>, Dropped>) {
        let id = block.stream;
        let label = &self.info.label;
        let Some(s) = self.streams.get_mut(&id) else {
            let opened = if id % 2 == 1 {
                id <= self.last_client_stream
            } else {
                true
            };
            if let (false, Ok(f)) = (opened, &fields) {
                let status = f.iter().find(|(n, _)| n == b":status");
                if let Some((_, v)) = status.filter(|(_, v)| !v.starts_with(b"1")) {
                    let v = String::from_utf8_lossy(v).into_owned();
                    self.notes.record(Note::OrphanResponse, || {
                        format!("{label}: stream {id}: {v}")
                    });
                }
            }
            return;
        };
        let f = match fields {
            Ok(f) => f,
            Err(why) => {
                s.drop_for(why);
                return;
            }
        };
        if s.response.head {
            s.response.trailers = stream::split(f).1;
            return;
        }
        let (pseudo, headers) = stream::split(f);
        let Some(status) = pseudo.status.as_deref().and_then(stream::parse_status) else {
            self.notes.record(Note::UnparseableHead, || {
                format!("{label}: stream {id}: response without a valid :status")
            });
            s.drop_for(Dropped::Counted);
            return;
        };
        if (100..200).contains(&status) {
            s.interim.push(status);
            return;
        }
        self.responses += 1;
        s.response.head = true;
        s.response.pseudo = pseudo;
        s.response.headers = headers;
        if s.is_connect() && (200..300).contains(&status) {
            // A tunnel (RFC 9113 §8.5): what follows is not HTTP.
            self.notes
                .record(Note::Upgrade, || format!("{label}: stream {id}: tunnel"));
            s.end = Some(block.start);
            s.response.ended = true;
            self.emit(id, true);
        }
    }

    fn on_push(&mut self, promised: u32, fields: Result<Vec<hpack::Field>, Dropped>, at: Origin) {
        self.stats.push_promises += 1;
        if self.streams.contains_key(&promised) {
            return;
        }
        self.open(promised, at);
        let label = &self.info.label;
        let Some(s) = self.streams.get_mut(&promised) else {
            return;
        };
        s.request.head = true;
        s.request.ended = true;
        match fields {
            Ok(f) => {
                let (pseudo, headers) = stream::split(f);
                s.request.pseudo = pseudo;
                s.request.headers = headers;
                let what = s.describe();
                self.requests += 1;
                self.notes.record(Note::Http2PushPromise, || {
                    format!("{label}: stream {promised}: {what}")
                });
            }
            Err(why) => s.drop_for(why),
        }
    }

    fn on_data(&mut self, role: Role, id: u32, bytes: &[u8]) {
        let resynced = self.halves[side(role)].resynced;
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        // After a gap that took a frame header, DATA before any response head means the head
        // was in the gap: the request is kept without a response, as when no frames are found.
        if resynced && role == Role::Response && !s.response.head {
            return;
        }
        // DATA on a CONNECT stream is tunnelled bytes, not a body (RFC 9113 §8.5); a stream
        // already dropped is not written, so its DATA is not kept either.
        if s.emitted || s.dropped.is_some() || s.is_connect() {
            return;
        }
        let m = match role {
            Role::Request => &mut s.request,
            Role::Response => &mut s.response,
        };
        if m.push_body(bytes, self.opts.limits.body_bytes) {
            self.notes.record(Note::Limit, || {
                format!(
                    "{}: stream {id}: {} body over {} bytes cut",
                    self.info.label,
                    match role {
                        Role::Request => "request",
                        Role::Response => "response",
                    },
                    self.opts.limits.body_bytes
                )
            });
        }
    }

    /// END_STREAM from `role` on stream `id`.
    fn end_message(&mut self, role: Role, id: u32, end: Origin) {
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        match role {
            Role::Request => s.request.end(),
            Role::Response => {
                s.response.end();
                s.end = Some(end);
            }
        }
        // With the responses unreadable, a whole request is written out at once, without one.
        if s.closed() || (role == Role::Request && self.halves[1].frames.stopped()) {
            self.close(id);
        }
    }

    /// RST_STREAM from `role`. A server's reset closes the stream. A client's ends only the
    /// request: the server may have sent (part of) its response before the reset reached it,
    /// and a capture has those bytes (RFC 9113 §6.4 asks the client to process them too), so
    /// the stream waits for the server's END_STREAM or reset, or the end of the connection.
    fn reset(&mut self, role: Role, id: u32) {
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        s.reset = true;
        if role == Role::Response || s.response.ended {
            self.close(id);
        } else {
            s.request.reset_early |= !s.request.ended;
            s.request.ended = true;
        }
    }

    fn goaway(&mut self, role: Role, payload: &[u8], at: Origin) {
        self.stats.goaways += 1;
        let (Some(last), Some(code)) = (payload.get(..4), payload.get(4..8)) else {
            return;
        };
        let last = u32::from_be_bytes([last[0], last[1], last[2], last[3]]) & 0x7fff_ffff;
        let code = u32::from_be_bytes([code[0], code[1], code[2], code[3]]);
        if code != 0 {
            self.notes.record(Note::Http2GoAway, || {
                format!(
                    "{}: packet {}: error code {code} ({})",
                    self.info.label,
                    at.packet,
                    role.direction()
                )
            });
        }
        if role == Role::Response {
            // RFC 9113 §6.8: client streams above the last one the server processed were not
            // and will not be answered on this connection.
            let refused: Vec<u32> = self
                .streams
                .keys()
                .copied()
                .filter(|&k| k % 2 == 1 && k > last)
                .collect();
            for k in refused {
                self.close(k);
            }
        }
    }
}

/// The SETTINGS payload of an `HTTP2-Settings` field: base64url without padding (RFC 7540
/// §3.2.1), padding tolerated.
fn decode_settings(value: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let v = value.trim().trim_end_matches('=');
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(v)
        .ok()
}

#[cfg(test)]
mod tests;
