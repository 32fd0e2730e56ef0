//! The store's error type.

use std::path::PathBuf;

/// Everything that can go wrong in a [`crate::Store`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created or opened.
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The writer's queue is full: retry later (the collector answers 503).
    #[error("the write queue is full")]
    QueueFull,
    /// The store was closed, or its writer stopped.
    #[error("the store is closed")]
    Closed,
    /// The batch holding this write could not be committed; nothing of it was written.
    #[error("write failed: {0}")]
    WriteFailed(String),
    /// The product has no release yet, so it is not registered.
    #[error("unknown product {0:?}: publish a release for it first")]
    UnknownProduct(String),
    /// The data directory was written by a newer Sonde; opening it could lose data.
    #[error("the database has schema version {found}, newer than the {supported} this sonde knows: upgrade sonde")]
    SchemaTooNew {
        /// The version in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// A stored value could not be read back.
    #[error("corrupt value in the store: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether retrying later may succeed (queue full, store closing, I/O trouble).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::QueueFull | StoreError::Closed | StoreError::WriteFailed(_) | StoreError::Sqlite(_)
        )
    }
}
