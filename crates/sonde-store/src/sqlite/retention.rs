//! Raw-event retention on SQLite: deletes events older than a cutoff in
//! chunks of [`RETENTION_CHUNK`], each chunk one transaction on a connection
//! of its own, so the writer's ingest batches interleave with a long pass.
//! Every event was counted in `event_rollups` when it was stored (see
//! [`crate::rollup`]), so deleting it changes no count. Error reports
//! received before the cutoff are deleted the same way, in chunks; in the
//! transaction of each chunk the groups it touched are rebuilt from their
//! reports kept (`super::error_groups`), so group figures always cover what
//! is stored.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, TransactionBehavior};

use crate::{RetentionOutcome, StoreError};

/// Rows deleted per retention transaction.
pub const RETENTION_CHUNK: usize = 5000;

/// Deletes the events of the database at `path` received before
/// `cutoff_ms`.
pub(crate) fn run(path: &Path, cutoff_ms: i64) -> Result<RetentionOutcome, StoreError> {
    let mut conn = open(path).map_err(|e| StoreError::Open {
        path: path.to_owned(),
        source: std::sync::Arc::new(e),
    })?;
    let mut out = RetentionOutcome {
        error_reports_deleted: delete_error_reports(&mut conn, cutoff_ms).map_err(StoreError::write)?,
        ..RetentionOutcome::default()
    };
    loop {
        let deleted = delete_chunk(&mut conn, cutoff_ms).map_err(StoreError::write)?;
        if deleted == 0 {
            return Ok(out);
        }
        out.deleted += deleted;
    }
}

/// Deletes error reports received before `cutoff_ms`, [`RETENTION_CHUNK`]
/// per transaction, rebuilding the groups of each chunk's reports in it;
/// returns how many.
fn delete_error_reports(conn: &mut Connection, cutoff_ms: i64) -> rusqlite::Result<u64> {
    let mut total = 0;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rows: Vec<(i64, String, String)> = tx
            .prepare_cached("SELECT seq, product, group_id FROM error_reports WHERE received_at_ms < ?1 LIMIT ?2")?
            .query_map(params![cutoff_ms, RETENTION_CHUNK as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        if rows.is_empty() {
            return Ok(total);
        }
        let mut groups = BTreeSet::new();
        {
            let mut del = tx.prepare_cached("DELETE FROM error_reports WHERE seq = ?1")?;
            for (seq, product, group) in &rows {
                del.execute([seq])?;
                groups.insert((product.as_str(), group.as_str()));
            }
        }
        for (product, group) in groups {
            super::error_groups::rebuild_group(&tx, product, group)?;
        }
        tx.commit()?;
        total += rows.len() as u64;
    }
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let c = Connection::open(path)?;
    c.busy_timeout(Duration::from_millis(super::BUSY_TIMEOUT_MS))?;
    c.pragma_update(None, "synchronous", "FULL")?;
    Ok(c)
}

/// Deletes up to [`RETENTION_CHUNK`] expired events in one transaction;
/// returns how many.
fn delete_chunk(conn: &mut Connection, cutoff_ms: i64) -> rusqlite::Result<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n = tx
        .prepare_cached(
            "DELETE FROM events WHERE seq IN
             (SELECT seq FROM events WHERE received_at_ms < ?1 LIMIT ?2)",
        )?
        .execute(params![cutoff_ms, RETENTION_CHUNK as i64])?;
    tx.commit()?;
    Ok(n as u64)
}
