//! Faults around the output (issue 16): a run killed at any moment leaves the old file or the
//! complete new one and no temporary file; a full disk, a file-size limit or an unwritable
//! place gives one clear error and exit status 2 and leaves nothing; inputs are never
//! modified, and an output that is an input (by any path) is refused; devices and FIFOs are
//! written in place, never replaced.
//!
//! Everything here runs unprivileged: the disk fills through `ulimit -f` (SIGXFSZ ignored, so
//! the write fails with EFBIG) and `/dev/full`, not through mounts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

fn wirecap() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wirecap"));
    cmd.stdin(Stdio::null());
    cmd
}

fn run(args: &[&str]) -> Output {
    wirecap().args(args).output().expect("wirecap runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// An http-types file of `lines` exchanges with bodies of `body` bytes.
fn big_input(path: &Path, lines: usize, body: usize) {
    use std::io::Write as _;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create input"));
    let text = "b".repeat(body);
    for i in 0..lines {
        writeln!(
            f,
            r#"{{"request":{{"method":"post","protocol":"http","host":"h{}.test","path":"/items/{i}","headers":{{}},"body":"{text}"}},"response":{{"statusCode":200,"headers":{{}},"body":"{text}"}}}}"#,
            i % 7
        )
        .expect("write input");
    }
    f.flush().expect("flush input");
}

/// Names in `dir` that look like wirecap's temporary files.
fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.starts_with(".wirecap-"))
        .collect()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[test]
fn issue_16_sigkill_at_any_moment_leaves_the_old_file_or_the_new_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.jsonl");
    // About 24 MB: long enough to convert that most kills land while data is being written.
    big_input(&input, 6000, 2000);
    let expected_path = dir.path().join("expected.jsonl");
    let full = run(&[
        "convert",
        path_str(&input),
        "-o",
        path_str(&expected_path),
        "-q",
    ]);
    assert_eq!(full.status.code(), Some(0), "{}", stderr(&full));
    let expected = std::fs::read(&expected_path).expect("expected output");
    let out = dir.path().join("out.jsonl");
    const OLD: &[u8] = b"the old file\n";

    // How long a whole run takes, so that kills are spread over all of it and a little after.
    let started = Instant::now();
    let timed = run(&["convert", path_str(&input), "-o", path_str(&out), "-q"]);
    assert_eq!(timed.status.code(), Some(0));
    let took = started.elapsed();

    let mut rng = 0x16_u64;
    let (mut old, mut new, mut in_window) = (0, 0, 0);
    for _ in 0..25 {
        std::fs::write(&out, OLD).expect("write the old file");
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let at = took.mul_f64((rng % 1000) as f64 / 1000.0 * 1.1);
        let mut child = wirecap()
            .args(["convert", path_str(&input), "-o", path_str(&out), "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("wirecap runs");
        std::thread::sleep(at);
        // SIGKILL: no handler, no destructor runs.
        let _ = child.kill();
        let _ = child.wait();
        let now = std::fs::read(&out).expect("the output path holds a file");
        if now == OLD {
            old += 1;
        } else {
            assert!(
                now == expected,
                "killed after {at:?}: a partial file of {} bytes",
                now.len()
            );
            new += 1;
        }
        // Replacing a file takes a link of the finished output under a temporary name, then a
        // rename: a kill between the two leaves that name, holding the whole new output.
        for name in temporaries(dir.path()) {
            let path = dir.path().join(&name);
            let held = std::fs::read(&path).expect("the temporary file");
            assert!(
                held == expected,
                "after {at:?}: {name} holds {} bytes, not the whole new output",
                held.len()
            );
            std::fs::remove_file(&path).expect("remove it");
            in_window += 1;
        }
    }
    assert!(old > 0, "no kill landed before the commit ({new} after)");
    assert!(
        in_window <= 2,
        "{in_window} of 25 kills between the link and the rename"
    );
}

#[test]
fn issue_16_a_file_size_limit_stops_with_exit_2_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.jsonl");
    big_input(&input, 400, 2000);
    let out = dir.path().join("out.jsonl");
    for keep_old in [false, true] {
        if keep_old {
            std::fs::write(&out, "old\n").expect("old output");
        }
        // 100 blocks of 512 bytes: the 1.6 MB output cannot fit.
        let script = format!(
            "trap '' XFSZ; ulimit -f 100; exec '{}' convert '{}' -o '{}' -q",
            env!("CARGO_BIN_EXE_wirecap"),
            path_str(&input),
            path_str(&out)
        );
        let got = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .output()
            .expect("sh runs");
        let err = stderr(&got);
        assert_eq!(got.status.code(), Some(2), "{err}");
        assert!(
            err.starts_with(&format!("wirecap: error: writing {}: ", path_str(&out)))
                && err.contains("File too large")
                && err.lines().count() == 1,
            "{err}"
        );
        assert_eq!(temporaries(dir.path()), Vec::<String>::new());
        match keep_old {
            false => assert!(!out.exists()),
            true => assert_eq!(std::fs::read(&out).expect("old output"), b"old\n"),
        }
    }
}

#[test]
fn issue_16_a_full_disk_stops_with_exit_2() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full here");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.jsonl");
    big_input(&input, 400, 2000);
    for to in ["http-types", "hoverfly", "har"] {
        let got = run(&[
            "convert",
            path_str(&input),
            "-o",
            "/dev/full",
            "--to",
            to,
            "-q",
        ]);
        let err = stderr(&got);
        assert_eq!(got.status.code(), Some(2), "--to {to}: {err}");
        assert!(
            err.starts_with("wirecap: error: writing /dev/full: ")
                && err.contains("No space left on device")
                && err.lines().count() == 1,
            "--to {to}: {err}"
        );
    }
    let got = run(&["merge", path_str(&input), "-o", "/dev/full", "-q"]);
    let err = stderr(&got);
    assert_eq!(got.status.code(), Some(2), "merge: {err}");
    assert!(
        err.contains("/dev/full") && err.contains("No space left on device"),
        "merge: {err}"
    );
    let meta = std::fs::metadata("/dev/full").expect("/dev/full");
    assert!(!meta.is_file(), "/dev/full was replaced by a file");
}

#[test]
fn issue_16_devices_and_fifos_are_written_in_place() {
    // Another program run as root may have replaced /dev/null already (old wirecap did).
    if std::fs::metadata("/dev/null").is_ok_and(|m| !m.is_file()) {
        let input = "testdata/http-types/py-recorder.jsonl";
        let got = run(&["convert", input, "-o", "/dev/null", "-q"]);
        assert_eq!(got.status.code(), Some(0), "{}", stderr(&got));
        assert!(!std::fs::metadata("/dev/null").expect("/dev/null").is_file());
    } else {
        eprintln!("skipped the /dev/null half: /dev/null is a regular file on this machine");
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped the FIFO half: no mkfifo here");
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).expect("read the FIFO"))
    };
    let got = run(&[
        "convert",
        "testdata/http-types/py-recorder.jsonl",
        "-o",
        path_str(&fifo),
        "-q",
    ]);
    assert_eq!(got.status.code(), Some(0), "{}", stderr(&got));
    let read = reader.join().expect("reader thread");
    let direct = run(&["convert", "testdata/http-types/py-recorder.jsonl", "-q"]);
    assert_eq!(read, direct.stdout);
    assert!(
        !std::fs::metadata(&fifo).expect("fifo").is_file(),
        "the FIFO was replaced"
    );
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
}

#[test]
fn issue_16_an_unwritable_place_stops_with_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").expect("write");
    let under_a_file = file.join("out.jsonl");
    // /proc takes no new files, whoever asks (root included, as in CI containers).
    let cases: [(&str, &str); 2] = [
        (path_str(&under_a_file), "no such directory"),
        (
            "/proc/wirecap-out.jsonl",
            "creating a temporary file beside /proc/wirecap-out.jsonl",
        ),
    ];
    for (dest, says) in cases {
        let got = run(&[
            "convert",
            "testdata/http-types/py-recorder.jsonl",
            "-o",
            dest,
            "-q",
        ]);
        let err = stderr(&got);
        assert_eq!(got.status.code(), Some(2), "{dest}: {err}");
        assert!(
            err.contains(says) && err.lines().count() == 1,
            "{dest}: {err}"
        );
    }
    assert!(!Path::new("/proc/wirecap-out.jsonl").exists());
}

/// Copies of every fixture of testdata/ that a command reads, in a fresh directory.
fn fixture_copies(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in ["pcap", "http-types", "hoverfly", "har", "gzip", "pasted"] {
        for entry in std::fs::read_dir(Path::new("testdata").join(sub)).expect("testdata") {
            let path = entry.expect("dir entry").path();
            if path.is_file() && path.extension().is_some_and(|e| e != "py") {
                let copy = dir.join(format!(
                    "{sub}-{}",
                    path.file_name().expect("name").to_string_lossy()
                ));
                std::fs::copy(&path, &copy).expect("copy fixture");
                out.push(copy);
            }
        }
    }
    out
}

#[test]
fn issue_16_inputs_are_never_modified() {
    let dir = tempfile::tempdir().expect("temp dir");
    let inputs = fixture_copies(dir.path());
    let snapshot = |paths: &[PathBuf]| -> Vec<(Vec<u8>, std::time::SystemTime)> {
        paths
            .iter()
            .map(|p| {
                let m = std::fs::metadata(p).expect("input");
                (
                    std::fs::read(p).expect("input"),
                    m.modified().expect("mtime"),
                )
            })
            .collect()
    };
    let before = snapshot(&inputs);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("out dir");
    for input in &inputs {
        let i = path_str(input);
        let o = path_str(&out);
        for args in [
            vec!["convert", i, "-o", &format!("{o}/c.jsonl"), "-q"],
            vec![
                "convert",
                i,
                "--to",
                "hoverfly",
                "-o",
                &format!("{o}/c.json"),
                "-q",
            ],
            vec!["count", i],
            vec!["stats", i],
            vec!["validate", i],
        ] {
            let _ = wirecap().args(&args).output().expect("wirecap runs");
        }
    }
    let all: Vec<&str> = inputs.iter().map(|p| path_str(p)).collect();
    let mut merge = vec!["merge", "-q", "-o"];
    let merged = format!("{}/merged.json", path_str(&out));
    merge.push(&merged);
    merge.extend(
        all.iter()
            .filter(|p| !p.ends_with(".pcap") && !p.ends_with(".pcapng")),
    );
    let _ = run(&merge);
    assert!(snapshot(&inputs) == before, "an input changed");
}

#[test]
fn issue_16_an_output_that_is_an_input_is_refused_by_any_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let input = d.join("in.jsonl");
    std::fs::copy("testdata/http-types/py-recorder.jsonl", &input).expect("copy");
    let other = d.join("other.jsonl");
    std::fs::copy("testdata/http-types/py-recorder-later.jsonl", &other).expect("copy");
    let original = std::fs::read(&input).expect("input");
    std::os::unix::fs::symlink(&input, d.join("link.jsonl")).expect("symlink");
    std::fs::hard_link(&input, d.join("hard.jsonl")).expect("hard link");
    std::fs::create_dir(d.join("sub")).expect("sub");

    let i = path_str(&input);
    let o = path_str(&other);
    let spellings = [
        i.to_owned(),
        format!("{}/./in.jsonl", path_str(d)),
        format!("{}/sub/../in.jsonl", path_str(d)),
        format!("{}/link.jsonl", path_str(d)),
        format!("{}/hard.jsonl", path_str(d)),
    ];
    for dest in &spellings {
        for args in [
            vec!["convert", i, "-o", dest.as_str()],
            vec!["merge", o, i, "-o", dest.as_str()],
            vec!["convert", i, "-o", "-", "--summary-json", dest.as_str()],
            vec!["merge", o, i, "--summary-json", dest.as_str()],
            vec!["count", i, "--summary-json", dest.as_str()],
        ] {
            let got = run(&args);
            let err = stderr(&got);
            assert_eq!(got.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains("the output is also an input"),
                "{args:?}: {err}"
            );
            assert_eq!(std::fs::read(&input).expect("input"), original, "{args:?}");
        }
    }
    // Standard input redirected from the file.
    let got = wirecap()
        .args(["convert", "-", "-o", i])
        .stdin(std::fs::File::open(&input).expect("open"))
        .output()
        .expect("wirecap runs");
    assert_eq!(got.status.code(), Some(2), "{}", stderr(&got));
    assert_eq!(std::fs::read(&input).expect("input"), original);
    assert_eq!(temporaries(d), Vec::<String>::new());
}
