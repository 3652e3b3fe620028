//! The formats wirecap reads and writes, and the one place that dispatches between them.
//!
//! Each format is a reader into the canonical [`Exchange`](crate::model::Exchange) and a writer
//! out of it. Adding a format means a new module and a new [`Format`] arm; the compiler then
//! points at every `match` below that must learn it.

pub mod detect;
mod gunzip;
pub mod har;
pub mod hoverfly;
pub mod http_types;
pub mod pcap;
/// Query-string codecs, moved to [`crate::codec::query`]; kept here for the capture and
/// filter modules until they import the new path.
pub use crate::codec::query;
mod read_ahead;

use crate::loss::Losses;
use crate::meter::{Metered, ReadMeter};
use crate::model::{Exchange, Simulation};
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

/// Read buffer size: large enough that format sniffing sees a whole first JSON line in
/// common files, and that big inputs are read in few system calls.
pub const READ_BUFFER_BYTES: usize = 256 << 10;

/// A file format wirecap knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Format {
    /// A pcap or pcapng capture (read only).
    Pcap,
    /// http-types JSONL, one `HttpExchange` per line.
    HttpTypes,
    /// A Hoverfly simulation document (`/api/v2/simulation`), any `schemaVersion`.
    Hoverfly,
    /// A Hoverfly legacy `/api/records` body.
    HoverflyV1Records,
    /// A Hoverfly legacy `/api/templates` body.
    HoverflyV1Templates,
    /// A Hoverfly legacy `/api/delays` body.
    HoverflyV1Delays,
    /// An HTTP Archive (HAR 1.2).
    Har,
}

impl Format {
    /// Whether the format is a Hoverfly file, read whole into a
    /// [`Simulation`](crate::model::Simulation) rather than streamed as exchanges.
    pub fn is_simulation(self) -> bool {
        matches!(
            self,
            Format::Hoverfly
                | Format::HoverflyV1Records
                | Format::HoverflyV1Templates
                | Format::HoverflyV1Delays
        )
    }

    /// Every format, in the order help text lists them.
    pub const ALL: [Format; 7] = [
        Format::Pcap,
        Format::HttpTypes,
        Format::Hoverfly,
        Format::HoverflyV1Records,
        Format::HoverflyV1Templates,
        Format::HoverflyV1Delays,
        Format::Har,
    ];

    /// The name users type after `--from`/`--to`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Pcap => "pcap",
            Format::HttpTypes => "http-types",
            Format::Hoverfly => "hoverfly",
            Format::HoverflyV1Records => "hoverfly-v1-records",
            Format::HoverflyV1Templates => "hoverfly-v1-templates",
            Format::HoverflyV1Delays => "hoverfly-v1-delays",
            Format::Har => "har",
        }
    }

    /// The format an output or input file name implies, by extension.
    pub fn from_extension(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let ext = name.rsplit_once('.')?.1;
        match ext {
            "pcap" | "pcapng" | "cap" => Some(Format::Pcap),
            "jsonl" | "ndjson" => Some(Format::HttpTypes),
            "har" => Some(Format::Har),
            "json" => Some(Format::Hoverfly),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name was not a format wirecap knows.
#[derive(Debug, thiserror::Error)]
#[error("unknown format {0:?}")]
pub struct UnknownFormat(String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "jsonl" => Ok(Format::HttpTypes),
            _ => Format::ALL
                .into_iter()
                .find(|f| f.name() == s)
                .ok_or_else(|| UnknownFormat(s.to_owned())),
        }
    }
}

/// A named input stream.
pub struct Input {
    /// The name used in messages and provenance: the path as given, or `-`.
    pub name: String,
    /// The bytes.
    pub reader: Box<dyn BufRead + Send>,
}

impl Input {
    /// Opens a file, or standard input for `-`.
    pub fn open(path: &str) -> io::Result<Input> {
        Input::open_metered(path, None)
    }

    /// Opens a file, or standard input for `-`, counting the bytes read into `meter`.
    pub fn open_metered(path: &str, meter: Option<&Arc<ReadMeter>>) -> io::Result<Input> {
        let reader: Box<dyn Read + Send> = if path == "-" {
            Box::new(io::stdin())
        } else {
            Box::new(File::open(path)?)
        };
        let reader = match meter {
            Some(m) => Box::new(Metered::new(reader, m.clone())),
            None => reader,
        };
        Ok(Input {
            name: path.to_owned(),
            reader: Box::new(BufReader::with_capacity(READ_BUFFER_BYTES, reader)),
        })
    }

    /// Picks the format: `forced` first, then the file's extension, then its first bytes. A
    /// gzipped input of any format is unwrapped first (`.jsonl.gz`, `.json.gz`, `.pcap.gz`).
    pub fn detect(&mut self, forced: Option<Format>) -> Result<Format, Error> {
        self.unwrap_gzip()?;
        self.refuse_utf16()?;
        if let Some(f) = forced {
            return Ok(f);
        }
        let head = self.reader.fill_buf().map_err(|source| Error::Io {
            file: self.name.clone(),
            source,
        })?;
        detect::input(&self.name, head).ok_or_else(|| Error::Undetected {
            file: self.name.clone(),
        })
    }
}

impl Input {
    /// Reads through gzip when the input starts with its magic number (RFC 1952).
    /// Refuses UTF-16 text, which every JSON reader here would call "expected value" at byte 0:
    /// JSON files are UTF-8 (RFC 8259 §8.1), and editors on Windows save UTF-16 with a mark.
    fn refuse_utf16(&mut self) -> Result<(), Error> {
        let head = self.reader.fill_buf().map_err(|source| Error::Io {
            file: self.name.clone(),
            source,
        })?;
        if detect::is_utf16(head) {
            return Err(Error::Utf16 {
                file: self.name.clone(),
            });
        }
        Ok(())
    }

    pub(crate) fn unwrap_gzip(&mut self) -> Result<(), Error> {
        let io_err = |name: &str, source| Error::Io {
            file: name.to_owned(),
            source,
        };
        let head = self.reader.fill_buf().map_err(|e| io_err(&self.name, e))?;
        if !head.starts_with(&[0x1f, 0x8b]) {
            return Ok(());
        }
        let inner = std::mem::replace(&mut self.reader, Box::new(io::empty()));
        self.reader = Box::new(BufReader::with_capacity(
            READ_BUFFER_BYTES,
            gunzip::Gunzip::new(inner),
        ));
        self.reader
            .fill_buf()
            .map(|_| ())
            .map_err(|e| io_err(&self.name, e))
    }
}

/// Options that shape reading.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The longest JSONL line accepted.
    pub max_line_bytes: usize,
    /// How deep arrays and objects may nest in one record (a JSONL line, an entry of a HAR
    /// file or of an http-types array, a Hoverfly document). The reading threads need
    /// [`crate::limits::stack_bytes`] of stack for it.
    pub json_depth: usize,
    /// How older Hoverfly files are upgraded.
    pub hoverfly_upgrade: hoverfly::Upgrade,
    /// How captures are read, and where their account goes.
    pub capture: crate::capture::Options,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            max_line_bytes: http_types::MAX_LINE_BYTES,
            json_depth: crate::limits::MAX_JSON_DEPTH,
            hoverfly_upgrade: hoverfly::Upgrade::default(),
            capture: crate::capture::Options::default(),
        }
    }
}

/// Why reading or writing a format failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An http-types line could not be read.
    #[error(transparent)]
    HttpTypes(#[from] http_types::Error),
    /// A Hoverfly file could not be read.
    #[error(transparent)]
    Hoverfly(#[from] hoverfly::Error),
    /// A HAR file could not be read.
    #[error(transparent)]
    Har(#[from] har::Error),
    /// A capture could not be read.
    #[error(transparent)]
    Capture(#[from] pcap::CaptureError),
    /// The format cannot be read, or written, by this build yet.
    #[error("{format} {direction} is not implemented yet")]
    Unsupported {
        /// The format.
        format: Format,
        /// `input` or `output`.
        direction: &'static str,
    },
    /// The format is input only: captures are read, never written.
    #[error(
        "{format} is read-only: wirecap reads captures but does not write them; pick another --to"
    )]
    ReadOnly {
        /// The format.
        format: Format,
    },
    /// Neither flag, extension nor content told the format.
    #[error("{file}: cannot tell the format from the name or the content; name it with --from")]
    Undetected {
        /// The input's display name.
        file: String,
    },
    /// One of several inputs is not a capture: only captures are read as one.
    #[error(
        "{file} is {format}: several inputs are read as one capture, so each must be a pcap or pcapng file (`wirecap merge` joins files of other formats)"
    )]
    NotCapture {
        /// The input's display name.
        file: String,
        /// What it is.
        format: Format,
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
    /// Writing the output failed (a full disk, a file-size limit); the caller names the output.
    #[error(transparent)]
    Write(io::Error),
    /// The input starts with a UTF-16 byte-order mark.
    #[error("{file}: byte 0: {}", detect::UTF16_TEXT)]
    Utf16 {
        /// The input's display name.
        file: String,
    },
}

impl Error {
    /// `FILE:LINE` of a blank http-types line: skipped with a note, not a bad record.
    pub fn blank_line(&self) -> Option<String> {
        match self {
            Error::HttpTypes(e) => e.blank_line(),
            _ => None,
        }
    }

    /// Whether the reader can go on after this error (one bad record, not a broken stream).
    pub fn is_recoverable(&self) -> bool {
        match self {
            Error::HttpTypes(e) => e.is_recoverable(),
            Error::Har(e) => e.is_recoverable(),
            _ => false,
        }
    }
}

/// A stream of exchanges from one input; a capture's also gives its account once read
/// ([`Exchanges::capture_stats`]).
pub struct Exchanges(Stream);

enum Stream {
    Capture(Box<pcap::Reader>),
    Other(Box<dyn Iterator<Item = Result<Exchange, Error>> + Send>),
}

impl Exchanges {
    /// The exchanges `iter` yields.
    pub fn new(iter: impl Iterator<Item = Result<Exchange, Error>> + Send + 'static) -> Self {
        Self(Stream::Other(Box::new(iter)))
    }

    /// A capture's account (packets, flows, what did not become an exchange), complete once
    /// the last exchange was read; `None` before, and for other formats.
    pub fn capture_stats(&self) -> Option<&crate::capture::Stats> {
        match &self.0 {
            Stream::Capture(reader) => reader.stats(),
            Stream::Other(_) => None,
        }
    }
}

impl From<pcap::Reader> for Exchanges {
    fn from(reader: pcap::Reader) -> Self {
        Self(Stream::Capture(Box::new(reader)))
    }
}

impl Iterator for Exchanges {
    type Item = Result<Exchange, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            Stream::Capture(reader) => reader.next(),
            Stream::Other(iter) => iter.next(),
        }
    }
}

/// Opens a reader for `format` over `input`. Hoverfly files are read with
/// [`read_simulation`] instead (they are one document, and their pairs need loss notes to
/// become exchanges), so they give [`Error::Unsupported`] here.
pub fn read(format: Format, mut input: Input, opts: &ReadOptions) -> Result<Exchanges, Error> {
    match format {
        Format::HttpTypes => {
            let head = input.reader.fill_buf().map_err(|source| Error::Io {
                file: input.name.clone(),
                source,
            })?;
            if http_types::is_document(head) {
                return read_http_types_document(input, opts);
            }
            // A byte-order mark before line 1 (Notepad's UTF-8), as the other readers allow.
            if head.starts_with(detect::UTF8_BOM) {
                input.reader.consume(detect::UTF8_BOM.len());
            }
            Ok(Exchanges::new(
                http_types::Reader::new(input.reader, input.name, opts.max_line_bytes)
                    .within_depth(opts.json_depth)
                    .map(|r| r.map_err(Error::from)),
            ))
        }
        Format::Pcap => pcap::read(input, opts.capture.clone()),
        Format::Har => har::read(input, opts.json_depth),
        Format::Hoverfly
        | Format::HoverflyV1Records
        | Format::HoverflyV1Templates
        | Format::HoverflyV1Delays => Err(Error::Unsupported {
            format,
            direction: "input",
        }),
    }
}

/// Opens a reader over `inputs` of `formats` (one each): a single input of any format that
/// [`read`] takes, or several captures read as one capture ([`pcap::read_set`]).
pub fn read_inputs(
    mut inputs: Vec<(Input, Format)>,
    opts: &ReadOptions,
) -> Result<Exchanges, Error> {
    if inputs.len() == 1
        && let Some((input, format)) = inputs.pop()
    {
        return read(format, input, opts);
    }
    check_capture_set(&inputs)?;
    let captures = inputs.into_iter().map(|(input, _)| input).collect();
    pcap::read_set(captures, opts.capture.clone())
}

/// Refuses several inputs unless all are captures, which are read as one.
pub fn check_capture_set(inputs: &[(Input, Format)]) -> Result<(), Error> {
    if inputs.len() < 2 {
        return Ok(());
    }
    match inputs.iter().find(|(_, format)| *format != Format::Pcap) {
        Some((input, format)) => Err(Error::NotCapture {
            file: input.name.clone(),
            format: *format,
        }),
        None => Ok(()),
    }
}

/// One pretty-printed exchange or an array of them (see [`http_types::is_document`]), read
/// whole: at most `opts.max_line_bytes`, the limit of one JSONL line.
fn read_http_types_document(input: Input, opts: &ReadOptions) -> Result<Exchanges, Error> {
    let limit = opts.max_line_bytes;
    let mut bytes = Vec::new();
    input
        .reader
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Io {
            file: input.name.clone(),
            source,
        })?;
    if bytes.len() > limit {
        return Err(http_types::Error::LineTooLong {
            file: input.name,
            line: 1,
            limit,
        }
        .into());
    }
    let items = http_types::read_document(&bytes, &input.name, opts.json_depth);
    Ok(Exchanges::new(
        items.into_iter().map(|r| r.map_err(Error::from)),
    ))
}

/// Reads a whole Hoverfly file into a simulation. [`Format::Hoverfly`] takes any Hoverfly
/// file and tells a simulation document (`meta`) from the legacy bodies by shape; the
/// `HoverflyV1*` formats force one legacy body. Exchange formats are collected into
/// recording pairs, as Hoverfly's capture mode writes them.
pub fn read_simulation(
    format: Format,
    input: Input,
    opts: &ReadOptions,
    losses: &mut Losses,
) -> Result<Simulation, Error> {
    use detect::{Document, Legacy};
    let legacy = match format {
        Format::HoverflyV1Records => Some(Legacy::Records),
        Format::HoverflyV1Templates => Some(Legacy::Templates),
        Format::HoverflyV1Delays => Some(Legacy::Delays),
        Format::Hoverfly => None,
        _ => {
            let mut exchanges = Vec::new();
            for ex in read(format, input, opts)? {
                exchanges.push(ex?);
            }
            return Ok(Simulation::from_exchanges(exchanges, losses));
        }
    };
    let file = input.name;
    let doc = hoverfly::parse_document(input.reader, &file, opts.json_depth)?;
    let legacy = legacy.or(match detect::document(&doc) {
        Ok(Document::Legacy(which)) => Some(which),
        _ => None,
    });
    let upgrade = opts.hoverfly_upgrade;
    Ok(match legacy {
        Some(which) => hoverfly::legacy::read_value(&doc, which, &file, upgrade, losses)?,
        None => hoverfly::read_value(&doc, &file, upgrade, losses)?,
    })
}

/// Writes a simulation as `format`: a simulation document in the chosen (or the oldest
/// sufficient) `schemaVersion`, or one of the legacy bodies. Returns how many pairs were
/// written; what the output cannot hold is noted in `losses`.
pub fn write_simulation<W: Write>(
    format: Format,
    sim: &Simulation,
    opts: &hoverfly::WriteOptions,
    out: &mut W,
    losses: &mut Losses,
) -> Result<usize, Error> {
    use hoverfly::SchemaVersion;
    let io = Error::Write;
    match format {
        Format::Hoverfly => {
            let version = opts
                .schema_version
                .unwrap_or_else(|| SchemaVersion::required_for(sim));
            match version {
                SchemaVersion::V1 => hoverfly::write_simulation_v1(sim, opts, out, losses),
                SchemaVersion::V2 | SchemaVersion::V3 | SchemaVersion::V4 => {
                    hoverfly::write_v4(sim, version, opts, out, losses)
                }
                _ => hoverfly::write_v5(sim, version, opts, out, losses),
            }
            .map_err(io)
        }
        Format::HoverflyV1Records => hoverfly::legacy::write_records(sim, out, losses).map_err(io),
        Format::HoverflyV1Templates => {
            hoverfly::legacy::write_templates(sim, out, losses).map_err(io)
        }
        Format::HoverflyV1Delays => hoverfly::legacy::write_delays(sim, out, losses).map_err(io),
        Format::Pcap => Err(Error::ReadOnly { format }),
        Format::HttpTypes | Format::Har => Err(Error::Unsupported {
            format,
            direction: "output",
        }),
    }
}

/// Where a writer's time went, for `--summary-json` and the benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteTimings {
    /// Encoding lines, summed over threads.
    pub encode_ms: f64,
    /// Handing the encoded bytes to the output (copies into the page cache), on the writing
    /// thread.
    pub write_ms: f64,
}

/// A writer for one output format.
#[non_exhaustive]
pub enum Writer<W: Write> {
    /// http-types JSONL.
    HttpTypes(http_types::Writer<W>),
    /// One HAR document.
    Har(har::Writer<W>),
}

impl<W: Write> Writer<W> {
    /// A writer for `format` onto `out`.
    pub fn new(format: Format, out: W) -> Result<Self, Error> {
        match format {
            Format::HttpTypes => Ok(Writer::HttpTypes(http_types::Writer::new(out))),
            Format::Har => Ok(Writer::Har(har::Writer::new(out))),
            Format::Pcap => Err(Error::ReadOnly { format }),
            Format::Hoverfly
            | Format::HoverflyV1Records
            | Format::HoverflyV1Templates
            | Format::HoverflyV1Delays => Err(Error::Unsupported {
                format,
                direction: "output",
            }),
        }
    }

    /// Writes one exchange; `Ok(false)` when it was skipped, with the reason in `losses`.
    pub fn write(&mut self, ex: &Exchange, losses: &mut Losses) -> io::Result<bool> {
        match self {
            Writer::HttpTypes(w) => w.write(ex, losses),
            Writer::Har(w) => w.write(ex, losses),
        }
    }

    /// Writes a run of exchanges in order (in parallel where the format allows); returns how
    /// many were written, with the reasons for the rest in `losses`.
    pub fn write_batch(&mut self, batch: &[Exchange], losses: &mut Losses) -> io::Result<u64>
    where
        W: Send,
    {
        match self {
            Writer::HttpTypes(w) => w.write_batch(batch, losses),
            Writer::Har(w) => w.write_batch(batch, losses),
        }
    }

    /// Where the writer's time went so far (batches only).
    pub fn timings(&self) -> WriteTimings {
        match self {
            Writer::HttpTypes(w) => w.timings(),
            Writer::Har(_) => WriteTimings::default(),
        }
    }

    /// Completes the document and flushes.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Writer::HttpTypes(w) => w.finish(),
            Writer::Har(w) => w.finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(name: &str, content: &[u8]) -> Format {
        let mut input = Input {
            name: name.to_owned(),
            reader: Box::new(io::Cursor::new(content.to_vec())),
        };
        input.detect(None).expect("detected")
    }

    #[test]
    fn issue_2_json_extension_yields_to_a_first_key_of_another_format() {
        let jsonl = b"{\"request\":{\"method\":\"get\"}}\n{\"request\":{}}\n";
        assert_eq!(detect("recording.json", jsonl), Format::HttpTypes);
        assert_eq!(detect("archive.json", b"{\"log\":{}}"), Format::Har);
        assert_eq!(detect("sim.json", b"{\"data\":{}}"), Format::Hoverfly);
        assert_eq!(detect("sim.json", b"{\"other\":1}\n"), Format::Hoverfly);
        assert_eq!(detect("sim.json", b"not json"), Format::Hoverfly);
        assert_eq!(detect("x.jsonl", b"{\"data\":{}}"), Format::HttpTypes);
        assert_eq!(detect("noext", jsonl), Format::HttpTypes);
    }

    #[test]
    fn issue_4_a_capture_is_known_by_its_magic_whatever_its_name() {
        let pcap = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        let pcapng = [0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0];
        let modified = [0xa1, 0xb2, 0xcd, 0x34, 0, 2, 0, 4];
        for name in ["x.json", "x.jsonl", "x.har", "x.ndjson", "x", "x.pcap"] {
            for head in [&pcap[..], &pcapng[..], &modified[..]] {
                assert_eq!(detect(name, head), Format::Pcap, "{name} {head:x?}");
            }
        }
    }

    #[test]
    fn names_and_extensions() {
        assert_eq!("jsonl".parse::<Format>().ok(), Some(Format::HttpTypes));
        assert_eq!(
            "hoverfly-v1-delays".parse::<Format>().ok(),
            Some(Format::HoverflyV1Delays)
        );
        assert_eq!(
            Format::from_extension(Path::new("a/b.PCAPNG")),
            Some(Format::Pcap)
        );
        assert_eq!(
            Format::from_extension(Path::new("b.pcap.gz")),
            Some(Format::Pcap)
        );
        assert_eq!(
            Format::from_extension(Path::new("sim.json")),
            Some(Format::Hoverfly)
        );
        assert_eq!(Format::from_extension(Path::new("noext")), None);
    }
}
