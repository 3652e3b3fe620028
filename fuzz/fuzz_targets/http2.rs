//! HTTP/2 frames, HPACK and streams on both directions, after the client preface.
#![no_main]
use wirecap::capture::connection::{HttpOptions, Role};
use wirecap::capture::http2::Connection;
use wirecap::capture::tcp_reassembly::{Chunk, Origin};
use wirecap::model::Timestamp;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut c = Connection::new(wirecap_fuzz::flow_info(), HttpOptions::default(), true);
    let origin = Origin {
        ts: Timestamp::from_unix(1_700_000_000, 0),
        packet: 0,
    };
    if !data.starts_with(b"PRI ") {
        c.feed(Role::Request, Chunk::Data(PREFACE, origin));
    }
    wirecap_fuzz::feed_chunks(data, |role, chunk| c.feed(role, chunk));
    c.finish();
});
