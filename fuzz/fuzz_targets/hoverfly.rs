//! Every Hoverfly reader (simulations of every schemaVersion, legacy records, templates and
//! delays), then the pairs as exchanges, as `convert` does.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wirecap_fuzz::targets::hoverfly(data));
