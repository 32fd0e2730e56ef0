//! `raw-insert` on real databases: the event rows a store holds after the
//! generator wrote a small plan through it are inserted again, into a new
//! SQLite file and into a new ClickHouse table of the test's own server;
//! the copy holds exactly the source's rows, in the batches asked for, and
//! each refused input gets its own error.

use rusqlite::Connection;
use sonde_bench::generate::{generate, Options};
use sonde_bench::plan::{Params, Plan};
use sonde_bench::raw::{self, RawError};
use sonde_store::{SqliteStore, Store};
use sonde_testkit::clickhouse::ClickHouse;

fn plan() -> Plan {
    Plan::new(Params {
        signatures: 300,
        pings: 2_000,
        days: 20,
        end: "2026-11-15".parse().unwrap(),
        instances: 3,
        error_reports: 10,
        ..Params::default()
    })
    .unwrap()
}

/// One stored event: product, id, kind, test, occurred and received times, fields.
type Row = (String, Vec<u8>, String, i64, Option<i64>, i64, String);

/// Every event row of a SQLite file, in a stable order.
fn rows(db: &std::path::Path) -> Vec<Row> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT product, id, kind, test, occurred_at_ms, received_at_ms, fields FROM events ORDER BY product, id",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[test]
fn sqlite_copy_holds_the_same_rows_in_the_batches_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let totals = generate(&store, &plan(), Options { window: 256 }, |_| {}).unwrap();
    store.close().unwrap();
    let source = dir.path().join(sonde_store::sqlite::DB_FILE);
    let expected = rows(&source);
    assert_eq!(expected.len() as u64, totals.commands + totals.heartbeats);
    assert!(expected.len() > 300, "a plan this size makes hundreds of events");

    let target = dir.path().join("raw.db");
    let result = raw::sqlite(&source, &target, 100).unwrap();
    assert_eq!(result.rows, expected.len() as u64);
    assert_eq!(result.commits, expected.len().div_ceil(100) as u64);
    assert_eq!(rows(&target), expected);
    let conn = Connection::open(&target).unwrap();
    let journal: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(journal, "wal");
    let index: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_by_id'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(index, 1, "the unique index is copied with the table");
    assert!(result
        .line()
        .starts_with(&format!("RAW_RESULT rows={} commits=", result.rows)));

    assert!(matches!(
        raw::sqlite(&source, &target, 100),
        Err(RawError::TargetExists(_))
    ));
    assert!(matches!(
        raw::sqlite(&source, &dir.path().join("other.db"), 0),
        Err(RawError::ZeroBatch)
    ));
    let empty = dir.path().join("empty.db");
    Connection::open(&empty)
        .unwrap()
        .execute_batch("CREATE TABLE t(x)")
        .unwrap();
    assert!(matches!(
        raw::sqlite(&empty, &dir.path().join("other.db"), 10),
        Err(RawError::NoEventsTable(_))
    ));
}

#[test]
fn clickhouse_copy_holds_the_same_rows_in_the_inserts_asked_for() {
    let server = ClickHouse::start();
    let dir = tempfile::tempdir().unwrap();
    let store = sonde_clickhouse::ClickHouseStore::open(&server.url("gen"), dir.path(), Default::default()).unwrap();
    let totals = generate(&store, &plan(), Options { window: 4096 }, |_| {}).unwrap();
    store.close().unwrap();
    let events = totals.commands + totals.heartbeats;
    assert_eq!(
        server.query("SELECT count() FROM gen.events").trim(),
        events.to_string()
    );

    let http = format!("http://127.0.0.1:{}", server.http_port());
    let result = raw::clickhouse(&http, "gen.events", "copy.events", 128).unwrap();
    assert_eq!(result.rows, events);
    assert_eq!(result.commits, events.div_ceil(128));
    let digest = |table: &str| {
        server.query(&format!(
            "SELECT count(), sum(cityHash64(product, id, kind, test, at_ms, day, fields)) FROM {table}"
        ))
    };
    assert_eq!(digest("copy.events"), digest("gen.events"));

    assert!(
        matches!(
            raw::clickhouse(&http, "gen.events", "copy.events", 128),
            Err(RawError::ClickHouseStatus { .. })
        ),
        "the target table exists already"
    );
    assert!(matches!(
        raw::clickhouse(&http, "gen.events", "copy.other", 0),
        Err(RawError::ZeroBatch)
    ));
}
