//! The shape each kind of value must have: one validator per shape, used by
//! the checkpoint ping and by every event field alike.
//!
//! Each validator returns the normalised value to store, or the
//! [`DropReason`] it fails with. Most check in one order: length first
//! ([`DropReason::TooLong`]), then the privacy detectors (an e-mail address in
//! a version string is dropped as `email`), then the character set
//! ([`DropReason::InvalidFormat`]).

use crate::dropped::DropReason;
use crate::limits::{
    MAX_ACTION_LEN, MAX_CI_NAME_LEN, MAX_HASH_LEN, MAX_METRICS_KEY_LEN, MAX_PLATFORM_LEN, MAX_RUNTIME_LEN,
    MAX_TOKEN_LEN, MAX_VERSION_LEN, MIN_HASH_LEN,
};
use crate::privacy::find_identifying;

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

/// A version string: `[A-Za-z0-9.+_-]`, at most 64 bytes (`v1.2.3`, `1.0.0-rc0`).
pub fn version(s: &str) -> Result<String, DropReason> {
    checked(s.trim(), MAX_VERSION_LEN, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'_' | b'-')
    })
    .map(str::to_owned)
}

/// An `os` or `arch` value: `[A-Za-z0-9._-]`, at most 32 bytes, stored lower-case.
pub fn platform(s: &str) -> Result<String, DropReason> {
    checked(s.trim(), MAX_PLATFORM_LEN, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
    })
    .map(str::to_ascii_lowercase)
}

/// A runtime version (`v20.20.2`, `rustc 1.95.0`): letters, digits, spaces and
/// `.+_-()`, at most 64 bytes.
pub fn runtime(s: &str) -> Result<String, DropReason> {
    checked(s.trim(), MAX_RUNTIME_LEN, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'_' | b'-' | b' ' | b'(' | b')')
    })
    .map(str::to_owned)
}

/// A CI vendor name (`GitHub Actions`, `TRAVIS`): letters, digits, spaces and
/// `._-/()`, at most 64 bytes, and nothing identifying.
pub fn ci_name(s: &str) -> Result<String, DropReason> {
    checked(s.trim(), MAX_CI_NAME_LEN, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b' ' | b'/' | b'(' | b')')
    })
    .map(str::to_owned)
}

/// A client-side hash: 8 to 64 hex digits, stored lower-case.
pub fn hash(s: &str) -> Result<String, DropReason> {
    if s.len() > MAX_HASH_LEN {
        return Err(DropReason::TooLong);
    }
    if s.len() < MIN_HASH_LEN || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DropReason::InvalidFormat);
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

/// A longer text field (a database version): letters, digits, spaces and
/// `.,+_-()/:`, at most `max` bytes, nothing identifying.
pub fn text(s: &str, max: usize) -> Result<String, DropReason> {
    checked(s.trim(), max, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b' ' | b'.' | b',' | b'+' | b'_' | b'-' | b'(' | b')' | b'/' | b':')
    })
    .map(str::to_owned)
}

/// A short lower-case token (`console_mode`, a feature name): `[a-z0-9_-]`,
/// at most 32 bytes. Its character set leaves nothing to detect, so no
/// privacy detector runs.
pub fn token(s: &str) -> Result<String, DropReason> {
    if s.len() > MAX_TOKEN_LEN {
        return Err(DropReason::TooLong);
    }
    only(s, |b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-')
    })?;
    Ok(s.to_owned())
}

/// A console action name (`ModifyTable/RESET`): `[A-Za-z0-9_/:.@-]`, at most
/// 128 bytes, nothing identifying.
pub fn action(s: &str) -> Result<String, DropReason> {
    checked(s, MAX_ACTION_LEN, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'_' | b'/' | b':' | b'.' | b'@' | b'-')
    })
    .map(str::to_owned)
}

/// A key of a `metrics` object: `[A-Za-z0-9_.-]`, at most 64 bytes, nothing
/// identifying. Borrowed: the caller decides whether to copy it.
pub fn metrics_key(s: &str) -> Result<&str, DropReason> {
    checked(s, MAX_METRICS_KEY_LEN, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
    })
}

/// Checks `s` in the module's order: at most `max` bytes, nothing
/// identifying, then non-empty and made of `allowed` bytes only.
fn checked(s: &str, max: usize, allowed: impl Fn(u8) -> bool) -> Result<&str, DropReason> {
    if s.len() > max {
        return Err(DropReason::TooLong);
    }
    if let Some(hit) = find_identifying(s) {
        return Err(hit.into());
    }
    only(s, allowed)?;
    Ok(s)
}

/// Non-empty and made of `allowed` bytes only.
fn only(s: &str, allowed: impl Fn(u8) -> bool) -> Result<(), DropReason> {
    if s.is_empty() || !s.bytes().all(allowed) {
        return Err(DropReason::InvalidFormat);
    }
    Ok(())
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
    }
}
