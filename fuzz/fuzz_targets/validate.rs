//! `validate` on any bytes: detection, the fast path, the schemas and the rules.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wirecap_fuzz::targets::validate(data));
