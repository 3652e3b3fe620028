//! Hostile input never panics: every fixture line, mutated byte by byte and cut short, either
//! reads or fails with a located error; and writing whatever reads never panics either.

use wirecap::formats::http_types::{MAX_LINE_BYTES, Reader, Writer};
use wirecap::loss::Losses;

/// A small deterministic generator (xorshift), so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const INTERESTING: &[u8] = b"{}[]\":,\\0-1e9 \n\x00\xff\xc3nulltruefalse";

#[test]
fn mutated_and_truncated_lines_never_panic() {
    let fixtures = [
        "testdata/http-types/py-recorder.jsonl",
        "testdata/http-types/hand-written.jsonl",
    ];
    let mut rng = Rng(0x5eed);
    let mut cases = 0;
    for path in fixtures {
        let text = std::fs::read(path).expect("fixture exists");
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            for _ in 0..300 {
                let mut bytes = line.to_vec();
                for _ in 0..1 + rng.next() % 4 {
                    let at = (rng.next() as usize) % bytes.len();
                    bytes[at] = INTERESTING[(rng.next() as usize) % INTERESTING.len()];
                }
                if rng.next() % 4 == 0 {
                    bytes.truncate((rng.next() as usize) % bytes.len());
                }
                let mut writer = Writer::new(Vec::new());
                let mut losses = Losses::default();
                for item in Reader::new(bytes.as_slice(), "fuzz", MAX_LINE_BYTES) {
                    match item {
                        Ok(ex) => {
                            writer.write(&ex, &mut losses).expect("writes to memory");
                        }
                        Err(e) => {
                            assert!(e.to_string().starts_with("fuzz:"), "unlocated error: {e}")
                        }
                    }
                }
                cases += 1;
            }
        }
    }
    assert!(cases > 3000);
}
