//! Writing `schemaVersion` v1, and the request and response shape the legacy bodies share
//! with it: every field one `exact` matcher (a recording) or one `glob`/`exact` matcher (a
//! template); anything else is skipped with a loss note.

use super::super::SchemaVersion;
use super::super::shared::V1Kind;
use super::{
    AnyMethod, MetaOut, WriteOptions, body_out, delays_out, finish, headers_out, meta_out,
};
use crate::loss::{LossKind, Losses};
use crate::model::simulation::ser_fields;
use crate::model::{Matcher, Pair, Simulation};
use serde::Serialize;
use serde_json::Value;
use std::io::{self, Write};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(in crate::formats::hoverfly) struct RequestV1Out {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheme: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ser_fields")]
    headers: Vec<(String, Vec<String>)>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(in crate::formats::hoverfly) struct ResponseV1Out {
    status: u16,
    body: String,
    encoded_body: bool,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ser_fields")]
    headers: Vec<(String, Vec<String>)>,
}

#[derive(Serialize)]
pub(in crate::formats::hoverfly) struct RecordOut {
    pub request: RequestV1Out,
    pub response: ResponseV1Out,
}

/// One field's single matcher as a v1 string, given the kind the pair is written as.
fn field(ms: &[Matcher], kind: V1Kind) -> Result<Option<String>, ()> {
    match ms {
        [] => Ok(None),
        [m] if m.config.is_none() && m.do_match.is_none() => {
            let v = m.value.as_str().ok_or(())?;
            match kind {
                V1Kind::Recording if m.is("exact") => Ok(Some(v.to_owned())),
                V1Kind::Template if m.is("glob") => Ok(Some(v.to_owned())),
                V1Kind::Template if m.is("exact") && !v.contains('*') => Ok(Some(v.to_owned())),
                _ => Err(()),
            }
        }
        _ => Err(()),
    }
}

/// A pair as a v1 request, or `Err` when v1 cannot express its matchers.
fn request_v1(p: &Pair) -> Result<(V1Kind, RequestV1Out), ()> {
    let r = &p.request;
    if !r.requires_state.is_empty() || r.deprecated_query.len() > 1 {
        return Err(());
    }
    let kind = if r.is_all_exact() {
        V1Kind::Recording
    } else {
        V1Kind::Template
    };
    let mut headers = Vec::new();
    for (name, ms) in &r.headers {
        let values = match ms.as_slice() {
            [m] if m.array_values().is_some() && kind == V1Kind::Recording => m
                .array_values()
                .unwrap_or_default()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            _ => vec![field(ms, kind)?.unwrap_or_default()],
        };
        headers.push((name.clone(), values));
    }
    let query = match (&r.query, r.deprecated_query.as_slice()) {
        (None, []) => None,
        (None, dq) => field(dq, kind)?,
        (Some(_), [_, ..]) => return Err(()),
        (Some(q), []) => {
            let mut pairs: Vec<(String, String)> = Vec::new();
            for (k, ms) in q {
                match (kind, ms.as_slice()) {
                    (V1Kind::Recording, [m]) if m.array_values().is_some() => pairs.extend(
                        m.array_values()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|v| (k.clone(), v.to_owned())),
                    ),
                    _ => pairs.push((k.clone(), field(ms, kind)?.unwrap_or_default())),
                }
            }
            Some(match kind {
                V1Kind::Recording => crate::codec::query::go_encode_pairs(&pairs),
                V1Kind::Template => pairs
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&"),
            })
        }
    };
    Ok((
        kind,
        RequestV1Out {
            request_type: Some(match kind {
                V1Kind::Recording => "recording",
                V1Kind::Template => "template",
            }),
            path: field(&r.path, kind)?,
            method: field(&r.method, kind)?,
            destination: field(&r.destination, kind)?,
            scheme: field(&r.scheme, kind)?,
            query,
            body: field(&r.body, kind)?,
            headers,
        },
    ))
}

fn response_v1(p: &Pair, losses: &mut Losses) -> ResponseV1Out {
    let r = &p.response;
    if r.templated
        || !r.transitions_state.is_empty()
        || !r.removes_state.is_empty()
        || r.fixed_delay.is_some()
        || r.log_normal_delay.is_some()
        || r.post_serve_action.is_some()
        || r.body_file.is_some()
        || !p.labels.is_empty()
    {
        losses.record(LossKind::ResponseTemplateFeature, || p.source.to_string());
    }
    let (body, encoded_body) = body_out(&r.body, &r.headers);
    ResponseV1Out {
        status: r.status,
        body,
        encoded_body,
        headers: headers_out(&r.headers),
    }
}

pub(in crate::formats::hoverfly) fn convertible<'a>(
    sim: &'a Simulation,
    losses: &'a mut Losses,
) -> impl Iterator<Item = (V1Kind, RequestV1Out, ResponseV1Out)> + 'a {
    sim.pairs.iter().filter_map(move |p| match request_v1(p) {
        Ok((kind, req)) => Some((kind, req, response_v1(p, losses))),
        Err(()) => {
            losses.record(LossKind::SchemaVersion, || {
                format!("{}: matchers v1 cannot express", p.source)
            });
            None
        }
    })
}

pub(in crate::formats::hoverfly) fn note_globals(
    sim: &Simulation,
    delays_too: bool,
    losses: &mut Losses,
) {
    let n = sim.delays_log_normal.len()
        + sim.literals.len()
        + sim.variables.len()
        + if delays_too { sim.delays.len() } else { 0 };
    if n > 0 {
        losses.record(LossKind::SimulationFeature, || {
            format!("{n} global delays, literals or variables")
        });
    }
}

/// Writes a simulation document with `schemaVersion` v1.
pub fn write_simulation_v1<W: Write>(
    sim: &Simulation,
    opts: &WriteOptions,
    out: &mut W,
    losses: &mut Losses,
) -> io::Result<usize> {
    note_globals(sim, false, losses);
    let pairs: Vec<RecordOut> = convertible(sim, losses)
        .map(|(_, request, response)| RecordOut { request, response })
        .collect();
    let delays = delays_out(&sim.delays, AnyMethod::Omitted);
    #[derive(Serialize)]
    struct Doc<'a> {
        data: Value,
        meta: &'a MetaOut,
    }
    let meta = meta_out(SchemaVersion::V1, sim, opts);
    let n = pairs.len();
    finish(
        out,
        &Doc {
            data: serde_json::json!({ "pairs": pairs, "globalActions": { "delays": delays } }),
            meta: &meta,
        },
        n,
    )
}
