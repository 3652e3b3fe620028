//! TLS record reassembly and handshake parsing on both directions; with the key log the input
//! brings (its first line, if it parses), records are tried as well.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wirecap_fuzz::targets::tls(data));
