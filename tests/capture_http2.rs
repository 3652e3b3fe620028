//! HTTP/2 captures end to end: the real cleartext ones in testdata/pcap/tls (made by
//! testdata/make_tls_captures.sh) against tshark's view of them
//! (testdata/expected/tls/<case>.tshark.tsv: one row per message, with body length and
//! SHA-256 after content decoding).

use sha2::{Digest, Sha256};
use std::io::Cursor;
use std::path::{Path, PathBuf};

use wirecap::capture::{Note, Stats};
use wirecap::formats::{self, Format, Input, ReadOptions};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// What tshark and we are compared on.
#[derive(Debug, Default, PartialEq, Eq)]
struct View {
    /// `METHOD target body_len body_sha256`, sorted.
    requests: Vec<String>,
    /// `status body_len body_sha256` of final responses, sorted.
    responses: Vec<String>,
    /// Interim status codes, sorted.
    interim: Vec<String>,
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// tshark's view of `case`, from `expected/tls/{view}.tshark.tsv` (a case name, or one with
/// `.in-order` for the view made with tshark's default `tcp.reassemble_out_of_order:FALSE`).
fn tshark(view: &str) -> View {
    let path = testdata().join(format!("expected/tls/{view}.tshark.tsv"));
    let tsv = std::fs::read_to_string(path).expect("tshark view is committed");
    let mut v = View::default();
    for line in tsv.lines().filter(|l| !l.starts_with('#')) {
        let c: Vec<&str> = line.split('\t').collect();
        let col = |i: usize| c.get(i).copied().unwrap_or("");
        let (method, target, status, len, digest) = (col(4), col(5), col(6), col(7), col(8));
        if !method.is_empty() {
            v.requests.push(format!("{method} {target} {len} {digest}"));
        } else if status.starts_with('1') {
            v.interim.push(status.to_owned());
        } else if !status.is_empty() {
            v.responses.push(format!("{status} {len} {digest}"));
        }
    }
    v.requests.sort();
    v.responses.sort();
    v.interim.sort();
    v
}

fn ours(case: &str) -> (View, Stats) {
    let bytes = std::fs::read(testdata().join(format!("pcap/tls/{case}.pcap"))).expect("capture");
    let read_opts = ReadOptions::default();
    let input = Input {
        name: format!("{case}.pcap"),
        reader: Box::new(Cursor::new(bytes)),
    };
    let mut v = View::default();
    let mut exchanges = formats::read(Format::Pcap, input, &read_opts).expect("opens");
    for ex in exchanges.by_ref() {
        let ex = ex.expect("reads");
        let q = &ex.request;
        v.requests.push(format!(
            "{} {} {} {}",
            q.method,
            q.target,
            q.body.bytes.len(),
            sha(&q.body.bytes)
        ));
        if let Some(r) = &ex.response {
            v.interim.extend(r.interim.iter().map(u16::to_string));
            v.responses.push(format!(
                "{} {} {}",
                r.status,
                r.body.bytes.len(),
                sha(&r.body.bytes)
            ));
        }
    }
    v.requests.sort();
    v.responses.sort();
    v.interim.sort();
    let stats = exchanges.capture_stats().cloned().expect("read to the end");
    (v, stats)
}

#[test]
fn h2c_captures_agree_with_tshark() {
    for (case, connections) in [
        ("curl-h2c-prior-knowledge", 3),
        ("python-h2c-prior-knowledge", 1),
        ("curl-h2c-upgrade", 1),
        // Cut at its end after the last response's HEADERS (make_cut_at_end_captures.sh):
        // both show the 201 with an empty body; ours is marked as cut.
        ("cut-h2c-at-end", 1),
    ] {
        let (got, stats) = ours(case);
        assert_eq!(got, tshark(case), "{case}");
        assert_eq!(stats.http2.connections, connections, "{case}");
        assert_eq!(stats.tcp.http_flows, connections, "{case}");
        assert_eq!(stats.http2.hpack_lost, 0, "{case}");
        assert_eq!(stats.notes.count(Note::Incomplete), 0, "{case}");
    }
}

#[test]
fn h2c_upgrade_keeps_the_http1_request_and_the_http2_response() {
    let bytes = std::fs::read(testdata().join("pcap/tls/curl-h2c-upgrade.pcap")).expect("capture");
    let input = Input {
        name: "curl-h2c-upgrade.pcap".into(),
        reader: Box::new(Cursor::new(bytes)),
    };
    let got: Vec<String> = formats::read(Format::Pcap, input, &ReadOptions::default())
        .expect("opens")
        .map(|ex| {
            let ex = ex.expect("reads");
            let r = ex.response.expect("answered");
            format!(
                "{} {} {} -> {:?} {} {}",
                ex.request.method,
                ex.request.target,
                ex.request.version.unwrap_or_default(),
                r.interim,
                r.status,
                r.version.unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "GET /hello.txt HTTP/1.1 -> [101] 200 HTTP/2",
            "GET /data/items.json HTTP/2 -> [] 200 HTTP/2",
            "POST /upload HTTP/2 -> [] 201 HTTP/2",
        ]
    );
}

/// The capture starts at the second request's HEADERS: no preface, no SYN, and the client's
/// dynamic-table entries (`:authority`, `user-agent`, `accept`) unknown. tshark decodes what it
/// can and shows the rest as `<unknown>`; we take the connection for HTTP/2 from its frames,
/// but a request block that refers to an unknown entry is not decoded, so no exchange has
/// made-up or missing headers: each such stream is counted instead.
#[test]
fn a_capture_joined_mid_connection_loses_blocks_but_invents_nothing() {
    let (got, stats) = ours("cut-h2c-hpack-lost");
    assert_eq!(tshark("cut-h2c-hpack-lost").requests.len(), 3);
    assert_eq!(got, View::default());
    assert_eq!(stats.http2.connections, 1);
    assert_eq!(stats.http2.hpack_lost, 3);
    assert_eq!(stats.notes.count(Note::HpackLost), 3);
    assert_eq!(stats.http.responses, 3, "the server's blocks still decode");
    assert_eq!(stats.notes.count(Note::NonHttpFlow), 0);
}

/// Issue 16, on a real capture (testdata/make_gap_captures.sh: python-h2c-prior-knowledge
/// without the server segment holding stream 3's whole DATA frame, header included). The
/// server's frames are found again after the gap: stream 3 keeps its response head with its
/// body marked as lost from the gap, and the POST of stream 5 gets its 201, which came after
/// it. tshark 4.0.17 reading in order (its default) shows the same three requests and three
/// responses; with out-of-order reassembly on, it waits for the lost bytes and shows two.
#[test]
fn a_gap_over_a_frame_header_keeps_what_it_cut_and_reads_on() {
    let case = "gap-h2c-over-frame-header";
    let (got, stats) = ours(case);
    assert_eq!(got, tshark(&format!("{case}.in-order")));
    assert_eq!(got.requests.len(), 3);
    assert_eq!(got.responses.len(), 3);
    assert_eq!(tshark(case).responses.len(), 2);
    let count = |n| stats.notes.count(n);
    let notes = [
        Note::Http2Resynced,
        Note::Http2FramingLost,
        Note::GapInBody,
        Note::Incomplete,
        Note::LostToGap,
    ];
    assert_eq!(notes.map(count), [1, 0, 1, 0, 0]);
    let bytes = std::fs::read(testdata().join(format!("pcap/tls/{case}.pcap"))).expect("capture");
    let input = Input {
        name: case.into(),
        reader: Box::new(Cursor::new(bytes)),
    };
    let cut: Vec<String> = formats::read(Format::Pcap, input, &ReadOptions::default())
        .expect("opens")
        .filter_map(|e| {
            let e = e.expect("reads");
            let c = e.response?.body.cut?;
            Some(format!("{}: {c}", e.request.target))
        })
        .collect();
    assert_eq!(cut, ["/data/items.json: after 0 body bytes"]);
}
