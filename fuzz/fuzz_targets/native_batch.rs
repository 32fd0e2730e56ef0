//! Fuzz target `native_batch`: see `sonde_fuzz::native_batch`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sonde_fuzz::native_batch(data));
