//! The capture pipeline: packets in, HTTP/1.x and HTTP/2 exchanges out, with an account of everything
//! that did not become an exchange.
//!
//! [`crate::formats::pcap`] reads records and hands each frame to a [`Pipeline`]:
//! [`link`] strips the link header, [`ip`] reads IPv4/IPv6 and reassembles fragments, and the
//! TCP payload is copied into a batch, keyed by flow. At the end of each batch the touched
//! flows are processed in parallel with rayon ([`tcp_reassembly`] orders the bytes, [`session`]
//! hands them to [`http1`], which parses and pairs messages, or [`http2`], which assembles
//! streams). Finished exchanges wait in a queue ordered by (request time,
//! flow ordinal, index) and leave it once no open flow can still produce an earlier one.
//!
//! Batches are cut by packet and byte counts only, and flows merge back in ordinal order, so
//! the output and the counts are the same for any thread count (only the timings vary). Memory
//! is bounded by the open connections: flows idle past [`Options::idle_timeout_secs`] are
//! flushed, and at most [`MAX_HELD_EXCHANGES`] wait for their turn in the output order.

mod batch;
pub mod connection;
mod flow;
pub mod http1;
pub mod http2;
pub mod ip;
pub mod link;
pub mod session;
mod stats;
pub mod tcp_reassembly;
pub mod tls;

use crate::model::{Exchange, Timestamp};
use batch::{OrderQueue, Seg};
use connection::HttpOptions;
use flow::{Flow, FlowTable, learn_sessions};
use link::{LinkType, Payload};
use rayon::prelude::*;
use session::Session;
pub use stats::{
    Http2Stats, HttpStats, Note, NoteCount, Notes, Protocols, Stats, TcpStats, Timings,
    settle_incomplete,
};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tcp_reassembly::{FlowKey, Origin};
use tls::keylog::SharedKeys;

/// Tunnels (L2TP) a packet is taken out of, one inside another, before the rest is left alone.
pub const MAX_TUNNELS: usize = 2;

/// Packets per batch: flows are processed in parallel once per batch.
pub const BATCH_PACKETS: usize = 1 << 16;

/// Bytes per batch: TCP payload copied (pcapng), or records read in place (legacy pcap). Small
/// enough that a batch is still in the CPU caches when its flows are parsed. On the large
/// corpus, in alternating runs: 16 MiB 3.25 s, 4 MiB 2.75 s; then 4 MiB 2.76 s, 1 MiB 2.50 s
/// (peak RSS 134 MB → 50 MB); at 256 KiB the hand-offs per batch cost more than they save.
pub const BATCH_BYTES: usize = 1 << 20;

/// Largest batch: a batch grows (doubling, from [`BATCH_BYTES`]) while it touches fewer than
/// [`MIN_BATCH_FLOWS`] flows, since flows are what run in parallel. A capture of a few busy
/// connections (large HTTPS downloads on loopback: 64 KiB segments, a handful of flows per
/// MiB) otherwise ran its decryption on one core. On the HTTPS corpus (`bench/https.sh`),
/// `count` in alternating runs: 1 MiB 1.04 s, 16 MiB 0.85 s.
pub const MAX_BATCH_BYTES: usize = 1 << 24;

/// Flows a batch should touch before it stops growing. A property of the capture, not of the
/// thread count, so batches (and with them the output) are the same for any `--threads`.
pub const MIN_BATCH_FLOWS: usize = 16;

/// Seconds a flow may stay silent before it is flushed, as if it had closed.
pub const IDLE_TIMEOUT_SECS: u64 = 300;

/// Open flows tracked at once by default (`--max-open-flows`); past it, flows idle in the
/// current batch are flushed early, and that is noted as a limit. A flow that carried a request
/// costs about 3 KB of heap (6 KB resident), so this caps flow state near 400 MB; it was 2^20,
/// which let a capture of a million unclosed connections take 6 GB (tests/limits.rs). A flow
/// flushed early and then active again is read on as a connection joined mid-stream.
pub const MAX_OPEN_FLOWS: usize = 1 << 16;

/// Finished exchanges held back to keep request-time order (an open flow may still produce an
/// earlier one). Past it the oldest are released anyway, with a note, so a request that never
/// gets its response cannot make memory grow with the capture.
pub const MAX_HELD_EXCHANGES: usize = 50_000;

/// Choices for reading captures.
#[derive(Debug, Clone)]
pub struct Options {
    /// Keep content-encoded bodies as sent.
    pub keep_encoding: bool,
    /// Leave out every exchange that is not whole: no response, or a body with bytes lost in
    /// a gap or cut off (see [`crate::capture::settle_incomplete`]).
    pub drop_incomplete: bool,
    /// Seconds of silence after which a flow is flushed.
    pub idle_timeout_secs: u64,
    /// TLS secrets (`--keylog`); pcapng Decryption Secrets Blocks add to them.
    pub keys: Arc<tls::keylog::KeyLog>,
    /// Resource limits in force (`--max-*` flags).
    pub limits: crate::limits::Limits,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            keep_encoding: false,
            drop_incomplete: false,
            idle_timeout_secs: IDLE_TIMEOUT_SECS,
            keys: Arc::default(),
            limits: crate::limits::Limits::default(),
        }
    }
}

/// One captured frame, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// The interface's link type.
    pub link: LinkType,
    /// Capture time.
    pub ts: Timestamp,
    /// The captured bytes.
    pub data: &'a [u8],
    /// Where `data` starts in the buffer the reader will pass to [`Pipeline::end_batch`],
    /// when it stays there until then; `None` has the payload copied.
    pub at: Option<usize>,
    /// 1-based record number.
    pub number: u64,
}

/// Turns frames into exchanges; see the module documentation.
pub struct Pipeline {
    file: Arc<str>,
    opts: Options,
    http: HttpOptions,
    defrag: ip::Defragmenter,
    flows: FlowTable,
    arena: Vec<u8>,
    segs: Vec<(u64, Seg)>,
    queue: OrderQueue,
    last_ts: Option<Timestamp>,
    links: BTreeMap<LinkType, u64>,
    non_ip: BTreeMap<link::NotIp, u64>,
    stats: Stats,
    read_ns: u64,
    decoded: http1::Decoded,
    batch_bytes: usize,
    keys: SharedKeys,
}

impl Pipeline {
    /// A pipeline for the capture named `file`.
    pub fn new(file: &str, opts: Options) -> Self {
        let http = HttpOptions {
            keep_encoding: opts.keep_encoding,
            drop_incomplete: opts.drop_incomplete,
            limits: opts.limits,
        };
        let keys = Arc::new(std::sync::RwLock::new((*opts.keys).clone()));
        let flows = FlowTable::with_buffer_limit(opts.limits.flow_buffer_bytes);
        Self {
            file: Arc::from(file),
            opts,
            http,
            defrag: ip::Defragmenter::default(),
            flows,
            arena: Vec::new(),
            segs: Vec::new(),
            queue: OrderQueue::default(),
            last_ts: None,
            links: BTreeMap::new(),
            non_ip: BTreeMap::new(),
            stats: Stats::default(),
            read_ns: 0,
            decoded: http1::decoded_memo(),
            batch_bytes: BATCH_BYTES,
            keys,
        }
    }

    /// The bytes the next batch should hold (see [`MAX_BATCH_BYTES`]).
    pub fn batch_bytes(&self) -> usize {
        self.batch_bytes
    }

    /// Whether the current batch is full and [`Pipeline::end_batch`] should run: for readers
    /// whose frames are copied; one that keeps its frames in place ends a batch with its buffer.
    pub fn batch_full(&self) -> bool {
        self.segs.len() >= BATCH_PACKETS || self.arena.len() >= self.batch_bytes
    }

    /// Adds TLS secrets found in the capture (a pcapng Decryption Secrets Block) for the
    /// connections that follow.
    pub fn add_secrets(&mut self, text: &[u8]) -> Result<(), tls::keylog::Error> {
        match self.keys.write() {
            Ok(mut keys) => keys.add_text(text),
            Err(poisoned) => poisoned.into_inner().add_text(text),
        }
    }

    /// Records a note that does not belong to a flow (file-level problems).
    pub fn note(&mut self, note: Note, example: impl FnOnce() -> String) {
        self.stats.notes.record(note, example);
    }

    /// Adds time spent reading records, for the summary.
    pub fn add_read_time(&mut self, ns: u64) {
        self.read_ns += ns;
    }

    /// Takes one frame.
    pub fn packet(&mut self, frame: Frame<'_>) {
        self.stats.packets += 1;
        self.stats.captured_bytes += frame.data.len() as u64;
        *self.links.entry(frame.link).or_default() += 1;
        match self.last_ts {
            Some(t) if frame.ts < t => {
                let behind = |a: Timestamp, b: Timestamp| {
                    let ns = |t: Timestamp| {
                        i128::from(t.unix_secs()) * 1_000_000_000 + i128::from(t.subsec_nanos())
                    };
                    (ns(a) - ns(b)) / 1000
                };
                self.stats.notes.record(Note::OutOfTimeOrder, || {
                    format!(
                        "packet {} is {} µs earlier than a packet before it",
                        frame.number,
                        behind(t, frame.ts)
                    )
                });
            }
            _ => self.last_ts = Some(frame.ts),
        }
        let payload = link::parse_frame(frame.link, frame.data);
        self.ip_packet(frame, payload, 0);
    }

    /// The IP layer and below of a frame's `payload`; `depth` counts the tunnels it came out
    /// of (L2TP), so a hostile nest of them ends.
    fn ip_packet(&mut self, frame: Frame<'_>, payload: Payload<'_>, depth: usize) {
        let p = &mut self.stats.protocols;
        let parsed = match payload {
            Payload::Ipv4(b) => {
                let r = ip::parse_ipv4(b, &mut self.defrag);
                if !matches!(r, Err(ip::Skip::FragmentHeld)) {
                    p.ipv4 += 1;
                }
                r
            }
            Payload::Ipv6(b) => {
                p.ipv6 += 1;
                ip::parse_ipv6(b)
            }
            Payload::Other(why) => {
                p.non_ip += 1;
                *self.non_ip.entry(why).or_default() += 1;
                if why == link::NotIp::UnsupportedLink {
                    let link = frame.link;
                    self.stats.notes.record(Note::UnsupportedLink, || {
                        format!("packet {}: {}", frame.number, link.name())
                    });
                }
                return;
            }
        };
        let packet = match parsed {
            Ok(packet) => packet,
            Err(ip::Skip::FragmentHeld) => {
                p.fragments += 1;
                return;
            }
            Err(ip::Skip::Malformed) => {
                p.malformed += 1;
                return;
            }
            Err(ip::Skip::FragmentDropped | ip::Skip::Ipv6Fragment) => {
                self.stats.notes.record(Note::Fragments, || {
                    format!("packet {}: fragment not reassembled", frame.number)
                });
                return;
            }
        };
        match packet.protocol {
            ip::PROTO_TCP => p.tcp += 1,
            ip::PROTO_UDP => {
                p.udp += 1;
                // L2TP (RFC 2661) carries PPP and VXLAN (RFC 7348) Ethernet, and so IP: the
                // tunnelled packet goes round again.
                let Cow::Borrowed(udp) = &packet.payload else {
                    return;
                };
                if depth < MAX_TUNNELS {
                    if let Some(inner @ (Payload::Ipv4(_) | Payload::Ipv6(_))) =
                        link::udp_tunnel(udp)
                    {
                        self.ip_packet(frame, inner, depth + 1);
                    }
                }
                return;
            }
            _ => {
                p.other_ip += 1;
                return;
            }
        }
        let Some(tcp) = tcp_reassembly::parse_tcp(&packet.payload) else {
            p.malformed += 1;
            return;
        };
        if packet.missing > 0 {
            self.stats.notes.record(Note::SnapLength, || {
                format!(
                    "packet {}: {} bytes not captured",
                    frame.number, packet.missing
                )
            });
        }
        let data = &packet.payload[tcp.header_len..];
        let src = SocketAddr::new(packet.src, tcp.src_port);
        let dst = SocketAddr::new(packet.dst, tcp.dst_port);
        let (key, side) = FlowKey::new(src, dst);
        let id = self.flows.assign(key, &tcp, frame.ts);
        let in_frame = (data.as_ptr() as usize).checked_sub(frame.data.as_ptr() as usize);
        let (in_batch, start) = match (&packet.payload, frame.at, in_frame) {
            (Cow::Borrowed(_), Some(at), Some(offset))
                if offset + data.len() <= frame.data.len() =>
            {
                (true, at + offset)
            }
            _ => {
                let start = self.arena.len();
                self.arena.extend_from_slice(data);
                (false, start)
            }
        };
        self.segs.push((
            id,
            Seg {
                tcp,
                side,
                in_batch,
                start,
                len: data.len(),
                origin: Origin {
                    ts: frame.ts,
                    packet: frame.number,
                },
            },
        ));
    }

    /// Processes the batch: reassembles and parses the touched flows in parallel, flushes
    /// flows that closed or went idle (all of them when `eof`), and returns the exchanges that
    /// are now in final order. `batch` is the buffer the frames' [`Frame::at`] point into.
    pub fn end_batch(&mut self, eof: bool, batch: &[u8]) -> Vec<Exchange> {
        let started = Instant::now();
        // Group segments by flow, keeping capture order within each flow.
        let groups = batch::group_by_flow(self.segs.drain(..));
        self.batch_bytes = batch::next_batch_bytes(self.batch_bytes, groups.len());
        let mut work: Vec<(Flow, Vec<Seg>)> = groups
            .into_iter()
            .filter_map(|(id, segs)| {
                let mut flow = self.flows.take(id)?;
                if let Some(last) = segs.last() {
                    flow.last_seen = flow.last_seen.max(last.origin.ts);
                }
                Some((flow, segs))
            })
            .collect();
        let buffers = [self.arena.as_slice(), batch];
        let file = &self.file;
        let http = self.http;
        let keys = &self.keys;
        // Largest flows first, so that the batch does not end with one core working through a
        // big flow that started last while the other waits; back in flow order afterwards.
        let bytes = |segs: &[Seg]| segs.iter().map(|s| s.len).sum::<usize>();
        work.sort_by_cached_key(|(flow, segs)| (std::cmp::Reverse(bytes(segs)), flow.ordinal));
        work.par_iter_mut()
            .with_max_len(1)
            .for_each(|(flow, segs)| flow.process(segs, buffers, file, http, keys));
        work.sort_by_key(|(flow, _)| flow.ordinal);
        self.arena.clear();
        let mut waiting = Vec::new();
        for (mut flow, _) in work {
            learn_sessions(&self.keys, &mut flow);
            if flow.session.as_deref().is_some_and(Session::waiting) {
                waiting.push(flow.ordinal);
            }
            self.flows.put_back(flow);
        }
        // TLS 1.2 resumptions of sessions established in this batch or earlier: in flow order,
        // after every session of the batch is known, so the result is the same on any threads.
        for id in waiting {
            if let Some(flow) = self.flows.get_mut(id) {
                if let Some(session) = flow.session.as_deref_mut() {
                    session.retry();
                }
                learn_sessions(&self.keys, flow);
            }
        }
        // Flows to finish: closed, idle, retired, or everything at the end.
        let now = self.last_ts.unwrap_or(Timestamp::from_unix(0, 0));
        let max_flows = self.opts.limits.open_flows;
        let crowded = self.flows.len() > max_flows;
        if crowded {
            self.stats.notes.record(Note::Limit, || {
                format!(
                    "more than {max_flows} open flows: idle ones flushed early (--max-open-flows)"
                )
            });
        }
        let mut done = self
            .flows
            .take_ending(eof, now, self.opts.idle_timeout_secs, crowded);
        done.par_iter_mut().for_each(Flow::finish);
        done.sort_by_key(|f| f.ordinal);
        for f in &mut done {
            learn_sessions(&self.keys, f);
        }
        // Collect exchanges from all flows in ordinal order.
        for id in self.flows.ordinals() {
            if let Some(session) = self
                .flows
                .get_mut(id)
                .and_then(|f| f.session.as_deref_mut())
            {
                let ready = session.take_ready();
                self.queue.push(&mut self.stats.http, id, ready);
            }
        }
        for mut f in done {
            if let Some(session) = f.session.as_deref_mut() {
                let ready = session.take_ready();
                self.queue.push(&mut self.stats.http, f.ordinal, ready);
            }
            self.stats += &f.account();
        }
        self.stats.timings.flows_wall_ms += started.elapsed().as_secs_f64() * 1e3;
        // Release what no open flow can precede.
        let watermark = if eof {
            None
        } else {
            let oldest = self.flows.oldest_pending();
            Some(oldest.map_or(now, |o| o.min(now)))
        };
        let mut out = self.queue.release(watermark);
        let over = self.queue.len().saturating_sub(MAX_HELD_EXCHANGES);
        if over > 0 {
            let file = self.file.clone();
            self.stats.notes.add(Note::Limit, over as u64, || {
                format!(
                    "{file}: over {MAX_HELD_EXCHANGES} exchanges held for ordering; released early"
                )
            });
            out.extend(self.queue.release_oldest(over));
        }
        self.decode(&mut out);
        out
    }

    /// Undoes content codings of the released exchanges, in parallel; the notes are merged in
    /// exchange order, so the account does not depend on the thread count.
    fn decode(&mut self, out: &mut [Exchange]) {
        if self.http.keep_encoding || out.is_empty() {
            return;
        }
        let started = Instant::now();
        let memo = &self.decoded;
        let results: Vec<(Notes, u64)> = out
            .par_iter_mut()
            .map(|ex| {
                let mut notes = Notes::default();
                let ns = http1::decode_bodies(ex, &mut notes, memo);
                (notes, ns)
            })
            .collect();
        for (notes, ns) in results {
            self.stats.notes.merge(notes);
            self.stats.timings.decoding_ms += ns as f64 / 1e6;
        }
        self.stats.timings.flows_wall_ms += started.elapsed().as_secs_f64() * 1e3;
    }

    /// The account so far; complete after the last batch.
    pub fn stats(&self) -> Stats {
        let mut s = self.stats.clone();
        s.links = self.links.iter().map(|(l, n)| (l.name(), *n)).collect();
        s.protocols.non_ip_kinds = self.non_ip.iter().map(|(k, n)| (k.name(), *n)).collect();
        s.timings.read_ms = self.read_ns as f64 / 1e6;
        let pending = self.defrag.pending() as u64 + self.defrag.dropped;
        s.notes.add(Note::Fragments, pending, || {
            "IPv4 datagram never completed".into()
        });
        s
    }
}
