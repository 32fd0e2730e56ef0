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

impl AlertRecord {
    /// The stored form of `alert`, under `id`.
    pub fn new(id: i64, alert: NewAlert) -> Self {
        AlertRecord {
            id,
            product: alert.product,
            level: alert.level,
            message: alert.message,
            url: alert.url,
            affects: alert.affects,
            date: alert.date,
        }
    }
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

/// A usage ping to store; its dropped fields are counted in the rejection counters.
#[derive(Debug, Clone)]
pub struct NewPing {
    /// The validated ping.
    pub ping: UsagePing,
    /// Which front door it came through (for the rejection counters).
    pub source: &'static str,
    /// What was dropped from it.
    pub dropped: Vec<Dropped>,
    /// Whether the check it came with was answered `outdated: true` (see
    /// [`crate::upgrades`]); `false` for pings that got no version answer.
    pub told_outdated: bool,
}

/// Events of one product to store; ids already stored for the product are
/// ignored (and counted as duplicates), dropped fields are counted.
#[derive(Debug, Clone)]
pub struct NewEvents {
    /// The product they belong to.
    pub product: ProductName,
    /// Which front door they came through.
    pub source: &'static str,
    /// The validated events.
    pub events: Vec<Event>,
    /// What was dropped from them.
    pub dropped: Vec<Dropped>,
}

/// What storing a batch of events did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventsStored {
    /// Newly stored.
    pub stored: u64,
    /// Already present (a retry), ignored.
    pub duplicates: u64,
}

/// What one retention pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RetentionOutcome {
    /// Raw events deleted (each first counted in the roll-ups).
    pub deleted: u64,
    /// Error reports deleted.
    pub error_reports_deleted: u64,
}

/// One analytics counter: events of a kind in a month, grouped by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventCount {
    /// `YYYY-MM`, by the collector's receive time.
    pub month: String,
    /// Command path, action name or instance id (see [`crate::rollup`]).
    pub key: String,
    /// How many events.
    pub count: u64,
    /// How many of them were errors (`is_error`, command events).
    pub errors: u64,
}
