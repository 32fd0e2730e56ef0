//! `sonde stats commands|console|heartbeats` in each format, read from a
//! data directory, on events recorded in the test with known answers.

mod common;

use common::{ok_in, run_in};
use serde_json::json;
use sonde_protocol::{Event, EventKind, ProductName};
use sonde_store::{Day, NewEvents, SqliteStore, Store};

fn uuid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// 2 November 2026 at noon: `tool build` from installations 0..6 (one run
/// of installation 0 failed), `tool deploy` from installations 0..2;
/// console action `A` from 3 servers; heartbeats from 6 instances with
/// `tables` 1..=6 (5 of them send `relationships.manual.object`, all 1).
fn record_events(dir: &std::path::Path) {
    let store = SqliteStore::open(dir).unwrap();
    let noon = "2026-11-02".parse::<Day>().unwrap().start_ms() + 43_200_000;
    let mut id = 0u32;
    let mut event = |kind, fields: serde_json::Value| {
        id += 1;
        Event {
            id: format!("{id:08x}-3333-4000-8000-000000000000"),
            kind,
            product: ProductName::parse("demo").unwrap(),
            test: false,
            occurred_at_ms: None,
            received_at_ms: noon,
            fields: fields.as_object().unwrap().clone().into(),
        }
    };
    let mut events = Vec::new();
    for i in 0..6 {
        events.push(event(
            EventKind::Command,
            json!({"command": "tool build", "uuid": uuid(i), "is_error": false}),
        ));
    }
    events.push(event(
        EventKind::Command,
        json!({"command": "tool build", "uuid": uuid(0), "is_error": true}),
    ));
    for i in 0..2 {
        events.push(event(
            EventKind::Command,
            json!({"command": "tool deploy", "uuid": uuid(i)}),
        ));
    }
    for i in 0..3 {
        events.push(event(
            EventKind::Console,
            json!({"event_type": "A", "url": "/r", "server_uuid": uuid(40 + i)}),
        ));
    }
    for i in 0..6u32 {
        let mut metrics = json!({"tables": i + 1});
        if i < 5 {
            metrics["relationships"] = json!({"manual": {"object": 1}});
        }
        events.push(event(
            EventKind::Heartbeat,
            json!({"instance_uid": uuid(70 + i), "metrics": metrics}),
        ));
    }
    store
        .store_events(NewEvents {
            product: ProductName::parse("demo").unwrap(),
            source: "native",
            events,
            dropped: vec![],
        })
        .unwrap()
        .wait_blocking()
        .unwrap();
    store.close().unwrap();
}

fn stats(dir: &std::path::Path, verb: &[&str], extra: &[&str]) -> String {
    let mut args = vec!["stats"];
    args.extend(verb);
    args.extend([
        "--product",
        "demo",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-03",
        "--interval",
        "month",
    ]);
    args.extend(extra);
    ok_in(dir, &args)
}

#[test]
fn event_verbs_print_table_json_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    record_events(dir.path());
    let d = dir.path();

    // tool deploy (2 installations) is folded into "other", and so is
    // tool build, the smallest group left, as "other" would be under 5.
    assert_eq!(
        stats(d, &["commands"], &["--format", "csv"]),
        format!(
            "period,value,installations,events,errors,error_rate\n2026-11,(other),8,9,1,{}\n",
            1.0 / 9.0
        )
    );
    assert_eq!(
        stats(d, &["commands"], &["--format", "csv", "--min-group-size", "2"]),
        format!(
            "period,value,installations,events,errors,error_rate\n2026-11,tool build,6,7,1,{}\n2026-11,tool deploy,2,2,0,0.0\n",
            1.0 / 7.0
        )
    );
    let table = stats(d, &["commands"], &["--min-group-size", "2"]);
    let lines: Vec<Vec<&str>> = table.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(
        lines[0],
        ["PERIOD", "VALUE", "INSTALLATIONS", "EVENTS", "ERRORS", "ERROR_RATE"]
    );
    assert!(
        lines.contains(&vec!["2026-11", "tool", "build", "6", "7", "1", "14.3%"]),
        "{table}"
    );
    assert!(table.contains("distinct installations"), "{table}");

    let json: serde_json::Value = serde_json::from_str(&stats(d, &["console"], &["--format", "json"])).unwrap();
    assert_eq!(json["metric"], "console");
    assert_eq!(
        json["rows"],
        json!([{"period": "2026-11", "value": null, "installations": {"fewer_than": 5},
                "events": null, "errors": null, "error_rate": null}])
    );
    assert_eq!(
        stats(
            d,
            &["console"],
            &["--by", "route", "--format", "csv", "--min-group-size", "3"]
        ),
        "period,value,installations,events,errors,error_rate\n2026-11,/r,3,3,0,0.0\n"
    );

    assert_eq!(
        stats(d, &["heartbeats"], &["--format", "csv"]),
        "period,instances,metric,metric_instances,p50,p90,max\n\
         2026-11,6,relationships.manual.object,5,1.0,1.0,1.0\n\
         2026-11,6,tables,6,3.0,6.0,6.0\n"
    );
    let table = stats(d, &["heartbeats"], &["--min-group-size", "6"]);
    let lines: Vec<Vec<&str>> = table.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(
        lines[0],
        ["PERIOD", "INSTANCES", "METRIC", "REPORTED_BY", "P50", "P90", "MAX"]
    );
    assert!(
        lines.contains(&vec![
            "2026-11",
            "6",
            "relationships.manual.object",
            "<6",
            "-",
            "-",
            "-"
        ]),
        "{table}"
    );
    assert!(
        lines.contains(&vec!["2026-11", "6", "tables", "6", "3.0", "6.0", "6.0"]),
        "{table}"
    );
    let json: serde_json::Value = serde_json::from_str(&stats(
        d,
        &["heartbeats"],
        &["--format", "json", "--min-group-size", "7"],
    ))
    .unwrap();
    assert_eq!(
        json["rows"],
        json!([{"period": "2026-11", "instances": {"fewer_than": 7}, "metrics": []}])
    );
}

#[test]
fn a_bad_console_grouping_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    record_events(dir.path());
    let (code, _, err) = run_in(
        dir.path(),
        &[
            "stats",
            "console",
            "--by",
            "os",
            "--product",
            "demo",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-02",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("action or route"), "{err}");
}
