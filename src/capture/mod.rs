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

pub mod connection;
pub mod http1;
pub mod http2;
pub mod ip;
pub mod link;
pub mod session;
pub mod tcp_reassembly;
pub mod tls;

use crate::model::{Exchange, Timestamp};
use connection::{FlowInfo, HttpOptions, Ready, Role};
use link::{LinkType, Payload};
use rayon::prelude::*;
use serde::Serialize;
use session::Session;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tcp_reassembly::{Chunk, Endpoint, FlowKey, HalfStream, Origin, Side, TcpHeader};
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

/// Something that did not become (part of) an exchange, or was changed on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Note {
    /// A TCP flow whose bytes are not HTTP/1.x or HTTP/2.
    NonHttpFlow,
    /// Bytes missing from a TCP stream (lost before or during capture).
    Gap,
    /// An exchange dropped because bytes of it were in a gap.
    LostToGap,
    /// A message head that did not parse.
    UnparseableHead,
    /// A response head kept by a lenient reading: a space before a colon, a folded line.
    LenientHead,
    /// A message cut off by the end of its connection or capture.
    Truncated,
    /// A connection that switched protocols (101) or became a CONNECT tunnel.
    Upgrade,
    /// A request without a response.
    Incomplete,
    /// A response without a request (capture started after it was sent).
    OrphanResponse,
    /// A body whose content coding could not be undone; kept as sent.
    DecodeFailed,
    /// A resource limit was hit.
    Limit,
    /// Packets of a link type wirecap does not decode.
    UnsupportedLink,
    /// A TLS connection whose handshake is not in the capture.
    TlsNoHandshake,
    /// A TLS connection without a key in the key log.
    TlsNoKey,
    /// A resumed TLS session without a key in the key log.
    TlsResumedWithoutKey,
    /// A TLS version or cipher suite wirecap does not decrypt.
    TlsUnsupported,
    /// TLS records that failed authentication (wrong key or corrupt ciphertext).
    TlsAuthFailed,
    /// TLS records lost in a gap, with no later record found.
    TlsRecordGap,
    /// Bytes that are not TLS records in a TLS connection.
    TlsMalformed,
    /// A pcapng Decryption Secrets Block whose key log did not parse.
    TlsBadSecrets,
    /// Packets cut short by the capture's snapshot length.
    SnapLength,
    /// The capture file ended in the middle of a record.
    TruncatedFile,
    /// IPv4 fragments that never completed a datagram, or IPv6 fragments.
    Fragments,
    /// An HTTP/2 stream cut short by RST_STREAM before its response was complete.
    Http2Reset,
    /// An HTTP/2 GOAWAY carrying an error code.
    Http2GoAway,
    /// An HTTP/2 server push, kept as an exchange the client never sent.
    Http2PushPromise,
    /// An HTTP/2 header block not decoded because it refers to HPACK dynamic-table entries
    /// whose insertion was not captured (or is malformed); its stream is dropped.
    HpackLost,
    /// An HTTP/2 direction abandoned because a gap took its frame boundaries.
    Http2FramingLost,
}

impl Note {
    /// A phrase for the summary.
    pub fn describe(self) -> &'static str {
        match self {
            Note::NonHttpFlow => "TCP flows that are not HTTP/1.x or HTTP/2",
            Note::Gap => "gaps in TCP streams (bytes never captured)",
            Note::LostToGap => "exchanges dropped because part of them was in a gap",
            Note::UnparseableHead => "message heads that did not parse",
            Note::LenientHead => {
                "response heads kept as a proxy reads them (space before a colon, folded line; RFC 9112 §5)"
            }
            Note::Truncated => "messages cut off by the end of their connection",
            Note::Upgrade => "connections that left HTTP/1.x (101 upgrade or CONNECT tunnel)",
            Note::Incomplete => "requests without a response",
            Note::OrphanResponse => "responses without a request",
            Note::DecodeFailed => "bodies whose Content-Encoding could not be undone",
            Note::Limit => "resource limits reached",
            Note::UnsupportedLink => "packets of an unsupported link type",
            Note::TlsNoHandshake => "TLS connections whose handshake was not captured",
            Note::TlsNoKey => {
                "TLS connections without a key in the key log (SSLKEYLOGFILE, passed with --keylog)"
            }
            Note::TlsResumedWithoutKey => "resumed TLS sessions without a key in the key log",
            Note::TlsUnsupported => "TLS connections of an unsupported version or cipher suite",
            Note::TlsAuthFailed => "TLS records that failed authentication (wrong key or corrupt)",
            Note::TlsRecordGap => "TLS connections that lost records in a gap",
            Note::TlsMalformed => "TLS connections with bytes that are not TLS records",
            Note::TlsBadSecrets => "decryption secrets blocks that did not parse",
            Note::SnapLength => "packets cut short by the snapshot length",
            Note::TruncatedFile => "capture file ends inside a record",
            Note::Fragments => "IP fragments not reassembled",
            Note::Http2Reset => "HTTP/2 streams reset before their response was complete",
            Note::Http2GoAway => "HTTP/2 connections closed by GOAWAY with an error",
            Note::Http2PushPromise => "HTTP/2 server pushes (requests the client never sent)",
            Note::HpackLost => "HTTP/2 header blocks lost to HPACK (table entries not captured)",
            Note::Http2FramingLost => "HTTP/2 directions abandoned after a gap (frames lost)",
        }
    }
}

/// One note's tally and first example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteCount {
    /// Occurrences.
    pub count: u64,
    /// The first occurrence, for the reader to look at.
    pub first: String,
}

/// Notes by kind, in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Notes(BTreeMap<Note, NoteCount>);

impl Notes {
    /// Records one occurrence; `example` runs only for the first of its kind.
    pub fn record(&mut self, note: Note, example: impl FnOnce() -> String) {
        self.add(note, 1, example);
    }

    /// Records `n` occurrences.
    pub fn add(&mut self, note: Note, n: u64, example: impl FnOnce() -> String) {
        if n == 0 {
            return;
        }
        self.0
            .entry(note)
            .and_modify(|c| c.count += n)
            .or_insert_with(|| NoteCount {
                count: n,
                first: example(),
            });
    }

    /// Adds `other` in, keeping the earlier first example.
    pub fn merge(&mut self, other: Notes) {
        for (note, c) in other.0 {
            self.0
                .entry(note)
                .and_modify(|mine| mine.count += c.count)
                .or_insert(c);
        }
    }

    /// How many times `note` was recorded.
    pub fn count(&self, note: Note) -> u64 {
        self.0.get(&note).map_or(0, |c| c.count)
    }

    /// Tallies in kind order.
    pub fn iter(&self) -> impl Iterator<Item = (Note, &NoteCount)> {
        self.0.iter().map(|(k, c)| (*k, c))
    }
}

/// Packets by what they carried.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Protocols {
    /// IPv4 packets (fragments counted once per datagram).
    pub ipv4: u64,
    /// IPv6 packets.
    pub ipv6: u64,
    /// TCP segments.
    pub tcp: u64,
    /// UDP datagrams.
    pub udp: u64,
    /// Other IP protocols (ICMP, …).
    pub other_ip: u64,
    /// Frames that held no IP packet (ARP, LLDP, unknown link types).
    pub non_ip: u64,
    /// Those frames by what they held instead (`ethertype 0x0806`, `ppp 0xc021`, …).
    pub non_ip_kinds: BTreeMap<String, u64>,
    /// IP or TCP headers that did not parse.
    pub malformed: u64,
    /// IPv4 fragments held for reassembly.
    pub fragments: u64,
}

/// TCP-level counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TcpStats {
    /// Connections that carried data.
    pub flows: u64,
    /// Of those, connections where HTTP/1.x or HTTP/2 was found.
    pub http_flows: u64,
    /// Connections without any payload (handshakes, stray ACKs).
    pub empty_flows: u64,
    /// Payload bytes of non-HTTP connections.
    pub non_http_bytes: u64,
    /// Bytes dropped as retransmitted or overlapping.
    pub duplicate_bytes: u64,
    /// Segments that arrived ahead of a hole.
    pub out_of_order_segments: u64,
    /// Bytes in gaps.
    pub gap_bytes: u64,
    /// Bytes skipped while looking for the next message start.
    pub resync_skipped_bytes: u64,
}

/// HTTP-level counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpStats {
    /// Request heads parsed.
    pub requests: u64,
    /// Final responses parsed.
    pub responses: u64,
    /// Exchanges handed on (with or without a response).
    pub exchanges: u64,
    /// Of those, requests without a response.
    pub incomplete: u64,
}

/// HTTP/2 counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Http2Stats {
    /// Connections parsed as HTTP/2.
    pub connections: u64,
    /// Streams opened by requests or server pushes.
    pub streams: u64,
    /// RST_STREAM frames.
    pub resets: u64,
    /// GOAWAY frames.
    pub goaways: u64,
    /// PUSH_PROMISE frames.
    pub push_promises: u64,
    /// Header blocks not decoded for want of HPACK state.
    pub hpack_lost: u64,
}

impl std::ops::AddAssign<&Http2Stats> for Http2Stats {
    fn add_assign(&mut self, o: &Http2Stats) {
        self.connections += o.connections;
        self.streams += o.streams;
        self.resets += o.resets;
        self.goaways += o.goaways;
        self.push_promises += o.push_promises;
        self.hpack_lost += o.hpack_lost;
    }
}

/// Where the reader's time went, in milliseconds of wall-clock time spent inside each stage.
/// Flow stages are summed over threads, so on a busy machine they include time the threads
/// waited for a core; `flowsWallMs` is the stage's elapsed time.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timings {
    /// Reading records and slicing link, IP and TCP headers (one thread).
    pub read_ms: f64,
    /// TCP reassembly, summed over threads.
    pub reassembly_ms: f64,
    /// HTTP parsing and pairing, summed over threads (decoding excluded).
    pub http_ms: f64,
    /// Content decoding (gzip, deflate, br), summed over threads.
    pub decoding_ms: f64,
    /// Wall time of the parallel flow stage.
    pub flows_wall_ms: f64,
}

/// The account of one capture: what was read and what became of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Records read.
    pub packets: u64,
    /// Bytes of those records as captured.
    pub captured_bytes: u64,
    /// Packets by link type.
    pub links: BTreeMap<String, u64>,
    /// Packets by protocol.
    pub protocols: Protocols,
    /// TCP counts.
    pub tcp: TcpStats,
    /// HTTP counts.
    pub http: HttpStats,
    /// HTTP/2 counts.
    pub http2: Http2Stats,
    /// TLS counts.
    pub tls: tls::TlsStats,
    /// Everything not turned into an exchange, by reason.
    pub notes: Notes,
    /// Where the time went.
    pub timings: Timings,
}

impl Stats {
    /// The summary printed on stderr: one line per topic, then one per note. Timings are left
    /// out so the text is the same on every run (they are in `--summary-json`).
    pub fn report_lines(&self) -> Vec<String> {
        let links = self
            .links
            .iter()
            .map(|(l, n)| format!("{l} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let p = &self.protocols;
        let t = &self.tcp;
        let h = &self.http;
        let mut lines = vec![
            format!(
                "capture: {} packets ({} bytes); links: {}",
                self.packets,
                self.captured_bytes,
                if links.is_empty() {
                    "none".into()
                } else {
                    links
                }
            ),
            format!(
                "capture: ipv4 {}, ipv6 {}, tcp {}, udp {}, other ip {}, non-ip {}{}, malformed {}",
                p.ipv4,
                p.ipv6,
                p.tcp,
                p.udp,
                p.other_ip,
                p.non_ip,
                if p.non_ip_kinds.is_empty() {
                    String::new()
                } else {
                    let kinds: Vec<String> = p
                        .non_ip_kinds
                        .iter()
                        .map(|(k, n)| format!("{k} {n}"))
                        .collect();
                    format!(" ({})", kinds.join(", "))
                },
                p.malformed
            ),
            format!(
                "capture: tcp flows {} ({} http, {} empty); {} bytes retransmitted, {} out-of-order segments, {} bytes in gaps",
                t.flows,
                t.http_flows,
                t.empty_flows,
                t.duplicate_bytes,
                t.out_of_order_segments,
                t.gap_bytes
            ),
            format!(
                "capture: http requests {}, responses {}, exchanges {} ({} without response)",
                h.requests, h.responses, h.exchanges, h.incomplete
            ),
        ];
        let h2 = &self.http2;
        if h2.connections > 0 {
            lines.push(format!(
                "capture: http/2 connections {}, streams {} ({} reset), goaways {}, push promises {}, header blocks lost to hpack {}",
                h2.connections, h2.streams, h2.resets, h2.goaways, h2.push_promises, h2.hpack_lost
            ));
        }
        let tls = &self.tls;
        if tls.connections > 0 {
            lines.push(format!(
                "capture: tls connections {} ({} decrypted, {} not); {} records opened, {} failed authentication",
                tls.connections, tls.decrypted, tls.not_decrypted, tls.records, tls.failed_records
            ));
        }
        for (note, c) in self.notes.iter() {
            lines.push(format!(
                "capture: not an exchange or changed: {}: {} (first: {})",
                note.describe(),
                c.count,
                c.first
            ));
        }
        lines
    }
}

/// A handle the reader fills in and the caller reads once the exchanges are consumed.
pub type StatsHandle = Arc<Mutex<Stats>>;

/// Choices for reading captures.
#[derive(Debug, Clone)]
pub struct Options {
    /// Keep content-encoded bodies as sent.
    pub keep_encoding: bool,
    /// Leave out requests without a response.
    pub drop_incomplete: bool,
    /// Seconds of silence after which a flow is flushed.
    pub idle_timeout_secs: u64,
    /// Where to leave the stats, if anyone wants them.
    pub stats: Option<StatsHandle>,
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
            stats: None,
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

#[derive(Debug)]
struct Seg {
    tcp: TcpHeader,
    side: Side,
    /// The payload: in the reader's batch buffer, or copied into the pipeline's own.
    in_batch: bool,
    start: usize,
    len: usize,
    origin: Origin,
}

#[derive(Debug)]
struct Flow {
    key: FlowKey,
    ordinal: u64,
    halves: [HalfStream; 2],
    client: Option<Side>,
    /// Boxed: a flow without data (or waiting in the table) costs its key and counters, not
    /// the size of a parser; with a million open flows that was most of the memory.
    session: Option<Box<Session>>,
    last_seen: Timestamp,
    payload_bytes: u64,
    syn_from_client: bool,
    reassembly_ns: u64,
    http_ns: u64,
    /// A FIN or RST was seen when packets were sorted into flows.
    closing: bool,
    /// Replaced in the flow table by a new connection on the same ports.
    retired: bool,
}

impl Flow {
    fn new(key: FlowKey, ordinal: u64, ts: Timestamp, buffer_limit: usize) -> Self {
        Self {
            key,
            ordinal,
            halves: [
                HalfStream::with_buffer_limit(buffer_limit),
                HalfStream::with_buffer_limit(buffer_limit),
            ],
            client: None,
            session: None,
            last_seen: ts,
            payload_bytes: 0,
            syn_from_client: false,
            reassembly_ns: 0,
            http_ns: 0,
            closing: false,
            retired: false,
        }
    }

    fn finished(&self) -> bool {
        let [a, b] = &self.halves;
        (a.finished() && b.finished()) || a.rst_seen || b.rst_seen
    }

    /// Decides which side is the client, from the handshake or else the first data.
    fn pick_client(&mut self, seg: &Seg, data: &[u8]) {
        if self.client.is_some() {
            return;
        }
        if seg.tcp.syn {
            self.client = Some(if seg.tcp.ack.is_some() {
                seg.side.other()
            } else {
                seg.side
            });
            self.syn_from_client = seg.tcp.ack.is_none();
            return;
        }
        if data.is_empty() {
            return;
        }
        self.client = Some(if data.starts_with(b"HTTP/") {
            seg.side.other()
        } else if let [22, 3, _, _, _, hello @ (1 | 2), ..] = data {
            // A ClientHello (1) comes from the client, a ServerHello (2) from the server.
            if *hello == 2 {
                seg.side.other()
            } else {
                seg.side
            }
        } else if http1::looks_like_start(Role::Request, data) != Some(false) {
            seg.side
        } else {
            // Neither: guess the lower port is the server's.
            let port = |s: Side| self.key.addr(s).port();
            if port(seg.side) < port(seg.side.other()) {
                seg.side.other()
            } else {
                seg.side
            }
        });
    }

    fn session(
        &mut self,
        file: &Arc<str>,
        opts: HttpOptions,
        keys: &SharedKeys,
    ) -> Option<&mut Session> {
        let client = self.client?;
        if self.session.is_none() {
            let server = self.key.addr(client.other());
            let label = format!(
                "{} -> {}",
                Endpoint(self.key.addr(client)),
                Endpoint(server)
            );
            let from_start = self.syn_from_client;
            self.session = Some(Box::new(Session::new(
                FlowInfo {
                    file: file.clone(),
                    label,
                    server,
                    tls: None,
                },
                opts,
                from_start,
                keys.clone(),
            )));
        }
        self.session.as_deref_mut()
    }

    fn process(
        &mut self,
        segs: &[Seg],
        buffers: [&[u8]; 2],
        file: &Arc<str>,
        opts: HttpOptions,
        keys: &SharedKeys,
    ) {
        // Clock readings are chained: the time from one reading to the next is reassembly's,
        // except while the parser is fed.
        let mut last = Instant::now();
        let (mut http_ns, mut total_ns) = (0u64, 0u64);
        for seg in segs {
            let data = &buffers[usize::from(seg.in_batch)][seg.start..seg.start + seg.len];
            self.payload_bytes += data.len() as u64;
            self.pick_client(seg, data);
            let Some(client) = self.client else { continue };
            let role = |side: Side| {
                if side == client {
                    Role::Request
                } else {
                    Role::Response
                }
            };
            let Some(session) = self.session(file, opts, keys) else {
                continue;
            };
            if session.stopped() {
                // Not HTTP, upgraded or tunnelled: only FIN/RST still matter.
                let h = &mut self.halves[seg.side.index()];
                h.push(&seg.tcp, &[], seg.origin, &mut |_| {});
                continue;
            }
            let session = self.session.as_deref_mut().expect("created above");
            let mut feed = |r: Role, c: Chunk<'_>| {
                let t = Instant::now();
                session.feed(r, c);
                let now = Instant::now();
                http_ns += (now - t).as_nanos() as u64;
                total_ns += (now - last).as_nanos() as u64;
                last = now;
            };
            if let Some(ack) = seg.tcp.ack {
                let other = seg.side.other();
                self.halves[other.index()].acknowledged(ack, &mut |c| feed(role(other), c));
            }
            let side = seg.side;
            self.halves[side.index()]
                .push(&seg.tcp, data, seg.origin, &mut |c| feed(role(side), c));
        }
        total_ns += last.elapsed().as_nanos() as u64;
        self.http_ns += http_ns;
        self.reassembly_ns += total_ns.saturating_sub(http_ns);
    }

    /// Flushes buffered data and ends the connection.
    fn finish(&mut self) {
        let Some(client) = self.client else { return };
        let Some(session) = self.session.as_deref_mut() else {
            return;
        };
        for side in [client, client.other()] {
            let role = if side == client {
                Role::Request
            } else {
                Role::Response
            };
            self.halves[side.index()].flush(&mut |c| session.feed(role, c));
        }
        session.finish();
    }

    /// Adds this flow's counts to `stats` once it is over.
    fn account(&self, stats: &mut Stats) {
        for h in &self.halves {
            stats.tcp.duplicate_bytes += h.stats.duplicate_bytes;
            stats.tcp.out_of_order_segments += h.stats.out_of_order;
            stats.tcp.gap_bytes += h.stats.gap_bytes;
        }
        stats.timings.reassembly_ms += self.reassembly_ns as f64 / 1e6;
        stats.timings.http_ms += self.http_ns as f64 / 1e6;
        if self.payload_bytes == 0 {
            stats.tcp.empty_flows += 1;
            return;
        }
        stats.tcp.flows += 1;
        let label = || format!("{} <-> {}", Endpoint(self.key.low), Endpoint(self.key.high));
        match &self.session {
            Some(session) => session.account(stats, self.payload_bytes, label),
            None => session::not_http(stats, self.payload_bytes, label),
        }
    }

    /// The time of the oldest byte that could still become part of an exchange.
    fn oldest_pending(&self) -> Option<Timestamp> {
        let conn = self.session.as_deref().and_then(Session::oldest_pending);
        let buffered = self
            .halves
            .iter()
            .filter_map(HalfStream::oldest_buffered)
            .min();
        [conn, buffered].into_iter().flatten().min()
    }
}

/// Adds the TLS sessions `flow` established to `keys`. Called in flow order between the
/// parallel stages, so what a connection can resume does not depend on the threads.
fn learn_sessions(keys: &SharedKeys, flow: &mut Flow) {
    let Some(session) = flow.session.as_deref_mut() else {
        return;
    };
    let learned = session.take_learned();
    if learned.is_empty() {
        return;
    }
    let mut keys = match keys.write() {
        Ok(keys) => keys,
        Err(poisoned) => poisoned.into_inner(),
    };
    for (by, master) in learned {
        keys.learn(by, master);
    }
}

/// The sort key of an exchange: request time, flow ordinal, index within the flow.
type Key = (Timestamp, u64, u64);

/// Turns frames into exchanges; see the module documentation.
pub struct Pipeline {
    file: Arc<str>,
    opts: Options,
    http: HttpOptions,
    defrag: ip::Defragmenter,
    table: HashMap<FlowKey, u64>,
    flows: HashMap<u64, Flow>,
    next_ordinal: u64,
    arena: Vec<u8>,
    segs: Vec<(u64, Seg)>,
    queue: BTreeMap<Key, Exchange>,
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
        Self {
            file: Arc::from(file),
            opts,
            http,
            defrag: ip::Defragmenter::default(),
            table: HashMap::new(),
            flows: HashMap::new(),
            next_ordinal: 0,
            arena: Vec::new(),
            segs: Vec::new(),
            queue: BTreeMap::new(),
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
        if self.last_ts.is_none_or(|t| frame.ts > t) {
            self.last_ts = Some(frame.ts);
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
        let id = match self.table.get(&key) {
            Some(&id) => {
                // A new SYN after a FIN or RST reuses the port pair for a new connection: the
                // old flow stays in `flows` (its segments of this batch still go to it) and is
                // finished at the end of the batch.
                let flow = self.flows.get_mut(&id);
                let reopened =
                    tcp.syn && tcp.ack.is_none() && flow.as_ref().is_some_and(|f| f.closing);
                if reopened {
                    if let Some(old) = flow {
                        old.retired = true;
                    }
                    self.new_flow(key, frame.ts)
                } else {
                    if tcp.fin || tcp.rst {
                        if let Some(f) = flow {
                            f.closing = true;
                        }
                    }
                    id
                }
            }
            None => {
                let id = self.new_flow(key, frame.ts);
                if let Some(f) = self.flows.get_mut(&id).filter(|_| tcp.fin || tcp.rst) {
                    f.closing = true;
                }
                id
            }
        };
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

    fn new_flow(&mut self, key: FlowKey, ts: Timestamp) -> u64 {
        let id = self.next_ordinal;
        self.next_ordinal += 1;
        self.table.insert(key, id);
        self.flows.insert(
            id,
            Flow::new(key, id, ts, self.opts.limits.flow_buffer_bytes),
        );
        id
    }

    /// Processes the batch: reassembles and parses the touched flows in parallel, flushes
    /// flows that closed or went idle (all of them when `eof`), and returns the exchanges that
    /// are now in final order. `batch` is the buffer the frames' [`Frame::at`] point into.
    pub fn end_batch(&mut self, eof: bool, batch: &[u8]) -> Vec<Exchange> {
        let started = Instant::now();
        // Group segments by flow, keeping capture order within each flow.
        let mut groups: BTreeMap<u64, Vec<Seg>> = BTreeMap::new();
        for (id, seg) in self.segs.drain(..) {
            groups.entry(id).or_default().push(seg);
        }
        self.batch_bytes = if groups.len() < MIN_BATCH_FLOWS {
            (self.batch_bytes * 2).min(MAX_BATCH_BYTES)
        } else if groups.len() > 4 * MIN_BATCH_FLOWS {
            (self.batch_bytes / 2).max(BATCH_BYTES)
        } else {
            self.batch_bytes
        };
        let mut work: Vec<(Flow, Vec<Seg>)> = groups
            .into_iter()
            .filter_map(|(id, segs)| {
                let mut flow = self.flows.remove(&id)?;
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
        work.par_iter_mut()
            .for_each(|(flow, segs)| flow.process(segs, buffers, file, http, keys));
        self.arena.clear();
        let mut waiting = Vec::new();
        for (mut flow, _) in work {
            learn_sessions(&self.keys, &mut flow);
            if flow.session.as_deref().is_some_and(Session::waiting) {
                waiting.push(flow.ordinal);
            }
            self.flows.insert(flow.ordinal, flow);
        }
        // TLS 1.2 resumptions of sessions established in this batch or earlier: in flow order,
        // after every session of the batch is known, so the result is the same on any threads.
        for id in waiting {
            if let Some(flow) = self.flows.get_mut(&id) {
                if let Some(session) = flow.session.as_deref_mut() {
                    session.retry();
                }
                learn_sessions(&self.keys, flow);
            }
        }
        // Flows to finish: closed, idle, retired, or everything at the end.
        let now = self.last_ts.unwrap_or(Timestamp::from_unix(0, 0));
        let timeout = i64::try_from(self.opts.idle_timeout_secs).unwrap_or(i64::MAX);
        let max_flows = self.opts.limits.open_flows;
        let crowded = self.flows.len() > max_flows;
        if crowded {
            self.stats.notes.record(Note::Limit, || {
                format!(
                    "more than {max_flows} open flows: idle ones flushed early (--max-open-flows)"
                )
            });
        }
        let mut ending: Vec<u64> = self
            .flows
            .values()
            .filter(|f| {
                eof || f.retired
                    || f.finished()
                    || f.last_seen.unix_secs().saturating_add(timeout) < now.unix_secs()
                    || (crowded && f.last_seen < now)
            })
            .map(|f| f.ordinal)
            .collect();
        ending.sort_unstable();
        let mut done: Vec<Flow> = Vec::new();
        for id in ending {
            if let Some(f) = self.flows.remove(&id) {
                if self.table.get(&f.key) == Some(&id) {
                    self.table.remove(&f.key);
                }
                done.push(f);
            }
        }
        done.par_iter_mut().for_each(Flow::finish);
        done.sort_by_key(|f| f.ordinal);
        for f in &mut done {
            learn_sessions(&self.keys, f);
        }
        // Collect exchanges from all flows in ordinal order.
        let mut ids: Vec<u64> = self.flows.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(session) = self
                .flows
                .get_mut(&id)
                .and_then(|f| f.session.as_deref_mut())
            {
                let ready = session.take_ready();
                enqueue(&mut self.queue, &mut self.stats, id, ready);
            }
        }
        for mut f in done {
            if let Some(session) = f.session.as_deref_mut() {
                let ready = session.take_ready();
                enqueue(&mut self.queue, &mut self.stats, f.ordinal, ready);
            }
            f.account(&mut self.stats);
        }
        self.stats.timings.flows_wall_ms += started.elapsed().as_secs_f64() * 1e3;
        // Release what no open flow can precede.
        let watermark = if eof {
            None
        } else {
            let oldest = self.flows.values().filter_map(Flow::oldest_pending).min();
            Some(oldest.map_or(now, |o| o.min(now)))
        };
        let mut out = Vec::new();
        while let Some(entry) = self.queue.first_entry() {
            if watermark.is_some_and(|w| entry.key().0 >= w) {
                break;
            }
            out.push(entry.remove());
        }
        if self.queue.len() > MAX_HELD_EXCHANGES {
            let (n, file) = (self.queue.len() - MAX_HELD_EXCHANGES, self.file.clone());
            self.stats.notes.add(Note::Limit, n as u64, || {
                format!(
                    "{file}: over {MAX_HELD_EXCHANGES} exchanges held for ordering; released early"
                )
            });
            while self.queue.len() > MAX_HELD_EXCHANGES {
                if let Some(entry) = self.queue.first_entry() {
                    out.push(entry.remove());
                }
            }
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

    /// Publishes the stats to the handle in the options, if there is one.
    pub fn publish(&self) {
        if let Some(handle) = &self.opts.stats {
            if let Ok(mut s) = handle.lock() {
                *s = self.stats();
            }
        }
    }
}

fn enqueue(
    queue: &mut BTreeMap<Key, Exchange>,
    stats: &mut Stats,
    ordinal: u64,
    ready: Vec<Ready>,
) {
    for r in ready {
        stats.http.exchanges += 1;
        if r.exchange.response.is_none() {
            stats.http.incomplete += 1;
        }
        queue.insert((r.ts, ordinal, r.index), r.exchange);
    }
}
