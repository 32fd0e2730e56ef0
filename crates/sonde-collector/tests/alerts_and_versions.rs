//! `outdated` and alert ranges with real semver ordering, pre-releases
//! included; admin changes are live for the next check.

mod common;

use common::raw;

fn check(h: &common::Harness, version: Option<&str>) -> serde_json::Value {
    let q = match version {
        Some(v) => format!("?version={v}&signature=0f6a3b57-88a2-5e21-9c3d-2b6f1e0a4c77"),
        None => String::new(),
    };
    let r = raw(
        h.addr(),
        format!("GET /v1/check/demo{q} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

fn messages(v: &serde_json::Value) -> Vec<String> {
    let mut m: Vec<String> = v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["message"].as_str().unwrap().to_owned())
        .collect();
    m.sort();
    m
}

#[test]
fn outdated_and_alerts_follow_semver_with_prereleases() {
    let h = common::start();
    h.publish("demo", "1.0.0");
    h.publish("demo", "2.0.0");
    h.publish("demo", "2.1.0-rc.1");
    h.alert("demo", "critical", "old", Some("<2.0.0"));
    h.alert("demo", "warn", "pre", Some(">=2.1.0-alpha, <2.1.0"));
    let everyone = h.alert("demo", "info", "everyone", None);

    let cases: &[(Option<&str>, bool, &str, &[&str])] = &[
        (Some("1.5.0"), true, "2.0.0", &["everyone", "old"]),
        (Some("v1.5"), true, "2.0.0", &["everyone", "old"]),
        (Some("2.0.0"), false, "2.0.0", &["everyone"]),
        // A stable client is not told to move to a pre-release.
        (Some("2.0.1"), false, "2.0.0", &["everyone"]),
        // A pre-release client compares against the newest release of any kind.
        (Some("2.1.0-beta.1"), true, "2.1.0-rc.1", &["everyone", "pre"]),
        (Some("2.1.0-rc.1"), false, "2.1.0-rc.1", &["everyone", "pre"]),
        // 2.0.0-rc.1 is before 2.0.0: inside "<2.0.0".
        (Some("2.0.0-rc.1"), true, "2.1.0-rc.1", &["everyone", "old"]),
        (None, false, "2.0.0", &["everyone"]),
    ];
    for (version, outdated, current, alerts) in cases {
        let v = check(&h, *version);
        assert_eq!(v["outdated"], *outdated, "{version:?}: {v}");
        assert_eq!(v["current_version"], *current, "{version:?}");
        assert_eq!(messages(&v), *alerts, "{version:?}");
        assert_eq!(v["previous_version"], version.unwrap_or(""), "{version:?}");
    }

    // Removing an alert is visible to the next check.
    let mut r = common::agent()
        .delete(&h.url(&format!("/api/v1/alerts/{everyone}")))
        .header("Authorization", &format!("Bearer {}", h.inner.admin_token()))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 204, "{}", r.body_mut().read_to_string().unwrap());
    assert_eq!(messages(&check(&h, Some("2.0.0"))), Vec::<String>::new());
    let r = common::agent()
        .delete(&h.url(&format!("/api/v1/alerts/{everyone}")))
        .header("Authorization", &format!("Bearer {}", h.inner.admin_token()))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // Publishing a newer stable release makes 2.0.0 outdated at once.
    h.publish("demo", "2.1.0");
    let v = check(&h, Some("2.0.0"));
    assert_eq!(
        (v["outdated"].as_bool(), v["current_version"].as_str()),
        (Some(true), Some("2.1.0"))
    );
    let v = check(&h, Some("2.1.0-rc.1"));
    assert_eq!(v["outdated"], true, "2.1.0-rc.1 < 2.1.0");
}

#[test]
fn admin_lists_and_mau() {
    let h = common::start();
    h.publish("demo", "1.0.0");
    h.publish("demo", "1.1.0");
    h.alert("demo", "info", "hello", None);
    for sig in [
        "0f6a3b57-88a2-5e21-9c3d-2b6f1e0a4c77",
        "0f6a3b57-88a2-5e21-9c3d-2b6f1e0a4c78",
    ] {
        for _ in 0..3 {
            let r = raw(
                h.addr(),
                format!(
                    "GET /v1/check/demo?signature={sig}&version=1.0.0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            );
            assert_eq!(r.status, 200);
        }
    }
    let (status, releases) = h.admin_get("/api/v1/releases?product=demo");
    assert_eq!(status, 200);
    let versions: Vec<&str> = releases
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions.len(), 2);
    let (_, alerts) = h.admin_get("/api/v1/alerts?product=demo");
    assert_eq!(alerts.as_array().unwrap().len(), 1);
    let month = sonde_collector::clock::this_month().to_string();
    let (status, mau) = h.admin_get(&format!("/api/v1/stats/mau?product=demo&month={month}"));
    assert_eq!(status, 200);
    assert_eq!(
        mau,
        serde_json::json!({"product": "demo", "month": month, "active_signatures": 2})
    );
    let (status, _) = h.admin_get("/api/v1/stats/mau?product=demo&month=2026-13");
    assert_eq!(status, 400);
    let r = raw(
        h.addr(),
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 200);
}

#[test]
fn a_change_by_another_process_is_served_without_restart() {
    let h = common::start();
    h.publish("demo", "1.0.0");
    assert_eq!(check(&h, Some("1.0.0"))["outdated"], false);
    // Another writer on the same data directory (as `sonde release publish --data-dir` is).
    let other = sonde_store::SqliteStore::open(&h.data_dir()).unwrap();
    use sonde_store::Store;
    other
        .publish_release(
            sonde_store::NewRelease {
                product: "demo".into(),
                version: "1.1.0".into(),
                date: 1,
                ..Default::default()
            },
            sonde_collector::clock::now_ms(),
        )
        .unwrap()
        .wait_blocking()
        .unwrap();
    other.close().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if check(&h, Some("1.0.0"))["current_version"] == "1.1.0" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the collector never picked up the new release"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
