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
//! - [`dropped`]: the [`DropReason`] that says why a value was dropped, and
//!   the [`Dropped`] record naming its field.
//! - [`shapes`]: one validator per value shape (UUID, version, OS, architecture,
//!   CI vendor, token, ...), used by pings and events alike, with the closed
//!   lists of [`platforms`] and [`ci`] and the grammar of [`version`].
//! - [`vocabulary`]: the words a product registered (command paths, flag
//!   names, metrics keys, console event types, ...), Hasura's built in.
//! - [`privacy`]: detectors for what could identify a person or leak a secret
//!   (e-mail and IP addresses in every notation, host names, URLs and
//!   connection strings, home and database paths, secrets, card numbers,
//!   IBANs, MAC addresses, phone numbers), as spans; [`scrub`]: the scrubber
//!   of free text built on them.
//! - [`product`]: product names.
//! - [`limits`]: sizes and lengths, in one place.
//! - [`event`]: the [`Event`] every event front door produces.
//! - [`field_spec`]: the fields each [`EventKind`] may carry, as data;
//!   [`allowlist`]: the one validation every event front door runs against
//!   them, with [`command`] (command lines), [`metrics`] (`metrics` objects)
//!   and [`routes`] (console routes reduced to registered templates).
//! - [`hasura`] (`/v1/http`, `/v1/ws`) and [`native`] (`/api/v1/events`): the decoders
//!   of the two event front doors, onto [`allowlist`].
//! - [`schema`]: the published description of every allowlist.
//! - [`json`]: the borrowing JSON tree the native decoder parses into.
//! - [`error_report`]: error reports (sent with the user's consent), their
//!   validation and their grouping fingerprint; [`scrub`]: the scrubbing of
//!   free text both sides run on them.
//!
//! Modules depend one way: validators and data first ([`limits`],
//! [`privacy`], [`dropped`], [`platforms`], [`ci`], [`version`],
//! [`vocabulary`], [`shapes`], [`field_spec`]), then
//! [`allowlist`], then the decoders, then [`schema`].
//!
//! The crate has no I/O and few dependencies: it is compiled into every CLI that
//! embeds Sonde.

#![warn(missing_docs)]

pub mod allowlist;
pub mod checkpoint;
pub mod ci;
pub mod command;
pub mod dropped;
pub mod error_report;
pub mod event;
pub mod field_spec;
pub mod hasura;
pub mod json;
pub mod limits;
pub mod metrics;
pub mod native;
pub mod ping;
pub mod platforms;
pub mod privacy;
pub mod product;
pub mod routes;
pub mod schema;
pub mod scrub;
pub mod shapes;
pub mod timefmt;
pub mod uuid;
pub mod version;
pub mod vocabulary;

pub use checkpoint::{Alert, AlertLevel, CheckQuery, CheckResponse};
pub use dropped::{DropReason, Dropped};
pub use event::{Event, EventKind, Fields};
pub use ping::{ClientFamily, UsagePing};
pub use product::ProductName;
