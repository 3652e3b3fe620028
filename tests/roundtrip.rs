//! Round trips through the http-types writer: what the writer says it kept, the reader gets
//! back; what it could not keep is named in the loss tally.

use std::fs::File;
use std::io::BufReader;
use wirecap::formats::http_types::{MAX_LINE_BYTES, Reader, Writer};
use wirecap::loss::{LossKind, Losses};
use wirecap::model::{Body, Exchange};

fn read(bytes: &[u8]) -> Vec<Exchange> {
    Reader::new(bytes, "mem", MAX_LINE_BYTES)
        .collect::<Result<_, _>>()
        .expect("the writer's output reads back")
}

fn write(exchanges: &[Exchange]) -> (Vec<u8>, Losses) {
    let mut w = Writer::new(Vec::new());
    let mut losses = Losses::default();
    for ex in exchanges {
        w.write(ex, &mut losses).expect("writes to memory");
    }
    (w.finish().expect("flush"), losses)
}

fn without_source(mut exchanges: Vec<Exchange>) -> Vec<Exchange> {
    for ex in &mut exchanges {
        ex.source = Default::default();
    }
    exchanges
}

#[test]
fn py_recorder_file_survives_write_then_read() {
    let file = File::open("testdata/http-types/py-recorder.jsonl").expect("fixture");
    let original: Vec<Exchange> = Reader::new(BufReader::new(file), "py", MAX_LINE_BYTES)
        .collect::<Result<_, _>>()
        .expect("py-http-types output reads");
    assert_eq!(original.len(), 7);
    let (bytes, losses) = write(&original);
    assert!(losses.is_empty(), "{losses:?}");
    let again = read(&bytes);
    assert_eq!(without_source(again.clone()), without_source(original));
    let (bytes_again, _) = write(&again);
    assert_eq!(bytes_again, bytes, "writing is idempotent");
}

#[test]
fn binary_body_is_the_only_thing_lost() {
    let line = br#"{"request":{"method":"post","protocol":"http","host":"a.test","path":"/up","headers":{"content-type":"application/octet-stream"}},"response":{"statusCode":200,"headers":{},"body":"ok"}}"#;
    let mut original = read(line);
    original[0].request.body = Body::from_bytes(vec![0x89, b'P', b'N', b'G', 0, 0xff]);
    let (bytes, losses) = write(&original);
    let kinds: Vec<LossKind> = losses.iter().map(|(k, _)| k).collect();
    assert_eq!(kinds, [LossKind::BinaryBody]);
    let mut again = without_source(read(&bytes));
    assert!(again[0].request.body.is_empty());
    assert_eq!(
        again[0].extra["wirecap"]["omittedBodies"][0],
        "request: 6 bytes, not UTF-8"
    );
    again[0].request.body = original[0].request.body.clone();
    again[0].extra.clear();
    assert_eq!(again, without_source(original));
}
