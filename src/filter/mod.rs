//! What a run keeps and what it hides: [`select`] picks exchanges by host, method, path,
//! status and time, and [`redact`] replaces secret values. Both run between the readers and
//! the writers, on exchanges and on Hoverfly pairs alike, so every output format gets the
//! same selection and nothing secret reaches any of them.

pub mod redact;
pub mod select;

use crate::model::{Exchange, Pair, Simulation};
use redact::{Redacted, Redaction};
use select::{SelectTally, Selection};
use serde::Serialize;

/// Selection and redaction for one run. The default keeps everything and redacts nothing.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Which exchanges are kept.
    pub select: Selection,
    /// What is redacted in the kept ones; `None` without `--redact`.
    pub redact: Option<Redaction>,
}

/// What a filter did: exchanges left out, and values redacted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    /// Exchanges or pairs left out by selection.
    #[serde(flatten)]
    pub selection: SelectTally,
    /// Values replaced, by kind; present when redaction was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redacted: Option<Redacted>,
}

impl Tally {
    /// Adds `other` into this tally.
    pub fn merge(&mut self, other: &Tally) {
        self.selection.merge(&other.selection);
        if let Some(r) = &other.redacted {
            self.redacted.get_or_insert_default().merge(r);
        }
    }
}

impl Filter {
    /// A tally to count into: with an empty redaction count when redaction is on, so a run
    /// that found nothing to redact says so.
    pub fn tally(&self) -> Tally {
        Tally {
            selection: SelectTally::default(),
            redacted: self.redact.as_ref().map(|_| Redacted::default()),
        }
    }

    /// Whether the filter keeps everything as it is.
    pub fn is_empty(&self) -> bool {
        self.select.is_empty() && self.redact.is_none()
    }

    /// Whether `ex` is kept; a kept exchange comes back redacted.
    pub fn exchange(&self, ex: &mut Exchange, tally: &mut Tally) -> bool {
        self.keep(self.select.check(ex), tally, |r, t| r.exchange(ex, t))
    }

    /// Whether the Hoverfly pair is kept (see [`Selection::check_pair`]); a kept pair comes
    /// back redacted.
    pub fn pair(&self, pair: &mut Pair, tally: &mut Tally) -> bool {
        self.keep(self.select.check_pair(pair), tally, |r, t| r.pair(pair, t))
    }

    fn keep(
        &self,
        verdict: Result<(), select::Reason>,
        tally: &mut Tally,
        redact: impl FnOnce(&Redaction, &mut Redacted),
    ) -> bool {
        if let Err(why) = verdict {
            tally.selection.record(why);
            return false;
        }
        if let Some(r) = &self.redact {
            redact(r, tally.redacted.get_or_insert_default());
        }
        true
    }

    /// Keeps the simulation's pairs that [`Filter::pair`] keeps, redacted. Global delays,
    /// literals and variables are left as they are.
    pub fn simulation(&self, sim: &mut Simulation, tally: &mut Tally) {
        if self.is_empty() {
            return;
        }
        sim.pairs.retain_mut(|p| self.pair(p, tally));
    }
}

/// ` (a 1, b 2)`, or nothing for no counts: the breakdown summaries print after a total.
fn write_counts<'a>(
    f: &mut std::fmt::Formatter<'_>,
    counts: impl IntoIterator<Item = (&'a str, u64)>,
) -> std::fmt::Result {
    let mut sep = " (";
    for (name, n) in counts {
        write!(f, "{sep}{name} {n}")?;
        sep = ", ";
    }
    if sep == ", " {
        f.write_str(")")?;
    }
    Ok(())
}
