//! IPv4 and IPv6: addresses, the transport protocol, and the payload, with IPv4 fragments put
//! back together.
//!
//! Third step of the capture pipeline, between [`super::link`] and [`super::tcp_reassembly`].
//! Headers are read by hand (RFC 791, RFC 8200): only the few fields the pipeline needs, with
//! every length checked against what was captured. The payload length comes from the IP header,
//! not the frame, so Ethernet padding never leaks into TCP data; a packet cut short by the
//! snapshot length keeps its captured prefix and says how much is missing.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Most IPv4 datagrams being reassembled at once; past it the oldest is dropped (a loss note).
pub const MAX_PENDING_FRAGMENTS: usize = 1024;

/// Largest reassembled IPv4 datagram: the 16-bit total length allows no more.
pub const MAX_DATAGRAM_BYTES: usize = 65_535;

/// Most IPv6 extension headers skipped before the transport header.
pub const MAX_IPV6_EXTENSIONS: usize = 8;

/// The TCP protocol number.
pub const PROTO_TCP: u8 = 6;
/// The UDP protocol number.
pub const PROTO_UDP: u8 = 17;

/// One IP packet's view of its transport payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The sender.
    pub src: IpAddr,
    /// The receiver.
    pub dst: IpAddr,
    /// The transport protocol number (6 for TCP).
    pub protocol: u8,
    /// The captured transport bytes (header and data).
    pub payload: Cow<'a, [u8]>,
    /// Bytes of payload the packet had on the wire but the capture cut off (snapshot length).
    pub missing: usize,
}

/// Why an IP packet gave no payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The header is shorter than it says, or its fields are inconsistent.
    Malformed,
    /// An IPv4 fragment held until the rest of its datagram arrives.
    FragmentHeld,
    /// A non-first fragment whose datagram is being dropped (a limit, or a conflict).
    FragmentDropped,
    /// An IPv6 fragment: not reassembled yet, counted.
    Ipv6Fragment,
}

/// Parses an IPv4 packet; fragments go through `defrag`.
pub fn parse_ipv4<'a>(bytes: &'a [u8], defrag: &mut Defragmenter) -> Result<Packet<'a>, Skip> {
    if bytes.len() < 20 || bytes[0] >> 4 != 4 {
        return Err(Skip::Malformed);
    }
    let ihl = usize::from(bytes[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
    // TCP segmentation offload on the capturing host can record a total length of 0.
    let total = if total == 0 { bytes.len() } else { total };
    if ihl < 20 || total < ihl || bytes.len() < ihl {
        return Err(Skip::Malformed);
    }
    let id = u16::from_be_bytes([bytes[4], bytes[5]]);
    let flags_frag = u16::from_be_bytes([bytes[6], bytes[7]]);
    let more = flags_frag & 0x2000 != 0;
    let offset = usize::from(flags_frag & 0x1fff) * 8;
    let protocol = bytes[9];
    let src = IpAddr::V4(Ipv4Addr::new(bytes[12], bytes[13], bytes[14], bytes[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(bytes[16], bytes[17], bytes[18], bytes[19]));
    let end = total.min(bytes.len());
    let data = &bytes[ihl..end];
    let missing = total - end;
    if !more && offset == 0 {
        return Ok(Packet {
            src,
            dst,
            protocol,
            payload: Cow::Borrowed(data),
            missing,
        });
    }
    if missing > 0 {
        defrag.drop_datagram(FragKey {
            src,
            dst,
            id,
            protocol,
        });
        return Err(Skip::FragmentDropped);
    }
    let key = FragKey {
        src,
        dst,
        id,
        protocol,
    };
    match defrag.add(key, offset, more, data) {
        Ok(Some(whole)) => Ok(Packet {
            src,
            dst,
            protocol,
            payload: Cow::Owned(whole),
            missing: 0,
        }),
        Ok(None) => Err(Skip::FragmentHeld),
        Err(()) => Err(Skip::FragmentDropped),
    }
}

/// Parses an IPv6 packet, skipping extension headers.
pub fn parse_ipv6(bytes: &[u8]) -> Result<Packet<'_>, Skip> {
    if bytes.len() < 40 || bytes[0] >> 4 != 6 {
        return Err(Skip::Malformed);
    }
    let payload_len = usize::from(u16::from_be_bytes([bytes[4], bytes[5]]));
    let mut next = bytes[6];
    let src: [u8; 16] = bytes[8..24].try_into().expect("slice of 16");
    let dst: [u8; 16] = bytes[24..40].try_into().expect("slice of 16");
    let total = 40 + payload_len;
    let end = total.min(bytes.len());
    let missing = total - end;
    let mut at = 40;
    for _ in 0..MAX_IPV6_EXTENSIONS {
        match next {
            // Hop-by-hop, routing, destination options: length in 8-octet units after the first 8.
            0 | 43 | 60 => {
                let (Some(&n), Some(&len)) = (bytes.get(at), bytes.get(at + 1)) else {
                    return Err(Skip::Malformed);
                };
                next = n;
                at += 8 + usize::from(len) * 8;
            }
            44 => return Err(Skip::Ipv6Fragment),
            _ => break,
        }
    }
    if at > end {
        return Err(Skip::Malformed);
    }
    Ok(Packet {
        src: IpAddr::V6(Ipv6Addr::from(src)),
        dst: IpAddr::V6(Ipv6Addr::from(dst)),
        protocol: next,
        payload: Cow::Borrowed(&bytes[at..end]),
        missing,
    })
}

/// What identifies the fragments of one IPv4 datagram (RFC 791).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragKey {
    src: IpAddr,
    dst: IpAddr,
    id: u16,
    protocol: u8,
}

#[derive(Debug, Default)]
struct Datagram {
    /// Fragments as (offset, bytes), in arrival order.
    parts: Vec<(usize, Vec<u8>)>,
    /// The datagram's length, known once the last fragment (MF=0) arrived.
    total: Option<usize>,
    /// Arrival order, to drop the oldest first.
    arrival: u64,
}

/// Reassembles IPv4 fragments. Overlaps keep the first-arrived bytes, as the TCP layer does.
#[derive(Debug, Default)]
pub struct Defragmenter {
    pending: HashMap<FragKey, Datagram>,
    arrivals: u64,
    /// Datagrams given up on (limit reached, or a fragment past the maximum size).
    pub dropped: u64,
}

impl Defragmenter {
    fn drop_datagram(&mut self, key: FragKey) {
        if self.pending.remove(&key).is_some() {
            self.dropped += 1;
        }
    }

    /// Adds one fragment; returns the whole payload once every byte is there.
    fn add(
        &mut self,
        key: FragKey,
        offset: usize,
        more: bool,
        data: &[u8],
    ) -> Result<Option<Vec<u8>>, ()> {
        if offset + data.len() > MAX_DATAGRAM_BYTES {
            self.drop_datagram(key);
            return Err(());
        }
        if !self.pending.contains_key(&key) && self.pending.len() >= MAX_PENDING_FRAGMENTS {
            let oldest = self
                .pending
                .iter()
                .min_by_key(|(_, d)| d.arrival)
                .map(|(k, _)| *k);
            if let Some(k) = oldest {
                self.drop_datagram(k);
            }
        }
        self.arrivals += 1;
        let arrival = self.arrivals;
        let d = self.pending.entry(key).or_insert_with(|| Datagram {
            arrival,
            ..Datagram::default()
        });
        d.parts.push((offset, data.to_vec()));
        if !more {
            d.total = Some(offset + data.len());
        }
        let Some(total) = d.total else {
            return Ok(None);
        };
        // Covered when sorted parts leave no hole below `total`.
        let mut parts: Vec<&(usize, Vec<u8>)> = d.parts.iter().collect();
        parts.sort_by_key(|(o, _)| *o);
        let mut covered = 0;
        for (o, b) in &parts {
            if *o > covered {
                return Ok(None);
            }
            covered = covered.max(o + b.len());
        }
        if covered < total {
            return Ok(None);
        }
        let d = self.pending.remove(&key).expect("entry was just used");
        let mut whole = vec![0u8; total];
        let mut filled = vec![false; total];
        for (o, b) in d.parts {
            for (i, byte) in b.into_iter().enumerate() {
                if let Some(f) = filled.get_mut(o + i).filter(|f| !**f) {
                    *f = true;
                    whole[o + i] = byte;
                }
            }
        }
        Ok(Some(whole))
    }

    /// Datagrams still incomplete (at the end of the capture: counted as lost).
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4(id: u16, more: bool, offset8: u16, data: &[u8]) -> Vec<u8> {
        let total = (20 + data.len()) as u16;
        let ff = (if more { 0x2000 } else { 0 }) | offset8;
        let mut b = vec![0x45, 0];
        b.extend(total.to_be_bytes());
        b.extend(id.to_be_bytes());
        b.extend(ff.to_be_bytes());
        b.extend([64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        b.extend(data);
        b
    }

    #[test]
    fn whole_packet_passes_and_padding_is_cut() {
        let mut d = Defragmenter::default();
        let mut p = ipv4(1, false, 0, b"abc");
        p.extend([0, 0, 0]);
        let got = parse_ipv4(&p, &mut d).expect("a packet");
        assert_eq!(&*got.payload, b"abc");
        assert_eq!(got.protocol, PROTO_TCP);
    }

    #[test]
    fn fragments_in_any_order_reassemble() {
        let mut d = Defragmenter::default();
        let a = ipv4(7, true, 0, b"01234567");
        let b = ipv4(7, true, 1, b"89abcdef");
        let c = ipv4(7, false, 2, b"xyz");
        assert_eq!(parse_ipv4(&c, &mut d), Err(Skip::FragmentHeld));
        assert_eq!(parse_ipv4(&a, &mut d), Err(Skip::FragmentHeld));
        let got = parse_ipv4(&b, &mut d).expect("complete");
        assert_eq!(&*got.payload, b"0123456789abcdefxyz");
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn truncated_packet_reports_missing_bytes() {
        let mut d = Defragmenter::default();
        let p = ipv4(1, false, 0, b"abcdef");
        let got = parse_ipv4(&p[..22], &mut d).expect("a packet");
        assert_eq!((&*got.payload, got.missing), (&b"ab"[..], 4));
        assert_eq!(parse_ipv4(&p[..10], &mut d), Err(Skip::Malformed));
    }
}
