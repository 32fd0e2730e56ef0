//! The published description of every allowlist, served at
//! `GET /api/v1/schema`: the fields of each kind with their types and limits,
//! Hasura's topics, the native batch limits, the rule of every field type,
//! the closed lists (OS and architecture names, CI vendors), the vocabulary
//! kinds a product can register, and every drop reason.

use serde::Serialize;

use crate::dropped::DropReason;
use crate::event::EventKind;
use crate::field_spec::{fields_of, FieldSpec, FieldType};
use crate::limits::{MAX_METRICS_DEPTH, MAX_METRICS_KEY_LEN, MAX_METRICS_LEAVES};
use crate::vocabulary::WordKind;
use crate::{error_report, hasura, native};

/// The allowlist of one kind, as published.
#[derive(Debug, Clone, Serialize)]
pub struct KindSchema {
    /// The kind's stored name (`heartbeat`, `command`, `console`).
    pub kind: &'static str,
    /// Its fields.
    pub fields: &'static [FieldSpec],
}

/// A Hasura topic, as published.
#[derive(Debug, Clone, Serialize)]
pub struct TopicSchema {
    /// The topic name (`server_metrics_v2`).
    pub topic: &'static str,
    /// The kind it is stored as.
    pub kind: &'static str,
    /// Whether it is a test topic (stored, kept out of analytics by default).
    pub test: bool,
    /// Where its clients send it: `POST /v1/http` or `GET /v1/ws` (WebSocket
    /// text frames).
    pub transport: &'static str,
}

/// Everything `GET /api/v1/schema` publishes: what is stored, with types and
/// limits, and why anything else is dropped.
#[derive(Debug, Clone, Serialize)]
pub struct Schema {
    /// Version of this description; bumped when fields change.
    pub schema_version: u32,
    /// The allowlist per event kind.
    pub kinds: Vec<KindSchema>,
    /// Hasura's topics (`/v1/http` and `/v1/ws`) and the kinds they become.
    pub hasura_topics: Vec<TopicSchema>,
    /// Limits of Hasura's two doors.
    pub hasura: HasuraLimits,
    /// Limits of the native batch API.
    pub native: NativeLimits,
    /// Limits of `metrics` objects.
    pub metrics: MetricsLimits,
    /// The rule of every field type.
    pub types: Vec<TypeRule>,
    /// Operating system names an `os` field accepts.
    pub os_names: &'static [&'static str],
    /// Architecture names an `arch` field accepts.
    pub arch_names: &'static [&'static str],
    /// CI vendor names a `ci` field accepts (aliases too, see docs/events.md).
    pub ci_vendors: Vec<&'static str>,
    /// The kinds of words a product can register (`POST /api/v1/vocabulary`).
    pub vocabulary_kinds: Vec<&'static str>,
    /// Every reason a value may be dropped for.
    pub drop_reasons: Vec<&'static str>,
    /// Fields never stored from any front door.
    pub never_stored: &'static [&'static str],
    /// The error report format and its limits.
    pub error_reports: ErrorReportSchema,
}

/// `POST /api/v1/error-reports`, as published.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReportSchema {
    /// The endpoint.
    pub endpoint: &'static str,
    /// Every `schema` the collector reads.
    pub schema_versions: &'static [u64],
    /// Largest body, after gzip decoding, in bytes.
    pub max_body_bytes: usize,
    /// Every field: the envelope and free text first, then the context.
    pub fields: Vec<&'static FieldSpec>,
}

/// Limits of `POST /v1/http` and `GET /v1/ws`, as published.
#[derive(Debug, Clone, Serialize)]
pub struct HasuraLimits {
    /// The server's and the CLI's endpoint.
    pub http_endpoint: &'static str,
    /// The console's WebSocket endpoint (one text frame per event).
    pub ws_endpoint: &'static str,
    /// Largest body or frame, in bytes (after gzip decoding for bodies).
    pub max_body_bytes: usize,
    /// Most frames on one WebSocket connection.
    pub ws_max_frames_per_connection: u64,
    /// Sustained frames per second on one connection.
    pub ws_frames_per_second: f64,
    /// Frames one connection may send at once.
    pub ws_frame_burst: f64,
    /// Seconds a connection may stay silent.
    pub ws_idle_timeout_secs: u64,
}

/// A field type and its rule, as published.
#[derive(Debug, Clone, Serialize)]
pub struct TypeRule {
    /// The type's name.
    #[serde(rename = "type")]
    pub ty: &'static str,
    /// What a value must be to be stored.
    pub rule: &'static str,
}

/// Limits of `POST /api/v1/events`, as published.
#[derive(Debug, Clone, Serialize)]
pub struct NativeLimits {
    /// The endpoint.
    pub endpoint: &'static str,
    /// Most events per request.
    pub max_events: usize,
    /// Largest body, after gzip decoding, in bytes.
    pub max_body_bytes: usize,
}

/// Limits of `metrics` objects, as published.
#[derive(Debug, Clone, Serialize)]
pub struct MetricsLimits {
    /// Deepest nesting.
    pub max_depth: usize,
    /// Most leaves.
    pub max_leaves: usize,
    /// Longest key.
    pub max_key_len: usize,
}

/// The description of every allowlist, served at `GET /api/v1/schema`.
pub fn schema() -> Schema {
    Schema {
        schema_version: 2,
        kinds: EventKind::ALL
            .into_iter()
            .map(|k| KindSchema {
                kind: k.as_str(),
                fields: fields_of(k),
            })
            .collect(),
        hasura_topics: hasura::TOPICS
            .iter()
            .map(|t| TopicSchema {
                topic: t.name,
                kind: t.kind.as_str(),
                test: t.test,
                transport: match t.sender {
                    hasura::Sender::ConsoleV1 | hasura::Sender::ConsoleV2 => "GET /v1/ws",
                    hasura::Sender::ServerV1 | hasura::Sender::ServerV2 | hasura::Sender::Cli => "POST /v1/http",
                },
            })
            .collect(),
        hasura: HasuraLimits {
            http_endpoint: "/v1/http",
            ws_endpoint: "/v1/ws",
            max_body_bytes: hasura::MAX_HASURA_BODY,
            ws_max_frames_per_connection: hasura::WS_MAX_FRAMES_PER_CONNECTION,
            ws_frames_per_second: hasura::WS_FRAMES_PER_SECOND,
            ws_frame_burst: hasura::WS_FRAME_BURST,
            ws_idle_timeout_secs: hasura::WS_IDLE_TIMEOUT_SECS,
        },
        native: NativeLimits {
            endpoint: "/api/v1/events",
            max_events: native::MAX_BATCH_EVENTS,
            max_body_bytes: native::MAX_BATCH_BYTES,
        },
        metrics: MetricsLimits {
            max_depth: MAX_METRICS_DEPTH,
            max_leaves: MAX_METRICS_LEAVES,
            max_key_len: MAX_METRICS_KEY_LEN,
        },
        types: FieldType::ALL
            .iter()
            .map(|t| TypeRule {
                ty: t.as_str(),
                rule: t.rule(),
            })
            .collect(),
        os_names: crate::platforms::OS_NAMES,
        arch_names: crate::platforms::ARCH_NAMES,
        ci_vendors: crate::ci::VENDORS.iter().map(|v| v.name).collect(),
        vocabulary_kinds: WordKind::ALL.iter().map(|k| k.as_str()).collect(),
        drop_reasons: DropReason::ALL.iter().map(|r| r.as_str()).collect(),
        never_stored: &[
            "client IP address",
            "names of unknown fields",
            "flag values and positional arguments",
            "concrete route paths",
            "error messages and payloads (of events; error reports keep theirs, scrubbed)",
            "console event data",
            "names a user chose (database sources, data connectors)",
        ],
        error_reports: ErrorReportSchema {
            endpoint: error_report::ENDPOINT,
            schema_versions: error_report::SUPPORTED_SCHEMAS,
            max_body_bytes: error_report::MAX_REPORT_BYTES,
            fields: error_report::REPORT_FIELDS
                .iter()
                .chain(error_report::CONTEXT_FIELDS)
                .collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn schema_lists_every_kind_and_serializes() {
        let s = serde_json::to_value(schema()).unwrap();
        assert_eq!(s["kinds"].as_array().unwrap().len(), 3);
        assert_eq!(s["kinds"][0]["fields"][6]["type"], "metrics");
        assert!(s["drop_reasons"].as_array().unwrap().contains(&json!("unknown_route")));
        assert_eq!(s["hasura_topics"].as_array().unwrap().len(), 10);
        assert_eq!(s["hasura"]["ws_endpoint"], "/v1/ws");
        let console = &s["kinds"][2]["fields"];
        assert!(console.as_array().unwrap().iter().any(|f| f["name"] == "console_type"));
        assert_eq!(s["error_reports"]["endpoint"], "/api/v1/error-reports");
        assert_eq!(s["error_reports"]["fields"][0]["name"], "schema");
        assert!(s["drop_reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("not_in_vocabulary")));
        // Every type named by a field has its rule published under the same name.
        let types: Vec<&str> = s["types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["type"].as_str().unwrap())
            .collect();
        for kind in s["kinds"].as_array().unwrap() {
            for f in kind["fields"].as_array().unwrap() {
                assert!(types.contains(&f["type"].as_str().unwrap()), "{f}");
            }
        }
        assert!(s["os_names"].as_array().unwrap().contains(&json!("linux")));
    }
}
