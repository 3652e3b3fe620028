//! Merging: many inputs into one simulation or recording, written once per request.
//!
//! Every input item is seen as a Hoverfly pair (exchanges become the pair Hoverfly's capture
//! mode would write), so "the same request" means the same request matchers in every format.
//! A pair whose matchers and response both equal an earlier one is a duplicate and folded; the
//! same matchers with another response is a conflict, settled by [`OnConflict`]. Global delays,
//! literals and variables are merged the same way, keyed by pattern and method, or by name.
//!
//! Only 128-bit digests of what was kept are remembered, so streaming outputs (JSONL) need
//! memory in proportion to the distinct requests, not to the inputs' size.

use crate::model::simulation::{Delay, Literal, LogNormalDelay, Variable};
use crate::model::{Pair, Simulation, Source};
use serde::Serialize;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};

/// How many conflicts a summary describes one by one; the rest are only counted.
pub const MAX_REPORTED_CONFLICTS: usize = 100;

/// What to do when two inputs answer the same request differently.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnConflict {
    /// Keep the first answer (Hoverfly serves the first matching pair).
    #[default]
    First,
    /// Keep the last answer, in the place of the first.
    Last,
    /// Keep every answer, in input order.
    KeepAll,
    /// Stop at the first conflict.
    Error,
}

/// Two inputs that answer the same request differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// What the request or global action is, e.g. `GET a.test/pets`.
    pub what: String,
    /// Where the answer that is kept came from.
    pub kept: String,
    /// Where the other answer came from.
    pub other: String,
}

/// A conflict under [`OnConflict::Error`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("conflict: {} is answered differently by {} and {}", .0.what, .0.kept, .0.other)]
pub struct ConflictError(pub Conflict);

/// Tallies of a merge. `read = written + duplicates + conflicts_dropped` for pairs and for
/// global actions alike, when every read pair could be written.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    /// Pairs (or exchanges) offered.
    pub read: u64,
    /// Pairs kept.
    pub kept: u64,
    /// Identical repeats folded into the first.
    pub duplicates: u64,
    /// Conflicting answers left out (`first`, `last`).
    pub conflicts_dropped: u64,
    /// Conflicting answers kept beside each other (`keep-all`).
    pub conflicts_kept: u64,
}

/// What a merge decided about one offered item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// New: append it.
    Keep,
    /// New answer for a request seen before, kept beside the earlier one (`keep-all`).
    KeepBeside,
    /// Replaces the item kept at this index (`last`).
    Replace(usize),
    /// Identical to an earlier item: leave it out.
    Duplicate,
    /// A conflicting answer that loses (`first`): leave it out.
    Dropped,
}

#[derive(Debug, Clone)]
struct Seen {
    answer: u128,
    index: usize,
    source: String,
}

/// Decides, item by item, what a merged output keeps. Items are numbered in the order they
/// were kept (or would be, for streaming writers); [`Verdict::Replace`] refers to that number.
#[derive(Debug)]
pub struct Deduper {
    policy: OnConflict,
    seen: HashMap<u128, Seen>,
    kept: usize,
    /// The tallies so far.
    pub tally: Tally,
    /// The first conflicts, described.
    pub conflicts: Vec<Conflict>,
}

impl Deduper {
    /// A deduper applying `policy`.
    pub fn new(policy: OnConflict) -> Self {
        Self {
            policy,
            seen: HashMap::new(),
            kept: 0,
            tally: Tally::default(),
            conflicts: Vec::new(),
        }
    }

    /// Offers one item: `key` is what makes two items "the same request", `answer` what they
    /// answer with, `what` and `source` describe it for reports.
    pub fn offer(
        &mut self,
        key: u128,
        answer: u128,
        what: impl FnOnce() -> String,
        source: impl FnOnce() -> String,
    ) -> Result<Verdict, ConflictError> {
        self.tally.read += 1;
        let seen = match self.seen.entry(key) {
            Entry::Vacant(v) => {
                v.insert(Seen {
                    answer,
                    index: self.kept,
                    source: source(),
                });
                self.kept += 1;
                self.tally.kept += 1;
                return Ok(Verdict::Keep);
            }
            Entry::Occupied(o) => o.into_mut(),
        };
        if seen.answer == answer {
            self.tally.duplicates += 1;
            return Ok(Verdict::Duplicate);
        }
        let other = source();
        let (kept, dropped) = match self.policy {
            OnConflict::Last => (other.clone(), seen.source.clone()),
            _ => (seen.source.clone(), other.clone()),
        };
        let conflict = Conflict {
            what: what(),
            kept,
            other: dropped,
        };
        let verdict = match self.policy {
            OnConflict::Error => return Err(ConflictError(conflict)),
            OnConflict::First => {
                self.tally.conflicts_dropped += 1;
                Verdict::Dropped
            }
            OnConflict::Last => {
                self.tally.conflicts_dropped += 1;
                seen.answer = answer;
                seen.source = other;
                Verdict::Replace(seen.index)
            }
            OnConflict::KeepAll => {
                self.tally.conflicts_kept += 1;
                self.tally.kept += 1;
                self.kept += 1;
                Verdict::KeepBeside
            }
        };
        if self.conflicts.len() < MAX_REPORTED_CONFLICTS {
            self.conflicts.push(conflict);
        }
        Ok(verdict)
    }

    /// How many conflicts there were in all.
    pub fn conflict_count(&self) -> u64 {
        self.tally.conflicts_dropped + self.tally.conflicts_kept
    }
}

/// A 128-bit digest of anything serialisable, stable across runs and platforms of one build.
pub fn digest<T: Serialize + ?Sized>(value: &T) -> u128 {
    let bytes = serde_json::to_vec(value).expect("model values serialise to JSON");
    let half = |salt: u8| {
        let mut h = std::hash::DefaultHasher::new();
        salt.hash(&mut h);
        bytes.hash(&mut h);
        h.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

/// A short description of the request a pair matches: `GET a.test/pets?x=1`, from its exact
/// matchers, or the matcher names when they are not exact.
pub fn describe(pair: &Pair) -> String {
    let r = &pair.request;
    let one = |ms: &[crate::model::Matcher]| match ms {
        [] => "*".to_owned(),
        [m] => m
            .exact_value()
            .map_or_else(|| format!("<{}>", m.matcher), str::to_owned),
        _ => "<several>".to_owned(),
    };
    let mut out = format!("{} {}{}", one(&r.method), one(&r.destination), one(&r.path));
    if let Some(query) = r.query.as_ref().filter(|q| !q.is_empty()) {
        let parts: Vec<String> = query
            .iter()
            .map(|(k, ms)| format!("{k}={}", one(ms)))
            .collect();
        out.push('?');
        out.push_str(&parts.join("&"));
    }
    out
}

fn source_of(source: &Source) -> String {
    source.to_string()
}

/// Merges the global parts of `from` into `into`: delays by (pattern, method), log-normal
/// delays likewise, literals and variables by name. Each input's file name is `file`.
pub fn merge_globals(
    into: &mut Simulation,
    from: Simulation,
    file: &str,
    globals: &mut GlobalDedupers,
) -> Result<(), ConflictError> {
    fn apply<T: Serialize>(
        items: Vec<T>,
        kept: &mut Vec<T>,
        d: &mut Deduper,
        key: impl Fn(&T) -> (String, String),
        kind: &str,
        file: &str,
    ) -> Result<(), ConflictError> {
        for (i, item) in items.into_iter().enumerate() {
            let (a, b) = key(&item);
            let verdict = d.offer(
                digest(&(kind, &a, &b)),
                digest(&item),
                || format!("{kind} {a} {b}").trim_end().to_owned(),
                || format!("{file}: {kind} {i}"),
            )?;
            match verdict {
                Verdict::Keep | Verdict::KeepBeside => kept.push(item),
                Verdict::Replace(at) => kept[at] = item,
                Verdict::Duplicate | Verdict::Dropped => {}
            }
        }
        Ok(())
    }
    let delay_key = |d: &Delay| (d.url_pattern.clone(), d.http_method.clone());
    let log_key = |d: &LogNormalDelay| (d.url_pattern.clone(), d.http_method.clone());
    let lit_key = |l: &Literal| (l.name.clone(), String::new());
    let var_key = |v: &Variable| (v.name.clone(), String::new());
    apply(
        from.delays,
        &mut into.delays,
        &mut globals.delays,
        delay_key,
        "delay",
        file,
    )?;
    apply(
        from.delays_log_normal,
        &mut into.delays_log_normal,
        &mut globals.delays,
        log_key,
        "log-normal delay",
        file,
    )?;
    apply(
        from.literals,
        &mut into.literals,
        &mut globals.names,
        lit_key,
        "literal",
        file,
    )?;
    apply(
        from.variables,
        &mut into.variables,
        &mut globals.names,
        var_key,
        "variable",
        file,
    )?;
    Ok(())
}

/// Dedupers for the global parts of a simulation.
#[derive(Debug)]
pub struct GlobalDedupers {
    /// Delays and log-normal delays.
    pub delays: Deduper,
    /// Literals and variables.
    pub names: Deduper,
}

impl GlobalDedupers {
    /// Dedupers applying `policy`.
    pub fn new(policy: OnConflict) -> Self {
        Self {
            delays: Deduper::new(policy),
            names: Deduper::new(policy),
        }
    }
}

/// Merges whole simulations, in order, into one.
pub fn merge_simulations(
    inputs: impl IntoIterator<Item = (String, Simulation)>,
    pairs: &mut Deduper,
    globals: &mut GlobalDedupers,
) -> Result<Simulation, ConflictError> {
    let mut out = Simulation::default();
    for (file, mut sim) in inputs {
        for pair in std::mem::take(&mut sim.pairs) {
            let verdict = pairs.offer(
                digest(&pair.request),
                digest(&pair.response),
                || describe(&pair),
                || source_of(&pair.source),
            )?;
            match verdict {
                Verdict::Keep | Verdict::KeepBeside => out.pairs.push(pair),
                Verdict::Replace(at) => out.pairs[at] = pair,
                Verdict::Duplicate | Verdict::Dropped => {}
            }
        }
        merge_globals(&mut out, sim, &file, globals)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(d: &mut Deduper, key: u128, answer: u128, src: &str) -> Result<Verdict, String> {
        d.offer(key, answer, || format!("req {key}"), || src.to_owned())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn duplicates_fold_and_conflicts_follow_the_policy() {
        let mut first = Deduper::new(OnConflict::First);
        assert_eq!(offer(&mut first, 1, 10, "a:1"), Ok(Verdict::Keep));
        assert_eq!(offer(&mut first, 1, 10, "b:1"), Ok(Verdict::Duplicate));
        assert_eq!(offer(&mut first, 1, 11, "b:2"), Ok(Verdict::Dropped));
        assert_eq!(offer(&mut first, 2, 11, "b:3"), Ok(Verdict::Keep));
        assert_eq!(
            (
                first.tally.read,
                first.tally.kept,
                first.tally.duplicates,
                first.tally.conflicts_dropped
            ),
            (4, 2, 1, 1)
        );
        assert_eq!(
            first.conflicts[0],
            Conflict {
                what: "req 1".into(),
                kept: "a:1".into(),
                other: "b:2".into()
            }
        );

        let mut last = Deduper::new(OnConflict::Last);
        offer(&mut last, 1, 10, "a:1").unwrap();
        offer(&mut last, 2, 10, "a:2").unwrap();
        assert_eq!(offer(&mut last, 1, 11, "b:1"), Ok(Verdict::Replace(0)));
        assert_eq!(
            offer(&mut last, 1, 10, "c:1"),
            Ok(Verdict::Replace(0)),
            "the earlier answer is now the other one"
        );

        let mut all = Deduper::new(OnConflict::KeepAll);
        offer(&mut all, 1, 10, "a:1").unwrap();
        assert_eq!(offer(&mut all, 1, 11, "b:1"), Ok(Verdict::KeepBeside));
        assert_eq!(all.tally.kept, 2);

        let mut strict = Deduper::new(OnConflict::Error);
        offer(&mut strict, 1, 10, "a:1").unwrap();
        assert_eq!(
            offer(&mut strict, 1, 11, "b:7"),
            Err("conflict: req 1 is answered differently by a:1 and b:7".into())
        );
    }

    #[test]
    fn read_is_kept_plus_folded_plus_dropped() {
        let mut d = Deduper::new(OnConflict::First);
        for (k, a) in [(1, 1), (1, 1), (1, 2), (2, 1), (3, 3), (3, 4), (3, 3)] {
            offer(&mut d, k, a, "x").unwrap();
        }
        let t = &d.tally;
        assert_eq!(t.read, t.kept + t.duplicates + t.conflicts_dropped);
    }
}
