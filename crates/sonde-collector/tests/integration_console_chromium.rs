//! The console snippet in a real headless Chromium against the running
//! collector.
//!
//! A page served from loopback (another origin than the collector) imports
//! `/sdk/console.js` from the collector, tracks actions with route templates,
//! and leaves for a second page: the snippet's `pagehide` flush sends the
//! first batch with `navigator.sendBeacon` (a cross-origin `text/plain`
//! body). The second page starts the snippet with telemetry disabled (nothing
//! may be sent), then enabled, and flushes explicitly. The test waits for the
//! rows in the SQLite file, checks them field by field, and checks that a
//! concrete table name and an unregistered route never reach the file.
//!
//! Chromium is installed by `scripts/setup-test-deps` (Debian's `chromium`);
//! the test kit's `browser` starts it.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const SERVER_ID: &str = "79485a57-fca5-40f3-a31b-78c0d211314b";

fn page1(collector: &str) -> String {
    format!(
        r#"<!doctype html><title>page1</title>
<script type="module">
import * as sonde from "{collector}/sdk/console.js";
sonde.init({{endpoint: "{collector}", product: "hasura", consoleMode: "server",
  serverId: "{SERVER_ID}", serverVersion: "v2.36.0", telemetryEnabled: true}});
sonde.track("ModifyTable/RESET", "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify");
// A page that wrongly passes a concrete path: the collector reduces it.
sonde.track("BrowseRows/LOAD", "/data/schema/public/tables/chromium_planted_tbl/browse");
// A route no template matches: the collector drops it.
sonde.track("Unknown/OPEN", "/nowhere/chromium_secret_route");
document.title = "tracked";
setTimeout(() => {{ location.href = "/page2.html"; }}, 300);
</script>"#
    )
}

fn page2(collector: &str) -> String {
    format!(
        r#"<!doctype html><title>page2</title>
<script type="module">
import * as sonde from "{collector}/sdk/console.js";
// The server's telemetry is off: nothing is sent.
sonde.init({{endpoint: "{collector}", product: "hasura", telemetryEnabled: false}});
sonde.track("Disabled/SHOULD_NOT_SEND", "/");
sonde.flush();
// On again: an explicit flush.
sonde.init({{endpoint: "{collector}", product: "hasura", consoleMode: "cli", telemetryEnabled: true}});
sonde.track("Final/MARKER", "/settings/about");
document.title = sonde.flush() ? "flushed" : "flush-refused";
</script>"#
    )
}

/// Serves the two pages on loopback until the test ends.
fn serve_pages(collector: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = request_line.split(' ').nth(1).unwrap_or("/").to_owned();
            let (status, body) = match path.as_str() {
                "/page1.html" => ("200 OK", page1(&collector)),
                "/page2.html" => ("200 OK", page2(&collector)),
                _ => ("404 Not Found", String::new()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    base
}

fn console_rows(h: &common::Harness) -> Vec<Value> {
    let db = h.db();
    let mut stmt = db
        .prepare("SELECT fields FROM events WHERE product = 'hasura' AND kind = 'console'")
        .unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|f| serde_json::from_str(&f.unwrap()).unwrap())
        .collect()
}

#[test]
fn console_snippet_in_headless_chromium_sends_only_templates() {
    let h = common::start();
    h.publish("hasura", "1.0.0");
    // The page's own action types join Hasura's built-in console event
    // types (`ModifyTable/RESET` is one); others would be dropped.
    let (status, body) = h.admin_post(
        "/api/v1/vocabulary",
        json!({"product": "hasura", "event_types": ["BrowseRows/LOAD", "Unknown/OPEN", "Final/MARKER"]}),
    );
    assert_eq!(status, 201, "{body}");
    let pages = serve_pages(h.inner.base_url());
    let profile = tempfile::tempdir().unwrap();
    let _browser = sonde_testkit::browser::spawn(profile.path(), &[&format!("{pages}/page1.html")]);

    // Bounded wait: the page's beacons arrive in seconds; a cold Chromium
    // start on a busy machine can take a while.
    let deadline = Instant::now() + Duration::from_secs(90);
    let rows = loop {
        let rows = console_rows(&h);
        if rows.iter().any(|r| r["event_type"] == "Final/MARKER") && rows.len() >= 4 {
            break rows;
        }
        assert!(
            Instant::now() < deadline,
            "the beacons did not arrive; rows so far: {rows:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let find = |action: &str| rows.iter().find(|r| r["event_type"] == action).cloned();
    assert_eq!(
        find("ModifyTable/RESET").unwrap(),
        json!({"event_type": "ModifyTable/RESET", "url": "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify",
               "console_mode": "server", "server_uuid": SERVER_ID, "server_version": "v2.36.0"})
    );
    assert_eq!(
        find("BrowseRows/LOAD").unwrap()["url"],
        "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/browse"
    );
    assert_eq!(
        find("Unknown/OPEN").unwrap(),
        json!({"event_type": "Unknown/OPEN", "console_mode": "server", "server_uuid": SERVER_ID, "server_version": "v2.36.0"})
    );
    assert_eq!(
        find("Final/MARKER").unwrap(),
        json!({"event_type": "Final/MARKER", "url": "/settings/about", "console_mode": "cli"})
    );
    assert!(
        find("Disabled/SHOULD_NOT_SEND").is_none(),
        "disabled telemetry sent an event"
    );
    assert_eq!(rows.len(), 4);

    let mut bytes = Vec::new();
    for name in ["sonde.db", "sonde.db-wal"] {
        if let Ok(b) = std::fs::read(h.data_dir().join(name)) {
            bytes.extend(b);
        }
    }
    for planted in ["chromium_planted_tbl", "chromium_secret_route"] {
        assert!(
            !bytes.windows(planted.len()).any(|w| w == planted.as_bytes()),
            "{planted} reached the database"
        );
    }
    let (_, rejected) = h.admin_get("/api/v1/stats/rejected?product=hasura");
    assert_eq!(
        rejected,
        json!([{"product": "hasura", "source": "native", "field": "url", "reason": "unknown_route", "count": 1}])
    );
}
