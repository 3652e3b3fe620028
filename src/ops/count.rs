//! The `count` operation: each input opened ([`look::open`]) and counted, in parallel across
//! files (rayon, indexed, so the tallies keep input order), and the total.

use super::look::{self, Contents, Error};
use crate::count::{self, By, Tally};
use crate::formats::detect::Misnamed;
use crate::formats::{Format, ReadOptions};
use crate::meter::ReadMeter;
use rayon::prelude::*;
use std::sync::Arc;

/// How a count reads and what it breaks down by.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The input format, for every input (`None`: detected per file).
    pub from: Option<Format>,
    /// Break the count down by this key.
    pub by: Option<By>,
    /// Skip records that do not parse, and count them as invalid.
    pub keep_going: bool,
    /// How inputs are read.
    pub read: ReadOptions,
    /// Where inputs count the bytes they read, for a progress display.
    pub meter: Option<Arc<ReadMeter>>,
}

/// What a count found.
#[derive(Debug, Clone, Default)]
pub struct Counted {
    /// Each input's tally, in input order.
    pub files: Vec<Tally>,
    /// All of them added up.
    pub total: Tally,
    /// Inputs whose name said another format than their content, in input order.
    pub misnamed: Vec<Misnamed>,
}

/// Counts `inputs` (paths, `-` for standard input) as `opts` says.
pub fn run(inputs: &[String], opts: &Options) -> Result<Counted, Error> {
    let each: Vec<(Tally, Option<Misnamed>)> = inputs
        .par_iter()
        .map(|name| count_one(name, opts))
        .collect::<Result<_, _>>()?;
    let mut counted = Counted::default();
    for (tally, misnamed) in each {
        counted.total.add(&tally);
        counted.files.push(tally);
        counted.misnamed.extend(misnamed);
    }
    Ok(counted)
}

fn count_one(name: &str, opts: &Options) -> Result<(Tally, Option<Misnamed>), Error> {
    let opened = look::open(name, opts.from, &opts.read, opts.meter.as_ref())?;
    let tally = match opened.contents {
        Contents::Simulation(sim) => count::count_simulation(&sim, opts.by),
        Contents::Exchanges(exchanges) => {
            count::count_exchanges(exchanges, opts.by, opts.keep_going)?
        }
    };
    Ok((tally, opened.misnamed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_keep_input_order_and_add_up() {
        let inputs = [
            "testdata/http-types/py-recorder.jsonl".to_owned(),
            "testdata/hoverfly/legacy-records.json".to_owned(),
        ];
        let counted = run(&inputs, &Options::default()).expect("counted");
        assert_eq!(counted.files.len(), 2);
        assert_eq!(counted.files[0].count.all, 7);
        assert!(counted.files[1].count.templates.is_some());
        let sum: u64 = counted.files.iter().map(|t| t.count.all).sum();
        assert_eq!(counted.total.count.all, sum);
        assert!(counted.misnamed.is_empty());
    }
}
