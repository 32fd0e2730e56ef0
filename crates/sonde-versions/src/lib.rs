//! Version ordering for checks: lenient parsing of client versions, which
//! release a client is compared against, and alert ranges evaluated with plain
//! semver ordering. One reading of versions for the collector's check
//! answers and analytics and for the store's upgrade counts, which must agree
//! on what "newer" means; the fuzz target `semver_range` runs it without the
//! collector.
//!
//! Choices (see docs/collector.md):
//! - A client version may carry a `v` prefix and may be short (`1.2`, `1`);
//!   missing parts are zero. Anything else that is not semver is "unknown":
//!   never outdated, and only alerts without a range reach it.
//! - A client on a stable version is compared against the newest stable
//!   release (or the newest release if there is no stable one); a client on a
//!   pre-release against the newest release of any kind. Build metadata is
//!   ignored when comparing.
//! - Alert ranges use the `semver` crate's syntax (`<2.3.1`, `>=1.0, <2.0`,
//!   `~1.2`, `^1`), also with spaces instead of commas (`>=1.0 <2.0`), but each
//!   comparator is evaluated with plain semver ordering, so a pre-release
//!   client such as `2.3.1-rc.1` is inside `<2.3.1`. (Cargo's matching rule
//!   would leave every pre-release outside such a range.) Upper bounds derived
//!   from partial versions (`~1.2` means below `1.3.0-0`) exclude the next
//!   line's pre-releases.

use std::cmp::Ordering;

use semver::{BuildMetadata, Comparator, Op, Prerelease, Version, VersionReq};

/// Parses a client's version leniently: `v1.2.3`, `1.2`, `1`, `1.2.3-rc.1+b5`
/// (missing parts are zero); `None` for anything else.
///
/// ```
/// use sonde_versions::parse_lenient;
/// assert_eq!(parse_lenient("v1.2").unwrap().to_string(), "1.2.0");
/// assert_eq!(parse_lenient("2.0.0-rc.1").unwrap().pre.as_str(), "rc.1");
/// assert!(parse_lenient("banana").is_none());
/// ```
pub fn parse_lenient(s: &str) -> Option<Version> {
    let s = s.trim();
    let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
    if let Ok(v) = Version::parse(s) {
        return Some(v);
    }
    let split = s.find(['-', '+']).unwrap_or(s.len());
    let (core, rest) = s.split_at(split);
    let padded = match core.split('.').count() {
        1 => format!("{core}.0.0{rest}"),
        2 => format!("{core}.0{rest}"),
        _ => return None,
    };
    Version::parse(&padded).ok()
}

/// Compares by semver precedence (build metadata ignored).
pub fn compare(a: &Version, b: &Version) -> Ordering {
    a.cmp_precedence(b)
}

/// A semver range of affected versions, matched with plain ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectsRange {
    req: VersionReq,
    text: String,
}

/// A range that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version range {input:?}: {reason} (examples: \"<2.3.1\", \">=1.0.0, <2.0.0\", \"~1.4\")")]
pub struct RangeError {
    /// What was given.
    pub input: String,
    /// Why it was refused.
    pub reason: String,
}

impl AffectsRange {
    /// Parses a range. Comparators may be separated by commas or spaces.
    ///
    /// ```
    /// use sonde_versions::{parse_lenient, AffectsRange};
    /// let r = AffectsRange::parse("<2.3.1").unwrap();
    /// assert!(r.matches(&parse_lenient("2.3.0").unwrap()));
    /// assert!(r.matches(&parse_lenient("2.3.1-rc.1").unwrap()));
    /// assert!(!r.matches(&parse_lenient("2.3.1").unwrap()));
    /// let r = AffectsRange::parse(">=1.0 <2").unwrap();
    /// assert!(r.matches(&parse_lenient("1.5.0").unwrap()));
    /// assert!(!r.matches(&parse_lenient("2.0.0").unwrap()));
    /// ```
    pub fn parse(input: &str) -> Result<Self, RangeError> {
        let err = |reason: String| RangeError {
            input: input.to_owned(),
            reason,
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(err("empty".into()));
        }
        let normalized = if trimmed.contains(',') {
            trimmed.to_owned()
        } else {
            join_comparators(trimmed)
        };
        let req = VersionReq::parse(&normalized).map_err(|e| err(e.to_string()))?;
        for c in &req.comparators {
            if !matches!(
                c.op,
                Op::Exact | Op::Greater | Op::GreaterEq | Op::Less | Op::LessEq | Op::Tilde | Op::Caret | Op::Wildcard
            ) {
                return Err(err("unsupported operator".into()));
            }
        }
        Ok(AffectsRange {
            req,
            text: trimmed.to_owned(),
        })
    }

    /// The range as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `v` is inside every comparator, by plain semver ordering.
    pub fn matches(&self, v: &Version) -> bool {
        self.req.comparators.iter().all(|c| comparator_matches(c, v))
    }
}

/// `">= 1.0 <2"` → `">=1.0, <2"`: operators glued to their versions, commas between.
fn join_comparators(s: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut pending_op = String::new();
    for token in s.split_whitespace() {
        if token.chars().all(|c| matches!(c, '<' | '>' | '=' | '~' | '^')) {
            pending_op.push_str(token);
            continue;
        }
        out.push(format!("{pending_op}{token}"));
        pending_op.clear();
    }
    if !pending_op.is_empty() {
        out.push(pending_op);
    }
    out.join(", ")
}

fn version(major: u64, minor: u64, patch: u64, pre: Prerelease) -> Version {
    Version {
        major,
        minor,
        patch,
        pre,
        build: BuildMetadata::EMPTY,
    }
}

/// The lowest version of a line: `1.3.0-0`.
fn floor(major: u64, minor: u64, patch: u64) -> Version {
    version(major, minor, patch, Prerelease::new("0").expect("valid prerelease"))
}

/// The first version after the partial version `c` (`1.2` → `1.3.0-0`).
fn after_partial(c: &Comparator) -> Version {
    match (c.minor, c.patch) {
        (None, _) => floor(c.major + 1, 0, 0),
        (Some(minor), None) => floor(c.major, minor + 1, 0),
        (Some(minor), Some(patch)) => floor(c.major, minor, patch + 1),
    }
}

fn comparator_matches(c: &Comparator, v: &Version) -> bool {
    let lower = version(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0), c.pre.clone());
    let full = c.minor.is_some() && c.patch.is_some();
    let ge = |b: &Version| compare(v, b) != Ordering::Less;
    let lt = |b: &Version| compare(v, b) == Ordering::Less;
    match c.op {
        Op::Exact | Op::Wildcard if full => compare(v, &lower) == Ordering::Equal,
        Op::Exact | Op::Wildcard => ge(&lower) && lt(&after_partial(c)),
        Op::Greater if full => compare(v, &lower) == Ordering::Greater,
        Op::Greater => ge(&after_partial(c)),
        Op::GreaterEq => ge(&lower),
        Op::Less => lt(&lower),
        Op::LessEq if full => compare(v, &lower) != Ordering::Greater,
        Op::LessEq => lt(&after_partial(c)),
        Op::Tilde => {
            let upper = match c.minor {
                None => floor(c.major + 1, 0, 0),
                Some(minor) => floor(c.major, minor + 1, 0),
            };
            ge(&lower) && lt(&upper)
        }
        Op::Caret => {
            let upper = match (c.major, c.minor, c.patch) {
                (0, Some(0), Some(patch)) => floor(0, 0, patch + 1),
                (0, Some(minor), _) if minor > 0 || c.patch.is_none() => floor(0, minor + 1, 0),
                (major, _, _) => floor(major + 1, 0, 0),
            };
            ge(&lower) && lt(&upper)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(range: &str, v: &str) -> bool {
        AffectsRange::parse(range).unwrap().matches(&parse_lenient(v).unwrap())
    }

    #[test]
    fn ranges_follow_plain_ordering() {
        assert!(m("<2.3.1", "2.3.1-rc.1"));
        assert!(m("<2.3.1", "1.0.0"));
        assert!(!m("<2.3.1", "2.3.1"));
        assert!(m(">=2.0.0-beta.1, <2.0.0", "2.0.0-rc.2"));
        assert!(!m(">=2.0.0-beta.1, <2.0.0", "2.0.0"));
        assert!(m("~1.2", "1.2.9"));
        assert!(!m("~1.2", "1.3.0-rc.1"));
        assert!(m("^0.2.3", "0.2.9"));
        assert!(!m("^0.2.3", "0.3.0"));
        assert!(m("=1.2", "1.2.7"));
        assert!(m("1.2.*", "1.2.7"));
        assert!(m("<=1.2", "1.2.7"));
        assert!(!m(">1.2", "1.2.7"));
        assert!(m(">1.2", "1.3.0"));
        assert!(m("< 2", "v1.9"));
    }

    #[test]
    fn bad_ranges_are_refused() {
        for bad in ["", "banana", "<<1", ">=1.0.0,"] {
            assert!(AffectsRange::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lenient_versions() {
        assert_eq!(parse_lenient("1").unwrap(), Version::new(1, 0, 0));
        assert_eq!(parse_lenient("V2.1-rc.1").unwrap().to_string(), "2.1.0-rc.1");
        assert!(parse_lenient("1.2.3.4").is_none());
        assert!(parse_lenient("").is_none());
    }
}
