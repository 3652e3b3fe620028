//! The `merge` operation: many inputs, one output, each request answered once.
//!
//! Simulation outputs are one JSON document, so inputs are read whole, in parallel across
//! files, and merged in input order. http-types output streams: exchanges are written as they
//! are kept, and only digests of what was kept are remembered (`OnConflict::Last` is the
//! exception: a later answer replaces an earlier one, so the kept exchanges are held until
//! the end).
//!
//! One input, with [`Options::sort`], is sorted before it is written
//! ([`merge::sort_pairs`], [`merge::sort_exchanges`]): http-types output then holds every kept
//! exchange, as sorting needs them all. Several inputs keep the order given, so that path
//! stays bounded. The deduplication itself is [`crate::merge`]'s.

use super::look;
use crate::convert::{self, Summary};
use crate::filter::Filter;
use crate::formats::detect::Misnamed;
use crate::formats::hoverfly::WriteOptions;
use crate::formats::{self, Format, Input, ReadOptions, Writer};
use crate::loss::Losses;
use crate::merge::{
    self, ConflictError, Deduper, GlobalDedupers, OnConflict, Verdict, describe, digest,
};
use crate::meter::ReadMeter;
use crate::model::{Exchange, Pair, Simulation};
use rayon::prelude::*;
use std::io::{self, Write};
use std::sync::Arc;

/// How a merge reads, settles and writes.
pub struct Options {
    /// The input format, for every input (`None`: detected per file).
    pub from: Option<Format>,
    /// The output format.
    pub to: Format,
    /// What to do when inputs answer the same request differently.
    pub on_conflict: OnConflict,
    /// Sort what is kept ([`merge::sort_pairs`], [`merge::sort_exchanges`]); meant for one
    /// input, since sorting exchanges holds them all.
    pub sort: bool,
    /// Record where each kept pair came from: `meta.source` in http-types, a
    /// `wirecap-source=FILE:PLACE` label in Hoverfly.
    pub provenance: bool,
    /// Skip records that do not parse, and count them.
    pub keep_going: bool,
    /// How inputs are read.
    pub read: ReadOptions,
    /// How a simulation output is written.
    pub write: WriteOptions,
    /// Where inputs count the bytes they read, for a progress display.
    pub meter: Option<Arc<ReadMeter>>,
}

/// Everything one merge run tallies, across inputs.
pub struct Merged {
    /// The pairs offered, kept, folded and in conflict.
    pub pairs: Deduper,
    /// The same for global delays, literals and variables.
    pub globals: GlobalDedupers,
    /// Records read, invalid records, losses and the filter's tally.
    pub summary: Summary,
    /// Exchanges read that are not pairs at all (no response, no host, a binary request
    /// body): they cannot be compared, and are handed to the writer, which reports them.
    pub unpairable: u64,
    /// Items written.
    pub written: u64,
    /// Items kept but not written (the output format cannot hold them).
    pub not_written: u64,
    /// Inputs whose name said another format than their content, in input order.
    pub misnamed: Vec<Misnamed>,
}

impl Merged {
    /// Empty tallies for a run under `on_conflict` whose selection tallies as `filter` does.
    pub fn new(on_conflict: OnConflict, filter: &Filter) -> Self {
        Self {
            pairs: Deduper::new(on_conflict),
            globals: GlobalDedupers::new(on_conflict),
            summary: Summary {
                filter: filter.tally(),
                ..Summary::default()
            },
            unpairable: 0,
            written: 0,
            not_written: 0,
            misnamed: Vec::new(),
        }
    }
}

/// Why a merge stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input could not be opened.
    #[error(transparent)]
    Open(#[from] look::OpenError),
    /// An input could not be read, or the output format cannot be written.
    #[error(transparent)]
    Read(#[from] formats::Error),
    /// Exchanges could not be collected from an input.
    #[error(transparent)]
    Convert(#[from] convert::Error),
    /// Two inputs answer the same request differently, under [`OnConflict::Error`].
    #[error(transparent)]
    Conflict(#[from] ConflictError),
    /// Writing the output failed.
    #[error(transparent)]
    Write(#[from] io::Error),
    /// The merged simulation could not be written.
    #[error("writing the simulation")]
    Simulation(#[source] formats::Error),
    /// The merged simulation could not be flushed to the output.
    #[error("writing the simulation")]
    Flush(#[source] io::Error),
}

/// Merges `inputs` (paths, `-` for standard input) into `out` as `opts` says, tallying into
/// `merged`; returns the output, flushed, for the caller to commit.
pub fn run<W: Write + Send>(
    inputs: &[String],
    opts: &Options,
    filter: &Filter,
    merged: &mut Merged,
    out: W,
) -> Result<W, Error> {
    if opts.to.is_simulation() {
        into_simulation(inputs, opts, filter, merged, out)
    } else {
        streaming(inputs, opts, filter, merged, out)
    }
}

/// Opens and detects one input ([`look::detect`]); the note when its name misled goes into
/// `misnamed`.
fn open(
    name: &str,
    opts: &Options,
    misnamed: &mut Vec<Misnamed>,
) -> Result<(Input, Format), Error> {
    let (input, format, note) =
        look::detect(name, opts.from, opts.meter.as_ref()).map_err(|e| match e {
            look::Error::Open(e) => Error::Open(e),
            look::Error::Read(e) => Error::Read(e),
        })?;
    misnamed.extend(note);
    Ok((input, format))
}

/// One input read whole into a simulation, with its own tallies (and the note when its
/// name misled).
fn read_whole(
    name: &str,
    opts: &Options,
    filter: &Filter,
) -> Result<(Simulation, Summary, Vec<Misnamed>), Error> {
    let mut misnamed = Vec::new();
    let (input, format) = open(name, opts, &mut misnamed)?;
    let mut summary = Summary::default();
    let sim = if format.is_simulation() {
        let mut sim = formats::read_simulation(format, input, &opts.read, &mut summary.losses)?;
        filter.simulation(&mut sim, &mut summary.filter);
        sim
    } else {
        let exchanges = formats::read(format, input, &opts.read)?;
        let convert_opts = convert::Options {
            keep_going: opts.keep_going,
        };
        // collect() also keeps a capture's account, which --strict reads.
        let exchanges = convert::collect(exchanges, convert_opts, filter, &mut summary)?;
        Simulation::from_exchanges(exchanges, &mut summary.losses)
    };
    Ok((sim, summary, misnamed))
}

fn into_simulation<W: Write + Send>(
    inputs: &[String],
    opts: &Options,
    filter: &Filter,
    run: &mut Merged,
    mut out: W,
) -> Result<W, Error> {
    let read: Vec<(Simulation, Summary, Vec<Misnamed>)> = inputs
        .par_iter()
        .map(|name| read_whole(name, opts, filter))
        .collect::<Result<_, _>>()?;
    let mut sims = Vec::with_capacity(read.len());
    for ((sim, summary, misnamed), name) in read.into_iter().zip(inputs) {
        run.misnamed.extend(misnamed);
        // Exchanges that did not become pairs (no response, say) were noted as losses.
        let filtered = summary.filter.selection.filtered_out;
        run.unpairable += summary
            .read
            .saturating_sub(filtered + sim.pairs.len() as u64);
        run.summary.filter.merge(&summary.filter);
        run.summary.invalid += summary.invalid;
        run.summary
            .invalid_examples
            .extend(summary.invalid_examples);
        run.summary.losses.merge(summary.losses);
        if let Some(c) = summary.capture {
            let all = run.summary.capture.get_or_insert_with(Default::default);
            all.notes.merge(c.notes);
        }
        sims.push((name.clone(), sim));
    }
    run.not_written = run.unpairable;
    let mut merged = merge::merge_simulations(sims, &mut run.pairs, &mut run.globals)?;
    if opts.sort {
        merge::sort_pairs(&mut merged.pairs);
    }
    if opts.provenance {
        for pair in &mut merged.pairs {
            pair.labels.push(format!("wirecap-source={}", pair.source));
        }
    }
    let n = formats::write_simulation(
        opts.to,
        &merged,
        &opts.write,
        &mut out,
        &mut run.summary.losses,
    )
    .map_err(Error::Simulation)?;
    run.written = n as u64;
    run.not_written += (merged.pairs.len() as u64).saturating_sub(n as u64);
    out.flush().map_err(Error::Flush)?;
    Ok(out)
}

/// Where kept exchanges go: straight to the writer, or held until the end, for
/// [`OnConflict::Last`] (a later answer takes the place of an earlier one) or for sorting.
enum Kept {
    Streamed,
    Held {
        /// Every exchange to write, in input order; `None` for a pair with no exchange form.
        items: Vec<Option<Exchange>>,
        /// Where the deduper's n-th kept pair is in `items`: [`Verdict::Replace`] counts kept
        /// pairs only, not the unpairable exchanges held between them.
        slots: Vec<usize>,
    },
}

/// The exchange writer with the run's tallies: what one kept item needs to be written.
struct Output<'a, W: Write> {
    writer: Writer<W>,
    kept: Kept,
    run: &'a mut Merged,
    provenance: bool,
}

fn streaming<W: Write + Send>(
    inputs: &[String],
    opts: &Options,
    filter: &Filter,
    run: &mut Merged,
    out: W,
) -> Result<W, Error> {
    let writer = Writer::new(opts.to, out)?;
    let kept = if opts.sort || opts.on_conflict == OnConflict::Last {
        Kept::Held {
            items: Vec::new(),
            slots: Vec::new(),
        }
    } else {
        Kept::Streamed
    };
    let mut out = Output {
        writer,
        kept,
        run,
        provenance: opts.provenance,
    };
    for name in inputs {
        let (input, format) = open(name, opts, &mut out.run.misnamed)?;
        if format.is_simulation() {
            stream_simulation(name, input, format, opts, filter, &mut out)?;
        } else {
            stream_exchanges(input, format, opts, filter, &mut out)?;
        }
    }
    let Output {
        mut writer,
        kept,
        run,
        ..
    } = out;
    if let Kept::Held { items, .. } = kept {
        let mut exchanges = Vec::with_capacity(items.len());
        for ex in items {
            match ex {
                Some(ex) => exchanges.push(ex),
                None => run.not_written += 1,
            }
        }
        if opts.sort {
            merge::sort_exchanges(&mut exchanges);
        }
        for ex in &exchanges {
            write_one(&mut writer, run, ex)?;
        }
    }
    Ok(writer.finish()?)
}

/// A Hoverfly input of a streaming merge: its pairs offered in order.
fn stream_simulation<W: Write>(
    name: &str,
    input: Input,
    format: Format,
    opts: &Options,
    filter: &Filter,
    out: &mut Output<'_, W>,
) -> Result<(), Error> {
    let run = &mut *out.run;
    let mut sim = formats::read_simulation(format, input, &opts.read, &mut run.summary.losses)?;
    filter.simulation(&mut sim, &mut run.summary.filter);
    sim.note_global_losses(name, &mut run.summary.losses);
    for pair in &sim.pairs {
        let verdict = offer(&mut out.run.pairs, pair)?;
        let ex = match verdict {
            Verdict::Duplicate | Verdict::Dropped => continue,
            _ => pair.to_exchange(&mut out.run.summary.losses),
        };
        out.place(verdict, ex, pair)?;
    }
    Ok(())
}

/// An exchange input of a streaming merge: each exchange offered as the pair capture mode
/// would make of it, and written as it was read.
fn stream_exchanges<W: Write>(
    input: Input,
    format: Format,
    opts: &Options,
    filter: &Filter,
    out: &mut Output<'_, W>,
) -> Result<(), Error> {
    let mut exchanges = formats::read(format, input, &opts.read)?;
    for item in exchanges.by_ref() {
        let run = &mut *out.run;
        let mut ex = match item {
            Ok(ex) => ex,
            Err(e) => {
                let convert_opts = convert::Options {
                    keep_going: opts.keep_going,
                };
                run.summary.skip_invalid(e, convert_opts)?;
                continue;
            }
        };
        if !filter.exchange(&mut ex, &mut run.summary.filter) {
            continue;
        }
        // The pair is only the comparison key here; what capture mode would drop
        // (request headers) stays in the exchange that is written.
        let mut scratch = Losses::default();
        let Some(pair) = Pair::from_exchange(&ex, &mut scratch) else {
            run.unpairable += 1;
            match &mut out.kept {
                Kept::Streamed => write_one(&mut out.writer, run, &ex)?,
                Kept::Held { items, .. } => items.push(Some(ex)),
            }
            continue;
        };
        let verdict = offer(&mut run.pairs, &pair)?;
        if matches!(verdict, Verdict::Duplicate | Verdict::Dropped) {
            continue;
        }
        out.place(verdict, Some(ex), &pair)?;
    }
    // A capture's own account, so that --strict can see what did not become exchanges.
    if let Some(c) = exchanges.capture_stats() {
        let all = out.run.summary.capture.get_or_insert_with(Default::default);
        all.notes.merge(c.notes.clone());
    }
    Ok(())
}

fn offer(d: &mut Deduper, pair: &Pair) -> Result<Verdict, ConflictError> {
    d.offer(
        digest(&pair.request),
        digest(&pair.response),
        || describe(pair),
        || pair.source.to_string(),
    )
}

fn write_one<W: Write>(writer: &mut Writer<W>, run: &mut Merged, ex: &Exchange) -> io::Result<()> {
    if writer.write(ex, &mut run.summary.losses)? {
        run.written += 1;
    } else {
        run.not_written += 1;
    }
    Ok(())
}

impl<W: Write> Output<'_, W> {
    /// Writes or holds a kept pair's exchange (`None`: the pair has no exchange form).
    fn place(&mut self, verdict: Verdict, ex: Option<Exchange>, pair: &Pair) -> io::Result<()> {
        let ex = ex.map(|mut ex| {
            if self.provenance {
                ex.extra
                    .insert("source".to_owned(), pair.source.to_string().into());
            }
            ex
        });
        match &mut self.kept {
            Kept::Streamed => match ex {
                Some(ex) => write_one(&mut self.writer, self.run, &ex)?,
                None => self.run.not_written += 1,
            },
            Kept::Held { items, slots } => match verdict {
                Verdict::Replace(at) => items[slots[at]] = ex,
                _ => {
                    slots.push(items.len());
                    items.push(ex);
                }
            },
        }
        Ok(())
    }
}
