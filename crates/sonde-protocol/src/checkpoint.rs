//! The checkpoint protocol, as HashiCorp's go-checkpoint and Prisma's
//! `checkpoint-client` speak it (see docs/compatibility.md).
//!
//! - [`CheckQuery`]: the query of `GET /v1/check/{product}`, parsed as a
//!   multimap because Prisma repeats keys.
//! - [`CheckResponse`]: the answer, carrying every field either client reads.
//! - [`VersionsResponse`]: the answer of `GET /v1/versions/{service}`.
//! - [`TelemetryBody`]: the body of go-checkpoint's `POST /v1/telemetry/{product}`.

use std::borrow::Cow;

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
pub struct CheckQuery<'a> {
    pub arch: Option<Cow<'a, str>>,
    pub os: Option<Cow<'a, str>>,
    pub signature: Option<Cow<'a, str>>,
    pub version: Option<Cow<'a, str>>,
    pub checkpoint_version: Option<Cow<'a, str>>,
    pub local_timestamp: Option<Cow<'a, str>>,
    pub information: Option<Cow<'a, str>>,
    pub schema_providers: Vec<Cow<'a, str>>,
    pub schema_preview_features: Vec<Cow<'a, str>>,
    pub schema_generators_providers: Vec<Cow<'a, str>>,
    pub command: Option<Cow<'a, str>>,
    pub client_event_id: Option<Cow<'a, str>>,
    pub previous_client_event_id: Option<Cow<'a, str>>,
    pub project_hash: Option<Cow<'a, str>>,
    pub cli_path_hash: Option<Cow<'a, str>>,
    /// `node_version` from Prisma, or `runtime_version` from Sonde's client.
    pub runtime_version: Option<Cow<'a, str>>,
    pub ci: Option<Cow<'a, str>>,
    pub ci_name: Option<Cow<'a, str>>,
    pub cli_install_type: Option<Cow<'a, str>>,
    pub check_if_update_available: Option<Cow<'a, str>>,
    /// How many keys were not known (their names and values are not kept).
    pub unknown_keys: usize,
}

impl<'a> CheckQuery<'a> {
    /// Parses a raw, percent-encoded query string (without the `?`), the way
    /// `application/x-www-form-urlencoded` is parsed: pairs split on `&`,
    /// empty pairs skipped, key and value split on the first `=`, `+` read as
    /// a space, `%XX` decoded, invalid UTF-8 replaced.
    ///
    /// A value that needs no decoding borrows from `raw`, and the value of a
    /// key nobody sends is never decoded: a check is parsed with no copy of
    /// its common fields.
    pub fn parse(raw: &'a str) -> Self {
        let mut q = CheckQuery::default();
        for pair in raw.split('&') {
            if pair.is_empty() {
                continue;
            }
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = form_decode(key);
            let slot = match key.as_ref() {
                "arch" => &mut q.arch,
                "os" => &mut q.os,
                "signature" => &mut q.signature,
                "version" => &mut q.version,
                "checkpoint_version" => &mut q.checkpoint_version,
                "local_timestamp" => &mut q.local_timestamp,
                "information" => &mut q.information,
                "command" => &mut q.command,
                "client_event_id" => &mut q.client_event_id,
                "previous_client_event_id" => &mut q.previous_client_event_id,
                "project_hash" => &mut q.project_hash,
                "cli_path_hash" => &mut q.cli_path_hash,
                "node_version" | "runtime_version" => &mut q.runtime_version,
                "ci" => &mut q.ci,
                "ci_name" => &mut q.ci_name,
                "cli_install_type" => &mut q.cli_install_type,
                "check_if_update_available" => &mut q.check_if_update_available,
                "schema_providers" => {
                    q.schema_providers.push(form_decode(value));
                    continue;
                }
                "schema_preview_features" => {
                    q.schema_preview_features.push(form_decode(value));
                    continue;
                }
                "schema_generators_providers" => {
                    q.schema_generators_providers.push(form_decode(value));
                    continue;
                }
                // The product comes from the path; a copy in the query is ignored.
                "product" => continue,
                _ => {
                    q.unknown_keys += 1;
                    continue;
                }
            };
            if slot.is_none() {
                *slot = Some(form_decode(value));
            }
        }
        q
    }
}

/// Decodes one form-encoded key or value: `+` is a space, `%XX` a byte,
/// invalid UTF-8 is replaced. Borrows when there is nothing to decode.
fn form_decode(s: &str) -> Cow<'_, str> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(s);
    }
    let spaced = s.replace('+', " ");
    Cow::Owned(
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned(),
    )
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
