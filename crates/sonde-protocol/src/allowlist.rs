//! The one validation every event front door (Hasura's `/v1/http`, the
//! native `/api/v1/events`) runs: an event's fields against the allowlist of
//! its [`EventKind`] ([`crate::field_spec`]).
//!
//! [`validate`] keeps each allowlisted field whose value passes its check, and
//! reports everything else as a [`Dropped`] with a [`DropReason`]:
//!
//! - a field the allowlist does not know is dropped as `unknown_field` under
//!   the name `"*"`: its name is never kept, since a name can carry anything;
//! - a string that holds anything identifying ([`crate::privacy`]: e-mail,
//!   IP address, host name, URL, path, secret, personal number...) is
//!   dropped with that reason, whatever the field;
//! - every string field has its strictest real shape ([`crate::shapes`]):
//!   `os`/`arch` from closed lists, versions by a grammar, the CI vendor
//!   from the CI table, the database version reduced to product and
//!   version; command paths, flag names, metrics keys, console event types,
//!   experimental features and database kinds from the product's
//!   [`Vocabulary`] when it registered words of that kind, else a tight
//!   identifier shape. A value outside a closed list is dropped as
//!   `not_in_vocabulary`;
//! - a `metrics` object keeps nested objects whose leaves are numbers or
//!   booleans; a string (or array) leaf is dropped as `not_a_number` (see
//!   [`crate::metrics`]);
//! - a console `url` is reduced to the product's registered route template it
//!   matches, or dropped as `unknown_route` (see [`crate::routes`]);
//! - a `command` keeps its command path and flag *names*; a flag value or a
//!   positional argument is dropped as `argument_value` (see
//!   [`crate::command`]);
//! - `error` and `payload` (Hasura's CLI sends them) are free text or
//!   arbitrary objects: never stored, dropped as `free_text`.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::command;
use crate::dropped::{DropReason, Dropped};
use crate::event::{EventKind, Fields};
use crate::field_spec::{fields_of, FieldSpec, FieldType};
use crate::json::Json;
use crate::limits::{MAX_DURATION_MS, MAX_FLAGS};
use crate::metrics;
use crate::privacy::find_identifying;
use crate::routes::{RouteTemplates, MAX_ROUTE_LEN};
use crate::shapes;
use crate::vocabulary::{Vocabulary, WordKind};

/// Validates the fields of one event of `kind` against its allowlist.
///
/// Returns the fields to store; every value not kept is appended to
/// `dropped`. `routes` are the product's route templates (console `url`),
/// `vocab` its registered words. A `null` or an empty string counts as absent.
///
/// ```
/// use serde_json::json;
/// use sonde_protocol::{allowlist, routes, vocabulary::Vocabulary, EventKind, DropReason};
/// let input = json!({"ci": "build on 10.0.0.7", "metrics": {"tables": 2, "owner": "ops@example.com"}, "password": "x"});
/// let mut dropped = Vec::new();
/// let kept = allowlist::validate(EventKind::Heartbeat, input.as_object().unwrap(), &routes::RouteTemplates::new(), &Vocabulary::new(), &mut dropped);
/// assert_eq!(serde_json::Value::from(kept), json!({"metrics": {"tables": 2}}));
/// let reasons: Vec<_> = dropped.iter().map(|d| (d.field, d.reason)).collect();
/// assert!(reasons.contains(&("ci", DropReason::IpAddress)));
/// assert!(reasons.contains(&("metrics", DropReason::NotANumber)));
/// assert!(reasons.contains(&("*", DropReason::UnknownField)));
/// ```
pub fn validate(
    kind: EventKind,
    input: &Map<String, Value>,
    routes: &RouteTemplates,
    vocab: &Vocabulary,
    dropped: &mut Vec<Dropped>,
) -> Fields {
    let pairs: Vec<(Cow<'_, str>, Json<'_>)> = input
        .iter()
        .map(|(k, v)| (Cow::Borrowed(k.as_str()), Json::from_value(v)))
        .collect();
    validate_json(kind, &pairs, routes, vocab, dropped)
}

/// [`validate`] on fields parsed as [`Json`] (the native batch API's fast
/// path: strings are borrowed from the request body).
pub fn validate_json(
    kind: EventKind,
    input: &[(Cow<'_, str>, Json<'_>)],
    routes: &RouteTemplates,
    vocab: &Vocabulary,
    dropped: &mut Vec<Dropped>,
) -> Fields {
    validate_with(fields_of(kind), input, routes, vocab, dropped)
}

/// Validates `input` against `specs` (an event kind's allowlist, the
/// allowlist of an object field, or the context fields of an error report).
pub(crate) fn validate_with(
    specs: &'static [FieldSpec],
    input: &[(Cow<'_, str>, Json<'_>)],
    routes: &RouteTemplates,
    vocab: &Vocabulary,
    dropped: &mut Vec<Dropped>,
) -> Fields {
    let mut out = Fields::with_capacity(input.len());
    for (name, value) in input {
        let Some(spec) = specs.iter().find(|s| s.name == name) else {
            dropped.push(Dropped {
                field: "*",
                reason: DropReason::UnknownField,
            });
            continue;
        };
        // `null` and an empty string are how clients say "none" (Hasura's CLI
        // sends `server_uuid: ""` when it talked to no server): absent, not
        // dropped.
        if value.is_null() || value.as_str().is_some_and(|v| v.trim().is_empty()) {
            continue;
        }
        if spec.ty == FieldType::Command {
            keep_command(spec, value, vocab, &mut out, dropped);
            continue;
        }
        match check(spec, value, routes, vocab, dropped) {
            Ok(Some(v)) => match (spec.ty, v) {
                (FieldType::FlagNames, Value::Array(flags)) => merge_flags(&mut out, flags),
                // An object with nothing left in it is not stored.
                (FieldType::Object | FieldType::Metrics, Value::Object(o)) if o.is_empty() => {}
                (_, v) => out.insert(spec.name, v),
            },
            Ok(None) => {}
            Err(reason) => dropped.push(Dropped {
                field: spec.name,
                reason,
            }),
        }
    }
    out
}

/// Stores a `command` value's path as `command`; the flag names found in it
/// join `flags`.
fn keep_command(spec: &FieldSpec, value: &Json<'_>, vocab: &Vocabulary, out: &mut Fields, dropped: &mut Vec<Dropped>) {
    match value
        .as_str()
        .ok_or(DropReason::InvalidFormat)
        .and_then(|s| command::parse(s, vocab, dropped))
    {
        Ok((path, flags)) => {
            if let Some(path) = path {
                out.insert("command", Value::String(path));
            }
            merge_flags(out, flags.into_iter().map(Value::String).collect());
        }
        Err(reason) => dropped.push(Dropped {
            field: spec.name,
            reason,
        }),
    }
}

/// Appends `flags` to the stored `flags` list, without repeats and up to
/// [`MAX_FLAGS`].
fn merge_flags(out: &mut Fields, flags: Vec<Value>) {
    if flags.is_empty() {
        return;
    }
    let entry = out.get_or_insert_with("flags", || Value::Array(Vec::new()));
    if let Value::Array(list) = entry {
        for fl in flags {
            if !list.contains(&fl) && list.len() < MAX_FLAGS {
                list.push(fl);
            }
        }
    }
}

/// Checks one value. `Ok(None)`: nothing to store, already accounted for.
fn check(
    spec: &FieldSpec,
    value: &Json<'_>,
    routes: &RouteTemplates,
    vocab: &Vocabulary,
    dropped: &mut Vec<Dropped>,
) -> Result<Option<Value>, DropReason> {
    let s = || value.as_str().ok_or(DropReason::InvalidFormat);
    let string = |v: String| Ok(Some(Value::String(v)));
    match spec.ty {
        FieldType::Uuid => string(shapes::signature(s()?)?),
        FieldType::Version => string(shapes::version(s()?)?),
        FieldType::DbVersion => string(shapes::db_version(s()?, spec.max.unwrap_or(256) as usize)?),
        FieldType::Os => string(shapes::os(s()?)?),
        FieldType::Arch => string(shapes::arch(s()?)?),
        FieldType::CiName => string(shapes::ci_name(s()?)?),
        FieldType::Boolean => match value {
            Json::Bool(b) => Ok(Some(Value::Bool(*b))),
            Json::Str(v) => Ok(Some(Value::Bool(shapes::flag(v)?))),
            _ => Err(DropReason::InvalidFormat),
        },
        FieldType::DurationMs => match value.as_u64() {
            Some(ms) if ms <= MAX_DURATION_MS => Ok(Some(Value::from(ms))),
            Some(_) => Err(DropReason::TooLong),
            None => Err(DropReason::InvalidFormat),
        },
        FieldType::Token => string(shapes::token(s()?)?),
        FieldType::ConsoleMode => match s()? {
            m @ ("server" | "cli") => string(m.to_owned()),
            other => Err(find_identifying(other).map_or(DropReason::NotInVocabulary, DropReason::from)),
        },
        FieldType::ConsoleType => one_of(s()?, crate::hasura::vocab::CONSOLE_TYPES),
        FieldType::BackendKind => one_of(s()?, crate::hasura::vocab::BACKEND_KINDS),
        FieldType::DbKind => string(shapes::word(s()?, WordKind::DbKind, vocab)?),
        FieldType::Action => string(shapes::event_type(s()?, vocab)?),
        // Handled by `keep_command` (it writes two fields).
        FieldType::Command => Ok(None),
        FieldType::FlagNames => flag_names(value, vocab, dropped).map(Some),
        FieldType::RouteTemplate => {
            let route = s()?;
            if route.len() > MAX_ROUTE_LEN {
                return Err(DropReason::TooLong);
            }
            routes
                .reduce(route)
                .map(|t| Some(Value::String(t)))
                .ok_or(DropReason::UnknownRoute)
        }
        FieldType::Metrics => {
            let Json::Object(obj) = value else {
                return Err(DropReason::InvalidFormat);
            };
            Ok(Some(Value::Object(metrics::keep(obj, spec.name, vocab, dropped))))
        }
        FieldType::Object => {
            let Json::Object(obj) = value else {
                return Err(DropReason::InvalidFormat);
            };
            Ok(Some(validate_with(spec.fields, obj, routes, vocab, dropped).into()))
        }
        FieldType::TokenList => token_list(spec, value, vocab, dropped).map(Some),
        FieldType::Runtime => string(shapes::runtime(s()?)?),
        FieldType::Integer => match value.as_u64() {
            Some(n) if spec.max.is_none_or(|max| n <= max) => Ok(Some(Value::from(n))),
            Some(_) => Err(DropReason::TooLong),
            None => Err(DropReason::InvalidFormat),
        },
        // Only the error report's own fields have these types, and
        // `crate::error_report` reads those fields itself.
        FieldType::Product | FieldType::Timestamp | FieldType::ScrubbedText | FieldType::ObjectList => {
            Err(DropReason::InvalidFormat)
        }
        FieldType::NeverStored => match value {
            Json::Str(v) if v.is_empty() => Ok(None),
            Json::Object(o) if o.is_empty() => Ok(None),
            _ => Err(DropReason::FreeText),
        },
    }
}

/// `s` if it is one of `known`; otherwise dropped as what it identifies, or
/// as `not_in_vocabulary`.
fn one_of(s: &str, known: &[&str]) -> Result<Option<Value>, DropReason> {
    if known.contains(&s) {
        Ok(Some(Value::String(s.to_owned())))
    } else {
        Err(find_identifying(s).map_or(DropReason::NotInVocabulary, DropReason::from))
    }
}

/// A `flags` list: the names of its valid flags, up to [`MAX_FLAGS`]; every
/// other entry is counted under `flags`.
fn flag_names(value: &Json<'_>, vocab: &Vocabulary, dropped: &mut Vec<Dropped>) -> Result<Value, DropReason> {
    let Json::Array(items) = value else {
        return Err(DropReason::InvalidFormat);
    };
    let mut names = Vec::new();
    for item in items {
        match item
            .as_str()
            .ok_or(DropReason::InvalidFormat)
            .and_then(|t| command::flag_name(t, vocab, dropped))
        {
            Ok(name) if names.len() < MAX_FLAGS => names.push(Value::String(name)),
            Ok(_) => dropped.push(Dropped {
                field: "flags",
                reason: DropReason::TooLong,
            }),
            Err(reason) => dropped.push(Dropped { field: "flags", reason }),
        }
    }
    Ok(Value::Array(names))
}

/// A list of short tokens: the valid ones, up to the field's `max`; every
/// other entry is counted under the field's name.
fn token_list(
    spec: &FieldSpec,
    value: &Json<'_>,
    vocab: &Vocabulary,
    dropped: &mut Vec<Dropped>,
) -> Result<Value, DropReason> {
    let Json::Array(items) = value else {
        return Err(DropReason::InvalidFormat);
    };
    let mut kept = Vec::new();
    for item in items {
        match item
            .as_str()
            .ok_or(DropReason::InvalidFormat)
            .and_then(|t| shapes::word(t, WordKind::ExperimentalFeature, vocab))
        {
            Ok(t) if kept.len() < spec.max.unwrap_or(32) as usize => kept.push(Value::String(t)),
            Ok(_) => dropped.push(Dropped {
                field: spec.name,
                reason: DropReason::TooLong,
            }),
            Err(reason) => dropped.push(Dropped {
                field: spec.name,
                reason,
            }),
        }
    }
    Ok(Value::Array(kept))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::limits::MAX_METRICS_LEAVES;
    use crate::routes;

    fn run(kind: EventKind, input: Value) -> (Value, Vec<(&'static str, DropReason)>) {
        let mut dropped = Vec::new();
        let kept = validate(
            kind,
            input.as_object().unwrap(),
            &routes::builtin("hasura"),
            &Vocabulary::new(),
            &mut dropped,
        );
        (
            Value::from(kept),
            dropped.into_iter().map(|d| (d.field, d.reason)).collect(),
        )
    }

    #[test]
    fn metrics_keep_number_and_boolean_leaves_only() {
        let (kept, dropped) = run(
            EventKind::Heartbeat,
            json!({"metrics": {"tables": 2, "on": true, "who": "ops@example.com",
                   "permissions": {"roles": 1, "names": ["admin"], "deep": {"a": {"b": {"c": 1}}}},
                   "alice@example.com": 1, "none": null}}),
        );
        assert_eq!(
            kept,
            json!({"metrics": {"tables": 2, "on": true, "permissions": {"roles": 1, "deep": {"a": {}}}}})
        );
        assert_eq!(
            dropped,
            [
                ("metrics", DropReason::Email),
                ("metrics", DropReason::TooLong),
                ("metrics", DropReason::NotANumber),
                ("metrics", DropReason::NotANumber),
            ]
        );
    }

    #[test]
    fn metrics_leaf_count_is_bounded() {
        let many: Map<String, Value> = (0..300).map(|i| (format!("m{i}"), json!(i))).collect();
        let (kept, dropped) = run(EventKind::Heartbeat, json!({ "metrics": many }));
        assert_eq!(kept["metrics"].as_object().unwrap().len(), MAX_METRICS_LEAVES);
        assert_eq!(dropped.len(), 300 - MAX_METRICS_LEAVES);
    }

    #[test]
    fn unknown_fields_are_counted_without_their_names() {
        let (kept, dropped) = run(EventKind::Command, json!({"password": "hunter2", "is_error": false}));
        assert_eq!(kept, json!({"is_error": false}));
        assert_eq!(dropped, [("*", DropReason::UnknownField)]);
    }

    #[test]
    fn command_keeps_path_and_flag_names() {
        let (kept, dropped) = run(
            EventKind::Command,
            json!({"command": "hasura metadata apply --endpoint http://10.0.0.1:8080 -v", "flags": ["--dry-run", "--token=abc"],
                   "error": "connection refused to db.internal", "payload": {"x": 1}}),
        );
        assert_eq!(
            kept,
            json!({"command": "hasura metadata apply", "flags": ["--endpoint", "-v", "--dry-run", "--token"]})
        );
        assert_eq!(
            dropped,
            [
                ("command", DropReason::ArgumentValue),
                ("error", DropReason::FreeText),
                ("flags", DropReason::ArgumentValue),
                ("payload", DropReason::FreeText),
            ]
        );
    }

    #[test]
    fn console_url_is_reduced_to_its_template_or_dropped() {
        let (kept, dropped) = run(
            EventKind::Console,
            json!({"url": "/data/schema/public/tables/customers/modify", "event_type": "ModifyTable/RESET", "console_mode": "server"}),
        );
        assert_eq!(
            kept,
            json!({"url": "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify", "event_type": "ModifyTable/RESET", "console_mode": "server"})
        );
        assert!(dropped.is_empty());
        let (kept, dropped) = run(EventKind::Console, json!({"url": "/customers/secret-table"}));
        assert_eq!(kept, json!({}));
        assert_eq!(dropped, [("url", DropReason::UnknownRoute)]);
    }

    #[test]
    fn source_metadata_has_its_own_allowlist() {
        let (kept, dropped) = run(
            EventKind::Heartbeat,
            json!({"source_metadata": {"db_uid": "DDDFF371-DAB2-450F-9969-235BCA66DAB1", "db_kind": "postgres",
                   "db_version": "PostgreSQL 15.2 on x86_64-pc-linux-gnu, compiled by gcc 10.2.1, 64-bit", "host": "db.internal"},
                   "experimental_features": ["inherited_roles", "Bad Name"]}),
        );
        assert_eq!(
            kept["source_metadata"]["db_uid"],
            "dddff371-dab2-450f-9969-235bca66dab1"
        );
        assert_eq!(kept["source_metadata"]["db_kind"], "postgres");
        assert!(kept["source_metadata"].get("host").is_none());
        assert_eq!(kept["experimental_features"], json!(["inherited_roles"]));
        assert_eq!(
            dropped,
            [
                ("experimental_features", DropReason::InvalidFormat),
                ("*", DropReason::UnknownField)
            ]
        );
    }

    #[test]
    fn hasura_vocabulary_keeps_registered_words_only() {
        let mut dropped = Vec::new();
        let input = json!({"command": "hasura migrate apply customers --endpoint x --mystery",
            "metrics": {"tables": 2, "relationships": {"manual": {"object": 1}}, "customers": 3}});
        let kept = validate(
            EventKind::Command,
            input.as_object().unwrap(),
            &routes::builtin("hasura"),
            crate::vocabulary::builtin("hasura"),
            &mut dropped,
        );
        assert_eq!(
            Value::from(kept),
            json!({"command": "hasura migrate apply", "flags": ["--endpoint"]})
        );
        let heartbeat = json!({"metrics": {"tables": 2, "relationships": {"manual": {"object": 1}}, "customers": 3},
            "experimental_features": ["inherited_roles", "my_table"], "os": "linux", "arch": "DESKTOP-7QK2M9A"});
        let mut dropped = Vec::new();
        let kept = validate(
            EventKind::Heartbeat,
            heartbeat.as_object().unwrap(),
            &routes::builtin("hasura"),
            crate::vocabulary::builtin("hasura"),
            &mut dropped,
        );
        assert_eq!(
            Value::from(kept),
            json!({"metrics": {"tables": 2, "relationships": {"manual": {"object": 1}}},
                   "experimental_features": ["inherited_roles"], "os": "linux"})
        );
        let reasons: Vec<_> = dropped.iter().map(|d| (d.field, d.reason)).collect();
        assert_eq!(
            reasons,
            [
                ("arch", DropReason::Hostname),
                ("experimental_features", DropReason::NotInVocabulary),
                ("metrics", DropReason::NotInVocabulary),
            ]
        );
    }

    #[test]
    fn wrong_types_and_identifying_values_are_dropped() {
        let (kept, dropped) = run(
            EventKind::Command,
            json!({"is_error": "maybe", "duration_ms": -5, "uuid": "nope", "ci": "runner 192.168.4.4", "os_platform": "linux"}),
        );
        assert_eq!(kept, json!({"os_platform": "linux"}));
        assert_eq!(
            dropped,
            [
                ("ci", DropReason::IpAddress),
                ("duration_ms", DropReason::InvalidFormat),
                ("is_error", DropReason::InvalidFormat),
                ("uuid", DropReason::InvalidSignature),
            ]
        );
    }
}
