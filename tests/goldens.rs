//! Reader and writer goldens for http-types: every `testdata/http-types/<case>.jsonl` is read
//! into the model (`testdata/expected/<case>.model.json`) and written back out
//! (`testdata/expected/<case>.http-types.jsonl`). Update with `SNAPSHOTS=overwrite cargo test
//! --test goldens` and review the diff.

use snapbox::{Assert, Data};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use wirecap::formats::http_types::{MAX_LINE_BYTES, Reader, Writer};
use wirecap::loss::Losses;
use wirecap::model::Exchange;

fn assert_golden(actual: String, expected: &Path) {
    Assert::new()
        .action_env("SNAPSHOTS")
        .normalize_paths(false)
        .eq(actual, Data::read_from(expected, None));
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir("testdata/http-types")
        .expect("testdata/http-types exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    cases.sort();
    cases
}

fn read_lenient(path: &Path) -> Vec<Exchange> {
    let file = File::open(path).expect("case opens");
    let name = path
        .strip_prefix("testdata/")
        .unwrap_or(path)
        .display()
        .to_string();
    Reader::new(BufReader::new(file), name, MAX_LINE_BYTES)
        .filter_map(Result::ok)
        .collect()
}

#[test]
fn http_types_reader_goldens() {
    for case in cases() {
        let stem = case
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name");
        let model = read_lenient(&case);
        let mut dump = serde_json::to_string_pretty(&model).expect("model serialises");
        dump.push('\n');
        assert_golden(
            dump,
            &Path::new("testdata/expected").join(format!("{stem}.model.json")),
        );
    }
}

#[test]
fn http_types_writer_goldens() {
    for case in cases() {
        let stem = case
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name");
        let mut w = Writer::new(Vec::new());
        let mut losses = Losses::default();
        for ex in read_lenient(&case) {
            w.write(&ex, &mut losses).expect("writes to memory");
        }
        let out = String::from_utf8(w.finish().expect("flush")).expect("utf-8 output");
        assert_golden(
            out,
            &Path::new("testdata/expected").join(format!("{stem}.http-types.jsonl")),
        );
    }
}
