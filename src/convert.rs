//! The conversion loop shared by `convert` and `merge`: exchanges from a reader into a writer,
//! with bad records either stopping the run or, with `keep_going`, skipped and counted, and
//! each exchange passed through the run's [`Filter`] (selection, redaction) on the way.

use crate::filter::{self, Filter};
use crate::formats::{self, Exchanges, Format, Writer};
use crate::loss::Losses;
use crate::model::{Exchange, Simulation};
use crate::output::AtomicFile;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// How many skipped-record messages a summary keeps; the rest are only counted.
pub const MAX_KEPT_ERRORS: usize = 20;

/// Choices that change what a conversion does with bad or lossy input.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Skip records that do not parse instead of stopping at the first.
    pub keep_going: bool,
}

/// What a conversion read, wrote and skipped: every exchange read is written, not written
/// (`not_written`) or filtered out (`filtered_out`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Exchanges read successfully.
    pub read: u64,
    /// Exchanges written.
    pub written: u64,
    /// Exchanges read but not written, each reason in `losses`.
    pub not_written: u64,
    /// Records that did not parse and were skipped (`keep_going`).
    pub invalid: u64,
    /// The first few of those errors, as messages.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid_examples: Vec<String>,
    /// What could not be carried across, by kind.
    pub losses: Losses,
    /// Exchanges left out by selection, and values redacted.
    #[serde(flatten)]
    pub filter: filter::Tally,
    /// The capture reader's account (packets, flows, what did not become an exchange).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture: Option<crate::capture::Stats>,
    /// Where the writer's time went (`convert` to one output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writing: Option<formats::WriteTimings>,
    /// With `--split-by-host`: the files written, and how many exchanges each holds.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, u64>,
}

impl Summary {
    /// Counts a record that did not parse and goes on when `--keep-going` allows it (one bad
    /// record, not a broken stream); otherwise hands the error back. A blank JSONL line is
    /// no record: it is noted ([`crate::loss::LossKind::BlankLine`]) and skipped.
    pub fn skip_invalid(&mut self, e: formats::Error, opts: Options) -> Result<(), formats::Error> {
        if let Some(place) = e.blank_line() {
            self.losses
                .record(crate::loss::LossKind::BlankLine, || place);
            return Ok(());
        }
        if !(opts.keep_going && e.is_recoverable()) {
            return Err(e);
        }
        self.invalid += 1;
        if self.invalid_examples.len() < MAX_KEPT_ERRORS {
            self.invalid_examples.push(e.to_string());
        }
        Ok(())
    }
}

/// Why a conversion stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A record could not be read.
    #[error(transparent)]
    Read(#[from] formats::Error),
    /// Writing the output failed.
    #[error("writing the output")]
    Write(#[source] std::io::Error),
    /// An output file could not be created or committed.
    #[error(transparent)]
    Output(#[from] crate::output::Error),
    /// More hosts than [`MAX_SPLIT_FILES`].
    #[error("more than {MAX_SPLIT_FILES} hosts: too many files for --split-by-host")]
    TooManyFiles,
}

/// Most files `--split-by-host` writes in one run (each stays open until the end).
pub const MAX_SPLIT_FILES: usize = 4096;

/// Exchanges handed to the writer at once, so their lines can be encoded in parallel.
pub const WRITE_BATCH: usize = 256;

/// Body bytes that end a write batch early, bounding the memory a batch holds.
pub const WRITE_BATCH_BYTES: usize = 8 << 20;

/// Reads every exchange from `input` into `writer` and tallies what happened. Exchanges go to
/// the writer in batches (see [`WRITE_BATCH`]); a bad record first flushes what came before it.
pub fn run<W: Write + Send>(
    mut input: Exchanges,
    writer: &mut Writer<W>,
    opts: Options,
    filter: &Filter,
    summary: &mut Summary,
) -> Result<(), Error> {
    let mut batch: Vec<Exchange> = Vec::with_capacity(WRITE_BATCH);
    let mut batch_bytes = 0;
    let mut flush = |batch: &mut Vec<Exchange>, summary: &mut Summary| {
        let written = writer
            .write_batch(batch, &mut summary.losses)
            .map_err(Error::Write)?;
        summary.written += written;
        summary.not_written += batch.len() as u64 - written;
        batch.clear();
        Ok::<(), Error>(())
    };
    for item in input.by_ref() {
        match item {
            Ok(mut ex) => {
                summary.read += 1;
                if !filter.exchange(&mut ex, &mut summary.filter) {
                    continue;
                }
                batch_bytes += ex.body_bytes();
                batch.push(ex);
                if batch.len() >= WRITE_BATCH || batch_bytes >= WRITE_BATCH_BYTES {
                    flush(&mut batch, summary)?;
                    batch_bytes = 0;
                }
            }
            Err(e) => {
                flush(&mut batch, summary)?;
                batch_bytes = 0;
                summary.skip_invalid(e, opts)?;
            }
        }
    }
    flush(&mut batch, summary)?;
    summary.writing = Some(writer.timings());
    summary.capture = input.capture_stats().cloned();
    Ok(())
}

/// The file `--split-by-host` writes an exchange to: `{host}-recordings.jsonl`, as HMT's
/// recorder names them (HMT builds one OpenAPI spec per host). The host is the one the
/// http-types writer puts in `request.host` (`host[:port]`); characters that do not belong in
/// a file name become `_`.
pub fn split_file_name(ex: &Exchange, format: Format) -> String {
    let mut host = ex.request.authority();
    if host.is_empty() {
        host = ex
            .request
            .headers
            .first("host")
            .unwrap_or("unknown-host")
            .to_owned();
    }
    let safe: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = if safe.starts_with('.') {
        format!("_{safe}")
    } else {
        safe
    };
    let ext = if format == Format::HttpTypes {
        "jsonl"
    } else {
        "json"
    };
    format!("{safe}-recordings.{ext}")
}

/// Like [`run`], but writes each host's exchanges to its own file in `dir` (see
/// [`split_file_name`]). Files appear only when every one of them was written.
pub fn run_split(
    mut input: Exchanges,
    dir: &Path,
    format: Format,
    inputs: &[&Path],
    opts: Options,
    filter: &Filter,
    summary: &mut Summary,
) -> Result<Vec<PathBuf>, Error> {
    let mut writers: BTreeMap<String, Writer<AtomicFile>> = BTreeMap::new();
    for item in input.by_ref() {
        match item {
            Ok(mut ex) => {
                summary.read += 1;
                if !filter.exchange(&mut ex, &mut summary.filter) {
                    continue;
                }
                let name = split_file_name(&ex, format);
                if !writers.contains_key(&name) {
                    if writers.len() >= MAX_SPLIT_FILES {
                        return Err(Error::TooManyFiles);
                    }
                    let file = AtomicFile::create(&dir.join(&name), inputs)?;
                    writers.insert(name.clone(), Writer::new(format, file)?);
                }
                let w = writers.get_mut(&name).expect("inserted above");
                if w.write(&ex, &mut summary.losses).map_err(Error::Write)? {
                    summary.written += 1;
                    *summary.files.entry(name).or_default() += 1;
                } else {
                    summary.not_written += 1;
                }
            }
            Err(e) => summary.skip_invalid(e, opts)?,
        }
    }
    summary.capture = input.capture_stats().cloned();
    let mut paths = Vec::new();
    for (name, w) in writers {
        w.finish().map_err(Error::Write)?.commit()?;
        paths.push(dir.join(name));
    }
    Ok(paths)
}

/// Collects every exchange of `input` (for a simulation output), tallying like [`run`],
/// a capture's account included.
pub fn collect(
    mut input: Exchanges,
    opts: Options,
    filter: &Filter,
    summary: &mut Summary,
) -> Result<Vec<Exchange>, Error> {
    let mut out = Vec::new();
    for item in input.by_ref() {
        match item {
            Ok(mut ex) => {
                summary.read += 1;
                if filter.exchange(&mut ex, &mut summary.filter) {
                    out.push(ex);
                }
            }
            Err(e) => summary.skip_invalid(e, opts)?,
        }
    }
    summary.capture = input.capture_stats().cloned();
    Ok(out)
}

/// Writes the pairs of a simulation that are exchanges (all matchers exact) into an exchange
/// writer; every other pair, and what exchanges cannot hold, is noted as loss. Pairs are
/// selected and redacted as pairs ([`Filter::pair`]), before they become exchanges.
pub fn run_pairs<W: Write>(
    sim: &Simulation,
    file: &str,
    filter: &Filter,
    writer: &mut Writer<W>,
    summary: &mut Summary,
) -> Result<(), Error> {
    sim.note_global_losses(file, &mut summary.losses);
    for pair in &sim.pairs {
        summary.read += 1;
        let mut filtered;
        let pair = if filter.is_empty() {
            pair
        } else {
            filtered = pair.clone();
            if !filter.pair(&mut filtered, &mut summary.filter) {
                continue;
            }
            &filtered
        };
        let written = match pair.to_exchange(&mut summary.losses) {
            Some(ex) => writer
                .write(&ex, &mut summary.losses)
                .map_err(Error::Write)?,
            None => false,
        };
        if written {
            summary.written += 1;
        } else {
            summary.not_written += 1;
        }
    }
    Ok(())
}
