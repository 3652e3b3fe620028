//! `validate` on any bytes: detection, the fast path, the schemas and the rules.
#![no_main]
use wirecap::validate::{Options, validate_reader};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = validate_reader("fuzz", data, &Options::default(), &mut |_| {});
});
