//! Hostile input never panics: every fixture line, mutated byte by byte and cut short, either
//! reads or fails with a located error; and writing whatever reads never panics either. Through
//! the binary, every broken http-types file (and a 100 MB line) gives one
//! `wirecap: error: FILE:LINE: /json/path: what was expected` line and exit status 2, or with
//! `--keep-going` is skipped, counted and exits 1.

mod support;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::Rng;
use wirecap::formats::http_types::{MAX_LINE_BYTES, Reader, Writer};
use wirecap::loss::Losses;

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
                            let e = e.to_string();
                            assert!(is_located(&e, "fuzz"), "unlocated error: {e}")
                        }
                    }
                }
                cases += 1;
            }
        }
    }
    assert!(cases > 3000);
}

/// Whether `message` reads `FILE:LINE: /json/pointer: what`, with `FILE` = `file`. (A key in
/// the pointer may itself hold `: `; the check only needs the pointer to start the part.)
fn is_located(message: &str, file: &str) -> bool {
    let Some(rest) = message.strip_prefix(file).and_then(|r| r.strip_prefix(':')) else {
        return false;
    };
    let Some((line, rest)) = rest.split_once(": ") else {
        return false;
    };
    let Some((pointer, what)) = rest.split_once(": ") else {
        return false;
    };
    line.parse::<u64>().is_ok_and(|n| n > 0) && pointer.starts_with('/') && !what.is_empty()
}

fn wirecap(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wirecap runs");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("piped stdin");
        // wirecap may stop reading at the first bad line; a broken pipe here is fine.
        let _ = pipe.write_all(bytes);
    }
    child.wait_with_output().expect("wirecap finishes")
}

/// Asserts that `out` is a stop at a located error: exit 2, nothing written, one stderr line.
fn assert_located_stop(out: &Output, file: &str, output: &Path) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
    let line = stderr.strip_suffix('\n').unwrap_or(&stderr);
    assert!(!line.contains('\n'), "{file}: more than one line: {stderr}");
    let message = line
        .strip_prefix("wirecap: error: ")
        .unwrap_or_else(|| panic!("{file}: not an error line: {line}"));
    assert!(is_located(message, file), "{file}: unlocated: {message}");
    assert!(!output.exists(), "{file}: a failed run left {output:?}");
}

#[test]
fn issue_2_every_broken_line_stops_with_file_line_pointer_and_what() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = dir.path().join("out.jsonl");
    let out_arg = output.to_str().expect("utf-8 temp path");
    let mut stopped = 0;
    let mut files: Vec<_> = std::fs::read_dir("testdata/invalid/http-types")
        .expect("testdata/invalid/http-types")
        .map(|e| e.expect("dir entry").path())
        .collect();
    files.push("testdata/http-types/invalid-lines.jsonl".into());
    files.sort();
    for path in files {
        let file = path.to_str().expect("utf-8 path");
        let out = wirecap(&["convert", file, "-o", out_arg, "-q"], None);
        match out.status.code() {
            // Lenient where the schema is (validate reports these, convert normalises them).
            Some(0) => {
                assert!(out.stderr.is_empty() || !out.stderr.starts_with(b"wirecap: error"));
                std::fs::remove_file(&output).expect("a successful run wrote its output");
                continue;
            }
            _ => assert_located_stop(&out, file, &output),
        }
        stopped += 1;
        let out = wirecap(
            &["convert", file, "-o", out_arg, "-q", "--keep-going"],
            None,
        );
        assert_eq!(out.status.code(), Some(1), "{file} --keep-going");
        let stderr = String::from_utf8_lossy(&out.stderr);
        for line in stderr.lines() {
            let skipped = line.strip_prefix("wirecap: warning: skipped ");
            if let Some(message) = skipped {
                assert!(is_located(message, file), "{file}: unlocated: {message}");
            }
        }
        assert!(
            stderr.contains("wirecap: warning: skipped "),
            "{file}: {stderr}"
        );
        assert!(output.exists(), "{file} --keep-going wrote nothing");
        std::fs::remove_file(&output).expect("remove output");
    }
    assert!(stopped >= 10, "only {stopped} broken files stopped convert");
}

#[test]
fn issue_2_a_100_mb_line_is_refused_or_skipped() {
    const GOOD: &[u8] = br#"{"request":{"method":"get","protocol":"http","host":"a.test","path":"/"},"response":{"statusCode":200,"headers":{},"body":"ok"}}"#;
    let mut input = Vec::with_capacity(101 << 20);
    input.extend_from_slice(GOOD);
    input.push(b'\n');
    input.extend_from_slice(br#"{"request":{"method":"get","protocol":"http","host":"a.test","path":"/"},"response":{"statusCode":200,"headers":{},"body":""#);
    input.resize(input.len() + (100 << 20), b'a');
    input.extend_from_slice(b"\"}}\n");
    input.extend_from_slice(GOOD);
    input.push(b'\n');

    let dir = tempfile::tempdir().expect("temp dir");
    let output = dir.path().join("out.jsonl");
    let out_arg = output.to_str().expect("utf-8 temp path");
    let out = wirecap(&["convert", "-", "-o", out_arg, "-q"], Some(&input));
    assert_located_stop(&out, "-", &output);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("wirecap: error: -:2: /: line longer than"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = wirecap(
        &["convert", "-", "-o", out_arg, "-q", "--keep-going"],
        Some(&input),
    );
    assert_eq!(out.status.code(), Some(1));
    let written = std::fs::read(&output).expect("output written");
    assert_eq!(written.iter().filter(|&&b| b == b'\n').count(), 2);
}
