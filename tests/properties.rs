//! Property tests (issue 16): generated models through every writer and back, and generated
//! TCP segmentations through the real reassembler.
//!
//! - http-types JSONL and HAR keep every field of the model (README "http-types: what goes in,
//!   what comes out" and "HAR: what goes in, what comes out"): what their own fields cannot
//!   hold goes into `meta.wirecap` or `_wirecap`. Reading what was written gives the model
//!   back, but for where it was read from (file and line or entry).
//! - A Hoverfly v5.x simulation keeps every field of a pair it carries: matchers with config and
//!   `doMatch` chains, state, templating, delays, labels, text and binary bodies; headers are a
//!   map of name to values, so fields come back grouped by name.
//! - A stream cut into random segments, each sent once or more, in any order within a window,
//!   comes out of [`HalfStream`] as the same bytes without gaps; through a pcap built in memory,
//!   the HTTP body it carries comes out whole.
//!
//! Case counts are kept small (`PROPTEST_CASES` raises them) so the whole file runs in a few
//! seconds in CI.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, json};
use wirecap::capture::tcp_reassembly::{Chunk, HalfStream, Origin, SeqNumber, TcpHeader};
use wirecap::formats::{self, Format, Input, ReadOptions, Writer, hoverfly};
use wirecap::loss::Losses;
use wirecap::model::simulation::LogNormal;
use wirecap::model::{
    Body, Cut, Exchange, Headers, Matcher, Pair, Request, RequestMatcher, Response,
    ResponseTemplate, Scheme, Simulation, Source, Timestamp, TlsInfo,
};

/// Cases per property: `PROPTEST_CASES` when set, else `default`.
fn config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Generators.

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9-]{0,10}"
}

/// Any text, control characters, quotes and non-ASCII included.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[ -~]{0,24}",
        1 => any::<String>().prop_map(|s| s.chars().take(24).collect()),
    ]
}

/// Header fields grouped by name (each name once, in any case, its values together), so
/// grouping by name keeps their order; `avoid` names are left out (any case).
fn grouped_headers(avoid: &'static [&'static str]) -> impl Strategy<Value = Headers> {
    prop::collection::vec((token(), prop::collection::vec(text(), 1..3)), 0..5).prop_map(
        move |groups| {
            let mut seen: Vec<String> = Vec::new();
            let mut headers = Headers::new();
            for (name, values) in groups {
                let lower = name.to_ascii_lowercase();
                if seen.contains(&lower) || avoid.contains(&lower.as_str()) {
                    continue;
                }
                seen.push(lower);
                for v in values {
                    headers.push(name.clone(), v);
                }
            }
            headers
        },
    )
}

/// Fields kept as an ordered list of pairs (trailers): any order, repeats included.
fn field_list() -> impl Strategy<Value = Headers> {
    prop::collection::vec((token(), text()), 0..3).prop_map(|v| v.into_iter().collect())
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (
        0i64..4_000_000_000,
        prop_oneof![Just(0u32), 0u32..1_000_000_000],
    )
        .prop_map(|(s, n)| Timestamp::from_unix(s, n))
}

fn version() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        Just("HTTP/1.0".to_owned()),
        Just("HTTP/1.1".to_owned()),
        Just("HTTP/2".to_owned())
    ])
}

/// A body of text (`utf8`) or of any bytes, maybe decoded from a content coding or cut off.
fn body(utf8: bool) -> impl Strategy<Value = Body> {
    let bytes = if utf8 {
        text().prop_map(String::into_bytes).boxed()
    } else {
        prop::collection::vec(any::<u8>(), 0..48).boxed()
    };
    let missing = prop::collection::vec((any::<u32>(), any::<u16>()), 0..3).prop_map(|v| {
        let mut at = 0u64;
        v.into_iter()
            .map(|(skip, len)| {
                let start = at + u64::from(skip);
                at = start + u64::from(len) + 1;
                [start, at]
            })
            .collect::<Vec<_>>()
    });
    let cut = prop::option::of(
        (any::<u32>(), prop::option::of(any::<u32>()), missing).prop_map(
            |(seen, announced, missing)| Cut {
                seen: u64::from(seen),
                announced: announced.map(u64::from),
                missing,
            },
        ),
    );
    let coding = prop::option::of(prop_oneof![Just("gzip".to_owned()), Just("br".to_owned())]);
    (bytes, coding, cut).prop_map(|(bytes, decoded_from, cut)| Body {
        bytes: bytes.into(),
        // A cut body is never content-decoded (model/body.rs).
        decoded_from: if cut.is_some() { None } else { decoded_from },
        cut,
    })
}

/// A target in origin form, with an optional query whose keys and values need no escaping
/// beyond what `path` carries as written.
fn target() -> impl Strategy<Value = String> {
    (
        prop::collection::vec("[A-Za-z0-9._~%-]{1,8}", 0..4),
        prop::option::of(prop::collection::vec(("[a-z]{1,5}", "[a-z0-9]{0,5}"), 0..3)),
    )
        .prop_map(|(segments, query)| {
            let mut t = format!("/{}", segments.join("/"));
            if let Some(q) = query {
                let q: Vec<String> = q.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
                t.push('?');
                t.push_str(&q.join("&"));
            }
            t
        })
}

fn scheme() -> impl Strategy<Value = Scheme> {
    prop_oneof![Just(Scheme::Http), Just(Scheme::Https)]
}

fn tls() -> impl Strategy<Value = Option<TlsInfo>> {
    prop::option::of(
        (
            prop::option::of("[a-z.]{1,12}"),
            prop::option::of(prop_oneof![Just("h2"), Just("http/1.1")]),
        )
            .prop_map(|(sni, alpn)| TlsInfo {
                version: "TLSv1.3".into(),
                cipher: "TLS_AES_128_GCM_SHA256".into(),
                sni,
                alpn: alpn.map(str::to_owned),
            }),
    )
}

/// Headers that describe a body as sent; the http-types writer moves them to `meta.wirecap`
/// for a decoded body and puts them back, at the end, on reading.
const ENCODING: &[&str] = &["content-encoding", "content-length"];

/// An exchange of what `format` is documented to keep: for http-types, one of the nine
/// methods its schema names (upper case, as the reader gives them) and UTF-8 bodies; for HAR,
/// any method and any bytes. Both need a host and a response.
fn exchange(format: Format) -> impl Strategy<Value = Exchange> {
    let http_types = format == Format::HttpTypes;
    let method = if http_types {
        prop::sample::select(vec![
            "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT",
        ])
        .prop_map(str::to_owned)
        .boxed()
    } else {
        "[A-Z]{3,9}".boxed()
    };
    let request = (
        method,
        scheme(),
        "[a-z]{1,8}(\\.[a-z]{1,4}){0,2}",
        prop::option::of(prop_oneof![Just(80u16), Just(443), 1u16..]),
        target(),
        version(),
        grouped_headers(ENCODING),
        body(http_types),
        field_list(),
        prop::option::of(timestamp()),
    )
        .prop_map(
            |(method, scheme, host, port, target, version, headers, body, trailers, timestamp)| {
                Request {
                    method,
                    scheme,
                    host,
                    port,
                    target,
                    version,
                    headers,
                    body,
                    trailers,
                    timestamp,
                }
            },
        );
    let response = (
        100u16..=599,
        prop::option::of("[A-Za-z ]{1,12}"),
        version(),
        grouped_headers(ENCODING),
        field_list(),
        body(http_types),
        prop::option::of(timestamp()),
        prop::collection::vec(100u16..=199, 0..2),
    )
        .prop_map(
            |(status, reason, version, headers, trailers, body, timestamp, interim)| Response {
                status,
                reason,
                version,
                headers,
                trailers,
                body,
                timestamp,
                interim,
            },
        );
    (
        request,
        response,
        prop::option::of("[0-9.:]{7,15} -> [0-9.:]{7,15}"),
        tls(),
    )
        .prop_map(move |(request, response, flow, tls)| {
            let mut ex = Exchange {
                request,
                response: Some(response),
                source: Source {
                    flow,
                    tls,
                    ..Source::default()
                },
                extra: Map::new(),
            };
            // What HAR has no field for goes into `_wirecap`, but a request time is what
            // places an entry (`startedDateTime`); the HAR writer's derived fields are its own.
            if !http_types {
                ex.request
                    .timestamp
                    .get_or_insert(Timestamp::from_unix(0, 0));
            }
            ex
        })
}

// ---------------------------------------------------------------------------------------------
// Round trips.

fn input(bytes: Vec<u8>) -> Input {
    Input {
        name: "mem".into(),
        reader: Box::new(std::io::Cursor::new(bytes)),
    }
}

/// Writes `exchanges` as `format` and reads them back; the losses the writer noted.
fn through(format: Format, exchanges: &[Exchange]) -> (Vec<Exchange>, Losses, Vec<u8>) {
    let mut w = Writer::new(format, Vec::new()).expect("a writer");
    let mut losses = Losses::default();
    for ex in exchanges {
        w.write(ex, &mut losses).expect("writes to memory");
    }
    let bytes = w.finish().expect("flush");
    let back = formats::read(format, input(bytes.clone()), &ReadOptions::default())
        .expect("the output opens")
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&bytes)));
    (back, losses, bytes)
}

/// The exchange but for where it was read from, which each reader sets to its own input.
fn unplaced(mut ex: Exchange) -> Exchange {
    ex.source.file = None;
    ex.source.location = None;
    ex
}

fn assert_lossless(format: Format, mut exchanges: Vec<Exchange>) -> Result<(), TestCaseError> {
    let (back, losses, bytes) = through(format, &exchanges);
    if format == Format::HttpTypes {
        // http-types writes `host` without the scheme's default port (`a.test`, not
        // `a.test:80`), as its readers expect, so an explicit default port reads back as none.
        // The same address; HAR keeps the difference in `_wirecap`.
        for ex in &mut exchanges {
            let r = &mut ex.request;
            if r.port == Some(r.scheme.default_port()) {
                r.port = None;
            }
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    prop_assert!(losses.is_empty(), "{losses:?}\n{text}");
    let back: Vec<Exchange> = back.into_iter().map(unplaced).collect();
    prop_assert_eq!(back, exchanges, "{}", text);
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn http_types_keeps_every_field(exchanges in prop::collection::vec(exchange(Format::HttpTypes), 1..4)) {
        assert_lossless(Format::HttpTypes, exchanges)?;
    }

    #[test]
    fn har_keeps_every_field(exchanges in prop::collection::vec(exchange(Format::Har), 1..4)) {
        assert_lossless(Format::Har, exchanges)?;
    }

    #[test]
    fn hoverfly_v5_keeps_every_pair_field(pairs in prop::collection::vec(pair(), 1..4)) {
        let sim = Simulation { pairs, ..Simulation::default() };
        let mut out = Vec::new();
        let mut losses = Losses::default();
        formats::write_simulation(Format::Hoverfly, &sim, &hoverfly::WriteOptions::default(), &mut out, &mut losses)
            .expect("writes to memory");
        let text = String::from_utf8_lossy(&out).into_owned();
        prop_assert!(losses.is_empty(), "{losses:?}\n{text}");
        let mut read_losses = Losses::default();
        let back = formats::read_simulation(Format::Hoverfly, input(out.clone()), &ReadOptions::default(), &mut read_losses)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        prop_assert!(read_losses.is_empty(), "{read_losses:?}\n{text}");
        let back: Vec<Pair> = back.pairs.into_iter().map(|mut p| { p.source = Source::default(); p }).collect();
        prop_assert_eq!(back, sim.pairs, "{}", text);
    }
}

// ---------------------------------------------------------------------------------------------
// Hoverfly pairs.

/// A matcher Hoverfly knows, with a string value, maybe a v5.2 config and a `doMatch` chain.
fn matcher() -> impl Strategy<Value = Matcher> {
    let leaf = (
        prop::sample::select(vec!["exact", "glob", "regex", "xpath", "jsonpath"]),
        text(),
        prop::option::of(Just(json!({"ignoreCase": true}))),
    )
        .prop_map(|(name, value, config)| {
            let mut m = Matcher::new(name, value);
            m.config = config.and_then(|c| c.as_object().cloned());
            m
        });
    leaf.prop_recursive(2, 4, 1, |inner| {
        (inner.clone(), prop::option::of(inner)).prop_map(|(mut m, next)| {
            m.do_match = next.map(Box::new);
            m
        })
    })
}

fn matchers() -> impl Strategy<Value = Vec<Matcher>> {
    prop::collection::vec(matcher(), 0..2)
}

/// Names mapped to values, each name once.
fn unique<T: std::fmt::Debug + Clone>(
    value: impl Strategy<Value = T>,
) -> impl Strategy<Value = Vec<(String, T)>> {
    prop::collection::vec(("[a-z][a-z0-9-]{0,8}", value), 0..3).prop_map(|fields| {
        let mut out: Vec<(String, T)> = Vec::new();
        for (k, v) in fields {
            if !out.iter().any(|(n, _)| *n == k) {
                out.push((k, v));
            }
        }
        out
    })
}

fn pair() -> impl Strategy<Value = Pair> {
    let request = (
        (matchers(), matchers(), matchers(), matchers(), matchers()),
        unique(prop::collection::vec(matcher(), 1..2)),
        prop::option::of(unique(prop::collection::vec(matcher(), 1..2))),
        unique(text()),
    )
        .prop_map(
            |((path, method, destination, scheme, body), headers, query, requires_state)| {
                RequestMatcher {
                    path,
                    method,
                    destination,
                    scheme,
                    body,
                    headers,
                    query,
                    requires_state,
                    deprecated_query: Vec::new(),
                }
            },
        );
    let log_normal = (0i64..1000, 0i64..1000).prop_map(|(a, b)| LogNormal {
        min: a.min(b),
        max: a.max(b),
        mean: (a + b) / 2,
        median: (a + b) / 2,
    });
    let response = (
        (100u16..=599, any::<bool>(), body(false)),
        grouped_headers(&[]),
        (
            any::<bool>(),
            unique(text()),
            prop::collection::vec("[a-z]{1,6}", 0..2),
        ),
        (
            // `fixedDelay: 0` is no delay to Hoverfly (Go's `omitempty`), written as none.
            prop::option::of(1i64..10_000),
            prop::option::of(log_normal),
            prop::option::of("[a-z-]{1,10}"),
            prop::option::of("[a-z/]{1,10}\\.json"),
        ),
    )
        .prop_map(
            |(
                (status, binary, mut body),
                headers,
                (templated, transitions_state, removes_state),
                (fixed_delay, log_normal_delay, post_serve_action, body_file),
            )| {
                // A simulation body is what is served: no coding undone, nothing cut.
                body.decoded_from = None;
                body.cut = None;
                if !binary {
                    body.bytes = String::from_utf8_lossy(&body.bytes).into_owned().into();
                }
                ResponseTemplate {
                    status,
                    body,
                    body_file,
                    headers,
                    templated,
                    transitions_state,
                    removes_state,
                    fixed_delay,
                    log_normal_delay,
                    post_serve_action,
                }
            },
        );
    (request, response, prop::collection::vec("[a-z]{1,6}", 0..2)).prop_map(
        |(request, response, labels)| Pair {
            request,
            response,
            labels,
            source: Source::default(),
        },
    )
}

// ---------------------------------------------------------------------------------------------
// TCP reassembly.

/// A stream, where to cut it, how often each piece is sent and how far pieces move.
fn segmentation() -> impl Strategy<Value = (Vec<u8>, Vec<usize>, Vec<u8>, Vec<usize>, u32)> {
    prop::collection::vec(any::<u8>(), 1..2000).prop_flat_map(|data| {
        let n = data.len();
        (
            Just(data),
            prop::collection::vec(0..n, 0..40),
            prop::collection::vec(1u8..=3, 41),
            prop::collection::vec(0usize..8, 0..200),
            any::<u32>(),
        )
    })
}

/// Pieces of `data` cut at `cuts`, each sent `copies[i]` times (a copy may be re-cut at a
/// different place, as a retransmission can be), in an order shuffled by `swaps`: each swap
/// exchanges two sends at most 8 apart, so reordering stays within a window.
fn segments(data: &[u8], cuts: &[usize], copies: &[u8], swaps: &[usize]) -> Vec<(u64, Vec<u8>)> {
    let mut cuts: Vec<usize> = cuts.to_vec();
    cuts.push(0);
    cuts.push(data.len());
    cuts.sort_unstable();
    cuts.dedup();
    let mut sends = Vec::new();
    for (i, w) in cuts.windows(2).enumerate() {
        let (a, b) = (w[0], w[1]);
        for copy in 0..copies[i % copies.len()] {
            if copy == 2 && b - a > 1 {
                // A retransmission that covers only the second half of the piece.
                let mid = a + (b - a) / 2;
                sends.push((mid as u64, data[mid..b].to_vec()));
            } else {
                sends.push((a as u64, data[a..b].to_vec()));
            }
        }
    }
    for (k, &d) in swaps.iter().enumerate() {
        let i = k % sends.len();
        let j = (i + d).min(sends.len() - 1);
        sends.swap(i, j);
    }
    sends
}

fn header(seq: u32, syn: bool) -> TcpHeader {
    TcpHeader {
        src_port: 40000,
        dst_port: 80,
        seq: SeqNumber(seq),
        ack: None,
        syn,
        fin: false,
        rst: false,
        header_len: 20,
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// A stream cut, duplicated and reordered comes out of the reassembler as it went in, the
    /// sequence numbers wrapping or not.
    #[test]
    fn reassembly_gives_back_the_stream((data, cuts, copies, swaps, isn) in segmentation()) {
        let mut h = HalfStream::default();
        let mut out = Vec::new();
        let mut gaps = 0u64;
        let mut sink = |c: Chunk<'_>| match c {
            Chunk::Data(d, _) => out.extend_from_slice(d),
            Chunk::Gap(n) => gaps += n,
        };
        let origin = Origin { ts: Timestamp::from_unix(0, 0), packet: 1 };
        h.push(&header(isn, true), &[], origin, &mut sink);
        for (offset, bytes) in segments(&data, &cuts, &copies, &swaps) {
            let seq = isn.wrapping_add(1).wrapping_add(offset as u32);
            h.push(&header(seq, false), &bytes, origin, &mut sink);
        }
        h.flush(&mut sink);
        prop_assert_eq!(gaps, 0);
        prop_assert_eq!(out, data);
    }
}

/// A little-endian pcap of Ethernet frames, 1 ms apart.
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for field in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out[4..8].copy_from_slice(&[2, 0, 4, 0]);
    for (i, f) in frames.iter().enumerate() {
        let usec = i as u32 * 1000;
        for field in [1_700_000_000u32, usec, f.len() as u32, f.len() as u32] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        out.extend_from_slice(f);
    }
    out
}

fn frame(client: bool, seq: u32, ack: u32, syn: bool, payload: &[u8]) -> Vec<u8> {
    use etherparse::PacketBuilder;
    let (src, dst, sp, dp) = if client {
        ([10, 0, 0, 1], [10, 0, 0, 2], 40000, 80)
    } else {
        ([10, 0, 0, 2], [10, 0, 0, 1], 80, 40000)
    };
    let mut b = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(src, dst, 64)
        .tcp(sp, dp, seq, 65535);
    if syn {
        b = b.syn();
    }
    if !(syn && client) {
        b = b.ack(ack);
    }
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).expect("a frame");
    out
}

proptest! {
    #![proptest_config(config(32))]

    /// The same through a capture: an upload's request body, segmented, duplicated and
    /// reordered, is read from the pcap whole by the pipeline `convert` uses.
    #[test]
    fn a_reordered_upload_reads_back_whole((body, cuts, copies, swaps, isn) in segmentation()) {
        let mut stream = format!(
            "POST /up HTTP/1.1\r\nHost: h.test\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        let head = stream.len();
        stream.extend_from_slice(&body);
        let cuts: Vec<usize> = cuts.iter().map(|c| c + head).collect();
        let server_isn = 7_000u32;
        let mut frames = vec![
            frame(true, isn, 0, true, &[]),
            frame(false, server_isn, isn.wrapping_add(1), true, &[]),
        ];
        for (offset, bytes) in segments(&stream, &cuts, &copies, &swaps) {
            let seq = isn.wrapping_add(1).wrapping_add(offset as u32);
            // Acknowledging only the handshake: no hole is ever acknowledged past.
            frames.push(frame(true, seq, server_isn.wrapping_add(1), false, &bytes));
        }
        let reply = b"HTTP/1.1 204 No Content\r\n\r\n";
        frames.push(frame(
            false,
            server_isn.wrapping_add(1),
            isn.wrapping_add(1).wrapping_add(stream.len() as u32),
            false,
            reply,
        ));
        let exchanges = formats::read(Format::Pcap, input(pcap(&frames)), &ReadOptions::default())
            .expect("a capture")
            .collect::<Result<Vec<_>, _>>()
            .expect("reads");
        prop_assert_eq!(exchanges.len(), 1);
        prop_assert_eq!(&exchanges[0].request.body.bytes[..], &body[..]);
        prop_assert_eq!(exchanges[0].response.as_ref().map(|r| r.status), Some(204));
    }
}
