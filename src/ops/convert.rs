//! The `convert` operation: inputs opened and detected, then read into one output.
//!
//! It runs in two steps, so that the caller creates its output between them, once the
//! inputs are known to open: [`open`] opens and detects every input (several must all be
//! captures, read as one) and, for a conversion from or to Hoverfly, reads the whole
//! simulation; [`Opened::write`] (or [`Opened::split_by_host`]) then streams exchanges into
//! the writer, or writes the simulation as one document. The loops themselves are
//! [`crate::convert`]'s.

use super::look;
use crate::convert::{self, Summary};
use crate::filter::Filter;
use crate::formats::detect::Misnamed;
use crate::formats::hoverfly::WriteOptions;
use crate::formats::{self, Exchanges, Format, ReadOptions, Writer};
use crate::meter::ReadMeter;
use crate::model::{Simulation, Timestamp};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How a conversion reads and writes.
#[derive(Debug, Clone)]
pub struct Options {
    /// The input format, for every input (`None`: detected per input).
    pub from: Option<Format>,
    /// The output format.
    pub to: Format,
    /// Skip records that do not parse, and count them.
    pub keep_going: bool,
    /// How inputs are read.
    pub read: ReadOptions,
    /// How a simulation output is written. Its `time_exported`, when set, is forced on every
    /// output; when `None`, the input's own is kept, else [`Options::clock`] is written.
    pub write: WriteOptions,
    /// `meta.timeExported` of a simulation output that neither `write` nor the input dates:
    /// the time of the run.
    pub clock: Timestamp,
    /// Where inputs count the bytes they read, for a progress display.
    pub meter: Option<Arc<ReadMeter>>,
}

/// Why a conversion stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input could not be opened.
    #[error(transparent)]
    Open(#[from] look::OpenError),
    /// An input's format could not be told, several inputs are not all captures, reading
    /// failed, or the output format cannot be written.
    #[error(transparent)]
    Format(#[from] formats::Error),
    /// Exchanges could not be collected for a simulation output.
    #[error("reading {label}")]
    Collect {
        /// The inputs, as [`Opened::label`] names them.
        label: String,
        /// The cause (boxed: the variant would otherwise be the largest by far).
        #[source]
        source: Box<convert::Error>,
    },
    /// Exchanges could not be converted into the output (a read or a write failed).
    #[error(transparent)]
    Convert(convert::Error),
    /// A simulation's pairs could not be written as exchanges.
    #[error("converting the pairs")]
    Pairs(#[source] convert::Error),
    /// A simulation could not be written.
    #[error("writing the simulation")]
    Simulation(#[source] formats::Error),
    /// The output could not be finished (the last bytes written and flushed).
    #[error("finishing the output")]
    Finish(#[source] io::Error),
}

/// What is read: a stream of exchanges, or a simulation read whole.
enum Source {
    Exchanges(Exchanges),
    /// A simulation, and whether it was read as one (a Hoverfly input) rather than built
    /// from exchanges for a Hoverfly output.
    Simulation(Simulation, bool),
}

/// The inputs of a conversion, opened, with what has been tallied so far.
pub struct Opened {
    /// The first input's format (several inputs are all captures).
    pub from: Format,
    /// The inputs as messages name them: the one input, or the first of several and how
    /// many more.
    pub label: String,
    /// Inputs whose name said another format than their content, in input order.
    pub misnamed: Vec<Misnamed>,
    /// What was read, written and skipped; complete once written.
    pub summary: Summary,
    /// Whether [`Opened::is_whole`].
    whole: bool,
    /// What is left to write.
    source: Option<Source>,
}

/// The inputs as messages name them: the one input, or the first of several captures and how
/// many more.
pub fn label(inputs: &[String]) -> String {
    match inputs {
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} and {} more", rest.len()),
        [] => "-".to_owned(),
    }
}

/// Opens and detects `inputs` (paths, `-` for standard input) as `opts` says. A conversion
/// from or to Hoverfly reads its simulation here, whole; any other starts reading.
pub fn open(inputs: &[String], opts: &Options, filter: &Filter) -> Result<Opened, Error> {
    let mut opened = Vec::with_capacity(inputs.len());
    let mut misnamed = Vec::new();
    for name in inputs {
        let (input, format, note) =
            look::detect(name, opts.from, opts.meter.as_ref()).map_err(|e| match e {
                look::Error::Open(e) => Error::Open(e),
                look::Error::Read(e) => Error::Format(e),
            })?;
        misnamed.extend(note);
        opened.push((input, format));
    }
    formats::check_capture_set(&opened)?;
    let from = opened.first().map_or(Format::HttpTypes, |(_, f)| *f);
    let label = label(inputs);
    let mut summary = Summary {
        filter: filter.tally(),
        ..Summary::default()
    };
    let source = if from.is_simulation() || opts.to.is_simulation() {
        // Several inputs are all captures (checked above), so a simulation is read alone.
        match opened.pop() {
            Some((input, from)) if from.is_simulation() => {
                let sim = formats::read_simulation(from, input, &opts.read, &mut summary.losses)?;
                Source::Simulation(sim, true)
            }
            last => {
                opened.extend(last);
                let exchanges = formats::read_inputs(opened, &opts.read)?;
                let exchanges =
                    convert::collect(exchanges, convert_opts(opts), filter, &mut summary).map_err(
                        |source| Error::Collect {
                            label: label.clone(),
                            source: Box::new(source),
                        },
                    )?;
                Source::Simulation(
                    Simulation::from_exchanges(exchanges, &mut summary.losses),
                    false,
                )
            }
        }
    } else {
        Source::Exchanges(formats::read_inputs(opened, &opts.read)?)
    };
    Ok(Opened {
        from,
        label,
        misnamed,
        summary,
        whole: matches!(source, Source::Simulation(..)),
        source: Some(source),
    })
}

fn convert_opts(opts: &Options) -> convert::Options {
    convert::Options {
        keep_going: opts.keep_going,
    }
}

impl Opened {
    /// Whether the conversion goes through a simulation read whole (it is from or to
    /// Hoverfly), rather than streaming exchanges.
    pub fn is_whole(&self) -> bool {
        self.whole
    }

    /// Writes what the inputs hold into `out` as `opts.to`, tallying into
    /// [`Opened::summary`]; returns `out`, its writer finished, for the caller to commit. A
    /// simulation output is one document; pairs written as exchanges are selected as pairs.
    /// Writes once: a second call writes nothing.
    pub fn write<W: Write + Send>(
        &mut self,
        mut out: W,
        opts: &Options,
        filter: &Filter,
    ) -> Result<W, Error> {
        let summary = &mut self.summary;
        match self.source.take() {
            Some(Source::Simulation(mut sim, read_whole)) if opts.to.is_simulation() => {
                if read_whole {
                    summary.read = sim.pairs.len() as u64;
                    filter.simulation(&mut sim, &mut summary.filter);
                }
                let write = WriteOptions {
                    time_exported: time_exported(opts, &sim),
                    ..opts.write.clone()
                };
                let n =
                    formats::write_simulation(opts.to, &sim, &write, &mut out, &mut summary.losses)
                        .map_err(Error::Simulation)?;
                summary.written = n as u64;
                summary.not_written = summary
                    .read
                    .saturating_sub(summary.filter.selection.filtered_out + n as u64);
                Ok(out)
            }
            Some(Source::Simulation(sim, _)) => {
                let mut writer = Writer::new(opts.to, out)?;
                convert::run_pairs(&sim, &self.label, filter, &mut writer, summary)
                    .map_err(Error::Pairs)?;
                writer.finish().map_err(Error::Finish)
            }
            Some(Source::Exchanges(exchanges)) => {
                let mut writer = Writer::new(opts.to, out)?;
                convert::run(exchanges, &mut writer, convert_opts(opts), filter, summary)
                    .map_err(Error::Convert)?;
                writer.finish().map_err(Error::Finish)
            }
            None => Ok(out),
        }
    }

    /// Writes each host's exchanges to its own file in `dir` as `opts.to`
    /// ([`convert::run_split`]; none of the files may be one of `inputs`), tallying into
    /// [`Opened::summary`]; returns the files written. A simulation (a conversion from or to
    /// Hoverfly) is not split: nothing is written, and the caller writes it with
    /// [`Opened::write`].
    pub fn split_by_host(
        &mut self,
        dir: &Path,
        inputs: &[&Path],
        opts: &Options,
        filter: &Filter,
    ) -> Result<Vec<PathBuf>, Error> {
        let Some(Source::Exchanges(exchanges)) = self.source.take() else {
            return Ok(Vec::new());
        };
        let copts = convert_opts(opts);
        convert::run_split(
            exchanges,
            dir,
            opts.to,
            inputs,
            copts,
            filter,
            &mut self.summary,
        )
        .map_err(Error::Convert)
    }
}

/// `meta.timeExported` of a simulation output: the forced one, else the input's own
/// (`None` keeps it), else the time of the run.
fn time_exported(opts: &Options, sim: &Simulation) -> Option<Timestamp> {
    match opts.write.time_exported {
        Some(t) => Some(t),
        None if sim.meta.time_exported.is_some() => None,
        None => Some(opts.clock),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `file` converted to `to` in memory, with no selection: what was opened, and the output.
    fn convert(file: &str, to: Format) -> (Opened, Vec<u8>) {
        let opts = Options {
            from: None,
            to,
            keep_going: false,
            read: ReadOptions::default(),
            write: WriteOptions::default(),
            clock: Timestamp::from_unix(0, 0),
            meter: None,
        };
        let filter = Filter::default();
        let mut opened = open(&[file.to_owned()], &opts, &filter).expect("opened");
        let out = opened.write(Vec::new(), &opts, &filter).expect("written");
        (opened, out)
    }

    #[test]
    fn exchanges_stream_into_the_output() {
        let (opened, out) = convert("testdata/http-types/py-recorder.jsonl", Format::HttpTypes);
        assert!(!opened.is_whole());
        let lines = out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
        assert_eq!((opened.summary.read, opened.summary.written), (7, 7));
        assert_eq!(lines, 7);
    }

    #[test]
    fn a_simulation_is_read_whole_and_misnamed_inputs_are_noted() {
        let file = "testdata/bad/mixed/hoverfly-named-pcap.pcap";
        let (opened, out) = convert(file, Format::Hoverfly);
        assert!(opened.is_whole());
        assert_eq!(opened.from, Format::Hoverfly);
        assert_eq!(opened.misnamed.len(), 1);
        let doc: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
        assert_eq!(doc["data"]["pairs"].as_array().map(Vec::len), Some(1));
        assert_eq!(opened.summary.written, 1);
    }
}
