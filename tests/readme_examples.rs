//! Every `console` block of the README, run as printed from the project root: each `$ wirecap
//! …` line (pipes allowed) runs in a shell in a scratch folder that sees the project's
//! `testdata/`, and what it prints on both streams must be the lines below it. A line `...`
//! stands for any number of lines. The commands of one block share their folder, so a later
//! one can read what an earlier one wrote.

use std::path::Path;
use std::process::Command;

/// (the README line of the command, the command, the lines it must print).
type Example = (usize, String, Vec<String>);

fn blocks(readme: &str) -> Vec<Vec<Example>> {
    let mut out = Vec::new();
    let mut block: Option<Vec<Example>> = None;
    for (i, line) in readme.lines().enumerate() {
        match (&mut block, line) {
            (None, "```console") => block = Some(Vec::new()),
            (Some(_), "```") => out.extend(block.take()),
            (Some(b), l) => match l.strip_prefix("$ ") {
                Some(cmd) => b.push((i + 1, cmd.to_owned(), Vec::new())),
                None => {
                    if let Some((_, _, lines)) = b.last_mut() {
                        lines.push(l.to_owned());
                    }
                }
            },
            (None, _) => {}
        }
    }
    out
}

/// Whether `actual` is `expected`, a `...` line matching any run of lines.
fn matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e == "..." => (0..=actual.len()).any(|k| matches(rest, &actual[k..])),
        Some((e, rest)) => actual
            .split_first()
            .is_some_and(|(a, more)| a == e && matches(rest, more)),
    }
}

#[test]
fn readme_console_blocks_print_what_they_show() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let bin = Path::new(env!("CARGO_BIN_EXE_wirecap"));
    let path = format!(
        "{}:{}",
        bin.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    let mut failures = Vec::new();
    for block in blocks(&readme) {
        let dir = tempfile::tempdir().expect("scratch folder");
        std::os::unix::fs::symlink(root.join("testdata"), dir.path().join("testdata"))
            .expect("link testdata");
        for (line, cmd, expected) in block {
            if !cmd.starts_with("wirecap ") {
                continue;
            }
            ran += 1;
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!("{cmd} 2>&1"))
                .current_dir(dir.path())
                .env("PATH", &path)
                .env_remove("SOURCE_DATE_EPOCH")
                .env_remove("NO_COLOR")
                .output()
                .expect("sh runs");
            let text = String::from_utf8_lossy(&out.stdout);
            let actual: Vec<&str> = text.lines().collect();
            if !matches(&expected, &actual) {
                failures.push(format!(
                    "README.md:{line}: $ {cmd}\n--- README shows\n{}\n--- it printed\n{text}",
                    expected.join("\n")
                ));
            }
        }
    }
    assert!(ran >= 10, "only {ran} README commands found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
