//! HTTP/2 frames, HPACK and streams on both directions, after the client preface.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wirecap_fuzz::targets::http2(data));
