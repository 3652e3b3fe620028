//! The progress bar on stderr: drawn in a pseudo-terminal (util-linux `script` runs wirecap
//! in one), cleared before the summary line, absent when stderr is not a terminal, with
//! `--quiet`, or under `TERM=dumb`; and the data written is the same bytes either way.
//!
//! A bar appears only once a run has lasted a quarter of a second: most runs here feed their
//! input through a pipe that pauses for a second, so they last long enough on any machine;
//! the one that needs a known size reads a file of about 25 MB.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// http-types lines; `lines` of them.
fn recording(path: &Path, lines: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create input"));
    for i in 0..lines {
        writeln!(
            file,
            r#"{{"request":{{"method":"get","protocol":"http","host":"api.example.test","path":"/items/{i}"}},"response":{{"statusCode":200,"headers":{{}},"body":"item {i}"}}}}"#
        )
        .expect("write input");
    }
}

/// A shell command that gives `wirecap ARGS` the first lines of `in.jsonl` on stdin, pauses
/// a second, then gives it the rest.
fn slow_stdin(args: &str) -> String {
    format!(
        "{{ head -n 100 in.jsonl; sleep 1; tail -n +101 in.jsonl; }} | {} {args}",
        env!("CARGO_BIN_EXE_wirecap")
    )
}

/// Runs `command` in a pseudo-terminal in `dir`: what the terminal showed.
fn in_terminal(dir: &Path, command: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new("script");
    cmd.args(["-qec", command, "/dev/null"])
        .current_dir(dir)
        .env("SHELL", "/bin/sh")
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .expect("util-linux `script` runs (it gives wirecap a pseudo-terminal)");
    assert!(out.status.success(), "{command}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A scratch folder holding `in.jsonl`, 3000 exchanges.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    recording(&dir.path().join("in.jsonl"), 3000);
    dir
}

const SUMMARY: &str = "wirecap: - (http-types) -> out.jsonl (http-types): read 3000 exchanges, wrote 3000, 0 not written, 0 invalid records skipped";

#[test]
fn a_bar_is_drawn_in_a_terminal_and_cleared_before_the_summary() {
    let dir = scratch();
    let shown = in_terminal(
        dir.path(),
        &slow_stdin("convert - --from jsonl -o out.jsonl"),
        &[],
    );
    // A pipe's length is unknown: bytes read and the rate, no ETA.
    assert!(shown.contains(" read ("), "{shown:?}");
    assert!(shown.contains("B/s)"), "{shown:?}");
    assert!(!shown.contains("ETA"), "{shown:?}");
    // Colour unless NO_COLOR.
    assert!(shown.contains("\x1b[32m"), "{shown:?}");
    // The last drawing is erased (carriage return, erase line), then the summary stands
    // alone on its line.
    let clear = shown.rfind("\r\x1b[2K").expect("the bar is cleared");
    assert_eq!(shown[clear..].trim_end(), format!("\r\x1b[2K{SUMMARY}"));

    // The same run without a terminal writes the same bytes.
    let plain = Command::new("sh")
        .args(["-c", &slow_stdin("convert - --from jsonl -o plain.jsonl")])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(plain.status.success());
    assert_eq!(
        std::fs::read(dir.path().join("out.jsonl")).unwrap(),
        std::fs::read(dir.path().join("plain.jsonl")).unwrap()
    );
}

#[test]
fn a_regular_file_shows_its_size_and_an_eta() {
    let dir = tempfile::tempdir().unwrap();
    // About 25 MB: a second or more for a test build, four times the wait before a bar.
    recording(&dir.path().join("big.jsonl"), 200_000);
    let size = std::fs::metadata(dir.path().join("big.jsonl"))
        .unwrap()
        .len();
    let shown = in_terminal(
        dir.path(),
        &format!("{} count big.jsonl", env!("CARGO_BIN_EXE_wirecap")),
        &[("NO_COLOR", "1")],
    );
    let total = format!("/{:.2} MiB (", size as f64 / (1 << 20) as f64);
    assert!(shown.contains(&total), "{total} in {shown:?}");
    assert!(shown.contains(", ETA "), "{shown:?}");
    assert!(!shown.contains("\x1b[32m"), "NO_COLOR: {shown:?}");
    // count's JSON on stdout follows the cleared bar.
    let clear = shown.rfind("\r\x1b[2K").expect("the bar is cleared");
    assert!(
        shown[clear..].starts_with("\r\x1b[2K{\r\n  \"count\": {\r\n    \"all\": 200000,"),
        "{shown:?}"
    );
}

/// Runs the slow pipe into `wirecap ARGS` with stderr and stdout piped: (stdout, stderr).
fn without_terminal(dir: &Path, args: &str, env: &[(&str, &str)]) -> (String, String) {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &slow_stdin(args)]).current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn no_bar_when_stderr_is_not_a_terminal() {
    let dir = scratch();
    let (_, stderr) = without_terminal(dir.path(), "convert - --from jsonl -o out.jsonl", &[]);
    assert_eq!(stderr, format!("{SUMMARY}\n"));
    let (stdout, stderr) = without_terminal(dir.path(), "count -", &[]);
    assert_eq!(stderr, "");
    assert!(
        stdout.starts_with("{\n  \"count\": {\n    \"all\": 3000,"),
        "{stdout}"
    );
}

#[test]
fn no_bar_with_quiet_or_a_dumb_terminal_or_data_on_the_terminal() {
    let dir = scratch();
    let quiet = in_terminal(
        dir.path(),
        &slow_stdin("convert - --from jsonl -o out.jsonl --quiet"),
        &[],
    );
    assert_eq!(quiet, "");
    let dumb = in_terminal(
        dir.path(),
        &slow_stdin("convert - --from jsonl -o out.jsonl"),
        &[("TERM", "dumb")],
    );
    assert_eq!(dumb, format!("{SUMMARY}\r\n"));
    // Exchanges written to the terminal itself: a bar would be drawn over them.
    let data = in_terminal(dir.path(), &slow_stdin("convert - --from jsonl"), &[]);
    assert!(!data.contains("B/s)"), "{data:?}");
    assert!(data.contains("\"path\":\"/items/2999\""), "{data:?}");
}
