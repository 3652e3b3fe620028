//! The HTTP/1 parser and pairing on both directions of a connection, gaps included.
#![no_main]
use wirecap::capture::connection::HttpOptions;
use wirecap::capture::http1::Connection;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let from_start = data.first().is_some_and(|b| b & 1 == 0);
    let mut c = Connection::new(
        wirecap_fuzz::flow_info(),
        HttpOptions::default(),
        from_start,
    );
    wirecap_fuzz::feed_chunks(data.get(1..).unwrap_or_default(), |role, chunk| {
        c.feed(role, chunk)
    });
    c.finish();
});
