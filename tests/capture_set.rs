//! Several captures read as one (`wirecap convert a.pcap b.pcap …`): real captures cut into
//! pieces at every few packets, so connections cross file boundaries, and given in the wrong
//! order. The pieces must give the exchanges of the whole capture, each naming the piece and
//! the packet there that its request starts in.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use wirecap::capture::Options;
use wirecap::capture::tls::keylog::KeyLog;
use wirecap::formats::{self, Format, Input, ReadOptions, pcap};
use wirecap::model::{Exchange, Location};

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

fn options(keys: Option<&str>) -> Options {
    let mut log = KeyLog::default();
    if let Some(keys) = keys {
        let text = std::fs::read(testdata(keys)).expect("key log");
        log.add_text(&text).expect("parses");
    }
    Options {
        keys: Arc::new(log),
        ..Options::default()
    }
}

fn input(name: &str, bytes: Vec<u8>) -> Input {
    Input {
        name: name.to_owned(),
        reader: Box::new(Cursor::new(bytes)),
    }
}

fn whole(rel: &str, keys: Option<&str>) -> Vec<Exchange> {
    let bytes = std::fs::read(testdata(rel)).expect("capture");
    let opts = ReadOptions {
        capture: options(keys),
        ..ReadOptions::default()
    };
    formats::read(Format::Pcap, input("whole.pcap", bytes), &opts)
        .expect("opens")
        .map(|ex| ex.expect("reads"))
        .collect()
}

/// A legacy pcap cut into files of `per` records each: (name, bytes), in capture order.
fn cut(bytes: &[u8], per: usize) -> Vec<(String, Vec<u8>)> {
    let (header, mut at) = (&bytes[..24], 24);
    let mut pieces: Vec<(String, Vec<u8>)> = Vec::new();
    let mut records = 0;
    while at + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        if records % per == 0 {
            pieces.push((format!("piece{}.pcap", pieces.len()), header.to_vec()));
        }
        let last = pieces.last_mut().expect("a piece");
        last.1.extend_from_slice(&bytes[at..at + 16 + caplen]);
        at += 16 + caplen;
        records += 1;
    }
    pieces
}

/// The exchanges of `pieces` read as one capture, the pieces given last first.
fn read_pieces(pieces: &[(String, Vec<u8>)], keys: Option<&str>) -> Vec<Exchange> {
    let inputs = pieces
        .iter()
        .rev()
        .map(|(name, bytes)| input(name, bytes.clone()))
        .collect();
    pcap::read_set(inputs, options(keys))
        .expect("opens")
        .map(|ex| ex.expect("reads"))
        .collect()
}

fn packet(ex: &Exchange) -> u64 {
    match ex.source.location {
        Some(Location::Packet(n)) => n,
        ref other => panic!("no packet location: {other:?}"),
    }
}

/// Checks that `pieces` (of `per` packets) give `whole`'s exchanges, each placed in its piece.
fn assert_same_as_whole(whole: &[Exchange], got: &[Exchange], per: usize) {
    assert_eq!(got.len(), whole.len(), "exchanges, pieces of {per}");
    for (w, g) in whole.iter().zip(got) {
        let n = packet(w);
        let piece = (n - 1) / per as u64;
        assert_eq!(
            g.source.file.as_deref(),
            Some(format!("piece{piece}.pcap").as_str()),
            "file of the exchange at packet {n}, pieces of {per}"
        );
        assert_eq!(packet(g), (n - 1) % per as u64 + 1, "packet in its piece");
        let (mut w, mut g) = (w.clone(), g.clone());
        w.source.file = None;
        w.source.location = None;
        g.source.file = None;
        g.source.location = None;
        assert_eq!(g, w, "pieces of {per}");
    }
}

#[test]
fn a_keepalive_connection_cut_into_pieces_reads_as_the_whole_capture() {
    let rel = "pcap/curl-keepalive.pcap";
    let whole = whole(rel, None);
    assert_eq!(whole.len(), 17);
    let bytes = std::fs::read(testdata(rel)).unwrap();
    // One packet per file: every segment of the one connection is in a file of its own.
    for per in [1, 7, 30] {
        let pieces = cut(&bytes, per);
        assert!(pieces.len() > 1);
        assert_same_as_whole(&whole, &read_pieces(&pieces, None), per);
    }
}

#[test]
fn tls_and_http2_state_carry_over_from_one_file_to_the_next() {
    let rel = "pcap/tls/curl-h2-tls13-chacha.pcap";
    let keys = Some("pcap/tls/curl-h2-tls13-chacha.keys");
    let whole = whole(rel, keys);
    assert!(!whole.is_empty());
    let bytes = std::fs::read(testdata(rel)).unwrap();
    for per in [1, 5, 11] {
        let pieces = cut(&bytes, per);
        assert_same_as_whole(&whole, &read_pieces(&pieces, keys), per);
    }
}

fn wirecap(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(args)
        .current_dir(testdata(""))
        .output()
        .expect("runs")
}

#[test]
fn convert_reads_editcap_pieces_in_any_order_as_the_whole_capture() {
    // `editcap -F pcapng -c 8` of a TLS capture, its key log injected into the first piece
    // only (testdata/make_split_captures.sh): the keys found there decrypt the rest.
    let whole = wirecap(&[
        "convert",
        "pcap/tls/curl-h2-tls13-aes256.pcap",
        "--keylog",
        "pcap/tls/curl-h2-tls13-aes256.keys",
    ]);
    assert!(whole.status.success(), "{whole:?}");
    let pieces = wirecap(&[
        "convert",
        "pcap/split/h2_00003.pcapng",
        "pcap/split/h2_00001.pcapng",
        "pcap/split/h2_00000.pcapng",
        "pcap/split/h2_00002.pcapng",
    ]);
    assert!(pieces.status.success(), "{pieces:?}");
    assert!(!whole.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&pieces.stdout),
        String::from_utf8_lossy(&whole.stdout)
    );
    let stderr = String::from_utf8_lossy(&pieces.stderr);
    assert!(
        stderr.contains("pcap/split/h2_00003.pcapng and 3 more (pcap)"),
        "{stderr}"
    );
}

#[test]
fn several_inputs_must_all_be_captures() {
    let out = wirecap(&[
        "convert",
        "pcap/curl-keepalive.pcap",
        "http-types/hand-written.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "http-types/hand-written.jsonl is http-types: several inputs are read as one capture"
        ),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn the_readme_recipe_runs_on_xargs_and_merge_reduces_the_parts() {
    // The README's scale-out recipe with xargs -P instead of GNU parallel: one `convert` per
    // group of two consecutive pieces, two at a time, then `merge` as the reduce step.
    let dir = tempfile::tempdir().expect("temp dir");
    let parts = dir.path().join("parts");
    std::fs::create_dir(&parts).expect("parts dir");
    let script = r#"ls pcap/split/h2_0000*.pcapng | xargs -P 2 -n 2 sh -c 'exec "$0" convert "$@" -q -o "$PARTS/$(basename "$1" .pcapng).jsonl"' "$WIRECAP" && "$WIRECAP" merge --on-conflict keep-all "$PARTS"/*.jsonl -q -o "$PARTS/../day.jsonl""#;
    let out = Command::new("sh")
        .args(["-c", script])
        .env("WIRECAP", env!("CARGO_BIN_EXE_wirecap"))
        .env("PARTS", &parts)
        .current_dir(testdata(""))
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::read_dir(&parts).expect("list").count(), 2);
    let day = std::fs::read_to_string(dir.path().join("day.jsonl")).expect("merged");
    let whole = wirecap(&[
        "convert",
        "pcap/split/h2_00000.pcapng",
        "pcap/split/h2_00001.pcapng",
        "pcap/split/h2_00002.pcapng",
        "pcap/split/h2_00003.pcapng",
    ]);
    let whole = String::from_utf8_lossy(&whole.stdout).into_owned();
    // The second group starts inside the TLS connection the first one opened, so it cannot be
    // decrypted alone, and the first ends inside a response, which comes out cut: the groups
    // give no more requests than the whole set, and none it lacks.
    let request = |line: &str| {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        (
            v["request"]["method"].to_string(),
            v["request"]["path"].to_string(),
            v["request"]["timestamp"].to_string(),
        )
    };
    let whole: Vec<_> = whole.lines().map(request).collect();
    let parts: Vec<_> = day.lines().map(request).collect();
    assert!(!parts.is_empty() && parts.len() <= whole.len());
    for r in &parts {
        assert!(whole.contains(r), "not in the whole capture: {r:?}");
    }
}
