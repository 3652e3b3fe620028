//! Writing `schemaVersion` v5 and v5.x: matcher arrays with Hoverfly's export shape, and
//! what each v5.x cannot express left out with a loss note.

use super::super::SchemaVersion;
use super::super::version::pair_version;
use super::{
    AnyMethod, DelayOut, DocOut, KeyOrder, WriteOptions, body_out, delays_out, finish, headers_out,
    meta_out,
};
use crate::loss::{LossKind, Losses};
use crate::model::simulation::{Fields, LogNormal, ser_fields};
use crate::model::{Matcher, Pair, RequestMatcher, ResponseTemplate, Simulation};
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::io::{self, Write};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestV5Out<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    path: Vec<MatcherOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    method: Vec<MatcherOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    destination: Vec<MatcherOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scheme: Vec<MatcherOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    body: Vec<MatcherOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ser_fields")]
    headers: Fields<Vec<MatcherOut<'a>>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_fields"
    )]
    query: Option<Fields<Vec<MatcherOut<'a>>>>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ser_fields")]
    requires_state: Fields<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    deprecated_query: Vec<MatcherOut<'a>>,
}

fn ser_opt_fields<T: Serialize, S: serde::Serializer>(
    f: &Option<Fields<T>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match f {
        Some(f) => ser_fields(f, s),
        None => s.serialize_none(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MatcherOut<'a> {
    matcher: &'a str,
    value: Cow<'a, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<Cow<'a, Map<String, Value>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    do_match: Option<Box<MatcherOut<'a>>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResponseV5Out<'a> {
    status: u16,
    body: String,
    encoded_body: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    body_file: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ser_fields")]
    headers: Fields<Vec<String>>,
    templated: bool,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ser_fields")]
    transitions_state: Fields<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    removes_state: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    fixed_delay: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_normal_delay: Option<&'a LogNormal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    post_serve_action: Option<&'a str>,
}

/// A pair; `labels` sits in one of two places, by [`KeyOrder`]: Hoverfly's first, or last.
#[derive(Serialize)]
struct PairV5Out<'a> {
    #[serde(rename = "labels", skip_serializing_if = "<[String]>::is_empty")]
    labels_first: &'a [String],
    request: RequestV5Out<'a>,
    response: ResponseV5Out<'a>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    labels: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogNormalDelayOut<'a> {
    url_pattern: &'a str,
    http_method: &'a str,
    #[serde(flatten)]
    params: &'a LogNormal,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GlobalActionsOut<'a> {
    delays: Vec<DelayOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delays_log_normal: Option<Vec<LogNormalDelayOut<'a>>>,
}

#[derive(Serialize)]
struct VariableOut<'a> {
    name: &'a str,
    function: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    arguments: Vec<Cow<'a, Value>>,
}

#[derive(Serialize)]
struct LiteralOut<'a> {
    name: &'a str,
    value: Cow<'a, Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DataV5Out<'a> {
    pairs: Vec<PairV5Out<'a>>,
    global_actions: GlobalActionsOut<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    literals: Vec<LiteralOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    variables: Vec<VariableOut<'a>>,
}

/// How the v5.x writer shapes its output: the version, and the key order.
#[derive(Clone, Copy)]
struct Shape {
    version: SchemaVersion,
    order: KeyOrder,
}

fn matcher_out<'a>(m: &'a Matcher, shape: Shape, drop: &mut bool) -> MatcherOut<'a> {
    let modern = shape.version >= SchemaVersion::V5_2;
    if !modern && (m.config.is_some() || m.do_match.is_some()) {
        *drop = true;
    }
    MatcherOut {
        matcher: &m.matcher,
        value: shape.order.matcher_value(&m.matcher, &m.value),
        config: m
            .config
            .as_ref()
            .filter(|_| modern)
            .map(|c| shape.order.map(c)),
        do_match: m
            .do_match
            .as_deref()
            .filter(|_| modern)
            .map(|d| Box::new(matcher_out(d, shape, drop))),
    }
}

fn list<'a>(ms: &'a [Matcher], shape: Shape, drop: &mut bool) -> Vec<MatcherOut<'a>> {
    ms.iter().map(|m| matcher_out(m, shape, drop)).collect()
}

/// Writes `sim` as a v5.x document. Content the version cannot express is left out with a
/// [`LossKind::SchemaVersion`] note.
pub fn write_v5<W: Write>(
    sim: &Simulation,
    version: SchemaVersion,
    opts: &WriteOptions,
    out: &mut W,
    losses: &mut Losses,
) -> io::Result<usize> {
    let shape = Shape {
        version,
        order: opts.key_order,
    };
    let pairs: Vec<PairV5Out> = sim
        .pairs
        .iter()
        .map(|p| pair_out(p, shape, losses))
        .collect();
    let data = data_out(sim, pairs, shape, losses);
    let n = data.pairs.len();
    let doc = DocOut {
        data,
        meta: meta_out(version, sim, opts),
    };
    finish(out, &doc, n)
}

/// One pair as `shape` writes it, noting what its version leaves out.
fn pair_out<'a>(p: &'a Pair, shape: Shape, losses: &mut Losses) -> PairV5Out<'a> {
    let version = shape.version;
    let mut dropped = false;
    let request = request_out(&p.request, shape, &mut dropped);
    if !p.request.deprecated_query.is_empty() {
        losses.record(LossKind::LegacyQuery, || {
            format!(
                "{}: deprecatedQuery kept; Hoverfly v1.7+ ignores it",
                p.source
            )
        });
    }
    let response = response_out(&p.response, shape, &mut dropped);
    if version < SchemaVersion::V5_3 && !p.labels.is_empty() {
        dropped = true;
    }
    // Matchers newer than the version (array, form, jwt, negate) are kept, as Hoverfly
    // does not validate names on import, but older releases cannot evaluate them.
    if dropped || pair_version(p) > version {
        losses.record(LossKind::SchemaVersion, || {
            format!("{}: needs {}", p.source, pair_version(p))
        });
    }
    let labels: &[String] = if version >= SchemaVersion::V5_3 {
        &p.labels
    } else {
        &[]
    };
    let (labels_first, labels) = match shape.order {
        KeyOrder::AsRead => (&[][..], labels),
        KeyOrder::Hoverfly => (labels, &[][..]),
    };
    PairV5Out {
        labels_first,
        request,
        response,
        labels,
    }
}

/// A map of matcher lists (headers, query) in `shape`'s key order.
fn matcher_fields<'a>(
    fields: &'a Fields<Vec<Matcher>>,
    shape: Shape,
    drop: &mut bool,
) -> Fields<Vec<MatcherOut<'a>>> {
    let out = fields
        .iter()
        .map(|(k, ms)| (k.clone(), list(ms, shape, drop)))
        .collect();
    shape.order.fields(out)
}

/// A map of strings (state) in `order`.
fn text_fields(fields: &Fields<String>, order: KeyOrder) -> Fields<&str> {
    order.fields(
        fields
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str()))
            .collect(),
    )
}

fn request_out<'a>(r: &'a RequestMatcher, shape: Shape, drop: &mut bool) -> RequestV5Out<'a> {
    RequestV5Out {
        path: list(&r.path, shape, drop),
        method: list(&r.method, shape, drop),
        destination: list(&r.destination, shape, drop),
        scheme: list(&r.scheme, shape, drop),
        body: list(&r.body, shape, drop),
        headers: matcher_fields(&r.headers, shape, drop),
        query: r.query.as_ref().map(|q| matcher_fields(q, shape, drop)),
        requires_state: text_fields(&r.requires_state, shape.order),
        deprecated_query: list(&r.deprecated_query, shape, drop),
    }
}

/// The response as `shape` writes it; `drop` is set when its version leaves a field out.
fn response_out<'a>(
    resp: &'a ResponseTemplate,
    shape: Shape,
    drop: &mut bool,
) -> ResponseV5Out<'a> {
    let version = shape.version;
    let v5_1 = version >= SchemaVersion::V5_1;
    let v5_2 = version >= SchemaVersion::V5_2;
    let needs_v5_1 =
        resp.body_file.is_some() || resp.fixed_delay.is_some() || resp.log_normal_delay.is_some();
    if (!v5_1 && needs_v5_1) || (!v5_2 && resp.post_serve_action.is_some()) {
        *drop = true;
    }
    let (body, encoded_body) = body_out(&resp.body, &resp.headers);
    ResponseV5Out {
        status: resp.status,
        body,
        encoded_body,
        body_file: resp.body_file.as_deref().filter(|_| v5_1),
        headers: shape.order.fields(headers_out(&resp.headers)),
        templated: resp.templated,
        transitions_state: text_fields(&resp.transitions_state, shape.order),
        removes_state: &resp.removes_state,
        fixed_delay: resp.fixed_delay.filter(|_| v5_1),
        log_normal_delay: resp.log_normal_delay.as_ref().filter(|_| v5_1),
        post_serve_action: resp.post_serve_action.as_deref().filter(|_| v5_2),
    }
}

/// `data`: the pairs, then the global actions, literals and variables the version holds.
fn data_out<'a>(
    sim: &'a Simulation,
    pairs: Vec<PairV5Out<'a>>,
    shape: Shape,
    losses: &mut Losses,
) -> DataV5Out<'a> {
    let (version, order) = (shape.version, shape.order);
    let v5_2 = version >= SchemaVersion::V5_2;
    if !v5_2 && (!sim.literals.is_empty() || !sim.variables.is_empty()) {
        losses.record(LossKind::SchemaVersion, || {
            "literals and variables need v5.2".to_owned()
        });
    }
    let log_normal = sim.delays_log_normal.iter().map(|d| LogNormalDelayOut {
        url_pattern: &d.url_pattern,
        http_method: &d.http_method,
        params: &d.params,
    });
    let literals = sim.literals.iter().map(|l| LiteralOut {
        name: &l.name,
        value: order.value(&l.value),
    });
    let variables = sim.variables.iter().map(|v| VariableOut {
        name: &v.name,
        function: &v.function,
        arguments: v.arguments.iter().map(|a| order.value(a)).collect(),
    });
    DataV5Out {
        pairs,
        global_actions: GlobalActionsOut {
            delays: delays_out(&sim.delays, AnyMethod::Empty),
            // Hoverfly v1.0 added the list within v5, so a v5 file carries it only when it
            // has entries; v5.1 and later always do.
            delays_log_normal: (version > SchemaVersion::V5 || !sim.delays_log_normal.is_empty())
                .then(|| log_normal.collect()),
        },
        literals: if v5_2 { literals.collect() } else { Vec::new() },
        variables: if v5_2 {
            variables.collect()
        } else {
            Vec::new()
        },
    }
}
