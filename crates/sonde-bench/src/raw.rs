//! The physical limits of durable ingestion (`raw-insert`): the rows a
//! collector stored, inserted again with nothing in between (no HTTP, no
//! validation, no roll-ups), in batches of the collector's commit size.
//!
//! - [`sqlite`]: the `events` rows of a collector's SQLite file, read into
//!   memory, then inserted into a new file in the same directory with the
//!   same table and index (their DDL copied from the source), the writer's
//!   settings (8 KiB pages, WAL, `synchronous=FULL`, 32 MiB cache) and its
//!   statements (`INSERT OR IGNORE` of 64, 32, … rows at once), one
//!   transaction per batch.
//! - [`clickhouse`]: the rows of a ClickHouse table, exported as
//!   `JSONEachRow`, then posted straight to the server's HTTP interface into
//!   a new table of the same shape (`CREATE TABLE … AS`), one insert per
//!   batch, each awaited before the next (as the collector's writer does).
//!
//! Both time the inserts alone and check the new table holds every row.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

/// What a raw insert did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawResult {
    /// Rows inserted.
    pub rows: u64,
    /// Transactions (SQLite) or inserts (ClickHouse).
    pub commits: u64,
    /// Time spent inserting, reads of the source excluded.
    pub elapsed: Duration,
}

impl RawResult {
    /// Rows per second.
    pub fn rows_per_sec(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The one-line summary `raw-insert` prints (`key=value` pairs).
    pub fn line(&self) -> String {
        format!(
            "RAW_RESULT rows={} commits={} seconds={:.3} rows_per_s={:.0}",
            self.rows,
            self.commits,
            self.elapsed.as_secs_f64(),
            self.rows_per_sec()
        )
    }
}

/// Why a raw insert failed.
#[derive(Debug, thiserror::Error)]
pub enum RawError {
    /// The batch size was zero.
    #[error("the batch size must be at least 1")]
    ZeroBatch,
    /// The source SQLite file could not be read.
    #[error("reading {path}: {source}")]
    ReadSource {
        /// The source file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The source has no `events` table (not a collector's file).
    #[error("{0} has no events table")]
    NoEventsTable(PathBuf),
    /// The target file exists already.
    #[error("{0} exists: insert into a new file")]
    TargetExists(PathBuf),
    /// Creating or writing the target SQLite file failed.
    #[error("writing {path}: {source}")]
    Write {
        /// The target file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The target holds a different number of rows than were inserted.
    #[error("{inserted} rows inserted but {stored} stored")]
    Mismatch {
        /// Rows sent.
        inserted: u64,
        /// Rows the target holds.
        stored: u64,
    },
    /// A ClickHouse request failed (transport or status).
    #[error("ClickHouse: {0}")]
    ClickHouse(#[from] ureq::Error),
    /// ClickHouse answered with an error status.
    #[error("ClickHouse answered {status}: {message}")]
    ClickHouseStatus {
        /// The HTTP status.
        status: u16,
        /// The first line of its answer.
        message: String,
    },
    /// ClickHouse answered a count that is not a number.
    #[error("ClickHouse answered {0:?} for a count")]
    BadCount(String),
}

/// One event row as the collector's SQLite writer stores it.
struct EventRow {
    product: String,
    id: rusqlite::types::Value,
    kind: String,
    test: i64,
    occurred_at_ms: Option<i64>,
    received_at_ms: i64,
    fields: String,
}

/// Inserts the `events` rows of the SQLite file `from` into a new file
/// `to` (same filesystem as the caller chooses), `batch` rows per commit.
pub fn sqlite(from: &Path, to: &Path, batch: usize) -> Result<RawResult, RawError> {
    if batch == 0 {
        return Err(RawError::ZeroBatch);
    }
    if to.exists() {
        return Err(RawError::TargetExists(to.to_owned()));
    }
    let read_err = |source| RawError::ReadSource {
        path: from.to_owned(),
        source,
    };
    let src = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(read_err)?;
    let ddl: Vec<String> = src
        .prepare("SELECT sql FROM sqlite_master WHERE tbl_name = 'events' AND sql IS NOT NULL ORDER BY type DESC")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(read_err)?;
    if ddl.is_empty() {
        return Err(RawError::NoEventsTable(from.to_owned()));
    }
    let rows: Vec<EventRow> = src
        .prepare("SELECT product, id, kind, test, occurred_at_ms, received_at_ms, fields FROM events ORDER BY seq")
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok(EventRow {
                    product: r.get(0)?,
                    id: r.get(1)?,
                    kind: r.get(2)?,
                    test: r.get(3)?,
                    occurred_at_ms: r.get(4)?,
                    received_at_ms: r.get(5)?,
                    fields: r.get(6)?,
                })
            })?
            .collect()
        })
        .map_err(read_err)?;
    drop(src);

    let write_err = |source| RawError::Write {
        path: to.to_owned(),
        source,
    };
    let mut conn = Connection::open(to).map_err(write_err)?;
    conn.pragma_update(None, "page_size", 8192).map_err(write_err)?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(write_err)?;
    conn.pragma_update(None, "synchronous", "FULL").map_err(write_err)?;
    conn.pragma_update(None, "cache_size", -32768).map_err(write_err)?;
    for sql in &ddl {
        conn.execute_batch(sql).map_err(write_err)?;
    }

    let started = Instant::now();
    let mut commits = 0;
    for group in rows.chunks(batch) {
        let tx = conn.transaction().map_err(write_err)?;
        let mut rest = group;
        for &n in &sonde_store::sqlite::EVENT_CHUNKS {
            while rest.len() >= n {
                let (chunk, tail) = rest.split_at(n);
                rest = tail;
                let mut stmt = tx
                    .prepare_cached(sonde_store::sqlite::insert_events_sql(n))
                    .map_err(write_err)?;
                let mut index = 1;
                for e in chunk {
                    stmt.raw_bind_parameter(index, &e.product).map_err(write_err)?;
                    stmt.raw_bind_parameter(index + 1, &e.id).map_err(write_err)?;
                    stmt.raw_bind_parameter(index + 2, &e.kind).map_err(write_err)?;
                    stmt.raw_bind_parameter(index + 3, e.test).map_err(write_err)?;
                    stmt.raw_bind_parameter(index + 4, e.occurred_at_ms)
                        .map_err(write_err)?;
                    stmt.raw_bind_parameter(index + 5, e.received_at_ms)
                        .map_err(write_err)?;
                    stmt.raw_bind_parameter(index + 6, &e.fields).map_err(write_err)?;
                    index += 7;
                }
                stmt.raw_execute().map_err(write_err)?;
            }
        }
        tx.commit().map_err(write_err)?;
        commits += 1;
    }
    let elapsed = started.elapsed();

    let stored: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .map_err(write_err)?;
    let inserted = rows.len() as u64;
    if stored as u64 != inserted {
        return Err(RawError::Mismatch {
            inserted,
            stored: stored as u64,
        });
    }
    Ok(RawResult {
        rows: inserted,
        commits,
        elapsed,
    })
}

/// A ClickHouse server's HTTP interface.
struct Http {
    agent: ureq::Agent,
    base: String,
}

impl Http {
    fn new(base: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .new_agent();
        Http {
            agent,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// Posts `body` (a statement, or an insert's rows when `params` holds
    /// its `query`) with `params` in the URL; returns the answer.
    fn post(&self, params: &[(&str, &str)], body: &[u8]) -> Result<String, RawError> {
        let mut req = self.agent.post(&format!("{}/", self.base));
        for (k, v) in params {
            req = req.query(*k, *v);
        }
        let mut resp = req.send(body)?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().with_config().limit(u64::MAX).read_to_string()?;
        if status != 200 {
            return Err(RawError::ClickHouseStatus {
                status,
                message: text.lines().next().unwrap_or("").to_owned(),
            });
        }
        Ok(text)
    }

    fn count(&self, table: &str) -> Result<u64, RawError> {
        let text = self.post(&[], format!("SELECT count() FROM {table}").as_bytes())?;
        text.trim().parse().map_err(|_| RawError::BadCount(text))
    }
}

/// Exports every row of `source` (`database.table`) from the ClickHouse
/// server at `http` (`http://host:port`) as `JSONEachRow`, creates
/// `target` (`database.table`, its database too) with the same shape, and
/// inserts the rows into it, `batch` rows per insert.
pub fn clickhouse(http: &str, source: &str, target: &str, batch: usize) -> Result<RawResult, RawError> {
    if batch == 0 {
        return Err(RawError::ZeroBatch);
    }
    let ch = Http::new(http);
    // 64-bit integers as JSON numbers, as the collector's writer sends them.
    let export = ch.post(
        &[("output_format_json_quote_64bit_integers", "0")],
        format!("SELECT * FROM {source} FORMAT JSONEachRow").as_bytes(),
    )?;
    let lines: Vec<&str> = export.lines().filter(|l| !l.is_empty()).collect();
    if let Some((db, _)) = target.split_once('.') {
        ch.post(&[], format!("CREATE DATABASE IF NOT EXISTS {db}").as_bytes())?;
    }
    ch.post(&[], format!("CREATE TABLE {target} AS {source}").as_bytes())?;
    let bodies: Vec<Vec<u8>> = lines
        .chunks(batch)
        .map(|c| {
            let mut body = c.join("\n").into_bytes();
            body.push(b'\n');
            body
        })
        .collect();
    let insert = format!("INSERT INTO {target} FORMAT JSONEachRow");
    let started = Instant::now();
    for body in &bodies {
        ch.post(&[("query", &insert)], body)?;
    }
    let elapsed = started.elapsed();
    let inserted = lines.len() as u64;
    let stored = ch.count(target)?;
    if stored != inserted {
        return Err(RawError::Mismatch { inserted, stored });
    }
    Ok(RawResult {
        rows: inserted,
        commits: bodies.len() as u64,
        elapsed,
    })
}
