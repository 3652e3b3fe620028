//! The canonical simulation: what a Hoverfly file holds beyond plain exchanges.
//!
//! A simulation is request *matchers* paired with response *templates*, plus global delays,
//! literals and variables. Every Hoverfly format (legacy v1 records/templates/delays and
//! simulation schemaVersion v1 … v5.3) reads into [`Simulation`] and writes from it; exchange
//! formats meet it through [`Pair::from_exchange`] (the way Hoverfly's capture mode writes a
//! recording) and [`Pair::to_exchange`] (only when the matchers pin the request down exactly;
//! anything else is a [`Loss`](crate::loss) note, never invented data).
//!
//! Invariants: a matcher list that is empty means "not matched on"; `query: None` means "query
//! ignored" while `Some(vec![])` means "the request must have no query" (Hoverfly ≥ v0.17.3).

use super::{Body, Exchange, Headers, Request, Response, Scheme, Source, split_authority};
use crate::codec::query;
use crate::loss::{LossKind, Losses};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

/// Named entries in file order, serialised as a JSON object (header and query maps, state).
pub type Fields<T> = Vec<(String, T)>;

/// Serialises named entries as a JSON object in their order (serde `serialize_with`).
pub fn ser_fields<T: Serialize, S: Serializer>(
    fields: &Fields<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(fields.len()))?;
    for (k, v) in fields {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

fn ser_opt_fields<T: Serialize, S: Serializer>(
    fields: &Option<Fields<T>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match fields {
        Some(f) => ser_fields(f, s),
        None => s.serialize_none(),
    }
}

/// A whole simulation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Simulation {
    /// Request matchers and their responses, in file order.
    pub pairs: Vec<Pair>,
    /// `globalActions.delays` (and the legacy `/api/delays`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delays: Vec<Delay>,
    /// `globalActions.delaysLogNormal` (Hoverfly ≥ v1.0.0).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delays_log_normal: Vec<LogNormalDelay>,
    /// `data.literals` (v5.2+).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub literals: Vec<Literal>,
    /// `data.variables` (v5.2+).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<Variable>,
    /// The `meta` object as read, when the input had one.
    #[serde(skip_serializing_if = "SimulationMeta::is_empty")]
    pub meta: SimulationMeta,
}

/// `meta` as read; writers rebuild it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulationMeta {
    /// `meta.schemaVersion`, or the legacy format's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// `meta.hoverflyVersion`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hoverfly_version: Option<String>,
    /// `meta.timeExported`, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_exported: Option<String>,
}

impl SimulationMeta {
    /// Whether nothing was read.
    pub fn is_empty(&self) -> bool {
        self.schema_version.is_none()
            && self.hoverfly_version.is_none()
            && self.time_exported.is_none()
    }
}

/// One request matcher with the response it answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair {
    /// What a request must look like.
    pub request: RequestMatcher,
    /// What is answered.
    pub response: ResponseTemplate,
    /// `labels` (v5.3+).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Where the pair was read from.
    pub source: Source,
}

/// One matcher: a name Hoverfly knows (`exact`, `glob`, `regex`, `json`, `array` …, kept as
/// written because Hoverfly compares names case-insensitively and does not validate them), its
/// value, and the v5.2 `config` and `doMatch` chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Matcher {
    /// The matcher name.
    pub matcher: String,
    /// The value: a string for most matchers, a list for `array`, an object for `form`.
    pub value: Value,
    /// Options (`ignoreUnknown`, `ignoreOrder`, `ignoreOccurrences` for `array`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Map<String, Value>>,
    /// A matcher applied to what this one extracted (jsonpath, xpath, jwt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub do_match: Option<Box<Matcher>>,
}

impl Matcher {
    /// A matcher without config or chain.
    pub fn new(name: &str, value: impl Into<Value>) -> Self {
        Self {
            matcher: name.to_owned(),
            value: value.into(),
            config: None,
            do_match: None,
        }
    }

    /// Whether the name is `name`, ignoring case as Hoverfly does.
    pub fn is(&self, name: &str) -> bool {
        self.matcher.eq_ignore_ascii_case(name)
    }

    /// An `exact` matcher on a string, with nothing chained: it pins one value down.
    pub fn exact_value(&self) -> Option<&str> {
        (self.is("exact") && self.config.is_none() && self.do_match.is_none())
            .then(|| self.value.as_str())
            .flatten()
    }

    /// An `array` matcher without config (same elements, counts and order), as capture
    /// writes for repeated query keys and headers: the list of values.
    pub fn array_values(&self) -> Option<Vec<&str>> {
        if !self.is("array") || self.config.is_some() || self.do_match.is_some() {
            return None;
        }
        self.value.as_array()?.iter().map(Value::as_str).collect()
    }

    /// Every matcher name used here, chain included.
    fn names<'a>(&'a self, out: &mut Vec<&'a str>) {
        out.push(&self.matcher);
        if let Some(m) = &self.do_match {
            m.names(out);
        }
    }
}

/// The request side of a pair. Each field is a list of matchers that must all match.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestMatcher {
    /// Matchers on the decoded path.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<Matcher>,
    /// Matchers on the method.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub method: Vec<Matcher>,
    /// Matchers on `host[:port]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub destination: Vec<Matcher>,
    /// Matchers on the scheme (stored, but Hoverfly never evaluates them, issue #575).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scheme: Vec<Matcher>,
    /// Matchers on the body.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub body: Vec<Matcher>,
    /// Matchers per header name (names compared case-insensitively by Hoverfly).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ser_fields")]
    pub headers: Fields<Vec<Matcher>>,
    /// Matchers per query key; `None` ignores the query, `Some(empty)` requires none.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_fields"
    )]
    pub query: Option<Fields<Vec<Matcher>>>,
    /// State that must hold (`requiresState`).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ser_fields")]
    pub requires_state: Fields<String>,
    /// A whole-query-string matcher from v5 files of Hoverfly v0.17–v1.6 that could not be
    /// split into per-key matchers (`deprecatedQuery`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deprecated_query: Vec<Matcher>,
}

impl RequestMatcher {
    /// Every matcher of the request, chains not included.
    pub fn matchers(&self) -> impl Iterator<Item = &Matcher> {
        let fields = [
            &self.path,
            &self.method,
            &self.destination,
            &self.scheme,
            &self.body,
            &self.deprecated_query,
        ];
        fields
            .into_iter()
            .flatten()
            .chain(self.headers.iter().flat_map(|(_, m)| m))
            .chain(self.query.iter().flatten().flat_map(|(_, m)| m))
    }

    /// Whether the request has matchers and every one is `exact`, or a plain `array` (how
    /// capture writes an exact repeated query key or header): the count rule for recordings.
    /// A request without any matcher matches every request (a legacy template whose fields
    /// are all `null`, say), so it is no recording.
    pub fn is_all_exact(&self) -> bool {
        let mut any = false;
        self.matchers().all(|m| {
            any = true;
            m.exact_value().is_some() || m.array_values().is_some()
        }) && any
    }

    /// Every matcher name used, chains included.
    pub fn matcher_names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for m in self.matchers() {
            m.names(&mut out);
        }
        out
    }
}

/// Log-normal delay parameters in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LogNormal {
    /// Lower bound.
    pub min: i64,
    /// Upper bound.
    pub max: i64,
    /// Mean.
    pub mean: i64,
    /// Median.
    pub median: i64,
}

/// The response side of a pair.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseTemplate {
    /// The status code (`0` when the file had none, as Hoverfly exports it).
    pub status: u16,
    /// The body bytes (`encodedBody` already decoded).
    pub body: Body,
    /// `bodyFile` (v5.1+): a path or URL Hoverfly loads the body from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_file: Option<String>,
    /// Header fields; Hoverfly groups them by name.
    #[serde(skip_serializing_if = "Headers::is_empty")]
    pub headers: Headers,
    /// Whether the body is a handlebars template (v3+).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub templated: bool,
    /// `transitionsState` (v4+).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ser_fields")]
    pub transitions_state: Fields<String>,
    /// `removesState` (v4+).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removes_state: Vec<String>,
    /// `fixedDelay` in milliseconds (v5.1+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_delay: Option<i64>,
    /// `logNormalDelay` (v5.1+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_normal_delay: Option<LogNormal>,
    /// `postServeAction` (v5.2, Hoverfly ≥ v1.6.0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_serve_action: Option<String>,
}

/// A global delay: requests whose `destination + path` match `url_pattern` (a Go regexp) and
/// whose method is `http_method` (empty: any) are delayed by `delay` ms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delay {
    /// The regexp.
    pub url_pattern: String,
    /// The method, or empty for any.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub http_method: String,
    /// Milliseconds.
    pub delay: i64,
}

/// A global log-normal delay (`delaysLogNormal`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogNormalDelay {
    /// The regexp.
    pub url_pattern: String,
    /// The method, or empty for any.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub http_method: String,
    /// The parameters.
    #[serde(flatten)]
    pub params: LogNormal,
}

/// A named constant for templates (`data.literals`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Literal {
    /// The name.
    pub name: String,
    /// Any JSON value.
    pub value: Value,
}

/// A named helper call for templates (`data.variables`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variable {
    /// The name.
    pub name: String,
    /// A templating helper name.
    pub function: String,
    /// Its arguments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<Value>,
}

impl Simulation {
    /// Collects exchanges into recording pairs, as Hoverfly's capture mode would.
    pub fn from_exchanges(
        exchanges: impl IntoIterator<Item = Exchange>,
        losses: &mut Losses,
    ) -> Self {
        Self {
            pairs: exchanges
                .into_iter()
                .filter_map(|ex| Pair::from_exchange(&ex, losses))
                .collect(),
            ..Self::default()
        }
    }

    /// Records, once per kind, what an exchange format cannot carry: global delays,
    /// literals and variables; `file` names the simulation in the note.
    pub fn note_global_losses(&self, file: &str, losses: &mut Losses) {
        let n = self.delays.len()
            + self.delays_log_normal.len()
            + self.literals.len()
            + self.variables.len();
        for _ in 0..n {
            losses.record(LossKind::SimulationFeature, || {
                let count = |n: usize, one: &str, many: &str| match n {
                    1 => format!("1 {one}"),
                    n => format!("{n} {many}"),
                };
                format!(
                    "{file}: {}, {}, {}",
                    count(
                        self.delays.len() + self.delays_log_normal.len(),
                        "global delay",
                        "global delays"
                    ),
                    count(self.literals.len(), "literal", "literals"),
                    count(self.variables.len(), "variable", "variables")
                )
            });
        }
    }
}

/// Body matchers by request `Content-Type`, as Hoverfly's capture chooses them
/// (`core/hoverfly_funcs.go` `Save`, v1.12.10).
fn body_matcher(content_type: Option<&str>, body: &str) -> Matcher {
    let ct = content_type
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if body.is_empty() {
        return Matcher::new("exact", "");
    }
    if ct.ends_with("/json") || ct.ends_with("+json") {
        Matcher::new("json", body)
    } else if ct.ends_with("/xml") || ct.ends_with("+xml") {
        Matcher::new("xml", body)
    } else if ct.ends_with("x-www-form-urlencoded") {
        // Keys sorted, as Go marshals the map; only each field's first value is kept, as
        // capture keeps it.
        let mut fields = query::go_parse_query(body);
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        let mut form = Map::new();
        for (k, vs) in fields {
            let first = vs.into_iter().next().unwrap_or_default();
            form.insert(
                k,
                Value::Array(vec![
                    serde_json::to_value(Matcher::new("exact", first))
                        .expect("a matcher serialises"),
                ]),
            );
        }
        Matcher::new("form", Value::Object(form))
    } else {
        Matcher::new("exact", body)
    }
}

/// What Hoverfly's capture mode reads off a request to write its matchers
/// ([`RequestMatcher::from_capture`]). A field that is `None` gets no matcher (capture always
/// has every one; legacy `/api/records` recordings may lack some).
#[derive(Debug, Clone, Copy, Default)]
pub struct CapturedRequest<'a> {
    /// `http` or `https`.
    pub scheme: Option<&'a str>,
    /// The method as sent.
    pub method: Option<&'a str>,
    /// `host[:port]` as sent in `Host`; capture lower-cases it.
    pub destination: Option<&'a str>,
    /// The decoded path.
    pub path: Option<&'a str>,
    /// The raw query string, still percent-encoded; `None` when the target had no `?`.
    pub query: Option<&'a str>,
    /// The request's `Content-Type`, which picks the body matcher.
    pub content_type: Option<&'a str>,
    /// The request body as text.
    pub body: Option<&'a str>,
}

impl RequestMatcher {
    /// The request matchers Hoverfly's capture mode writes (reference §6, v1.12.10
    /// `core/hoverfly_funcs.go` `Save`): `exact` scheme, method, lower-cased destination and
    /// path; the query as a map (one value `exact`, several `array`; none: no `query`); the
    /// body matcher chosen by `Content-Type`. Request headers are not written (capture's
    /// default); callers note that loss.
    pub fn from_capture(req: &CapturedRequest<'_>) -> RequestMatcher {
        let exact = |v: Option<&str>| {
            v.map(|v| vec![Matcher::new("exact", v)])
                .unwrap_or_default()
        };
        let query = req
            .query
            .map(|q| query_matchers(&query::go_parse_query(q)))
            .filter(|q| !q.is_empty());
        RequestMatcher {
            path: exact(req.path),
            method: exact(req.method),
            destination: exact(req.destination.map(str::to_ascii_lowercase).as_deref()),
            scheme: exact(req.scheme),
            body: req
                .body
                .map(|b| vec![body_matcher(req.content_type, b)])
                .unwrap_or_default(),
            query,
            ..RequestMatcher::default()
        }
    }
}

impl Pair {
    /// The pair Hoverfly's capture mode writes for an exchange (reference §6): `exact`
    /// scheme, method, lower-cased destination with port, decoded path; the query as a map
    /// (one value `exact`, several `array`); the body matcher chosen by `Content-Type`; no
    /// request header matchers (capture's default, noted as a loss when there were headers).
    /// `None`, with a loss note, when the exchange has no response or no host.
    pub fn from_exchange(ex: &Exchange, losses: &mut Losses) -> Option<Pair> {
        let req = &ex.request;
        let Some(resp) = &ex.response else {
            losses.record(LossKind::MissingResponse, || ex.source.to_string());
            return None;
        };
        if req.host.is_empty() {
            losses.record(LossKind::MissingHost, || ex.source.to_string());
            return None;
        }
        // A mock would serve the part as if it were whole, under a Content-Length it lacks.
        if let Some(cut) = &resp.body.cut {
            losses.record(LossKind::CutBody, || {
                format!("{}: response cut off, {cut}", ex.source)
            });
            return None;
        }
        if let Some(cut) = &req.body.cut {
            losses.record(LossKind::CutBody, || {
                format!(
                    "{}: request body cut off, {cut}; left out of the matchers",
                    ex.source
                )
            });
        }
        // A matcher value is a JSON string, which cannot hold bytes that are not UTF-8; U+FFFD
        // in their place (what Hoverfly's own capture stores, as Go marshals strings) makes a
        // matcher no real request meets. So such a body is left out of the matchers, and said.
        let body = req.body.as_text().filter(|_| req.body.cut.is_none());
        if body.is_none() && req.body.cut.is_none() {
            losses.record(LossKind::BinaryBody, || {
                format!(
                    "{}: request body ({} bytes) left out of the matchers",
                    ex.source,
                    req.body.bytes.len()
                )
            });
        }
        if !req.headers.is_empty() {
            losses.record(LossKind::RequestHeaders, || ex.source.to_string());
        }
        if req.timestamp.is_some()
            || req.version.is_some()
            || resp.timestamp.is_some()
            || resp.version.is_some()
            || resp.reason.is_some()
            || !resp.trailers.is_empty()
            || !req.trailers.is_empty()
            || !resp.interim.is_empty()
            || !ex.extra.is_empty()
        {
            losses.record(LossKind::ExchangeMetadata, || ex.source.to_string());
        }
        if resp.headers.is_interleaved() {
            losses.record(LossKind::HeaderOrder, || ex.source.to_string());
        }
        let (path, raw_query) = origin_path_and_query(&req.target);
        let path = query::go_path_unescape(path);
        let authority = req.authority();
        let request = RequestMatcher::from_capture(&CapturedRequest {
            scheme: Some(req.scheme.as_str()),
            method: Some(req.method.as_str()),
            destination: Some(&authority),
            path: Some(&path),
            query: raw_query,
            content_type: req.headers.first("content-type"),
            body,
        });
        // Go's transport undoes the origin's Content-Encoding when the client did not ask
        // for it, and Hoverfly then stores the plain body without Content-Encoding and
        // Content-Length (reference §6, gzip behaviour).
        let mut headers = resp.headers.clone();
        if resp.body.decoded_from.is_some() {
            headers.remove("content-encoding");
            headers.remove("content-length");
        }
        let response = ResponseTemplate {
            status: resp.status,
            body: Body::from_bytes(resp.body.bytes.clone()),
            headers,
            ..ResponseTemplate::default()
        };
        Some(Pair {
            request,
            response,
            labels: Vec::new(),
            source: ex.source.clone(),
        })
    }

    /// The exchange this pair pins down, when its scheme, method, destination and path are
    /// single `exact` matchers and every other matcher is `exact` or a plain `array` (json
    /// and xml body matchers are taken as the literal body, noted as a loss). Response
    /// features an exchange cannot hold (templating, state, delays, `bodyFile`) are noted.
    pub fn to_exchange(&self, losses: &mut Losses) -> Option<Exchange> {
        let src = &self.source;
        let skip = |losses: &mut Losses, why: &str| {
            losses.record(LossKind::NonExactMatcher, || format!("{src}: {why}"));
            None
        };
        let single = |field: &[Matcher]| match field {
            [m] => m.exact_value().map(str::to_owned),
            _ => None,
        };
        let r = &self.request;
        let (Some(scheme), Some(method), Some(dest), Some(path)) = (
            single(&r.scheme),
            single(&r.method),
            single(&r.destination),
            single(&r.path),
        ) else {
            return skip(
                losses,
                "scheme, method, destination and path must each be one exact matcher",
            );
        };
        let Some(scheme) = Scheme::parse(&scheme) else {
            return skip(losses, "the scheme is neither http nor https");
        };
        let body = match r.body.as_slice() {
            [] => String::new(),
            [m] if m.exact_value().is_some() => m.exact_value().unwrap_or_default().to_owned(),
            [m] if (m.is("json") || m.is("xml")) && m.config.is_none() && m.do_match.is_none() => {
                let Some(v) = m.value.as_str() else {
                    return skip(losses, "a body matcher value is not a string");
                };
                losses.record(LossKind::MatcherAsValue, || src.to_string());
                v.to_owned()
            }
            _ => return skip(losses, "the body matcher is not exact"),
        };
        let mut headers = Headers::new();
        for (name, ms) in &r.headers {
            let Some(vs) = values_of(ms) else {
                return skip(losses, "a header matcher is not exact");
            };
            for v in vs {
                headers.push(name.clone(), v);
            }
        }
        if !r.deprecated_query.is_empty() || !r.requires_state.is_empty() {
            return skip(losses, "deprecatedQuery or requiresState matchers");
        }
        let mut target = query::go_path_escape(&path);
        if let Some(q) = &r.query {
            let mut pairs = Vec::new();
            for (k, ms) in q {
                let Some(vs) = values_of(ms) else {
                    return skip(losses, "a query matcher is not exact");
                };
                pairs.extend(vs.into_iter().map(|v| (k.clone(), v)));
            }
            if !pairs.is_empty() {
                target.push('?');
                target.push_str(&query::go_encode_pairs(&pairs));
            }
        }
        let (host, port) = split_authority(&dest);
        let resp = &self.response;
        if resp.templated
            || !resp.transitions_state.is_empty()
            || !resp.removes_state.is_empty()
            || resp.fixed_delay.is_some()
            || resp.log_normal_delay.is_some()
            || resp.post_serve_action.is_some()
            || resp.body_file.is_some()
        {
            losses.record(LossKind::ResponseTemplateFeature, || src.to_string());
        }
        if !self.labels.is_empty() {
            losses.record(LossKind::ResponseTemplateFeature, || {
                format!("{src}: labels")
            });
        }
        Some(Exchange {
            request: Request {
                method,
                scheme,
                host,
                port,
                target,
                version: None,
                headers,
                body: Body::from(body),
                trailers: Headers::new(),
                timestamp: None,
            },
            response: Some(Response {
                status: resp.status,
                reason: None,
                version: None,
                headers: resp.headers.clone(),
                trailers: Headers::new(),
                body: resp.body.clone(),
                timestamp: None,
                interim: Vec::new(),
            }),
            source: src.clone(),
            extra: Map::new(),
        })
    }
}

/// The values a header or query matcher list pins down: one `exact`, or one plain `array`.
fn values_of(ms: &[Matcher]) -> Option<Vec<String>> {
    match ms {
        [m] => match (m.exact_value(), m.array_values()) {
            (Some(v), _) => Some(vec![v.to_owned()]),
            (None, Some(vs)) => Some(vs.into_iter().map(str::to_owned).collect()),
            _ => None,
        },
        _ => None,
    }
}

/// Query matchers as capture writes them: keys sorted (Go map order), one value `exact`,
/// several `array`.
pub fn query_matchers(parsed: &[(String, Vec<String>)]) -> Fields<Vec<Matcher>> {
    let mut out: Fields<Vec<Matcher>> = parsed
        .iter()
        .map(|(k, vs)| {
            let m = match vs.as_slice() {
                [one] => Matcher::new("exact", one.as_str()),
                many => Matcher::new("array", many.to_vec()),
            };
            (k.clone(), vec![m])
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Path and raw query of a request-target in origin or absolute form.
fn origin_path_and_query(target: &str) -> (&str, Option<&str>) {
    let mut rest = target;
    for prefix in ["http://", "https://", "HTTP://", "HTTPS://"] {
        if let Some(after) = target.strip_prefix(prefix) {
            rest = after.find('/').map_or("/", |i| &after[i..]);
        }
    }
    let rest = rest.split('#').next().unwrap_or(rest);
    match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(target: &str, ct: Option<&str>, body: &str) -> Exchange {
        let mut headers = Headers::new();
        if let Some(ct) = ct {
            headers.push("Content-Type", ct);
        }
        Exchange {
            request: Request {
                method: "POST".into(),
                scheme: Scheme::Http,
                host: "Api.Test".into(),
                port: Some(8080),
                target: target.into(),
                version: None,
                headers,
                body: Body::from(body),
                trailers: Headers::new(),
                timestamp: None,
            },
            response: Some(Response {
                status: 201,
                reason: None,
                version: None,
                headers: Headers::new(),
                trailers: Headers::new(),
                body: Body::from("ok"),
                timestamp: None,
                interim: Vec::new(),
            }),
            source: Source::default(),
            extra: Map::new(),
        }
    }

    macro_rules! body_matcher {
        ($ct:expr, $body:expr => $name:expr) => {
            assert_eq!(body_matcher($ct, $body).matcher, $name, "{:?}", $ct)
        };
    }

    #[test]
    fn body_matchers_follow_content_type_like_capture() {
        body_matcher!(Some("application/json; charset=utf-8"), "{}" => "json");
        body_matcher!(Some("application/vnd.x+json"), "{}" => "json");
        body_matcher!(Some("text/xml"), "<a/>" => "xml");
        body_matcher!(Some("application/x-www-form-urlencoded"), "a=1" => "form");
        body_matcher!(Some("text/plain"), "hi" => "exact");
        body_matcher!(Some("application/json"), "" => "exact");
        body_matcher!(None::<&str>, "x" => "exact");
    }

    #[test]
    fn capture_shape_and_back() {
        let mut losses = Losses::default();
        let ex = exchange("/a%20b?b=2&a=1&a=3&sp=x%20y", Some("text/plain"), "hi");
        let pair = Pair::from_exchange(&ex, &mut losses).unwrap();
        assert_eq!(pair.request.destination[0].value, "api.test:8080");
        assert_eq!(pair.request.path[0].value, "/a b");
        let q = pair.request.query.as_ref().unwrap();
        assert_eq!(q[0].0, "a");
        assert_eq!(q[0].1[0].matcher, "array");
        assert!(pair.request.is_all_exact());
        let back = pair.to_exchange(&mut losses).unwrap();
        assert_eq!(back.request.target, "/a%20b?a=1&a=3&b=2&sp=x+y");
        assert_eq!(back.request.host, "api.test");
        assert_eq!(back.request.port, Some(8080));
        assert_eq!(back.request.body.as_text(), Some("hi"));
    }

    #[test]
    fn issue_3_a_request_without_matchers_is_no_recording() {
        assert!(!RequestMatcher::default().is_all_exact());
        let only_path = RequestMatcher {
            path: vec![Matcher::new("exact", "/x")],
            ..RequestMatcher::default()
        };
        assert!(only_path.is_all_exact());
    }

    #[test]
    fn non_exact_pairs_are_not_exchanges() {
        let mut losses = Losses::default();
        let ex = exchange("/x", None, "");
        let mut pair = Pair::from_exchange(&ex, &mut losses).unwrap();
        assert!(pair.request.is_all_exact());
        pair.request.path = vec![Matcher::new("glob", "/x*")];
        assert!(pair.to_exchange(&mut losses).is_none());
        assert!(losses.iter().any(|(k, _)| k == LossKind::NonExactMatcher));
    }

    /// A cut request body is not a matcher any real request meets; a cut response is not what
    /// the server meant to serve. Both are said.
    #[test]
    fn cut_bodies_are_not_matched_or_served() {
        let cut = Some(super::super::Cut {
            seen: 2,
            announced: Some(10),
            missing: Vec::new(),
        });
        let mut losses = Losses::default();
        let mut ex = exchange("/x", Some("text/plain"), "hi");
        ex.request.body.cut = cut.clone();
        let pair = Pair::from_exchange(&ex, &mut losses).unwrap();
        assert!(pair.request.body.is_empty());
        let mut ex = exchange("/x", Some("text/plain"), "hi");
        ex.response.as_mut().unwrap().body.cut = cut;
        assert!(Pair::from_exchange(&ex, &mut losses).is_none());
        let cuts = losses
            .iter()
            .find(|(k, _)| *k == LossKind::CutBody)
            .unwrap();
        assert_eq!(cuts.1.count, 2);
    }
}
