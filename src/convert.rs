//! The conversion loop shared by `convert` and `merge`: exchanges from a reader into a writer,
//! with bad records either stopping the run or, with `keep_going`, skipped and counted.

use crate::formats::{self, Exchanges, Writer};
use crate::loss::Losses;
use crate::model::{Exchange, Simulation};
use serde::Serialize;
use std::io::Write;

/// How many skipped-record messages a summary keeps; the rest are only counted.
pub const MAX_KEPT_ERRORS: usize = 20;

/// Choices that change what a conversion does with bad or lossy input.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Skip records that do not parse instead of stopping at the first.
    pub keep_going: bool,
}

/// What a conversion read, wrote and skipped.
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
}

/// Reads every exchange from `input` into `writer` and tallies what happened.
pub fn run<W: Write>(
    input: Exchanges,
    writer: &mut Writer<W>,
    opts: Options,
    summary: &mut Summary,
) -> Result<(), Error> {
    for item in input {
        match item {
            Ok(ex) => {
                summary.read += 1;
                if writer
                    .write(&ex, &mut summary.losses)
                    .map_err(Error::Write)?
                {
                    summary.written += 1;
                } else {
                    summary.not_written += 1;
                }
            }
            Err(e) if opts.keep_going && e.is_recoverable() => {
                summary.invalid += 1;
                if summary.invalid_examples.len() < MAX_KEPT_ERRORS {
                    summary.invalid_examples.push(e.to_string());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Collects every exchange of `input` (for a simulation output), tallying like [`run`].
pub fn collect(
    input: Exchanges,
    opts: Options,
    summary: &mut Summary,
) -> Result<Vec<Exchange>, Error> {
    let mut out = Vec::new();
    for item in input {
        match item {
            Ok(ex) => {
                summary.read += 1;
                out.push(ex);
            }
            Err(e) if opts.keep_going && e.is_recoverable() => {
                summary.invalid += 1;
                if summary.invalid_examples.len() < MAX_KEPT_ERRORS {
                    summary.invalid_examples.push(e.to_string());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// Writes the pairs of a simulation that are exchanges (all matchers exact) into an exchange
/// writer; every other pair, and what exchanges cannot hold, is noted as loss.
pub fn run_pairs<W: Write>(
    sim: &Simulation,
    writer: &mut Writer<W>,
    summary: &mut Summary,
) -> Result<(), Error> {
    sim.note_global_losses(&mut summary.losses);
    for pair in &sim.pairs {
        summary.read += 1;
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
