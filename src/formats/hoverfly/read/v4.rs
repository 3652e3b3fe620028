//! Reading `schemaVersion` v2, v3 and v4 (Hoverfly v0.11–v0.16): field-matcher objects, as
//! Hoverfly's `upgradeV2`/`upgradeV4` turn them into matcher lists.

use super::super::de::{OrderedMap, from_value};
use super::super::shared::{Ctx, DocView, ResponseView, legacy_query, push_matchers};
use super::super::{Error, Upgrade};
use crate::loss::LossKind;
use crate::model::simulation::Fields;
use crate::model::{Matcher, Pair, RequestMatcher, Simulation};
use serde::Deserialize;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// v2, v3, v4: field-matcher objects.

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FieldMatcherView {
    exact_match: Option<String>,
    glob_match: Option<String>,
    json_match: Option<String>,
    json_path_match: Option<String>,
    regex_match: Option<String>,
    xml_match: Option<String>,
    xpath_match: Option<String>,
}

impl FieldMatcherView {
    /// One matcher per key, in `v2GetMatchersFromRequestFieldMatchersView`'s fixed order.
    fn into_matchers(self) -> Vec<Matcher> {
        [
            ("exact", self.exact_match),
            ("glob", self.glob_match),
            ("json", self.json_match),
            ("jsonpath", self.json_path_match),
            ("regex", self.regex_match),
            ("xml", self.xml_match),
            ("xpath", self.xpath_match),
        ]
        .into_iter()
        .filter_map(|(n, v)| v.map(|v| Matcher::new(n, v)))
        .collect()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestV4View {
    path: Option<FieldMatcherView>,
    method: Option<FieldMatcherView>,
    destination: Option<FieldMatcherView>,
    scheme: Option<FieldMatcherView>,
    query: Option<FieldMatcherView>,
    body: Option<FieldMatcherView>,
    headers: Option<OrderedMap<Option<Vec<String>>>>,
    requires_state: Option<OrderedMap<String>>,
    headers_with_matchers: Option<OrderedMap<FieldMatcherView>>,
    queries_with_matchers: Option<OrderedMap<FieldMatcherView>>,
}

#[derive(Debug, Deserialize)]
struct PairV4View {
    #[serde(default)]
    request: RequestV4View,
    #[serde(default)]
    response: ResponseView,
}

impl RequestV4View {
    /// `upgradeV2`/`upgradeV4`: field objects become matcher lists, plain headers a glob
    /// joined by `;`, `headersWithMatchers` appended, `queriesWithMatchers` the query map.
    fn into_model(self, upgrade: Upgrade, ctx: &mut Ctx<'_>, pointer: &str) -> RequestMatcher {
        let ms = |f: Option<FieldMatcherView>| {
            f.map(FieldMatcherView::into_matchers).unwrap_or_default()
        };
        let mut headers: Fields<Vec<Matcher>> = Vec::new();
        for (h, values) in self.headers.map(|h| h.0).unwrap_or_default() {
            let joined = values.unwrap_or_default().join(";");
            push_matchers(&mut headers, h, vec![Matcher::new("glob", joined)]);
        }
        for (h, f) in self.headers_with_matchers.map(|h| h.0).unwrap_or_default() {
            push_matchers(&mut headers, h, f.into_matchers());
        }
        let mut query: Option<Fields<Vec<Matcher>>> = None;
        let legacy = ms(self.query);
        if !legacy.is_empty() {
            match upgrade {
                Upgrade::HoverflyCompat => {
                    ctx.note(LossKind::HoverflyUpgrade, format!("{pointer}/query"))
                }
                Upgrade::Faithful => {
                    let mut q = Vec::new();
                    let (mut split, mut unsplit) = (0, 0);
                    for m in &legacy {
                        match m.value.as_str().and_then(|v| legacy_query(v, &m.matcher)) {
                            Some(parts) if m.is("exact") || m.is("glob") => {
                                split += 1;
                                for (k, ms) in parts {
                                    push_matchers(&mut q, k, ms);
                                }
                            }
                            _ => unsplit += 1,
                        }
                    }
                    if unsplit > 0 {
                        ctx.note(LossKind::LegacyQuery, format!("{pointer}/query"));
                    }
                    // Only a split matcher constrains the query; an unsplit one leaves it
                    // ignored rather than inventing "no query" (`{}`).
                    if split > 0 {
                        query = Some(q);
                    }
                }
            }
        }
        if let Some(qm) = self.queries_with_matchers {
            let q = query.get_or_insert_with(Vec::new);
            for (k, f) in qm.0 {
                push_matchers(q, k, f.into_matchers());
            }
        }
        RequestMatcher {
            path: ms(self.path),
            method: ms(self.method),
            destination: ms(self.destination),
            scheme: ms(self.scheme),
            body: ms(self.body),
            headers,
            query,
            requires_state: self.requires_state.map(|s| s.0).unwrap_or_default(),
            deprecated_query: Vec::new(),
        }
    }
}

/// Whether a document's responses keep their `templated` flag: v2 has none (Hoverfly v0.13
/// added it in v3), so every v2 response reads as not templated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Templated {
    /// v2: responses are never templated.
    No,
    /// v3 and v4: `templated` as read.
    AsRead,
}

/// Reads a v2, v3 or v4 document.
pub(super) fn read(
    doc: &Value,
    templated: Templated,
    upgrade: Upgrade,
    ctx: &mut Ctx<'_>,
) -> Result<Simulation, Error> {
    let file = ctx.file;
    let doc: DocView<PairV4View> = from_value(doc, file)?;
    let (mut sim, pairs) = doc.into_parts();
    for (i, ptr, p) in pairs {
        let request = p
            .request
            .into_model(upgrade, ctx, &format!("{ptr}/request"));
        let mut response = p.response.into_model(file, &format!("{ptr}/response"))?;
        if templated == Templated::No {
            response.templated = false;
        }
        sim.pairs.push(Pair {
            request,
            response,
            labels: Vec::new(),
            source: ctx.source(i),
        });
    }
    Ok(sim)
}
