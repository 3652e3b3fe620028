//! Every real Hoverfly sample in `../shared/reference/hoverfly/samples/` gets the verdict real
//! Hoverfly v1.12.10 gave it (`oracle/D_samples_into_v1.12.10/SUMMARY.md`). Rejections that
//! depend on the running instance (an unregistered post-serve action, a missing body file)
//! count as valid; files the oracle did not PUT (legacy bodies, generated exports) must be
//! valid. Skips with a notice when the reference folder is absent.

mod notice;

use std::collections::BTreeMap;
use std::path::Path;
use wirecap::validate::{Options, Severity, validate_path};

const SAMPLES: &str = "../shared/reference/hoverfly/samples";
const SUMMARY: &str = "../shared/reference/hoverfly/oracle/D_samples_into_v1.12.10/SUMMARY.md";

/// `dir/file` → whether Hoverfly accepted it (instance-dependent rejections count as accepted).
fn oracle() -> BTreeMap<String, bool> {
    let text = std::fs::read_to_string(SUMMARY).expect("reading SUMMARY.md");
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("| simulation")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (dir, file, http, result) = (cells[1], cells[2], cells[3], cells[4]);
        let instance_dependent =
            result.contains("post server action") || result.contains("no such file or directory");
        out.insert(format!("{dir}/{file}"), http == "200" || instance_dependent);
    }
    out
}

#[test]
fn verdicts_on_real_hoverfly_samples_agree_with_hoverfly() {
    if !Path::new(SUMMARY).exists() {
        notice::notice(&format!(
            "skipping the Hoverfly sample verdicts: {SUMMARY} is absent"
        ));
        return;
    }
    let oracle = oracle();
    let mut checked = 0;
    let mut disagreements = Vec::new();
    for entry in walkdir::WalkDir::new(SAMPLES).sort_by_file_name() {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let rel = path
            .strip_prefix(SAMPLES)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let expected = oracle.get(&rel).copied().unwrap_or(true);
        let mut errors = Vec::new();
        let summary = validate_path(path, &Options::default(), &mut |p| {
            // Hoverfly imports a response without status and serves it as status 0; wirecap
            // calls that an error on purpose (issue 16), so it is no disagreement here.
            if p.finding.severity == Severity::Error && p.finding.rule != "status-missing" {
                errors.push(format!("{rel}:{p}"));
            }
        })
        .unwrap();
        assert!(summary.schema.is_some(), "{rel}: no schema detected");
        checked += 1;
        if errors.is_empty() != expected {
            disagreements.push(format!(
                "{rel}: hoverfly accepted={expected}, ours: {errors:?}"
            ));
        }
    }
    assert!(checked >= 109, "only {checked} samples found");
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
