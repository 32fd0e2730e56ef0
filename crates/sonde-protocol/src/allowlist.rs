//! The allowlist per [`EventKind`], as code: which fields an event may carry,
//! their types and limits, and the one validation that every front door
//! (Hasura's `/v1/http`, the native `/api/v1/events`) runs.
//!
//! [`validate`] keeps each allowlisted field whose value passes its check, and
//! reports everything else as a [`Dropped`] with a [`DropReason`]:
//!
//! - a field the allowlist does not know is dropped as `unknown_field` under
//!   the name `"*"`: its name is never kept, since a name can carry anything;
//! - a string that looks identifying (e-mail, IP address, URL, home path,
//!   secret) is dropped with that reason, whatever the field;
//! - a `metrics` object keeps nested objects whose leaves are numbers or
//!   booleans; a string (or array) leaf is dropped as `not_a_number`;
//! - a console `url` is reduced to the product's registered route template it
//!   matches, or dropped as `unknown_route` (see [`crate::routes`]);
//! - a `command` keeps its command path and flag *names*; a flag value or a
//!   positional argument is dropped as `argument_value`;
//! - `error` and `payload` (Hasura's CLI sends them) are free text or
//!   arbitrary objects: never stored, dropped as `free_text`.
//!
//! [`schema`] describes all of it for `GET /api/v1/schema`.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::event::{EventKind, Fields};
use crate::fields::{self, DropReason};
use crate::json::Json;
use crate::ping::Dropped;
use crate::privacy::find_identifying;
use crate::routes::{RouteTemplates, MAX_ROUTE_LEN};

/// Deepest nesting of a `metrics` object (the top object is level 1).
pub const MAX_METRICS_DEPTH: usize = 4;
/// Most leaves (numbers and booleans) in one `metrics` object.
pub const MAX_METRICS_LEAVES: usize = 256;
/// Longest key in a `metrics` object, in bytes.
pub const MAX_METRICS_KEY_LEN: usize = 64;
/// Longest accepted `command` string, in bytes.
pub const MAX_COMMAND_LEN: usize = 512;
/// Most words in a command path (`hasura migrate apply` is 3).
pub const MAX_COMMAND_WORDS: usize = 8;
/// Longest word of a command path, in bytes.
pub const MAX_COMMAND_WORD_LEN: usize = 32;
/// Most flag names kept per command.
pub const MAX_FLAGS: usize = 32;
/// Longest flag name (`--admin-secret`), in bytes.
pub const MAX_FLAG_LEN: usize = 64;
/// Longest console action name (`ModifyTable/RESET`), in bytes.
pub const MAX_ACTION_LEN: usize = 128;
/// Longest short token (`console_mode`, `db_kind`, a feature name), in bytes.
pub const MAX_TOKEN_LEN: usize = 32;
/// Longest database version text (`PostgreSQL 15.2 on x86_64-pc-linux-gnu…`), in bytes.
pub const MAX_DB_VERSION_LEN: usize = 256;
/// Most entries in `experimental_features`.
pub const MAX_FEATURES: usize = 32;
/// Longest accepted command duration: one week, in milliseconds.
pub const MAX_DURATION_MS: u64 = 7 * 24 * 3600 * 1000;

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

const fn f(name: &'static str, ty: FieldType, max: Option<u64>, description: &'static str) -> FieldSpec {
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
        "db_kind",
        FieldType::Token,
        Some(MAX_TOKEN_LEN as u64),
        "database kind (postgres, mssql, ...)",
    ),
    f(
        "db_version",
        FieldType::Version,
        Some(MAX_DB_VERSION_LEN as u64),
        "database server version text",
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
];

/// The allowlist of `kind`.
pub fn fields_of(kind: EventKind) -> &'static [FieldSpec] {
    match kind {
        EventKind::Heartbeat => HEARTBEAT,
        EventKind::Command => COMMAND,
        EventKind::Console => CONSOLE,
    }
}

/// Validates the fields of one event of `kind` against its allowlist.
///
/// Returns the fields to store; every value not kept is appended to
/// `dropped`. `routes` are the product's route templates (console `url`).
/// A `null` counts as absent.
///
/// ```
/// use serde_json::json;
/// use sonde_protocol::{allowlist, routes, EventKind, DropReason};
/// let input = json!({"ci": "build on 10.0.0.7", "metrics": {"tables": 2, "owner": "ops@example.com"}, "password": "x"});
/// let mut dropped = Vec::new();
/// let kept = allowlist::validate(EventKind::Heartbeat, input.as_object().unwrap(), &routes::RouteTemplates::new(), &mut dropped);
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
    dropped: &mut Vec<Dropped>,
) -> Fields {
    let pairs: Vec<(Cow<'_, str>, Json<'_>)> = input
        .iter()
        .map(|(k, v)| (Cow::Borrowed(k.as_str()), Json::from_value(v)))
        .collect();
    validate_json(kind, &pairs, routes, dropped)
}

/// [`validate`] on fields parsed as [`Json`] (the native batch API's fast
/// path: strings are borrowed from the request body).
pub fn validate_json(
    kind: EventKind,
    input: &[(Cow<'_, str>, Json<'_>)],
    routes: &RouteTemplates,
    dropped: &mut Vec<Dropped>,
) -> Fields {
    validate_with(fields_of(kind), input, routes, dropped)
}

fn validate_with(
    specs: &'static [FieldSpec],
    input: &[(Cow<'_, str>, Json<'_>)],
    routes: &RouteTemplates,
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
        if value.is_null() {
            continue;
        }
        if spec.ty == FieldType::Command {
            // The path is stored as `command`; flag names found in it join `flags`.
            match value
                .as_str()
                .ok_or(DropReason::InvalidFormat)
                .and_then(|s| command(s, dropped))
            {
                Ok((path, flags)) => {
                    if let Some(path) = path {
                        out.insert("command", Value::String(path));
                    }
                    merge_flags(&mut out, flags.into_iter().map(Value::String).collect());
                }
                Err(reason) => dropped.push(Dropped {
                    field: spec.name,
                    reason,
                }),
            }
            continue;
        }
        match check(spec, value, routes, dropped) {
            Ok(Some(v)) => match (spec.ty, v) {
                (FieldType::FlagNames, Value::Array(flags)) => merge_flags(&mut out, flags),
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
    dropped: &mut Vec<Dropped>,
) -> Result<Option<Value>, DropReason> {
    let s = || value.as_str().ok_or(DropReason::InvalidFormat);
    let string = |v: String| Ok(Some(Value::String(v)));
    match spec.ty {
        FieldType::Uuid => string(fields::signature(s()?)?),
        FieldType::Version => {
            let max = spec.max.unwrap_or(64) as usize;
            if max > 64 {
                string(text(s()?, max)?)
            } else {
                string(fields::version(s()?)?)
            }
        }
        FieldType::Platform => string(fields::platform(s()?)?),
        FieldType::CiName => string(fields::ci_name(s()?)?),
        FieldType::Boolean => match value {
            Json::Bool(b) => Ok(Some(Value::Bool(*b))),
            Json::Str(v) => Ok(Some(Value::Bool(fields::flag(v)?))),
            _ => Err(DropReason::InvalidFormat),
        },
        FieldType::DurationMs => match value.as_u64() {
            Some(ms) if ms <= MAX_DURATION_MS => Ok(Some(Value::from(ms))),
            Some(_) => Err(DropReason::TooLong),
            None => Err(DropReason::InvalidFormat),
        },
        FieldType::Token => string(token(s()?)?),
        FieldType::Action => string(action(s()?)?),
        // Handled in `validate_with` (it writes two fields).
        FieldType::Command => Ok(None),
        FieldType::FlagNames => {
            let Json::Array(items) = value else {
                return Err(DropReason::InvalidFormat);
            };
            let mut names = Vec::new();
            for item in items {
                match item
                    .as_str()
                    .ok_or(DropReason::InvalidFormat)
                    .and_then(|t| flag_name(t, dropped))
                {
                    Ok(name) if names.len() < MAX_FLAGS => names.push(Value::String(name)),
                    Ok(_) => dropped.push(Dropped {
                        field: "flags",
                        reason: DropReason::TooLong,
                    }),
                    Err(reason) => dropped.push(Dropped { field: "flags", reason }),
                }
            }
            Ok(Some(Value::Array(names)))
        }
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
            let mut leaves = 0;
            Ok(Some(Value::Object(metrics(obj, 1, &mut leaves, dropped))))
        }
        FieldType::Object => {
            let Json::Object(obj) = value else {
                return Err(DropReason::InvalidFormat);
            };
            Ok(Some(validate_with(spec.fields, obj, routes, dropped).into()))
        }
        FieldType::TokenList => {
            let Json::Array(items) = value else {
                return Err(DropReason::InvalidFormat);
            };
            let mut kept = Vec::new();
            for item in items {
                match item.as_str().ok_or(DropReason::InvalidFormat).and_then(token) {
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
            Ok(Some(Value::Array(kept)))
        }
        FieldType::NeverStored => match value {
            Json::Str(v) if v.is_empty() => Ok(None),
            Json::Object(o) if o.is_empty() => Ok(None),
            _ => Err(DropReason::FreeText),
        },
    }
}

/// A longer text field (a database version): letters, digits, spaces and
/// `.,+_-()/:`, at most `max` bytes, nothing identifying.
fn text(s: &str, max: usize) -> Result<String, DropReason> {
    let s = s.trim();
    if s.len() > max {
        return Err(DropReason::TooLong);
    }
    if let Some(hit) = find_identifying(s) {
        return Err(hit.into());
    }
    if s.is_empty()
        || !s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b' ' | b'.' | b',' | b'+' | b'_' | b'-' | b'(' | b')' | b'/' | b':')
        })
    {
        return Err(DropReason::InvalidFormat);
    }
    Ok(s.to_owned())
}

/// A short lower-case token: `[a-z0-9_-]`, at most 32 bytes.
fn token(s: &str) -> Result<String, DropReason> {
    if s.len() > MAX_TOKEN_LEN {
        return Err(DropReason::TooLong);
    }
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'))
    {
        return Err(DropReason::InvalidFormat);
    }
    Ok(s.to_owned())
}

/// A console action name: `[A-Za-z0-9_/:.@-]`, at most 128 bytes, nothing
/// identifying.
fn action(s: &str) -> Result<String, DropReason> {
    if s.len() > MAX_ACTION_LEN {
        return Err(DropReason::TooLong);
    }
    if let Some(hit) = find_identifying(s) {
        return Err(hit.into());
    }
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'/' | b':' | b'.' | b'@' | b'-'))
    {
        return Err(DropReason::InvalidFormat);
    }
    Ok(s.to_owned())
}

/// A word of a command path: `[a-z][a-z0-9_:-]*`, at most 32 bytes.
fn is_command_word(w: &str) -> bool {
    w.len() <= MAX_COMMAND_WORD_LEN
        && w.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && w.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b':'))
}

/// A flag name (`--endpoint`, `-v`); a `=value` part is dropped and counted.
fn flag_name(t: &str, dropped: &mut Vec<Dropped>) -> Result<String, DropReason> {
    let (name, value) = match t.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (t, None),
    };
    if value.is_some() {
        dropped.push(Dropped {
            field: "flags",
            reason: DropReason::ArgumentValue,
        });
    }
    let bare = name.trim_start_matches('-');
    let dashes = name.len() - bare.len();
    if name.len() > MAX_FLAG_LEN {
        return Err(DropReason::TooLong);
    }
    let ok = (1..=2).contains(&dashes)
        && bare.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
        && bare
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !ok {
        return Err(DropReason::InvalidFormat);
    }
    if let Some(hit) = find_identifying(bare) {
        return Err(hit.into());
    }
    Ok(name.to_owned())
}

/// Splits a command line into its path (leading command words) and the names
/// of its flags. Everything else — flag values, positional arguments, any word
/// after the first flag that is not a flag — is dropped and counted as
/// `argument_value`.
///
/// ```
/// use sonde_protocol::allowlist::command;
/// let mut dropped = Vec::new();
/// let (path, flags) = command("hasura migrate apply --endpoint=https://h.example --admin-secret s3cret ./dir", &mut dropped).unwrap();
/// assert_eq!(path.as_deref(), Some("hasura migrate apply"));
/// assert_eq!(flags, ["--endpoint", "--admin-secret"]);
/// assert_eq!(dropped.len(), 3); // the endpoint value, "s3cret", "./dir"
/// ```
pub fn command(s: &str, dropped: &mut Vec<Dropped>) -> Result<(Option<String>, Vec<String>), DropReason> {
    if s.len() > MAX_COMMAND_LEN {
        return Err(DropReason::TooLong);
    }
    let mut path: Vec<&str> = Vec::new();
    let mut flags: Vec<String> = Vec::new();
    let mut in_path = true;
    for tok in s.split_whitespace() {
        if tok == "--" {
            in_path = false;
            continue;
        }
        if tok.starts_with('-') && tok.len() > 1 {
            in_path = false;
            match flag_name(tok, dropped) {
                Ok(name) if flags.len() < MAX_FLAGS => {
                    if !flags.contains(&name) {
                        flags.push(name);
                    }
                }
                Ok(_) => dropped.push(Dropped {
                    field: "command",
                    reason: DropReason::TooLong,
                }),
                Err(reason) => dropped.push(Dropped {
                    field: "command",
                    reason,
                }),
            }
        } else if in_path && path.len() < MAX_COMMAND_WORDS && is_command_word(tok) && find_identifying(tok).is_none() {
            path.push(tok);
        } else {
            in_path = false;
            dropped.push(Dropped {
                field: "command",
                reason: DropReason::ArgumentValue,
            });
        }
    }
    let path = if path.is_empty() { None } else { Some(path.join(" ")) };
    if path.is_none() && flags.is_empty() {
        return Err(DropReason::InvalidFormat);
    }
    Ok((path, flags))
}

/// Keeps the number and boolean leaves of a metrics object.
fn metrics(
    obj: &[(Cow<'_, str>, Json<'_>)],
    depth: usize,
    leaves: &mut usize,
    dropped: &mut Vec<Dropped>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let drop = |dropped: &mut Vec<Dropped>, reason| {
        dropped.push(Dropped {
            field: "metrics",
            reason,
        })
    };
    for (key, value) in obj {
        if key.len() > MAX_METRICS_KEY_LEN {
            drop(dropped, DropReason::TooLong);
            continue;
        }
        if let Some(hit) = find_identifying(key) {
            drop(dropped, hit.into());
            continue;
        }
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            drop(dropped, DropReason::InvalidFormat);
            continue;
        }
        match value {
            Json::Null => {}
            Json::Bool(_) | Json::Number(_) => {
                if *leaves >= MAX_METRICS_LEAVES {
                    drop(dropped, DropReason::TooLong);
                } else {
                    *leaves += 1;
                    out.insert(key.to_string(), value.to_value());
                }
            }
            Json::Object(inner) if depth < MAX_METRICS_DEPTH => {
                let kept = metrics(inner, depth + 1, leaves, dropped);
                out.insert(key.to_string(), Value::Object(kept));
            }
            Json::Object(_) => drop(dropped, DropReason::TooLong),
            Json::Str(_) | Json::Array(_) => drop(dropped, DropReason::NotANumber),
        }
    }
    out
}

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
}

/// Everything `GET /api/v1/schema` publishes: what is stored, with types and
/// limits, and why anything else is dropped.
#[derive(Debug, Clone, Serialize)]
pub struct Schema {
    /// Version of this description; bumped when fields change.
    pub schema_version: u32,
    /// The allowlist per event kind.
    pub kinds: Vec<KindSchema>,
    /// Hasura's `/v1/http` topics and the kinds they become.
    pub hasura_topics: Vec<TopicSchema>,
    /// Limits of the native batch API.
    pub native: NativeLimits,
    /// Limits of `metrics` objects.
    pub metrics: MetricsLimits,
    /// Every reason a value may be dropped for.
    pub drop_reasons: Vec<&'static str>,
    /// Fields never stored from any front door.
    pub never_stored: &'static [&'static str],
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
        schema_version: 1,
        kinds: EventKind::ALL
            .into_iter()
            .map(|k| KindSchema {
                kind: k.as_str(),
                fields: fields_of(k),
            })
            .collect(),
        hasura_topics: crate::hasura::TOPICS
            .iter()
            .map(|t| TopicSchema {
                topic: t.name,
                kind: t.kind.as_str(),
                test: t.test,
            })
            .collect(),
        native: NativeLimits {
            endpoint: "/api/v1/events",
            max_events: crate::native::MAX_BATCH_EVENTS,
            max_body_bytes: crate::native::MAX_BATCH_BYTES,
        },
        metrics: MetricsLimits {
            max_depth: MAX_METRICS_DEPTH,
            max_leaves: MAX_METRICS_LEAVES,
            max_key_len: MAX_METRICS_KEY_LEN,
        },
        drop_reasons: DropReason::ALL.iter().map(|r| r.as_str()).collect(),
        never_stored: &[
            "client IP address",
            "names of unknown fields",
            "flag values and positional arguments",
            "concrete route paths",
            "error messages and payloads",
        ],
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::routes;

    fn run(kind: EventKind, input: Value) -> (Value, Vec<(&'static str, DropReason)>) {
        let mut dropped = Vec::new();
        let kept = validate(
            kind,
            input.as_object().unwrap(),
            &routes::builtin("hasura"),
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
    fn command_drops_values_that_look_like_paths_or_names() {
        let mut d = Vec::new();
        let (path, flags) = command("prisma migrate dev ./schema.prisma Alice", &mut d).unwrap();
        assert_eq!(path.as_deref(), Some("prisma migrate dev"));
        assert!(flags.is_empty());
        assert_eq!(d.len(), 2);
        assert_eq!(command("./x", &mut d), Err(DropReason::InvalidFormat));
        assert_eq!(command(&"a ".repeat(400), &mut d), Err(DropReason::TooLong));
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

    #[test]
    fn schema_lists_every_kind_and_serializes() {
        let s = serde_json::to_value(schema()).unwrap();
        assert_eq!(s["kinds"].as_array().unwrap().len(), 3);
        assert_eq!(s["kinds"][0]["fields"][6]["type"], "metrics");
        assert!(s["drop_reasons"].as_array().unwrap().contains(&json!("unknown_route")));
    }
}
