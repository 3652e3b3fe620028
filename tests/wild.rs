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
