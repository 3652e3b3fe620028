//! The real-client check: JSONL that wirecap writes is read back by py-http-types 0.0.18, the
//! reader `hmt build` uses, via `scripts/check-http-types-py.py`.
//!
//! Needs a Python with `http-types==0.0.18 jsonschema rfc3339-validator`: `WIRECAP_PYTHON`, or
//! `.venv/bin/python` as `scripts/test.sh` sets it up. Without one the test prints a notice and
//! passes, so a fresh clone's `cargo test` still runs.

mod notice;

use std::path::{Path, PathBuf};
use std::process::Command;

fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("WIRECAP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".venv/bin/python"));
    let ok = Command::new(&candidate)
        .args(["-c", "import http_types, jsonschema, rfc3339_validator"])
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(candidate)
}

fn inputs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["testdata/http-types", "testdata/pcap"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries {
            let p = e.expect("readable dir entry").path();
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if matches!(ext, "jsonl" | "pcap" | "pcapng") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn py_http_types_reads_everything_wirecap_writes() {
    let Some(py) = python() else {
        notice::notice(
            "skipping the py-http-types check: no Python with http-types==0.0.18 (run scripts/test.sh, or set WIRECAP_PYTHON)",
        );
        return;
    };
    let schema = Path::new("../shared/reference/http-types/http-types-schema.json");
    if !schema.exists() {
        notice::notice(
            "../shared is absent: checking with py-http-types only, not the published schema",
        );
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let inputs = inputs();
    assert!(!inputs.is_empty());
    for input in inputs {
        let out = dir.path().join(format!(
            "{}.jsonl",
            input.file_name().and_then(|n| n.to_str()).unwrap_or("x")
        ));
        let status = Command::new(env!("CARGO_BIN_EXE_wirecap"))
            .args(["convert", "--keep-going", "-q", "--to", "http-types"])
            .arg(&input)
            .arg("-o")
            .arg(&out)
            .status()
            .expect("wirecap runs");
        assert!(
            matches!(status.code(), Some(0 | 1)),
            "{}: wirecap exited {status}",
            input.display()
        );
        let mut check = Command::new(&py);
        check
            .arg("scripts/check-http-types-py.py")
            .arg(&out)
            .args(["--roundtrip", "--quiet"]);
        if schema.exists() {
            check.arg("--schema").arg(schema);
        }
        let result = check.output().expect("python runs");
        assert!(
            result.status.success(),
            "py-http-types rejected wirecap's output for {}:\n{}{}",
            input.display(),
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        );
    }
}
