//! `validate` verdicts that must match the real readers (issue 16, "known divergences"):
//! Hoverfly v1.12.10 refuses a `delaysLogNormal` whose min is over its max, and serves a
//! response without `status` as status 0, so both are errors (the schema-only profile may
//! accept the second); py-http-types and hmt read an http-types line whose `query` disagrees
//! with its `path`, so that is a warning, an error only with `--deny-warnings`.

use std::process::Command;

/// (exit status, stdout) of `wirecap validate ARGS`, run in testdata/.
fn validate(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .current_dir("testdata")
        .arg("validate")
        .args(args)
        .output()
        .expect("wirecap runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn issue_16_log_normal_min_over_max_is_invalid() {
    let file = "invalid/hoverfly-simulation/v5.1-log-normal-min-over-max.json";
    let (code, out) = validate(&[file]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(
            "/data/globalActions/delaysLogNormal/0/min: min delay 500 is greater than max delay 100"
        ) && out.contains("[delay]"),
        "{out}"
    );
}

#[test]
fn issue_16_a_pair_log_normal_delay_min_over_max_is_a_warning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pair-delay.json");
    let text = std::fs::read_to_string("testdata/hoverfly/sim-v5-deprecated-query-lognormal.json")
        .expect("fixture");
    let mut doc: serde_json::Value = serde_json::from_str(&text).expect("fixture is JSON");
    doc["data"]["pairs"][0]["response"]["logNormalDelay"] =
        serde_json::json!({"min": 900, "max": 10, "mean": 50, "median": 40});
    std::fs::write(&path, doc.to_string()).expect("write");
    let p = path.to_str().expect("utf-8 temp path");
    let (code, out) = validate(&[p]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("/data/pairs/0/response/logNormalDelay/min: warning: min delay 900"),
        "{out}"
    );
    assert_eq!(validate(&["--deny-warnings", p]).0, Some(1));
}

#[test]
fn issue_16_a_response_without_status_is_an_error_except_for_the_schema_profile() {
    let file = "invalid/hoverfly-simulation/v5-status-missing.json";
    let (code, out) = validate(&[file]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("/data/pairs/0/response: the response has no status; Hoverfly would serve it as status 0 [status-missing]"),
        "{out}"
    );
    let (code, out) = validate(&["--profile", "schema", file]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn issue_16_query_against_path_is_a_warning_unless_denied() {
    let file = "invalid/http-types/query-disagrees.jsonl";
    let (code, out) = validate(&[file]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("/request/query: warning: query disagrees with the query string of path")
            && out.contains("[path-query]"),
        "{out}"
    );
    assert_eq!(validate(&["--deny-warnings", file]).0, Some(1));
    // A pathname that disagrees stays an error: the issue relaxes only the query.
    assert_eq!(
        validate(&["invalid/http-types/pathname-disagrees.jsonl"]).0,
        Some(1)
    );
}

/// What `wirecap convert FILE` stops with, without `wirecap: error: FILE[:LINE]: `: the pointer
/// and the reader's words; `None` when it reads the file.
fn convert_stop(file: &str, from: Option<&str>) -> Option<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .current_dir("testdata")
        .arg("convert")
        .args(from.map(|f| ["--from", f]).into_iter().flatten())
        .args([file, "-o", "-"])
        .output()
        .expect("wirecap runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rest = stderr
        .lines()
        .find_map(|l| l.strip_prefix("wirecap: error: "))?
        .strip_prefix(file)?
        .strip_prefix(':')?;
    // `:LINE: /pointer: message` or ` /pointer: message`.
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    Some(rest.trim_start_matches(':').trim_start().to_owned())
}

#[test]
fn issue_14_where_convert_stops_validate_says_the_same() {
    // (file, the format convert is told when it cannot tell by itself)
    let cases = [
        ("http-types/reader-stops.jsonl", None),
        ("invalid/http-types/no-path-no-pathname.jsonl", None),
        ("invalid/http-types/top-level-extra-key.jsonl", None),
        ("invalid/http-types/header-value-integer.jsonl", None),
        ("invalid/hoverfly-status-string.json", None),
        (
            "invalid/hoverfly-simulation/v5.2-variable-without-function.json",
            None,
        ),
        ("invalid/hoverfly-simulation/v5-meta-not-object.json", None),
        (
            "invalid/hoverfly-simulation/schema-version-number.json",
            None,
        ),
        ("invalid/hoverfly-simulation/meta-missing.json", None),
        ("invalid/hoverfly-simulation/schema-version-v6.json", None),
        (
            "invalid/hoverfly-simulation/v5-matchers-not-array.json",
            None,
        ),
        (
            "invalid/hoverfly-records/status-string.json",
            Some("hoverfly-v1-records"),
        ),
        (
            "invalid/hoverfly-delays/delay-string.json",
            Some("hoverfly-v1-delays"),
        ),
        ("invalid/other/array.json", None),
        ("invalid/other/no-data-no-meta.json", None),
        ("bad/http-types/hoverfly-document-on-line-2.jsonl", None),
        ("bad/hoverfly/v5-pairs-object.json", None),
        ("bad/hoverfly/v5-status-negative.json", None),
        ("bad/har/status-string.har", None),
        ("bad/har/url-relative.har", None),
    ];
    for (file, from) in cases {
        let stop = convert_stop(file, from).unwrap_or_else(|| panic!("convert reads {file}"));
        let (code, out) = validate(&[file]);
        assert_eq!(code, Some(1), "{file}: {out}");
        let said = out.lines().any(|l| {
            l.strip_prefix(file)
                .and_then(|r| r.split_once(": "))
                .is_some_and(|(_, r)| r.starts_with(&stop) && r[stop.len()..].starts_with(" ["))
        });
        assert!(
            said,
            "{file}: convert stops with {stop:?}; validate says:\n{out}"
        );
    }
}

/// Every file under testdata/bad and testdata/invalid but the captures, relative to testdata/.
fn bad_documents() -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![
        std::path::PathBuf::from("testdata/bad"),
        std::path::PathBuf::from("testdata/invalid"),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read a testdata folder") {
            let path = entry.expect("dir entry").path();
            let name = path.to_str().expect("utf-8 name").to_owned();
            if path.is_dir() {
                dirs.push(path);
            } else if [".json", ".jsonl", ".har", ".json.gz", ".jsonl.gz"]
                .iter()
                .any(|ext| name.ends_with(ext))
            {
                out.push(name["testdata/".len()..].to_owned());
            }
        }
    }
    out.sort();
    out
}

/// `wirecap convert FILE`'s stop as (line, `/pointer: message`), the line `None` where it
/// names none (a Hoverfly document) and 1 for `byte 0`; and its warnings.
fn convert_run(file: &str) -> (Option<(Option<usize>, String)>, Vec<String>) {
    let out = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .current_dir("testdata")
        .args(["convert", file, "-o", "-"])
        .output()
        .expect("wirecap runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("wirecap: warning: "))
        .map(str::to_owned)
        .collect();
    let stop = stderr
        .lines()
        .find_map(|l| l.strip_prefix("wirecap: error: "))
        .and_then(|l| l.strip_prefix(file))
        .map(|rest| {
            if let Some(said) = rest.strip_prefix(": byte 0: ") {
                return (Some(1), format!("/: {said}"));
            }
            let rest = rest.strip_prefix(':').unwrap_or(rest);
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let line = rest[..digits].parse().ok();
            (
                line,
                rest[digits..].trim_start_matches(':').trim().to_owned(),
            )
        });
    (stop, warnings)
}

#[test]
fn issue_14_on_every_bad_file_convert_and_validate_say_the_same() {
    let blank = "blank line (py-http-types cannot read it; hmt skips it)";
    let mut differ = Vec::new();
    for file in bad_documents() {
        let (code, out) = validate(&[&file]);
        // Captures (under a document's name) are converted, not validated.
        if out.contains("[capture]") {
            continue;
        }
        // (line, `/pointer: [warning: ]message`, rule) of each problem validate reports.
        let problems: Vec<(usize, &str, &str)> = out
            .lines()
            .filter_map(|l| {
                let rest = l.strip_prefix(&file)?.strip_prefix(':')?;
                let (line, rest) = rest.split_once(':')?;
                let (_column, rest) = rest.split_once(": ")?;
                let (said, rule) = rest.rsplit_once(" [")?;
                Some((line.parse().ok()?, said, rule.strip_suffix(']')?))
            })
            .collect();
        let (stop, warnings) = convert_run(&file);
        if let Some((line, said)) = &stop {
            let same = problems
                .iter()
                .any(|(l, s, _)| s == said && line.is_none_or(|line| line == *l));
            if code != Some(1) || !same {
                differ.push(format!(
                    "{file}: convert stops at line {line:?} with {said:?}; validate says:\n{out}"
                ));
            }
        }
        // A blank line: convert skips it with validate's words, naming the first one's line.
        let first_blank = problems
            .iter()
            .find(|(_, s, _)| s.strip_prefix("/: warning: ") == Some(blank))
            .map(|(l, _, _)| format!("first at {file}:{l}"));
        let convert_blank = warnings
            .iter()
            .find(|w| w.starts_with(blank))
            .map(|w| w.rsplit(", ").next().unwrap_or_default().to_owned());
        if first_blank != convert_blank {
            differ.push(format!(
                "{file}: validate's first blank line {first_blank:?}, convert's {convert_blank:?}"
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
