//! Accounting, end to end (issue 16): for every command, what was read is what was written
//! plus what was skipped, and every skip has a reason. Checked through `--summary-json` over
//! every capture and file of testdata/ (the malformed corpus of testdata/bad/ included) and
//! every Hoverfly sample of ../shared/reference/hoverfly/samples/ (skipped with a notice
//! when that folder is absent). A `--strict` run fails, writing nothing, exactly when
//! something was skipped or lost.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Loss kinds that stand for a record left out, rather than a field.
const DROPS: &[&str] = &[
    "unsupported-method",
    "missing-response",
    "cut-body",
    "missing-host",
    "non-exact-matcher",
    "schema-version",
];

const SAMPLES: &str = "../shared/reference/hoverfly/samples";

fn inputs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let wanted = |p: &Path| {
        let name = p.to_string_lossy();
        !name.ends_with(".keys")
            && !name.ends_with(".py")
            && !name.ends_with(".sh")
            && !name.ends_with(".md")
            && !name.ends_with(".tsv")
            && !name.ends_with(".txt")
            && !name.ends_with(".tmpl")
            && !name.ends_with(".js")
    };
    for dir in [
        "testdata/pcap",
        "testdata/har",
        "testdata/hoverfly",
        "testdata/http-types",
        "testdata/pasted",
        "testdata/gzip",
        "testdata/valid",
        "testdata/merge",
        "testdata/bad",
    ] {
        for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let e = e.expect("walk testdata");
            if e.file_type().is_file() && wanted(e.path()) {
                out.push(e.path().to_owned());
            }
        }
    }
    if Path::new(SAMPLES).is_dir() {
        for e in walkdir::WalkDir::new(SAMPLES).sort_by_file_name() {
            let e = e.expect("walk samples");
            if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "json") {
                out.push(e.path().to_owned());
            }
        }
    } else {
        eprintln!("skipped the Hoverfly samples: {SAMPLES} is absent");
    }
    out
}

/// `--keylog` for a TLS capture that has its key log beside it.
fn keylog(input: &Path) -> Vec<String> {
    let keys = input.with_extension("keys");
    match keys.exists() {
        true => vec!["--keylog".into(), keys.display().to_string()],
        false => Vec::new(),
    }
}

struct Run {
    code: Option<i32>,
    summary: Option<Value>,
    output: Option<Vec<u8>>,
}

fn run(dir: &Path, args: &[&str], input: &Path) -> Run {
    let out = dir.join("out");
    let summary = dir.join("summary.json");
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&summary);
    let got = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(args)
        .arg(input)
        .args(keylog(input))
        .args(["--summary-json", summary.to_str().expect("utf-8")])
        .args(["-o", out.to_str().expect("utf-8")])
        .output()
        .expect("wirecap runs");
    Run {
        code: got.status.code(),
        summary: std::fs::read(&summary)
            .ok()
            .map(|b| serde_json::from_slice(&b).expect("summary is JSON")),
        output: std::fs::read(&out).ok(),
    }
}

fn n(v: &Value, pointer: &str) -> u64 {
    v.pointer(pointer).and_then(Value::as_u64).unwrap_or(0)
}

/// What a `convert` summary says was skipped, with its reasons; empty when nothing was.
fn skips(s: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if n(s, "/invalid") > 0 {
        out.push(format!("{} invalid records", n(s, "/invalid")));
    }
    for (kind, c) in s["losses"].as_object().into_iter().flatten() {
        out.push(format!("{kind} x{}", n(c, "/count")));
    }
    for (note, c) in s
        .pointer("/capture/notes")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let informational = wirecap::loss::INFORMATIONAL_NOTES.iter().any(|i| {
            serde_json::to_value(i)
                .ok()
                .as_ref()
                .and_then(Value::as_str)
                == Some(note)
        });
        if !informational {
            out.push(format!("capture: {note} x{}", n(c, "/count")));
        }
    }
    out
}

#[test]
fn issue_16_every_record_is_written_or_skipped_with_a_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    let mut checked = 0;
    for input in inputs() {
        let name = input.display().to_string();
        for to in ["http-types", "hoverfly"] {
            let r = run(
                dir.path(),
                &["convert", "--keep-going", "-q", "--to", to],
                &input,
            );
            let Some(s) = r.summary else {
                // A stop (exit 2): nothing was written, and tests/bad_inputs.rs checks the
                // message.
                if r.code != Some(2) || r.output.is_some() {
                    failures.push(format!("{name} --to {to}: no summary, exit {:?}", r.code));
                }
                continue;
            };
            checked += 1;
            let (read, written, not_written, filtered) = (
                n(&s, "/read"),
                n(&s, "/written"),
                n(&s, "/notWritten"),
                n(&s, "/filteredOut"),
            );
            if read != written + not_written + filtered {
                failures.push(format!(
                    "{name} --to {to}: read {read} != written {written} + not written {not_written} + filtered {filtered}"
                ));
            }
            let dropped: u64 = DROPS
                .iter()
                .map(|k| n(&s, &format!("/losses/{k}/count")))
                .sum();
            if not_written > 0 && dropped == 0 {
                failures.push(format!(
                    "{name} --to {to}: {not_written} not written, and no loss says why: {}",
                    s["losses"]
                ));
            }
            if let Some(c) = s.get("capture") {
                let links: u64 = c["links"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(_, v)| v.as_u64().unwrap_or(0))
                    .sum();
                if links != n(c, "/packets") || n(c, "/http/exchanges") != read {
                    failures.push(format!(
                        "{name} --to {to}: packets {} by link {links}, exchanges {} read {read}",
                        n(c, "/packets"),
                        n(c, "/http/exchanges")
                    ));
                }
            }
            if to == "http-types" {
                let lines = r
                    .output
                    .as_deref()
                    .map_or(0, |o| o.iter().filter(|&&b| b == b'\n').count() as u64);
                if lines != written {
                    failures.push(format!("{name}: {lines} lines for {written} written"));
                }
            }
            // --strict refuses exactly the runs that skipped or lost something.
            let strict = run(
                dir.path(),
                &["convert", "--keep-going", "-q", "--strict", "--to", to],
                &input,
            );
            let why = skips(&s);
            let want = if why.is_empty() { Some(0) } else { Some(1) };
            if strict.code != want || (want == Some(1) && strict.output.is_some()) {
                failures.push(format!(
                    "{name} --to {to} --strict: exit {:?}, wanted {want:?} for {why:?}",
                    strict.code
                ));
            }
        }

        // merge: pairs read = kept + folded duplicates + dropped conflicts; every exchange
        // that is read becomes a pair or is counted unpairable.
        let m = run(dir.path(), &["merge", "--keep-going", "-q"], &input);
        let v = run(
            dir.path(),
            &["convert", "--keep-going", "-q", "--to", "hoverfly"],
            &input,
        );
        if let (Some(m), Some(v)) = (m.summary, v.summary) {
            let p = |k: &str| n(&m, &format!("/pairs/{k}"));
            let unpairable = n(&m, "/unpairable");
            if p("read") != p("kept") + p("duplicates") + p("conflictsDropped")
                || p("kept") + p("conflictsKept") + unpairable
                    != n(&m, "/written") + n(&m, "/notWritten")
                || n(&v, "/read") != p("read") + unpairable + n(&m, "/filteredOut")
            {
                failures.push(format!("{name}: merge does not add up: {m}"));
            }
            // count: pairs and exchanges (delays are counted apart).
            let c = Command::new(env!("CARGO_BIN_EXE_wirecap"))
                .arg("count")
                .arg(&input)
                .args(keylog(&input))
                .arg("--keep-going")
                .output()
                .expect("wirecap runs");
            if let Ok(c) = serde_json::from_slice::<Value>(&c.stdout) {
                let counted = n(&c, "/count/all") - n(&c, "/count/delays");
                if counted != n(&v, "/read") {
                    failures.push(format!(
                        "{name}: count says {c}, convert read {}",
                        n(&v, "/read")
                    ));
                }
            }
        }
    }
    assert!(checked > 150, "only {checked} runs had a summary");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn issue_16_strict_fails_on_skips_as_well_as_losses() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out.json");
    let o = out.to_str().expect("utf-8");
    let strict = |args: &[&str]| {
        let got = Command::new(env!("CARGO_BIN_EXE_wirecap"))
            .current_dir("testdata")
            .args(args)
            .args(["--strict", "-q", "-o", o])
            .output()
            .expect("wirecap runs");
        (
            got.status.code(),
            String::from_utf8_lossy(&got.stderr).into_owned(),
        )
    };
    // Invalid lines skipped by --keep-going: no loss, but a skip (its blank line is no record).
    let (code, err) = strict(&["convert", "http-types/invalid-lines.jsonl", "--keep-going"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("--strict: 3 invalid records were skipped"),
        "{err}"
    );
    assert!(!out.exists());
    // A blank line, skipped as hmt skips it: py-http-types cannot read the file.
    let (code, err) = strict(&[
        "convert",
        "invalid/http-types/blank-line.jsonl",
        "--to",
        "http-types",
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("--strict: blank lines were skipped, which py-http-types cannot read"),
        "{err}"
    );
    assert!(!out.exists());
    // A capture whose packets did not become exchanges, with nothing lost in writing.
    let streamed = ["merge", "--to", "http-types"];
    for cmd in [&["convert"][..], &["merge"], &streamed] {
        let mut args = cmd.to_vec();
        args.push("bad/pcap/link-type-unknown.pcap");
        let (code, err) = strict(&args);
        assert_eq!(code, Some(1), "{cmd:?}: {err}");
        assert!(
            err.contains("--strict: part of the capture did not become exchanges: packets of an unsupported link type: 75"),
            "{cmd:?}: {err}"
        );
        assert!(!out.exists(), "{cmd:?}");
    }
    // Nothing skipped, nothing lost: written.
    let (code, err) = strict(&[
        "convert",
        "hoverfly/sim-v5.3-labels.json",
        "--to",
        "hoverfly",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.exists());
}
