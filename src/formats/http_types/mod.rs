//! http-types JSONL: one `HttpExchange` object per line (meeshkan/http-types, the input of
//! HMT's `hmt build`).
//!
//! The reader is lenient where the published schema is (only `path`, `pathname` + `query`, or
//! `url`; header and query values as a string or a list; `null` bodies) and precise where it is
//! not: every error names the line and the JSON pointer. The writer emits the profile that the
//! schema and every real reader accept (py-http-types 0.0.18, ts- and java-http-types): lower-case
//! method, `protocol`, non-empty `host`, `path` + `pathname` + `query` together, both `headers`
//! objects, `response.body`, UTC timestamps with an offset, no extra keys.
//! What http-types has no field for (HTTP version, reason phrase, trailers, undone
//! `Content-Encoding`, 1xx responses) goes in `meta.wirecap` so wirecap reads it back losslessly.
//!
//! This file holds the line reader and the document reader; the views an exchange is read
//! through are in `view.rs`, the writer in `write.rs`.

mod view;
mod write;

pub use write::Writer;

use crate::codec::json::{self, JsonError};
use crate::model::{Exchange, Location, Source};
use std::io::{self, BufRead};
use view::{ExchangeView, not_an_object};

/// Longest line the reader accepts. A line is parsed in one piece, so this bounds memory per
/// line; 64 MiB holds any realistic exchange while stopping a runaway file early.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// The methods http-types can name (schema enum; readers compare lower-case).
const METHODS: [&str; 9] = [
    "get", "put", "post", "patch", "delete", "options", "trace", "head", "connect",
];

/// What `convert` (a warning, as it skips the line) and `validate` (rule `blank-line`) say of
/// a blank JSONL line.
pub const BLANK_LINE: &str = "blank line (py-http-types cannot read it; hmt skips it)";

/// The key inside `meta` where wirecap keeps what http-types has no field for.
const META_KEY: &str = "wirecap";

/// Why a line could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The line is not a valid exchange.
    #[error("{file}:{line}: {error}")]
    Json {
        /// The input's display name.
        file: String,
        /// 1-based line number.
        line: u64,
        /// Pointer and message.
        error: JsonError,
    },
    /// An empty or whitespace-only line. py-http-types' `from_jsonl` fails on one; hmt's file
    /// source and ts-http-types skip them, and Meeshkan's own pcap converter wrote one after
    /// every record, so readers go past it with a note ([`BLANK_LINE`]) rather than stop.
    /// The pointer is `/`, the whole line, as for every other line-level error.
    #[error("{file}:{line}: /: {BLANK_LINE}")]
    BlankLine {
        /// The input's display name.
        file: String,
        /// 1-based line number.
        line: u64,
    },
    /// A line longer than the limit.
    #[error(
        "{file}:{line}: /: line longer than {limit} bytes, expected at most {limit} (raise it with --max-line-bytes)"
    )]
    LineTooLong {
        /// The input's display name.
        file: String,
        /// 1-based line number.
        line: u64,
        /// The limit in bytes.
        limit: usize,
    },
    /// Reading the input failed.
    #[error("reading {file}")]
    Io {
        /// The input's display name.
        file: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// `FILE:LINE` of a blank line, which readers skip with a note.
    pub fn blank_line(&self) -> Option<String> {
        match self {
            Error::BlankLine { file, line } => Some(format!("{file}:{line}")),
            _ => None,
        }
    }

    /// Whether reading can go on with the next line (`--keep-going`).
    pub fn is_recoverable(&self) -> bool {
        !matches!(self, Error::Io { .. })
    }
}

/// Streams exchanges from http-types JSONL, one line at a time.
pub struct Reader<R> {
    input: R,
    file: String,
    line: u64,
    buf: Vec<u8>,
    max_line: usize,
    depth: usize,
    failed: bool,
}

impl<R: BufRead> Reader<R> {
    /// A reader over `input`, named `file` in errors and provenance.
    pub fn new(input: R, file: impl Into<String>, max_line: usize) -> Self {
        Self {
            input,
            file: file.into(),
            line: 0,
            buf: Vec::new(),
            max_line,
            depth: crate::limits::MAX_JSON_DEPTH,
            failed: false,
        }
    }

    /// Lets arrays and objects nest `depth` deep in a line (`--max-json-depth`).
    pub fn within_depth(mut self, depth: usize) -> Self {
        self.depth = depth;
        self
    }

    fn read_line(&mut self) -> Option<Result<(), Error>> {
        self.buf.clear();
        let limit = self.max_line as u64 + 1;
        let io = |source| Error::Io {
            file: self.file.clone(),
            source,
        };
        let n = match std::io::Read::take(&mut self.input, limit).read_until(b'\n', &mut self.buf) {
            Ok(n) => n,
            Err(e) => return Some(Err(io(e))),
        };
        if n == 0 {
            return None;
        }
        self.line += 1;
        if self.buf.last() != Some(&b'\n') && self.buf.len() > self.max_line {
            if let Err(e) = self.input.skip_until(b'\n') {
                return Some(Err(io(e)));
            }
            return Some(Err(Error::LineTooLong {
                file: self.file.clone(),
                line: self.line,
                limit: self.max_line,
            }));
        }
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        Some(Ok(()))
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Exchange, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let read = self.read_line()?;
        if let Err(e) = read {
            self.failed = matches!(e, Error::Io { .. });
            return Some(Err(e));
        }
        if self.buf.iter().all(u8::is_ascii_whitespace) {
            return Some(Err(Error::BlankLine {
                file: self.file.clone(),
                line: self.line,
            }));
        }
        let source = Source {
            file: Some(self.file.clone()),
            location: Some(Location::Line(self.line)),
            ..Source::default()
        };
        Some(
            parse_exchange_within(&self.buf, source, self.depth).map_err(|error| Error::Json {
                file: self.file.clone(),
                line: self.line,
                error,
            }),
        )
    }
}

/// Parses one http-types exchange from JSON text.
pub fn parse_exchange(bytes: &[u8], source: Source) -> Result<Exchange, JsonError> {
    parse_exchange_within(bytes, source, crate::limits::MAX_JSON_DEPTH)
}

/// [`parse_exchange`] with arrays and objects nested at most `depth` deep.
pub fn parse_exchange_within(
    bytes: &[u8],
    source: Source,
    depth: usize,
) -> Result<Exchange, JsonError> {
    let view: ExchangeView =
        json::from_slice_within(bytes, depth).map_err(|e| not_an_object(bytes, e))?;
    view.into_exchange(source)
}

/// Whether `head`, the start of an http-types input, is one JSON document rather than JSONL: a
/// JSON array of exchanges, or one exchange pretty-printed over several lines (what people
/// paste from logs and docs), whose first line is a lone `{`.
pub fn is_document(head: &[u8]) -> bool {
    let head = crate::formats::detect::after_bom(head);
    let Some(start) = head.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    match head[start] {
        b'[' => true,
        b'{' => {
            let rest = &head[start + 1..];
            let line = rest.split(|&b| b == b'\n').next().unwrap_or(rest);
            line.iter().all(u8::is_ascii_whitespace) && rest.contains(&b'\n')
        }
        _ => false,
    }
}

/// Reads an http-types document (see [`is_document`]): each exchange of an array, located by
/// its index, or the one exchange. Errors give the line within the document and a pointer
/// from its root.
pub fn read_document(bytes: &[u8], file: &str, depth: usize) -> Vec<Result<Exchange, Error>> {
    let json_err = |line: usize, error: JsonError| Error::Json {
        file: file.to_owned(),
        line: line as u64,
        error,
    };
    let text = crate::formats::detect::after_bom(bytes);
    let first = text.iter().position(|b| !b.is_ascii_whitespace());
    if first.and_then(|i| text.get(i)) != Some(&b'[') {
        let source = Source {
            file: Some(file.to_owned()),
            location: Some(Location::Line(1)),
            ..Source::default()
        };
        return vec![parse_exchange_within(text, source, depth).map_err(|e| json_err(e.line, e))];
    }
    let items: Vec<&serde_json::value::RawValue> = match serde_json::from_slice(text) {
        Ok(items) => items,
        Err(e) => {
            let error = JsonError {
                pointer: String::new(),
                line: e.line(),
                column: e.column(),
                message: crate::codec::json::strip_position(&e.to_string()),
            };
            return vec![Err(json_err(error.line, error))];
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let raw = item.get().as_bytes();
            // The element is a slice of `text`: its first line is the document's line there.
            let offset = (raw.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
            let base = text[..offset.min(text.len())]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            let source = Source {
                file: Some(file.to_owned()),
                location: Some(Location::Index(i as u64)),
                ..Source::default()
            };
            parse_exchange_within(raw, source, depth).map_err(|mut e| {
                e.pointer = format!("/{i}{}", e.pointer);
                e.line += base;
                json_err(e.line, e)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
