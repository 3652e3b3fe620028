//! What a set of exchanges holds, for `wirecap stats`: hosts, methods, status classes, body
//! sizes and latency percentiles, gathered from the same readers `convert` uses.
//!
//! Gathering keeps one size per body and one latency per exchange, so percentiles are exact
//! (nearest rank) at 8 bytes per value: 24 MB for a million exchanges. Everything else is a
//! count. Results do not depend on the order files are gathered in: [`Gathered::add`] merges
//! in any order and [`Gathered::report`] sorts.

use crate::formats::{self, Exchanges};
use crate::model::{Exchange, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;

/// The status classes a report always lists, in this order: `1xx` to `5xx`, `other` (a code
/// outside 100-599) and `none` (no response).
pub const STATUS_CLASSES: [&str; 7] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other", "none"];

/// Counts and samples from exchanges, before they are summarised.
#[derive(Debug, Clone, Default)]
pub struct Gathered {
    exchanges: u64,
    invalid: u64,
    not_measured: u64,
    hosts: BTreeMap<String, u64>,
    methods: BTreeMap<String, u64>,
    statuses: [u64; STATUS_CLASSES.len()],
    request_bodies: Vec<u64>,
    response_bodies: Vec<u64>,
    latencies_ns: Vec<u64>,
}

impl Gathered {
    /// Adds one exchange.
    pub fn exchange(&mut self, ex: &Exchange) {
        self.exchanges += 1;
        let host = ex.request.authority();
        let host = if host.is_empty() {
            "(none)".to_owned()
        } else {
            host
        };
        *self.hosts.entry(host).or_default() += 1;
        *self.methods.entry(ex.request.method.clone()).or_default() += 1;
        let class = match &ex.response {
            None => 6,
            Some(r) if (100..600).contains(&r.status) => usize::from(r.status / 100 - 1),
            Some(_) => 5,
        };
        self.statuses[class] += 1;
        self.request_bodies.push(ex.request.body.bytes.len() as u64);
        if let Some(r) = &ex.response {
            self.response_bodies.push(r.body.bytes.len() as u64);
            if let Some(ns) = ex.request.timestamp.zip(r.timestamp).and_then(latency_ns) {
                self.latencies_ns.push(ns);
            }
        }
    }

    /// Counts a record that did not parse and was skipped.
    pub fn invalid(&mut self) {
        self.invalid += 1;
    }

    /// Counts an item that is no exchange (a Hoverfly template), so it is left out.
    pub fn not_measured(&mut self) {
        self.not_measured += 1;
    }

    /// Adds everything `other` gathered.
    pub fn add(&mut self, other: Gathered) {
        self.exchanges += other.exchanges;
        self.invalid += other.invalid;
        self.not_measured += other.not_measured;
        for (mine, theirs) in [
            (&mut self.hosts, other.hosts),
            (&mut self.methods, other.methods),
        ] {
            for (k, n) in theirs {
                *mine.entry(k).or_default() += n;
            }
        }
        for (mine, theirs) in self.statuses.iter_mut().zip(other.statuses) {
            *mine += theirs;
        }
        self.request_bodies.extend(other.request_bodies);
        self.response_bodies.extend(other.response_bodies);
        self.latencies_ns.extend(other.latencies_ns);
    }

    /// The summary, with the `top` most frequent hosts listed and the rest counted.
    pub fn report(mut self, top: usize) -> Report {
        let hosts = ranked(&self.hosts);
        let others = hosts.iter().skip(top).map(|h| h.exchanges).sum();
        Report {
            exchanges: self.exchanges,
            invalid: self.invalid,
            not_measured: self.not_measured,
            hosts: Hosts {
                distinct: hosts.len() as u64,
                top: hosts.into_iter().take(top).collect(),
                others,
            },
            methods: ranked(&self.methods),
            status_classes: StatusClasses(self.statuses),
            body_bytes: BodyBytes {
                request: Sizes::of(&mut self.request_bodies),
                response: Sizes::of(&mut self.response_bodies),
            },
            latency_ms: Latency::of(&mut self.latencies_ns),
        }
    }
}

/// Nanoseconds from the request's first byte to the response's last, when not negative (a
/// hand-edited recording can put the response first).
fn latency_ns((request, response): (Timestamp, Timestamp)) -> Option<u64> {
    let ns =
        |t: Timestamp| i128::from(t.unix_secs()) * 1_000_000_000 + i128::from(t.subsec_nanos());
    u64::try_from(ns(response) - ns(request)).ok()
}

/// Keys by count, most first, ties by key.
fn ranked(counts: &BTreeMap<String, u64>) -> Vec<Ranked> {
    let mut rows: Vec<Ranked> = counts
        .iter()
        .map(|(name, &exchanges)| Ranked {
            name: name.clone(),
            exchanges,
        })
        .collect();
    // The map is sorted by key, and the sort is stable: equal counts stay in key order.
    rows.sort_by_key(|r| std::cmp::Reverse(r.exchanges));
    rows
}

/// The nearest-rank percentile `p` (0 < p <= 100) of sorted values: the smallest value with
/// at least p% of the values at or below it.
fn percentile(sorted: &[u64], p: u64) -> u64 {
    let rank = (sorted.len() as u64 * p).div_ceil(100).max(1);
    sorted[rank as usize - 1]
}

/// Gathers the exchanges a reader yields; with `keep_going`, records that do not parse are
/// counted and skipped.
pub fn gather_exchanges(
    exchanges: Exchanges,
    keep_going: bool,
    into: &mut Gathered,
) -> Result<(), formats::Error> {
    for item in exchanges {
        match item {
            Ok(ex) => into.exchange(&ex),
            Err(e) if keep_going && e.is_recoverable() => into.invalid(),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// What `wirecap stats` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Exchanges measured.
    pub exchanges: u64,
    /// Records that did not parse and were skipped (`--keep-going`).
    pub invalid: u64,
    /// Items read that are no exchange (Hoverfly pairs with non-exact matchers).
    pub not_measured: u64,
    /// Exchanges per host.
    pub hosts: Hosts,
    /// Exchanges per request method, most first.
    pub methods: Vec<Ranked>,
    /// Exchanges per status class.
    pub status_classes: StatusClasses,
    /// Body sizes in bytes.
    pub body_bytes: BodyBytes,
    /// Time from the request's first byte to the response's last, in milliseconds.
    pub latency_ms: Latency,
}

/// Exchanges per status class, indexed as [`STATUS_CLASSES`]; written as an object with
/// every class, in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusClasses(pub [u64; STATUS_CLASSES.len()]);

impl StatusClasses {
    /// Each class with its count, in the order of [`STATUS_CLASSES`].
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        STATUS_CLASSES.iter().copied().zip(self.0.iter().copied())
    }
}

impl Serialize for StatusClasses {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = s.serialize_map(Some(STATUS_CLASSES.len()))?;
        for (class, n) in self.iter() {
            map.serialize_entry(class, &n)?;
        }
        map.end()
    }
}

/// Hosts, most exchanges first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hosts {
    /// How many hosts there are.
    pub distinct: u64,
    /// The most frequent, ties by name.
    pub top: Vec<Ranked>,
    /// Exchanges with the hosts not listed.
    pub others: u64,
}

/// A name and its count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ranked {
    /// The host or method.
    pub name: String,
    /// Its exchanges.
    pub exchanges: u64,
}

/// Request and response body sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BodyBytes {
    /// Every request's body; `None` when there was no request.
    pub request: Option<Sizes>,
    /// Every response's body; `None` when there was no response.
    pub response: Option<Sizes>,
}

/// The spread of some sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sizes {
    /// How many bodies.
    pub count: u64,
    /// The smallest.
    pub min: u64,
    /// The nearest-rank median.
    pub median: u64,
    /// The nearest-rank 95th percentile.
    pub p95: u64,
    /// The largest.
    pub max: u64,
}

impl Sizes {
    fn of(values: &mut [u64]) -> Option<Sizes> {
        values.sort_unstable();
        Some(Sizes {
            count: values.len() as u64,
            min: *values.first()?,
            median: percentile(values, 50),
            p95: percentile(values, 95),
            max: *values.last()?,
        })
    }
}

/// Latency percentiles, from the exchanges whose request and response both have a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Latency {
    /// How many exchanges had both timestamps.
    pub measured: u64,
    /// The percentiles; `None` when nothing was measured.
    #[serde(flatten)]
    pub percentiles: Option<Percentiles>,
}

/// Nearest-rank percentiles in milliseconds, to the microsecond.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    /// The median.
    pub p50: Millis,
    /// The 90th percentile.
    pub p90: Millis,
    /// The 99th percentile.
    pub p99: Millis,
    /// The longest.
    pub max: Millis,
}

impl Latency {
    fn of(ns: &mut [u64]) -> Latency {
        ns.sort_unstable();
        let percentiles = ns.last().map(|&max| Percentiles {
            p50: Millis(percentile(ns, 50)),
            p90: Millis(percentile(ns, 90)),
            p99: Millis(percentile(ns, 99)),
            max: Millis(max),
        });
        Latency {
            measured: ns.len() as u64,
            percentiles,
        }
    }
}

/// A duration held in nanoseconds, written as milliseconds with three decimals (`12.345`),
/// a JSON number in `--summary-json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Millis(pub u64);

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let us = (self.0 + 500) / 1000;
        write!(f, "{}.{:03}", us / 1000, us % 1000)
    }
}

impl Serialize for Millis {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Through the decimal text, so the JSON holds the value the table shows (written
        // without trailing zeros).
        let n: serde_json::Number = self
            .to_string()
            .parse()
            .map_err(serde::ser::Error::custom)?;
        n.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), 5);
        assert_eq!(percentile(&v, 90), 9);
        assert_eq!(percentile(&v, 95), 10);
        assert_eq!(percentile(&v, 99), 10);
        assert_eq!(percentile(&[7], 50), 7);
        assert_eq!(percentile(&[1, 2], 50), 1);
    }

    #[test]
    fn millis_round_to_the_microsecond() {
        assert_eq!(Millis(1_234_567).to_string(), "1.235");
        assert_eq!(Millis(999).to_string(), "0.001");
        assert_eq!(Millis(0).to_string(), "0.000");
        assert_eq!(Millis(12_000_000_000).to_string(), "12000.000");
        assert_eq!(serde_json::to_string(&Millis(1_500_000)).unwrap(), "1.5");
        assert_eq!(serde_json::to_string(&Millis(301_234)).unwrap(), "0.301");
    }

    #[test]
    fn ties_rank_by_name_and_the_order_of_gathering_does_not_matter() {
        let mut a = Gathered::default();
        let mut b = Gathered::default();
        a.hosts.insert("b.test".to_owned(), 2);
        b.hosts.insert("a.test".to_owned(), 2);
        b.hosts.insert("c.test".to_owned(), 3);
        let mut ab = a.clone();
        ab.add(b.clone());
        b.add(a);
        let (ab, ba) = (ab.report(2), b.report(2));
        assert_eq!(ab, ba);
        let names: Vec<&str> = ab.hosts.top.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["c.test", "a.test"]);
        assert_eq!((ab.hosts.distinct, ab.hosts.others), (3, 2));
    }

    #[test]
    fn a_response_before_its_request_is_not_a_latency() {
        let t = |s, ns| Timestamp::from_unix(s, ns);
        assert_eq!(latency_ns((t(10, 5), t(11, 0))), Some(999_999_995));
        assert_eq!(latency_ns((t(11, 0), t(10, 5))), None);
    }

    #[test]
    fn nothing_gathered_reports_no_sizes_and_no_latency() {
        let r = Gathered::default().report(10);
        assert_eq!(r.body_bytes.request, None);
        assert_eq!(r.latency_ms.percentiles, None);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["latencyMs"], serde_json::json!({"measured": 0}));
        let classes: Vec<&String> = json["statusClasses"].as_object().unwrap().keys().collect();
        assert_eq!(classes, STATUS_CLASSES);
    }
}
