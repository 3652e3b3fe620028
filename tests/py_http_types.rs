//! The real-client check: JSONL that wirecap writes is read back by py-http-types 0.0.18, the
//! reader `hmt build` uses, via `scripts/check-http-types-py.py` (a copy of
//! `../shared/tools/check-http-types-py.py`, so a fresh clone can run it). Every fixture, in
//! every format, is converted to http-types, and a `merge --provenance` output is checked too.
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

/// Every fixture wirecap reads, in every format: each is converted to http-types and checked.
fn inputs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in [
        "testdata/http-types",
        "testdata/pcap",
        "testdata/hoverfly",
        "testdata/merge",
        "testdata/valid",
    ] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries {
            let p = e.expect("readable dir entry").path();
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if matches!(ext, "jsonl" | "pcap" | "pcapng" | "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The wirecap runs whose http-types output is checked: `convert` of every input, and a
/// `merge` with `--provenance` (which adds `meta.source`).
fn runs(out_dir: &Path) -> Vec<(String, Vec<String>, PathBuf)> {
    let mut runs = Vec::new();
    for input in inputs() {
        let input = input.to_str().expect("utf-8 path").to_owned();
        let out = out_dir.join(format!("{}.jsonl", input.replace('/', "_")));
        let args = [
            "convert",
            "--keep-going",
            "-q",
            "--to",
            "http-types",
            &input,
        ];
        runs.push((input.clone(), args.map(str::to_owned).to_vec(), out));
    }
    // HTTPS and HTTP/2 captures, decrypted with the key log beside them.
    let mut tls: Vec<PathBuf> = std::fs::read_dir("testdata/pcap/tls")
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    tls.retain(|p| {
        matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("pcap" | "pcapng")
        )
    });
    tls.sort();
    for input in tls {
        let name = input.to_str().expect("utf-8 path").to_owned();
        let out = out_dir.join(format!("{}.jsonl", name.replace('/', "_")));
        let mut args: Vec<String> = ["convert", "--keep-going", "-q", "--to", "http-types", &name]
            .map(str::to_owned)
            .to_vec();
        let keys = input.with_extension("keys");
        if keys.exists() {
            args.extend(["--keylog".to_owned(), keys.display().to_string()]);
        }
        runs.push((name, args, out));
    }
    let merged = out_dir.join("merge-provenance.jsonl");
    let args = [
        "merge",
        "-q",
        "--to",
        "http-types",
        "--provenance",
        "--on-conflict",
        "keep-all",
        "testdata/http-types/py-recorder.jsonl",
        "testdata/http-types/py-recorder-later.jsonl",
        "testdata/pcap/curl-keepalive.pcap",
    ];
    runs.push((
        "merge --provenance".to_owned(),
        args.map(str::to_owned).to_vec(),
        merged,
    ));
    runs
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
    let runs = runs(dir.path());
    assert!(runs.len() > 20, "only {} runs", runs.len());
    for (what, args, out) in runs {
        let result = Command::new(env!("CARGO_BIN_EXE_wirecap"))
            .args(&args)
            .arg("-o")
            .arg(&out)
            .output()
            .expect("wirecap runs");
        assert!(
            matches!(result.status.code(), Some(0 | 1)),
            "{what}: wirecap exited {}:\n{}",
            result.status,
            String::from_utf8_lossy(&result.stderr)
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
            "py-http-types rejected wirecap's output for {what}:\n{}{}",
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        );
    }
}
