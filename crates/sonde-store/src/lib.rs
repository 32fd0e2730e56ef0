//! Storage for the Sonde collector.
//!
//! [`Store`] is the interface every backend implements; [`SqliteStore`] is the
//! embedded default: one SQLite file in the data directory, WAL journal,
//! `synchronous=FULL`, and one writer thread that owns the only write
//! connection. Writers queue a [`WriteOp`]; the writer drains whatever is
//! queued (up to [`sqlite::MAX_BATCH`] ops) into one transaction, commits, and
//! only then acknowledges every op of the batch (group commit). A caller that
//! got `Ok` from [`PendingWrite::wait`] therefore knows its write is on disk.
//!
//! Reads (catalog, stats) use separate read-only connections and never wait on
//! the writer.
//!
//! ```no_run
//! use sonde_store::{SqliteStore, Store, WriteOp, NewRelease};
//! let store = SqliteStore::open("./sonde-data".as_ref()).unwrap();
//! let pending = store
//!     .enqueue(WriteOp::PublishRelease(NewRelease { product: "demo".into(), version: "1.0.0".into(), ..Default::default() }))
//!     .unwrap();
//! pending.wait_blocking().unwrap();
//! store.close().unwrap();
//! ```

#![warn(missing_docs)]

mod error;
pub mod events_admin;
mod model;
mod month;
pub mod schema;
pub mod sqlite;

pub use error::StoreError;
pub use events_admin::{EventAdmin, EventCount, RetentionOutcome};
pub use model::{
    AlertRecord, CatalogData, NewAlert, NewRelease, RejectionCount, Release, VersionConstraint, WriteOp, WriteOutcome,
};
pub use month::{Month, MonthParseError};
pub use sqlite::{Durability, SqliteStore, StoreOptions};

use tokio::sync::oneshot;

/// The storage interface of the collector. A backend must make a write
/// durable before [`PendingWrite`] resolves to `Ok`.
pub trait Store: Send + Sync + 'static {
    /// Queues a write without blocking. Fails with [`StoreError::QueueFull`]
    /// when the writer is behind, and [`StoreError::Closed`] after [`Store::close`].
    fn enqueue(&self, op: WriteOp) -> Result<PendingWrite, StoreError>;

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

    /// Rejection counters, of one product or of all.
    fn rejections(&self, product: Option<&str>) -> Result<Vec<RejectionCount>, StoreError>;

    /// Number of stored pings of `product`.
    fn ping_count(&self, product: &str) -> Result<u64, StoreError>;

    /// Number of stored events of `product`.
    fn event_count(&self, product: &str) -> Result<u64, StoreError>;

    /// Stops accepting writes, commits everything already queued, and waits
    /// for the writer to finish. Blocking; idempotent.
    fn close(&self) -> Result<(), StoreError>;
}

/// A queued write; resolves once its batch has committed (or failed).
#[derive(Debug)]
pub struct PendingWrite {
    rx: oneshot::Receiver<Result<WriteOutcome, StoreError>>,
}

impl PendingWrite {
    /// Wraps the receiving end of a backend's acknowledgement.
    pub fn new(rx: oneshot::Receiver<Result<WriteOutcome, StoreError>>) -> Self {
        Self { rx }
    }

    /// Waits for the commit.
    pub async fn wait(self) -> Result<WriteOutcome, StoreError> {
        self.rx.await.unwrap_or(Err(StoreError::Closed))
    }

    /// The outcome if the batch has already been answered, without waiting.
    pub fn try_wait(&mut self) -> Option<Result<WriteOutcome, StoreError>> {
        match self.rx.try_recv() {
            Ok(r) => Some(r),
            Err(oneshot::error::TryRecvError::Empty) => None,
            Err(oneshot::error::TryRecvError::Closed) => Some(Err(StoreError::Closed)),
        }
    }

    /// Waits for the commit, blocking the thread. Do not call inside an async runtime.
    pub fn wait_blocking(self) -> Result<WriteOutcome, StoreError> {
        self.rx.blocking_recv().unwrap_or(Err(StoreError::Closed))
    }
}

/// Milliseconds since the Unix epoch, by the system clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
