//! Every planted identifying value, sent through every field of every front
//! door, reaches neither the database file (nor its WAL) nor the
//! collector's log; ordinary values (versions, OS and architecture names,
//! CI vendors, Hasura metrics keys, route templates) are stored.
//!
//! The doors are a table ([`DOORS`]): a door is a function that sends one
//! planted value in every field it has. A new door (a WebSocket one) is one
//! more entry.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};
use sonde_testkit::collector::Collector;
use sonde_testkit::http::agent;

/// A planted value and the part of it that must not be stored (compared
/// case-insensitively: some fields are stored lower-case).
const PLANTED: &[(&str, &str)] = &[
    ("alice.planted@example.com", "alice.planted@"),
    ("root@prodbox", "prodbox"),
    ("010.213.047.198", "010.213.047.198"),
    ("3520061382", "3520061382"),
    ("0xD1D52FC6", "d1d52fc6"),
    ("fe80::1ff:fe23:4567:890a", "fe23:4567:890a"),
    ("::ffff:10.9.8.7", "10.9.8.7"),
    ("https://bob:hunter2@internal-wiki/page", "internal-wiki"),
    ("postgres://u:pw@dbhost-17:5432/app", "dbhost-17"),
    ("mongodb+srv://admin:pw@cluster9.mongodb.net/db", "cluster9"),
    ("jdbc:sqlserver://sqlbox-3:1433", "sqlbox-3"),
    ("build-7.corp.example.com", "build-7.corp"),
    ("alices-macbook.local", "alices-macbook"),
    ("DESKTOP-7QK2M", "desktop-7qk2m"),
    ("/home/carol-planted/project", "carol-planted"),
    ("C:\\Users\\dave-planted\\app", "dave-planted"),
    ("~erin-planted/x", "erin-planted"),
    ("./prisma/frank-planted.db", "frank-planted"),
    ("1.0.0+AKIAIOSFODNN7EXAMPLE", "akiaiosfodnn7example"),
    ("Open/glpat-abcdefghij0123456789", "glpat-abcdefghij"),
    ("ghp_abcdefghijklmnopqrstuvwxyz012345", "ghp_abcdefghij"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "eyjhbgcioijiuzi1nij9"),
    ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "4ec39hqlyjwdarjtt1zdp7dc"),
    ("da39a3ee5e6b4b0d3255bfef95601890afd80709", "da39a3ee5e6b4b0d3255"),
    (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "e3b0c44298fc1c149afb",
    ),
    ("4111 1111 1111 1111", "4111 1111"),
    ("GB82WEST12345698765432", "gb82west1234"),
    ("00:1a:2b:3c:4d:5e", "00:1a:2b:3c:4d:5e"),
    ("001a.2b3c.4d5e", "001a.2b3c.4d5e"),
    ("+14155552671", "4155552671"),
    ("415-555-2671", "415-555-2671"),
    ("078-05-1120", "078-05-1120"),
    ("bob.smith@corp.example.org", "bob.smith@"),
    ("v1.0.0+mallory@example.net", "mallory@"),
    ("jenkins@buildhost-12", "buildhost-12"),
    ("192.168.001.010", "192.168.001.010"),
    ("10.0.0.7:8080", "10.0.0.7"),
    ("167772161", "167772161"),
    ("2001:db8::8a2e:370:7334", "8a2e:370:7334"),
    ("http://192.168.1.50/admin", "192.168.1.50"),
    ("redis://:s3cret@cache-host-9:6379", "cache-host-9"),
    ("mysql://root:pw@mysql-prod-2/db", "mysql-prod-2"),
    ("sftp://ftp-user@files-node-4/upload", "files-node-4"),
    ("dbhost.example.com:5432", "dbhost.example"),
    ("gitlab-runner-3.internal", "gitlab-runner-3"),
    ("LAPTOP-A1B2C3D", "laptop-a1b2c3d"),
    ("WIN-8K2P0QW7R1", "win-8k2p0qw7r1"),
    ("/Users/grace-planted/dev", "grace-planted"),
    ("/home/heidi-planted", "heidi-planted"),
    ("C:/Users/ivan-planted/x", "ivan-planted"),
    ("/var/data/judy-planted.sqlite3", "judy-planted"),
    ("xoxb-123456789012-abcdefghijkl", "xoxb-1234567890"),
    ("AIzaSyA1234567890abcdefghijklmnopqrstu", "aizasya1234567890"),
    ("npm_abcdefghijklmnopqrstuvwxyz0123456789", "npm_abcdefghijkl"),
    ("Bearer abcdef0123456789abcdef0123456789", "abcdef0123456789abcdef"),
    ("ASIAIOSFODNN7EXAMPL2", "asiaiosfodnn7exampl2"),
    ("5500-0000-0000-0004", "5500-0000"),
    ("378282246310005", "378282246310005"),
    ("DE89370400440532013000", "de89370400440532"),
    ("00-1A-2B-3C-4D-5F", "00-1a-2b-3c-4d-5f"),
    ("+44 20 7946 0958", "7946 0958"),
    ("219-09-9999", "219-09-9999"),
    // Names no detector can know: closed by shapes and vocabularies.
    ("customers_private", "customers_private"),
    ("ModifyTable/customers_private", "customers_private"),
];

/// The product of the native and checkpoint doors, with its registered
/// vocabulary and route templates.
const TOOL: &str = "tool";

/// A door: sends `value` in every field it has; returns how many requests
/// it made (each answered 2xx, asserted inside).
type Door = fn(&Collector, &str) -> usize;

/// Every front door of the collector.
const DOORS: &[(&str, Door)] = &[
    ("native /api/v1/events", native),
    ("hasura /v1/http", hasura),
    ("checkpoint /v1/check", check),
    ("checkpoint /v1/telemetry", telemetry),
    ("hasura console /v1/ws", websocket),
];

fn post_json(c: &Collector, path: &str, body: &Value) -> u16 {
    let mut r = agent()
        .post(&c.url(path))
        .header("Content-Type", "application/json")
        .send(body.to_string().as_bytes())
        .expect("post");
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    assert!((200..300).contains(&status), "{path}: {status} {text}");
    status
}

/// A fixed UUID per index.
fn uuid(i: u32) -> String {
    format!("0b3f4c4e-1d2a-4c3b-8f00-{i:012x}")
}

/// Native batch: one event of each kind with `v` in every field, plus the
/// command variants (as the path, an argument, a flag, a flag value) and
/// `v` as a metrics key and as an unknown field's name.
fn native(c: &Collector, v: &str) -> usize {
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let id = || uuid(SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let mut metrics = serde_json::Map::new();
    metrics.insert(v.to_owned(), json!(1));
    metrics.insert("builds".into(), json!({ v: 2, "cached": v }));
    let heartbeat = json!({"id": id(), "kind": "heartbeat", "version": v, "ci": v, "os": v, "arch": v,
        "instance_uid": v, "db_uid": v, "metrics": metrics,
        "source_metadata": {"db_uid": v, "backend_type": v, "db_kind": v, "db_version": v, v: v},
        "experimental_features": [v], v: v});
    let mut events = vec![heartbeat];
    for command in [
        v.to_owned(),
        format!("tool deploy {v}"),
        format!("tool {v} --force"),
        format!("tool deploy --{v}"),
        format!("tool deploy --force={v}"),
        format!("tool deploy --force {v}"),
    ] {
        events.push(
            json!({"id": id(), "kind": "command", "uuid": v, "execution_id": v, "version": v,
            "command": command, "flags": [v, format!("--{v}")], "is_error": v, "duration_ms": v,
            "os_platform": v, "os_arch": v, "ci": v, "server_uuid": v, "server_version": v,
            "error": v, "payload": {"x": v}}),
        );
    }
    events.push(
        json!({"id": id(), "kind": "console", "url": v, "event_type": v, "console_mode": v, "console_type": v,
        "version": v, "server_uuid": v, "server_version": v, "cli_uuid": v, "occurred_at": v, "test": v}),
    );
    events.push(json!({"id": id(), "kind": "console", "url": format!("/projects/{v}"), "event_type": "Settings/SAVE"}));
    events.push(json!({"id": v, "kind": "command"}));
    events.push(json!({"id": id(), "kind": v}));
    post_json(c, "/api/v1/events", &json!({"product": TOOL, "events": events, v: v}));
    1
}

/// Hasura's envelope: each topic with `v` in every field.
fn hasura(c: &Collector, v: &str) -> usize {
    let mut metrics = serde_json::Map::new();
    metrics.insert(v.to_owned(), json!(1));
    metrics.insert("relationships".into(), json!({ v: 1, "manual": {v: 1, "object": v} }));
    let server = json!({"topic": "server_metrics_v2", "data": {"metadata_db_uid": v, "instance_uid": v,
        "hasura_version": v, "ci": v, "os": v, "arch": v, "metrics": metrics, "timestamp": v, "id": v,
        "source_metadata": {"db_uid": v, "db_kind": v, "db_version": v},
        "experimental_features": [v], v: v}, v: v});
    let mut n = 0;
    post_json(c, "/v1/http", &server);
    n += 1;
    for command in [
        v.to_owned(),
        format!("hasura migrate apply {v}"),
        format!("hasura {v}"),
        format!("hasura migrate apply --{v}"),
        format!("hasura migrate apply --endpoint={v}"),
    ] {
        let cli = json!({"topic": "cli", "data": {"uuid": v, "execution_id": v, "version": v,
            "command": command, "flags": [v], "is_error": false, "os_platform": v, "os_arch": v, "ci": v,
            "server_uuid": v, "server_version": v, "error": v, "payload": v}});
        post_json(c, "/v1/http", &cli);
        n += 1;
    }
    let console = json!({"topic": "console_test", "data": {"url": v, "event_type": v, "console_mode": v,
        "version": v, "server_uuid": v, "server_version": v, "cli_uuid": v}});
    post_json(c, "/v1/http", &console);
    let console_route = json!({"topic": "console", "data": {"url": format!("/data/schema/public/tables/{v}/modify"),
        "event_type": format!("ModifyTable/{v}")}});
    post_json(c, "/v1/http", &console_route);
    n + 2
}

/// The Hasura console's WebSocket: a frame of each console topic with `v`
/// in every field, then a normal close, read to its end (each frame is
/// committed before the next is read).
fn websocket(c: &Collector, v: &str) -> usize {
    use tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{}/v1/ws", c.addr()).into_client_request().unwrap();
    request.headers_mut().insert("Origin", "null".parse().unwrap());
    let (mut socket, _) = tungstenite::connect(request).expect("a WebSocket");
    let frames = [
        json!({"topic": "console", "data": {"url": v, "event_type": v, "console_mode": v,
            "version": v, "server_uuid": v, "server_version": v, "cli_uuid": v, v: v}}),
        json!({"topic": "console-v2", "data": {"server_version": v, "url": format!("/data/{v}/schema/public/tables/{v}/modify"),
            "console_mode": v, "console_type": v, "cli_uuid": v, "server_uuid": v, "event_type": v,
            "event_data": {"name": v, v: v}}}),
        json!({"topic": "console-test-v2", "data": {"url": "/settings/about", "event_type": format!("CLICK_EVENT/{v}")}}),
    ];
    for frame in &frames {
        socket
            .send(tungstenite::Message::text(frame.to_string()))
            .expect("a frame");
    }
    socket.close(None).expect("close");
    while socket.read().is_ok() {}
    frames.len()
}

/// Percent-encodes every byte but ASCII letters and digits.
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A version check with `v` in every key a client sends, and as an unknown
/// key's name.
fn check(c: &Collector, v: &str) -> usize {
    let e = encode(v);
    let mut query: Vec<String> = sonde_protocol::checkpoint::KNOWN_CHECK_KEYS
        .iter()
        .map(|k| format!("{k}={e}"))
        .collect();
    query.push(format!("{e}=1"));
    let path = format!("/v1/check/{TOOL}?{}", query.join("&"));
    let reply = sonde_testkit::http::get(c.addr(), &path);
    assert_eq!(reply.status, 200, "{}", reply.text());
    1
}

/// go-checkpoint's telemetry report with `v` in every field.
fn telemetry(c: &Collector, v: &str) -> usize {
    let body = json!({"signature": v, "start_time": v, "end_time": v, "arch": v, "os": v, "payload": {"k": v},
        "product": v, "run_id": v, "schema_version": v, "version": v});
    post_json(c, &format!("/v1/telemetry/{TOOL}"), &body);
    1
}

/// Ordinary values through the same doors: these must be stored.
fn send_ordinary(c: &Collector) {
    let events = json!({"product": TOOL, "events": [
        {"id": uuid(900_001), "kind": "heartbeat", "version": "2.38.0-beta.1+build.5", "os": "linux", "arch": "x86_64",
         "ci": "GitHub Actions", "metrics": {"builds": {"cached": 3, "total": 4}},
         "source_metadata": {"db_kind": "postgres", "db_version": "PostgreSQL 15.2 on x86_64-pc-linux-gnu, compiled by gcc 10.2.1, 64-bit"}},
        {"id": uuid(900_002), "kind": "command", "version": "v2.0.0-rc.1", "command": "tool deploy --force",
         "os_platform": "darwin", "os_arch": "arm64", "ci": "TRAVIS"},
        {"id": uuid(900_003), "kind": "console", "url": "/projects/42", "event_type": "Settings/SAVE", "console_mode": "server"}]});
    post_json(c, "/api/v1/events", &events);
    let server = json!({"topic": "server_metrics_v2", "data": {"hasura_version": "v2.36.0", "ci": "TRAVIS",
        "metrics": {"tables": 2, "relationships": {"manual": {"object": 1, "array": 2}, "auto": 3}, "permissions": {"roles": 1}},
        "source_metadata": {"db_kind": "postgres", "db_version": "15.2"}, "experimental_features": ["inherited_roles"]}});
    post_json(c, "/v1/http", &server);
    let cli = json!({"topic": "cli", "data": {"execution_id": uuid(900_004), "version": "v2.36.0",
        "command": "hasura migrate apply --endpoint https://h.example --database-name default", "os_platform": "windows", "os_arch": "x64"}});
    post_json(c, "/v1/http", &cli);
    let console = json!({"topic": "console", "data": {"url": "/data/schema/public/tables/customers/modify",
        "event_type": "ModifyTable/RESET", "console_mode": "cli"}});
    post_json(c, "/v1/http", &console);
    let reply = sonde_testkit::http::get(
        c.addr(),
        &format!(
            "/v1/check/{TOOL}?version=1.2.3&os=freebsd&arch=aarch64&ci_name=Azure+Pipelines&runtime_version=v20.20.2"
        ),
    );
    assert_eq!(reply.status, 200);
}

/// The collector's log, captured at debug level for the whole test binary.
fn log() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        buf
    })
}

/// A writer into the shared log buffer.
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Lower-cased bytes of the database file and its WAL.
fn stored_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["sonde.db", "sonde.db-wal"] {
        if let Ok(b) = std::fs::read(dir.join(name)) {
            all.extend(b);
        }
    }
    all.make_ascii_lowercase();
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    let n = needle.to_ascii_lowercase().into_bytes();
    hay.windows(n.len()).any(|w| w == n.as_slice())
}

fn register(c: &Collector) {
    c.register(TOOL, "1.0.0");
    c.register("hasura", "2.36.0");
    let (s, b) = c.admin_post(
        "/api/v1/routes",
        json!({"product": TOOL, "templates": ["/projects/:id"]}),
    );
    assert_eq!(s, 201, "{b}");
    let (s, b) = c.admin_post(
        "/api/v1/vocabulary",
        json!({"product": TOOL, "commands": ["tool deploy", "tool build"], "flags": ["--force"],
               "metric_keys": ["builds.cached", "builds.total"], "event_types": ["Settings/SAVE"],
               "experimental_features": ["fast_builds"], "db_kinds": ["postgres"]}),
    );
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["added"], 8);
}

#[test]
fn planted_values_reach_neither_the_database_nor_the_log() {
    let log = log();
    let c = Collector::start();
    register(&c);
    let mut requests = 0;
    for (door, send) in DOORS {
        for (value, _) in PLANTED {
            let before = requests;
            requests += send(&c, value);
            assert!(requests > before, "{door}");
        }
    }
    assert!(requests >= PLANTED.len() * DOORS.len());
    // Something of every door was stored, so the values had a way in.
    assert!(c.count("SELECT count(*) FROM events WHERE product = 'tool'") >= PLANTED.len() as i64);
    assert!(c.count("SELECT count(*) FROM events WHERE product = 'hasura'") >= PLANTED.len() as i64);
    assert!(c.count("SELECT count(*) FROM pings WHERE product = 'tool'") >= 2 * PLANTED.len() as i64);
    let dir = c.data_dir();
    let live = stored_bytes(&dir);
    let _kept = c.shutdown();
    let closed = stored_bytes(&dir);
    let log = String::from_utf8_lossy(&log.lock().unwrap_or_else(|e| e.into_inner())).to_ascii_lowercase();
    assert!(!log.is_empty(), "the log was captured");
    for (value, needle) in PLANTED {
        assert!(!contains(&live, needle), "{value:?} reached the database (live)");
        assert!(!contains(&closed, needle), "{value:?} reached the database file");
        assert!(!contains(log.as_bytes(), needle), "{value:?} reached the log");
    }
}

#[test]
fn ordinary_values_are_stored() {
    let _ = log();
    let c = Collector::start();
    register(&c);
    send_ordinary(&c);
    let db = c.db();
    let fields = |product: &str| -> Vec<Value> {
        let mut stmt = db
            .prepare("SELECT fields FROM events WHERE product = ?1 ORDER BY seq")
            .unwrap();
        stmt.query_map([product], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|t| serde_json::from_str(&t.unwrap()).unwrap())
            .collect()
    };
    let tool = fields(TOOL);
    assert_eq!(tool.len(), 3);
    assert_eq!(tool[0]["version"], "2.38.0-beta.1+build.5");
    assert_eq!(
        (tool[0]["os"].as_str(), tool[0]["arch"].as_str()),
        (Some("linux"), Some("x86_64"))
    );
    assert_eq!(tool[0]["ci"], "GitHub Actions");
    assert_eq!(tool[0]["metrics"], json!({"builds": {"cached": 3, "total": 4}}));
    assert_eq!(tool[0]["source_metadata"]["db_version"], "PostgreSQL 15.2");
    assert_eq!(tool[1]["command"], "tool deploy");
    assert_eq!(tool[1]["flags"], json!(["--force"]));
    assert_eq!(tool[1]["version"], "v2.0.0-rc.1");
    assert_eq!(
        (tool[1]["os_platform"].as_str(), tool[1]["os_arch"].as_str()),
        (Some("darwin"), Some("arm64"))
    );
    assert_eq!(tool[1]["ci"], "TRAVIS");
    assert_eq!(tool[2]["url"], "/projects/:id");
    assert_eq!(tool[2]["event_type"], "Settings/SAVE");
    let hasura = fields("hasura");
    assert_eq!(hasura.len(), 3);
    assert_eq!(
        hasura[0]["metrics"],
        json!({"tables": 2, "relationships": {"manual": {"object": 1, "array": 2}, "auto": 3}, "permissions": {"roles": 1}})
    );
    assert_eq!(hasura[0]["experimental_features"], json!(["inherited_roles"]));
    assert_eq!(hasura[1]["command"], "hasura migrate apply");
    assert_eq!(hasura[1]["flags"], json!(["--endpoint", "--database-name"]));
    assert_eq!(hasura[2]["url"], "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify");
    assert_eq!(hasura[2]["event_type"], "ModifyTable/RESET");
    let ping: (String, String, String, String, String) = db
        .query_row(
            "SELECT version, os, arch, ci_name, runtime_version FROM pings WHERE product = 'tool'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        ping,
        (
            "1.2.3".into(),
            "freebsd".into(),
            "aarch64".into(),
            "Azure Pipelines".into(),
            "v20.20.2".into()
        )
    );
}
