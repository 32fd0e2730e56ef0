//! Fuzz target `hasura_envelope`: see `sonde_fuzz::hasura_envelope`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sonde_fuzz::hasura_envelope(data));
