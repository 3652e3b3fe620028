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
