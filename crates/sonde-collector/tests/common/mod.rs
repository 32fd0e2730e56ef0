//! The collector tests' view of the workspace test kit: the in-process
//! collector on port 0 with a temporary data directory and its admin calls
//! (`Harness`), and byte-exact HTTP/1.1 exchanges.
#![allow(dead_code, unused_imports)]

pub(crate) use sonde_testkit::collector::Collector as Harness;
pub(crate) use sonde_testkit::http::{agent, exchange as raw, RawResponse};

/// A collector on a free loopback port with a new data directory.
pub(crate) fn start() -> Harness {
    Harness::start()
}
