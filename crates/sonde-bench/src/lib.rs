//! Benchmark helpers for Sonde.
//!
//! - [`baseline`]: the static handler `bench/check/run.sh` measures the
//!   collector against (`check-baseline`).
//! - [`plan`], [`content`] and [`generate`]: the analytics data generator
//!   (`sonde-gen`). A [`plan::Plan`] is a seeded, deterministic description
//!   of a product's population over a range of days (signatures, when each
//!   is active, on which version, OS, arch, runtime and CI, how many pings
//!   each visit sends); [`generate::generate`] writes it, with command
//!   events, Hasura-style heartbeats, error reports, releases and an alert,
//!   into any [`sonde_store::Store`] through the store's own writer, so the
//!   roll-ups are the ones ingestion maintains. The plan also answers what
//!   the store must then say (active signatures per day and month, version
//!   breakdowns, cohorts), which the crate's tests check.
//! - [`raw`]: the physical limits of durable ingestion (`raw-insert`): a
//!   collector's stored rows inserted again straight into SQLite or
//!   ClickHouse, in batches of the collector's commit size.
//! - [`load`]: the load generator (`sonde-load`): a tool's user population
//!   against a running collector, with the exact record of what was
//!   acknowledged and the checker that finds it in the store.

pub mod baseline;
pub mod content;
pub mod generate;
pub mod load;
pub mod plan;
pub mod raw;

pub use baseline::{baseline_app, baseline_app_with_routes};
