//! Writing one HAR 1.2 document: each exchange becomes an entry derived from the model
//! ([`super::entry`]) with what a HAR reader kept laid over it, one entry per line.
//!
//! `pages` and `browser` come before `entries`, as HAR files list them, but are only known
//! once every entry has been seen: entries are written to a spool (memory, then a temporary
//! file past [`SPOOL_BYTES`]) and copied out after the head at [`Writer::finish`].

use super::entry::{self, Skip};
use super::read::MERGED;
use super::{EXTRA_KEY, WIRECAP_KEY};
use crate::loss::{LossKind, Losses};
use crate::model::Exchange;
use serde_json::{Map, Value};
use std::io::{self, Seek, Write};

/// Entry bytes held in memory before the spool moves to a temporary file.
pub const SPOOL_BYTES: usize = 8 << 20;

/// `log.creator`: this program, by the version that wrote the file.
const CREATOR: &str = concat!(
    r#"{"name":"wirecap","version":""#,
    env!("CARGO_PKG_VERSION"),
    r#""}"#
);

/// Writes exchanges as one HAR document.
pub struct Writer<W: Write> {
    out: W,
    spool: tempfile::SpooledTempFile,
    entries: u64,
    /// Pages in the order entries first referred to them (ids are unique).
    pages: Vec<Value>,
    /// The log fields (`browser`, `comment`, custom) of the first entry that carried them.
    log: Option<Map<String, Value>>,
    line: Vec<u8>,
}

impl<W: Write> Writer<W> {
    /// A writer onto `out`.
    pub fn new(out: W) -> Self {
        Self {
            out,
            spool: tempfile::SpooledTempFile::new(SPOOL_BYTES),
            entries: 0,
            pages: Vec::new(),
            log: None,
            line: Vec::with_capacity(4096),
        }
    }

    /// Writes one exchange, or records why it cannot be written and returns `Ok(false)`.
    pub fn write(&mut self, ex: &Exchange, losses: &mut Losses) -> io::Result<bool> {
        let mut entry = match entry::build(ex) {
            Ok(entry) => entry,
            Err(Skip::MissingHost) => {
                losses.record(LossKind::MissingHost, || {
                    format!("{}: {} {}", ex.source, ex.request.method, ex.request.target)
                });
                return Ok(false);
            }
        };
        let har = ex.extra.get(EXTRA_KEY).and_then(Value::as_object);
        if let Some(kept) = har.and_then(|h| h.get("entry")).and_then(Value::as_object) {
            lay_over(&mut entry, kept, ex);
        }
        if let Some(page) = har.and_then(|h| h.get("page")) {
            let id = page.get("id");
            if !self.pages.iter().any(|p| p.get("id") == id) {
                self.pages.push(page.clone());
            }
        }
        if self.log.is_none() {
            self.log = har
                .and_then(|h| h.get("log"))
                .and_then(Value::as_object)
                .cloned();
        }
        self.line.clear();
        if self.entries > 0 {
            self.line.push(b',');
        }
        self.line.push(b'\n');
        serde_json::to_writer(&mut self.line, &pageref_first(entry))?;
        self.spool.write_all(&self.line)?;
        self.entries += 1;
        Ok(true)
    }

    /// Writes a run of exchanges in order; returns how many were written.
    pub fn write_batch(&mut self, batch: &[Exchange], losses: &mut Losses) -> io::Result<u64> {
        let mut written = 0;
        for ex in batch {
            written += u64::from(self.write(ex, losses)?);
        }
        Ok(written)
    }

    /// Writes the document around the spooled entries, flushes, and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        let log = self.log.take().unwrap_or_default();
        let out = &mut self.out;
        write!(out, r#"{{"log":{{"version":"1.2","creator":{CREATOR}"#)?;
        if let Some(browser) = log.get("browser") {
            out.write_all(br#","browser":"#)?;
            serde_json::to_writer(&mut *out, browser)?;
        }
        if !self.pages.is_empty() {
            out.write_all(br#","pages":["#)?;
            for (i, page) in self.pages.iter().enumerate() {
                out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
                serde_json::to_writer(&mut *out, page)?;
            }
            out.write_all(b"\n]")?;
        }
        out.write_all(br#","entries":["#)?;
        self.spool.seek(io::SeekFrom::Start(0))?;
        io::copy(&mut self.spool, out)?;
        out.write_all(b"\n]")?;
        for (key, value) in log.iter().filter(|(k, _)| *k != "browser") {
            out.write_all(b",")?;
            serde_json::to_writer(&mut *out, key)?;
            out.write_all(b":")?;
            serde_json::to_writer(&mut *out, value)?;
        }
        out.write_all(b"}}\n")?;
        out.flush()?;
        Ok(self.out)
    }
}

/// `pageref` leads an entry, as HAR 1.2 lists the fields.
fn pageref_first(entry: Map<String, Value>) -> Map<String, Value> {
    let Some(pageref) = entry.get("pageref").cloned() else {
        return entry;
    };
    let mut out = Map::new();
    out.insert("pageref".into(), pageref);
    out.extend(entry.into_iter().filter(|(k, _)| k != "pageref"));
    out
}

/// Lays the fields a reader kept over the derived entry. A kept `encoding: base64` on a body
/// the writer would have written as text is honoured by encoding the text.
fn lay_over(entry: &mut Map<String, Value>, kept: &Map<String, Value>, ex: &Exchange) {
    overlay(entry, kept);
    // What the writer keeps for itself goes after what the file had.
    if let Some(w) = entry.shift_remove(WIRECAP_KEY) {
        entry.insert(WIRECAP_KEY.into(), w);
    }
    let base64 = |o: Option<&mut Value>, key: &str, bytes: &[u8]| {
        let Some(Value::Object(o)) = o else { return };
        if o.get(key).and_then(Value::as_str) == Some("base64")
            && !bytes.is_empty()
            && std::str::from_utf8(bytes).is_ok()
        {
            o.insert("text".into(), entry::base64(bytes).into());
        }
    };
    let request = entry.get_mut("request");
    base64(
        request.and_then(|r| r.get_mut("postData")),
        "_encoding",
        &ex.request.body.bytes,
    );
    if let Some(resp) = &ex.response {
        let response = entry.get_mut("response");
        base64(
            response.and_then(|r| r.get_mut("content")),
            "encoding",
            &resp.body.bytes,
        );
    }
}

fn overlay(base: &mut Map<String, Value>, kept: &Map<String, Value>) {
    for (key, value) in kept {
        match (base.get_mut(key), value) {
            (Some(Value::Object(b)), Value::Object(k)) if MERGED.contains(&key.as_str()) => {
                overlay(b, k)
            }
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}
