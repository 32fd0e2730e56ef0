//! Storage for the Sonde collector.
//!
//! [`Store`] is the one interface through which the collector persists and
//! reads everything: pings, events, the catalog (products, releases, alerts,
//! version constraints), route templates, vocabulary words, rejection
//! counters, monthly active signatures, event counts, error reports and
//! retention. Two backends live here (a third, over ClickHouse, is the
//! `sonde-clickhouse` crate):
//!
//! - [`SqliteStore`] ([`sqlite`]), the embedded default: one SQLite file in
//!   the data directory, WAL journal, `synchronous=FULL`, and one writer
//!   thread that owns the only ingest connection. Writes are queued; the
//!   writer drains whatever is queued (up to [`sqlite::MAX_BATCH`] ops) into
//!   one transaction, commits, and only then answers every op of the batch
//!   (group commit). A caller that got `Ok` from [`Pending::wait`] therefore
//!   knows its write is on disk.
//! - [`MemoryStore`] ([`memory`]), the same semantics in memory: the
//!   reference the store suite checks every backend against, and the store of
//!   collector tests that need no file.
//!
//! Every write returns a [`Pending`] of its own result type (a stored
//! [`Release`], an [`AlertRecord`] with its id, whether an alert was removed,
//! [`EventsStored`]...), so callers never match on an untyped outcome.
//!
//! The store keeps no clock: every time it records (a product's creation, a
//! route template's registration, the retention cutoff) is given by the
//! caller, so the collector's clock is the only one.
//!
//! # Why reads are synchronous
//!
//! Writes are asynchronous handles ([`Pending`]): they are the hot path and a
//! backend batches them. Reads are plain blocking calls, and async callers run
//! them on a blocking thread (`spawn_blocking`). The trait stays object-safe
//! (the collector holds an `Arc<dyn Store>`) without boxing a future per call,
//! and no read is on a latency-critical path: checks are answered from the
//! in-memory catalog, which is reloaded in the background when
//! [`Store::catalog_generation`] moves. A backend over HTTP (ClickHouse) can
//! answer reads with a blocking HTTP client on that thread, and answer writes
//! from its own batching task through [`Pending::channel`], so it fits this
//! interface as it is.
//!
//! ```no_run
//! use sonde_store::{NewRelease, SqliteStore, Store};
//! let store = SqliteStore::open("./sonde-data".as_ref()).unwrap();
//! let release = NewRelease { product: "demo".into(), version: "1.0.0".into(), ..Default::default() };
//! let now_ms = 1_794_700_800_000;
//! let stored = store.publish_release(release, now_ms).unwrap().wait_blocking().unwrap();
//! assert_eq!(stored.version, "1.0.0");
//! store.close().unwrap();
//! ```

#![warn(missing_docs)]

pub mod activity;
mod day;
mod error;
mod error_reports;
pub mod event_stats;
pub mod memory;
mod model;
mod month;
mod pending;
pub mod rollup;
pub mod schema;
pub mod sqlite;
pub mod upgrades;

pub use activity::{BreakdownRow, CohortCell, Dimension, DimensionParseError, PeriodCount};
pub use day::{Day, DayParseError, DayRange, Interval, Period};
pub use error::{Cause, StoreError};
pub use error_reports::{
    Aggregate, ErrorGroup, ErrorGroupDetail, GroupTotals, NewErrorReport, ReportRow, ReportStored, StoredErrorReport,
    ValueCount,
};
pub use event_stats::{EventGroup, EventStatRow, HeartbeatPeriod, MetricStat};
pub use memory::MemoryStore;
pub use model::{
    AlertRecord, CatalogData, EventCount, EventsStored, NewAlert, NewEvents, NewPing, NewRelease, RejectionCount,
    Release, RetentionOutcome, VersionConstraint,
};
pub use month::{Month, MonthParseError};
pub use pending::{Pending, Reply};
pub use sqlite::{Durability, SqliteStore, StoreOptions};
pub use upgrades::UpgradePeriod;

/// The storage interface of the collector.
///
/// Writes are queued without blocking: they fail at once with
/// [`StoreError::QueueFull`] when the backend is behind and
/// [`StoreError::Closed`] after [`Store::close`]; otherwise the returned
/// [`Pending`] resolves once the write is durable (or its batch failed).
/// Reads block; call them off async workers.
pub trait Store: Send + Sync + 'static {
    /// Stores a usage ping, counts its signature in the month it was received
    /// in, and counts its dropped fields.
    fn record_ping(&self, ping: NewPing) -> Result<Pending<()>, StoreError>;

    /// Stores events; ids already stored for the product are ignored and
    /// counted as duplicates.
    fn store_events(&self, events: NewEvents) -> Result<Pending<EventsStored>, StoreError>;

    /// Publishes (or republishes) a release; the first release of a product
    /// registers it, as created at `now_ms`.
    fn publish_release(&self, release: NewRelease, now_ms: i64) -> Result<Pending<Release>, StoreError>;

    /// Adds an alert to a registered product ([`StoreError::UnknownProduct`]
    /// otherwise, with nothing written).
    fn add_alert(&self, alert: NewAlert) -> Result<Pending<AlertRecord>, StoreError>;

    /// Removes an alert by id; resolves to whether there was one.
    fn remove_alert(&self, id: i64) -> Result<Pending<bool>, StoreError>;

    /// Sets a service version constraint of a registered product
    /// ([`StoreError::UnknownProduct`] otherwise).
    fn set_versions(&self, constraint: VersionConstraint) -> Result<Pending<()>, StoreError>;

    /// Registers route templates (already validated) for `product`, as
    /// registered at `now_ms`; resolves to how many were new.
    fn add_routes(&self, product: &str, templates: Vec<String>, now_ms: i64) -> Result<Pending<usize>, StoreError>;

    /// Stores an error report once per `(product, report_id)`: a report id
    /// already stored writes nothing and resolves to the stored copy's group
    /// with `duplicate: true`. Dropped fields are counted either way, under
    /// [`NewErrorReport::SOURCE`].
    fn store_error_report(&self, report: NewErrorReport) -> Result<Pending<ReportStored>, StoreError>;

    /// Registers vocabulary words (already validated) for `product`:
    /// `(kind, word)` pairs, as registered at `now_ms`; resolves to how many
    /// were new.
    fn add_words(&self, product: &str, words: Vec<(String, String)>, now_ms: i64)
        -> Result<Pending<usize>, StoreError>;

    /// Deletes raw events received before `cutoff_ms`, adding each to the
    /// roll-ups first (see [`rollup`]), and error reports received before
    /// it (a group whose reports are all gone is gone). Blocking, and long
    /// on a big store.
    fn apply_retention(&self, cutoff_ms: i64) -> Result<RetentionOutcome, StoreError>;

    /// The catalog generation: bumped by every change to products, releases,
    /// alerts or version constraints, by any process using the same store.
    fn catalog_generation(&self) -> Result<u64, StoreError>;

    /// Reads the whole catalog consistently.
    fn load_catalog(&self) -> Result<CatalogData, StoreError>;

    /// The releases of `product`, oldest first by publication order.
    fn releases(&self, product: &str) -> Result<Vec<Release>, StoreError>;

    /// Alerts, of one product or of all, by id.
    fn alerts(&self, product: Option<&str>) -> Result<Vec<AlertRecord>, StoreError>;

    /// Exact number of distinct signatures of `product` seen in `month`.
    fn monthly_active(&self, product: &str, month: Month) -> Result<u64, StoreError>;

    /// Exact distinct active signatures of `product` in each period of
    /// `interval` overlapping `range`, every period included (zero if none),
    /// each counted whole (see [`Interval::periods`]). Signatures whose first
    /// ping in the period was from CI are left out unless `include_ci`. Days
    /// and months are lookups of counts kept at ingest; weeks are unions of
    /// the daily sets (see [`activity`]).
    fn active(
        &self,
        product: &str,
        range: DayRange,
        interval: Interval,
        include_ci: bool,
    ) -> Result<Vec<PeriodCount>, StoreError>;

    /// Exact distinct active signatures of `product` over the whole of
    /// `range` (a rolling 7, 28 or 30 days), CI as in [`Store::active`].
    fn active_in(&self, product: &str, range: DayRange, include_ci: bool) -> Result<u64, StoreError>;

    /// For every day `d` of `range`, in order, the exact distinct active
    /// signatures of `product` in the `window_days` days ending on `d` (a
    /// rolling 7, 28 or 30 days; a window of 0 days holds none), CI as in
    /// [`Store::active`]. Each [`PeriodCount`] names its day; its `new` is
    /// 0 (not counted for windows). The provided method asks
    /// [`Store::active_in`] once per day; a backend may answer it in one
    /// read.
    fn rolling(
        &self,
        product: &str,
        range: DayRange,
        window_days: u32,
        include_ci: bool,
    ) -> Result<Vec<PeriodCount>, StoreError> {
        range
            .days()
            .map(|d| {
                let count = match window_days {
                    0 => 0,
                    w => self.active_in(product, DayRange::new(d.add_days(1 - i64::from(w)), d), include_ci)?,
                };
                Ok(PeriodCount {
                    period: d.to_string(),
                    count,
                    new: 0,
                })
            })
            .collect()
    }

    /// Active signatures of `product` per period (as in [`Store::active`])
    /// and value of `dimension`: version adoption, OS, arch, runtime and CI
    /// vendor breakdowns. Rows with no signatures are left out; rows are
    /// ordered by period, then value.
    fn breakdown(
        &self,
        product: &str,
        dimension: Dimension,
        range: DayRange,
        interval: Interval,
        include_ci: bool,
    ) -> Result<Vec<BreakdownRow>, StoreError>;

    /// Retention of `product`: for each first-seen month from `from` to `to`,
    /// how many of its signatures were active in each month up to `to`,
    /// ordered by cohort then month; empty cells are left out. CI as in
    /// [`Store::active`], by the signature's first ping of the active month.
    fn cohorts(&self, product: &str, from: Month, to: Month, include_ci: bool) -> Result<Vec<CohortCell>, StoreError>;

    /// Upgrades after a notice (see [`upgrades`]): per period of `interval`
    /// overlapping `range` (each whole, every one included), the signatures
    /// of `product` first told `outdated` on a day of the period, and how
    /// many days after that each was first seen on a newer version. CI as
    /// in [`Store::active`], by the notice's ping. Answered from what is
    /// kept at ingest, never from the raw pings.
    fn upgrades(
        &self,
        product: &str,
        range: DayRange,
        interval: Interval,
        include_ci: bool,
    ) -> Result<Vec<UpgradePeriod>, StoreError>;

    /// Rejection counters, of one product or of all.
    fn rejections(&self, product: Option<&str>) -> Result<Vec<RejectionCount>, StoreError>;

    /// Number of stored pings of `product`.
    fn ping_count(&self, product: &str) -> Result<u64, StoreError>;

    /// Number of stored (raw) events of `product`.
    fn event_count(&self, product: &str) -> Result<u64, StoreError>;

    /// The registered route templates of `product`, sorted.
    fn routes(&self, product: &str) -> Result<Vec<String>, StoreError>;

    /// The registered vocabulary words of `product`, as `(kind, word)`
    /// pairs sorted by kind, then word.
    fn words(&self, product: &str) -> Result<Vec<(String, String)>, StoreError>;

    /// Event counts of `kind` for `product`, per month and key: roll-ups of
    /// deleted events plus the raw events still kept. Test events are left
    /// out unless `include_test`.
    fn event_counts(&self, product: &str, kind: &str, include_test: bool) -> Result<Vec<EventCount>, StoreError>;

    /// Command or console events of `product` per period of `interval`
    /// overlapping `range` (each period whole) and value of `group` (command
    /// path, action, route): events, errors and exact distinct
    /// installations (see [`event_stats`]). Test events are left out; rows
    /// with no events are left out; rows are ordered by period, then key.
    /// Answered from roll-ups kept at ingest, never from raw events.
    fn event_stats(
        &self,
        product: &str,
        group: EventGroup,
        range: DayRange,
        interval: Interval,
    ) -> Result<Vec<EventStatRow>, StoreError>;

    /// Server heartbeats of `product` per period of `interval` overlapping
    /// `range` (every period included): distinct instances and the
    /// distribution of each numeric metric over the instances' latest
    /// values in the period (see [`event_stats`]).
    fn heartbeat_stats(
        &self,
        product: &str,
        range: DayRange,
        interval: Interval,
    ) -> Result<Vec<HeartbeatPeriod>, StoreError>;

    /// The error groups of `product`, latest seen first, with their figures
    /// over the reports still kept.
    fn error_groups(&self, product: &str) -> Result<Vec<ErrorGroup>, StoreError>;

    /// One error group of `product` with its latest report, if it has any.
    fn error_group(&self, product: &str, group: &str) -> Result<Option<ErrorGroupDetail>, StoreError>;

    /// Number of stored error reports of `product`.
    fn error_report_count(&self, product: &str) -> Result<u64, StoreError>;

    /// Why the store is degraded, if it is: it still accepts writes but
    /// cannot make them durable where they belong (a remote database is
    /// unreachable and writes wait in a local spill). `/healthz` reports it.
    fn degraded(&self) -> Option<String> {
        None
    }

    /// Rows held in a local spill waiting for the backend's database, for a
    /// backend that has one (`None` for one that writes straight to disk,
    /// such as SQLite). `/metrics` exports it as `sonde_spill_depth`.
    fn spill_depth(&self) -> Option<u64> {
        None
    }

    /// Stops accepting writes, makes everything already queued durable, and
    /// waits for the backend to finish. Blocking; idempotent.
    fn close(&self) -> Result<(), StoreError>;
}
