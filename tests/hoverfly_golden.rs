//! Hoverfly reader and writer goldens over `testdata/hoverfly/*.json`:
//!
//! - `testdata/expected/<case>.model.json`: the canonical model the reader builds (default
//!   upgrade);
//! - `testdata/expected/<case>.hoverfly.json`: the default writer (oldest sufficient v5.x);
//! - `testdata/expected/<case>.compat.hoverfly.json`: the same after `--hoverfly-compat`, in
//!   Hoverfly's key order (`<case>.compat.error.txt` when Hoverfly's upgrade rejects the file);
//! - `testdata/expected/<case>.http-types.jsonl`: the pairs that are exchanges;
//! - extra writer outputs listed in [`EXTRA`] (older schemaVersions, legacy bodies).
//!
//! Update with `SNAPSHOTS=overwrite cargo test --test hoverfly_golden`, then review the diff.

use snapbox::{Data, data::DataFormat};
use std::fs;
use std::path::{Path, PathBuf};
use wirecap::convert::{self, Summary};
use wirecap::formats::hoverfly::{KeyOrder, SchemaVersion, Upgrade, WriteOptions};
use wirecap::formats::{self, Format, Input, ReadOptions, Writer};
use wirecap::loss::Losses;
use wirecap::model::{Simulation, Timestamp};

/// Extra writer goldens: (case, output format, schemaVersion, file suffix).
const EXTRA: &[(&str, Format, Option<SchemaVersion>, &str)] = &[
    (
        "sim-v1-recordings-templates-delays",
        Format::Hoverfly,
        Some(SchemaVersion::V1),
        "v1.json",
    ),
    (
        "sim-v1-recordings-templates-delays",
        Format::Hoverfly,
        Some(SchemaVersion::V2),
        "v2.json",
    ),
    (
        "sim-v1-recordings-templates-delays",
        Format::HoverflyV1Records,
        None,
        "records.json",
    ),
    (
        "sim-v4-state-and-matchers",
        Format::Hoverfly,
        Some(SchemaVersion::V4),
        "v4.json",
    ),
    (
        "sim-v4-state-and-matchers",
        Format::Hoverfly,
        Some(SchemaVersion::V5),
        "v5.json",
    ),
    (
        "sim-v5.2-literals-variables",
        Format::Hoverfly,
        Some(SchemaVersion::V5),
        "v5.json",
    ),
    (
        "legacy-records",
        Format::HoverflyV1Records,
        None,
        "records.json",
    ),
    (
        "legacy-templates",
        Format::HoverflyV1Templates,
        None,
        "templates.json",
    ),
    (
        "legacy-delays-v0.7.0",
        Format::HoverflyV1Delays,
        None,
        "delays.json",
    ),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn read(name: &str, bytes: &[u8], upgrade: Upgrade) -> Simulation {
    try_read(name, bytes, upgrade).unwrap_or_else(|e| panic!("{e}"))
}

fn try_read(name: &str, bytes: &[u8], upgrade: Upgrade) -> Result<Simulation, formats::Error> {
    let input = Input {
        name: name.to_owned(),
        reader: Box::new(std::io::Cursor::new(bytes.to_vec())),
    };
    let opts = ReadOptions {
        hoverfly_upgrade: upgrade,
        ..ReadOptions::default()
    };
    formats::read_simulation(Format::Hoverfly, input, &opts, &mut Losses::default())
}

fn write(sim: &Simulation, format: Format, version: Option<SchemaVersion>) -> String {
    write_in(sim, format, version, KeyOrder::AsRead)
}

fn write_in(
    sim: &Simulation,
    format: Format,
    version: Option<SchemaVersion>,
    key_order: KeyOrder,
) -> String {
    let opts = WriteOptions {
        schema_version: version,
        time_exported: Some(Timestamp::from_unix(1_700_000_000, 0)),
        key_order,
    };
    let mut out = Vec::new();
    formats::write_simulation(format, sim, &opts, &mut out, &mut Losses::default()).unwrap();
    String::from_utf8(out).unwrap()
}

fn golden(actual: String, name: &str) {
    let path = root().join("expected").join(name);
    snapbox::assert_data_eq!(actual, Data::read_from(&path, Some(DataFormat::Text)).raw());
}

fn cases() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = fs::read_dir(root().join("hoverfly"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn comparable(sim: &Simulation) -> Simulation {
    let mut sim = sim.clone();
    sim.meta = Default::default();
    for p in &mut sim.pairs {
        p.source = Default::default();
    }
    sim
}

#[test]
fn reader_and_writer_goldens() {
    for (case, bytes) in cases() {
        let name = format!("{case}.json");
        let sim = read(&name, &bytes, Upgrade::Faithful);
        golden(
            serde_json::to_string_pretty(&sim).unwrap() + "\n",
            &format!("{case}.model.json"),
        );
        let out = write(&sim, Format::Hoverfly, None);
        assert_eq!(
            comparable(&read(&name, out.as_bytes(), Upgrade::Faithful)),
            comparable(&sim),
            "{case}: read(write(m)) == m"
        );
        golden(out, &format!("{case}.hoverfly.json"));
        match try_read(&name, &bytes, Upgrade::HoverflyCompat) {
            Ok(compat) => golden(
                write_in(&compat, Format::Hoverfly, None, KeyOrder::Hoverfly),
                &format!("{case}.compat.hoverfly.json"),
            ),
            Err(e) => golden(format!("{e}\n"), &format!("{case}.compat.error.txt")),
        }
        let mut jsonl = Vec::new();
        let mut writer = Writer::new(Format::HttpTypes, &mut jsonl).unwrap();
        convert::run_pairs(
            &sim,
            &name,
            &Default::default(),
            &mut writer,
            &mut Summary::default(),
        )
        .unwrap();
        writer.finish().unwrap();
        golden(
            String::from_utf8(jsonl).unwrap(),
            &format!("{case}.http-types.jsonl"),
        );
    }
}

#[test]
fn older_version_and_legacy_writer_goldens() {
    let cases = cases();
    for (case, format, version, suffix) in EXTRA {
        let (_, bytes) = cases
            .iter()
            .find(|(c, _)| c == case)
            .unwrap_or_else(|| panic!("no case {case}"));
        let sim = read(case, bytes, Upgrade::Faithful);
        golden(write(&sim, *format, *version), &format!("{case}.{suffix}"));
    }
}

#[test]
fn writing_is_deterministic() {
    for (case, bytes) in cases() {
        let a = write(
            &read(&case, &bytes, Upgrade::Faithful),
            Format::Hoverfly,
            None,
        );
        let b = write(
            &read(&case, &bytes, Upgrade::Faithful),
            Format::Hoverfly,
            None,
        );
        assert_eq!(a, b, "{case}");
    }
}
