//! Issue 16: any one segment of a real HTTP/2 capture lost, as a capturing host that dropped
//! a packet would have it. Every TCP segment with a payload of the committed HTTP/2 captures
//! (three over TLS, two cleartext; testdata/make_tls_captures.sh) is taken out in turn, and
//! what wirecap reads from the rest is held against what it reads from the whole capture
//! (itself checked against tshark by tests/capture_http2.rs and tests/tls.rs): every exchange
//! read is one of the capture's, with its response whole, cut short, or with a hole where the
//! gap was; never a body or a header the capture does not hold.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wirecap::capture::Options;
use wirecap::capture::tls::keylog::KeyLog;
use wirecap::formats::{self, Format, Input, ReadOptions};
use wirecap::model::Exchange;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/pcap/tls")
}

fn read(pcap: Vec<u8>, keys: &Arc<KeyLog>) -> Vec<Exchange> {
    let read_opts = ReadOptions {
        capture: Options {
            keys: keys.clone(),
            // A body with a hole cannot be decoded: compare the bytes as sent.
            keep_encoding: true,
            ..Options::default()
        },
        ..ReadOptions::default()
    };
    let input = Input {
        name: "lost-segment.pcap".into(),
        reader: Box::new(Cursor::new(pcap)),
    };
    let mut it = formats::read(Format::Pcap, input, &read_opts).expect("opens");
    it.by_ref().map(|e| e.expect("reads")).collect()
}

/// The byte ranges of a legacy pcap's records (Ethernet, IPv4, TCP) that carry a TCP payload.
fn segments(pcap: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = &pcap[at + 16..at + 16 + caplen];
        let ip = &frame[14..];
        let (ihl, total) = (
            usize::from(ip[0] & 0x0f) * 4,
            usize::from(u16::from_be_bytes([ip[2], ip[3]])),
        );
        let tcp_header = usize::from(ip[ihl + 12] >> 4) * 4;
        if total > ihl + tcp_header {
            out.push(at..at + 16 + caplen);
        }
        at += 16 + caplen;
    }
    out
}

/// How a response read from the damaged capture stands to the whole capture's.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    whole: usize,
    cut: usize,
    holed: usize,
    unanswered: usize,
    not_read: usize,
}

fn body(e: &Exchange) -> Option<(u16, &[u8])> {
    e.response.as_ref().map(|r| (r.status, &r.body.bytes[..]))
}

/// Matches each exchange of `got` to one of `all` with the same request; panics on one that
/// is not what the capture holds.
fn tally(all: &[Exchange], got: &[Exchange], what: &str, t: &mut Tally) {
    let mut unused: Vec<&Exchange> = all.iter().collect();
    for e in got {
        let same_request = |o: &&Exchange| {
            o.request.method == e.request.method
                && o.request.target == e.request.target
                && o.request.body.bytes.starts_with(&e.request.body.bytes)
        };
        let fits = |o: &&Exchange| match (body(o), body(e)) {
            (_, None) => true,
            (Some((s, whole)), Some((status, part))) => {
                status == s
                    && (0..=part.len()).any(|i| {
                        whole.len() >= part.len()
                            && part[..i] == whole[..i]
                            && part[i..] == whole[whole.len() - (part.len() - i)..]
                    })
            }
            (None, Some(_)) => false,
        };
        let i = unused
            .iter()
            .position(|o| same_request(o) && fits(o))
            .unwrap_or_else(|| {
                panic!(
                    "{what}: {} {} is not in the capture",
                    e.request.method, e.request.target
                )
            });
        let o = unused.remove(i);
        match (body(o), body(e)) {
            (_, None) => t.unanswered += 1,
            (Some((_, a)), Some((_, b))) if a == b => t.whole += 1,
            (Some((_, a)), Some((_, b))) if a.starts_with(b) => t.cut += 1,
            _ => t.holed += 1,
        }
    }
    t.not_read += unused.len();
}

#[test]
fn issue_16_one_lost_segment_never_invents_and_the_streams_after_it_are_read() {
    let cases = [
        ("curl-h2-tls13-chacha", true),
        ("curl-h2-tls13-aes256", true),
        ("curl-h2-tls12-aes128", true),
        ("curl-h2c-prior-knowledge", false),
        ("python-h2c-prior-knowledge", false),
    ];
    let (mut t, mut lost) = (Tally::default(), 0);
    for (case, tls) in cases {
        let pcap = std::fs::read(testdata().join(format!("{case}.pcap"))).expect("capture");
        let mut log = KeyLog::default();
        if tls {
            let text = std::fs::read(testdata().join(format!("{case}.keys"))).expect("keys");
            log.add_text(&text).expect("key log parses");
        }
        let keys = Arc::new(log);
        let all = read(pcap.clone(), &keys);
        for (n, seg) in segments(&pcap).into_iter().enumerate() {
            let damaged = [&pcap[..seg.start], &pcap[seg.end..]].concat();
            let got = read(damaged, &keys);
            tally(&all, &got, &format!("{case} without segment {n}"), &mut t);
            lost += 1;
        }
    }
    assert_eq!(lost, 90);
    // Since HTTP/2 finds its frames again after a gap over a frame header and places a body's
    // end by its length; 6ee1939, before that, read 131 whole, 10 cut, 1 holed, 85 unanswered
    // (mostly requests after the gap) and left 108 unread.
    assert_eq!(
        t,
        Tally {
            whole: 203,
            cut: 8,
            holed: 3,
            unanswered: 20,
            not_read: 101,
        }
    );
}
