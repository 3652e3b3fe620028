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

/// The merge summary line that contains `marker`, and its figures: read, wrote, folded,
/// dropped, and not writable.
fn accounting<'a>(stderr: &'a str, marker: &str) -> (&'a str, [u64; 5]) {
    let summary = stderr
        .lines()
        .find(|l| l.contains(marker))
        .expect("summary line");
    let figures = ["read ", "wrote ", "folded ", "dropped ", "side by side, "]
        .map(|label| figure(summary, label));
    (summary, figures)
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

    let (summary, [read, written, folded, dropped, unwritable]) =
        accounting(&stderr, "merged 5 inputs");
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
    validate_stdin(&run.stdout);
}

/// `wirecap validate -` on `bytes` succeeds.
fn validate_stdin(bytes: &[u8]) {
    let check = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(["validate", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().expect("stdin").write_all(bytes)?;
            child.wait_with_output()
        })
        .expect("validate runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

/// The real curl capture's exchanges (`expected/curl-keepalive.jsonl`) in shuffled order.
const SHUFFLED: &str = "testdata/merge/curl-keepalive-shuffled.jsonl";

/// `METHOD path?query body-matcher` for each pair of a simulation file.
fn requests(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("merged file");
    let sim: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let exact = |v: &serde_json::Value| v[0]["value"].as_str().unwrap_or("?").to_owned();
    let pairs = sim["data"]["pairs"].as_array().expect("pairs");
    pairs
        .iter()
        .map(|p| {
            let r = &p["request"];
            let mut line = format!("{} {}", exact(&r["method"]), exact(&r["path"]));
            if let Some(q) = r["query"].as_object() {
                let q: Vec<String> = q.iter().map(|(k, v)| format!("{k}={}", exact(v))).collect();
                line.push('?');
                line.push_str(&q.join("&"));
            }
            let body = r["body"][0]["matcher"].as_str().unwrap_or("?");
            format!("{line} {body}")
        })
        .collect()
}

#[test]
fn issue_6_one_input_sorts_runs_of_exact_pairs_and_leaves_the_rest_in_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let at = |name: &str| dir.path().join(name).to_str().expect("utf-8").to_owned();
    let (sorted, sorted2, kept) = (at("sorted.json"), at("sorted2.json"), at("kept.json"));
    let merge = |threads: &str, out: &str, extra: &[&str]| {
        let mut args = vec!["--threads", threads, "merge", SHUFFLED, "-o", out];
        args.extend(["--time-exported", "2026-01-01T00:00:00Z"]);
        args.extend(extra);
        let run = wirecap(&args);
        let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
        assert!(run.status.success(), "{stderr}");
        stderr
    };
    let stderr = merge("1", &sorted, &[]);
    merge("2", &sorted2, &[]);
    merge("2", &kept, &["--keep-order"]);
    assert_eq!(
        std::fs::read(&sorted).expect("sorted"),
        std::fs::read(&sorted2).expect("sorted2"),
        "the same bytes whatever the thread count"
    );

    let (summary, [read, written, folded, dropped, unwritable]) =
        accounting(&stderr, "merged 1 input ");
    assert_eq!((read, written), (17, 17), "{summary}");
    assert_eq!(read, written + folded + dropped + unwritable, "{summary}");
    let all = |path: &str| count(path)["count"]["all"].as_u64();
    assert_eq!(all(SHUFFLED), Some(read), "merge read what count sees");
    assert_eq!(all(&sorted), Some(written), "count sees every pair written");
    assert_eq!(
        count(&kept),
        count(&sorted),
        "recordings and templates alike"
    );
    let check = wirecap(&["validate", &sorted]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    let (got, before) = (requests(&sorted), requests(&kept));
    // Runs of exact pairs over the same fields are sorted by path, method, query; the
    // pairs with a `json` body matcher (POST, PUT, PATCH with JSON), and each pair whose
    // query keys differ from its neighbours', stay where they were.
    assert_eq!(
        got,
        [
            "GET /py/close exact",
            "GET /py/text exact",
            "GET /py/items?n=3&page=1 exact",
            "GET /py/items?n=3&page=2 exact",
            "HEAD /py/items?n=3&page=1 exact",
            "OPTIONS /py/items exact",
            "GET /py/redirect exact",
            "POST /py/items?chunked=1 json",
            "PUT /py/items/7 json",
            "GET /py/gz exact",
            "GET /py/gzchunk exact",
            "DELETE /py/items/7 exact",
            "PATCH /py/items/7 json",
            "POST /py/items?continue=1 exact",
            "POST /py/items json",
            "GET /py/blob?size=300 exact",
            "GET /nope exact",
        ]
    );
    assert_ne!(got, before, "the shuffled input was not already sorted");
    for (i, (a, b)) in got.iter().zip(&before).enumerate() {
        if !a.ends_with(" exact") || !b.ends_with(" exact") {
            assert_eq!(a, b, "pair {i} is not a recording and must not move");
        }
    }
    let (mut a, mut b) = (got.clone(), before.clone());
    a.sort();
    b.sort();
    assert_eq!(a, b, "sorting only reorders");
}

#[test]
fn issue_6_one_input_exchanges_sort_by_time_and_several_inputs_keep_their_order() {
    let merge = |args: &[&str]| {
        let mut all = vec!["merge", "--to", "http-types", "-q"];
        all.extend(args);
        let run = wirecap(&all);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        run.stdout
    };
    let sorted = merge(&[SHUFFLED]);
    let in_capture_order = merge(&["testdata/expected/curl-keepalive.jsonl"]);
    assert_eq!(
        String::from_utf8_lossy(&sorted),
        String::from_utf8_lossy(&in_capture_order),
        "request timestamps put the shuffled exchanges back in capture order"
    );
    validate_stdin(&sorted);
    assert_eq!(sorted.iter().filter(|&&b| b == b'\n').count(), 17);

    let kept = merge(&[SHUFFLED, "--keep-order"]);
    assert_ne!(kept, sorted);
    let mut lines: Vec<&[u8]> = kept.split(|&b| b == b'\n').collect();
    let mut capture: Vec<&[u8]> = sorted.split(|&b| b == b'\n').collect();
    lines.sort();
    capture.sort();
    assert_eq!(lines, capture, "--keep-order writes the same exchanges");
    assert_eq!(
        merge(&[SHUFFLED, SHUFFLED]),
        kept,
        "several inputs are not sorted (the second is folded as duplicates)"
    );
}
