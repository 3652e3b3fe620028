//! The malformed-input corpus (`testdata/bad/`, made by `testdata/bad/make_bad.py`): every case
//! of `testdata/bad/cases.tsv` goes through `wirecap convert`, and what it says (exit status,
//! stderr, what was written) must match `testdata/bad/expected.txt`. Update that file with
//! `SNAPSHOTS=overwrite cargo test --test bad_inputs` and review the diff.
//!
//! Beyond the golden, each run must hold what issue 16 asks of hostile input: no panic; exit
//! status 0, 1 or 2; every stderr line a `wirecap:` diagnostic; a stop (exit 2) is one error
//! line that names the file and a place in it (line, byte, block, record or packet number, or
//! a JSON pointer), and leaves neither the output nor a temporary file behind.

use snapbox::Data;
use snapbox::data::DataFormat;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

struct Case {
    file: String,
    args: Vec<String>,
    why: String,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string("testdata/bad/cases.tsv").expect("testdata/bad/cases.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            let mut col = || cols.next().expect("three tab-separated columns").to_owned();
            let (file, args, why) = (col(), col(), col());
            Case {
                file,
                args: args.split_whitespace().map(str::to_owned).collect(),
                why,
            }
        })
        .collect()
}

/// Files under `dir`, relative to `root`, sorted.
fn files_under(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read testdata/bad") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            files_under(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).expect("under root");
            out.push(rel.to_str().expect("utf-8 name").to_owned());
        }
    }
}

/// Whether an error message names a place: `FILE:LINE:`, a JSON pointer, or a byte, block,
/// record or packet number.
fn names_a_place(message: &str, file: &str) -> bool {
    let Some(rest) = message.strip_prefix(file) else {
        return false;
    };
    let line = rest
        .strip_prefix(':')
        .and_then(|r| r.split_once(':'))
        .is_some_and(|(n, _)| n.parse::<u64>().is_ok());
    let pointer = rest.starts_with(": /");
    let numbered = ["byte ", "block ", "record ", "packet "]
        .iter()
        .any(|w| rest.contains(w));
    let whole_file = rest.contains("the file is empty") || rest.contains("cut short");
    let not_json = rest.contains("like a JSON document") || rest.contains("UTF-16");
    line || pointer || numbered || whole_file || not_json
}

#[test]
fn issue_16_every_bad_input_says_where_and_what() {
    let root = Path::new("testdata/bad");
    let cases = cases();
    let mut on_disk = Vec::new();
    files_under(root, root, &mut on_disk);
    on_disk.retain(|f| !matches!(f.as_str(), "make_bad.py" | "cases.tsv" | "expected.txt"));
    on_disk.sort();
    let mut listed: Vec<String> = cases.iter().map(|c| c.file.clone()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "testdata/bad and cases.tsv disagree: rerun make_bad.py"
    );
    assert!(cases.len() >= 50, "only {} bad inputs", cases.len());

    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let mut transcript = String::new();
    let mut broken = Vec::new();
    for case in &cases {
        let file = format!("bad/{}", case.file);
        let run = Command::new(env!("CARGO_BIN_EXE_wirecap"))
            .current_dir("testdata")
            .arg("convert")
            .arg(&file)
            .args(&case.args)
            .arg("-o")
            .arg(&out)
            .output()
            .expect("wirecap runs");
        let code = run.status.code();
        let stderr = String::from_utf8_lossy(&run.stderr)
            .replace(out.to_str().expect("utf-8 temp path"), "OUT");
        let written = std::fs::read(&out).ok();
        let _ = std::fs::remove_file(&out);
        let leftovers = std::fs::read_dir(dir.path()).expect("temp dir").count();

        let mut problems = Vec::new();
        if stderr.contains("panicked") || !matches!(code, Some(0..=2)) {
            problems.push(format!("crashed ({code:?})"));
        }
        if let Some(l) = stderr.lines().find(|l| !l.starts_with("wirecap: ")) {
            problems.push(format!("stray stderr line {l:?}"));
        }
        if leftovers > 0 {
            problems.push("left a temporary file".into());
        }
        if code == Some(2) {
            let errors: Vec<&str> = stderr
                .lines()
                .filter(|l| l.starts_with("wirecap: error: "))
                .collect();
            match errors.as_slice() {
                [one] => {
                    let message = &one["wirecap: error: ".len()..];
                    if !names_a_place(message, &file) {
                        problems.push(format!("unlocated: {message}"));
                    }
                }
                _ => problems.push(format!("{} error lines", errors.len())),
            }
            if written.is_some() {
                problems.push("a failed run wrote its output".into());
            }
        }
        if !problems.is_empty() {
            broken.push(format!("{}: {}", case.file, problems.join("; ")));
        }

        let args: String = case.args.iter().map(|a| format!(" {a}")).collect();
        let _ = writeln!(transcript, "$ wirecap convert {file}{args} -o OUT");
        let _ = writeln!(transcript, "# {}", case.why);
        let _ = writeln!(
            transcript,
            "? {}",
            code.map_or("signal".into(), |c| c.to_string())
        );
        transcript.push_str(&stderr);
        let _ = match written {
            Some(bytes) => writeln!(
                transcript,
                "(OUT: {} lines)",
                bytes.iter().filter(|&&b| b == b'\n').count()
            ),
            None => writeln!(transcript, "(no OUT)"),
        };
        transcript.push('\n');
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    snapbox::assert_data_eq!(
        transcript,
        Data::read_from(&root.join("expected.txt"), Some(DataFormat::Text)).raw()
    );
}

/// Reads a capture under `testdata/` into exchanges (request line and status) and its account.
fn read_capture(path: &str) -> (Vec<String>, wirecap::capture::Stats) {
    use wirecap::formats::{self, Format, Input, ReadOptions};
    let input = Input {
        name: path.into(),
        reader: Box::new(std::io::Cursor::new(
            std::fs::read(Path::new("testdata").join(path)).expect("committed"),
        )),
    };
    let mut it = formats::read(Format::Pcap, input, &ReadOptions::default()).expect("opens");
    let lines = it
        .by_ref()
        .map(|e| {
            let e = e.expect("reads");
            let status = e.response.as_ref().map(|r| r.status);
            format!("{} {} -> {status:?}", e.request.method, e.request.target)
        })
        .collect();
    (lines, it.capture_stats().cloned().expect("read to the end"))
}

/// Issue 16: a response whose Content-Length is not a number, does not fit 64 bits, or is
/// given twice with different values has invalid framing (RFC 9112 §6.3 item 5: a user agent
/// closes the connection and discards it). Read to the connection's close, as before, its
/// body took the 16 responses after it. Now it is counted as a head that did not parse, its
/// request keeps no response, and the parser resynchronises at the next response: the other
/// 16 exchanges are those of the capture it was edited from. tshark 4.0.17 reads the first
/// two files as one response too (1 of 18 response heads), and the third with the first of
/// the two values (18 of 18).
#[test]
fn issue_16_an_invalid_content_length_costs_one_response_not_the_rest() {
    let (whole, _) = read_capture("pcap/curl-keepalive.pcap");
    for file in [
        "bad/http/content-length-not-a-number.pcap",
        "bad/http/content-length-twice.pcap",
        "bad/http/content-length-u64-overflow.pcap",
    ] {
        let (got, stats) = read_capture(file);
        assert_eq!(got[0], "GET /py/items?page=1&n=3 -> None", "{file}");
        assert_eq!(got[1..], whole[1..], "{file}");
        assert_eq!(
            (
                stats.http.responses,
                stats.http.exchanges,
                stats.http.incomplete
            ),
            (16, 17, 1),
            "{file}"
        );
        let note = stats
            .notes
            .iter()
            .find(|(n, _)| *n == wirecap::capture::Note::UnparseableHead)
            .map(|(_, c)| (c.count, c.first.clone()));
        let (count, first) = note.expect("counted");
        assert_eq!(count, 1, "{file}");
        assert!(
            first.contains("packet 6: response 200: ")
                && first.ends_with(
                    ", so its body's end is unknown (RFC 9112 §6.3); skipped to the next response"
                ),
            "{file}: {first}"
        );
    }
}

/// Issue 16: the 75 records of curl-keepalive.pcap in reverse order give one exchange of 17,
/// and that is what the TCP layer can know. Each direction's first segment in the file is its
/// last one; without its SYN first, a stream starts at the first data segment seen (a capture
/// joined mid-connection looks the same), so every earlier byte reads as already delivered:
/// counted as retransmitted (7652 bytes), as tshark 4.0.17 flags every one of those segments
/// "(suspected) spurious retransmission" and finds no HTTP message at all (2 requests with
/// `-o tcp.reassemble_out_of_order:TRUE`, no response). The client's last segment is a whole
/// request (`GET /py/close`), kept without its response; the server's is the middle of a
/// body. The SYNs, last in the file, open a second, empty connection on the same ports.
/// Reordering as real captures have it (segments swapped within a window, after the SYN) is
/// reassembled: see `out_of_order_segments_are_placed` in tests/capture.rs and the property
/// tests. Undoing a whole file's order would mean holding every flow until its end, so the
/// summary says the records are out of time order instead, and names reordercap.
#[test]
fn issue_16_a_reversed_capture_keeps_what_starts_each_direction() {
    let (got, stats) = read_capture("bad/pcap/records-reversed.pcap");
    assert_eq!(got, ["GET /py/close -> None"]);
    assert_eq!(stats.tcp.duplicate_bytes, 7652);
    assert_eq!((stats.tcp.flows, stats.tcp.empty_flows), (1, 1));
    assert_eq!(stats.tcp.gap_bytes, 0);
    // The summary says the file is out of order, and how to sort it; sorted by reordercap
    // 4.0.17, the file gives all 17 exchanges again.
    let order = wirecap::capture::Note::OutOfTimeOrder;
    assert_eq!(stats.notes.count(order), 74);
    assert!(!wirecap::loss::INFORMATIONAL_NOTES.contains(&wirecap::capture::Note::Gap));
    assert!(wirecap::loss::INFORMATIONAL_NOTES.contains(&order));
}
