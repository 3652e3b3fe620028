//! Reading a HAR document: a thread walks the document with serde (a seed per level, so the
//! entries array is visited, never collected) and hands each entry on as raw text through a
//! bounded channel; the caller's iterator converts the entries into exchanges, so that the
//! walk and the conversion share two cores.
//!
//! serde_json reads a `Read` one byte at a time, so counting the newlines it has consumed
//! tells the line each entry starts on. An entry is taken as raw text first, then parsed:
//! a value that is not what HAR wants is located by its pointer inside that text.

use super::entry::{self, split_url};
use super::wirecap::Wirecap;
use super::{EXTRA_KEY, Error, MAX_ENTRY_BYTES, WIRECAP_KEY};
use crate::codec::json::{JsonError, strip_position};
use crate::codec::query;
use crate::formats::{self, Exchanges, Input};
use crate::model::{Body, Exchange, Headers, Location, Request, Response, Source, Timestamp};
use crate::validate::locate;
use base64::Engine as _;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{self, BufRead, Read};
use std::rc::Rc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Pieces read ahead of the consumer: enough to keep both threads busy, few enough that
/// memory stays a handful of entries.
const IN_FLIGHT: usize = 8;

/// Reads the HAR document `input` as a stream of exchanges, each entry (and each page and
/// custom field of the log) nested at most `depth` deep.
pub fn read(mut input: Input, depth: usize) -> Result<Exchanges, formats::Error> {
    let file = input.name.clone();
    let head = input
        .reader
        .fill_buf()
        .map_err(|source| formats::Error::Io {
            file: file.clone(),
            source,
        })?;
    if head.starts_with(formats::detect::UTF8_BOM) {
        input.reader.consume(formats::detect::UTF8_BOM.len());
    }
    let (tx, rx) = sync_channel(IN_FLIGHT);
    std::thread::Builder::new()
        .name("har-reader".into())
        .stack_size(crate::limits::stack_bytes(depth))
        .spawn(move || scan(input, tx, depth))
        .map_err(|source| formats::Error::Io {
            file: file.clone(),
            source,
        })?;
    Ok(Exchanges::new(Converted {
        pieces: Some(rx),
        file,
        depth,
        context: Context::default(),
    }))
}

/// What the reading thread hands on, in file order: it splits the document, and the entries
/// become exchanges on the consumer's side, so that the two halves of the work run at once.
enum Piece {
    /// The log's own fields, once its entries start.
    Log(Map<String, Value>),
    /// A page of the log, by its id.
    Page(String, Value),
    /// The `index`th entry as raw text, starting on `line`.
    Entry {
        raw: Box<RawValue>,
        index: u64,
        line: usize,
    },
    /// Where the document stops being read.
    Failed(formats::Error),
}

/// The entries the reading thread splits off, converted as they are asked for.
struct Converted {
    /// `None` once an error has ended the document.
    pieces: Option<Receiver<Piece>>,
    file: String,
    depth: usize,
    context: Context,
}

impl Iterator for Converted {
    type Item = Result<Exchange, formats::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.pieces.as_ref()?.recv().ok()? {
                Piece::Log(log) => self.context.log = Some(log),
                Piece::Page(id, page) => self.context.pages.push((id, page)),
                Piece::Entry { raw, index, line } => {
                    let item = convert(
                        raw.get(),
                        index,
                        line,
                        &self.file,
                        self.depth,
                        &mut self.context,
                    );
                    if let Err(Error::Document { .. }) = item {
                        self.pieces = None;
                    }
                    return Some(item.map_err(Into::into));
                }
                Piece::Failed(e) => {
                    self.pieces = None;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// Where the parser is in the input.
#[derive(Default)]
struct Position {
    /// Newlines consumed.
    newlines: Cell<u64>,
    /// Bytes consumed.
    bytes: Cell<u64>,
    /// Where the entry being read started, while one is.
    entry_start: Cell<Option<u64>>,
    /// Set when an entry grew past [`MAX_ENTRY_BYTES`].
    too_large: Cell<bool>,
    /// The last byte consumed.
    last: Cell<u8>,
    /// The entry being read, as far as it has been: a syntax error inside it is located
    /// within it, at the pointer `validate` gives for it too.
    entry: RefCell<Vec<u8>>,
}

/// The input, counting what serde_json takes from it.
struct Counted<R> {
    inner: R,
    at: Rc<Position>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let at = &self.at;
        at.newlines
            .set(at.newlines.get() + memchr::memchr_iter(b'\n', &buf[..n]).count() as u64);
        at.bytes.set(at.bytes.get() + n as u64);
        if let Some(&b) = buf[..n].last() {
            at.last.set(b);
        }
        if let Some(start) = at.entry_start.get() {
            at.entry.borrow_mut().extend_from_slice(&buf[..n]);
            if at.bytes.get() - start > MAX_ENTRY_BYTES {
                at.too_large.set(true);
                return Err(io::Error::other("entry too large"));
            }
        }
        Ok(n)
    }
}

/// What the walk shares between its levels.
struct Walk {
    file: String,
    tx: SyncSender<Piece>,
    at: Rc<Position>,
    /// The pointer of the value being parsed, for errors serde_json reports.
    pointer: RefCell<String>,
    /// An error already worded, which the serde error that unwinds the walk stands for.
    failure: RefCell<Option<Error>>,
    /// The consumer went away: stop quietly.
    stopped: Cell<bool>,
    /// Entries read so far, counted across every `entries` array of the log, so that each
    /// entry's index is its own.
    entries: Cell<u64>,
    /// How deep an entry, a page or a custom field of the log may nest.
    depth: usize,
}

/// What the log says around its entries, handed to the first entry that refers to it.
#[derive(Default)]
struct Context {
    /// `browser`, `comment` and custom fields of the log, until an entry takes them.
    log: Option<Map<String, Value>>,
    /// Pages by id, in file order, until an entry refers to them.
    pages: Vec<(String, Value)>,
}

fn scan(input: Input, tx: SyncSender<Piece>, depth: usize) {
    let at = Rc::new(Position::default());
    let walk = Walk {
        file: input.name,
        tx,
        at: at.clone(),
        pointer: RefCell::new(String::new()),
        failure: RefCell::new(None),
        stopped: Cell::new(false),
        entries: Cell::new(0),
        depth,
    };
    let reader = Counted {
        inner: input.reader,
        at,
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let result = Document(&walk).deserialize(&mut de).and_then(|()| de.end());
    let Err(e) = result else {
        return;
    };
    if walk.stopped.get() {
        return;
    }
    let error = match walk.failure.take() {
        Some(failure) => failure,
        None if walk.at.too_large.get() => walk.document_error(
            walk.at.newlines.get() as usize + 1,
            1,
            format!("entry larger than {MAX_ENTRY_BYTES} bytes"),
        ),
        None if e.is_io() => {
            let source = io::Error::other(strip_position(&e.to_string()));
            let _ = walk.tx.send(Piece::Failed(formats::Error::Io {
                file: walk.file.clone(),
                source,
            }));
            return;
        }
        None => walk.document_error(e.line(), e.column(), strip_position(&e.to_string())),
    };
    let _ = walk.tx.send(Piece::Failed(error.into()));
}

impl Walk {
    fn point(&self, pointer: impl Into<String>) {
        *self.pointer.borrow_mut() = pointer.into();
    }

    fn document_error(&self, line: usize, column: usize, message: String) -> Error {
        let pointer = self.pointer.borrow().clone();
        Error::Document {
            file: self.file.clone(),
            line,
            error: JsonError {
                pointer: if pointer.is_empty() {
                    "/".into()
                } else {
                    pointer
                },
                line,
                column,
                message,
            },
        }
    }

    /// The line the parser is on: where an object starts, when called as it is entered.
    fn line(&self) -> usize {
        self.at.newlines.get() as usize + 1
    }

    /// Fails unless `seen`: the object that began on `line` misses a field. The error is
    /// placed where the object starts, as `validate` places it, not where serde_json noticed
    /// (its end).
    fn required<E: de::Error>(&self, seen: bool, line: usize, missing: &str) -> Result<(), E> {
        if seen {
            return Ok(());
        }
        Err(self.fail(self.document_error(line, 1, missing.to_owned())))
    }

    /// Stops the walk with `error` as what went wrong.
    fn fail<E: de::Error>(&self, error: Error) -> E {
        *self.failure.borrow_mut() = Some(error);
        E::custom("see the recorded failure")
    }

    /// `raw`, just read at the walk's pointer, as a value nested at most `depth` deep. serde_json
    /// reads raw values without counting their depth; this is where it is counted.
    fn value<E: de::Error>(&self, raw: &RawValue) -> Result<Value, E> {
        let text = raw.get().as_bytes();
        crate::codec::json::from_slice_within(text, self.depth).map_err(|e| {
            let pointer = format!("{}{}", self.pointer.borrow(), e.pointer);
            self.point(pointer);
            let newlines = memchr::memchr_iter(b'\n', text).count();
            let line = self.line() - newlines + e.line - 1;
            let column = if e.line == 1 { 1 } else { e.column };
            self.fail(self.document_error(line, column, e.message))
        })
    }

    fn send<E: de::Error>(&self, piece: Piece) -> Result<(), E> {
        self.tx.send(piece).map_err(|_| {
            self.stopped.set(true);
            E::custom("the reader was dropped")
        })
    }
}

/// Each level of the walk is a seed that hands itself to serde as the visitor of its value,
/// `$visit` being the one visitor method the level needs.
macro_rules! level {
    ($level:ident, $method:ident, $expecting:literal, $($visit:tt)*) => {
        struct $level<'a>(&'a Walk);

        impl<'de> DeserializeSeed<'de> for $level<'_> {
            type Value = ();
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.$method(self)
            }
        }

        impl<'de> Visitor<'de> for $level<'_> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str($expecting)
            }
            $($visit)*
        }
    };
}

level!(
    Document,
    deserialize_map,
    "a HAR document, an object with a \"log\"",
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let line = self.0.line();
        let mut seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "log" {
                self.0.point("/log");
                map.next_value_seed(Log(self.0))?;
                seen = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            self.0.point("");
        }
        self.0
            .required(seen, line, "missing field `log`, expected a HAR document")
    }
);

level!(
    Log,
    deserialize_map,
    "a HAR log object",
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let walk = self.0;
        let line = walk.line();
        let mut entries = false;
        let mut log = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            walk.point(format!("/log/{key}"));
            match key.as_str() {
                "entries" => {
                    walk.send(Piece::Log(std::mem::take(&mut log)))?;
                    map.next_value_seed(Entries(walk))?;
                    entries = true;
                }
                "pages" => {
                    let pages: Vec<Box<RawValue>> = map.next_value()?;
                    let pages = pages
                        .iter()
                        .enumerate()
                        .map(|(i, page)| {
                            walk.point(format!("/log/pages/{i}"));
                            walk.value(page)
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    for page in pages {
                        let id = page.get("id").and_then(Value::as_str).unwrap_or_default();
                        walk.send(Piece::Page(id.to_owned(), page))?;
                    }
                }
                // The writer is the creator of what it writes; the version is HAR's.
                "creator" | "version" => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    let raw: Box<RawValue> = map.next_value()?;
                    log.insert(key, walk.value(&raw)?);
                }
            }
            walk.point("/log");
        }
        walk.required(
            entries,
            line,
            "missing field `entries`, expected the log's array of entries",
        )
    }
);

level!(
    Entries,
    deserialize_seq,
    "an array of HAR entries",
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let walk = self.0;
        loop {
            let index = walk.entries.get();
            walk.point(format!("/log/entries/{index}"));
            let Some((line, raw)) = seq.next_element_seed(RawEntry(walk))? else {
                return Ok(());
            };
            walk.entries.set(index + 1);
            walk.send(Piece::Entry { raw, index, line })?;
        }
    }
);

/// One entry as raw text, with the line it starts on.
struct RawEntry<'a>(&'a Walk);

impl<'de> DeserializeSeed<'de> for RawEntry<'_> {
    type Value = (usize, Box<RawValue>);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let at = &self.0.at;
        // serde_json has taken the entry's first byte, and no more, from the input.
        let line = at.newlines.get() as usize + 1;
        at.entry_start.set(Some(at.bytes.get()));
        *at.entry.borrow_mut() = vec![at.last.get()];
        let raw = <Box<RawValue> as serde::Deserialize>::deserialize(d);
        at.entry_start.set(None);
        let text = std::mem::take(&mut *at.entry.borrow_mut());
        if raw.is_err() && !at.too_large.get() {
            // The text so far fails where the input did: its pointer goes into the entry.
            if let Err(e) = crate::codec::json::from_slice_within::<Value>(&text, self.0.depth) {
                let inner = format!("{}{}", self.0.pointer.borrow(), e.pointer);
                self.0.point(inner);
            }
        }
        Ok((line, raw?))
    }
}

/// A value that is not what HAR wants, at a pointer inside one entry.
struct Bad {
    pointer: String,
    message: String,
}

type Checked<T> = Result<T, Bad>;

fn bad(pointer: &str, message: impl Into<String>) -> Bad {
    Bad {
        pointer: pointer.to_owned(),
        message: message.into(),
    }
}

/// A JSON value's kind, for "expected …, found …".
fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) => format!("number `{n}`"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// An object of the entry, read by field with the pointer of each.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    at: String,
}

impl<'a> Obj<'a> {
    fn new(v: &'a Value, at: String) -> Checked<Self> {
        match v {
            Value::Object(map) => Ok(Obj { map, at }),
            other => Err(bad(
                &at,
                format!("expected an object, found {}", kind(other)),
            )),
        }
    }

    fn ptr(&self, key: &str) -> String {
        format!("{}/{}", self.at, key.replace('~', "~0").replace('/', "~1"))
    }

    fn missing(&self, key: &str, what: &str) -> Bad {
        bad(&self.at, format!("missing field `{key}`, expected {what}"))
    }

    fn string(&self, key: &str) -> Checked<&'a str> {
        self.opt_string(key)?
            .ok_or_else(|| self.missing(key, "a string"))
    }

    fn opt_string(&self, key: &str) -> Checked<Option<&'a str>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(bad(
                &self.ptr(key),
                format!("expected a string, found {}", kind(other)),
            )),
        }
    }

    fn opt_number(&self, key: &str) -> Checked<Option<f64>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(bad(
                &self.ptr(key),
                format!("expected a number, found {}", kind(other)),
            )),
        }
    }

    fn object(&self, key: &str) -> Checked<Obj<'a>> {
        self.opt_object(key)?
            .ok_or_else(|| self.missing(key, "an object"))
    }

    fn opt_object(&self, key: &str) -> Checked<Option<Obj<'a>>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => Obj::new(v, self.ptr(key)).map(Some),
        }
    }

    /// Name/value objects (headers), in order.
    fn pairs(&self, key: &str) -> Checked<Headers> {
        let items = match self.map.get(key) {
            None | Some(Value::Null) => return Ok(Headers::new()),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(bad(
                    &self.ptr(key),
                    format!(
                        "expected an array of name/value objects, found {}",
                        kind(other)
                    ),
                ));
            }
        };
        let mut out = Headers::new();
        for (i, item) in items.iter().enumerate() {
            let o = Obj::new(item, format!("{}/{i}", self.ptr(key)))?;
            out.push(o.string("name")?, o.string("value")?);
        }
        Ok(out)
    }
}

/// The `http-version` of a message; `""` (unknown, as browsers write it) is none.
fn version(o: &Obj) -> Checked<Option<String>> {
    Ok(o.opt_string("httpVersion")?
        .filter(|v| !v.is_empty())
        .map(str::to_owned))
}

fn timestamp(o: &Obj, key: &str) -> Checked<Timestamp> {
    let s = o.string(key)?;
    Timestamp::parse_rfc3339(s).map_err(|e| bad(&o.ptr(key), e.to_string()))
}

/// Decodes base64 text, or says where it is not.
fn decode_base64(text: &str, pointer: String) -> Checked<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim_ascii())
        .map_err(|e| bad(&pointer, not_base64(&e)))
}

fn not_base64(e: &base64::DecodeError) -> String {
    format!("encoding is base64 but the text is not base64 ({e})")
}

/// Why the reader refuses `text` as a body marked base64, in its words; `None` when it
/// decodes. `validate`'s `encoded-body` rule says the same.
pub fn base64_refusal(text: &str) -> Option<String> {
    let mut sink = Vec::new();
    base64::engine::general_purpose::STANDARD
        .decode_vec(text.trim_ascii(), &mut sink)
        .err()
        .map(|e| not_base64(&e))
}

/// Converts the entry `raw`, the `index`th of the file, starting on `line`.
fn convert(
    raw: &str,
    index: u64,
    line: usize,
    file: &str,
    depth: usize,
    context: &mut Context,
) -> Result<Exchange, Error> {
    let value: Value =
        crate::codec::json::from_slice_within(raw.as_bytes(), depth).map_err(|e| {
            let line = line + e.line - 1;
            Error::Document {
                file: file.to_owned(),
                line,
                error: JsonError {
                    pointer: format!("/log/entries/{index}{}", e.pointer),
                    line,
                    column: if e.line == 1 { 1 } else { e.column },
                    message: e.message,
                },
            }
        })?;
    let source = Source {
        file: Some(file.to_owned()),
        location: Some(Location::Index(index)),
        ..Source::default()
    };
    exchange(&value, source, context).map_err(|b| {
        let (within, column) = locate::line_column(
            raw.as_bytes(),
            locate::offset_of(raw.as_bytes(), &b.pointer),
        );
        let line = line + within - 1;
        Error::Entry {
            file: file.to_owned(),
            line,
            error: JsonError {
                pointer: format!("/log/entries/{index}{}", b.pointer),
                line,
                column,
                message: b.message,
            },
        }
    })
}

fn exchange(value: &Value, source: Source, context: &mut Context) -> Checked<Exchange> {
    let e = Obj::new(value, String::new())?;
    let started = timestamp(&e, "startedDateTime")?;
    let time = e.opt_number("time")?;
    let mut ex = Exchange {
        request: request(&e.object("request")?, started)?,
        response: response(&e.object("response")?)?,
        source,
        extra: Map::new(),
    };
    if let (Some(resp), Some(ms)) = (&mut ex.response, time) {
        if ms >= 0.0 {
            resp.timestamp = entry::after_ms(started, ms);
        }
    }
    if let Some(w) = e.map.get(WIRECAP_KEY) {
        let w: Wirecap = serde_path_to_error::deserialize(w).map_err(|err| {
            let pointer = format!(
                "/{WIRECAP_KEY}{}",
                crate::codec::json::to_pointer(err.path())
            );
            bad(&pointer, strip_position(&err.into_inner().to_string()))
        })?;
        apply(w, &mut ex).map_err(|m| bad(&format!("/{WIRECAP_KEY}"), m))?;
    }
    let kept = match entry::build(&ex) {
        Ok(derived) => diff(e.map, &derived),
        Err(entry::Skip::MissingHost) => e.map.clone(),
    };
    let mut har = Map::new();
    if !kept.is_empty() {
        har.insert("entry".into(), kept.into());
    }
    if let Some(log) = context.log.take().filter(|l| !l.is_empty()) {
        har.insert("log".into(), log.into());
    }
    if let Some(id) = e.map.get("pageref").and_then(Value::as_str) {
        if let Some(i) = context.pages.iter().position(|(p, _)| p == id) {
            har.insert("page".into(), context.pages.remove(i).1);
        }
    }
    if !har.is_empty() {
        ex.extra.insert(EXTRA_KEY.into(), har.into());
    }
    Ok(ex)
}

fn request(r: &Obj, started: Timestamp) -> Checked<Request> {
    let method = r.string("method")?;
    let is_tchar = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(bad(
            &r.ptr("method"),
            format!("expected an HTTP method like \"GET\", found {method:?}"),
        ));
    }
    let url = r.string("url")?;
    let parts = split_url(url).ok_or_else(|| {
        bad(
            &r.ptr("url"),
            format!("expected an absolute http(s) URL, found {url:?}"),
        )
    })?;
    let headers = r.pairs("headers")?;
    let body = match r.opt_object("postData")? {
        Some(p) => post_body(&p)?,
        None => Vec::new(),
    };
    Ok(Request {
        method: method.to_owned(),
        scheme: parts.scheme,
        host: parts.host,
        port: parts.port,
        target: parts.target,
        version: version(r)?,
        body: decoded(&headers, body),
        headers,
        trailers: Headers::new(),
        timestamp: Some(started),
    })
}

/// A body as HAR holds it: decoded, from whatever `Content-Encoding` says.
fn decoded(headers: &Headers, bytes: Vec<u8>) -> Body {
    Body {
        decoded_from: entry::decoded_from(headers, &bytes),
        bytes: bytes.into(),
        cut: None,
    }
}

/// The request body: `text` (base64 with `_encoding`), else the form `params` that HAR 1.2
/// allows in its place, joined as a form body.
fn post_body(p: &Obj) -> Checked<Vec<u8>> {
    if let Some(text) = p.opt_string("text")? {
        return match p.opt_string("_encoding")? {
            Some("base64") => decode_base64(text, p.ptr("text")),
            _ => Ok(text.as_bytes().to_vec()),
        };
    }
    let params = p.pairs("params")?;
    let pairs = params.iter().map(|h| (h.name.as_str(), h.value.as_str()));
    Ok(query::urlencode(pairs).into_bytes())
}

fn response(r: &Obj) -> Checked<Option<Response>> {
    let status = match r.map.get("status") {
        Some(Value::Number(n)) => n.as_u64().filter(|s| *s <= 999),
        None => return Err(r.missing("status", "a status code")),
        Some(_) => None,
    };
    let status = status.ok_or_else(|| {
        bad(
            &r.ptr("status"),
            format!(
                "expected a status code of three digits, found {}",
                kind(&r.map["status"])
            ),
        )
    })?;
    if status == 0 {
        return Ok(None);
    }
    let headers = r.pairs("headers")?;
    let body = match r.opt_object("content")? {
        Some(c) => match (c.opt_string("text")?, c.opt_string("encoding")?) {
            (Some(text), Some("base64")) => decode_base64(text, c.ptr("text"))?,
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, _) => Vec::new(),
        },
        None => Vec::new(),
    };
    Ok(Some(Response {
        status: status as u16,
        reason: r
            .opt_string("statusText")?
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        version: version(r)?,
        body: decoded(&headers, body),
        headers,
        trailers: Headers::new(),
        timestamp: None,
        interim: Vec::new(),
    }))
}

/// Puts back what the writer kept in `_wirecap`.
fn apply(w: Wirecap, ex: &mut Exchange) -> Result<(), String> {
    let time = |s: Option<String>| {
        s.map(|s| Timestamp::parse_rfc3339(&s).map_err(|e| e.to_string()))
            .transpose()
    };
    let req = &mut ex.request;
    if let Some(scheme) = w.scheme {
        req.scheme = scheme;
    }
    if let Some((host, port)) = w.authority {
        (req.host, req.port) = (host, port);
    }
    if let Some(target) = w.target {
        req.target = target;
    }
    if let Some(t) = w.request_timestamp {
        req.timestamp = time(t)?;
    }
    if let Some(d) = w.request_decoded_from {
        req.body.decoded_from = d;
    }
    req.body.cut = w.request_body_cut;
    req.trailers = w.request_trailers.into_iter().collect();
    if let Some(resp) = &mut ex.response {
        if let Some(t) = w.response_timestamp {
            resp.timestamp = time(t)?;
        }
        if let Some(d) = w.response_decoded_from {
            resp.body.decoded_from = d;
        }
        resp.body.cut = w.response_body_cut;
        resp.trailers = w.trailers.into_iter().collect();
        resp.interim = w.interim;
    }
    ex.source.flow = w.flow;
    ex.source.tls = w.tls;
    ex.extra.extend(w.meta);
    Ok(())
}

/// Objects whose fields are compared one by one; any other value is kept whole when it
/// differs.
pub(super) const MERGED: [&str; 4] = ["request", "response", "postData", "content"];

/// The fields of `original` that `derived` does not give back, for the writer to lay over
/// it. Bodies (`text`) are the model's and `_wirecap` has been applied: neither is kept.
fn diff(original: &Map<String, Value>, derived: &Map<String, Value>) -> Map<String, Value> {
    let mut kept = Map::new();
    for (key, value) in original {
        if key == WIRECAP_KEY || key == "text" {
            continue;
        }
        match (derived.get(key), value) {
            (Some(d), v) if d == v => {}
            (Some(Value::Object(d)), Value::Object(v)) if MERGED.contains(&key.as_str()) => {
                let inner = diff(v, d);
                if !inner.is_empty() {
                    kept.insert(key.clone(), inner.into());
                }
            }
            _ => {
                kept.insert(key.clone(), value.clone());
            }
        }
    }
    kept
}
