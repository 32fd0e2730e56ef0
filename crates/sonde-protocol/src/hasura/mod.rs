//! Hasura's telemetry, every client and generation: the server's heartbeat
//! (`server`, `server_metrics_v2`), the CLI's command events (flat or
//! `{topic, data}`), the console's events (`console`, `console-v2`). The
//! server and the CLI `POST /v1/http`; the console sends the same envelope
//! as WebSocket text frames on `/v1/ws`. [`decode`] turns one envelope into
//! an [`Event`]: the topic gives the [`EventKind`] and the sender
//! ([`topics`]), the sender's module reads its fields into the stored names
//! ([`server`], [`cli`], [`console`]), and the [`allowlist`] validation
//! keeps what may be stored. What each generation sends, and what is kept:
//! docs/compatibility.md.
//!
//! | topic | kind | test |
//! | --- | --- | --- |
//! | `server`, `server_metrics_v2` (`_test`) | heartbeat | no (yes) |
//! | `cli` (`cli_test`) | command | no (yes) |
//! | `console`, `console-v2` (`console_test`, `console-test-v2`) | console | no (yes) |
//!
//! A sample row as Hasura's guide prints it is accepted as it is: its
//! `timestamp` becomes the event's `occurred_at`, and its `id` (a row number
//! of Hasura's own database) is read and not stored.
//!
//! Hasura's clients send no event id. The stored id is derived: from
//! `execution_id` for CLI events (one execution is stored once, however often
//! it is posted), otherwise from the content and the receive time. An
//! envelope of which no field could be kept gives no event: what was dropped
//! is still counted.

mod cli;
mod console;
mod server;
pub mod topics;
pub mod vocab;

use std::hash::{Hash, Hasher};

use serde_json::{Map, Value};

pub use topics::{topic, Sender, Topic, TOPICS};

use crate::allowlist;
use crate::dropped::{DropReason, Dropped};
use crate::event::{Event, EventKind};
use crate::product::ProductName;
use crate::routes::RouteTemplates;
use crate::shapes;
use crate::timefmt::parse_rfc3339_ms;
use crate::vocabulary::Vocabulary;

/// Largest `/v1/http` body (and `/v1/ws` frame or message) the collector
/// reads, in bytes.
pub const MAX_HASURA_BODY: usize = 256 * 1024;
/// Most frames one `/v1/ws` connection may send.
pub const WS_MAX_FRAMES_PER_CONNECTION: u64 = 10_000;
/// Sustained frames per second a `/v1/ws` connection may send.
pub const WS_FRAMES_PER_SECOND: f64 = 20.0;
/// Frames a `/v1/ws` connection may send at once before
/// [`WS_FRAMES_PER_SECOND`] applies.
pub const WS_FRAME_BURST: f64 = 200.0;
/// Seconds a `/v1/ws` connection may stay silent.
pub const WS_IDLE_TIMEOUT_SECS: u64 = 300;

/// Why an envelope was refused as a whole (nothing is stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HasuraError {
    /// The body was not JSON.
    #[error("body is not JSON: {0}")]
    NotJson(String),
    /// The body was not `{"topic": "...", "data": {...}}` (or a flat CLI
    /// object with its `topic`).
    #[error("body must be an object {{\"topic\": string, \"data\": object}}")]
    BadEnvelope,
    /// The topic is not one the collector accepts.
    #[error("unknown topic; accepted: server, server_metrics_v2, cli, console, console-v2 and their test variants")]
    UnknownTopic,
}

/// Decodes one envelope into an event of `product` (`None` when no field
/// could be kept), with the values dropped on the way. `routes` and `vocab`
/// are the product's route templates and vocabulary.
///
/// ```
/// use sonde_protocol::{hasura, routes, vocabulary, ProductName, EventKind};
/// // The current CLI's flat body.
/// let body = br#"{"topic": "cli_test", "command": "hasura version", "is_error": false, "server_uuid": "", "password": "x"}"#;
/// let product = ProductName::parse("hasura").unwrap();
/// let (event, dropped) = hasura::decode(body, product, &routes::RouteTemplates::new(), vocabulary::builtin("hasura"), 1_000).unwrap();
/// let event = event.unwrap();
/// assert_eq!(event.kind, EventKind::Command);
/// assert!(event.test);
/// assert_eq!(event.fields["command"], "hasura version");
/// assert_eq!(dropped.len(), 1); // "password", counted as an unknown field "*"
/// ```
pub fn decode(
    body: &[u8],
    product: ProductName,
    routes: &RouteTemplates,
    vocab: &Vocabulary,
    received_at_ms: i64,
) -> Result<(Option<Event>, Vec<Dropped>), HasuraError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| HasuraError::NotJson(e.to_string()))?;
    let Value::Object(mut envelope) = value else {
        return Err(HasuraError::BadEnvelope);
    };
    let Some(Value::String(topic_name)) = envelope.get("topic") else {
        return Err(HasuraError::BadEnvelope);
    };
    let topic = topic(topic_name).ok_or(HasuraError::UnknownTopic)?;
    let mut dropped = Vec::new();
    let mut data = match envelope.remove("data") {
        Some(Value::Object(data)) => {
            // Anything besides topic and data in the envelope is unknown.
            for name in envelope.keys() {
                if name != "topic" {
                    dropped.push(Dropped {
                        field: "*",
                        reason: DropReason::UnknownField,
                    });
                }
            }
            data
        }
        None if topic.sender == Sender::Cli => cli::flat_data(envelope),
        _ => return Err(HasuraError::BadEnvelope),
    };
    let id = derive_id(topic, &data, received_at_ms);
    data.remove("id");
    let occurred_at_ms = occurred_at(data.remove("timestamp"), &mut dropped);
    match topic.sender {
        Sender::ServerV1 | Sender::ServerV2 => server::normalize(&mut data, &mut dropped),
        Sender::ConsoleV1 | Sender::ConsoleV2 => console::normalize(&mut data),
        Sender::Cli => {}
    }
    let fields = allowlist::validate(topic.kind, &data, routes, vocab, &mut dropped);
    if fields.is_empty() {
        return Ok((None, dropped));
    }
    let event = Event {
        id,
        kind: topic.kind,
        product,
        test: topic.test,
        occurred_at_ms,
        received_at_ms,
        fields,
    };
    Ok((Some(event), dropped))
}

/// A sample row's `timestamp`, as Unix milliseconds.
fn occurred_at(ts: Option<Value>, dropped: &mut Vec<Dropped>) -> Option<i64> {
    let parsed = match ts {
        None | Some(Value::Null) => return None,
        Some(Value::String(ts)) => parse_rfc3339_ms(&ts),
        Some(_) => None,
    };
    if parsed.is_none() {
        dropped.push(Dropped {
            field: "timestamp",
            reason: DropReason::InvalidFormat,
        });
    }
    parsed
}

/// The stored id of an event that arrived without one.
fn derive_id(topic: Topic, data: &Map<String, Value>, received_at_ms: i64) -> String {
    if topic.kind == EventKind::Command {
        if let Some(exec) = data
            .get("execution_id")
            .and_then(Value::as_str)
            .and_then(|s| shapes::signature(s).ok())
        {
            return uuid_from_hash(&[topic.name, "execution", &exec]);
        }
    }
    let content = Value::Object(data.clone()).to_string();
    uuid_from_hash(&[topic.name, &content, &received_at_ms.to_string()])
}

/// 128 bits of two keyed SipHash runs over `parts`, in UUID layout.
fn uuid_from_hash(parts: &[&str]) -> String {
    let half = |salt: u8| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        salt.hash(&mut h);
        parts.hash(&mut h);
        h.finish()
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&half(1).to_be_bytes());
    bytes[8..].copy_from_slice(&half(2).to_be_bytes());
    crate::uuid::format(&bytes)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::routes;

    fn hasura() -> ProductName {
        ProductName::parse("hasura").unwrap()
    }

    fn decode_value(v: Value) -> (Event, Vec<Dropped>) {
        let (e, dropped) = decode(
            v.to_string().as_bytes(),
            hasura(),
            &routes::builtin("hasura"),
            crate::vocabulary::builtin("hasura"),
            5,
        )
        .unwrap();
        (e.expect("an event"), dropped)
    }

    #[test]
    fn seed_server_row_is_accepted_as_is() {
        let (e, dropped) = decode_value(json!({"topic": "server_metrics_v2", "data": {
            "id": 12, "timestamp": "2019-01-21T19:43:33.63838+00:00",
            "db_uid": "dddff371-dab2-450f-9969-235bca66dab1", "instance_uid": "6799360d-a431-40c5-9f68-24592a9f07df",
            "version": "v1.0.0-alpha36", "ci": "TRAVIS",
            "metrics": {"views": 1, "tables": 2, "functions": 1,
                "permissions": {"roles": 1, "delete": 2, "insert": 1, "select": 2, "update": 2},
                "relationships": {"auto": 2, "manual": 0}, "event_triggers": 0, "remote_schemas": 1}}}));
        assert!(dropped.is_empty(), "{dropped:?}");
        assert_eq!(e.kind, EventKind::Heartbeat);
        assert!(!e.test);
        assert_eq!(e.occurred_at_ms, Some(1_548_099_813_638));
        assert_eq!(e.fields["db_uid"], "dddff371-dab2-450f-9969-235bca66dab1");
        assert_eq!(e.fields["ci"], "TRAVIS");
        assert_eq!(e.fields["metrics"]["permissions"]["select"], 2);
        assert!(e.fields.get("id").is_none());
    }

    #[test]
    fn live_server_names_are_mapped() {
        let (e, dropped) = decode_value(json!({"topic": "server_metrics_v2_test", "data": {
            "metadata_db_uid": "dddff371-dab2-450f-9969-235bca66dab1", "hasura_version": "v2.36.0", "ci": null,
            "source_metadata": {"db_uid": "dddff371-dab2-450f-9969-235bca66dab2", "db_kind": "postgres", "db_version": "15.2"},
            "experimental_features": []}}));
        assert!(dropped.is_empty(), "{dropped:?}");
        assert!(e.test);
        assert_eq!(e.fields["db_uid"], "dddff371-dab2-450f-9969-235bca66dab1");
        assert_eq!(e.fields["version"], "v2.36.0");
        assert!(e.fields.get("ci").is_none());
    }

    #[test]
    fn cli_events_are_deduplicated_by_execution_id() {
        let row = json!({"topic": "cli", "data": {"execution_id": "ddfa9c33-0693-457d-9026-c7f456c43322", "command": "hasura version"}});
        let (a, _) = decode(
            row.to_string().as_bytes(),
            hasura(),
            &RouteTemplates::new(),
            &Vocabulary::new(),
            1,
        )
        .unwrap();
        let (b, _) = decode(
            row.to_string().as_bytes(),
            hasura(),
            &RouteTemplates::new(),
            &Vocabulary::new(),
            2,
        )
        .unwrap();
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.id, b.id);
        assert!(shapes::signature(&a.id).is_ok());
        let (c, _) = decode_value(json!({"topic": "console", "data": {"event_type": "CLICK_EVENT"}}));
        let (d, _) = decode(
            json!({"topic": "console", "data": {"event_type": "CLICK_EVENT"}})
                .to_string()
                .as_bytes(),
            hasura(),
            &RouteTemplates::new(),
            crate::vocabulary::builtin("hasura"),
            6,
        )
        .unwrap();
        assert_ne!(c.id, d.unwrap().id);
    }

    #[test]
    fn the_flat_cli_body_and_the_wrapped_one_are_the_same_event() {
        let fields = json!({"uuid": "e462ce20-42dd-40fd-9549-edfb92f80455", "execution_id": "ddfa9c33-0693-457d-9026-c7f456c43322",
            "os_platform": "linux", "os_arch": "amd64", "version": "v2.36.0", "server_uuid": "", "server_version": "",
            "command": "hasura migrate apply --endpoint", "is_error": true, "payload": null,
            "error": "Post \"http://10.1.2.3:8080/v1/metadata\": dial tcp 10.1.2.3:8080: connect: connection refused (/home/alice/project/config.yaml)"});
        let mut flat = fields.clone();
        flat["topic"] = json!("cli");
        let (a, da) = decode_value(flat);
        let (b, db) = decode_value(json!({"topic": "cli", "data": fields}));
        assert_eq!(a, b);
        assert_eq!(da, db);
        assert_eq!(a.fields["command"], "hasura migrate apply");
        assert_eq!(a.fields["flags"], json!(["--endpoint"]));
        assert!(a.fields.get("server_uuid").is_none());
        assert!(a.fields.get("error").is_none());
        // The error is counted once; the empty server fields are not drops.
        assert_eq!(
            da,
            [Dropped {
                field: "error",
                reason: DropReason::FreeText
            }]
        );
    }

    #[test]
    fn the_v1_server_topic_is_a_heartbeat() {
        let (e, dropped) = decode_value(json!({"topic": "server", "data": {
            "db_uid": "dddff371-dab2-450f-9969-235bca66dab1", "instance_uid": "6799360d-a431-40c5-9f68-24592a9f07df",
            "version": "v1.3.3", "ci": null,
            "metrics": {"tables": 3, "pg_version": 120_004, "actions": {"synchronous": 1}}}}));
        assert!(dropped.is_empty(), "{dropped:?}");
        assert_eq!(e.kind, EventKind::Heartbeat);
        assert_eq!(e.fields["source_metadata"]["db_version"], "120004");
        assert_eq!(e.fields["metrics"]["actions"]["synchronous"], 1);
    }

    #[test]
    fn an_envelope_with_nothing_to_keep_is_no_event() {
        let (e, dropped) = decode(
            br#"{"topic": "server_metrics_v2", "data": {"instance_uid": "not-a-uuid", "ci": "", "hostname": "db1"}}"#,
            hasura(),
            &RouteTemplates::new(),
            &Vocabulary::new(),
            1,
        )
        .unwrap();
        assert!(e.is_none());
        assert_eq!(dropped.len(), 2);
    }

    #[test]
    fn bad_envelopes_are_refused() {
        let r = RouteTemplates::new();
        let v = Vocabulary::new();
        assert!(matches!(
            decode(b"nope", hasura(), &r, &v, 1),
            Err(HasuraError::NotJson(_))
        ));
        assert_eq!(
            decode(b"[]", hasura(), &r, &v, 1).unwrap_err(),
            HasuraError::BadEnvelope
        );
        assert_eq!(
            decode(br#"{"topic":"x","data":{}}"#, hasura(), &r, &v, 1).unwrap_err(),
            HasuraError::UnknownTopic
        );
        assert_eq!(
            decode(br#"{"topic":"cli","data":[]}"#, hasura(), &r, &v, 1).unwrap_err(),
            HasuraError::BadEnvelope
        );
    }
}
