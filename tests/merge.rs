//! `merge` over mixed real inputs (http-types JSONL, a legacy v1 records body, a v5
//! simulation and a real capture), checked with `wirecap validate` and `wirecap count`:
//! every pair read is accounted for as written, folded or dropped.

use std::process::{Command, Output};

fn wirecap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(args)
        .output()
        .expect("wirecap runs")
}

/// The number after `label` in the merge summary line, e.g. `read 37 pairs`.
fn figure(summary: &str, label: &str) -> u64 {
    let at = summary
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in {summary}"));
    summary[at + label.len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.trim_end_matches(',').parse().ok())
        .unwrap_or_else(|| panic!("no figure after {label:?} in {summary}"))
}

fn count(path: &str) -> serde_json::Value {
    let out = wirecap(&["count", path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("count prints JSON")
}

const INPUTS: [&str; 5] = [
    "testdata/http-types/py-recorder.jsonl",
    "testdata/hoverfly/legacy-records.json",
    "testdata/hoverfly/sim-v5-deprecated-query-lognormal.json",
    "testdata/pcap/curl-keepalive.pcap",
    "testdata/http-types/py-recorder-later.jsonl",
];

#[test]
fn mixed_inputs_merge_into_a_valid_simulation_whose_counts_add_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("merged.json");
    let out = out.to_str().expect("utf-8 temp path");
    let mut args = vec!["merge"];
    args.extend(INPUTS);
    args.extend(["-o", out, "--time-exported", "2026-01-01T00:00:00Z"]);
    let run = wirecap(&args);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");

    let summary = stderr
        .lines()
        .find(|l| l.contains("merged 5 inputs"))
        .expect("summary line");
    let read = figure(summary, "read ");
    let written = figure(summary, "wrote ");
    let folded = figure(summary, "folded ");
    let dropped = figure(summary, "dropped ");
    let unwritable = figure(summary, "side by side, ");
    assert_eq!(read, written + folded + dropped + unwritable, "{summary}");
    assert!(
        folded == 0 && dropped > 0,
        "two sessions of one API conflict: {summary}"
    );

    let mut inputs_pairs = 0;
    for input in INPUTS {
        inputs_pairs += count(input)["count"]["all"].as_u64().expect("all");
    }
    let delays_in = count(INPUTS[2])["count"]["delays"]
        .as_u64()
        .expect("delays");
    assert_eq!(read + delays_in, inputs_pairs, "merge read what count sees");

    let merged = count(out);
    assert_eq!(merged["count"]["all"].as_u64(), Some(written + delays_in));

    let check = wirecap(&["validate", out]);
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn merging_a_file_with_itself_folds_every_pair() {
    let input = "testdata/http-types/py-recorder.jsonl";
    let run = wirecap(&["merge", input, input, "--to", "http-types"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let summary = stderr
        .lines()
        .find(|l| l.contains("merged 2 inputs"))
        .expect("summary");
    assert_eq!(
        (
            figure(summary, "read "),
            figure(summary, "wrote "),
            figure(summary, "folded ")
        ),
        (14, 7, 7)
    );
    let check = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(["validate", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().expect("stdin").write_all(&run.stdout)?;
            child.wait_with_output()
        })
        .expect("validate runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}
