//! The load generator: a tool's user population sending what its clients
//! send, as they send it on the wire, and an exact record of what the
//! collector acknowledged.
//!
//! - [`population`]: developers with stable signatures, the versions they
//!   run (a distribution that moves to newer releases as time passes), the
//!   share of checks that come from CI.
//! - [`wire`]: each kind of request byte for byte: go-checkpoint's and
//!   Prisma's checks, native event batches, Hasura heartbeats and CLI events,
//!   console frames over `/v1/ws`, error reports.
//! - [`client`]: one HTTP/1.1 exchange over a kept-alive or a fresh
//!   connection, and what became of it.
//! - [`run`]: worker threads sending the mix at a rate, latency and
//!   throughput per kind.
//! - [`ledger`]: what was acknowledged (ids, or counts per signature where
//!   the wire has no id), and what was sent without an answer.
//! - [`verify`]: the ledger against the collector's SQLite file or its
//!   ClickHouse database: lost and duplicated items.
//!
//! The `sonde-load` binary drives it; the crash and overload tests of
//! `sonde-cli` use it as a library.

pub mod client;
pub mod ledger;
pub mod population;
pub mod run;
pub mod verify;
pub mod wire;

pub use ledger::Ledger;
pub use run::{run, setup, Kind, Mix, Options, Outcome, Stats};
pub use verify::{verify, verify_clickhouse, Verdict, VerifyError};
