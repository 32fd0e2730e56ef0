//! Fuzz target `semver_range`: see `sonde_fuzz::semver_range`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sonde_fuzz::semver_range(data));
