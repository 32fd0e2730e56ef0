//! The spill: a bounded SQLite file in the data directory holding insert
//! bodies ClickHouse could not take yet, in the order they were made.
//!
//! When an insert fails, the writer spills it and the batch's inserts after
//! it (the ones ClickHouse already accepted stay out) and answers the
//! batch's writes once the spill transaction is on disk; while anything is
//! spilled, later batches go behind it, and the writer drains it oldest
//! first, deleting each body only after ClickHouse accepted it. A
//! body re-sent after a crash between the insert and the delete holds rows
//! with the same ids, which every read counts once.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};

use crate::ClickHouseError;

/// The spill file's name in the data directory.
pub const FILE_NAME: &str = "clickhouse-spill.db";

/// What pushing into the spill can end with.
#[derive(Debug, thiserror::Error)]
pub enum SpillError {
    /// The spill is at its size limit: refuse the write (503).
    #[error("the spill is full ({bytes} bytes)")]
    Full {
        /// Its size.
        bytes: u64,
    },
    /// The file failed.
    #[error(transparent)]
    File(#[from] ClickHouseError),
}

/// The open spill.
#[derive(Debug)]
pub struct Spill {
    conn: Connection,
    path: PathBuf,
    bytes: u64,
    max_bytes: u64,
    entries: u64,
    rows: u64,
}

/// Rows in an insert body: `JSONEachRow` ends every row with a newline.
fn rows_in(body: &[u8]) -> u64 {
    body.iter().filter(|b| **b == b'\n').count() as u64
}

impl Spill {
    /// Opens (or creates) the spill in `dir`, holding at most `max_bytes` of bodies.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Self, ClickHouseError> {
        let path = dir.join(FILE_NAME);
        let conn = Connection::open(&path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS spill (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                tbl TEXT NOT NULL,
                body BLOB NOT NULL
            )",
        )?;
        // Rows are counted as newlines: the bodies are UTF-8 `JSONEachRow`.
        let (entries, bytes, rows): (i64, i64, i64) = conn.query_row(
            "SELECT count(*), coalesce(sum(length(body)), 0),
                    coalesce(sum(length(CAST(body AS TEXT)) - length(replace(CAST(body AS TEXT), char(10), ''))), 0)
             FROM spill",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok(Spill {
            conn,
            path,
            bytes: u64::try_from(bytes).unwrap_or(0),
            max_bytes,
            entries: u64::try_from(entries).unwrap_or(0),
            rows: u64::try_from(rows).unwrap_or(0),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether nothing is spilled.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// How many insert bodies are waiting.
    pub fn len(&self) -> u64 {
        self.entries
    }

    /// How many rows the waiting bodies hold, all tables.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends the inserts of one batch, all or none, durably.
    pub fn push(&mut self, inserts: &[(&'static str, Vec<u8>)]) -> Result<(), SpillError> {
        let size: u64 = inserts.iter().map(|(_, b)| b.len() as u64).sum();
        if self.bytes + size > self.max_bytes {
            return Err(SpillError::Full { bytes: self.bytes });
        }
        let tx = self.conn.transaction().map_err(ClickHouseError::from)?;
        {
            let mut stmt = tx
                .prepare_cached("INSERT INTO spill (tbl, body) VALUES (?1, ?2)")
                .map_err(ClickHouseError::from)?;
            for (table, body) in inserts.iter().filter(|(_, b)| !b.is_empty()) {
                stmt.execute(params![table, body]).map_err(ClickHouseError::from)?;
                self.entries += 1;
            }
        }
        tx.commit().map_err(ClickHouseError::from)?;
        self.bytes += size;
        self.rows += inserts.iter().map(|(_, b)| rows_in(b)).sum::<u64>();
        Ok(())
    }

    /// Sends spilled bodies oldest first through `send`, deleting each once
    /// sent; stops at the first failure, which it returns.
    pub fn drain(
        &mut self,
        mut send: impl FnMut(&str, &[u8]) -> Result<(), ClickHouseError>,
    ) -> Result<(), ClickHouseError> {
        loop {
            let next: Option<(i64, String, Vec<u8>)> = self
                .conn
                .query_row("SELECT seq, tbl, body FROM spill ORDER BY seq LIMIT 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })?;
            let Some((seq, table, body)) = next else {
                self.entries = 0;
                self.bytes = 0;
                self.rows = 0;
                return Ok(());
            };
            send(&table, &body)?;
            self.conn.execute("DELETE FROM spill WHERE seq = ?1", params![seq])?;
            self.entries = self.entries.saturating_sub(1);
            self.bytes = self.bytes.saturating_sub(body.len() as u64);
            self.rows = self.rows.saturating_sub(rows_in(&body));
        }
    }
}
