//! Error reports end to end, over real HTTP on loopback into a real SQLite
//! file: `POST /api/v1/error-reports` (validation, scrubbing, idempotency,
//! limits, gzip, grouping) and the admin routes `GET /api/v1/errors[/{group}]`.

mod common;

use std::io::Write;

use common::{agent, Harness};
use serde_json::{json, Value};
use sonde_testkit::db;

const PATH: &str = "/api/v1/error-reports";

/// POSTs raw bytes with `headers`; returns (status, JSON body or Null).
fn post(h: &Harness, headers: &[(&str, &str)], body: &[u8]) -> (u16, Value) {
    h.post(PATH, headers, body)
}

fn send(h: &Harness, report: &Value) -> (u16, Value) {
    post(
        h,
        &[("Content-Type", "application/json")],
        report.to_string().as_bytes(),
    )
}

fn report_id(n: u32) -> String {
    format!("0190f5e2-7c4a-7d3e-9a1b-{n:012x}")
}

fn signature(n: u32) -> String {
    format!("{n:08x}-a431-40c5-9f68-24592a9f07df")
}

/// A report of `demo` from installation `sig`, crashing in `function` at `line`.
fn report(n: u32, sig: u32, version: &str, function: &str, line: u32) -> Value {
    json!({
        "schema": 1, "report_id": report_id(n), "product": "demo", "version": version,
        "signature": signature(sig), "os": "linux", "arch": "x86_64", "runtime": "1.89.0", "ci": null,
        "command": "demo migrate apply", "flags": ["--force"],
        "kind": "std::io::Error", "message": "No such file or directory (os error 2)",
        "chain": [{"kind": "demo::MigrateError", "message": "cannot read the migration"}], "panic": false,
        "frames": [{"function": format!("{function}::h0123456789abcdef"), "file": "src/migrate.rs", "line": line, "in_app": true},
                   {"function": "std::rt::lang_start", "file": "library/std/src/rt.rs", "line": 199, "in_app": false}],
        "project": {"models": 3, "uses_enums": true},
        "occurred_at": "2026-12-07T10:00:00Z"
    })
}

fn started() -> Harness {
    let h = common::start();
    h.register("demo", "1.0.0");
    h
}

fn stored_reports(h: &Harness) -> i64 {
    h.count("SELECT count(*) FROM error_reports")
}

#[test]
fn an_accepted_report_is_stored_field_by_field() {
    let h = started();
    let (status, body) = send(&h, &report(1, 1, "1.2.3", "demo::migrate::apply", 12));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["report_id"], report_id(1));
    assert_eq!(body["duplicate"], false);
    assert_eq!(body["dropped"], 0);
    let group = body["group"].as_str().unwrap().to_owned();
    assert!(group.starts_with("v1:") && group.len() == 19, "{group}");

    let c = db::open(&h.data_dir());
    let (product, id, group_id, version, os, sig, received, text): (
        String,
        String,
        String,
        String,
        String,
        String,
        i64,
        String,
    ) = c
        .query_row(
            "SELECT product, lower(hex(id)), group_id, version, os, signature, received_at_ms, report FROM error_reports",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(product, "demo");
    assert_eq!(id, report_id(1).replace('-', ""));
    assert_eq!(group_id, group);
    assert_eq!((version.as_str(), os.as_str()), ("1.2.3", "linux"));
    assert_eq!(sig, signature(1));
    assert!(received > 1_700_000_000_000);
    let stored: Value = serde_json::from_str(&text).unwrap();
    let mut expected = report(1, 1, "1.2.3", "demo::migrate::apply", 12);
    expected.as_object_mut().unwrap().remove("ci");
    assert_eq!(stored, expected, "every field is kept as sent");
}

#[test]
fn the_same_report_twice_is_stored_once_and_answered_the_same_way() {
    let h = started();
    let r = report(1, 1, "1.2.3", "demo::run", 12);
    let (s1, first) = send(&h, &r);
    let (s2, again) = send(&h, &r);
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(first["group"], again["group"]);
    assert_eq!(
        (first["duplicate"].clone(), again["duplicate"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(stored_reports(&h), 1);
}

#[test]
fn refused_reports_store_nothing() {
    let h = started();
    let with = |k: &str, v: Value| {
        let mut r = report(1, 1, "1.2.3", "demo::run", 12);
        r[k] = v;
        r
    };
    let (status, body) = send(&h, &with("schema", json!(2)));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("unsupported_schema")),
        "{body}"
    );
    assert!(body["error"]["message"].as_str().unwrap().contains("schema 2"));
    let mut no_schema = report(1, 1, "1.2.3", "demo::run", 12);
    no_schema.as_object_mut().unwrap().remove("schema");
    let (status, body) = send(&h, &no_schema);
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_report")));
    let (status, body) = send(&h, &with("report_id", json!("1")));
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_report")));
    let (status, body) = post(&h, &[], b"not json");
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_report")));
    // An unregistered product is refused like on every other door.
    let (status, body) = send(&h, &with("product", json!("ghost")));
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_product")));
    let (status, body) = send(&h, &with("product", json!("Bad/Name")));
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_product")));
    // Over the size limit, raw or once gzip-decoded: 413.
    let big = with("message", json!("x".repeat(300 * 1024)));
    let (status, body) = send(&h, &big);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    let (status, _) = post(&h, &[("Content-Encoding", "gzip")], &gzip(big.to_string().as_bytes()));
    assert_eq!(status, 413);
    let (status, _) = post(&h, &[("Content-Type", "application/xml")], b"{}");
    assert_eq!(status, 415);
    assert_eq!(stored_reports(&h), 0);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_and_text_plain_bodies_are_accepted_with_cors() {
    let h = started();
    let body = report(1, 1, "1.2.3", "demo::run", 12).to_string();
    let mut r = agent()
        .post(&h.url(PATH))
        .header("Content-Encoding", "gzip")
        .header("Content-Type", "application/json")
        .header("Origin", "https://console.example")
        .send(&gzip(body.as_bytes())[..])
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers().get("access-control-allow-origin").unwrap(), "*");
    let _ = r.body_mut().read_to_string();
    let (status, _) = post(
        &h,
        &[("Content-Type", "text/plain")],
        report(2, 1, "1.2.3", "demo::run", 12).to_string().as_bytes(),
    );
    assert_eq!(status, 200);
    assert_eq!(stored_reports(&h), 2);
}

#[test]
fn unknown_fields_are_dropped_and_counted_never_stored() {
    let h = started();
    let mut r = report(1, 1, "1.2.3", "demo::run", 12);
    r["database_url"] = json!("unknown-field-value-1");
    r["frames"][0]["locals"] = json!("unknown-field-value-2");
    r["chain"][0]["source_code"] = json!("unknown-field-value-3");
    r["project"]["schema_name"] = json!("unknown-field-value-4");
    r["ci"] = json!("runner 10.1.2.3");
    let (status, body) = send(&h, &r);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["dropped"], 5);
    let bytes = db::raw_bytes(&h.data_dir());
    for i in 1..=4 {
        assert!(!db::contains(&bytes, &format!("unknown-field-value-{i}")));
    }
    for name in ["database_url", "locals", "source_code", "schema_name"] {
        assert!(!db::contains(&bytes, name), "the name {name} is stored");
    }
    let (_, rejected) = h.admin_get("/api/v1/stats/rejected?product=demo");
    let count = |field: &str, reason: &str| {
        rejected
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["source"] == "error_report" && r["field"] == field && r["reason"] == reason)
            .map_or(0, |r| r["count"].as_u64().unwrap())
    };
    assert_eq!(count("*", "unknown_field"), 3);
    assert_eq!(count("project", "not_a_number"), 1);
    assert_eq!(count("ci", "ip_address"), 1);
}

#[test]
fn planted_identifiers_never_reach_the_database_file() {
    let h = started();
    let planted = [
        "alice@example.com",
        "203.0.113.9",
        "admin:hunter2",
        "hunter2",
        "/home/alice",
        "/Users/bob",
    ];
    let mut r = report(1, 1, "1.2.3", "demo::run", 12);
    r["message"] =
        json!("cannot connect to postgres://admin:hunter2@db.internal:5432/app as alice@example.com from 203.0.113.9");
    r["chain"] = json!([{"kind": "demo::Error", "message": "reading /home/alice/project/.env failed"},
                        {"kind": "io", "message": "mail alice@example.com at 203.0.113.9"}]);
    r["frames"][0]["file"] = json!("/home/alice/project/src/migrate.rs");
    r["frames"][1]["file"] = json!("/Users/bob/.cargo/registry/src/x.rs");
    let (status, body) = send(&h, &r);
    assert_eq!(status, 200, "{body}");
    let bytes = db::raw_bytes(&h.data_dir());
    assert!(db::contains(&bytes, "cannot connect to"), "the message is stored");
    for p in planted {
        assert!(!db::contains(&bytes, p), "{p} reached the database");
    }
    // What the admin API shows is the scrubbed report, with ordinary text kept.
    let group = body["group"].as_str().unwrap();
    let (_, detail) = h.admin_get(&format!("/api/v1/errors/{group}?product=demo"));
    let sample = detail["sample"]["report"].to_string();
    for p in planted {
        assert!(!sample.contains(p), "{p} in {sample}");
    }
    assert_eq!(
        detail["sample"]["report"]["frames"][0]["function"],
        "demo::run::h0123456789abcdef"
    );
    assert_eq!(detail["sample"]["report"]["chain"][0]["kind"], "demo::Error");
}

#[test]
fn reports_are_grouped_by_place_not_by_line_or_build() {
    let h = started();
    // Three installations crash in demo::run (lines move in a later version,
    // the hash suffix changes); one crashes elsewhere.
    assert_eq!(send(&h, &report(1, 1, "1.2.3", "demo::run", 12)).0, 200);
    assert_eq!(send(&h, &report(2, 2, "1.2.3", "demo::run", 12)).0, 200);
    let mut later = report(3, 3, "1.3.0", "demo::run", 48);
    later["frames"][0]["function"] = json!("demo::run::hfedcba9876543210");
    later["os"] = json!("macos");
    assert_eq!(send(&h, &later).0, 200);
    assert_eq!(send(&h, &report(4, 1, "1.3.0", "demo::run", 48)).0, 200);
    let (_, other) = send(&h, &report(5, 1, "1.3.0", "demo::plan", 3));

    let (status, body) = h.admin_get("/api/v1/errors?product=demo");
    assert_eq!(status, 200, "{body}");
    let groups = body["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{body}");
    assert_eq!(groups[0]["group"], other["group"], "latest seen first");
    assert_eq!(groups[0]["count"], 1);
    let g = &groups[1];
    assert_eq!((g["count"].as_u64(), g["signatures"].as_u64()), (Some(4), Some(3)));
    assert_eq!(
        g["versions"],
        json!([{"value": "1.2.3", "count": 2}, {"value": "1.3.0", "count": 2}])
    );
    assert_eq!(
        g["os"],
        json!([{"value": "linux", "count": 3}, {"value": "macos", "count": 1}])
    );
    assert!(g["first_seen_ms"].as_i64() <= g["last_seen_ms"].as_i64());

    let id = g["group"].as_str().unwrap();
    let (status, detail) = h.admin_get(&format!("/api/v1/errors/{id}?product=demo"));
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["count"], 4);
    assert_eq!(
        detail["sample"]["report"]["report_id"],
        report_id(4),
        "the latest report"
    );
    let (status, body) = h.admin_get("/api/v1/errors/v1:0000000000000000?product=demo");
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_group")));
    let (status, body) = h.admin_get("/api/v1/errors?product=ghost");
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_product")));
}

#[test]
fn admin_routes_need_the_token_and_the_format_is_published() {
    let h = started();
    assert_eq!(send(&h, &report(1, 1, "1.2.3", "demo::run", 12)).0, 200);
    for path in [
        "/api/v1/errors?product=demo",
        "/api/v1/errors/v1:0000000000000000?product=demo",
    ] {
        let r = common::raw(
            h.addr(),
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"), "{path}");
        let r = common::raw(
            h.addr(),
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
        assert_eq!(r.status, 401, "{path}");
    }
    let schema: Value = sonde_testkit::http::get(h.addr(), "/api/v1/schema").json();
    let reports = &schema["error_reports"];
    assert_eq!(reports["endpoint"], PATH);
    assert_eq!(reports["schema_versions"], json!([1]));
    let names: Vec<&str> = reports["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for name in [
        "schema",
        "report_id",
        "kind",
        "message",
        "chain",
        "frames",
        "signature",
        "project",
    ] {
        assert!(names.contains(&name), "{name} not published");
    }
}

#[test]
fn the_collectors_retention_deletes_expired_reports_and_their_groups() {
    let h = Harness::start_configured(|c| {
        c.event_retention = std::time::Duration::ZERO;
        c.retention_interval = std::time::Duration::from_millis(100);
    });
    h.register("demo", "1.0.0");
    for n in 0..3 {
        assert_eq!(send(&h, &report(n, n, "1.2.3", "demo::run", 12)).0, 200);
    }
    sonde_testkit::wait::until("retention deleting the reports", || stored_reports(&h) == 0);
    let (status, body) = h.admin_get("/api/v1/errors?product=demo");
    assert_eq!(status, 200);
    assert_eq!(body["groups"], json!([]), "a group with no report left is gone");
}
