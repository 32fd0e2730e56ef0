//! Helpers for the compatibility tests: run the real `sonde` binary (admin
//! verbs and `serve`) on loopback with a temporary data directory, find the
//! repository's `compat/` harnesses, and fail with a clear message when a test
//! peer (Node, Go) is missing instead of skipping.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a collector may take to print its address on a loaded machine.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The path of the `sonde` binary Cargo built for these tests.
pub fn sonde_bin() -> &'static str {
    env!("CARGO_BIN_EXE_sonde")
}

/// The workspace root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Panics with the installer's name when `tool` is not on PATH: these tests
/// run real clients and must not pass silently without them.
pub fn require_tool(tool: &str) {
    let found = Command::new(tool)
        .arg(if tool == "go" { "version" } else { "--version" })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        found,
        "`{tool}` is not installed; run `bash scripts/setup-test-deps` (or `bash scripts/test`)"
    );
}

/// Formats a finished process's output for an assertion message.
pub fn describe(output: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `sonde <args>` against `data_dir` and returns its stdout; panics
/// with both streams when it fails.
pub fn sonde(data_dir: &Path, args: &[&str]) -> String {
    let output = Command::new(sonde_bin())
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("SONDE_LISTEN")
        .stdin(Stdio::null())
        .output()
        .expect("run sonde");
    assert!(output.status.success(), "sonde {args:?} failed: {}", describe(&output));
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// `sonde stats mau --product P --format json`: exact distinct signatures this month.
pub fn mau(data_dir: &Path, product: &str) -> u64 {
    let out = sonde(data_dir, &["stats", "mau", "--product", product, "--format", "json"]);
    let v: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("stats mau JSON: {e}: {out}"));
    v["active_signatures"]
        .as_u64()
        .unwrap_or_else(|| panic!("no active_signatures in {out}"))
}

/// A `sonde serve` child process on an ephemeral loopback port.
pub struct Collector {
    child: Option<Child>,
    addr: SocketAddr,
    log: mpsc::Receiver<String>,
}

impl Collector {
    /// Starts `sonde serve --listen 127.0.0.1:0 --data-dir DIR [extra...]`
    /// and waits until it prints the address it bound.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Collector {
        let mut child = Command::new(sonde_bin())
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sonde serve");
        let (tx, rx) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);

        let deadline = Instant::now() + START_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = find_loopback_addr(&line) {
                        return Collector {
                            child: Some(child),
                            addr,
                            log: rx,
                        };
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    panic!(
                        "sonde serve exited or did not print a 127.0.0.1 address within {START_TIMEOUT:?} \
                         (exit status: {status:?}); output:\n{}",
                        seen.join("\n")
                    );
                }
            }
        }
    }

    /// The address the collector listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Everything the collector printed since it announced its address.
    pub fn drain_log(&self) -> String {
        self.log.try_iter().collect::<Vec<_>>().join("\n")
    }

    /// Sends SIGTERM and waits (bounded) for a clean exit; returns whether it
    /// exited 0.
    pub fn stop(mut self) -> bool {
        self.terminate()
    }

    fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Finds `127.0.0.1:PORT` (PORT not 0) in a log line.
fn find_loopback_addr(line: &str) -> Option<SocketAddr> {
    let mut rest = line;
    while let Some(i) = rest.find("127.0.0.1:") {
        let after = &rest[i + "127.0.0.1:".len()..];
        let digits: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let Ok(port) = digits.parse::<u16>() {
            if port != 0 {
                return Some(SocketAddr::from(([127, 0, 0, 1], port)));
            }
        }
        rest = after;
    }
    None
}

/// Number of raw pings the collector stored for `product` (read from its
/// SQLite file with a reader connection; WAL lets it run beside the writer).
pub fn stored_pings(data_dir: &Path, product: &str) -> i64 {
    let db = find_database(data_dir);
    let conn = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("open {}: {e}", db.display()));
    conn.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
    conn.query_row("SELECT count(*) FROM pings WHERE product = ?1", [product], |row| {
        row.get(0)
    })
    .unwrap_or_else(|e| panic!("count pings in {}: {e}", db.display()))
}

/// One stored ping's columns that the compatibility tests check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPing {
    /// Client version as sent.
    pub version: Option<String>,
    /// Operating system as sent.
    pub os: Option<String>,
    /// Architecture as sent.
    pub arch: Option<String>,
    /// Runtime version (Prisma's `node_version`).
    pub runtime_version: Option<String>,
    /// The client's random signature.
    pub signature: Option<String>,
    /// Client family from the user agent (`prisma`, `go-checkpoint`, ...).
    pub client_family: String,
}

/// Every ping stored for `product`, oldest first.
pub fn stored_ping_rows(data_dir: &Path, product: &str) -> Vec<StoredPing> {
    let db = find_database(data_dir);
    let conn = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("open {}: {e}", db.display()));
    conn.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
    let mut stmt = conn
        .prepare(
            "SELECT version, os, arch, runtime_version, signature, client_family \
             FROM pings WHERE product = ?1 ORDER BY id",
        )
        .expect("prepare");
    stmt.query_map([product], |row| {
        Ok(StoredPing {
            version: row.get(0)?,
            os: row.get(1)?,
            arch: row.get(2)?,
            runtime_version: row.get(3)?,
            signature: row.get(4)?,
            client_family: row.get(5)?,
        })
    })
    .expect("query pings")
    .collect::<Result<_, _>>()
    .expect("read pings")
}

/// The collector's SQLite file: the one `*.db`/`*.sqlite`/`*.sqlite3` file in the data directory.
fn find_database(data_dir: &Path) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(data_dir)
        .expect("read data dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("db" | "sqlite" | "sqlite3")
            )
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one SQLite file in {}: {found:?}",
        data_dir.display()
    );
    found.into_iter().next().expect("one file")
}

/// Polls `f` until it returns `Some`, up to `timeout`; panics with `what`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
