//! Reading `schemaVersion` v1 (Hoverfly v0.9–v0.10): plain strings, `requestType` telling
//! recordings from templates, as Hoverfly's `upgradeV1` turns them into matchers.

use super::super::de::from_value;
use super::super::shared::{Ctx, DocView, RequestV1View, ResponseView};
use super::super::{Error, Upgrade};
use crate::loss::LossKind;
use crate::model::{Pair, Simulation};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
struct PairV1View {
    #[serde(default)]
    request: RequestV1View,
    #[serde(default)]
    response: ResponseView,
}

/// The first `null` that Hoverfly's v1 schema (`SimulationViewV1Schema`) rejects: typed
/// request and response fields, and header value lists.
fn v1_null(doc: &Value) -> Option<String> {
    const REQUEST: [&str; 6] = ["scheme", "destination", "path", "query", "body", "headers"];
    const RESPONSE: [&str; 4] = ["status", "body", "encodedBody", "headers"];
    let pairs = doc.pointer("/data/pairs")?.as_array()?;
    for (i, pair) in pairs.iter().enumerate() {
        for (side, fields) in [("request", &REQUEST[..]), ("response", &RESPONSE[..])] {
            let Some(obj) = pair.get(side).and_then(Value::as_object) else {
                continue;
            };
            for f in fields {
                match obj.get(*f) {
                    Some(Value::Null) => return Some(format!("/data/pairs/{i}/{side}/{f}")),
                    Some(Value::Object(h)) if *f == "headers" => {
                        if let Some((name, _)) = h.iter().find(|(_, v)| v.is_null()) {
                            let name = name.replace('~', "~0").replace('/', "~1");
                            return Some(format!("/data/pairs/{i}/{side}/headers/{name}"));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    None
}

/// Reads a v1 document. With [`Upgrade::HoverflyCompat`] a `null` Hoverfly's v1 schema
/// rejects is an error, and global delays are dropped as Hoverfly's upgrade drops them.
pub(super) fn read(doc: &Value, upgrade: Upgrade, ctx: &mut Ctx<'_>) -> Result<Simulation, Error> {
    let file = ctx.file;
    if upgrade == Upgrade::HoverflyCompat {
        if let Some(pointer) = v1_null(doc) {
            return Err(Error::shape(
                file,
                pointer,
                "null, expected a value (Hoverfly rejects null here; without --hoverfly-compat it reads as absent)",
            ));
        }
    }
    let doc: DocView<PairV1View> = from_value(doc, file)?;
    let (mut sim, pairs) = doc.into_parts();
    if upgrade == Upgrade::HoverflyCompat && !sim.delays.is_empty() {
        ctx.note(
            LossKind::HoverflyUpgrade,
            "/data/globalActions/delays".into(),
        );
        sim.delays.clear();
    }
    for (i, ptr, p) in pairs {
        let kind = p.request.kind();
        let request = p
            .request
            .into_model(kind, upgrade, ctx, &format!("{ptr}/request"))?;
        let mut response = p.response.into_model(file, &format!("{ptr}/response"))?;
        response.templated = false;
        sim.pairs.push(Pair {
            request,
            response,
            labels: Vec::new(),
            source: ctx.source(i),
        });
    }
    Ok(sim)
}
