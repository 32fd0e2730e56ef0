//! Helpers for the client's end-to-end tests: a sandbox per test (its own
//! HOME, XDG directories, policy file path and a clean environment), running
//! the real `sonde-demo` binary, the real collector on loopback, and bounded
//! polling.

#![allow(dead_code, unused_imports)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) use sonde_testkit::process::{gone as process_gone, live_in_group};
pub(crate) use sonde_testkit::wait::until as wait_for;

pub(crate) const DEMO: &str = env!("CARGO_BIN_EXE_sonde-demo");
pub(crate) const PRODUCT: &str = "sonde-demo";

/// The test kit's HOME/XDG sandbox, sending to `endpoint`, with extra
/// variables for the demo.
pub(crate) struct Sandbox {
    pub home: sonde_testkit::sandbox::Sandbox,
    pub endpoint: String,
    pub extra_env: Vec<(String, String)>,
}

impl Sandbox {
    pub(crate) fn new(endpoint: &str) -> Self {
        Sandbox {
            home: sonde_testkit::sandbox::Sandbox::new(),
            endpoint: endpoint.to_owned(),
            extra_env: Vec::new(),
        }
    }

    /// The sandbox's root directory.
    pub(crate) fn root(&self) -> PathBuf {
        self.home.root()
    }

    pub(crate) fn home(&self) -> PathBuf {
        self.home.home()
    }

    /// `$XDG_CACHE_HOME/sonde`: must not exist when telemetry is off.
    pub(crate) fn sonde_cache(&self) -> PathBuf {
        self.home.sonde_cache()
    }

    /// The demo's state directory.
    pub(crate) fn state(&self) -> PathBuf {
        self.home.state(PRODUCT)
    }

    pub(crate) fn config_file(&self) -> PathBuf {
        self.home.config().join("sonde-demo").join("config.json")
    }

    pub(crate) fn policy_file(&self) -> PathBuf {
        self.home.policy_file()
    }

    pub(crate) fn env(mut self, k: &str, v: &str) -> Self {
        self.extra_env.push((k.to_owned(), v.to_owned()));
        self
    }

    /// `program` with the kit's clean environment and this sandbox's
    /// directories, the demo's endpoint and a 1 s timeout, and the extra
    /// variables.
    pub(crate) fn command(&self, program: &str) -> Command {
        let mut c = self.home.command(program);
        c.env("SONDE_DEMO_ENDPOINT", &self.endpoint)
            .env("SONDE_DEMO_TIMEOUT_MS", "1000");
        for (k, v) in &self.extra_env {
            c.env(k, v);
        }
        c
    }

    pub(crate) fn demo(&self) -> Command {
        self.command(DEMO)
    }

    /// Runs the demo with `args`; asserts it did its work and exited 0.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let out = self.demo().args(args).output().unwrap();
        assert!(out.status.success(), "sonde-demo {args:?} failed: {out:?}");
        out
    }

    /// Runs the demo's work command and checks the host was not disturbed.
    pub(crate) fn run_work(&self) -> Output {
        let out = self.run(&[]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "sonde-demo did its work\n");
        out
    }

    pub(crate) fn spool_items(&self) -> Vec<PathBuf> {
        self.home.spool_items(PRODUCT)
    }

    /// Whether an uploader holds the lock right now.
    pub(crate) fn uploader_running(&self) -> bool {
        self.home.uploader_running(PRODUCT)
    }

    /// Waits (bounded) until no uploader runs and the spool is empty.
    pub(crate) fn wait_drained(&self) {
        self.home.wait_drained(PRODUCT);
    }
}

/// The kit's collector with the demo registered (the collector answers
/// checks only for products it knows).
pub(crate) struct Collector {
    pub inner: sonde_testkit::collector::Collector,
}

impl Collector {
    pub(crate) fn start() -> Self {
        Self::registered(sonde_testkit::collector::Collector::start())
    }

    pub(crate) fn start_on(listen: SocketAddr) -> Self {
        Self::registered(sonde_testkit::collector::Collector::start_on(listen))
    }

    fn registered(inner: sonde_testkit::collector::Collector) -> Self {
        inner.register(PRODUCT, "0.1.0");
        Collector { inner }
    }

    pub(crate) fn url(&self) -> String {
        self.inner.base_url()
    }

    /// Rows in the collector's `pings` table for the demo product.
    pub(crate) fn ping_count(&self) -> u64 {
        sonde_testkit::db::ping_count(&self.inner.data_dir(), PRODUCT)
    }

    /// Signatures of the stored pings.
    pub(crate) fn signatures(&self) -> Vec<String> {
        sonde_testkit::db::pings(&self.inner.data_dir(), PRODUCT)
            .into_iter()
            .map(|p| p.signature.unwrap_or_default())
            .collect()
    }

    /// Calls the admin API; asserts a 2xx answer.
    pub(crate) fn admin_post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let (status, v) = self.inner.admin_post(path, body);
        assert!((200..300).contains(&status), "POST {path}: {status} {v}");
        v
    }
}

/// A port on which nothing listens (bound, then closed).
pub(crate) fn closed_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// A listener that accepts connections and never answers; counts them.
pub(crate) struct Blackhole {
    pub addr: SocketAddr,
    pub accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Blackhole {
    pub(crate) fn start() -> Self {
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

pub(crate) fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A minimal HTTP CONNECT proxy (what HTTPS_PROXY points at): records each
/// request line and tunnels the connection to its target.
pub(crate) fn recording_proxy() -> (std::net::SocketAddr, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
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
