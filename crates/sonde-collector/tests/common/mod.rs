//! Shared helpers: an in-process collector on port 0 with a temporary data
//! directory, a raw HTTP/1.1 client for byte-exact requests, and admin calls.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use sonde_collector::{start_in_background, BackgroundCollector, Config};

pub struct Harness {
    pub collector: BackgroundCollector,
    pub dir: tempfile::TempDir,
}

pub fn start() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_owned(),
        ..Config::default()
    };
    let collector = start_in_background(config).unwrap();
    Harness { collector, dir }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.collector.base_url(), path)
    }

    pub fn addr(&self) -> SocketAddr {
        self.collector.local_addr()
    }

    /// POSTs JSON to the admin API with the token; returns (status, body).
    pub fn admin_post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let mut r = agent()
            .post(&self.url(path))
            .header("Authorization", &format!("Bearer {}", self.collector.admin_token()))
            .send_json(body)
            .unwrap();
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    }

    pub fn admin_get(&self, path: &str) -> (u16, serde_json::Value) {
        let mut r = agent()
            .get(&self.url(path))
            .header("Authorization", &format!("Bearer {}", self.collector.admin_token()))
            .call()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.body_mut().read_json().unwrap())
    }

    pub fn publish(&self, product: &str, version: &str) {
        let (status, body) = self.admin_post(
            "/api/v1/releases",
            serde_json::json!({
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

    pub fn alert(&self, product: &str, level: &str, message: &str, affects: Option<&str>) -> i64 {
        let mut body =
            serde_json::json!({"product": product, "level": level, "message": message, "url": "https://example.com/a"});
        if let Some(a) = affects {
            body["affects"] = a.into();
        }
        let (status, body) = self.admin_post("/api/v1/alerts", body);
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// Opens the database read-only, as a separate reader would.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("sonde.db")).unwrap()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn error_code(&self) -> String {
        let v: serde_json::Value = self.json();
        v["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {v}"))
            .to_owned()
    }
}

/// Sends `request` byte for byte and reads the whole response (the request
/// must ask for `Connection: close`).
pub fn raw(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(request).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = String::from_utf8(buf[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    RawResponse {
        status,
        headers,
        body: buf[split + 4..].to_vec(),
    }
}
