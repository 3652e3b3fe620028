//! Every fuzz target in CI without cargo-fuzz (issue 16): each target's own function
//! (`fuzz/src/lib.rs`, included here, is what `fuzz/fuzz_targets/<name>.rs` calls) runs on its
//! seeds from `testdata/` and `fuzz/seeds/`, on every committed crash input in
//! `fuzz/regressions/<target>/`, and on a fixed set of mutations of them, with debug assertions
//! on as in the fuzzers. A panic, an overflow or a hang fails the test and names the input.
//!
//! This replays what the fuzzers found and keeps the targets exercised on every commit in a
//! few seconds, beside `fuzz/smoke.sh` (every target under libFuzzer for 10 s, which
//! `scripts/test.sh` runs beside the tests); the long fuzzer runs (`fuzz/run.sh`, README "Development") are what
//! searches for new crashes.

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod wirecap_fuzz;

use std::path::{Path, PathBuf};
use std::time::Instant;
use wirecap_fuzz::targets;

/// Mutations per seed (captures get fewer: each one starts the capture pipeline's threads).
const MUTATIONS: usize = 24;
const CAPTURE_MUTATIONS: usize = 6;

/// The most bytes of a seed mutated (larger seeds are cut to it).
const MUTATED_BYTES: usize = 1 << 15;

fn files(dir: &str, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && keep(e.path()))
        .map(|e| e.into_path())
        .collect();
    out.sort();
    out
}

fn ext(exts: &'static [&'static str]) -> impl Fn(&Path) -> bool {
    move |p| {
        let name = p.to_string_lossy();
        exts.iter().any(|e| name.ends_with(e))
    }
}

/// A small deterministic generator (xorshift), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[u8] = b"\x00\xff\xfe\xfd\r\n{}[]\":,0-9 \x7f\x80";

/// A copy of `seed` with a few bytes changed, inserted, removed, or the end cut off.
fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = seed[..seed.len().min(MUTATED_BYTES)].to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(5) {
            0 if at < v.len() => v[at] = INTERESTING[rng.below(INTERESTING.len())],
            1 if at < v.len() => v[at] ^= 1 << rng.below(8),
            2 => v.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            3 if at < v.len() => {
                v.remove(at);
            }
            _ => v.truncate(at),
        }
    }
    v
}

/// Runs `target` on each seed, each regression input and their mutations.
fn replay(name: &str, target: fn(&[u8]), mut seeds: Vec<(String, Vec<u8>)>, mutations: usize) {
    let start = Instant::now();
    for path in files(&format!("fuzz/regressions/{name}"), |_| true) {
        let bytes = std::fs::read(&path).expect("readable");
        seeds.push((path.display().to_string(), bytes));
    }
    assert!(!seeds.is_empty(), "{name}: no seeds");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut runs = 0;
    for (what, seed) in &seeds {
        check(name, target, what, seed);
        for i in 0..mutations {
            let input = mutate(seed, &mut rng);
            check(name, target, &format!("{what}, mutation {i}"), &input);
        }
        runs += 1 + mutations;
    }
    eprintln!(
        "{name}: {} seeds, {runs} runs, {:.1} s",
        seeds.len(),
        start.elapsed().as_secs_f64()
    );
}

fn check(name: &str, target: fn(&[u8]), what: &str, input: &[u8]) {
    let outcome = std::panic::catch_unwind(|| target(input));
    if outcome.is_err() {
        let dump = std::env::temp_dir().join(format!("wirecap-fuzz-{name}-crash"));
        let _ = std::fs::write(&dump, input);
        panic!(
            "fuzz target {name} panicked on {what} (input saved to {}; replay it with \
             `cargo fuzz run {name} FILE` and add it to fuzz/regressions/{name}/)",
            dump.display()
        );
    }
}

fn read(paths: Vec<PathBuf>) -> Vec<(String, Vec<u8>)> {
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("readable");
            (p.display().to_string(), bytes)
        })
        .collect()
}

fn json_inputs() -> Vec<PathBuf> {
    let mut v = files("testdata/http-types", |_| true);
    v.extend(files("testdata/pasted", |_| true));
    v.extend(files("testdata/invalid", ext(&[".jsonl"])));
    v
}

#[test]
fn pcap() {
    let seeds = read(files("testdata", ext(&[".pcap", ".pcapng"])));
    replay("pcap", targets::pcap, seeds, CAPTURE_MUTATIONS);
}

#[test]
fn tcp_segments() {
    let seeds = vec![
        ("steps".to_owned(), (0u8..=255).collect()),
        (
            "in order".to_owned(),
            b"\x00\x00\x28\x00\x01\x00\x28\x00".repeat(8),
        ),
    ];
    replay(
        "tcp_segments",
        targets::tcp_segments,
        seeds,
        CAPTURE_MUTATIONS,
    );
}

#[test]
fn http1() {
    let seeds = read(files("fuzz/seeds/http1", |_| true));
    replay("http1", targets::http1, seeds, MUTATIONS);
}

#[test]
fn http2() {
    let seeds = read(files("fuzz/seeds/http2", |_| true));
    replay("http2", targets::http2, seeds, MUTATIONS);
}

#[test]
fn tls() {
    let seeds = read(files("fuzz/seeds/tls", |_| true));
    replay("tls", targets::tls, seeds, MUTATIONS);
}

#[test]
fn http_types() {
    replay(
        "http_types",
        targets::http_types,
        read(json_inputs()),
        MUTATIONS,
    );
}

#[test]
fn hoverfly() {
    let mut v = files("testdata/hoverfly", |_| true);
    v.extend(files("testdata/invalid", ext(&[".json"])));
    replay("hoverfly", targets::hoverfly, read(v), MUTATIONS);
}

#[test]
fn har() {
    let seeds = read(files("testdata/har", ext(&[".har"])));
    replay("har", targets::har, seeds, MUTATIONS);
}

#[test]
fn validate() {
    let mut v = json_inputs();
    v.extend(files("testdata/hoverfly", |_| true));
    v.extend(files("testdata/har", ext(&[".har"])));
    replay("validate", targets::validate, read(v), MUTATIONS);
}
