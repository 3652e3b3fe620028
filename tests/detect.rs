//! One detector (issue 13): every real Hoverfly sample in `../shared/reference/hoverfly/samples/`
//! and every file in `testdata/` is the same format and version to `validate` as to the
//! readers `convert`, `count` and `merge` open ([`Input::detect`], then
//! [`formats::read_simulation`] for Hoverfly files). The samples are skipped with a notice
//! when the reference folder is absent.

mod notice;

use std::io::Read as _;
use std::path::Path;
use wirecap::formats::detect::{self, Document, Legacy};
use wirecap::formats::{self, Input, ReadOptions};
use wirecap::loss::Losses;
use wirecap::validate::{Options, validate_path};

const SAMPLES: &str = "../shared/reference/hoverfly/samples";

/// What the readers make of `path`: a format name, and for a Hoverfly simulation the
/// schemaVersion it is read as; `undetected` when no reader would open it.
fn as_read(path: &Path) -> String {
    let name = path.to_str().expect("UTF-8 test paths");
    let mut input = Input::open(name).expect("opening a test file");
    let Ok(format) = input.detect(None) else {
        return "undetected".into();
    };
    if !format.is_simulation() {
        return format.to_string();
    }
    let mut bytes = Vec::new();
    if input.reader.read_to_end(&mut bytes).is_err() {
        return "undetected".into();
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return "undetected".into();
    };
    let detected = match detect::document(&doc) {
        Ok(Document::Simulation(v)) => match detect::read_as(v) {
            Some(read_as) => format!("hoverfly {read_as}"),
            None => "undetected".into(),
        },
        Ok(Document::Legacy(Legacy::Records)) => "hoverfly-v1-records".into(),
        Ok(Document::Legacy(Legacy::Templates)) => "hoverfly-v1-templates".into(),
        Ok(Document::Legacy(Legacy::Delays)) => "hoverfly-v1-delays".into(),
        Ok(Document::Har | Document::HttpTypes) | Err(_) => "undetected".into(),
    };
    // What the reader itself records agrees with the detector, whenever it reads the file.
    let input = Input::open(name).expect("opening a test file");
    let sim = formats::read_simulation(
        format,
        input,
        &ReadOptions::default(),
        &mut Losses::default(),
    );
    if let (Ok(sim), Ok(Document::Simulation(v))) = (sim, detect::document(&doc)) {
        assert_eq!(sim.meta.schema_version.as_deref(), Some(v), "{name}");
    }
    detected
}

/// What `validate` makes of `path`, in the same terms as [`as_read`], and whether it found
/// errors.
fn as_validated(path: &Path) -> (String, bool) {
    let mut whole_file_rules = Vec::new();
    let summary = validate_path(path, &Options::default(), &mut |p| {
        if p.line == 1 && p.column == 1 {
            whole_file_rules.push(p.finding.rule.to_string());
        }
    })
    .expect("validating a test file");
    let errors = summary.errors > 0;
    let Some(schema) = summary.schema else {
        let name = match whole_file_rules.first().map(String::as_str) {
            Some("capture") => "pcap",
            Some("jsonl-framing") => "http-types",
            _ => "undetected",
        };
        return (name.into(), errors);
    };
    let (format, version) = schema.split_once('/').expect("format/version");
    let name = match format {
        "hoverfly-simulation" => format!("hoverfly {version}"),
        "hoverfly-records" => "hoverfly-v1-records".into(),
        "hoverfly-templates" => "hoverfly-v1-templates".into(),
        "hoverfly-delays" => "hoverfly-v1-delays".into(),
        "http-types" | "http-types-strict" => "http-types".into(),
        other => other.into(),
    };
    (name, errors)
}

/// Whether the readers read `path` through without an error.
fn reads(path: &Path) -> bool {
    let name = path.to_str().expect("UTF-8 test paths");
    let mut input = Input::open(name).expect("opening a test file");
    let Ok(format) = input.detect(None) else {
        return false;
    };
    let opts = ReadOptions::default();
    if format.is_simulation() {
        return formats::read_simulation(format, input, &opts, &mut Losses::default()).is_ok();
    }
    formats::read(format, input, &opts).is_ok_and(|mut items| items.all(|i| i.is_ok()))
}

/// Files the readers and `validate` once saw differently (issue 13), and what both make of
/// each now: the format, and whether validate finds it valid. The readers read every one.
const ONCE_DIVERGED: [(&str, &str, bool); 4] = [
    // A UTF-8 byte-order mark: every reader skips it; validate checks what follows and
    // warns (`utf8-bom`), since Hoverfly refuses it. It once reported "expected value".
    (
        "testdata/bad/hoverfly/v5-utf8-bom.json",
        "hoverfly v5.3",
        true,
    ),
    ("testdata/bad/http-types/utf8-bom.jsonl", "http-types", true),
    // Content over a misleading name, both ways: a simulation saved as .pcap was refused by
    // the readers as a capture without a magic number.
    (
        "testdata/bad/mixed/hoverfly-named-pcap.pcap",
        "hoverfly v5.3",
        true,
    ),
    // A capture is read, and validate refuses it as a capture (rule `capture`).
    ("testdata/bad/mixed/pcap-named-json.json", "pcap", false),
];

/// Every file under `dir`, sorted.
fn files(dir: &str) -> Vec<std::path::PathBuf> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.expect("walking test files"))
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect()
}

/// Files whose format the readers and `validate` see differently. Where neither can read a
/// file (the readers fail, validate reports errors), their guesses at what it was meant to
/// be may differ: a `.har` that is not JSON is HAR by its name to the readers and nothing to
/// validate, which needs a parsed document.
fn disagreements(paths: &[std::path::PathBuf]) -> Vec<String> {
    paths
        .iter()
        .filter_map(|p| {
            let (read, (validated, errors)) = (as_read(p), as_validated(p));
            let both_refuse = errors && !reads(p);
            (read != validated && !both_refuse)
                .then(|| format!("{}: read as {read}, validated as {validated}", p.display()))
        })
        .collect()
}

#[test]
fn issue_13_validate_and_the_readers_agree_on_every_testdata_file() {
    // testdata/bad/ is broken on purpose (cut, corrupt, misnamed): there the two sides
    // agree, or both refuse the file. What each command says of each of those files is
    // pinned by tests/bad_inputs.rs.
    let paths = files("testdata");
    assert!(paths.len() > 200, "only {} files in testdata", paths.len());
    let wrong = disagreements(&paths);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn issue_13_a_byte_order_mark_and_a_misleading_name_are_seen_alike() {
    for (file, format, valid) in ONCE_DIVERGED {
        let path = Path::new(file);
        let (validated, errors) = as_validated(path);
        assert_eq!(
            (as_read(path).as_str(), validated.as_str()),
            (format, format),
            "{file}"
        );
        assert!(reads(path), "{file}");
        assert_eq!(errors, !valid, "{file}");
    }
}

#[test]
fn issue_13_validate_and_the_readers_agree_on_every_hoverfly_sample() {
    if !Path::new(SAMPLES).exists() {
        notice::notice(&format!(
            "skipping the detection table over Hoverfly samples: {SAMPLES} is absent"
        ));
        return;
    }
    let paths: Vec<_> = files(SAMPLES)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert!(paths.len() >= 109, "only {} samples found", paths.len());
    // Each sample's folder names what it is: `legacy-<body>` or `simulation-<version>`.
    for p in &paths {
        let folder = p.parent().and_then(Path::file_name).unwrap();
        let folder = folder.to_str().unwrap();
        let expected = match folder.strip_prefix("legacy-") {
            Some(body) => format!("hoverfly-v1-{body}"),
            None => {
                let v = folder.strip_prefix("simulation-").unwrap();
                format!("hoverfly {}", v.trim_end_matches("-generated"))
            }
        };
        assert_eq!(as_read(p), expected, "{}", p.display());
    }
    let wrong = disagreements(&paths);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn issue_13_a_v0_7_delays_body_validates_as_delays() {
    let dir = std::env::temp_dir().join(format!("wirecap-detect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("delays-v0.7.json");
    std::fs::write(&path, r#"{"data":[{"HostPattern":"a\\.com","Delay":5}]}"#).unwrap();
    assert_eq!(as_read(&path), "hoverfly-v1-delays");
    assert_eq!(as_validated(&path).0, "hoverfly-v1-delays");
    std::fs::remove_dir_all(&dir).unwrap();
}
