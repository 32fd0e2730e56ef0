//! `sonde serve --store clickhouse://…` as a real process: a collector
//! SIGKILLed while its writes wait in the spill (ClickHouse down) drains
//! them when restarted, and every acknowledged event is counted once.

mod common;

use std::path::Path;

use serde_json::{json, Value};
use sonde_testkit::clickhouse::ClickHouse;
use sonde_testkit::{http, wait};

fn call(s: &common::Serve, dir: &Path, path: &str, body: &Value) -> u16 {
    let token = std::fs::read_to_string(dir.join("admin-token")).unwrap();
    let resp = http::agent()
        .post(&format!("http://{}{path}", s.addr()))
        .header("Authorization", &format!("Bearer {}", token.trim()))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap();
    resp.status().as_u16()
}

fn batch(ids: std::ops::Range<u32>) -> Value {
    let events: Vec<Value> = ids
        .map(|i| json!({"id": format!("0190f5e2-0000-7000-8000-{i:012x}"), "kind": "command", "command": "tool build"}))
        .collect();
    json!({"product": "tool", "events": events})
}

fn health(s: &common::Serve) -> String {
    let body: Value = http::get(s.addr(), "/healthz").json();
    body["status"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_collector_killed_mid_spill_drains_it_after_restart_exactly_once() {
    let mut ch = ClickHouse::start();
    let url = ch.url("killed");
    let dir = tempfile::tempdir().unwrap();
    let mut s = common::serve(dir.path(), &["--store", &url]);
    let release = json!({"product": "tool", "version": "1.0.0", "date": 1_700_000_000});
    assert_eq!(call(&s, dir.path(), "/api/v1/releases", &release), 201);
    for b in 0..5 {
        assert_eq!(call(&s, dir.path(), "/api/v1/events", &batch(b * 20..b * 20 + 20)), 200);
    }
    ch.kill();
    for b in 5..10 {
        assert_eq!(call(&s, dir.path(), "/api/v1/events", &batch(b * 20..b * 20 + 20)), 200);
    }
    assert_eq!(call(&s, dir.path(), "/api/v1/events", &batch(90..110)), 200);
    assert_eq!(health(&s), "degraded");
    s.kill();
    s.wait_exit();
    // The spill file in the data directory holds what was acknowledged.
    assert!(dir.path().join("clickhouse-spill.db").exists());
    ch.restart();
    let s = common::serve(dir.path(), &["--store", &url]);
    wait::until("the restarted collector to drain its spill", || health(&s) == "ok");
    let out = ch.query("SELECT uniqExact(id) FROM killed.events WHERE product = 'tool' FORMAT TSV");
    assert_eq!(out.trim(), "200");
    assert!(s.stop());
}

#[test]
fn a_bad_store_url_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = common::run_in(dir.path(), &["serve", "--store", "mysql://x", "--print-config"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("clickhouse://"), "{err}");
}
