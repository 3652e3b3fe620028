//! Captures to exchanges, end to end through `formats::read`: synthetic TCP edge cases built
//! with `tests/support`, each checked by a one-line summary per exchange.

mod support;

use std::io::Cursor;
use std::sync::{Arc, Mutex};
use support::{Conv, Flags, Link, fragment_ipv4, get, pcap, pcap_snap, pcapng, response};
use wirecap::capture::{Note, Options, Stats};
use wirecap::formats::{self, Format, Input, ReadOptions};

/// Reads a capture held in memory; returns one line per exchange and the account.
fn read_with(bytes: Vec<u8>, mut opts: Options) -> (Vec<String>, Stats) {
    let stats = Arc::new(Mutex::new(Stats::default()));
    opts.stats = Some(stats.clone());
    let input = Input {
        name: "test.pcap".into(),
        reader: Box::new(Cursor::new(bytes)),
    };
    let read_opts = ReadOptions {
        capture: opts,
        ..ReadOptions::default()
    };
    let lines = formats::read(Format::Pcap, input, &read_opts)
        .expect("opens")
        .map(|ex| {
            let ex = ex.expect("no read error");
            let req = &ex.request;
            let head = format!("{} {}{}", req.method, req.authority(), req.target);
            let req_body = String::from_utf8_lossy(&req.body.bytes).into_owned();
            let head = if req_body.is_empty() {
                head
            } else {
                format!("{head} [{req_body}]")
            };
            match &ex.response {
                Some(r) => {
                    let interim: String = r.interim.iter().map(|s| format!("{s}+")).collect();
                    format!(
                        "{head} -> {interim}{} {}",
                        r.status,
                        String::from_utf8_lossy(&r.body.bytes)
                    )
                }
                None => format!("{head} -> none"),
            }
        })
        .collect();
    let stats = stats.lock().expect("lock").clone();
    (lines, stats)
}

fn read(bytes: Vec<u8>) -> (Vec<String>, Stats) {
    read_with(bytes, Options::default())
}

fn capture_of(c: &Conv) -> Vec<u8> {
    pcap(c.link.linktype(), &c.frames)
}

/// A handshake, one GET and its response, and a close, on `link`.
fn simple(link: Link, v6: bool) -> Conv {
    let mut c = Conv::new(link, v6);
    c.handshake();
    c.client(&get("/a"));
    c.server(&response(200, "hello"));
    c.close();
    c
}

#[test]
fn every_link_type_and_ipv6() {
    for link in [Link::Ethernet, Link::Vlan, Link::Sll, Link::Null, Link::Raw] {
        for v6 in [false, true] {
            let (got, stats) = read(capture_of(&simple(link, v6)));
            assert_eq!(got, ["GET api.test/a -> 200 hello"], "{link:?} v6={v6}");
            assert_eq!(stats.tcp.http_flows, 1);
        }
    }
}

#[test]
fn pcapng_and_gzip_captures() {
    let c = simple(Link::Ethernet, false);
    let (got, _) = read(pcapng(&[(1, c.frames.clone())]));
    assert_eq!(got, ["GET api.test/a -> 200 hello"]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &capture_of(&c)).expect("gzip");
    let (got, _) = read(gz.finish().expect("gzip"));
    assert_eq!(got, ["GET api.test/a -> 200 hello"]);
}

#[test]
fn pcapng_with_two_interfaces_of_different_link_types() {
    let a = simple(Link::Ethernet, false);
    let b = simple(Link::Null, true);
    let (got, stats) = read(pcapng(&[(1, a.frames), (0, b.frames)]));
    assert_eq!(got.len(), 2);
    assert_eq!(stats.links.len(), 2);
}

#[test]
fn out_of_order_segments_are_placed() {
    let mut c = Conv::new(Link::Ethernet, false);
    c.handshake();
    c.client(&get("/a"));
    let resp = response(200, "0123456789");
    c.at(false, 20, &resp[20..]);
    c.at(false, 0, &resp[..20]);
    c.advance(false, resp.len() as u32);
    c.close();
    assert_eq!(read(capture_of(&c)).0, ["GET api.test/a -> 200 0123456789"]);
}

#[test]
fn retransmissions_and_overlaps_keep_first_bytes() {
    let mut c = Conv::new(Link::Ethernet, false);
    c.handshake();
    let req = get("/a");
    c.at(true, 0, &req[..10]);
    c.at(true, 0, &req[..10]);
    c.at(true, 5, &req[5..]);
    c.advance(true, req.len() as u32);
    let resp = response(200, "abcdef");
    c.at(false, 0, &resp);
    c.at(false, 0, &resp);
    c.advance(false, resp.len() as u32);
    c.close();
    let (got, stats) = read(capture_of(&c));
    assert_eq!(got, ["GET api.test/a -> 200 abcdef"]);
    assert_eq!(stats.tcp.duplicate_bytes, 10 + 5 + resp.len() as u64);
}

#[test]
fn gap_is_reported_and_the_next_message_is_found() {
    let mut c = Conv::new(Link::Ethernet, false);
    c.handshake();
    c.client(&get("/a"));
    let lost = response(200, "this response is never captured");
    c.advance(false, lost.len() as u32);
    c.client(&get("/b"));
    c.server(&response(200, "b"));
    c.ack(true);
    c.close();
    let (got, stats) = read(capture_of(&c));
    assert_eq!(got, ["GET api.test/b -> 200 b"]);
    assert_eq!(stats.notes.count(Note::Gap), 1);
    assert_eq!(stats.notes.count(Note::LostToGap), 1);
    assert_eq!(stats.tcp.gap_bytes, lost.len() as u64);
}

#[test]
fn sequence_numbers_wrap() {
    let mut c = Conv::new(Link::Ethernet, false).with_isn(u32::MAX - 5, u32::MAX - 20);
    c.handshake();
    c.client(&get("/wrap"));
    c.server_segments(&response(200, "across the wrap"), 7);
    c.close();
    assert_eq!(
        read(capture_of(&c)).0,
        ["GET api.test/wrap -> 200 across the wrap"]
    );
}

#[test]
fn capture_starting_mid_connection_resynchronises() {
    let mut c = Conv::new(Link::Ethernet, false);
    // No handshake; the first bytes are the tail of an earlier response.
    c.server(b"tail of an earlier body\r\n");
    c.client(&get("/first-seen"));
    c.server(&response(200, "ok"));
    c.close();
    let (got, stats) = read(capture_of(&c));
    assert_eq!(got, ["GET api.test/first-seen -> 200 ok"]);
    assert!(stats.tcp.resync_skipped_bytes > 0);
}

#[test]
fn pipelined_requests_pair_in_order() {
    let mut c = Conv::new(Link::Ethernet, false);
    c.handshake();
    let mut reqs = get("/1");
    reqs.extend(get("/2"));
    reqs.extend(b"HEAD /3 HTTP/1.1\r\nHost: api.test\r\n\r\n");
    c.client(&reqs);
    let mut resps = response(200, "one");
    resps.extend(response(404, "two"));
    resps.extend(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n");
    c.server(&resps);
    c.close();
    assert_eq!(
        read(capture_of(&c)).0,
        [
            "GET api.test/1 -> 200 one",
            "GET api.test/2 -> 404 two",
            "HEAD api.test/3 -> 200 "
        ]
    );
}

#[test]
fn chunked_request_and_100_continue() {
    let mut c = Conv::new(Link::Ethernet, false);
    c.handshake();
    c.client(b"POST /up HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
    c.server(b"HTTP/1.1 100 Continue\r\n\r\n");
    c.client(b"4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n");
    c.server(b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Sum: 1\r\n\r\n");
    c.close();
    assert_eq!(
        read(capture_of(&c)).0,
        ["POST api.test/up [wikipedia] -> 100+201 ok"]
    );
}

#[test]
fn no_body_for_204_and_304() {
    let mut c = Conv::new(Link::Ethernet, false);
    c.handshake();
    c.client(&get("/n"));
    c.server(b"HTTP/1.1 204 No Content\r\n\r\n");
    c.client(&get("/m"));
    c.server(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n");
    c.client(&get("/after"));
    c.server(&response(200, "x"));
    c.close();
    assert_eq!(
        read(capture_of(&c)).0,
        [
            "GET api.test/n -> 204 ",
            "GET api.test/m -> 304 ",
            "GET api.test/after -> 200 x"
        ]
    );
}

#[test]
fn close_delimited_body_ends_at_fin() {
    let mut c = Conv::new(Link::Ethernet, false);
    c.handshake();
    c.client(b"GET /old HTTP/1.0\r\nHost: api.test\r\n\r\n");
    c.server(b"HTTP/1.0 200 OK\r\n\r\nuntil ");
    c.server(b"the end");
    c.close();
    assert_eq!(
        read(capture_of(&c)).0,
        ["GET api.test/old -> 200 until the end"]
    );
}

#[test]
fn ipv4_fragments_are_reassembled() {
    let mut c = Conv::new(Link::Raw, false);
    c.handshake();
    c.client(&get("/frag"));
    let resp = response(200, &"f".repeat(200));
    let packet = c.frame(false, c.sseq, Some(c.cseq), Flags::NONE, &resp);
    c.advance(false, resp.len() as u32);
    let mut frags = fragment_ipv4(&packet, 64);
    frags.reverse();
    for f in frags {
        c.now_us += 10;
        c.frames.push((c.now_us, f));
    }
    c.close();
    let (got, stats) = read(capture_of(&c));
    assert_eq!(
        got,
        [format!("GET api.test/frag -> 200 {}", "f".repeat(200))]
    );
    assert!(stats.protocols.fragments > 0);
}

#[test]
fn gzip_deflate_and_br_bodies_are_decoded_unless_kept() {
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"zipped text").expect("gzip");
    let gz = gz.finish().expect("gzip");
    let mut zl = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    zl.write_all(b"deflated text").expect("zlib");
    let zl = zl.finish().expect("zlib");
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 4096, 5, 22);
        w.write_all(b"brotli text").expect("br");
    }
    let mut c = Conv::new(Link::Ethernet, false);
    c.handshake();
    for (path, enc, body) in [
        ("/g", "gzip", &gz),
        ("/d", "deflate", &zl),
        ("/b", "br", &br),
    ] {
        c.client(&get(path));
        let mut r = format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: {enc}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend(body.iter());
        c.server(&r);
    }
    c.close();
    let (got, _) = read(capture_of(&c));
    assert_eq!(
        got,
        [
            "GET api.test/g -> 200 zipped text",
            "GET api.test/d -> 200 deflated text",
            "GET api.test/b -> 200 brotli text"
        ]
    );
    let keep = Options {
        keep_encoding: true,
        ..Options::default()
    };
    let (got, _) = read_with(capture_of(&c), keep);
    assert_ne!(got[0], "GET api.test/g -> 200 zipped text");
}

#[test]
fn unanswered_requests_are_kept_or_dropped() {
    let mut c = Conv::new(Link::Ethernet, false);
    c.handshake();
    c.client(&get("/a"));
    c.server(&response(200, "a"));
    c.client(&get("/never"));
    let (got, stats) = read(capture_of(&c));
    assert_eq!(
        got,
        ["GET api.test/a -> 200 a", "GET api.test/never -> none"]
    );
    assert_eq!(stats.http.incomplete, 1);
    let drop = Options {
        drop_incomplete: true,
        ..Options::default()
    };
    let (got, stats) = read_with(capture_of(&c), drop);
    assert_eq!(got, ["GET api.test/a -> 200 a"]);
    assert_eq!(stats.notes.count(Note::Incomplete), 1);
}

#[test]
fn upgrade_ends_http_parsing() {
    let mut c = Conv::new(Link::Ethernet, false);
    c.handshake();
    c.client(
        b"GET /ws HTTP/1.1\r\nHost: api.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    );
    c.server(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x01\x02frames");
    c.client(b"GET /not-http HTTP/1.1\r\n\r\n");
    c.close();
    let (got, stats) = read(capture_of(&c));
    assert_eq!(got, ["GET api.test/ws -> 101 "]);
    assert_eq!(stats.notes.count(Note::Upgrade), 1);
}

#[test]
fn non_http_flows_are_counted_not_parsed() {
    let mut c = Conv::new(Link::Ethernet, false);
    c.handshake();
    c.client(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03");
    c.server(b"\x16\x03\x03\x00\x5d");
    c.close();
    let (got, stats) = read(capture_of(&c));
    assert!(got.is_empty());
    assert_eq!(stats.notes.count(Note::NonHttpFlow), 1);
    assert_eq!(stats.tcp.http_flows, 0);
}

#[test]
fn http_is_found_on_any_port() {
    let mut c = Conv::new(Link::Ethernet, false).with_client_port(5353);
    c.server.1 = 443;
    c.handshake();
    c.client(&get("/odd-port"));
    c.server(&response(200, "yes"));
    c.close();
    assert_eq!(read(capture_of(&c)).0, ["GET api.test/odd-port -> 200 yes"]);
}

#[test]
fn snapshot_length_and_truncated_last_record() {
    let c = simple(Link::Ethernet, false);
    let (got, stats) = read(pcap_snap(1, &c.frames, 60));
    assert!(got.iter().all(|l| !l.ends_with("hello")), "{got:?}");
    assert!(stats.notes.count(Note::SnapLength) > 0);
    let mut bytes = capture_of(&c);
    bytes.truncate(bytes.len() - 3);
    let (_, stats) = read(bytes);
    assert_eq!(stats.notes.count(Note::TruncatedFile), 1);
}

#[test]
fn output_is_ordered_by_request_time_across_flows() {
    let mut a = Conv::new(Link::Ethernet, false);
    let mut b = Conv::new(Link::Ethernet, false).with_client_port(40001);
    a.handshake();
    b.now_us = a.now_us;
    b.handshake();
    a.client(&get("/a1"));
    b.now_us = a.now_us;
    b.client(&get("/b1"));
    b.server(&response(200, "b1"));
    a.now_us = b.now_us;
    a.server(&response(200, "a1"));
    let mut frames = a.frames.clone();
    frames.extend(b.frames.clone());
    frames.sort_by_key(|(t, _)| *t);
    let (got, _) = read(pcap(1, &frames));
    assert_eq!(
        got,
        ["GET api.test/a1 -> 200 a1", "GET api.test/b1 -> 200 b1"]
    );
}
