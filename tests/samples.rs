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

/// Rules stricter than Hoverfly on purpose: a response without `status` is accepted by
/// Hoverfly and served as status 0, which breaks every client (issue 16).
const STRICTER_THAN_HOVERFLY: &[&str] = &["status-missing"];

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
    let mut stricter = Vec::new();
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
            if p.finding.severity != Severity::Error {
                return;
            }
            if STRICTER_THAN_HOVERFLY.contains(&p.finding.rule.to_string().as_str()) {
                stricter.push(rel.clone());
            } else {
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
    // The samples Hoverfly accepts without a response status, refused here on purpose.
    stricter.dedup();
    assert_eq!(
        stricter,
        [
            "simulation-v3/v1.12.10__single_request_matcher_to_response__V3SingleRequestMatcherToResponse.json"
        ],
        "samples refused by the rules stricter than Hoverfly"
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
