//! Helpers for the client's end-to-end tests: a sandbox per test (its own
//! HOME, XDG directories, policy file path and a clean environment), running
//! the real `sonde-demo` binary, the real collector on loopback, and bounded
//! polling.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const DEMO: &str = env!("CARGO_BIN_EXE_sonde-demo");
pub const PRODUCT: &str = "sonde-demo";

/// A temporary HOME with XDG directories, and the environment to run in.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub endpoint: String,
    pub extra_env: Vec<(String, String)>,
}

impl Sandbox {
    pub fn new(endpoint: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for d in ["home", "cache", "config"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        Sandbox {
            dir,
            endpoint: endpoint.to_owned(),
            extra_env: Vec::new(),
        }
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// `$XDG_CACHE_HOME/sonde`: must not exist when telemetry is off.
    pub fn sonde_cache(&self) -> PathBuf {
        self.dir.path().join("cache").join("sonde")
    }

    /// The demo's state directory.
    pub fn state(&self) -> PathBuf {
        self.sonde_cache().join(PRODUCT)
    }

    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join("config").join("sonde-demo").join("config.json")
    }

    pub fn policy_file(&self) -> PathBuf {
        self.dir.path().join("policy.json")
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.extra_env.push((k.to_owned(), v.to_owned()));
        self
    }

    /// A command with a clean environment: no real opt-outs, no CI variables,
    /// no proxies; only this sandbox's directories.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("SONDE_POLICY_FILE", self.policy_file())
            .env("SONDE_DEMO_ENDPOINT", &self.endpoint)
            .env("SONDE_DEMO_TIMEOUT_MS", "1000")
            .current_dir(self.dir.path());
        for (k, v) in &self.extra_env {
            c.env(k, v);
        }
        c
    }

    pub fn demo(&self) -> Command {
        self.command(DEMO)
    }

    /// Runs the demo with `args`; asserts it did its work and exited 0.
    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.demo().args(args).output().unwrap();
        assert!(out.status.success(), "sonde-demo {args:?} failed: {out:?}");
        out
    }

    /// Runs the demo's work command and checks the host was not disturbed.
    pub fn run_work(&self) -> Output {
        let out = self.run(&[]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "sonde-demo did its work\n");
        out
    }

    pub fn spool_items(&self) -> Vec<PathBuf> {
        let Ok(rd) = std::fs::read_dir(self.state().join("spool")) else {
            return Vec::new();
        };
        rd.flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == "json") && !p.file_name().unwrap().to_string_lossy().starts_with('.')
            })
            .collect()
    }

    /// Whether an uploader holds the lock right now.
    pub fn uploader_running(&self) -> bool {
        let Ok(f) = std::fs::OpenOptions::new()
            .write(true)
            .open(self.state().join("uploader.lock"))
        else {
            return false;
        };
        f.try_lock().is_err()
    }

    /// Waits (bounded) until no uploader runs and the spool is empty.
    pub fn wait_drained(&self) {
        wait_for("the spool to drain", || {
            self.spool_items().is_empty() && !self.uploader_running()
        });
    }
}

/// Polls `cond` every 25 ms for up to 60 s; panics with `what` if it never holds.
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("timed out waiting for {what}");
}

/// The real collector, on loopback, with its own data directory.
pub struct Collector {
    pub inner: sonde_collector::BackgroundCollector,
    _data: Option<tempfile::TempDir>,
}

impl Collector {
    pub fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap())
    }

    pub fn start_on(listen: SocketAddr) -> Self {
        let data = tempfile::tempdir().unwrap();
        let config = sonde_collector::Config {
            listen,
            data_dir: data.path().to_path_buf(),
            ..sonde_collector::Config::default()
        };
        let inner = sonde_collector::start_in_background(config).expect("collector starts");
        let c = Collector {
            inner,
            _data: Some(data),
        };
        // The collector answers checks only for products it knows: publishing
        // the first release registers the demo.
        c.admin_post(
            "/api/v1/releases",
            serde_json::json!({"product": PRODUCT, "version": "0.1.0", "date": 1_700_000_000}),
        );
        c
    }

    pub fn url(&self) -> String {
        self.inner.base_url()
    }

    /// Rows in the collector's `pings` table for the demo product.
    pub fn ping_count(&self) -> u64 {
        let db = self.inner.data_dir().join("sonde.db");
        let c = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        c.busy_timeout(Duration::from_secs(10)).unwrap();
        c.query_row("SELECT count(*) FROM pings WHERE product = ?1", [PRODUCT], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap() as u64
    }

    /// Signatures of the stored pings.
    pub fn signatures(&self) -> Vec<String> {
        let db = self.inner.data_dir().join("sonde.db");
        let c = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        c.busy_timeout(Duration::from_secs(10)).unwrap();
        let mut st = c.prepare("SELECT signature FROM pings WHERE product = ?1").unwrap();
        st.query_map([PRODUCT], |r| r.get::<_, Option<String>>(0))
            .unwrap()
            .map(|r| r.unwrap().unwrap_or_default())
            .collect()
    }

    /// Calls the admin API.
    pub fn admin_post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut resp = agent
            .post(&format!("{}{path}", self.url()))
            .header("Authorization", &format!("Bearer {}", self.inner.admin_token()))
            .header("Content-Type", "application/json")
            .send(serde_json::to_vec(&body).unwrap().as_slice())
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap();
        assert!((200..300).contains(&status), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }
}

/// A port on which nothing listens (bound, then closed).
pub fn closed_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// A listener that accepts connections and never answers; counts them.
pub struct Blackhole {
    pub addr: SocketAddr,
    pub accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Blackhole {
    pub fn start() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in l.incoming().flatten() {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(s); // never read, never answer, never close
            }
        });
        Blackhole { addr, accepted }
    }
}

/// Whether process `pid` is gone (or a zombie waiting to be reaped by init).
pub fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Live (non-zombie) processes whose process group is `pgid`.
pub fn live_in_group(pgid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // fields[0] = state, [1] = ppid, [2] = pgrp
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" {
            out.push(pid);
        }
    }
    out
}

pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A minimal HTTP CONNECT proxy (what HTTPS_PROXY points at): records each
/// request line and tunnels the connection to its target.
pub fn recording_proxy() -> (std::net::SocketAddr, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for mut client in l.incoming().flatten() {
            let mut r = BufReader::new(client.try_clone().unwrap());
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                    break;
                }
            }
            let line = line.trim_end().to_owned();
            log.lock().unwrap().push(line.clone());
            let Some(target) = line.strip_prefix("CONNECT ").and_then(|t| t.split(' ').next()) else {
                let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
                continue;
            };
            let upstream = std::net::TcpStream::connect(target).unwrap();
            client
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .unwrap();
            let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
            let (mut c1, mut u1) = (client, upstream);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c2, &mut u2);
                let _ = u2.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut u1, &mut c1);
                let _ = c1.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (addr, seen)
}
