//! Command events and server heartbeats from real processes of the example
//! programs (`sonde-demo build|deploy`, `sonde-demo-server`) arriving at the
//! real collector through the client library's spool and detached uploader.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use common::{wait_for, Collector, Sandbox};
use serde_json::{json, Value};

const SERVER: &str = env!("CARGO_BIN_EXE_sonde-demo-server");

/// Stored events of `product` and `kind`, as (test, fields).
fn events(c: &Collector, product: &str, kind: &str) -> Vec<Value> {
    let db = c.inner.data_dir().join("sonde.db");
    let conn = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    let mut st = conn
        .prepare("SELECT fields FROM events WHERE product = ?1 AND kind = ?2")
        .unwrap();
    st.query_map([product, kind], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|f| serde_json::from_str(&f.unwrap()).unwrap())
        .collect()
}

#[test]
fn command_events_arrive_with_flag_names_only() {
    let c = Collector::start();
    let sandbox = Sandbox::new(&c.url())
        .env("SONDE_DEMO_SERVER_ID", "79485a57-fca5-40f3-a31b-78c0d211314b")
        .env("SONDE_DEMO_SERVER_VERSION", "v2.36.0");
    let out = sandbox.run(&[
        "build",
        "--release",
        "--target=x86_64-secret-target",
        "./private/dir",
        "-v",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "sonde-demo build did its work\n");
    let failed = sandbox
        .demo()
        .args(["deploy", "--fail", "--region", "eu-secret-1"])
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(1));

    wait_for("both command events", || events(&c, "sonde-demo", "command").len() == 2);
    let mut rows = events(&c, "sonde-demo", "command");
    rows.sort_by_key(|r| r["command"].to_string());
    let build = &rows[0];
    assert_eq!(build["command"], "sonde-demo build");
    assert_eq!(build["flags"], json!(["--release", "--target", "-v"]));
    assert_eq!(build["is_error"], false);
    assert_eq!(build["server_uuid"], "79485a57-fca5-40f3-a31b-78c0d211314b");
    assert_eq!(build["server_version"], "v2.36.0");
    assert_eq!(build["os_platform"], std::env::consts::OS);
    assert!(build["duration_ms"].is_u64());
    assert!(sonde_protocol::shapes::signature(build["execution_id"].as_str().unwrap()).is_ok());
    assert!(sonde_protocol::shapes::signature(build["uuid"].as_str().unwrap()).is_ok());
    let deploy = &rows[1];
    assert_eq!(
        (deploy["command"].as_str(), deploy["is_error"].as_bool()),
        (Some("sonde-demo deploy"), Some(true))
    );
    assert_eq!(deploy["flags"], json!(["--fail", "--region"]));
    let text = serde_json::to_string(&rows).unwrap();
    for value in ["x86_64-secret-target", "private", "eu-secret-1"] {
        assert!(!text.contains(value), "{value} was sent");
    }
    // The ledger shows what left the machine.
    sandbox.wait_drained();
    let log = sandbox.run(&["telemetry", "log"]);
    assert!(String::from_utf8_lossy(&log.stdout).contains("/api/v1/events"));
}

#[test]
fn concurrent_commands_all_arrive_each_stored_once() {
    let c = Collector::start();
    let sandbox = Sandbox::new(&c.url());
    let children: Vec<Child> = (0..12)
        .map(|_| {
            sandbox
                .demo()
                .args(["build", "--fast"])
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    // Events staged while an upload was running are swept by that uploader.
    wait_for("twelve command events", || {
        events(&c, "sonde-demo", "command").len() == 12
    });
    sandbox.wait_drained();
    assert_eq!(events(&c, "sonde-demo", "command").len(), 12);
}

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(sandbox: &Sandbox, args: &[&str]) -> Server {
        let mut child = sandbox
            .command(SERVER)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .expect("the server prints its address")
            .to_owned();
        Server { child, addr }
    }

    fn get(&self, path: &str) -> String {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        agent
            .get(&format!("http://{}{path}", self.addr))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap()
    }

    fn quit(mut self) {
        assert_eq!(self.get("/quit"), "bye");
        assert!(self.child.wait().unwrap().success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn server_heartbeats_arrive_with_kept_ids_and_numeric_metrics() {
    let c = Collector::start();
    c.admin_post(
        "/api/v1/releases",
        json!({"product": "sonde-demo-server", "version": "0.1.0"}),
    );
    let sandbox = Sandbox::new(&c.url()).env("SONDE_DEMO_HEARTBEAT_MS", "200");
    let server = Server::start(&sandbox, &[]);
    assert_eq!(server.get("/"), "ok");
    wait_for("two heartbeats", || {
        events(&c, "sonde-demo-server", "heartbeat").len() >= 2
    });
    server.quit();
    let beats = events(&c, "sonde-demo-server", "heartbeat");
    let first = &beats[0];
    for b in &beats {
        assert_eq!(b["instance_uid"], first["instance_uid"]);
        assert_eq!(b["db_uid"], first["db_uid"]);
        assert_eq!(b["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(b["metrics"]["tables"], 3);
        assert_eq!(b["metrics"]["permissions"], json!({"select": 2, "insert": 1}));
        assert_eq!(b["metrics"]["tls"], false);
        assert!(b["metrics"]["requests"].is_u64());
    }
    assert_ne!(first["instance_uid"], first["db_uid"]);
    assert!(
        beats.iter().any(|b| b["metrics"]["requests"].as_u64() >= Some(1)),
        "metrics come from the host's closure"
    );

    // A restart keeps the ids.
    let before = beats.len();
    let server = Server::start(&sandbox, &[]);
    wait_for("a heartbeat after the restart", || {
        events(&c, "sonde-demo-server", "heartbeat").len() > before
    });
    server.quit();
    let ids: std::collections::BTreeSet<String> = events(&c, "sonde-demo-server", "heartbeat")
        .iter()
        .map(|b| b["instance_uid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1);
}

#[test]
fn server_flag_and_variable_turn_the_heartbeat_off() {
    let c = Collector::start();
    c.admin_post(
        "/api/v1/releases",
        json!({"product": "sonde-demo-server", "version": "0.1.0"}),
    );
    for (args, env) in [
        (vec!["--enable-telemetry=false"], None),
        (vec![], Some(("SONDE_DEMO_SERVER_ENABLE_TELEMETRY", "false"))),
        (vec![], Some(("DO_NOT_TRACK", "1"))),
    ] {
        let mut sandbox = Sandbox::new(&c.url()).env("SONDE_DEMO_HEARTBEAT_MS", "100");
        if let Some((k, v)) = env {
            sandbox = sandbox.env(k, v);
        }
        let server = Server::start(&sandbox, &args);
        // The heartbeat would have started before the server listened.
        assert_eq!(server.get("/"), "ok");
        assert!(
            !sandbox.sonde_cache().exists(),
            "{args:?} {env:?}: telemetry off wrote files"
        );
        server.quit();
        assert!(!sandbox.sonde_cache().exists());
    }
    assert!(events(&c, "sonde-demo-server", "heartbeat").is_empty());
}
