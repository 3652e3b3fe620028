//! TCP: flow keys, segment headers, and per-direction stream reassembly.
//!
//! Fourth step of the capture pipeline, between [`super::ip`] and [`super::http1`]. Each
//! direction of a connection is a [`HalfStream`] that turns segments, in whatever order the
//! capture holds them, into an ordered byte stream with explicit gaps (RFC 9293 §3.4 sequence
//! numbers, compared modulo 2^32 so streams may wrap).
//!
//! Policy, in the order a segment meets it:
//! 1. A SYN fixes the initial sequence number. Without one (capture started mid-connection) the
//!    first segment carrying data starts the stream, and the HTTP parser resynchronises.
//! 2. Bytes already delivered win: a retransmission is dropped and a segment overlapping what
//!    was delivered is trimmed to its new bytes (counted as retransmitted/overlapping bytes).
//! 3. A segment beyond the next expected byte is buffered. Two buffered segments at the same
//!    offset keep the longer one; overlaps between buffered segments are trimmed on delivery, so
//!    again the bytes at the lower offset (delivered first) win.
//! 4. A hole is declared a gap, skipped and reported when the peer acknowledged data past it
//!    (the bytes were delivered but not captured), when the buffered data passes
//!    [`MAX_BUFFERED_BYTES`] (`--max-flow-buffer-bytes`), or when the flow is flushed (FIN, RST, idle timeout, end of input).
//!    The HTTP layer then resynchronises at the next message start instead of giving up.

use crate::model::Timestamp;
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// Out-of-order bytes buffered per direction before the hole in front of them is declared a
/// gap. Real reordering spans a few segments; this bounds memory for a lossy capture.
pub const MAX_BUFFERED_BYTES: usize = 4 << 20;

/// Out-of-order segments buffered per direction, with the same purpose as the byte limit.
pub const MAX_BUFFERED_SEGMENTS: usize = 4096;

/// A TCP sequence number, compared modulo 2^32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// How far `self` is ahead of `base` (negative when behind), assuming they are within 2^31.
    pub fn distance_from(self, base: SeqNumber) -> i64 {
        i64::from(self.0.wrapping_sub(base.0) as i32)
    }
}

/// A connection's identity, the same whichever way a packet goes: the lower endpoint first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    /// The lower endpoint.
    pub low: SocketAddr,
    /// The higher endpoint.
    pub high: SocketAddr,
}

/// Which endpoint of a [`FlowKey`] sent a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Sent by `low`.
    Low,
    /// Sent by `high`.
    High,
}

impl Side {
    /// 0 for `Low`, 1 for `High`, to index per-side arrays.
    pub fn index(self) -> usize {
        match self {
            Side::Low => 0,
            Side::High => 1,
        }
    }

    /// The other endpoint.
    pub fn other(self) -> Side {
        match self {
            Side::Low => Side::High,
            Side::High => Side::Low,
        }
    }
}

/// Which way data goes once the client is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Requests.
    ClientToServer,
    /// Responses.
    ServerToClient,
}

impl FlowKey {
    /// The key for a packet from `src` to `dst`, and which side sent it.
    pub fn new(src: SocketAddr, dst: SocketAddr) -> (FlowKey, Side) {
        if src <= dst {
            (
                FlowKey {
                    low: src,
                    high: dst,
                },
                Side::Low,
            )
        } else {
            (
                FlowKey {
                    low: dst,
                    high: src,
                },
                Side::High,
            )
        }
    }

    /// The address of one side.
    pub fn addr(&self, side: Side) -> SocketAddr {
        match side {
            Side::Low => self.low,
            Side::High => self.high,
        }
    }
}

/// `ip:port`, with IPv6 in brackets.
pub struct Endpoint(pub SocketAddr);

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.ip() {
            IpAddr::V4(ip) => write!(f, "{ip}:{}", self.0.port()),
            IpAddr::V6(ip) => write!(f, "[{ip}]:{}", self.0.port()),
        }
    }
}

/// The TCP header fields reassembly uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpHeader {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number of the first data byte (or of the SYN).
    pub seq: SeqNumber,
    /// Acknowledgement number, when the ACK flag is set.
    pub ack: Option<SeqNumber>,
    /// SYN flag.
    pub syn: bool,
    /// FIN flag.
    pub fin: bool,
    /// RST flag.
    pub rst: bool,
    /// Header length in bytes: data starts here.
    pub header_len: usize,
}

/// Parses a TCP header (RFC 9293 §3.1); `None` when it is shorter than it says.
pub fn parse_tcp(b: &[u8]) -> Option<TcpHeader> {
    if b.len() < 20 {
        return None;
    }
    let header_len = usize::from(b[12] >> 4) * 4;
    if header_len < 20 || header_len > b.len() {
        return None;
    }
    let flags = b[13];
    Some(TcpHeader {
        src_port: u16::from_be_bytes([b[0], b[1]]),
        dst_port: u16::from_be_bytes([b[2], b[3]]),
        seq: SeqNumber(u32::from_be_bytes([b[4], b[5], b[6], b[7]])),
        ack: (flags & 0x10 != 0).then(|| SeqNumber(u32::from_be_bytes([b[8], b[9], b[10], b[11]]))),
        syn: flags & 0x02 != 0,
        fin: flags & 0x01 != 0,
        rst: flags & 0x04 != 0,
        header_len,
    })
}

/// Where a delivered byte came from: the packet's time and 1-based number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// Capture time of the packet.
    pub ts: Timestamp,
    /// 1-based packet number in the capture.
    pub packet: u64,
}

/// What reassembly hands the next layer, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Contiguous bytes.
    Data(&'a [u8], Origin),
    /// Bytes that were never captured.
    Gap(u64),
}

#[derive(Debug)]
struct Buffered {
    data: Vec<u8>,
    origin: Origin,
}

/// Counters one direction keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HalfStats {
    /// Bytes dropped as already delivered (retransmissions and overlaps).
    pub duplicate_bytes: u64,
    /// Segments that arrived ahead of a hole and were buffered.
    pub out_of_order: u64,
    /// Holes skipped.
    pub gaps: u64,
    /// Bytes in those holes.
    pub gap_bytes: u64,
}

/// One direction of a connection: turns segments into ordered bytes and gaps.
///
/// Invariant: every key of `buffered` is greater than `delivered`, and `next` is the sequence
/// number of byte `delivered`.
#[derive(Debug)]
pub struct HalfStream {
    next: Option<SeqNumber>,
    delivered: u64,
    buffered: BTreeMap<u64, Buffered>,
    buffered_bytes: usize,
    fin_at: Option<u64>,
    /// Out-of-order bytes held before a hole is skipped ([`MAX_BUFFERED_BYTES`] by default).
    max_buffered: usize,
    /// Whether a SYN from this side was seen.
    pub syn_seen: bool,
    /// Whether this side reset the connection.
    pub rst_seen: bool,
    /// Counters.
    pub stats: HalfStats,
}

impl Default for HalfStream {
    fn default() -> Self {
        Self::with_buffer_limit(MAX_BUFFERED_BYTES)
    }
}

impl HalfStream {
    /// A direction that buffers at most `bytes` of out-of-order data (`--max-flow-buffer-bytes`).
    pub fn with_buffer_limit(bytes: usize) -> Self {
        Self {
            next: None,
            delivered: 0,
            buffered: BTreeMap::new(),
            buffered_bytes: 0,
            fin_at: None,
            max_buffered: bytes,
            syn_seen: false,
            rst_seen: false,
            stats: HalfStats::default(),
        }
    }

    /// Whether this side sent a FIN and every byte before it was delivered.
    pub fn finished(&self) -> bool {
        self.fin_at.is_some_and(|f| f <= self.delivered) || self.rst_seen
    }

    /// The capture time of the oldest buffered out-of-order segment.
    pub fn oldest_buffered(&self) -> Option<Timestamp> {
        self.buffered.values().map(|b| b.origin.ts).min()
    }

    /// Whether out-of-order data waits for a hole to fill.
    pub fn has_buffered(&self) -> bool {
        !self.buffered.is_empty()
    }

    /// The offset of a sequence number in this stream, when the stream has started.
    fn offset_of(&self, seq: SeqNumber) -> Option<i64> {
        let next = self.next?;
        Some(self.delivered as i64 + seq.distance_from(next))
    }

    /// Takes one segment from this side, calling `deliver` for each chunk that became ready.
    pub fn push(
        &mut self,
        tcp: &TcpHeader,
        data: &[u8],
        origin: Origin,
        deliver: &mut impl FnMut(Chunk<'_>),
    ) {
        let mut seq = tcp.seq;
        if tcp.syn {
            self.syn_seen = true;
            seq = SeqNumber(seq.0.wrapping_add(1));
            if self.next.is_none() {
                self.next = Some(seq);
            }
        }
        if tcp.rst {
            self.rst_seen = true;
        }
        if self.next.is_none() {
            if data.is_empty() {
                return;
            }
            self.next = Some(seq);
        }
        let Some(start) = self.offset_of(seq) else {
            return;
        };
        if tcp.fin {
            let fin = start + data.len() as i64;
            if fin >= self.delivered as i64 {
                self.fin_at = Some(fin as u64);
            }
        }
        if data.is_empty() {
            return;
        }
        let end = start + data.len() as i64;
        let here = self.delivered as i64;
        if end <= here {
            self.stats.duplicate_bytes += data.len() as u64;
            return;
        }
        if start <= here {
            let skip = (here - start) as usize;
            self.stats.duplicate_bytes += skip as u64;
            self.deliver(&data[skip..], origin, deliver);
            self.drain(deliver);
            return;
        }
        let key = start as u64;
        self.stats.out_of_order += 1;
        match self.buffered.get(&key) {
            Some(b) if b.data.len() >= data.len() => {
                self.stats.duplicate_bytes += data.len() as u64;
            }
            _ => {
                let old = self.buffered.insert(
                    key,
                    Buffered {
                        data: data.to_vec(),
                        origin,
                    },
                );
                self.buffered_bytes += data.len();
                if let Some(old) = old {
                    self.buffered_bytes -= old.data.len();
                    self.stats.duplicate_bytes += old.data.len() as u64;
                }
            }
        }
        if self.buffered_bytes > self.max_buffered || self.buffered.len() > MAX_BUFFERED_SEGMENTS {
            self.skip_hole(deliver);
        }
    }

    /// The peer acknowledged up to `ack`: a hole below it was sent but not captured.
    pub fn acknowledged(&mut self, ack: SeqNumber, deliver: &mut impl FnMut(Chunk<'_>)) {
        let Some(acked) = self.offset_of(ack) else {
            return;
        };
        if let Some((&first, _)) = self.buffered.first_key_value() {
            if acked >= first as i64 {
                self.skip_hole(deliver);
            }
        }
    }

    /// Delivers everything still buffered, with gaps for the holes (end of the flow).
    pub fn flush(&mut self, deliver: &mut impl FnMut(Chunk<'_>)) {
        while self.has_buffered() {
            self.skip_hole(deliver);
        }
    }

    fn deliver(&mut self, data: &[u8], origin: Origin, deliver: &mut impl FnMut(Chunk<'_>)) {
        self.advance(data.len() as u64);
        deliver(Chunk::Data(data, origin));
    }

    fn advance(&mut self, n: u64) {
        self.delivered += n;
        if let Some(next) = &mut self.next {
            next.0 = next.0.wrapping_add(n as u32);
        }
    }

    /// Skips to the first buffered segment, reporting the hole, and delivers what follows it.
    fn skip_hole(&mut self, deliver: &mut impl FnMut(Chunk<'_>)) {
        let Some((&first, _)) = self.buffered.first_key_value() else {
            return;
        };
        if first > self.delivered {
            let gap = first - self.delivered;
            self.stats.gaps += 1;
            self.stats.gap_bytes += gap;
            self.advance(gap);
            deliver(Chunk::Gap(gap));
        }
        self.drain(deliver);
    }

    fn drain(&mut self, deliver: &mut impl FnMut(Chunk<'_>)) {
        while let Some(entry) = self.buffered.first_entry() {
            if *entry.key() > self.delivered {
                break;
            }
            let key = *entry.key();
            let b = entry.remove();
            self.buffered_bytes -= b.data.len();
            let end = key + b.data.len() as u64;
            if end <= self.delivered {
                self.stats.duplicate_bytes += b.data.len() as u64;
                continue;
            }
            let skip = (self.delivered - key) as usize;
            self.stats.duplicate_bytes += skip as u64;
            self.deliver(&b.data[skip..], b.origin, deliver);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds (seq, data) segments, then flushes, and returns the stream with gaps as `_`.
    fn reassemble(isn: Option<u32>, segments: &[(u32, &str)]) -> String {
        let mut h = HalfStream::default();
        let mut out = String::new();
        let origin = Origin {
            ts: Timestamp::from_unix(0, 0),
            packet: 1,
        };
        let mut sink = |c: Chunk<'_>| match c {
            Chunk::Data(d, _) => out.push_str(std::str::from_utf8(d).expect("utf8")),
            Chunk::Gap(n) => out.push_str(&"_".repeat(n as usize)),
        };
        let hdr = |seq: u32, syn: bool| TcpHeader {
            src_port: 1,
            dst_port: 2,
            seq: SeqNumber(seq),
            ack: None,
            syn,
            fin: false,
            rst: false,
            header_len: 20,
        };
        if let Some(isn) = isn {
            h.push(&hdr(isn, true), b"", origin, &mut sink);
        }
        for (seq, d) in segments {
            h.push(&hdr(*seq, false), d.as_bytes(), origin, &mut sink);
        }
        h.flush(&mut sink);
        out
    }

    macro_rules! stream {
        ($isn:expr, [$($seq:expr => $d:expr),*] => $want:expr) => {
            assert_eq!(reassemble($isn, &[$(($seq, $d)),*]), $want)
        };
    }

    #[test]
    fn orders_and_deduplicates() {
        stream!(Some(0), [1 => "ab", 3 => "cd"] => "abcd");
        stream!(Some(0), [3 => "cd", 1 => "ab"] => "abcd");
        stream!(Some(0), [1 => "ab", 1 => "ab", 3 => "cd"] => "abcd");
        stream!(Some(0), [1 => "abc", 2 => "XYZ"] => "abcZ");
        stream!(Some(0), [5 => "ef", 3 => "cd", 1 => "ab"] => "abcdef");
        stream!(Some(0), [3 => "cdef", 5 => "EFG", 1 => "ab"] => "abcdefG");
    }

    #[test]
    fn wraps_around_and_starts_mid_stream() {
        stream!(Some(u32::MAX - 2), [u32::MAX - 1 => "ab", 0 => "cd", 2 => "e"] => "abcde");
        stream!(None, [100 => "ab", 102 => "cd"] => "abcd");
        stream!(None, [102 => "cd", 100 => "ab"] => "cd");
    }

    #[test]
    fn holes_become_gaps_at_flush() {
        stream!(Some(0), [1 => "ab", 5 => "ef"] => "ab__ef");
    }

    #[test]
    fn acknowledged_hole_is_skipped_at_once() {
        let mut h = HalfStream::default();
        let origin = Origin {
            ts: Timestamp::from_unix(0, 0),
            packet: 1,
        };
        let mut chunks = Vec::new();
        let tcp = |seq| TcpHeader {
            src_port: 1,
            dst_port: 2,
            seq: SeqNumber(seq),
            ack: None,
            syn: false,
            fin: false,
            rst: false,
            header_len: 20,
        };
        let mut sink = |c: Chunk<'_>| {
            chunks.push(match c {
                Chunk::Data(d, _) => format!("{}", d.len()),
                Chunk::Gap(n) => format!("gap {n}"),
            })
        };
        h.push(&tcp(10), b"abc", origin, &mut sink);
        h.push(&tcp(20), b"xyz", origin, &mut sink);
        h.acknowledged(SeqNumber(15), &mut sink);
        h.acknowledged(SeqNumber(23), &mut sink);
        assert_eq!(chunks, ["3", "gap 7", "3"]);
        assert_eq!(h.stats.gaps, 1);
    }

    #[test]
    fn flow_key_is_direction_free() {
        let a: SocketAddr = "10.0.0.1:5000".parse().expect("addr");
        let b: SocketAddr = "10.0.0.2:80".parse().expect("addr");
        assert_eq!(FlowKey::new(a, b).0, FlowKey::new(b, a).0);
        assert_ne!(FlowKey::new(a, b).1, FlowKey::new(b, a).1);
    }
}
