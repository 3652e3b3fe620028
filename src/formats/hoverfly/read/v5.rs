//! Reading `schemaVersion` v5 and every v5.x (Hoverfly v0.17+): matcher arrays, read as they
//! are; only `deprecatedQuery` is upgraded.

use super::super::de::{OrderedMap, from_value};
use super::super::shared::{Ctx, DocView, ResponseView, legacy_query, push_matchers};
use super::super::{Error, Upgrade};
use crate::loss::LossKind;
use crate::model::simulation::Fields;
use crate::model::{Matcher, Pair, RequestMatcher, Simulation};
use serde::Deserialize;
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// v5.x: matcher arrays.

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MatcherView {
    #[serde(default)]
    matcher: String,
    #[serde(default)]
    value: Value,
    config: Option<Map<String, Value>>,
    do_match: Option<Box<MatcherView>>,
}

impl From<MatcherView> for Matcher {
    fn from(v: MatcherView) -> Self {
        Matcher {
            matcher: v.matcher,
            value: v.value,
            config: v.config,
            do_match: v.do_match.map(|m| Box::new(Matcher::from(*m))),
        }
    }
}

type MatcherList = Option<Vec<MatcherView>>;

fn matchers(list: MatcherList) -> Vec<Matcher> {
    list.unwrap_or_default()
        .into_iter()
        .map(Matcher::from)
        .collect()
}

fn matcher_map(map: Option<OrderedMap<MatcherList>>) -> Fields<Vec<Matcher>> {
    map.map(|m| m.0)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, matchers(v)))
        .collect()
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestV5View {
    path: MatcherList,
    method: MatcherList,
    destination: MatcherList,
    scheme: MatcherList,
    body: MatcherList,
    headers: Option<OrderedMap<MatcherList>>,
    query: Option<OrderedMap<MatcherList>>,
    requires_state: Option<OrderedMap<String>>,
    deprecated_query: MatcherList,
}

#[derive(Debug, Deserialize)]
struct PairV5View {
    #[serde(default)]
    request: RequestV5View,
    #[serde(default)]
    response: ResponseView,
    labels: Option<Vec<String>>,
}

impl RequestV5View {
    fn into_model(self, upgrade: Upgrade, ctx: &mut Ctx<'_>, pointer: &str) -> RequestMatcher {
        let mut query = self.query.map(|q| matcher_map(Some(q)));
        let mut deprecated = matchers(self.deprecated_query);
        if !deprecated.is_empty() {
            match upgrade {
                Upgrade::HoverflyCompat => {
                    ctx.note(
                        LossKind::HoverflyUpgrade,
                        format!("{pointer}/deprecatedQuery"),
                    );
                    deprecated.clear();
                }
                Upgrade::Faithful => {
                    let split: Option<Vec<_>> = deprecated
                        .iter()
                        .map(|m| {
                            let ok = (m.is("exact") || m.is("glob"))
                                && m.config.is_none()
                                && m.do_match.is_none();
                            ok.then(|| {
                                m.value
                                    .as_str()
                                    .and_then(|v| legacy_query(v, &m.matcher.to_ascii_lowercase()))
                            })
                            .flatten()
                        })
                        .collect();
                    if let Some(parts) = split {
                        let q = query.get_or_insert_with(Vec::new);
                        for (k, ms) in parts.into_iter().flatten() {
                            push_matchers(q, k, ms);
                        }
                        deprecated.clear();
                    }
                }
            }
        }
        RequestMatcher {
            path: matchers(self.path),
            method: matchers(self.method),
            destination: matchers(self.destination),
            scheme: matchers(self.scheme),
            body: matchers(self.body),
            headers: matcher_map(self.headers),
            query,
            requires_state: self.requires_state.map(|s| s.0).unwrap_or_default(),
            deprecated_query: deprecated,
        }
    }
}

/// Reads a v5 or v5.x document.
pub(super) fn read(doc: &Value, upgrade: Upgrade, ctx: &mut Ctx<'_>) -> Result<Simulation, Error> {
    let file = ctx.file;
    let doc: DocView<PairV5View> = from_value(doc, file)?;
    let (mut sim, pairs) = doc.into_parts();
    for (i, ptr, p) in pairs {
        let request = p
            .request
            .into_model(upgrade, ctx, &format!("{ptr}/request"));
        let response = p.response.into_model(file, &format!("{ptr}/response"))?;
        sim.pairs.push(Pair {
            request,
            response,
            labels: p.labels.unwrap_or_default(),
            source: ctx.source(i),
        });
    }
    Ok(sim)
}
