//! `GET /metrics` after known traffic: every counter moves by exactly what
//! was sent; the route is behind the admin token, and open on the separate
//! metrics address when one is configured.

use serde_json::json;
use sonde_testkit::collector::Collector;
use sonde_testkit::http::{exchange, get};

fn uuid(n: u32) -> String {
    format!("0b3f4c4e-1d2a-4c3b-8f00-{n:012}")
}

/// The value of the sample named exactly `series` (`name{labels}`), 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().expect("a number"))
        })
        .unwrap_or(0.0)
}

fn scrape(c: &Collector) -> String {
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {}\r\n\r\n",
        c.inner.admin_token()
    );
    let reply = exchange(c.addr(), request.as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/openmetrics-text")),
        "{:?}",
        reply.header("content-type")
    );
    let text = reply.text();
    assert!(text.ends_with("# EOF\n"), "{text}");
    text
}

#[test]
fn counters_after_known_traffic() {
    let c = Collector::start();
    c.publish("demo", "1.0.0");
    for _ in 0..3 {
        assert_eq!(get(c.addr(), "/v1/check/demo?version=1.0.0").status, 200);
    }
    assert_eq!(get(c.addr(), "/v1/check/nobody").status, 404);
    assert_eq!(get(c.addr(), "/no/such/route").status, 404);
    assert_eq!(get(c.addr(), "/also/missing").status, 404);

    // Two events, then the same batch again (both duplicates), then one
    // event with a flag outside the allowlist (dropped).
    let batch = json!({"product": "demo", "events": [
        {"id": uuid(1), "kind": "command", "command": "demo build"},
        {"id": uuid(2), "kind": "command", "command": "demo build"},
    ]});
    let ct = [("Content-Type", "application/json")];
    for _ in 0..2 {
        let (status, _) = c.post("/api/v1/events", &ct, batch.to_string().as_bytes());
        assert_eq!(status, 200);
    }
    let odd = json!({"product": "demo", "events": [
        {"id": uuid(3), "kind": "command", "command": "demo build", "flags": ["--password=hunter2"]},
    ]});
    let (status, answer) = c.post("/api/v1/events", &ct, odd.to_string().as_bytes());
    assert_eq!(status, 200);
    let dropped_by_door = answer["dropped"].as_u64().expect("dropped");
    assert!(dropped_by_door >= 1, "{answer}");

    // An error report whose message holds a secret and an IP address.
    let report = json!({
        "schema": 1, "report_id": "0190f5e2-7c4a-7d3e-9a1b-000000000001", "product": "demo",
        "kind": "std::io::Error",
        "message": "connect failed: password=hunter2 at 10.0.0.7",
        "chain": [{"kind": "demo::Error", "message": "[redacted:made_up] is no rule"}],
        "frames": [{"function": "demo::main", "file": "src/main.rs", "line": 3, "in_app": true}]
    });
    let (status, stored) = c.post("/api/v1/error-reports", &ct, report.to_string().as_bytes());
    assert_eq!(status, 200, "{stored}");

    let text = scrape(&c);
    let check = r#"route="/v1/check/{product}",method="GET""#;
    assert_eq!(
        sample(&text, &format!("sonde_http_requests_total{{{check},status=\"200\"}}")),
        3.0
    );
    assert_eq!(
        sample(&text, &format!("sonde_http_requests_total{{{check},status=\"404\"}}")),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            r#"sonde_http_requests_total{route="unmatched",method="GET",status="404"}"#
        ),
        2.0
    );
    assert_eq!(
        sample(
            &text,
            r#"sonde_http_requests_total{route="/api/v1/events",method="POST",status="200"}"#
        ),
        3.0
    );
    assert_eq!(sample(&text, r#"sonde_pings_accepted_total{source="check"}"#), 3.0);
    assert_eq!(sample(&text, r#"sonde_events_accepted_total{source="native"}"#), 3.0);
    assert_eq!(
        sample(&text, r#"sonde_events_deduplicated_total{source="native"}"#),
        2.0
    );
    let dropped_native: f64 = text
        .lines()
        .filter(|l| l.starts_with("sonde_dropped_total{source=\"native\""))
        .map(|l| l.rsplit_once(' ').expect("sample").1.parse::<f64>().expect("number"))
        .sum();
    assert_eq!(dropped_native, dropped_by_door as f64);
    assert_eq!(sample(&text, "sonde_error_reports_accepted_total"), 1.0);
    assert_eq!(sample(&text, r#"sonde_scrubber_redactions_total{rule="secret"}"#), 1.0);
    assert_eq!(
        sample(&text, r#"sonde_scrubber_redactions_total{rule="ip_address"}"#),
        1.0
    );
    // Three event batches and one error report: three batch sizes, and
    // every write committed (3 pings + 3 batches + 1 report) is timed.
    assert_eq!(sample(&text, "sonde_ingest_batch_events_count"), 3.0);
    assert_eq!(sample(&text, "sonde_ingest_batch_events_sum"), 5.0);
    assert_eq!(sample(&text, "sonde_commit_seconds_count"), 7.0);
    assert_eq!(sample(&text, "sonde_write_queue_depth"), 0.0);
    assert_eq!(sample(&text, "sonde_spill_depth"), 0.0);
    // Nothing from a request becomes a label value.
    for sent in ["nobody", "no/such", "hunter2", "made_up"] {
        assert!(!text.contains(sent), "{sent} reached the metrics");
    }
}

#[test]
fn metrics_need_the_admin_token_unless_served_on_their_own_address() {
    let c = Collector::start_configured(|config| config.metrics_listen = Some("127.0.0.1:0".parse().unwrap()));
    let reply = get(c.addr(), "/metrics");
    assert_eq!(reply.status, 401);
    assert_eq!(reply.error_code(), "unauthorized");
    let metrics_addr = c.inner.metrics_addr().expect("a separate metrics address");
    assert_ne!(metrics_addr, c.addr());
    let open = get(metrics_addr, "/metrics");
    assert_eq!(open.status, 200);
    assert!(open.text().contains("sonde_http_requests_total"), "{}", open.text());
    // The open address serves nothing else.
    assert_eq!(get(metrics_addr, "/api/v1/releases?product=demo").status, 404);
}

#[test]
fn the_spill_depth_gauge_is_exported_as_set() {
    let c = Collector::start();
    let metrics = c.inner.metrics();
    metrics.spill_depth().set(42);
    assert_eq!(sample(&scrape(&c), "sonde_spill_depth"), 42.0);
}
