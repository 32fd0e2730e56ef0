//! What Hasura's clients send, as plain data: the metric keys of every
//! server generation, the CLI's command paths and flags, the console's event
//! types, the experimental feature names and the database kinds.
//!
//! Read from Hasura's source (hasura/graphql-engine); each list names its
//! files. The lists are data only: the decoder uses [`BACKEND_KINDS`],
//! [`DB_KINDS`] and the service-timing dimensions, and the strict per-product
//! checks can use the rest.

/// Dotted paths of every `metrics` key a Hasura server sends.
///
/// From `server/src-lib/Hasura/Server/Telemetry.hs` (v1.x: `Metrics` with
/// `pg_version` inside) and `server/src-lib/Hasura/Server/Telemetry/Types.hs`
/// (v2: `RelationshipMetric`, `PermissionMetric`, `ActionMetric`,
/// `NativeQueriesMetrics`, `StoredProceduresMetrics`, `LogicalModelsMetrics`),
/// field names after `hasuraJSON` (`aesonPrefix snakeCase`). `service_timings`
/// is stored reshaped (see [`SERVICE_TIMING_QUERY_TYPES`]): its entries are
/// `service_timings.<query_type>_<locality>_<transport>.<bucket>.{count,time_i_o,time_tot}`.
pub const METRIC_KEYS: &[&str] = &[
    "tables",
    "views",
    "enum_tables",
    "relationships.manual",
    "relationships.auto",
    "permissions.select",
    "permissions.insert",
    "permissions.update",
    "permissions.delete",
    "permissions.roles",
    "event_triggers",
    "functions",
    "remote_schemas",
    "pg_version",
    "service_timings",
    "actions.synchronous",
    "actions.asynchronous",
    "actions.query_actions",
    "actions.type_relationships",
    "actions.custom_types",
    "native_queries.with_parameters",
    "native_queries.without_parameters",
    "stored_procedures.with_parameters",
    "stored_procedures.without_parameters",
    "logical_models.count",
];

/// `query_type` values of a service timing (`QueryType` in
/// `server/src-lib/Hasura/Server/Telemetry/Counters.hs`), as sent.
pub const SERVICE_TIMING_QUERY_TYPES: &[&str] = &["Mutation", "Query"];

/// `locality` values of a service timing (`Locality`, same file).
pub const SERVICE_TIMING_LOCALITIES: &[&str] = &["Empty", "Local", "Remote", "Heterogeneous"];

/// `transport` values of a service timing (`Transport`, same file).
pub const SERVICE_TIMING_TRANSPORTS: &[&str] = &["HTTP", "WebSocket"];

/// The running-time buckets of a service timing, in seconds, and the key each
/// is stored under (`totalTimeBuckets`, same file).
pub const SERVICE_TIMING_BUCKETS: &[(f64, &str)] = &[
    (0.0, "gt_0"),
    (0.001, "gt_0_001"),
    (0.05, "gt_0_05"),
    (1.0, "gt_1"),
    (3600.0, "gt_3600"),
];

/// The fields of one service timing's counters (`RequestTimingsCount`, same
/// file, after `hasuraJSON`).
pub const SERVICE_TIMING_COUNTERS: &[&str] = &["count", "time_i_o", "time_tot"];

/// `source_metadata.backend_type` values: `BackendType`'s names in
/// `server/src-lib/Hasura/RQL/Types/BackendType.hs` (earlier
/// `server/src-lib/Hasura/SQL/Backend.hs`), every generation.
pub const BACKEND_KINDS: &[&str] = &[
    "postgres",
    "citus",
    "cockroach",
    "mssql",
    "bigquery",
    "mysql",
    "sqlite",
    "dataconnector",
];

/// `console_type` values of the v2 console: its editions (`ConsoleType` in
/// `frontend/libs/console/legacy-ce/src/lib/Globals`).
pub const CONSOLE_TYPES: &[&str] = &["oss", "cloud", "pro", "pro-lite"];

/// `source_metadata.db_kind` values kept. For built-in backends it is the
/// backend's name; for a data connector it is the connector's name from the
/// user's metadata (`toTxt (_siSourceKind sourceInfo)` in
/// `server/src-lib/Hasura/Server/Telemetry.hs`), which a user may choose
/// freely, so only the names of Hasura's published connectors are kept.
pub const DB_KINDS: &[&str] = &[
    "postgres",
    "pg",
    "citus",
    "cockroach",
    "mssql",
    "bigquery",
    "mysql",
    "mysql8",
    "mariadb",
    "oracle",
    "sqlite",
    "snowflake",
    "athena",
    "redshift",
    "mongodb",
    "clickhouse",
    "duckdb",
    "dataconnector",
];

/// Experimental feature names: `experimentalFeatureKey` in
/// `server/src-lib/Hasura/Server/Types.hs`, every generation found.
pub const EXPERIMENTAL_FEATURES: &[&str] = &[
    "inherited_roles",
    "optimize_permission_filters",
    "naming_convention",
    "streaming_subscriptions",
    "apollo_federation",
    "hide_update_many_fields",
    "bigquery_string_numeric_input",
    "hide_aggregation_predicates",
    "hide_stream_fields",
    "group_by_aggregations",
    "disable_postgres_arrays",
];

/// The console's `event_type` values.
///
/// `console-v2` (`frontend/libs/console/legacy-ce/src/lib/telemetry/client.ts`):
/// exactly these. `console` (v1, `console/src/telemetry/Actions.ts` and
/// `frontend/.../telemetry/index.ts`): the type of a Redux action, shaped
/// `Area/ACTION_NAME` or `@@router/LOCATION_CHANGE` (see
/// [`CONSOLE_V1_EVENT_TYPE_PREFIXES`]), plus `RUN_TIME_ERROR`.
pub const CONSOLE_EVENT_TYPES: &[&str] = &[
    "RUN_TIME_ERROR",
    "CONNECT_DB",
    "SET_FEATURE_FLAG",
    "CLICK_EVENT",
    "INPUT_CHANGE_EVENT",
    "@@router/LOCATION_CHANGE",
];

/// Prefixes of v1 console event types (Redux action types of the console's
/// services, `console/src/components/Services/*/Actions.js`).
pub const CONSOLE_V1_EVENT_TYPE_PREFIXES: &[&str] = &[
    "@@router/",
    "ModifyTable/",
    "AddTable/",
    "AddExistingTable/",
    "Data/",
    "ViewTable/",
    "EditItem/",
    "InsertItem/",
    "RawSQL/",
    "Permissions/",
    "Relationships/",
    "CustomFunction/",
    "Events/",
    "EventTriggers/",
    "RemoteSchemas/",
    "Actions/",
    "Metadata/",
    "Main/",
    "ApiExplorer/",
    "Telemetry/",
];

/// Hasura CLI command paths, `hasura` first: the cobra command tree under
/// `cli/commands/` (`root.go`, `migrate*.go`, `metadata*.go`, `seed*.go`,
/// `actions*.go`, `plugins*.go`, `scripts*.go`, ...).
pub const CLI_COMMANDS: &[&str] = &[
    "hasura",
    "hasura init",
    "hasura version",
    "hasura console",
    "hasura completion",
    "hasura completion bash",
    "hasura completion zsh",
    "hasura docs",
    "hasura deploy",
    "hasura update-cli",
    "hasura migrate",
    "hasura migrate apply",
    "hasura migrate create",
    "hasura migrate delete",
    "hasura migrate squash",
    "hasura migrate status",
    "hasura metadata",
    "hasura metadata apply",
    "hasura metadata clear",
    "hasura metadata diff",
    "hasura metadata export",
    "hasura metadata reload",
    "hasura metadata inconsistency",
    "hasura metadata inconsistency drop",
    "hasura metadata inconsistency list",
    "hasura metadata inconsistency status",
    "hasura seed",
    "hasura seed apply",
    "hasura seed create",
    "hasura seeds",
    "hasura seeds apply",
    "hasura seeds create",
    "hasura actions",
    "hasura actions codegen",
    "hasura actions create",
    "hasura actions use-codegen",
    "hasura plugins",
    "hasura plugins install",
    "hasura plugins list",
    "hasura plugins uninstall",
    "hasura plugins upgrade",
    "hasura scripts",
    "hasura scripts update-config-v2",
    "hasura scripts update-project-v2",
    "hasura scripts update-project-v3",
    "hasura help",
];

/// Flag names of the Hasura CLI (global flags of `cli/commands/root.go` and
/// the commands' own flags), as `command` carries them.
pub const CLI_FLAGS: &[&str] = &[
    "--endpoint",
    "--admin-secret",
    "--access-key",
    "--certificate-authority",
    "--insecure-skip-tls-verify",
    "--skip-update-check",
    "--log-level",
    "--no-color",
    "--envfile",
    "--project",
    "--help",
    "-h",
    "--version",
    "-v",
    "--database-name",
    "--all-databases",
    "--up",
    "--down",
    "--goto",
    "--skip-execution",
    "--dry-run",
    "--type",
    "--from",
    "--name",
    "--from-server",
    "--sql-from-file",
    "--sql-from-server",
    "--metadata-from-file",
    "--metadata-from-server",
    "--schema",
    "--output",
    "-o",
    "--delete-source",
    "--with-seeds",
    "--file",
    "--seed",
    "--from-table",
    "--console-port",
    "--api-port",
    "--address",
    "--no-browser",
    "--static-dir",
    "--browser",
    "--use-server-assets",
    "--console-hge-endpoint",
    "--directory",
    "--derive-from",
    "--with-codegen",
    "--force",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::{Vocabulary, WordKind};

    fn unique(list: &[&str]) {
        let mut seen = std::collections::HashSet::new();
        for item in list {
            assert!(seen.insert(item), "{item} twice");
        }
    }

    #[test]
    fn every_list_is_unique_and_passes_its_shape() {
        for list in [
            METRIC_KEYS,
            BACKEND_KINDS,
            DB_KINDS,
            EXPERIMENTAL_FEATURES,
            CONSOLE_EVENT_TYPES,
            CLI_COMMANDS,
            CLI_FLAGS,
        ] {
            unique(list);
        }
        let check = |kind, list: &[&str]| {
            for w in list {
                assert_eq!(Vocabulary::check(kind, w), Ok(()), "{w}");
            }
        };
        check(WordKind::MetricKey, METRIC_KEYS);
        check(WordKind::DbKind, BACKEND_KINDS);
        check(WordKind::DbKind, DB_KINDS);
        check(WordKind::ExperimentalFeature, EXPERIMENTAL_FEATURES);
        check(WordKind::EventType, CONSOLE_EVENT_TYPES);
        check(WordKind::Command, CLI_COMMANDS);
        check(WordKind::Flag, CLI_FLAGS);
    }
}
