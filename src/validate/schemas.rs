//! The JSON Schemas wirecap embeds, one per format and version, and their compiled
//! validators. Every schema is self-contained (only local `#/definitions` references), so
//! nothing is ever fetched: the validators are built with an empty offline registry.

use jsonschema::Validator;
use serde_json::Value;
use std::sync::OnceLock;

/// One embedded schema.
#[derive(Debug)]
pub struct Schema {
    /// The format's schema family: `http-types`, `hoverfly-simulation`, ….
    pub format: &'static str,
    /// The version within the family: `2020-06`, `v5.2`, ….
    pub version: &'static str,
    /// The schema text, as shipped in `schemas/<format>/<version>.schema.json`.
    pub text: &'static str,
}

impl Schema {
    /// The name users pass to `--schema` and `wirecap schema show`: `format/version`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.format, self.version)
    }

    /// The schema's `title`.
    pub fn title(&self) -> String {
        self.json()
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// The parsed schema.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.text).expect("embedded schemas are valid JSON (tested)")
    }

    /// The compiled validator, built once per process.
    pub fn validator(&'static self) -> &'static Validator {
        let i = ALL
            .iter()
            .position(|s| std::ptr::eq(s, self))
            .expect("schemas come from ALL");
        COMPILED[i].get_or_init(|| compile(self).expect("embedded schemas compile (tested)"))
    }
}

/// Compiles `schema` with format checking on and no network access.
pub fn compile(schema: &Schema) -> Result<Validator, String> {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema.json())
        .map_err(|e| format!("{}: {e}", schema.name()))
}

macro_rules! schema {
    ($format:literal, $version:literal) => {
        Schema {
            format: $format,
            version: $version,
            text: include_str!(concat!(
                "../../schemas/",
                $format,
                "/",
                $version,
                ".schema.json"
            )),
        }
    };
}

/// Every embedded schema, in the order `wirecap schema list` prints them.
pub static ALL: [Schema; 14] = [
    schema!("http-types", "2020-06"),
    schema!("http-types-strict", "2020-06"),
    schema!("hoverfly-simulation", "v1"),
    schema!("hoverfly-simulation", "v2"),
    schema!("hoverfly-simulation", "v3"),
    schema!("hoverfly-simulation", "v4"),
    schema!("hoverfly-simulation", "v5"),
    schema!("hoverfly-simulation", "v5.1"),
    schema!("hoverfly-simulation", "v5.2"),
    schema!("hoverfly-simulation", "v5.3"),
    schema!("hoverfly-records", "v1"),
    schema!("hoverfly-templates", "v1"),
    schema!("hoverfly-delays", "v1"),
    schema!("har", "1.2"),
];

static COMPILED: [OnceLock<Validator>; 14] = [const { OnceLock::new() }; 14];

/// The schema named `name`: `format/version`, or a bare format for its newest version.
pub fn find(name: &str) -> Option<&'static Schema> {
    let name = name.strip_suffix(".schema.json").unwrap_or(name);
    match name.split_once('/') {
        Some((format, version)) => ALL
            .iter()
            .find(|s| s.format == format && s.version == version),
        None => ALL.iter().rev().find(|s| s.format == name),
    }
}

/// The schema for `format` at `version`, if wirecap has one.
pub fn lookup(format: &str, version: &str) -> Option<&'static Schema> {
    ALL.iter()
        .find(|s| s.format == format && s.version == version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_schema_compiles_and_carries_its_version_in_its_id() {
        for s in &ALL {
            compile(s).unwrap();
            let id = s.json()["$id"].as_str().unwrap().to_owned();
            assert!(
                id.ends_with(&format!("/{}/{}.schema.json", s.format, s.version)),
                "{id}"
            );
            assert!(!s.title().is_empty());
        }
    }

    #[test]
    fn names_resolve() {
        assert_eq!(find("hoverfly-simulation/v5.1").unwrap().version, "v5.1");
        assert_eq!(find("hoverfly-simulation").unwrap().version, "v5.3");
        assert_eq!(find("http-types").unwrap().format, "http-types");
        assert!(find("hoverfly-simulation/v6").is_none());
    }
}
