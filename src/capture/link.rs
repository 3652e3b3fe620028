//! Link layers: strips the frame header a capture's link type puts in front of the IP packet.
//!
//! Second step of the capture pipeline (after the pcap reader, before [`super::ip`]). The
//! headers are fixed-size and few, so they are sliced by hand here; the IP and TCP layers after
//! them carry the variable parts. Link types follow <https://www.tcpdump.org/linktypes.html>.

/// Most VLAN tags stacked on one Ethernet frame that are unwrapped (802.1Q inside 802.1ad and
/// the old 0x9100 QinQ tag); deeper stacks are counted as unsupported.
pub const MAX_VLAN_TAGS: usize = 4;

/// The link types wirecap reads, named as tcpdump's `LINKTYPE_*` list names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinkType {
    /// `LINKTYPE_NULL` (0): BSD loopback, a 4-byte address family in the writer's byte order.
    Null,
    /// `LINKTYPE_ETHERNET` (1), with any 802.1Q/802.1ad VLAN tags.
    Ethernet,
    /// `LINKTYPE_RAW` (101, and 12/14 on some systems): the frame is an IPv4 or IPv6 packet.
    Raw,
    /// `LINKTYPE_LOOP` (108): OpenBSD loopback, a big-endian 4-byte address family.
    Loop,
    /// `LINKTYPE_LINUX_SLL` (113): Linux cooked capture v1.
    LinuxSll,
    /// `LINKTYPE_IPV4` (228).
    Ipv4,
    /// `LINKTYPE_IPV6` (229).
    Ipv6,
    /// `LINKTYPE_LINUX_SLL2` (276): Linux cooked capture v2.
    LinuxSll2,
    /// `LINKTYPE_PPP` (9) and `LINKTYPE_PPP_HDLC` (50): a PPP frame, with or without the
    /// HDLC-like address and control bytes.
    Ppp,
    /// Any other link type, by number: counted, not decoded.
    Other(i32),
}

impl LinkType {
    /// The link type for a pcap/pcapng `LINKTYPE_*` number.
    pub fn from_number(n: i32) -> Self {
        match n {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            12 | 14 | 101 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            9 | 50 => LinkType::Ppp,
            other => LinkType::Other(other),
        }
    }

    /// A short name for the summary.
    pub fn name(self) -> String {
        match self {
            LinkType::Null => "null".into(),
            LinkType::Ethernet => "ethernet".into(),
            LinkType::Raw => "raw".into(),
            LinkType::Loop => "loop".into(),
            LinkType::LinuxSll => "linux-sll".into(),
            LinkType::Ipv4 => "raw-ipv4".into(),
            LinkType::Ipv6 => "raw-ipv6".into(),
            LinkType::LinuxSll2 => "linux-sll2".into(),
            LinkType::Ppp => "ppp".into(),
            LinkType::Other(n) => format!("linktype-{n}"),
        }
    }
}

/// What a frame held once its link header was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload<'a> {
    /// An IPv4 packet (or its captured prefix).
    Ipv4(&'a [u8]),
    /// An IPv6 packet (or its captured prefix).
    Ipv6(&'a [u8]),
    /// Something else: ARP, LLDP, an unknown link type, a frame too short for its header.
    Other(NotIp),
}

/// What a frame that held no IP packet held instead, for the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NotIp {
    /// An Ethernet (or cooked) frame of another EtherType: ARP is 0x0806, LLDP 0x88cc.
    EtherType(u16),
    /// A PPP frame of another protocol: LCP is 0xc021, IPCP 0x8021.
    PppProtocol(u16),
    /// A loopback frame of another address family.
    Family(u32),
    /// A raw frame whose first nibble is no IP version.
    IpVersion(u8),
    /// A frame too short for its link header.
    Short,
    /// More VLAN tags than [`MAX_VLAN_TAGS`].
    VlanTooDeep,
    /// A link type wirecap does not decode.
    UnsupportedLink,
}

impl NotIp {
    /// A name for the summary: `ethertype 0x0806`, `ppp 0xc021`, `short frame`.
    pub fn name(self) -> String {
        match self {
            NotIp::EtherType(t) => format!("ethertype 0x{t:04x}"),
            NotIp::PppProtocol(p) => format!("ppp 0x{p:04x}"),
            NotIp::Family(f) => format!("address family {f}"),
            NotIp::IpVersion(v) => format!("ip version {v}"),
            NotIp::Short => "short frame".into(),
            NotIp::VlanTooDeep => "vlan tags too deep".into(),
            NotIp::UnsupportedLink => "unsupported link type".into(),
        }
    }
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];
/// PPPoE session stage (RFC 2516 §5): PPP frames from a DSL line.
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
/// PPP protocol numbers of IPv4 and IPv6 (RFC 1332, RFC 5072).
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;

/// The big-endian 16-bit field at `at`, if the bytes are there.
pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn by_ethertype(ethertype: u16, rest: &[u8]) -> Payload<'_> {
    match ethertype {
        ETHERTYPE_IPV4 => Payload::Ipv4(rest),
        ETHERTYPE_IPV6 => Payload::Ipv6(rest),
        other => Payload::Other(NotIp::EtherType(other)),
    }
}

/// The UDP port of L2TP (RFC 2661 §8.1).
pub const L2TP_PORT: u16 = 1701;
/// The UDP destination port of VXLAN (RFC 7348 §5; the source port is a flow hash).
pub const VXLAN_PORT: u16 = 4789;

/// What a UDP datagram carries when it is a tunnel wirecap opens: L2TPv2 (PPP) on port 1701,
/// VXLAN (Ethernet) to port 4789. `udp` starts at the UDP header.
pub fn udp_tunnel(udp: &[u8]) -> Option<Payload<'_>> {
    let (src, dst) = (be16(udp, 0)?, be16(udp, 2)?);
    if src == L2TP_PORT || dst == L2TP_PORT {
        l2tp_in_udp(udp)
    } else if dst == VXLAN_PORT {
        vxlan_in_udp(udp)
    } else {
        None
    }
}

/// The Ethernet frame inside a VXLAN header (RFC 7348 §5): 8 bytes, the I flag set.
fn vxlan_in_udp(udp: &[u8]) -> Option<Payload<'_>> {
    let vxlan = udp.get(8..)?;
    if vxlan.len() < 8 || vxlan[0] & 0x08 == 0 {
        return None;
    }
    Some(parse_frame(LinkType::Ethernet, &vxlan[8..]))
}

/// What an L2TPv2 data message over UDP carries (RFC 2661 §3.1): the PPP frame after its
/// header, whose length depends on the L, S and O flags. `None` for control messages, other
/// versions and short datagrams. `udp` starts at the UDP header.
fn l2tp_in_udp(udp: &[u8]) -> Option<Payload<'_>> {
    let l2tp = udp.get(8..)?;
    let (flags, version) = (*l2tp.first()?, *l2tp.get(1)? & 0x0f);
    if flags & 0x80 != 0 || version != 2 {
        return None;
    }
    let mut at = 2;
    if flags & 0x40 != 0 {
        at += 2;
    }
    at += 4; // tunnel and session ids
    if flags & 0x08 != 0 {
        at += 4;
    }
    if flags & 0x02 != 0 {
        at += 2 + usize::from(be16(l2tp, at)?);
    }
    Some(by_ppp_protocol(l2tp.get(at..)?))
}

/// A PPP frame's payload by its protocol field (RFC 1661 §2), after an optional HDLC-like
/// address and control (`ff 03`, RFC 1662 §3.1).
fn by_ppp_protocol(frame: &[u8]) -> Payload<'_> {
    let frame = frame.strip_prefix(&[0xff, 0x03]).unwrap_or(frame);
    match be16(frame, 0) {
        Some(PPP_IPV4) => Payload::Ipv4(&frame[2..]),
        Some(PPP_IPV6) => Payload::Ipv6(&frame[2..]),
        Some(other) => Payload::Other(NotIp::PppProtocol(other)),
        None => Payload::Other(NotIp::Short),
    }
}

/// A PPPoE session frame (RFC 2516 §4): version and type, code, session id, a length that
/// covers the PPP frame (so Ethernet padding is left out), then PPP.
fn pppoe_session(frame: &[u8]) -> Payload<'_> {
    let (Some(len), Some(rest)) = (be16(frame, 4), frame.get(6..)) else {
        return Payload::Other(NotIp::Short);
    };
    by_ppp_protocol(rest.get(..usize::from(len)).unwrap_or(rest))
}

fn by_version(packet: &[u8]) -> Payload<'_> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => Payload::Ipv4(packet),
        Some(6) => Payload::Ipv6(packet),
        Some(v) => Payload::Other(NotIp::IpVersion(v)),
        None => Payload::Other(NotIp::Short),
    }
}

/// BSD address families that mean IPv4 (2) and IPv6 (24, 28, 30 on the BSDs and macOS).
fn by_family(family: u32, rest: &[u8]) -> Payload<'_> {
    match family {
        2 => Payload::Ipv4(rest),
        24 | 28 | 30 => Payload::Ipv6(rest),
        other => Payload::Other(NotIp::Family(other)),
    }
}

/// Removes the link header of one frame.
pub fn parse_frame(link: LinkType, frame: &[u8]) -> Payload<'_> {
    const SHORT: Payload<'static> = Payload::Other(NotIp::Short);
    match link {
        LinkType::Ethernet => {
            let Some(mut ethertype) = be16(frame, 12) else {
                return SHORT;
            };
            let mut at = 14;
            for _ in 0..MAX_VLAN_TAGS {
                if !ETHERTYPE_VLAN.contains(&ethertype) {
                    break;
                }
                let Some(inner) = be16(frame, at + 2) else {
                    return SHORT;
                };
                ethertype = inner;
                at += 4;
            }
            if ETHERTYPE_VLAN.contains(&ethertype) {
                return Payload::Other(NotIp::VlanTooDeep);
            }
            let rest = frame.get(at..).unwrap_or_default();
            if ethertype == ETHERTYPE_PPPOE_SESSION {
                return pppoe_session(rest);
            }
            by_ethertype(ethertype, rest)
        }
        LinkType::LinuxSll => match be16(frame, 14) {
            Some(proto) => by_ethertype(proto, &frame[16..]),
            None => SHORT,
        },
        LinkType::LinuxSll2 => match (be16(frame, 0), frame.get(20..)) {
            (Some(proto), Some(rest)) => by_ethertype(proto, rest),
            _ => SHORT,
        },
        LinkType::Null => match frame.get(..4) {
            // The family is in the byte order of the machine that wrote the file, which the
            // file does not say; families are small, so whichever order gives one wins.
            Some(b) => {
                let le = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                let be = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                by_family(le.min(be), &frame[4..])
            }
            None => SHORT,
        },
        LinkType::Loop => match frame.get(..4) {
            Some(b) => by_family(u32::from_be_bytes([b[0], b[1], b[2], b[3]]), &frame[4..]),
            None => SHORT,
        },
        LinkType::Raw => by_version(frame),
        LinkType::Ppp => by_ppp_protocol(frame),
        LinkType::Ipv4 => Payload::Ipv4(frame),
        LinkType::Ipv6 => Payload::Ipv6(frame),
        LinkType::Other(_) => Payload::Other(NotIp::UnsupportedLink),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! frame {
        ($link:expr, $bytes:expr => $want:expr) => {
            assert_eq!(parse_frame($link, &$bytes), $want, "{:?}", $link)
        };
    }

    #[test]
    fn pppoe_sessions_are_read_below_vlan_tags_and_without_padding() {
        let ip4 = [0x45u8, 0, 0, 20];
        // Ethernet, two VLAN tags, PPPoE session (length 6: PPP protocol + 4 bytes), padding.
        let mut eth = vec![0u8; 12];
        eth.extend([0x88, 0xa8, 0, 1, 0x81, 0x00, 0, 2, 0x88, 0x64]);
        eth.extend([0x11, 0x00, 0x12, 0x34, 0x00, 0x06, 0x00, 0x21]);
        eth.extend(ip4);
        eth.extend([0; 8]);
        frame!(LinkType::Ethernet, eth => Payload::Ipv4(&ip4));
        let mut v6 = vec![0u8; 12];
        v6.extend([0x88, 0x64, 0x11, 0x00, 0, 1, 0, 3, 0x00, 0x57, 0x60]);
        frame!(LinkType::Ethernet, v6 => Payload::Ipv6(&[0x60]));
        let mut lcp = vec![0u8; 12];
        lcp.extend([0x88, 0x64, 0x11, 0x00, 0, 1, 0, 2, 0xc0, 0x21]);
        frame!(LinkType::Ethernet, lcp => Payload::Other(NotIp::PppProtocol(0xc021)));
        frame!(LinkType::Ppp, [0xff, 0x03, 0x00, 0x21, 0x45] => Payload::Ipv4(&[0x45]));
        frame!(LinkType::Ppp, [0x00, 0x57, 0x60] => Payload::Ipv6(&[0x60]));
        frame!(LinkType::Ppp, [0x00] => Payload::Other(NotIp::Short));
    }

    #[test]
    fn l2tp_data_messages_carry_ppp() {
        let udp = [0u8; 8];
        // Data message, version 2, length field present, tunnel 1, session 2, PPP IPv6.
        let msg = [
            &udp[..],
            &[0x40, 0x02, 0, 14, 0, 1, 0, 2, 0xff, 0x03, 0x00, 0x57, 0x60],
        ]
        .concat();
        assert_eq!(l2tp_in_udp(&msg), Some(Payload::Ipv6(&[0x60])));
        let control = [&udp[..], &[0xc8, 0x02, 0, 12, 0, 1, 0, 0]].concat();
        assert_eq!(l2tp_in_udp(&control), None);
        let v3 = [&udp[..], &[0x00, 0x03, 0, 1, 0, 2]].concat();
        assert_eq!(l2tp_in_udp(&v3), None);
        assert_eq!(l2tp_in_udp(&udp[..5]), None);
    }

    #[test]
    fn vxlan_to_its_port_carries_ethernet_and_needs_the_i_flag() {
        let udp =
            |src: u16, dst: u16| [src.to_be_bytes(), dst.to_be_bytes(), [0, 0], [0, 0]].concat();
        let mut eth = vec![0u8; 12];
        eth.extend([0x08, 0x00, 0x45]);
        let vxlan = |flags: u8| [&[flags, 0, 0, 0, 0, 0, 42, 0][..], &eth].concat();
        let to_4789 = [udp(50000, VXLAN_PORT), vxlan(0x08)].concat();
        assert_eq!(udp_tunnel(&to_4789), Some(Payload::Ipv4(&[0x45])));
        let no_vni = [udp(50000, VXLAN_PORT), vxlan(0x00)].concat();
        assert_eq!(udp_tunnel(&no_vni), None);
        // The source port is a hash of the inner flow: 4789 there means nothing.
        let from_4789 = [udp(VXLAN_PORT, 50000), vxlan(0x08)].concat();
        assert_eq!(udp_tunnel(&from_4789), None);
    }

    #[test]
    fn strips_each_link_header() {
        let ip4 = [0x45u8, 0, 0, 20];
        let mut eth = vec![0u8; 12];
        eth.extend([0x08, 0x00]);
        eth.extend(ip4);
        frame!(LinkType::Ethernet, eth => Payload::Ipv4(&ip4));
        let mut qinq = vec![0u8; 12];
        qinq.extend([0x88, 0xa8, 0, 1, 0x81, 0x00, 0, 2, 0x86, 0xdd, 0x60]);
        frame!(LinkType::Ethernet, qinq => Payload::Ipv6(&[0x60]));
        let mut sll = vec![0u8; 14];
        sll.extend([0x08, 0x00]);
        sll.extend(ip4);
        frame!(LinkType::LinuxSll, sll => Payload::Ipv4(&ip4));
        let mut sll2 = vec![0x86, 0xdd];
        sll2.extend([0u8; 18]);
        sll2.push(0x60);
        frame!(LinkType::LinuxSll2, sll2 => Payload::Ipv6(&[0x60]));
        frame!(LinkType::Null, [2, 0, 0, 0, 0x45] => Payload::Ipv4(&[0x45]));
        frame!(LinkType::Null, [0, 0, 0, 30, 0x60] => Payload::Ipv6(&[0x60]));
        frame!(LinkType::Loop, [0, 0, 0, 2, 0x45] => Payload::Ipv4(&[0x45]));
        frame!(LinkType::Raw, [0x60, 1] => Payload::Ipv6(&[0x60, 1]));
    }

    #[test]
    fn short_and_foreign_frames_are_named() {
        frame!(LinkType::Ethernet, [0u8; 5] => Payload::Other(NotIp::Short));
        frame!(LinkType::Ethernet, [0u8; 14] => Payload::Other(NotIp::EtherType(0)));
        frame!(LinkType::Other(147), [0u8; 14] => Payload::Other(NotIp::UnsupportedLink));
        frame!(LinkType::Null, [7, 0, 0, 0] => Payload::Other(NotIp::Family(7)));
    }
}
