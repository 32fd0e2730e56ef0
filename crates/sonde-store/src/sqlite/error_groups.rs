//! The error-group roll-ups on SQLite: per group of a product, the figures
//! [`crate::ErrorGroup`] answers with, kept so that reading them is a
//! lookup of a few rows per group rather than a scan of every report.
//!
//! - `error_groups`: reports, distinct signatures, first and last received,
//!   and the `seq` of the latest report (the sample).
//! - `error_group_signatures`: the distinct signatures of each group, with
//!   how many of its reports each sent; clustered on `(product, group_id,
//!   signature)`, so "is this signature new in the group" is one descent
//!   into the group's own run of pages, which the group's earlier reports
//!   keep warm (a product's reports need consent, so a group holds
//!   thousands of signatures, not millions).
//! - `error_group_values`: reports per version and per OS of each group.
//!
//! The writer adds a stored report to all three in the transaction of its
//! insert ([`record`]); a duplicate report id inserts nothing and adds
//! nothing. The figures cover the reports still kept, as the raw-row sums
//! of the other backends do: retention deletes reports in chunks and, in
//! the same transaction as each chunk, rebuilds the groups it touched from
//! their remaining reports ([`rebuild_group`]; a group with none left has
//! no row). The migration fills the roll-ups from the stored reports the
//! same way ([`rebuild_all`]). Relative updates (`+ 1`) and whole-group
//! rebuilds commute, because SQLite runs one write transaction at a time.

use std::collections::HashMap;

use rusqlite::{params, Connection};

use crate::GroupTotals;

/// The dimension names kept in `error_group_values`.
const VERSION: &str = "version";
const OS: &str = "os";

/// Adds one newly stored report (`seq`) of `group` to the roll-ups.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record(
    tx: &Connection,
    product: &str,
    group: &str,
    version: Option<&str>,
    os: Option<&str>,
    signature: Option<&str>,
    received_at_ms: i64,
    seq: i64,
) -> rusqlite::Result<()> {
    let new_signature = match signature {
        Some(sig) => {
            let n: i64 = tx
                .prepare_cached(
                    "INSERT INTO error_group_signatures(product, group_id, signature, reports) VALUES (?1, ?2, ?3, 1)
                     ON CONFLICT(product, group_id, signature) DO UPDATE SET reports = reports + 1
                     RETURNING reports",
                )?
                .query_row(params![product, group, sig], |r| r.get(0))?;
            i64::from(n == 1)
        }
        None => 0,
    };
    tx.prepare_cached(
        "INSERT INTO error_groups(product, group_id, reports, signatures, first_ms, last_ms, latest_seq)
         VALUES (?1, ?2, 1, ?3, ?4, ?4, ?5)
         ON CONFLICT(product, group_id) DO UPDATE SET
             reports = reports + 1,
             signatures = signatures + excluded.signatures,
             first_ms = min(first_ms, excluded.first_ms),
             last_ms = max(last_ms, excluded.last_ms),
             latest_seq = max(latest_seq, excluded.latest_seq)",
    )?
    .execute(params![product, group, new_signature, received_at_ms, seq])?;
    let mut value = tx.prepare_cached(
        "INSERT INTO error_group_values(product, group_id, dimension, value, reports) VALUES (?1, ?2, ?3, ?4, 1)
         ON CONFLICT(product, group_id, dimension, value) DO UPDATE SET reports = reports + 1",
    )?;
    for (dimension, v) in [(VERSION, version), (OS, os)] {
        if let Some(v) = v {
            value.execute(params![product, group, dimension, v])?;
        }
    }
    Ok(())
}

/// The statements that refill the roll-ups from `error_reports`, for the
/// rows `filter` selects (a `WHERE` clause over `error_reports`, or none).
fn refill_sql(filter: &str) -> [String; 3] {
    [
        format!(
            "INSERT INTO error_group_signatures(product, group_id, signature, reports)
             SELECT product, group_id, signature, count(*) FROM error_reports
             {filter} {and} signature IS NOT NULL GROUP BY product, group_id, signature",
            and = if filter.is_empty() { "WHERE" } else { "AND" }
        ),
        format!(
            "INSERT INTO error_group_values(product, group_id, dimension, value, reports)
             SELECT product, group_id, '{VERSION}', version, count(*) FROM error_reports
             {filter} {and} version IS NOT NULL GROUP BY product, group_id, version
             UNION ALL
             SELECT product, group_id, '{OS}', os, count(*) FROM error_reports
             {filter} {and} os IS NOT NULL GROUP BY product, group_id, os",
            and = if filter.is_empty() { "WHERE" } else { "AND" }
        ),
        format!(
            "INSERT INTO error_groups(product, group_id, reports, signatures, first_ms, last_ms, latest_seq)
             SELECT r.product, r.group_id, count(*),
                    (SELECT count(*) FROM error_group_signatures s
                     WHERE s.product = r.product AND s.group_id = r.group_id),
                    min(r.received_at_ms), max(r.received_at_ms), max(r.seq)
             FROM error_reports r {filter} GROUP BY r.product, r.group_id"
        ),
    ]
}

/// Fills the roll-ups from every stored report (the migration that adds
/// them; they are emptied first, so running it twice changes nothing).
pub(crate) fn rebuild_all(tx: &Connection) -> rusqlite::Result<()> {
    tx.execute_batch("DELETE FROM error_groups; DELETE FROM error_group_signatures; DELETE FROM error_group_values;")?;
    for sql in refill_sql("") {
        tx.execute(&sql, [])?;
    }
    Ok(())
}

/// Recomputes one group's roll-ups from its reports still stored (after
/// retention deleted some); a group with none left loses its rows.
pub(crate) fn rebuild_group(tx: &Connection, product: &str, group: &str) -> rusqlite::Result<()> {
    for table in ["error_groups", "error_group_signatures", "error_group_values"] {
        tx.prepare_cached(&format!("DELETE FROM {table} WHERE product = ?1 AND group_id = ?2"))?
            .execute(params![product, group])?;
    }
    for sql in refill_sql("WHERE product = ?1 AND group_id = ?2") {
        tx.prepare_cached(&sql)?.execute(params![product, group])?;
    }
    Ok(())
}

/// The rolled-up figures of `product`'s groups (only `group`, if given).
pub(crate) fn read(tx: &Connection, product: &str, group: Option<&str>) -> rusqlite::Result<Vec<GroupTotals>> {
    let mut totals: Vec<GroupTotals> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT group_id, reports, signatures, first_ms, last_ms, latest_seq FROM error_groups
             WHERE product = ?1 AND (?2 IS NULL OR group_id = ?2)",
        )?;
        let mut rows = stmt.query(params![product, group])?;
        while let Some(r) = rows.next()? {
            let t = GroupTotals {
                group: r.get(0)?,
                count: r.get::<_, i64>(1)? as u64,
                signatures: r.get::<_, i64>(2)? as u64,
                first_seen_ms: r.get(3)?,
                last_seen_ms: r.get(4)?,
                latest_seq: r.get(5)?,
                ..GroupTotals::default()
            };
            at.insert(t.group.clone(), totals.len());
            totals.push(t);
        }
    }
    let mut stmt = tx.prepare_cached(
        "SELECT group_id, dimension, value, reports FROM error_group_values
         WHERE product = ?1 AND (?2 IS NULL OR group_id = ?2)",
    )?;
    let mut rows = stmt.query(params![product, group])?;
    while let Some(r) = rows.next()? {
        let Some(&i) = at.get(r.get_ref(0)?.as_str()?) else {
            continue;
        };
        let dimension = r.get_ref(1)?.as_str()?;
        let counts = if dimension == VERSION {
            &mut totals[i].versions
        } else {
            &mut totals[i].os
        };
        counts.insert(r.get(2)?, r.get::<_, i64>(3)? as u64);
    }
    Ok(totals)
}
