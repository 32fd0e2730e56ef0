//! The store suite: what every backend must do, written against the `Store`
//! trait alone. Each backend's test file includes this module (and
//! `common`) and instantiates every test with [`store_suite!`]: SQLite and
//! the in-memory reference in `sonde-store`'s `tests/store_suite.rs`,
//! ClickHouse in `sonde-clickhouse`'s. A new test is added here once and
//! to the list in the macro; it then runs on every backend.
//!
//! `open` is a factory that opens the same store each time, as a restarted
//! process (or a second one) would.

#![allow(dead_code)]

use crate::common::{
    error_report, ping, ping_op, product, publish, record, release, report_id, sig, store_report, NOV, OCT,
};
use sonde_protocol::ping::Dropped;
use sonde_protocol::{DropReason, Event, EventKind, ProductName};
use sonde_store::{
    BreakdownRow, Day, DayRange, Dimension, EventCount, EventGroup, EventStatRow, EventsStored, HeartbeatPeriod,
    Interval, MemoryStore, NewAlert, NewEvents, NewPing, PeriodCount, SqliteStore, Store, StoreError,
    VersionConstraint,
};

pub(crate) type Open<'a> = &'a dyn Fn() -> Box<dyn Store>;

/// Stores `events` and waits for the commit.
pub(crate) fn store_events(store: &dyn Store, events: NewEvents) -> EventsStored {
    store.store_events(events).unwrap().wait_blocking().unwrap()
}

pub(crate) fn duplicate_events_are_ignored_and_counted(open: Open<'_>) {
    let store = open();
    let event = |id: &str| Event {
        id: id.into(),
        kind: EventKind::Command,
        product: product("demo"),
        test: false,
        occurred_at_ms: Some(1),
        received_at_ms: 2,
        fields: serde_json::json!({"command": "init"})
            .as_object()
            .unwrap()
            .clone()
            .into(),
    };
    let op = |ids: &[&str]| NewEvents {
        product: product("demo"),
        source: "native",
        events: ids.iter().map(|i| event(i)).collect(),
        dropped: vec![Dropped {
            field: "*",
            reason: DropReason::UnknownField,
        }],
    };
    let first = store_events(&*store, op(&["a", "b"]));
    assert_eq!(
        first,
        EventsStored {
            stored: 2,
            duplicates: 0
        }
    );
    let retry = store_events(&*store, op(&["a", "b", "c"]));
    assert_eq!(
        retry,
        EventsStored {
            stored: 1,
            duplicates: 2
        }
    );
    assert_eq!(store.event_count("demo").unwrap(), 3);
    // A large batch (the SQLite store writes it in chunks of 64, 32, ... rows):
    // 134 events, of which "a" and "c" are already stored and every tenth
    // new id is sent twice, the second copy in a later chunk.
    let mut ids: Vec<String> = (0..120).map(|i| format!("e{i}")).collect();
    ids.extend((0..120).step_by(10).map(|i| format!("e{i}")));
    ids.extend(["a", "c"].map(String::from));
    assert_eq!(ids.len(), 134);
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let large = store_events(&*store, op(&refs));
    assert_eq!(
        large,
        EventsStored {
            stored: 120,
            duplicates: 14
        }
    );
    assert_eq!(store.event_count("demo").unwrap(), 123);
    let rejections = store.rejections(Some("demo")).unwrap();
    assert_eq!(rejections.len(), 1);
    assert_eq!(
        (rejections[0].field.as_str(), rejections[0].reason.as_str()),
        ("*", "unknown_field")
    );
    assert_eq!(rejections[0].count, 3);
}

pub(crate) fn monthly_active_signatures_are_exact_across_months(open: Open<'_>) {
    let store = open();
    let mut pending = Vec::new();
    // October: signatures 0..50, each three times. November: 25..100, twice.
    for round in 0..3 {
        for i in 0..50 {
            pending.push(store.record_ping(ping_op("demo", Some(sig(i)), OCT + round)).unwrap());
        }
    }
    for round in 0..2 {
        for i in 25..100 {
            pending.push(store.record_ping(ping_op("demo", Some(sig(i)), NOV + round)).unwrap());
        }
    }
    // Other products and pings without a signature do not count.
    pending.push(store.record_ping(ping_op("other", Some(sig(1)), NOV)).unwrap());
    pending.push(store.record_ping(ping_op("demo", None, NOV)).unwrap());
    for p in pending {
        p.wait_blocking().unwrap();
    }
    assert_eq!(store.monthly_active("demo", "2026-10".parse().unwrap()).unwrap(), 50);
    assert_eq!(store.monthly_active("demo", "2026-11".parse().unwrap()).unwrap(), 75);
    assert_eq!(store.monthly_active("demo", "2026-12".parse().unwrap()).unwrap(), 0);
    assert_eq!(store.monthly_active("other", "2026-11".parse().unwrap()).unwrap(), 1);
    assert_eq!(store.ping_count("demo").unwrap(), 150 + 150 + 1);
}

pub(crate) fn reopen_keeps_everything(open: Open<'_>) {
    let alert_id;
    {
        let store = open();
        publish(&*store, "demo", "1.0.0");
        publish(&*store, "demo", "1.1.0-rc.1");
        let added = store
            .add_alert(NewAlert {
                product: "demo".into(),
                level: "critical".into(),
                message: "upgrade".into(),
                url: None,
                affects: Some("<1.0.1".into()),
                date: 5,
            })
            .unwrap()
            .wait_blocking()
            .unwrap();
        alert_id = added.id;
        store
            .set_versions(VersionConstraint {
                product: "demo".into(),
                service: "db".into(),
                minimum: "1.0.0".into(),
                maximum: "2.0.0".into(),
                excluding: vec!["1.5.0".into()],
            })
            .unwrap()
            .wait_blocking()
            .unwrap();
        let mut ping = ping("demo", Some(sig(7)), NOV);
        ping.version = None;
        record(
            &*store,
            NewPing {
                ping,
                source: "check",
                dropped: vec![Dropped {
                    field: "version",
                    reason: DropReason::TooLong,
                }],
                told_outdated: false,
            },
        );
        store.close().unwrap();
        assert!(matches!(
            store.record_ping(ping_op("demo", None, NOV)),
            Err(StoreError::Closed)
        ));
    }
    let store = open();
    let catalog = store.load_catalog().unwrap();
    assert_eq!(catalog.products, ["demo"]);
    assert_eq!(catalog.releases.len(), 2);
    assert_eq!(catalog.alerts.len(), 1);
    assert_eq!(catalog.alerts[0].id, alert_id);
    assert_eq!(catalog.alerts[0].affects.as_deref(), Some("<1.0.1"));
    assert_eq!(catalog.versions[0].excluding, ["1.5.0"]);
    assert_eq!(store.ping_count("demo").unwrap(), 1);
    assert_eq!(store.monthly_active("demo", "2026-11".parse().unwrap()).unwrap(), 1);
    let r = store.rejections(None).unwrap();
    assert_eq!(
        (r[0].field.as_str(), r[0].reason.as_str(), r[0].count),
        ("version", "too_long", 1)
    );
    // The first-seen set survives the restart: a known signature is not counted twice.
    record(&*store, ping_op("demo", Some(sig(7)), NOV + 5));
    record(&*store, ping_op("demo", Some(sig(8)), NOV + 6));
    assert_eq!(store.monthly_active("demo", "2026-11".parse().unwrap()).unwrap(), 2);
    // Writes still work after reopening, and alert ids are never reused.
    store.remove_alert(alert_id).unwrap().wait_blocking().unwrap();
    let b = store
        .add_alert(NewAlert {
            product: "demo".into(),
            level: "info".into(),
            message: "hi".into(),
            url: None,
            affects: None,
            date: 6,
        })
        .unwrap()
        .wait_blocking()
        .unwrap();
    assert!(b.id > alert_id);
}

pub(crate) fn catalog_generation_moves_with_catalog_changes_only(open: Open<'_>) {
    let store = open();
    let g0 = store.catalog_generation().unwrap();
    record(&*store, ping_op("demo", Some(sig(1)), NOV));
    assert_eq!(store.catalog_generation().unwrap(), g0);
    publish(&*store, "demo", "1.0.0");
    let g1 = store.catalog_generation().unwrap();
    assert!(g1 > g0);
    // A second process (another store on the same data) sees and makes changes.
    let other = open();
    other
        .publish_release(release("demo", "1.1.0"), NOV)
        .unwrap()
        .wait_blocking()
        .unwrap();
    assert!(store.catalog_generation().unwrap() > g1);
    assert_eq!(store.releases("demo").unwrap().len(), 2);
    assert_eq!(
        store.load_catalog().unwrap().generation,
        store.catalog_generation().unwrap()
    );
}

pub(crate) fn alerts_need_a_registered_product_and_write_nothing_otherwise(open: Open<'_>) {
    let store = open();
    let g0 = store.catalog_generation().unwrap();
    let err = store
        .add_alert(NewAlert {
            product: "ghost".into(),
            level: "info".into(),
            message: "x".into(),
            url: None,
            affects: None,
            date: 1,
        })
        .unwrap()
        .wait_blocking()
        .unwrap_err();
    assert!(
        matches!(err, StoreError::UnknownProduct(ref p) if p == "ghost"),
        "{err}"
    );
    assert!(store.alerts(None).unwrap().is_empty());
    assert_eq!(store.catalog_generation().unwrap(), g0);
}

pub(crate) fn retention_keeps_counts_and_deletes_rows(open: Open<'_>) {
    let store = open();
    let event = |id: u32, kind: EventKind, received: i64, test: bool, fields: serde_json::Value| Event {
        id: format!("00000000-0000-4000-8000-{id:012}"),
        kind,
        product: ProductName::parse("p").unwrap(),
        test,
        occurred_at_ms: None,
        received_at_ms: received,
        fields: fields.as_object().unwrap().clone().into(),
    };
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
    store_events(
        &*store,
        NewEvents {
            product: ProductName::parse("p").unwrap(),
            source: "native",
            events,
            dropped: vec![],
        },
    );
    let before = store.event_counts("p", "command", false).unwrap();
    let out = store.apply_retention(new - 1).unwrap();
    assert_eq!(out.deleted, 3);
    assert_eq!(store.event_count("p").unwrap(), 1);
    let after = store.event_counts("p", "command", false).unwrap();
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
    assert_eq!(store.event_counts("p", "command", true).unwrap()[0].count, 3);
    assert_eq!(store.apply_retention(new - 1).unwrap().deleted, 0);
}

pub(crate) fn routes_are_stored_once(open: Open<'_>) {
    let store = open();
    let t = vec!["/b/:id".to_owned(), "/a".to_owned()];
    let add = |at| store.add_routes("p", t.clone(), at).unwrap().wait_blocking().unwrap();
    assert_eq!(add(1), 2);
    assert_eq!(add(2), 0);
    assert_eq!(store.routes("p").unwrap(), ["/a", "/b/:id"]);
    assert!(store.routes("q").unwrap().is_empty());
}

pub(crate) fn error_reports_are_stored_once_and_grouped(open: Open<'_>) {
    let store = open();
    let a = store_report(
        &*store,
        error_report(1, 1, "1.0.0", "linux", "demo::run::h0123456789abcdef", 12),
        NOV,
    );
    assert!(!a.duplicate);
    assert!(a.group.starts_with("v1:"));
    // The same report again, even with other content: stored once, same group.
    let retry = store_report(
        &*store,
        error_report(1, 9, "9.9.9", "windows", "demo::other", 1),
        NOV + 5,
    );
    assert_eq!(
        retry,
        sonde_store::ReportStored {
            report_id: report_id(1),
            group: a.group.clone(),
            duplicate: true
        }
    );
    // The same place on another line of a later build: the same group.
    let b = store_report(
        &*store,
        error_report(2, 2, "1.1.0", "macos", "demo::run::hfedcba9876543210", 40),
        NOV + 10,
    );
    assert_eq!(b.group, a.group);
    let c = store_report(
        &*store,
        error_report(3, 1, "1.1.0", "linux", "demo::apply", 7),
        NOV + 20,
    );
    assert_ne!(c.group, a.group);
    let d = store_report(&*store, error_report(4, 1, "1.1.0", "linux", "demo::run", 13), NOV + 30);
    assert_eq!(d.group, a.group);
    assert_eq!(store.error_report_count("demo").unwrap(), 4);

    let groups = store.error_groups("demo").unwrap();
    assert_eq!(groups.len(), 2);
    let g = &groups[0];
    assert_eq!(g.group, a.group, "latest seen first");
    assert_eq!((g.count, g.signatures), (3, 2));
    assert_eq!((g.first_seen_ms, g.last_seen_ms), (NOV, NOV + 30));
    let counts = |v: &[sonde_store::ValueCount]| v.iter().map(|c| (c.value.clone(), c.count)).collect::<Vec<_>>();
    assert_eq!(counts(&g.versions), [("1.1.0".to_owned(), 2), ("1.0.0".to_owned(), 1)]);
    assert_eq!(counts(&g.os), [("linux".to_owned(), 2), ("macos".to_owned(), 1)]);
    assert_eq!((g.kind.as_str(), g.message.as_str()), ("std::io::Error", "report 4"));
    assert_eq!((groups[1].group.as_str(), groups[1].count), (c.group.as_str(), 1));

    let detail = store.error_group("demo", &a.group).unwrap().unwrap();
    assert_eq!(&detail.group, g);
    assert_eq!(detail.sample.received_at_ms, NOV + 30);
    assert_eq!(
        detail.sample.report,
        error_report(4, 1, "1.1.0", "linux", "demo::run", 13),
        "the latest report, as stored"
    );
    assert!(store.error_group("demo", "v1:0000000000000000").unwrap().is_none());
    assert!(store.error_group("other", &a.group).unwrap().is_none());
    assert!(store.error_groups("other").unwrap().is_empty());
}

pub(crate) fn error_report_drops_are_counted(open: Open<'_>) {
    let store = open();
    let dropped = vec![Dropped {
        field: "*",
        reason: DropReason::UnknownField,
    }];
    for _ in 0..2 {
        let new = sonde_store::NewErrorReport::new(
            product("demo"),
            error_report(1, 1, "1.0.0", "linux", "demo::run", 1),
            NOV,
            dropped.clone(),
        );
        store.store_error_report(new).unwrap().wait_blocking().unwrap();
    }
    let r = store.rejections(Some("demo")).unwrap();
    assert_eq!(
        (
            r[0].source.as_str(),
            r[0].field.as_str(),
            r[0].reason.as_str(),
            r[0].count
        ),
        ("error_report", "*", "unknown_field", 2)
    );
}

pub(crate) fn retention_deletes_old_error_reports_and_their_groups(open: Open<'_>) {
    let store = open();
    // Group A: two old reports and one new; group B: old only.
    let a1 = store_report(&*store, error_report(1, 1, "1.0.0", "linux", "demo::run", 1), OCT);
    store_report(&*store, error_report(2, 2, "1.0.0", "linux", "demo::run", 2), OCT + 1);
    store_report(&*store, error_report(3, 3, "1.1.0", "macos", "demo::run", 3), NOV);
    let b = store_report(&*store, error_report(4, 1, "1.0.0", "linux", "demo::apply", 1), OCT + 2);
    let out = store.apply_retention(NOV - 1).unwrap();
    assert_eq!(out.error_reports_deleted, 3);
    assert_eq!(store.error_report_count("demo").unwrap(), 1);
    let groups = store.error_groups("demo").unwrap();
    assert_eq!(groups.len(), 1, "a group with no report left is gone");
    let g = &groups[0];
    assert_eq!(g.group, a1.group);
    assert_eq!(
        (g.count, g.signatures, g.first_seen_ms, g.last_seen_ms),
        (1, 1, NOV, NOV)
    );
    assert_eq!(g.versions.len(), 1);
    assert!(store.error_group("demo", &b.group).unwrap().is_none());
    // A deleted report's id may come again: it is stored as new.
    let again = store_report(&*store, error_report(1, 1, "1.0.0", "linux", "demo::run", 1), NOV + 1);
    assert!(!again.duplicate);
    assert_eq!(store.apply_retention(NOV - 1).unwrap().error_reports_deleted, 0);
}

/// One generated report as the group figures see it.
struct Generated {
    n: u32,
    function: String,
    signature: Option<u32>,
    version: Option<&'static str>,
    os: Option<&'static str>,
    at: i64,
}

/// The report of `g`, with the fields it leaves out cleared.
fn generated_report(g: &Generated) -> sonde_protocol::error_report::ErrorReport {
    let mut r = error_report(
        g.n,
        g.signature.unwrap_or(0),
        g.version.unwrap_or("0.0.0"),
        g.os.unwrap_or("linux"),
        &g.function,
        g.n,
    );
    if g.signature.is_none() {
        r.signature = None;
    }
    r.version = g.version.map(Into::into);
    r.os = g.os.map(Into::into);
    r
}

/// The expected answer for the reports `kept` (in storage order), figured
/// by counting them here: per group (function) `(function, count,
/// signatures, first, last, versions ranked, os ranked, latest n)`, latest
/// seen first, then by the group id `ids` gives each function.
type Expected = (String, u64, u64, i64, i64, Vec<(String, u64)>, Vec<(String, u64)>, u32);
fn expected_groups(kept: &[&Generated], ids: &std::collections::HashMap<String, String>) -> Vec<Expected> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut by: BTreeMap<&str, Vec<&Generated>> = BTreeMap::new();
    for g in kept {
        by.entry(g.function.as_str()).or_default().push(g);
    }
    let rank = |values: Vec<&str>| {
        let mut m: BTreeMap<String, u64> = BTreeMap::new();
        for v in values {
            *m.entry(v.to_owned()).or_default() += 1;
        }
        let mut v: Vec<(String, u64)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    };
    let mut out: Vec<Expected> = by
        .into_iter()
        .map(|(f, rs)| {
            (
                f.to_owned(),
                rs.len() as u64,
                rs.iter().filter_map(|g| g.signature).collect::<BTreeSet<_>>().len() as u64,
                rs.iter().map(|g| g.at).min().unwrap(),
                rs.iter().map(|g| g.at).max().unwrap(),
                rank(rs.iter().filter_map(|g| g.version).collect()),
                rank(rs.iter().filter_map(|g| g.os).collect()),
                rs.last().unwrap().n,
            )
        })
        .collect();
    out.sort_by(|a, b| b.4.cmp(&a.4).then_with(|| ids[&a.0].cmp(&ids[&b.0])));
    out
}

/// The store's answer in the shape of [`expected_groups`].
fn answered_groups(store: &dyn Store, functions: &std::collections::HashMap<String, String>) -> Vec<Expected> {
    let pairs = |v: &[sonde_store::ValueCount]| v.iter().map(|c| (c.value.clone(), c.count)).collect::<Vec<_>>();
    store
        .error_groups("demo")
        .unwrap()
        .iter()
        .map(|g| {
            let detail = store
                .error_group("demo", &g.group)
                .unwrap()
                .expect("listed group has a detail");
            assert_eq!(&detail.group, g, "the detail holds the listed figures");
            assert_eq!(
                g.message, detail.sample.report.message,
                "kind and message are the sample's"
            );
            let latest: u32 = detail.sample.report.message["report ".len()..].parse().unwrap();
            (
                functions[&g.group].clone(),
                g.count,
                g.signatures,
                g.first_seen_ms,
                g.last_seen_ms,
                pairs(&g.versions),
                pairs(&g.os),
                latest,
            )
        })
        .collect()
}

pub(crate) fn error_group_figures_match_the_generated_reports(open: Open<'_>) {
    use std::collections::HashMap;
    const VERSIONS: [&str; 3] = ["1.0.0", "1.1.0", "2.0.0"];
    const OSES: [&str; 3] = ["linux", "macos", "windows"];
    // 240 reports over 6 groups of uneven sizes, signatures repeating
    // within and across groups, some reports without a signature, version
    // or OS, received out of storage order (first and last seen are not the
    // first and last stored). Group `demo::old5` is all received early.
    let generated: Vec<Generated> = (1..=240u32)
        .map(|n| {
            let k = (n * n) % 11;
            let group = if k < 5 { k } else { k % 3 };
            let function = if n % 40 == 7 {
                "demo::old5".to_owned()
            } else {
                format!("demo::f{group}")
            };
            let old = function == "demo::old5";
            Generated {
                n,
                function,
                signature: (n % 13 != 0).then_some((n * 7) % 23),
                version: (n % 17 != 0).then_some(VERSIONS[(n % 5 % 3) as usize]),
                os: (n % 19 != 0).then_some(OSES[(n / 7 % 3) as usize]),
                at: if old {
                    OCT + i64::from(n)
                } else {
                    OCT + i64::from((n * 97) % 241) * 1000
                },
            }
        })
        .collect();
    let mut store = open();
    let mut ids: HashMap<String, String> = HashMap::new();
    for (i, g) in generated.iter().enumerate() {
        if i == 120 {
            // A restart in the middle: later reports add to what is kept.
            drop(store);
            store = open();
            // The same report id again, with other content: nothing changes.
            let again = Generated {
                n: 5,
                function: "demo::f9".into(),
                signature: Some(99),
                version: Some("9.9.9"),
                os: Some("linux"),
                at: NOV,
            };
            let dup = store_report(&*store, generated_report(&again), NOV);
            assert!(dup.duplicate);
            assert_eq!(dup.group, ids[&generated[4].function]);
        }
        let stored = store_report(&*store, generated_report(g), g.at);
        assert!(!stored.duplicate);
        let id = ids.entry(g.function.clone()).or_insert_with(|| stored.group.clone());
        assert_eq!(id, &stored.group, "one function, one group");
    }
    let functions: HashMap<String, String> = ids.iter().map(|(f, id)| (id.clone(), f.clone())).collect();
    assert_eq!(ids.len(), 6);

    let all: Vec<&Generated> = generated.iter().collect();
    let expected = expected_groups(&all, &ids);
    // The answer is not trivially uniform: the figures differ per group.
    assert!(expected.iter().any(|e| e.1 != e.2) && expected.iter().any(|e| e.5.len() == 3));
    assert_eq!(answered_groups(&*store, &functions), expected);
    assert_eq!(store.error_report_count("demo").unwrap(), 240);

    // Retention keeps what was received from `cutoff` on: some groups
    // shrink, `demo::old5` is gone, and the figures are those of the rest.
    let cutoff = OCT + 120 * 1000;
    let kept: Vec<&Generated> = generated.iter().filter(|g| g.at >= cutoff).collect();
    let out = store.apply_retention(cutoff).unwrap();
    assert_eq!(out.error_reports_deleted, (240 - kept.len()) as u64);
    let expected = expected_groups(&kept, &ids);
    assert_eq!(expected.len(), 5);
    assert_eq!(answered_groups(&*store, &functions), expected);
    assert!(store.error_group("demo", &ids["demo::old5"]).unwrap().is_none());

    // After a restart, a new report lands on the figures retention left.
    drop(store);
    let store = open();
    let late = Generated {
        n: 1000,
        function: "demo::f1".into(),
        signature: Some(500),
        version: Some("3.0.0"),
        os: None,
        at: NOV,
    };
    store_report(&*store, generated_report(&late), NOV);
    let mut kept = kept;
    kept.push(&late);
    assert_eq!(answered_groups(&*store, &functions), expected_groups(&kept, &ids));
}

pub(crate) fn vocabulary_words_are_stored_once_per_kind(open: Open<'_>) {
    let store = open();
    let w = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    let words = vec![
        w("flags", "--force"),
        w("commands", "tool deploy"),
        w("flags", "--dry-run"),
    ];
    let add = |at, words: Vec<(String, String)>| store.add_words("p", words, at).unwrap().wait_blocking().unwrap();
    assert_eq!(add(1, words.clone()), 3);
    assert_eq!(add(2, words), 0);
    // The same word under another kind is another word.
    assert_eq!(add(3, vec![w("event_types", "--force")]), 1);
    assert_eq!(
        store.words("p").unwrap(),
        [
            w("commands", "tool deploy"),
            w("event_types", "--force"),
            w("flags", "--dry-run"),
            w("flags", "--force")
        ]
    );
    assert!(store.words("q").unwrap().is_empty());
}

/// A ping of `p` from `sig(i)` at `at`, with the attributes the analytics
/// data set gives signature `i`: every tenth in CI, versions 1.0.0, 1.1.0,
/// 1.2.0 in turn, Linux for even numbers and macOS for odd ones.
pub(crate) fn analytics_ping(p: &str, i: u32, at: i64) -> NewPing {
    let mut op = ping_op(p, Some(sig(i)), at);
    op.ping.ci = Some(i.is_multiple_of(10));
    op.ping.ci_name = i.is_multiple_of(10).then(|| "github_actions".into());
    op.ping.version = Some(["1.0.0", "1.1.0", "1.2.0"][(i % 3) as usize].into());
    op.ping.os = Some(["linux", "darwin"][(i % 2) as usize].into());
    op
}

/// Midnight UTC of `day` (`YYYY-MM-DD`), Unix milliseconds.
pub(crate) fn at(day: &str) -> i64 {
    day.parse::<Day>().unwrap().start_ms()
}

pub(crate) fn range(from: &str, to: &str) -> DayRange {
    DayRange::new(from.parse().unwrap(), to.parse().unwrap())
}

/// Records the analytics data set into `demo`, in order of receipt:
///
/// - November: signatures 0..1234, signature `i` on day `1 + i % 30` at
///   noon, twice; those divisible by 7 again on 30 November at
///   23:59:59.999.
/// - 1 December at 00:00:00.000: signatures 1000..1500 (234 returning,
///   266 new).
/// - 2 December: signature 5000 first from CI on 1.2.0, then from a
///   human on 2.0.0: it counts as CI, on 1.2.0.
/// - Noise that must not count: another product, pings without a signature.
pub(crate) fn record_analytics_data(store: &dyn Store) {
    let mut pending = Vec::new();
    let mut send = |op: NewPing| pending.push(store.record_ping(op).unwrap());
    for day in 0..30 {
        let noon = at("2026-11-01") + day * 86_400_000 + 43_200_000;
        for i in (0..1234).filter(|i| i64::from(i % 30) == day) {
            send(analytics_ping("demo", i, noon));
            send(analytics_ping("demo", i, noon + 1));
        }
        send(ping_op("demo", None, noon));
    }
    for i in (0..1234).step_by(7) {
        send(analytics_ping("demo", i, at("2026-12-01") - 1));
    }
    for i in 1000..1500 {
        send(analytics_ping("demo", i, at("2026-12-01")));
    }
    let mut first = analytics_ping("demo", 5000, at("2026-12-02") + 36_000_000);
    first.ping.version = Some("1.2.0".into());
    send(first);
    let mut later = analytics_ping("demo", 5001, at("2026-12-02") + 39_600_000);
    later.ping.signature = Some(sig(5000));
    later.ping.version = Some("2.0.0".into());
    send(later);
    for i in 0..3 {
        send(analytics_ping("other", i, at("2026-11-30")));
    }
    for p in pending {
        p.wait_blocking().unwrap();
    }
}

pub(crate) fn counts(rows: &[PeriodCount]) -> Vec<(&str, u64)> {
    rows.iter().map(|r| (r.period.as_str(), r.count)).collect()
}

/// Whether generated signature `i` pings on day `t` of the rolling test:
/// signature `i` pings on about one day in `1 + i % 13`, so gaps of every
/// length up to weeks occur, some longer than a month.
fn rolling_active(i: u32, t: i64) -> bool {
    let t = t as u64;
    let h = (u64::from(i) * 7_919 + t * t * 104_729 + u64::from(i) * t * 31).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
    h.is_multiple_of(u64::from(1 + i % 13) + u64::from(i % 5 == 4) * 20)
}

pub(crate) fn rolling_actives_count_each_window_exactly(open: Open<'_>) {
    const SIGS: u32 = 90;
    const DAYS: i64 = 62;
    let start: Day = "2026-10-01".parse().unwrap();
    let ci = |i: u32| i.is_multiple_of(10);
    let ping = |i: u32, t: i64| {
        let mut op = ping_op("demo", Some(sig(i)), start.add_days(t).start_ms() + i64::from(i) * 1000);
        op.ping.ci = Some(ci(i));
        op
    };
    let mut active: std::collections::HashSet<(u32, i64)> = std::collections::HashSet::new();
    let mut store = open();
    for t in 0..DAYS {
        if t == 40 {
            // A restart in the middle: the writer reloads what it keeps.
            drop(store);
            store = open();
        }
        for i in 1..=SIGS {
            if rolling_active(i, t) {
                record(&*store, ping(i, t));
                active.insert((i, t));
            }
        }
    }
    // A ping for a day before its signature's latest active day (a clock
    // that went back): windows near it are still exact.
    let late = (1..=SIGS).find(|&i| !active.contains(&(i, 45)) && !ci(i)).unwrap();
    record(&*store, ping(late, 45));
    active.insert((late, 45));

    let truth = |d: i64, window: i64, include_ci: bool| {
        (1..=SIGS)
            .filter(|&i| include_ci || !ci(i))
            .filter(|&i| (d - window + 1..=d).any(|t| active.contains(&(i, t))))
            .count() as u64
    };
    let check = |from: i64, to: i64, window: u32, include_ci: bool| {
        let r = DayRange::new(start.add_days(from), start.add_days(to));
        let answer = store.rolling("demo", r, window, include_ci).unwrap();
        let expected: Vec<(String, u64)> = (from..=to)
            .map(|d| (start.add_days(d).to_string(), truth(d, i64::from(window), include_ci)))
            .collect();
        let got: Vec<(String, u64)> = answer.iter().map(|p| (p.period.clone(), p.count)).collect();
        assert_eq!(got, expected, "window {window}, CI {include_ci}");
        assert!(answer.iter().all(|p| p.new == 0));
        // Each day's figure is the distinct count of its window.
        for p in answer.iter().step_by(9).filter(|_| window > 0) {
            let d: Day = p.period.parse().unwrap();
            let w = DayRange::new(d.add_days(1 - i64::from(window)), d);
            assert_eq!(store.active_in("demo", w, include_ci).unwrap(), p.count);
        }
        got
    };
    for window in [1, 7, 28, 30] {
        for include_ci in [false, true] {
            let got = check(30, DAYS - 1, window, include_ci);
            assert!(got.iter().any(|(_, n)| *n > 0));
        }
    }
    // The windows are not all alike: a longer window holds more.
    assert!(check(40, 40, 28, true)[0].1 > check(40, 40, 7, true)[0].1);
    // Longer than the day-gap horizon, and before any ping.
    check(50, DAYS - 1, 45, true);
    check(-10, 3, 7, true);
    assert_eq!(
        check(20, 21, 0, true),
        [(start.add_days(20).to_string(), 0), (start.add_days(21).to_string(), 0)]
    );
    assert_eq!(
        store
            .rolling("other", DayRange::new(start, start.add_days(1)), 7, true)
            .unwrap()
            .iter()
            .map(|p| p.count)
            .collect::<Vec<_>>(),
        [0, 0]
    );
}

pub(crate) fn active_signatures_are_exact_per_day_week_month_and_range(open: Open<'_>) {
    let store = open();
    record_analytics_data(&*store);
    let active = |from, to, interval, ci| store.active("demo", range(from, to), interval, ci).unwrap();
    // Months: 1,234 distinct in November (124 of them CI), 501 in December.
    let months = active("2026-11-10", "2026-12-31", Interval::Month, true);
    assert_eq!(counts(&months), [("2026-11", 1234), ("2026-12", 501)]);
    let months = active("2026-11-01", "2026-12-01", Interval::Month, false);
    assert_eq!(counts(&months), [("2026-11", 1110), ("2026-12", 450)]);
    assert_eq!(store.monthly_active("demo", "2026-11".parse().unwrap()).unwrap(), 1234);
    // Days on either side of the month boundary; 1 November holds only
    // multiples of 30, all CI.
    let days = active("2026-11-29", "2026-12-03", Interval::Day, true);
    assert_eq!(
        counts(&days),
        [
            ("2026-11-29", 41),
            ("2026-11-30", 212),
            ("2026-12-01", 500),
            ("2026-12-02", 1),
            ("2026-12-03", 0)
        ]
    );
    let days = active("2026-11-29", "2026-12-02", Interval::Day, false);
    assert_eq!(
        counts(&days),
        [
            ("2026-11-29", 41),
            ("2026-11-30", 194),
            ("2026-12-01", 450),
            ("2026-12-02", 0)
        ]
    );
    assert_eq!(
        counts(&active("2026-11-01", "2026-11-01", Interval::Day, true)),
        [("2026-11-01", 42)]
    );
    assert_eq!(
        counts(&active("2026-11-01", "2026-11-01", Interval::Day, false)),
        [("2026-11-01", 0)]
    );
    // ISO weeks, counted whole: the one from Monday 30 November spans both months.
    let weeks = active("2026-11-29", "2026-12-01", Interval::Week, true);
    assert_eq!(counts(&weeks), [("2026-11-23", 287), ("2026-11-30", 672)]);
    let weeks = active("2026-11-30", "2026-11-30", Interval::Week, false);
    assert_eq!(counts(&weeks), [("2026-11-30", 606)]);
    // A rolling range.
    assert_eq!(
        store
            .active_in("demo", range("2026-11-24", "2026-12-01"), true)
            .unwrap(),
        841
    );
    assert_eq!(
        store
            .active_in("demo", range("2026-11-24", "2026-12-01"), false)
            .unwrap(),
        776
    );
    assert_eq!(
        store
            .active_in("other", range("2026-11-01", "2026-12-31"), true)
            .unwrap(),
        3
    );
    assert_eq!(
        store
            .active_in("nobody", range("2026-11-01", "2026-12-31"), true)
            .unwrap(),
        0
    );
    // A restart reloads the daily and monthly sets: pings seen again do not
    // count again.
    drop(store);
    let store = open();
    for i in 1000..1010 {
        record(&*store, analytics_ping("demo", i, at("2026-12-01") + 5));
    }
    let days = store
        .active("demo", range("2026-12-01", "2026-12-01"), Interval::Day, true)
        .unwrap();
    assert_eq!(counts(&days), [("2026-12-01", 500)]);
    let months = store
        .active("demo", range("2026-12-01", "2026-12-01"), Interval::Month, true)
        .unwrap();
    assert_eq!(counts(&months), [("2026-12", 501)]);
}

pub(crate) fn rows(rows: &[BreakdownRow]) -> Vec<(&str, &str, u64)> {
    rows.iter()
        .map(|r| (r.period.as_str(), r.value.as_str(), r.count))
        .collect()
}

pub(crate) fn breakdowns_count_each_signature_once_under_its_first_ping(open: Open<'_>) {
    let store = open();
    record_analytics_data(&*store);
    let breakdown = |dimension, from, to, interval, ci| {
        store
            .breakdown("demo", dimension, range(from, to), interval, ci)
            .unwrap()
    };
    let versions = breakdown(Dimension::Version, "2026-11-01", "2026-12-31", Interval::Month, false);
    assert_eq!(
        rows(&versions),
        [
            ("2026-11", "1.0.0", 370),
            ("2026-11", "1.1.0", 370),
            ("2026-11", "1.2.0", 370),
            ("2026-12", "1.0.0", 150),
            ("2026-12", "1.1.0", 150),
            ("2026-12", "1.2.0", 150),
        ]
    );
    // With CI: signature 5000 counts under 1.2.0, its first version; 2.0.0
    // never appears.
    let versions = breakdown(Dimension::Version, "2026-12-01", "2026-12-02", Interval::Month, true);
    assert_eq!(
        rows(&versions),
        [
            ("2026-12", "1.0.0", 166),
            ("2026-12", "1.1.0", 167),
            ("2026-12", "1.2.0", 168)
        ]
    );
    let daily = breakdown(Dimension::Version, "2026-12-01", "2026-12-03", Interval::Day, true);
    assert_eq!(
        rows(&daily),
        [
            ("2026-12-01", "1.0.0", 166),
            ("2026-12-01", "1.1.0", 167),
            ("2026-12-01", "1.2.0", 167),
            ("2026-12-02", "1.2.0", 1),
        ]
    );
    let os = breakdown(Dimension::Os, "2026-12-01", "2026-12-01", Interval::Week, false);
    assert_eq!(rows(&os), [("2026-11-30", "darwin", 349), ("2026-11-30", "linux", 257)]);
    // CI vendors: humans report none.
    let vendors = breakdown(Dimension::CiName, "2026-11-01", "2026-11-30", Interval::Month, true);
    assert_eq!(
        rows(&vendors),
        [("2026-11", "", 1110), ("2026-11", "github_actions", 124)]
    );
    let runtimes = breakdown(Dimension::Runtime, "2026-12-02", "2026-12-02", Interval::Day, true);
    assert_eq!(rows(&runtimes), [("2026-12-02", "", 1)]);
}

pub(crate) fn cohorts_follow_signatures_from_their_first_month(open: Open<'_>) {
    let store = open();
    record_analytics_data(&*store);
    let cells = |from: &str, to: &str, ci| {
        store
            .cohorts("demo", from.parse().unwrap(), to.parse().unwrap(), ci)
            .unwrap()
            .into_iter()
            .map(|c| (c.cohort, c.month, c.active))
            .collect::<Vec<_>>()
    };
    let s = |c: &str, m: &str, n| (c.to_owned(), m.to_owned(), n);
    assert_eq!(
        cells("2026-11", "2026-12", true),
        [
            s("2026-11", "2026-11", 1234),
            s("2026-11", "2026-12", 234),
            s("2026-12", "2026-12", 267)
        ]
    );
    assert_eq!(
        cells("2026-11", "2026-12", false),
        [
            s("2026-11", "2026-11", 1110),
            s("2026-11", "2026-12", 210),
            s("2026-12", "2026-12", 240)
        ]
    );
    // Months after `to` are left out, cohorts before `from` too.
    assert_eq!(cells("2026-11", "2026-11", true), [s("2026-11", "2026-11", 1234)]);
    assert_eq!(cells("2026-12", "2026-12", true), [s("2026-12", "2026-12", 267)]);
    // New against returning: a month's new signatures are its cohort, the
    // rest of its active ones return; whatever the interval, the new ones of
    // a period add up over its days.
    let new = |from, to, interval, ci| -> Vec<(String, u64, u64)> {
        store
            .active("demo", range(from, to), interval, ci)
            .unwrap()
            .into_iter()
            .map(|p| (p.period, p.count, p.new))
            .collect()
    };
    let months = new("2026-11-01", "2026-12-31", Interval::Month, true);
    assert_eq!(
        months,
        [
            ("2026-11".to_owned(), 1234, 1234),
            ("2026-12".to_owned(), 234 + 267, 267)
        ]
    );
    let months = new("2026-11-01", "2026-12-31", Interval::Month, false);
    assert_eq!(months[1], ("2026-12".to_owned(), 210 + 240, 240));
    for interval in [Interval::Day, Interval::Week] {
        for ci in [false, true] {
            // Weeks are whole: the first starts in October, the last ends in
            // January, and no signature is new on those days.
            let per_day: u64 = new("2026-11-01", "2026-12-31", interval, ci)
                .iter()
                .map(|(_, _, n)| n)
                .sum();
            let per_month: u64 = new("2026-11-01", "2026-12-31", Interval::Month, ci)
                .iter()
                .map(|(_, _, n)| n)
                .sum();
            assert_eq!(per_day, per_month, "{interval:?} ci={ci}");
        }
    }
    let days = new("2026-11-29", "2026-12-01", Interval::Day, true);
    assert!(days.iter().all(|(_, count, n)| n <= count), "{days:?}");
}

/// An installation, instance or event id: a UUID made from `n`.
pub(crate) fn uid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// An event of `demo` (or `product`) with `fields`, received at `at`.
pub(crate) fn stat_event(product: &str, id: u32, kind: EventKind, at: i64, fields: serde_json::Value) -> Event {
    Event {
        id: format!("{id:08x}-1111-4000-8000-000000000000"),
        kind,
        product: ProductName::parse(product).unwrap(),
        test: false,
        occurred_at_ms: None,
        received_at_ms: at,
        fields: fields.as_object().unwrap().clone().into(),
    }
}

pub(crate) fn send_events(store: &dyn Store, product: &str, events: Vec<Event>) -> EventsStored {
    store_events(
        store,
        NewEvents {
            product: ProductName::parse(product).unwrap(),
            source: "native",
            events,
            dropped: vec![],
        },
    )
}

pub(crate) fn stat_rows(rows: &[EventStatRow]) -> Vec<(&str, &str, u64, u64, u64)> {
    rows.iter()
        .map(|r| (r.period.as_str(), r.key.as_str(), r.count, r.errors, r.installations))
        .collect()
}

/// Command events, in order of receipt:
///
/// - 30 November at noon: `tool build` from installations 0..6, each twice
///   (installation 0's second run failed), and once with no installation;
///   at 23:59:59.999 `tool deploy`, failed, from installations 0..3.
/// - The same request again (a retry) and one event repeated within a
///   request: duplicates, not counted.
/// - 1 December at 00:00:00.000: `tool build` from installations 3..9.
/// - Not counted: a test event, another product's event.
///
/// Then [`installations_are_known_after_reopening`].
pub(crate) fn command_events_count_runs_errors_and_distinct_installations(open: Open<'_>) {
    let store = open();
    let cmd = |id: u32, at: i64, command: &str, inst: Option<u32>, err: bool| {
        let mut f = serde_json::json!({"command": command, "is_error": err});
        if let Some(i) = inst {
            f["uuid"] = uid(i).into();
        }
        stat_event("demo", id, EventKind::Command, at, f)
    };
    let noon = at("2026-11-30") + 43_200_000;
    let mut first = Vec::new();
    for i in 0..6 {
        first.push(cmd(i, noon, "tool build", Some(i), false));
        first.push(cmd(100 + i, noon, "tool build", Some(i), i == 0));
    }
    first.push(cmd(200, noon, "tool build", None, false));
    for i in 0..3 {
        first.push(cmd(300 + i, at("2026-12-01") - 1, "tool deploy", Some(i), true));
    }
    assert_eq!(send_events(&*store, "demo", first.clone()).stored, 16);
    assert_eq!(send_events(&*store, "demo", first).duplicates, 16);
    let mut second: Vec<Event> = (3..9)
        .map(|i| cmd(400 + i, at("2026-12-01"), "tool build", Some(i), false))
        .collect();
    second.push(second[0].clone());
    second.insert(0, cmd(5, noon, "tool build", Some(99), false));
    let mut test = cmd(500, at("2026-12-01"), "tool build", Some(20), false);
    test.test = true;
    second.push(test);
    let stored = send_events(&*store, "demo", second);
    assert_eq!((stored.stored, stored.duplicates), (7, 2));
    send_events(
        &*store,
        "other",
        vec![stat_event(
            "other",
            600,
            EventKind::Command,
            at("2026-12-01"),
            serde_json::json!({"command": "tool build", "uuid": uid(1)}),
        )],
    );
    let q = |i: Interval| store.event_stats("demo", EventGroup::Command, range("2026-11-30", "2026-12-01"), i);
    assert_eq!(
        stat_rows(&q(Interval::Day).unwrap()),
        [
            ("2026-11-30", "tool build", 13, 1, 6),
            ("2026-11-30", "tool deploy", 3, 3, 3),
            ("2026-12-01", "tool build", 6, 0, 6),
        ]
    );
    assert_eq!(
        stat_rows(&q(Interval::Week).unwrap()),
        [
            ("2026-11-30", "tool build", 19, 1, 9),
            ("2026-11-30", "tool deploy", 3, 3, 3)
        ]
    );
    assert_eq!(
        stat_rows(&q(Interval::Month).unwrap()),
        [
            ("2026-11", "tool build", 13, 1, 6),
            ("2026-11", "tool deploy", 3, 3, 3),
            ("2026-12", "tool build", 6, 0, 6),
        ]
    );
    // Console groups hold none of it.
    assert!(store
        .event_stats(
            "demo",
            EventGroup::ConsoleAction,
            range("2026-11-01", "2026-12-31"),
            Interval::Month
        )
        .unwrap()
        .is_empty());
    store.close().unwrap();
    drop(store);
    installations_are_known_after_reopening(open);
}

/// After reopening: `tool build` on 1 December from installation 3
/// (already counted that day) and 10 (new).
pub(crate) fn installations_are_known_after_reopening(open: Open<'_>) {
    let store = open();
    let cmd = |id: u32, inst: u32, err: bool| {
        stat_event(
            "demo",
            id,
            EventKind::Command,
            at("2026-12-01") + 5,
            serde_json::json!({"command": "tool build", "is_error": err, "uuid": uid(inst)}),
        )
    };
    send_events(&*store, "demo", vec![cmd(700, 3, false), cmd(701, 10, true)]);
    let dec = store
        .event_stats(
            "demo",
            EventGroup::Command,
            range("2026-12-01", "2026-12-01"),
            Interval::Day,
        )
        .unwrap();
    assert_eq!(stat_rows(&dec), [("2026-12-01", "tool build", 8, 1, 7)]);
    let dec = store
        .event_stats(
            "demo",
            EventGroup::Command,
            range("2026-12-01", "2026-12-01"),
            Interval::Month,
        )
        .unwrap();
    assert_eq!(stat_rows(&dec), [("2026-12", "tool build", 8, 1, 7)]);
}

/// Console events count under their action and, separately, their route;
/// the installation is the CLI serving the console, else its server.
pub(crate) fn console_events_count_actions_and_routes(open: Open<'_>) {
    let store = open();
    let ev = |id: u32, action: &str, route: &str, cli: Option<u32>, server: Option<u32>| {
        let mut f = serde_json::json!({"event_type": action, "url": route});
        if let Some(c) = cli {
            f["cli_uuid"] = uid(c).into();
        }
        if let Some(s) = server {
            f["server_uuid"] = uid(s).into();
        }
        stat_event("demo", id, EventKind::Console, at("2026-11-05"), f)
    };
    send_events(
        &*store,
        "demo",
        vec![
            ev(1, "A", "/r1", Some(1), Some(50)),
            ev(2, "A", "/r2", None, Some(50)),
            ev(3, "B", "/r1", Some(2), None),
            ev(4, "B", "/r1", None, None),
        ],
    );
    let q = |g| {
        store
            .event_stats("demo", g, range("2026-11-01", "2026-11-30"), Interval::Month)
            .unwrap()
    };
    assert_eq!(
        stat_rows(&q(EventGroup::ConsoleAction)),
        [("2026-11", "A", 2, 0, 2), ("2026-11", "B", 2, 0, 1)]
    );
    assert_eq!(
        stat_rows(&q(EventGroup::ConsoleRoute)),
        [("2026-11", "/r1", 3, 0, 2), ("2026-11", "/r2", 1, 0, 1)]
    );
    assert!(q(EventGroup::Command).is_empty());
}

/// Heartbeats: ten instances on 10 November (tables 100 each), then on 20
/// November with tables `i + 1` (the latest of the month); instances 0..5
/// also report `relationships.manual.object` = `2 * (i + 1)`. Instance 0
/// sends twice more on the 20th (the later one wins; one received earlier
/// but stored last does not), and once on 1 December at midnight. Not
/// counted: a heartbeat without an instance, a test heartbeat, another
/// product's.
pub(crate) fn heartbeats_give_instances_and_metric_distributions(open: Open<'_>) {
    let store = open();
    let hb = |id: u32, inst: Option<u32>, at: i64, metrics: serde_json::Value| {
        let mut f = serde_json::json!({"metrics": metrics});
        if let Some(i) = inst {
            f["instance_uid"] = uid(i).into();
        }
        stat_event("demo", id, EventKind::Heartbeat, at, f)
    };
    let nov10 = at("2026-11-10") + 3_600_000;
    let nov20 = at("2026-11-20") + 36_000_000;
    let mut events: Vec<Event> = (0..10)
        .map(|i| hb(i, Some(i), nov10, serde_json::json!({"tables": 100})))
        .collect();
    for i in 0..10 {
        let mut m = serde_json::json!({"tables": i + 1, "enabled": true});
        if i < 5 {
            m["relationships"] = serde_json::json!({"manual": {"object": 2 * (i + 1)}});
        }
        events.push(hb(
            100 + i,
            Some(i),
            nov20 - 3_600_000,
            serde_json::json!({"tables": 50}),
        ));
        events.push(hb(200 + i, Some(i), nov20, m));
    }
    events.push(hb(300, Some(0), nov20 - 7_200_000, serde_json::json!({"tables": 999})));
    events.push(hb(301, None, nov20, serde_json::json!({"tables": 5000})));
    let mut test = hb(302, Some(40), nov20, serde_json::json!({"tables": 5000}));
    test.test = true;
    events.push(test);
    events.push(hb(303, Some(0), at("2026-12-01"), serde_json::json!({"tables": 77})));
    send_events(&*store, "demo", events);
    let mut other = hb(400, Some(1), nov20, serde_json::json!({"tables": 1}));
    other.product = ProductName::parse("other").unwrap();
    send_events(&*store, "other", vec![other]);

    let shown = |p: &HeartbeatPeriod| {
        (
            p.period.clone(),
            p.instances,
            p.metrics
                .iter()
                .map(|m| (m.path.clone(), m.instances, m.p50, m.p90, m.max))
                .collect::<Vec<_>>(),
        )
    };
    let months = store
        .heartbeat_stats("demo", range("2026-11-15", "2026-12-01"), Interval::Month)
        .unwrap();
    assert_eq!(
        months.iter().map(shown).collect::<Vec<_>>(),
        [
            (
                "2026-11".to_owned(),
                10,
                vec![
                    ("relationships.manual.object".to_owned(), 5, 6.0, 10.0, 10.0),
                    ("tables".to_owned(), 10, 5.0, 9.0, 10.0),
                ]
            ),
            (
                "2026-12".to_owned(),
                1,
                vec![("tables".to_owned(), 1, 77.0, 77.0, 77.0)]
            ),
        ]
    );
    let days = store
        .heartbeat_stats("demo", range("2026-11-10", "2026-11-11"), Interval::Day)
        .unwrap();
    assert_eq!(
        days.iter().map(shown).collect::<Vec<_>>(),
        [
            (
                "2026-11-10".to_owned(),
                10,
                vec![("tables".to_owned(), 10, 100.0, 100.0, 100.0)]
            ),
            ("2026-11-11".to_owned(), 0, vec![]),
        ]
    );
    // The week of 16 to 22 November: the 20th's latest values.
    let week = store
        .heartbeat_stats("demo", range("2026-11-20", "2026-11-20"), Interval::Week)
        .unwrap();
    assert_eq!(shown(&week[0]).2[1], ("tables".to_owned(), 10, 5.0, 9.0, 10.0));
    assert_eq!(week[0].period, "2026-11-16");
}

/// Opens the SQLite store in `dir`; every call opens the same database.
pub(crate) fn sqlite(dir: &std::path::Path) -> impl Fn() -> Box<dyn Store> + '_ {
    move || Box::new(SqliteStore::open(dir).unwrap())
}

/// A fresh in-memory store; every call gives a handle on the same data.
pub(crate) fn memory() -> impl Fn() -> Box<dyn Store> {
    let store = MemoryStore::new();
    move || Box::new(store.handle())
}

/// A ping of `demo` from signature `i` on `version` at `at`, told
/// `outdated` or not, in CI or not.
fn check(i: u32, version: &str, at: i64, told: bool, ci: bool) -> NewPing {
    let mut op = ping_op("demo", Some(sig(i)), at);
    op.ping.version = Some(version.into());
    op.ping.ci = Some(ci);
    op.told_outdated = told;
    op
}

/// The pings of the upgrades case, in order of receipt. Day D is
/// 2026-11-02 (a Monday): 40 signatures (0..40, not CI) are told on D that
/// 1.0.0 is outdated; 25 of them (0..25) are seen on 1.1.0 `i % 10` days
/// later (days 0..4 three each, 5..9 two each: median 4), some of them on
/// 1.0.0 again in between; 25..30 are seen on 1.0.0 again, 30..35 on the
/// older 0.9.0, 35 is told again two days later, 36 ran 2.0.0 the day
/// before its notice and never since, 37 is seen on 1.0.0+build (not
/// newer), 2 is told a second time before it upgrades. 6 CI signatures
/// (40..46) are told on D and upgrade the next day. 3 signatures (50..53)
/// are told on D+7, one of them upgrading on D+8. Another product's
/// notices and an untold signature's versions count nowhere.
fn upgrade_pings() -> Vec<NewPing> {
    let d = at("2026-11-02");
    let hour = 3_600_000;
    let day = 86_400_000;
    let mut out: Vec<NewPing> = Vec::new();
    out.push(check(36, "2.0.0", d - day, false, false));
    for i in 0..40 {
        out.push(check(i, "1.0.0", d + hour + i64::from(i) * 60_000, true, false));
    }
    for i in 40..46 {
        out.push(check(i, "1.0.0", d + hour, true, true));
        out.push(check(i, "1.1.0", d + day + hour, false, true));
    }
    for i in 0..25u32 {
        let after = i64::from(i % 10);
        if i % 3 == 0 && after > 0 {
            out.push(check(i, "1.0.0", d + 2 * hour, false, false));
        }
        out.push(check(i, "1.1.0", d + after * day + 5 * hour, false, false));
        out.push(check(i, "1.2.0", d + after * day + 6 * hour, false, false));
    }
    out.push(check(2, "1.0.0", d + day, true, false));
    for i in 25..30 {
        out.push(check(i, "1.0.0", d + 3 * day, false, false));
    }
    for i in 30..35 {
        out.push(check(i, "0.9.0", d + 2 * day, false, false));
    }
    out.push(check(35, "1.0.0", d + 2 * day, true, false));
    out.push(check(37, "1.0.0+build.7", d + 4 * day, false, false));
    for i in 50..53 {
        out.push(check(i, "1.0.0", d + 7 * day + hour, true, false));
    }
    out.push(check(50, "1.0.1", d + 8 * day, false, false));
    out.push(check(60, "3.0.0", d + 8 * day, false, false));
    let mut other = check(0, "1.0.0", d + hour, true, false);
    other.ping.product = product("other");
    out.push(other);
    out.sort_by_key(|p| p.ping.received_at_ms);
    out
}

pub(crate) fn upgrades_after_a_notice_count_first_newer_versions(open: Open<'_>) {
    use sonde_store::UpgradePeriod;
    let store = open();
    for p in upgrade_pings() {
        record(&*store, p);
    }
    let weeks = store
        .upgrades("demo", range("2026-11-02", "2026-11-15"), Interval::Week, false)
        .unwrap();
    let first = vec![
        (0, 3),
        (1, 3),
        (2, 3),
        (3, 3),
        (4, 3),
        (5, 2),
        (6, 2),
        (7, 2),
        (8, 2),
        (9, 2),
    ];
    assert_eq!(
        weeks,
        vec![
            UpgradePeriod {
                period: "2026-11-02".into(),
                told: 40,
                upgraded_after: first.clone(),
            },
            UpgradePeriod {
                period: "2026-11-09".into(),
                told: 3,
                upgraded_after: vec![(1, 1)],
            },
        ]
    );
    assert_eq!(weeks[0].upgraded(), 25);
    assert_eq!(weeks[0].median_days(), Some(4));

    // CI included: 6 more told, all after one day (median of 31: 3).
    let with_ci = store
        .upgrades("demo", range("2026-11-02", "2026-11-02"), Interval::Day, true)
        .unwrap();
    assert_eq!(with_ci.len(), 1);
    assert_eq!((with_ci[0].told, with_ci[0].upgraded()), (46, 31));
    assert_eq!(with_ci[0].median_days(), Some(3));

    // Days without notices are there with zeros; a month holds them all.
    let days = store
        .upgrades("demo", range("2026-11-03", "2026-11-04"), Interval::Day, false)
        .unwrap();
    assert_eq!(
        days.iter()
            .map(|p| (p.period.as_str(), p.told, p.upgraded()))
            .collect::<Vec<_>>(),
        [("2026-11-03", 0, 0), ("2026-11-04", 0, 0)]
    );
    let month = store
        .upgrades("demo", range("2026-11-10", "2026-11-10"), Interval::Month, false)
        .unwrap();
    assert_eq!(
        (month[0].period.as_str(), month[0].told, month[0].upgraded()),
        ("2026-11", 43, 26)
    );
    let other = store
        .upgrades("other", range("2026-11-02", "2026-11-02"), Interval::Day, false)
        .unwrap();
    assert_eq!((other[0].told, other[0].upgraded()), (1, 0));

    // The same answers after a restart, and later pings still count once.
    drop(store);
    let store = open();
    record(&*store, check(26, "1.5.0", at("2026-11-12"), false, false));
    record(&*store, check(0, "9.0.0", at("2026-11-12"), true, false));
    let weeks = store
        .upgrades("demo", range("2026-11-02", "2026-11-08"), Interval::Week, false)
        .unwrap();
    let mut expected = first;
    expected.push((10, 1));
    assert_eq!((weeks[0].told, weeks[0].upgraded_after.clone()), (40, expected));
}

/// Instantiates every suite test for one backend: `store_suite!(name, dir
/// => factory)`, where `dir` names a fresh temporary directory the factory
/// may use.
macro_rules! store_suite {
    ($backend:ident, $dir:ident => $open:expr) => {
        mod $backend {
            store_suite!(@tests $dir => $open;
                duplicate_events_are_ignored_and_counted,
                monthly_active_signatures_are_exact_across_months,
                reopen_keeps_everything,
                catalog_generation_moves_with_catalog_changes_only,
                alerts_need_a_registered_product_and_write_nothing_otherwise,
                retention_keeps_counts_and_deletes_rows,
                routes_are_stored_once,
                error_reports_are_stored_once_and_grouped,
                error_report_drops_are_counted,
                retention_deletes_old_error_reports_and_their_groups,
                error_group_figures_match_the_generated_reports,
                vocabulary_words_are_stored_once_per_kind,
                active_signatures_are_exact_per_day_week_month_and_range,
                rolling_actives_count_each_window_exactly,
                breakdowns_count_each_signature_once_under_its_first_ping,
                cohorts_follow_signatures_from_their_first_month,
                command_events_count_runs_errors_and_distinct_installations,
                console_events_count_actions_and_routes,
                heartbeats_give_instances_and_metric_distributions,
                upgrades_after_a_notice_count_first_newer_versions,
            );
        }
    };
    (@tests $dir:ident => $open:expr; $($test:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                let $dir = tempfile::tempdir().unwrap();
                let open = $open;
                crate::suite::$test(&open);
            }
        )*
    };
}
