//! The pre-commit hook in `.pre-commit-hooks.yaml` works: its `entry` command, run on the
//! files its `files` pattern selects (as pre-commit passes them), passes on valid files and
//! fails on invalid ones.

use std::process::Command;

/// The value of `key:` in the hook file (a flat YAML mapping; no YAML parser needed).
fn hook_field(text: &str, key: &str) -> String {
    let line = text
        .lines()
        .map(str::trim_start)
        .map(|l| l.trim_start_matches("- "))
        .find(|l| l.starts_with(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in .pre-commit-hooks.yaml"));
    let value = line[key.len() + 1..].trim();
    value.trim_matches('\'').to_owned()
}

fn run_hook(files: &[&str]) -> i32 {
    let text = std::fs::read_to_string(".pre-commit-hooks.yaml").unwrap();
    assert_eq!(hook_field(&text, "id"), "wirecap-validate");
    assert_eq!(hook_field(&text, "language"), "rust");
    let entry = hook_field(&text, "entry");
    let mut words = entry.split_whitespace();
    assert_eq!(words.next(), Some("wirecap"));
    let status = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(words)
        .args(files)
        .current_dir("testdata")
        .output()
        .unwrap();
    status.status.code().unwrap()
}

#[test]
fn pre_commit_hook_entry_passes_valid_files_and_fails_invalid_ones() {
    assert_eq!(
        run_hook(&[
            "valid/http-types-two-exchanges.jsonl",
            "valid/hoverfly-v5.2-state.json",
        ]),
        0
    );
    assert_eq!(
        run_hook(&[
            "valid/hoverfly-records.json",
            "invalid/hoverfly-simulation/v3-templated-string.json",
        ]),
        1
    );
}

#[test]
fn pre_commit_files_pattern_selects_recordings_and_simulations() {
    let text = std::fs::read_to_string(".pre-commit-hooks.yaml").unwrap();
    let re = regex::Regex::new(&hook_field(&text, "files")).unwrap();
    assert!(re.is_match("recordings/day1.jsonl"));
    assert!(re.is_match("mocks/simulations/login.json"));
    assert!(re.is_match("hoverfly/sim.json"));
    assert!(!re.is_match("package.json"));
}
