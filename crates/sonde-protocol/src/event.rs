//! Events: everything the collector stores besides usage pings — server
//! heartbeats, CLI command events, console events — in one shape.
//!
//! Every front door (Hasura's `/v1/http`, Sonde's native batch API) turns what
//! it received into [`Event`]s after validating it against the allowlist for
//! its [`EventKind`]; the storage pipeline only ever sees this type. `fields`
//! holds only allowlisted, validated values, so storing it as JSON is safe.

use crate::product::ProductName;

/// What an event describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A server's periodic metrics heartbeat (Hasura `server_metrics_v2`).
    Heartbeat,
    /// One CLI command execution (Hasura `cli`).
    Command,
    /// One console action (Hasura console events).
    Console,
}

impl EventKind {
    /// Every kind, in a stable order.
    pub const ALL: [EventKind; 3] = [EventKind::Heartbeat, EventKind::Command, EventKind::Console];

    /// A short stable name, as stored: `heartbeat`, `command`, `console`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Heartbeat => "heartbeat",
            EventKind::Command => "command",
            EventKind::Console => "console",
        }
    }

    /// The kind named `s`, the inverse of [`EventKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A validated event, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Client-generated id (a UUID); a retried batch carries the same ids and
    /// is stored once. Front doors without ids derive one from the content.
    pub id: String,
    /// What the event describes.
    pub kind: EventKind,
    /// The product that sent it.
    pub product: ProductName,
    /// A test or development build (`*_test` topics): stored, but kept out of
    /// analytics by default.
    pub test: bool,
    /// When the client says it happened, Unix milliseconds, if it said.
    pub occurred_at_ms: Option<i64>,
    /// When the collector received it, Unix milliseconds (server clock).
    pub received_at_ms: i64,
    /// The allowlisted, validated fields of this kind.
    pub fields: serde_json::Map<String, serde_json::Value>,
}
