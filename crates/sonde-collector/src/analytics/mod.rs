//! Analytics as it is shown: every number the admin API, the CLI and the
//! dashboard give out about active signatures passes through here.
//!
//! - [`kanon`]: the minimum group size (k-anonymity) — small groups folded
//!   into "other", small figures shown as "fewer than k", filters that
//!   narrow too far refused.
//! - [`query`]: the admin API's analytics query, JSON or CSV.
//! - [`views`]: the dashboard's panels as plain structs, one function each.
//! - [`events`]: command, console and heartbeat figures, under the minimum
//!   group size counted in installations and instances.
//! - [`upgrades`]: upgrades after a notice, per notice cohort.
//!
//! The numbers themselves come from the store's roll-ups
//! ([`sonde_store::Store::active`], [`sonde_store::Store::breakdown`],
//! [`sonde_store::Store::cohorts`], [`sonde_store::Store::event_stats`],
//! [`sonde_store::Store::heartbeat_stats`], [`sonde_store::Store::upgrades`]).

mod adoption;
pub mod events;
pub mod kanon;
pub mod query;
pub mod upgrades;
pub mod views;
