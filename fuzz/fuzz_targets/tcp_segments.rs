//! The TCP reassembler driven by arbitrary segment sequences: each 4-byte step of the input
//! picks a direction, a sequence offset (before, at or past the expected one), flags and a
//! slice of a real keep-alive exchange. The segments go into a pcap, read as `convert` does.
#![no_main]
use etherparse::PacketBuilder;

const CLIENT: &[u8] = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
const SERVER: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut pcap = Vec::new();
    for field in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
        pcap.extend_from_slice(&field.to_le_bytes());
    }
    pcap[4..8].copy_from_slice(&[2, 0, 4, 0]);
    let isn = [1000u32, 5000];
    for (i, step) in data.chunks(4).enumerate() {
        let [a, b, c, d] = [0, 1, 2, 3].map(|k| step.get(k).copied().unwrap_or(0));
        let client = a & 1 == 0;
        let stream = if client { CLIENT } else { SERVER };
        let side = usize::from(!client);
        let start = usize::from(b) % (stream.len() + 8);
        let len = usize::from(c) % 40;
        let payload = stream
            .get(start.min(stream.len())..(start + len).min(stream.len()))
            .unwrap_or_default();
        let seq = isn[side]
            .wrapping_add(start as u32)
            .wrapping_sub(u32::from(d >> 5));
        let (src, dst) = if client {
            ([10, 0, 0, 1], [10, 0, 0, 2])
        } else {
            ([10, 0, 0, 2], [10, 0, 0, 1])
        };
        let (sp, dp) = if client { (40000, 80) } else { (80, 40000) };
        let mut tcp = PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4(src, dst, 64)
            .tcp(sp, dp, seq, 65535);
        if a & 2 != 0 {
            tcp = tcp.syn();
        }
        if a & 4 != 0 {
            tcp = tcp.fin();
        }
        if a & 8 != 0 {
            tcp = tcp.rst();
        }
        if a & 16 != 0 {
            tcp = tcp.ack(isn[1 - side]);
        }
        let mut frame = Vec::new();
        if tcp.write(&mut frame, payload).is_err() {
            continue;
        }
        let ts = 1_700_000_000u32 + (i as u32) / 4;
        for field in [
            ts,
            (i as u32 % 4) * 1000,
            frame.len() as u32,
            frame.len() as u32,
        ] {
            pcap.extend_from_slice(&field.to_le_bytes());
        }
        pcap.extend_from_slice(&frame);
    }
    wirecap_fuzz::read_all(wirecap::formats::Format::Pcap, &pcap);
});
