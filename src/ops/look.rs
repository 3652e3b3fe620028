//! Opening a file of any format to look at it rather than convert it ([`super::count`],
//! [`super::stats`]): the format detected, a Hoverfly document read whole, anything else
//! streamed as exchanges.

use crate::formats::detect::{self, Misnamed};
use crate::formats::{self, Exchanges, Format, Input, ReadOptions};
use crate::loss::Losses;
use crate::meter::ReadMeter;
use crate::model::Simulation;
use std::io;
use std::sync::Arc;

/// How `count` and `stats` read their inputs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The input format, for every input (`None`: detected per file).
    pub from: Option<Format>,
    /// Skip records that do not parse, and count them as invalid.
    pub keep_going: bool,
    /// How inputs are read.
    pub read: ReadOptions,
    /// Where inputs count the bytes they read, for a progress display.
    pub meter: Option<Arc<ReadMeter>>,
}

/// What a file of any format holds.
pub enum Contents {
    /// A Hoverfly document, read whole.
    Simulation(Simulation),
    /// Any other format's exchanges, as they are read.
    Exchanges(Exchanges),
}

/// A file opened for looking.
pub struct Opened {
    /// What it holds.
    pub contents: Contents,
    /// The note when its name said another format than its content ([`detect::misnamed`]).
    pub misnamed: Option<Misnamed>,
}

/// A file could not be opened; every operation over files says so in these words.
#[derive(Debug, thiserror::Error)]
#[error("opening {name}")]
pub struct OpenError {
    /// The file as named.
    pub name: String,
    /// The cause.
    #[source]
    pub source: io::Error,
}

/// Why a file could not be opened for looking.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// Its format could not be told, or reading it failed.
    #[error(transparent)]
    Read(#[from] formats::Error),
}

/// Opens `name` (`-` for standard input; counting its bytes into `meter`) and detects its
/// format (`from` first), with the note when the name misled.
pub fn detect(
    name: &str,
    from: Option<Format>,
    meter: Option<&Arc<ReadMeter>>,
) -> Result<(Input, Format, Option<Misnamed>), Error> {
    let mut input = Input::open_metered(name, meter).map_err(|source| OpenError {
        name: name.to_owned(),
        source,
    })?;
    let format = input.detect(from)?;
    let misnamed = from
        .is_none()
        .then(|| detect::misnamed(name, format))
        .flatten();
    Ok((input, format, misnamed))
}

/// Opens `name` as [`detect`] does and starts reading it. What a Hoverfly file loses on
/// reading is not reported: looking needs the pairs only.
pub fn open(
    name: &str,
    from: Option<Format>,
    opts: &ReadOptions,
    meter: Option<&Arc<ReadMeter>>,
) -> Result<Opened, Error> {
    let (input, format, misnamed) = detect(name, from, meter)?;
    let contents = if format.is_simulation() {
        let mut losses = Losses::default();
        Contents::Simulation(formats::read_simulation(format, input, opts, &mut losses)?)
    } else {
        Contents::Exchanges(formats::read(format, input, opts)?)
    };
    Ok(Opened { contents, misnamed })
}
