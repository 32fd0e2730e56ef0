//! Fuzz target `scrubber`: see `sonde_fuzz::scrubber`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sonde_fuzz::scrubber(data));
