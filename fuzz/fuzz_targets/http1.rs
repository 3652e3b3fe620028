//! The HTTP/1 parser and pairing on both directions of a connection, gaps included.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wirecap_fuzz::targets::http1(data));
