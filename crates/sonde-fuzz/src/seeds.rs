//! The seed corpus: a few valid and nearly valid inputs per target, written
//! here so the committed files under `fuzz/corpus/<target>/` are generated,
//! never downloaded. `tests/corpus.rs` checks they are committed as
//! generated (`SONDE_FUZZ_WRITE_SEEDS=1` writes them).

use serde_json::json;

/// One seed: its target, its file name, its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The target ([`crate::TARGETS`]).
    pub target: &'static str,
    /// The file name under `fuzz/corpus/<target>/`.
    pub name: String,
    /// The input.
    pub bytes: Vec<u8>,
}

fn seed(target: &'static str, n: usize, bytes: impl Into<Vec<u8>>) -> Seed {
    Seed {
        target,
        name: format!("seed-{n:02}"),
        bytes: bytes.into(),
    }
}

/// A WebSocket frame as a client sends it: FIN, `opcode`, masked `payload`.
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut frame = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | u8::try_from(n).expect("under 126")),
        n if n <= 0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&u16::try_from(n).expect("under 65536").to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

fn hasura_envelopes() -> Vec<String> {
    vec![
        json!({"topic": "server_metrics", "data": {"server_uuid": "79485a57-fca5-40f3-a31b-78c0d211314b",
            "db_uuid": "e462ce20-42dd-40fd-9549-edfb92f80455", "version": "v2.40.0", "metrics": {"tables": 3}}})
        .to_string(),
        json!({"topic": "console", "data": {"event_type": "Table/OPEN",
            "url": "/data/default/schema/public/tables/users/browse", "server_version": "v2.40.0"}})
        .to_string(),
        json!({"topic": "cli", "data": {"command": "hasura migrate apply", "flags": ["--admin-secret"],
            "version": "v2.40.0", "is_error": false}})
        .to_string(),
        r#"{"topic":"console_test","data":{}}"#.to_owned(),
        r#"{"topic":42}"#.to_owned(),
    ]
}

/// Every seed of every target.
pub fn seeds() -> Vec<Seed> {
    let mut out = Vec::new();
    for (n, q) in [
        "version=1.2.3&arch=amd64&os=linux&signature=4f6b2a9c-3d1e-4f5a-8b7c-9d0e1f2a3b4c",
        "product=demo&version=4.16.2&node_version=v20.11.0&command=generate&ci=true&ci_name=GitHub%20Actions",
        "schema_providers=postgresql&schema_providers=sqlite&unknown=1&%ZZ=%&&&",
        "information=a+b%20c&local_timestamp=2026-01-01T00%3A00%3A00Z",
    ]
    .iter()
    .enumerate()
    {
        out.push(seed("checkpoint_query", n, *q));
    }
    for (n, e) in hasura_envelopes().into_iter().enumerate() {
        out.push(seed("hasura_envelope", n, e));
    }
    let envelopes = hasura_envelopes();
    let mut stream = Vec::new();
    for e in &envelopes[..2] {
        stream.extend(client_frame(0x1, e.as_bytes()));
    }
    out.push(seed("ws_frames", 0, stream));
    let mut ping_then_text = client_frame(0x9, b"ping");
    ping_then_text.extend(client_frame(0x1, envelopes[2].as_bytes()));
    ping_then_text.extend(client_frame(0x8, &1000u16.to_be_bytes()));
    out.push(seed("ws_frames", 1, ping_then_text));
    out.push(seed("ws_frames", 2, client_frame(0x2, b"\x00\x01binary")));
    let id = |i: u32| format!("0b3f4c4e-1d2a-4c3b-8f00-{i:012}");
    for (n, b) in [
        json!({"product": "demo", "events": [
            {"id": id(1), "kind": "command", "command": "demo build", "flags": ["--release"], "is_error": false},
            {"id": id(2), "kind": "heartbeat", "instance": "demo-server", "metrics": {"builds.cached": 3}},
            {"id": id(3), "kind": "console", "event_type": "Settings/SAVE", "url": "/settings"}
        ]}),
        json!({"product": "demo", "events": [{"id": "not-a-uuid", "kind": "nope"}, {"id": id(4)}]}),
        json!({"product": "Not A Product!", "events": []}),
    ]
    .iter()
    .enumerate()
    {
        out.push(seed("native_batch", n, b.to_string()));
    }
    for (n, r) in [
        json!({"schema": 1, "report_id": "0190f5e2-7c4a-7d3e-9a1b-000000000001", "product": "demo", "version": "1.0.0",
            "signature": "0000002a-a431-40c5-9f68-24592a9f07df", "os": "linux", "arch": "x86_64", "runtime": "1.89.0",
            "command": "demo migrate apply", "flags": ["--force"], "kind": "std::io::Error",
            "message": "open /home/alice/db.toml failed: password=hunter2 at 10.0.0.7",
            "chain": [{"kind": "demo::MigrateError", "message": "cannot read the migration"}], "panic": false,
            "frames": [{"function": "demo::migrate::h0123456789abcdef", "file": "src/migrate.rs", "line": 12, "in_app": true}],
            "project": {"models": 3}, "occurred_at": "2026-12-07T10:00:00Z"}),
        json!({"schema": 2, "product": "demo"}),
        json!({"schema": 1, "report_id": "x", "product": "demo", "kind": ""}),
    ]
    .iter()
    .enumerate()
    {
        out.push(seed("error_report", n, r.to_string()));
    }
    for (n, t) in [
        "open /home/alice/app/db.toml failed on alices-box: password=hunter2, see 10.0.0.7",
        "postgres://user:secret@db.example.com:5432/app?sslmode=require",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig and alice@example.com, +1 555 0100",
        "std::io::Error at src/main.rs:12 (~/project) [redacted:secret]",
    ]
    .iter()
    .enumerate()
    {
        out.push(seed("scrubber", n, *t));
    }
    for (n, r) in [
        "<2.3.1",
        ">=1.0.0, <2.0.0",
        ">= 1.0 <2",
        "~1.4",
        "^0.2.3",
        "=1.2.3-rc.1",
        "*",
        ">1 <",
        "v1.2",
    ]
    .iter()
    .enumerate()
    {
        out.push(seed("semver_range", n, *r));
    }
    out
}
