//! The dashboard at `/`: sign-in, sessions, the page's numbers under the
//! minimum group size, escaping, assets, over real HTTP on loopback into a
//! real SQLite file; then the same in a real headless Chromium, desktop and
//! phone width, with screenshots in `target/dashboard-screenshots/`.
//!
//! The data is generated with known answers and written through the store
//! (pings and command events at fixed days of November 2026) before the
//! collector starts; alerts and error reports go through the admin API and
//! the error-report front door.

mod common;

use std::path::PathBuf;

use serde_json::{json, Value};
use sonde_collector::dashboard::{CSP, TOO_MANY, WRONG_TOKEN};
use sonde_protocol::{ClientFamily, Event, EventKind, Fields, ProductName, UsagePing};
use sonde_store::{Day, NewEvents, NewPing, NewRelease, SqliteStore, Store};
use sonde_testkit::browser::Page;
use sonde_testkit::collector::Collector;

/// The range every known answer is in.
const RANGE: &str = "product=demo&from=2026-11-01&to=2026-11-30";

/// The last 30 days: the error reports go through the front door, so they
/// are received today, and the error panel shows the groups with a report
/// in the range.
const RECENT: &str = "product=demo&days=30";

fn noon(day: &str) -> i64 {
    day.parse::<Day>().unwrap().start_ms() + 43_200_000
}

fn sig(i: u32) -> String {
    format!("{i:08x}-5d1e-4a7b-9c3d-0a1b2c3d4e5f")
}

fn ping(i: u32, day: &str, version: &str, ci: bool) -> NewPing {
    // Over the month: 12 signatures on linux, 4 on darwin, 3 on windows;
    // 14 on x86_64, 5 on aarch64.
    let os = match i {
        0..12 => "linux",
        12..16 => "darwin",
        _ => "windows",
    };
    NewPing {
        ping: UsagePing {
            product: ProductName::parse("demo").unwrap(),
            version: Some(version.into()),
            os: Some(os.into()),
            arch: Some(if i < 14 || ci { "x86_64" } else { "aarch64" }.into()),
            runtime_version: None,
            signature: Some(sig(i)),
            ci: Some(ci),
            ci_name: None,
            client_family: ClientFamily::GoCheckpoint,
            project_hash: None,
            cli_path_hash: None,
            received_at_ms: noon(day),
        },
        source: "check",
        dropped: Vec::new(),
        told_outdated: false,
    }
}

fn command(i: u32, installation: u32, name: &str, is_error: bool) -> Event {
    let mut fields = Fields::new();
    fields.insert("command", name.into());
    fields.insert("uuid", format!("{installation:08x}-1c1c-4d4d-8e8e-0f0f0f0f0f0f").into());
    fields.insert("is_error", is_error.into());
    Event {
        id: format!("{i:08x}-0c0c-4d4d-8e8e-0f0f0f0f0f0f"),
        kind: EventKind::Command,
        product: ProductName::parse("demo").unwrap(),
        test: false,
        occurred_at_ms: None,
        received_at_ms: noon("2026-11-10"),
        fields,
    }
}

/// Writes the known data into a new data directory:
///
/// - 2026-11-10: 16 humans (6 on 1.2.0, 5 on 1.1.0, 3 on 0.9.0, 2 on 0.8.0)
///   and 4 CI signatures on 1.2.0: 16 humans, CI fewer than 5;
/// - 2026-11-11: signatures 0 to 7 again: 8;
/// - 2026-11-12: 3 new signatures on 1.2.0: fewer than 5;
/// - the 10 humans not on 1.2.0 on the 10th were told they are outdated;
///   5 of them (those on 1.1.0 that day) run 1.2.0 on 2026-11-20, 10 days
///   later;
/// - commands in November: `demo build` 30 runs (6 errors) from 10
///   installations, `demo test` 8 from 3,
///   `demo deploy` 2 (1 error) from 2.
fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let release = NewRelease {
        product: "demo".into(),
        version: "1.2.0".into(),
        date: 1_790_000_000,
        ..Default::default()
    };
    store
        .publish_release(release, noon("2026-11-01"))
        .unwrap()
        .wait_blocking()
        .unwrap();
    let mut pending = Vec::new();
    let versions = [("1.2.0", 6), ("1.1.0", 5), ("0.9.0", 3), ("0.8.0", 2)];
    let mut i = 0;
    for (version, n) in versions {
        for _ in 0..n {
            // The release is 1.2.0: the others were told they are outdated.
            let mut op = ping(i, "2026-11-10", version, false);
            op.told_outdated = version != "1.2.0";
            pending.push(store.record_ping(op).unwrap());
            i += 1;
        }
    }
    for ci in 100..104 {
        pending.push(store.record_ping(ping(ci, "2026-11-10", "1.2.0", true)).unwrap());
    }
    for i in 0..8 {
        let version = if i < 6 { "1.2.0" } else { "1.1.0" };
        pending.push(store.record_ping(ping(i, "2026-11-11", version, false)).unwrap());
    }
    for i in 16..19 {
        pending.push(store.record_ping(ping(i, "2026-11-12", "1.2.0", false)).unwrap());
    }
    for i in 6..11 {
        pending.push(store.record_ping(ping(i, "2026-11-20", "1.2.0", false)).unwrap());
    }
    for p in pending {
        p.wait_blocking().unwrap();
    }
    let mut events = Vec::new();
    for i in 0..30 {
        events.push(command(i, i % 10, "demo build", i < 6));
    }
    for i in 30..38 {
        events.push(command(i, 100 + i % 3, "demo test", false));
    }
    for i in 38..40 {
        events.push(command(i, 200 + i, "demo deploy", i == 38));
    }
    store
        .store_events(NewEvents {
            product: ProductName::parse("demo").unwrap(),
            source: "native",
            events,
            dropped: Vec::new(),
        })
        .unwrap()
        .wait_blocking()
        .unwrap();
    store.close().unwrap();
    dir
}

/// An error report of `demo` from signature `s`, crashing in `function`.
fn report(n: u32, s: u32, function: &str) -> Value {
    json!({
        "schema": 1, "report_id": format!("0190f5e2-7c4a-7d3e-9a1b-{n:012x}"), "product": "demo",
        "version": "1.2.0", "signature": sig(s), "os": "linux", "arch": "x86_64",
        "kind": "std::io::Error", "message": "No such file or directory (os error 2)", "panic": false,
        "frames": [{"function": format!("{function}::h0123456789abcdef"), "file": "src/migrate.rs", "line": 10, "in_app": true}]
    })
}

/// A collector over the known data, with two alerts and three error groups
/// (7, 5 and 2 signatures).
fn started() -> (Collector, tempfile::TempDir) {
    let dir = data_dir();
    let h = Collector::start_in(dir.path());
    h.alert("demo", "critical", "upgrade: CVE-2026-1", Some("<1.2.0"));
    h.alert("demo", "info", "<script>alert(\"x\")</script> & more", None);
    let mut n = 0;
    for (function, signatures) in [("demo::migrate", 7), ("demo::seed", 5), ("demo::rare", 2)] {
        for s in 0..signatures {
            let (status, body) = h.post(
                "/api/v1/error-reports",
                &[("Content-Type", "application/json")],
                report(n, s, function).to_string().as_bytes(),
            );
            assert_eq!(status, 200, "{body}");
            n += 1;
        }
    }
    (h, dir)
}

/// An agent that returns every status and follows no redirect.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .build()
        .into()
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn answer(mut r: ureq::http::Response<ureq::Body>) -> Answer {
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    Answer {
        status: r.status().as_u16(),
        headers,
        body: r.body_mut().read_to_string().unwrap_or_default(),
    }
}

fn get(h: &Collector, path: &str, cookie: Option<&str>) -> Answer {
    let mut req = agent().get(&h.url(path));
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    answer(req.call().unwrap())
}

fn sign_in(h: &Collector, token: &str) -> Answer {
    let body = format!("token={token}");
    answer(
        agent()
            .post(&h.url("/session"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body.as_bytes())
            .unwrap(),
    )
}

/// Signs in with the right token; returns the `name=value` of the cookie.
fn session(h: &Collector) -> String {
    let r = sign_in(h, h.inner.admin_token());
    assert_eq!(r.status, 303);
    let cookie = r.header("set-cookie").expect("a session cookie");
    cookie.split(';').next().unwrap().to_owned()
}

fn assert_page_headers(r: &Answer) {
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("content-security-policy"), Some(CSP));
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
}

/// The cells of the row of `table_id`'s table that starts with `first`.
fn row(body: &str, first: &str) -> String {
    let start = body
        .find(&format!("<tr><td>{first}</td>"))
        .unwrap_or_else(|| panic!("no row {first}"));
    let end = body[start..].find("</tr>").unwrap() + start;
    body[start..end].to_owned()
}

fn nums(cells: &[&str]) -> String {
    cells.iter().map(|c| format!("<td class=\"num\">{c}</td>")).collect()
}

#[test]
fn without_a_session_the_sign_in_page_is_shown() {
    let (h, _dir) = started();
    let r = get(&h, "/", None);
    assert_eq!(r.status, 200);
    assert_page_headers(&r);
    assert!(
        r.body.contains(r#"<form method="post" action="/session">"#),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"type="password" name="token""#));
    // An unknown session, and a well-formed one that was never given.
    for cookie in ["sonde_session=nope", &format!("sonde_session={}", "ab".repeat(32))] {
        let r = get(&h, &format!("/?{RANGE}"), Some(cookie));
        assert_eq!(r.status, 200);
        assert!(r.body.contains(r#"action="/session""#));
        assert!(!r.body.contains("Active signatures"));
    }
    // Nothing puts a secret in page storage.
    let js = get(&h, "/dashboard/assets/dashboard.js", None).body;
    assert!(!js.contains("localStorage") && !js.contains("sessionStorage"));
}

#[test]
fn a_wrong_token_is_refused_and_the_right_one_starts_a_session() {
    let (h, _dir) = started();
    let r = sign_in(&h, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    assert_eq!(r.status, 401);
    assert_page_headers(&r);
    assert!(r.body.contains(WRONG_TOKEN), "{}", r.body);
    assert!(r.header("set-cookie").is_none());

    let r = sign_in(&h, h.inner.admin_token());
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/"));
    let cookie = r.header("set-cookie").unwrap();
    let parts: Vec<&str> = cookie.split("; ").collect();
    let (name, id) = parts[0].split_once('=').unwrap();
    assert_eq!(name, "sonde_session");
    assert_eq!(id.len(), 64);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(id, h.inner.admin_token());
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(parts.contains(&attr), "{attr} missing in {cookie}");
    }
    // Plain HTTP: not Secure.
    assert!(!parts.contains(&"Secure"), "{cookie}");

    let page = get(&h, "/", Some(parts[0]));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Active signatures per day"));
    assert!(
        !page.body.contains(h.inner.admin_token()),
        "the token is never in a page"
    );
    assert!(!page.body.contains(id), "the session is never in a page");

    // Signing out ends the session and clears the cookie.
    let out = answer(
        agent()
            .post(&h.url("/session/logout"))
            .header("Cookie", parts[0])
            .send_empty()
            .unwrap(),
    );
    assert_eq!(out.status, 303);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let after = get(&h, "/", Some(parts[0]));
    assert!(after.body.contains(r#"action="/session""#));
    assert!(!after.body.contains("Active signatures"));
}

#[test]
fn sign_in_attempts_are_rate_limited() {
    let (h, _dir) = started();
    for _ in 0..10 {
        assert_eq!(sign_in(&h, "wrong").status, 401);
    }
    let r = sign_in(&h, h.inner.admin_token());
    assert_eq!(r.status, 429);
    assert!(r.body.contains(TOO_MANY));
    assert!(r.header("set-cookie").is_none());
}

/// The active panel's rows in `body`.
fn assert_active_rows(body: &str) {
    // Active per day: humans, then CI apart (4 on the 10th: fewer than 5;
    // the 12th's humans are hidden, so its CI figure is not given either),
    // then the humans of the 28 days ending on the day (16 from the 10th,
    // 19 from the 12th on: the 3 new ones join).
    for (day, cells) in [
        ("2026-11-09", ["0", "0", "0"]),
        ("2026-11-10", ["16", "fewer than 5", "16"]),
        ("2026-11-11", ["8", "0", "16"]),
        ("2026-11-12", ["fewer than 5", "–", "19"]),
        ("2026-11-13", ["0", "0", "19"]),
    ] {
        assert!(
            body.contains(&format!("<tr><td>{day}</td>{}</tr>", nums(&cells))),
            "{day}"
        );
    }
}

#[test]
fn the_page_shows_the_known_numbers_under_the_minimum_group_size() {
    let (h, _dir) = started();
    let cookie = session(&h);
    let r = get(&h, &format!("/?{RANGE}"), Some(&cookie));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_page_headers(&r);
    let body = &r.body;

    assert_active_rows(body);

    // Versions on the 10th: 1.2.0 and 1.1.0 shown, 0.9.0 (3) and 0.8.0 (2)
    // in "other" (5); the 11th is all "other" (1.1.0 had 2, so 1.2.0 went too).
    let versions = &body[body.find(r#"id="versions""#).unwrap()..body.find(r#"id="platforms""#).unwrap()];
    assert!(versions.contains(r#"<th scope="col" class="num">1.2.0</th><th scope="col" class="num">1.1.0</th><th scope="col" class="num">other</th>"#), "{versions}");
    assert!(
        versions.contains(&format!(
            "<tr><td>2026-11-10</td>{}",
            nums(&["6 (37.5%)", "5 (31.2%)", "5 (31.2%)"])
        )),
        "{versions}"
    );
    assert!(
        versions.contains(&format!(
            "<tr><td>2026-11-11</td>{}",
            nums(&["0 (0.0%)", "0 (0.0%)", "8 (100.0%)"])
        )),
        "{versions}"
    );
    assert!(!versions.contains(">0.9.0<") && !versions.contains(">0.8.0<"));

    // Platforms in November: darwin (4) and windows (3) folded.
    let platforms = &body[body.find(r#"id="platforms""#).unwrap()..body.find(r#"id="commands""#).unwrap()];
    assert!(
        platforms.contains(&format!("<tr><td>linux</td>{}", nums(&["12"]))),
        "{platforms}"
    );
    assert!(
        platforms.contains(&format!("<tr><td>other</td>{}", nums(&["7"]))),
        "{platforms}"
    );
    assert!(!platforms.contains("darwin") && !platforms.contains("windows"));
    assert!(platforms.contains(&format!("<tr><td>x86_64</td>{}", nums(&["14"]))));
    assert!(platforms.contains(&format!("<tr><td>aarch64</td>{}", nums(&["5"]))));

    // Commands, folded by installations: build (10 installations) kept;
    // test (3) and deploy (2) folded into "other", 10 runs.
    assert_eq!(
        row(body, "demo build"),
        format!("<tr><td>demo build</td>{}", nums(&["30", "6", "20.0%"]))
    );
    let commands = &body[body.find(r#"id="commands""#).unwrap()..body.find(r#"id="alerts""#).unwrap()];
    assert!(
        commands.contains(&format!("<tr><td>other</td>{}", nums(&["10", "1", "10.0%"]))),
        "{commands}"
    );
    assert!(!commands.contains("demo deploy"));

    // Alerts with their reach: 10 humans on a version below 1.2.0, and all
    // 19 for an alert on every version; the message escaped.
    assert_eq!(
        row(body, "critical"),
        format!(
            "<tr><td>critical</td><td>upgrade: CVE-2026-1</td><td>&lt;1.2.0</td>{}",
            nums(&["10"])
        )
    );
    assert!(body.contains(&format!(
        "<tr><td>info</td><td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more</td><td>every version</td>{}",
        nums(&["19"])
    )), "{body}");
    assert!(!body.contains("<script>alert"));

    // Error groups: 7 signatures shown; 5 and 2 folded into "other". None
    // was received in November.
    let november = &body[body.find(r#"id="errors""#).unwrap()..body.find(r#"id="retention""#).unwrap()];
    assert!(november.contains("No error reports."), "{november}");
    let recent = get(&h, &format!("/?{RECENT}"), Some(&cookie)).body;
    let errors = &recent[recent.find(r#"id="errors""#).unwrap()..recent.find(r#"id="retention""#).unwrap()];
    assert!(
        errors.contains(&format!(
            "<tr><td>std::io::Error: No such file or directory (os error 2)</td>{}",
            nums(&["7", "7"])
        )),
        "{errors}"
    );
    assert!(
        errors.contains(&format!("<tr><td>other</td>{}", nums(&["7", "7", "–"]))),
        "{errors}"
    );

    // Retention: November's cohort, 19 humans.
    assert!(body.contains(&format!("<tr><td>2026-11</td>{}", nums(&["19"]))));

    // The charts' data blocks and the scripts, no inline script.
    for id in ["active", "versions", "os", "arch", "commands", "upgrades"] {
        assert!(
            body.contains(&format!(r#"<div class="chart" data-chart="{id}""#)),
            "{id}"
        );
        assert!(
            body.contains(&format!(r#"<script type="application/json" id="data-{id}">"#)),
            "{id}"
        );
    }
    for (i, _) in body.match_indices("<script") {
        let tag = &body[i..i + body[i..].find('>').unwrap()];
        assert!(
            tag.contains("type=\"application/json\"") || tag.contains(" src="),
            "{tag}"
        );
    }
}

#[test]
fn the_page_shows_upgrades_after_a_notice() {
    let (h, _dir) = started();
    let cookie = session(&h);
    let r = get(&h, &format!("/?{RANGE}"), Some(&cookie));
    assert_eq!(r.status, 200, "{}", r.body);
    let body = &r.body;
    // Upgrades after a notice: 10 told in the week of the 9th, 5 upgraded
    // after 10 days; other weeks told nobody.
    let upgrades = &body[body.find(r#"id="upgrades""#).unwrap()..];
    assert!(
        upgrades.contains(&format!(
            "<tr><td>week of 2026-11-09</td>{}",
            nums(&["10", "5", "50.0%", "10"])
        )),
        "{upgrades}"
    );
    assert!(
        upgrades.contains(&format!(
            "<tr><td>week of 2026-11-16</td>{}",
            nums(&["0", "0", "–", "–"])
        )),
        "{upgrades}"
    );
    assert!(
        upgrades.contains(&format!(
            "<tr><td>all weeks shown</td>{}",
            nums(&["10", "5", "50.0%", "10"])
        )),
        "{upgrades}"
    );
    // Under a range that holds no notice, the panel says so.
    let later = get(&h, "/?product=demo&from=2026-11-21&to=2026-11-30", Some(&cookie)).body;
    let upgrades = &later[later.find(r#"id="upgrades""#).unwrap()..];
    assert!(
        upgrades.contains("Nobody was told their version is outdated in this range."),
        "{upgrades}"
    );
}

#[test]
fn hostile_strings_are_escaped_or_refused() {
    let (h, _dir) = started();
    let cookie = session(&h);
    let r = get(&h, "/?product=%3Cscript%3Ealert(1)%3C%2Fscript%3E", Some(&cookie));
    assert_eq!(r.status, 400);
    assert_page_headers(&r);
    assert!(!r.body.contains("<script>alert"), "{}", r.body);
    assert!(r.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{}", r.body);
    let r = get(&h, "/?product=ghost", Some(&cookie));
    assert_eq!(r.status, 404);
    assert!(r.body.contains("There is no product called"));
    let r = get(&h, "/?product=demo&from=2026-11-30&to=2026-11-01", Some(&cookie));
    assert_eq!(r.status, 400);
    let r = get(&h, "/?product=demo&from=%3C%2Fscript%3E", Some(&cookie));
    assert_eq!(r.status, 400);
    assert!(!r.body.contains("</script>\""), "{}", r.body);
    // A JSON block cannot be closed by a value: `<` is escaped inside.
    let page = get(&h, &format!("/?{RANGE}"), Some(&cookie)).body;
    for block in page.split(r#"<script type="application/json""#).skip(1) {
        let json = &block[block.find('>').unwrap() + 1..block.find("</script>").unwrap()];
        assert!(!json.contains('<'), "{json}");
        let _: Value = serde_json::from_str(json).unwrap();
    }
}

#[test]
fn assets_are_served_with_their_types_and_long_caching() {
    let (h, _dir) = started();
    for (name, ty) in [
        ("uPlot.iife.min.js", "text/javascript; charset=utf-8"),
        ("uPlot.min.css", "text/css; charset=utf-8"),
        ("uPlot.LICENSE.txt", "text/plain; charset=utf-8"),
        ("dashboard.js", "text/javascript; charset=utf-8"),
        ("dashboard.css", "text/css; charset=utf-8"),
    ] {
        let r = get(&h, &format!("/dashboard/assets/{name}"), None);
        assert_eq!(r.status, 200, "{name}");
        assert_eq!(r.header("content-type"), Some(ty), "{name}");
        assert_eq!(r.header("cache-control"), Some("public, max-age=31536000, immutable"));
        assert!(!r.body.is_empty());
    }
    assert!(get(&h, "/dashboard/assets/uPlot.LICENSE.txt", None)
        .body
        .contains("MIT"));
    assert_eq!(get(&h, "/dashboard/assets/secret.txt", None).status, 404);
}

#[test]
fn over_tls_the_session_cookie_is_secure() {
    let dir = tempfile::tempdir().unwrap();
    let ca = sonde_testkit::tls::TestCa::new("dashboard test CA");
    let (_, chain, key) = ca.write_files(dir.path(), "localhost");
    let h = Collector::start_configured(|c| {
        c.tls_cert = Some(chain);
        c.tls_key = Some(key);
    });
    let root = ureq::tls::Certificate::from_der(&ca.der).to_owned();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&[root]))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .tls_config(tls)
        .build()
        .into();
    let r = answer(
        agent
            .post(&format!("https://localhost:{}/session", h.addr().port()))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(format!("token={}", h.inner.admin_token()).as_bytes())
            .unwrap(),
    );
    assert_eq!(r.status, 303);
    assert!(r.header("set-cookie").unwrap().ends_with("; Secure"));
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("dashboard-screenshots")
}

/// Rows of the table in `#section` as arrays of cell texts.
fn table(page: &mut Page, section: &str) -> Vec<Vec<String>> {
    let v = page.eval(&format!(
        "[...document.querySelectorAll('#{section} tbody tr')].map(tr => [...tr.cells].map(c => c.textContent))"
    ));
    serde_json::from_value(v).unwrap()
}

fn has_row(rows: &[Vec<String>], want: &[&str]) -> bool {
    rows.iter().any(|r| r == want)
}

#[test]
fn the_dashboard_in_headless_chromium_desktop_and_phone() {
    let (h, _dir) = started();
    let mut page = Page::launch();
    page.viewport(1280, 900, false);
    page.navigate(&h.url("/"));
    assert_eq!(page.eval("document.title"), "Sign in · Sonde");

    // A wrong token: the sign-in page again, with its message.
    page.type_into("#token", "not-the-admin-token");
    page.navigating(|p| p.click("form[action='/session'] button"));
    assert_eq!(page.eval("document.title"), "Sign in · Sonde");
    assert_eq!(page.eval("document.querySelector('.error').textContent"), WRONG_TOKEN);

    // The right one: the dashboard, and the cookie is not visible to scripts.
    page.type_into("#token", h.inner.admin_token());
    page.navigating(|p| p.click("form[action='/session'] button"));
    assert_eq!(page.eval("document.title"), "demo · Sonde");
    assert_eq!(page.eval("document.cookie"), "");
    assert_eq!(page.eval("localStorage.length + sessionStorage.length"), 0);

    page.navigate(&h.url(&format!("/?{RANGE}")));
    assert_eq!(page.eval("document.title"), "demo · Sonde");
    // Every chart drawn: a uPlot canvas in each container.
    assert_eq!(page.eval("document.querySelectorAll('.chart').length"), 6);
    assert_eq!(page.eval("document.querySelectorAll('.chart .uplot canvas').length"), 6);
    assert!(page.exceptions().is_empty(), "{:?}", page.exceptions());

    let active = table(&mut page, "active");
    assert!(
        has_row(&active, &["2026-11-10", "16", "fewer than 5", "16"]),
        "{active:?}"
    );
    assert!(
        has_row(&active, &["2026-11-12", "fewer than 5", "–", "19"]),
        "{active:?}"
    );
    // The chart draws the rolling line as its third series.
    assert_eq!(
        page.eval("[...document.querySelectorAll('#active .u-legend .u-series .u-label')].map(e => e.textContent).slice(-3).join('|')"),
        "Humans|CI|Humans, 28 days"
    );
    let versions = table(&mut page, "versions");
    assert!(
        has_row(&versions, &["2026-11-10", "6 (37.5%)", "5 (31.2%)", "5 (31.2%)"]),
        "{versions:?}"
    );
    let platforms = table(&mut page, "platforms");
    assert!(
        has_row(&platforms, &["linux", "12"]) && has_row(&platforms, &["other", "7"]),
        "{platforms:?}"
    );
    let commands = table(&mut page, "commands");
    assert!(has_row(&commands, &["demo build", "30", "6", "20.0%"]), "{commands:?}");
    assert!(has_row(&commands, &["other", "10", "1", "10.0%"]), "{commands:?}");
    let retention = table(&mut page, "retention");
    assert!(has_row(&retention, &["2026-11", "19"]), "{retention:?}");
    let upgrades = table(&mut page, "upgrades");
    assert!(
        has_row(&upgrades, &["week of 2026-11-09", "10", "5", "50.0%", "10"]),
        "{upgrades:?}"
    );
    assert!(
        has_row(&upgrades, &["all weeks shown", "10", "5", "50.0%", "10"]),
        "{upgrades:?}"
    );
    page.navigate(&h.url(&format!("/?{RECENT}")));
    let errors = table(&mut page, "errors");
    assert!(has_row(&errors, &["other", "7", "7", "–"]), "{errors:?}");
    page.navigate(&h.url(&format!("/?{RANGE}")));

    let fits = "document.documentElement.scrollWidth <= window.innerWidth && \
                [...document.querySelectorAll('.chart canvas')].every(c => c.getBoundingClientRect().right <= window.innerWidth)";
    assert_eq!(page.eval(fits), true);
    let dir = screenshot_dir();
    page.screenshot(&dir.join("desktop.png"));

    // Phone width without reloading: the charts are redrawn to fit
    // (ResizeObserver; bounded wait for it to run).
    page.viewport(390, 844, true);
    let mut fitted = false;
    for _ in 0..100 {
        if page.eval(fits) == true {
            fitted = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(fitted, "the page does not fit 390 px after a resize");
    // And loaded at phone width.
    page.navigate(&h.url(&format!("/?{RANGE}")));
    assert_eq!(page.eval("window.innerWidth"), 390);
    assert_eq!(page.eval(fits), true);
    assert_eq!(page.eval("document.querySelectorAll('.chart .uplot canvas').length"), 6);
    page.screenshot(&dir.join("phone.png"));
    assert!(page.exceptions().is_empty(), "{:?}", page.exceptions());
    // The strict Content-Security-Policy refused nothing the page needs.
    let log = page.log();
    assert!(
        !log.iter()
            .any(|l| l.contains("Content Security Policy") || l.contains("Refused to")),
        "{log:#?}"
    );
}
