//! The values the store keeps and the writes it accepts.

use serde::{Deserialize, Serialize};
use sonde_protocol::ping::Dropped;
use sonde_protocol::{Event, ProductName, UsagePing};

/// A release to publish. Publishing the same version again replaces its fields.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NewRelease {
    /// The product; publishing its first release registers it.
    pub product: String,
    /// The version, as published (already validated as semver by the caller).
    pub version: String,
    /// Release date, Unix seconds.
    pub date: i64,
    /// Where to download it.
    pub download_url: Option<String>,
    /// Where its changelog is.
    pub changelog_url: Option<String>,
    /// The product's website.
    pub website: Option<String>,
    /// Package name for the update command (`npm i {package}@{release_tag}`).
    pub package: Option<String>,
    /// Release tag for the update command (`latest`).
    pub release_tag: Option<String>,
    /// A full install command.
    pub install_command: Option<String>,
}

/// A stored release.
pub type Release = NewRelease;

/// An alert to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAlert {
    /// The product (must be registered).
    pub product: String,
    /// `info`, `warn` or `critical`.
    pub level: String,
    /// One line for the user.
    pub message: String,
    /// Where to read more.
    pub url: Option<String>,
    /// The semver range of affected client versions; `None` affects every version.
    pub affects: Option<String>,
    /// Publication date, Unix seconds.
    pub date: i64,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Stable id, never reused.
    pub id: i64,
    /// The product.
    pub product: String,
    /// `info`, `warn` or `critical`.
    pub level: String,
    /// One line for the user.
    pub message: String,
    /// Where to read more.
    pub url: Option<String>,
    /// The semver range of affected client versions; `None` affects every version.
    pub affects: Option<String>,
    /// Publication date, Unix seconds.
    pub date: i64,
}

/// The versions of a service that a product works with (go-checkpoint `Versions`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VersionConstraint {
    /// The product asking.
    pub product: String,
    /// The service asked about.
    pub service: String,
    /// Oldest supported version, or empty.
    pub minimum: String,
    /// Newest supported version, or empty.
    pub maximum: String,
    /// Versions known not to work.
    pub excluding: Vec<String>,
}

/// Everything version checks are answered from, read in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogData {
    /// The catalog generation this snapshot was read at.
    pub generation: u64,
    /// Registered products.
    pub products: Vec<String>,
    /// Every release of every product.
    pub releases: Vec<Release>,
    /// Every alert.
    pub alerts: Vec<AlertRecord>,
    /// Every service version constraint.
    pub versions: Vec<VersionConstraint>,
}

/// One rejection counter: how often `field` was dropped for `reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionCount {
    /// The product.
    pub product: String,
    /// Which front door (`check`, `telemetry`, `hasura`, ...).
    pub source: String,
    /// The field (`*` for unknown fields, whose names are never kept).
    pub field: String,
    /// The reason (`DropReason::as_str`).
    pub reason: String,
    /// How many times.
    pub count: u64,
}

/// One write. Every op in a batch commits together.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// Store a usage ping and count its dropped fields.
    Ping {
        /// The validated ping.
        ping: UsagePing,
        /// Which front door it came through (for the rejection counters).
        source: &'static str,
        /// What was dropped from it.
        dropped: Vec<Dropped>,
    },
    /// Store events (duplicates by `(product, id)` are ignored and counted) and
    /// count dropped fields.
    Events {
        /// The product they belong to.
        product: ProductName,
        /// Which front door they came through.
        source: &'static str,
        /// The validated events.
        events: Vec<Event>,
        /// What was dropped from them.
        dropped: Vec<Dropped>,
    },
    /// Publish (or republish) a release; registers the product.
    PublishRelease(NewRelease),
    /// Add an alert to a registered product.
    AddAlert(NewAlert),
    /// Remove an alert by id.
    RemoveAlert(i64),
    /// Set a service version constraint for a registered product.
    SetVersions(VersionConstraint),
}

/// What a committed [`WriteOp`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The ping is stored.
    Ping,
    /// Events stored and duplicates ignored.
    Events {
        /// Newly stored.
        stored: u64,
        /// Already present (a retry), ignored.
        duplicates: u64,
    },
    /// The release as stored.
    Release(Release),
    /// The alert as stored, with its id.
    Alert(AlertRecord),
    /// Whether an alert was removed.
    Removed(bool),
    /// The constraint is stored.
    Versions,
}
