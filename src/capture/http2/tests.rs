//! Connection-level tests: frames in, exchanges out. Header blocks are made by loona-hpack's
//! encoder, one per direction as a real peer would.

use super::frame::PREFACE;
use super::frame::tests::{frame, origin};
use super::*;

use Role::{Request as C, Response as S};

fn info() -> FlowInfo {
    FlowInfo::for_test("10.0.0.2:8080")
}

/// Both peers' HPACK encoders, and frame builders on top.
struct Wire {
    client: loona_hpack::Encoder<'static>,
    server: loona_hpack::Encoder<'static>,
}

impl Wire {
    fn new() -> Self {
        Self {
            client: loona_hpack::Encoder::new(),
            server: loona_hpack::Encoder::new(),
        }
    }

    fn block(&mut self, role: Role, fields: &[(&str, &str)]) -> Vec<u8> {
        let e = match role {
            C => &mut self.client,
            S => &mut self.server,
        };
        e.encode(fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())))
    }

    /// A HEADERS frame with END_HEADERS, END_STREAM when `end`.
    fn headers(&mut self, role: Role, id: u32, fields: &[(&str, &str)], end: bool) -> Vec<u8> {
        let block = self.block(role, fields);
        let flags = flag::END_HEADERS | if end { flag::END_STREAM } else { 0 };
        frame(kind::HEADERS, flags, id, &block)
    }

    fn get(&mut self, id: u32, path: &str) -> Vec<u8> {
        let f = [
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "a.test:8080"),
            (":path", path),
            ("user-agent", "t/1"),
        ];
        self.headers(C, id, &f, true)
    }

    /// A response head and one DATA frame ending the stream.
    fn ok(&mut self, id: u32, status: &str, body: &str) -> Vec<u8> {
        let mut f = self.headers(S, id, &[(":status", status), ("server", "s")], false);
        f.extend(data(id, body, true));
        f
    }
}

fn data(id: u32, body: &str, end: bool) -> Vec<u8> {
    frame(
        kind::DATA,
        if end { flag::END_STREAM } else { 0 },
        id,
        body.as_bytes(),
    )
}

fn settings() -> Vec<u8> {
    frame(kind::SETTINGS, 0, 0, b"")
}

fn preface() -> Vec<u8> {
    [PREFACE.as_slice(), &settings()].concat()
}

fn line(r: &Ready) -> String {
    let e = &r.exchange;
    let q = &e.request;
    let head = format!("#{} {} {}{}", r.index, q.method, q.authority(), q.target);
    let cut = |b: &crate::model::Body| match &b.cut {
        Some(c) => format!(" (cut: {} of {:?})", c.seen, c.announced),
        None => String::new(),
    };
    let head = match q.body.bytes.is_empty() && q.body.cut.is_none() {
        true => head,
        false => format!(
            "{head} [{}]{}",
            String::from_utf8_lossy(&q.body.bytes),
            cut(&q.body)
        ),
    };
    match &e.response {
        Some(p) => format!(
            "{head} -> {}{} {:?}{}",
            p.interim
                .iter()
                .map(|s| format!("{s}+"))
                .collect::<String>(),
            p.status,
            String::from_utf8_lossy(&p.body.bytes),
            cut(&p.body)
        ),
        None => format!("{head} -> none"),
    }
}

/// Feeds the parts in order (each its own packet), finishes, and lists the exchanges by index.
fn run_on(c: &mut Connection, parts: &[(Role, Vec<u8>)]) -> Vec<String> {
    for (i, (role, bytes)) in parts.iter().enumerate() {
        c.feed(*role, Chunk::Data(bytes, origin(i as u64 + 1)));
    }
    c.finish();
    let mut ready: Vec<&Ready> = c.ready.iter().collect();
    ready.sort_by_key(|r| r.index);
    ready.into_iter().map(line).collect()
}

fn run(parts: &[(Role, Vec<u8>)]) -> (Vec<String>, Connection) {
    let mut c = Connection::new(info(), HttpOptions::default(), true);
    let got = run_on(&mut c, parts);
    (got, c)
}

#[test]
fn one_get_becomes_one_exchange() {
    let mut w = Wire::new();
    let (got, c) = run(&[
        (C, [preface(), w.get(1, "/a")].concat()),
        (S, [settings(), w.ok(1, "200", "hello")].concat()),
    ]);
    assert_eq!(got, ["#0 GET a.test:8080/a -> 200 \"hello\""]);
    let ex = &c.ready[0].exchange;
    assert_eq!(ex.request.version.as_deref(), Some("HTTP/2"));
    assert_eq!(ex.request.headers.len(), 1, "pseudo-headers are not fields");
    assert_eq!(ex.request.headers.first("user-agent"), Some("t/1"));
    assert_eq!(ex.request.timestamp, Some(origin(1).ts));
    let resp = ex.response.as_ref().expect("response");
    assert_eq!(
        (resp.reason.as_deref(), resp.version.as_deref()),
        (None, Some("HTTP/2"))
    );
    assert_eq!(resp.timestamp, Some(origin(2).ts));
    assert_eq!((c.requests, c.responses, c.stats.streams), (1, 1, 1));
}

#[test]
fn interleaved_streams_pair_by_id() {
    let mut w = Wire::new();
    let (a, b) = (w.get(1, "/a"), w.get(3, "/b"));
    let head3 = w.headers(S, 3, &[(":status", "404")], false);
    let head1 = w.headers(S, 1, &[(":status", "200")], false);
    let (got, _) = run(&[
        (C, [preface(), a, b].concat()),
        (
            S,
            [
                settings(),
                head3,
                head1,
                data(1, "a1", false),
                data(3, "b", true),
            ]
            .concat(),
        ),
        (S, data(1, "a2", true)),
    ]);
    assert_eq!(
        got,
        [
            "#0 GET a.test:8080/a -> 200 \"a1a2\"",
            "#1 GET a.test:8080/b -> 404 \"b\""
        ]
    );
}

#[test]
fn bodies_trailers_and_interim_responses() {
    let mut w = Wire::new();
    let post = w.headers(
        C,
        1,
        &[
            (":method", "POST"),
            (":path", "/p"),
            (":authority", "a.test"),
        ],
        false,
    );
    let trailer = w.headers(C, 1, &[("x-sum", "1")], true);
    let cont = w.headers(S, 1, &[(":status", "100")], false);
    let head = w.headers(S, 1, &[(":status", "201")], false);
    let resp_trailer = w.headers(S, 1, &[("grpc-status", "0")], true);
    let (got, c) = run(&[
        (C, [preface(), post, data(1, "up", false), trailer].concat()),
        (
            S,
            [settings(), cont, head, data(1, "ok", false), resp_trailer].concat(),
        ),
    ]);
    assert_eq!(got, ["#0 POST a.test/p [up] -> 100+201 \"ok\""]);
    let ex = &c.ready[0].exchange;
    assert_eq!(ex.request.trailers.first("x-sum"), Some("1"));
    let resp = ex.response.as_ref().expect("response");
    assert_eq!(resp.trailers.first("grpc-status"), Some("0"));
    assert!(resp.headers.is_empty());
}

#[test]
fn every_split_reads_the_same() {
    let mut w = Wire::new();
    let client = [preface(), w.get(1, "/a"), w.get(3, "/b")].concat();
    let server = [settings(), w.ok(1, "200", "one"), w.ok(3, "200", "two")].concat();
    let whole = run(&[(C, client.clone()), (S, server.clone())]).0;
    assert_eq!(whole.len(), 2);
    for size in 1..server.len().max(client.len()) {
        let mut parts: Vec<(Role, Vec<u8>)> =
            client.chunks(size).map(|p| (C, p.to_vec())).collect();
        parts.extend(server.chunks(size).map(|p| (S, p.to_vec())));
        assert_eq!(run(&parts).0, whole, "pieces of {size}");
    }
}

#[test]
fn continuation_frames_join_a_block() {
    let mut w = Wire::new();
    let block = w.block(C, &[(":method", "GET"), (":path", "/long"), ("x-a", "1")]);
    let (one, two) = block.split_at(block.len() / 2);
    let client = [
        preface(),
        frame(kind::HEADERS, flag::END_STREAM, 1, one),
        frame(kind::CONTINUATION, flag::END_HEADERS, 1, two),
    ]
    .concat();
    let (got, _) = run(&[(C, client), (S, [settings(), w.ok(1, "200", "x")].concat())]);
    assert_eq!(got, ["#0 GET 10.0.0.2:8080/long -> 200 \"x\""]);
}

#[test]
fn unknown_frames_ping_and_window_updates_are_ignored() {
    let mut w = Wire::new();
    let client = [
        preface(),
        frame(0x42, 0xff, 1, b"???"),
        frame(kind::PING, 0, 0, b"12345678"),
        w.get(1, "/a"),
        frame(kind::WINDOW_UPDATE, 0, 0, b"\0\0\x10\0"),
    ]
    .concat();
    let (got, _) = run(&[(C, client), (S, [settings(), w.ok(1, "200", "x")].concat())]);
    assert_eq!(got, ["#0 GET a.test:8080/a -> 200 \"x\""]);
}

#[test]
fn a_reset_keeps_what_arrived_of_a_response_marked_as_cut() {
    let mut w = Wire::new();
    let rst = |id| frame(kind::RST_STREAM, 0, id, b"\0\0\0\x08");
    let (a, b) = (w.get(1, "/a"), w.get(3, "/b"));
    let head3 = w.headers(S, 3, &[(":status", "200")], false);
    let (got, c) = run(&[
        (C, [preface(), a, b].concat()),
        (
            S,
            [
                settings(),
                w.ok(1, "200", "a"),
                rst(1),
                head3,
                data(3, "partial", false),
                rst(3),
            ]
            .concat(),
        ),
    ]);
    assert_eq!(
        got,
        [
            "#0 GET a.test:8080/a -> 200 \"a\"",
            "#1 GET a.test:8080/b -> 200 \"partial\" (cut: 7 of None)"
        ]
    );
    assert_eq!(c.notes.count(Note::Http2Reset), 1);
    assert_eq!(c.stats.resets, 2);
    let mut c = Connection::new(
        info(),
        HttpOptions {
            drop_incomplete: true,
            ..HttpOptions::default()
        },
        true,
    );
    let mut w = Wire::new();
    assert!(run_on(&mut c, &[(C, [preface(), w.get(1, "/a"), rst(1)].concat())]).is_empty());
    // A client's reset: what the server still sends completes the exchange.
    let mut w = Wire::new();
    let (got, c) = run(&[
        (C, [preface(), w.get(1, "/a"), rst(1)].concat()),
        (S, [settings(), w.ok(1, "200", "late")].concat()),
    ]);
    assert_eq!(got, ["#0 GET a.test:8080/a -> 200 \"late\""]);
    assert_eq!(c.notes.count(Note::Http2Reset), 0);
}

#[test]
fn goaway_ends_streams_the_server_did_not_take() {
    let mut w = Wire::new();
    let goaway = frame(kind::GOAWAY, 0, 0, b"\0\0\0\x01\0\0\0\x0bcalm down");
    let (a, b) = (w.get(1, "/a"), w.get(3, "/b"));
    let (got, c) = run(&[
        (C, [preface(), a, b].concat()),
        (S, [settings(), goaway].concat()),
        (S, w.ok(1, "200", "a")),
    ]);
    assert_eq!(
        got,
        [
            "#0 GET a.test:8080/a -> 200 \"a\"",
            "#1 GET a.test:8080/b -> none"
        ]
    );
    assert_eq!((c.stats.goaways, c.notes.count(Note::Http2GoAway)), (1, 1));
}

#[test]
fn server_push_becomes_an_exchange() {
    let mut w = Wire::new();
    let promise = w.block(
        S,
        &[
            (":method", "GET"),
            (":path", "/style.css"),
            (":authority", "a.test"),
        ],
    );
    let mut payload = 2u32.to_be_bytes().to_vec();
    payload.extend(promise);
    let push = frame(kind::PUSH_PROMISE, flag::END_HEADERS, 1, &payload);
    let pushed = w.ok(2, "200", "css");
    let (got, c) = run(&[
        (C, [preface(), w.get(1, "/")].concat()),
        (
            S,
            [settings(), push, w.ok(1, "200", "page"), pushed].concat(),
        ),
    ]);
    assert_eq!(
        got,
        [
            "#0 GET a.test:8080/ -> 200 \"page\"",
            "#1 GET a.test/style.css -> 200 \"css\""
        ]
    );
    assert_eq!(
        (c.stats.push_promises, c.notes.count(Note::Http2PushPromise)),
        (1, 1)
    );
}

#[test]
fn a_lost_block_drops_what_needs_its_entries_and_nothing_else() {
    let mut w = Wire::new();
    let first = w.headers(S, 1, &[(":status", "200"), ("x-big", "inserted")], true);
    // The same field again: the encoder now refers to the entry the lost block inserted.
    let second = w.headers(S, 3, &[(":status", "200"), ("x-big", "inserted")], true);
    let third = w.headers(S, 5, &[(":status", "204"), ("x-new", "literal")], true);
    let (a, b, c5) = (w.get(1, "/a"), w.get(3, "/b"), w.get(5, "/c"));
    let mut conn = Connection::new(info(), HttpOptions::default(), true);
    conn.feed(C, Chunk::Data(&[preface(), a, b, c5].concat(), origin(1)));
    conn.feed(
        S,
        Chunk::Data(&[settings(), first[..12].to_vec()].concat(), origin(2)),
    );
    conn.feed(S, Chunk::Gap(first.len() as u64 - 12));
    conn.feed(S, Chunk::Data(&[second, third].concat(), origin(3)));
    let got = run_on(&mut conn, &[]);
    assert_eq!(got, ["#2 GET a.test:8080/c -> 204 \"\""]);
    assert_eq!(conn.notes.count(Note::LostToGap), 1, "stream 1");
    assert_eq!(conn.notes.count(Note::HpackLost), 1, "stream 3");
    assert_eq!(conn.stats.hpack_lost, 1);
}

/// A connection whose client asked for /a on stream 1 and /b on stream 3.
fn asking_for_a_and_b(w: &mut Wire) -> Connection {
    let mut c = Connection::new(info(), HttpOptions::default(), true);
    let asks = [preface(), w.get(1, "/a"), w.get(3, "/b")].concat();
    c.feed(C, Chunk::Data(&asks, origin(1)));
    c
}

/// Issue 16: after a gap that took a frame header the frames are found again, so a response
/// after it is read; when the direction ends before any are, its request is kept without one.
#[test]
fn a_gap_across_a_frame_header_reads_on_at_the_next_frames() {
    for (after, answer, found) in [(true, "200 \"b\"", 1), (false, "none", 0)] {
        let mut w = Wire::new();
        let mut c = asking_for_a_and_b(&mut w);
        c.feed(
            S,
            Chunk::Data(&[settings(), w.ok(1, "200", "a")].concat(), origin(2)),
        );
        c.feed(S, Chunk::Gap(20));
        let ok = w.ok(3, "200", "b");
        let rest = if after { &ok[..] } else { &ok[..5] };
        c.feed(S, Chunk::Data(rest, origin(3)));
        assert!(!c.stopped(), "the client side still parses");
        let got = run_on(&mut c, &[]);
        assert_eq!(
            got,
            [
                "#0 GET a.test:8080/a -> 200 \"a\"".to_string(),
                format!("#1 GET a.test:8080/b -> {answer}")
            ]
        );
        let count = |n| c.notes.count(n);
        let notes = [
            Note::Http2Resynced,
            Note::Http2FramingLost,
            Note::LostToGap,
            Note::Incomplete,
        ];
        assert_eq!(notes.map(count), [found, 1 - found, 0, 1 - found]);
    }
}

/// Issue 16: a gap over a frame header gives up the rest of the bodies under way: a response
/// whose head came keeps the body that arrived, marked as lost in a gap from there. A stream
/// still waiting for its response head gets it when it comes after the gap; a request sent
/// later and never answered is kept without a response.
#[test]
fn issue_16_a_gap_over_a_frame_header_keeps_the_streams_it_cut() {
    let mut w = Wire::new();
    let mut c = Connection::new(info(), HttpOptions::default(), true);
    let clen = [(":status", "200"), ("content-length", "10")];
    let (a, b) = (w.get(1, "/a"), w.get(3, "/b"));
    c.feed(C, Chunk::Data(&[preface(), a, b].concat(), origin(1)));
    let head1 = w.headers(S, 1, &clen, false);
    let server = [settings(), head1, data(1, "0123", false)].concat();
    c.feed(S, Chunk::Data(&server, origin(2)));
    c.feed(S, Chunk::Gap(20));
    c.feed(S, Chunk::Data(&w.ok(3, "200", "b"), origin(3)));
    let got = run_on(&mut c, &[(C, w.get(5, "/c"))]);
    assert_eq!(
        got,
        [
            "#0 GET a.test:8080/a -> 200 \"0123\" (cut: 4 of Some(10))",
            "#1 GET a.test:8080/b -> 200 \"b\"",
            "#2 GET a.test:8080/c -> none"
        ]
    );
    // /b, whole, was written first; /a at the end of the connection.
    let a = c.ready.iter().find(|r| r.exchange.request.target == "/a");
    let cut = a
        .expect("/a")
        .exchange
        .response
        .as_ref()
        .unwrap()
        .body
        .cut
        .clone();
    assert_eq!(cut.map(|c| c.missing), Some(vec![[4, 10]]));
    let count = |n| c.notes.count(n);
    assert_eq!(
        [
            Note::Http2Resynced,
            Note::Http2FramingLost,
            Note::GapInBody,
            Note::LostToGap,
            Note::Incomplete
        ]
        .map(count),
        [1, 0, 1, 0, 1]
    );
    let why = c.notes.iter().find(|(n, _)| *n == Note::Http2Resynced);
    assert_eq!(
        why.map(|(_, n)| n.first.as_str()),
        Some(
            "c -> s: server to client after packet 2: a gap of 20 bytes took a frame header; frames found again 0 bytes after it, in packet 3; 1 open streams cut at the gap"
        )
    );
    // The client's side: an upload cut at the gap, answered.
    let mut w = Wire::new();
    let post = [
        (":method", "POST"),
        (":path", "/u"),
        (":authority", "a.test"),
    ];
    let mut c = Connection::new(info(), HttpOptions::default(), true);
    let upload = [
        preface(),
        w.headers(C, 1, &post, false),
        data(1, "up", false),
    ];
    c.feed(C, Chunk::Data(&upload.concat(), origin(1)));
    c.feed(C, Chunk::Gap(30));
    let got = run_on(&mut c, &[(S, [settings(), w.ok(1, "413", "")].concat())]);
    assert_eq!(got, ["#0 POST a.test/u [up] (cut: 2 of None) -> 413 \"\""]);
    assert_eq!(c.notes.count(Note::GapInBody), 1);
}

/// Issue 16: a gap over a padded DATA frame's pad length byte keeps the stream, its body cut
/// there (with the lost range when the length was announced), and the frames after it.
#[test]
fn issue_16_a_gap_over_a_pad_length_keeps_the_stream_cut_there() {
    let mut w = Wire::new();
    let mut c = asking_for_a_and_b(&mut w);
    let clen = [(":status", "200"), ("content-length", "9")];
    let head1 = w.headers(S, 1, &clen, false);
    let padded = frame(
        kind::DATA,
        flag::PADDED | flag::END_STREAM,
        1,
        &[&[2u8][..], b"56789", &[0, 0]].concat(),
    );
    let server = [
        settings(),
        head1,
        data(1, "01234", false),
        padded[..9].to_vec(),
    ];
    c.feed(S, Chunk::Data(&server.concat(), origin(2)));
    c.feed(S, Chunk::Gap(2));
    let rest = [padded[11..].to_vec(), w.ok(3, "200", "b")].concat();
    let got = run_on(&mut c, &[(S, rest)]);
    assert_eq!(
        got,
        [
            "#0 GET a.test:8080/a -> 200 \"01234\" (cut: 5 of Some(9))",
            "#1 GET a.test:8080/b -> 200 \"b\""
        ]
    );
    let cut = c.ready[0]
        .exchange
        .response
        .as_ref()
        .unwrap()
        .body
        .cut
        .clone();
    assert_eq!(cut.map(|c| c.missing), Some(vec![[5, 9]]));
    assert_eq!(c.notes.count(Note::GapInBody), 1);
    assert_eq!(c.notes.count(Note::Http2FramingLost), 0);
}

/// Issue 16: a gap inside DATA content, the frame's length and padding known, keeps the
/// stream: its body holds the bytes seen and is marked with the missing range, as HTTP/1
/// does; `--drop-incomplete` drops it, counted as lost to the gap.
#[test]
fn issue_16_a_gap_inside_data_keeps_the_stream_marked() {
    for drop_incomplete in [false, true] {
        let opts = HttpOptions {
            drop_incomplete,
            ..HttpOptions::default()
        };
        let (got, missing, notes) = gap_inside_data(opts);
        if drop_incomplete {
            assert_eq!(got, ["#1 GET a.test:8080/b -> 200 \"b\""]);
            assert_eq!(notes, (0, 1));
        } else {
            assert_eq!(
                got,
                [
                    "#0 GET a.test:8080/a -> 200 \"012789\" (cut: 6 of None)",
                    "#1 GET a.test:8080/b -> 200 \"b\""
                ]
            );
            assert_eq!(missing, [[3, 7]]);
            assert_eq!(notes, (1, 0));
        }
    }
}

/// Stream 1's DATA loses 4 of its 10 content bytes; returns the exchanges, stream 1's
/// missing ranges, and the (gap-in-body, lost-to-gap) counts.
fn gap_inside_data(opts: HttpOptions) -> (Vec<String>, Vec<[u64; 2]>, (u64, u64)) {
    let mut w = Wire::new();
    let body = data(1, "0123456789", true);
    let mut c = Connection::new(info(), opts, true);
    c.feed(
        C,
        Chunk::Data(
            &[preface(), w.get(1, "/a"), w.get(3, "/b")].concat(),
            origin(1),
        ),
    );
    let head1 = w.headers(S, 1, &[(":status", "200")], false);
    c.feed(
        S,
        Chunk::Data(
            &[settings(), head1, body[..12].to_vec()].concat(),
            origin(2),
        ),
    );
    c.feed(S, Chunk::Gap(4));
    c.feed(
        S,
        Chunk::Data(
            &[body[16..].to_vec(), w.ok(3, "200", "b")].concat(),
            origin(3),
        ),
    );
    let got = run_on(&mut c, &[]);
    let missing = c
        .ready
        .iter()
        .find(|r| r.exchange.request.target == "/a")
        .and_then(|r| r.exchange.response.as_ref()?.body.cut.clone())
        .map(|cut| cut.missing)
        .unwrap_or_default();
    let notes = (
        c.notes.count(Note::GapInBody),
        c.notes.count(Note::LostToGap),
    );
    (got, missing, notes)
}

#[test]
fn settings_bound_the_other_sides_table_size_updates() {
    let mut w = Wire::new();
    // Server: SETTINGS_HEADER_TABLE_SIZE = 100. A client block raising its table to 4096
    // breaks that limit; one lowering it to 100 is fine.
    let small = frame(kind::SETTINGS, 0, 0, b"\0\x01\0\0\0\x64");
    let get = w.get(1, "/a");
    let too_big = [[0x3f, 0xe1, 0x1f].as_slice(), &get[9..]].concat();
    let fine = [
        [0x3f, 0x45].as_slice(),
        &w.block(C, &[(":method", "GET"), (":path", "/b")]),
    ]
    .concat();
    let (got, c) = run(&[
        (S, small),
        (
            C,
            [
                preface(),
                frame(kind::HEADERS, 5, 1, &too_big),
                frame(kind::HEADERS, 5, 3, &fine),
            ]
            .concat(),
        ),
        (S, [w.ok(1, "200", "a"), w.ok(3, "200", "b")].concat()),
    ]);
    assert_eq!(got, ["#1 GET 10.0.0.2:8080/b -> 200 \"b\""]);
    assert_eq!(c.stats.hpack_lost, 1);
}

#[test]
fn connect_tunnels_end_at_their_response_head() {
    let mut w = Wire::new();
    let connect = w.headers(
        C,
        1,
        &[(":method", "CONNECT"), (":authority", "t.test:443")],
        false,
    );
    let ok = w.headers(S, 1, &[(":status", "200")], false);
    let (got, c) = run(&[
        (
            C,
            [preface(), connect, data(1, "\x16\x03\x01", false)].concat(),
        ),
        (S, [settings(), ok, data(1, "\x16\x03\x03", false)].concat()),
    ]);
    assert_eq!(got, ["#0 CONNECT t.test:443t.test:443 -> 200 \"\""]);
    assert_eq!(c.notes.count(Note::Upgrade), 1);
}

#[test]
fn not_the_preface_is_not_http2_and_cut_streams_are_marked() {
    let (got, c) = run(&[(C, b"GET / HTTP/1.1\r\n\r\n".to_vec())]);
    assert!(got.is_empty());
    assert!(c.not_http() && c.stopped());
    let mut w = Wire::new();
    let head = w.headers(S, 1, &[(":status", "200")], false);
    let (got, c) = run(&[
        (C, [preface(), w.get(1, "/a")].concat()),
        (S, [settings(), head, data(1, "par", false)].concat()),
    ]);
    assert_eq!(
        got,
        ["#0 GET a.test:8080/a -> 200 \"par\" (cut: 3 of None)"]
    );
    assert_eq!(
        (
            c.notes.count(Note::Truncated),
            c.notes.count(Note::Incomplete)
        ),
        (1, 0)
    );
}

#[test]
fn oldest_pending_is_the_oldest_open_request() {
    let mut w = Wire::new();
    let mut c = Connection::new(info(), HttpOptions::default(), true);
    assert_eq!(c.oldest_pending(), None);
    c.feed(
        C,
        Chunk::Data(&[preface(), w.get(1, "/a")].concat(), origin(5)),
    );
    c.feed(C, Chunk::Data(&w.get(3, "/b"), origin(7)));
    assert_eq!(c.oldest_pending(), Some(origin(5).ts));
    c.feed(
        S,
        Chunk::Data(&[settings(), w.ok(1, "200", "a")].concat(), origin(8)),
    );
    assert_eq!(c.oldest_pending(), Some(origin(7).ts));
    assert_eq!(c.ready.len(), 1, "written out when its stream closed");
}

#[test]
fn upgraded_connections_answer_the_http1_request_on_stream_1() {
    let request = Request {
        method: "GET".into(),
        scheme: crate::model::Scheme::Http,
        host: "a.test".into(),
        port: None,
        target: "/up".into(),
        version: Some("HTTP/1.1".into()),
        headers: [("Upgrade", "h2c"), ("HTTP2-Settings", "AAEAAAAA")]
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect(),
        body: Default::default(),
        trailers: Default::default(),
        timestamp: Some(origin(1).ts),
    };
    let up = Upgrade {
        request,
        start: origin(1),
        index: 4,
    };
    let mut c = Connection::upgraded(info(), HttpOptions::default(), up);
    // HTTP2-Settings "AAEAAAAA": SETTINGS_HEADER_TABLE_SIZE = 0 for the server's encoder.
    let mut w = Wire::new();
    let got = run_on(
        &mut c,
        &[
            (S, [settings(), w.ok(1, "200", "up")].concat()),
            (C, [preface(), w.get(3, "/next")].concat()),
            (S, w.ok(3, "200", "n")),
        ],
    );
    assert_eq!(
        got,
        [
            "#4 GET a.test/up -> 101+200 \"up\"",
            "#5 GET a.test:8080/next -> 200 \"n\""
        ]
    );
    assert_eq!(
        c.ready[0].exchange.request.version.as_deref(),
        Some("HTTP/1.1")
    );
}

#[test]
fn hostile_frames_never_panic() {
    // xorshift64: deterministic noise, biased towards frame-shaped bytes.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..300 {
        let mut c = Connection::new(info(), HttpOptions::default(), true);
        let mut client = preface();
        let mut server = Vec::new();
        for _ in 0..20 {
            let r = next();
            let len = (r % 40) as usize;
            let payload: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let f = frame(
                (r >> 8) as u8 % 11,
                (r >> 16) as u8,
                (r >> 24) as u32 % 8,
                &payload,
            );
            if r & (1 << 40) == 0 {
                client.extend(f)
            } else {
                server.extend(f)
            }
        }
        let size = 1 + round % 17;
        for (i, (a, b)) in client.chunks(size).zip(server.chunks(size)).enumerate() {
            c.feed(C, Chunk::Data(a, origin(i as u64)));
            c.feed(S, Chunk::Data(b, origin(i as u64)));
            if next() % 50 == 0 {
                c.feed(S, Chunk::Gap(next() % 30));
            }
        }
        let _ = c.oldest_pending();
        c.finish();
    }
}

/// Issue 16: a body cut off, by RST_STREAM or by the end of the connection before
/// END_STREAM, a response's or a request's, is kept marked as cut; `--drop-incomplete` drops
/// each such exchange, counted with its reason.
#[test]
fn issue_16_drop_incomplete_drops_streams_whose_bodies_were_cut_off() {
    let rst = |id| frame(kind::RST_STREAM, 0, id, b"\0\0\0\x08");
    let parts = |w: &mut Wire| {
        let post = [
            (":method", "POST"),
            (":scheme", "http"),
            (":authority", "a.test:8080"),
            (":path", "/d"),
        ];
        let client = [
            preface(),
            w.get(1, "/a"),
            w.get(3, "/b"),
            w.get(5, "/c"),
            w.headers(C, 7, &post, false),
            data(7, "up", false),
        ];
        let server = [
            settings(),
            w.ok(1, "200", "a"),
            w.headers(S, 3, &[(":status", "200")], false),
            data(3, "bb", false),
            rst(3),
            w.ok(7, "413", ""),
            w.headers(S, 5, &[(":status", "200")], false),
            data(5, "cc", false),
        ];
        [(C, client.concat()), (S, server.concat())]
    };
    let (got, c) = run(&parts(&mut Wire::new()));
    assert_eq!(
        got,
        [
            "#0 GET a.test:8080/a -> 200 \"a\"",
            "#1 GET a.test:8080/b -> 200 \"bb\" (cut: 2 of None)",
            "#2 GET a.test:8080/c -> 200 \"cc\" (cut: 2 of None)",
            "#3 POST a.test:8080/d [up] (cut: 2 of None) -> 413 \"\""
        ]
    );
    assert_eq!(c.notes.count(Note::DroppedCutBody), 0);
    let opts = HttpOptions {
        drop_incomplete: true,
        ..HttpOptions::default()
    };
    let mut c = Connection::new(info(), opts, true);
    let got = run_on(&mut c, &parts(&mut Wire::new()));
    assert_eq!(got, ["#0 GET a.test:8080/a -> 200 \"a\""]);
    assert_eq!(c.notes.count(Note::DroppedCutBody), 3);
    let first = c.notes.iter().find(|(n, _)| *n == Note::DroppedCutBody);
    assert_eq!(
        first.map(|(_, n)| n.first.as_str()),
        Some("c -> s: packet 1: GET /b: response body after 2 body bytes (--drop-incomplete)")
    );
}

#[test]
fn issue_16_the_head_limits_bound_a_header_list_and_raising_them_keeps_it() {
    let cookie = "x".repeat(100 << 10);
    let parts = |w: &mut Wire| {
        let head = [(":status", "200"), ("set-cookie", cookie.as_str())];
        [
            (C, [preface(), w.get(1, "/a"), w.get(3, "/b")].concat()),
            (
                S,
                [
                    settings(),
                    w.headers(S, 1, &head, false),
                    data(1, "a", true),
                ]
                .concat()
                .into_iter()
                .chain(w.ok(3, "200", "b"))
                .collect(),
            ),
        ]
    };
    // By default the 100 KiB list is over 64 KiB + 32 B for each of 256 fields: the stream
    // is dropped and counted, the next one read.
    let (got, c) = run(&parts(&mut Wire::new()));
    assert_eq!(got, ["#1 GET a.test:8080/b -> 200 \"b\""]);
    assert_eq!(c.notes.count(Note::Limit), 1);

    let limits = crate::limits::Limits {
        head_bytes: 1 << 20,
        ..Default::default()
    };
    let opts = HttpOptions {
        limits,
        ..HttpOptions::default()
    };
    let mut c = Connection::new(info(), opts, true);
    let got = run_on(&mut c, &parts(&mut Wire::new()));
    assert_eq!(
        got,
        [
            "#0 GET a.test:8080/a -> 200 \"a\"",
            "#1 GET a.test:8080/b -> 200 \"b\""
        ]
    );
    assert_eq!(c.notes.count(Note::Limit), 0);
    let head = &c.ready[0]
        .exchange
        .response
        .as_ref()
        .expect("a response")
        .headers;
    assert_eq!(head.first("set-cookie").map(str::len), Some(100 << 10));
}
