//! The checkpoint protocol, as HashiCorp's go-checkpoint and Prisma's
//! `checkpoint-client` speak it (see `shared/PROTOCOL.md`).
//!
//! - [`CheckQuery`]: the query of `GET /v1/check/{product}`, parsed as a
//!   multimap because Prisma repeats keys.
//! - [`CheckResponse`]: the answer, carrying every field either client reads.
//! - [`VersionsResponse`]: the answer of `GET /v1/versions/{service}`.
//! - [`TelemetryBody`]: the body of go-checkpoint's `POST /v1/telemetry/{product}`.

use serde::{Deserialize, Serialize};

/// Keys of `/v1/check` that some client sends and the collector understands.
/// Anything else is an unknown field: dropped and counted, never stored.
pub const KNOWN_CHECK_KEYS: &[&str] = &[
    // go-checkpoint
    "arch",
    "os",
    "signature",
    "version",
    "product",
    // Prisma checkpoint-client
    "checkpoint_version",
    "local_timestamp",
    "information",
    "schema_providers",
    "schema_preview_features",
    "schema_generators_providers",
    "command",
    "client_event_id",
    "previous_client_event_id",
    "project_hash",
    "cli_path_hash",
    "node_version",
    "ci",
    "ci_name",
    "cli_install_type",
    "check_if_update_available",
    // Sonde's own client
    "runtime_version",
];

/// The query of a version check, one field per known key.
///
/// Scalar keys keep their first value; the `schema_*` keys that Prisma repeats
/// keep every value. Keys that no client is known to send are counted in
/// [`CheckQuery::unknown_keys`] and otherwise forgotten: their names are never
/// kept, since a name can carry anything.
///
/// ```
/// use sonde_protocol::CheckQuery;
/// let q = CheckQuery::parse("os=linux&schema_providers=sqlite&schema_providers=postgresql&ci=&mystery=1");
/// assert_eq!(q.os.as_deref(), Some("linux"));
/// assert_eq!(q.schema_providers, ["sqlite", "postgresql"]);
/// assert_eq!(q.ci.as_deref(), Some(""));
/// assert_eq!(q.unknown_keys, 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct CheckQuery {
    pub arch: Option<String>,
    pub os: Option<String>,
    pub signature: Option<String>,
    pub version: Option<String>,
    pub checkpoint_version: Option<String>,
    pub local_timestamp: Option<String>,
    pub information: Option<String>,
    pub schema_providers: Vec<String>,
    pub schema_preview_features: Vec<String>,
    pub schema_generators_providers: Vec<String>,
    pub command: Option<String>,
    pub client_event_id: Option<String>,
    pub previous_client_event_id: Option<String>,
    pub project_hash: Option<String>,
    pub cli_path_hash: Option<String>,
    /// `node_version` from Prisma, or `runtime_version` from Sonde's client.
    pub runtime_version: Option<String>,
    pub ci: Option<String>,
    pub ci_name: Option<String>,
    pub cli_install_type: Option<String>,
    pub check_if_update_available: Option<String>,
    /// How many keys were not known (their names and values are not kept).
    pub unknown_keys: usize,
}

impl CheckQuery {
    /// Parses a raw, percent-encoded query string (without the `?`).
    pub fn parse(raw: &str) -> Self {
        Self::from_pairs(form_urlencoded::parse(raw.as_bytes()))
    }

    /// Builds the query from decoded key/value pairs, in order.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut q = CheckQuery::default();
        for (k, v) in pairs {
            let v = v.as_ref();
            let first = |slot: &mut Option<String>| {
                if slot.is_none() {
                    *slot = Some(v.to_owned());
                }
            };
            match k.as_ref() {
                "arch" => first(&mut q.arch),
                "os" => first(&mut q.os),
                "signature" => first(&mut q.signature),
                "version" => first(&mut q.version),
                "checkpoint_version" => first(&mut q.checkpoint_version),
                "local_timestamp" => first(&mut q.local_timestamp),
                "information" => first(&mut q.information),
                "schema_providers" => q.schema_providers.push(v.to_owned()),
                "schema_preview_features" => q.schema_preview_features.push(v.to_owned()),
                "schema_generators_providers" => q.schema_generators_providers.push(v.to_owned()),
                "command" => first(&mut q.command),
                "client_event_id" => first(&mut q.client_event_id),
                "previous_client_event_id" => first(&mut q.previous_client_event_id),
                "project_hash" => first(&mut q.project_hash),
                "cli_path_hash" => first(&mut q.cli_path_hash),
                "node_version" | "runtime_version" => first(&mut q.runtime_version),
                "ci" => first(&mut q.ci),
                "ci_name" => first(&mut q.ci_name),
                "cli_install_type" => first(&mut q.cli_install_type),
                "check_if_update_available" => first(&mut q.check_if_update_available),
                // The product comes from the path; a copy in the query is ignored.
                "product" => {}
                _ => q.unknown_keys += 1,
            }
        }
        q
    }
}

/// The level of an [`Alert`], as consumers of go-checkpoint use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertLevel {
    /// Something worth knowing.
    Info,
    /// Something worth acting on.
    Warn,
    /// A security problem: shown every time until dismissed.
    Critical,
}

impl AlertLevel {
    /// The wire name: `info`, `warn` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Info => "info",
            AlertLevel::Warn => "warn",
            AlertLevel::Critical => "critical",
        }
    }
}

impl std::str::FromStr for AlertLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(AlertLevel::Info),
            "warn" | "warning" => Ok(AlertLevel::Warn),
            "critical" => Ok(AlertLevel::Critical),
            other => Err(format!(
                "unknown alert level {other:?}: expected info, warn or critical"
            )),
        }
    }
}

/// One alert in a check answer: go-checkpoint's `CheckAlert`, Prisma's alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable id; clients show each id once.
    pub id: i64,
    /// When the alert was published, Unix seconds.
    pub date: i64,
    /// One line for the user.
    pub message: String,
    /// Where to read more (may be empty).
    pub url: String,
    /// `info`, `warn` or `critical`.
    pub level: String,
}

/// The answer to `GET /v1/check/{product}`: every field that go-checkpoint and
/// Prisma's checkpoint-client read, with both spellings of the release date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResponse {
    /// The product asked about.
    pub product: String,
    /// The newest release the client should run.
    pub current_version: String,
    /// Its release date, Unix seconds (newer go-checkpoint).
    pub current_release: i64,
    /// The same date (older go-checkpoint, Prisma).
    pub current_release_date: i64,
    /// Where to download it.
    pub current_download_url: String,
    /// Where its changelog is.
    pub current_changelog_url: String,
    /// The product's website.
    pub project_website: String,
    /// Whether the client's version is older than `current_version`.
    pub outdated: bool,
    /// Alerts that apply to the client's version.
    pub alerts: Vec<Alert>,
    /// Echo of the client's `client_event_id` (Prisma).
    pub client_event_id: String,
    /// Echo of the client's `previous_client_event_id` (Prisma).
    pub previous_client_event_id: String,
    /// The version the client runs (Prisma).
    pub previous_version: String,
    /// Echo of the client's `cli_path_hash` (Prisma).
    pub cli_path_hash: String,
    /// Echo of the client's `local_timestamp` (Prisma).
    pub local_timestamp: String,
    /// Package name for the update command (Prisma: `npm i {package}@{release_tag}`).
    pub package: String,
    /// Release tag for the update command (`latest`).
    pub release_tag: String,
    /// A full install command, if the maintainer gave one.
    pub install_command: String,
}

/// The answer to `GET /v1/versions/{service}?product=P` (go-checkpoint `Versions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionsResponse {
    /// The service asked about.
    pub service: String,
    /// The product asking.
    pub product: String,
    /// Oldest supported version, or empty.
    pub minimum: String,
    /// Newest supported version, or empty.
    pub maximum: String,
    /// Versions known not to work.
    pub excluding: Vec<String>,
}

/// The body of go-checkpoint's `POST /v1/telemetry/{product}` (`ReportParams`).
/// Every field is optional on the way in; `payload` is never stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct TelemetryBody {
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
    #[serde(default)]
    pub arch: Option<String>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub payload: Option<serde_json::Value>,
    #[serde(default)]
    pub product: Option<String>,
    #[serde(default)]
    pub run_id: Option<String>,
    #[serde(default)]
    pub schema_version: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}
