//! An output never replaces an input: `convert` refuses an `-o` that names the file it reads,
//! also when it reads that file as standard input (`wirecap convert - -o f < f`).

use std::fs;
use std::process::{Command, Stdio};

#[test]
fn an_output_that_is_the_input_is_refused_also_through_stdin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("rec.jsonl");
    let original = fs::read("testdata/http-types/py-recorder.jsonl").expect("testdata");
    fs::write(&path, &original).expect("copy");
    let by_name = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(["convert", "-q", "-o"])
        .args([&path, &path])
        .stdin(Stdio::null())
        .output()
        .expect("wirecap runs");
    let through_stdin = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(["convert", "-q", "-", "-o"])
        .arg(&path)
        .stdin(fs::File::open(&path).expect("open"))
        .output()
        .expect("wirecap runs");
    for out in [by_name, through_stdin] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("the output is also an input"), "{stderr}");
    }
    assert_eq!(fs::read(&path).expect("still there"), original);
    assert_eq!(
        fs::read_dir(dir.path()).expect("list").count(),
        1,
        "no temp files left"
    );
}

#[test]
fn a_run_stopped_by_a_signal_leaves_no_temporary_file() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(["convert", "-", "--from", "http-types", "-q", "-o"])
        .arg(&out)
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("wirecap runs");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let line = br#"{"request":{"method":"get","protocol":"http","host":"a.test","path":"/"},"response":{"statusCode":200,"headers":{},"body":"ok"}}"#;
    for _ in 0..1000 {
        stdin.write_all(line).expect("write");
        stdin.write_all(b"\n").expect("write");
    }
    stdin.flush().expect("flush");
    // Wait for the temporary output, then stop the run while it still waits for input.
    let unfinished = || {
        fs::read_dir(dir.path())
            .expect("list")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
    };
    // On Linux the temporary output has no name (O_TMPFILE): it shows as an open file of the
    // process in that directory; elsewhere as a named file there.
    let open_in_dir = || {
        fs::read_dir(format!("/proc/{}/fd", child.id()))
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|fd| fs::read_link(fd.path()).ok())
            .any(|target| target.starts_with(dir.path()))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !open_in_dir() && unfinished().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        open_in_dir() || unfinished().len() == 1,
        "the temporary output was never opened"
    );
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signal sent");
    // Its input stays open: only the signal can end the run.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wirecap state") {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    drop(stdin);
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(130),
        "ended by the signal"
    );
    assert_eq!(unfinished(), Vec::<String>::new(), "nothing left behind");
}
