//! Hasura's real clients, every generation, replayed as their code builds
//! the request (docs/compatibility.md): the server's v1.x `server` topic and
//! v2 `server_metrics_v2` envelopes (one per database source, the second
//! one with nulls), the current CLI's flat body with no Content-Type and a
//! serialised Go error, the old CLI's `{topic, data}`, and the console v1 and
//! v2 over a real WebSocket. Stored rows are read from the SQLite file and
//! compared field by field; what identifies is nowhere in the database
//! file or its WAL.

mod common;

use std::net::TcpStream;

use common::Harness;
use serde_json::{json, Value};
use sonde_testkit::{db, http, wait};
use tungstenite::client::IntoClientRequest;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

const INSTANCE: &str = "6799360d-a431-40c5-9f68-24592a9f07df";
const METADATA_DB: &str = "dddff371-dab2-450f-9969-235bca66dab1";
const CLI_UUID: &str = "e462ce20-42dd-40fd-9549-edfb92f80455";
const EXECUTION: &str = "ddfa9c33-0693-457d-9026-c7f456c43322";
const SERVER_UUID: &str = "79485a57-fca5-40f3-a31b-78c0d211314b";

/// A collector where the product `hasura` is registered.
fn start() -> Harness {
    let h = common::start();
    h.register("hasura", "2.36.0");
    h
}

/// The server's request (`Wreq.postWith` with `wreqOptions`: JSON type and
/// the engine's user agent, http-client's gzip).
fn server_request(h: &Harness, body: &str, version: &str) -> Vec<u8> {
    format!(
        "POST /v1/http HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: gzip\r\nContent-Type: application/json\r\n\
         User-Agent: hasura-graphql-engine/{version}\r\nContent-Length: {}\r\n\r\n{body}",
        h.addr(),
        body.len()
    )
    .into_bytes()
}

/// The current CLI's request: Go's `net/http` with no Content-Type.
fn go_request(h: &Harness, body: &str) -> Vec<u8> {
    format!(
        "POST /v1/http HTTP/1.1\r\nHost: {}\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: {}\r\n\
         Accept-Encoding: gzip\r\n\r\n{body}",
        h.addr(),
        body.len()
    )
    .into_bytes()
}

/// Stored events: (kind, test, fields), in arrival order.
fn rows(h: &Harness) -> Vec<(String, bool, Value)> {
    let db = db::open(&h.data_dir());
    let mut stmt = db
        .prepare("SELECT kind, test, fields FROM events WHERE product = 'hasura' ORDER BY received_at_ms, rowid")
        .unwrap();
    stmt.query_map([], |r| {
        let fields: String = r.get(2)?;
        Ok((r.get(0)?, r.get(1)?, serde_json::from_str(&fields).unwrap()))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// Rejection counters of `hasura`: (source, field, reason, count), sorted.
fn rejections(h: &Harness) -> Vec<(String, String, String, u64)> {
    h.rejections("hasura")
}

fn rejection(source: &str, field: &str, reason: &str, count: u64) -> (String, String, String, u64) {
    (source.to_owned(), field.to_owned(), reason.to_owned(), count)
}

fn event_count(h: &Harness) -> i64 {
    h.count("SELECT COUNT(*) FROM events WHERE product = 'hasura'")
}

fn assert_nowhere(h: &Harness, needles: &[&str]) {
    let bytes = db::file_bytes(&h.data_dir());
    assert!(!bytes.is_empty());
    for needle in needles {
        assert!(!db::holds(&bytes, needle), "{needle:?} reached the database file");
    }
}

#[test]
fn server_heartbeats_of_v1_and_v2_are_stored_field_by_field() {
    let h = start();
    // v1.x (`Hasura.Server.Telemetry` before sources): topic `server`,
    // `pg_version` inside `metrics`.
    let v1 = json!({"topic": "server", "data": {
        "db_uid": METADATA_DB, "instance_uid": INSTANCE, "version": "v1.3.3", "ci": null,
        "metrics": {"tables": 12, "views": 2, "enum_tables": 1,
            "relationships": {"manual": 3, "auto": 9},
            "permissions": {"select": 8, "insert": 2, "update": 2, "delete": 1, "roles": 3},
            "event_triggers": 1, "remote_schemas": 1, "functions": 2,
            "service_timings": {"collectionTag": 1_606_000_000, "serviceTimingMetrics": [
                {"dimensions": {"query_type": "Query", "locality": "Local", "transport": "HTTP"},
                 "bucket": 0.001, "metrics": {"time_i_o": 0.5, "time_tot": 0.75, "count": 42}}]},
            "pg_version": 120_004,
            "actions": {"synchronous": 1, "asynchronous": 0, "query_actions": 1, "type_relationships": 0, "custom_types": 4}}}});
    let r = http::exchange_one(h.addr(), &server_request(&h, &v1.to_string(), "v1.3.3"));
    assert_eq!(r.status, 200, "{}", r.text());
    // v2: one envelope per source; the default source carries everything.
    let default_source = json!({"topic": "server_metrics_v2", "data": {
        "metadata_db_uid": METADATA_DB, "instance_uid": INSTANCE, "hasura_version": "v2.36.0", "ci": "GITHUB_ACTIONS",
        "source_metadata": {"db_uid": METADATA_DB, "backend_type": "postgres", "db_kind": "postgres", "db_version": "150002"},
        "metrics": {"tables": 5, "views": 0, "enum_tables": 0,
            "relationships": {"manual": 0, "auto": 4},
            "permissions": {"select": 2, "insert": 1, "update": 1, "delete": 0, "roles": 1},
            "event_triggers": 0, "functions": 0, "remote_schemas": 2,
            "service_timings": {"collectionTag": 1_700_000_000, "serviceTimingMetrics": [
                {"dimensions": {"query_type": "Mutation", "locality": "Remote", "transport": "WebSocket"},
                 "bucket": 1, "metrics": {"time_i_o": 3.5, "time_tot": 4.0, "count": 2}},
                {"dimensions": {"query_type": "Query", "locality": "Local", "transport": "HTTP"},
                 "bucket": 0.05, "metrics": {"time_i_o": 0.1, "time_tot": 0.2, "count": 7}}]},
            "actions": {"synchronous": 2, "asynchronous": 1, "query_actions": 0, "type_relationships": 1, "custom_types": 3},
            "native_queries": {"with_parameters": 1, "without_parameters": 2},
            "stored_procedures": {"with_parameters": 0, "without_parameters": 1},
            "logical_models": {"count": 3}},
        "experimental_features": ["naming_convention", "bigquery_string_numeric_input"]}});
    let second_source = json!({"topic": "server_metrics_v2", "data": {
        "metadata_db_uid": METADATA_DB, "instance_uid": INSTANCE, "hasura_version": "v2.36.0", "ci": "GITHUB_ACTIONS",
        "source_metadata": {"db_uid": null, "backend_type": "mssql", "db_kind": "mssql", "db_version": null},
        "metrics": {"tables": 1, "views": 0, "enum_tables": 0,
            "relationships": {"manual": 0, "auto": 0},
            "permissions": {"select": 0, "insert": 0, "update": 0, "delete": 0, "roles": 0},
            "event_triggers": 0, "functions": 0, "remote_schemas": null, "service_timings": null, "actions": null,
            "native_queries": {"with_parameters": 0, "without_parameters": 0},
            "stored_procedures": {"with_parameters": 0, "without_parameters": 0},
            "logical_models": {"count": 0}},
        "experimental_features": ["naming_convention", "bigquery_string_numeric_input"]}});
    for body in [&default_source, &second_source] {
        let r = http::exchange_one(h.addr(), &server_request(&h, &body.to_string(), "v2.36.0"));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json::<Value>(), json!({"stored": 1, "duplicates": 0, "dropped": 0}));
    }

    let rows = rows(&h);
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|(kind, test, _)| kind == "heartbeat" && !test));
    assert_eq!(
        rows[0].2,
        json!({"db_uid": METADATA_DB, "instance_uid": INSTANCE, "version": "v1.3.3",
            "source_metadata": {"db_version": "120004"},
            "metrics": {"tables": 12, "views": 2, "enum_tables": 1,
                "relationships": {"manual": 3, "auto": 9},
                "permissions": {"select": 8, "insert": 2, "update": 2, "delete": 1, "roles": 3},
                "event_triggers": 1, "remote_schemas": 1, "functions": 2,
                "service_timings": {"query_local_http": {"gt_0_001": {"count": 42, "time_i_o": 0.5, "time_tot": 0.75}}},
                "actions": {"synchronous": 1, "asynchronous": 0, "query_actions": 1, "type_relationships": 0, "custom_types": 4}}})
    );
    assert_eq!(
        rows[1].2,
        json!({"db_uid": METADATA_DB, "instance_uid": INSTANCE, "version": "v2.36.0", "ci": "GITHUB_ACTIONS",
            "source_metadata": {"db_uid": METADATA_DB, "backend_type": "postgres", "db_kind": "postgres", "db_version": "150002"},
            "metrics": {"tables": 5, "views": 0, "enum_tables": 0,
                "relationships": {"manual": 0, "auto": 4},
                "permissions": {"select": 2, "insert": 1, "update": 1, "delete": 0, "roles": 1},
                "event_triggers": 0, "functions": 0, "remote_schemas": 2,
                "service_timings": {
                    "mutation_remote_websocket": {"gt_1": {"count": 2, "time_i_o": 3.5, "time_tot": 4.0}},
                    "query_local_http": {"gt_0_05": {"count": 7, "time_i_o": 0.1, "time_tot": 0.2}}},
                "actions": {"synchronous": 2, "asynchronous": 1, "query_actions": 0, "type_relationships": 1, "custom_types": 3},
                "native_queries": {"with_parameters": 1, "without_parameters": 2},
                "stored_procedures": {"with_parameters": 0, "without_parameters": 1},
                "logical_models": {"count": 3}},
            "experimental_features": ["naming_convention", "bigquery_string_numeric_input"]})
    );
    assert_eq!(
        rows[2].2,
        json!({"db_uid": METADATA_DB, "instance_uid": INSTANCE, "version": "v2.36.0", "ci": "GITHUB_ACTIONS",
            "source_metadata": {"backend_type": "mssql", "db_kind": "mssql"},
            "metrics": {"tables": 1, "views": 0, "enum_tables": 0,
                "relationships": {"manual": 0, "auto": 0},
                "permissions": {"select": 0, "insert": 0, "update": 0, "delete": 0, "roles": 0},
                "event_triggers": 0, "functions": 0,
                "native_queries": {"with_parameters": 0, "without_parameters": 0},
                "stored_procedures": {"with_parameters": 0, "without_parameters": 0},
                "logical_models": {"count": 0}},
            "experimental_features": ["naming_convention", "bigquery_string_numeric_input"]})
    );
    assert!(rejections(&h).is_empty(), "{:?}", rejections(&h));
    // The servers' start times (`collectionTag`) are not kept.
    assert_nowhere(&h, &["1606000000", "1700000000", "collectionTag"]);
}

#[test]
fn the_cli_of_each_generation_is_stored_and_its_error_never_is() {
    let h = start();
    let go_error = "Post \"http://10.20.30.40:8080/v1/metadata\": dial tcp 10.20.30.40:8080: connect: \
                    connection refused; reading /home/alice/hasura-project/config.yaml";
    // The current CLI: flat, `error` set, no server.
    let flat = json!({"uuid": CLI_UUID, "server_uuid": "", "execution_id": EXECUTION,
        "os_platform": "linux", "os_arch": "amd64", "version": "v2.36.0", "server_version": "",
        "command": "hasura metadata apply --endpoint --admin-secret", "is_error": true,
        "error": go_error, "payload": null, "topic": "cli"});
    let r = http::exchange_one(h.addr(), &go_request(&h, &flat.to_string()));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json::<Value>(), json!({"stored": 1, "duplicates": 0, "dropped": 1}));
    // An older CLI (gorequest): `{topic, data}` as JSON, with a server.
    let wrapped = json!({"topic": "cli_test", "data": {"uuid": CLI_UUID, "server_uuid": SERVER_UUID,
        "execution_id": "0b3f4c4e-1d2a-4c3b-8f00-000000000002", "os_platform": "darwin", "os_arch": "arm64",
        "version": "v1.3.3-beta.1", "server_version": "v1.3.3", "command": "hasura migrate status",
        "is_error": false, "payload": {}}});
    let body = wrapped.to_string();
    let request = format!(
        "POST /v1/http HTTP/1.1\r\nHost: {}\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: {}\r\n\
         Content-Type: application/json\r\nAccept-Encoding: gzip\r\n\r\n{body}",
        h.addr(),
        body.len()
    );
    let r = http::exchange_one(h.addr(), request.as_bytes());
    assert_eq!(r.json::<Value>(), json!({"stored": 1, "duplicates": 0, "dropped": 0}));
    // A `text/plain` body is read as JSON too.
    let mut plain = flat.clone();
    plain["execution_id"] = json!("0b3f4c4e-1d2a-4c3b-8f00-000000000003");
    plain["error"] = json!("");
    plain["is_error"] = json!(false);
    let body = plain.to_string();
    let request = format!(
        "POST /v1/http HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        h.addr(),
        body.len()
    );
    assert_eq!(http::exchange_one(h.addr(), request.as_bytes()).status, 200);

    let rows = rows(&h);
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0],
        (
            "command".to_owned(),
            false,
            json!({"uuid": CLI_UUID, "execution_id": EXECUTION, "os_platform": "linux", "os_arch": "amd64",
                "version": "v2.36.0", "command": "hasura metadata apply", "flags": ["--endpoint", "--admin-secret"],
                "is_error": true})
        )
    );
    assert_eq!(
        rows[1],
        (
            "command".to_owned(),
            true,
            json!({"uuid": CLI_UUID, "server_uuid": SERVER_UUID, "execution_id": "0b3f4c4e-1d2a-4c3b-8f00-000000000002",
                "os_platform": "darwin", "os_arch": "arm64", "version": "v1.3.3-beta.1", "server_version": "v1.3.3",
                "command": "hasura migrate status", "is_error": false})
        )
    );
    assert_eq!(rows[2].2["is_error"], false);
    // The error was dropped once; the empty server fields are no rejection.
    assert_eq!(rejections(&h), [rejection("hasura", "error", "free_text", 1)]);
    assert_nowhere(
        &h,
        &[
            "10.20.30.40",
            "/home/alice",
            "hasura-project",
            "connection refused",
            "/v1/metadata",
        ],
    );
}

/// A WebSocket to `/v1/ws` with `origin`.
fn connect(h: &Harness, query: &str, origin: &str) -> tungstenite::Result<WebSocket<MaybeTlsStream<TcpStream>>> {
    let mut request = format!("ws://{}/v1/ws{query}", h.addr()).into_client_request().unwrap();
    request.headers_mut().insert("Origin", origin.parse().unwrap());
    tungstenite::connect(request).map(|(socket, _)| socket)
}

/// Reads until the server's close frame; returns its code.
fn close_code(socket: &mut WebSocket<MaybeTlsStream<TcpStream>>) -> Option<CloseCode> {
    loop {
        match socket.read() {
            Ok(Message::Close(frame)) => return frame.map(|f| f.code),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

/// The close frame a page sends when it leaves (`WebSocket.close(1000)`).
fn normal_close() -> CloseFrame {
    CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    }
}

fn console_frame(topic: &str, data: &Value) -> Message {
    Message::text(json!({"data": data, "topic": topic}).to_string())
}

#[test]
fn the_console_of_each_generation_over_a_real_websocket() {
    let h = start();
    let mut socket = connect(&h, "", "http://localhost:8080").expect("the upgrade is accepted");
    // v1 (`telemetry/index.ts`): a Redux action, and a runtime error whose
    // stack names a path.
    socket
        .send(console_frame(
            "console",
            &json!({"server_version": "v1.3.3", "event_type": "ModifyTable/RESET",
                "url": "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify", "console_mode": "cli",
                "cli_uuid": CLI_UUID, "server_uuid": SERVER_UUID, "data": null}),
        ))
        .unwrap();
    socket
        .send(console_frame(
            "console_test",
            &json!({"server_version": "v2.0.0", "event_type": "RUN_TIME_ERROR",
                "url": "/data/billing_db/schema/SCHEMA_NAME/tables/TABLE_NAME/browse", "console_mode": "server",
                "cli_uuid": "", "server_uuid": SERVER_UUID,
                "data": {"message": "x is undefined", "stack": "at /home/alice/console/main.js:1"}}),
        ))
        .unwrap();
    // v2 (`telemetry/client.ts`): the source name left in by the console's
    // own anonymiser, and a route it does not touch at all.
    socket
        .send(console_frame(
            "console-v2",
            &json!({"server_version": "v2.36.0", "url": "/data/billing_db/schema/SCHEMA_NAME/tables/TABLE_NAME/modify",
                "console_mode": "server", "console_type": "oss", "cli_uuid": "", "server_uuid": SERVER_UUID,
                "event_type": "CLICK_EVENT", "event_data": {"id": "data-table-modify-save"}}),
        ))
        .unwrap();
    socket
        .send(console_frame(
            "console-test-v2",
            &json!({"server_version": "v2.36.0", "url": "/data/manage/source/billing_db/table/permissions",
                "console_mode": "cli", "console_type": "pro-lite", "cli_uuid": CLI_UUID, "server_uuid": SERVER_UUID,
                "event_type": "CONNECT_DB", "event_data": {"db_kind": "postgres", "entity_count": 3}}),
        ))
        .unwrap();
    socket.close(Some(normal_close())).unwrap();
    assert_eq!(close_code(&mut socket), Some(CloseCode::Normal));
    wait::until("four console events", || event_count(&h) == 4);

    let rows = rows(&h);
    let expected = [
        (
            false,
            json!({"server_version": "v1.3.3", "event_type": "ModifyTable/RESET",
                "url": "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify", "console_mode": "cli",
                "cli_uuid": CLI_UUID, "server_uuid": SERVER_UUID}),
        ),
        (
            true,
            json!({"server_version": "v2.0.0", "event_type": "RUN_TIME_ERROR",
                "url": "/data/DATABASE_NAME/schema/SCHEMA_NAME/tables/TABLE_NAME/browse", "console_mode": "server",
                "server_uuid": SERVER_UUID}),
        ),
        (
            false,
            json!({"server_version": "v2.36.0", "event_type": "CLICK_EVENT",
                "url": "/data/DATABASE_NAME/schema/SCHEMA_NAME/tables/TABLE_NAME/modify", "console_mode": "server",
                "console_type": "oss", "server_uuid": SERVER_UUID}),
        ),
        (
            true,
            json!({"server_version": "v2.36.0", "event_type": "CONNECT_DB",
                "url": "/data/manage/source/DATABASE_NAME/table/permissions", "console_mode": "cli",
                "console_type": "pro-lite", "cli_uuid": CLI_UUID, "server_uuid": SERVER_UUID}),
        ),
    ];
    assert_eq!(rows.len(), expected.len());
    for ((kind, test, fields), (want_test, want)) in rows.iter().zip(&expected) {
        assert_eq!((kind.as_str(), test, fields), ("console", want_test, want));
    }
    // The three non-empty `data`/`event_data` are dropped, counted, never stored.
    assert_eq!(rejections(&h), [rejection("hasura-ws", "event_data", "free_text", 3)]);
    assert_nowhere(
        &h,
        &[
            "billing_db",
            "/home/alice",
            "x is undefined",
            "data-table-modify-save",
            "entity_count",
        ],
    );
}

#[test]
fn websocket_limits_close_or_refuse_and_count() {
    let h = start();
    // A malformed Origin is refused before the upgrade.
    match connect(&h, "", "not an origin") {
        Err(tungstenite::Error::Http(r)) => assert_eq!(r.status(), 403),
        other => panic!("expected 403, got {other:?}"),
    }
    // An unregistered product is refused like on /v1/http.
    match connect(&h, "?product=ghost", "http://localhost:8080") {
        Err(tungstenite::Error::Http(r)) => assert_eq!(r.status(), 404),
        other => panic!("expected 404, got {other:?}"),
    }
    // A plain GET is not a WebSocket.
    let r = http::get(h.addr(), "/v1/ws");
    assert_eq!((r.status, r.error_code().as_str()), (400, "websocket_required"));

    // A binary frame closes the socket with 1003.
    let mut socket = connect(&h, "", "https://console.example.com").unwrap();
    socket.send(Message::binary(vec![1u8, 2, 3])).unwrap();
    assert_eq!(close_code(&mut socket), Some(CloseCode::Unsupported));

    // A frame over the body limit closes it with 1009.
    let mut socket = connect(&h, "", "http://127.0.0.1:9695").unwrap();
    let big = format!(
        r#"{{"topic": "console-v2", "data": {{"event_type": "{}"}}}}"#,
        "A".repeat(300 * 1024)
    );
    socket.send(Message::text(big)).unwrap();
    assert_eq!(close_code(&mut socket), Some(CloseCode::Size));

    // A frame that is not an envelope is counted and not stored; the socket
    // stays open and the next frame is stored.
    let mut socket = connect(&h, "", "null").unwrap();
    socket.send(Message::text("{not json")).unwrap();
    socket.send(Message::text(r#"{"topic": "nope", "data": {}}"#)).unwrap();
    socket
        .send(console_frame(
            "console-v2",
            &json!({"event_type": "CLICK_EVENT", "url": "/settings/about", "console_mode": "server"}),
        ))
        .unwrap();
    socket.close(Some(normal_close())).unwrap();
    assert_eq!(close_code(&mut socket), Some(CloseCode::Normal));
    wait::until("the good frame", || event_count(&h) == 1);
    assert_eq!(
        rejections(&h),
        [rejection("hasura-ws", "envelope", "invalid_format", 2)]
    );
    assert_eq!(rows(&h)[0].2["url"], "/settings/about");
}

#[test]
fn empty_ids_are_no_rejection_and_an_all_dropped_heartbeat_stores_no_row() {
    let h = start();
    let console = json!({"topic": "console-v2", "data": {"server_version": "", "url": "/data/manage",
        "console_mode": "server", "console_type": "oss", "cli_uuid": "", "server_uuid": "",
        "event_type": "CLICK_EVENT", "event_data": {}}});
    let r = http::exchange_one(h.addr(), &server_request(&h, &console.to_string(), "v2.36.0"));
    assert_eq!(r.json::<Value>(), json!({"stored": 1, "duplicates": 0, "dropped": 0}));
    assert!(rejections(&h).is_empty(), "{:?}", rejections(&h));

    // Nothing in this heartbeat can be kept: no row, the drops counted.
    let heartbeat = json!({"topic": "server_metrics_v2", "data": {"instance_uid": "host-db1",
        "hasura_version": "", "ci": "runner 10.9.8.7", "metrics": {}, "source_metadata": {"db_kind": "acme_billing"}}});
    let r = http::exchange_one(h.addr(), &server_request(&h, &heartbeat.to_string(), "v2.36.0"));
    assert_eq!(r.json::<Value>(), json!({"stored": 0, "duplicates": 0, "dropped": 3}));
    assert_eq!(event_count(&h), 1);
    assert_eq!(h.count("SELECT COUNT(*) FROM events WHERE kind = 'heartbeat'"), 0);
    assert_eq!(
        rejections(&h),
        [
            rejection("hasura", "ci", "ip_address", 1),
            rejection("hasura", "instance_uid", "invalid_signature", 1),
            rejection("hasura", "source_metadata", "invalid_format", 1),
        ]
    );
    assert_nowhere(&h, &["acme_billing", "10.9.8.7", "host-db1"]);
}

#[test]
fn frames_received_before_shutdown_are_committed_and_the_socket_is_told() {
    let h = start();
    let mut socket = connect(&h, "", "http://localhost:8080").unwrap();
    for i in 0..3 {
        socket
            .send(console_frame(
                "console-v2",
                &json!({"event_type": "CLICK_EVENT", "url": "/settings/about", "console_mode": "server",
                    "server_uuid": format!("0b3f4c4e-1d2a-4c3b-8f00-{i:012}")}),
            ))
            .unwrap();
    }
    let reader = std::thread::spawn(move || close_code(&mut socket));
    let dir = h.shutdown().expect("the collector's data directory");
    assert_eq!(reader.join().unwrap(), Some(CloseCode::Away));
    assert_eq!(
        db::count(dir.path(), "SELECT COUNT(*) FROM events WHERE product = 'hasura'"),
        3
    );
}

#[test]
fn websockets_have_their_own_share_of_the_connection_budget() {
    // A budget of 8 connections: 2 for WebSockets, 6 for plain requests.
    let h = Harness::start_configured(|c| c.max_connections = 8);
    h.register("hasura", "2.36.0");
    let first = connect(&h, "", "null").unwrap();
    let mut second = connect(&h, "", "null").unwrap();
    match connect(&h, "", "null") {
        Err(tungstenite::Error::Http(r)) => {
            assert_eq!(r.status(), 503);
            assert_eq!(r.headers()["retry-after"], "1");
        }
        other => panic!("expected 503, got {other:?}"),
    }
    // Plain requests are still served while the WebSockets are full.
    assert_eq!(http::get(h.addr(), "/healthz").status, 200);
    // A closed socket frees its place.
    second.close(Some(normal_close())).unwrap();
    assert_eq!(close_code(&mut second), Some(CloseCode::Normal));
    drop(second);
    wait::until("a place for a new socket", || connect(&h, "", "null").is_ok());
    drop(first);
}

#[test]
fn frames_faster_than_the_rate_close_the_socket_with_1008() {
    let h = start();
    let mut socket = connect(&h, "", "null").unwrap();
    // Far more than the burst (ws::FRAME_BURST) in one go: whatever the
    // refill while they are read, the socket is closed for its rate.
    let sent = 600;
    for _ in 0..sent {
        if socket.send(Message::text("not an envelope")).is_err() {
            break;
        }
    }
    assert_eq!(close_code(&mut socket), Some(CloseCode::Policy));
    // Every frame read before the close was counted; the rest were not read.
    let counted: u64 = rejections(&h).iter().map(|r| r.3).sum();
    assert!(
        (sonde_collector::events::ws::FRAME_BURST as u64..sent).contains(&counted),
        "{counted} of {sent} frames counted"
    );
}
