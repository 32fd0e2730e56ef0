//! The version grammar every version field is checked against, the runtime
//! version shape, and the reduction of a database's version text.
//!
//! A version is semver-like: an optional `v`, one to four numeric parts
//! (`1`, `1.2.3`, `10.0.19045.2604`), then an optional `-` pre-release and
//! an optional `+` build, each at most eight dot-separated identifiers of
//! `[0-9A-Za-z-]`, at most 32 bytes each. The privacy detectors run over the
//! whole value, so an identifier that identifies (`1.0.0+AKIA…`,
//! `2.0.0-build.example.com`) drops the value.

use crate::dropped::DropReason;
use crate::privacy::find_identifying;

/// Most numeric parts of a version core.
const MAX_CORE_PARTS: usize = 4;
/// Most digits in one numeric part.
const MAX_PART_DIGITS: usize = 10;
/// Most identifiers in a pre-release or build part.
const MAX_IDENTIFIERS: usize = 8;
/// Longest identifier.
const MAX_IDENTIFIER_LEN: usize = 32;

/// Whether `s` follows the version grammar (no privacy check).
///
/// ```
/// use sonde_protocol::version::is_version;
/// assert!(is_version("v2.0.0-rc.1"));
/// assert!(is_version("2.38.0-beta.1+build.5"));
/// assert!(!is_version("latest"));
/// assert!(!is_version("1.2.3 on alices-macbook"));
/// ```
pub fn is_version(s: &str) -> bool {
    let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
    let (rest, build) = match s.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (s, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let parts = core.split('.');
    let mut n = 0;
    for p in parts {
        n += 1;
        if n > MAX_CORE_PARTS || p.is_empty() || p.len() > MAX_PART_DIGITS || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    pre.is_none_or(identifiers) && build.is_none_or(identifiers)
}

/// A dot-separated list of pre-release or build identifiers.
fn identifiers(s: &str) -> bool {
    let mut n = 0;
    for id in s.split('.') {
        n += 1;
        if n > MAX_IDENTIFIERS
            || id.is_empty()
            || id.len() > MAX_IDENTIFIER_LEN
            || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return false;
        }
    }
    true
}

/// Checks a version field: at most `max` bytes ([`DropReason::TooLong`]),
/// nothing identifying, then the grammar ([`DropReason::InvalidFormat`]).
pub(crate) fn check(s: &str, max: usize) -> Result<&str, DropReason> {
    let s = s.trim();
    if s.len() > max {
        return Err(DropReason::TooLong);
    }
    if let Some(hit) = find_identifying(s) {
        return Err(hit.into());
    }
    if !is_version(s) {
        return Err(DropReason::InvalidFormat);
    }
    Ok(s)
}

/// Runtime names that may precede a runtime version (`rustc 1.95.0`,
/// `go1.22.3`, `node v20.20.2`).
pub const RUNTIMES: &[&str] = &[
    "rustc", "node", "nodejs", "go", "deno", "bun", "python", "pypy", "java", "openjdk", "ruby", "dotnet", "php",
    "erlang", "elixir", "ghc", "swift", "zig",
];

/// Checks a runtime version: `[runtime[ ]]version`, the runtime from
/// [`RUNTIMES`] (`rustc unknown`, what Sonde's client sends when it could
/// not read its compiler's version, is accepted too).
///
/// ```
/// use sonde_protocol::version::runtime;
/// assert_eq!(runtime("rustc 1.95.0").unwrap(), "rustc 1.95.0");
/// assert_eq!(runtime("go1.22.3").unwrap(), "go1.22.3");
/// assert!(runtime("node on build-7.corp.example.com").is_err());
/// ```
pub fn runtime(s: &str) -> Result<&str, DropReason> {
    let s = s.trim();
    if s.len() > crate::limits::MAX_RUNTIME_LEN {
        return Err(DropReason::TooLong);
    }
    if let Some(hit) = find_identifying(s) {
        return Err(hit.into());
    }
    let rest = RUNTIMES
        .iter()
        .filter_map(|r| {
            let head = s.get(..r.len())?;
            head.eq_ignore_ascii_case(r).then(|| &s[r.len()..])
        })
        .map(|rest| rest.strip_prefix(' ').unwrap_or(rest))
        .find(|rest| is_version(rest) || *rest == "unknown");
    if rest.is_some() || is_version(s) {
        Ok(s)
    } else {
        Err(DropReason::InvalidFormat)
    }
}

/// Words a database's version text may name its product with.
const DB_WORDS: &[&str] = &[
    "postgresql",
    "postgres",
    "mysql",
    "mariadb",
    "microsoft",
    "sql",
    "server",
    "azure",
    "edge",
    "cockroachdb",
    "ccl",
    "oss",
    "citus",
    "yugabytedb",
    "timescaledb",
    "bigquery",
    "snowflake",
    "mongodb",
    "sqlite",
    "oracle",
    "database",
    "clickhouse",
    "tidb",
    "aurora",
    "alloydb",
    "spanner",
    "redshift",
    "duckdb",
    "trino",
    "athena",
    "enterprise",
    "express",
    "standard",
    "developer",
    "edition",
    "cloud",
    "community",
    "percona",
];

/// Reduces a database's version text to its product words and version
/// (`PostgreSQL 15.2 on x86_64-pc-linux-gnu, compiled by gcc …` →
/// `PostgreSQL 15.2`): the leading words from a closed list of database
/// product words, then the first token that follows the version grammar.
/// Everything after it (build host, compiler, paths) is dropped; a text with
/// no version is dropped as [`DropReason::InvalidFormat`]. The text is
/// checked by the privacy detectors first, within `max` bytes.
///
/// ```
/// use sonde_protocol::version::db_version;
/// assert_eq!(db_version("PostgreSQL 15.2 on x86_64-pc-linux-gnu, compiled by gcc 10.2.1, 64-bit", 256).unwrap(), "PostgreSQL 15.2");
/// assert_eq!(db_version("Microsoft SQL Server 2019 (RTM-CU18) - 15.0.4261.1 (X64)", 256).unwrap(), "Microsoft SQL Server 2019");
/// assert_eq!(db_version("8.0.34-0ubuntu0.22.04.1", 256).unwrap(), "8.0.34-0ubuntu0.22.04.1");
/// assert!(db_version("PostgreSQL 15.2 on db.internal", 256).is_err());
/// ```
pub fn db_version(s: &str, max: usize) -> Result<String, DropReason> {
    let s = s.trim();
    if s.len() > max {
        return Err(DropReason::TooLong);
    }
    if let Some(hit) = find_identifying(s) {
        return Err(hit.into());
    }
    let mut words: Vec<&str> = Vec::new();
    for tok in s.split_whitespace() {
        let tok = tok.trim_end_matches([',', ';']);
        if is_version(tok) {
            if tok.len() > crate::limits::MAX_VERSION_LEN {
                return Err(DropReason::TooLong);
            }
            words.push(tok);
            return Ok(words.join(" "));
        }
        if words.len() < 4 && DB_WORDS.iter().any(|w| w.eq_ignore_ascii_case(tok)) {
            words.push(tok);
        } else {
            // A word outside the list ends the product name; the version
            // must come first.
            words.clear();
            if !tok.bytes().all(|b| b.is_ascii_alphabetic()) {
                break;
            }
        }
    }
    Err(DropReason::InvalidFormat)
}
