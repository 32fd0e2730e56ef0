//! Every error status, in the JSON error shape, and nothing stored for a
//! refused request; a malformed field is dropped and counted while the client
//! still gets its 200.

mod common;

use common::raw;

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()
}

fn post(path: &str, content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(ct) = content_type {
        req.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

#[test]
fn unknown_product_is_404_and_nothing_is_stored() {
    let h = common::start();
    h.publish("demo", "1.0.0");
    let r = raw(
        h.addr(),
        &get("/v1/check/ghost?signature=0f6a3b57-88a2-5e21-9c3d-2b6f1e0a4c77&version=1.0.0&junk=1"),
    );
    assert_eq!((r.status, r.error_code()), (404, "unknown_product".to_owned()));
    let v: serde_json::Value = r.json();
    assert!(v["error"]["message"].as_str().unwrap().contains("ghost"));
    let r = raw(h.addr(), &post("/v1/telemetry/ghost", None, b"{}"));
    assert_eq!(r.status, 404);
    assert_eq!(h.count("SELECT count(*) FROM pings"), 0);
    assert_eq!(h.count("SELECT count(*) FROM rejections"), 0);
    assert_eq!(h.count("SELECT count(*) FROM monthly_signatures"), 0);
}

#[test]
fn bad_product_name_is_400() {
    let h = common::start();
    for path in ["/v1/check/Bad%20Name", "/v1/check/..%2Fetc", "/v1/check/UPPER"] {
        let r = raw(h.addr(), &get(path));
        assert_eq!(
            (r.status, r.error_code()),
            (400, "invalid_product".to_owned()),
            "{path}"
        );
    }
    let r = raw(h.addr(), &post("/v1/telemetry/Nope!", None, b"{}"));
    assert_eq!(r.status, 400);
    assert_eq!(h.count("SELECT count(*) FROM pings"), 0);
}

#[test]
fn telemetry_errors_are_413_415_400() {
    let h = common::start();
    h.publish("demo", "1.0.0");
    let big = vec![b' '; 70 * 1024];
    let r = raw(h.addr(), &post("/v1/telemetry/demo", Some("application/json"), &big));
    assert_eq!((r.status, r.error_code()), (413, "payload_too_large".to_owned()));
    let r = raw(h.addr(), &post("/v1/telemetry/demo", Some("text/html"), b"<p>hi</p>"));
    assert_eq!((r.status, r.error_code()), (415, "unsupported_media_type".to_owned()));
    let r = raw(h.addr(), &post("/v1/telemetry/demo", None, b"{not json"));
    assert_eq!((r.status, r.error_code()), (400, "invalid_json".to_owned()));
    // A report is an object: an array is not read as the struct's fields in order.
    let r = raw(
        h.addr(),
        &post("/v1/telemetry/demo", Some("application/json"), b"[null, null]"),
    );
    assert_eq!((r.status, r.error_code()), (400, "invalid_json".to_owned()));
    let r = raw(
        h.addr(),
        &post(
            "/v1/telemetry/demo",
            Some("application/json; charset=utf-8"),
            b"{\"version\":\"1.0.0\"}",
        ),
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        h.count("SELECT count(*) FROM pings"),
        1,
        "only the accepted report is stored"
    );
}

#[test]
fn overlong_query_is_400() {
    let h = common::start();
    h.publish("demo", "1.0.0");
    let r = raw(
        h.addr(),
        &get(&format!("/v1/check/demo?version={}", "1".repeat(20_000))),
    );
    assert_eq!((r.status, r.error_code()), (400, "query_too_long".to_owned()));
    assert_eq!(h.count("SELECT count(*) FROM pings"), 0);
}

#[test]
fn admin_api_needs_the_token() {
    let h = common::start();
    let body = br#"{"product":"demo","version":"1.0.0"}"#;
    let r = raw(h.addr(), &post("/api/v1/releases", Some("application/json"), body));
    assert_eq!((r.status, r.error_code()), (401, "unauthorized".to_owned()));
    let mut req = post("/api/v1/releases", Some("application/json"), body);
    let wrong = format!("Authorization: Bearer {}\r\n", "0".repeat(64));
    let at = req.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    req.splice(at..at, wrong.into_bytes());
    let r = raw(h.addr(), &req);
    assert_eq!(r.status, 401);
    for path in [
        "/api/v1/alerts",
        "/api/v1/stats/mau?product=demo",
        "/api/v1/releases?product=demo",
    ] {
        assert_eq!(raw(h.addr(), &get(path)).status, 401, "{path}");
    }
    assert_eq!(h.count("SELECT count(*) FROM releases"), 0);
}

#[test]
fn admin_validation_errors_are_400_with_the_field() {
    let h = common::start();
    h.publish("demo", "1.0.0");
    for (path, body, needle) in [
        (
            "/api/v1/releases",
            serde_json::json!({"product": "demo", "version": "banana"}),
            "version",
        ),
        (
            "/api/v1/releases",
            serde_json::json!({"product": "Demo!", "version": "1.0.0"}),
            "product",
        ),
        (
            "/api/v1/releases",
            serde_json::json!({"product": "demo", "version": "1.0.0", "date": "yesterday"}),
            "date",
        ),
        (
            "/api/v1/alerts",
            serde_json::json!({"product": "demo", "level": "loud", "message": "x"}),
            "level",
        ),
        (
            "/api/v1/alerts",
            serde_json::json!({"product": "demo", "level": "info", "message": "x", "affects": "<<1"}),
            "affects",
        ),
        (
            "/api/v1/alerts",
            serde_json::json!({"product": "demo", "level": "info"}),
            "message",
        ),
    ] {
        let (status, v) = h.admin_post(path, body);
        assert_eq!(status, 400, "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains(needle), "{v}");
    }
    let (status, v) = h.admin_post(
        "/api/v1/alerts",
        serde_json::json!({"product": "ghost", "level": "info", "message": "x"}),
    );
    assert_eq!((status, v["error"]["code"].as_str()), (404, Some("unknown_product")));
    let (status, _) = h.admin_get("/api/v1/releases?product=ghost");
    assert_eq!(status, 404);
    assert_eq!(h.count("SELECT count(*) FROM alerts"), 0);
    let r = raw(h.addr(), &get("/no/such/route"));
    assert_eq!((r.status, r.error_code()), (404, "no_route".to_owned()));
}

#[test]
fn malformed_fields_are_dropped_and_counted_and_the_client_gets_200() {
    let h = common::start();
    h.publish("demo", "2.0.0");
    let long_version = "9".repeat(10 * 1024);
    let path = format!(
        "/v1/check/demo?arch=amd64&os=linux&signature=not-a-uuid&version={long_version}&ci_name=runner%2010.0.0.7&mystery=1&other=2"
    );
    let r = raw(h.addr(), &get(&path));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v: serde_json::Value = r.json();
    assert_eq!(v["current_version"], "2.0.0");
    assert_eq!(v["outdated"], false, "an unknown version is never called outdated");

    let (sig, version, ci_name, os): (Option<String>, Option<String>, Option<String>, String) = h
        .db()
        .query_row("SELECT signature, version, ci_name, os FROM pings", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap();
    assert_eq!((sig, version, ci_name, os.as_str()), (None, None, None, "linux"));
    let mut counts: Vec<(String, String, String, i64)> = h
        .db()
        .prepare("SELECT source, field, reason, count FROM rejections WHERE product = 'demo' ORDER BY field, reason")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    counts.sort();
    let expected: Vec<(String, String, String, i64)> = [
        ("*", "unknown_field", 2),
        ("ci_name", "ip_address", 1),
        ("signature", "invalid_signature", 1),
        ("version", "too_long", 1),
    ]
    .into_iter()
    .map(|(f, r, n)| ("check".to_owned(), f.to_owned(), r.to_owned(), n))
    .collect();
    assert_eq!(counts, expected);
    // The admin API reports the same counters.
    let (status, rows) = h.admin_get("/api/v1/stats/rejected?product=demo");
    assert_eq!(status, 200);
    assert_eq!(rows.as_array().unwrap().len(), 4);
}

#[test]
fn a_full_write_queue_answers_503_with_retry_after_and_loses_nothing_acknowledged() {
    let h = common::Harness::start_configured(|c| c.queue_capacity = 1);
    h.publish("demo", "1.0.0");
    // Hold the database's write lock so the writer cannot commit.
    let blocker = h.db();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let addr = h.addr();
    let (tx, rx) = std::sync::mpsc::channel();
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let r = raw(
                    addr,
                    &get(&format!(
                        "/v1/check/demo?version=1.0.0&signature={i:08x}-0000-4000-8000-000000000000"
                    )),
                );
                tx.send((r.status, r.header("retry-after").map(str::to_owned))).unwrap();
            })
        })
        .collect();
    // With one op in the writer and one in the queue, the rest are refused at once.
    let (status, retry) = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("a refusal while blocked");
    assert_eq!(status, 503);
    assert_eq!(retry.as_deref(), Some("1"));
    blocker.execute_batch("COMMIT").unwrap();
    for t in threads {
        t.join().unwrap();
    }
    let mut ok = 0;
    let mut unavailable = 1;
    while let Ok((status, _)) = rx.try_recv() {
        match status {
            200 => ok += 1,
            503 => unavailable += 1,
            s => panic!("unexpected status {s}"),
        }
    }
    assert!(ok >= 1, "the queued checks are answered once the lock is gone");
    assert_eq!(ok + unavailable, 6);
    assert_eq!(
        h.count("SELECT count(*) FROM pings"),
        ok as i64,
        "exactly the acknowledged pings are stored"
    );
}

#[test]
fn a_second_collector_on_the_same_data_directory_is_refused() {
    let collector = common::start();
    let dir = collector.data_dir();
    let config = || sonde_collector::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.clone(),
        ..sonde_collector::Config::default()
    };
    let err = sonde_collector::start_in_background(config()).expect_err("a second collector must not start");
    assert!(
        matches!(err, sonde_collector::CollectorError::DataDirInUse(_)),
        "unexpected error: {err}"
    );
    assert!(err.to_string().contains("already serving"), "{err}");
    // Once the first one stops, the same directory is free again.
    let _kept = collector.shutdown();
    let again = sonde_collector::start_in_background(config()).expect("the directory is free after shutdown");
    again.shutdown();
}
