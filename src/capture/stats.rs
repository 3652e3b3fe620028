//! The account of a capture: [`Stats`], counts that add up over flows, batches and files,
//! and the [`Notes`] on everything that did not become an exchange.

use super::tls;
use crate::model::{Request, Response};
use serde::Serialize;
use std::collections::BTreeMap;

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
    /// An exchange kept with bytes of a body lost in a gap, the body marked with the missing
    /// ranges (dropped instead, as [`Note::LostToGap`], under `--drop-incomplete`).
    GapInBody,
    /// An exchange dropped by `--drop-incomplete` because a body of it was cut off before its
    /// end (a reset, the end of the connection or capture, the body limit), no byte of it in
    /// a gap. Kept by default, the body marked as cut; where it was cut is noted apart
    /// ([`Note::Truncated`], [`Note::Http2Reset`], [`Note::Limit`]).
    DroppedCutBody,
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
    /// Records earlier in time than a record before them: the file is not in time order, and
    /// TCP reassembly takes segments in file order.
    OutOfTimeOrder,
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
    /// An HTTP/2 direction read no further because a gap took its frame boundaries; its open
    /// streams are kept with their body cut at the gap when their head had come.
    Http2FramingLost,
    /// An HTTP/2 direction whose frames were found again after a gap took a frame header; the
    /// bodies under way there are cut at the gap.
    Http2Resynced,
}

impl Note {
    /// A phrase for the summary.
    pub fn describe(self) -> &'static str {
        match self {
            Note::NonHttpFlow => "TCP flows that are not HTTP/1.x or HTTP/2",
            Note::Gap => "gaps in TCP streams (bytes never captured)",
            Note::LostToGap => "exchanges dropped because part of them was in a gap",
            Note::GapInBody => {
                "exchanges kept with body bytes lost in a gap (body marked incomplete; --drop-incomplete drops them)"
            }
            Note::DroppedCutBody => {
                "exchanges dropped because a body was cut off (reset, end of connection or capture, body limit; --drop-incomplete)"
            }
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
            Note::OutOfTimeOrder => {
                "records out of time order (TCP reassembly follows file order; reordercap sorts a file)"
            }
            Note::Fragments => "IP fragments not reassembled",
            Note::Http2Reset => "HTTP/2 streams reset before their response was complete",
            Note::Http2GoAway => "HTTP/2 connections closed by GOAWAY with an error",
            Note::Http2PushPromise => "HTTP/2 server pushes (requests the client never sent)",
            Note::HpackLost => "HTTP/2 header blocks lost to HPACK (table entries not captured)",
            Note::Http2FramingLost => {
                "HTTP/2 directions read no further after a gap took a frame header (open streams cut there)"
            }
            Note::Http2Resynced => {
                "HTTP/2 directions read on after a gap took a frame header (frames found again; bodies under way cut at the gap)"
            }
        }
    }
}

/// What becomes of an exchange that is not whole: the one place HTTP/1 and HTTP/2 decide it.
///
/// Kept by default, with the notes that say what it lacks: [`Note::GapInBody`] when body bytes
/// were lost in a gap, [`Note::Incomplete`] without a response; a body cut off is noted where
/// it was cut. Under `--drop-incomplete` (`drop`) every exchange whose bodies are not both
/// whole, or that has no response, is dropped and counted under one reason, the first that
/// applies: [`Note::LostToGap`], [`Note::Incomplete`], [`Note::DroppedCutBody`].
///
/// `gapped` says bytes of a body were lost in a gap, as only the connection knows (a body
/// whose end was lost in one has no missing range to show it). `at` names the exchange
/// (`label: packet N: GET /x`); the cut body is named after it. Returns whether it is kept.
pub fn settle_incomplete(
    notes: &mut Notes,
    request: &Request,
    response: Option<&Response>,
    gapped: bool,
    drop: bool,
    at: impl FnOnce() -> String,
) -> bool {
    let cuts = [
        ("response", response.and_then(|r| r.body.cut.as_ref())),
        ("request", request.body.cut.as_ref()),
    ];
    let cuts = cuts.iter().filter_map(|&(which, c)| Some((which, c?)));
    let cut = (cuts.clone())
        .find(|(_, c)| gapped && !c.missing.is_empty())
        .or_else(|| cuts.clone().next());
    let body = |at: String| match cut {
        Some((which, c)) => format!("{at}: {which} body {c}"),
        None => at,
    };
    let dropped = " (--drop-incomplete)";
    if drop {
        let (note, at) = if gapped {
            (Note::LostToGap, format!("{}{dropped}", body(at())))
        } else if response.is_none() {
            (Note::Incomplete, at())
        } else if cut.is_some() {
            (Note::DroppedCutBody, format!("{}{dropped}", body(at())))
        } else {
            return true;
        };
        notes.record(note, || at);
        return false;
    }
    if gapped || response.is_none() {
        let at = at();
        if gapped {
            notes.record(Note::GapInBody, || body(at.clone()));
        }
        if response.is_none() {
            notes.record(Note::Incomplete, || at);
        }
    }
    true
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

impl std::ops::AddAssign<&Protocols> for Protocols {
    fn add_assign(&mut self, o: &Protocols) {
        self.ipv4 += o.ipv4;
        self.ipv6 += o.ipv6;
        self.tcp += o.tcp;
        self.udp += o.udp;
        self.other_ip += o.other_ip;
        self.non_ip += o.non_ip;
        add_counts(&mut self.non_ip_kinds, &o.non_ip_kinds);
        self.malformed += o.malformed;
        self.fragments += o.fragments;
    }
}

impl std::ops::AddAssign<&TcpStats> for TcpStats {
    fn add_assign(&mut self, o: &TcpStats) {
        self.flows += o.flows;
        self.http_flows += o.http_flows;
        self.empty_flows += o.empty_flows;
        self.non_http_bytes += o.non_http_bytes;
        self.duplicate_bytes += o.duplicate_bytes;
        self.out_of_order_segments += o.out_of_order_segments;
        self.gap_bytes += o.gap_bytes;
        self.resync_skipped_bytes += o.resync_skipped_bytes;
    }
}

impl std::ops::AddAssign<&HttpStats> for HttpStats {
    fn add_assign(&mut self, o: &HttpStats) {
        self.requests += o.requests;
        self.responses += o.responses;
        self.exchanges += o.exchanges;
        self.incomplete += o.incomplete;
    }
}

impl std::ops::AddAssign<&Timings> for Timings {
    fn add_assign(&mut self, o: &Timings) {
        self.read_ms += o.read_ms;
        self.reassembly_ms += o.reassembly_ms;
        self.http_ms += o.http_ms;
        self.decoding_ms += o.decoding_ms;
        self.flows_wall_ms += o.flows_wall_ms;
    }
}

/// The account of one part (a flow, a capture) added to the whole, as ripgrep adds up the
/// `Stats` of its searches: counts sum, and each note keeps the earlier first example.
impl std::ops::AddAssign<&Stats> for Stats {
    fn add_assign(&mut self, o: &Stats) {
        self.packets += o.packets;
        self.captured_bytes += o.captured_bytes;
        add_counts(&mut self.links, &o.links);
        self.protocols += &o.protocols;
        self.tcp += &o.tcp;
        self.http += &o.http;
        self.http2 += &o.http2;
        self.tls += &o.tls;
        self.notes.merge(o.notes.clone());
        self.timings += &o.timings;
    }
}

fn add_counts(mine: &mut BTreeMap<String, u64>, other: &BTreeMap<String, u64>) {
    for (k, n) in other {
        *mine.entry(k.clone()).or_default() += n;
    }
}
