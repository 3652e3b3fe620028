//! `_wirecap`: the custom entry field (HAR 1.2 allows fields starting with `_`) where the
//! writer keeps what the model holds and HAR has no field for, so that wirecap reads its own
//! HAR back without loss. Other HAR readers ignore it.
//!
//! Only what HAR cannot say is written: the TCP flow and TLS session of a capture, chunked
//! trailers, 1xx interim responses, a body whose content coding was not undone (HAR bodies
//! are decoded), a body the capture cut off, a request target or authority the URL does not give back, missing
//! timestamps, and free-form metadata from other formats (`meta`).

use super::entry::decoded_from;
use crate::model::{Cut, Exchange, Headers, Scheme, Timestamp, TlsInfo};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Wirecap {
    #[serde(default, skip_serializing_if = "Option::is_none", with = "scheme")]
    pub scheme: Option<Scheme>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<(String, Option<u16>)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `null`: the request had no time; `startedDateTime` is a placeholder.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub request_timestamp: Option<Option<String>>,
    /// The response time when `startedDateTime + time` does not give it (`null`: none).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub response_timestamp: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub request_decoded_from: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub response_decoded_from: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body_cut: Option<Cut>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body_cut: Option<Cut>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_trailers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trailers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interim: Vec<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInfo>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub meta: Map<String, Value>,
}

/// `null` is a value here, not an absent field.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

mod scheme {
    use crate::model::Scheme;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: &Option<Scheme>, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.map_or("", Scheme::as_str))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Scheme>, D::Error> {
        let s = String::deserialize(d)?;
        Scheme::parse(&s).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!("expected \"http\" or \"https\", found {s:?}"))
        })
    }
}

fn pairs(headers: &Headers) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| (h.name.clone(), h.value.clone()))
        .collect()
}

impl Wirecap {
    /// What of `ex` HAR cannot hold, apart from the URL parts and times (which the entry
    /// builder adds as it finds them).
    pub fn of(ex: &Exchange) -> Self {
        let req = &ex.request;
        let undecoded = |headers: &Headers, body: &crate::model::Body| {
            let derived = decoded_from(headers, &body.bytes);
            (body.decoded_from != derived).then(|| body.decoded_from.clone())
        };
        let mut w = Wirecap {
            request_timestamp: req.timestamp.is_none().then_some(None),
            request_decoded_from: undecoded(&req.headers, &req.body),
            request_body_cut: req.body.cut.clone(),
            request_trailers: pairs(&req.trailers),
            flow: ex.source.flow.clone(),
            tls: ex.source.tls.clone(),
            meta: ex
                .extra
                .iter()
                .filter(|(k, _)| *k != super::EXTRA_KEY)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            ..Wirecap::default()
        };
        if let Some(resp) = &ex.response {
            w.response_decoded_from = undecoded(&resp.headers, &resp.body);
            w.response_body_cut = resp.body.cut.clone();
            w.trailers = pairs(&resp.trailers);
            w.interim = resp.interim.clone();
        }
        w
    }

    /// Sets the response time to keep: `None` for none.
    pub fn keep_response_time(&mut self, t: Option<Timestamp>) {
        self.response_timestamp = Some(t.map(Timestamp::to_rfc3339_z));
    }

    /// The JSON object, or `None` when there is nothing to keep.
    pub fn into_value(self) -> Option<Value> {
        (self != Wirecap::default())
            .then(|| serde_json::to_value(self).expect("plain data serialises"))
    }
}
