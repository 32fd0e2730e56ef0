//! Example CLI embedding sonde.
fn main() {}
