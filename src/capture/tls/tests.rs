//! Tests of the TLS layer: record reassembly, decryption in order, records opened ahead,
//! resynchronisation after gaps, and TLS 1.2 resumption.

use super::*;
use crate::model::Timestamp;
use keylog::KeyLog;
use std::sync::RwLock;

fn shared(k: KeyLog) -> SharedKeys {
    Arc::new(RwLock::new(k))
}

const RANDOM: [u8; 32] = [7; 32];

fn secret(n: u8) -> Vec<u8> {
    vec![n; 32]
}

fn key(n: u8) -> RecordKey {
    RecordKey::tls13(keys::suite(0x1301).expect("suite"), &secret(n)).expect("key")
}

/// A key log of `secrets`: (label, the byte each secret is made of).
fn keys_of(secrets: &[(&str, u8)]) -> SharedKeys {
    let text: String = secrets
        .iter()
        .map(|(label, n)| format!("{label} {} {}\n", hex(&RANDOM), hex(&secret(*n))))
        .collect();
    let mut k = KeyLog::default();
    k.add_text(text.as_bytes()).expect("parses");
    shared(k)
}

fn keylog() -> SharedKeys {
    keys_of(&[
        ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", 1),
        ("SERVER_HANDSHAKE_TRAFFIC_SECRET", 2),
        ("CLIENT_TRAFFIC_SECRET_0", 3),
        ("SERVER_TRAFFIC_SECRET_0", 4),
    ])
}

fn plain_record(ty: u8, body: &[u8]) -> Vec<u8> {
    let len = body.len() as u16;
    [&[ty, 3, 3, (len >> 8) as u8, len as u8][..], body].concat()
}

fn handshake(ty: u8, body: &[u8]) -> Vec<u8> {
    let len = body.len();
    [
        &[ty, (len >> 16) as u8, (len >> 8) as u8, len as u8][..],
        body,
    ]
    .concat()
}

fn client_hello() -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend(RANDOM);
    b.extend([0, 0, 2, 0x13, 0x01, 1, 0, 0, 0]);
    plain_record(22, &handshake(1, &b))
}

fn server_hello() -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend([9u8; 32]);
    b.extend([0, 0x13, 0x01, 0]);
    b.extend([0, 6, 0, 43, 0, 2, 3, 4]);
    plain_record(22, &handshake(2, &b))
}

/// A whole TLS 1.3 connection: the client's bytes (ClientHello first, the rest after the
/// server's) and the server's, with the plaintext each side sent as application data.
fn connection(requests: &[&[u8]], responses: &[&[u8]]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let (mut chs, mut capp, mut shs, mut sapp) = (key(1), key(3), key(2), key(4));
    let alpn = [0, 16, 0, 5, 0, 3, 2, b'h', b'2'];
    let ee = handshake(8, &[&[0, alpn.len() as u8][..], &alpn].concat());
    let mut server = server_hello();
    server.extend(plain_record(20, &[1]));
    server.extend(shs.seal_tls13(22, &[ee, handshake(20, &[0; 32])].concat()));
    let mut client = plain_record(20, &[1]);
    client.extend(chs.seal_tls13(22, &handshake(20, &[0; 32])));
    for r in requests {
        client.extend(capp.seal_tls13(23, r));
    }
    for r in responses {
        server.extend(sapp.seal_tls13(23, r));
    }
    (client_hello(), server, client)
}

fn origin() -> Origin {
    Origin {
        ts: Timestamp::from_unix(1, 0),
        packet: 1,
    }
}

/// Feeds the three parts of [`connection`] in pieces of `size`; returns each side's
/// plaintext and the ALPN seen.
fn run(stream: &mut TlsStream, parts: [&[u8]; 3], size: usize) -> ([Vec<u8>; 2], Vec<String>) {
    let mut plain = [Vec::new(), Vec::new()];
    let mut alpn = Vec::new();
    let roles = [Role::Request, Role::Response, Role::Request];
    for (role, bytes) in roles.into_iter().zip(parts) {
        for piece in bytes.chunks(size) {
            stream.feed(role, Chunk::Data(piece, origin()), &mut |r, c, info| {
                if let Chunk::Data(d, _) = c {
                    plain[index(r)].extend_from_slice(d);
                }
                alpn.extend(info.alpn.clone());
            });
        }
    }
    (plain, alpn)
}

#[test]
fn records_split_anywhere_decrypt_to_the_same_plaintext() {
    let (hello, server, client) =
        connection(&[b"GET / HTTP/1.1\r\n\r\n", b"more"], &[b"HTTP/1.1 200"]);
    for size in [1, 2, 3, 5, 7, 64, 1 << 16] {
        let mut s = TlsStream::new(keylog());
        let (plain, alpn) = run(&mut s, [&hello, &server, &client], size);
        assert_eq!(plain[0], b"GET / HTTP/1.1\r\n\r\nmore", "size {size}");
        assert_eq!(plain[1], b"HTTP/1.1 200", "size {size}");
        assert_eq!(alpn.first().map(String::as_str), Some("h2"));
        assert_eq!((s.failure(), s.stats.records), (None, 5));
    }
}

#[test]
fn without_handshake_secrets_the_application_key_takes_over() {
    let (hello, server, client) = connection(&[b"GET"], &[b"200"]);
    let mut s = TlsStream::new(app_secrets_only(3, 4));
    let (plain, _) = run(&mut s, [&hello, &server, &client], 1 << 16);
    assert_eq!(plain, [b"GET".to_vec(), b"200".to_vec()]);
}

#[test]
fn a_corrupt_record_is_skipped_and_reported_as_a_gap() {
    let (hello, server, client) = connection(&[b"one", b"two", b"three"], &[]);
    let mut bad = client.clone();
    let second = bad.len() - (5 + 6 + 16) - (5 + 4 + 16) + 7;
    bad[second] ^= 1;
    let mut s = TlsStream::new(keylog());
    let mut seen = Vec::new();
    let roles = [Role::Request, Role::Response, Role::Request];
    for (role, bytes) in roles.into_iter().zip([&hello, &server, &bad]) {
        s.feed(role, Chunk::Data(bytes, origin()), &mut |_, c, _| {
            seen.push(match c {
                Chunk::Data(d, _) => String::from_utf8_lossy(d).into_owned(),
                Chunk::Gap(_) => "gap".into(),
            })
        });
    }
    assert_eq!(seen, ["one", "gap", "three"]);
    assert_eq!((s.stats.failed_records, s.failure()), (1, None));
}

#[test]
fn after_a_tcp_gap_the_next_record_is_found_by_trial() {
    let (hello, server, client) = connection(&[b"one", b"two", b"three"], &[]);
    let cut = client.len() - (5 + 6 + 16) - 20;
    let mut s = TlsStream::new(keylog());
    let seen = with_gap(&mut s, [&hello, &server, &client], cut, 1 << 16);
    assert_eq!(seen, ["one", "gap 3", "three"]);
}

/// A gap's report, as the tests list it.
fn gap(n: u64) -> String {
    if n >= UNKNOWN_GAP {
        "gap ?".into()
    } else {
        format!("gap {n}")
    }
}

/// The records' lengths say how much plaintext a gap lost, wherever it starts and ends: the
/// bytes lost, plus the parts of the records it cut, less what each record adds.
#[test]
fn a_gap_is_reported_as_the_plaintext_of_the_records_it_took() {
    let sizes = [30, 7, 50, 1, 20, 64, 9, 33, 12];
    let requests: Vec<Vec<u8>> = (0..sizes.len())
        .map(|i| vec![b'a' + i as u8; sizes[i]])
        .collect();
    let refs: Vec<&[u8]> = requests.iter().map(Vec::as_slice).collect();
    let (hello, server, client) = connection(&refs, &[]);
    let mut ends = Vec::new();
    let mut end = client.len() - sizes.iter().map(|n| n + 22).sum::<usize>();
    let first = end;
    for n in sizes {
        end += n + 22;
        ends.push(end);
    }
    let last_start = ends[ends.len() - 2];
    for start in first..last_start {
        for len in (1..120).step_by(7).filter(|len| start + len <= last_start) {
            let took: Vec<usize> = (0..sizes.len())
                .filter(|&i| ends[i] > start && ends[i] - (sizes[i] + 22) < start + len)
                .collect();
            let mut want: Vec<String> = (0..took[0])
                .map(|i| String::from_utf8_lossy(refs[i]).into_owned())
                .collect();
            // Before the first plaintext there is no parser to tell.
            if took[0] > 0 {
                want.push(gap(took.iter().map(|&i| sizes[i] as u64).sum()));
            }
            want.extend(
                (took[took.len() - 1] + 1..sizes.len())
                    .map(|i| String::from_utf8_lossy(refs[i]).into_owned()),
            );
            let mut s = TlsStream::new(keylog());
            let seen = lose(&mut s, [&hello, &server, &client], start..start + len, 13);
            assert_eq!(seen, want, "gap at {start}..{}", start + len);
        }
    }
}

/// A direction that pads its records cannot say how much plaintext the lost ones held.
#[test]
fn after_a_padded_record_a_gap_is_of_unknown_size() {
    let (hello, server, mut client) = connection(&[b"one"], &[]);
    let mut capp = key(3);
    capp.seq = 1;
    client.extend(capp.seal_tls13_padded(23, b"two", 8));
    let lost_at = client.len();
    client.extend(capp.seal_tls13(23, b"three"));
    client.extend(capp.seal_tls13(23, b"four"));
    let mut s = TlsStream::new(keylog());
    let seen = lose(
        &mut s,
        [&hello, &server, &client],
        lost_at..lost_at + 4,
        1 << 16,
    );
    assert_eq!(seen, ["one", "two", "gap ?", "four"]);
}

/// Feeds a connection whose client bytes lose `lost`, the rest in pieces of `size`; what came
/// out of the client side.
fn lose(
    s: &mut TlsStream,
    parts: [&[u8]; 3],
    lost: std::ops::Range<usize>,
    size: usize,
) -> Vec<String> {
    let [hello, server, client] = parts;
    let mut seen = Vec::new();
    let mut sink = |_: Role, c: Chunk<'_>, _: &Arc<TlsInfo>| {
        seen.push(match c {
            Chunk::Data(d, _) => String::from_utf8_lossy(d).into_owned(),
            Chunk::Gap(n) => gap(n),
        })
    };
    s.feed(Role::Request, Chunk::Data(hello, origin()), &mut sink);
    s.feed(Role::Response, Chunk::Data(server, origin()), &mut sink);
    s.feed(
        Role::Request,
        Chunk::Data(&client[..lost.start], origin()),
        &mut sink,
    );
    let n = (lost.end - lost.start) as u64;
    s.feed(Role::Request, Chunk::Gap(n), &mut sink);
    for piece in client[lost.end..].chunks(size) {
        s.feed(Role::Request, Chunk::Data(piece, origin()), &mut sink);
    }
    s.end_resync(&mut sink);
    seen
}

/// Feeds a connection whose client bytes lose 10 bytes at `cut`, the rest in pieces of
/// `size`; what came out of the client side, gaps as `gap`.
fn with_gap(s: &mut TlsStream, parts: [&[u8]; 3], cut: usize, size: usize) -> Vec<String> {
    let [hello, server, client] = parts;
    let mut seen = Vec::new();
    let mut sink = |_: Role, c: Chunk<'_>, _: &Arc<TlsInfo>| {
        seen.push(match c {
            Chunk::Data(d, _) if d.len() > 100 => format!("{} bytes", d.len()),
            Chunk::Data(d, _) => String::from_utf8_lossy(d).into_owned(),
            Chunk::Gap(n) => gap(n),
        })
    };
    s.feed(Role::Request, Chunk::Data(hello, origin()), &mut sink);
    s.feed(Role::Response, Chunk::Data(server, origin()), &mut sink);
    let (before, after) = client.split_at(cut);
    s.feed(Role::Request, Chunk::Data(before, origin()), &mut sink);
    s.feed(Role::Request, Chunk::Gap(10), &mut sink);
    for piece in after[10..].chunks(size) {
        s.feed(Role::Request, Chunk::Data(piece, origin()), &mut sink);
    }
    seen
}

#[test]
fn a_key_update_switches_to_the_next_generation_of_keys() {
    let (hello, server, mut client) = connection(&[b"before"], &[]);
    let mut capp = key(3);
    capp.seq = 1;
    client.extend(capp.seal_tls13(22, &handshake(24, &[0])));
    let mut next = capp.updated().expect("updates");
    client.extend(next.seal_tls13(23, b"after"));
    let mut s = TlsStream::new(keylog());
    let (plain, _) = run(&mut s, [&hello, &server, &client], 1 << 16);
    assert_eq!(plain[0], b"beforeafter");
}

#[test]
fn records_opened_ahead_give_way_to_a_key_update_among_them() {
    let before: Vec<Vec<u8>> = (0..6).map(|i| format!("b{i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = before.iter().map(Vec::as_slice).collect();
    let (hello, server, mut client) = connection(&refs, &[]);
    let mut capp = key(3);
    capp.seq = 6;
    client.extend(capp.seal_tls13(22, &handshake(24, &[0])));
    let mut next = capp.updated().expect("updates");
    for i in 0..6 {
        client.extend(next.seal_tls13(23, format!("a{i}").as_bytes()));
    }
    let mut s = TlsStream::new(keylog());
    let (plain, _) = run(&mut s, [&hello, &server, &client], 1 << 20);
    assert_eq!(plain[0], b"b0b1b2b3b4b5a0a1a2a3a4a5");
    assert_eq!(s.failure(), None);
}

#[test]
fn a_corrupt_record_among_records_opened_ahead_is_the_one_that_fails() {
    let msgs: Vec<Vec<u8>> = (0..8).map(|i| format!("m{i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
    let (hello, server, mut client) = connection(&refs, &[]);
    let whole = client.clone();
    // Each sealed "mN" record is 5 + 2 + 1 + 16 bytes; flip a byte of the fourth.
    let record = 5 + 2 + 1 + 16;
    let fourth = client.len() - 5 * record + 6;
    client[fourth] ^= 1;
    let mut s = TlsStream::new(keylog());
    let (plain, _) = run(&mut s, [&hello, &server, &client], 1 << 20);
    let mut t = TlsStream::new(keylog());
    let (clean, _) = run(&mut t, [&hello, &server, &whole], 1 << 20);
    assert_eq!(clean[0], b"m0m1m2m3m4m5m6m7");
    assert_eq!(plain[0], b"m0m1m2m4m5m6m7");
    assert_eq!(s.stats.failed_records, 1);
}

#[test]
fn garbage_where_records_belong_stops_the_connection_once() {
    let mut s = TlsStream::new(keylog());
    let mut n = 0;
    s.feed(
        Role::Request,
        Chunk::Data(&client_hello(), origin()),
        &mut |_, _, _| n += 1,
    );
    s.feed(
        Role::Response,
        Chunk::Data(b"HTTP/1.1 200 OK\r\n", origin()),
        &mut |_, _, _| n += 1,
    );
    assert_eq!(s.failure(), Some(&Failure::Malformed { side: "server" }));
    assert_eq!(n, 0);
}

/// The random of a HelloRetryRequest (RFC 8446 §4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

fn hello_retry_request() -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend(HRR_RANDOM);
    b.extend([0, 0x13, 0x01, 0]);
    b.extend([0, 6, 0, 43, 0, 2, 3, 4]);
    plain_record(22, &handshake(2, &b))
}

/// A ClientHello that offers early data (the `early_data` extension, RFC 8446 §4.2.10).
fn client_hello_with_early_data() -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend(RANDOM);
    b.extend([0, 0, 2, 0x13, 0x01, 1, 0, 0, 4, 0, 42, 0, 0]);
    plain_record(22, &handshake(1, &b))
}

fn feed_all(s: &mut TlsStream, parts: &[(Role, &[u8])]) -> [Vec<u8>; 2] {
    let mut plain = [Vec::new(), Vec::new()];
    for (role, bytes) in parts {
        s.feed(*role, Chunk::Data(bytes, origin()), &mut |r, c, _| {
            if let Chunk::Data(d, _) = c {
                plain[index(r)].extend_from_slice(d);
            }
        });
    }
    plain
}

fn app_secrets_only(client: u8, server: u8) -> SharedKeys {
    keys_of(&[
        ("CLIENT_TRAFFIC_SECRET_0", client),
        ("SERVER_TRAFFIC_SECRET_0", server),
    ])
}

#[test]
fn a_hello_retry_with_compatibility_change_cipher_specs_still_decrypts() {
    let (hello, server, client) = connection(&[b"GET"], &[b"200"]);
    let ccs = plain_record(20, &[1]);
    let mut s = TlsStream::new(keylog());
    let plain = feed_all(
        &mut s,
        &[
            (Role::Request, &hello),
            (
                Role::Response,
                &[hello_retry_request(), ccs.clone()].concat(),
            ),
            (Role::Request, &[ccs, hello.clone()].concat()),
            (Role::Response, &server),
            (Role::Request, &client),
        ],
    );
    assert_eq!(s.failure(), None);
    assert_eq!(plain, [b"GET".to_vec(), b"200".to_vec()]);
}

#[test]
fn early_data_is_skipped_and_counted_before_and_after_the_server_hello() {
    let (_, server, client) = connection(&[b"GET"], &[b"200"]);
    let ccs = plain_record(20, &[1]);
    let mut early = key(9);
    let data = early.seal_tls13(23, b"EARLY GET");
    let end = early.seal_tls13(22, &handshake(5, &[]));
    let mut s = TlsStream::new(keylog());
    let plain = feed_all(
        &mut s,
        &[
            (
                Role::Request,
                &[client_hello_with_early_data(), ccs, data].concat(),
            ),
            (Role::Response, &server),
            (Role::Request, &[end, client].concat()),
        ],
    );
    assert_eq!(s.failure(), None);
    assert_eq!(plain, [b"GET".to_vec(), b"200".to_vec()]);
    assert_eq!(s.stats.failed_records, 2);
}

#[test]
fn a_gap_before_this_sides_application_key_stops_it_and_lets_go() {
    let (hello, server, _) = connection(&[b"GET"], &[b"200"]);
    let mut s = TlsStream::new(app_secrets_only(3, 4));
    feed_all(
        &mut s,
        &[(Role::Request, &hello), (Role::Response, &server)],
    );
    assert!(s.decrypted());
    s.feed(Role::Request, Chunk::Gap(10), &mut |_, _, _| {});
    s.feed(
        Role::Request,
        Chunk::Data(&[0; 1 << 16], origin()),
        &mut |_, _, _| {},
    );
    assert_eq!(s.failure(), Some(&Failure::RecordGap { side: "client" }));
    assert!(s.halves.iter().all(|h| h.buf.is_empty()));
    assert_eq!(s.oldest_buffered(), None);
}

#[test]
fn resynchronising_over_small_segments_scans_each_byte_once() {
    let big = vec![b'x'; 16000];
    let (hello, server, client) = connection(&[b"one", &big, &big, &big, b"end"], &[]);
    let fin = 6 + (5 + 4 + 32 + 1 + 16) + (5 + 3 + 1 + 16);
    let mut s = TlsStream::new(keylog());
    let seen = with_gap(&mut s, [&hello, &server, &client], fin + 100, 1460);
    assert_eq!(s.failure(), None);
    assert_eq!(
        seen,
        ["one", "gap 16000", "16000 bytes", "16000 bytes", "end"]
    );
    assert!(s.halves[0].scanned < 16000 + 100, "{}", s.halves[0].scanned);
}

#[test]
fn plausible_records_that_never_open_cost_a_bounded_search() {
    let (hello, server, client) = connection(&[b"one"], &[b"200"]);
    let mut s = TlsStream::new(keylog());
    feed_all(
        &mut s,
        &[
            (Role::Request, &hello),
            (Role::Response, &server),
            (Role::Request, &client),
        ],
    );
    s.feed(Role::Request, Chunk::Gap(10), &mut |_, _, _| {});
    let junk: Vec<u8> = [0x17u8, 3, 3, 0x47, 0xff]
        .iter()
        .copied()
        .cycle()
        .take(1 << 16)
        .collect();
    s.feed(
        Role::Request,
        Chunk::Data(&junk, origin()),
        &mut |_, _, _| {},
    );
    // Each candidate is followed by what does not start a record; only the last, whose
    // follower is not there yet, is tried.
    assert!(s.halves[0].trial_bytes <= MAX_RESYNC_RECORDS * MAX_RECORD_BYTES as u64);
}

#[test]
fn wrong_traffic_secrets_without_handshake_secrets_are_a_failure_with_a_reason() {
    let (hello, server, client) = connection(&[b"GET"], &[b"200"]);
    let mut s = TlsStream::new(app_secrets_only(5, 6));
    feed_all(
        &mut s,
        &[
            (Role::Request, &hello),
            (Role::Response, &server),
            (Role::Request, &client),
        ],
    );
    s.finish();
    assert!(
        matches!(s.failure(), Some(Failure::AuthFailed { .. })),
        "{:?}",
        s.failure()
    );
}

#[test]
fn a_missing_application_secret_is_named() {
    let requests: Vec<&[u8]> = vec![b"a"; 9];
    let (hello, server, client) = connection(&requests, &[b"200"]);
    let k = keys_of(&[
        ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", 1),
        ("SERVER_HANDSHAKE_TRAFFIC_SECRET", 2),
        ("SERVER_TRAFFIC_SECRET_0", 4),
    ]);
    let mut s = TlsStream::new(k);
    feed_all(
        &mut s,
        &[
            (Role::Request, &hello),
            (Role::Response, &server),
            (Role::Request, &client),
        ],
    );
    assert_eq!(
        s.failure(),
        Some(&Failure::NoTrafficSecret { side: "client" })
    );
}

#[test]
fn a_failed_connection_holds_nothing_back() {
    let (hello, server, _) = connection(&[b"GET"], &[b"200"]);
    let mut s = TlsStream::new(shared(KeyLog::default()));
    feed_all(
        &mut s,
        &[(Role::Request, &hello), (Role::Response, &server)],
    );
    assert!(matches!(s.failure(), Some(Failure::NoKey { .. })));
    assert_eq!(s.oldest_buffered(), None);
}

/// TLS 1.2 building blocks: a ChaCha20-Poly1305 suite, hellos, a session id.
const CHACHA12: u16 = 0xcca8;

fn ch12(random: [u8; 32], sid: &[u8]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend(random);
    b.push(sid.len() as u8);
    b.extend(sid);
    b.extend([0, 2, 0xcc, 0xa8, 1, 0, 0, 0]);
    plain_record(22, &handshake(1, &b))
}

fn sh12(random: [u8; 32], sid: &[u8]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend(random);
    b.push(sid.len() as u8);
    b.extend(sid);
    b.extend([0xcc, 0xa8, 0, 0, 0]);
    plain_record(22, &handshake(2, &b))
}

fn keys12(cr: [u8; 32], sr: [u8; 32], master: &[u8]) -> (RecordKey, RecordKey) {
    RecordKey::tls12(keys::suite(CHACHA12).unwrap(), master, &cr, &sr).unwrap()
}

fn collect(s: &mut TlsStream, role: Role, c: Chunk<'_>, seen: &mut Vec<String>) {
    s.feed(role, c, &mut |r, c, _| {
        seen.push(match c {
            Chunk::Data(d, _) => format!("{:?}:{}", r, String::from_utf8_lossy(d)),
            Chunk::Gap(n) => format!("{r:?}:{}", gap(n)),
        })
    });
}

const RB: [u8; 32] = [5; 32];
const SB: [u8; 32] = [6; 32];
const SID: [u8; 32] = [0xaa; 32];
const MASTER: [u8; 48] = [0x42; 48];

/// A resumed TLS 1.2 connection; returns the stream after feeding, and what came out.
fn resumed_with_client_gap(keys: SharedKeys) -> (TlsStream, Vec<String>) {
    let (mut c, mut sv) = keys12(RB, SB, &MASTER);
    let mut s = TlsStream::new(keys);
    let mut seen = Vec::new();
    collect(
        &mut s,
        Role::Request,
        Chunk::Data(&ch12(RB, &SID), origin()),
        &mut seen,
    );
    let mut server = sh12(SB, &SID);
    server.extend(plain_record(20, &[1]));
    server.extend(sv.seal_tls12_chacha(22, &handshake(20, &[0; 12])));
    collect(
        &mut s,
        Role::Response,
        Chunk::Data(&server, origin()),
        &mut seen,
    );
    let mut client = plain_record(20, &[1]);
    client.extend(c.seal_tls12_chacha(22, &handshake(20, &[0; 12])));
    client.extend(c.seal_tls12_chacha(23, b"GET1"));
    collect(
        &mut s,
        Role::Request,
        Chunk::Data(&client, origin()),
        &mut seen,
    );
    let lost = c.seal_tls12_chacha(23, b"LOST");
    collect(
        &mut s,
        Role::Request,
        Chunk::Gap(lost.len() as u64),
        &mut seen,
    );
    let after = c.seal_tls12_chacha(23, b"GET2");
    collect(
        &mut s,
        Role::Request,
        Chunk::Data(&after, origin()),
        &mut seen,
    );
    (s, seen)
}

#[test]
fn a_gap_while_a_resumption_waits_is_applied_once_the_session_is_known() {
    // Control: the key log has the resumed connection's own line: resync works.
    let mut k = KeyLog::default();
    k.add_text(format!("CLIENT_RANDOM {} {}\n", hex(&RB), hex(&MASTER)).as_bytes())
        .unwrap();
    let (s, seen) = resumed_with_client_gap(shared(k));
    assert_eq!(s.failure(), None);
    assert_eq!(seen, ["Request:GET1", "Request:gap 4", "Request:GET2"]);
    // The same connection whose session is learned from another connection of the batch.
    let keys = shared(KeyLog::default());
    let (mut s, seen) = resumed_with_client_gap(keys.clone());
    assert!(s.waiting() && seen.is_empty());
    keys.write()
        .unwrap()
        .learn(Resumption::Id(SID.to_vec()), MASTER.to_vec());
    let mut out = Vec::new();
    s.retry(&mut |r, c, _| {
        out.push(match c {
            Chunk::Data(d, _) => format!("{r:?}:{}", String::from_utf8_lossy(d)),
            Chunk::Gap(n) => format!("{r:?}:{}", gap(n)),
        })
    });
    assert_eq!(s.failure(), None);
    assert_eq!(out, ["Request:GET1", "Request:gap 4", "Request:GET2"]);
}

#[test]
fn a_second_server_hello_is_ignored() {
    let keys = shared(KeyLog::default());
    let mut s = TlsStream::new(keys.clone());
    let mut seen = Vec::new();
    collect(
        &mut s,
        Role::Request,
        Chunk::Data(&ch12(RB, &SID), origin()),
        &mut seen,
    );
    let server = [sh12(SB, &SID), sh12(SB, &SID), vec![0x17, 3, 3, 0, 40]].concat();
    collect(
        &mut s,
        Role::Response,
        Chunk::Data(&server, origin()),
        &mut seen,
    );
    assert!(s.waiting());
    keys.write()
        .unwrap()
        .learn(Resumption::Id(SID.to_vec()), MASTER.to_vec());
    s.retry(&mut |_, _, _| {});
    assert!(!s.waiting());
}

#[test]
fn a_connection_whose_keys_fail_teaches_no_session() {
    let ra = [3u8; 32];
    let sa = [4u8; 32];
    let mut k = KeyLog::default();
    k.add_text(format!("CLIENT_RANDOM {} {}\n", hex(&ra), hex(&[0x13u8; 48])).as_bytes())
        .unwrap();
    let mut s = TlsStream::new(shared(k));
    let (_, mut sv) = keys12(ra, sa, &MASTER);
    let mut seen = Vec::new();
    collect(
        &mut s,
        Role::Request,
        Chunk::Data(&ch12(ra, &[]), origin()),
        &mut seen,
    );
    let mut server = sh12(sa, &SID);
    server.extend(plain_record(20, &[1]));
    server.extend(sv.seal_tls12_chacha(22, &handshake(20, &[0; 12])));
    collect(
        &mut s,
        Role::Response,
        Chunk::Data(&server, origin()),
        &mut seen,
    );
    assert!(
        matches!(s.failure(), Some(Failure::AuthFailed { .. })),
        "{:?}",
        s.failure()
    );
    let learned = s.take_learned();
    assert!(
        learned.is_empty(),
        "failed connection teaches {} session(s)",
        learned.len()
    );
}

#[test]
fn trial_decryption_after_a_gap_stays_in_proportion_to_the_input() {
    let (hello, server, client) = connection(&[b"one"], &[b"200"]);
    let mut s = TlsStream::new(keylog());
    feed_all(
        &mut s,
        &[
            (Role::Request, &hello),
            (Role::Response, &server),
            (Role::Request, &client),
        ],
    );
    s.feed(Role::Request, Chunk::Gap(10), &mut |_, _, _| {});
    // A header every 5 bytes whose length (16380) is a multiple of 5: every candidate is
    // followed by another plausible header.
    let junk: Vec<u8> = [0x17u8, 3, 3, 0x3f, 0xfc]
        .iter()
        .copied()
        .cycle()
        .take(20_000)
        .collect();
    s.feed(
        Role::Request,
        Chunk::Data(&junk, origin()),
        &mut |_, _, _| {},
    );
    let bound = RESYNC_TRIAL_BASE_BYTES
        + RESYNC_TRIAL_PER_BYTE * junk.len() as u64
        + MAX_RECORD_BYTES as u64;
    assert!(
        s.halves[0].trial_bytes <= bound,
        "{}",
        s.halves[0].trial_bytes
    );
    assert_eq!(s.failure(), Some(&Failure::RecordGap { side: "client" }));
}
