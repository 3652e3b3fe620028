//! A table of small invalid documents (testdata/invalid/, built by scripts/gen-invalid.py),
//! one problem each, across every format: each must be reported at exactly the expected
//! line, column, pointer and rule, and nothing else may be reported.

use std::path::Path;
use wirecap::validate::{Options, Profile, validate_path};

struct Case {
    file: &'static str,
    profile: Profile,
    line: usize,
    column: usize,
    pointer: &'static str,
    rule: &'static str,
}

macro_rules! case {
    ($file:literal, $profile:ident, $line:literal, $column:literal, $pointer:literal, $rule:literal) => {
        Case {
            file: $file,
            profile: Profile::$profile,
            line: $line,
            column: $column,
            pointer: $pointer,
            rule: $rule,
        }
    };
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    case!("hoverfly-status-string.json", Strict, 1, 106, "/data/pairs/1/response/status", "schema/type"),
    case!("hoverfly-templated-string.json", Strict, 1, 118, "/data/pairs/0/response/templated", "schema/type"),
    case!("hoverfly-unknown-version.json", Strict, 1, 51, "/meta/schemaVersion", "schema-version"),
    case!("hoverfly-v1-null-compat.json", Strict, 1, 86, "/data/pairs/0/request/scheme", "schema/type"),
    case!("hoverfly-delays/delay-string.json", Strict, 5, 16, "/data/0/delay", "schema/type"),
    case!("hoverfly-delays/delay-zero.json", Strict, 10, 16, "/data/1/delay", "delay"),
    case!("hoverfly-delays/pattern-empty.json", Strict, 8, 21, "/data/1/urlPattern", "delay"),
    case!("hoverfly-delays/pattern-invalid.json", Strict, 8, 21, "/data/1/urlPattern", "delay"),
    case!("hoverfly-records/duplicate-recording.json", Strict, 30, 18, "/data/1/request", "duplicate-pair"),
    case!("hoverfly-records/encoded-body-not-base64.json", Strict, 20, 17, "/data/0/response/body", "encoded-body"),
    case!("hoverfly-records/response-missing.json", Strict, 3, 5, "/data/0", "schema/required"),
    case!("hoverfly-records/status-string.json", Strict, 19, 19, "/data/0/response/status", "schema/type"),
    case!("hoverfly-simulation/delay-bad-pattern.json", Strict, 35, 25, "/data/globalActions/delays/0/urlPattern", "delay"),
    case!("hoverfly-simulation/delay-zero.json", Strict, 36, 20, "/data/globalActions/delays/0/delay", "delay"),
    case!("hoverfly-simulation/meta-missing.json", Strict, 1, 1, "", "schema-version"),
    case!("hoverfly-simulation/schema-version-number.json", Strict, 38, 22, "/meta/schemaVersion", "schema-version"),
    case!("hoverfly-simulation/schema-version-v5.9.json", Strict, 38, 22, "/meta/schemaVersion", "schema-version"),
    case!("hoverfly-simulation/schema-version-v6.json", Strict, 38, 22, "/meta/schemaVersion", "schema-version"),
    case!("hoverfly-simulation/top-level-extra-key.json", Strict, 1, 1, "", "schema/additionalProperties"),
    case!("hoverfly-simulation/v1-header-not-list.json", Strict, 24, 18, "/data/pairs/0/response/headers/X", "schema/type"),
    case!("hoverfly-simulation/v1-scheme-null.json", Strict, 10, 21, "/data/pairs/0/request/scheme", "schema/type"),
    case!("hoverfly-simulation/v1-status-string.json", Strict, 20, 21, "/data/pairs/0/response/status", "schema/type"),
    case!("hoverfly-simulation/v2-exact-match-number.json", Strict, 7, 27, "/data/pairs/0/request/path/exactMatch", "schema/type"),
    case!("hoverfly-simulation/v2-path-string.json", Strict, 6, 19, "/data/pairs/0/request/path", "schema/type"),
    case!("hoverfly-simulation/v3-templated-string.json", Strict, 18, 24, "/data/pairs/0/response/templated", "schema/type"),
    case!("hoverfly-simulation/v4-removes-state-string.json", Strict, 18, 27, "/data/pairs/0/response/removesState", "schema/type"),
    case!("hoverfly-simulation/v4-requires-state-number.json", Strict, 13, 18, "/data/pairs/0/request/requiresState/a", "schema/type"),
    case!("hoverfly-simulation/v5-content-length-wrong.json", Strict, 28, 31, "/data/pairs/0/response/headers/Content-Length", "content-length"),
    case!("hoverfly-simulation/v5-duplicate-pairs.json", Strict, 32, 20, "/data/pairs/1/request", "duplicate-pair"),
    case!("hoverfly-simulation/v5-encoded-body-not-base64.json", Strict, 21, 19, "/data/pairs/0/response/body", "encoded-body"),
    case!("hoverfly-simulation/v5-matchers-not-array.json", Strict, 6, 19, "/data/pairs/0/request/path", "schema/type"),
    case!("hoverfly-simulation/v5-meta-not-object.json", Strict, 37, 11, "/meta", "schema-version"),
    case!("hoverfly-simulation/v5-query-null.json", Strict, 18, 20, "/data/pairs/0/request/query", "schema/type"),
    case!("hoverfly-simulation/v5-state-never-set.json", Strict, 19, 22, "/data/pairs/0/request/requiresState/stage", "state-never-set"),
    case!("hoverfly-simulation/v5-status-700.json", Strict, 20, 21, "/data/pairs/0/response/status", "status-range"),
    case!("hoverfly-simulation/v5-status-missing.json", Strict, 19, 21, "/data/pairs/0/response", "status-missing"),
    case!("hoverfly-simulation/v5-unknown-matcher.json", Strict, 8, 26, "/data/pairs/0/request/path/0/matcher", "unknown-matcher"),
    case!("hoverfly-simulation/v5.1-body-and-body-file.json", Strict, 29, 23, "/data/pairs/0/response/bodyFile", "body-and-body-file"),
    case!("hoverfly-simulation/v5.1-fixed-delay-string.json", Strict, 29, 25, "/data/pairs/0/response/fixedDelay", "schema/type"),
    case!("hoverfly-simulation/v5.1-log-normal-min-over-max.json", Strict, 38, 18, "/data/globalActions/delaysLogNormal/0/min", "delay"),
    case!("hoverfly-simulation/v5.2-do-match-unknown-matcher.json", Strict, 11, 28, "/data/pairs/0/request/path/0/doMatch/matcher", "unknown-matcher"),
    case!("hoverfly-simulation/v5.2-literal-without-value.json", Strict, 37, 7, "/data/literals/0", "schema/required"),
    case!("hoverfly-simulation/v5.2-status-string.json", Strict, 20, 21, "/data/pairs/0/response/status", "schema/type"),
    case!("hoverfly-simulation/v5.2-variable-without-function.json", Strict, 37, 7, "/data/variables/0", "schema/required"),
    case!("hoverfly-simulation/v5.3-labels-not-strings.json", Strict, 32, 11, "/data/pairs/0/labels/1", "schema/type"),
    case!("hoverfly-simulation/v5.3-pair-without-response.json", Strict, 4, 7, "/data/pairs/0", "schema/required"),
    case!("hoverfly-templates/header-not-list.json", Strict, 12, 20, "/data/0/requestTemplate/headers/Match", "schema/type"),
    case!("hoverfly-templates/path-number.json", Strict, 5, 17, "/data/0/requestTemplate/path", "schema/type"),
    case!("hoverfly-templates/status-700.json", Strict, 18, 19, "/data/0/response/status", "status-range"),
    case!("http-types/array-line.jsonl", Strict, 2, 1, "", "schema/type"),
    case!("http-types/blank-line.jsonl", Strict, 2, 1, "", "blank-line"),
    case!("http-types/body-as-json.jsonl", Strict, 2, 207, "/response", "schema/additionalProperties"),
    case!("http-types/body-object.jsonl", Strict, 2, 293, "/response/body", "schema/type"),
    case!("http-types/content-encoding-on-text.jsonl", Strict, 2, 304, "/response/headers/content-encoding", "content-encoding"),
    case!("http-types/content-length-and-chunked.jsonl", Strict, 2, 281, "/response/headers/content-length", "content-length-transfer-encoding"),
    case!("http-types/content-length-wrong.jsonl", Strict, 2, 281, "/response/headers/content-length", "content-length"),
    case!("http-types/header-value-integer.jsonl", Strict, 2, 138, "/request/headers/accept", "schema/type"),
    case!("http-types/host-empty.jsonl", Strict, 2, 53, "/request/host", "schema/minLength"),
    case!("http-types/host-missing.jsonl", Strict, 2, 12, "/request", "schema/required"),
    case!("http-types/lines-out-of-order.jsonl", Strict, 3, 310, "/response/timestamp", "timestamp-order"),
    case!("http-types/method-unknown.jsonl", Strict, 2, 22, "/request/method", "schema/enum"),
    case!("http-types/method-upper-case.jsonl", Strict, 2, 22, "/request/method", "schema/enum"),
    case!("http-types/no-path-no-pathname.jsonl", Strict, 2, 12, "/request", "schema/required"),
    case!("http-types/pathname-disagrees.jsonl", Strict, 2, 95, "/request/pathname", "path-query"),
    case!("http-types/pathname-without-query.jsonl", Strict, 2, 12, "/request", "schema/required"),
    case!("http-types/protocol-missing.jsonl", Strict, 2, 12, "/request", "schema/required"),
    case!("http-types/protocol-upper-case.jsonl", Strict, 2, 39, "/request/protocol", "schema/enum"),
    case!("http-types/query-disagrees.jsonl", Strict, 2, 108, "/request/query", "path-query"),
    case!("http-types/query-null.jsonl", Strict, 2, 108, "/request/query", "schema/type"),
    case!("http-types/response-before-request.jsonl", Strict, 2, 310, "/response/timestamp", "timestamp-order"),
    case!("http-types/response-headers-missing.jsonl", Strict, 2, 207, "/response", "schema/required"),
    case!("http-types/response-missing.jsonl", Strict, 2, 1, "", "schema/required"),
    case!("http-types/schema-profile-method-upper-case.jsonl", Schema, 2, 22, "/request/method", "schema/enum"),
    case!("http-types/status-600.jsonl", Strict, 2, 221, "/response/statusCode", "status-range"),
    case!("http-types/status-99.jsonl", Strict, 2, 221, "/response/statusCode", "status-range"),
    case!("http-types/status-string.jsonl", Strict, 2, 221, "/response/statusCode", "schema/type"),
    case!("http-types/timestamp-no-offset.jsonl", Strict, 2, 167, "/request/timestamp", "schema/format"),
    case!("http-types/timestamp-number.jsonl", Strict, 2, 167, "/request/timestamp", "schema/type"),
    case!("http-types/timestamp-word.jsonl", Strict, 2, 310, "/response/timestamp", "schema/format"),
    case!("http-types/top-level-extra-key.jsonl", Strict, 2, 347, "/extra", "schema/additionalProperties"),
    case!("http-types/truncated-line.jsonl", Strict, 2, 40, "/request/protocol", "json-syntax"),
    case!("http-types/url-field.jsonl", Strict, 2, 12, "/request", "schema/additionalProperties"),
    case!("other/array.json", Strict, 1, 1, "", "unknown-format"),
    case!("other/no-data-no-meta.json", Strict, 1, 1, "", "unknown-format"),
    case!("other/not-json.json", Strict, 3, 15, "/data/pairs/0", "json-syntax"),
];

#[test]
fn each_invalid_document_is_reported_at_its_place_with_its_rule() {
    assert!(CASES.len() >= 60);
    let mut failures = Vec::new();
    for c in CASES {
        let path = Path::new("testdata/invalid").join(c.file);
        let opts = Options {
            profile: c.profile,
            ..Options::default()
        };
        let mut got = Vec::new();
        validate_path(&path, &opts, &mut |p| got.push(p)).unwrap();
        // Other rules' warnings may come along (a fixture written for another test can hold
        // a duplicate pair); every error, and the expected finding, must be exact.
        got.retain(|p| {
            p.finding.severity == wirecap::validate::Severity::Error || p.finding.rule == c.rule
        });
        let ok = !got.is_empty()
            && got.iter().all(|p| {
                (
                    p.line,
                    p.column,
                    p.finding.pointer.as_str(),
                    p.finding.rule.as_ref(),
                ) == (c.line, c.column, c.pointer, c.rule)
            });
        if !ok {
            let got: Vec<String> = got.iter().map(|p| format!("{p}")).collect();
            failures.push(format!(
                "{}: want {}:{}: {} [{}], got {got:?}",
                c.file, c.line, c.column, c.pointer, c.rule
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_file_in_testdata_invalid_has_a_case() {
    let listed: Vec<&str> = CASES.iter().map(|c| c.file).collect();
    for entry in walkdir::WalkDir::new("testdata/invalid") {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix("testdata/invalid").unwrap();
            let rel = rel.to_string_lossy().replace('\\', "/");
            assert!(listed.contains(&rel.as_str()), "{rel} has no case");
        }
    }
}

/// Validates `bytes` as the file `name`; checks the report holds together: validation
/// finishes (an invalid document is a result, not an error), the counts are the problems
/// reported, and every problem sits on a line and column of the input.
fn check_report(name: &str, bytes: &[u8]) {
    use wirecap::validate::{Severity, validate_reader};
    let mut problems = Vec::new();
    let summary = validate_reader(name, bytes, &Options::default(), &mut |p| problems.push(p))
        .unwrap_or_else(|e| panic!("{name}: {e:#}"));
    let errors = problems
        .iter()
        .filter(|p| p.finding.severity == Severity::Error)
        .count() as u64;
    assert_eq!(summary.errors, errors, "{name}: {problems:?}");
    assert_eq!(
        summary.warnings,
        problems.len() as u64 - errors,
        "{name}: {problems:?}"
    );
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    for p in &problems {
        assert!(
            p.line >= 1 && p.line <= lines && p.column >= 1,
            "{name}: {p} outside {lines} lines"
        );
    }
}

#[test]
fn truncated_or_corrupted_inputs_give_a_consistent_report() {
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in walkdir::WalkDir::new("testdata/invalid") {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let name = entry.path().display().to_string();
            inputs.push((name, std::fs::read(entry.path()).unwrap()));
        }
    }
    for (name, bytes) in &inputs {
        let step = (bytes.len() / 23).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            let mut truncated = bytes[..cut].to_vec();
            check_report(name, &truncated);
            if let Some(b) = truncated.last_mut() {
                *b = b'}';
            }
            check_report(name, &truncated);
            let mut flipped = bytes.clone();
            flipped[cut] = b"\"{[]}:,\\\n0"[cut % 10];
            check_report(name, &flipped);
        }
    }
}
