//! The TCP reassembler driven by arbitrary segment sequences: each 4-byte step of the input
//! picks a direction, a sequence offset (before, at or past the expected one), flags and a
//! slice of a real keep-alive exchange. The segments go into a pcap, read as `convert` does.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wirecap_fuzz::targets::tcp_segments(data));
