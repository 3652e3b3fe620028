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
//!
//! One input is also sorted ([`sort_order`], [`sort_exchanges`]), but only where Hoverfly's
//! first-match rule cannot notice: runs of exact pairs that can never match the same request.

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

/// What kind of matcher a sortable pair uses in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `exact` on a string, with no config and no chain.
    Exact,
    /// `array` on strings, with no config and no chain (capture's repeated query key or
    /// header): Hoverfly splits the joined request value on `;` and compares the lists.
    Array,
}

/// Which fields a sortable pair matches on, and with which kind of matcher. Header and query
/// names are lower-cased (Hoverfly compares them case-insensitively) and sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    path: bool,
    method: bool,
    destination: bool,
    scheme: bool,
    body: bool,
    headers: Vec<(String, Kind)>,
    query: Option<Vec<(String, Kind)>>,
}

/// The values a sortable pair pins down, in sort-key order (see [`sort_order`]).
type Key<'a> = Vec<Vec<&'a str>>;

/// The shape and sort key of a pair whose request cannot overlap another pair of the same
/// shape that differs in its key; `None` when the pair is not sortable.
///
/// A pair is sortable when every matcher it has is alone in its field (or under its header or
/// query name) and is `exact` on a string, or a plain `array` under a header or query name;
/// header and query names are ASCII and distinct ignoring case; and it has no
/// `requiresState` and no `deprecatedQuery`. Hoverfly compares each such field by equality
/// with one value computed from the request (headers and query: the request's values joined
/// with `;`, names matched case-insensitively: `hoverfly.md` §7 in the shared Hoverfly reference), so two pairs of one shape whose
/// keys differ cannot both match one request.
fn sortable(r: &crate::model::RequestMatcher) -> Option<(Shape, Key<'_>)> {
    use crate::model::Matcher;
    if !r.requires_state.is_empty() || !r.deprecated_query.is_empty() {
        return None;
    }
    // A plain field: absent, or one exact matcher.
    fn one(ms: &[Matcher]) -> Option<Option<&str>> {
        match ms {
            [] => Some(None),
            [m] => m.exact_value().map(Some),
            _ => None,
        }
    }
    // A named field (header or query key): one exact or plain array matcher.
    fn named(fields: &[(String, Vec<Matcher>)]) -> Option<Vec<(String, Kind, Vec<&str>)>> {
        let mut out = Vec::with_capacity(fields.len());
        for (name, ms) in fields {
            if !name.is_ascii() {
                return None;
            }
            let [m] = ms.as_slice() else { return None };
            let (kind, values) = match (m.exact_value(), m.array_values()) {
                (Some(v), _) => (Kind::Exact, vec![v]),
                (None, Some(vs)) => (Kind::Array, vs),
                (None, None) => return None,
            };
            out.push((name.to_ascii_lowercase(), kind, values));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        if out.windows(2).any(|w| w[0].0 == w[1].0) {
            return None;
        }
        Some(out)
    }
    let path = one(&r.path)?;
    let method = one(&r.method)?;
    let destination = one(&r.destination)?;
    let scheme = one(&r.scheme)?;
    let body = one(&r.body)?;
    let headers = named(&r.headers)?;
    let query = match &r.query {
        Some(q) => Some(named(q)?),
        None => None,
    };
    // Scheme and destination are not in the key: Hoverfly never evaluates scheme matchers
    // (issue #575) and skips destination in webserver mode, so two pairs that differ only
    // there can both match, and must keep their order.
    let mut key: Key<'_> = Vec::new();
    key.extend(path.map(|v| vec![v]));
    key.extend(method.map(|v| vec![v]));
    key.extend(query.iter().flatten().map(|(_, _, vs)| vs.clone()));
    key.extend(headers.iter().map(|(_, _, vs)| vs.clone()));
    key.extend(body.map(|v| vec![v]));
    let shape_of = |fields: &[(String, Kind, Vec<&str>)]| {
        fields
            .iter()
            .map(|(n, k, _)| (n.clone(), *k))
            .collect::<Vec<_>>()
    };
    let shape = Shape {
        path: path.is_some(),
        method: method.is_some(),
        destination: destination.is_some(),
        scheme: scheme.is_some(),
        body: body.is_some(),
        headers: shape_of(&headers),
        query: query.as_deref().map(shape_of),
    };
    Some((shape, key))
}

/// The order in which to write `pairs` when normalising one input, as indices into `pairs`.
///
/// Hoverfly serves the first pair that matches a request, so only pairs that cannot both match
/// one request may change places. The rule: a maximal run of consecutive *sortable* pairs of
/// the same *shape* (see `sortable`: every matcher `exact`, or a plain `array` under a header
/// or query name, over the same fields, header names and query keys) is sorted, stably, by
/// the key (path, method, query values by key, header values by name, body), each compared
/// as strings byte by byte. Every other pair (templates, globs, regex, json body matchers,
/// `requiresState`, or a pair of another shape) stays where it is and ends the run.
///
/// Pairs of one run whose keys are equal keep their order: they are the same request to
/// Hoverfly (kept side by side by `--on-conflict keep-all`, or differing only in scheme or
/// destination), and the first still wins.
pub fn sort_order(pairs: &[Pair]) -> Vec<usize> {
    let keyed: Vec<_> = pairs.iter().map(|p| sortable(&p.request)).collect();
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    let mut start = 0;
    while start < keyed.len() {
        let Some((shape, _)) = &keyed[start] else {
            start += 1;
            continue;
        };
        let len = keyed[start..]
            .iter()
            .take_while(|k| k.as_ref().is_some_and(|(s, _)| s == shape))
            .count();
        let key = |i: usize| keyed[i].as_ref().map(|(_, k)| k);
        // `sort_by` is stable: equal keys keep their input order.
        order[start..start + len].sort_by(|&a, &b| key(a).cmp(&key(b)));
        start += len;
    }
    order
}

/// Sorts `pairs` in the order [`sort_order`] gives.
pub fn sort_pairs(pairs: &mut Vec<Pair>) {
    let order = sort_order(pairs);
    let mut slots: Vec<Option<Pair>> = std::mem::take(pairs).into_iter().map(Some).collect();
    pairs.extend(
        order
            .into_iter()
            .map(|i| slots[i].take().expect("sort_order is a permutation")),
    );
}

/// Sorts exchanges when normalising one input: by request timestamp (absent last), then
/// scheme, destination (`host[:port]`, lower-cased), path, method, query, request headers
/// (in order, names and values as written) and body; stable, so exchanges equal in all of
/// these keep their order. Exchanges have no first-match rule, so any order is faithful.
pub fn sort_exchanges(exchanges: &mut [crate::model::Exchange]) {
    use crate::model::Exchange;
    fn key(ex: &Exchange) -> impl Ord + '_ {
        let r = &ex.request;
        (
            r.timestamp.is_none(),
            r.timestamp,
            r.scheme.as_str(),
            r.authority().to_ascii_lowercase(),
            r.path(),
            r.method.as_str(),
            r.query(),
            r.headers
                .iter()
                .map(|h| (h.name.as_str(), h.value.as_str()))
                .collect::<Vec<_>>(),
            &r.body.bytes[..],
        )
    }
    exchanges.sort_by(|a, b| key(a).cmp(&key(b)));
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

    use crate::model::{Exchange, Matcher, RequestMatcher};

    fn exact(v: &str) -> Vec<Matcher> {
        vec![Matcher::new("exact", v)]
    }

    /// A recording as capture writes it: `"GET /a"` on `a.test` over http, empty body.
    fn rec(line: &str) -> Pair {
        let (method, path) = line.split_once(' ').expect("METHOD PATH");
        Pair {
            request: RequestMatcher {
                path: exact(path),
                method: exact(method),
                destination: exact("a.test"),
                scheme: exact("http"),
                body: exact(""),
                ..RequestMatcher::default()
            },
            response: Default::default(),
            labels: Vec::new(),
            source: Source::default(),
        }
    }

    /// `rec(line)` changed by `f`.
    fn with(line: &str, f: impl FnOnce(&mut RequestMatcher)) -> Pair {
        let mut p = rec(line);
        f(&mut p.request);
        p
    }

    #[test]
    fn a_template_between_two_runs_stays_put_and_each_run_sorts_alone() {
        let pairs = [
            rec("GET /c"),
            rec("GET /a"),
            with("GET /x*", |r| r.path = vec![Matcher::new("glob", "/x*")]),
            rec("GET /b"),
            rec("POST /a"),
        ];
        // POST /a sorts before GET /b, but not across the glob into the first run.
        assert_eq!(sort_order(&pairs), [1, 0, 2, 4, 3]);
    }

    #[test]
    fn pairs_hoverfly_cannot_tell_apart_keep_their_order() {
        let pairs = [
            rec("GET /b"),
            rec("GET /a"),
            with("GET /b", |r| r.scheme = exact("https")), // scheme is never matched
            with("GET /a", |r| r.destination = exact("b.test")), // not in webserver mode
            rec("GET /a"), // a keep-all conflict: same request, the first answers
        ];
        assert_eq!(sort_order(&pairs), [1, 3, 4, 0, 2]);
    }

    #[test]
    fn another_set_of_fields_ends_the_run() {
        let q = |r: &mut RequestMatcher| r.query = Some(vec![("x".into(), exact("1"))]);
        // /a?x=1 also matches a pair on /a with no query matcher: different shapes.
        let pairs = [rec("GET /b"), with("GET /a", q), rec("GET /a")];
        assert_eq!(sort_order(&pairs), [0, 1, 2]);
        // `query: {}` (no query allowed) is a shape of its own, too.
        let none = |r: &mut RequestMatcher| r.query = Some(Vec::new());
        let pairs = [with("GET /b", none), rec("GET /a")];
        assert_eq!(sort_order(&pairs), [0, 1]);
        // Exact on different headers: one request can carry both.
        let x = |r: &mut RequestMatcher| r.headers = vec![("X".into(), exact("1"))];
        let y = |r: &mut RequestMatcher| r.headers = vec![("Y".into(), exact("2"))];
        assert_eq!(sort_order(&[with("GET /b", x), with("GET /a", y)]), [0, 1]);
        // Header names are one shape whatever their case; the values tell them apart.
        let x2 = |r: &mut RequestMatcher| r.headers = vec![("x".into(), exact("2"))];
        assert_eq!(sort_order(&[with("GET /a", x), with("GET /a", x2)]), [0, 1]);
        let x0 = |r: &mut RequestMatcher| r.headers = vec![("x".into(), exact("0"))];
        assert_eq!(sort_order(&[with("GET /a", x), with("GET /a", x0)]), [1, 0]);
    }

    #[test]
    fn only_lone_exact_matchers_without_state_are_sortable() {
        let no = |f: fn(&mut RequestMatcher)| {
            let p = with("GET /a", f);
            assert!(sortable(&p.request).is_none(), "{:?}", p.request);
        };
        no(|r| r.path = vec![Matcher::new("regex", "^/a$")]);
        no(|r| r.path = vec![Matcher::new("exact", "/a"), Matcher::new("exact", "/a")]);
        no(|r| r.path = vec![Matcher::new("array", vec!["/a"])]);
        no(|r| r.body = vec![Matcher::new("json", "{}")]);
        no(|r| r.requires_state = vec![("s".into(), "1".into())]);
        no(|r| r.deprecated_query = exact("a=1"));
        no(|r| r.headers = vec![("X".into(), Vec::new())]);
        no(|r| r.headers = vec![("X".into(), exact("1")), ("x".into(), exact("1"))]);
        no(|r| r.headers = vec![("\u{212a}".into(), exact("1"))]);
        no(|r| {
            let mut m = Matcher::new("exact", "/a");
            m.config = Some(Default::default());
            r.path = vec![m];
        });
        let yes = |f: fn(&mut RequestMatcher)| {
            assert!(sortable(&with("GET /a", f).request).is_some());
        };
        yes(|_| {});
        yes(|r| {
            r.query = Some(vec![(
                "t".into(),
                vec![Matcher::new("array", vec!["1", "2"])],
            )])
        });
        yes(|r| r.path = vec![Matcher::new("Exact", "/a")]);
        yes(|r| r.body = Vec::new());
    }

    #[test]
    fn sort_pairs_moves_the_pairs() {
        let mut pairs = vec![rec("PUT /b"), rec("GET /b"), rec("DELETE /a")];
        sort_pairs(&mut pairs);
        let order: Vec<String> = pairs.iter().map(describe).collect();
        assert_eq!(order, ["DELETE a.test/a", "GET a.test/b", "PUT a.test/b"]);
    }

    #[test]
    fn exchanges_sort_by_time_then_request() {
        let mut exs: Vec<Exchange> = [
            ("2", "/b"),
            ("", "/b"),
            ("1", "/c"),
            ("", "/a"),
            ("1", "/a"),
        ]
        .iter()
        .map(|(t, path)| {
            let mut ex = rec(&format!("GET {path}"))
                .to_exchange(&mut Default::default())
                .expect("an exact pair is an exchange");
            ex.request.timestamp = t
                .parse()
                .ok()
                .map(|s| crate::model::Timestamp::from_unix(s, 0));
            ex
        })
        .collect();
        sort_exchanges(&mut exs);
        let got: Vec<(Option<i64>, &str)> = exs
            .iter()
            .map(|e| {
                (
                    e.request.timestamp.map(|t| t.unix_secs()),
                    e.request.target.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (Some(1), "/a"),
                (Some(1), "/c"),
                (Some(2), "/b"),
                (None, "/a"),
                (None, "/b")
            ]
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
