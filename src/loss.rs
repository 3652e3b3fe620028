//! Explicit loss: what a reader or writer could not carry across, counted by kind.
//!
//! Nothing is dropped silently. `convert` prints each kind once as a warning with its count
//! and first example, and `--strict` turns any recorded loss into an error.

use crate::capture::{Note, Stats};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// A kind of information a format could not represent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum LossKind {
    /// A body that is not UTF-8, left out because the format only holds text.
    BinaryBody,
    /// A method the format's enumeration does not include; the exchange was skipped.
    UnsupportedMethod,
    /// A request without a response, where the format (or its readers) require one.
    MissingResponse,
    /// A body the capture cut off or lost bytes of in a gap, which the format cannot mark as
    /// partial: a request body left out of the matchers, a pair with such a response skipped.
    CutBody,
    /// A request with no host anywhere (no authority, no `Host` header); the exchange was skipped.
    MissingHost,
    /// Fields of one name separated by other fields: grouping by name reorders them.
    HeaderOrder,
    /// A header name or value the format cannot hold.
    HeaderValue,
    /// Request headers not written as matchers, as Hoverfly's capture does by default.
    RequestHeaders,
    /// A Hoverfly pair whose matchers do not pin one request down; it was not written as an
    /// exchange.
    NonExactMatcher,
    /// A `json` or `xml` body matcher whose value was taken as the literal request body.
    MatcherAsValue,
    /// Response templating, state, per-response delays, `bodyFile` or labels the output
    /// cannot hold.
    ResponseTemplateFeature,
    /// Global delays, literals or variables the output cannot hold.
    SimulationFeature,
    /// Content the chosen Hoverfly schemaVersion or legacy format cannot express.
    SchemaVersion,
    /// A legacy whole-query matcher that could not be split into per-key query matchers.
    LegacyQuery,
    /// Parts of a legacy file that Hoverfly's own upgrade drops (`--hoverfly-compat`).
    HoverflyUpgrade,
    /// Timestamps, HTTP versions, reason phrases, trailers, interim responses or extra
    /// metadata the format has no field for.
    ExchangeMetadata,
    /// Blank JSONL lines, skipped: they hold nothing, but py-http-types cannot read a file
    /// with one (`--strict` refuses them, as `validate --deny-warnings` does).
    BlankLine,
}

impl LossKind {
    /// A sentence describing what was lost.
    pub fn describe(self) -> &'static str {
        match self {
            LossKind::BinaryBody => {
                "bodies that are not UTF-8 were left out (the format holds text only)"
            }
            LossKind::UnsupportedMethod => {
                "exchanges whose method the format cannot name were skipped"
            }
            LossKind::MissingResponse => {
                "requests without a response were skipped (the format's readers require one)"
            }
            LossKind::CutBody => {
                "bodies cut off or with bytes lost in the capture were left out (such request bodies from the matchers, pairs with such a response skipped)"
            }
            LossKind::MissingHost => {
                "exchanges without a host were skipped (the format's readers require one)"
            }
            LossKind::HeaderOrder => "header order changed: repeated fields were grouped by name",
            LossKind::HeaderValue => "header fields the format cannot hold were left out",
            LossKind::RequestHeaders => {
                "request headers were not written as matchers (as Hoverfly's capture does)"
            }
            LossKind::NonExactMatcher => {
                "pairs whose matchers are not all exact were not written as exchanges"
            }
            LossKind::MatcherAsValue => {
                "json/xml body matchers were taken as the literal request body"
            }
            LossKind::ResponseTemplateFeature => {
                "response templating, state, delays, bodyFile or labels were left out"
            }
            LossKind::SimulationFeature => {
                "global delays, literals or variables were left out (the format has none)"
            }
            LossKind::SchemaVersion => {
                "content the chosen Hoverfly schema version cannot express was left out"
            }
            LossKind::LegacyQuery => {
                "legacy whole-query matchers that cannot be split per key were left out or kept as deprecatedQuery"
            }
            LossKind::HoverflyUpgrade => {
                "what Hoverfly's own upgrade drops was dropped (--hoverfly-compat)"
            }
            LossKind::BlankLine => crate::formats::http_types::BLANK_LINE,
            LossKind::ExchangeMetadata => {
                "timestamps, HTTP versions, reason phrases, trailers or extra metadata were left out (the format has no field for them)"
            }
        }
    }
}

impl fmt::Display for LossKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// One kind's tally: how often, and the first place it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LossCount {
    /// How many times this kind was recorded.
    pub count: u64,
    /// The first occurrence, e.g. `in.jsonl:7: response body (312 bytes)`.
    pub first: String,
}

/// Losses recorded during one run, by kind, in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Losses(BTreeMap<LossKind, LossCount>);

impl Losses {
    /// Records one occurrence. `example` is only evaluated for the first of its kind.
    pub fn record(&mut self, kind: LossKind, example: impl FnOnce() -> String) {
        self.0
            .entry(kind)
            .and_modify(|c| c.count += 1)
            .or_insert_with(|| LossCount {
                count: 1,
                first: example(),
            });
    }

    /// Adds every tally of `other` into this one, keeping the earlier first example.
    pub fn merge(&mut self, other: Losses) {
        for (kind, c) in other.0 {
            self.0
                .entry(kind)
                .and_modify(|mine| mine.count += c.count)
                .or_insert(c);
        }
    }

    /// Whether nothing was lost.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Tallies in kind order.
    pub fn iter(&self) -> impl Iterator<Item = (LossKind, &LossCount)> {
        self.0.iter().map(|(k, c)| (*k, c))
    }
}

/// Capture notes that say what was kept, changed as sent, or happened on the wire, rather
/// than data that did not reach the output; `--strict` lets these pass. Any other note (a
/// packet, flow, message or byte range left out) makes a `--strict` run fail.
pub const INFORMATIONAL_NOTES: &[Note] = &[
    // Kept, read as a proxy would.
    Note::LenientHead,
    // Kept as sent.
    Note::DecodeFailed,
    // The exchange is kept; what follows is not HTTP.
    Note::Upgrade,
    // Kept in the model; a format that needs a response records a loss when writing.
    Note::Incomplete,
    // A fact about the connection.
    Note::Http2GoAway,
    // Kept as an exchange.
    Note::Http2PushPromise,
    // A fact about the file; what it costs is counted under other notes.
    Note::OutOfTimeOrder,
];

/// Why a `--strict` run must refuse its output: a loss, an invalid record skipped
/// (`--keep-going`), or part of a capture that did not become an exchange. `None` when
/// nothing was skipped or lost.
pub fn strict_refusal(losses: &Losses, invalid: u64, capture: Option<&Stats>) -> Option<String> {
    if losses.iter().any(|(kind, _)| kind != LossKind::BlankLine) {
        return Some("the output would lose information (see warnings)".into());
    }
    if invalid > 0 {
        let records = if invalid == 1 {
            "record was"
        } else {
            "records were"
        };
        return Some(format!(
            "{invalid} invalid {records} skipped (see warnings)"
        ));
    }
    if !losses.is_empty() {
        return Some(
            "blank lines were skipped, which py-http-types cannot read (see warnings)".into(),
        );
    }
    let skipped = capture?
        .notes
        .iter()
        .find(|(note, _)| !INFORMATIONAL_NOTES.contains(note));
    skipped.map(|(note, c)| {
        format!(
            "part of the capture did not become exchanges: {}: {} (first: {})",
            note.describe(),
            c.count,
            c.first
        )
    })
}
