//! Active signatures: the answers analytics reads, and the attributes a
//! signature is counted under.
//!
//! A signature is *active* in a period (day, ISO week, month, or any range
//! of days) if a ping carrying it was received in that period. Within a
//! period it counts once, under the attributes of its first ping there
//! ([`Attrs`]): its version, OS, arch, runtime, whether it ran in CI and the
//! CI vendor. So the groups of a breakdown are disjoint and add up to the
//! period's total, and "humans only" means "signatures whose first ping in
//! the period was not from CI".
//!
//! Both backends keep, per (product, day), the set of signatures first seen
//! that day with their attributes; days and months are also counted at
//! ingest, so those answers are lookups. Weeks and arbitrary ranges are
//! unions of the daily sets, folded with [`Distinct`].

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sonde_protocol::UsagePing;

/// What a breakdown groups active signatures by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// The client's version.
    Version,
    /// Operating system.
    Os,
    /// Architecture.
    Arch,
    /// Runtime version.
    Runtime,
    /// CI vendor (empty for signatures not in CI).
    CiName,
}

impl Dimension {
    /// Every dimension, in the order the roll-ups store them.
    pub const ALL: [Dimension; 5] = [
        Dimension::Version,
        Dimension::Os,
        Dimension::Arch,
        Dimension::Runtime,
        Dimension::CiName,
    ];

    /// Its name: `version`, `os`, `arch`, `runtime`, `ci_name`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Version => "version",
            Dimension::Os => "os",
            Dimension::Arch => "arch",
            Dimension::Runtime => "runtime",
            Dimension::CiName => "ci_name",
        }
    }
}

/// A dimension name that is none of [`Dimension::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dimension {0:?}: expected version, os, arch, runtime or ci_name")]
pub struct DimensionParseError(pub String);

impl std::str::FromStr for Dimension {
    type Err = DimensionParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dimension::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| DimensionParseError(s.to_owned()))
    }
}

/// The attributes a signature is counted under in a period: those of its
/// first ping there. A value the ping did not carry is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs {
    /// Whether that ping said it ran in CI.
    pub ci: bool,
    /// Client version.
    pub version: String,
    /// Operating system.
    pub os: String,
    /// Architecture.
    pub arch: String,
    /// Runtime version.
    pub runtime: String,
    /// CI vendor.
    pub ci_name: String,
}

impl Attrs {
    /// The attributes of `ping`.
    pub fn of(ping: &UsagePing) -> Self {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        Attrs {
            ci: ping.ci.unwrap_or(false),
            version: s(&ping.version),
            os: s(&ping.os),
            arch: s(&ping.arch),
            runtime: s(&ping.runtime_version),
            ci_name: s(&ping.ci_name),
        }
    }

    /// The value of `dimension`.
    pub fn get(&self, dimension: Dimension) -> &str {
        match dimension {
            Dimension::Version => &self.version,
            Dimension::Os => &self.os,
            Dimension::Arch => &self.arch,
            Dimension::Runtime => &self.runtime,
            Dimension::CiName => &self.ci_name,
        }
    }
}

/// Active signatures in one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodCount {
    /// The period's name (see [`crate::Period`]).
    pub period: String,
    /// Exact number of distinct active signatures.
    pub count: u64,
    /// Of them, the signatures seen for the first time ever in this period
    /// (counted under the CI flag of that first ping); the others are
    /// returning.
    pub new: u64,
}

/// Active signatures in one period with one value of a dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakdownRow {
    /// The period's name (see [`crate::Period`]).
    pub period: String,
    /// The dimension's value (empty: not reported).
    pub value: String,
    /// Exact number of distinct active signatures.
    pub count: u64,
}

/// Retention: how many signatures first seen in `cohort` were active in `month`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CohortCell {
    /// The month the signatures were first seen in, `YYYY-MM`.
    pub cohort: String,
    /// The month they were active in, `YYYY-MM` (the cohort's own month
    /// counts every signature of the cohort: they are that month's new ones).
    pub month: String,
    /// Exact number of distinct signatures.
    pub active: u64,
}

/// Distinct signatures over several days, each under the attributes of
/// its first day there: feed the days in order.
#[derive(Debug, Default)]
pub(crate) struct Distinct(pub(crate) HashMap<String, Attrs>);

impl Distinct {
    /// Adds `signature` seen with `attrs`, unless already seen.
    pub(crate) fn add(&mut self, signature: &str, attrs: impl FnOnce() -> Attrs) {
        if !self.0.contains_key(signature) {
            self.0.insert(signature.to_owned(), attrs());
        }
    }

    /// How many, leaving CI out unless `include_ci`.
    pub(crate) fn count(&self, include_ci: bool) -> u64 {
        self.0.values().filter(|a| include_ci || !a.ci).count() as u64
    }

    /// How many per value of `dimension`, leaving CI out unless `include_ci`.
    pub(crate) fn by(&self, dimension: Dimension, include_ci: bool) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for a in self.0.values().filter(|a| include_ci || !a.ci) {
            *out.entry(a.get(dimension).to_owned()).or_default() += 1;
        }
        out
    }
}
