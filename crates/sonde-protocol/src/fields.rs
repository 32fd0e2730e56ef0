//! Per-field validators, and the reasons a value is dropped.
//!
//! A malformed value in a known field never breaks the answer to a real
//! client: the collector drops that one field from the stored row and counts
//! the [`DropReason`]. Each validator returns the normalised value to store.

use crate::limits::{MAX_CI_NAME_LEN, MAX_HASH_LEN, MAX_PLATFORM_LEN, MAX_RUNTIME_LEN, MAX_VERSION_LEN, MIN_HASH_LEN};
use crate::privacy::{find_identifying, PrivacyHit};

/// Why a value (or a whole field) was dropped before storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// A field the allowlist does not know.
    UnknownField,
    /// Longer than the field's limit.
    TooLong,
    /// Empty where a value is required, or characters outside the field's set.
    InvalidFormat,
    /// Not a UUID layout (8-4-4-4-12 hex).
    InvalidSignature,
    /// Looked like an e-mail address.
    Email,
    /// Looked like an IP address.
    IpAddress,
    /// Looked like a URL.
    Url,
    /// Looked like a path in a home directory.
    HomePath,
    /// Looked like a credential.
    Secret,
    /// A string where only numbers and booleans are allowed (metrics leaves).
    NotANumber,
    /// A route that matches none of the product's registered route templates.
    UnknownRoute,
    /// A flag value or positional argument in a command (only the command
    /// path and flag names are kept).
    ArgumentValue,
    /// Free text or a payload object (error messages, `payload`), which is
    /// never stored.
    FreeText,
}

impl DropReason {
    /// Every reason, in a stable order.
    pub const ALL: [DropReason; 13] = [
        DropReason::UnknownField,
        DropReason::TooLong,
        DropReason::InvalidFormat,
        DropReason::InvalidSignature,
        DropReason::Email,
        DropReason::IpAddress,
        DropReason::Url,
        DropReason::HomePath,
        DropReason::Secret,
        DropReason::NotANumber,
        DropReason::UnknownRoute,
        DropReason::ArgumentValue,
        DropReason::FreeText,
    ];

    /// A short stable name, as stored and shown by `sonde stats rejected`.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::UnknownField => "unknown_field",
            DropReason::TooLong => "too_long",
            DropReason::InvalidFormat => "invalid_format",
            DropReason::InvalidSignature => "invalid_signature",
            DropReason::Email => "email",
            DropReason::IpAddress => "ip_address",
            DropReason::Url => "url",
            DropReason::HomePath => "home_path",
            DropReason::Secret => "secret",
            DropReason::NotANumber => "not_a_number",
            DropReason::UnknownRoute => "unknown_route",
            DropReason::ArgumentValue => "argument_value",
            DropReason::FreeText => "free_text",
        }
    }

    /// The reason named `s`, the inverse of [`DropReason::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl From<PrivacyHit> for DropReason {
    fn from(hit: PrivacyHit) -> Self {
        match hit {
            PrivacyHit::Email => DropReason::Email,
            PrivacyHit::IpAddress => DropReason::IpAddress,
            PrivacyHit::Url => DropReason::Url,
            PrivacyHit::HomePath => DropReason::HomePath,
            PrivacyHit::Secret => DropReason::Secret,
        }
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signature: a UUID layout (8-4-4-4-12 hex digits, version bits not
/// required, as go-checkpoint sends them), normalised to lower case.
///
/// ```
/// use sonde_protocol::fields::signature;
/// assert_eq!(signature("0B3F4C4E-1D2A-4C3B-8F00-0123456789AB").unwrap(), "0b3f4c4e-1d2a-4c3b-8f00-0123456789ab");
/// assert!(signature("not-a-uuid").is_err());
/// ```
pub fn signature(s: &str) -> Result<String, DropReason> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return Err(DropReason::InvalidSignature);
    }
    for (i, c) in b.iter().enumerate() {
        let ok = if matches!(i, 8 | 13 | 18 | 23) {
            *c == b'-'
        } else {
            c.is_ascii_hexdigit()
        };
        if !ok {
            return Err(DropReason::InvalidSignature);
        }
    }
    Ok(s.to_ascii_lowercase())
}

/// A version string: `[A-Za-z0-9.+_-]`, at most 64 bytes (`v1.2.3`, `1.0.0-rc0`).
pub fn version(s: &str) -> Result<String, DropReason> {
    token(s, MAX_VERSION_LEN, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'_' | b'-')
    })
}

/// An `os` or `arch` value: `[A-Za-z0-9._-]`, at most 32 bytes, stored lower-case.
pub fn platform(s: &str) -> Result<String, DropReason> {
    token(s, MAX_PLATFORM_LEN, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
    })
    .map(|v| v.to_ascii_lowercase())
}

/// A runtime version (`v20.20.2`, `rustc 1.95.0`): letters, digits, spaces and
/// `.+_-()`, at most 64 bytes.
pub fn runtime(s: &str) -> Result<String, DropReason> {
    token(s, MAX_RUNTIME_LEN, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'_' | b'-' | b' ' | b'(' | b')')
    })
}

/// A CI vendor name (`GitHub Actions`, `TRAVIS`): letters, digits, spaces and
/// `._-/()`, at most 64 bytes, and nothing identifying.
pub fn ci_name(s: &str) -> Result<String, DropReason> {
    token(s, MAX_CI_NAME_LEN, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b' ' | b'/' | b'(' | b')')
    })
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

/// Checks length, character set and privacy of a short token.
fn token(s: &str, max: usize, allowed: impl Fn(u8) -> bool) -> Result<String, DropReason> {
    let s = s.trim();
    if s.len() > max {
        return Err(DropReason::TooLong);
    }
    if let Some(hit) = find_identifying(s) {
        return Err(hit.into());
    }
    if s.is_empty() || !s.bytes().all(allowed) {
        return Err(DropReason::InvalidFormat);
    }
    Ok(s.to_owned())
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

    #[test]
    fn reasons_round_trip() {
        for r in DropReason::ALL {
            assert_eq!(DropReason::parse(r.as_str()), Some(r));
        }
    }
}
