//! Reading and writing simulation documents, end to end through the views.

use super::shared::legacy_query;
use super::*;
use crate::loss::Losses;
use crate::model::simulation::Literal;
use crate::model::{Headers, Matcher, Simulation};
use serde_json::Value;

fn read(json: &str, upgrade: Upgrade) -> Result<Simulation, Error> {
    let doc: Value = serde_json::from_str(json).unwrap();
    read_value(&doc, "sim.json", upgrade, &mut Losses::default())
}

macro_rules! read_err {
    ($json:expr => $msg:expr) => {
        assert_eq!(
            read($json, Upgrade::Faithful).unwrap_err().to_string(),
            $msg
        )
    };
}

#[test]
fn errors_name_the_file_and_pointer() {
    read_err!(r#"{"data":{"pairs":[{"response":{"status":"200"}}]},"meta":{"schemaVersion":"v5"}}"#
        => r#"sim.json: /data/pairs/0/response/status: expected an integer, found "200""#);
    read_err!(r#"{"data":{"pairs":[{"response":{"templated":"false"}}]},"meta":{"schemaVersion":"v3"}}"#
        => r#"sim.json: /data/pairs/0/response/templated: expected a boolean, found "false""#);
    read_err!(r#"{"data":{"pairs":{}},"meta":{"schemaVersion":"v5"}}"#
        => "sim.json: /data/pairs: expected an array, found an object");
    read_err!(r#"{"data":{"pairs":[null]},"meta":{"schemaVersion":"v5"}}"#
        => "sim.json: /data/pairs/0: expected an object, found null");
    read_err!(r#"{"data":{"pairs":[{"response":{"status":1000}}]},"meta":{"schemaVersion":"v5"}}"#
        => "sim.json: /data/pairs/0/response/status: invalid value: integer `1000`, expected a status code from 0 to 999");
    read_err!(r#"{"data":{},"meta":{"schemaVersion":"v6"}}"#
        => r#"sim.json: /meta/schemaVersion: schema version "v6" is not supported by Hoverfly (v1, v2, v3, v4 and v5.x are)"#);
    read_err!(r#"{"data":{}}"# => r#"sim.json: /: missing "meta" object: Hoverfly cannot tell the schemaVersion"#);
    read_err!(r#"{"data":{},"meta":{"schemaVersion":5}}"# => "sim.json: /meta/schemaVersion: meta.schemaVersion must be a string, found number 5");
}

#[test]
fn v1_nulls_are_absent_unless_compat() {
    let doc = r#"{"data":{"pairs":[{"request":{"requestType":"template","path":"/a*","scheme":null},"response":{"status":200}}]},"meta":{"schemaVersion":"v1"}}"#;
    let sim = read(doc, Upgrade::Faithful).unwrap();
    assert_eq!(sim.pairs[0].request.path, vec![Matcher::new("glob", "/a*")]);
    assert!(sim.pairs[0].request.scheme.is_empty());
    let err = read(doc, Upgrade::HoverflyCompat).unwrap_err().to_string();
    assert!(
        err.starts_with("sim.json: /data/pairs/0/request/scheme: null"),
        "{err}"
    );
}

macro_rules! legacy_query {
    ($q:expr, $m:expr => $json:expr) => {
        assert_eq!(
            serde_json::to_string(&legacy_query($q, $m).map(|f| f.into_iter().collect::<Vec<_>>()))
                .unwrap(),
            $json,
            "{:?}",
            $q
        )
    };
}

#[test]
fn legacy_queries_split_per_key() {
    legacy_query!("b=2&a=1%20x&a=0", "exact"
        => r#"[["a",[{"matcher":"array","value":["1 x","0"]}]],["b",[{"matcher":"exact","value":"2"}]]]"#);
    legacy_query!("", "exact" => "[]");
    legacy_query!("id=*", "glob" => r#"[["id",[{"matcher":"glob","value":"*"}]]]"#);
    legacy_query!("*=1", "glob" => "null");
    legacy_query!("a=%zz", "exact" => "null");
}

macro_rules! base64_rule {
    ($body:expr, $ce:expr => $want:expr) => {{
        let mut h = Headers::new();
        if let Some(ce) = $ce {
            h.push("Content-Encoding", ce);
        }
        assert_eq!(needs_base64($body, &h), $want, "{:?}", $body);
    }};
}

#[test]
fn encoded_body_follows_hoverfly() {
    base64_rule!(b"hello world", None::<&str> => false);
    base64_rule!(b"", None::<&str> => false);
    base64_rule!(b"{\"a\":1}", None::<&str> => false);
    base64_rule!(b"hello", Some("gzip") => true);
    base64_rule!(b"\x89PNG\r\n\x1a\n", None::<&str> => true);
    base64_rule!(b"BM is a bitmap", None::<&str> => true);
    base64_rule!(b"\xff\xfe", None::<&str> => true);
    base64_rule!(b"%PDF-1.4", None::<&str> => true);
}

#[test]
fn default_version_is_the_oldest_that_fits() {
    let mut sim = Simulation::default();
    assert_eq!(SchemaVersion::required_for(&sim), SchemaVersion::V5);
    sim.literals.push(Literal {
        name: "a".into(),
        value: Value::Null,
    });
    assert_eq!(SchemaVersion::required_for(&sim), SchemaVersion::V5_2);
}

#[test]
fn hoverfly_key_order_sorts_maps_and_puts_labels_first() {
    let doc = r#"{"data":{"pairs":[{"request":{"headers":{"B":[{"matcher":"exact","value":"1"}],"A":[{"matcher":"exact","value":"2"}]},"body":[{"matcher":"form","value":{"z":[{"matcher":"jwt","value":"{}","doMatch":{"matcher":"exact","value":"x"}}],"a":[{"value":"y","matcher":"exact"}]}}]},"response":{"status":200,"headers":{"Y":["1"],"X":["2"]}},"labels":["l"]}],"globalActions":{"delays":[]},"literals":[{"name":"n","value":{"b":1,"a":2}}]},"meta":{"schemaVersion":"v5.3"}}"#;
    let sim = read(doc, Upgrade::HoverflyCompat).unwrap();
    let opts = WriteOptions {
        schema_version: Some(SchemaVersion::V5_3),
        key_order: KeyOrder::Hoverfly,
        ..WriteOptions::default()
    };
    let mut out = Vec::new();
    write_v5(
        &sim,
        SchemaVersion::V5_3,
        &opts,
        &mut out,
        &mut Losses::default(),
    )
    .unwrap();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        serde_json::to_string(&v["data"]).unwrap(),
        r#"{"pairs":[{"labels":["l"],"request":{"body":[{"matcher":"form","value":{"a":[{"matcher":"exact","value":"y"}],"z":[{"matcher":"jwt","value":"{}","doMatch":{"matcher":"exact","value":"x"}}]}}],"headers":{"A":[{"matcher":"exact","value":"2"}],"B":[{"matcher":"exact","value":"1"}]}},"response":{"status":200,"body":"","encodedBody":false,"headers":{"X":["2"],"Y":["1"]},"templated":false}}],"globalActions":{"delays":[],"delaysLogNormal":[]},"literals":[{"name":"n","value":{"a":2,"b":1}}]}"#
    );
}
