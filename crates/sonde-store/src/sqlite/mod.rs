//! The embedded SQLite backend: [`SqliteStore`].
//!
//! Durability choices: the journal is WAL and, by default
//! ([`Durability::Machine`]), `synchronous=FULL`, so every commit fsyncs the
//! WAL before the writer acknowledges it; an acknowledged write survives a
//! crash of the process and of the machine. [`Durability::Process`]
//! (`synchronous=NORMAL`) keeps the first guarantee and drops the second. `busy_timeout`
//! lets the CLI write to the same file while a collector runs.
//!
//! Every write but retention goes through the writer thread's queue
//! (`queue.rs`, `writer.rs`). A retention pass deletes in chunks, each its
//! own transaction, on a connection of its own (`retention.rs`), so a long
//! pass never holds up the ingest batches (`busy_timeout` serialises the
//! two). Reads (`reads.rs`) run on pooled read-only connections.

pub(crate) mod backfill;
mod cohorts;
pub(crate) mod error_groups;
pub(crate) mod event_stats;
mod first_seen;
pub(crate) mod last_seen;
mod notices;
pub mod private;
mod queue;
mod reads;
mod retention;
pub use retention::RETENTION_CHUNK;
pub use writer::{insert_events_sql, EVENT_CHUNKS};
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::mpsc;

use self::queue::{queue, EventRows, Msg, ReportRow, Routes, Words};
use crate::{
    schema, AlertRecord, BreakdownRow, CatalogData, CohortCell, DayRange, Dimension, ErrorGroup, ErrorGroupDetail,
    EventCount, EventGroup, EventStatRow, EventsStored, HeartbeatPeriod, Interval, Month, NewAlert, NewErrorReport,
    NewEvents, NewPing, NewRelease, Pending, PeriodCount, RejectionCount, Release, ReportStored, RetentionOutcome,
    Store, StoreError, VersionConstraint,
};

/// Most ops committed in one transaction.
pub const MAX_BATCH: usize = 1024;
/// Ops the writer queue holds before [`StoreError::QueueFull`].
pub const QUEUE_CAPACITY: usize = 16 * 1024;
/// The database file's name inside the data directory.
pub const DB_FILE: &str = "sonde.db";
/// How long a connection waits for another process's lock, in milliseconds.
pub(crate) const BUSY_TIMEOUT_MS: u64 = 10_000;

/// Tuning of a [`SqliteStore`]; the defaults suit a collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// Ops the writer queue holds before [`StoreError::QueueFull`].
    pub queue_capacity: usize,
    /// Most ops committed in one transaction.
    pub max_batch: usize,
    /// What an acknowledged write survives.
    pub durability: Durability,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            queue_capacity: QUEUE_CAPACITY,
            max_batch: MAX_BATCH,
            durability: Durability::default(),
        }
    }
}

/// What an acknowledged write survives. Either way a write is acknowledged
/// only after its batch has committed to the WAL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// A crash of the collector process and of the machine (power loss, kernel
    /// panic): every commit fsyncs the WAL (`synchronous=FULL`). The default.
    #[default]
    Machine,
    /// A crash of the collector process, not of the machine: commits are
    /// written to the WAL but not fsynced (`synchronous=NORMAL`); the OS may
    /// lose the last commits on power loss. Cheaper per commit (see
    /// bench/runs/2026-11-22/check.md).
    Process,
}

impl Durability {
    /// The `PRAGMA synchronous` value for this level.
    pub fn synchronous(self) -> &'static str {
        match self {
            Durability::Machine => "FULL",
            Durability::Process => "NORMAL",
        }
    }
}

/// Applies the writer connection's settings.
fn configure_writer(conn: &Connection, durability: Durability) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
    // 8 KiB pages for a new file (an existing one keeps its own; this is a
    // no-op there): half the WAL frames, `pwrite`s and B-tree splits of 4 KiB
    // pages for the same rows. Batched event ingestion went from 191-202k to
    // 223-229k events/s in an A/B (bench/runs/2026-11-22/ingest.md); checks showed no
    // difference beyond the noise.
    conn.pragma_update(None, "page_size", 8192)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", durability.synchronous())?;
    // 32 MiB of page cache for the writer: appends and index tails stay hot.
    conn.pragma_update(None, "cache_size", -32768)?;
    Ok(())
}

/// One SQLite file in a data directory, one writer thread, read-only readers.
pub struct SqliteStore {
    path: PathBuf,
    sender: RwLock<Option<mpsc::Sender<Msg>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
    commits: Arc<AtomicU64>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) `<data_dir>/sonde.db` and starts the writer thread.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(data_dir, StoreOptions::default())
    }

    /// Opens with explicit [`StoreOptions`].
    pub fn open_with(data_dir: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        private::create_dir(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        private::prepare_db_file(&path).map_err(|source| StoreError::DataDir {
            path: path.clone(),
            source,
        })?;
        let open_failed = |e: rusqlite::Error| StoreError::Open {
            path: path.clone(),
            source: Arc::new(e),
        };
        let mut conn = Connection::open(&path).map_err(open_failed)?;
        configure_writer(&conn, options.durability).map_err(open_failed)?;
        schema::migrate(&mut conn)?;
        conn.set_prepared_statement_cache_capacity(64);
        let (tx, rx) = mpsc::channel(options.queue_capacity.max(1));
        let commits = Arc::new(AtomicU64::new(0));
        let writer_commits = commits.clone();
        let max_batch = options.max_batch.max(1);
        let handle = std::thread::Builder::new()
            .name("sonde-store-writer".into())
            .spawn(move || writer::run(conn, rx, max_batch, writer_commits))
            .map_err(|source| StoreError::StartWriter { source })?;
        Ok(SqliteStore {
            path,
            sender: RwLock::new(Some(tx)),
            writer: Mutex::new(Some(handle)),
            readers: Mutex::new(Vec::new()),
            commits,
        })
    }

    /// How many batches the writer has committed since open (each batch is one
    /// transaction and one fsync).
    pub fn committed_batches(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read_conn(&self) -> rusqlite::Result<Connection> {
        if let Some(c) = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(c);
        }
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        c.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
        Ok(c)
    }

    /// Runs `f` on a pooled read-only connection; any failure is a
    /// [`StoreError::Read`].
    fn with_reader<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let mut conn = self.read_conn().map_err(StoreError::read)?;
        let out = f(&mut conn);
        let mut pool = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < 8 {
            pool.push(conn);
        }
        out.map_err(StoreError::read)
    }

    /// Hands `msg` to the writer without blocking.
    fn send(&self, msg: Msg) -> Result<(), StoreError> {
        let guard = self.sender.read().unwrap_or_else(|e| e.into_inner());
        let sender = guard.as_ref().ok_or(StoreError::Closed)?;
        sender.try_send(msg).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StoreError::QueueFull,
            mpsc::error::TrySendError::Closed(_) => StoreError::Closed,
        })
    }

    /// Queues `op` as the [`Msg`] variant `wrap` makes.
    fn enqueue<P, T>(&self, op: P, wrap: impl FnOnce(queue::Slot<P, T>) -> Msg) -> Result<Pending<T>, StoreError> {
        let (msg, pending) = queue(op, wrap);
        self.send(msg)?;
        Ok(pending)
    }
}

impl Store for SqliteStore {
    fn record_ping(&self, ping: NewPing) -> Result<Pending<()>, StoreError> {
        self.enqueue(ping, Msg::Ping)
    }

    fn store_events(&self, events: NewEvents) -> Result<Pending<EventsStored>, StoreError> {
        self.enqueue(EventRows::new(events), Msg::Events)
    }

    fn publish_release(&self, release: NewRelease, now_ms: i64) -> Result<Pending<Release>, StoreError> {
        self.enqueue((release, now_ms), Msg::Release)
    }

    fn add_alert(&self, alert: NewAlert) -> Result<Pending<AlertRecord>, StoreError> {
        self.enqueue(alert, Msg::AddAlert)
    }

    fn remove_alert(&self, id: i64) -> Result<Pending<bool>, StoreError> {
        self.enqueue(id, Msg::RemoveAlert)
    }

    fn set_versions(&self, constraint: VersionConstraint) -> Result<Pending<()>, StoreError> {
        self.enqueue(constraint, Msg::Versions)
    }

    fn add_routes(&self, product: &str, templates: Vec<String>, now_ms: i64) -> Result<Pending<usize>, StoreError> {
        let routes = Routes {
            product: product.to_owned(),
            templates,
            now_ms,
        };
        self.enqueue(routes, Msg::Routes)
    }

    fn store_error_report(&self, report: NewErrorReport) -> Result<Pending<ReportStored>, StoreError> {
        self.enqueue(ReportRow::new(report), Msg::ErrorReport)
    }

    fn add_words(
        &self,
        product: &str,
        words: Vec<(String, String)>,
        now_ms: i64,
    ) -> Result<Pending<usize>, StoreError> {
        let words = Words {
            product: product.to_owned(),
            words,
            now_ms,
        };
        self.enqueue(words, Msg::Words)
    }

    fn apply_retention(&self, cutoff_ms: i64) -> Result<RetentionOutcome, StoreError> {
        if self.sender.read().unwrap_or_else(|e| e.into_inner()).is_none() {
            return Err(StoreError::Closed);
        }
        retention::run(&self.path, cutoff_ms)
    }

    fn catalog_generation(&self) -> Result<u64, StoreError> {
        self.with_reader(|c| reads::catalog_generation(c))
    }

    fn load_catalog(&self) -> Result<CatalogData, StoreError> {
        self.with_reader(reads::load_catalog)
    }

    fn releases(&self, product: &str) -> Result<Vec<Release>, StoreError> {
        self.with_reader(|c| reads::releases(c, Some(product)))
    }

    fn alerts(&self, product: Option<&str>) -> Result<Vec<AlertRecord>, StoreError> {
        self.with_reader(|c| reads::alerts(c, product))
    }

    fn monthly_active(&self, product: &str, month: Month) -> Result<u64, StoreError> {
        self.with_reader(|c| reads::monthly_active(c, product, month))
    }

    fn active(
        &self,
        product: &str,
        range: DayRange,
        interval: Interval,
        include_ci: bool,
    ) -> Result<Vec<PeriodCount>, StoreError> {
        self.with_reader(|c| reads::active(c, product, range, interval, include_ci))
    }

    fn upgrades(
        &self,
        product: &str,
        range: DayRange,
        interval: Interval,
        include_ci: bool,
    ) -> Result<Vec<crate::UpgradePeriod>, StoreError> {
        self.with_reader(|c| notices::read(c, product, range, interval, include_ci))
    }

    fn active_in(&self, product: &str, range: DayRange, include_ci: bool) -> Result<u64, StoreError> {
        self.with_reader(|c| reads::active_in(c, product, range, include_ci))
    }

    fn rolling(
        &self,
        product: &str,
        range: DayRange,
        window_days: u32,
        include_ci: bool,
    ) -> Result<Vec<PeriodCount>, StoreError> {
        self.with_reader(|c| reads::rolling(c, product, range, window_days, include_ci))
    }

    fn breakdown(
        &self,
        product: &str,
        dimension: Dimension,
        range: DayRange,
        interval: Interval,
        include_ci: bool,
    ) -> Result<Vec<BreakdownRow>, StoreError> {
        self.with_reader(|c| reads::breakdown(c, product, dimension, range, interval, include_ci))
    }

    fn cohorts(&self, product: &str, from: Month, to: Month, include_ci: bool) -> Result<Vec<CohortCell>, StoreError> {
        self.with_reader(|c| reads::cohorts(c, product, from, to, include_ci))
    }

    fn rejections(&self, product: Option<&str>) -> Result<Vec<RejectionCount>, StoreError> {
        self.with_reader(|c| reads::rejections(c, product))
    }

    fn ping_count(&self, product: &str) -> Result<u64, StoreError> {
        self.with_reader(|c| reads::count(c, "SELECT count(*) FROM pings WHERE product = ?1", product))
    }

    fn event_count(&self, product: &str) -> Result<u64, StoreError> {
        self.with_reader(|c| reads::count(c, "SELECT count(*) FROM events WHERE product = ?1", product))
    }

    fn routes(&self, product: &str) -> Result<Vec<String>, StoreError> {
        self.with_reader(|c| reads::routes(c, product))
    }

    fn words(&self, product: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.with_reader(|c| reads::words(c, product))
    }

    fn event_counts(&self, product: &str, kind: &str, include_test: bool) -> Result<Vec<EventCount>, StoreError> {
        self.with_reader(|c| reads::event_counts(c, product, kind, include_test))
    }

    fn event_stats(
        &self,
        product: &str,
        group: EventGroup,
        range: DayRange,
        interval: Interval,
    ) -> Result<Vec<EventStatRow>, StoreError> {
        self.with_reader(|c| event_stats::event_stats(c, product, group, range, interval))
    }

    fn heartbeat_stats(
        &self,
        product: &str,
        range: DayRange,
        interval: Interval,
    ) -> Result<Vec<HeartbeatPeriod>, StoreError> {
        self.with_reader(|c| event_stats::heartbeats(c, product, range, interval))
    }

    fn error_groups(&self, product: &str) -> Result<Vec<ErrorGroup>, StoreError> {
        self.with_reader(|c| reads::error_groups(c, product, None))
            .map(|groups| groups.into_iter().map(|d| d.group).collect())
    }

    fn error_group(&self, product: &str, group: &str) -> Result<Option<ErrorGroupDetail>, StoreError> {
        self.with_reader(|c| reads::error_groups(c, product, Some(group)))
            .map(|mut groups| groups.pop())
    }

    fn error_report_count(&self, product: &str) -> Result<u64, StoreError> {
        self.with_reader(|c| reads::count(c, "SELECT count(*) FROM error_reports WHERE product = ?1", product))
    }

    fn close(&self) -> Result<(), StoreError> {
        // Dropping the only sender lets the writer drain what is queued and exit.
        self.sender.write().unwrap_or_else(|e| e.into_inner()).take();
        let handle = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle {
            h.join().map_err(|_| StoreError::WriterStopped)?;
        }
        Ok(())
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durability_sets_the_writers_synchronous_mode() {
        for (durability, expected) in [(Durability::Machine, 2), (Durability::Process, 1)] {
            let dir = tempfile::tempdir().unwrap();
            let conn = Connection::open(dir.path().join("t.db")).unwrap();
            configure_writer(&conn, durability).unwrap();
            let mode: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
            assert_eq!(mode, expected, "{durability:?}");
            let journal: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
            assert_eq!(journal, "wal");
        }
    }

    fn ping(signature: u32, day: &str) -> NewPing {
        NewPing {
            ping: sonde_protocol::UsagePing {
                product: sonde_protocol::ProductName::parse("p").unwrap(),
                version: Some("1.0.0".into()),
                os: None,
                arch: None,
                runtime_version: None,
                signature: Some(format!("{signature:08x}-0000-4000-8000-000000000000")),
                ci: Some(false),
                ci_name: None,
                client_family: sonde_protocol::ClientFamily::GoCheckpoint,
                project_hash: None,
                cli_path_hash: None,
                received_at_ms: day.parse::<crate::Day>().unwrap().start_ms() + 1,
            },
            source: "check",
            dropped: Vec::new(),
            told_outdated: false,
        }
    }

    /// Ranges of up to 32 days are answered from the gap counts, longer
    /// ones and ranges near a ping that came out of order are not.
    #[test]
    fn short_ranges_are_read_from_the_gap_counts() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        // Signature 1 on 1 and 20 October, 2 on 10 October, 3 on 1 and 3 November.
        for (s, day) in [
            (1, "2026-10-01"),
            (2, "2026-10-10"),
            (1, "2026-10-20"),
            (3, "2026-11-01"),
            (3, "2026-11-03"),
        ] {
            store.record_ping(ping(s, day)).unwrap().wait_blocking().unwrap();
        }
        let range = |a: &str, b: &str| DayRange::new(a.parse().unwrap(), b.parse().unwrap());
        let gaps = |r: DayRange| store.with_reader(|c| reads::gaps(c, "p", r, false)).unwrap();
        assert_eq!(gaps(range("2026-10-01", "2026-10-20")), Some(2));
        assert_eq!(gaps(range("2026-10-02", "2026-10-20")), Some(2));
        assert_eq!(gaps(range("2026-10-11", "2026-11-03")), Some(2));
        assert_eq!(gaps(range("2026-10-03", "2026-11-03")), Some(3));
        assert_eq!(gaps(range("2026-10-02", "2026-11-03")), None, "33 days");
        assert_eq!(
            store.active_in("p", range("2026-10-01", "2026-11-03"), false).unwrap(),
            3
        );
        // Signature 2 again on 5 October, before its latest day.
        store
            .record_ping(ping(2, "2026-10-05"))
            .unwrap()
            .wait_blocking()
            .unwrap();
        assert_eq!(gaps(range("2026-10-01", "2026-10-20")), None);
        assert_eq!(
            gaps(range("2026-11-05", "2026-11-30")),
            None,
            "the out-of-order day is in the horizon before"
        );
        assert_eq!(gaps(range("2026-11-06", "2026-11-30")), Some(0));
        assert_eq!(
            store.active_in("p", range("2026-10-01", "2026-10-20"), false).unwrap(),
            2
        );
    }
}
