//! Wire types, limits and validation shared by Sonde's client library and its
//! collector.
//!
//! Everything that crosses the wire between a tool and the collector is defined
//! here once, so that both sides agree on names, types and limits:
//!
//! - [`checkpoint`]: the checkpoint protocol spoken by HashiCorp's
//!   go-checkpoint, Prisma's `checkpoint-client` and Sonde's own client
//!   (`GET /v1/check/{product}` and friends).
//! - [`ping`]: the normalised usage ping that the collector stores for every
//!   check, built from a [`checkpoint::CheckQuery`] by dropping whatever is not
//!   allowed.
//! - [`fields`]: per-field validators and the [`fields::DropReason`] that says
//!   why a value was dropped.
//! - [`privacy`]: detectors for values that could identify a person (e-mail and
//!   IP addresses, URLs with credentials, home-directory paths, secrets).
//! - [`product`]: product names.
//! - [`limits`]: sizes and lengths, in one place.
//! - [`allowlist`]: the fields each [`EventKind`] may carry, and the one
//!   validation every event front door runs; [`hasura`] (`/v1/http`) and
//!   [`native`] (`/api/v1/events`) decode their bodies onto it, and
//!   [`routes`] reduces console routes to registered templates.
//!
//! The crate has no I/O and few dependencies: it is compiled into every CLI that
//! embeds Sonde.

#![warn(missing_docs)]

pub mod allowlist;
pub mod checkpoint;
pub mod event;
pub mod fields;
pub mod hasura;
pub mod json;
pub mod limits;
pub mod native;
pub mod ping;
pub mod privacy;
pub mod product;
pub mod routes;
pub mod timefmt;
pub mod uuid;

pub use checkpoint::{Alert, AlertLevel, CheckQuery, CheckResponse};
pub use event::{Event, EventKind, Fields};
pub use fields::DropReason;
pub use ping::{ClientFamily, Dropped, UsagePing};
pub use product::ProductName;
