//! Any bytes as a pcap or pcapng capture: records, link, IP and TCP decoding, reassembly and
//! HTTP, through the same reader `convert` uses.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wirecap_fuzz::targets::pcap(data));
