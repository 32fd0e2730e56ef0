//! Hasura's built-in vocabulary: the lists extracted from Hasura's source
//! ([`crate::hasura::vocab`], each citing its file) and, beside them, the
//! words of this file: command paths, flags, metrics keys, console event
//! types, experimental features and database kinds that Hasura's clients
//! send and the extracted lists do not name (older generations, paths seen
//! in Hasura's documentation), none of them repeated from the extracted
//! lists. [`ALL`] is their union;
//! [`super::builtin`] adds the service-timing metric paths, which are
//! generated from their dimensions.

use super::WordKind;
use crate::hasura::vocab;

/// Every list, by kind: the extracted ones first, then this file's.
pub const ALL: &[(WordKind, &[&str])] = &[
    (WordKind::Command, vocab::CLI_COMMANDS),
    (WordKind::Flag, vocab::CLI_FLAGS),
    (WordKind::MetricKey, vocab::METRIC_KEYS),
    (WordKind::EventType, vocab::CONSOLE_EVENT_TYPES),
    (WordKind::ExperimentalFeature, vocab::EXPERIMENTAL_FEATURES),
    (WordKind::DbKind, vocab::DB_KINDS),
    (WordKind::DbKind, vocab::BACKEND_KINDS),
    (WordKind::Flag, CLI_FLAGS),
    (WordKind::MetricKey, METRIC_KEYS),
    (WordKind::EventType, CONSOLE_EVENT_TYPES),
    (WordKind::ExperimentalFeature, EXPERIMENTAL_FEATURES),
];

/// Metrics keys of the server's heartbeat, as dotted paths, beyond
/// [`vocab::METRIC_KEYS`]: the nested forms older servers send.
pub const METRIC_KEYS: &[&str] = &[
    "cron_triggers",
    "scheduled_triggers",
    "relationships.manual.object",
    "relationships.manual.array",
    "relationships.auto.object",
    "relationships.auto.array",
    "actions.types",
    "remote_relationships",
    "native_queries",
    "logical_models",
    "stored_procedures",
    "query_collections",
    "allow_list",
    "inherited_roles",
    "service_timings.sources",
    "service_timings.init",
];

/// CLI flag names beyond [`vocab::CLI_FLAGS`].
pub const CLI_FLAGS: &[&str] = &[
    "--up-sql",
    "--down-sql",
    "--port",
    "--with-starter-kit",
    "--yes",
    "-f",
    "-d",
];

/// Console event types (Redux action types) beyond
/// [`vocab::CONSOLE_EVENT_TYPES`].
pub const CONSOLE_EVENT_TYPES: &[&str] = &[
    "ModifyTable/RESET",
    "ModifyTable/TOGGLE_ACTIVE_COLUMN",
    "ModifyTable/SAVE_COLUMN",
    "ModifyTable/DELETE_COLUMN",
    "Data/UPDATE_CURRENT_SCHEMA",
    "Data/FETCH_SCHEMA_LIST",
    "Data/LOAD_SCHEMA",
    "Data/RUN_SQL",
    "Data/ADD_TABLE",
    "Data/DROP_TABLE",
    "Permissions/SAVE",
    "Relationships/ADD",
    "Actions/CREATE",
    "Events/CREATE_TRIGGER",
    "RemoteSchemas/ADD",
    "Metadata/EXPORT",
    "Metadata/RELOAD",
    "Api/SEND_REQUEST",
    "Settings/VIEW",
];

/// Experimental feature names beyond [`vocab::EXPERIMENTAL_FEATURES`].
pub const EXPERIMENTAL_FEATURES: &[&str] = &["remove_empty_subscription_responses"];
