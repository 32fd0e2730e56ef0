//! Collectors in front of ClickHouse, over real HTTP on loopback: events
//! acknowledged while ClickHouse is down are spilled (`sonde_spill_depth`
//! counts their rows) and counted exactly once after it returns; two collectors share one catalog and give the
//! same answers as each other and as one SQLite collector given the same
//! traffic.

use serde_json::{json, Value};
use sonde_collector::StoreChoice;
use sonde_testkit::clickhouse::ClickHouse;
use sonde_testkit::collector::Collector;
use sonde_testkit::{http, wait};

fn uuid(i: u32) -> String {
    format!("0190f5e2-0000-7000-8000-{i:012x}")
}

/// A native batch of `product` holding the events numbered `ids`.
fn batch(product: &str, ids: std::ops::Range<u32>) -> Value {
    let events: Vec<Value> = ids
        .map(|i| json!({"id": uuid(i), "kind": "command", "command": "tool build", "is_error": i % 2 == 0}))
        .collect();
    json!({"product": product, "events": events})
}

fn on(ch: &ClickHouse, db: &str) -> Collector {
    let url = ch.url(db);
    Collector::start_configured(|c| c.store = StoreChoice::ClickHouse(url))
}

fn send(c: &Collector, body: &Value) -> (u16, Value) {
    c.post(
        "/api/v1/events",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
}

fn health(c: &Collector) -> String {
    let reply = http::get(c.addr(), "/healthz");
    let body: Value = reply.json();
    body["status"].as_str().unwrap_or_default().to_owned()
}

/// `sonde_spill_depth` as `/metrics` exports it.
fn spill_depth(c: &Collector) -> u64 {
    let text = http::agent()
        .get(&c.url("/metrics"))
        .header("Authorization", &format!("Bearer {}", c.inner.admin_token()))
        .call()
        .expect("/metrics answers")
        .body_mut()
        .read_to_string()
        .expect("/metrics body");
    text.lines()
        .find_map(|line| line.strip_prefix("sonde_spill_depth "))
        .unwrap_or_else(|| panic!("no sonde_spill_depth in:\n{text}"))
        .parse()
        .expect("a number")
}

/// Distinct events of `product` in database `db`, and rows holding them.
fn stored(ch: &ClickHouse, db: &str, product: &str) -> (u64, u64) {
    let out = ch.query(&format!(
        "SELECT uniqExact(id), count() FROM {db}.events WHERE product = '{product}' FORMAT TSV"
    ));
    let mut it = out.split_whitespace().map(|n| n.parse::<u64>().unwrap());
    (it.next().unwrap(), it.next().unwrap())
}

#[test]
fn events_acknowledged_while_clickhouse_is_down_are_counted_exactly_once() {
    let mut ch = ClickHouse::start();
    let c = on(&ch, "outage");
    c.publish("tool", "1.0.0");
    let mut acknowledged = std::collections::BTreeSet::new();
    for b in 0..5 {
        let (status, body) = send(&c, &batch("tool", b * 20..b * 20 + 20));
        assert_eq!(status, 200, "{body}");
        acknowledged.extend(b * 20..b * 20 + 20);
    }
    assert_eq!(health(&c), "ok");
    assert_eq!(spill_depth(&c), 0);
    ch.kill();
    // ClickHouse is gone: the collector keeps acknowledging, into the spill.
    for b in 5..10 {
        let (status, body) = send(&c, &batch("tool", b * 20..b * 20 + 20));
        assert_eq!(status, 200, "{body}");
        acknowledged.extend(b * 20..b * 20 + 20);
    }
    // A client retrying a batch it already sent (before and during the outage).
    assert_eq!(send(&c, &batch("tool", 40..60)).0, 200);
    assert_eq!(send(&c, &batch("tool", 160..180)).0, 200);
    assert_eq!(health(&c), "degraded");
    // The spill holds a row per event of the batches sent during the
    // outage (its own retry deduplicated only in ClickHouse's answers).
    let depth = spill_depth(&c);
    assert!(depth >= 100, "spill depth {depth}");
    ch.restart();
    wait::until("the spill to drain", || health(&c) == "ok");
    assert_eq!(spill_depth(&c), 0);
    let (distinct, rows) = stored(&ch, "outage", "tool");
    assert_eq!(distinct, acknowledged.len() as u64);
    assert!(rows >= distinct);
    // The collector's own answer counts each event once too.
    let (status, counts) = c.admin_get("/api/v1/stats/events?product=tool&kind=command&include_test=true");
    assert_eq!(status, 200, "{counts}");
    let total: u64 = counts["rows"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["count"].as_u64()).sum())
        .unwrap_or(0);
    assert_eq!(total, 200, "{counts}");
}

/// Sends a version check of `tool` at `version` from signature `n`.
fn check(c: &Collector, version: &str, n: u32) {
    let path = format!("/v1/check/tool?version={version}&signature={n:08x}-88a2-4e21-9c3d-2b6f1e0a4c77");
    let reply = http::get(c.addr(), &path);
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[test]
fn a_full_spill_is_answered_503_with_retry_after_and_loses_nothing_acknowledged() {
    let mut ch = ClickHouse::start();
    let url = ch.url("full");
    let c = Collector::start_configured(|cfg| {
        cfg.store = StoreChoice::ClickHouse(url);
        // Room for a few batches of 20 events (about 5 KB each).
        cfg.spill_max_bytes = 20_000;
    });
    c.publish("tool", "1.0.0");
    // One batch while ClickHouse is up: the collector reads the product's
    // vocabulary and routes once, and keeps them while ClickHouse is down.
    assert_eq!(send(&c, &batch("tool", 1000..1020)).0, 200);
    ch.kill();
    let mut acknowledged = 20;
    let mut refused = None;
    for b in 0..20 {
        let resp = http::agent()
            .post(&c.url("/api/v1/events"))
            .header("Content-Type", "application/json")
            .send(batch("tool", b * 20..b * 20 + 20).to_string())
            .unwrap();
        match resp.status().as_u16() {
            200 => acknowledged += 20,
            503 => {
                refused = resp
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned());
                break;
            }
            other => panic!(
                "unexpected status {other}: {}",
                resp.into_body().read_to_string().unwrap()
            ),
        }
    }
    assert!(acknowledged > 20, "some batches fit in the spill");
    assert!(acknowledged < 420, "the spill filled up");
    assert_eq!(
        refused.as_deref(),
        Some("1"),
        "a full spill answers 503 with Retry-After"
    );
    ch.restart();
    wait::until("the spill to drain", || health(&c) == "ok");
    assert_eq!(stored(&ch, "full", "tool").0, acknowledged);
}

#[test]
fn two_collectors_share_one_catalog_and_give_the_same_answers() {
    let ch = ClickHouse::start();
    let a = on(&ch, "shared");
    let b = on(&ch, "shared");
    let sqlite = Collector::start();
    sqlite.publish("tool", "1.0.0");
    sqlite.publish("tool", "1.1.0");
    a.publish("tool", "1.0.0");
    wait::until("the second collector to see the release", || {
        http::get(b.addr(), "/v1/check/tool?version=0.9.0")
            .text()
            .contains("1.0.0")
    });
    b.publish("tool", "1.1.0");
    wait::until("the first collector to see the second release", || {
        http::get(a.addr(), "/v1/check/tool?version=0.9.0")
            .text()
            .contains("1.1.0")
    });
    // The same event sent to both counts once.
    assert_eq!(send(&a, &batch("tool", 0..30)).0, 200);
    assert_eq!(send(&b, &batch("tool", 20..50)).0, 200);
    let path = "/api/v1/stats/events?product=tool&kind=command&include_test=true";
    let (sa, ca) = a.admin_get(path);
    let (sb, cb) = b.admin_get(path);
    assert_eq!((sa, sb), (200, 200));
    assert_eq!(ca, cb);
    assert_eq!(stored(&ch, "shared", "tool").0, 50);
    // Checks from 40 installations, split over the two collectors (some
    // through both), and the same checks sent to one SQLite collector.
    for n in 0..40 {
        let version = ["1.0.0", "1.1.0", "0.9.0"][(n % 3) as usize];
        check(if n < 25 { &a } else { &b }, version, n);
        check(&sqlite, version, n);
        if n % 4 == 0 {
            check(&b, version, n);
            check(&sqlite, version, n);
        }
    }
    let now = sonde_collector::clock::now_ms();
    let from = sonde_store::Day::from_unix_ms(now - 86_400_000);
    let to = sonde_store::Day::from_unix_ms(now).next();
    for metric in [
        "unique",
        "active&interval=day",
        "breakdown&dimension=version&interval=week",
    ] {
        let path = format!("/api/v1/query?metric={metric}&product=tool&from={from}&to={to}");
        let (sa, qa) = a.admin_get(&path);
        let (sb, qb) = b.admin_get(&path);
        let (ss, qs) = sqlite.admin_get(&path);
        assert_eq!((sa, sb, ss), (200, 200, 200), "{qa} {qb} {qs}");
        assert_eq!(qa, qb, "{metric}");
        assert_eq!(qa, qs, "{metric}");
    }
    let (_, unique) = a.admin_get(&format!("/api/v1/query?metric=unique&product=tool&from={from}&to={to}"));
    assert_eq!(unique["rows"], json!([{"count": 40}]));
}

/// An admin call with the token: status, `Retry-After`, body.
fn admin_call(c: &Collector, method: &str, path: &str, body: Option<Value>) -> (u16, Option<String>, Value) {
    let url = c.url(path);
    let auth = format!("Bearer {}", c.inner.admin_token());
    let agent = http::agent();
    let resp = match body {
        Some(b) => agent.post(&url).header("Authorization", &auth).send_json(b),
        None if method == "DELETE" => agent.delete(&url).header("Authorization", &auth).call(),
        None => agent.get(&url).header("Authorization", &auth).call(),
    };
    let mut resp = resp.expect("the collector answers");
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = resp.body_mut().read_to_string().unwrap();
    (
        resp.status().as_u16(),
        retry_after,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

#[test]
fn catalog_writes_while_clickhouse_is_down_are_refused_with_503_and_apply_when_retried() {
    let mut ch = ClickHouse::start();
    let c = on(&ch, "catalog_down");
    c.publish("tool", "1.0.0");
    let alert = c.alert("tool", "warning", "first", None);
    ch.kill();
    let release = json!({"product": "tool", "version": "1.1.0", "date": 1_700_000_000});
    let new_alert =
        json!({"product": "tool", "level": "critical", "message": "second", "url": "https://example.com/b"});
    let refused = [
        admin_call(&c, "POST", "/api/v1/releases", Some(release.clone())),
        admin_call(&c, "POST", "/api/v1/alerts", Some(new_alert.clone())),
        admin_call(&c, "DELETE", &format!("/api/v1/alerts/{alert}"), None),
    ];
    for (status, retry_after, body) in &refused {
        assert_eq!(*status, 503, "{body}");
        assert_eq!(retry_after.as_deref(), Some("1"), "{body}");
        assert_eq!(body["error"]["code"], "unavailable", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("ClickHouse") && message.contains("retry"), "{message}");
    }
    // Checks are still answered from the catalog in memory, unchanged.
    let answer = http::get(c.addr(), "/v1/check/tool?version=0.9.0").text();
    assert!(answer.contains("1.0.0") && !answer.contains("1.1.0"), "{answer}");

    ch.restart();
    // Nothing refused was applied: the releases and alerts are as before.
    let (status, releases) = c.admin_get("/api/v1/releases?product=tool");
    assert_eq!(status, 200, "{releases}");
    assert!(!releases.to_string().contains("1.1.0"), "{releases}");
    // The administrator retries; each write applies once.
    assert_eq!(admin_call(&c, "POST", "/api/v1/releases", Some(release)).0, 201);
    assert_eq!(admin_call(&c, "POST", "/api/v1/alerts", Some(new_alert)).0, 201);
    assert_eq!(
        admin_call(&c, "DELETE", &format!("/api/v1/alerts/{alert}"), None).0,
        204
    );
    wait::until("the check to see the retried release", || {
        http::get(c.addr(), "/v1/check/tool?version=0.9.0")
            .text()
            .contains("1.1.0")
    });
    let (_, alerts) = c.admin_get("/api/v1/alerts?product=tool");
    let text = alerts.to_string();
    assert!(text.contains("second") && !text.contains("first"), "{alerts}");
}
