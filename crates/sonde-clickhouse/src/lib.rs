//! Sonde's ClickHouse store: [`ClickHouseStore`] implements
//! [`sonde_store::Store`] over ClickHouse's HTTP interface, so many
//! stateless collectors can run in front of one ClickHouse (or a cluster)
//! and give the same answers as SQLite on the same data.
//!
//! - [`client`]: HTTP, `JSONEachRow` in and out, [`lit`] for the values a
//!   query must name (ClickHouse 18.16 has no query parameters).
//! - [`schema`]: versioned, idempotent migrations run at open.
//! - [`writer`]: the batching thread: one insert per table per batch.
//! - [`spill`]: the bounded SQLite file writes wait in while ClickHouse is
//!   down; drained in order when it is back.
//! - `catalog`, `reads`, `retention`: the catalog, the reads (analytics in
//!   one module, easy to extend) and retention.
//!
//! # Exactly once
//!
//! Every row has a deterministic id: a ping gets one when its write is
//! queued, an event has its own, an error report its report id, a
//! rejection row the id of the write that dropped the fields. The same row
//! can reach ClickHouse twice (a batch retried, a spill replayed after a
//! crash between the insert and the spill's delete, two collectors sent the
//! same event): reads count ids, never rows (`uniqExact(id)`, `GROUP BY id`,
//! distinct signatures), so a duplicate changes no answer. A write's
//! [`sonde_store::Pending`] resolves once ClickHouse accepted the insert
//! holding it, or once the spill has it on disk.

mod catalog;
pub mod client;
mod error;
pub mod known_ids;
mod reads;
mod retention;
pub mod schema;
mod seq;
pub mod spill;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use sonde_store::{
    AlertRecord, BreakdownRow, CatalogData, CohortCell, DayRange, Dimension, ErrorGroup, ErrorGroupDetail, EventCount,
    EventsStored, Interval, Month, NewAlert, NewErrorReport, NewEvents, NewPing, NewRelease, Pending, PeriodCount,
    RejectionCount, Release, ReportStored, RetentionOutcome, Store, StoreError, UpgradePeriod, VersionConstraint,
};

pub use client::{lit, Client, Endpoint};
pub use error::ClickHouseError;
pub use writer::WriterOptions;

/// How the store runs.
#[derive(Debug, Clone)]
pub struct ClickHouseOptions {
    /// Writes queued before new ones are refused with [`StoreError::QueueFull`].
    pub queue_capacity: usize,
    /// Largest size of the spill file's bodies before writes are refused (256 MiB).
    pub spill_max_bytes: u64,
    /// How long one HTTP request may take (30 s).
    pub request_timeout: Duration,
    /// Batching.
    pub writer: WriterOptions,
}

impl Default for ClickHouseOptions {
    fn default() -> Self {
        ClickHouseOptions {
            queue_capacity: 65_536,
            spill_max_bytes: 256 << 20,
            request_timeout: Duration::from_secs(30),
            writer: WriterOptions::default(),
        }
    }
}

/// The ClickHouse store. See the crate docs.
#[derive(Debug)]
pub struct ClickHouseStore {
    client: Client,
    version: (u32, u32),
    tx: Mutex<Option<SyncSender<writer::Op>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    shared: Arc<writer::Shared>,
}

impl std::fmt::Debug for writer::Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            writer::Op::Ping(..) => "Ping",
            writer::Op::Events(..) => "Events",
            writer::Op::Report(..) => "Report",
            writer::Op::Catalog(_) => "Catalog",
        })
    }
}

/// A catalog change ClickHouse did not take, said as such: catalog changes
/// are not spilled (an administrator is there to retry), so the answer
/// tells them to retry once ClickHouse is back.
fn catalog_unavailable(e: StoreError) -> StoreError {
    match e {
        StoreError::Write { source } | StoreError::Read { source } => StoreError::CatalogUnavailable {
            backend: "ClickHouse",
            source,
        },
        e => e,
    }
}

fn read<T>(r: Result<T, ClickHouseError>) -> Result<T, StoreError> {
    r.map_err(StoreError::read)
}

impl ClickHouseStore {
    /// Opens the store at `url` (`clickhouse://host:port/database`): probes
    /// the server, migrates the schema, opens the spill in `data_dir` and
    /// starts the writer.
    pub fn open(url: &str, data_dir: &Path, options: ClickHouseOptions) -> Result<Self, StoreError> {
        let open_err = |e: ClickHouseError| StoreError::Open {
            path: PathBuf::from(url),
            source: Arc::new(e),
        };
        let endpoint = Endpoint::parse(url).map_err(open_err)?;
        let mut client = Client::new(endpoint, options.request_timeout);
        let version = client.version().map_err(open_err)?;
        for shard in client.shards() {
            schema::migrate(&shard).map_err(|e| match e {
                schema::MigrateError::TooNew { found, supported } => StoreError::SchemaTooNew {
                    found: i64::from(found),
                    supported: i64::from(supported),
                },
                e => StoreError::Migrate { source: Arc::new(e) },
            })?;
        }
        // A read's GROUP BY over every signature of a long range can pass
        // the server's memory limit per query: it spills to disk instead.
        let limit = client
            .count("SELECT toUInt64(value) AS n FROM system.settings WHERE name = 'max_memory_usage'")
            .map_err(open_err)?;
        if limit > 0 {
            client.spill_group_by_past(limit / 2);
        }
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let spill = spill::Spill::open(data_dir, options.spill_max_bytes).map_err(|e| StoreError::Open {
            path: data_dir.join(spill::FILE_NAME),
            source: Arc::new(e),
        })?;
        let shared = Arc::new(writer::Shared::default());
        shared.publish(&spill);
        let (tx, rx) = sync_channel(options.queue_capacity.max(1));
        let handle = {
            let (client, shared, wopts) = (client.clone(), shared.clone(), options.writer);
            std::thread::Builder::new()
                .name("sonde-clickhouse-writer".into())
                .spawn(move || writer::run(client, spill, rx, shared, wopts))
                .map_err(|source| StoreError::StartWriter { source })?
        };
        tracing::info!(server = %format!("{}.{}", version.0, version.1), "ClickHouse store open");
        Ok(ClickHouseStore {
            client,
            version,
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(handle)),
            shared,
        })
    }

    /// The server's version, `(major, minor)`, probed at open.
    pub fn server_version(&self) -> (u32, u32) {
        self.version
    }

    /// How many insert bodies wait in the spill.
    pub fn spilled(&self) -> u64 {
        self.shared.spilled.load(Ordering::Acquire)
    }

    /// How many rows those bodies hold.
    pub fn spilled_rows(&self) -> u64 {
        self.shared.spilled_rows.load(Ordering::Acquire)
    }

    fn send(&self, op: writer::Op) -> Result<(), StoreError> {
        let guard = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        let tx = guard.as_ref().ok_or(StoreError::Closed)?;
        tx.try_send(op).map_err(|e| match e {
            TrySendError::Full(_) => StoreError::QueueFull,
            TrySendError::Disconnected(_) => StoreError::Closed,
        })
    }

    /// Queues a catalog write `f`, run on the writer thread in order.
    fn catalog<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Client) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<Pending<T>, StoreError> {
        let (reply, pending) = Pending::channel();
        self.send(writer::Op::Catalog(Box::new(move |c| {
            let _ = reply.send(f(c).map_err(catalog_unavailable));
        })))?;
        Ok(pending)
    }
}

impl Store for ClickHouseStore {
    fn record_ping(&self, ping: NewPing) -> Result<Pending<()>, StoreError> {
        let (reply, pending) = Pending::channel();
        self.send(writer::Op::Ping(ping, reply))?;
        Ok(pending)
    }

    fn store_events(&self, events: NewEvents) -> Result<Pending<EventsStored>, StoreError> {
        let (reply, pending) = Pending::channel();
        self.send(writer::Op::Events(events, reply))?;
        Ok(pending)
    }

    fn publish_release(&self, release: NewRelease, now_ms: i64) -> Result<Pending<Release>, StoreError> {
        self.catalog(move |c| catalog::publish_release(c, release, now_ms))
    }

    fn add_alert(&self, alert: NewAlert) -> Result<Pending<AlertRecord>, StoreError> {
        self.catalog(move |c| catalog::add_alert(c, alert))
    }

    fn remove_alert(&self, id: i64) -> Result<Pending<bool>, StoreError> {
        self.catalog(move |c| catalog::remove_alert(c, id))
    }

    fn set_versions(&self, constraint: VersionConstraint) -> Result<Pending<()>, StoreError> {
        self.catalog(move |c| catalog::set_versions(c, constraint))
    }

    fn add_routes(&self, product: &str, templates: Vec<String>, now_ms: i64) -> Result<Pending<usize>, StoreError> {
        let product = product.to_owned();
        self.catalog(move |c| catalog::add_routes(c, &product, templates, now_ms))
    }

    fn store_error_report(&self, report: NewErrorReport) -> Result<Pending<ReportStored>, StoreError> {
        let (reply, pending) = Pending::channel();
        self.send(writer::Op::Report(Box::new(report), reply))?;
        Ok(pending)
    }

    fn add_words(
        &self,
        product: &str,
        words: Vec<(String, String)>,
        now_ms: i64,
    ) -> Result<Pending<usize>, StoreError> {
        let product = product.to_owned();
        self.catalog(move |c| catalog::add_words(c, &product, words, now_ms))
    }

    fn apply_retention(&self, cutoff_ms: i64) -> Result<RetentionOutcome, StoreError> {
        if self.tx.lock().unwrap_or_else(|e| e.into_inner()).is_none() {
            return Err(StoreError::Closed);
        }
        retention::apply(&self.client, cutoff_ms).map_err(StoreError::write)
    }

    fn catalog_generation(&self) -> Result<u64, StoreError> {
        read(catalog::generation(&self.client))
    }

    fn load_catalog(&self) -> Result<CatalogData, StoreError> {
        read(catalog::load(&self.client))
    }

    fn releases(&self, product: &str) -> Result<Vec<Release>, StoreError> {
        read(catalog::releases(&self.client, Some(product)))
    }

    fn alerts(&self, product: Option<&str>) -> Result<Vec<AlertRecord>, StoreError> {
        read(catalog::alerts(&self.client, product))
    }

    fn monthly_active(&self, product: &str, month: Month) -> Result<u64, StoreError> {
        read(reads::monthly_active(&self.client, product, month))
    }

    fn active(
        &self,
        product: &str,
        range: DayRange,
        interval: Interval,
        include_ci: bool,
    ) -> Result<Vec<PeriodCount>, StoreError> {
        read(reads::active(&self.client, product, range, interval, include_ci))
    }

    fn active_in(&self, product: &str, range: DayRange, include_ci: bool) -> Result<u64, StoreError> {
        read(reads::active_in(&self.client, product, range, include_ci))
    }

    fn rolling(
        &self,
        product: &str,
        range: DayRange,
        window_days: u32,
        include_ci: bool,
    ) -> Result<Vec<PeriodCount>, StoreError> {
        read(reads::rolling(&self.client, product, range, window_days, include_ci))
    }

    fn breakdown(
        &self,
        product: &str,
        dimension: Dimension,
        range: DayRange,
        interval: Interval,
        include_ci: bool,
    ) -> Result<Vec<BreakdownRow>, StoreError> {
        read(reads::breakdown(
            &self.client,
            product,
            dimension,
            range,
            interval,
            include_ci,
        ))
    }

    fn cohorts(&self, product: &str, from: Month, to: Month, include_ci: bool) -> Result<Vec<CohortCell>, StoreError> {
        read(reads::cohorts(&self.client, product, from, to, include_ci))
    }

    fn upgrades(
        &self,
        product: &str,
        range: DayRange,
        interval: Interval,
        include_ci: bool,
    ) -> Result<Vec<UpgradePeriod>, StoreError> {
        read(reads::upgrades(&self.client, product, range, interval, include_ci))
    }

    fn rejections(&self, product: Option<&str>) -> Result<Vec<RejectionCount>, StoreError> {
        read(reads::rejections(&self.client, product))
    }

    fn ping_count(&self, product: &str) -> Result<u64, StoreError> {
        read(reads::ping_count(&self.client, product))
    }

    fn event_count(&self, product: &str) -> Result<u64, StoreError> {
        read(reads::event_count(&self.client, product))
    }

    fn routes(&self, product: &str) -> Result<Vec<String>, StoreError> {
        let keys = read(catalog::keys(&self.client, "routes", product, &["template"]))?;
        Ok(keys.into_iter().filter_map(|k| k.into_iter().next()).collect())
    }

    fn words(&self, product: &str) -> Result<Vec<(String, String)>, StoreError> {
        let keys = read(catalog::keys(&self.client, "words", product, &["kind", "word"]))?;
        Ok(keys
            .into_iter()
            .map(|k| {
                let mut k = k.into_iter();
                (k.next().unwrap_or_default(), k.next().unwrap_or_default())
            })
            .collect())
    }

    fn event_counts(&self, product: &str, kind: &str, include_test: bool) -> Result<Vec<EventCount>, StoreError> {
        read(reads::event_counts(&self.client, product, kind, include_test))
    }

    fn event_stats(
        &self,
        product: &str,
        group: sonde_store::EventGroup,
        range: DayRange,
        interval: Interval,
    ) -> Result<Vec<sonde_store::EventStatRow>, StoreError> {
        let kind = match group {
            sonde_store::EventGroup::Command => "command",
            sonde_store::EventGroup::ConsoleAction | sonde_store::EventGroup::ConsoleRoute => "console",
        };
        let events = read(reads::events_in(&self.client, product, &[kind], range, interval))?;
        Ok(events.event_stats(group, interval.periods(range)))
    }

    fn heartbeat_stats(
        &self,
        product: &str,
        range: DayRange,
        interval: Interval,
    ) -> Result<Vec<sonde_store::HeartbeatPeriod>, StoreError> {
        let events = read(reads::events_in(&self.client, product, &["heartbeat"], range, interval))?;
        Ok(events.heartbeat_stats(interval.periods(range)))
    }

    fn error_groups(&self, product: &str) -> Result<Vec<ErrorGroup>, StoreError> {
        let groups = read(reads::error_groups(&self.client, product, None))?;
        Ok(groups.into_iter().map(|d| d.group).collect())
    }

    fn error_group(&self, product: &str, group: &str) -> Result<Option<ErrorGroupDetail>, StoreError> {
        Ok(read(reads::error_groups(&self.client, product, Some(group)))?.pop())
    }

    fn error_report_count(&self, product: &str) -> Result<u64, StoreError> {
        read(reads::error_report_count(&self.client, product))
    }

    fn degraded(&self) -> Option<String> {
        let spilled = self.spilled();
        (spilled > 0).then(|| format!("ClickHouse unavailable: {spilled} inserts wait in the spill"))
    }

    fn spill_depth(&self) -> Option<u64> {
        Some(self.spilled_rows())
    }

    fn close(&self) -> Result<(), StoreError> {
        drop(self.tx.lock().unwrap_or_else(|e| e.into_inner()).take());
        let handle = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle {
            h.join().map_err(|_| StoreError::WriterStopped)?;
        }
        Ok(())
    }
}

impl Drop for ClickHouseStore {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
