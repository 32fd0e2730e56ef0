//! The sonde binary.
fn main() {}
