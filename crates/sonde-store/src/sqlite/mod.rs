//! The embedded SQLite backend: [`SqliteStore`].
//!
//! Durability choices: the journal is WAL and, by default
//! ([`Durability::Machine`]), `synchronous=FULL`, so every commit fsyncs the
//! WAL before the writer acknowledges it; an acknowledged write survives a
//! crash of the process and of the machine. [`Durability::Process`]
//! (`synchronous=NORMAL`) keeps the first guarantee and drops the second. `busy_timeout`
//! lets the CLI write to the same file while a collector runs.

mod first_seen;
mod reads;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot};

use crate::{schema, PendingWrite, Store, StoreError, WriteOp};

/// Most ops committed in one transaction.
pub const MAX_BATCH: usize = 1024;
/// Ops the writer queue holds before [`StoreError::QueueFull`].
pub const QUEUE_CAPACITY: usize = 16 * 1024;
/// The database file's name inside the data directory.
pub const DB_FILE: &str = "sonde.db";
/// How long a connection waits for another process's lock, in milliseconds.
const BUSY_TIMEOUT_MS: u64 = 10_000;

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
    /// BENCHMARKS.md).
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
    // 223-229k events/s in an A/B (BENCHMARKS.md); checks showed no
    // difference beyond the noise.
    conn.pragma_update(None, "page_size", 8192)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", durability.synchronous())?;
    // 32 MiB of page cache for the writer: appends and index tails stay hot.
    conn.pragma_update(None, "cache_size", -32768)?;
    Ok(())
}

pub(crate) struct Msg {
    pub(crate) op: Prepared,
    pub(crate) reply: oneshot::Sender<Result<crate::WriteOutcome, StoreError>>,
}

/// A [`WriteOp`] as the writer thread receives it. Events arrive as rows
/// already serialized on the caller's thread, so the single writer spends its
/// time on SQLite alone (and frees a few strings per event, not a JSON tree).
pub(crate) enum Prepared {
    /// Any op but events, as given.
    Op(WriteOp),
    /// Events of one product, ready to insert.
    Events {
        product: String,
        source: &'static str,
        rows: Vec<EventRow>,
        dropped: Vec<sonde_protocol::ping::Dropped>,
    },
}

/// One event, its fields serialized to JSON.
pub(crate) struct EventRow {
    pub(crate) id: EventId,
    pub(crate) kind: &'static str,
    pub(crate) test: bool,
    pub(crate) occurred_at_ms: Option<i64>,
    pub(crate) received_at_ms: i64,
    pub(crate) fields: String,
}

impl Prepared {
    fn from_op(op: WriteOp) -> Self {
        match op {
            WriteOp::Events {
                product,
                source,
                events,
                dropped,
            } => Prepared::Events {
                product: product.as_str().to_owned(),
                source,
                rows: events
                    .into_iter()
                    .map(|e| EventRow {
                        fields: serde_json::to_string(&e.fields).unwrap_or_else(|_| "{}".into()),
                        id: EventId::new(e.id),
                        kind: e.kind.as_str(),
                        test: e.test,
                        occurred_at_ms: e.occurred_at_ms,
                        received_at_ms: e.received_at_ms,
                    })
                    .collect(),
                dropped,
            },
            other => Prepared::Op(other),
        }
    }
}

/// An event id as stored: the 16 bytes of a UUID (every front door
/// validates ids as UUIDs), or the text as given if it is not one.
pub(crate) enum EventId {
    Uuid([u8; 16]),
    Text(String),
}

impl EventId {
    fn new(id: String) -> Self {
        match uuid_bytes(&id) {
            Some(bytes) => EventId::Uuid(bytes),
            None => EventId::Text(id),
        }
    }
}

impl rusqlite::ToSql for EventId {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            EventId::Uuid(bytes) => bytes.to_sql(),
            EventId::Text(text) => text.to_sql(),
        }
    }
}

/// The 16 bytes of a UUID written in its 8-4-4-4-12 hex layout (either case).
pub(crate) fn uuid_bytes(s: &str) -> Option<[u8; 16]> {
    /// Where each byte's two hex digits start in the 36-character layout.
    const DIGITS_AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let b = s.as_bytes();
    if b.len() != 36 || b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    let mut out = [0u8; 16];
    for (byte, &at) in out.iter_mut().zip(&DIGITS_AT) {
        *byte = nibble(b[at])? << 4 | nibble(b[at + 1])?;
    }
    Some(out)
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
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        let mut conn = Connection::open(&path)?;
        configure_writer(&conn, options.durability)?;
        schema::migrate(&mut conn)?;
        conn.set_prepared_statement_cache_capacity(64);
        let (tx, rx) = mpsc::channel(options.queue_capacity.max(1));
        let commits = Arc::new(AtomicU64::new(0));
        let writer_commits = commits.clone();
        let max_batch = options.max_batch.max(1);
        let handle = std::thread::Builder::new()
            .name("sonde-store-writer".into())
            .spawn(move || writer::run(conn, rx, max_batch, writer_commits))
            .map_err(|e| StoreError::WriteFailed(format!("cannot start the writer thread: {e}")))?;
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

    fn read_conn(&self) -> Result<Connection, StoreError> {
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

    /// Runs `f` on a pooled read-only connection.
    pub(crate) fn with_reader<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.read_conn()?;
        let out = f(&mut conn);
        let mut pool = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < 8 {
            pool.push(conn);
        }
        out
    }
}

impl Store for SqliteStore {
    fn enqueue(&self, op: WriteOp) -> Result<PendingWrite, StoreError> {
        let guard = self.sender.read().unwrap_or_else(|e| e.into_inner());
        let sender = guard.as_ref().ok_or(StoreError::Closed)?;
        let (reply, rx) = oneshot::channel();
        let op = Prepared::from_op(op);
        sender.try_send(Msg { op, reply }).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StoreError::QueueFull,
            mpsc::error::TrySendError::Closed(_) => StoreError::Closed,
        })?;
        Ok(PendingWrite::new(rx))
    }

    fn catalog_generation(&self) -> Result<u64, StoreError> {
        self.with_reader(reads::catalog_generation)
    }

    fn load_catalog(&self) -> Result<crate::CatalogData, StoreError> {
        self.with_reader(reads::load_catalog)
    }

    fn releases(&self, product: &str) -> Result<Vec<crate::Release>, StoreError> {
        self.with_reader(|c| reads::releases(c, Some(product)))
    }

    fn alerts(&self, product: Option<&str>) -> Result<Vec<crate::AlertRecord>, StoreError> {
        self.with_reader(|c| reads::alerts(c, product))
    }

    fn monthly_active(&self, product: &str, month: crate::Month) -> Result<u64, StoreError> {
        self.with_reader(|c| reads::monthly_active(c, product, month))
    }

    fn rejections(&self, product: Option<&str>) -> Result<Vec<crate::RejectionCount>, StoreError> {
        self.with_reader(|c| reads::rejections(c, product))
    }

    fn ping_count(&self, product: &str) -> Result<u64, StoreError> {
        self.with_reader(|c| reads::count(c, "SELECT count(*) FROM pings WHERE product = ?1", product))
    }

    fn event_count(&self, product: &str) -> Result<u64, StoreError> {
        self.with_reader(|c| reads::count(c, "SELECT count(*) FROM events WHERE product = ?1", product))
    }

    fn close(&self) -> Result<(), StoreError> {
        // Dropping the only sender lets the writer drain what is queued and exit.
        self.sender.write().unwrap_or_else(|e| e.into_inner()).take();
        let handle = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle {
            h.join()
                .map_err(|_| StoreError::WriteFailed("the writer thread panicked".into()))?;
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
    fn uuid_layout_to_bytes() {
        let bytes = uuid_bytes("0B3F4C4E-1d2a-4c3b-8f00-0123456789ab").unwrap();
        assert_eq!(
            bytes,
            [0x0b, 0x3f, 0x4c, 0x4e, 0x1d, 0x2a, 0x4c, 0x3b, 0x8f, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab]
        );
        for bad in [
            "",
            "0b3f4c4e1d2a4c3b8f000123456789ab",
            "0b3f4c4e-1d2a-4c3b-8f00-0123456789a",
            "0b3f4c4e-1d2a-4c3b-8f00-0123456789abc",
            "0b3f4c4e-1d2a-4c3b-8f00_0123456789ab",
            "0b3f4c4e-1d2a-4c3b-8f00-0123456789ag",
            "+b3f4c4e-1d2a-4c3b-8f00-0123456789ab",
        ] {
            assert_eq!(uuid_bytes(bad), None, "{bad:?}");
        }
    }

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
}
