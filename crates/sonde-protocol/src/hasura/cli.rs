//! The CLI's two envelope shapes.
//!
//! The current CLI posts its event flat, `{uuid, server_uuid, execution_id,
//! os_platform, os_arch, version, server_version, command, is_error, error,
//! payload, topic}`, from Go's `net/http` with no Content-Type; older CLIs
//! wrapped the same fields as `{"topic": "cli", "data": {...}}`. Both give
//! the same `data`. `server_uuid` and `server_version` are `""` when the CLI
//! talked to no server: an empty string counts as absent (see
//! [`crate::allowlist`]). `error`, when set, is a whole serialised Go error
//! (URLs, IP addresses, paths): the allowlist accepts it and never stores it.

use serde_json::{Map, Value};

/// The `data` of a flat CLI body: every field but `topic`.
pub(super) fn flat_data(envelope: Map<String, Value>) -> Map<String, Value> {
    let mut data = envelope;
    data.remove("topic");
    data
}
