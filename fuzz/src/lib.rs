//! The fuzz targets' bodies, one function per target (`fuzz_targets/<name>.rs` calls
//! [`targets::<name>`](targets)), and what they share: turning one input into the chunks of a
//! connection, and reading a whole stream of exchanges (each redacted, as `--redact` does).
//!
//! `tests/fuzz_replay.rs` in the main crate includes this file, so `cargo test` runs every
//! target's function on seeds from `testdata/`, on the committed crash inputs in
//! `fuzz/regressions/<target>/`, and on a fixed set of mutations of both.

use wirecap::capture::connection::{FlowInfo, Role};
use wirecap::capture::tcp_reassembly::{Chunk, Origin};
use wirecap::formats::{self, Format, Input, ReadOptions};
use wirecap::model::Timestamp;

/// Splits `data` into a connection's chunks: a byte 0xfe switches direction, 0xfd marks a gap
/// whose length is the next byte. Packet numbers and times rise by one per chunk.
pub fn chunks(data: &[u8]) -> Vec<(Role, Option<&[u8]>, u64, Origin)> {
    let mut out = Vec::new();
    let mut role = Role::Request;
    let mut rest = data;
    let mut n = 0u64;
    while !rest.is_empty() {
        n += 1;
        let origin = Origin {
            ts: Timestamp::from_unix(1_700_000_000 + n as i64, 0),
            packet: n,
        };
        let end = rest
            .iter()
            .position(|&b| b == 0xfe || b == 0xfd)
            .unwrap_or(rest.len());
        if end > 0 {
            out.push((role, Some(&rest[..end]), 0, origin));
        }
        match rest.get(end) {
            Some(0xfe) => {
                role = match role {
                    Role::Request => Role::Response,
                    Role::Response => Role::Request,
                };
                rest = &rest[end + 1..];
            }
            Some(_) => {
                let gap = u64::from(rest.get(end + 1).copied().unwrap_or(1));
                out.push((role, None, gap, origin));
                rest = rest.get(end + 2..).unwrap_or_default();
            }
            None => rest = &[],
        }
    }
    out
}

/// Feeds the chunks of `data` to `feed` as [`Chunk`]s.
pub fn feed_chunks(data: &[u8], mut feed: impl FnMut(Role, Chunk<'_>)) {
    for (role, bytes, gap, origin) in chunks(data) {
        match bytes {
            Some(b) => feed(role, Chunk::Data(b, origin)),
            None => feed(role, Chunk::Gap(gap)),
        }
    }
}

/// A cleartext flow's stamp.
pub fn flow_info() -> FlowInfo {
    FlowInfo {
        file: "fuzz".into(),
        label: "c -> s".into(),
        server: "10.0.0.2:80".parse().expect("a socket address"),
        tls: None,
    }
}

/// Reads every exchange (and error) of `data` as `format`; the reader must end on its own.
pub fn read_all(format: Format, data: &[u8]) {
    let input = Input {
        name: "fuzz".into(),
        reader: Box::new(std::io::Cursor::new(data.to_vec())),
    };
    let redact = wirecap::filter::redact::Redaction::new(&[], &[], &[]);
    let mut tally = Default::default();
    if let Ok(exchanges) = formats::read(format, input, &ReadOptions::default()) {
        for mut ex in exchanges.flatten() {
            redact.exchange(&mut ex, &mut tally);
        }
    }
}

/// One function per fuzz target, each taking the fuzzer's input.
pub mod targets {

    /// Any bytes as a pcap or pcapng capture: records, link, IP and TCP decoding, reassembly and
    /// HTTP, through the same reader `convert` uses.
    pub fn pcap(data: &[u8]) {
        super::read_all(wirecap::formats::Format::Pcap, data);
    }

    /// The TCP reassembler driven by arbitrary segment sequences: each 4-byte step of the input
    /// picks a direction, a sequence offset (before, at or past the expected one), flags and a
    /// slice of a real keep-alive exchange. The segments go into a pcap, read as `convert` does.
    pub fn tcp_segments(data: &[u8]) {
        use etherparse::PacketBuilder;
        const CLIENT: &[u8] = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
        const SERVER: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
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
        super::read_all(wirecap::formats::Format::Pcap, &pcap);
    }

    /// The HTTP/1 parser and pairing on both directions of a connection, gaps included.
    pub fn http1(data: &[u8]) {
        use wirecap::capture::connection::HttpOptions;
        use wirecap::capture::http1::Connection;
        let from_start = data.first().is_some_and(|b| b & 1 == 0);
        let mut c = Connection::new(super::flow_info(), HttpOptions::default(), from_start);
        super::feed_chunks(data.get(1..).unwrap_or_default(), |role, chunk| {
            c.feed(role, chunk)
        });
        c.finish();
    }

    /// HTTP/2 frames, HPACK and streams on both directions, after the client preface.
    pub fn http2(data: &[u8]) {
        use wirecap::capture::connection::{HttpOptions, Role};
        use wirecap::capture::http2::Connection;
        use wirecap::capture::tcp_reassembly::{Chunk, Origin};
        use wirecap::model::Timestamp;
        const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
        let mut c = Connection::new(super::flow_info(), HttpOptions::default(), true);
        let origin = Origin {
            ts: Timestamp::from_unix(1_700_000_000, 0),
            packet: 0,
        };
        if !data.starts_with(b"PRI ") {
            c.feed(Role::Request, Chunk::Data(PREFACE, origin));
        }
        super::feed_chunks(data, |role, chunk| c.feed(role, chunk));
        c.finish();
    }

    /// TLS record reassembly and handshake parsing on both directions; with the key log the input
    /// brings (its first line, if it parses), records are tried as well.
    pub fn tls(data: &[u8]) {
        use std::sync::{Arc, RwLock};
        use wirecap::capture::tls::TlsStream;
        use wirecap::capture::tls::keylog::KeyLog;
        let (keys, stream) = match data.iter().position(|&b| b == b'\n') {
            Some(i) if data.starts_with(b"CLIENT_") => (&data[..=i], &data[i + 1..]),
            _ => (&[][..], data),
        };
        let mut log = KeyLog::default();
        let _ = log.add_text(keys);
        let mut s = TlsStream::new(Arc::new(RwLock::new(log)));
        super::feed_chunks(stream, |role, chunk| s.feed(role, chunk, &mut |_, _, _| {}));
    }

    /// http-types JSONL (and pretty or array documents) through the reader `convert` uses.
    pub fn http_types(data: &[u8]) {
        super::read_all(wirecap::formats::Format::HttpTypes, data);
    }

    /// Every Hoverfly reader (simulations of every schemaVersion, legacy records, templates and
    /// delays), then the pairs as exchanges, as `convert` does.
    pub fn hoverfly(data: &[u8]) {
        use wirecap::formats::{self, Format, Input, ReadOptions};
        use wirecap::loss::Losses;
        for format in [
            Format::Hoverfly,
            Format::HoverflyV1Records,
            Format::HoverflyV1Templates,
            Format::HoverflyV1Delays,
        ] {
            let input = Input {
                name: "fuzz".into(),
                reader: Box::new(std::io::Cursor::new(data.to_vec())),
            };
            let mut losses = Losses::default();
            if let Ok(sim) =
                formats::read_simulation(format, input, &ReadOptions::default(), &mut losses)
            {
                let redact = wirecap::filter::redact::Redaction::new(&[], &[], &[]);
                let mut tally = Default::default();
                for mut pair in sim.pairs {
                    let _ = pair.to_exchange(&mut losses);
                    redact.pair(&mut pair, &mut tally);
                }
            }
        }
    }

    /// HAR documents through the streaming reader.
    pub fn har(data: &[u8]) {
        super::read_all(wirecap::formats::Format::Har, data);
    }

    /// `validate` on any bytes: detection, the fast path, the schemas and the rules.
    pub fn validate(data: &[u8]) {
        use wirecap::validate::{Options, validate_reader};
        let _ = validate_reader("fuzz", data, &Options::default(), &mut |_| {});
    }
}
