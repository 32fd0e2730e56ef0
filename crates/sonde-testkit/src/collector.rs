//! The real collector in this process, on loopback, with its own data
//! directory, and calls to its admin API with its token.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sonde_collector::{start_in_background, BackgroundCollector, Config};

use crate::http::agent;

/// A running collector; stops (and removes its temporary data directory,
/// if it made one) when dropped.
#[derive(Debug)]
pub struct Collector {
    /// The collector.
    pub inner: BackgroundCollector,
    _dir: Option<tempfile::TempDir>,
}

impl Collector {
    /// On a free loopback port, with a new temporary data directory.
    pub fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().expect("loopback"))
    }

    /// On `listen`, with a new temporary data directory.
    pub fn start_on(listen: SocketAddr) -> Self {
        let dir = tempfile::tempdir().expect("temporary data directory");
        let mut c = Self::start_with(listen, dir.path());
        c._dir = Some(dir);
        c
    }

    /// On a free loopback port, over an existing data directory (which
    /// outlives the collector: a restart opens the same one).
    pub fn start_in(data_dir: &Path) -> Self {
        Self::start_with("127.0.0.1:0".parse().expect("loopback"), data_dir)
    }

    /// On a free loopback port, with a new temporary data directory, and
    /// `configure` applied to the rest of the configuration.
    pub fn start_configured(configure: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temporary data directory");
        let mut config = Config {
            listen: "127.0.0.1:0".parse().expect("loopback"),
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        configure(&mut config);
        let inner = start_in_background(config).expect("the collector starts");
        Collector { inner, _dir: Some(dir) }
    }

    fn start_with(listen: SocketAddr, data_dir: &Path) -> Self {
        let config = Config {
            listen,
            data_dir: data_dir.to_owned(),
            ..Config::default()
        };
        let inner = start_in_background(config).expect("the collector starts");
        Collector { inner, _dir: None }
    }

    /// Stops it and waits; hands back its temporary data directory (if it
    /// made one) so the files outlive the collector.
    pub fn shutdown(self) -> Option<tempfile::TempDir> {
        self.inner.shutdown();
        self._dir
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.inner.base_url()
    }

    /// The base URL followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.base_url())
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.inner.local_addr()
    }

    /// Its data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.inner.data_dir().to_owned()
    }

    /// Calls the admin API with the token: `GET` without a body, `method`
    /// with a JSON body otherwise. Returns (status, body as JSON or `null`).
    pub fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = self.url(path);
        let auth = format!("Bearer {}", self.inner.admin_token());
        let agent = agent();
        let response = match (method, body) {
            ("GET", None) => agent.get(&url).header("Authorization", &auth).call(),
            ("DELETE", None) => agent.delete(&url).header("Authorization", &auth).call(),
            ("POST", Some(b)) => agent.post(&url).header("Authorization", &auth).send_json(b),
            ("PUT", Some(b)) => agent.put(&url).header("Authorization", &auth).send_json(b),
            (m, b) => panic!("admin call {m} {path} with body {b:?} is not supported"),
        };
        let mut response = response.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().expect("admin answer");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `POST path` with a JSON body on the admin API: (status, body).
    pub fn admin_post(&self, path: &str, body: Value) -> (u16, Value) {
        self.admin("POST", path, Some(body))
    }

    /// `GET path` on the admin API: (status, body).
    pub fn admin_get(&self, path: &str) -> (u16, Value) {
        self.admin("GET", path, None)
    }

    /// POSTs `body` to `path` (no token) with `headers`; returns the status
    /// and the JSON body (`Null` when it is not JSON).
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Value) {
        let mut req = agent().post(&self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut r = req.send(body).expect("the collector answers");
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The rejection counters of `product` as `(source, field, reason,
    /// count)`, sorted.
    pub fn rejections(&self, product: &str) -> Vec<(String, String, String, u64)> {
        let (status, body) = self.admin_get(&format!("/api/v1/stats/rejected?product={product}"));
        assert_eq!(status, 200, "{body}");
        let text = |r: &Value, k: &str| r[k].as_str().expect("a string").to_owned();
        let mut out: Vec<_> = body
            .as_array()
            .expect("a list")
            .iter()
            .map(|r| {
                (
                    text(r, "source"),
                    text(r, "field"),
                    text(r, "reason"),
                    r["count"].as_u64().expect("a count"),
                )
            })
            .collect();
        out.sort();
        out
    }

    /// Publishes `version` of `product` with every release field set
    /// (registering the product); asserts 201.
    pub fn publish(&self, product: &str, version: &str) {
        let (status, body) = self.admin_post(
            "/api/v1/releases",
            json!({
                "product": product,
                "version": version,
                "date": 1_700_000_000,
                "download_url": format!("https://example.com/{product}/{version}"),
                "changelog_url": "https://example.com/changelog",
                "website": "https://example.com",
                "package": product,
                "release_tag": "latest",
                "install_command": format!("npm i {product}@latest"),
            }),
        );
        assert_eq!(status, 201, "{body}");
    }

    /// Publishes `version` of `product` with only a date (the smallest
    /// release that registers a product); asserts 201.
    pub fn register(&self, product: &str, version: &str) {
        let (status, body) = self.admin_post(
            "/api/v1/releases",
            json!({"product": product, "version": version, "date": 1_700_000_000}),
        );
        assert_eq!(status, 201, "{body}");
    }

    /// Adds an alert; asserts 201 and returns its id.
    pub fn alert(&self, product: &str, level: &str, message: &str, affects: Option<&str>) -> i64 {
        let mut body = json!({"product": product, "level": level, "message": message, "url": "https://example.com/a"});
        if let Some(a) = affects {
            body["affects"] = a.into();
        }
        let (status, body) = self.admin_post("/api/v1/alerts", body);
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().expect("alert id")
    }

    /// The database, for reading and writing (see [`crate::db::open_rw`]).
    pub fn db(&self) -> rusqlite::Connection {
        crate::db::open_rw(self.inner.data_dir())
    }

    /// The one number `sql` selects from the database.
    pub fn count(&self, sql: &str) -> i64 {
        crate::db::count(self.inner.data_dir(), sql)
    }
}
