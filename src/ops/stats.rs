//! The `stats` operation: each input opened ([`look::open`]) and gathered, in parallel across
//! files (rayon, indexed), then added up in input order into one [`Gathered`].

use super::look::{self, Contents, Error, Options};
use crate::formats::detect::Misnamed;
use crate::loss::Losses;
use crate::stats::{self, Gathered};
use rayon::prelude::*;

/// What the inputs hold, all together.
#[derive(Debug, Default)]
pub struct Looked {
    /// Every input's exchanges and pairs, gathered.
    pub gathered: Gathered,
    /// Inputs whose name said another format than their content, in input order.
    pub misnamed: Vec<Misnamed>,
}

/// Gathers `inputs` (paths, `-` for standard input), read as `opts` says. A Hoverfly pair is
/// measured as the exchange it stands for; one with any non-exact matcher (a template) is
/// counted as not measured.
pub fn run(inputs: &[String], opts: &Options) -> Result<Looked, Error> {
    let each: Vec<(Gathered, Option<Misnamed>)> = inputs
        .par_iter()
        .map(|name| gather_one(name, opts))
        .collect::<Result<_, _>>()?;
    let mut looked = Looked::default();
    for (gathered, misnamed) in each {
        looked.gathered.add(gathered);
        looked.misnamed.extend(misnamed);
    }
    Ok(looked)
}

fn gather_one(name: &str, opts: &Options) -> Result<(Gathered, Option<Misnamed>), Error> {
    let opened = look::open(name, opts.from, &opts.read, opts.meter.as_ref())?;
    let mut g = Gathered::default();
    match opened.contents {
        Contents::Simulation(sim) => {
            for pair in &sim.pairs {
                match pair.to_exchange(&mut Losses::default()) {
                    Some(ex) => g.exchange(&ex),
                    None => g.not_measured(),
                }
            }
        }
        Contents::Exchanges(exchanges) => {
            stats::gather_exchanges(exchanges, opts.keep_going, &mut g)?
        }
    }
    Ok((g, opened.misnamed))
}
