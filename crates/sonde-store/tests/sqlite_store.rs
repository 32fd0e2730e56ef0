//! SQLite specifics, on real temporary files: group commit against a write
//! lock held by another connection, the queue bound, raw-table scans, page
//! size and WAL, and schema migrations. What every backend must do is in
//! `store_suite.rs`.

mod common;

use std::time::Duration;

use common::{error_report, ping, ping_op, product, publish, record, sig, store_report, NOV, OCT};
use rusqlite::Connection;
use sonde_protocol::{Event, EventKind};
use sonde_store::schema::SCHEMA_VERSION;
use sonde_store::{Day, DayRange, EventsStored, NewEvents, NewPing, SqliteStore, Store, StoreError, StoreOptions};

fn raw_ping_count(store: &SqliteStore, signature: &str) -> i64 {
    let c = Connection::open(store.path()).unwrap();
    c.query_row("SELECT count(*) FROM pings WHERE signature = ?1", [signature], |r| {
        r.get(0)
    })
    .unwrap()
}

#[test]
fn group_commit_acknowledges_only_after_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    // Another connection takes the write lock: the writer cannot commit.
    let blocker = Connection::open(store.path()).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();

    let mut pending: Vec<_> = (0..200)
        .map(|i| store.record_ping(ping_op("demo", Some(sig(i)), NOV)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    for p in &mut pending {
        assert!(
            p.try_wait().is_none(),
            "a write was acknowledged before its batch could commit"
        );
    }
    assert_eq!(raw_ping_count(&store, &sig(0)), 0);

    blocker.execute_batch("COMMIT").unwrap();
    for (i, p) in pending.into_iter().enumerate() {
        let () = p.wait_blocking().unwrap();
        // Acknowledged means visible to any other connection: it is committed.
        assert_eq!(raw_ping_count(&store, &sig(i as u32)), 1);
    }
    // 200 writes queued behind the lock went out in a handful of transactions.
    assert!(
        store.committed_batches() <= 3,
        "{} batches for 200 queued writes",
        store.committed_batches()
    );
}

#[test]
fn one_batch_of_many_pings_is_stored_whole_in_order_and_counted_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    for p in ["demo", "other"] {
        publish(&store, p, "1.0.0");
    }
    // Signatures 0..5 are already counted in November.
    for i in 0..5 {
        record(&store, ping_op("demo", Some(sig(i)), NOV));
    }
    let before = store.committed_batches();

    // 151 pings in one batch: two products, two months, signatures repeating
    // inside the batch and already counted before it, some pings without a
    // signature, each with its own version and hash.
    // The writer takes a first ping and waits for the lock; the 151 queue
    // up behind it and form the next batch.
    let blocker = Connection::open(store.path()).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut pending = vec![store.record_ping(ping_op("demo", Some(sig(0)), NOV)).unwrap()];
    std::thread::sleep(Duration::from_millis(50));
    for i in 0..151u32 {
        let product = if i % 3 == 0 { "other" } else { "demo" };
        let at = if i % 5 == 0 { OCT } else { NOV };
        let mut p = ping(product, (i % 11 != 0).then(|| sig(i % 23)), at);
        p.version = Some(format!("1.{i}.0"));
        p.project_hash = Some(format!("{i:016x}"));
        pending.push(
            store
                .record_ping(NewPing {
                    ping: p,
                    source: "check",
                    dropped: Vec::new(),
                    told_outdated: false,
                })
                .unwrap(),
        );
    }
    std::thread::sleep(Duration::from_millis(100));
    blocker.execute_batch("COMMIT").unwrap();
    for p in pending {
        let () = p.wait_blocking().unwrap();
    }
    assert_eq!(store.committed_batches() - before, 2, "the 151 pings were one batch");

    // Every ping, whole, in the order it was queued.
    let c = Connection::open(store.path()).unwrap();
    let rows: Vec<(String, String, String, Option<String>)> = c
        .prepare(
            "SELECT product, version, project_hash, signature FROM pings WHERE project_hash IS NOT NULL ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let total: i64 = c.query_row("SELECT count(*) FROM pings", [], |r| r.get(0)).unwrap();
    assert_eq!(total, 5 + 1 + 151);
    let batch = &rows[..];
    assert_eq!(batch.len(), 151);
    for (i, (product, version, hash, signature)) in batch.iter().enumerate() {
        assert_eq!(product, if i % 3 == 0 { "other" } else { "demo" });
        assert_eq!(version, &format!("1.{i}.0"));
        assert_eq!(hash, &format!("{i:016x}"));
        assert_eq!(signature, &(i % 11 != 0).then(|| sig(i as u32 % 23)));
    }

    // The counters agree with a scan of the raw pings, per product and month.
    for (product, month, from, to) in [
        ("demo", "2026-11", NOV, NOV + 1),
        ("demo", "2026-10", OCT, OCT + 1),
        ("other", "2026-11", NOV, NOV + 1),
        ("other", "2026-10", OCT, OCT + 1),
    ] {
        let scanned: i64 = c
            .query_row(
                "SELECT count(DISTINCT signature) FROM pings
                 WHERE product = ?1 AND received_at_ms >= ?2 AND received_at_ms < ?3",
                rusqlite::params![product, from, to],
                |r| r.get(0),
            )
            .unwrap();
        assert!(scanned > 0);
        assert_eq!(
            store.monthly_active(product, month.parse().unwrap()).unwrap(),
            scanned as u64,
            "{product} {month}"
        );
        // One first-seen row per counted signature, numbered without gaps.
        let (rows, max_seq): (i64, i64) = c
            .query_row(
                "SELECT count(*), max(seq) - min(seq) + 1 FROM monthly_signatures WHERE month = ?1",
                [month],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(rows, max_seq, "{month}");
    }
    drop(store);
    // After a restart the sets are reloaded from the table: nothing is new.
    let store = SqliteStore::open(dir.path()).unwrap();
    let mau = store.monthly_active("demo", "2026-11".parse().unwrap()).unwrap();
    for i in 0..23 {
        record(&store, ping_op("demo", Some(sig(i)), NOV));
    }
    assert_eq!(store.monthly_active("demo", "2026-11".parse().unwrap()).unwrap(), mau);
}

#[test]
fn a_full_queue_refuses_instead_of_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_with(
        dir.path(),
        StoreOptions {
            queue_capacity: 4,
            max_batch: 1024,
            ..StoreOptions::default()
        },
    )
    .unwrap();
    let blocker = Connection::open(store.path()).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut accepted = Vec::new();
    let mut refused = 0;
    for i in 0..20 {
        match store.record_ping(ping_op("demo", Some(sig(i)), NOV)) {
            Ok(p) => accepted.push(p),
            Err(StoreError::QueueFull) => refused += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert!(
        refused > 0,
        "a queue of 4 accepted 20 writes while the writer was blocked"
    );
    blocker.execute_batch("COMMIT").unwrap();
    for p in accepted {
        p.wait_blocking().unwrap();
    }
}

#[test]
fn new_files_use_8_kib_pages_and_older_4_kib_files_keep_working() {
    let page_size = |path: &std::path::Path| -> i64 {
        Connection::open(path)
            .unwrap()
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap()
    };
    let new = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(new.path()).unwrap();
    assert_eq!(page_size(store.path()), 8192);

    // A file made with SQLite's default 4 KiB pages (as sonde made them
    // before) keeps them: the page size of a WAL file cannot change, and the
    // setting must not make opening it fail.
    let old = tempfile::tempdir().unwrap();
    let file = old.path().join("sonde.db");
    {
        let c = Connection::open(&file).unwrap();
        c.pragma_update(None, "page_size", 4096).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        c.execute_batch("CREATE TABLE placeholder(x); DROP TABLE placeholder;")
            .unwrap();
    }
    let store = SqliteStore::open(old.path()).unwrap();
    assert_eq!(store.path(), file);
    record(&store, ping_op("demo", Some(sig(1)), OCT));
    assert_eq!(store.ping_count("demo").unwrap(), 1);
    assert_eq!(page_size(&file), 4096);
}

#[test]
fn the_database_is_wal_and_pings_hold_no_address() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let c = Connection::open(store.path()).unwrap();
    let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    // No column can hold an address or a raw query: the ping table's columns are fixed.
    let cols: Vec<String> = c
        .prepare("SELECT name FROM pragma_table_info('pings')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for forbidden in ["ip", "address", "query", "user_agent"] {
        assert!(!cols.iter().any(|c| c.contains(forbidden)), "{cols:?}");
    }
}

#[test]
fn the_monthly_counter_agrees_with_a_scan_of_raw_pings() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let mut pending = Vec::new();
    for round in 0..3 {
        for i in 0..40 {
            pending.push(
                store
                    .record_ping(ping_op("demo", Some(sig(i * 7 % 31)), NOV + round))
                    .unwrap(),
            );
        }
    }
    for p in pending {
        p.wait_blocking().unwrap();
    }
    let c = Connection::open(store.path()).unwrap();
    let scanned: i64 = c
        .query_row(
            "SELECT count(DISTINCT signature) FROM pings WHERE product = 'demo'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(scanned, 31);
    assert_eq!(store.monthly_active("demo", "2026-11".parse().unwrap()).unwrap(), 31);
}

/// A `sonde.db` in `dir` with `meta` at schema `version` and the tables
/// `ddl` creates.
fn file_at_version(dir: &std::path::Path, version: i64, ddl: &str) -> Connection {
    let c = Connection::open(dir.join("sonde.db")).unwrap();
    c.execute_batch(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
         INSERT INTO meta(key, value) VALUES ('catalog_generation', 1);",
    )
    .unwrap();
    c.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?1)", [version])
        .unwrap();
    c.execute_batch(ddl).unwrap();
    c
}

/// A `sonde.db` in `dir` as schema version 1 wrote it: `meta` at version 1,
/// the product `demo`, and the tables `ddl` creates.
fn version_1_file(dir: &std::path::Path, ddl: &str) -> Connection {
    let c = file_at_version(
        dir,
        1,
        "CREATE TABLE products (name TEXT PRIMARY KEY, created_at_ms INTEGER NOT NULL) WITHOUT ROWID;
         INSERT INTO products VALUES ('demo', 1);",
    );
    c.execute_batch(ddl).unwrap();
    c
}

/// The schema version recorded in the database at `path`.
fn schema_version(path: &std::path::Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
        .unwrap()
}

/// A data directory written by schema version 1 (`monthly_signatures` as a
/// rowid table with an index on `month`) opens as version 2 with every
/// signature kept: a signature seen before the upgrade is not counted again.
#[test]
fn a_version_1_file_is_migrated_without_losing_a_signature() {
    let dir = tempfile::tempdir().unwrap();
    {
        let c = version_1_file(
            dir.path(),
            "CREATE TABLE monthly_signatures (product TEXT NOT NULL, month TEXT NOT NULL, signature TEXT NOT NULL);
             CREATE INDEX monthly_signatures_by_month ON monthly_signatures(month);
             CREATE TABLE monthly_counts (product TEXT NOT NULL, month TEXT NOT NULL, n INTEGER NOT NULL,
                                          PRIMARY KEY (product, month)) WITHOUT ROWID;
             INSERT INTO monthly_counts VALUES ('demo', '2026-11', 2), ('demo', '2026-10', 1);",
        );
        for (month, n) in [("2026-10", 1), ("2026-11", 1), ("2026-11", 2)] {
            c.execute(
                "INSERT INTO monthly_signatures(product, month, signature) VALUES ('demo', ?1, ?2)",
                [month, &sig(n)],
            )
            .unwrap();
        }
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    for n in [1, 2, 3] {
        record(&store, ping_op("demo", Some(sig(n)), NOV));
    }
    assert_eq!(store.monthly_active("demo", "2026-11".parse().unwrap()).unwrap(), 3);
    assert_eq!(store.monthly_active("demo", "2026-10".parse().unwrap()).unwrap(), 1);
    assert_eq!(schema_version(store.path()), SCHEMA_VERSION);
    let c = Connection::open(store.path()).unwrap();
    let rows: Vec<(String, i64, String)> = c
        .prepare("SELECT month, seq, signature FROM monthly_signatures ORDER BY month, seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        [
            ("2026-10".to_owned(), 1, sig(1)),
            ("2026-11".to_owned(), 2, sig(1)),
            ("2026-11".to_owned(), 3, sig(2)),
            ("2026-11".to_owned(), 4, sig(3)),
        ]
    );
    let old_index: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'monthly_signatures_by_month'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old_index, 0);
}

/// Version-1 event ids (UUID text) become their 16 bytes, so a batch retried
/// after the upgrade is still recognised as already stored.
#[test]
fn a_version_1_file_keeps_recognising_stored_event_ids() {
    let dir = tempfile::tempdir().unwrap();
    let id = "0b3f4c4e-1d2a-4c3b-8f00-0123456789ab";
    {
        let c = version_1_file(
            dir.path(),
            "CREATE TABLE events (seq INTEGER PRIMARY KEY, product TEXT NOT NULL, id TEXT NOT NULL,
                                  kind TEXT NOT NULL, test INTEGER NOT NULL, occurred_at_ms INTEGER,
                                  received_at_ms INTEGER NOT NULL, fields TEXT NOT NULL);
             CREATE UNIQUE INDEX events_by_id ON events(product, id);",
        );
        c.execute(
            "INSERT INTO events(product, id, kind, test, received_at_ms, fields) VALUES ('demo', ?1, 'command', 0, 1, '{}')",
            [id],
        )
        .unwrap();
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    let event = |id: &str| Event {
        id: id.into(),
        kind: EventKind::Command,
        product: product("demo"),
        test: false,
        occurred_at_ms: None,
        received_at_ms: NOV,
        fields: Default::default(),
    };
    let outcome = store
        .store_events(NewEvents {
            product: product("demo"),
            source: "events",
            events: vec![event(id), event("0b3f4c4e-1d2a-4c3b-8f00-0123456789ac")],
            dropped: Vec::new(),
        })
        .unwrap()
        .wait_blocking()
        .unwrap();
    assert_eq!(
        outcome,
        EventsStored {
            stored: 1,
            duplicates: 1
        }
    );
    let c = Connection::open(store.path()).unwrap();
    let ids: Vec<String> = c
        .prepare("SELECT lower(hex(id)) FROM events ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        ids,
        ["0b3f4c4e1d2a4c3b8f000123456789ab", "0b3f4c4e1d2a4c3b8f000123456789ac"]
    );
}

/// A file written by a newer Sonde is refused, not modified.
#[test]
fn a_file_from_a_newer_sonde_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    file_at_version(dir.path(), 99, "");
    let err = SqliteStore::open(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SchemaTooNew {
                found: 99,
                supported: SCHEMA_VERSION
            }
        ),
        "{err}"
    );
    let c = Connection::open(dir.path().join("sonde.db")).unwrap();
    let tables: i64 = c
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(tables, 1, "nothing was created in the newer file");
}

/// A version-2 file, whose route templates and event roll-ups were kept in
/// tables created beside the versioned schema, opens as the current version
/// with both tables and their rows kept and in use.
#[test]
fn a_version_2_file_keeps_its_route_templates_and_rollups() {
    let dir = tempfile::tempdir().unwrap();
    file_at_version(
        dir.path(),
        2,
        "CREATE TABLE route_templates (product TEXT NOT NULL, template TEXT NOT NULL,
                 created_at_ms INTEGER NOT NULL, PRIMARY KEY (product, template)) WITHOUT ROWID;
             INSERT INTO route_templates VALUES ('p', '/a', 1);
             CREATE TABLE event_rollups (product TEXT NOT NULL, kind TEXT NOT NULL, test INTEGER NOT NULL,
                 month TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL, errors INTEGER NOT NULL,
                 PRIMARY KEY (product, kind, test, month, key)) WITHOUT ROWID;
         INSERT INTO event_rollups VALUES ('p', 'command', 0, '2020-09', 'tool build', 2, 1);",
    );
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.routes("p").unwrap(), ["/a"]);
    let added = store
        .add_routes("p", vec!["/a".into(), "/b".into()], NOV)
        .unwrap()
        .wait_blocking()
        .unwrap();
    assert_eq!(added, 1);
    let counts = store.event_counts("p", "command", false).unwrap();
    assert_eq!(
        (counts[0].month.as_str(), counts[0].count, counts[0].errors),
        ("2020-09", 2, 1)
    );
    assert_eq!(schema_version(store.path()), SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION, 11);
    // The version-5 step ran: the vocabulary table is there and in use.
    let added = store
        .add_words("p", vec![("flags".into(), "--force".into())], NOV)
        .unwrap()
        .wait_blocking()
        .unwrap();
    assert_eq!(added, 1);
}

/// A version-4 file gains the vocabulary table (the version-5 step alone)
/// and keeps what it had.
#[test]
fn a_version_4_file_gains_the_vocabulary_table() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        store
            .add_routes("p", vec!["/a".into()], NOV)
            .unwrap()
            .wait_blocking()
            .unwrap();
        store.close().unwrap();
    }
    let c = rusqlite::Connection::open(dir.path().join("sonde.db")).unwrap();
    c.execute_batch("DROP TABLE vocabulary; UPDATE meta SET value = 4 WHERE key = 'schema_version';")
        .unwrap();
    drop(c);
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(schema_version(store.path()), SCHEMA_VERSION);
    assert_eq!(store.routes("p").unwrap(), ["/a"]);
    assert!(store.words("p").unwrap().is_empty());
}

/// A version-8 file gains the upgrade tables, empty (raw pings never
/// kept what their check answered), keeps its pings and counts notices
/// from then on.
#[test]
fn a_version_8_file_gains_the_upgrade_tables_and_counts_from_then_on() {
    use sonde_store::Interval;
    let dir = tempfile::tempdir().unwrap();
    let told = |i: u32, version: &str, at: i64, told_outdated: bool| {
        let mut op = ping_op("p", Some(sig(i)), at);
        op.ping.version = Some(version.into());
        op.told_outdated = told_outdated;
        op
    };
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        record(&store, told(1, "1.0.0", NOV, false));
        store.close().unwrap();
    }
    let c = rusqlite::Connection::open(dir.path().join("sonde.db")).unwrap();
    c.execute_batch(
        "DROP TABLE outdated_notices; DROP TABLE notice_upgrades;
         UPDATE meta SET value = 7 WHERE key = 'schema_version';",
    )
    .unwrap();
    drop(c);
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(schema_version(store.path()), SCHEMA_VERSION);
    assert_eq!(store.ping_count("p").unwrap(), 1);
    let day = DayRange::new(Day::from_unix_ms(NOV), Day::from_unix_ms(NOV));
    assert_eq!(store.upgrades("p", day, Interval::Day, false).unwrap()[0].told, 0);
    record(&store, told(1, "1.0.0", NOV + 1, true));
    record(&store, told(1, "1.1.0", NOV + 2, false));
    let answer = store.upgrades("p", day, Interval::Day, false).unwrap();
    assert_eq!((answer[0].told, answer[0].upgraded_after.clone()), (1, vec![(0, 1)]));
}

/// Every analytics answer of `p` over November and December 2026.
fn analytics_answers(store: &dyn Store) -> Vec<String> {
    use sonde_store::{Dimension, Interval};
    let range = DayRange::new("2026-11-01".parse().unwrap(), "2026-12-31".parse().unwrap());
    let mut out = Vec::new();
    for ci in [false, true] {
        for interval in [Interval::Day, Interval::Week, Interval::Month] {
            out.push(format!("{:?}", store.active("p", range, interval, ci).unwrap()));
            for d in Dimension::ALL {
                out.push(format!("{:?}", store.breakdown("p", d, range, interval, ci).unwrap()));
            }
        }
        out.push(format!("{:?}", store.active_in("p", range, ci).unwrap()));
        let (from, to) = ("2026-11".parse().unwrap(), "2026-12".parse().unwrap());
        out.push(format!("{:?}", store.cohorts("p", from, to, ci).unwrap()));
    }
    out
}

/// A version-5 file gains the analytics roll-up tables (the version-6 step
/// alone), filled from its raw pings: every answer is the one the writer
/// gave while recording them, and pings recorded after the upgrade are
/// counted on top, once.
#[test]
fn a_version_5_file_gains_the_analytics_rollups_filled_from_its_pings() {
    let dir = tempfile::tempdir().unwrap();
    let day = |d: &str| d.parse::<Day>().unwrap().start_ms();
    let before = {
        let store = SqliteStore::open(dir.path()).unwrap();
        // 40 signatures over 29 November to 2 December, some daily, every
        // fifth in CI, two versions, a version change mid-period.
        for (d, at) in ["2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02"]
            .into_iter()
            .enumerate()
        {
            for i in (d as u32 * 10)..40 {
                let mut op = ping_op("p", Some(sig(i)), day(at) + i64::from(i));
                op.ping.ci = Some(i % 5 == 0);
                op.ping.version = Some(if i % 3 == 0 && d > 1 { "2.0.0" } else { "1.0.0" }.into());
                op.ping.os = Some(if i % 2 == 0 { "linux" } else { "darwin" }.into());
                record(&store, op);
            }
        }
        let answers = analytics_answers(&store);
        store.close().unwrap();
        answers
    };
    let c = rusqlite::Connection::open(dir.path().join("sonde.db")).unwrap();
    c.execute_batch(
        "DROP TABLE daily_signatures; DROP TABLE active_counts; DROP TABLE signature_cohorts;
         DROP TABLE cohort_activity; UPDATE meta SET value = 5 WHERE key = 'schema_version';",
    )
    .unwrap();
    drop(c);
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(schema_version(store.path()), SCHEMA_VERSION);
    assert_eq!(store.ping_count("p").unwrap(), 40 + 30 + 20 + 10);
    assert_eq!(analytics_answers(&store), before);
    // Signature 35 again on 2 December counts nothing new; signature 50 is new.
    record(&store, ping_op("p", Some(sig(35)), day("2026-12-02") + 100));
    record(&store, ping_op("p", Some(sig(50)), day("2026-12-02") + 100));
    let dec2 = DayRange::new("2026-12-02".parse().unwrap(), "2026-12-02".parse().unwrap());
    let days = store.active("p", dec2, sonde_store::Interval::Day, true).unwrap();
    assert_eq!(days[0].count, 11);
    let months = store.active("p", dec2, sonde_store::Interval::Month, true).unwrap();
    assert_eq!(months[0].count, 21);
    // Opening again does not fill twice.
    drop(store);
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(
        store.active("p", dec2, sonde_store::Interval::Day, true).unwrap()[0].count,
        11
    );
}

/// An event of product `p`, received at `at`.
fn event(id: u32, kind: EventKind, at: i64, fields: serde_json::Value) -> Event {
    Event {
        id: format!("{id:08x}-2222-4000-8000-000000000000"),
        kind,
        product: product("p"),
        test: false,
        occurred_at_ms: None,
        received_at_ms: at,
        fields: fields.as_object().unwrap().clone().into(),
    }
}

/// Stores events of product `p` and waits for the commit.
fn send(store: &SqliteStore, events: Vec<Event>) -> EventsStored {
    store
        .store_events(NewEvents {
            product: product("p"),
            source: "native",
            events,
            dropped: vec![],
        })
        .unwrap()
        .wait_blocking()
        .unwrap()
}

/// A version-6 file gains the command, console and heartbeat roll-ups (the
/// version-7 step), filled once from its raw events; events stored after
/// the upgrade are counted on top.
#[test]
fn a_version_6_file_gains_the_event_rollups_filled_from_its_events() {
    let dir = tempfile::tempdir().unwrap();
    let day = |d: &str| d.parse::<Day>().unwrap().start_ms();
    let uid = |n: u32| format!("00000000-0000-4000-8000-{n:012}");
    let nov = DayRange::new("2026-11-01".parse().unwrap(), "2026-12-31".parse().unwrap());
    let answers = |store: &SqliteStore| {
        (
            store
                .event_stats("p", sonde_store::EventGroup::Command, nov, sonde_store::Interval::Week)
                .unwrap(),
            store
                .event_stats(
                    "p",
                    sonde_store::EventGroup::ConsoleRoute,
                    nov,
                    sonde_store::Interval::Month,
                )
                .unwrap(),
            store.heartbeat_stats("p", nov, sonde_store::Interval::Month).unwrap(),
        )
    };
    let before = {
        let store = SqliteStore::open(dir.path()).unwrap();
        let mut events = Vec::new();
        for i in 0..30u32 {
            let at = day("2026-11-28") + i64::from(i) * 10_000_000;
            events.push(event(
                i,
                EventKind::Command,
                at,
                serde_json::json!({"command": if i % 2 == 0 { "t a" } else { "t b" }, "uuid": uid(i % 7), "is_error": i % 5 == 0}),
            ));
            events.push(event(
                100 + i,
                EventKind::Console,
                at,
                serde_json::json!({"event_type": "X", "url": "/r", "server_uuid": uid(i % 4)}),
            ));
            events.push(event(
                200 + i,
                EventKind::Heartbeat,
                at,
                serde_json::json!({"instance_uid": uid(i % 6), "metrics": {"tables": i}}),
            ));
        }
        send(&store, events);
        let a = answers(&store);
        assert_eq!(a.0.len(), 4, "{a:?}");
        store.close().unwrap();
        a
    };
    let c = Connection::open(dir.path().join("sonde.db")).unwrap();
    c.execute_batch(
        "DROP TABLE event_stats; DROP TABLE event_installations; DROP TABLE heartbeat_latest;
         UPDATE meta SET value = 6 WHERE key = 'schema_version';",
    )
    .unwrap();
    drop(c);
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(schema_version(store.path()), SCHEMA_VERSION);
    assert_eq!(answers(&store), before);
    drop(store);
    // Opening again does not fill twice; a new installation counts once.
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(answers(&store), before);
    let at = day("2026-12-01") + 1;
    send(
        &store,
        vec![
            event(
                900,
                EventKind::Command,
                at,
                serde_json::json!({"command": "t a", "uuid": uid(50)}),
            ),
            event(
                901,
                EventKind::Command,
                at,
                serde_json::json!({"command": "t a", "uuid": uid(50)}),
            ),
        ],
    );
    let after = answers(&store).0;
    let week = |rows: &[sonde_store::EventStatRow]| {
        rows.iter()
            .find(|r| r.period == "2026-11-30" && r.key == "t a")
            .map(|r| (r.count, r.installations))
            .unwrap()
    };
    let (n, inst) = week(&before.0);
    assert_eq!(week(&after), (n + 2, inst + 1));
}

/// A failed read is reported as a read failure (the collector answers 503),
/// with SQLite's error kept as its cause.
#[test]
fn a_failed_read_is_a_read_error_with_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    publish(&store, "demo", "1.0.0");
    let c = Connection::open(store.path()).unwrap();
    c.execute(
        "INSERT INTO version_constraints VALUES ('demo', 'db', '', '', 'not json')",
        [],
    )
    .unwrap();
    let err = store.load_catalog().unwrap_err();
    assert!(matches!(err, StoreError::Read { .. }), "{err:?}");
    assert!(err.is_unavailable());
    assert!(std::error::Error::source(&err).is_some());
}

/// Acknowledged error reports survive a restart, with their groups and the
/// duplicate check: the same id after reopening is still a duplicate.
#[test]
fn acknowledged_error_reports_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let pending: Vec<_> = (0..20)
        .map(|i| {
            let report = error_report(
                i,
                i % 5,
                "1.0.0",
                "linux",
                if i % 2 == 0 { "demo::a" } else { "demo::b" },
                i,
            );
            let new = sonde_store::NewErrorReport::new(product("demo"), report, NOV + i64::from(i), Vec::new());
            store.store_error_report(new).unwrap()
        })
        .collect();
    for p in pending {
        assert!(!p.wait_blocking().unwrap().duplicate);
    }
    let before = store.error_groups("demo").unwrap();
    drop(store);
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.error_report_count("demo").unwrap(), 20);
    assert_eq!(store.error_groups("demo").unwrap(), before);
    assert_eq!(before.len(), 2);
    assert_eq!((before[0].count, before[0].signatures), (10, 5));
    let again = store_report(&store, error_report(3, 3, "1.0.0", "linux", "demo::b", 3), NOV + 100);
    assert!(again.duplicate);
}

/// A version-9 file (before the error-group roll-ups) opens as the current
/// version with the roll-ups filled from its stored reports: the groups
/// answer as the in-memory reference fed the same reports does, before and
/// after a report stored once upgraded.
#[test]
fn a_version_9_file_gains_the_error_group_rollups_filled_from_its_reports() {
    let dir = tempfile::tempdir().unwrap();
    let reference = sonde_store::MemoryStore::new();
    let report = |i: u32| {
        let mut r = error_report(
            i,
            i % 7,
            ["1.0.0", "1.1.0"][(i % 3 % 2) as usize],
            ["linux", "macos", "windows"][(i % 4 % 3) as usize],
            ["demo::a", "demo::b", "demo::c"][(i / 2 % 3) as usize],
            i,
        );
        if i.is_multiple_of(6) {
            r.signature = None;
        }
        r
    };
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        for i in 0..60 {
            let at = NOV + i64::from((i * 13) % 60);
            store_report(&store, report(i), at);
            store_report(&reference, report(i), at);
        }
        store.close().unwrap();
    }
    let c = Connection::open(dir.path().join("sonde.db")).unwrap();
    c.execute_batch(
        "DROP TABLE error_groups; DROP TABLE error_group_signatures; DROP TABLE error_group_values;
         UPDATE meta SET value = 9 WHERE key = 'schema_version';",
    )
    .unwrap();
    drop(c);
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(schema_version(store.path()), SCHEMA_VERSION);
    let groups = store.error_groups("demo").unwrap();
    assert_eq!(groups.len(), 3);
    assert_eq!(groups.iter().map(|g| g.count).sum::<u64>(), 60);
    assert_eq!(groups, reference.error_groups("demo").unwrap());
    for g in &groups {
        assert_eq!(
            store.error_group("demo", &g.group).unwrap(),
            reference.error_group("demo", &g.group).unwrap()
        );
    }
    store_report(&store, report(100), NOV + 100);
    store_report(&reference, report(100), NOV + 100);
    assert_eq!(
        store.error_groups("demo").unwrap(),
        reference.error_groups("demo").unwrap()
    );
}

/// A version-3 file (before error reports) opens as the current version
/// with the error report table created and its rows kept.
#[test]
fn a_version_3_file_gets_the_error_report_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    publish(&store, "demo", "1.0.0");
    store.close().unwrap();
    drop(store);
    let c = Connection::open(dir.path().join("sonde.db")).unwrap();
    c.execute_batch(
        "DROP TABLE error_reports; DROP TABLE vocabulary; UPDATE meta SET value = 3 WHERE key = 'schema_version';",
    )
    .unwrap();
    drop(c);
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(schema_version(store.path()), SCHEMA_VERSION);
    assert_eq!(store.releases("demo").unwrap().len(), 1);
    let stored = store_report(&store, error_report(1, 1, "1.0.0", "linux", "demo::run", 1), NOV);
    assert!(!stored.duplicate);
    assert_eq!(store.error_report_count("demo").unwrap(), 1);
}

/// A signature's cohort is remembered across a restart: the writer reloads
/// the cohorts it keeps in memory from the file, so a returning signature
/// counts in its first month's cohort, and signatures first seen after the
/// restart are appended without clashing with those before it.
#[test]
fn cohorts_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let day = |d: &str| d.parse::<Day>().unwrap().start_ms();
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        for i in 0..10 {
            record(&store, ping_op("p", Some(sig(i)), day("2026-11-10") + i64::from(i)));
        }
        for i in 10..14 {
            record(&store, ping_op("p", Some(sig(i)), day("2026-12-01") + i64::from(i)));
        }
        store.close().unwrap();
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    // 0..6 return in December; 14..20 are new in December.
    for i in (0..6).chain(14..20) {
        record(&store, ping_op("p", Some(sig(i)), day("2026-12-03") + i64::from(i)));
    }
    let cells: Vec<_> = store
        .cohorts("p", "2026-11".parse().unwrap(), "2026-12".parse().unwrap(), true)
        .unwrap()
        .into_iter()
        .map(|c| (c.cohort.to_string(), c.month.to_string(), c.active))
        .collect();
    assert_eq!(
        cells,
        vec![
            ("2026-11".to_owned(), "2026-11".to_owned(), 10),
            ("2026-11".to_owned(), "2026-12".to_owned(), 6),
            ("2026-12".to_owned(), "2026-12".to_owned(), 10),
        ]
    );
    let c = Connection::open(store.path()).unwrap();
    let rows: i64 = c
        .query_row("SELECT COUNT(*) FROM signature_cohorts WHERE product = 'p'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(rows, 20, "one row per signature, in its first month");
}

/// Splitmix64: the generated activity below, the same on every run.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Generated activity: which signatures are active on which day (from
/// 2026-10-01), and the CI flag of each one's first ping of the day.
struct Activity {
    /// `(day, signature, ci)`, in the order the pings are recorded.
    seen: Vec<(i64, u32, bool)>,
}

impl Activity {
    /// The distinct signatures of days `a..=b`, each under the CI flag of
    /// its first day there.
    fn truth(&self, a: i64, b: i64, include_ci: bool) -> u64 {
        let mut first: std::collections::HashMap<u32, (i64, bool)> = std::collections::HashMap::new();
        for &(d, s, ci) in &self.seen {
            if d < a || d > b {
                continue;
            }
            let e = first.entry(s).or_insert((d, ci));
            if d < e.0 {
                *e = (d, ci);
            }
        }
        first.values().filter(|(_, ci)| include_ci || !ci).count() as u64
    }
}

fn oct(d: i64) -> Day {
    "2026-10-01".parse::<Day>().unwrap().add_days(d)
}

/// Records the pings of days `days` (200 signatures with different habits,
/// some in CI on some days, a second ping of the day with the other CI flag
/// for some), waiting for each day's writes.
fn record_days(store: &SqliteStore, activity: &mut Activity, days: std::ops::Range<i64>) {
    for d in days {
        let mut pending = Vec::new();
        for s in 0..200u32 {
            let h = mix((u64::from(s) << 32) | d as u64);
            if h % 100 >= [3, 15, 45, 90][s as usize % 4] {
                continue;
            }
            let ci = s % 6 == 0 && d % 2 == 1;
            let at = oct(d).start_ms() + i64::from(s) * 1000;
            for (k, ci) in [(0, ci), (1, !ci)] {
                if k == 1 && s % 5 != 0 {
                    continue;
                }
                let mut op = ping_op("p", Some(sig(s)), at + k);
                op.ping.ci = Some(ci);
                pending.push(store.record_ping(op).unwrap());
            }
            activity.seen.push((d, s, ci));
        }
        for p in pending {
            p.wait_blocking().unwrap();
        }
    }
}

/// Ranges of 1 to 45 days (every length at the edge of what the gap counts
/// answer) starting on each of the first 70 days, CI in and out.
fn check_every_range(store: &SqliteStore, activity: &Activity) {
    for a in 0..70 {
        for len in [1, 2, 7, 28, 30, 31, 32, 33, 45] {
            let b = a + len - 1;
            let range = DayRange::new(oct(a), oct(b));
            for ci in [false, true] {
                assert_eq!(
                    store.active_in("p", range, ci).unwrap(),
                    activity.truth(a, b, ci),
                    "{range:?} include_ci={ci}"
                );
            }
        }
    }
}

/// Distinct signatures over a range, read from the day-gap counts (up to
/// 32 days) or the daily sets (longer ranges, or near a ping that arrived
/// out of order), equal the generated activity: across a restart in the
/// middle, after a late ping for a day long past, and on a file whose gap
/// counts were filled by the version-8 step.
#[test]
fn distinct_signatures_over_any_range_match_the_generated_activity() {
    let dir = tempfile::tempdir().unwrap();
    let mut activity = Activity { seen: Vec::new() };
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        record_days(&store, &mut activity, 0..40);
        store.close().unwrap();
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    record_days(&store, &mut activity, 40..75);
    check_every_range(&store, &activity);

    // Signature 1 (active on few days) comes back on day 20, after its
    // latest day: that day's row cannot be given a gap, and ranges near it
    // are read from the daily sets.
    let late = (0..20)
        .rev()
        .find(|&d| !activity.seen.iter().any(|&(x, s, _)| x == d && s == 1));
    let late = late.expect("signature 1 is not active every day");
    record(&store, ping_op("p", Some(sig(1)), oct(late).start_ms() + 5));
    activity.seen.push((late, 1, false));
    check_every_range(&store, &activity);
    store.close().unwrap();

    let c = rusqlite::Connection::open(dir.path().join("sonde.db")).unwrap();
    c.execute_batch("DROP TABLE active_gaps; UPDATE meta SET value = 7 WHERE key = 'schema_version';")
        .unwrap();
    drop(c);
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(schema_version(store.path()), SCHEMA_VERSION);
    check_every_range(&store, &activity);
}

/// A version-10 file, whose `event_rollups` counted only the events
/// retention had deleted, gains the kept raw events in them once (the
/// version-11 step); from then on every event is counted as it is stored,
/// and retention deletes rows without changing a count.
#[test]
fn a_version_10_file_counts_its_kept_events_once_then_every_event_at_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let sept = "2020-09-15".parse::<Day>().unwrap().start_ms();
    let cmd = |id: u32, at: i64, command: &str, error: bool| {
        event(
            id,
            EventKind::Command,
            at,
            serde_json::json!({"command": command, "is_error": error}),
        )
    };
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        send(
            &store,
            vec![
                cmd(1, NOV, "tool build", true),
                cmd(2, NOV, "tool build", false),
                cmd(3, NOV, "tool deploy", false),
            ],
        );
        store.close().unwrap();
    }
    // What a version-10 file holds: rows for deleted events only (two
    // September builds, one failed), none for the kept ones.
    let c = Connection::open(dir.path().join("sonde.db")).unwrap();
    c.execute_batch(
        "DELETE FROM event_rollups;
         INSERT INTO event_rollups VALUES ('p', 'command', 0, '2020-09', 'tool build', 2, 1);
         UPDATE meta SET value = 10 WHERE key = 'schema_version';",
    )
    .unwrap();
    drop(c);
    let counts = |store: &SqliteStore| -> Vec<(String, String, u64, u64)> {
        store
            .event_counts("p", "command", false)
            .unwrap()
            .into_iter()
            .map(|c| (c.month, c.key, c.count, c.errors))
            .collect()
    };
    let row = |m: &str, k: &str, n: u64, e: u64| (m.to_owned(), k.to_owned(), n, e);
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(schema_version(store.path()), SCHEMA_VERSION);
    assert_eq!(
        counts(&store),
        [
            row("2020-09", "tool build", 2, 1),
            row("2026-11", "tool build", 2, 1),
            row("2026-11", "tool deploy", 1, 0)
        ]
    );
    // New events are counted at ingest; a re-sent one is not.
    let stored = send(
        &store,
        vec![cmd(4, NOV, "tool build", true), cmd(1, NOV, "tool build", true)],
    );
    assert_eq!((stored.stored, stored.duplicates), (1, 1));
    send(&store, vec![cmd(5, sept, "tool build", false)]);
    let before = counts(&store);
    assert_eq!(
        before,
        [
            row("2020-09", "tool build", 3, 1),
            row("2026-11", "tool build", 3, 2),
            row("2026-11", "tool deploy", 1, 0)
        ]
    );
    // Retention deletes the September event; the counts stay.
    assert_eq!(store.apply_retention(NOV - 1).unwrap().deleted, 1);
    assert_eq!(store.event_count("p").unwrap(), 4);
    assert_eq!(counts(&store), before);
    // Reopening does not fill them again.
    store.close().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(counts(&store), before);
}
