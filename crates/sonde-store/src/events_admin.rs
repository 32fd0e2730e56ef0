//! Event housekeeping beside the writer: route templates per product, raw-event
//! retention with roll-ups, and the event counts analytics reads.
//!
//! [`EventAdmin`] works on the same SQLite file as [`crate::SqliteStore`] with
//! its own short-lived connections (WAL lets it read while the writer writes;
//! `busy_timeout` serialises its rare writes with the writer's). These writes
//! are rare and small — registering a route template, one retention pass a
//! day — so they do not go through the ingest queue.
//!
//! Retention deletes raw events older than a cutoff in chunks. Before a chunk
//! is deleted, in the same transaction, each event is added to
//! `event_rollups`: one counter per (product, kind, test, month, key), where
//! the key is what analytics groups by — the command path of a command event,
//! the action name of a console event, the instance id of a heartbeat. So the
//! counts per month (and the number of distinct instances per month) survive
//! the deletion of the rows they were counted from.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::{Month, StoreError};

/// Rows deleted per retention transaction.
pub const RETENTION_CHUNK: usize = 5000;

const EXTRA_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS route_templates (
    product       TEXT NOT NULL,
    template      TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (product, template)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS event_rollups (
    product TEXT NOT NULL,
    kind    TEXT NOT NULL,
    test    INTEGER NOT NULL,
    month   TEXT NOT NULL,
    key     TEXT NOT NULL,
    n       INTEGER NOT NULL,
    errors  INTEGER NOT NULL,
    PRIMARY KEY (product, kind, test, month, key)
) WITHOUT ROWID;
"#;

/// Route templates, retention and event counts on one database file.
#[derive(Debug, Clone)]
pub struct EventAdmin {
    path: PathBuf,
}

/// What one retention run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RetentionOutcome {
    /// Raw events deleted (each first counted in `event_rollups`).
    pub deleted: u64,
}

/// One analytics counter: events of a kind in a month, grouped by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventCount {
    /// `YYYY-MM`, by the collector's receive time.
    pub month: String,
    /// Command path, action name or instance id (see the module docs).
    pub key: String,
    /// How many events.
    pub count: u64,
    /// How many of them were errors (`is_error`, command events).
    pub errors: u64,
}

impl EventAdmin {
    /// Opens `<data_dir>/sonde.db` (creating this module's tables if needed).
    /// The store itself should be open already, so the main schema exists.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let admin = EventAdmin {
            path: data_dir.join(crate::sqlite::DB_FILE),
        };
        admin.conn()?.execute_batch(EXTRA_SCHEMA)?;
        Ok(admin)
    }

    fn conn(&self) -> Result<Connection, StoreError> {
        let c = Connection::open(&self.path)?;
        c.busy_timeout(Duration::from_secs(10))?;
        c.pragma_update(None, "synchronous", "FULL")?;
        Ok(c)
    }

    /// Registers route templates for `product` (already validated by the
    /// caller); returns how many were new.
    pub fn add_routes(&self, product: &str, templates: &[String], now_ms: i64) -> Result<usize, StoreError> {
        let mut c = self.conn()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut added = 0;
        {
            let mut stmt = tx.prepare(
                "INSERT OR IGNORE INTO route_templates(product, template, created_at_ms) VALUES (?1, ?2, ?3)",
            )?;
            for t in templates {
                added += stmt.execute(params![product, t, now_ms])?;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    /// The registered templates of `product`, sorted.
    pub fn routes(&self, product: &str) -> Result<Vec<String>, StoreError> {
        let c = self.conn()?;
        let mut stmt = c.prepare("SELECT template FROM route_templates WHERE product = ?1 ORDER BY template")?;
        let rows = stmt.query_map(params![product], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A number that changes whenever any product's templates change (for caches).
    pub fn routes_version(&self) -> Result<(u64, i64), StoreError> {
        let c = self.conn()?;
        Ok(c.query_row(
            "SELECT COUNT(*), COALESCE(MAX(created_at_ms), 0) FROM route_templates",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
        )?)
    }

    /// Deletes raw events received before `cutoff_ms`, rolling each up first.
    pub fn apply_retention(&self, cutoff_ms: i64) -> Result<RetentionOutcome, StoreError> {
        let mut c = self.conn()?;
        let mut out = RetentionOutcome::default();
        loop {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let rows: Vec<(String, i64, String, bool, i64, String)> = {
                let mut stmt = tx.prepare(
                    "SELECT product, seq, kind, test, received_at_ms, fields FROM events
                     WHERE received_at_ms < ?1 LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![cutoff_ms, RETENTION_CHUNK as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
                })?;
                rows.collect::<Result<_, _>>()?
            };
            if rows.is_empty() {
                tx.commit()?;
                return Ok(out);
            }
            {
                let mut roll = tx.prepare_cached(
                    "INSERT INTO event_rollups(product, kind, test, month, key, n, errors) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)
                     ON CONFLICT(product, kind, test, month, key) DO UPDATE SET n = n + 1, errors = errors + excluded.errors",
                )?;
                let mut del = tx.prepare_cached("DELETE FROM events WHERE seq = ?1")?;
                for (product, seq, kind, test, received, fields) in &rows {
                    let (key, error) = rollup_key(kind, fields);
                    let month = Month::from_unix_ms(*received).to_string();
                    roll.execute(params![product, kind, test, month, key, error as i64])?;
                    del.execute(params![seq])?;
                }
            }
            tx.commit()?;
            out.deleted += rows.len() as u64;
        }
    }

    /// Event counts of `kind` for `product`, per month and key: roll-ups of
    /// deleted events plus the raw events still kept. Events of `_test`
    /// topics (and native `test: true`) are left out unless `include_test`.
    pub fn event_counts(&self, product: &str, kind: &str, include_test: bool) -> Result<Vec<EventCount>, StoreError> {
        let c = self.conn()?;
        let mut totals: std::collections::BTreeMap<(String, String), (u64, u64)> = Default::default();
        {
            let mut stmt = c.prepare(
                "SELECT month, key, SUM(n), SUM(errors) FROM event_rollups
                 WHERE product = ?1 AND kind = ?2 AND (?3 OR test = 0) GROUP BY month, key",
            )?;
            let rows = stmt.query_map(params![product, kind, include_test], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?;
            for row in rows {
                let (month, key, n, e) = row?;
                let t = totals.entry((month, key)).or_default();
                t.0 += n as u64;
                t.1 += e as u64;
            }
        }
        let mut stmt = c.prepare(
            "SELECT received_at_ms, fields FROM events WHERE product = ?1 AND kind = ?2 AND (?3 OR test = 0)",
        )?;
        let rows = stmt.query_map(params![product, kind, include_test], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (received, fields) = row?;
            let (key, error) = rollup_key(kind, &fields);
            let t = totals
                .entry((Month::from_unix_ms(received).to_string(), key))
                .or_default();
            t.0 += 1;
            t.1 += u64::from(error);
        }
        Ok(totals
            .into_iter()
            .map(|((month, key), (count, errors))| EventCount {
                month,
                key,
                count,
                errors,
            })
            .collect())
    }

    /// The oldest raw event's receive time, if any (for tests and status).
    pub fn oldest_event_ms(&self, product: &str) -> Result<Option<i64>, StoreError> {
        let c = self.conn()?;
        Ok(c.query_row(
            "SELECT MIN(received_at_ms) FROM events WHERE product = ?1",
            params![product],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
    }
}

/// What an event is counted under, and whether it was an error.
fn rollup_key(kind: &str, fields: &str) -> (String, bool) {
    let v: serde_json::Value = serde_json::from_str(fields).unwrap_or_default();
    let s = |name: &str| v.get(name).and_then(|x| x.as_str()).unwrap_or("").to_owned();
    let key = match kind {
        "command" => s("command"),
        "console" => s("event_type"),
        "heartbeat" => s("instance_uid"),
        _ => String::new(),
    };
    (key, v.get("is_error").and_then(|x| x.as_bool()).unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SqliteStore, Store, WriteOp};
    use sonde_protocol::{Event, EventKind, ProductName};

    fn event(id: u32, kind: EventKind, received: i64, test: bool, fields: serde_json::Value) -> Event {
        Event {
            id: format!("00000000-0000-4000-8000-{id:012}"),
            kind,
            product: ProductName::parse("p").unwrap(),
            test,
            occurred_at_ms: None,
            received_at_ms: received,
            fields: fields.as_object().unwrap().clone().into(),
        }
    }

    #[test]
    fn retention_keeps_counts_and_deletes_rows() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let admin = EventAdmin::open(dir.path()).unwrap();
        let old = 1_600_000_000_000; // 2020-09
        let new = 1_760_000_000_000; // 2025-10
        let cmd = |id, t, test, err| {
            event(
                id,
                EventKind::Command,
                t,
                test,
                serde_json::json!({"command": "tool build", "is_error": err}),
            )
        };
        let events = vec![
            cmd(1, old, false, true),
            cmd(2, old, false, false),
            cmd(3, new, false, false),
            cmd(4, old, true, false),
        ];
        store
            .enqueue(WriteOp::Events {
                product: ProductName::parse("p").unwrap(),
                source: "native",
                events,
                dropped: vec![],
            })
            .unwrap()
            .wait_blocking()
            .unwrap();
        let before = admin.event_counts("p", "command", false).unwrap();
        let out = admin.apply_retention(new - 1).unwrap();
        assert_eq!(out.deleted, 3);
        assert_eq!(store.event_count("p").unwrap(), 1);
        let after = admin.event_counts("p", "command", false).unwrap();
        assert_eq!(before, after);
        assert_eq!(
            after,
            [
                EventCount {
                    month: "2020-09".into(),
                    key: "tool build".into(),
                    count: 2,
                    errors: 1
                },
                EventCount {
                    month: "2025-10".into(),
                    key: "tool build".into(),
                    count: 1,
                    errors: 0
                },
            ]
        );
        assert_eq!(admin.event_counts("p", "command", true).unwrap()[0].count, 3);
        assert_eq!(admin.apply_retention(new - 1).unwrap().deleted, 0);
    }

    #[test]
    fn routes_are_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let _store = SqliteStore::open(dir.path()).unwrap();
        let admin = EventAdmin::open(dir.path()).unwrap();
        let t = vec!["/b/:id".to_owned(), "/a".to_owned()];
        assert_eq!(admin.add_routes("p", &t, 1).unwrap(), 2);
        assert_eq!(admin.add_routes("p", &t, 2).unwrap(), 0);
        assert_eq!(admin.routes("p").unwrap(), ["/a", "/b/:id"]);
        assert!(admin.routes("q").unwrap().is_empty());
    }
}
