//! The shape each kind of value must have: one validator per shape, used by
//! the checkpoint ping and by every event field alike.
//!
//! Each validator returns the normalised value to store, or the
//! [`DropReason`] it fails with. Most check in one order: length first
//! ([`DropReason::TooLong`]), then the privacy detectors (an e-mail address in
//! a version string is dropped as `email`), then the shape: a closed list
//! ([`DropReason::NotInVocabulary`]: OS and architecture names, CI vendors,
//! a product's registered words) or a grammar ([`DropReason::InvalidFormat`]:
//! versions, tokens).

use crate::dropped::DropReason;
use crate::limits::{
    MAX_CI_NAME_LEN, MAX_HASH_LEN, MAX_METRICS_KEY_LEN, MAX_PLATFORM_LEN, MAX_VERSION_LEN, MIN_HASH_LEN,
};
use crate::privacy::find_identifying;
use crate::vocabulary::{self, Vocabulary, WordKind};

/// A signature: a UUID layout (8-4-4-4-12 hex digits, version bits not
/// required, as go-checkpoint sends them), normalised to lower case.
///
/// ```
/// use sonde_protocol::shapes::signature;
/// assert_eq!(signature("0B3F4C4E-1D2A-4C3B-8F00-0123456789AB").unwrap(), "0b3f4c4e-1d2a-4c3b-8f00-0123456789ab");
/// assert!(signature("not-a-uuid").is_err());
/// ```
pub fn signature(s: &str) -> Result<String, DropReason> {
    crate::uuid::normalize(s).ok_or(DropReason::InvalidSignature)
}

/// A version: the grammar of [`crate::version`] (`v1.2.3`, `1.0.0-rc0`,
/// `2.38.0-beta.1+build.5`), at most 64 bytes, nothing identifying.
///
/// ```
/// use sonde_protocol::{shapes::version, DropReason};
/// assert_eq!(version("v2.0.0-rc.1").unwrap(), "v2.0.0-rc.1");
/// assert_eq!(version("1.0.0+AKIAIOSFODNN7EXAMPLE"), Err(DropReason::Secret));
/// assert_eq!(version("latest"), Err(DropReason::InvalidFormat));
/// ```
pub fn version(s: &str) -> Result<String, DropReason> {
    crate::version::check(s, MAX_VERSION_LEN).map(str::to_owned)
}

/// Checks a value against a closed list: at most `max` bytes, then the
/// detectors (so the reason says what a planted value was), then `known`.
fn listed(s: &str, max: usize, known: impl Fn(&str) -> bool) -> Result<&str, DropReason> {
    let s = s.trim();
    if s.len() > max {
        return Err(DropReason::TooLong);
    }
    if s.is_empty() {
        return Err(DropReason::InvalidFormat);
    }
    if known(s) {
        return Ok(s);
    }
    match find_identifying(s) {
        Some(hit) => Err(hit.into()),
        None => Err(DropReason::NotInVocabulary),
    }
}

/// An `os` value: a known operating system name
/// ([`crate::platforms::OS_NAMES`]), stored lower-case.
///
/// ```
/// use sonde_protocol::{shapes::os, DropReason};
/// assert_eq!(os("Linux").unwrap(), "linux");
/// assert_eq!(os("alices-macbook.local"), Err(DropReason::Hostname));
/// assert_eq!(os("prodbox"), Err(DropReason::NotInVocabulary));
/// ```
pub fn os(s: &str) -> Result<String, DropReason> {
    listed(s, MAX_PLATFORM_LEN, crate::platforms::is_os).map(str::to_ascii_lowercase)
}

/// An `arch` value: a known architecture name
/// ([`crate::platforms::ARCH_NAMES`]), stored lower-case.
pub fn arch(s: &str) -> Result<String, DropReason> {
    listed(s, MAX_PLATFORM_LEN, crate::platforms::is_arch).map(str::to_ascii_lowercase)
}

/// A runtime version (`v20.20.2`, `rustc 1.95.0`, `go1.22.3`): see
/// [`crate::version::runtime`].
pub fn runtime(s: &str) -> Result<String, DropReason> {
    crate::version::runtime(s).map(str::to_owned)
}

/// A CI vendor name: one of [`crate::ci::VENDORS`] by name or alias
/// (`GitHub Actions`, `TRAVIS`), stored as sent.
pub fn ci_name(s: &str) -> Result<String, DropReason> {
    listed(s, MAX_CI_NAME_LEN, |v| crate::ci::vendor(v).is_some()).map(str::to_owned)
}

/// A client-side hash: 8 to 16 hex digits, stored lower-case, nothing
/// identifying. Both clients that send one (Prisma's and Sonde's) send 8; a
/// longer hex string is a secret's shape.
pub fn hash(s: &str) -> Result<String, DropReason> {
    if s.len() > MAX_HASH_LEN {
        return Err(DropReason::TooLong);
    }
    if s.len() < MIN_HASH_LEN || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DropReason::InvalidFormat);
    }
    // Ten decimal digits are hex too, and an IPv4 address as one number.
    if let Some(hit) = find_identifying(s) {
        return Err(hit.into());
    }
    Ok(s.to_ascii_lowercase())
}

/// A boolean flag as the clients send it: `true`/`false`/`1`/`0` (any case).
pub fn flag(s: &str) -> Result<bool, DropReason> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(DropReason::InvalidFormat),
    }
}

/// A database's version text, reduced to product words and version
/// (`PostgreSQL 15.2`): see [`crate::version::db_version`].
pub fn db_version(s: &str, max: usize) -> Result<String, DropReason> {
    crate::version::db_version(s, max)
}

/// A short lower-case token (`console_mode`): `[a-z0-9_-]`, at most 48
/// bytes. Its character set leaves little to detect, but the detectors run
/// (a bare `3520061382` is an address).
pub fn token(s: &str) -> Result<String, DropReason> {
    if s.len() > crate::limits::MAX_TOKEN_LEN {
        return Err(DropReason::TooLong);
    }
    if !vocabulary::is_token(s) {
        return Err(DropReason::InvalidFormat);
    }
    if let Some(hit) = find_identifying(s) {
        return Err(hit.into());
    }
    Ok(s.to_owned())
}

/// A word of `kind` (`db_kind`, an experimental feature name): one the
/// product registered if it registered any, otherwise a [`token`].
pub fn word(s: &str, kind: WordKind, vocab: &Vocabulary) -> Result<String, DropReason> {
    if vocab.has(kind) {
        if vocab.contains(kind, s) {
            return Ok(s.to_owned());
        }
        return Err(find_identifying(s).map_or(DropReason::NotInVocabulary, DropReason::from));
    }
    token(s)
}

/// A console event type: one the product registered if it registered any,
/// otherwise the tight event-type shape (segments in PascalCase or
/// UPPER_SNAKE: `ModifyTable/RESET`), nothing identifying.
///
/// ```
/// use sonde_protocol::{shapes::event_type, vocabulary::Vocabulary, DropReason};
/// let none = Vocabulary::new();
/// assert_eq!(event_type("ModifyTable/RESET", &none).unwrap(), "ModifyTable/RESET");
/// assert_eq!(event_type("ModifyTable/customers", &none), Err(DropReason::InvalidFormat));
/// ```
pub fn event_type(s: &str, vocab: &Vocabulary) -> Result<String, DropReason> {
    if s.len() > crate::limits::MAX_ACTION_LEN {
        return Err(DropReason::TooLong);
    }
    if vocab.has(WordKind::EventType) {
        return word(s, WordKind::EventType, vocab);
    }
    if let Some(hit) = find_identifying(s) {
        return Err(hit.into());
    }
    if !vocabulary::is_event_type(s) {
        return Err(DropReason::InvalidFormat);
    }
    Ok(s.to_owned())
}

/// A key of a `metrics` object at the dotted `path` (`relationships.manual`):
/// a path the product registered (or on the way to one) if it registered
/// any, otherwise lower-case identifiers joined by dots (`[a-z][a-z0-9_]*`,
/// at most 64 bytes in all). Borrowed: the caller decides whether to copy it.
pub fn metrics_key<'a>(key: &'a str, path: &str, vocab: &Vocabulary) -> Result<&'a str, DropReason> {
    if key.len() > MAX_METRICS_KEY_LEN {
        return Err(DropReason::TooLong);
    }
    if vocab.has(WordKind::MetricKey) {
        if vocab.metric_path_allowed(path) {
            return Ok(key);
        }
        return Err(find_identifying(key).map_or(DropReason::NotInVocabulary, DropReason::from));
    }
    if let Some(hit) = find_identifying(key) {
        return Err(hit.into());
    }
    if !key.split('.').all(vocabulary::is_metric_segment) {
        return Err(DropReason::InvalidFormat);
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_version_is_too_long() {
        assert_eq!(version(&"1".repeat(10_000)), Err(DropReason::TooLong));
    }

    #[test]
    fn ci_name_with_ip_is_dropped() {
        assert_eq!(ci_name("runner 10.1.2.3"), Err(DropReason::IpAddress));
        assert_eq!(ci_name("GitHub Actions").unwrap(), "GitHub Actions");
        assert_eq!(ci_name("My Own CI"), Err(DropReason::NotInVocabulary));
    }

    #[test]
    fn closed_lists_and_grammars() {
        assert_eq!(arch("x64").unwrap(), "x64");
        assert_eq!(arch("DESKTOP-7QK2M9A"), Err(DropReason::Hostname));
        assert_eq!(version("010.213.047.198"), Err(DropReason::IpAddress));
        assert_eq!(version("1.2.3 beta"), Err(DropReason::InvalidFormat));
        assert_eq!(token("3520061382"), Err(DropReason::IpAddress));
        assert_eq!(hash(&"a".repeat(40)), Err(DropReason::TooLong));
    }
}
