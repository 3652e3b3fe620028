//! Views every version reads the same way, and the reading state they share: responses,
//! global delays, literals and variables, the v1 request shape (also the request of legacy
//! `/api/records` and `/api/templates` bodies), legacy whole-query strings split per key.

use super::Error;
use super::Upgrade;
use super::de::{Int, Nullable, OrderedMap, Status};
use crate::loss::{LossKind, Losses};
use crate::model::simulation::{
    Delay, Fields, Literal, LogNormal, LogNormalDelay, Variable, query_matchers,
};
use crate::model::{
    Body, Headers, Location, Matcher, RequestMatcher, ResponseTemplate, Simulation, Source,
};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;

/// The response fields of every version (v1 and v2 files simply lack the newer ones).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ResponseView {
    status: Option<Status>,
    body: Option<String>,
    encoded_body: Option<bool>,
    body_file: Option<String>,
    headers: Option<OrderedMap<Option<Vec<String>>>>,
    templated: Option<bool>,
    transitions_state: Option<OrderedMap<String>>,
    removes_state: Option<Vec<String>>,
    fixed_delay: Option<Int>,
    log_normal_delay: Option<LogNormalView>,
    post_serve_action: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct LogNormalView {
    min: Option<Int>,
    max: Option<Int>,
    mean: Option<Int>,
    median: Option<Int>,
}

impl From<LogNormalView> for LogNormal {
    fn from(v: LogNormalView) -> Self {
        let g = |i: Option<Int>| i.unwrap_or_default().0;
        LogNormal {
            min: g(v.min),
            max: g(v.max),
            mean: g(v.mean),
            median: g(v.median),
        }
    }
}

impl ResponseView {
    /// The model response; `pointer` locates this response for errors.
    pub(super) fn into_model(self, file: &str, pointer: &str) -> Result<ResponseTemplate, Error> {
        let text = self.body.unwrap_or_default();
        let body = if self.encoded_body == Some(true) {
            base64::engine::general_purpose::STANDARD
                .decode(text.as_bytes())
                .map_err(|e| Error::shape(file, format!("{pointer}/body"), super::not_base64(&e)))?
        } else {
            text.into_bytes()
        };
        let mut headers = Headers::new();
        for (name, values) in self.headers.map(|h| h.0).unwrap_or_default() {
            for v in values.unwrap_or_default() {
                headers.push(name.clone(), v);
            }
        }
        Ok(ResponseTemplate {
            status: self.status.unwrap_or_default().0,
            body: Body::from_bytes(body),
            body_file: self.body_file,
            headers,
            templated: self.templated.unwrap_or(false),
            transitions_state: self.transitions_state.map(|m| m.0).unwrap_or_default(),
            removes_state: self.removes_state.unwrap_or_default(),
            fixed_delay: self.fixed_delay.map(|i| i.0).filter(|d| *d != 0),
            log_normal_delay: self.log_normal_delay.map(LogNormal::from),
            post_serve_action: self.post_serve_action.filter(|s| !s.is_empty()),
        })
    }
}

/// A delay entry (`globalActions.delays`, `/api/delays`), with v0.7.0's Go-default spelling.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DelayView {
    #[serde(alias = "HostPattern")]
    url_pattern: Option<String>,
    http_method: Option<String>,
    #[serde(alias = "Delay")]
    delay: Option<Int>,
}

impl DelayView {
    /// Whether the entry has none of a delay's keys, so it is no delay at all (a records
    /// body read with `--from hoverfly-v1-delays`, say).
    pub(super) fn is_blank(&self) -> bool {
        self.url_pattern.is_none() && self.http_method.is_none() && self.delay.is_none()
    }
}

impl From<DelayView> for Delay {
    fn from(v: DelayView) -> Self {
        Delay {
            url_pattern: v.url_pattern.unwrap_or_default(),
            http_method: v.http_method.unwrap_or_default(),
            delay: v.delay.unwrap_or_default().0,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogNormalDelayView {
    url_pattern: Option<String>,
    http_method: Option<String>,
    #[serde(flatten)]
    params: LogNormalView,
}

#[derive(Debug, Deserialize)]
pub(super) struct LiteralView {
    name: String,
    #[serde(default)]
    value: Value,
}

#[derive(Debug, Deserialize)]
pub(super) struct VariableView {
    name: String,
    function: String,
    arguments: Option<Vec<Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GlobalActionsView {
    delays: Option<Vec<DelayView>>,
    delays_log_normal: Option<Vec<LogNormalDelayView>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DataView<P> {
    pub pairs: Option<Vec<P>>,
    pub global_actions: Option<GlobalActionsView>,
    pub literals: Option<Vec<LiteralView>>,
    pub variables: Option<Vec<VariableView>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct DocView<P> {
    pub data: DataView<P>,
}

impl<P> DocView<P> {
    /// The document's global actions, literals and variables as a simulation without pairs,
    /// and its pairs, each with its index and JSON pointer, for the version's reader.
    pub(super) fn into_parts(self) -> (Simulation, impl Iterator<Item = (usize, String, P)>) {
        let data = self.data;
        let sim = globals(data.global_actions, data.literals, data.variables);
        let pairs = data.pairs.unwrap_or_default().into_iter().enumerate();
        (sim, pairs.map(|(i, p)| (i, format!("/data/pairs/{i}"), p)))
    }
}

// ---------------------------------------------------------------------------------------------
// v1 (also the request shape of legacy `/api/records` and `/api/templates`).

/// A v1 request: plain optional strings, `requestType` telling recordings from templates.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RequestV1View {
    #[serde(default)]
    pub request_type: Nullable<String>,
    #[serde(default)]
    pub path: Nullable<String>,
    #[serde(default)]
    pub method: Nullable<String>,
    #[serde(default)]
    pub destination: Nullable<String>,
    #[serde(default)]
    pub scheme: Nullable<String>,
    #[serde(default)]
    pub query: Nullable<String>,
    #[serde(default)]
    pub body: Nullable<String>,
    pub headers: Option<OrderedMap<Option<Vec<String>>>>,
}

/// How a v1 request becomes a matcher: recordings exact, templates glob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum V1Kind {
    Recording,
    Template,
}

impl RequestV1View {
    /// Hoverfly's *isNotRecording*: absent `requestType` is a recording.
    pub(super) fn kind(&self) -> V1Kind {
        match &self.request_type {
            Nullable::Value(t) if t != "recording" => V1Kind::Template,
            _ => V1Kind::Recording,
        }
    }

    /// Upgrades to v5 matchers (`upgradeV1`), keeping the query and exact headers by default.
    pub(super) fn into_model(
        self,
        kind: V1Kind,
        upgrade: Upgrade,
        ctx: &mut Ctx<'_>,
        pointer: &str,
    ) -> Result<RequestMatcher, Error> {
        let name = match kind {
            V1Kind::Recording => "exact",
            V1Kind::Template => "glob",
        };
        let one = |f: Nullable<String>| {
            f.into_option()
                .map(|v| vec![Matcher::new(name, v)])
                .unwrap_or_default()
        };
        let mut headers: Fields<Vec<Matcher>> = Vec::new();
        for (h, values) in self.headers.map(|h| h.0).unwrap_or_default() {
            let values = values.unwrap_or_default();
            let m = match (kind, upgrade, values.as_slice()) {
                (V1Kind::Recording, Upgrade::Faithful, [one]) => {
                    Matcher::new("exact", one.as_str())
                }
                (V1Kind::Recording, Upgrade::Faithful, many) => {
                    Matcher::new("array", many.to_vec())
                }
                (_, _, values) => Matcher::new("glob", values.join(";")),
            };
            headers.push((h, vec![m]));
        }
        let query = match (self.query.into_option(), upgrade) {
            (None, _) => None,
            (Some(q), Upgrade::HoverflyCompat) => {
                if !q.is_empty() {
                    ctx.note(LossKind::HoverflyUpgrade, format!("{pointer}/query"));
                }
                None
            }
            (Some(q), Upgrade::Faithful) => match legacy_query(&q, name) {
                Some(m) => Some(m),
                None => {
                    ctx.note(LossKind::LegacyQuery, format!("{pointer}/query"));
                    None
                }
            },
        };
        Ok(RequestMatcher {
            path: one(self.path),
            method: one(self.method),
            destination: one(self.destination),
            scheme: one(self.scheme),
            body: one(self.body),
            headers,
            query,
            ..RequestMatcher::default()
        })
    }
}

/// Splits a legacy whole-query string matcher into per-key matchers, the way capture writes
/// them: `exact` values (several: `array`), or `glob` values (several: joined by `;`, which is
/// how Hoverfly joins repeated query values before matching). `None` when it cannot be split
/// without changing its meaning (a glob in a key). `""` means "no query" (`{}`).
pub(super) fn legacy_query(q: &str, matcher: &str) -> Option<Fields<Vec<Matcher>>> {
    let mut parsed: Vec<(String, Vec<String>)> = Vec::new();
    for seg in q.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = seg.split_once('=').unwrap_or((seg, ""));
        let un = |s: &str| crate::codec::query::go_unescape(s, true);
        let (k, v) = match matcher {
            "exact" => (un(k)?, un(v)?),
            _ => {
                if k.contains(['*', '?', '[']) {
                    return None;
                }
                (
                    un(k).unwrap_or_else(|| k.to_owned()),
                    un(v).unwrap_or_else(|| v.to_owned()),
                )
            }
        };
        match parsed.iter_mut().find(|(n, _)| *n == k) {
            Some((_, vs)) => vs.push(v),
            None => parsed.push((k, vec![v])),
        }
    }
    if matcher == "exact" {
        return Some(query_matchers(&parsed));
    }
    let mut out: Fields<Vec<Matcher>> = parsed
        .into_iter()
        .map(|(k, vs)| (k, vec![Matcher::new(matcher, vs.join(";"))]))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Some(out)
}

/// Per-document reading state: the file name and the loss tally.
pub(super) struct Ctx<'a> {
    pub file: &'a str,
    pub losses: &'a mut Losses,
}

impl Ctx<'_> {
    pub(super) fn note(&mut self, kind: LossKind, pointer: String) {
        let file = self.file;
        self.losses.record(kind, || format!("{file}: {pointer}"));
    }

    pub(super) fn source(&self, index: usize) -> Source {
        Source {
            file: Some(self.file.to_owned()),
            location: Some(Location::Index(index as u64)),
            ..Source::default()
        }
    }
}

pub(super) fn push_matchers(fields: &mut Fields<Vec<Matcher>>, key: String, ms: Vec<Matcher>) {
    match fields.iter_mut().find(|(k, _)| *k == key) {
        Some((_, list)) => {
            for m in ms {
                if !list.contains(&m) {
                    list.push(m);
                }
            }
        }
        None => fields.push((key, ms)),
    }
}

fn globals(
    ga: Option<GlobalActionsView>,
    literals: Option<Vec<LiteralView>>,
    variables: Option<Vec<VariableView>>,
) -> Simulation {
    let ga = ga.unwrap_or_default();
    Simulation {
        delays: ga
            .delays
            .unwrap_or_default()
            .into_iter()
            .map(Delay::from)
            .collect(),
        delays_log_normal: ga
            .delays_log_normal
            .unwrap_or_default()
            .into_iter()
            .map(|d| LogNormalDelay {
                url_pattern: d.url_pattern.unwrap_or_default(),
                http_method: d.http_method.unwrap_or_default(),
                params: d.params.into(),
            })
            .collect(),
        literals: literals
            .unwrap_or_default()
            .into_iter()
            .map(|l| Literal {
                name: l.name,
                value: l.value,
            })
            .collect(),
        variables: variables
            .unwrap_or_default()
            .into_iter()
            .map(|v| Variable {
                name: v.name,
                function: v.function,
                arguments: v.arguments.unwrap_or_default(),
            })
            .collect(),
        ..Simulation::default()
    }
}
