//! Writing `schemaVersion` v2, v3 and v4 (downgrades for old Hoverfly installs): field-matcher
//! objects; pairs whose matchers the version cannot express are skipped with a loss note.

use super::super::SchemaVersion;
use super::{AnyMethod, DocOut, WriteOptions, body_out, delays_out, finish, headers_out, meta_out};
use crate::loss::{LossKind, Losses};
use crate::model::simulation::{Fields, ser_fields};
use crate::model::{Matcher, RequestMatcher, Simulation};
use serde::Serialize;
use std::io::{self, Write};

// ---------------------------------------------------------------------------------------------
// Writing v2, v3 and v4 (downgrades for old Hoverfly installs).

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct FieldMatcherOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    exact_match: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    glob_match: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    json_match: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    json_path_match: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    regex_match: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    xml_match: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    xpath_match: Option<String>,
}

/// A matcher list as one v2 field object: one matcher per kind, string values, no chains.
fn field_out(ms: &[Matcher]) -> Result<Option<FieldMatcherOut>, ()> {
    if ms.is_empty() {
        return Ok(None);
    }
    let mut f = FieldMatcherOut::default();
    for m in ms {
        if m.config.is_some() || m.do_match.is_some() {
            return Err(());
        }
        let v = m.value.as_str().ok_or(())?.to_owned();
        let slot = match m.matcher.to_ascii_lowercase().as_str() {
            "exact" => &mut f.exact_match,
            "glob" => &mut f.glob_match,
            "json" => &mut f.json_match,
            "jsonpath" => &mut f.json_path_match,
            "regex" => &mut f.regex_match,
            "xml" => &mut f.xml_match,
            "xpath" => &mut f.xpath_match,
            _ => return Err(()),
        };
        if slot.replace(v).is_some() {
            return Err(());
        }
    }
    Ok(Some(f))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestV4Out {
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<FieldMatcherOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<FieldMatcherOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<FieldMatcherOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheme: Option<FieldMatcherOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<FieldMatcherOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<FieldMatcherOut>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ser_fields")]
    headers: Fields<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ser_fields")]
    headers_with_matchers: Fields<FieldMatcherOut>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ser_fields")]
    queries_with_matchers: Fields<FieldMatcherOut>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ser_fields")]
    requires_state: Fields<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResponseV4Out {
    status: u16,
    body: String,
    encoded_body: bool,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ser_fields")]
    headers: Fields<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    templated: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ser_fields")]
    transitions_state: Fields<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    removes_state: Vec<String>,
}

#[derive(Serialize)]
struct PairV4Out {
    request: RequestV4Out,
    response: ResponseV4Out,
}

/// The query map as a v2–v4 whole-query matcher (`exactMatch` when every key is exact,
/// `globMatch` when some are glob), or v4's `queriesWithMatchers`.
fn query_out(
    q: &Fields<Vec<Matcher>>,
    version: SchemaVersion,
) -> Result<(Option<FieldMatcherOut>, Fields<FieldMatcherOut>), ()> {
    let mut exact: Vec<(String, String)> = Vec::new();
    let mut all_exact = true;
    for (k, ms) in q {
        match ms.as_slice() {
            [m] if m.exact_value().is_some() => {
                exact.push((k.clone(), m.exact_value().unwrap_or_default().to_owned()))
            }
            [m] if m.array_values().is_some() => exact.extend(
                m.array_values()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| (k.clone(), v.to_owned())),
            ),
            _ => all_exact = false,
        }
    }
    if all_exact {
        // v3+ store the query unescaped (the v2→v3 upgrade applies url.QueryUnescape).
        let text = if version == SchemaVersion::V2 {
            crate::codec::query::go_encode_pairs(&exact)
        } else {
            exact
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        };
        return Ok((
            Some(FieldMatcherOut {
                exact_match: Some(text),
                ..FieldMatcherOut::default()
            }),
            Vec::new(),
        ));
    }
    if version == SchemaVersion::V4 {
        let mut out = Vec::new();
        for (k, ms) in q {
            out.push((k.clone(), field_out(ms)?.ok_or(())?));
        }
        return Ok((None, out));
    }
    let mut parts = Vec::new();
    for (k, ms) in q {
        match ms.as_slice() {
            [m] if (m.is("glob") || m.is("exact"))
                && m.config.is_none()
                && m.do_match.is_none() =>
            {
                parts.push(format!("{k}={}", m.value.as_str().ok_or(())?));
            }
            _ => return Err(()),
        }
    }
    Ok((
        Some(FieldMatcherOut {
            glob_match: Some(parts.join("&")),
            ..FieldMatcherOut::default()
        }),
        Vec::new(),
    ))
}

fn request_v4(r: &RequestMatcher, version: SchemaVersion) -> Result<RequestV4Out, ()> {
    let mut headers = Vec::new();
    let mut headers_with_matchers = Vec::new();
    for (name, ms) in &r.headers {
        match ms.as_slice() {
            [m] if m.is("glob") && m.config.is_none() && m.do_match.is_none() => {
                headers.push((name.clone(), vec![m.value.as_str().ok_or(())?.to_owned()]))
            }
            [m] if m.exact_value().is_some_and(|v| !v.contains('*')) => headers.push((
                name.clone(),
                vec![m.exact_value().unwrap_or_default().to_owned()],
            )),
            [m] if m.array_values().is_some() => headers.push((
                name.clone(),
                m.array_values()
                    .unwrap_or_default()
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            )),
            _ if version == SchemaVersion::V4 => {
                headers_with_matchers.push((name.clone(), field_out(ms)?.ok_or(())?))
            }
            _ => return Err(()),
        }
    }
    let (query, queries_with_matchers) = match (&r.query, r.deprecated_query.as_slice()) {
        (None, []) => (None, Vec::new()),
        (None, dq) => (field_out(dq)?, Vec::new()),
        (Some(q), []) => query_out(q, version)?,
        (Some(_), _) => return Err(()),
    };
    Ok(RequestV4Out {
        path: field_out(&r.path)?,
        method: field_out(&r.method)?,
        destination: field_out(&r.destination)?,
        scheme: field_out(&r.scheme)?,
        query,
        body: field_out(&r.body)?,
        headers,
        headers_with_matchers,
        queries_with_matchers,
        requires_state: if version == SchemaVersion::V4 {
            r.requires_state.clone()
        } else {
            Vec::new()
        },
    })
}

/// Writes `sim` as a v2, v3 or v4 document. Pairs whose matchers the version cannot express
/// are skipped, other features left out, each with a [`LossKind::SchemaVersion`] note.
pub fn write_v4<W: Write>(
    sim: &Simulation,
    version: SchemaVersion,
    opts: &WriteOptions,
    out: &mut W,
    losses: &mut Losses,
) -> io::Result<usize> {
    let mut pairs = Vec::new();
    for p in &sim.pairs {
        let Ok(request) = request_v4(&p.request, version) else {
            losses.record(LossKind::SchemaVersion, || {
                format!("{}: matchers {version} cannot express", p.source)
            });
            continue;
        };
        let r = &p.response;
        let v3 = version >= SchemaVersion::V3;
        let v4 = version == SchemaVersion::V4;
        let lost = (!v4
            && (!r.transitions_state.is_empty()
                || !r.removes_state.is_empty()
                || !p.request.requires_state.is_empty()))
            || (!v3 && r.templated)
            || r.body_file.is_some()
            || r.fixed_delay.is_some()
            || r.log_normal_delay.is_some()
            || r.post_serve_action.is_some()
            || !p.labels.is_empty();
        if lost {
            losses.record(LossKind::SchemaVersion, || {
                format!("{}: response features {version} cannot express", p.source)
            });
        }
        let (body, encoded_body) = body_out(&r.body, &r.headers);
        pairs.push(PairV4Out {
            request,
            response: ResponseV4Out {
                status: r.status,
                body,
                encoded_body,
                headers: headers_out(&r.headers),
                templated: v3.then_some(r.templated),
                transitions_state: if v4 {
                    r.transitions_state.clone()
                } else {
                    Vec::new()
                },
                removes_state: if v4 {
                    r.removes_state.clone()
                } else {
                    Vec::new()
                },
            },
        });
    }
    if !sim.delays_log_normal.is_empty() || !sim.literals.is_empty() || !sim.variables.is_empty() {
        losses.record(LossKind::SchemaVersion, || {
            format!("log-normal delays, literals and variables need v5+ (writing {version})")
        });
    }
    let delays = delays_out(&sim.delays, AnyMethod::Empty);
    let n = pairs.len();
    let doc = DocOut {
        data: serde_json::json!({ "pairs": pairs, "globalActions": { "delays": delays } }),
        meta: meta_out(version, sim, opts),
    };
    finish(out, &doc, n)
}
