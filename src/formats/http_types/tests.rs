//! The http-types reader and writer, line by line.

use super::*;
use crate::loss::{LossKind, Losses};
use crate::model::{Body, Cut};

fn read_one(line: &str) -> Result<Exchange, String> {
    let mut r = Reader::new(line.as_bytes(), "t.jsonl", MAX_LINE_BYTES);
    r.next().expect("one line").map_err(|e| e.to_string())
}

fn write_one(ex: &Exchange) -> (String, Losses) {
    let mut losses = Losses::default();
    let mut w = Writer::new(Vec::new());
    w.write(ex, &mut losses).expect("writes to memory");
    (
        String::from_utf8(w.finish().expect("flush")).expect("utf-8"),
        losses,
    )
}

macro_rules! rejects {
    ($line:expr, $msg:expr) => {
        assert_eq!(read_one($line).unwrap_err(), $msg)
    };
}

const BASE: &str = r#"{"request":{"method":"get","protocol":"http","host":"a.test","path":"/x?q=1"},"response":{"statusCode":200,"headers":{}}}"#;

#[test]
fn reads_the_three_path_spellings() {
    let p = |line: &str| read_one(line).map(|e| e.request.target);
    assert_eq!(p(BASE).as_deref(), Ok("/x?q=1"));
    assert_eq!(
        p(r#"{"request":{"method":"get","host":"h","pathname":"/x","query":{"a":["1","2"],"b":"c d"}}}"#).as_deref(),
        Ok("/x?a=1&a=2&b=c+d")
    );
    assert_eq!(
        p(r#"{"request":{"method":"get","url":"https://h:8443/y?z=1"}}"#).as_deref(),
        Ok("/y?z=1")
    );
}

#[test]
fn errors_name_line_and_pointer() {
    rejects!(
        r#"{"request":{"method":"get","path":"/"},"response":{"statusCode":"200"}}"#,
        r#"t.jsonl:1: /response/statusCode: string "200", expected an integer status code"#
    );
    rejects!(
        r#"{"request":{"method":"get","path":"/","headers":{"a":1}}}"#,
        "t.jsonl:1: /request/headers/a: integer `1`, expected a string or an array of strings"
    );
    rejects!(
        r#"{"request":{"method":"get","path":"/","timestamp":"yesterday"}}"#,
        r#"t.jsonl:1: /request/timestamp: expected an RFC 3339 date-time like 2023-11-14T22:13:20.003+00:00, found "yesterday""#
    );
    rejects!(
        r#"{"request":{"method":"get","path":"/","bogus":1}}"#,
        "t.jsonl:1: /request/bogus: unknown field `bogus`, expected one of `method`, `protocol`, `host`, `url`, `path`, `pathname`, `query`, `headers`, `body`, `timestamp`, `bodyAsJson`"
    );
    rejects!(
        r#"{"request":{"method":"get"}}"#,
        "t.jsonl:1: /request: expected one of path, pathname or url"
    );
    rejects!(
        "   ",
        "t.jsonl:1: /: blank line (py-http-types cannot read it; hmt skips it)"
    );
    rejects!("null", "t.jsonl:1: /: null, expected an object");
    rejects!("[]", "t.jsonl:1: /: an array, expected an object");
    rejects!(
        r#"[{"request":1}]"#,
        "t.jsonl:1: /: an array, expected an object"
    );
    rejects!(r#""x""#, r#"t.jsonl:1: /: string "x", expected an object"#);
    rejects!(
        &"[".repeat(1000),
        "t.jsonl:1: /: an array, expected an object"
    );
    rejects!(
        r#"{"request":[]}"#,
        "t.jsonl:1: /request: an array, expected an object"
    );
    rejects!(
        r#"{"request":{"method":"get","path":"/"},"response":5}"#,
        "t.jsonl:1: /response: integer `5`, expected an object"
    );
    rejects!(
        r#"{"request":{"method":"get","path":"/"},"response":{"statusCode":200,"headers":[]}}"#,
        "t.jsonl:1: /response/headers: sequence, expected an object whose values are strings or arrays of strings"
    );
    rejects!(
        r#"{"request":"#,
        "t.jsonl:1: /request: unexpected end of input while parsing a value"
    );
}

#[test]
fn long_lines_are_refused_and_skipped() {
    let input = format!("{}\n{BASE}\n", "x".repeat(100));
    let mut r = Reader::new(input.as_bytes(), "t.jsonl", 50);
    assert_eq!(
        r.next().unwrap().unwrap_err().to_string(),
        "t.jsonl:1: /: line longer than 50 bytes, expected at most 50 (raise it with --max-line-bytes)"
    );
    assert!(
        r.next().is_some_and(|e| e.is_err()),
        "the 2nd line is longer than 50 too"
    );
    let mut r = Reader::new(input.as_bytes(), "t.jsonl", 200);
    assert!(r.next().unwrap().is_err());
    assert_eq!(
        r.next().unwrap().unwrap().source.location,
        Some(Location::Line(2))
    );
    assert!(r.next().is_none());
}

#[test]
fn writes_the_profile_every_reader_accepts() {
    let ex = read_one(r#"{"request":{"method":"GET","protocol":"HTTP","host":"a.test:80","path":"/x;p?b=&q=1&q=2","headers":{"Accept":"*/*"}},"response":{"statusCode":204}}"#).unwrap();
    let (line, losses) = write_one(&ex);
    assert_eq!(
        line,
        concat!(
            r#"{"request":{"method":"get","protocol":"http","host":"a.test","path":"/x;p?b=&q=1&q=2","pathname":"/x","query":{"q":["1","2"]},"headers":{"Accept":"*/*"}},"#,
            r#""response":{"statusCode":204,"headers":{},"body":""}}"#,
            "\n"
        )
    );
    assert!(losses.is_empty());
}

#[test]
fn repeated_bodies_are_written_as_if_each_were_new() {
    let with_body = |bytes: Vec<u8>| {
        let mut ex = read_one(BASE).unwrap();
        ex.response.as_mut().unwrap().body = Body::from_bytes(bytes);
        ex
    };
    let text = "say \"hi\"\n".repeat(200);
    let mut twin = text.clone().into_bytes();
    twin[1000] = b'!';
    let mut binary = text.clone().into_bytes();
    binary[1000] = 0xff;
    let (a, b, bin) = (
        with_body(text.into_bytes()),
        with_body(twin),
        with_body(binary),
    );
    let batch = [&a, &a, &b, &bin, &a, &bin, &b, &a, &bin, &a].map(Clone::clone);
    let mut losses = Losses::default();
    let mut w = Writer::new(Vec::new());
    assert_eq!(w.write_batch(&batch, &mut losses).expect("writes"), 10);
    let again: Vec<Exchange> = batch.iter().rev().cloned().collect();
    for ex in &again {
        w.write(ex, &mut losses).expect("writes");
    }
    let out = String::from_utf8(w.finish().expect("flush")).expect("utf-8");
    let expected: String = batch
        .iter()
        .chain(&again)
        .map(|ex| write_one(ex).0)
        .collect();
    assert_eq!(out, expected);
    let binary_notes = losses.iter().find(|(k, _)| *k == LossKind::BinaryBody);
    assert_eq!(binary_notes.map(|(_, c)| c.count), Some(6));
}

#[test]
fn binary_bodies_are_left_out_and_noted() {
    let mut ex = read_one(BASE).unwrap();
    ex.response.as_mut().unwrap().body = Body::from_bytes(vec![0xff, 0x00]);
    let (line, losses) = write_one(&ex);
    assert!(
        line.contains(r#""meta":{"wirecap":{"omittedBodies":["response: 2 bytes, not UTF-8"]}}"#),
        "{line}"
    );
    assert!(line.contains(r#""body":"""#), "{line}");
    assert_eq!(
        losses.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        [LossKind::BinaryBody]
    );
    let back = read_one(line.trim_end()).unwrap();
    assert_eq!(
        write_one(&back).0,
        line,
        "writing what was read gives the same line"
    );
}

#[test]
fn extras_round_trip_through_meta() {
    let mut ex = read_one(BASE).unwrap();
    let resp = ex.response.as_mut().unwrap();
    resp.reason = Some("OK".into());
    resp.version = Some("HTTP/1.1".into());
    resp.trailers.push("Checksum", "abc");
    resp.interim.push(100);
    resp.body.decoded_from = Some("gzip".into());
    ex.request.version = Some("HTTP/1.1".into());
    let (line, _) = write_one(&ex);
    let back = read_one(line.trim_end()).unwrap();
    assert_eq!(back.response, ex.response);
    assert_eq!(back.request, ex.request);
}

/// Issue 15: a body the capture cut off says so in `meta.wirecap`, with how much was seen
/// and announced, and reads back as cut.
#[test]
fn cut_bodies_are_marked_in_meta_and_read_back() {
    let mut ex = read_one(BASE).unwrap();
    ex.request.body = Body {
        cut: Some(Cut {
            seen: 3,
            announced: Some(5000),
            missing: Vec::new(),
        }),
        ..Body::from("abc")
    };
    ex.response.as_mut().unwrap().body.cut = Some(Cut {
        seen: 2,
        announced: None,
        missing: Vec::new(),
    });
    let (line, _) = write_one(&ex);
    let json: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        json["meta"]["wirecap"]["requestBodyCut"],
        serde_json::json!({"seen": 3, "announced": 5000})
    );
    assert_eq!(
        json["meta"]["wirecap"]["responseBodyCut"],
        serde_json::json!({"seen": 2})
    );
    let back = read_one(line.trim_end()).unwrap();
    assert_eq!((back.request, back.response), (ex.request, ex.response));
}

/// Issue 14: a decoded body is written without the headers that describe it as sent, and
/// they come back from `meta.wirecap` when the file is read.
#[test]
fn issue_14_a_decoded_body_is_written_without_its_encoding_headers() {
    let mut ex = read_one(BASE).unwrap();
    let resp = ex.response.as_mut().unwrap();
    resp.headers.push("Content-Encoding", "gzip");
    resp.headers.push("content-length", "118");
    resp.body.decoded_from = Some("gzip".into());
    let (line, _) = write_one(&ex);
    let json: serde_json::Value = serde_json::from_str(&line).unwrap();
    let headers = json["response"]["headers"].as_object().unwrap();
    assert!(
        headers
            .keys()
            .all(|k| !k.eq_ignore_ascii_case("content-encoding"))
    );
    assert!(
        headers
            .keys()
            .all(|k| !k.eq_ignore_ascii_case("content-length"))
    );
    assert_eq!(
        json["meta"]["wirecap"]["responseEncodingHeaders"],
        serde_json::json!([["Content-Encoding", "gzip"], ["content-length", "118"]])
    );
    let back = read_one(line.trim_end()).unwrap();
    assert_eq!(back.response, ex.response);
    let (again, _) = write_one(&back);
    assert_eq!(again, line);
    // Without decoding, the headers stay where they are.
    ex.response.as_mut().unwrap().body.decoded_from = None;
    assert!(write_one(&ex).0.contains(r#""Content-Encoding":"gzip""#));
}

/// A file whose headers already hold a field its meta also keeps does not get it twice.
#[test]
fn encoding_headers_in_both_places_are_not_doubled() {
    let line = r#"{"request":{"method":"get","protocol":"http","host":"a.test","path":"/"},"response":{"statusCode":200,"headers":{"Content-Encoding":"gzip"},"body":"hi"},"meta":{"wirecap":{"responseDecodedFrom":"gzip","responseEncodingHeaders":[["Content-Encoding","gzip"],["Content-Length","22"]]}}}"#;
    let ex = read_one(line).unwrap();
    let headers = &ex.response.as_ref().unwrap().headers;
    assert_eq!(headers.all("content-encoding").count(), 1);
    assert_eq!(headers.first("content-length"), Some("22"));
}
