//! The store's error type: one variant per way a store operation can fail.

use std::path::PathBuf;
use std::sync::Arc;

/// The underlying cause of a failed read or write, whatever the backend
/// (a SQLite error, an HTTP error of a remote database). Shared, because a
/// failed batch reports the same cause to every write it held.
pub type Cause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in a [`crate::Store`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created or opened.
    #[error("cannot use data directory {path}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be opened or configured.
    #[error("cannot open the database {path}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Cause,
    },
    /// The database could not be brought up to the current schema.
    #[error("cannot migrate the database to the current schema")]
    Migrate {
        /// Why.
        #[source]
        source: Cause,
    },
    /// The data directory was written by a newer Sonde; opening it could lose data.
    #[error("the database has schema version {found}, newer than the {supported} this sonde knows: upgrade sonde")]
    SchemaTooNew {
        /// The version in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The writer could not be started.
    #[error("cannot start the store's writer")]
    StartWriter {
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The writer stopped abnormally (it panicked).
    #[error("the store's writer stopped abnormally")]
    WriterStopped,
    /// The writer's queue is full: retry later (the collector answers 503).
    #[error("the write queue is full")]
    QueueFull,
    /// The store was closed, or its writer stopped.
    #[error("the store is closed")]
    Closed,
    /// A read failed.
    #[error("cannot read from the store")]
    Read {
        /// Why.
        #[source]
        source: Cause,
    },
    /// The batch holding this write could not be committed; nothing of it was written.
    #[error("the write could not be committed")]
    Write {
        /// Why.
        #[source]
        source: Cause,
    },
    /// A catalog change (release, alert, version constraint, route,
    /// vocabulary) was not made because the backend's database is
    /// unavailable; unlike ingest writes, catalog changes are not held in a
    /// spill, so the caller retries.
    #[error(
        "the catalog change was not made: {backend} is unavailable ({source}); \
         catalog changes are not queued while it is down, retry once it is back"
    )]
    CatalogUnavailable {
        /// The database that is unavailable (`ClickHouse`).
        backend: &'static str,
        /// Why.
        #[source]
        source: Cause,
    },
    /// The product has no release yet, so it is not registered.
    #[error("unknown product {0:?}: publish a release for it first")]
    UnknownProduct(String),
}

impl StoreError {
    /// A failed read, caused by `e`.
    pub fn read(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Read { source: Arc::new(e) }
    }

    /// A failed write, caused by `e`.
    pub fn write(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Write { source: Arc::new(e) }
    }

    /// Whether retrying later may succeed (queue full, store closing, I/O trouble).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::QueueFull
                | StoreError::Closed
                | StoreError::WriterStopped
                | StoreError::Read { .. }
                | StoreError::Write { .. }
                | StoreError::CatalogUnavailable { .. }
        )
    }
}
