//! The allowlist of each [`EventKind`], as data: which fields an event may
//! carry, their types and their limits.
//!
//! [`crate::allowlist`] validates events against these tables and
//! [`crate::schema`] publishes them.

use serde::Serialize;

use crate::event::EventKind;
use crate::limits::{
    MAX_ACTION_LEN, MAX_COMMAND_LEN, MAX_DB_VERSION_LEN, MAX_DURATION_MS, MAX_FEATURES, MAX_FLAGS, MAX_METRICS_LEAVES,
    MAX_TOKEN_LEN,
};
use crate::routes::MAX_ROUTE_LEN;

/// The type of an allowlisted field, as published by `GET /api/v1/schema`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// A random id in UUID layout (8-4-4-4-12 hex), stored lower-case.
    Uuid,
    /// A version string: `[A-Za-z0-9.+_-]`.
    Version,
    /// An OS or architecture name: `[A-Za-z0-9._-]`, stored lower-case.
    Platform,
    /// A CI vendor name (`TRAVIS`, `GitHub Actions`).
    CiName,
    /// `true` or `false` (also `"true"`/`"false"`).
    Boolean,
    /// A non-negative integer number of milliseconds.
    DurationMs,
    /// A short lower-case token: `[a-z0-9_-]`.
    Token,
    /// A console action name (`ModifyTable/RESET`): `[A-Za-z0-9_/:.@-]`.
    Action,
    /// A command path plus flag names (`hasura migrate apply --endpoint`):
    /// flag values and positional arguments are dropped.
    Command,
    /// A list of flag names (`["--endpoint", "-v"]`).
    FlagNames,
    /// A route, stored as the registered route template it matches.
    RouteTemplate,
    /// An object whose leaves are numbers or booleans only.
    Metrics,
    /// An object with its own allowlist (see `fields`).
    Object,
    /// A list of short tokens.
    TokenList,
    /// Free text or a payload: accepted on the wire, never stored.
    NeverStored,
    /// A runtime version (`1.89.0`, `rustc 1.95.0`).
    Runtime,
    /// A product name.
    Product,
    /// A non-negative integer, at most `max`.
    Integer,
    /// RFC 3339 or Unix milliseconds.
    Timestamp,
    /// Free text (an error message, a function name, a file path), scrubbed
    /// of identifying spans ([`crate::scrub`]) and cut to `max` bytes.
    ScrubbedText,
    /// A list of at most `max` objects, each with its own allowlist (see
    /// `fields`).
    ObjectList,
}

/// One allowlisted field.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FieldSpec {
    /// The field's name, as sent and stored.
    pub name: &'static str,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// Longest value in bytes (strings), or most entries (lists, leaves).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
    /// What it holds.
    pub description: &'static str,
    /// For [`FieldType::Object`]: the allowlist of its own fields.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub fields: &'static [FieldSpec],
}

pub(crate) const fn f(name: &'static str, ty: FieldType, max: Option<u64>, description: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        max,
        description,
        fields: &[],
    }
}

const SOURCE_METADATA: &[FieldSpec] = &[
    f("db_uid", FieldType::Uuid, None, "random id of the database"),
    f(
        "backend_type",
        FieldType::Token,
        Some(MAX_TOKEN_LEN as u64),
        "Hasura backend (postgres, citus, cockroach, mssql, bigquery, mysql, dataconnector)",
    ),
    f(
        "db_kind",
        FieldType::Token,
        Some(MAX_TOKEN_LEN as u64),
        "database kind (postgres, mssql, a published data connector's name, ...)",
    ),
    f(
        "db_version",
        FieldType::Version,
        Some(MAX_DB_VERSION_LEN as u64),
        "database server version text (Hasura v1.x: metrics.pg_version)",
    ),
];

const HEARTBEAT: &[FieldSpec] = &[
    f(
        "instance_uid",
        FieldType::Uuid,
        None,
        "random id of the server instance, kept by the server",
    ),
    f(
        "db_uid",
        FieldType::Uuid,
        None,
        "random id of the metadata database (Hasura: metadata_db_uid)",
    ),
    f(
        "version",
        FieldType::Version,
        Some(64),
        "server version (Hasura: hasura_version)",
    ),
    f("ci", FieldType::CiName, Some(64), "CI vendor name, if running in CI"),
    f("os", FieldType::Platform, Some(32), "operating system"),
    f("arch", FieldType::Platform, Some(32), "CPU architecture"),
    f(
        "metrics",
        FieldType::Metrics,
        Some(MAX_METRICS_LEAVES as u64),
        "counts and flags: nested objects (depth <= 4) with number or boolean leaves",
    ),
    FieldSpec {
        name: "source_metadata",
        ty: FieldType::Object,
        max: None,
        description: "the database the server uses",
        fields: SOURCE_METADATA,
    },
    f(
        "experimental_features",
        FieldType::TokenList,
        Some(MAX_FEATURES as u64),
        "names of enabled experimental features",
    ),
];

const COMMAND: &[FieldSpec] = &[
    f("uuid", FieldType::Uuid, None, "random id of the CLI installation"),
    f("execution_id", FieldType::Uuid, None, "random id of this execution"),
    f("version", FieldType::Version, Some(64), "CLI version"),
    f(
        "command",
        FieldType::Command,
        Some(MAX_COMMAND_LEN as u64),
        "command path; flag names found in it move to `flags`",
    ),
    f(
        "flags",
        FieldType::FlagNames,
        Some(MAX_FLAGS as u64),
        "names of the flags used, never their values",
    ),
    f("is_error", FieldType::Boolean, None, "whether the command failed"),
    f(
        "duration_ms",
        FieldType::DurationMs,
        Some(MAX_DURATION_MS),
        "how long the command ran",
    ),
    f("os_platform", FieldType::Platform, Some(32), "operating system"),
    f("os_arch", FieldType::Platform, Some(32), "CPU architecture"),
    f("ci", FieldType::CiName, Some(64), "CI vendor name, if running in CI"),
    f(
        "server_uuid",
        FieldType::Uuid,
        None,
        "random id of the server the CLI talked to",
    ),
    f(
        "server_version",
        FieldType::Version,
        Some(64),
        "version of the server the CLI talked to",
    ),
    f(
        "error",
        FieldType::NeverStored,
        None,
        "error message: accepted, never stored",
    ),
    f(
        "payload",
        FieldType::NeverStored,
        None,
        "payload: accepted, never stored",
    ),
];

const CONSOLE: &[FieldSpec] = &[
    f(
        "url",
        FieldType::RouteTemplate,
        Some(MAX_ROUTE_LEN as u64),
        "route template of the page (never a concrete path)",
    ),
    f(
        "event_type",
        FieldType::Action,
        Some(MAX_ACTION_LEN as u64),
        "action name (Redux action type)",
    ),
    f(
        "console_mode",
        FieldType::Token,
        Some(MAX_TOKEN_LEN as u64),
        "server or cli",
    ),
    f(
        "console_type",
        FieldType::Token,
        Some(MAX_TOKEN_LEN as u64),
        "console edition (oss, cloud, pro, pro-lite)",
    ),
    f("version", FieldType::Version, Some(64), "console version"),
    f(
        "server_uuid",
        FieldType::Uuid,
        None,
        "random id of the server the console is connected to",
    ),
    f("server_version", FieldType::Version, Some(64), "version of that server"),
    f(
        "cli_uuid",
        FieldType::Uuid,
        None,
        "random id of the CLI serving the console, if any",
    ),
    f(
        "event_data",
        FieldType::NeverStored,
        None,
        "the event's free-form data (Hasura console v1: data): accepted, never stored",
    ),
];

/// The allowlist of `kind`.
pub fn fields_of(kind: EventKind) -> &'static [FieldSpec] {
    match kind {
        EventKind::Heartbeat => HEARTBEAT,
        EventKind::Command => COMMAND,
        EventKind::Console => CONSOLE,
    }
}
