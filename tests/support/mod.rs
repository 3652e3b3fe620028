//! Builds synthetic captures for tests: TCP conversations framed by etherparse's
//! `PacketBuilder`, written by a tiny pcap/pcapng writer.
//!
//! A [`Conv`] keeps both sides' sequence numbers so a test reads like the conversation it
//! describes; the `*_at` methods place a segment anywhere to make reordering, overlaps and gaps.

#![allow(dead_code)]

use etherparse::{LinuxSllPacketType, PacketBuilder, PacketBuilderStep};
use std::net::IpAddr;

/// How frames are wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Ethernet II.
    Ethernet,
    /// Ethernet with an 802.1Q tag.
    Vlan,
    /// Linux cooked capture v1.
    Sll,
    /// BSD loopback (NULL), little-endian family.
    Null,
    /// Raw IP.
    Raw,
}

impl Link {
    /// The pcap `LINKTYPE_*` number.
    pub fn linktype(self) -> u32 {
        match self {
            Link::Ethernet | Link::Vlan => 1,
            Link::Sll => 113,
            Link::Null => 0,
            Link::Raw => 101,
        }
    }
}

/// One TCP conversation between a client and a server.
pub struct Conv {
    pub link: Link,
    pub client: (IpAddr, u16),
    pub server: (IpAddr, u16),
    /// Next sequence number each side sends.
    pub cseq: u32,
    pub sseq: u32,
    /// Time of the next packet, in microseconds.
    pub now_us: u64,
    /// (timestamp µs, frame) in capture order.
    pub frames: Frames,
}

const MAC_C: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_S: [u8; 6] = [2, 0, 0, 0, 0, 2];

impl Conv {
    /// IPv4 10.0.0.1:40000 → 10.0.0.2:8080 (or IPv6 fd00::1 → fd00::2) on `link`.
    pub fn new(link: Link, v6: bool) -> Self {
        let (c, s): (IpAddr, IpAddr) = if v6 {
            ("fd00::1".parse().unwrap(), "fd00::2".parse().unwrap())
        } else {
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap())
        };
        Conv {
            link,
            client: (c, 40000),
            server: (s, 8080),
            cseq: 1000,
            sseq: 5000,
            now_us: 1_700_000_000_000_000,
            frames: Vec::new(),
        }
    }

    /// Starts sequence numbers at these values (e.g. near 2^32 to test wrap-around).
    pub fn with_isn(mut self, client: u32, server: u32) -> Self {
        self.cseq = client;
        self.sseq = server;
        self
    }

    /// Uses another client port (a second connection in the same capture).
    pub fn with_client_port(mut self, port: u16) -> Self {
        self.client.1 = port;
        self
    }

    fn tick(&mut self) -> u64 {
        self.now_us += 1000;
        self.now_us
    }

    /// SYN, SYN-ACK, ACK.
    pub fn handshake(&mut self) {
        let (c, s) = (self.cseq, self.sseq);
        self.raw(true, c, None, Flags::SYN, b"");
        self.raw(false, s, Some(c.wrapping_add(1)), Flags::SYN, b"");
        self.cseq = c.wrapping_add(1);
        self.sseq = s.wrapping_add(1);
        self.raw(true, self.cseq, Some(self.sseq), Flags::NONE, b"");
    }

    /// The client sends `data` in order.
    pub fn client(&mut self, data: &[u8]) {
        let seq = self.cseq;
        self.raw(true, seq, Some(self.sseq), Flags::NONE, data);
        self.cseq = seq.wrapping_add(data.len() as u32);
    }

    /// The server sends `data` in order.
    pub fn server(&mut self, data: &[u8]) {
        let seq = self.sseq;
        self.raw(false, seq, Some(self.cseq), Flags::NONE, data);
        self.sseq = seq.wrapping_add(data.len() as u32);
    }

    /// The server sends `data` in segments of at most `mss` bytes.
    pub fn server_segments(&mut self, data: &[u8], mss: usize) {
        for part in data.chunks(mss) {
            self.server(part);
        }
    }

    /// A segment from one side at `offset` bytes past that side's next sequence number,
    /// without advancing it.
    pub fn at(&mut self, from_client: bool, offset: u32, data: &[u8]) {
        let (seq, ack) = if from_client {
            (self.cseq.wrapping_add(offset), self.sseq)
        } else {
            (self.sseq.wrapping_add(offset), self.cseq)
        };
        self.raw(from_client, seq, Some(ack), Flags::NONE, data);
    }

    /// Advances a side's sequence number without sending (the bytes were sent elsewhere).
    pub fn advance(&mut self, from_client: bool, n: u32) {
        if from_client {
            self.cseq = self.cseq.wrapping_add(n);
        } else {
            self.sseq = self.sseq.wrapping_add(n);
        }
    }

    /// A pure ACK from one side.
    pub fn ack(&mut self, from_client: bool) {
        let (seq, ack) = if from_client {
            (self.cseq, self.sseq)
        } else {
            (self.sseq, self.cseq)
        };
        self.raw(from_client, seq, Some(ack), Flags::NONE, b"");
    }

    /// FIN from both sides.
    pub fn close(&mut self) {
        let (c, s) = (self.cseq, self.sseq);
        self.raw(true, c, Some(s), Flags::FIN, b"");
        self.raw(false, s, Some(c.wrapping_add(1)), Flags::FIN, b"");
        self.cseq = c.wrapping_add(1);
        self.sseq = s.wrapping_add(1);
        self.raw(true, self.cseq, Some(self.sseq), Flags::NONE, b"");
    }

    /// Builds and records one frame.
    pub fn raw(
        &mut self,
        from_client: bool,
        seq: u32,
        ack: Option<u32>,
        flags: Flags,
        data: &[u8],
    ) {
        let frame = self.frame(from_client, seq, ack, flags, data);
        let ts = self.tick();
        self.frames.push((ts, frame));
    }

    /// One frame, not recorded.
    pub fn frame(
        &self,
        from_client: bool,
        seq: u32,
        ack: Option<u32>,
        flags: Flags,
        data: &[u8],
    ) -> Vec<u8> {
        let ((src, sp), (dst, dp)) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let (smac, dmac) = if from_client {
            (MAC_C, MAC_S)
        } else {
            (MAC_S, MAC_C)
        };
        let mut out = Vec::new();
        let tcp = |step: PacketBuilderStep<etherparse::IpHeaders>| {
            let mut t = step.tcp(sp, dp, seq, 65535);
            if let Some(a) = ack {
                t = t.ack(a);
            }
            if flags.syn {
                t = t.syn();
            }
            if flags.fin {
                t = t.fin();
            }
            if flags.rst {
                t = t.rst();
            }
            if !data.is_empty() {
                t = t.psh();
            }
            t
        };
        let ip = |link: PacketBuilderStepAny| -> PacketBuilderStep<etherparse::IpHeaders> {
            match (src, dst) {
                (IpAddr::V4(s), IpAddr::V4(d)) => link.ipv4(s.octets(), d.octets(), 64),
                (IpAddr::V6(s), IpAddr::V6(d)) => link.ipv6(s.octets(), d.octets(), 64),
                _ => panic!("mixed address families"),
            }
        };
        match self.link {
            Link::Ethernet => {
                tcp(ip(PacketBuilderStepAny::Eth(PacketBuilder::ethernet2(
                    smac, dmac,
                ))))
                .write(&mut out, data)
                .unwrap();
            }
            Link::Vlan => {
                tcp(ip(PacketBuilderStepAny::Vlan(
                    PacketBuilder::ethernet2(smac, dmac)
                        .single_vlan(etherparse::VlanId::try_new(42).unwrap()),
                )))
                .write(&mut out, data)
                .unwrap();
            }
            Link::Sll => {
                let mut addr = [0u8; 8];
                addr[..6].copy_from_slice(&smac);
                tcp(ip(PacketBuilderStepAny::Sll(PacketBuilder::linux_sll(
                    LinuxSllPacketType::OUTGOING,
                    6,
                    addr,
                ))))
                .write(&mut out, data)
                .unwrap();
            }
            Link::Null | Link::Raw => {
                if self.link == Link::Null {
                    let family: u32 = if src.is_ipv4() { 2 } else { 30 };
                    out.extend(family.to_le_bytes());
                }
                tcp(ip(PacketBuilderStepAny::None))
                    .write(&mut out, data)
                    .unwrap();
            }
        }
        out
    }
}

/// The link steps `PacketBuilder` can continue from with an IP header.
pub enum PacketBuilderStepAny {
    Eth(PacketBuilderStep<etherparse::Ethernet2Header>),
    Vlan(PacketBuilderStep<etherparse::VlanHeader>),
    Sll(PacketBuilderStep<etherparse::LinuxSllHeader>),
    None,
}

impl PacketBuilderStepAny {
    fn ipv4(self, s: [u8; 4], d: [u8; 4], ttl: u8) -> PacketBuilderStep<etherparse::IpHeaders> {
        match self {
            Self::Eth(b) => b.ipv4(s, d, ttl),
            Self::Vlan(b) => b.ipv4(s, d, ttl),
            Self::Sll(b) => b.ipv4(s, d, ttl),
            Self::None => PacketBuilder::ipv4(s, d, ttl),
        }
    }
    fn ipv6(self, s: [u8; 16], d: [u8; 16], hop: u8) -> PacketBuilderStep<etherparse::IpHeaders> {
        match self {
            Self::Eth(b) => b.ipv6(s, d, hop),
            Self::Vlan(b) => b.ipv6(s, d, hop),
            Self::Sll(b) => b.ipv6(s, d, hop),
            Self::None => PacketBuilder::ipv6(s, d, hop),
        }
    }
}

/// TCP flags beyond ACK (set whenever an ack number is given) and PSH (set with data).
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
}

impl Flags {
    pub const NONE: Flags = Flags {
        syn: false,
        fin: false,
        rst: false,
    };
    pub const SYN: Flags = Flags {
        syn: true,
        fin: false,
        rst: false,
    };
    pub const FIN: Flags = Flags {
        syn: false,
        fin: true,
        rst: false,
    };
    pub const RST: Flags = Flags {
        syn: false,
        fin: false,
        rst: true,
    };
}

/// Splits a raw IPv4 frame (Link::Raw) into fragments whose payloads are `size` bytes
/// (a multiple of 8), last one shorter.
pub fn fragment_ipv4(packet: &[u8], size: usize) -> Vec<Vec<u8>> {
    assert_eq!(size % 8, 0);
    let ihl = usize::from(packet[0] & 0x0f) * 4;
    let payload = &packet[ihl..];
    let mut out = Vec::new();
    for (i, part) in payload.chunks(size).enumerate() {
        let mut h = packet[..ihl].to_vec();
        let total = (ihl + part.len()) as u16;
        h[2..4].copy_from_slice(&total.to_be_bytes());
        let more = (i + 1) * size < payload.len();
        let ff = (if more { 0x2000u16 } else { 0 }) | ((i * size / 8) as u16);
        h[6..8].copy_from_slice(&ff.to_be_bytes());
        h.extend_from_slice(part);
        out.push(h);
    }
    out
}

/// Frames as (timestamp in µs, bytes), in capture order.
pub type Frames = Vec<(u64, Vec<u8>)>;

/// A little-endian microsecond pcap file of `frames`, cut to `snaplen` bytes each.
pub fn pcap(linktype: u32, frames: &[(u64, Vec<u8>)]) -> Vec<u8> {
    pcap_snap(linktype, frames, 65535)
}

/// Like [`pcap`], with a snapshot length.
pub fn pcap_snap(linktype: u32, frames: &[(u64, Vec<u8>)], snaplen: usize) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(0xa1b2c3d4u32.to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend(4u16.to_le_bytes());
    out.extend(0i32.to_le_bytes());
    out.extend(0u32.to_le_bytes());
    out.extend((snaplen as u32).to_le_bytes());
    out.extend(linktype.to_le_bytes());
    for (ts, f) in frames {
        let cap = f.len().min(snaplen);
        out.extend(((ts / 1_000_000) as u32).to_le_bytes());
        out.extend(((ts % 1_000_000) as u32).to_le_bytes());
        out.extend((cap as u32).to_le_bytes());
        out.extend((f.len() as u32).to_le_bytes());
        out.extend(&f[..cap]);
    }
    out
}

/// A pcapng file with one section and one interface per entry of `interfaces` (link type,
/// frames); packets of all interfaces are written interleaved by timestamp.
pub fn pcapng(interfaces: &[(u32, Frames)]) -> Vec<u8> {
    let micro: Vec<(u32, u8, Frames)> = interfaces
        .iter()
        .map(|(link, frames)| (*link, 6, frames.clone()))
        .collect();
    pcapng_section(&micro)
}

/// Like [`pcapng`], with each interface's timestamp resolution (`if_tsresol`, a power of ten:
/// 6 for microseconds, 9 for nanoseconds). Sections can be concatenated into one file.
pub fn pcapng_section(interfaces: &[(u32, u8, Frames)]) -> Vec<u8> {
    let mut out = Vec::new();
    let block = |out: &mut Vec<u8>, kind: u32, body: &[u8]| {
        let len = (12 + body.len()) as u32;
        out.extend(kind.to_le_bytes());
        out.extend(len.to_le_bytes());
        out.extend(body);
        out.extend(len.to_le_bytes());
    };
    let mut shb = Vec::new();
    shb.extend(0x1a2b3c4du32.to_le_bytes());
    shb.extend(1u16.to_le_bytes());
    shb.extend(0u16.to_le_bytes());
    shb.extend((-1i64).to_le_bytes());
    block(&mut out, 0x0a0d0d0a, &shb);
    let mut all = Vec::new();
    for (i, (linktype, tsresol, frames)) in interfaces.iter().enumerate() {
        let mut idb = Vec::new();
        idb.extend((*linktype as u16).to_le_bytes());
        idb.extend(0u16.to_le_bytes());
        idb.extend(0u32.to_le_bytes());
        if *tsresol != 6 {
            idb.extend(9u16.to_le_bytes());
            idb.extend(1u16.to_le_bytes());
            idb.extend([*tsresol, 0, 0, 0]);
            idb.extend([0u8; 4]);
        }
        block(&mut out, 1, &idb);
        for (ts_us, f) in frames {
            let ts = if *tsresol >= 6 {
                ts_us * 10u64.pow(u32::from(*tsresol) - 6)
            } else {
                ts_us / 10u64.pow(6 - u32::from(*tsresol))
            };
            all.push((*ts_us, ts, i as u32, f));
        }
    }
    all.sort_by_key(|(ts_us, _, i, _)| (*ts_us, *i));
    for (_, ts, i, f) in all {
        let mut epb = Vec::new();
        epb.extend(i.to_le_bytes());
        epb.extend(((ts >> 32) as u32).to_le_bytes());
        epb.extend((ts as u32).to_le_bytes());
        epb.extend((f.len() as u32).to_le_bytes());
        epb.extend((f.len() as u32).to_le_bytes());
        epb.extend(f.iter());
        while epb.len() % 4 != 0 {
            epb.push(0);
        }
        block(&mut out, 6, &epb);
    }
    out
}

/// An HTTP/1.1 response with a Content-Length body.
pub fn response(status: u16, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A GET request.
pub fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: api.test\r\n\r\n").into_bytes()
}

/// A small deterministic generator (xorshift), so failures replay.
pub struct Rng(pub u64);

impl Rng {
    /// The next value.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}
