//! http-types JSONL (and pretty or array documents) through the reader `convert` uses.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wirecap_fuzz::targets::http_types(data));
