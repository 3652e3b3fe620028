//! Validating http-types JSONL: whole lines gathered into chunks of [`CHUNK_BYTES`], checked
//! in parallel and reported in input order, and the `timestamp-order` check across lines.

use super::schemas::Schema;
use super::{
    Counter, Error, Finding, Options, Problem, Profile, Severity, fast, finding, in_readers_words,
    locate, locate_all, parse, rules, schema_findings,
};
use crate::model::Timestamp;
use rayon::prelude::*;
use serde_json::Value;
use std::io::{self, Read};

/// An http-types exchange's timestamps, for the `timestamp-order` check across lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Times {
    pub request: Option<Timestamp>,
    pub response: Option<Timestamp>,
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
pub(super) struct LineOrder {
    /// The latest request start so far, and its line.
    latest_start: Option<(Timestamp, usize)>,
    /// Whether the previous checked line was out of order (its run is already reported).
    in_run: bool,
}

impl LineOrder {
    /// Takes line `line`'s times; returns the warning when the line starts an out-of-order run.
    pub(super) fn check(&mut self, line: usize, times: Times) -> Option<Finding> {
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
    // The fast path parses with serde_json's own depth limit, which a lower one must override.
    if opts.fast_path && opts.json_depth >= crate::codec::json::SERDE_JSON_DEPTH {
        if let Some(times) = fast::check(bytes, schema, opts.profile) {
            return (Vec::new(), times);
        }
    }
    check_line_full(bytes, line, schema, opts.profile, opts.json_depth)
}

/// [`check_line`] without the fast path: parse, schema, rules, locate.
pub(super) fn check_line_full(
    bytes: &[u8],
    line: usize,
    schema: &'static Schema,
    profile: Profile,
    depth: usize,
) -> (Vec<Problem>, Times) {
    let value = match parse(bytes, depth, line) {
        Ok(v) => v,
        Err(problem) => return (vec![problem], Times::default()),
    };
    let times = Times::of(&value);
    let mut out = Vec::new();
    schema_findings(schema, &value, &mut out);
    if profile.rules() {
        rules::http_types(&value, &mut out);
    }
    in_readers_words(schema.format, bytes, &value, profile, depth, &mut out);
    if out.is_empty() {
        return (Vec::new(), times);
    }
    (locate_all(bytes, line, out), times)
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
pub(super) fn jsonl_stream(
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
                            crate::formats::http_types::BLANK_LINE.into(),
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
