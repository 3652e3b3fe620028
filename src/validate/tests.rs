//! validate end to end over in-memory files, and its parts.

use super::jsonl::{LineOrder, Times, check_line_full};
use super::*;
use crate::model::Timestamp;

/// Lines built from `base` by changing one thing each, valid and invalid alike.
fn variants(base: &Value) -> Vec<Vec<u8>> {
    let edits: Vec<(&str, Option<Value>)> = vec![
        ("/request/method", Some("head".into())),
        ("/request/method", Some("HEAD".into())),
        ("/request/host", Some("".into())),
        ("/request/path", None),
        ("/request/path", Some("/a?x=1&x=2".into())),
        ("/request/path", Some("/a?x=%31#frag".into())),
        ("/request/pathname", None),
        ("/request/query", None),
        ("/request/query", Some(serde_json::json!({"x": ["1"]}))),
        ("/request/query", Some(serde_json::json!({"x": ["1", "2"]}))),
        ("/request/query", Some(serde_json::json!({"x": 1}))),
        ("/request/timestamp", Some("2023-11-14T22:13:22Z".into())),
        ("/request/timestamp", Some("2023-11-14t22:13:20z".into())),
        ("/request/timestamp", Some("2016-12-31T23:59:60Z".into())),
        ("/request/body", Some(Value::Null)),
        ("/request/body", Some("é\"x".into())),
        (
            "/request/headers",
            Some(serde_json::json!({"Content-Length": "3", "content-length": "0"})),
        ),
        (
            "/request/headers",
            Some(serde_json::json!({"content-length": []})),
        ),
        (
            "/request/headers",
            Some(serde_json::json!({"content-length": ["0", "9"]})),
        ),
        (
            "/response/headers",
            Some(serde_json::json!({"content-length": [], "transfer-encoding": "chunked"})),
        ),
        (
            "/response/headers",
            Some(serde_json::json!({"Content-Length": ["x"], "content-encoding": "br"})),
        ),
        ("/response/body", Some("".into())),
        ("/request/query", Some(serde_json::json!({"x": []}))),
        (
            "/request/query",
            Some(serde_json::json!({"x": "1", "y": "2"})),
        ),
        ("/request/path", Some("/a?x=1&y=&z&x=2".into())),
        ("/request/path", Some("/a?x=%31&y=a+b".into())),
        (
            "/request/headers",
            Some(serde_json::json!({"content-length": " 0 "})),
        ),
        ("/response/statusCode", Some(serde_json::json!(200.0))),
        ("/response/statusCode", Some(serde_json::json!(304))),
        ("/response/statusCode", Some(serde_json::json!(-1))),
        ("/response/headers", Some(serde_json::json!({}))),
        (
            "/response/headers",
            Some(serde_json::json!({"content-encoding": "gzip", "content-length": "1"})),
        ),
        (
            "/response/headers",
            Some(serde_json::json!({"transfer-encoding": "chunked", "content-length": "2"})),
        ),
        ("/response/body", None),
        ("/response/timestamp", None),
        ("/meta", Some(Value::Null)),
        ("/meta", Some(serde_json::json!({"a": [1, {"b": null}]}))),
        ("/request/url", Some("http://x/".into())),
    ];
    let mut out = Vec::new();
    for (ptr, value) in edits {
        let mut v = base.clone();
        let (parent, key) = ptr.rsplit_once('/').unwrap();
        let obj = v.pointer_mut(parent).unwrap().as_object_mut().unwrap();
        match value {
            Some(x) => {
                obj.insert(key.to_owned(), x);
            }
            None => {
                obj.shift_remove(key);
            }
        }
        out.push(serde_json::to_vec(&v).unwrap());
    }
    out
}

#[test]
fn chunk_boundaries_do_not_change_results() {
    let mut text = Vec::new();
    for f in [
        "valid/http-types-two-exchanges.jsonl",
        "invalid/http-types/status-99.jsonl",
        "invalid/http-types/blank-line.jsonl",
        "invalid/http-types/truncated-line.jsonl",
    ] {
        text.extend(std::fs::read(format!("testdata/{f}")).unwrap());
    }
    text.extend(b"{\"request\":{}}\r\n");
    text.extend(vec![b'x'; 3000]);
    text.extend(b"\n{\"request\":1}");
    let schema = http_types_schema(Profile::Strict);
    let opts = Options {
        max_line_bytes: 2000,
        ..Options::default()
    };
    let run = |chunk: usize| {
        let mut got = Vec::new();
        let mut sink = |p: Problem| got.push(p);
        let mut counter = Counter::new(&mut sink);
        jsonl_stream("t", &text[..], schema, &opts, chunk, &mut counter).unwrap();
        let summary = counter.summary;
        (got, summary)
    };
    let (whole, summary) = run(1 << 20);
    assert_eq!(summary.documents, 13);
    assert!(
        whole
            .iter()
            .any(|p| p.finding.rule == "line-too-long" && p.line == 13)
    );
    assert_eq!(whole.last().unwrap().line, 14);
    for chunk in [1, 7, 100, 333, 1000, 2500] {
        assert_eq!(
            run(chunk),
            (whole.clone(), summary.clone()),
            "chunk {chunk}"
        );
    }
}

#[test]
fn the_fast_path_only_accepts_what_the_full_check_accepts() {
    let strict = http_types_schema(Profile::Strict);
    let loose = http_types_schema(Profile::Schema);
    let mut lines: Vec<Vec<u8>> = Vec::new();
    // testdata/bad holds a meta nested 1000 deep, which the fast path once passed (issue 14).
    for dir in [
        "testdata/invalid/http-types",
        "testdata/bad/http-types",
        "testdata/valid",
    ] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "jsonl") {
                let text = std::fs::read(&path).unwrap();
                lines.extend(text.split(|&b| b == b'\n').map(<[u8]>::to_vec));
            }
        }
    }
    let base: Value = serde_json::from_slice(&lines[0]).unwrap();
    lines.extend(variants(&base));
    let mut accepted = 0;
    for line in &lines {
        for schema in [strict, loose] {
            for profile in [Profile::Strict, Profile::Schema] {
                if let Some(times) = fast::check(line, schema, profile) {
                    accepted += 1;
                    let full =
                        check_line_full(line, 1, schema, profile, crate::limits::MAX_JSON_DEPTH);
                    assert_eq!(
                        full,
                        (Vec::new(), times),
                        "fast path accepted {}",
                        String::from_utf8_lossy(line)
                    );
                }
            }
        }
    }
    assert!(
        accepted > 20,
        "the fast path accepted only {accepted} lines"
    );
}

/// `(request, response)` seconds → the lines `LineOrder` warns on.
fn order_warnings(lines: &[(Option<i64>, Option<i64>)]) -> Vec<usize> {
    let mut order = LineOrder::default();
    let t = |s: Option<i64>| s.map(|s| Timestamp::from_unix(s, 0));
    (1..)
        .zip(lines)
        .filter_map(|(n, &(q, r))| {
            let times = Times {
                request: t(q),
                response: t(r),
            };
            order.check(n, times).map(|_| n)
        })
        .collect()
}

#[test]
fn lines_out_of_time_order() {
    let none: Vec<usize> = Vec::new();
    // Request order with overlapping exchanges (wirecap's pcap reader).
    assert_eq!(
        order_warnings(&[(Some(0), Some(9)), (Some(1), Some(2))]),
        none
    );
    // Completion order: request times go back (hmt's recorder).
    assert_eq!(
        order_warnings(&[(Some(5), Some(6)), (Some(1), Some(7))]),
        none
    );
    // A line that ended before an earlier one started: one warning per run.
    assert_eq!(
        order_warnings(&[
            (Some(10), Some(11)),
            (Some(1), Some(2)),
            (Some(3), Some(4)),
            (Some(12), Some(13)),
            (Some(5), Some(6)),
        ]),
        vec![2, 5]
    );
    // No response timestamp: nothing to say; its request still counts.
    assert_eq!(
        order_warnings(&[(Some(10), None), (Some(1), Some(2))]),
        vec![2]
    );
    assert_eq!(order_warnings(&[(Some(10), Some(11)), (None, None)]), none);
    // A response before its own request is reported by the line's own check only.
    assert_eq!(
        order_warnings(&[(Some(10), Some(11)), (Some(3), Some(2))]),
        none
    );
}

fn jsonl_files(dirs: &[&str]) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for dir in dirs {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "jsonl") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn real_recordings_are_not_out_of_time_order() {
    // Recorded by py-http-types' writer and converted from real captures.
    let files = jsonl_files(&["testdata/http-types", "testdata/expected"]);
    assert!(files.len() > 10);
    for path in files {
        let mut got = Vec::new();
        validate_path(&path, &Options::default(), &mut |p| got.push(p)).unwrap();
        got.retain(|p| p.finding.rule == "timestamp-order");
        assert!(got.is_empty(), "{}: {got:?}", path.display());
    }
}

#[test]
fn the_fast_path_changes_no_result() {
    let mut inputs: Vec<(String, Vec<u8>)> = jsonl_files(&[
        "testdata/http-types",
        "testdata/expected",
        "testdata/invalid/http-types",
        "testdata/valid",
        "testdata/profiles",
    ])
    .into_iter()
    .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
    .collect();
    let first = inputs[0].1.split(|&b| b == b'\n').next().unwrap().to_vec();
    let base: Value = serde_json::from_slice(&first).unwrap();
    inputs.push(("variants.jsonl".into(), variants(&base).join(&b'\n')));
    // Paths with the pathname and query that go with them, and near misses.
    let mut queries = Vec::new();
    for (path, query) in [
        (
            "/a?x=1&y=2&x=3",
            serde_json::json!({"x": ["1", "3"], "y": "2"}),
        ),
        (
            "/a?x=1&y=2&x=3",
            serde_json::json!({"x": ["3", "1"], "y": "2"}),
        ),
        (
            "/a?x=1&y=2&x=3",
            serde_json::json!({"y": "2", "x": ["1", "3"]}),
        ),
        (
            "/a?x=1&y=2",
            serde_json::json!({"x": "1", "y": "2", "z": []}),
        ),
        ("/a?x=1&z=2", serde_json::json!({"x": "1", "y": []})),
        ("/a?x=1&y=&z&=5", serde_json::json!({"x": "1", "": "5"})),
        ("/a?x=1&y=&z", serde_json::json!({"x": "1", "y": ""})),
        ("/a?x=%31&y=a+b", serde_json::json!({"x": "1", "y": "a b"})),
        (
            "/a?x=%31&y=a+b",
            serde_json::json!({"x": "%31", "y": "a+b"}),
        ),
        ("/a?q=caf%C3%A9", serde_json::json!({"q": "caf\u{e9}"})),
        ("/a?q=\u{e9}", serde_json::json!({"q": "\u{e9}"})),
        ("/a?q=a\\b", serde_json::json!({"q": "a\\b"})),
        ("/a", serde_json::json!({})),
        ("/a?", serde_json::json!({})),
        ("/a#x=1", serde_json::json!({})),
    ] {
        let mut v = base.clone();
        let req = v["request"].as_object_mut().unwrap();
        req.insert("path".into(), path.into());
        req.insert("pathname".into(), "/a".into());
        req.insert("query".into(), query);
        queries.push(serde_json::to_vec(&v).unwrap());
    }
    inputs.push(("queries.jsonl".into(), queries.join(&b'\n')));
    // Bodies whose length the fast path counts from their escapes, each with a
    // Content-Length that fits and one that does not; and bodies JSON rejects.
    let mut bodies = Vec::new();
    for (body, len) in [
        (r#""plain""#, 5),
        (r#""a\"b\\c\/d\n\t\r\b\f""#, 12),
        (r#""caf\u00e9 \u20ac \u0041""#, 11),
        (r#""\ud83d\ude00""#, 4),
        (r#""é€😀""#, 9),
        (r#""\ud83d""#, 3),
        (r#""\ude00x""#, 4),
        (r#""\ud83d\u0041""#, 4),
        ("\"tab\there\"", 8),
        (r#""\x""#, 1),
        (r#"null"#, 0),
        (r#"12"#, 2),
    ] {
        for cl in [len, len + 1] {
            let line = format!(
                r#"{{"request":{{"method":"get","protocol":"http","host":"h","path":"/"}},"response":{{"statusCode":200,"headers":{{"content-length":"{cl}"}},"body":{body}}}}}"#
            );
            bodies.push(line.into_bytes());
        }
    }
    let strict = http_types_schema(Profile::Strict);
    let fast: Vec<bool> = bodies
        .iter()
        .map(|l| fast::check(l, strict, Profile::Strict).is_some())
        .collect();
    // The five valid bodies pass the fast path with their own length and no other.
    let mut want = [[true, false]; 12].concat();
    want.truncate(10);
    want.resize(24, false);
    assert_eq!(fast, want);
    inputs.push(("bodies.jsonl".into(), bodies.join(&b'\n')));
    for (name, bytes) in &inputs {
        for profile in [Profile::Strict, Profile::Schema] {
            let run = |fast_path| {
                let opts = Options {
                    profile,
                    fast_path,
                    ..Options::default()
                };
                let mut got = Vec::new();
                let summary =
                    validate_reader(name, &bytes[..], &opts, &mut |p| got.push(p)).unwrap();
                (got, summary)
            };
            assert_eq!(run(true), run(false), "{name} {profile:?}");
        }
    }
}

#[test]
fn a_single_http_types_document_follows_the_profile() {
    // No host (strict schema) and status 99 (rule): only the strict profile minds.
    let doc = br#"{"request":{"method":"get","protocol":"http","path":"/"},"response":{"statusCode":99,"headers":{}}}"#;
    let (schema, problems) = check_document(doc, None, Profile::Strict);
    assert_eq!(schema.unwrap().name(), "http-types-strict/2020-06");
    let rules: Vec<&str> = problems.iter().map(|p| p.finding.rule.as_ref()).collect();
    assert_eq!(rules, ["schema/required", "status-range"]);
    let (schema, problems) = check_document(doc, None, Profile::Schema);
    assert_eq!(schema.unwrap().name(), "http-types/2020-06");
    assert_eq!(problems, []);
}

/// Issue 15: a body wirecap marked as cut carries the Content-Length that was announced;
/// only an unmarked body that disagrees with its Content-Length is a finding. Issue 16: so
/// does one whose missing ranges were lost in a gap.
#[test]
fn a_body_marked_as_cut_is_not_measured_against_its_content_length() {
    let line = |meta: &str| {
        format!(
            r#"{{"request":{{"method":"post","protocol":"http","host":"h","path":"/","headers":{{"content-length":"50"}},"body":"part"}},"response":{{"statusCode":200,"headers":{{"content-length":"9"}},"body":"half"}}{meta}}}"#
        )
    };
    let cut = line(
        r#","meta":{"wirecap":{"requestBodyCut":{"seen":4,"announced":50},"responseBodyCut":{"seen":4,"announced":9,"missing":[[0,5]]}}}"#,
    );
    let text = format!("{cut}\n{}\n", line(""));
    let mut got = Vec::new();
    validate_reader(
        "cut.jsonl",
        text.as_bytes(),
        &Options::default(),
        &mut |p| got.push((p.line, p.finding.pointer, p.finding.rule.into_owned())),
    )
    .unwrap();
    let rule = "content-length".to_owned();
    assert_eq!(
        got,
        [
            (2, "/request/headers/content-length".into(), rule.clone()),
            (2, "/response/headers/content-length".into(), rule)
        ]
    );
}
