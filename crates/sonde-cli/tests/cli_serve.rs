//! The real `sonde` binary: serve's startup output, admin token file mode,
//! config precedence, graceful SIGTERM, durability under SIGKILL, and a CLI
//! change picked up by a running collector.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn sonde() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sonde"));
    for var in [
        "SONDE_LISTEN",
        "SONDE_DATA_DIR",
        "SONDE_CONFIG",
        "SONDE_SERVER",
        "SONDE_TOKEN_FILE",
        "SONDE_TLS_CERT",
        "SONDE_TLS_KEY",
    ] {
        c.env_remove(var);
    }
    c.stdin(Stdio::null());
    c
}

/// Runs a verb against `dir`; returns (exit code, stdout, stderr).
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = sonde().args(args).arg("--data-dir").arg(dir).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(dir, args);
    assert_eq!(code, 0, "sonde {args:?}: {out}{err}");
    out
}

struct Server {
    child: Child,
    addr: SocketAddr,
    lines: Vec<String>,
}

fn serve(dir: &Path, extra: &[&str]) -> Server {
    let mut child = sonde()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        lines.push(line.trim().to_owned());
    }
    let addr = lines[0]
        .rsplit("http://")
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{lines:?}"));
    Server { child, addr, lines }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let status = buf.split(' ').nth(1)?.parse().ok()?;
    let body = buf.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

fn sig(n: u64) -> String {
    format!("{:08x}-{:04x}-4000-8000-000000000000", n >> 16, n & 0xffff)
}

/// Sends SIGTERM with kill(1).
fn terminate(child: &Child) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < deadline, "sonde serve did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
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

fn stored_signatures(dir: &Path) -> std::collections::HashSet<String> {
    let c = rusqlite::Connection::open(dir.join("sonde.db")).unwrap();
    let mut stmt = c
        .prepare("SELECT signature FROM pings WHERE signature IS NOT NULL")
        .unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

fn wait_for_acks(acked: &Mutex<Vec<String>>, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.lock().unwrap().len() < n {
        assert!(Instant::now() < deadline, "the collector answered too few checks");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn serve_prints_address_and_creates_a_private_admin_token() {
    let dir = tempfile::tempdir().unwrap();
    let token_path = dir.path().join("admin-token");
    let token = {
        let s = serve(dir.path(), &[]);
        assert!(
            s.lines[0].starts_with("sonde collector listening on http://127.0.0.1:"),
            "{:?}",
            s.lines
        );
        assert!(s.lines[2].contains(&token_path.display().to_string()), "{:?}", s.lines);
        let (status, body) = http(s.addr, "/healthz").unwrap();
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
    stop: impl FnOnce(&mut std::process::Child),
) -> (std::process::ExitStatus, Vec<String>, Vec<String>) {
    ok(dir, &["release", "publish", "--product", "demo", "--version", "1.0.0"]);
    let mut s = serve(dir, &[]);
    let done = Arc::new(AtomicBool::new(false));
    let (handles, acked) = load(s.addr, 4, done.clone());
    wait_for_acks(&acked, min_acks);
    stop(&mut s.child);
    let status = wait_exit(&mut s.child);
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
    let (status, acked, missing) = stop_under_load(dir.path(), 200, |child| terminate(child));
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
    let (_, acked, missing) = stop_under_load(dir.path(), 300, |child| child.kill().unwrap());
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
    let (_, body) = http(s.addr, "/v1/check/demo?version=1.0.0").unwrap();
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
        let (_, body) = http(s.addr, "/v1/check/demo?version=1.0.0").unwrap();
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
    let mut child = sonde()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = line.trim().rsplit("http://").next().unwrap().parse().unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        BufReader::new(stderr).read_to_string(&mut s).unwrap();
        s
    });
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
    terminate(&child);
    assert_eq!(wait_exit(&mut child).code(), Some(0));
    let log = log.join().unwrap();
    assert!(log.contains("collector listening"), "the log is there: {log}");
    for port in ports {
        assert!(
            !log.contains(&format!(":{port}")),
            "client port {port} (so its address) is in the log:\n{log}"
        );
    }
}
