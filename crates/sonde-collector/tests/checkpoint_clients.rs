//! The exact requests of the real clients (docs/compatibility.md), byte for
//! byte, decoded with each client's own field names and types.

mod common;

use serde::Deserialize;

/// go-checkpoint's `CheckResponse` as Debian's 0.5.0 decodes it.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct GoCheckResponse {
    product: String,
    current_version: String,
    current_release: i64,
    current_release_date: i64,
    current_download_url: String,
    current_changelog_url: String,
    project_website: String,
    outdated: bool,
    alerts: Vec<GoCheckAlert>,
}

#[derive(Debug, Deserialize)]
struct GoCheckAlert {
    id: i64,
    date: i64,
    message: String,
    url: String,
    level: String,
}

/// The fields Prisma's checkpoint-client stores from an answer.
#[derive(Debug, Deserialize)]
struct PrismaAnswer {
    client_event_id: String,
    previous_client_event_id: String,
    product: String,
    cli_path_hash: String,
    local_timestamp: String,
    previous_version: String,
    current_version: String,
    current_release_date: f64,
    current_download_url: String,
    current_changelog_url: String,
    project_website: String,
    package: String,
    release_tag: String,
    install_command: String,
    outdated: bool,
    alerts: Vec<PrismaAlert>,
}

#[derive(Debug, Deserialize)]
struct PrismaAlert {
    id: f64,
    date: f64,
    message: String,
    url: String,
    level: String,
}

const PRISMA_REQUEST: &str = "GET /v1/check/prisma?checkpoint_version=4&local_timestamp=2026-11-22T01%3A21%3A53Z&information=&schema_providers=postgresql&schema_providers=sqlite&schema_preview_features=fullTextSearch&schema_preview_features=metrics&schema_generators_providers=prisma-client-js&command=migrate%20dev%20--name%20%5Bredacted%5D&client_event_id=05366bb5-d03b-44a4-907b-006f74dbff13&signature=3cbb5d4d-c257-4f25-972f-044167692257&project_hash=ea4e393a&cli_path_hash=6a417062&arch=x64&os=linux&node_version=v20.20.2&version=4.16.2&ci=false&ci_name=&cli_install_type=local&previous_client_event_id=&check_if_update_available=true HTTP/1.1\r\nAccept: application/json\r\nUser-Agent: prisma/js-checkpoint\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

const GO_REQUEST: &str = "GET /v1/check/terraform?arch=amd64&os=linux&signature=0f6a3b57-88a2-5e21-9c3d-2b6f1e0a4c77&version=1.5.0 HTTP/1.1\r\nHost: checkpoint-api.hashicorp.com\r\nUser-Agent: HashiCorp/go-checkpoint\r\nAccept: application/json\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n";

#[test]
fn prisma_checkpoint_client_request_gets_every_field_it_reads() {
    let h = common::start();
    h.publish("prisma", "5.22.0");
    h.alert("prisma", "warn", "Prisma 4 reaches end of support", Some("<5.0.0"));
    h.alert("prisma", "info", "only for 5.x", Some(">=5.0.0"));

    let r = common::raw(h.addr(), PRISMA_REQUEST.as_bytes());
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    let a: PrismaAnswer = r.json();
    assert_eq!(a.client_event_id, "05366bb5-d03b-44a4-907b-006f74dbff13");
    assert_eq!(a.previous_client_event_id, "");
    assert_eq!(a.product, "prisma");
    assert_eq!(a.cli_path_hash, "6a417062");
    assert_eq!(a.local_timestamp, "2026-11-22T01:21:53Z");
    assert_eq!(a.previous_version, "4.16.2");
    assert_eq!(a.current_version, "5.22.0");
    assert_eq!(a.current_release_date, 1_700_000_000.0);
    assert_eq!(a.current_download_url, "https://example.com/prisma/5.22.0");
    assert_eq!(a.current_changelog_url, "https://example.com/changelog");
    assert_eq!(a.project_website, "https://example.com");
    assert_eq!((a.package.as_str(), a.release_tag.as_str()), ("prisma", "latest"));
    assert_eq!(a.install_command, "npm i prisma@latest");
    assert!(a.outdated);
    assert_eq!(a.alerts.len(), 1, "{:?}", a.alerts);
    assert_eq!(a.alerts[0].message, "Prisma 4 reaches end of support");
    assert_eq!(a.alerts[0].level, "warn");
    assert_eq!(a.alerts[0].url, "https://example.com/a");
    assert!(a.alerts[0].id >= 1.0 && a.alerts[0].date > 1.7e9);

    // The stored ping: the seed fields, nothing of the raw query.
    let db = h.db();
    let row: (String, String, String, String, i64, Option<String>, String, String, String) = db
        .query_row(
            "SELECT os, arch, runtime_version, signature, ci, ci_name, client_family, project_hash, cli_path_hash FROM pings",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)),
        )
        .unwrap();
    assert_eq!(
        row,
        (
            "linux".into(),
            "x64".into(),
            "v20.20.2".into(),
            "3cbb5d4d-c257-4f25-972f-044167692257".into(),
            0,
            None,
            "prisma".into(),
            "ea4e393a".into(),
            "6a417062".into()
        )
    );
    let dump: String = db
        .query_row(
            "SELECT group_concat(quote(pings.version) || quote(os) || quote(arch)) FROM pings",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!dump.contains("migrate") && !dump.contains("127.0.0.1"));
    assert_eq!(
        h.count("SELECT count(*) FROM rejections"),
        0,
        "every key Prisma sends is known"
    );
    assert_eq!(h.count("SELECT n FROM monthly_counts WHERE product = 'prisma'"), 1);
}

#[test]
fn go_checkpoint_request_decodes_with_its_own_types() {
    let h = common::start();
    h.publish("terraform", "1.6.0");
    let id = h.alert(
        "terraform",
        "critical",
        "state corruption fixed in 1.5.7",
        Some("<1.5.7"),
    );

    let r = common::raw(h.addr(), GO_REQUEST.as_bytes());
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let a: GoCheckResponse = r.json();
    assert_eq!(a.product, "terraform");
    assert_eq!(a.current_version, "1.6.0");
    assert_eq!(a.current_release, 1_700_000_000);
    assert_eq!(a.current_release_date, a.current_release);
    assert_eq!(a.current_download_url, "https://example.com/terraform/1.6.0");
    assert_eq!(a.project_website, "https://example.com");
    assert!(a.outdated);
    assert_eq!(a.alerts.len(), 1);
    let alert = &a.alerts[0];
    assert_eq!((alert.id, alert.level.as_str()), (id, "critical"));
    assert_eq!(alert.message, "state corruption fixed in 1.5.7");
    assert_eq!(alert.url, "https://example.com/a");
    assert!(alert.date > 1_700_000_000);

    let (sig, family, version): (String, String, String) = h
        .db()
        .query_row("SELECT signature, client_family, version FROM pings", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(
        (sig.as_str(), family.as_str(), version.as_str()),
        ("0f6a3b57-88a2-5e21-9c3d-2b6f1e0a4c77", "go-checkpoint", "1.5.0")
    );
}

#[test]
fn go_checkpoint_telemetry_without_content_type_is_201_and_stored() {
    let h = common::start();
    h.publish("terraform", "1.6.0");
    let body = r#"{"signature":"0f6a3b57-88a2-5e21-9c3d-2b6f1e0a4c77","start_time":"2026-11-22T01:00:00Z","end_time":"2026-11-22T01:00:01Z","arch":"amd64","os":"linux","payload":{"secret":"never stored"},"product":"terraform","run_id":"abc","schema_version":"1","version":"1.5.0"}"#;
    let req = format!(
        "POST /v1/telemetry/terraform HTTP/1.1\r\nHost: checkpoint-api.hashicorp.com\r\nUser-Agent: HashiCorp/go-checkpoint\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let r = common::raw(h.addr(), req.as_bytes());
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        h.count("SELECT count(*) FROM pings WHERE product = 'terraform' AND version = '1.5.0' AND os = 'linux'"),
        1
    );
    let dump: String = h
        .db()
        .query_row(
            "SELECT group_concat(ifnull(version,'') || ifnull(os,'')) FROM pings",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!dump.contains("never stored"));
}

#[test]
fn versions_endpoint_answers_go_checkpoint_shape() {
    let h = common::start();
    h.publish("vagrant", "2.4.0");
    let mut r = common::agent()
        .put(&h.url("/api/v1/versions"))
        .header("Authorization", &format!("Bearer {}", h.inner.admin_token()))
        .send_json(serde_json::json!({"product": "vagrant", "service": "vmware", "minimum": "1.0.0", "maximum": "2.0.0", "excluding": ["1.5.0"]}))
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.body_mut().read_to_string().unwrap());
    let r = common::raw(
        h.addr(),
        b"GET /v1/versions/vmware?product=vagrant HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    let v: serde_json::Value = r.json();
    assert_eq!(
        v,
        serde_json::json!({"service": "vmware", "product": "vagrant", "minimum": "1.0.0", "maximum": "2.0.0", "excluding": ["1.5.0"]})
    );
    // A service with no constraint: empty bounds, still 200.
    let r = common::raw(
        h.addr(),
        b"GET /v1/versions/other?product=vagrant HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json::<serde_json::Value>()["excluding"], serde_json::json!([]));
    let r = common::raw(
        h.addr(),
        b"GET /v1/versions/other?product=ghost HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!((r.status, r.error_code()), (404, "unknown_product".to_owned()));
    let r = common::raw(
        h.addr(),
        b"GET /v1/versions/other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!((r.status, r.error_code()), (400, "missing_product".to_owned()));
}

#[test]
fn keep_alive_connection_serves_many_checks() {
    use std::io::{BufRead, BufReader, Read, Write};
    let h = common::start();
    h.publish("terraform", "1.6.0");
    let mut s = std::net::TcpStream::connect(h.addr()).unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    for i in 0..20 {
        let req = format!(
            "GET /v1/check/terraform?arch=amd64&os=linux&signature={i:08x}-88a2-5e21-9c3d-2b6f1e0a4c77&version=1.5.0 HTTP/1.1\r\nHost: x\r\n\r\n"
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        let mut len = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
    }
    assert_eq!(h.count("SELECT n FROM monthly_counts WHERE product = 'terraform'"), 20);
}
