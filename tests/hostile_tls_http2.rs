//! Hostile input for the TLS and HTTP/2 layers: seeded mutations of every committed HTTPS and
//! HTTP/2 capture read with its keys, random HPACK blocks and Huffman strings, and random
//! HTTP/2 frame streams cut anywhere with gaps. Nothing may panic. Longer runs:
//! `ITERS=5000 SEED=7 cargo test --release --test hostile_tls_http2`; a capture that panics is
//! saved under the temporary directory for a regression test.

mod support;

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;
use support::Rng;
use wirecap::capture::Options;
use wirecap::capture::tls::keylog::KeyLog;
use wirecap::formats::{self, Format, Input, ReadOptions};

fn read(bytes: Vec<u8>, keys: Arc<KeyLog>) {
    let opts = ReadOptions {
        capture: Options {
            keys,
            ..Options::default()
        },
        ..ReadOptions::default()
    };
    let input = Input {
        name: "f.pcap".into(),
        reader: Box::new(Cursor::new(bytes)),
    };
    if let Ok(it) = formats::read(Format::Pcap, input, &opts) {
        for _ in it {}
    }
}

#[test]
fn mutated_https_captures_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/pcap/tls");
    let iters: usize =
        std::env::var("ITERS").map_or(100, |v| v.parse().expect("ITERS is a number"));
    let seed: u64 = std::env::var("SEED").map_or(0x9e3779b97f4a7c15, |v| v.parse().unwrap());
    let mut rng = Rng(seed);
    let mut cases = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "pcap" && ext != "pcapng" {
            continue;
        }
        let stem = p.file_stem().unwrap().to_str().unwrap().to_string();
        let mut keys = KeyLog::default();
        if let Ok(t) = std::fs::read(dir.join(format!("{stem}.keys"))) {
            let _ = keys.add_text(&t);
        }
        cases.push((stem, std::fs::read(&p).unwrap(), Arc::new(keys)));
    }
    for i in 0..iters {
        for (name, bytes, keys) in &cases {
            let mut b = bytes.clone();
            let n = 1 + rng.below(8);
            for _ in 0..n {
                // keep the file header mostly intact
                let at = 40 + rng.below(b.len().saturating_sub(40));
                match rng.below(6) {
                    0 => b[at] ^= 1 << rng.below(8),
                    1 => b[at] = rng.next() as u8,
                    2 => b[at] = [0, 0xff, 0x7f, 0x80, 0x17, 0x16, 3, 0x14][rng.below(8)],
                    3 => {
                        let len = rng.below(64).min(b.len() - at);
                        b.drain(at..at + len);
                    }
                    4 => {
                        let v: Vec<u8> = (0..rng.below(32)).map(|_| rng.next() as u8).collect();
                        b.splice(at..at, v);
                    }
                    _ => {
                        let v = b[at..]
                            .iter()
                            .take(rng.below(200))
                            .copied()
                            .collect::<Vec<_>>();
                        b.splice(at..at, v);
                    }
                }
            }
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                read(b.clone(), keys.clone())
            }));
            if r.is_err() {
                let out = std::env::temp_dir().join(format!("wirecap-crash-{name}-{i}.pcap"));
                std::fs::write(&out, &b).unwrap();
                panic!("panic on {name} iteration {i}, saved {}", out.display());
            }
        }
    }
}

#[test]
fn random_header_blocks_never_panic() {
    use wirecap::capture::http2::hpack::HeaderDecoder;
    let mut rng = Rng(12345);
    let iters: usize =
        std::env::var("ITERS").map_or(100, |v| v.parse().expect("ITERS is a number")) * 500;
    let mut d = HeaderDecoder::new();
    for _ in 0..iters {
        let len = rng.below(64);
        let mut block: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // bias toward Huffman strings and literal representations
        if len > 2 && rng.below(2) == 0 {
            block[0] = 0x40 | (rng.next() as u8 & 0x3f);
            block[1] |= 0x80;
        }
        let _ = d.decode(&block, 1 << 16);
        let mut out = Vec::new();
        let _ = wirecap::capture::http2::huffman::decode(&block, &mut out);
        if rng.below(100) == 0 {
            d.set_allowed(rng.next() as u32);
        }
    }
}

#[test]
fn random_http2_frames_never_panic() {
    use wirecap::capture::connection::{FlowInfo, HttpOptions, Role};
    use wirecap::capture::session::Session;
    use wirecap::capture::tcp_reassembly::{Chunk, Origin};
    use wirecap::model::Timestamp;
    let mut rng = Rng(777);
    let iters: usize =
        std::env::var("ITERS").map_or(100, |v| v.parse().expect("ITERS is a number")) * 50;
    let kinds = [0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    for it in 0..iters {
        let info = FlowInfo {
            file: Arc::from("f"),
            label: "c -> s".into(),
            server: "10.0.0.1:80".parse().unwrap(),
            tls: None,
        };
        let mut s = Session::new(
            info,
            HttpOptions::default(),
            rng.below(2) == 0,
            Arc::default(),
        );
        let mut client = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        let mut server = Vec::new();
        for _ in 0..rng.below(20) {
            let len = rng.below(40);
            let k = kinds[rng.below(kinds.len())];
            let flags = [0u8, 1, 4, 5, 8, 0x20, 0x2d, 0xff][rng.below(8)];
            let stream = [0u32, 1, 2, 3, 5, 0x7fffffff][rng.below(6)];
            let mut f = (len as u32).to_be_bytes()[1..].to_vec();
            f.extend([k, flags]);
            f.extend(stream.to_be_bytes());
            for _ in 0..len {
                f.push(match rng.below(4) {
                    0 => 0x80 | rng.next() as u8,
                    1 => 0x40,
                    2 => 0xff,
                    _ => rng.next() as u8,
                });
            }
            if rng.below(2) == 0 {
                client.extend(f)
            } else {
                server.extend(f)
            }
        }
        let o = |p: u64| Origin {
            ts: Timestamp::from_unix(p as i64, 0),
            packet: p,
        };
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut ci = 0;
            let mut si = 0;
            let mut p = 0;
            while ci < client.len() || si < server.len() {
                p += 1;
                if rng.below(30) == 0 {
                    s.feed(
                        if rng.below(2) == 0 {
                            Role::Request
                        } else {
                            Role::Response
                        },
                        Chunk::Gap(rng.below(50) as u64),
                    );
                }
                if ci < client.len() && (rng.below(2) == 0 || si >= server.len()) {
                    let n = (1 + rng.below(30)).min(client.len() - ci);
                    s.feed(Role::Request, Chunk::Data(&client[ci..ci + n], o(p)));
                    ci += n;
                } else {
                    let n = (1 + rng.below(30)).min(server.len() - si);
                    s.feed(Role::Response, Chunk::Data(&server[si..si + n], o(p)));
                    si += n;
                }
            }
            s.finish();
            let _ = s.take_ready();
        }));
        assert!(r.is_ok(), "h2 panic at iteration {it}");
    }
}
