//! Hasura's telemetry envelope: `POST /v1/http` with `{"topic": T, "data": {…}}`.
//!
//! Hasura's server, CLI and console send this shape (see docs/compatibility.md
//! and Hasura's telemetry guide). [`decode`] turns one envelope into an
//! [`Event`] by mapping the topic to an [`EventKind`], renaming Hasura's
//! field names to the stored ones and running the [`allowlist`] validation.
//!
//! | topic | kind | test |
//! | --- | --- | --- |
//! | `server_metrics_v2` / `server_metrics_v2_test` | heartbeat | no / yes |
//! | `cli` / `cli_test` | command | no / yes |
//! | `console` / `console_test` | console | no / yes |
//!
//! Field names: the server's `metadata_db_uid` is stored as `db_uid` and
//! `hasura_version` as `version` (the names the seed's stored sample rows
//! use; both spellings are accepted). A sample row as Hasura's guide prints
//! it is accepted as it is: its `timestamp` becomes the event's
//! `occurred_at`, and its `id` (a row number of Hasura's own database) is
//! read and not stored.
//!
//! Hasura's clients send no event id. The stored id is derived: from
//! `execution_id` for CLI events (one execution is stored once, however often
//! it is posted), otherwise from the content and the receive time.

use std::hash::{Hash, Hasher};

use serde_json::{Map, Value};

use crate::allowlist;
use crate::dropped::{DropReason, Dropped};
use crate::event::{Event, EventKind};
use crate::product::ProductName;
use crate::routes::RouteTemplates;
use crate::shapes;
use crate::timefmt::parse_rfc3339_ms;
use crate::vocabulary::Vocabulary;

/// Largest `/v1/http` body the collector reads, in bytes.
pub const MAX_HASURA_BODY: usize = 256 * 1024;

/// One Hasura topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Topic {
    /// The topic name on the wire.
    pub name: &'static str,
    /// The kind of event it is stored as.
    pub kind: EventKind,
    /// A `_test` topic: stored, kept out of analytics by default.
    pub test: bool,
}

/// Every topic the collector accepts.
pub const TOPICS: &[Topic] = &[
    Topic {
        name: "server_metrics_v2",
        kind: EventKind::Heartbeat,
        test: false,
    },
    Topic {
        name: "server_metrics_v2_test",
        kind: EventKind::Heartbeat,
        test: true,
    },
    Topic {
        name: "cli",
        kind: EventKind::Command,
        test: false,
    },
    Topic {
        name: "cli_test",
        kind: EventKind::Command,
        test: true,
    },
    Topic {
        name: "console",
        kind: EventKind::Console,
        test: false,
    },
    Topic {
        name: "console_test",
        kind: EventKind::Console,
        test: true,
    },
];

/// The topic named `name`, if the collector accepts it.
pub fn topic(name: &str) -> Option<Topic> {
    TOPICS.iter().copied().find(|t| t.name == name)
}

/// Why an envelope was refused as a whole (nothing is stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HasuraError {
    /// The body was not JSON.
    #[error("body is not JSON: {0}")]
    NotJson(String),
    /// The body was not `{"topic": "...", "data": {...}}`.
    #[error("body must be an object {{\"topic\": string, \"data\": object}}")]
    BadEnvelope,
    /// The topic is not one the collector accepts.
    #[error("unknown topic; accepted: server_metrics_v2, cli, console and their _test variants")]
    UnknownTopic,
}

/// Decodes one `/v1/http` body into an event of `product`, with the values
/// dropped on the way. `routes` and `vocab` are the product's route
/// templates and vocabulary.
///
/// ```
/// use sonde_protocol::{hasura, routes, vocabulary, ProductName, EventKind};
/// let body = br#"{"topic": "cli_test", "data": {"command": "hasura version", "is_error": false, "password": "x"}}"#;
/// let product = ProductName::parse("hasura").unwrap();
/// let (event, dropped) = hasura::decode(body, product, &routes::RouteTemplates::new(), vocabulary::builtin("hasura"), 1_000).unwrap();
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
) -> Result<(Event, Vec<Dropped>), HasuraError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| HasuraError::NotJson(e.to_string()))?;
    let Value::Object(mut envelope) = value else {
        return Err(HasuraError::BadEnvelope);
    };
    let Some(Value::String(topic_name)) = envelope.remove("topic") else {
        return Err(HasuraError::BadEnvelope);
    };
    let topic = topic(&topic_name).ok_or(HasuraError::UnknownTopic)?;
    let Some(Value::Object(data)) = envelope.remove("data") else {
        return Err(HasuraError::BadEnvelope);
    };
    let mut dropped = Vec::new();
    // Anything besides topic and data in the envelope is unknown.
    for _ in envelope.keys() {
        dropped.push(Dropped {
            field: "*",
            reason: DropReason::UnknownField,
        });
    }
    let id = derive_id(topic, &data, received_at_ms);
    let mut data = data;
    data.remove("id");
    let occurred_at_ms = match data.remove("timestamp") {
        None | Some(Value::Null) => None,
        Some(Value::String(ts)) => match parse_rfc3339_ms(&ts) {
            Some(ms) => Some(ms),
            None => {
                dropped.push(Dropped {
                    field: "timestamp",
                    reason: DropReason::InvalidFormat,
                });
                None
            }
        },
        Some(_) => {
            dropped.push(Dropped {
                field: "timestamp",
                reason: DropReason::InvalidFormat,
            });
            None
        }
    };
    if topic.kind == EventKind::Heartbeat {
        rename(&mut data, "metadata_db_uid", "db_uid");
        rename(&mut data, "hasura_version", "version");
    }
    let fields = allowlist::validate(topic.kind, &data, routes, vocab, &mut dropped);
    let event = Event {
        id,
        kind: topic.kind,
        product,
        test: topic.test,
        occurred_at_ms,
        received_at_ms,
        fields,
    };
    Ok((event, dropped))
}

fn rename(data: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(v) = data.remove(from) {
        // When both spellings are sent, the stored name wins.
        data.entry(to.to_owned()).or_insert(v);
    }
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
        decode(
            v.to_string().as_bytes(),
            hasura(),
            &routes::builtin("hasura"),
            crate::vocabulary::builtin("hasura"),
            5,
        )
        .unwrap()
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
        assert_eq!(a.id, b.id);
        assert!(shapes::signature(&a.id).is_ok());
        let (c, _) = decode_value(json!({"topic": "console", "data": {"event_type": "X"}}));
        let (d, _) = decode(
            json!({"topic": "console", "data": {"event_type": "X"}})
                .to_string()
                .as_bytes(),
            hasura(),
            &RouteTemplates::new(),
            &Vocabulary::new(),
            6,
        )
        .unwrap();
        assert_ne!(c.id, d.id);
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
