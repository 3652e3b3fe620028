//! The http-types writer: the profile the schema and every real reader accept, one line per
//! exchange, encoded in parallel for batches.

use super::view::{Extras, Grouped, describing};
use super::{META_KEY, METHODS};
use crate::codec::json::{self};
use crate::codec::query;
use crate::loss::{LossKind, Losses};
use crate::memo::{Found, Memo};
use crate::model::{Body, Exchange, Headers, Timestamp};
use serde_json::{Map, Value};
use std::io::{self, IoSlice, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Writes exchanges as http-types JSONL, one line each, as they arrive.
pub struct Writer<W: Write> {
    out: W,
    line: Lines,
    escaped: Escaped,
    /// Lines of the last batch, written while the next batch is encoded.
    pending: Vec<Lines>,
    /// Emptied buffers of batches written before, reused so the allocator does not map and
    /// fault in fresh pages for every batch.
    spare: Vec<Lines>,
    timings: crate::formats::WriteTimings,
}

impl<W: Write> Writer<W> {
    /// A writer onto `out`; wrap `out` in a `BufWriter` if it is unbuffered.
    pub fn new(out: W) -> Self {
        Self {
            out,
            line: Lines::default(),
            escaped: Memo::new(ESCAPE_MEMO_MIN_BYTES),
            pending: Vec::new(),
            spare: Vec::new(),
            timings: crate::formats::WriteTimings::default(),
        }
    }

    /// Writes one exchange, or records why it cannot be written and returns `Ok(false)`.
    pub fn write(&mut self, ex: &Exchange, losses: &mut Losses) -> io::Result<bool> {
        self.write_pending()?;
        self.line.clear();
        if !encode_line(ex, losses, &self.escaped, &mut self.line) {
            return Ok(false);
        }
        self.line.write_to(&mut self.out)?;
        Ok(true)
    }

    /// Writes a run of exchanges in order and returns how many were written. Their lines are
    /// encoded in parallel on rayon's pool while the previous run's lines go out on a thread
    /// of their own (copying gigabytes into the page cache costs the kernel as much as
    /// encoding them), so they reach `out` one call late, or at [`Writer::finish`]. Bytes and
    /// losses are the same as writing the exchanges one at a time.
    pub fn write_batch(&mut self, batch: &[Exchange], losses: &mut Losses) -> io::Result<u64>
    where
        W: Send,
    {
        use rayon::prelude::*;
        /// Exchanges per parallel task: enough to amortise the task, few enough to balance.
        const PER_TASK: usize = 16;
        let mut pending = std::mem::take(&mut self.pending);
        let (out, escaped) = (&mut self.out, &self.escaped);
        let spare = std::sync::Mutex::new(std::mem::take(&mut self.spare));
        let (written, encoded) = std::thread::scope(|scope| {
            let writing = scope.spawn(move || {
                let started = Instant::now();
                let done = pending.iter().try_for_each(|lines| lines.write_to(out));
                pending.iter_mut().for_each(Lines::clear);
                (done, started.elapsed(), pending)
            });
            let encoded: Vec<(Lines, Losses, u64, Duration)> = batch
                .par_chunks(PER_TASK)
                .map(|chunk| {
                    let started = Instant::now();
                    // Bodies plus a head each, with room for escapes: one allocation per task.
                    let bodies: usize = chunk.iter().map(Exchange::body_bytes).sum();
                    let reused = spare.lock().ok().and_then(|mut s| s.pop());
                    let mut lines = reused.unwrap_or_default();
                    lines
                        .bytes
                        .reserve(bodies + bodies / 16 + chunk.len() * 1024);
                    let mut lost = Losses::default();
                    let written = chunk
                        .iter()
                        .filter(|ex| encode_line(ex, &mut lost, escaped, &mut lines))
                        .count() as u64;
                    (lines, lost, written, started.elapsed())
                })
                .collect();
            let written = writing
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            (written, encoded)
        });
        let (written, took, emptied) = written;
        written?;
        self.spare = spare.into_inner().unwrap_or_default();
        self.spare.extend(emptied);
        self.spare.truncate(MAX_SPARE_BUFFERS);
        self.timings.write_ms += took.as_secs_f64() * 1e3;
        let mut count = 0;
        for (lines, lost, n, took) in encoded {
            self.pending.push(lines);
            losses.merge(lost);
            count += n;
            self.timings.encode_ms += took.as_secs_f64() * 1e3;
        }
        Ok(count)
    }

    fn write_pending(&mut self) -> io::Result<()> {
        let started = Instant::now();
        for lines in std::mem::take(&mut self.pending) {
            lines.write_to(&mut self.out)?;
        }
        self.timings.write_ms += started.elapsed().as_secs_f64() * 1e3;
        Ok(())
    }

    /// Time spent encoding lines (summed over threads) and handing them to the output.
    pub fn timings(&self) -> crate::formats::WriteTimings {
        self.timings
    }

    /// Writes what is pending, flushes, and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.write_pending()?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Encoded lines on their way out: their own bytes, and bodies shared with the escape memo,
/// each due at an offset of `bytes`. A repeated body goes from the memo to the file in one
/// vectored write, without first being copied into its line.
#[derive(Default)]
struct Lines {
    bytes: Vec<u8>,
    shared: Vec<(usize, Arc<Option<Vec<u8>>>)>,
}

impl Lines {
    fn clear(&mut self) {
        self.bytes.clear();
        self.shared.clear();
    }

    fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        if self.shared.is_empty() {
            // One plain write: merge and --split-by-host write lines one at a time, and most
            // have no remembered body to build a slice list for.
            return out.write_all(&self.bytes);
        }
        let mut slices = Vec::with_capacity(2 * self.shared.len() + 1);
        let mut at = 0;
        for (offset, body) in &self.shared {
            slices.push(IoSlice::new(&self.bytes[at..*offset]));
            if let Some(json) = body.as_deref() {
                slices.push(IoSlice::new(json));
            }
            at = *offset;
        }
        slices.push(IoSlice::new(&self.bytes[at..]));
        write_all_vectored(out, &mut slices)
    }
}

/// `Write::write_all_vectored`, which is not stable yet.
fn write_all_vectored(out: &mut impl Write, mut slices: &mut [IoSlice<'_>]) -> io::Result<()> {
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match out.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `body` ready for a line, or `None` when it is not UTF-8.
fn as_text<'a>(body: &'a Body, escaped: &Escaped) -> Option<BodyOut<'a>> {
    if !may_be_text(&body.bytes) {
        return None;
    }
    let found = match escaped.find("", &body.bytes) {
        Found::Hit(found) => found,
        Found::Miss(ticket) => {
            let text = body.as_text();
            let Some(ticket) = ticket else {
                return text.map(BodyOut::Text);
            };
            escaped.keep(
                ticket,
                text.map(|t| {
                    let mut out = Vec::with_capacity(t.len() + t.len() / 8 + 2);
                    json::write_str(&mut out, t);
                    out
                }),
            )
        }
    };
    found.is_some().then_some(BodyOut::Escaped(found))
}

/// Whether `bytes` can still be UTF-8 after a look at their start: a binary body (an image,
/// a compressed blob) nearly always shows a byte that cannot begin or continue a character
/// within its first few hundred, and then needs neither the memo's hash nor its comparison.
fn may_be_text(bytes: &[u8]) -> bool {
    /// Bytes looked at.
    const HEAD: usize = 256;
    match std::str::from_utf8(&bytes[..bytes.len().min(HEAD)]) {
        Ok(_) => true,
        // A character cut by the end of the head is not an error.
        Err(e) => e.error_len().is_none(),
    }
}

fn pairs(headers: &Headers) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| (h.name.clone(), h.value.clone()))
        .collect()
}

/// Bodies as JSON strings (quotes included), or `None` for bodies that are not UTF-8: a
/// recording repeats the same bodies, and escaping them is most of the cost of a line.
type Escaped = Memo<Option<Vec<u8>>>;

/// Emptied line buffers a writer keeps for reuse (two batches' worth of tasks).
const MAX_SPARE_BUFFERS: usize = 64;

/// Bodies shorter than this are escaped each time; the lookup would cost as much.
const ESCAPE_MEMO_MIN_BYTES: usize = 512;

/// A body as it goes into a line.
enum BodyOut<'a> {
    /// Text, escaped as the line is written.
    Text(&'a str),
    /// Already escaped (a `Some` from the memo).
    Escaped(Arc<Option<Vec<u8>>>),
}

/// Appends `ex` as one line to `out`, or records why it cannot be written and returns false.
fn encode_line(ex: &Exchange, losses: &mut Losses, escaped: &Escaped, out: &mut Lines) -> bool {
    let Some(view) = to_view(ex, losses, escaped) else {
        return false;
    };
    view.write_json(&mut out.bytes, &mut out.shared);
    out.bytes.push(b'\n');
    true
}

struct ExchangeOut<'a> {
    request: RequestOut<'a>,
    response: ResponseOut<'a>,
    /// `meta` as read, less wirecap's own key.
    meta: &'a Map<String, Value>,
    extras: Extras,
}

struct RequestOut<'a> {
    method: &'static str,
    protocol: &'static str,
    host: String,
    path: &'a str,
    pathname: &'a str,
    query: Grouped<String>,
    headers: Grouped<&'a str>,
    body: Option<BodyOut<'a>>,
    timestamp: Option<String>,
}

struct ResponseOut<'a> {
    status_code: u16,
    headers: Grouped<&'a str>,
    body: Option<BodyOut<'a>>,
    timestamp: Option<String>,
}

impl ExchangeOut<'_> {
    /// Appends the exchange as one JSON object (no newline). Written by hand rather than
    /// derived so that bodies go through [`json::write_str`]; the bytes are what serde_json
    /// would write for the same fields in the same order.
    fn write_json(&self, out: &mut Vec<u8>, shared: &mut Vec<(usize, Arc<Option<Vec<u8>>>)>) {
        let r = &self.request;
        out.extend_from_slice(b"{\"request\":{\"method\":");
        json::write_str(out, r.method);
        out.extend_from_slice(b",\"protocol\":");
        json::write_str(out, r.protocol);
        out.extend_from_slice(b",\"host\":");
        json::write_str(out, &r.host);
        out.extend_from_slice(b",\"path\":");
        json::write_str(out, r.path);
        out.extend_from_slice(b",\"pathname\":");
        json::write_str(out, r.pathname);
        out.extend_from_slice(b",\"query\":");
        write_grouped(out, &r.query);
        out.extend_from_slice(b",\"headers\":");
        write_grouped(out, &r.headers);
        write_body(out, shared, r.body.as_ref());
        write_optional(out, "timestamp", r.timestamp.as_deref());
        let p = &self.response;
        out.extend_from_slice(b"},\"response\":{\"statusCode\":");
        out.extend_from_slice(p.status_code.to_string().as_bytes());
        out.extend_from_slice(b",\"headers\":");
        write_grouped(out, &p.headers);
        write_body(out, shared, p.body.as_ref());
        write_optional(out, "timestamp", p.timestamp.as_deref());
        out.push(b'}');
        let mut first = true;
        let mut key = |out: &mut Vec<u8>, name: &str| {
            out.extend_from_slice(if first { b",\"meta\":{" } else { b"," });
            first = false;
            json::write_str(out, name);
            out.push(b':');
        };
        for (name, value) in self.meta.iter().filter(|(name, _)| *name != META_KEY) {
            key(out, name);
            serde_json::to_writer(&mut *out, value).expect("a JSON value serialises");
        }
        if !self.extras.is_empty() {
            key(out, META_KEY);
            serde_json::to_writer(&mut *out, &self.extras).expect("extras serialise");
        }
        if !first {
            out.push(b'}');
        }
        out.push(b'}');
    }
}

fn write_optional(out: &mut Vec<u8>, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        out.push(b',');
        json::write_str(out, name);
        out.push(b':');
        json::write_str(out, value);
    }
}

fn write_body(
    out: &mut Vec<u8>,
    shared: &mut Vec<(usize, Arc<Option<Vec<u8>>>)>,
    body: Option<&BodyOut<'_>>,
) {
    match body {
        None => {}
        Some(BodyOut::Text(text)) => write_optional(out, "body", Some(text)),
        Some(BodyOut::Escaped(escaped)) if escaped.is_some() => {
            out.extend_from_slice(b",\"body\":");
            shared.push((out.len(), escaped.clone()));
        }
        Some(BodyOut::Escaped(_)) => {}
    }
}

fn write_grouped<S: AsRef<str>>(out: &mut Vec<u8>, grouped: &Grouped<S>) {
    out.push(b'{');
    for (i, (name, values)) in grouped.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json::write_str(out, name.as_ref());
        out.push(b':');
        match values.as_slice() {
            [one] => json::write_str(out, one.as_ref()),
            many => {
                out.push(b'[');
                for (j, v) in many.iter().enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    json::write_str(out, v.as_ref());
                }
                out.push(b']');
            }
        }
    }
    out.push(b'}');
}

/// The path part of an origin-form target as Python's `urlparse(path).path` sees it:
/// without query, fragment, or `;params` on the last segment.
fn py_pathname(path: &str) -> &str {
    let end = path.find(['?', '#']).unwrap_or(path.len());
    let path = &path[..end];
    let last_slash = path.rfind('/').unwrap_or(0);
    match path[last_slash..].find(';') {
        Some(i) => &path[..last_slash + i],
        None => path,
    }
}

fn earlier_omissions(extra: &Map<String, Value>) -> Vec<String> {
    extra
        .get(META_KEY)
        .and_then(|w| w.get("omittedBodies"))
        .and_then(Value::as_array)
        .map(|notes| {
            notes
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn to_view<'a>(
    ex: &'a Exchange,
    losses: &mut Losses,
    escaped: &Escaped,
) -> Option<ExchangeOut<'a>> {
    let req = &ex.request;
    let here = || ex.source.to_string();
    let Some(method) = METHODS.iter().find(|m| m.eq_ignore_ascii_case(&req.method)) else {
        losses.record(LossKind::UnsupportedMethod, || {
            format!("{}: method {}", here(), req.method)
        });
        return None;
    };
    let Some(resp) = &ex.response else {
        losses.record(LossKind::MissingResponse, || {
            format!("{}: {} {}", here(), req.method, req.target)
        });
        return None;
    };
    let mut host = req.authority();
    if host.is_empty() {
        host = req
            .headers
            .first("host")
            .or_else(|| req.headers.first("x-forwarded-host"))
            .unwrap_or("")
            .to_owned();
    }
    if host.is_empty() {
        losses.record(LossKind::MissingHost, || {
            format!("{}: {} {}", here(), req.method, req.target)
        });
        return None;
    }
    let path = match req.target.find("://") {
        Some(i) if !req.target.starts_with('/') => {
            let rest = &req.target[i + 3..];
            rest.find(['/', '?']).map_or("/", |j| &rest[j..])
        }
        _ => req.target.as_str(),
    };
    let query = path
        .split_once('?')
        .map_or("", |(_, q)| q.split('#').next().unwrap_or(""));
    for (headers, which) in [(&req.headers, "request"), (&resp.headers, "response")] {
        if headers.is_interleaved() {
            losses.record(LossKind::HeaderOrder, || {
                format!("{}: {which} headers", here())
            });
        }
    }
    let (request_headers, request_encoding) = describing(&req.headers, &req.body);
    let (response_headers, response_encoding) = describing(&resp.headers, &resp.body);
    let mut extras = Extras {
        request_encoding_headers: request_encoding,
        response_encoding_headers: response_encoding,
        request_version: req.version.clone(),
        response_version: resp.version.clone(),
        reason: resp.reason.clone(),
        interim: resp.interim.clone(),
        trailers: pairs(&resp.trailers),
        request_trailers: pairs(&req.trailers),
        request_decoded_from: req.body.decoded_from.clone(),
        response_decoded_from: resp.body.decoded_from.clone(),
        omitted_bodies: earlier_omissions(&ex.extra),
        request_body_cut: req.body.cut.clone(),
        response_body_cut: resp.body.cut.clone(),
        flow: ex.source.flow.clone(),
        tls: ex.source.tls.clone(),
    };
    let mut text = |body: &'a Body, which: &str| match as_text(body, escaped) {
        Some(t) => Some(t),
        None => {
            losses.record(LossKind::BinaryBody, || {
                format!("{}: {which} body ({} bytes)", here(), body.bytes.len())
            });
            extras
                .omitted_bodies
                .push(format!("{which}: {} bytes, not UTF-8", body.bytes.len()));
            None
        }
    };
    let request_body = if req.body.is_empty() {
        None
    } else {
        text(&req.body, "request")
    };
    // Readers want `response.body` (py-http-types and hmt fail without it): a body left out
    // is written empty, beside the meta note that says so.
    let response_body = text(&resp.body, "response").or(Some(BodyOut::Text("")));
    Some(ExchangeOut {
        request: RequestOut {
            method,
            protocol: req.scheme.as_str(),
            host,
            path,
            pathname: py_pathname(path),
            query: query::parse_qs(query),
            headers: request_headers,
            body: request_body,
            timestamp: req.timestamp.map(Timestamp::to_rfc3339),
        },
        response: ResponseOut {
            status_code: resp.status,
            headers: response_headers,
            body: response_body,
            timestamp: resp.timestamp.map(Timestamp::to_rfc3339),
        },
        meta: &ex.extra,
        extras,
    })
}

#[cfg(test)]
mod tests {
    use super::may_be_text;

    #[test]
    fn a_body_is_ruled_out_as_text_only_by_a_byte_that_breaks_utf8_in_its_head() {
        assert!(may_be_text(b""));
        assert!(may_be_text("{\"name\": \"caf\u{e9}\"}".as_bytes()));
        // A three-byte character that straddles the end of the head is still text.
        let mut cut = vec![b'a'; 255];
        cut.extend_from_slice("\u{20ac}".as_bytes());
        assert!(may_be_text(&cut));
        assert!(!may_be_text(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
        assert!(!may_be_text(&[0x1f, 0x8b, 0x08, 0x00]));
        // Past the head nothing is looked at: the full check comes later.
        let mut late = vec![b'a'; 300];
        late.push(0xff);
        assert!(may_be_text(&late));
    }
}
