//! The `count` operation: each input opened ([`look::open`]) and counted, in parallel across
//! files (rayon, indexed, so the tallies keep input order), and the total.

use super::look::{self, Contents, Error, Options};
use crate::count::{self, By, Tally};
use crate::formats::detect::Misnamed;
use rayon::prelude::*;

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

/// Counts `inputs` (paths, `-` for standard input), read as `opts` says, broken down `by`
/// a key when one is given.
pub fn run(inputs: &[String], by: Option<By>, opts: &Options) -> Result<Counted, Error> {
    let each: Vec<(Tally, Option<Misnamed>)> = inputs
        .par_iter()
        .map(|name| count_one(name, by, opts))
        .collect::<Result<_, _>>()?;
    let mut counted = Counted::default();
    for (tally, misnamed) in each {
        counted.total.add(&tally);
        counted.files.push(tally);
        counted.misnamed.extend(misnamed);
    }
    Ok(counted)
}

fn count_one(
    name: &str,
    by: Option<By>,
    opts: &Options,
) -> Result<(Tally, Option<Misnamed>), Error> {
    let opened = look::open(name, opts.from, &opts.read, opts.meter.as_ref())?;
    let tally = match opened.contents {
        Contents::Simulation(sim) => count::count_simulation(&sim, by),
        Contents::Exchanges(exchanges) => count::count_exchanges(exchanges, by, opts.keep_going)?,
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
        let counted = run(&inputs, None, &Options::default()).expect("counted");
        assert_eq!(counted.files.len(), 2);
        assert_eq!(counted.files[0].count.all, 7);
        assert!(counted.files[1].count.templates.is_some());
        let sum: u64 = counted.files.iter().map(|t| t.count.all).sum();
        assert_eq!(counted.total.count.all, sum);
        assert!(counted.misnamed.is_empty());
    }
}
