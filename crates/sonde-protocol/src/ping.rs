//! The usage ping: what the collector stores for every version check.
//!
//! [`UsagePing::from_check`] is the one place that decides which parts of a
//! check are kept. It keeps the seed fields, validates each, and reports every
//! value it dropped with a [`DropReason`]; the raw query, unknown keys, the
//! user agent string and the client's address are never part of a ping.

use std::borrow::Cow;

use crate::checkpoint::{CheckQuery, TelemetryBody};
use crate::dropped::DropReason;
pub use crate::dropped::Dropped;
use crate::product::ProductName;
use crate::shapes;

/// Which family of client sent a check, read from its `User-Agent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientFamily {
    /// HashiCorp's go-checkpoint (`HashiCorp/go-checkpoint`).
    GoCheckpoint,
    /// Prisma's checkpoint-client (`prisma/js-checkpoint`).
    Prisma,
    /// Sonde's own client library or `sonde ping` (`sonde/…`).
    Sonde,
    /// Anything else, including no user agent.
    Other,
}

impl ClientFamily {
    /// Classifies a `User-Agent` header value.
    ///
    /// ```
    /// use sonde_protocol::ClientFamily;
    /// assert_eq!(ClientFamily::from_user_agent(Some("HashiCorp/go-checkpoint")), ClientFamily::GoCheckpoint);
    /// assert_eq!(ClientFamily::from_user_agent(Some("prisma/js-checkpoint")), ClientFamily::Prisma);
    /// assert_eq!(ClientFamily::from_user_agent(None), ClientFamily::Other);
    /// ```
    pub fn from_user_agent(ua: Option<&str>) -> Self {
        let Some(ua) = ua else { return ClientFamily::Other };
        let lower = ua.to_ascii_lowercase();
        if lower.contains("go-checkpoint") {
            ClientFamily::GoCheckpoint
        } else if lower.contains("js-checkpoint") || lower.starts_with("prisma") {
            ClientFamily::Prisma
        } else if lower.starts_with("sonde/") || lower.starts_with("sonde-") {
            ClientFamily::Sonde
        } else {
            ClientFamily::Other
        }
    }

    /// A short stable name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientFamily::GoCheckpoint => "go-checkpoint",
            ClientFamily::Prisma => "prisma",
            ClientFamily::Sonde => "sonde",
            ClientFamily::Other => "other",
        }
    }
}

/// A usage ping as stored: only validated seed fields, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsagePing {
    /// The product, from the URL path.
    pub product: ProductName,
    /// The client's version.
    pub version: Option<String>,
    /// Operating system (`linux`, `darwin`, `windows`).
    pub os: Option<String>,
    /// Architecture (`amd64`, `x64`, `arm64`).
    pub arch: Option<String>,
    /// Runtime version (`v20.20.2`, `rustc 1.95.0`).
    pub runtime_version: Option<String>,
    /// Random per-user signature, UUID layout, lower case.
    pub signature: Option<String>,
    /// Whether the client ran in CI, if it said.
    pub ci: Option<bool>,
    /// CI vendor name, if any.
    pub ci_name: Option<String>,
    /// Which client family sent it.
    pub client_family: ClientFamily,
    /// The client's salted project hash (hex).
    pub project_hash: Option<String>,
    /// The client's salted CLI-path hash (hex).
    pub cli_path_hash: Option<String>,
    /// When the collector received it, Unix milliseconds (server clock).
    pub received_at_ms: i64,
}

impl UsagePing {
    /// Builds the stored ping from a check, dropping every value that fails its
    /// validator. Empty values (`key=`) count as absent, not as malformed.
    pub fn from_check(
        product: ProductName,
        q: &CheckQuery<'_>,
        user_agent: Option<&str>,
        received_at_ms: i64,
    ) -> (UsagePing, Vec<Dropped>) {
        let mut dropped = Vec::new();
        for _ in 0..q.unknown_keys {
            dropped.push(Dropped {
                field: "*",
                reason: DropReason::UnknownField,
            });
        }
        let mut keep =
            |field: &'static str, value: &Option<Cow<'_, str>>, check: fn(&str) -> Result<String, DropReason>| {
                let v = value.as_deref().filter(|v| !v.is_empty())?;
                match check(v) {
                    Ok(v) => Some(v),
                    Err(reason) => {
                        dropped.push(Dropped { field, reason });
                        None
                    }
                }
            };
        let ping_version = keep("version", &q.version, shapes::version);
        let os = keep("os", &q.os, shapes::os);
        let arch = keep("arch", &q.arch, shapes::arch);
        let runtime_version = keep("runtime_version", &q.runtime_version, shapes::runtime);
        let signature = keep("signature", &q.signature, shapes::signature);
        let ci_name = keep("ci_name", &q.ci_name, shapes::ci_name);
        let project_hash = keep("project_hash", &q.project_hash, shapes::hash);
        let cli_path_hash = keep("cli_path_hash", &q.cli_path_hash, shapes::hash);
        let ci = match q.ci.as_deref().filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => match shapes::flag(v) {
                Ok(b) => Some(b),
                Err(reason) => {
                    dropped.push(Dropped { field: "ci", reason });
                    None
                }
            },
        };
        let ping = UsagePing {
            product,
            version: ping_version,
            os,
            arch,
            runtime_version,
            signature,
            ci: ci.or(ci_name.as_ref().map(|_| true)),
            ci_name,
            client_family: ClientFamily::from_user_agent(user_agent),
            project_hash,
            cli_path_hash,
            received_at_ms,
        };
        (ping, dropped)
    }

    /// Builds the stored ping from go-checkpoint's telemetry report. The
    /// `payload`, `run_id` and times are not kept.
    pub fn from_telemetry(
        product: ProductName,
        body: &TelemetryBody,
        user_agent: Option<&str>,
        received_at_ms: i64,
    ) -> (UsagePing, Vec<Dropped>) {
        let q = CheckQuery {
            arch: body.arch.as_deref().map(Cow::Borrowed),
            os: body.os.as_deref().map(Cow::Borrowed),
            signature: body.signature.as_deref().map(Cow::Borrowed),
            version: body.version.as_deref().map(Cow::Borrowed),
            ..CheckQuery::default()
        };
        Self::from_check(product, &q, user_agent, received_at_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_fields_are_dropped_and_reported() {
        let raw = format!(
            "signature=nope&version={}&os=linux&arch=amd64&ci_name=GitHub+Actions&extra=1",
            "9".repeat(10_000)
        );
        let q = CheckQuery::parse(&raw);
        let (ping, dropped) =
            UsagePing::from_check(ProductName::parse("p").unwrap(), &q, Some("prisma/js-checkpoint"), 1);
        assert_eq!(ping.signature, None);
        assert_eq!(ping.version, None);
        assert_eq!(ping.os.as_deref(), Some("linux"));
        assert_eq!(ping.ci, Some(true));
        assert_eq!(ping.client_family, ClientFamily::Prisma);
        assert_eq!(
            dropped,
            [
                Dropped {
                    field: "*",
                    reason: DropReason::UnknownField
                },
                Dropped {
                    field: "version",
                    reason: DropReason::TooLong
                },
                Dropped {
                    field: "signature",
                    reason: DropReason::InvalidSignature
                },
            ]
        );
    }
}
