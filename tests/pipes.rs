//! A closed standard output (`wirecap … | head`) ends the run quietly: exit status 0, nothing
//! on stderr. Each command here writes more than a pipe holds (64 KiB on Linux), so it must
//! write after the reading end is gone, whenever this test drops it.

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

fn run_with_closed_stdout(args: &[&str]) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wirecap runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wirecap finishes");
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(0), ""),
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

    let invalid = dir.path().join("invalid.jsonl");
    std::fs::write(&invalid, "{}\n".repeat(5000)).expect("write input");
    run_with_closed_stdout(&["validate", invalid.to_str().expect("utf-8 temp path")]);
}
