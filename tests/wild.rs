//! Public captures from other projects' test suites (`../shared/wild/`, see its SOURCES.md),
//! read where they are: each case pins what wirecap finds in one of them. Skips with a notice
//! when the folder is absent.

mod notice;

use std::path::Path;
use std::sync::{Arc, Mutex};
use wirecap::capture::{Options, Stats};
use wirecap::formats::{self, Format, Input, ReadOptions};

const WILD: &str = "../shared/wild/pcaps";

/// `METHOD host target -> status` of every exchange in `file`, and the account.
fn read(file: &str) -> (Vec<String>, Stats) {
    let stats = Arc::new(Mutex::new(Stats::default()));
    let opts = ReadOptions {
        capture: Options {
            stats: Some(stats.clone()),
            ..Options::default()
        },
        ..ReadOptions::default()
    };
    let input = Input::open(&format!("{WILD}/{file}")).expect("opens");
    let lines = formats::read(Format::Pcap, input, &opts)
        .expect("reads")
        .map(|ex| {
            let ex = ex.expect("no read error");
            let status = ex.response.as_ref().map_or(0, |r| r.status);
            let r = &ex.request;
            format!("{} {}{} -> {status}", r.method, r.authority(), r.target)
        })
        .collect();
    let stats = stats.lock().expect("lock").clone();
    (lines, stats)
}

/// Issue 15: HTTP in PPPoE session frames, as tshark 4.0.17 finds it: under two VLAN tags
/// (PcapPlusPlus), and behind a DSL box (dpkt), where the third exchange is IPv6 in PPP in
/// L2TP over UDP, itself in PPPoE. What is not IP is named by kind (here ARP).
#[test]
fn issue_15_http_in_pppoe_sessions_is_found() {
    if !Path::new(WILD).exists() {
        notice::notice(&format!(
            "skipping the wild PPPoE captures: {WILD} is absent"
        ));
        return;
    }
    let (rst, _) = read("ppp_one_http_stream_rst.pcap");
    assert_eq!(rst, ["GET nnmuz.com/engine/download.php?id=97853 -> 503"]);
    let (nb6, stats) = read("dpkt_nb6-http.pcap");
    assert_eq!(
        nb6,
        [
            "GET ncdn.nb6dsl.neufbox.neuf.fr/nb6dsl_Vers%203.3.4_ter/nb6-3.3.4_ter.sha256sum -> 200",
            "GET ipv4.icanhazip.com/ -> 200",
            "GET ipv6.icanhazip.com/ -> 200",
        ]
    );
    let kinds: Vec<(&str, u64)> = stats
        .protocols
        .non_ip_kinds
        .iter()
        .map(|(k, n)| (k.as_str(), *n))
        .collect();
    assert_eq!(kinds, [("ethertype 0x0806", 6)]);
}

/// Issue 15: eight responses of an Express server say `Access-Control-Allow-Credentials :
/// true`; read as a proxy must (RFC 9112 §5.1) they are kept, and the capture gives the 153
/// exchanges tshark finds.
#[test]
fn issue_15_responses_with_a_space_before_the_colon_are_kept() {
    if !Path::new(WILD).exists() {
        notice::notice(&format!(
            "skipping the wild Express capture: {WILD} is absent"
        ));
        return;
    }
    let (exchanges, stats) = read("ppp_many-protocols.pcap");
    assert_eq!(exchanges.len(), 153);
    assert_eq!(stats.notes.count(wirecap::capture::Note::LenientHead), 8);
    assert_eq!(
        stats.notes.count(wirecap::capture::Note::UnparseableHead),
        0
    );
}

/// Issue 15: the OCSP POST bodies of ppp_many-protocols.pcap are not UTF-8. A Hoverfly matcher
/// is a JSON string, so they are left out of the matchers (and the loss said), never written
/// with U+FFFD in place of their bytes, which no real request would match.
#[test]
fn issue_15_binary_request_bodies_are_left_out_of_hoverfly_matchers() {
    if !Path::new(WILD).exists() {
        notice::notice(&format!("skipping the wild OCSP capture: {WILD} is absent"));
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("sim.json");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args([
            "convert",
            &format!("{WILD}/ppp_many-protocols.pcap"),
            "--to",
            "hoverfly",
            "-o",
        ])
        .arg(&out)
        .output()
        .expect("wirecap runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("left out of the matchers"), "{stderr}");
    let text = std::fs::read_to_string(&out).expect("output");
    assert!(
        !text.contains('\u{fffd}'),
        "a lossy body matcher was written"
    );
    let sim: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let posts_without_body = sim["data"]["pairs"]
        .as_array()
        .expect("pairs")
        .iter()
        .filter(|p| {
            p["request"]["method"][0]["value"] == "POST" && p["request"].get("body").is_none()
        })
        .count();
    assert_eq!(posts_without_body, 3);
}
