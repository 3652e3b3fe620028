//! Where `convert`'s reader stops on a document, in its words, so that `validate` says the same
//! of the same bad input (issue 14): the finding at that place takes the reader's pointer and
//! message, whatever found it (the schema's `required`, `enum` or `additionalProperties`, a
//! semantic rule). The words come from one place, the format's reader; `validate` only runs it.
//!
//! For JSONL this runs only on lines the fast path (`fast.rs`) does not accept; a whole
//! document is read by its reader once more after the schema.

use super::{Finding, Severity};
use crate::codec::json::JsonError;
use crate::formats::detect::Legacy;
use crate::formats::{self, har, hoverfly, http_types};
use crate::loss::Losses;
use serde_json::Value;

/// Where the reader stops, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stop {
    /// RFC 6901 pointer, empty for the whole document.
    pub pointer: String,
    /// The reader's message.
    pub message: String,
}

impl Stop {
    /// The rule a stop no schema or rule finding stands for is reported under.
    pub fn rule(&self) -> &'static str {
        if self.message.starts_with("duplicate field `") {
            "duplicate-key"
        } else if self
            .message
            .contains("is base64 but the text is not base64")
        {
            "encoded-body"
        } else {
            "reader"
        }
    }
}

impl From<JsonError> for Stop {
    fn from(e: JsonError) -> Self {
        // Some readers write the whole document's pointer as `/`; findings write it empty.
        let pointer = if e.pointer == "/" {
            String::new()
        } else {
            e.pointer
        };
        Stop {
            pointer,
            message: e.message,
        }
    }
}

/// Where `convert`'s reader for the schema `format` (a [`Schema`](super::schemas::Schema)
/// format name) stops on the document `bytes`, parsed as `value` within `depth`; `None` when
/// it reads it.
pub(super) fn reader_stop(format: &str, bytes: &[u8], value: &Value, depth: usize) -> Option<Stop> {
    let legacy = |which| {
        hoverfly::legacy::read_value(value, which, "", Default::default(), &mut Losses::default())
    };
    let hoverfly = match format {
        f if f.starts_with("http-types") => {
            return http_types::parse_exchange_within(bytes, Default::default(), depth)
                .err()
                .map(Stop::from);
        }
        "har" => return har_stop(bytes, depth),
        "hoverfly-simulation" => {
            hoverfly::read_value(value, "", Default::default(), &mut Losses::default())
        }
        "hoverfly-records" => legacy(Legacy::Records),
        "hoverfly-templates" => legacy(Legacy::Templates),
        "hoverfly-delays" => legacy(Legacy::Delays),
        _ => return None,
    };
    match hoverfly.err()? {
        hoverfly::Error::Shape {
            pointer, message, ..
        } => Some(Stop { pointer, message }),
        hoverfly::Error::Syntax { error, .. } => Some(error.into()),
        // A version no Hoverfly reads has its own finding (`schema-version`).
        _ => None,
    }
}

/// The first error of the HAR reader on `bytes`.
fn har_stop(bytes: &[u8], depth: usize) -> Option<Stop> {
    let input = formats::Input {
        name: String::new(),
        reader: Box::new(std::io::Cursor::new(bytes.to_vec())),
    };
    let first = match har::read(input, depth) {
        Ok(mut exchanges) => exchanges.find_map(Result::err)?,
        Err(e) => e,
    };
    match first {
        formats::Error::Har(
            har::Error::Document { error, .. } | har::Error::Entry { error, .. },
        ) => Some(error.into()),
        _ => None,
    }
}

/// Gives the error among `findings` that sits where the reader stops the reader's pointer and
/// words. That is, in order of preference: a schema `required` finding for the field the
/// reader misses, or an `additionalProperties` finding on the key it refuses; else the first
/// error finding at the reader's pointer; else a `required` finding there, when the reader's
/// message names no missing field. An `additionalProperties` finding that names other
/// keys too is kept beside the reworded one. A finding about keys (`required`,
/// `additionalProperties`) is never taken for another key's problem at the same pointer.
/// Nothing changes, and it returns false, when no finding is there.
pub(super) fn reword(findings: &mut Vec<Finding>, stop: &Stop) -> bool {
    let missing = |f: &Finding| {
        f.rule == "schema/required"
            && f.pointer == stop.pointer
            && f.keys.iter().any(|k| {
                let m = format!("missing field `{k}`");
                stop.message == m || stop.message.starts_with(&format!("{m},"))
            })
    };
    let unexpected = |f: &Finding| {
        f.rule == "schema/additionalProperties"
            && f.keys.iter().any(|k| child(&f.pointer, k) == stop.pointer)
    };
    let errors = || {
        findings
            .iter()
            .enumerate()
            .filter(|(_, f)| f.severity == Severity::Error)
    };
    // A reader's own words for a missing part ("expected one of path, pathname or url") stand
    // for the schema's `required` finding there, unless they name another missing field.
    let named = stop.message.starts_with("missing field `");
    let Some(i) = errors()
        .find(|(_, f)| missing(f) || unexpected(f))
        .or_else(|| errors().find(|(_, f)| f.keys.is_empty() && f.pointer == stop.pointer))
        .or_else(|| {
            errors()
                .find(|(_, f)| !named && f.rule == "schema/required" && f.pointer == stop.pointer)
        })
        .map(|(i, _)| i)
    else {
        return false;
    };
    let f = &mut findings[i];
    let reworded = Finding {
        pointer: stop.pointer.clone(),
        message: stop.message.clone(),
        rule: f.rule.clone(),
        severity: f.severity,
        keys: Vec::new(),
    };
    if f.rule == "schema/additionalProperties" && f.keys.len() > 1 {
        findings.insert(i + 1, reworded);
    } else {
        *f = reworded;
    }
    true
}

/// The pointer to `key` inside the object at `pointer`.
fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", super::rules::esc(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(rule: &str, pointer: &str, keys: &[&str]) -> Finding {
        Finding {
            pointer: pointer.into(),
            message: format!("jsonschema's words for {rule}"),
            rule: format!("schema/{rule}").into(),
            severity: Severity::Error,
            keys: keys.iter().map(|k| k.to_string()).collect(),
        }
    }

    fn stop(pointer: &str, message: &str) -> Stop {
        Stop {
            pointer: pointer.into(),
            message: message.into(),
        }
    }

    #[test]
    fn a_missing_field_rewords_the_required_finding_for_that_field() {
        let mut f = vec![
            schema("required", "", &["response"]),
            schema("required", "", &["request"]),
        ];
        reword(&mut f, &stop("", "missing field `request`"));
        assert_eq!(f[0].message, "jsonschema's words for required");
        assert_eq!(
            (f[1].pointer.as_str(), f[1].message.as_str(), &*f[1].rule),
            ("", "missing field `request`", "schema/required")
        );
    }

    #[test]
    fn an_unknown_field_rewords_additional_properties_and_keeps_other_keys() {
        let mut f = vec![schema("additionalProperties", "/request", &["a", "b/c"])];
        reword(&mut f, &stop("/request/b~1c", "unknown field `b/c`"));
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].message, "jsonschema's words for additionalProperties");
        assert_eq!(
            (f[1].pointer.as_str(), f[1].message.as_str()),
            ("/request/b~1c", "unknown field `b/c`")
        );
    }

    #[test]
    fn other_findings_are_reworded_at_the_same_pointer_only() {
        let mut f = vec![
            schema("enum", "/request/method", &[]),
            schema("type", "/response/statusCode", &[]),
        ];
        reword(&mut f, &stop("/response/statusCode", "the reader's words"));
        assert_eq!(f[0].message, "jsonschema's words for enum");
        assert_eq!(f[1].message, "the reader's words");
        let before = f.clone();
        assert!(!reword(&mut f, &stop("/elsewhere", "nothing there")));
        assert_eq!(f, before);
    }

    #[test]
    fn a_required_finding_for_another_field_is_not_reworded() {
        let mut f = vec![schema("required", "", &["response"])];
        assert!(!reword(&mut f, &stop("", "missing field `request`")));
        assert_eq!(f[0].message, "jsonschema's words for required");
    }

    #[test]
    fn a_readers_own_words_for_a_missing_part_reword_the_required_finding() {
        let mut f = vec![schema("required", "/request", &["pathname"])];
        reword(
            &mut f,
            &stop("/request", "expected one of path, pathname or url"),
        );
        assert_eq!(f[0].message, "expected one of path, pathname or url");
    }
}
