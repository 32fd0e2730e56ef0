//! What the generated data says: the tables the plan draws from (platforms,
//! runtimes, CI vendors, the release line, commands, error groups, Hasura
//! versions) and the bodies of events and error reports, built as the real
//! clients send them so that they go through the collector's own
//! validators before they are stored.
//!
//! Every name here is one the collector's shapes accept: OS and arch names
//! are Node's (`process.platform`, `process.arch`), runtimes are Node
//! versions, CI vendors are names of `sonde_protocol::ci::VENDORS`.

use rand::Rng;
use serde_json::{json, Value};

/// Picks an index of `weights` with probability proportional to its weight.
pub fn pick<R: Rng>(rng: &mut R, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = rng.random_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Operating systems (Node's `process.platform`) with their weights for
/// people and for CI.
pub const OS: [(&str, u32, u32); 3] = [("linux", 45, 90), ("darwin", 40, 7), ("win32", 15, 3)];

/// Architectures per OS (index as in [`OS`]), with weights.
pub const ARCH: [&[(&str, u32)]; 3] = [
    &[("x64", 85), ("arm64", 15)],
    &[("arm64", 75), ("x64", 25)],
    &[("x64", 95), ("arm64", 5)],
];

/// Runtime versions (Node), with weights.
pub const RUNTIMES: [(&str, u32); 8] = [
    ("v22.11.0", 22),
    ("v22.12.0", 10),
    ("v20.18.1", 25),
    ("v20.11.0", 10),
    ("v18.20.5", 15),
    ("v23.3.0", 5),
    ("v18.19.0", 8),
    ("v16.20.2", 5),
];

/// CI vendors, as `sonde_protocol::ci::VENDORS` names them, with weights.
pub const CI_VENDORS: [(&str, u32); 8] = [
    ("GitHub Actions", 60),
    ("GitLab CI", 14),
    ("CircleCI", 7),
    ("Jenkins", 6),
    ("Azure Pipelines", 5),
    ("Bitbucket Pipelines", 4),
    ("Buildkite", 3),
    ("Travis CI", 1),
];

/// Weights of `table`'s entries.
pub fn weights<T>(table: &[(T, u32)]) -> Vec<u32> {
    table.iter().map(|(_, w)| *w).collect()
}

/// One release of the product's semver line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The version, `MAJOR.MINOR.PATCH`.
    pub version: String,
    /// Its release day, as an index from the first day of the plan
    /// (negative: before it).
    pub day: i32,
}

/// The release line: `5.0.0` released `history` days before the first day,
/// then a release every 3 to 12 days (70% patches, 27% minors, 3% majors)
/// up to the last day.
pub fn release_line<R: Rng>(rng: &mut R, history: i32, days: i32) -> Vec<Release> {
    let (mut major, mut minor, mut patch) = (5u32, 0u32, 0u32);
    let mut day = -history;
    let mut out = Vec::new();
    while day < days {
        out.push(Release {
            version: format!("{major}.{minor}.{patch}"),
            day,
        });
        day += rng.random_range(3..=12);
        match rng.random_range(0..100) {
            0..70 => patch += 1,
            70..97 => (minor, patch) = (minor + 1, 0),
            _ => (major, minor, patch) = (major + 1, 0, 0),
        }
    }
    out
}

/// Command paths after the product's name, with weights and error rates
/// (per mille), and the flag names each may carry.
pub const COMMANDS: [(&str, u32, u32, &[&str]); 14] = [
    ("build", 300, 20, &["--release", "--watch"]),
    ("dev", 250, 10, &["--port", "--open"]),
    ("test", 150, 40, &["--watch", "--coverage"]),
    ("deploy", 80, 80, &["--prod", "--force"]),
    ("init", 50, 30, &["--template", "--yes"]),
    ("migrate up", 40, 60, &["--dry-run"]),
    ("migrate status", 30, 5, &[]),
    ("lint", 30, 10, &["--fix"]),
    ("format", 20, 2, &["--check"]),
    ("login", 15, 100, &[]),
    ("config set", 10, 20, &["--global"]),
    ("plugin add", 5, 150, &["--dev"]),
    ("doctor", 3, 0, &["--verbose"]),
    ("upgrade", 2, 50, &["--canary"]),
];

/// The fields of one command event as Sonde's client sends them
/// (`crates/sonde/src/command.rs`), before validation.
#[derive(Debug, Clone, Copy)]
pub struct CommandRun<'a> {
    /// The product (the command path's first word).
    pub product: &'a str,
    /// Index in [`COMMANDS`].
    pub command: usize,
    /// Installation id (the ping's signature).
    pub install_id: &'a str,
    /// Execution id (UUID layout).
    pub execution_id: &'a str,
    /// The tool's version.
    pub version: &'a str,
    /// OS and arch.
    pub os: &'a str,
    /// Arch.
    pub arch: &'a str,
    /// CI vendor, if any.
    pub ci: Option<&'a str>,
}

/// A command event's fields, to validate with
/// `sonde_protocol::allowlist::validate`.
pub fn command_fields<R: Rng>(rng: &mut R, run: &CommandRun<'_>) -> serde_json::Map<String, Value> {
    let (path, _, error_rate, flags) = COMMANDS[run.command];
    let flags: Vec<&str> = flags.iter().copied().filter(|_| rng.random_bool(0.3)).collect();
    let is_error = rng.random_range(0..1000) < error_rate;
    let mut v = json!({
        "uuid": run.install_id,
        "execution_id": run.execution_id,
        "version": run.version,
        "command": format!("{} {path}", run.product),
        "flags": flags,
        "os_platform": run.os,
        "os_arch": run.arch,
        "is_error": is_error,
        "duration_ms": rng.random_range(40..30_000),
    });
    if let Some(ci) = run.ci {
        v["ci"] = Value::from(ci);
    }
    match v {
        Value::Object(m) => m,
        _ => unreachable!("a JSON object literal"),
    }
}

/// Hasura server versions the heartbeat instances run, with weights (also
/// published as the `hasura` product's releases, oldest first).
pub const HASURA_VERSIONS: [(&str, u32); 8] = [
    ("v2.36.0", 8),
    ("v2.38.1", 8),
    ("v2.40.0", 12),
    ("v2.41.2", 10),
    ("v2.43.0", 15),
    ("v2.44.0", 20),
    ("v2.45.1", 22),
    ("v2.46.0", 5),
];

/// One Hasura server instance as its heartbeat describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerShape {
    /// Tables tracked.
    pub tables: u32,
    /// Roles with permissions.
    pub roles: u32,
    /// Index in [`HASURA_VERSIONS`].
    pub version: u8,
}

/// A `server_metrics_v2` envelope (one source, the default), as Hasura's
/// server posts it to `/v1/http`.
pub fn heartbeat_body(instance_uid: &str, db_uid: &str, shape: ServerShape) -> Vec<u8> {
    let t = shape.tables;
    json!({"topic": "server_metrics_v2", "data": {
        "metadata_db_uid": db_uid, "instance_uid": instance_uid,
        "hasura_version": HASURA_VERSIONS[usize::from(shape.version)].0, "ci": null,
        "source_metadata": {"db_uid": db_uid, "backend_type": "postgres", "db_kind": "postgres", "db_version": "150004"},
        "metrics": {"tables": t, "views": t / 8, "enum_tables": t / 20,
            "relationships": {"manual": t / 6, "auto": t},
            "permissions": {"select": t * shape.roles / 2, "insert": t / 3, "update": t / 3, "delete": t / 10, "roles": shape.roles},
            "event_triggers": t / 15, "functions": t / 12, "remote_schemas": t / 30,
            "actions": {"synchronous": t / 10, "asynchronous": t / 40, "query_actions": t / 20, "type_relationships": 0, "custom_types": t / 5}},
        "experimental_features": ["naming_convention"]}})
    .to_string()
    .into_bytes()
}

/// Error kinds of the generated groups.
const ERROR_KINDS: [&str; 6] = [
    "std::io::Error",
    "serde_json::Error",
    "reqwest::Error",
    "toml::de::Error",
    "anyhow::Error",
    "panic",
];

/// Modules the generated groups' innermost frames are in. (`auth` is not
/// one: the scrubber reads `auth::load` as a credential and redacts it,
/// which would merge groups.)
const MODULES: [&str; 10] = [
    "config", "fs", "net", "plugin", "build", "deploy", "registry", "cache", "lockfile", "template",
];

/// What fails, per group.
const VERBS: [&str; 5] = ["load", "write", "resolve", "parse", "fetch"];

/// How many distinct error groups the generator can make.
pub const ERROR_GROUPS: usize = MODULES.len() * VERBS.len();

/// What describes one error report besides its group.
#[derive(Debug, Clone, Copy)]
pub struct ReportContext<'a> {
    /// The report's id (UUID layout).
    pub report_id: &'a str,
    /// The product.
    pub product: &'a str,
    /// The tool's version.
    pub version: &'a str,
    /// The installation's signature.
    pub signature: &'a str,
    /// OS.
    pub os: &'a str,
    /// Arch.
    pub arch: &'a str,
    /// Runtime.
    pub runtime: &'a str,
    /// Index in [`COMMANDS`] of the command that failed.
    pub command: usize,
}

/// An error report body (schema 1) of group `group` (below
/// [`ERROR_GROUPS`]): its innermost in-app frame is the group's own
/// function, so each group has its own fingerprint; the message carries a
/// number that grouping ignores.
pub fn error_report_body<R: Rng>(rng: &mut R, group: usize, ctx: &ReportContext<'_>) -> Vec<u8> {
    let module = MODULES[group % MODULES.len()];
    let verb = VERBS[(group / MODULES.len()) % VERBS.len()];
    let kind = ERROR_KINDS[group % ERROR_KINDS.len()];
    let product = ctx.product.replace(['-', '.'], "_");
    json!({
        "schema": 1,
        "report_id": ctx.report_id,
        "product": ctx.product,
        "version": ctx.version,
        "signature": ctx.signature,
        "os": ctx.os,
        "arch": ctx.arch,
        "runtime": ctx.runtime,
        "command": format!("{} {}", ctx.product, COMMANDS[ctx.command].0),
        "kind": kind,
        "message": format!("failed to {verb} the {module} entry after {} attempts", rng.random_range(1..6)),
        "panic": kind == "panic",
        "frames": [
            {"function": format!("{product}::{module}::{verb}"), "file": format!("src/{module}.rs"),
             "line": rng.random_range(10..400), "in_app": true},
            {"function": format!("{product}::main"), "file": "src/main.rs", "line": 42, "in_app": true},
            {"function": "std::rt::lang_start", "in_app": false}
        ],
        "project": {"packages": rng.random_range(1..200), "workspace": rng.random_bool(0.2)}
    })
    .to_string()
    .into_bytes()
}

/// A random UUID v4 in its 16 bytes.
pub fn uuid_v4<R: Rng>(rng: &mut R) -> [u8; 16] {
    let mut b: [u8; 16] = rng.random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    b
}
