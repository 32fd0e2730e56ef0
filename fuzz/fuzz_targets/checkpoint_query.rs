//! Fuzz target `checkpoint_query`: see `sonde_fuzz::checkpoint_query`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sonde_fuzz::checkpoint_query(data));
