//! Hoverfly's legacy v1 admin API bodies (Hoverfly v0.5–v0.12): `/api/records` (recordings and
//! templates by `requestType`), `/api/templates` (`requestTemplate`) and `/api/delays`
//! (`urlPattern`/`httpMethod`/`delay`, or v0.7.0's `HostPattern`/`Delay`), plus the
//! simulation `schemaVersion` v1 writer, which shares their request shape.
//!
//! Reading: a recording (`requestType` `recording` or absent) becomes the pair Hoverfly's
//! capture mode writes for that request, like an exchange from pcap or http-types does; a
//! template is upgraded the way a v1 simulation is (`glob`). Writing goes the other way and
//! only where the content fits, in the request and response shape of the v1 simulation
//! writer ([`write::v1`](super::write::v1)).

use super::de::{Nullable, from_value};
use super::shared::{Ctx, DelayView, RequestV1View, ResponseView, V1Kind};
use super::write::v1::{RecordOut, RequestV1Out, ResponseV1Out, convertible, note_globals};
use super::write::{AnyMethod, delays_out, finish};
use super::{Error, Upgrade};
use crate::codec::query;
use crate::formats::detect::Legacy;
use crate::loss::{LossKind, Losses};
use crate::model::simulation::CapturedRequest;
use crate::model::simulation::Delay;
use crate::model::{Pair, RequestMatcher, Simulation};
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TemplateOut {
    request_template: RequestV1Out,
    response: ResponseV1Out,
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
    let data = delays_out(&sim.delays, AnyMethod::Omitted);
    finish(out, &serde_json::json!({ "data": data }), data.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Matcher;

    fn read(json: &str) -> Simulation {
        let doc: Value = serde_json::from_str(json).unwrap();
        let Ok(crate::formats::detect::Document::Legacy(which)) =
            crate::formats::detect::document(&doc)
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
