//! TLS record reassembly and handshake parsing on both directions; with the key log the input
//! brings (its first line, if it parses), records are tried as well.
#![no_main]
use std::sync::{Arc, RwLock};
use wirecap::capture::tls::TlsStream;
use wirecap::capture::tls::keylog::KeyLog;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (keys, stream) = match data.iter().position(|&b| b == b'\n') {
        Some(i) if data.starts_with(b"CLIENT_") => (&data[..=i], &data[i + 1..]),
        _ => (&[][..], data),
    };
    let mut log = KeyLog::default();
    let _ = log.add_text(keys);
    let mut s = TlsStream::new(Arc::new(RwLock::new(log)));
    wirecap_fuzz::feed_chunks(stream, |role, chunk| s.feed(role, chunk, &mut |_, _, _| {}));
});
