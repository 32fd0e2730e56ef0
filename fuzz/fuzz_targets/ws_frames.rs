//! Fuzz target `ws_frames`: see `sonde_fuzz::ws_frames`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sonde_fuzz::ws_frames(data));
