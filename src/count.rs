//! Counting what a file holds, shaped like Hoverfly's `GET /api/v2/simulation/meta/count`.

use crate::formats::{self, Exchanges};
use crate::model::{Exchange, Simulation};
use serde::Serialize;
use std::collections::BTreeMap;

/// The `count` object: `all` and the kinds that apply to the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Count {
    /// Everything counted: `recordings + templates + delays`.
    pub all: u64,
    /// Exchanges, or pairs whose matchers are all exact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recordings: Option<u64>,
    /// Pairs with any non-exact matcher.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub templates: Option<u64>,
    /// Global delays, fixed and log-normal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delays: Option<u64>,
}

impl Count {
    /// Adds `other` into `self`, keeping a kind present when either has it.
    pub fn add(&mut self, other: &Count) {
        fn add(a: &mut Option<u64>, b: Option<u64>) {
            if let Some(b) = b {
                *a = Some(a.unwrap_or(0) + b);
            }
        }
        self.all += other.all;
        add(&mut self.recordings, other.recordings);
        add(&mut self.templates, other.templates);
        add(&mut self.delays, other.delays);
    }
}

/// What `--by` breaks the count down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// `host[:port]` of the request.
    Host,
    /// The request method, as sent.
    Method,
    /// The response status, or `none` without a response.
    Status,
}

impl By {
    /// The key an exchange falls under.
    pub fn key(self, ex: &Exchange) -> String {
        match self {
            By::Host => {
                let a = ex.request.authority();
                if a.is_empty() { "(none)".to_owned() } else { a }
            }
            By::Method => ex.request.method.clone(),
            By::Status => ex
                .response
                .as_ref()
                .map_or_else(|| "(none)".to_owned(), |r| r.status.to_string()),
        }
    }
}

/// A count, with its breakdown when one was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// The totals.
    pub count: Count,
    /// Totals per key, sorted by key.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub by: BTreeMap<String, u64>,
    /// Records that did not parse and were skipped (`--keep-going`).
    #[serde(skip_serializing_if = "is_zero")]
    pub invalid: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Tally {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Tally) {
        self.count.add(&other.count);
        for (k, n) in &other.by {
            *self.by.entry(k.clone()).or_default() += n;
        }
        self.invalid += other.invalid;
    }
}

/// Counts a stream of exchanges: each is a recording.
pub fn count_exchanges(
    exchanges: Exchanges,
    by: Option<By>,
    keep_going: bool,
) -> Result<Tally, formats::Error> {
    let mut tally = Tally {
        count: Count {
            recordings: Some(0),
            ..Count::default()
        },
        ..Tally::default()
    };
    for item in exchanges {
        match item {
            Ok(ex) => {
                tally.count.all += 1;
                if let Some(r) = &mut tally.count.recordings {
                    *r += 1;
                }
                if let Some(by) = by {
                    *tally.by.entry(by.key(&ex)).or_default() += 1;
                }
            }
            // A blank JSONL line holds no exchange; `convert` skips it with a note.
            Err(e) if e.blank_line().is_some() => {}
            Err(e) if keep_going && e.is_recoverable() => tally.invalid += 1,
            Err(e) => return Err(e),
        }
    }
    Ok(tally)
}

/// Counts a Hoverfly simulation like the planned `GET /api/v2/simulation/meta/count`: a pair
/// whose matchers are all `exact` is a recording, any other a template; fixed and log-normal
/// global delays are delays. `--by` keys come from exact matchers, `(any)` otherwise.
pub fn count_simulation(sim: &Simulation, by: Option<By>) -> Tally {
    let recordings = sim
        .pairs
        .iter()
        .filter(|p| p.request.is_all_exact())
        .count() as u64;
    let templates = sim.pairs.len() as u64 - recordings;
    let delays = (sim.delays.len() + sim.delays_log_normal.len()) as u64;
    let mut tally = Tally {
        count: Count {
            all: recordings + templates + delays,
            recordings: Some(recordings),
            templates: Some(templates),
            delays: Some(delays),
        },
        ..Tally::default()
    };
    if let Some(by) = by {
        for p in &sim.pairs {
            let exact = |ms: &[crate::model::Matcher]| match ms {
                [m] => m.exact_value().map(str::to_owned),
                _ => None,
            };
            let key = match by {
                By::Host => exact(&p.request.destination),
                By::Method => exact(&p.request.method),
                By::Status => Some(p.response.status.to_string()),
            };
            *tally
                .by
                .entry(key.unwrap_or_else(|| "(any)".to_owned()))
                .or_default() += 1;
        }
    }
    tally
}
