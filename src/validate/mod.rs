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
pub mod locate;
pub mod render;
pub mod rules;
pub mod schemas;

use crate::formats::detect::{self, Document, Legacy, Undetected};
use crate::model::Timestamp;
use rayon::prelude::*;
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
    /// (py-http-types, which hmt uses) require: the `http-types-strict` schema, and no blank
    /// lines.
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
        let pointer = if p.pointer.is_empty() {
            "/"
        } else {
            &p.pointer
        };
        let sev = match p.severity {
            Severity::Error => "",
            Severity::Warning => "warning: ",
        };
        write!(
            f,
            "{}:{}: {pointer}: {sev}{} [{}]",
            self.line, self.column, p.message, p.rule
        )
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
    let jsonl = match opts.schema {
        Some(s) => s.format.starts_with("http-types"),
        None => detect::is_jsonl(name, reader.fill_buf().map_err(io_err)?),
    };
    let mut counter = Counter::new(sink);
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
        let (schema, problems) = check_document(&bytes, opts.schema, opts.profile);
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
    counter.emit(Problem {
        line: 1,
        column: 1,
        finding: finding(Severity::Error, rule, "", message.to_owned()),
    });
    counter.summary
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
    let mut out: Vec<Problem> = findings
        .into_iter()
        .map(|f| {
            let (line, column) = locate::line_column(text, locate::offset_of(text, &f.pointer));
            Problem {
                line: line + first_line.saturating_sub(1),
                column,
                finding: f,
            }
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
    }
}

/// A line or document that is not JSON, in the words and with the pointer `convert` gives
/// for it: both come from [`crate::formats::json::from_slice`].
fn syntax_problem(bytes: &[u8], e: &serde_json::Error, first_line: usize) -> Problem {
    let located = crate::formats::json::from_slice::<Value>(bytes).err();
    let (pointer, message) = match located {
        Some(j) => (j.pointer, j.message),
        None => (String::new(), syntax_message(e)),
    };
    Problem {
        line: e.line() + first_line.saturating_sub(1),
        column: e.column().max(1),
        finding: finding(Severity::Error, "json-syntax", &pointer, message),
    }
}

/// serde_json's message without its " at line L column C" suffix (the position is ours).
fn syntax_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg,
    }
}

/// Runs `schema` over `value`, one finding per error.
fn schema_findings(schema: &'static Schema, value: &Value, out: &mut Vec<Finding>) {
    for e in schema.validator().iter_errors(value) {
        let mut message = e.to_string();
        if message.chars().count() > MAX_MESSAGE_CHARS {
            message = message.chars().take(MAX_MESSAGE_CHARS).collect::<String>() + "…";
        }
        out.push(Finding {
            pointer: e.instance_path().as_str().to_owned(),
            message,
            rule: format!("schema/{}", e.kind().keyword()).into(),
            severity: Severity::Error,
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
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => return (None, vec![syntax_problem(bytes, &e, 1)]),
    };
    let (schema, findings) = check_value(&value, forced, profile);
    (schema, locate_all(bytes, 1, findings))
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
        "har" => {}
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
    let schema_version = |pointer: &str, message: &str| {
        finding(
            Severity::Error,
            "schema-version",
            pointer,
            message.to_owned(),
        )
    };
    let version = match detect::document(value) {
        Ok(Document::Legacy(Legacy::Records)) => return schemas::find("hoverfly-records/v1"),
        Ok(Document::Legacy(Legacy::Templates)) => return schemas::find("hoverfly-templates/v1"),
        Ok(Document::Legacy(Legacy::Delays)) => return schemas::find("hoverfly-delays/v1"),
        Ok(Document::Har) => return schemas::find("har"),
        Ok(Document::HttpTypes) => return Some(http_types_schema(profile)),
        Ok(Document::Simulation(version)) => version,
        Err(why) => {
            out.push(match why {
                Undetected::NotObject => finding(
                    Severity::Error,
                    "unknown-format",
                    "",
                    "expected a JSON object: a Hoverfly simulation or legacy body, or http-types lines"
                        .into(),
                ),
                Undetected::NoDataOrMeta => finding(
                    Severity::Error,
                    "unknown-format",
                    "",
                    "no \"data\" or \"meta\": not a Hoverfly simulation or legacy body".into(),
                ),
                Undetected::MissingMeta => schema_version(
                    "",
                    "missing \"meta\" object: Hoverfly cannot tell the schemaVersion",
                ),
                Undetected::MetaNotObject => {
                    schema_version("/meta", "meta must be an object holding schemaVersion")
                }
                Undetected::VersionNotString(_) => schema_version(
                    "/meta/schemaVersion",
                    "meta.schemaVersion must be a string",
                ),
                Undetected::MissingVersion => {
                    schema_version("/meta", "missing meta.schemaVersion")
                }
            });
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
            out.push(schema_version(
                "/meta/schemaVersion",
                &format!(
                    "schema version {version:?} is not supported by Hoverfly (v1, v2, v3, v4 and v5.x are)"
                ),
            ));
            None
        }
    }
}

/// An http-types exchange's timestamps, for the `timestamp-order` check across lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Times {
    request: Option<Timestamp>,
    response: Option<Timestamp>,
}

impl Times {
    fn of(value: &Value) -> Times {
        let ts = |ptr| {
            value
                .pointer(ptr)
                .and_then(Value::as_str)
                .and_then(|s| Timestamp::parse_rfc3339(s).ok())
        };
        Times {
            request: ts("/request/timestamp"),
            response: ts("/response/timestamp"),
        }
    }
}

/// The `timestamp-order` check across the lines of a JSONL file.
///
/// Recorders write a line while its exchange is in flight or once it completes: wirecap's
/// pcap reader in request order, hmt's recorder as responses complete (so its request times
/// go back and forth). Either way, a line is never written before an earlier line's request
/// started, so no exchange can have *ended* (its response timestamp) before an earlier line's
/// request *started*. Such a line means the file was put together out of order (recordings
/// concatenated the wrong way round, lines sorted by something else); one warning marks where
/// each out-of-order run begins.
#[derive(Debug, Default)]
struct LineOrder {
    /// The latest request start so far, and its line.
    latest_start: Option<(Timestamp, usize)>,
    /// Whether the previous checked line was out of order (its run is already reported).
    in_run: bool,
}

impl LineOrder {
    /// Takes line `line`'s times; returns the warning when the line starts an out-of-order run.
    fn check(&mut self, line: usize, times: Times) -> Option<Finding> {
        let mut found = None;
        // A response before its own request is reported on its own; it says nothing here.
        let end = times
            .response
            .filter(|r| times.request.is_none_or(|q| q <= *r));
        if let Some(end) = end {
            match self.latest_start {
                Some((start, at)) if end < start => {
                    if !self.in_run {
                        found = Some(finding(
                            Severity::Warning,
                            "timestamp-order",
                            "/response/timestamp",
                            format!(
                                "the response is timestamped before the request on line {at} started: lines out of time order"
                            ),
                        ));
                    }
                    self.in_run = true;
                }
                _ => self.in_run = false,
            }
        }
        if let Some(q) = times.request {
            if self.latest_start.is_none_or(|(s, _)| q > s) {
                self.latest_start = Some((q, line));
            }
        }
        found
    }
}

/// One JSONL line's results, in the order [`check_chunk`] returns them.
struct LineResult<'a> {
    /// The line without its line ending.
    text: &'a [u8],
    /// Blank lines are not documents.
    blank: bool,
    problems: Vec<Problem>,
    times: Times,
}

/// Checks one http-types line; `line` is its 1-based line number in the file.
fn check_line(
    bytes: &[u8],
    line: usize,
    schema: &'static Schema,
    opts: &Options,
) -> (Vec<Problem>, Times) {
    if opts.fast_path {
        if let Some(times) = fast::check(bytes, schema, opts.profile) {
            return (Vec::new(), times);
        }
    }
    check_line_full(bytes, line, schema, opts.profile)
}

/// [`check_line`] without the fast path: parse, schema, rules, locate.
fn check_line_full(
    bytes: &[u8],
    line: usize,
    schema: &'static Schema,
    profile: Profile,
) -> (Vec<Problem>, Times) {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => return (vec![syntax_problem(bytes, &e, line)], Times::default()),
    };
    let times = Times::of(&value);
    let mut out = Vec::new();
    schema_findings(schema, &value, &mut out);
    if !out.is_empty() {
        reader_words(bytes, &mut out);
    }
    if profile.rules() {
        rules::http_types(&value, &mut out);
    }
    if out.is_empty() {
        return (Vec::new(), times);
    }
    (locate_all(bytes, line, out), times)
}

/// A schema type finding at the place where `convert`'s reader stops on the line takes the reader's
/// words, so the two commands say the same of the same bad line (`string "200", expected an
/// integer status code` rather than jsonschema's `"200" is not of type "integer"`).
fn reader_words(bytes: &[u8], findings: &mut [Finding]) {
    let Err(e) = crate::formats::http_types::parse_exchange(bytes, Default::default()) else {
        return;
    };
    for f in findings
        .iter_mut()
        .filter(|f| f.rule == "schema/type" && f.pointer == e.pointer)
    {
        f.message.clone_from(&e.message);
    }
}

/// Appends to `buf` from `reader` until it holds `target` bytes or the input ends; returns
/// whether it ended.
fn fill(reader: &mut impl Read, buf: &mut Vec<u8>, target: usize) -> io::Result<bool> {
    while buf.len() < target {
        let want = (target - buf.len()) as u64;
        match reader.by_ref().take(want).read_to_end(buf) {
            Ok(0) => return Ok(true),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// Validates JSONL from `reader` chunk by chunk: while one chunk's lines are validated in
/// parallel, the next chunk is read, so reading overlaps checking. Memory holds two chunks.
/// Checks across lines (`timestamp-order`) run in order, on the results.
fn jsonl_stream(
    name: &str,
    mut reader: impl Read + Send,
    schema: &'static Schema,
    opts: &Options,
    chunk_bytes: usize,
    counter: &mut Counter<'_>,
) -> Result<(), Error> {
    let io_err = |source| Error::Io {
        file: name.to_owned(),
        source,
    };
    let mut buf: Vec<u8> = Vec::with_capacity(chunk_bytes + (64 << 10));
    let mut eof = fill(&mut reader, &mut buf, chunk_bytes).map_err(io_err)?;
    let mut next_line = 1usize;
    let mut order = LineOrder::default();
    loop {
        if buf.is_empty() && eof {
            break;
        }
        let cut = if eof {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf) {
                Some(i) => i + 1,
                None if buf.len() > opts.max_line_bytes => {
                    counter.summary.documents += 1;
                    counter.emit(Problem {
                        line: next_line,
                        column: 1,
                        finding: too_long(opts),
                    });
                    // Drop the rest of the line as it comes.
                    loop {
                        buf.clear();
                        eof = fill(&mut reader, &mut buf, chunk_bytes).map_err(io_err)?;
                        if let Some(i) = memchr::memchr(b'\n', &buf) {
                            buf.drain(..=i);
                            break;
                        }
                        if eof {
                            buf.clear();
                            break;
                        }
                    }
                    next_line += 1;
                    continue;
                }
                None => {
                    // A line longer than a chunk: read more of it.
                    let target = (buf.len() * 2).max(buf.len() + chunk_bytes);
                    eof = fill(&mut reader, &mut buf, target).map_err(io_err)?;
                    continue;
                }
            }
        };
        let mut next: Vec<u8> = Vec::with_capacity(chunk_bytes + (64 << 10));
        next.extend_from_slice(&buf[cut..]);
        let (read, results) = rayon::join(
            || {
                if eof {
                    Ok(true)
                } else {
                    fill(&mut reader, &mut next, chunk_bytes)
                }
            },
            || check_chunk(&buf[..cut], next_line, schema, opts),
        );
        for mut r in results {
            let n = next_line;
            next_line += 1;
            if !r.blank {
                counter.summary.documents += 1;
            }
            if opts.profile.rules() {
                if let Some(f) = order.check(n, r.times) {
                    let at = locate::offset_of(r.text, &f.pointer);
                    let (_, column) = locate::line_column(r.text, at);
                    r.problems.push(Problem {
                        line: n,
                        column,
                        finding: f,
                    });
                    r.problems.sort_by_key(|p| (p.line, p.column));
                }
            }
            for p in r.problems {
                counter.emit(p);
            }
        }
        eof = read.map_err(io_err)?;
        buf = next;
    }
    Ok(())
}

fn too_long(opts: &Options) -> Finding {
    finding(
        Severity::Error,
        "line-too-long",
        "",
        format!(
            "line longer than {} bytes (--max-line-bytes)",
            opts.max_line_bytes
        ),
    )
}

/// Validates the lines of `chunk` (whole lines; the last may lack its newline) in parallel;
/// returns each line's results in order.
fn check_chunk<'a>(
    chunk: &'a [u8],
    first_line: usize,
    schema: &'static Schema,
    opts: &Options,
) -> Vec<LineResult<'a>> {
    let mut lines: Vec<&[u8]> = Vec::new();
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', chunk)
        .chain((!chunk.ends_with(b"\n") && !chunk.is_empty()).then_some(chunk.len()))
    {
        let line = &chunk[start..end];
        lines.push(line.strip_suffix(b"\r").unwrap_or(line));
        start = end + 1;
    }
    lines
        .par_iter()
        .enumerate()
        .with_min_len(64)
        .map(|(i, &text)| {
            let n = first_line + i;
            let mut r = LineResult {
                text,
                blank: false,
                problems: Vec::new(),
                times: Times::default(),
            };
            if text.iter().all(u8::is_ascii_whitespace) {
                r.blank = true;
                // Only the readers mind blank lines; the schema has nothing to say on them.
                if opts.profile.rules() {
                    r.problems.push(Problem {
                        line: n,
                        column: 1,
                        finding: finding(
                            Severity::Warning,
                            "blank-line",
                            "",
                            "blank line (py-http-types cannot read it; hmt skips it)".into(),
                        ),
                    });
                }
            } else if text.len() > opts.max_line_bytes {
                r.problems.push(Problem {
                    line: n,
                    column: 1,
                    finding: too_long(opts),
                });
            } else {
                (r.problems, r.times) = check_line(text, n, schema, opts);
            }
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines built from `base` by changing one thing each, valid and invalid alike.
    fn variants(base: &Value) -> Vec<Vec<u8>> {
        let edits: Vec<(&str, Option<Value>)> = vec![
            ("/request/method", Some("head".into())),
            ("/request/method", Some("HEAD".into())),
            ("/request/host", Some("".into())),
            ("/request/path", None),
            ("/request/path", Some("/a?x=1&x=2".into())),
            ("/request/path", Some("/a?x=%31#frag".into())),
            ("/request/pathname", None),
            ("/request/query", None),
            ("/request/query", Some(serde_json::json!({"x": ["1"]}))),
            ("/request/query", Some(serde_json::json!({"x": ["1", "2"]}))),
            ("/request/query", Some(serde_json::json!({"x": 1}))),
            ("/request/timestamp", Some("2023-11-14T22:13:22Z".into())),
            ("/request/timestamp", Some("2023-11-14t22:13:20z".into())),
            ("/request/timestamp", Some("2016-12-31T23:59:60Z".into())),
            ("/request/body", Some(Value::Null)),
            ("/request/body", Some("é\"x".into())),
            (
                "/request/headers",
                Some(serde_json::json!({"Content-Length": "3", "content-length": "0"})),
            ),
            (
                "/request/headers",
                Some(serde_json::json!({"content-length": []})),
            ),
            (
                "/request/headers",
                Some(serde_json::json!({"content-length": ["0", "9"]})),
            ),
            (
                "/response/headers",
                Some(serde_json::json!({"content-length": [], "transfer-encoding": "chunked"})),
            ),
            (
                "/response/headers",
                Some(serde_json::json!({"Content-Length": ["x"], "content-encoding": "br"})),
            ),
            ("/response/body", Some("".into())),
            ("/request/query", Some(serde_json::json!({"x": []}))),
            (
                "/request/query",
                Some(serde_json::json!({"x": "1", "y": "2"})),
            ),
            ("/request/path", Some("/a?x=1&y=&z&x=2".into())),
            ("/request/path", Some("/a?x=%31&y=a+b".into())),
            (
                "/request/headers",
                Some(serde_json::json!({"content-length": " 0 "})),
            ),
            ("/response/statusCode", Some(serde_json::json!(200.0))),
            ("/response/statusCode", Some(serde_json::json!(304))),
            ("/response/statusCode", Some(serde_json::json!(-1))),
            ("/response/headers", Some(serde_json::json!({}))),
            (
                "/response/headers",
                Some(serde_json::json!({"content-encoding": "gzip", "content-length": "1"})),
            ),
            (
                "/response/headers",
                Some(serde_json::json!({"transfer-encoding": "chunked", "content-length": "2"})),
            ),
            ("/response/body", None),
            ("/response/timestamp", None),
            ("/meta", Some(Value::Null)),
            ("/meta", Some(serde_json::json!({"a": [1, {"b": null}]}))),
            ("/request/url", Some("http://x/".into())),
        ];
        let mut out = Vec::new();
        for (ptr, value) in edits {
            let mut v = base.clone();
            let (parent, key) = ptr.rsplit_once('/').unwrap();
            let obj = v.pointer_mut(parent).unwrap().as_object_mut().unwrap();
            match value {
                Some(x) => {
                    obj.insert(key.to_owned(), x);
                }
                None => {
                    obj.shift_remove(key);
                }
            }
            out.push(serde_json::to_vec(&v).unwrap());
        }
        out
    }

    #[test]
    fn chunk_boundaries_do_not_change_results() {
        let mut text = Vec::new();
        for f in [
            "valid/http-types-two-exchanges.jsonl",
            "invalid/http-types/status-99.jsonl",
            "invalid/http-types/blank-line.jsonl",
            "invalid/http-types/truncated-line.jsonl",
        ] {
            text.extend(std::fs::read(format!("testdata/{f}")).unwrap());
        }
        text.extend(b"{\"request\":{}}\r\n");
        text.extend(vec![b'x'; 3000]);
        text.extend(b"\n{\"request\":1}");
        let schema = http_types_schema(Profile::Strict);
        let opts = Options {
            max_line_bytes: 2000,
            ..Options::default()
        };
        let run = |chunk: usize| {
            let mut got = Vec::new();
            let mut sink = |p: Problem| got.push(p);
            let mut counter = Counter::new(&mut sink);
            jsonl_stream("t", &text[..], schema, &opts, chunk, &mut counter).unwrap();
            let summary = counter.summary;
            (got, summary)
        };
        let (whole, summary) = run(1 << 20);
        assert_eq!(summary.documents, 13);
        assert!(
            whole
                .iter()
                .any(|p| p.finding.rule == "line-too-long" && p.line == 13)
        );
        assert_eq!(whole.last().unwrap().line, 14);
        for chunk in [1, 7, 100, 333, 1000, 2500] {
            assert_eq!(
                run(chunk),
                (whole.clone(), summary.clone()),
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn the_fast_path_only_accepts_what_the_full_check_accepts() {
        let strict = http_types_schema(Profile::Strict);
        let loose = http_types_schema(Profile::Schema);
        let mut lines: Vec<Vec<u8>> = Vec::new();
        for dir in ["testdata/invalid/http-types", "testdata/valid"] {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "jsonl") {
                    let text = std::fs::read(&path).unwrap();
                    lines.extend(text.split(|&b| b == b'\n').map(<[u8]>::to_vec));
                }
            }
        }
        let base: Value = serde_json::from_slice(&lines[0]).unwrap();
        lines.extend(variants(&base));
        let mut accepted = 0;
        for line in &lines {
            for schema in [strict, loose] {
                for profile in [Profile::Strict, Profile::Schema] {
                    if let Some(times) = fast::check(line, schema, profile) {
                        accepted += 1;
                        let full = check_line_full(line, 1, schema, profile);
                        assert_eq!(
                            full,
                            (Vec::new(), times),
                            "fast path accepted {}",
                            String::from_utf8_lossy(line)
                        );
                    }
                }
            }
        }
        assert!(
            accepted > 20,
            "the fast path accepted only {accepted} lines"
        );
    }

    /// `(request, response)` seconds → the lines `LineOrder` warns on.
    fn order_warnings(lines: &[(Option<i64>, Option<i64>)]) -> Vec<usize> {
        let mut order = LineOrder::default();
        let t = |s: Option<i64>| s.map(|s| Timestamp::from_unix(s, 0));
        (1..)
            .zip(lines)
            .filter_map(|(n, &(q, r))| {
                let times = Times {
                    request: t(q),
                    response: t(r),
                };
                order.check(n, times).map(|_| n)
            })
            .collect()
    }

    #[test]
    fn lines_out_of_time_order() {
        let none: Vec<usize> = Vec::new();
        // Request order with overlapping exchanges (wirecap's pcap reader).
        assert_eq!(
            order_warnings(&[(Some(0), Some(9)), (Some(1), Some(2))]),
            none
        );
        // Completion order: request times go back (hmt's recorder).
        assert_eq!(
            order_warnings(&[(Some(5), Some(6)), (Some(1), Some(7))]),
            none
        );
        // A line that ended before an earlier one started: one warning per run.
        assert_eq!(
            order_warnings(&[
                (Some(10), Some(11)),
                (Some(1), Some(2)),
                (Some(3), Some(4)),
                (Some(12), Some(13)),
                (Some(5), Some(6)),
            ]),
            vec![2, 5]
        );
        // No response timestamp: nothing to say; its request still counts.
        assert_eq!(
            order_warnings(&[(Some(10), None), (Some(1), Some(2))]),
            vec![2]
        );
        assert_eq!(order_warnings(&[(Some(10), Some(11)), (None, None)]), none);
        // A response before its own request is reported by the line's own check only.
        assert_eq!(
            order_warnings(&[(Some(10), Some(11)), (Some(3), Some(2))]),
            none
        );
    }

    fn jsonl_files(dirs: &[&str]) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for dir in dirs {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "jsonl") {
                    out.push(path);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn real_recordings_are_not_out_of_time_order() {
        // Recorded by py-http-types' writer and converted from real captures.
        let files = jsonl_files(&["testdata/http-types", "testdata/expected"]);
        assert!(files.len() > 10);
        for path in files {
            let mut got = Vec::new();
            validate_path(&path, &Options::default(), &mut |p| got.push(p)).unwrap();
            got.retain(|p| p.finding.rule == "timestamp-order");
            assert!(got.is_empty(), "{}: {got:?}", path.display());
        }
    }

    #[test]
    fn the_fast_path_changes_no_result() {
        let mut inputs: Vec<(String, Vec<u8>)> = jsonl_files(&[
            "testdata/http-types",
            "testdata/expected",
            "testdata/invalid/http-types",
            "testdata/valid",
            "testdata/profiles",
        ])
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
        let first = inputs[0].1.split(|&b| b == b'\n').next().unwrap().to_vec();
        let base: Value = serde_json::from_slice(&first).unwrap();
        inputs.push(("variants.jsonl".into(), variants(&base).join(&b'\n')));
        // Paths with the pathname and query that go with them, and near misses.
        let mut queries = Vec::new();
        for (path, query) in [
            (
                "/a?x=1&y=2&x=3",
                serde_json::json!({"x": ["1", "3"], "y": "2"}),
            ),
            (
                "/a?x=1&y=2&x=3",
                serde_json::json!({"x": ["3", "1"], "y": "2"}),
            ),
            (
                "/a?x=1&y=2&x=3",
                serde_json::json!({"y": "2", "x": ["1", "3"]}),
            ),
            (
                "/a?x=1&y=2",
                serde_json::json!({"x": "1", "y": "2", "z": []}),
            ),
            ("/a?x=1&z=2", serde_json::json!({"x": "1", "y": []})),
            ("/a?x=1&y=&z&=5", serde_json::json!({"x": "1", "": "5"})),
            ("/a?x=1&y=&z", serde_json::json!({"x": "1", "y": ""})),
            ("/a?x=%31&y=a+b", serde_json::json!({"x": "1", "y": "a b"})),
            (
                "/a?x=%31&y=a+b",
                serde_json::json!({"x": "%31", "y": "a+b"}),
            ),
            ("/a?q=caf%C3%A9", serde_json::json!({"q": "caf\u{e9}"})),
            ("/a?q=\u{e9}", serde_json::json!({"q": "\u{e9}"})),
            ("/a?q=a\\b", serde_json::json!({"q": "a\\b"})),
            ("/a", serde_json::json!({})),
            ("/a?", serde_json::json!({})),
            ("/a#x=1", serde_json::json!({})),
        ] {
            let mut v = base.clone();
            let req = v["request"].as_object_mut().unwrap();
            req.insert("path".into(), path.into());
            req.insert("pathname".into(), "/a".into());
            req.insert("query".into(), query);
            queries.push(serde_json::to_vec(&v).unwrap());
        }
        inputs.push(("queries.jsonl".into(), queries.join(&b'\n')));
        // Bodies whose length the fast path counts from their escapes, each with a
        // Content-Length that fits and one that does not; and bodies JSON rejects.
        let mut bodies = Vec::new();
        for (body, len) in [
            (r#""plain""#, 5),
            (r#""a\"b\\c\/d\n\t\r\b\f""#, 12),
            (r#""caf\u00e9 \u20ac \u0041""#, 11),
            (r#""\ud83d\ude00""#, 4),
            (r#""é€😀""#, 9),
            (r#""\ud83d""#, 3),
            (r#""\ude00x""#, 4),
            (r#""\ud83d\u0041""#, 4),
            ("\"tab\there\"", 8),
            (r#""\x""#, 1),
            (r#"null"#, 0),
            (r#"12"#, 2),
        ] {
            for cl in [len, len + 1] {
                let line = format!(
                    r#"{{"request":{{"method":"get","protocol":"http","host":"h","path":"/"}},"response":{{"statusCode":200,"headers":{{"content-length":"{cl}"}},"body":{body}}}}}"#
                );
                bodies.push(line.into_bytes());
            }
        }
        let strict = http_types_schema(Profile::Strict);
        let fast: Vec<bool> = bodies
            .iter()
            .map(|l| fast::check(l, strict, Profile::Strict).is_some())
            .collect();
        // The five valid bodies pass the fast path with their own length and no other.
        let mut want = [[true, false]; 12].concat();
        want.truncate(10);
        want.resize(24, false);
        assert_eq!(fast, want);
        inputs.push(("bodies.jsonl".into(), bodies.join(&b'\n')));
        for (name, bytes) in &inputs {
            for profile in [Profile::Strict, Profile::Schema] {
                let run = |fast_path| {
                    let opts = Options {
                        profile,
                        fast_path,
                        ..Options::default()
                    };
                    let mut got = Vec::new();
                    let summary =
                        validate_reader(name, &bytes[..], &opts, &mut |p| got.push(p)).unwrap();
                    (got, summary)
                };
                assert_eq!(run(true), run(false), "{name} {profile:?}");
            }
        }
    }

    #[test]
    fn a_single_http_types_document_follows_the_profile() {
        // No host (strict schema) and status 99 (rule): only the strict profile minds.
        let doc = br#"{"request":{"method":"get","protocol":"http","path":"/"},"response":{"statusCode":99,"headers":{}}}"#;
        let (schema, problems) = check_document(doc, None, Profile::Strict);
        assert_eq!(schema.unwrap().name(), "http-types-strict/2020-06");
        let rules: Vec<&str> = problems.iter().map(|p| p.finding.rule.as_ref()).collect();
        assert_eq!(rules, ["schema/required", "status-range"]);
        let (schema, problems) = check_document(doc, None, Profile::Schema);
        assert_eq!(schema.unwrap().name(), "http-types/2020-06");
        assert_eq!(problems, []);
    }

    /// Issue 15: a body wirecap marked as cut carries the Content-Length that was announced;
    /// only an unmarked body that disagrees with its Content-Length is a finding.
    #[test]
    fn a_body_marked_as_cut_is_not_measured_against_its_content_length() {
        let line = |meta: &str| {
            format!(
                r#"{{"request":{{"method":"post","protocol":"http","host":"h","path":"/","headers":{{"content-length":"50"}},"body":"part"}},"response":{{"statusCode":200,"headers":{{"content-length":"9"}},"body":"half"}}{meta}}}"#
            )
        };
        let cut = line(
            r#","meta":{"wirecap":{"requestBodyCut":{"seen":4,"announced":50},"responseBodyCut":{"seen":4,"announced":9}}}"#,
        );
        let text = format!("{cut}\n{}\n", line(""));
        let mut got = Vec::new();
        validate_reader(
            "cut.jsonl",
            text.as_bytes(),
            &Options::default(),
            &mut |p| got.push((p.line, p.finding.pointer, p.finding.rule.into_owned())),
        )
        .unwrap();
        let rule = "content-length".to_owned();
        assert_eq!(
            got,
            [
                (2, "/request/headers/content-length".into(), rule.clone()),
                (2, "/response/headers/content-length".into(), rule)
            ]
        );
    }
}
