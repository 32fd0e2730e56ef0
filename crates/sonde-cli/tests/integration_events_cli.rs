//! The `sonde` binary's event verbs against a real collector: drops made by
//! the event front doors show in `sonde stats rejected`, and route templates
//! registered with `sonde routes add` (data directory or `--server`) reduce
//! console routes.

// Each test is one scenario that reads top to bottom.
#![allow(clippy::too_many_lines)]

mod common;

use serde_json::{json, Value};
use sonde_testkit::http::agent;

use common::run as sonde;

fn post(url: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = agent().post(url);
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let mut r = req.send_json(body).unwrap();
    let status = r.status().as_u16();
    (status, r.body_mut().read_json().unwrap_or(Value::Null))
}

#[test]
fn event_drops_show_in_stats_rejected_and_routes_verbs_work() {
    let dir = tempfile::tempdir().unwrap();
    let collector = sonde_testkit::collector::Collector::start_in(dir.path());
    let base = collector.base_url();
    let token = collector.inner.admin_token().to_owned();
    let (status, _) = post(
        &format!("{base}/api/v1/releases"),
        Some(&token),
        json!({"product": "hasura", "version": "1.0.0"}),
    );
    assert_eq!(status, 201);
    let (status, body) = post(
        &format!("{base}/v1/http"),
        None,
        json!({"topic": "server_metrics_v2", "data": {"ci": "runner 198.51.100.7", "password": "x",
               "metrics": {"tables": 1, "views": "bob@example.com"}}}),
    );
    assert_eq!((status, body["dropped"].as_u64()), (200, Some(3)), "{body}");

    let data_dir = dir.path().to_str().unwrap();
    let (code, stdout, stderr) = sonde(&[
        "stats",
        "rejected",
        "--product",
        "hasura",
        "--format",
        "json",
        "--data-dir",
        data_dir,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let mut seen: Vec<(String, String, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["field"].as_str().unwrap().to_owned(),
                r["reason"].as_str().unwrap().to_owned(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("*".into(), "unknown_field".into(), 1),
            ("ci".into(), "ip_address".into(), 1),
            ("metrics".into(), "not_a_number".into(), 1)
        ]
    );
    assert!(rows.iter().all(|r| r["source"] == "hasura"));

    // Routes: through the data directory, then through the admin API.
    let (code, _, stderr) = sonde(&[
        "routes",
        "add",
        "--product",
        "hasura",
        "/custom/:id/page",
        "--data-dir",
        data_dir,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let token_file = dir.path().join("admin-token");
    let (code, _, stderr) = sonde(&[
        "routes",
        "add",
        "--product",
        "hasura",
        "/other/THING_NAME",
        "--server",
        &base,
        "--token-file",
        token_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = sonde(&[
        "routes",
        "add",
        "--product",
        "hasura",
        "relative/path",
        "--data-dir",
        data_dir,
    ]);
    assert_eq!(code, 2, "a bad template is a usage error: {stderr}");
    let (code, stdout, stderr) = sonde(&[
        "routes",
        "list",
        "--product",
        "hasura",
        "--format",
        "json",
        "--data-dir",
        data_dir,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let listing: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listing["registered"], json!(["/custom/:id/page", "/other/THING_NAME"]));
    assert!(listing["builtin"]
        .as_array()
        .unwrap()
        .contains(&json!("/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify")));

    // Vocabulary: the console's own event type, through the data directory,
    // then a flag through the admin API; a lower-case name is refused.
    let (code, _, stderr) = sonde(&[
        "vocabulary",
        "add",
        "--product",
        "hasura",
        "--kind",
        "event_types",
        "Page/OPEN",
        "--data-dir",
        data_dir,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = sonde(&[
        "vocabulary",
        "add",
        "--product",
        "hasura",
        "--kind",
        "flags",
        "--server",
        &base,
        "--token-file",
        token_file.to_str().unwrap(),
        "--",
        "--custom-flag",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = sonde(&[
        "vocabulary",
        "add",
        "--product",
        "hasura",
        "--kind",
        "metric_keys",
        "Customers.Private",
        "--data-dir",
        data_dir,
    ]);
    assert_eq!(code, 2, "a word off its kind's shape is a usage error: {stderr}");
    let (code, stdout, stderr) = sonde(&[
        "vocabulary",
        "list",
        "--product",
        "hasura",
        "--format",
        "json",
        "--data-dir",
        data_dir,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let listing: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listing["registered"]["event_types"], json!(["Page/OPEN"]));
    assert_eq!(listing["registered"]["flags"], json!(["--custom-flag"]));
    assert!(listing["builtin"]["commands"]
        .as_array()
        .unwrap()
        .contains(&json!("hasura migrate apply")));
    // The registration through the admin API made the collector read the
    // product's words again (both of them).

    let (status, body) = post(
        &format!("{base}/v1/http"),
        None,
        json!({"topic": "console", "data": {"url": "/custom/acme-private/page", "event_type": "Page/OPEN"}}),
    );
    assert_eq!((status, body["dropped"].as_u64()), (200, Some(0)), "{body}");
    drop(collector);
    let db = rusqlite::Connection::open(dir.path().join("sonde.db")).unwrap();
    let url: String = db
        .query_row(
            "SELECT json_extract(fields, '$.url') FROM events WHERE kind = 'console'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(url, "/custom/:id/page");
}
