//! Admin operations' inputs and their validation, shared by the admin HTTP
//! API and the `sonde` CLI (which can write to a data directory directly):
//! both call [`ReleaseInput::validate`] and [`AlertInput::validate`], so a
//! value refused by one is refused by the other with the same message.

use serde::{Deserialize, Serialize};
use sonde_protocol::product::ProductNameError;
use sonde_protocol::{AlertLevel, ProductName};
use sonde_store::{NewAlert, NewRelease, VersionConstraint};

use sonde_versions::{parse_lenient, AffectsRange, RangeError};

/// Longest alert message, in bytes.
pub const MAX_MESSAGE_LEN: usize = 1000;
/// Longest URL or free-text release field, in bytes.
pub const MAX_TEXT_LEN: usize = 2048;

/// A value refused by validation: the message names the field and says what
/// is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// A product name that is not one.
    #[error("invalid product: {name:?}: {source}")]
    Product {
        /// The name as given.
        name: String,
        /// Why it was refused.
        #[source]
        source: ProductNameError,
    },
    /// A service name that is not one.
    #[error("invalid service: {source}")]
    Service {
        /// The name as given.
        name: String,
        /// Why it was refused.
        #[source]
        source: ProductNameError,
    },
    /// A version that is not semver.
    #[error("invalid version: {0:?} is not a semantic version such as 1.4.0 or 2.0.0-rc.1")]
    Version(String),
    /// An alert range that does not parse.
    #[error("invalid affects: {0}")]
    Affects(#[source] RangeError),
    /// An alert level other than `info`, `warn`, `critical`.
    #[error("invalid level: {0}")]
    Level(String),
    /// A URL field that is not an http(s) URL.
    #[error("invalid {field}: {value:?} is not an http(s) URL")]
    Url {
        /// The field.
        field: &'static str,
        /// The value as given.
        value: String,
    },
    /// A free-text field over [`MAX_TEXT_LEN`] or over one line.
    #[error("invalid {0}: must be one line of at most {MAX_TEXT_LEN} bytes")]
    Text(&'static str),
    /// A date in none of the accepted forms.
    #[error("invalid date: {0:?}: expected Unix seconds, RFC 3339 (2026-11-22T10:00:00Z) or YYYY-MM-DD")]
    Date(String),
    /// A date in Unix seconds too large for an `i64`.
    #[error("invalid date: too large")]
    DateTooLarge(#[source] std::num::ParseIntError),
    /// An alert message that is empty, over one line or over [`MAX_MESSAGE_LEN`].
    #[error("invalid message: must be one non-empty line of at most {MAX_MESSAGE_LEN} bytes")]
    Message,
}

impl ValidationError {
    /// The field refused (`product`, `version`, `affects`, ...).
    pub fn field(&self) -> &'static str {
        match self {
            ValidationError::Product { .. } => "product",
            ValidationError::Service { .. } => "service",
            ValidationError::Version(_) => "version",
            ValidationError::Affects(_) => "affects",
            ValidationError::Level(_) => "level",
            ValidationError::Url { field, .. } => field,
            ValidationError::Text(field) => field,
            ValidationError::Date(_) | ValidationError::DateTooLarge(_) => "date",
            ValidationError::Message => "message",
        }
    }
}

/// Checks a product name.
pub fn validate_product(name: &str) -> Result<ProductName, ValidationError> {
    ProductName::parse(name).map_err(|source| ValidationError::Product {
        name: name.to_owned(),
        source,
    })
}

/// Checks a release version: semver, with an optional `v` prefix; short forms
/// (`1.2`) are accepted and mean `1.2.0`.
pub fn validate_version(v: &str) -> Result<String, ValidationError> {
    let v = v.trim();
    if v.len() > sonde_protocol::limits::MAX_VERSION_LEN || parse_lenient(v).is_none() {
        return Err(ValidationError::Version(v.to_owned()));
    }
    Ok(v.to_owned())
}

/// Checks an alert range (see [`AffectsRange`]).
pub fn validate_range(r: &str) -> Result<String, ValidationError> {
    AffectsRange::parse(r)
        .map(|r| r.as_str().to_owned())
        .map_err(ValidationError::Affects)
}

/// Checks an alert level (`info`, `warn`, `critical`).
pub fn validate_level(l: &str) -> Result<AlertLevel, ValidationError> {
    l.parse::<AlertLevel>().map_err(ValidationError::Level)
}

fn validate_url(field: &'static str, u: Option<String>) -> Result<Option<String>, ValidationError> {
    let Some(u) = u.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    if u.len() > MAX_TEXT_LEN
        || !(u.starts_with("https://") || u.starts_with("http://"))
        || u.contains(char::is_whitespace)
    {
        return Err(ValidationError::Url { field, value: u });
    }
    Ok(Some(u))
}

fn validate_text(field: &'static str, t: Option<String>) -> Result<Option<String>, ValidationError> {
    let Some(t) = t.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if t.len() > MAX_TEXT_LEN || t.contains(['\n', '\r']) {
        return Err(ValidationError::Text(field));
    }
    Ok(Some(t))
}

/// A release date: Unix seconds, or RFC 3339 (`2026-11-22T10:00:00Z`), or a
/// plain date (`2026-11-22`, midnight UTC).
///
/// ```
/// use sonde_collector::admin::parse_date;
/// assert_eq!(parse_date("1700000000").unwrap(), 1_700_000_000);
/// assert_eq!(parse_date("2023-11-14T22:13:20Z").unwrap(), 1_700_000_000);
/// assert_eq!(parse_date("1970-01-02").unwrap(), 86_400);
/// assert!(parse_date("yesterday").is_err());
/// ```
pub fn parse_date(s: &str) -> Result<i64, ValidationError> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().map_err(ValidationError::DateTooLarge);
    }
    if let Some(t) = sonde_protocol::timefmt::parse_rfc3339(s) {
        return Ok(t);
    }
    parse_plain_date(s).ok_or_else(|| ValidationError::Date(s.to_owned()))
}

/// `YYYY-MM-DD` at midnight UTC, in Unix seconds.
fn parse_plain_date(s: &str) -> Option<i64> {
    if s.len() != 10 {
        return None;
    }
    sonde_protocol::timefmt::parse_rfc3339(&format!("{s}T00:00:00Z"))
}

/// A release date as JSON: Unix seconds or a string [`parse_date`] accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum DateInput {
    /// Unix seconds.
    Unix(i64),
    /// RFC 3339 or `YYYY-MM-DD` (or digits).
    Text(String),
}

/// `POST /api/v1/releases`, and `sonde release publish`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseInput {
    /// The product; its first release registers it.
    pub product: String,
    /// A semantic version.
    pub version: String,
    /// Release date; now if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<DateInput>,
    /// Download URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    /// Changelog URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changelog_url: Option<String>,
    /// Project website.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Package name for update commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Release tag for update commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_tag: Option<String>,
    /// A full install command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_command: Option<String>,
}

impl ReleaseInput {
    /// Checks every field and builds the release to store.
    pub fn validate(self, now_secs: i64) -> Result<NewRelease, ValidationError> {
        let product = validate_product(&self.product)?;
        let version = validate_version(&self.version)?;
        let date = match self.date {
            None => now_secs,
            Some(DateInput::Unix(s)) => s,
            Some(DateInput::Text(t)) => parse_date(&t)?,
        };
        Ok(NewRelease {
            product: product.to_string(),
            version,
            date,
            download_url: validate_url("download_url", self.download_url)?,
            changelog_url: validate_url("changelog_url", self.changelog_url)?,
            website: validate_url("website", self.website)?,
            package: validate_text("package", self.package)?,
            release_tag: validate_text("release_tag", self.release_tag)?,
            install_command: validate_text("install_command", self.install_command)?,
        })
    }
}

/// `POST /api/v1/alerts`, and `sonde alert add`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertInput {
    /// The product (must be registered).
    pub product: String,
    /// `info`, `warn` or `critical`.
    pub level: String,
    /// One line for the user.
    pub message: String,
    /// Where to read more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Affected client versions, a semver range; every version if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affects: Option<String>,
}

impl AlertInput {
    /// Checks every field and builds the alert to store.
    pub fn validate(self, now_secs: i64) -> Result<NewAlert, ValidationError> {
        let product = validate_product(&self.product)?;
        let level = validate_level(&self.level)?;
        let message = self.message.trim().to_owned();
        if message.is_empty() || message.len() > MAX_MESSAGE_LEN || message.contains(['\n', '\r']) {
            return Err(ValidationError::Message);
        }
        let affects = self
            .affects
            .filter(|a| !a.trim().is_empty())
            .map(|a| validate_range(&a))
            .transpose()?;
        Ok(NewAlert {
            product: product.to_string(),
            level: level.as_str().to_owned(),
            message,
            url: validate_url("url", self.url)?,
            affects,
            date: now_secs,
        })
    }
}

/// `PUT /api/v1/versions`, and `sonde versions set`: which versions of a
/// service a product supports (go-checkpoint's `/v1/versions/{service}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionsInput {
    /// The product (must be registered).
    pub product: String,
    /// The service (same rules as a product name).
    pub service: String,
    /// Oldest supported version.
    #[serde(default)]
    pub minimum: Option<String>,
    /// Newest supported version.
    #[serde(default)]
    pub maximum: Option<String>,
    /// Versions known not to work.
    #[serde(default)]
    pub excluding: Vec<String>,
}

impl VersionsInput {
    /// Checks every field and builds the constraint to store.
    pub fn validate(self) -> Result<VersionConstraint, ValidationError> {
        let product = validate_product(&self.product)?;
        let service = ProductName::parse(&self.service).map_err(|source| ValidationError::Service {
            name: self.service.clone(),
            source,
        })?;
        let opt = |v: Option<String>| {
            v.filter(|v| !v.trim().is_empty())
                .map(|v| validate_version(&v))
                .transpose()
        };
        Ok(VersionConstraint {
            product: product.to_string(),
            service: service.to_string(),
            minimum: opt(self.minimum)?.unwrap_or_default(),
            maximum: opt(self.maximum)?.unwrap_or_default(),
            excluding: self
                .excluding
                .iter()
                .map(|v| validate_version(v))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// The answer of `GET /api/v1/stats/mau`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MauAnswer {
    /// The product.
    pub product: String,
    /// The month, `YYYY-MM`.
    pub month: String,
    /// Exact number of distinct signatures seen that month.
    pub active_signatures: u64,
}
