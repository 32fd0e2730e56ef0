//! The event front doors end to end, over real HTTP on loopback into a real
//! SQLite file: Hasura's `/v1/http` with the seed's sample rows, planted
//! identifiers that must never reach the database file, the native batch API
//! (retries, limits, gzip), route templates, test topics, the published
//! schema and the console snippet.

mod common;

use std::io::Write;

use common::{agent, Harness};
use serde_json::{json, Value};

const SERVER_ROW: &str = r#"{
  "id": 12,
  "timestamp": "2019-01-21T19:43:33.63838+00:00",
  "db_uid": "dddff371-dab2-450f-9969-235bca66dab1",
  "instance_uid": "6799360d-a431-40c5-9f68-24592a9f07df",
  "version": "v1.0.0-alpha36",
  "ci": "TRAVIS",
  "metrics": {
    "views": 1,
    "tables": 2,
    "functions": 1,
    "permissions": {"roles": 1, "delete": 2, "insert": 1, "select": 2, "update": 2},
    "relationships": {"auto": 2, "manual": 0},
    "event_triggers": 0,
    "remote_schemas": 1
  }
}"#;

const CONSOLE_ROW: &str = r#"{
  "id": 902,
  "timestamp": "2019-01-21T10:00:23.849202+00:00",
  "url": "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify",
  "event_type": "ModifyTable/RESET",
  "console_mode": "server",
  "server_uuid": "79485a57-fca5-40f3-a31b-78c0d211314b",
  "server_version": "v1.0.0-alpha36",
  "cli_uuid": null
}"#;

const CLI_ROW: &str = r#"{
  "id": 115,
  "timestamp": "2019-01-21T11:36:07.86783+00:00",
  "uuid": "e462ce20-42dd-40fd-9549-edfb92f80455",
  "execution_id": "ddfa9c33-0693-457d-9026-c7f456c43322",
  "version": "v0.4.27",
  "command": "hasura version",
  "is_error": false,
  "os_platform": "linux",
  "os_arch": "amd64",
  "server_uuid": "a4d66fb2-f88d-457b-8db1-ea7a0b57921d",
  "server_version": "v1.0.0-alpha36",
  "payload": null
}"#;

/// POSTs raw bytes; returns (status, JSON body or Null).
fn post(h: &Harness, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Value) {
    h.post(path, headers, body)
}

fn post_json(h: &Harness, path: &str, body: &Value) -> (u16, Value) {
    post(
        h,
        path,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
}

fn hasura(h: &Harness, topic: &str, data: &str) -> (u16, Value) {
    let body = format!(r#"{{"topic": "{topic}", "data": {data}}}"#);
    post(h, "/v1/http", &[("Content-Type", "application/json")], body.as_bytes())
}

/// Stored rows of `product`: (kind, test, occurred_at_ms, fields).
fn rows(h: &Harness, product: &str) -> Vec<(String, bool, Option<i64>, Value)> {
    let db = h.db();
    let mut stmt = db
        .prepare("SELECT kind, test, occurred_at_ms, fields FROM events WHERE product = ?1 ORDER BY kind")
        .unwrap();
    stmt.query_map([product], |r| {
        let fields: String = r.get(3)?;
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, serde_json::from_str(&fields).unwrap()))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// Rejection counters of `product` as (source, field, reason) → count.
fn rejections(h: &Harness, product: &str) -> Vec<(String, String, String, u64)> {
    h.rejections(product)
}

fn uuid(n: u32) -> String {
    format!("0b3f4c4e-1d2a-4c3b-8f00-{n:012}")
}

fn event_count(h: &Harness, product: &str) -> i64 {
    h.db()
        .query_row("SELECT COUNT(*) FROM events WHERE product = ?1", [product], |r| {
            r.get(0)
        })
        .unwrap()
}

#[test]
fn seed_sample_rows_are_accepted_and_stored_field_by_field() {
    let h = common::start();
    h.publish("hasura", "1.0.0");
    for (topic, row) in [
        ("server_metrics_v2", SERVER_ROW),
        ("console", CONSOLE_ROW),
        ("cli", CLI_ROW),
    ] {
        let (status, body) = hasura(&h, topic, row);
        assert_eq!(status, 200, "{topic}: {body}");
        assert_eq!(body["stored"], 1, "{topic}: {body}");
        assert_eq!(
            body["dropped"], 0,
            "{topic}: nothing of a sample row is dropped: {body}"
        );
    }
    let stored = rows(&h, "hasura");
    assert_eq!(stored.len(), 3);

    let (kind, test, at, f) = &stored[0];
    assert_eq!((kind.as_str(), *test, *at), ("command", false, Some(1_548_070_567_867)));
    assert_eq!(
        f,
        &json!({
            "uuid": "e462ce20-42dd-40fd-9549-edfb92f80455",
            "execution_id": "ddfa9c33-0693-457d-9026-c7f456c43322",
            "version": "v0.4.27",
            "command": "hasura version",
            "is_error": false,
            "os_platform": "linux",
            "os_arch": "amd64",
            "server_uuid": "a4d66fb2-f88d-457b-8db1-ea7a0b57921d",
            "server_version": "v1.0.0-alpha36"
        })
    );

    let (kind, test, at, f) = &stored[1];
    assert_eq!((kind.as_str(), *test, *at), ("console", false, Some(1_548_064_823_849)));
    assert_eq!(
        f,
        &json!({
            "url": "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify",
            "event_type": "ModifyTable/RESET",
            "console_mode": "server",
            "server_uuid": "79485a57-fca5-40f3-a31b-78c0d211314b",
            "server_version": "v1.0.0-alpha36"
        })
    );

    let (kind, test, at, f) = &stored[2];
    assert_eq!(
        (kind.as_str(), *test, *at),
        ("heartbeat", false, Some(1_548_099_813_638))
    );
    let mut expected: Value = serde_json::from_str(SERVER_ROW).unwrap();
    let obj = expected.as_object_mut().unwrap();
    obj.remove("id");
    obj.remove("timestamp");
    assert_eq!(f, &expected);

    // The CLI row carries an execution id: posting it again stores nothing new.
    let (status, body) = hasura(&h, "cli", CLI_ROW);
    assert_eq!(
        (status, body["stored"].as_u64(), body["duplicates"].as_u64()),
        (200, Some(0), Some(1))
    );
    assert!(rejections(&h, "hasura").is_empty());
}

/// Every byte of the database and its WAL.
fn db_bytes(h: &Harness) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["sonde.db", "sonde.db-wal"] {
        if let Ok(b) = std::fs::read(h.data_dir().join(name)) {
            all.extend(b);
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn planted_identifiers_never_reach_the_database_file_and_are_counted() {
    let h = common::start();
    h.publish("hasura", "1.0.0");
    // `Table/OPEN` is this test's own console action: registered, it joins
    // Hasura's built-in event types.
    let (status, body) = h.admin_post(
        "/api/v1/vocabulary",
        json!({"product": "hasura", "event_types": ["Table/OPEN"]}),
    );
    assert_eq!(status, 201, "{body}");
    let planted = [
        "planted.alice@example.com",
        "customers_planted_tbl",
        "hunter2-planted-password",
        "203.0.113.77",
        "passwordfieldname",
    ];
    let (status, body) = hasura(
        &h,
        "server_metrics_v2",
        r#"{"instance_uid": "6799360d-a431-40c5-9f68-24592a9f07df", "ci": "runner 203.0.113.77",
            "metrics": {"tables": 3, "views": "planted.alice@example.com"}}"#,
    );
    assert_eq!(
        (status, body["stored"].as_u64(), body["dropped"].as_u64()),
        (200, Some(1), Some(2)),
        "{body}"
    );
    let (status, body) = hasura(
        &h,
        "console",
        r#"{"url": "/data/schema/public/tables/customers_planted_tbl/no-such-tab", "event_type": "Table/OPEN"}"#,
    );
    assert_eq!((status, body["dropped"].as_u64()), (200, Some(1)), "{body}");
    // A concrete path that does match a template is reduced to it.
    let (status, _) = hasura(
        &h,
        "console",
        r#"{"url": "/data/schema/public/tables/customers_planted_tbl/modify", "event_type": "ModifyTable/RESET"}"#,
    );
    assert_eq!(status, 200);
    let (status, body) = hasura(
        &h,
        "cli",
        r#"{"command": "hasura migrate apply --admin-secret hunter2-planted-password", "passwordfieldname": "hunter2-planted-password"}"#,
    );
    assert_eq!((status, body["dropped"].as_u64()), (200, Some(2)), "{body}");

    let stored = rows(&h, "hasura");
    let console: Vec<&Value> = stored.iter().filter(|r| r.0 == "console").map(|r| &r.3).collect();
    assert!(console.contains(&&json!({"event_type": "Table/OPEN"})));
    assert!(console.contains(
        &&json!({"url": "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify", "event_type": "ModifyTable/RESET"})
    ));
    let cli = stored.iter().find(|r| r.0 == "command").unwrap();
    assert_eq!(
        cli.3,
        json!({"command": "hasura migrate apply", "flags": ["--admin-secret"]})
    );

    let bytes = db_bytes(&h);
    assert!(contains(&bytes, "ModifyTable/RESET"), "the scan sees stored values");
    for p in planted {
        assert!(!contains(&bytes, p), "{p} reached the database file or its WAL");
    }
    assert_eq!(
        rejections(&h, "hasura"),
        [
            ("hasura".into(), "*".into(), "unknown_field".into(), 1),
            ("hasura".into(), "ci".into(), "ip_address".into(), 1),
            ("hasura".into(), "command".into(), "argument_value".into(), 1),
            ("hasura".into(), "metrics".into(), "not_a_number".into(), 1),
            ("hasura".into(), "url".into(), "unknown_route".into(), 1),
        ]
    );

    // After the collector closes the store (WAL checkpointed), scan again.
    let dir = h.data_dir().to_owned();
    let tmp = h.shutdown();
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("sonde.db") {
            bytes.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(contains(&bytes, "ModifyTable/RESET"));
    for p in planted {
        assert!(!contains(&bytes, p), "{p} is in the closed database files");
    }
    drop(tmp);
}

fn batch(product: &str, ids: std::ops::Range<u32>) -> Value {
    let events: Vec<Value> = ids
        .map(|i| json!({"id": uuid(i), "kind": "command", "command": "tool build", "flags": ["--release"], "is_error": i % 2 == 0}))
        .collect();
    json!({"product": product, "events": events})
}

#[test]
fn a_retried_native_batch_is_stored_once() {
    let h = common::start();
    h.publish("tool", "1.0.0");
    let body = batch("tool", 0..50);
    let (status, first) = post_json(&h, "/api/v1/events", &body);
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        (first["stored"].as_u64(), first["duplicates"].as_u64()),
        (Some(50), Some(0))
    );
    let (status, retry) = post_json(&h, "/api/v1/events", &body);
    assert_eq!(status, 200);
    assert_eq!(
        (retry["stored"].as_u64(), retry["duplicates"].as_u64()),
        (Some(0), Some(50))
    );
    // A batch overlapping the first stores only the new ids.
    let (_, overlap) = post_json(&h, "/api/v1/events", &batch("tool", 40..60));
    assert_eq!(
        (overlap["stored"].as_u64(), overlap["duplicates"].as_u64()),
        (Some(10), Some(10))
    );
    assert_eq!(event_count(&h, "tool"), 60);
}

#[test]
fn oversize_batches_get_413_and_store_nothing() {
    let h = common::start();
    h.publish("tool", "1.0.0");
    // Over the byte limit: one event with a huge (otherwise droppable) field.
    let mut big = batch("tool", 0..1);
    big["events"][0]["padding"] = Value::String("x".repeat(sonde_protocol::native::MAX_BATCH_BYTES));
    let (status, body) = post_json(&h, "/api/v1/events", &big);
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");
    // Over the event limit.
    let too_many = batch("tool", 0..(sonde_protocol::native::MAX_BATCH_EVENTS as u32 + 1));
    let (status, body) = post_json(&h, "/api/v1/events", &too_many);
    assert_eq!(status, 413, "{body}");
    // A small gzip body that expands past the limit.
    let mut bomb = batch("tool", 0..1);
    bomb["events"][0]["padding"] = Value::String(" ".repeat(2 * sonde_protocol::native::MAX_BATCH_BYTES));
    let gz = gzip(bomb.to_string().as_bytes());
    assert!(gz.len() < 64 * 1024);
    let (status, _) = post(
        &h,
        "/api/v1/events",
        &[("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
        &gz,
    );
    assert_eq!(status, 413);
    assert_eq!(event_count(&h, "tool"), 0);
    assert!(
        rejections(&h, "tool").is_empty(),
        "a refused batch counts nothing either"
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn gzip_and_text_plain_bodies_are_accepted_and_bad_ones_refused() {
    let h = common::start();
    h.publish("tool", "1.0.0");
    let gz = gzip(batch("tool", 0..10).to_string().as_bytes());
    let (status, body) = post(
        &h,
        "/api/v1/events",
        &[("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
        &gz,
    );
    assert_eq!((status, body["stored"].as_u64()), (200, Some(10)), "{body}");
    let text = batch("tool", 10..12).to_string();
    let (status, body) = post(
        &h,
        "/api/v1/events",
        &[("Content-Type", "text/plain;charset=UTF-8")],
        text.as_bytes(),
    );
    assert_eq!((status, body["stored"].as_u64()), (200, Some(2)), "{body}");
    let (status, _) = post(&h, "/api/v1/events", &[("Content-Type", "application/xml")], b"<x/>");
    assert_eq!(status, 415);
    let (status, body) = post(
        &h,
        "/api/v1/events",
        &[("Content-Type", "application/json")],
        b"{not json",
    );
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_body")));
    let (status, _) = post_json(&h, "/api/v1/events", &batch("never-registered", 0..1));
    assert_eq!(status, 404);
    let (status, _) = hasura(&h, "no_such_topic", "{}");
    assert_eq!(status, 400);
    // Bad events are rejected one by one; the rest is stored.
    let mixed = json!({"product": "tool", "events": [
        {"id": "not-a-uuid", "kind": "command"},
        {"id": uuid(99), "kind": "nonsense"},
        {"id": uuid(100), "kind": "heartbeat", "metrics": {"tables": 1}}]});
    let (status, body) = post_json(&h, "/api/v1/events", &mixed);
    assert_eq!(status, 200);
    assert_eq!(body["stored"], 1);
    assert_eq!(
        body["rejected"],
        json!([{"index": 0, "reason": "invalid_id"}, {"index": 1, "reason": "invalid_kind"}])
    );
    assert_eq!(event_count(&h, "tool"), 13);
}

#[test]
fn registered_route_templates_reduce_console_routes() {
    let h = common::start();
    h.publish("studio", "1.0.0");
    let send = |url: &str| {
        let body = json!({"product": "studio", "events": [{"id": uuid(rand_n()), "kind": "console", "event_type": "Open", "url": url}]});
        post_json(&h, "/api/v1/events", &body).1
    };
    // Nothing registered: dropped.
    assert_eq!(send("/projects/acme-secret/settings")["dropped"], 1);
    let (status, body) = h.admin_post(
        "/api/v1/routes",
        json!({"product": "studio", "templates": ["/projects/:id/settings", "/"]}),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["added"], 2);
    let (status, body) = h.admin_post(
        "/api/v1/routes",
        json!({"product": "studio", "templates": ["no-slash"]}),
    );
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_route")));
    let (status, body) = h.admin_get("/api/v1/routes?product=studio");
    assert_eq!(status, 200);
    assert_eq!(body["registered"], json!(["/", "/projects/:id/settings"]));
    assert_eq!(send("/projects/acme-secret/settings?tab=keys")["dropped"], 0);
    // The first event is stored without its route; the second with its template.
    let mut urls: Vec<String> = rows(&h, "studio").into_iter().map(|r| r.3["url"].to_string()).collect();
    urls.sort();
    assert_eq!(urls, ["\"/projects/:id/settings\"", "null"]);
    assert!(!contains(&db_bytes(&h), "acme-secret"));
    // Without the token: 401.
    let (status, _) = post_json(&h, "/api/v1/routes", &json!({"product": "studio", "templates": ["/x"]}));
    assert_eq!(status, 401);
}

fn rand_n() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(1000);
    N.fetch_add(1, Ordering::Relaxed)
}

#[test]
fn test_topics_are_stored_but_kept_out_of_analytics_by_default() {
    let h = common::start();
    h.publish("hasura", "1.0.0");
    assert_eq!(hasura(&h, "cli", r#"{"command": "hasura version"}"#).0, 200);
    assert_eq!(hasura(&h, "cli_test", r#"{"command": "hasura version"}"#).0, 200);
    assert_eq!(hasura(&h, "cli_test", r#"{"command": "hasura init"}"#).0, 200);
    let tests: Vec<bool> = rows(&h, "hasura").into_iter().map(|r| r.1).collect();
    assert_eq!(
        tests.iter().filter(|t| **t).count(),
        2,
        "test events are stored, marked"
    );
    let (status, body) = h.admin_get("/api/v1/stats/events?product=hasura&kind=command");
    assert_eq!(status, 200, "{body}");
    let month = body["rows"][0]["month"].clone();
    assert_eq!(
        body["rows"],
        json!([{"month": month, "key": "hasura version", "count": 1, "errors": 0}])
    );
    let (_, body) = h.admin_get("/api/v1/stats/events?product=hasura&kind=command&include_test=true");
    assert_eq!(body["rows"].as_array().unwrap().len(), 2);
    assert_eq!(body["rows"][1]["count"], 2);
}

#[test]
fn schema_and_console_snippet_are_published() {
    let h = common::start();
    let mut r = agent().get(&h.url("/api/v1/schema")).call().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let schema: Value = r.body_mut().read_json().unwrap();
    let kinds: Vec<&str> = schema["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["heartbeat", "command", "console"]);
    let metrics = schema["kinds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "metrics")
        .unwrap();
    assert_eq!(metrics["type"], "metrics");
    assert_eq!(schema["native"]["max_events"], 1000);
    assert!(schema["hasura_topics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["topic"] == "server_metrics_v2_test" && t["test"] == true));

    let mut r = agent().get(&h.url("/sdk/console.js")).call().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers().get("access-control-allow-origin").unwrap(), "*");
    assert!(r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let js = r.body_mut().read_to_string().unwrap();
    assert!(js.contains("export function track"));
}

#[test]
fn the_collector_deletes_expired_raw_events_and_keeps_their_counts() {
    let h = Harness::start_configured(|c| {
        c.event_retention = std::time::Duration::ZERO;
        c.retention_interval = std::time::Duration::from_millis(100);
    });
    h.publish("tool", "1.0.0");
    let (status, body) = post_json(&h, "/api/v1/events", &batch("tool", 0..20));
    assert_eq!((status, body["stored"].as_u64()), (200, Some(20)));
    // Bounded wait for the collector's own retention task.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while event_count(&h, "tool") > 0 {
        assert!(std::time::Instant::now() < deadline, "retention never ran");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (status, body) = h.admin_get("/api/v1/stats/events?product=tool&kind=command");
    assert_eq!(status, 200);
    let rows = body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{body}");
    assert_eq!(
        (
            rows[0]["key"].as_str(),
            rows[0]["count"].as_u64(),
            rows[0]["errors"].as_u64()
        ),
        (Some("tool build"), Some(20), Some(10))
    );
}
