//! `wirecap validate`: checks files against wirecap's own versioned JSON Schemas and against
//! semantic rules the schemas cannot express, and reports each problem with a real line and
//! column.
//!
//! The module works on JSON values, never on the format readers, so a file that the readers
//! would reject still gets every problem reported. Per file:
//! 1. detect the format and version (`--schema` first, then the extension, then the content:
//!    http-types JSONL by its first key, Hoverfly by `meta.schemaVersion` or the shape of
//!    `data`);
//! 2. JSON documents are parsed whole; JSONL is read in chunks of whole lines that are
//!    validated in parallel (rayon) and reported in input order, so memory stays bounded;
//! 3. the schema runs ([`schemas`]), then the semantic rules ([`rules`]);
//! 4. each finding's JSON pointer is turned into a line and column ([`locate`]), only for
//!    documents that have findings.

mod fast;
mod jsonl;
pub mod locate;
pub mod render;
pub mod rules;
pub mod schemas;
mod stop;

use crate::formats::detect::{self, Document, Legacy, Undetected};
use jsonl::jsonl_stream;
use jsonschema::error::ValidationErrorKind;
use schemas::Schema;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};

/// The largest single JSON document (not JSONL) read into memory.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 30;

/// How many bytes of JSONL are gathered before a chunk is validated in parallel. Memory use
/// is a small multiple of this, whatever the file size.
pub const CHUNK_BYTES: usize = 8 << 20;

/// The longest message kept from a schema error; instances quoted in messages are cut.
const MAX_MESSAGE_CHARS: usize = 240;

/// What is checked beyond syntax and format detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// The schema, the semantic rules ([`rules`]) and, for http-types, what the real readers
    /// (py-http-types, which hmt uses) require: the `http-types-strict` schema, and a warning
    /// for each blank line. Whatever `convert`'s reader refuses is an error too.
    #[default]
    Strict,
    /// The schema only: for http-types the published JSON Schema (`http-types`), for
    /// Hoverfly wirecap's schema for the file's version. No semantic rules, no reader
    /// requirements; blank JSONL lines are skipped silently.
    Schema,
}

impl Profile {
    /// Whether anything beyond the schema runs: the semantic rules and the readers'
    /// requirements on JSONL framing.
    pub fn rules(self) -> bool {
        self == Profile::Strict
    }
}

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Fails the run.
    Error,
    /// Reported; fails the run only with `--deny-warnings`.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A problem in one document, before it is given a line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// RFC 6901 pointer into the document.
    pub pointer: String,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
    /// The stable rule id (see [`rules::RULES`]).
    pub rule: Cow<'static, str>,
    /// Error or warning.
    pub severity: Severity,
    /// The object keys a schema `required` or `additionalProperties` finding is about (the
    /// missing property, the unexpected ones), to match it with the place where `convert`'s
    /// reader stops (`validate/stop.rs`); empty for every other finding.
    pub keys: Vec<String>,
}

/// A located problem in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the file.
    pub line: usize,
    /// 1-based column (characters) in that line.
    pub column: usize,
    /// What, where and how bad.
    pub finding: Finding,
}

impl fmt::Display for Problem {
    /// `LINE:COLUMN: /pointer: [warning: ]message [rule]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.finding;
        let message = match p.severity {
            Severity::Error => Cow::Borrowed(p.message.as_str()),
            Severity::Warning => Cow::Owned(format!("warning: {}", p.message)),
        };
        let at = crate::codec::json::Located(&p.pointer, &message);
        write!(f, "{}:{}: {at} [{}]", self.line, self.column, p.rule)
    }
}

/// What to validate against and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Use this schema for every file instead of detecting one.
    pub schema: Option<&'static Schema>,
    /// What is checked beyond the schema; also picks the http-types schema when none is
    /// forced.
    pub profile: Profile,
    /// The longest JSONL line accepted.
    pub max_line_bytes: usize,
    /// How deep arrays and objects may nest in a line or document; the validating threads
    /// need [`crate::limits::stack_bytes`] of stack for it.
    pub json_depth: usize,
    /// Accept valid http-types lines without building a JSON value (see `fast.rs`); off only
    /// to measure it. Results are the same either way.
    pub fast_path: bool,
    /// Where to count the bytes read, for a progress display.
    pub meter: Option<std::sync::Arc<crate::meter::ReadMeter>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            schema: None,
            profile: Profile::Strict,
            max_line_bytes: crate::formats::http_types::MAX_LINE_BYTES,
            json_depth: crate::limits::MAX_JSON_DEPTH,
            fast_path: true,
            meter: None,
        }
    }
}

/// Counts for one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The schema used (`format/version`), when one was chosen.
    pub schema: Option<String>,
    /// Documents checked: 1 for a JSON file, one per non-blank line for JSONL.
    pub documents: u64,
    /// Problems of severity error.
    pub errors: u64,
    /// Problems of severity warning.
    pub warnings: u64,
}

/// Why a file could not be validated at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading failed.
    #[error("reading {file}")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The file is larger than [`MAX_DOCUMENT_BYTES`].
    #[error("{file}: a JSON document larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge {
        /// The file.
        file: String,
    },
    /// An argument named nothing.
    #[error("{0}: no such file, directory or glob match")]
    NotFound(String),
    /// A glob pattern did not parse.
    #[error("bad glob pattern {pattern:?}")]
    Glob {
        /// The pattern.
        pattern: String,
        /// The cause.
        #[source]
        source: glob::PatternError,
    },
}

/// Extensions a directory walk picks up.
const WALKED_EXTENSIONS: &[&str] = &["json", "jsonl", "ndjson"];

/// Turns arguments into files: `-` stays, directories are walked (files ending in .json,
/// .jsonl or .ndjson, sorted), and glob patterns are expanded (sorted). Anything else that
/// exists is read as it is: pipes such as `/dev/stdin` or `<(zcat f.gz)` too.
pub fn expand_inputs(args: &[String]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for arg in args {
        let path = Path::new(arg);
        let readable = std::fs::metadata(path).is_ok_and(|m| !m.is_dir());
        if arg == "-" || readable {
            out.push(path.to_path_buf());
        } else if path.is_dir() {
            walk(path, &mut out);
        } else if arg.contains(['*', '?', '[']) {
            let paths = glob::glob(arg).map_err(|source| Error::Glob {
                pattern: arg.clone(),
                source,
            })?;
            let mut found: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
            found.sort();
            if found.is_empty() {
                return Err(Error::NotFound(arg.clone()));
            }
            for p in found {
                if p.is_dir() {
                    walk(&p, &mut out);
                } else {
                    out.push(p);
                }
            }
        } else {
            return Err(Error::NotFound(arg.clone()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut found: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| WALKED_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    found.sort();
    out.extend(found);
}

/// Validates the file at `path` (`-` for standard input), passing each problem to `sink` in
/// file order.
pub fn validate_path(
    path: &Path,
    opts: &Options,
    sink: &mut dyn FnMut(Problem),
) -> Result<Summary, Error> {
    let name = path.display().to_string();
    let io_err = |source| Error::Io {
        file: name.clone(),
        source,
    };
    let reader: Box<dyn Read + Send> = if path == Path::new("-") {
        Box::new(io::stdin())
    } else {
        Box::new(std::fs::File::open(path).map_err(io_err)?)
    };
    let reader: Box<dyn Read + Send> = match &opts.meter {
        Some(m) => Box::new(crate::meter::Metered::new(reader, m.clone())),
        None => reader,
    };
    let mut input = crate::formats::Input {
        name: name.clone(),
        reader: Box::new(io::BufReader::with_capacity(
            crate::formats::READ_BUFFER_BYTES,
            reader,
        )),
    };
    // A gzipped file (`.jsonl.gz`) is validated as what it holds, as convert reads it.
    input.unwrap_gzip().map_err(|e| match e {
        crate::formats::Error::Io { source, .. } => io_err(source),
        other => io_err(io::Error::other(other.to_string())),
    })?;
    validate_reader(&name, input.reader, opts, sink)
}

/// Validates one input stream named `name` (the name's extension takes part in detection).
pub fn validate_reader(
    name: &str,
    mut reader: impl BufRead + Send,
    opts: &Options,
    sink: &mut dyn FnMut(Problem),
) -> Result<Summary, Error> {
    let io_err = |source| Error::Io {
        file: name.to_owned(),
        source,
    };
    if opts.schema.is_none() && detect::capture_magic(reader.fill_buf().map_err(io_err)?) {
        return Ok(whole_file(
            sink,
            "capture",
            "this is a packet capture (pcap/pcapng): captures are converted, not validated; \
             validate what `wirecap convert` writes from it",
        ));
    }
    let head = reader.fill_buf().map_err(io_err)?;
    if detect::is_utf16(head) {
        return Ok(whole_file(sink, "utf16", detect::UTF16_TEXT));
    }
    let http_types_schema_or_none = opts
        .schema
        .is_none_or(|s| s.format.starts_with("http-types"));
    if http_types_schema_or_none
        && crate::formats::http_types::is_document(head)
        && (opts.schema.is_some() || detect::holds_http_types(head))
    {
        return Ok(whole_file(
            sink,
            "jsonl-framing",
            "one JSON document over several lines, or an array: http-types is one exchange \
                 per line, as its readers (py-http-types, hmt) read it; `wirecap convert` reads \
                 this and writes JSONL",
        ));
    }
    let head = reader.fill_buf().map_err(io_err)?;
    let jsonl = match opts.schema {
        Some(s) => s.format.starts_with("http-types"),
        None => detect::is_jsonl(name, head),
    };
    let mut counter = Counter::new(sink);
    // What the readers make of the file, where its name says otherwise (the content decides).
    let read_as = detect::input(name, head);
    let misnamed = read_as.and_then(|f| detect::misnamed(name, f));
    // A `.har` file is HAR to `convert` whatever it holds: checked as HAR, it gets the
    // reader's words ("missing field `log`") rather than a guess at another format.
    let har = schemas::find("har").filter(|_| read_as == Some(crate::formats::Format::Har));
    if let Some(m) = misnamed.filter(|_| opts.schema.is_none()) {
        let message = format!(
            "a {} name, but the content is {}: validated as what it holds",
            m.extension, m.holds
        );
        counter.emit(at_start(Severity::Warning, "misnamed", message));
    }
    if head.starts_with(detect::UTF8_BOM) {
        reader.consume(detect::UTF8_BOM.len());
        if opts.profile.rules() {
            let message = "a UTF-8 byte-order mark: wirecap reads past it, but Hoverfly and \
                           py-http-types refuse the file; save it as UTF-8 without one";
            counter.emit(at_start(Severity::Warning, "utf8-bom", message.to_owned()));
        }
    }
    if jsonl {
        let schema = opts
            .schema
            .unwrap_or_else(|| http_types_schema(opts.profile));
        counter.summary.schema = Some(schema.name());
        jsonl_stream(name, reader, schema, opts, CHUNK_BYTES, &mut counter)?;
    } else {
        let mut bytes = Vec::new();
        reader
            .take(MAX_DOCUMENT_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io_err)?;
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(Error::TooLarge {
                file: name.to_owned(),
            });
        }
        let (schema, problems) =
            check_document_within(&bytes, opts.schema.or(har), opts.profile, opts.json_depth);
        counter.summary.schema = schema.map(Schema::name);
        counter.summary.documents = 1;
        for p in problems {
            counter.emit(p);
        }
    }
    Ok(counter.summary)
}

/// A file that is not validated as documents: one error at 1:1 under `rule`.
fn whole_file(sink: &mut dyn FnMut(Problem), rule: &'static str, message: &str) -> Summary {
    let mut counter = Counter::new(sink);
    counter.summary.documents = 1;
    counter.emit(at_start(Severity::Error, rule, message.to_owned()));
    counter.summary
}

/// A problem with the file as a whole, at 1:1.
fn at_start(severity: Severity, rule: &'static str, message: String) -> Problem {
    Problem {
        line: 1,
        column: 1,
        finding: finding(severity, rule, "", message),
    }
}

/// The http-types schema for `profile`.
pub fn http_types_schema(profile: Profile) -> &'static Schema {
    let name = match profile {
        Profile::Strict => "http-types-strict",
        Profile::Schema => "http-types",
    };
    schemas::find(name).expect("both http-types schemas are embedded")
}

struct Counter<'a> {
    summary: Summary,
    sink: &'a mut dyn FnMut(Problem),
}

impl<'a> Counter<'a> {
    fn new(sink: &'a mut dyn FnMut(Problem)) -> Self {
        Self {
            summary: Summary::default(),
            sink,
        }
    }
    fn emit(&mut self, p: Problem) {
        match p.finding.severity {
            Severity::Error => self.summary.errors += 1,
            Severity::Warning => self.summary.warnings += 1,
        }
        (self.sink)(p);
    }
}

/// Gives findings a line and column in `text` (whose first line is `first_line`), sorted by
/// position; findings at the same place keep their order.
fn locate_all(text: &[u8], first_line: usize, findings: Vec<Finding>) -> Vec<Problem> {
    let pointers: Vec<&str> = findings.iter().map(|f| f.pointer.as_str()).collect();
    let offsets = locate::offsets_of(text, &pointers);
    let mut out: Vec<Problem> = locate::positions(text, &offsets)
        .into_iter()
        .zip(findings)
        .map(|((line, column), f)| Problem {
            line: line + first_line.saturating_sub(1),
            column,
            finding: f,
        })
        .collect();
    out.sort_by_key(|p| (p.line, p.column));
    out
}

fn finding(severity: Severity, rule: &'static str, pointer: &str, message: String) -> Finding {
    Finding {
        pointer: pointer.to_owned(),
        message,
        rule: rule.into(),
        severity,
        keys: Vec::new(),
    }
}

/// Parses a line or document nested at most `depth` deep; what is not JSON is a problem in
/// the words and with the pointer `convert` gives for it, since both come from
/// [`crate::codec::json::from_slice_within`].
fn parse(bytes: &[u8], depth: usize, first_line: usize) -> Result<Value, Problem> {
    crate::codec::json::from_slice_within(bytes, depth).map_err(|e| Problem {
        line: e.line + first_line.saturating_sub(1),
        column: e.column.max(1),
        finding: finding(Severity::Error, "json-syntax", &e.pointer, e.message),
    })
}

/// Runs `schema` over `value`, one finding per error.
fn schema_findings(schema: &'static Schema, value: &Value, out: &mut Vec<Finding>) {
    for e in schema.validator().iter_errors(value) {
        let mut message = e.to_string();
        if message.chars().count() > MAX_MESSAGE_CHARS {
            message = message.chars().take(MAX_MESSAGE_CHARS).collect::<String>() + "…";
        }
        let keys = match e.kind() {
            ValidationErrorKind::Required { property } => {
                property.as_str().map(str::to_owned).into_iter().collect()
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => unexpected.clone(),
            _ => Vec::new(),
        };
        out.push(Finding {
            pointer: e.instance_path().as_str().to_owned(),
            message,
            rule: format!("schema/{}", e.kind().keyword()).into(),
            severity: Severity::Error,
            keys,
        });
    }
}

/// Checks one whole JSON document (`forced` schema, else detected) under `profile`;
/// returns the schema used and the located problems.
pub fn check_document(
    bytes: &[u8],
    forced: Option<&'static Schema>,
    profile: Profile,
) -> (Option<&'static Schema>, Vec<Problem>) {
    check_document_within(bytes, forced, profile, crate::limits::MAX_JSON_DEPTH)
}

/// [`check_document`] with arrays and objects nested at most `depth` deep.
pub fn check_document_within(
    bytes: &[u8],
    forced: Option<&'static Schema>,
    profile: Profile,
    depth: usize,
) -> (Option<&'static Schema>, Vec<Problem>) {
    let value = match parse(bytes, depth, 1) {
        Ok(v) => v,
        Err(problem) => return (None, vec![problem]),
    };
    let (schema, mut findings) = check_value(&value, forced, profile);
    if let Some(schema) = schema {
        in_readers_words(schema.format, bytes, &value, profile, depth, &mut findings);
    }
    (schema, locate_all(bytes, 1, findings))
}

/// Runs `convert`'s reader over the document: where it stops, the error finding there takes
/// the reader's pointer and words ([`stop`]); where no finding is there (the schema and the
/// rules allow what the reader refuses: a duplicate key, a body that does not decode), the
/// strict profile adds the reader's own, so a file `validate` passes is one `convert` reads.
fn in_readers_words(
    format: &str,
    bytes: &[u8],
    value: &Value,
    profile: Profile,
    depth: usize,
    findings: &mut Vec<Finding>,
) {
    // The HAR reader costs several times the schema, and what it refuses that the schema
    // allows (base64 bodies) has a rule: it runs only where there is an error to reword.
    let clean = !findings.iter().any(|f| f.severity == Severity::Error);
    if format == "har" && clean {
        return;
    }
    let Some(at) = stop::reader_stop(format, bytes, value, depth) else {
        return;
    };
    if !stop::reword(findings, &at) && profile.rules() {
        findings.push(Finding {
            rule: at.rule().into(),
            severity: Severity::Error,
            keys: Vec::new(),
            pointer: at.pointer,
            message: at.message,
        });
    }
}

fn check_value(
    value: &Value,
    forced: Option<&'static Schema>,
    profile: Profile,
) -> (Option<&'static Schema>, Vec<Finding>) {
    let mut out = Vec::new();
    let schema = match forced {
        Some(s) => Some(s),
        None => detect_document(value, profile, &mut out),
    };
    let Some(schema) = schema else {
        return (None, out);
    };
    schema_findings(schema, value, &mut out);
    if !profile.rules() {
        return (Some(schema), out);
    }
    match schema.format {
        "hoverfly-simulation" => {
            rules::hoverfly_simulation(value, schema.version.starts_with("v5"), &mut out)
        }
        "hoverfly-records" => rules::hoverfly_legacy(value, Some("request"), &mut out),
        "hoverfly-templates" => rules::hoverfly_legacy(value, Some("requestTemplate"), &mut out),
        "hoverfly-delays" => rules::hoverfly_legacy(value, None, &mut out),
        "har" => rules::har(value, &mut out),
        _ => rules::http_types(value, &mut out),
    }
    (Some(schema), out)
}

/// Which schema a parsed JSON document needs: what [`detect::document`] makes of it, the one
/// detector `convert` reads by too.
fn detect_document(
    value: &Value,
    profile: Profile,
    out: &mut Vec<Finding>,
) -> Option<&'static Schema> {
    let version = match detect::document(value) {
        Ok(Document::Legacy(Legacy::Records)) => return schemas::find("hoverfly-records/v1"),
        Ok(Document::Legacy(Legacy::Templates)) => return schemas::find("hoverfly-templates/v1"),
        Ok(Document::Legacy(Legacy::Delays)) => return schemas::find("hoverfly-delays/v1"),
        Ok(Document::Har) => return schemas::find("har"),
        Ok(Document::HttpTypes) => return Some(http_types_schema(profile)),
        Ok(Document::Simulation(version)) => version,
        Err(why) => {
            let rule = match why {
                Undetected::NotObject | Undetected::NoDataOrMeta => "unknown-format",
                _ => "schema-version",
            };
            out.push(finding(
                Severity::Error,
                rule,
                why.pointer(),
                why.to_string(),
            ));
            return None;
        }
    };
    match detect::read_as(version) {
        Some(known) if known == version => schemas::lookup("hoverfly-simulation", version),
        Some(newest) => {
            out.push(finding(
                Severity::Warning,
                "schema-version",
                "/meta/schemaVersion",
                format!("unknown schemaVersion {version:?}: Hoverfly v1.10+ reads it as v5.3, older ones reject it"),
            ));
            schemas::lookup("hoverfly-simulation", newest)
        }
        None => {
            out.push(finding(
                Severity::Error,
                "schema-version",
                "/meta/schemaVersion",
                detect::unsupported_version(version),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests;
