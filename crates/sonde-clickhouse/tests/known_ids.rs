//! The known event ids (`sonde_clickhouse::known_ids`) on a real
//! `clickhouse-server`: ClickHouse hashes ids as the writer does, a re-sent
//! event inside the remembered window is answered as a duplicate (also
//! after a restart, from the ids loaded at start), one outside it is stored
//! again and still counted once, and without the window every id is looked
//! up.

use sonde_clickhouse::known_ids::{hash, HASH_SQL};
use sonde_clickhouse::{ClickHouseOptions, ClickHouseStore, WriterOptions};
use sonde_protocol::{Event, EventKind, ProductName};
use sonde_store::{EventsStored, NewEvents, Store};
use sonde_testkit::clickhouse::ClickHouse;

/// One server for this file's tests, each in its own database.
fn server() -> &'static ClickHouse {
    static SERVER: std::sync::OnceLock<ClickHouse> = std::sync::OnceLock::new();
    SERVER.get_or_init(ClickHouse::start)
}

fn event(i: usize) -> Event {
    Event {
        id: format!("0190f5e2-0000-7000-8000-{i:012x}"),
        kind: EventKind::Command,
        product: ProductName::parse("tool").unwrap(),
        test: false,
        occurred_at_ms: Some(1),
        received_at_ms: 1_764_547_200_000,
        fields: serde_json::json!({"command": "tool build"})
            .as_object()
            .unwrap()
            .clone()
            .into(),
    }
}

fn send(store: &ClickHouseStore, ids: std::ops::Range<usize>) -> EventsStored {
    store
        .store_events(NewEvents {
            product: ProductName::parse("tool").unwrap(),
            source: "native",
            events: ids.map(event).collect(),
            dropped: vec![],
        })
        .unwrap()
        .wait_blocking()
        .unwrap()
}

fn open(ch: &ClickHouse, db: &str, dir: &std::path::Path, known_ids: usize) -> ClickHouseStore {
    let options = ClickHouseOptions {
        writer: WriterOptions {
            known_ids,
            ..WriterOptions::default()
        },
        ..ClickHouseOptions::default()
    };
    ClickHouseStore::open(&ch.url(db), dir, options).unwrap()
}

#[test]
fn clickhouse_hashes_product_and_id_as_the_writer_does() {
    let ch = server();
    let pairs = [
        ("tool", "0190f5e2-0000-7000-8000-000000000001"),
        ("", ""),
        ("a", "b"),
        ("prisma", "événement-ü-日本"),
        ("p", &"x".repeat(300)),
    ];
    for (product, id) in pairs {
        let sql = format!(
            "SELECT {HASH_SQL} FROM (SELECT {} AS product, {} AS id) FORMAT TSV",
            sonde_clickhouse::lit(product),
            sonde_clickhouse::lit(id)
        );
        let answer: u64 = ch.query(&sql).trim().parse().unwrap();
        assert_eq!(answer, hash(product, id), "{product:?} {id:?}");
    }
}

#[test]
fn a_re_sent_event_is_a_duplicate_inside_the_window_and_counted_once_outside_it() {
    let ch = server();
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(ch, "window", dir.path(), 100);
        for b in 0..3 {
            assert_eq!(send(&store, b * 100..b * 100 + 100).stored, 100);
        }
        // Remembered: the newest 100 to 200 ids.
        assert_eq!(send(&store, 250..260).duplicates, 10);
    }
    // After a restart the writer loads the newest 100 ids from ClickHouse.
    let store = open(ch, "window", dir.path(), 100);
    let inside = send(&store, 280..300);
    assert_eq!((inside.stored, inside.duplicates), (0, 20));
    // Forgotten: stored again, answered as stored, counted once.
    let outside = send(&store, 0..20);
    assert_eq!((outside.stored, outside.duplicates), (20, 0));
    assert_eq!(store.event_count("tool").unwrap(), 300);
    let rows: u64 = ch
        .query("SELECT count() FROM window.events FORMAT TSV")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(rows, 320, "the forgotten ids are stored again");
    // New ids after the restart are remembered as they are stored.
    assert_eq!(send(&store, 300..310).stored, 10);
    assert_eq!(send(&store, 300..310).duplicates, 10);
    assert_eq!(store.event_count("tool").unwrap(), 310);
}

#[test]
fn without_a_window_every_id_is_looked_up() {
    let ch = server();
    let dir = tempfile::tempdir().unwrap();
    let store = open(ch, "lookup", dir.path(), 0);
    for b in 0..3 {
        assert_eq!(send(&store, b * 100..b * 100 + 100).stored, 100);
    }
    drop(store);
    let store = open(ch, "lookup", dir.path(), 0);
    let again = send(&store, 0..300);
    assert_eq!((again.stored, again.duplicates), (0, 300));
    assert_eq!(store.event_count("tool").unwrap(), 300);
}
