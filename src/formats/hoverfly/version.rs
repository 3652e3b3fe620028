//! The simulation `schemaVersion`s wirecap writes, and the oldest one a simulation needs.

use crate::model::{Pair, Simulation};
use std::fmt;
use std::str::FromStr;

/// A simulation `schemaVersion` wirecap writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SchemaVersion {
    /// v1: plain strings (Hoverfly v0.9–v0.10).
    V1,
    /// v2: field-matcher objects (v0.11–v0.12).
    V2,
    /// v3: v2 plus `templated` (v0.13).
    V3,
    /// v4: v3 plus state (v0.14–v0.16).
    V4,
    /// v5: matcher arrays (v0.17–v1.2; `delaysLogNormal` from v1.0).
    V5,
    /// v5.1: `bodyFile`, `fixedDelay`, `logNormalDelay` (v1.3–v1.4).
    V5_1,
    /// v5.2: literals, variables, matcher `config`/`doMatch`, `postServeAction` (v1.5–v1.9).
    V5_2,
    /// v5.3: `labels` (v1.10+).
    V5_3,
}

impl SchemaVersion {
    /// Every version, oldest first.
    pub const ALL: [SchemaVersion; 8] = [
        SchemaVersion::V1,
        SchemaVersion::V2,
        SchemaVersion::V3,
        SchemaVersion::V4,
        SchemaVersion::V5,
        SchemaVersion::V5_1,
        SchemaVersion::V5_2,
        SchemaVersion::V5_3,
    ];

    /// The `meta.schemaVersion` string.
    pub fn name(self) -> &'static str {
        match self {
            SchemaVersion::V1 => "v1",
            SchemaVersion::V2 => "v2",
            SchemaVersion::V3 => "v3",
            SchemaVersion::V4 => "v4",
            SchemaVersion::V5 => "v5",
            SchemaVersion::V5_1 => "v5.1",
            SchemaVersion::V5_2 => "v5.2",
            SchemaVersion::V5_3 => "v5.3",
        }
    }

    /// The oldest Hoverfly release that imports this version.
    pub fn oldest_hoverfly(self) -> &'static str {
        match self {
            SchemaVersion::V1 => "v0.9.0",
            SchemaVersion::V2 => "v0.11.0",
            SchemaVersion::V3 => "v0.13.0",
            SchemaVersion::V4 => "v0.14.0",
            SchemaVersion::V5 => "v0.17.0",
            SchemaVersion::V5_1 => "v1.3.0",
            SchemaVersion::V5_2 => "v1.5.0",
            SchemaVersion::V5_3 => "v1.10.0",
        }
    }

    /// The oldest v5.x that expresses everything in `sim` (the writer's default): v5 for
    /// plain recordings, v5.1 for `bodyFile` and per-response delays, v5.2 for literals,
    /// variables, `postServeAction`, matcher `config`/`doMatch` and the matchers Hoverfly
    /// v1.5+ added (`array`, `form`, `jwt`, `negate`, `jwtjsonpath`), v5.3 for labels.
    pub fn required_for(sim: &Simulation) -> SchemaVersion {
        let mut v = SchemaVersion::V5;
        if !sim.literals.is_empty() || !sim.variables.is_empty() {
            v = v.max(SchemaVersion::V5_2);
        }
        for p in &sim.pairs {
            v = v.max(pair_version(p));
        }
        v
    }
}

pub(super) fn pair_version(p: &Pair) -> SchemaVersion {
    let mut v = SchemaVersion::V5;
    let r = &p.response;
    if r.body_file.is_some() || r.fixed_delay.is_some() || r.log_normal_delay.is_some() {
        v = v.max(SchemaVersion::V5_1);
    }
    if r.post_serve_action.is_some()
        || p.request
            .matchers()
            .any(|m| m.config.is_some() || m.do_match.is_some())
    {
        v = v.max(SchemaVersion::V5_2);
    }
    const V5_2_MATCHERS: [&str; 5] = ["array", "form", "jwt", "negate", "jwtjsonpath"];
    if p.request
        .matcher_names()
        .iter()
        .any(|n| V5_2_MATCHERS.iter().any(|m| n.eq_ignore_ascii_case(m)))
    {
        v = v.max(SchemaVersion::V5_2);
    }
    if !p.labels.is_empty() {
        v = v.max(SchemaVersion::V5_3);
    }
    v
}

impl fmt::Display for SchemaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SchemaVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        SchemaVersion::ALL
            .into_iter()
            .find(|v| v.name() == s)
            .ok_or_else(|| {
                format!("unknown schema version {s:?} (v1, v2, v3, v4, v5, v5.1, v5.2, v5.3)")
            })
    }
}
