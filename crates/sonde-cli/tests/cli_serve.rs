//! The real `sonde` binary: serve's startup output, admin token file mode,
//! config precedence, graceful SIGTERM, durability under SIGKILL, and a CLI
//! change picked up by a running collector.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{ok_in as ok, serve, sonde, Serve};

/// `GET path`: (status, body), or `None` when the collector is not there.
fn http(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    sonde_testkit::http::try_get(addr, path).map(|r| (r.status, r.text()))
}

fn sig(n: u64) -> String {
    format!("{:08x}-{:04x}-4000-8000-000000000000", n >> 16, n & 0xffff)
}

/// Client threads sending checks with fresh signatures until `stop`;
/// returns the signatures that were answered 200.
fn load(
    addr: SocketAddr,
    threads: u64,
    stop: Arc<AtomicBool>,
) -> (Vec<std::thread::JoinHandle<()>>, Arc<Mutex<Vec<String>>>) {
    let acked = Arc::new(Mutex::new(Vec::new()));
    let handles = (0..threads)
        .map(|t| {
            let (stop, acked) = (stop.clone(), acked.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let s = sig(t << 32 | n);
                    match http(addr, &format!("/v1/check/demo?version=1.0.0&os=linux&signature={s}")) {
                        Some((200, _)) => acked.lock().unwrap().push(s),
                        Some(_) => {}
                        None => break,
                    }
                }
            })
        })
        .collect();
    (handles, acked)
}

fn stored_signatures(dir: &std::path::Path) -> std::collections::HashSet<String> {
    let c = sonde_testkit::db::open(dir);
    let mut stmt = c
        .prepare("SELECT signature FROM pings WHERE signature IS NOT NULL")
        .unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

fn wait_for_acks(acked: &Mutex<Vec<String>>, n: usize) {
    sonde_testkit::wait::for_value(
        "the collector to answer enough checks",
        Duration::from_secs(120),
        || (acked.lock().unwrap().len() >= n).then_some(()),
    );
}

#[test]
fn serve_prints_address_and_creates_a_private_admin_token() {
    let dir = tempfile::tempdir().unwrap();
    let token_path = dir.path().join("admin-token");
    let token = {
        let s = serve(dir.path(), &[]);
        let mut lines = s.startup.clone();
        while lines.len() < 4 {
            lines.push(s.next_line(Duration::from_secs(60)).expect("a startup line"));
        }
        assert!(
            lines[0].starts_with("sonde collector listening on http://127.0.0.1:"),
            "{:?}",
            lines
        );
        assert!(lines[2].contains(&token_path.display().to_string()), "{:?}", lines);
        assert!(
            lines[3].starts_with("dashboard: http://127.0.0.1:") && lines[3].contains("/ (sign in"),
            "{:?}",
            lines
        );
        let (status, body) = http(s.addr(), "/healthz").unwrap();
        assert_eq!(status, 200, "{body}");
        std::fs::read_to_string(&token_path).unwrap()
    };
    assert_eq!(token.trim().len(), 64);
    assert!(token.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // A restart keeps the token, and makes a token file others could read private again.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let _s = serve(dir.path(), &[]);
    assert_eq!(std::fs::read_to_string(&token_path).unwrap(), token);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

/// Starts a collector on `dir` with one product, keeps 4 clients sending
/// checks until `min_acks` were answered 200, stops the collector with `stop`
/// mid-stream, and returns its exit status and every acknowledged signature
/// that is not in the database afterwards (reopened as the next start would).
fn stop_under_load(
    dir: &std::path::Path,
    min_acks: usize,
    stop: impl FnOnce(&mut Serve),
) -> (std::process::ExitStatus, Vec<String>, Vec<String>) {
    ok(dir, &["release", "publish", "--product", "demo", "--version", "1.0.0"]);
    let mut s = serve(dir, &[]);
    let done = Arc::new(AtomicBool::new(false));
    let (handles, acked) = load(s.addr(), 4, done.clone());
    wait_for_acks(&acked, min_acks);
    stop(&mut s);
    let status = s.wait_exit();
    done.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let stored = stored_signatures(dir);
    let missing = acked.iter().filter(|s| !stored.contains(*s)).cloned().collect();
    (status, acked, missing)
}

#[test]
fn sigterm_drains_in_flight_checks_and_exits_0_with_nothing_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (status, acked, missing) = stop_under_load(dir.path(), 200, |s| s.terminate());
    assert_eq!(status.code(), Some(0), "graceful shutdown exits 0");
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged pings lost: {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
}

#[test]
fn sigkill_loses_no_acknowledged_ping() {
    let dir = tempfile::tempdir().unwrap();
    // SIGKILL, mid-stream.
    let (_, acked, missing) = stop_under_load(dir.path(), 300, Serve::kill);
    assert!(acked.len() >= 300);
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged pings lost after SIGKILL",
        missing.len(),
        acked.len()
    );
    let mau: serde_json::Value = serde_json::from_str(&ok(
        dir.path(),
        &["stats", "mau", "--product", "demo", "--format", "json"],
    ))
    .unwrap();
    assert!(mau["active_signatures"].as_u64().unwrap() >= acked.len() as u64);
}

#[test]
fn a_release_published_by_the_cli_is_served_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    ok(
        dir.path(),
        &["release", "publish", "--product", "demo", "--version", "1.0.0"],
    );
    let s = serve(dir.path(), &[]);
    let (_, body) = http(s.addr(), "/v1/check/demo?version=1.0.0").unwrap();
    assert!(body.contains("\"outdated\":false"), "{body}");
    ok(
        dir.path(),
        &[
            "release",
            "publish",
            "--product",
            "demo",
            "--version",
            "1.1.0",
            "--date",
            "2026-11-01",
        ],
    );
    ok(
        dir.path(),
        &[
            "alert",
            "add",
            "--product",
            "demo",
            "--level",
            "critical",
            "--message",
            "fix",
            "--affects",
            "<1.1.0",
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = http(s.addr(), "/v1/check/demo?version=1.0.0").unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["current_version"] == "1.1.0" && v["alerts"].as_array().unwrap().len() == 1 {
            assert_eq!(v["outdated"], true);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the running collector never saw the CLI's change: {v}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn logs_hold_no_client_address_even_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    ok(
        dir.path(),
        &["release", "publish", "--product", "demo", "--version", "1.0.0"],
    );
    let mut c = sonde();
    c.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "trace");
    let mut server = Serve::spawn(c);
    let addr = server.addr();
    let mut ports = Vec::new();
    for path in [
        "/v1/check/demo?version=1.0.0",
        "/v1/check/ghost",
        "/healthz",
        "/v1/check/Bad",
    ] {
        let mut s = TcpStream::connect(addr).unwrap();
        ports.push(s.local_addr().unwrap().port());
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
            .unwrap();
        let mut buf = String::new();
        s.read_to_string(&mut buf).unwrap();
    }
    server.terminate();
    assert_eq!(server.wait_exit().code(), Some(0));
    let log = server.output_until_exit();
    assert!(log.contains("collector listening"), "the log is there: {log}");
    for port in ports {
        assert!(
            !log.contains(&format!(":{port}")),
            "client port {port} (so its address) is in the log:\n{log}"
        );
    }
}
