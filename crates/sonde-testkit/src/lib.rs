//! The one test kit of the workspace: every integration test that runs a
//! binary, a collector, a raw HTTP exchange or a TLS peer builds on it, so
//! that each of those exists once.
//!
//! - [`browser`]: a real headless Chromium driven over the DevTools protocol.
//! - [`command`]: a [`std::process::Command`] with a clean environment (no
//!   variable of the developer's shell reaches the program under test), and
//!   what a finished process printed.
//! - [`wait`]: bounded polling.
//! - [`collector`]: the real collector in this process, on loopback, with its
//!   own data directory, and its admin API.
//! - [`serve`]: the real `sonde serve` as a child process.
//! - [`clickhouse`]: a `clickhouse-server` of the test's own, and a two-shard cluster.
//! - [`db`]: the collector's SQLite file, opened as a separate reader would.
//! - [`http`]: byte-exact HTTP/1.1 exchanges and a `ureq` agent that returns
//!   every status.
//! - [`tls`]: a test CA and leaf certificates it signs.
//! - [`sandbox`]: a temporary home for a program that embeds the client.
//! - [`process`]: whether processes are gone, and their memory.
//! - [`tmpfs`]: `sonde serve` with its data directory on a small tmpfs in a
//!   private mount namespace (a disk that fills up).
//!
//! ```no_run
//! let collector = sonde_testkit::collector::Collector::start();
//! collector.publish("demo", "1.0.0");
//! let reply = sonde_testkit::http::get(collector.addr(), "/v1/check/demo?version=1.0.0");
//! assert_eq!(reply.status, 200);
//! ```

pub mod browser;
pub mod clickhouse;
pub mod collector;
pub mod command;
pub mod db;
pub mod http;
pub mod process;
pub mod sandbox;
pub mod serve;
pub mod tls;
pub mod tmpfs;
pub mod wait;
