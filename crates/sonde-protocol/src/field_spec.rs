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
    /// A version: an optional `v`, one to four numeric parts, an optional
    /// `-` pre-release and `+` build of at most eight `[0-9A-Za-z-]`
    /// identifiers each (`v2.0.0-rc.1`, `2.38.0-beta.1+build.5`).
    Version,
    /// A database's version text, stored reduced to its product words and
    /// version (`PostgreSQL 15.2 on x86_64-pc-linux-gnu, …` → `PostgreSQL 15.2`).
    DbVersion,
    /// An operating system name from a closed list (Go's GOOS, Node's
    /// `process.platform`, Rust's `std::env::consts::OS`), stored lower-case.
    Os,
    /// An architecture name from a closed list (Go's GOARCH, Node's
    /// `process.arch`, Rust's `std::env::consts::ARCH`, `uname -m`), stored
    /// lower-case.
    Arch,
    /// A CI vendor from the CI table, by name or alias (`TRAVIS`, `GitHub Actions`).
    CiName,
    /// `true` or `false` (also `"true"`/`"false"`).
    Boolean,
    /// A non-negative integer number of milliseconds.
    DurationMs,
    /// A short lower-case token: `[a-z0-9_-]`.
    Token,
    /// A database kind: one the product registered, or a token.
    DbKind,
    /// How a console is served: `server` or `cli`.
    ConsoleMode,
    /// A console edition: one of Hasura's (`oss`, `cloud`, `pro`, `pro-lite`).
    ConsoleType,
    /// A Hasura backend: one of its backend type names (`postgres`,
    /// `mssql`, `dataconnector`, ...).
    BackendKind,
    /// A console event type (`ModifyTable/RESET`): one the product
    /// registered, or (none registered) segments in PascalCase or
    /// UPPER_SNAKE joined by `/`.
    Action,
    /// A command path plus flag names (`hasura migrate apply --endpoint`):
    /// the path is a registered command path, or (none registered) words of
    /// `[a-z][a-z0-9_-]*`; flag values and positional arguments are dropped.
    Command,
    /// A list of flag names (`["--endpoint", "-v"]`): registered ones, or
    /// (none registered) `--[A-Za-z0-9][A-Za-z0-9._-]*`.
    FlagNames,
    /// A route, stored as the registered route template it matches.
    RouteTemplate,
    /// An object whose leaves are numbers or booleans only; its keys, as
    /// dotted paths, are registered metrics keys, or (none registered)
    /// `[a-z][a-z0-9_]*`.
    Metrics,
    /// An object with its own allowlist (see `fields`).
    Object,
    /// A list of experimental feature names: registered ones, or tokens.
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

impl FieldType {
    /// Every type, in a stable order.
    pub const ALL: [FieldType; 27] = [
        FieldType::Uuid,
        FieldType::Version,
        FieldType::DbVersion,
        FieldType::Os,
        FieldType::Arch,
        FieldType::CiName,
        FieldType::Boolean,
        FieldType::DurationMs,
        FieldType::Token,
        FieldType::DbKind,
        FieldType::ConsoleMode,
        FieldType::ConsoleType,
        FieldType::BackendKind,
        FieldType::Action,
        FieldType::Command,
        FieldType::FlagNames,
        FieldType::RouteTemplate,
        FieldType::Metrics,
        FieldType::Object,
        FieldType::TokenList,
        FieldType::NeverStored,
        FieldType::Runtime,
        FieldType::Product,
        FieldType::Integer,
        FieldType::Timestamp,
        FieldType::ScrubbedText,
        FieldType::ObjectList,
    ];

    /// The type's name as published (`snake_case`).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Uuid => "uuid",
            FieldType::Version => "version",
            FieldType::DbVersion => "db_version",
            FieldType::Os => "os",
            FieldType::Arch => "arch",
            FieldType::CiName => "ci_name",
            FieldType::Boolean => "boolean",
            FieldType::DurationMs => "duration_ms",
            FieldType::Token => "token",
            FieldType::DbKind => "db_kind",
            FieldType::ConsoleMode => "console_mode",
            FieldType::ConsoleType => "console_type",
            FieldType::BackendKind => "backend_kind",
            FieldType::Action => "action",
            FieldType::Command => "command",
            FieldType::FlagNames => "flag_names",
            FieldType::RouteTemplate => "route_template",
            FieldType::Metrics => "metrics",
            FieldType::Object => "object",
            FieldType::TokenList => "token_list",
            FieldType::NeverStored => "never_stored",
            FieldType::Runtime => "runtime",
            FieldType::Product => "product",
            FieldType::Integer => "integer",
            FieldType::Timestamp => "timestamp",
            FieldType::ScrubbedText => "scrubbed_text",
            FieldType::ObjectList => "object_list",
        }
    }

    /// The rule a value of this type must follow, as published.
    pub fn rule(self) -> &'static str {
        match self {
            FieldType::Uuid => "8-4-4-4-12 hex digits, stored lower-case",
            FieldType::Version => {
                "optional v, 1-4 numeric parts, optional -pre-release and +build of at most 8 [0-9A-Za-z-] identifiers (<= 32 bytes each); nothing identifying"
            }
            FieldType::DbVersion => {
                "reduced to the leading database product words and the first version (PostgreSQL 15.2); nothing identifying"
            }
            FieldType::Os => "a known operating system name (os_names), stored lower-case",
            FieldType::Arch => "a known architecture name (arch_names), stored lower-case",
            FieldType::CiName => "a CI vendor of ci_vendors, by name or alias",
            FieldType::Boolean => "true or false",
            FieldType::DurationMs => "a non-negative integer number of milliseconds",
            FieldType::Token => "[a-z0-9_-], nothing identifying",
            FieldType::DbKind => "a registered db kind, else [a-z0-9_-]",
            FieldType::ConsoleMode => "server or cli",
            FieldType::ConsoleType => "oss, cloud, pro or pro-lite",
            FieldType::BackendKind => {
                "a Hasura backend type: postgres, citus, cockroach, mssql, bigquery, mysql, sqlite or dataconnector"
            }
            FieldType::Action => {
                "a registered event type, else <= 4 /-separated PascalCase or UPPER_SNAKE segments (optional @@module/ prefix)"
            }
            FieldType::Command => {
                "a registered command path, else [a-z][a-z0-9_-]* words; flag names move to flags; values and arguments dropped"
            }
            FieldType::FlagNames => "registered flag names, else --[A-Za-z0-9][A-Za-z0-9._-]*",
            FieldType::RouteTemplate => "reduced to the registered route template it matches",
            FieldType::Metrics => {
                "number or boolean leaves; keys as dotted paths are registered metric keys, else [a-z][a-z0-9_]* segments"
            }
            FieldType::Object => "an object with its own allowlist",
            FieldType::TokenList => "registered experimental features, else [a-z0-9_-] tokens",
            FieldType::NeverStored => "accepted, never stored",
            FieldType::Runtime => "an optional runtime name and a version (1.89.0, rustc 1.95.0, v20.20.2, go1.22.3)",
            FieldType::Product => "a product name: [a-z0-9][a-z0-9._-]*, registered on the collector",
            FieldType::Integer => "a non-negative integer, at most max",
            FieldType::Timestamp => "RFC 3339 or Unix milliseconds",
            FieldType::ScrubbedText => {
                "free text, every identifying span replaced by [redacted:<kind>] (home ~, user <user>, host <host>), cut to max bytes"
            }
            FieldType::ObjectList => "a list of at most max objects, each with its own allowlist",
        }
    }
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
        FieldType::BackendKind,
        Some(MAX_TOKEN_LEN as u64),
        "Hasura backend (postgres, citus, cockroach, mssql, bigquery, mysql, dataconnector)",
    ),
    f(
        "db_kind",
        FieldType::DbKind,
        Some(MAX_TOKEN_LEN as u64),
        "database kind (postgres, mssql, a published data connector's name, ...)",
    ),
    f(
        "db_version",
        FieldType::DbVersion,
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
    f("os", FieldType::Os, Some(32), "operating system"),
    f("arch", FieldType::Arch, Some(32), "CPU architecture"),
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
    f("os_platform", FieldType::Os, Some(32), "operating system"),
    f("os_arch", FieldType::Arch, Some(32), "CPU architecture"),
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
        FieldType::ConsoleMode,
        Some(MAX_TOKEN_LEN as u64),
        "server or cli",
    ),
    f(
        "console_type",
        FieldType::ConsoleType,
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
