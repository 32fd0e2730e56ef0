//! Fuzz target `error_report`: see `sonde_fuzz::error_report`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sonde_fuzz::error_report(data));
