//! Hoverfly's legacy v1 admin API bodies (Hoverfly v0.5–v0.12): `/api/records` (recordings and
//! templates by `requestType`), `/api/templates` (`requestTemplate`) and `/api/delays`
//! (`urlPattern`/`httpMethod`/`delay`, or v0.7.0's `HostPattern`/`Delay`), plus the
//! simulation `schemaVersion` v1 writer, which shares their request shape.
//!
//! Reading: a recording (`requestType` `recording` or absent) becomes the pair Hoverfly's
//! capture mode writes for that request, like an exchange from pcap or http-types does; a
//! template is upgraded the way `hoverfly_v2` upgrades a v1 simulation (`glob`). Writing goes the other way and only where the content fits:
//! every field one `exact` matcher (a recording) or one `glob`/`exact` matcher (a template);
//! anything else is skipped with a loss note.

use super::detect::Legacy;
use super::hoverfly_v2::{
    self as v2, Ctx, DelayView, Error, MetaOut, Nullable, RequestV1View, ResponseView,
    SchemaVersion, Upgrade, V1Kind, WriteOptions, body_out, from_value, headers_out,
};
use super::query;
use crate::loss::{LossKind, Losses};
use crate::model::simulation::Delay;
use crate::model::simulation::{CapturedRequest, ser_fields};
use crate::model::{Matcher, Pair, RequestMatcher, Simulation};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{self, Write};

#[derive(Deserialize)]
struct ListView<T> {
    data: Vec<T>,
}

#[derive(Deserialize)]
struct RecordView {
    #[serde(default)]
    request: RequestV1View,
    #[serde(default)]
    response: ResponseView,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TemplateView {
    #[serde(default)]
    request_template: RequestV1View,
    #[serde(default)]
    response: ResponseView,
}

/// Reads a legacy body already parsed into `doc`. Legacy endpoints accepted `null` fields, so
/// they read as absent in both upgrade modes.
pub fn read_value(
    doc: &Value,
    which: Legacy,
    file: &str,
    upgrade: Upgrade,
    losses: &mut Losses,
) -> Result<Simulation, Error> {
    let mut ctx = Ctx { file, losses };
    let mut sim = Simulation::default();
    let entries: Vec<(RequestV1View, ResponseView, V1Kind, &str)> = match which {
        Legacy::Records => from_value::<ListView<RecordView>>(doc, file)?
            .data
            .into_iter()
            .map(|r| {
                let kind = r.request.kind();
                (r.request, r.response, kind, "request")
            })
            .collect(),
        Legacy::Templates => from_value::<ListView<TemplateView>>(doc, file)?
            .data
            .into_iter()
            .map(|t| {
                (
                    t.request_template,
                    t.response,
                    V1Kind::Template,
                    "requestTemplate",
                )
            })
            .collect(),
        Legacy::Delays => {
            let entries = from_value::<ListView<DelayView>>(doc, file)?.data;
            // Every key is optional, so any object would read as an empty delay; one with
            // none of them is another body forced through `--from hoverfly-v1-delays`.
            if let Some(i) = entries.iter().position(DelayView::is_blank) {
                return Err(Error::shape(
                    file,
                    format!("/data/{i}"),
                    "expected a delay (urlPattern, httpMethod, delay), found none of its keys",
                ));
            }
            sim.delays = entries.into_iter().map(Delay::from).collect();
            Vec::new()
        }
    };
    for (i, (mut req, resp, kind, key)) in entries.into_iter().enumerate() {
        let ptr = format!("/data/{i}");
        // Legacy endpoints took nulls (and exported them); only simulation v1 validation
        // rejects them, so they read as absent in both modes.
        for f in [
            &mut req.scheme,
            &mut req.destination,
            &mut req.path,
            &mut req.query,
            &mut req.body,
        ] {
            if f.is_null() {
                *f = Nullable::Absent;
            }
        }
        let request = match (which, kind) {
            (Legacy::Records, V1Kind::Recording) => {
                recording_request(req, &mut ctx, &format!("{ptr}/{key}"))
            }
            _ => req.into_model(kind, upgrade, &mut ctx, &format!("{ptr}/{key}"))?,
        };
        let response = resp.into_model(file, &format!("{ptr}/response"))?;
        sim.pairs.push(Pair {
            request,
            response,
            labels: Vec::new(),
            source: ctx.source(i),
        });
    }
    sim.meta.schema_version = Some(
        match which {
            Legacy::Records => "legacy-records",
            Legacy::Templates => "legacy-templates",
            Legacy::Delays => "legacy-delays",
        }
        .to_owned(),
    );
    Ok(sim)
}

/// A legacy recording becomes the request matchers Hoverfly's capture mode writes for the
/// same request ([`RequestMatcher::from_capture`], as exchanges from pcap and http-types do),
/// in both upgrade modes: Hoverfly v1.12.10 has no upgrade for `/api/records`, and capture is
/// how it turns a request into a recording. The recorded path is already decoded and the
/// query still percent-encoded (v0.10.1 records). Recorded headers are not matchers (loss
/// note), as capture writes none by default; `Content-Type` still picks the body matcher.
fn recording_request(req: RequestV1View, ctx: &mut Ctx<'_>, pointer: &str) -> RequestMatcher {
    let headers = req.headers.map(|h| h.0).unwrap_or_default();
    let content_type = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .and_then(|(_, vs)| vs.as_ref()?.first())
        .map(String::as_str);
    if !headers.is_empty() {
        ctx.note(LossKind::RequestHeaders, format!("{pointer}/headers"));
    }
    let query = req.query.into_option();
    // Capture parses the query as Go's `url.Query()` does, skipping pairs it cannot parse;
    // say so when that drops any.
    if let Some(q) = &query {
        let segments = q.split('&').filter(|s| !s.is_empty()).count();
        let parsed: usize = query::go_parse_query(q)
            .iter()
            .map(|(_, vs)| vs.len())
            .sum();
        if parsed != segments {
            ctx.note(LossKind::LegacyQuery, format!("{pointer}/query"));
        }
    }
    let [scheme, method, destination, path, body] =
        [req.scheme, req.method, req.destination, req.path, req.body].map(Nullable::into_option);
    RequestMatcher::from_capture(&CapturedRequest {
        scheme: scheme.as_deref(),
        method: method.as_deref(),
        destination: destination.as_deref(),
        path: path.as_deref(),
        query: query.as_deref(),
        content_type,
        body: body.as_deref(),
    })
}

// ---------------------------------------------------------------------------------------------
// Writing.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestV1Out {
    #[serde(skip_serializing_if = "Option::is_none")]
    request_type: Option<&'static str>,
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
struct ResponseV1Out {
    status: u16,
    body: String,
    encoded_body: bool,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ser_fields")]
    headers: Vec<(String, Vec<String>)>,
}

#[derive(Serialize)]
struct RecordOut {
    request: RequestV1Out,
    response: ResponseV1Out,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TemplateOut {
    request_template: RequestV1Out,
    response: ResponseV1Out,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DelayOut<'a> {
    url_pattern: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    http_method: &'a str,
    delay: i64,
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
                V1Kind::Recording => super::query::go_encode_pairs(&pairs),
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

fn convertible<'a>(
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

fn note_globals(sim: &Simulation, delays_too: bool, losses: &mut Losses) {
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

fn finish<W: Write>(out: &mut W, doc: &impl Serialize, written: usize) -> io::Result<usize> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    out.write_all(b"\n")?;
    Ok(written)
}

/// Writes `/api/records`: recordings and templates by `requestType`.
pub fn write_records<W: Write>(
    sim: &Simulation,
    out: &mut W,
    losses: &mut Losses,
) -> io::Result<usize> {
    note_globals(sim, true, losses);
    let data: Vec<RecordOut> = convertible(sim, losses)
        .map(|(_, request, response)| RecordOut { request, response })
        .collect();
    finish(out, &serde_json::json!({ "data": data }), data.len())
}

/// Writes `/api/templates`: every pair as a glob template (exact values without `*` are
/// already globs).
pub fn write_templates<W: Write>(
    sim: &Simulation,
    out: &mut W,
    losses: &mut Losses,
) -> io::Result<usize> {
    note_globals(sim, true, losses);
    let data: Vec<TemplateOut> = convertible(sim, losses)
        .map(|(_, mut request, response)| {
            request.request_type = None;
            TemplateOut {
                request_template: request,
                response,
            }
        })
        .collect();
    finish(out, &serde_json::json!({ "data": data }), data.len())
}

/// Writes `/api/delays`; pairs and everything else are noted as lost.
pub fn write_delays<W: Write>(
    sim: &Simulation,
    out: &mut W,
    losses: &mut Losses,
) -> io::Result<usize> {
    note_globals(sim, false, losses);
    if !sim.pairs.is_empty() {
        losses.record(LossKind::SchemaVersion, || {
            format!(
                "{} pairs (a delays file holds delays only)",
                sim.pairs.len()
            )
        });
    }
    let data: Vec<DelayOut> = sim
        .delays
        .iter()
        .map(|d| DelayOut {
            url_pattern: &d.url_pattern,
            http_method: &d.http_method,
            delay: d.delay,
        })
        .collect();
    finish(out, &serde_json::json!({ "data": data }), data.len())
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
    let delays: Vec<DelayOut> = sim
        .delays
        .iter()
        .map(|d| DelayOut {
            url_pattern: &d.url_pattern,
            http_method: &d.http_method,
            delay: d.delay,
        })
        .collect();
    #[derive(Serialize)]
    struct Doc<'a> {
        data: Value,
        meta: &'a MetaOut,
    }
    let meta = v2::meta_out(SchemaVersion::V1, sim, opts);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Simulation {
        let doc: Value = serde_json::from_str(json).unwrap();
        let Ok(super::super::detect::Document::Legacy(which)) =
            super::super::detect::document(&doc)
        else {
            panic!("not a legacy body: {json}");
        };
        read_value(
            &doc,
            which,
            "x.json",
            Upgrade::Faithful,
            &mut Losses::default(),
        )
        .unwrap()
    }

    #[test]
    fn detects_and_reads_each_legacy_body() {
        let sim = read(
            r#"{"data":[{"HostPattern":"a\\.com","Delay":5},{"urlPattern":".","httpMethod":"POST","delay":7}]}"#,
        );
        assert_eq!(sim.delays.len(), 2);
        assert_eq!(
            (sim.delays[0].url_pattern.as_str(), sim.delays[0].delay),
            ("a\\.com", 5)
        );
        let sim = read(
            r#"{"data":[{"requestTemplate":{"path":"/v*","scheme":null},"response":{"status":201}}]}"#,
        );
        assert_eq!(sim.pairs[0].request.path, vec![Matcher::new("glob", "/v*")]);
        let sim = read(
            r#"{"data":[{"request":{"path":"/r","query":"b=1&a=2"},"response":{"status":200,"body":"aGk=","encodedBody":true}}]}"#,
        );
        assert_eq!(sim.pairs[0].request.path, vec![Matcher::new("exact", "/r")]);
        assert_eq!(sim.pairs[0].response.body.as_text(), Some("hi"));
        assert_eq!(sim.pairs[0].request.query.as_ref().map(Vec::len), Some(2));
    }

    #[test]
    fn issue_3_a_records_body_forced_as_delays_is_an_error() {
        let doc: Value = serde_json::from_str(
            r#"{"data":[{"request":{"path":"/r"},"response":{"status":200}}]}"#,
        )
        .unwrap();
        let err = read_value(
            &doc,
            Legacy::Delays,
            "x.json",
            Upgrade::Faithful,
            &mut Losses::default(),
        )
        .err()
        .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "x.json: /data/0: expected a delay (urlPattern, httpMethod, delay), found none of its keys"
            )
        );
    }

    #[test]
    fn records_round_trip() {
        let json = r#"{"data":[{"request":{"requestType":"recording","path":"/r","method":"GET","destination":"h","scheme":"http","query":"a=1&a=2&b=x+y","body":"","headers":{"A":["1","2"]}},"response":{"status":200,"body":"ok","encodedBody":false}},{"request":{"requestType":"template","path":"/t*","query":"id=*"},"response":{"status":201,"body":"t","encodedBody":false}}]}"#;
        let sim = read(json);
        let mut out = Vec::new();
        let mut losses = Losses::default();
        write_records(&sim, &mut out, &mut losses).unwrap();
        assert!(losses.is_empty(), "{losses:?}");
        let again = read(std::str::from_utf8(&out).unwrap());
        assert_eq!(again.pairs.len(), 2);
        for (a, b) in sim.pairs.iter().zip(&again.pairs) {
            assert_eq!(a.request, b.request);
            assert_eq!(a.response, b.response);
        }
    }

    #[test]
    fn issue_3_legacy_recordings_become_captured_pairs() {
        let json = r#"{"data":[{"request":{"requestType":"recording","path":"/a b","method":"POST","destination":"H.test:8080","scheme":"http","query":"","body":"{\"n\": 1}","headers":{"content-type":["application/json"],"User-Agent":["curl"]}},"response":{"status":200}}]}"#;
        let doc: Value = serde_json::from_str(json).unwrap();
        let mut losses = Losses::default();
        let sim = read_value(
            &doc,
            Legacy::Records,
            "x.json",
            Upgrade::HoverflyCompat,
            &mut losses,
        )
        .unwrap();
        let r = &sim.pairs[0].request;
        assert_eq!(r.path, vec![Matcher::new("exact", "/a b")]);
        assert_eq!(r.destination, vec![Matcher::new("exact", "h.test:8080")]);
        assert_eq!(r.body, vec![Matcher::new("json", "{\"n\": 1}")]);
        assert!(r.headers.is_empty() && r.query.is_none(), "{r:?}");
        // A json body matcher is no exact matcher: the count rule makes this a template.
        assert!(!r.is_all_exact());
        assert!(!losses.is_empty());
    }
}
