//! `GET /api/v1/query` end to end: checks recorded through the front door,
//! answered from the roll-ups as JSON and CSV under the configured minimum
//! group size, behind the admin token.

mod common;

use common::{agent, raw};
use sonde_store::Day;

/// Sends a check of `demo` at `version` from signature `n`.
fn check(h: &common::Harness, version: &str, n: u32) {
    let q = format!("version={version}&signature={n:08x}-88a2-4e21-9c3d-2b6f1e0a4c77");
    let r = raw(
        h.addr(),
        format!("GET /v1/check/demo?{q} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

#[test]
fn query_answers_json_and_csv_under_the_minimum_group_size() {
    let h = common::Harness::start_configured(|c| c.min_group_size = 3);
    h.publish("demo", "1.0.0");
    for n in 0..5 {
        check(&h, "1.0.0", n);
        check(&h, "1.0.0", n);
    }
    for n in 5..8 {
        check(&h, "1.1.0", n);
    }
    for n in 8..10 {
        check(&h, "0.9.0", n);
    }
    // Days around now, so a check sent just before midnight UTC still counts.
    let now = sonde_collector::clock::now_ms();
    let from = Day::from_unix_ms(now - 86_400_000);
    let to = Day::from_unix_ms(now).next();
    let range = format!("product=demo&from={from}&to={to}");

    let (status, unique) = h.admin_get(&format!("/api/v1/query?metric=unique&{range}"));
    assert_eq!(status, 200, "{unique}");
    assert_eq!(unique["metric"], "unique");
    assert_eq!(unique["min_group_size"], 3);
    assert_eq!(unique["rows"], serde_json::json!([{"count": 10}]));

    let breakdown = format!("/api/v1/query?metric=breakdown&dimension=version&interval=week&{range}");
    let (status, versions) = h.admin_get(&breakdown);
    assert_eq!(status, 200, "{versions}");
    let rows = versions["rows"].as_array().unwrap();
    let total_1_0: u64 = rows
        .iter()
        .filter(|r| r["value"] == "1.0.0")
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total_1_0, 5, "{versions}");
    // 0.9.0 (2 signatures) is folded into "other", and so is 1.1.0 (3), the
    // smallest group left, since an "other" of 2 could be had by subtraction.
    assert!(
        rows.iter().all(|r| r["value"] != "0.9.0" && r["value"] != "1.1.0"),
        "{versions}"
    );
    let other: u64 = rows
        .iter()
        .filter(|r| r["value"].is_null())
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!(other, 5, "{versions}");

    // A filter: 1.0.0 is answered; 0.9.0 (2 signatures, below 3) is refused.
    let (status, filtered) = h.admin_get(&format!("/api/v1/query?metric=active&filter=version:1.0.0&{range}"));
    assert_eq!(status, 200, "{filtered}");
    let total: u64 = filtered["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 5, "{filtered}");
    let (status, refused) = h.admin_get(&format!("/api/v1/query?metric=active&filter=version:0.9.0&{range}"));
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (403, Some("too_narrow")),
        "{refused}"
    );

    let auth = format!("Bearer {}", h.inner.admin_token());
    let mut response = agent()
        .get(h.url(&format!("/api/v1/query?metric=unique&format=csv&{range}")))
        .header("Authorization", &auth)
        .call()
        .unwrap();
    assert_eq!(
        response.headers().get("content-type").unwrap().to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    assert_eq!(response.body_mut().read_to_string().unwrap(), "count\n10\n");
}

#[test]
fn query_refuses_bad_parameters_and_missing_tokens() {
    let h = common::start();
    let (status, body) = h.admin_get("/api/v1/query?product=demo&metric=active&from=2026-11-02&to=2026-11-01");
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid_analytics_query", "{body}");
    let (status, body) = h.admin_get("/api/v1/query?metric=active&from=2026-11-01&to=2026-11-02");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("missing_product")),
        "{body}"
    );
    let r = raw(
        h.addr(),
        b"GET /api/v1/query?product=demo&metric=active&from=2026-11-01&to=2026-11-02 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 401);
}

/// Sends a check of `demo` at `version` from signature `n`; returns
/// whether the answer said `outdated`.
fn told(h: &common::Harness, version: &str, n: u32) -> bool {
    let q = format!("version={version}&signature={n:08x}-88a2-4e21-9c3d-2b6f1e0a4c77");
    let r = raw(
        h.addr(),
        format!("GET /v1/check/demo?{q} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let answer: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    answer["outdated"].as_bool().unwrap()
}

#[test]
fn upgrades_after_a_notice_come_from_what_checks_answered() {
    let h = common::Harness::start_configured(|c| c.min_group_size = 3);
    h.publish("demo", "1.1.0");
    // 9 signatures are told 1.0.0 is outdated; 6 of them come back on
    // 1.1.0 (current: not told), one comes back on 1.0.0 again (told
    // again: still one notice); 4 others only ever run 1.1.0.
    for n in 0..9 {
        assert!(told(&h, "1.0.0", n));
    }
    for n in 0..6 {
        assert!(!told(&h, "1.1.0", n));
    }
    assert!(told(&h, "1.0.0", 7));
    for n in 20..24 {
        assert!(!told(&h, "1.1.0", n));
    }
    let now = sonde_collector::clock::now_ms();
    let from = Day::from_unix_ms(now - 86_400_000);
    let to = Day::from_unix_ms(now).next();
    let range = format!("product=demo&from={from}&to={to}");

    let (status, answer) = h.admin_get(&format!("/api/v1/query?metric=upgrades&interval=month&{range}"));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["metric"], "upgrades");
    let rows = answer["rows"].as_array().unwrap();
    let total = rows.last().unwrap();
    assert_eq!(
        total,
        &serde_json::json!({"period": null, "told": 9, "upgraded": 6, "share": 0.6667, "median_days": 0}),
        "{answer}"
    );
    let told_in_periods: u64 = rows[..rows.len() - 1].iter().map(|r| r["told"].as_u64().unwrap()).sum();
    assert_eq!(told_in_periods, 9, "{answer}");

    let auth = format!("Bearer {}", h.inner.admin_token());
    let mut response = agent()
        .get(h.url(&format!(
            "/api/v1/query?metric=upgrades&interval=month&format=csv&{range}"
        )))
        .header("Authorization", &auth)
        .call()
        .unwrap();
    let csv = response.body_mut().read_to_string().unwrap();
    assert!(csv.starts_with("period,told,upgraded,share,median_days\n"), "{csv}");
    assert!(csv.ends_with("(total),9,6,0.6667,0\n"), "{csv}");

    // Under a minimum group size of 10 the cohort of 9 is withheld.
    let h = common::Harness::start_configured(|c| c.min_group_size = 10);
    h.publish("demo", "1.1.0");
    for n in 0..9 {
        assert!(told(&h, "1.0.0", n));
        assert!(!told(&h, "2.0.0", n));
    }
    let (status, answer) = h.admin_get(&format!("/api/v1/query?metric=upgrades&interval=month&{range}"));
    assert_eq!(status, 200, "{answer}");
    let rows = answer["rows"].as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["told"] == serde_json::json!({"fewer_than": 10}) && r["upgraded"].is_null()),
        "{answer}"
    );
    assert_eq!(rows.last().unwrap()["told"], 0, "{answer}");
}
