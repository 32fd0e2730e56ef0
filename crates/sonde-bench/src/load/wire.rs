//! Every kind of request the population sends, byte for byte as its client
//! sends it (see the collector's `tests/checkpoint_clients.rs`,
//! `tests/hasura_clients.rs` and docs/compatibility.md), and the items each
//! one delivers.

use rand::Rng;
use serde_json::json;

use super::population::{uuid, Developer, HASURA_VERSION};

/// The product Hasura's clients report under (`/v1/http`, `/v1/ws`).
pub const HASURA: &str = "hasura";

/// One thing the collector may store, named the way the checker finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A usage ping (a check); pings carry no id, so they are counted per signature.
    Ping(String),
    /// A native event, by its id.
    Event(String),
    /// A Hasura CLI event, by its `execution_id` (the collector derives the
    /// stored id from it).
    CliExecution(String),
    /// A Hasura server heartbeat; counted per `instance_uid`.
    Heartbeat(String),
    /// A console frame, by the `cli_uuid` the generator makes unique per frame.
    ConsoleFrame(String),
    /// An error report, by its `report_id`.
    Report(String),
}

/// A request's bytes and what it delivers when acknowledged.
#[derive(Debug, Clone)]
pub struct Request {
    /// The whole HTTP/1.1 request.
    pub bytes: Vec<u8>,
    /// What it carries, in order (a native batch's events by index).
    pub items: Vec<Item>,
}

fn connection(keep_alive: bool) -> &'static str {
    if keep_alive {
        ""
    } else {
        "Connection: close\r\n"
    }
}

fn encode(s: &str) -> String {
    s.replace(' ', "%20")
}

/// go-checkpoint's `CheckParams` as `checkpoint.Check` sends them.
pub fn check_go(host: &str, product: &str, signature: &str, version: &str, keep_alive: bool) -> Request {
    let bytes = format!(
        "GET /v1/check/{product}?arch=amd64&os=linux&signature={signature}&version={version} HTTP/1.1\r\n\
         Host: {host}\r\nUser-Agent: HashiCorp/go-checkpoint\r\nAccept: application/json\r\n\
         Accept-Encoding: gzip\r\n{}\r\n",
        connection(keep_alive)
    );
    Request {
        bytes: bytes.into_bytes(),
        items: vec![Item::Ping(signature.to_owned())],
    }
}

/// Prisma's `checkpoint-client` (v4 query), from a developer's machine or a
/// CI run (`ci_name` set).
pub fn check_prisma(
    host: &str,
    product: &str,
    signature: &str,
    version: &str,
    ci_name: Option<&str>,
    keep_alive: bool,
    rng: &mut impl Rng,
) -> Request {
    let event = uuid(rng);
    let (ci, ci_name) = match ci_name {
        Some(name) => ("true", encode(name)),
        None => ("false", String::new()),
    };
    let bytes = format!(
        "GET /v1/check/{product}?checkpoint_version=4&local_timestamp=2026-11-22T01%3A21%3A53Z&information=\
         &schema_providers=postgresql&schema_preview_features=metrics&schema_generators_providers=prisma-client-js\
         &command=migrate%20dev&client_event_id={event}&signature={signature}&project_hash=ea4e393a\
         &cli_path_hash=6a417062&arch=x64&os=linux&node_version=v20.20.2&version={version}&ci={ci}\
         &ci_name={ci_name}&cli_install_type=local&previous_client_event_id=&check_if_update_available=true HTTP/1.1\r\n\
         Accept: application/json\r\nUser-Agent: prisma/js-checkpoint\r\nHost: {host}\r\n{}\r\n",
        connection(keep_alive)
    );
    Request {
        bytes: bytes.into_bytes(),
        items: vec![Item::Ping(signature.to_owned())],
    }
}

fn post(host: &str, path: &str, user_agent: &str, body: &str, keep_alive: bool) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n{}\r\n{body}",
        body.len(),
        connection(keep_alive)
    )
    .into_bytes()
}

/// A native batch of `n` command events (`POST /api/v1/events`), as Sonde's
/// client sends them.
pub fn native_batch(
    host: &str,
    product: &str,
    version: &str,
    n: usize,
    now_ms: u64,
    keep_alive: bool,
    rng: &mut impl Rng,
) -> Request {
    let commands = ["deploy", "build", "migrate apply", "init"];
    let mut items = Vec::with_capacity(n);
    let events: Vec<_> = (0..n.max(1))
        .map(|i| {
            let id = uuid(rng);
            items.push(Item::Event(id.clone()));
            json!({"id": id, "kind": "command", "occurred_at": now_ms, "test": false,
                "command": format!("{product} {}", commands[i % commands.len()]),
                "flags": ["--force"], "is_error": i % 17 == 0, "duration_ms": 40 + i,
                "version": version, "os_platform": "linux", "os_arch": "x86_64"})
        })
        .collect();
    let body = json!({"product": product, "events": events}).to_string();
    Request {
        bytes: post(host, "/api/v1/events", "sonde/0.1", &body, keep_alive),
        items,
    }
}

/// A Hasura v2 server's heartbeat (`server_metrics_v2`); `seq` makes each
/// one's content distinct, as real heartbeats' metrics are.
pub fn hasura_heartbeat(host: &str, dev: &Developer, seq: u64, keep_alive: bool) -> Request {
    let body = json!({"topic": "server_metrics_v2", "data": {
        "metadata_db_uid": dev.cli_uuid, "instance_uid": dev.instance_uid, "hasura_version": HASURA_VERSION,
        "ci": null,
        "source_metadata": {"db_uid": dev.cli_uuid, "backend_type": "postgres", "db_kind": "postgres", "db_version": "150002"},
        "metrics": {"tables": seq, "views": 0, "enum_tables": 0,
            "relationships": {"manual": 0, "auto": 4},
            "permissions": {"select": 2, "insert": 1, "update": 1, "delete": 0, "roles": 1},
            "event_triggers": 0, "functions": 0, "remote_schemas": 2},
        "experimental_features": ["naming_convention"]}})
    .to_string();
    Request {
        bytes: post(
            host,
            "/v1/http",
            &format!("hasura-graphql-engine/{HASURA_VERSION}"),
            &body,
            keep_alive,
        ),
        items: vec![Item::Heartbeat(dev.instance_uid.clone())],
    }
}

/// The Hasura CLI's execution event (its flat form), with a fresh execution id.
pub fn hasura_cli(host: &str, dev: &Developer, keep_alive: bool, rng: &mut impl Rng) -> Request {
    let execution = uuid(rng);
    let body = json!({"uuid": dev.cli_uuid, "server_uuid": dev.instance_uid, "execution_id": execution,
        "os_platform": "linux", "os_arch": "amd64", "version": HASURA_VERSION, "server_version": HASURA_VERSION,
        "command": "hasura metadata apply --endpoint", "is_error": false, "payload": null, "topic": "cli"})
    .to_string();
    Request {
        bytes: post(host, "/v1/http", "Go-http-client/1.1", &body, keep_alive),
        items: vec![Item::CliExecution(execution)],
    }
}

/// `n` console frames for one `/v1/ws` session: each frame's `cli_uuid` is
/// fresh so the checker can find every frame.
pub fn console_frames(dev: &Developer, n: usize, rng: &mut impl Rng) -> Vec<(String, Item)> {
    let kinds = ["CONNECT_DB", "RUN_TIME_ERROR", "SET_FEATURE_FLAG"];
    (0..n.max(1))
        .map(|i| {
            let frame_id = uuid(rng);
            let text = json!({"topic": "console-v2", "data": {
                "event_type": kinds[i % kinds.len()], "console_mode": "server", "console_type": "oss",
                "version": HASURA_VERSION, "server_uuid": dev.instance_uid, "server_version": HASURA_VERSION,
                "cli_uuid": frame_id}})
            .to_string();
            (text, Item::ConsoleFrame(frame_id))
        })
        .collect()
}

/// An error report as Sonde's client sends it after the user said yes.
pub fn error_report(
    host: &str,
    product: &str,
    dev: &Developer,
    version: &str,
    now_ms: u64,
    keep_alive: bool,
    rng: &mut impl Rng,
) -> Request {
    let id = uuid(rng);
    let line = rng.random_range(1..400);
    let body = json!({"schema": 1, "report_id": id, "product": product, "version": version,
        "signature": dev.signature, "os": "linux", "arch": "x86_64", "runtime": "1.89.0",
        "command": format!("{product} deploy"), "flags": ["--force"],
        "kind": "std::io::Error", "message": "No such file or directory (os error 2)",
        "chain": [{"kind": "tool::DeployError", "message": "cannot read the manifest"}],
        "panic": false,
        "frames": [{"function": "tool::deploy::run", "file": "src/deploy.rs", "line": line, "in_app": true}],
        "project": {"targets": 3}, "occurred_at": now_ms})
    .to_string();
    Request {
        bytes: post(host, "/api/v1/error-reports", "sonde/0.1", &body, keep_alive),
        items: vec![Item::Report(id)],
    }
}

/// `POST /api/v1/releases` with the admin token.
pub fn publish(host: &str, token: &str, product: &str, version: &str) -> Vec<u8> {
    let body = json!({"product": product, "version": version}).to_string();
    format!(
        "POST /api/v1/releases HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
