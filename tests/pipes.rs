//! A closed standard output (`wirecap … | head`) ends the run quietly: nothing on stderr, exit
//! status 0; `validate` still says what it found, in its summary line and its exit status.
//! Each command here writes more than a pipe holds (64 KiB on Linux), so it must write after
//! the reading end is gone, whenever this test drops it.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// http-types lines, one per host, so that `count --by host` has a lot to say.
fn many_hosts(path: &Path, lines: usize) {
    let mut file = std::fs::File::create(path).expect("create input");
    for i in 0..lines {
        writeln!(
            file,
            r#"{{"request":{{"method":"get","protocol":"http","host":"host-{i}.example.test","path":"/items/{i}"}},"response":{{"statusCode":200,"headers":{{}},"body":"item {i}"}}}}"#
        )
        .expect("write input");
    }
}

/// Runs wirecap with its standard output closed early: (exit status, stderr).
fn closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wirecap runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wirecap finishes");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn run_with_closed_stdout(args: &[&str]) {
    let got = closed_stdout(args);
    assert_eq!(
        got,
        (Some(0), String::new()),
        "wirecap {args:?} with its output closed"
    );
}

#[test]
fn issue_2_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("many-hosts.jsonl");
    many_hosts(&input, 5000);
    let input = input.to_str().expect("utf-8 temp path");
    run_with_closed_stdout(&["convert", input, "-q"]);
    run_with_closed_stdout(&["convert", input, "--to", "hoverfly", "-q"]);
    run_with_closed_stdout(&["count", input, "--by", "host"]);
    run_with_closed_stdout(&["count", input, "--by", "host", "--format", "text"]);
    run_with_closed_stdout(&["merge", input, "-q", "--to", "http-types"]);
}

#[test]
fn validate_with_its_report_cut_short_still_fails_invalid_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let invalid = dir.path().join("invalid.jsonl");
    std::fs::write(&invalid, "{}\n".repeat(5000)).expect("write input");
    let (code, stderr) = closed_stdout(&["validate", invalid.to_str().expect("utf-8 temp path")]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            Some(1),
            "1 file, 5000 documents, 10000 errors, 0 warnings\n"
        )
    );
}

#[test]
fn validate_reads_a_pipe_named_like_a_file() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(["validate", "/dev/stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wirecap runs");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin
        .write_all(b"{\"request\":{}}\n")
        .expect("write to wirecap");
    drop(stdin);
    let out = child.wait_with_output().expect("wirecap finishes");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with("/dev/stdin:1:1: /: \"response\" is a required property"),
        "{stdout}"
    );
}

#[test]
fn issue_16_every_command_ends_quietly_on_a_closed_pipe() {
    // The capture reader's own thread, each writer, and the commands that print reports.
    for args in [
        &["convert", "testdata/pcap/cut-by-reset.pcap", "-q"][..],
        &[
            "convert",
            "testdata/pcap/curl-keepalive.pcap",
            "--to",
            "har",
            "-q",
        ],
        &[
            "convert",
            "testdata/pcap/curl-keepalive.pcap",
            "--to",
            "hoverfly",
            "-q",
        ],
        &["convert", "testdata/har/chromium-site.har", "-q"],
        &["convert", "testdata/hoverfly/sim-v5.3-labels.json", "-q"],
        &["merge", "testdata/pcap/curl-keepalive.pcap", "-q"],
        &["count", "testdata/pcap/curl-keepalive.pcap"],
        &["stats", "testdata/pcap/curl-keepalive.pcap"],
        &["stats", "testdata/har/chromium-site.har"],
        &["schema", "list"],
        &["schema", "show", "hoverfly-simulation/v5.3"],
        &["man"],
        &["completions", "bash"],
        &["--help"],
    ] {
        // Loss warnings may come (to Hoverfly from a capture); no error, no failure.
        let (code, stderr) = closed_stdout(args);
        assert_eq!(code, Some(0), "wirecap {args:?}: {stderr}");
        assert!(!stderr.contains("error"), "wirecap {args:?}: {stderr}");
    }
}
