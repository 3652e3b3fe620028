//! Resource limits hold on pathological inputs (issue 16): each input is generated on the fly
//! and streamed into `wirecap convert -` on standard input, and the child's peak resident
//! memory (VmHWM in /proc/PID/status, polled) must stay under a stated bound, with the run
//! ending normally and the limit's skip reported. Nothing here is a file in the repository.
//!
//! - a request announcing a 2 GB `Content-Length` (then sending 4 MiB): the body is not
//!   reserved on the header's word, the exchange is kept with its body marked cut;
//! - many tiny flows at once (50,000 under `--max-open-flows 2000`, and a million with the
//!   defaults): memory is set by the open-flow limit, and every flow's request is counted;
//! - a 500 MB single JSON line: read up to `--max-line-bytes` and skipped, not held whole;
//! - a JSON nesting depth of 100,000 in http-types, HAR and Hoverfly input, and through
//!   `validate`: an error naming the record, not a stack overflow; and read whole once
//!   `--max-json-depth` allows it; and a JSON body nested 1,000,000 deep, redacted.
//!
//! Linux only (it reads /proc); elsewhere the memory checks are skipped with a notice.

use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

/// What a run gave: exit status, stderr, peak resident memory in bytes (when /proc has it).
struct Run {
    status: ExitStatus,
    stderr: String,
    peak: Option<u64>,
    secs: f64,
}

fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Runs `wirecap ARGS`, feeding standard input from `feed`, polling the peak memory until the
/// child exits.
fn run(args: &[&str], feed: impl FnOnce(&mut dyn Write) + Send + 'static) -> Run {
    let start = Instant::now();
    let mut child: Child = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wirecap starts");
    let pid = child.id();
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = thread::spawn(move || {
        // A child that stops reading early (an error) closes the pipe: that is its answer.
        feed(&mut stdin);
    });
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut peak = None;
    let status = loop {
        if let Some(hwm) = vm_hwm(pid) {
            peak = peak.max(Some(hwm));
        }
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        thread::sleep(Duration::from_millis(5));
    };
    writer.join().expect("the feeder ends");
    Run {
        status,
        stderr: reader.join().expect("stderr read"),
        peak,
        secs: start.elapsed().as_secs_f64(),
    }
}

/// Checks the run ended by itself (no signal, no panic) with `code`, under `bound` bytes.
fn check(what: &str, run: &Run, code: i32, bound: u64) {
    eprintln!(
        "{what}: exit {:?}, peak {} MiB (bound {} MiB), {:.1} s",
        run.status.code(),
        run.peak.map_or("?".to_owned(), |p| (p / MIB).to_string()),
        bound / MIB,
        run.secs
    );
    assert_eq!(run.status.code(), Some(code), "{what}: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
    match run.peak {
        Some(peak) => assert!(
            peak < bound,
            "{what}: peak resident memory {} MiB, bound {} MiB",
            peak / MIB,
            bound / MIB
        ),
        None => eprintln!("{what}: no /proc/PID/status here; memory not checked"),
    }
}

fn ignore_pipe(r: std::io::Result<()>) {
    if let Err(e) = r {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Captures, written by hand (a legacy pcap of Ethernet/IPv4/TCP frames) so a million packets
// cost little to make; wirecap does not check checksums.

fn pcap_header() -> Vec<u8> {
    let mut out = Vec::new();
    for field in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out[4..8].copy_from_slice(&[2, 0, 4, 0]);
    out
}

/// One frame at `ts` milliseconds: sequence and acknowledgment numbers and flags (0x02 SYN,
/// 0x10 ACK, 0x01 FIN, 0x04 RST, 0x18 PSH+ACK), then the payload.
fn frame(
    out: &mut Vec<u8>,
    ts: u32,
    src: ([u8; 4], u16),
    dst: ([u8; 4], u16),
    (seq, ack, flags): (u32, u32, u8),
    payload: &[u8],
) {
    let ip_len = 20 + 20 + payload.len();
    let len = 14 + ip_len;
    for field in [
        1_700_000_000 + ts / 1000,
        (ts % 1000) * 1000,
        len as u32,
        len as u32,
    ] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
    out.extend_from_slice(&[
        0x45,
        0,
        (ip_len >> 8) as u8,
        ip_len as u8,
        0,
        0,
        0x40,
        0,
        64,
        6,
        0,
        0,
    ]);
    out.extend_from_slice(&src.0);
    out.extend_from_slice(&dst.0);
    out.extend_from_slice(&src.1.to_be_bytes());
    out.extend_from_slice(&dst.1.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&ack.to_be_bytes());
    out.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    out.extend_from_slice(payload);
}

const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [10, 0, 0, 2];

#[test]
fn a_2_gb_content_length_reserves_nothing_and_keeps_the_exchange_cut() {
    let run = run(&["convert", "-", "--from", "pcap"], |w| {
        let c = (CLIENT, 40000);
        let s = (SERVER, 80);
        let mut out = pcap_header();
        frame(&mut out, 0, c, s, (100, 0, 0x02), &[]);
        frame(&mut out, 1, s, c, (500, 101, 0x12), &[]);
        frame(
            &mut out,
            2,
            c,
            s,
            (101, 501, 0x18),
            b"GET /big HTTP/1.1\r\nHost: h.test\r\n\r\n",
        );
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 2000000000\r\n\r\n";
        frame(&mut out, 3, s, c, (501, 137, 0x18), head);
        let mut seq = 501 + head.len() as u32;
        let chunk = vec![b'x'; 1400];
        ignore_pipe(w.write_all(&out));
        // 4 MiB of the 2 GB, then the server resets.
        for i in 0..3000u32 {
            out.clear();
            frame(&mut out, 4 + i, s, c, (seq, 137, 0x10), &chunk);
            seq = seq.wrapping_add(chunk.len() as u32);
            ignore_pipe(w.write_all(&out));
        }
        out.clear();
        frame(&mut out, 4000, s, c, (seq, 137, 0x04 | 0x10), &[]);
        ignore_pipe(w.write_all(&out));
    });
    check("2 GB Content-Length", &run, 0, 64 * MIB);
    assert!(
        run.stderr.contains("read 1 exchange, wrote 1,"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("after 4200000 of 2000000000 body bytes"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("cut"), "{}", run.stderr);
}

/// `convert -` over `n` flows of one exchange each, never closed: the worst case for the flow
/// table, since nothing finishes a flow before the end of the capture.
fn many_flows(n: u32, extra: &[&str]) -> Run {
    let mut args = vec!["convert", "-", "--from", "pcap"];
    args.extend_from_slice(extra);
    run(&args, move |w| {
        let mut out = pcap_header();
        let req = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        let resp = b"HTTP/1.1 204 No Content\r\n\r\n";
        for i in 0..n {
            let client = [10, (i >> 16) as u8 | 0x40, (i >> 8) as u8, i as u8];
            let client = (client, 40000 + (i >> 24) as u16);
            let ts = i / 1000;
            frame(&mut out, ts, client, (SERVER, 80), (1, 1, 0x18), req);
            frame(
                &mut out,
                ts,
                (SERVER, 80),
                client,
                (1, 1 + req.len() as u32, 0x18),
                resp,
            );
            if out.len() > 1 << 20 {
                ignore_pipe(w.write_all(&out));
                out.clear();
            }
        }
        ignore_pipe(w.write_all(&out));
    })
}

fn counted(run: &Run, n: u32) {
    assert!(
        run.stderr.contains("open flows: idle ones flushed early"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("read {n} exchanges, wrote {n},")),
        "{}",
        run.stderr
    );
}

/// 50,000 flows with `--max-open-flows 2000`: memory is set by the limit (and one batch of
/// new flows), not by the number of flows. About 8 s in a debug build.
#[test]
fn many_tiny_flows_stay_within_the_open_flow_limit() {
    let n = 50_000;
    let run = many_flows(n, &["--max-open-flows", "2000"]);
    check(&format!("{n} tiny flows, 2000 open"), &run, 0, 200 * MIB);
    counted(&run, n);
}

/// A million flows with the default limits, the figure README's limit table gives: the slowest
/// test of the suite (about 2.5 minutes of a debug build).
#[test]
fn a_million_tiny_flows_stay_bounded() {
    let n = 1_000_000;
    let run = many_flows(n, &[]);
    check(&format!("{n} tiny flows"), &run, 0, 1024 * MIB);
    counted(&run, n);
}

// ---------------------------------------------------------------------------------------------
// JSON.

#[test]
fn a_500_mb_json_line_is_skipped_in_bounded_memory() {
    let run = run(
        &["convert", "-", "--from", "http-types", "--keep-going"],
        |w| {
            let head = br#"{"request":{"method":"get","host":"a.test","path":"/"},"response":{"statusCode":200,"body":""#;
            ignore_pipe(w.write_all(head));
            let block = vec![b'a'; 1 << 20];
            for _ in 0..500 {
                if w.write_all(&block).is_err() {
                    return;
                }
            }
            ignore_pipe(w.write_all(b"\"}}\n"));
            let ok = br#"{"request":{"method":"get","host":"a.test","path":"/ok"},"response":{"statusCode":200,"body":"fine"}}"#;
            ignore_pipe(w.write_all(ok));
            ignore_pipe(w.write_all(b"\n"));
        },
    );
    // The line limit (64 MiB by default) and one copy of it; never the 500 MB.
    check("500 MB line", &run, 1, 200 * MIB);
    assert!(run.stderr.contains("line longer than"), "{}", run.stderr);
    assert!(run.stderr.contains("wrote 1"), "{}", run.stderr);
}

/// `{"a":` 100,000 times deep: what each format's record holds at `path`.
fn deep(depth: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(depth * 2 + 2);
    v.extend(std::iter::repeat_n(b'[', depth));
    v.extend(std::iter::repeat_n(b']', depth));
    v
}

fn deep_run(args: &[&str], before: &'static [u8], after: &'static [u8]) -> Run {
    run(args, move |w| {
        ignore_pipe(w.write_all(before));
        ignore_pipe(w.write_all(&deep(100_000)));
        ignore_pipe(w.write_all(after));
    })
}

/// What each format's record looks like around a deep array: what, arguments, the bytes
/// before and after it.
type DeepCase = (
    &'static str,
    &'static [&'static str],
    &'static [u8],
    &'static [u8],
);

/// An http-types line that `validate` passes, with the deep array at `/meta/x`.
const DEEP_LINE: &[u8] = br#"{"request":{"method":"get","protocol":"http","host":"a","path":"/","pathname":"/","query":{},"headers":{}},"response":{"statusCode":200,"headers":{}},"meta":{"x":"#;

const DEEP_CASES: [DeepCase; 5] = [
    ("http-types line", &["convert", "-", "--from", "http-types"], DEEP_LINE, b"}}\n"),
    (
        "http-types document",
        &["convert", "-", "--from", "http-types"],
        br#"[{"request":{"method":"get","host":"a","path":"/"},"response":{"statusCode":200},"meta":{"x":"#,
        b"}}]",
    ),
    (
        "HAR",
        &["convert", "-", "--from", "har"],
        br#"{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[{"startedDateTime":"2020-01-01T00:00:00Z","request":{"method":"GET","url":"http://a/","httpVersion":"HTTP/1.1","headers":[]},"response":{"status":200,"httpVersion":"HTTP/1.1","headers":[],"content":{"size":0}},"x":"#,
        b"}]}}",
    ),
    (
        "Hoverfly",
        &["convert", "-", "--from", "hoverfly"],
        br#"{"data":{"pairs":[]},"meta":{"schemaVersion":"v5","x":"#,
        b"}}",
    ),
    ("validate", &["validate", "-"], DEEP_LINE, b"}}\n"),
];

#[test]
fn json_nested_100_000_deep_is_an_error_not_a_crash() {
    for (what, args, before, after) in DEEP_CASES {
        let run = deep_run(args, before, after);
        let code = if what == "validate" { 1 } else { 2 };
        check(&format!("depth 100,000, {what}"), &run, code, 64 * MIB);
        assert!(
            run.stderr.contains("nested more than 128 deep") || what == "validate",
            "{what}: {}",
            run.stderr
        );
    }
}

/// The same records with `--max-json-depth` above their depth (100,000 arrays, inside at most
/// four levels of record) are read whole, and written back whole. Each level takes stack; in
/// a debug build the deepest of these (`validate`) peaked at 282 MiB.
#[test]
fn json_nested_100_000_deep_is_read_under_a_raised_max_json_depth() {
    for (what, args, before, after) in DEEP_CASES {
        let args = [args, &["--max-json-depth", "100004"]].concat();
        let run = deep_run(&args, before, after);
        check(
            &format!("depth 100,000 within the limit, {what}"),
            &run,
            0,
            1024 * MIB,
        );
        let read = if what == "Hoverfly" {
            "read 0 pairs"
        } else {
            "wrote 1"
        };
        assert!(
            run.stderr.contains(read) || what == "validate",
            "{what}: {}",
            run.stderr
        );
    }
    let run = deep_run(
        &[
            "convert",
            "-",
            "--from",
            "http-types",
            "--max-json-depth",
            "100001",
        ],
        DEEP_LINE,
        b"}}\n",
    );
    check("depth 100,002, one level over the limit", &run, 2, 64 * MIB);
    assert!(
        run.stderr.contains("nested more than 100001 deep"),
        "{}",
        run.stderr
    );

    let dir = tempfile::tempdir().expect("a temporary folder");
    let (input, output) = (dir.path().join("deep.jsonl"), dir.path().join("out.jsonl"));
    let line = [DEEP_LINE, &deep(100_000), b"}}\n"].concat();
    std::fs::write(&input, &line).expect("writes");
    let converted = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(["convert", "--max-json-depth", "100002", "-o"])
        .args([&output, &input])
        .output()
        .expect("wirecap runs");
    let stderr = String::from_utf8_lossy(&converted.stderr);
    assert_eq!(converted.status.code(), Some(0), "{stderr}");
    let written = std::fs::read(&output).expect("an output");
    let meta = br#""meta":{"x":"#;
    let at = written
        .windows(meta.len())
        .position(|w| w == meta)
        .expect("meta written")
        + meta.len();
    assert!(
        written[at..].starts_with(&deep(100_000)),
        "the deep array is written whole"
    );
}

/// A JSON body is a string, whatever it nests: `--redact` walks it without recursion, so a
/// body nested a million deep is redacted, not a stack overflow.
#[test]
fn a_json_body_nested_1_000_000_deep_is_redacted() {
    let run = run(&["convert", "-", "--from", "http-types", "--redact"], |w| {
        ignore_pipe(w.write_all(br#"{"request":{"method":"post","host":"a","path":"/","headers":{"content-type":"application/json"},"body":"{\"a\":"#));
        ignore_pipe(w.write_all(&deep(1_000_000)));
        ignore_pipe(w.write_all(br#",\"password\":\"x\"}"},"response":{"statusCode":200}}"#));
        ignore_pipe(w.write_all(b"\n"));
    });
    check("a body nested 1,000,000 deep, --redact", &run, 0, 200 * MIB);
    assert!(run.stderr.contains("redacted 1 value"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------------
// The flags.

/// `convert testdata/pcap/curl-keepalive.pcap` with `extra`: exit status, the summary JSON,
/// the exchanges written.
fn convert_keepalive(extra: &[&str]) -> (Option<i32>, serde_json::Value, Vec<serde_json::Value>) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join("out.jsonl");
    let summary = dir.path().join("summary.json");
    let status = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args([
            "convert",
            "testdata/pcap/curl-keepalive.pcap",
            "--quiet",
            "-o",
        ])
        .arg(&out)
        .arg("--summary-json")
        .arg(&summary)
        .args(extra)
        .status()
        .expect("wirecap runs");
    let summary =
        serde_json::from_slice(&std::fs::read(&summary).expect("a summary")).expect("summary JSON");
    let lines = std::fs::read_to_string(&out).expect("an output");
    let lines = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    (status.code(), summary, lines)
}

#[test]
fn a_lowered_body_limit_cuts_marks_and_counts_every_body_over_it() {
    let (code, summary, lines) = convert_keepalive(&["--max-body-bytes", "10"]);
    assert_eq!(code, Some(0));
    assert_eq!(summary["written"], 17);
    assert_eq!(
        summary["capture"]["notes"]["limit"]["count"], 17,
        "{summary:#}"
    );
    // Every response body over 10 bytes (a HEAD's has none) is kept cut at 10, and says so.
    let cut: Vec<&serde_json::Value> = lines
        .iter()
        .filter_map(|l| l["meta"]["wirecap"].get("responseBodyCut"))
        .collect();
    assert!(cut.len() >= 10, "{lines:#?}");
    assert!(cut.iter().all(|c| c["seen"] == 10), "{cut:?}");
    // Raised back, nothing is cut.
    let (code, summary, _) = convert_keepalive(&["--max-body-bytes", "1000000"]);
    assert_eq!(code, Some(0));
    assert!(
        summary["capture"]["notes"].get("limit").is_none(),
        "{summary:#}"
    );
}

#[test]
fn a_lowered_header_limit_skips_and_counts_the_messages_over_it() {
    let (code, summary, _) = convert_keepalive(&["--max-headers", "3"]);
    // Every message has more than 3 fields: nothing can be written, and the run says why
    // rather than stopping at the first.
    assert_eq!(code, Some(1));
    let limit = &summary["capture"]["notes"]["limit"];
    assert!(limit["count"].as_u64() > Some(16), "{summary:#}");
    assert!(
        limit["first"]
            .as_str()
            .is_some_and(|s| s.contains("more than 3 header fields (raise it with --max-headers)")),
        "{summary:#}"
    );
}
