//! `--redact` must leave no secret in any output (issue 11, "Must hold").
//!
//! Known values are planted into real inputs (the Chromium HAR export, a py-http-types
//! recording, a Hoverfly simulation) in every place a secret travels: request and response
//! headers, cookies, the query, JSON and form bodies, a base64 HAR body and a gzipped Hoverfly
//! `encodedBody`, and HAR's own copies of cookies, headers, queryString and params. Each input
//! is converted to http-types, HAR and Hoverfly v5 and merged, and every output is searched:
//! its bytes, and every string in it decoded from base64 (and gunzipped) where it decodes.
//! The real capture of the same browser session (`chromium-site.pcap`) carries a real session
//! cookie, `s3cr3t-42`, which must not survive either.

use base64::Engine as _;
use serde_json::{Value, json};
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Output};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The flags every run below redacts with: the defaults plus one name of each kind.
const REDACT: [&str; 5] = [
    "--redact-header",
    "X-Session",
    "--redact-json",
    "/account/number",
    "--redact",
];

fn wirecap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(args)
        .output()
        .expect("wirecap runs")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

/// Every string value in `v`, and what base64 strings among them decode to (gunzipped when
/// they are gzip).
fn decoded_strings(v: &Value, out: &mut Vec<Vec<u8>>) {
    match v {
        Value::String(s) => {
            if let Ok(bytes) = B64.decode(s.trim()) {
                if bytes.starts_with(&[0x1f, 0x8b]) {
                    let mut plain = Vec::new();
                    if flate2::read::MultiGzDecoder::new(&bytes[..])
                        .read_to_end(&mut plain)
                        .is_ok()
                    {
                        out.push(plain);
                    }
                }
                out.push(bytes);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| decoded_strings(i, out)),
        Value::Object(map) => map.values().for_each(|i| decoded_strings(i, out)),
        _ => {}
    }
}

/// The secrets found in `output` (a JSON document or JSON lines), raw or base64-decoded.
fn leaks(output: &[u8], secrets: &[&str]) -> Vec<String> {
    let mut haystacks = vec![output.to_vec()];
    let docs: Vec<Value> = match serde_json::from_slice(output) {
        Ok(doc) => vec![doc],
        Err(_) => output
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).expect("a JSON line"))
            .collect(),
    };
    for doc in &docs {
        decoded_strings(doc, &mut haystacks);
    }
    let found = |h: &[u8], s: &str| h.windows(s.len()).any(|w| w == s.as_bytes());
    secrets
        .iter()
        .filter(|s| haystacks.iter().any(|h| found(h, s)))
        .map(|s| (*s).to_owned())
        .collect()
}

/// Converts `input` to every output format, and merges it, with [`REDACT`]; asserts no
/// secret is left, that the outputs still hold `kept` (so they are not empty), and returns
/// the redaction counts of the http-types run.
fn assert_no_secret_survives(input: &Path, secrets: &[&str], kept: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = input.to_str().expect("utf-8 path");
    let mut counts = Value::Null;
    for (to, name) in [
        ("http-types", "out.jsonl"),
        ("har", "out.har"),
        ("hoverfly", "out.json"),
        ("merge", "merged.json"),
    ] {
        let out = dir.path().join(name);
        let out_s = out.to_str().expect("utf-8 path");
        let summary = dir.path().join(format!("{name}.summary.json"));
        let mut args: Vec<&str> = if to == "merge" {
            vec!["merge", input, "-o", out_s]
        } else {
            vec!["convert", input, "--to", to, "-o", out_s]
        };
        if to == "hoverfly" {
            args.extend(["--schema-version", "v5"]);
        }
        let summary_s = summary.to_str().expect("utf-8 path");
        if to != "merge" {
            args.extend(["--summary-json", summary_s]);
        }
        args.extend(REDACT);
        let run = wirecap(&args);
        assert!(
            run.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let bytes = std::fs::read(&out).expect("output written");
        assert_eq!(
            leaks(&bytes, secrets),
            Vec::<String>::new(),
            "{to} from {input}"
        );
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("REDACTED"), "{to} from {input}: no marker");
        for k in kept {
            assert!(
                leaks(&bytes, &[k]).len() == 1,
                "{to} from {input}: {k:?} should be kept"
            );
        }
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(stderr.contains("wirecap: redacted "), "{stderr}");
        if to == "http-types" {
            let s: Value = serde_json::from_slice(&std::fs::read(&summary).expect("summary"))
                .expect("summary json");
            counts = s["redacted"].clone();
        }
    }
    counts
}

/// The Chromium export with secrets planted in every place HAR holds them, as browsers and
/// proxies write them (cookie lists with attributes, query lists beside the URL).
fn planted_har() -> Vec<u8> {
    let mut har: Value = serde_json::from_slice(
        &std::fs::read("testdata/har/chromium-site.har").expect("the browser export"),
    )
    .expect("HAR");
    let entries = har["log"]["entries"].as_array_mut().expect("entries");
    let header = |name: &str, value: &str| json!({"name": name, "value": value});
    // GET /api/items?q=red+shoes&page=2&empty=
    let get = &mut entries[2]["request"];
    let url = get["url"].as_str().expect("url").to_owned();
    get["url"] = json!(format!("{url}&api_key=PLANT-QUERY-1"));
    get["queryString"]
        .as_array_mut()
        .expect("queryString")
        .push(json!({"name": "api_key", "value": "PLANT-QUERY-1"}));
    let headers = get["headers"].as_array_mut().expect("headers");
    headers.push(header("Authorization", "Bearer PLANT-AUTH-2"));
    headers.push(header("X-API-Key", "PLANT-KEY-3"));
    headers.push(header("X-Session", "PLANT-CUSTOM-9"));
    headers.push(header(
        "Referer",
        "http://127.0.0.1:18182/?token=PLANT-REF-10",
    ));
    get["cookies"].as_array_mut().expect("cookies").push(
        json!({"name": "remember", "value": "PLANT-COOKIE-11", "path": "/", "httpOnly": true}),
    );
    // POST /api/items, a JSON body
    entries[3]["request"]["postData"]["text"] = json!(
        r#"{"name":"lamp","password":"PLANT-JSON-4","account":{"number":"PLANT-PTR-5","kind":"desk"}}"#
    );
    // POST /signup, a form body, its params listed as well
    let signup = &mut entries[4]["request"]["postData"];
    signup["text"] = json!("user=ada+lovelace&password=PLANT-FORM-6&lang=en");
    signup["params"] = json!([
        {"name": "user", "value": "ada lovelace"},
        {"name": "password", "value": "PLANT-FORM-6"},
        {"name": "lang", "value": "en"}
    ]);
    let resp = &mut entries[4]["response"];
    resp["headers"]
        .as_array_mut()
        .expect("headers")
        .push(header(
            "Set-Cookie",
            "sid=PLANT-SETCOOKIE-8; Path=/; HttpOnly",
        ));
    resp["cookies"]
        .as_array_mut()
        .expect("cookies")
        .push(json!({"name": "sid", "value": "PLANT-SETCOOKIE-8", "path": "/", "httpOnly": true}));
    // GET /api/report.json, answered with a base64 body
    let content = &mut entries[5]["response"]["content"];
    content["text"] = json!(B64.encode(br#"{"rows":[],"access_token":"PLANT-B64-7"}"#));
    content["encoding"] = json!("base64");
    serde_json::to_vec_pretty(&har).expect("HAR")
}

const HAR_SECRETS: [&str; 12] = [
    "PLANT-QUERY-1",
    "PLANT-AUTH-2",
    "PLANT-KEY-3",
    "PLANT-JSON-4",
    "PLANT-PTR-5",
    "PLANT-FORM-6",
    "PLANT-B64-7",
    "PLANT-SETCOOKIE-8",
    "PLANT-CUSTOM-9",
    "PLANT-REF-10",
    "PLANT-COOKIE-11",
    "s3cr3t-42",
];

#[test]
fn no_planted_secret_survives_har_input_in_any_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("planted.har");
    std::fs::write(&input, planted_har()).expect("write");
    let counts = assert_no_secret_survives(&input, &HAR_SECRETS, &["lamp", "desk", "theme"]);
    for kind in ["headers", "cookies", "query", "form", "json", "metadata"] {
        assert!(counts[kind].as_u64() > Some(0), "{kind}: {counts}");
    }
}

#[test]
fn the_real_session_cookie_of_a_browser_capture_does_not_survive() {
    let input = Path::new("testdata/har/chromium-site.pcap");
    let counts = assert_no_secret_survives(input, &["s3cr3t-42"], &["theme", "lamp"]);
    // The capture's cookie header on 8 requests, each with session and theme (and later
    // signed_up), and the two Set-Cookie responses that gave them.
    assert!(counts["cookies"].as_u64() >= Some(16), "{counts}");
}

/// A py-http-types recording with secrets in headers, query, bodies and `meta`.
#[test]
fn no_planted_secret_survives_http_types_input_in_any_output() {
    let text = std::fs::read_to_string("testdata/http-types/py-recorder.jsonl").expect("recording");
    let mut ex: Value = serde_json::from_str(text.lines().next().expect("a line")).expect("json");
    let req = &mut ex["request"];
    req["path"] = json!("/pets?limit=1&tag=a&tag=b&access_token=PLANT-HT-1");
    req["query"]["access_token"] = json!(["PLANT-HT-1"]);
    req["headers"]["Cookie"] = json!(["sid=PLANT-HT-2; lang=en"]);
    req["headers"]["Proxy-Authorization"] = json!(["Basic PLANT-HT-3"]);
    req["headers"]["Content-Type"] = json!(["application/x-www-form-urlencoded"]);
    req["body"] = json!("name=Rex&secret=PLANT-HT-4");
    ex["response"]["body"] = json!(r#"[{"id": 1, "name": "Rex", "token": "PLANT-HT-5"}]"#);
    ex["meta"] = json!({"recorder": {"authorization": "Bearer PLANT-HT-6"}});
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("planted.jsonl");
    std::fs::write(&input, format!("{ex}\n")).expect("write");
    let secrets = [
        "PLANT-HT-1",
        "PLANT-HT-2",
        "PLANT-HT-3",
        "PLANT-HT-4",
        "PLANT-HT-5",
        "PLANT-HT-6",
    ];
    assert_no_secret_survives(&input, &secrets, &["Rex"]);
}

/// A Hoverfly simulation with secrets in header, query and body matchers, and in a gzipped
/// `encodedBody` response.
#[test]
fn no_planted_secret_survives_hoverfly_input_in_any_output() {
    let exact = |v: &str| json!([{"matcher": "exact", "value": v}]);
    let gz = gzip(br#"{"id":7,"secret":"PLANT-HF-1"}"#);
    let pair = |path: &str, body: Value, response: Value| {
        json!({
            "request": {
                "scheme": exact("http"), "method": exact("POST"),
                "destination": exact("api.test"), "path": exact(path),
                "headers": {"Authorization": exact("Bearer PLANT-HF-2"),
                            "Cookie": exact("sid=PLANT-HF-3")},
                "query": {"signature": exact("PLANT-HF-4"), "v": exact("2")},
                "body": body
            },
            "response": response
        })
    };
    let sim = json!({
        "data": {"pairs": [
            pair("/login", json!([{"matcher": "json", "value": r#"{"user":"ann","password":"PLANT-HF-5"}"#}]),
                 json!({"status": 200, "encodedBody": true, "body": B64.encode(&gz),
                        "headers": {"Content-Encoding": ["gzip"],
                                    "Set-Cookie": ["sid=PLANT-HF-6; Path=/"]}})),
            pair("/form", json!([{"matcher": "form", "value": {"password": exact("PLANT-HF-7"), "user": exact("ann")}}]),
                 json!({"status": 204, "body": ""})),
        ]},
        "meta": {"schemaVersion": "v5"}
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("planted.json");
    std::fs::write(&input, sim.to_string()).expect("write");
    let secrets = [
        "PLANT-HF-1",
        "PLANT-HF-2",
        "PLANT-HF-3",
        "PLANT-HF-4",
        "PLANT-HF-5",
        "PLANT-HF-6",
        "PLANT-HF-7",
    ];
    assert_no_secret_survives(&input, &secrets, &["ann"]);
}

/// Without `--redact` the same planted file keeps its values: the search above can fail.
#[test]
fn without_redact_the_planted_secrets_are_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("planted.har");
    std::fs::write(&input, planted_har()).expect("write");
    let out = dir.path().join("out.har");
    let run = wirecap(&[
        "convert",
        input.to_str().unwrap(),
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success());
    let bytes = std::fs::read(&out).expect("output");
    assert_eq!(leaks(&bytes, &HAR_SECRETS).len(), HAR_SECRETS.len());
}
