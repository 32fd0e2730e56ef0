//! Detectors for values that could identify a person or leak a secret.
//!
//! Telemetry fields are short tokens (an OS name, a CI vendor, a version). A
//! value that looks like an e-mail address, an IP address, a URL, a path under
//! a home directory or a credential has no business in any of them, so both
//! the client and the collector drop such a value rather than store it. The
//! checks are deliberately broad: a false positive costs one dropped field, a
//! false negative costs a user's privacy.

use std::net::{Ipv4Addr, Ipv6Addr};

/// What kind of identifying value was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrivacyHit {
    /// Something shaped like `name@host.tld`.
    Email,
    /// A dotted IPv4 or a colon-separated IPv6 address.
    IpAddress,
    /// A URL (`scheme://…`), which may carry a host, credentials or a path.
    Url,
    /// A path under a user's home directory (`/home/x`, `/Users/x`, `C:\Users\x`, `~/`).
    HomePath,
    /// A credential by shape: a JWT, a PEM block, a well-known token prefix, or a
    /// long opaque token.
    Secret,
}

impl PrivacyHit {
    /// A short stable name, used as a rejection reason.
    pub fn as_str(self) -> &'static str {
        match self {
            PrivacyHit::Email => "email",
            PrivacyHit::IpAddress => "ip_address",
            PrivacyHit::Url => "url",
            PrivacyHit::HomePath => "home_path",
            PrivacyHit::Secret => "secret",
        }
    }
}

/// Returns what identifying value `s` holds, if any.
///
/// ```
/// use sonde_protocol::privacy::{find_identifying, PrivacyHit};
/// assert_eq!(find_identifying("GitHub Actions"), None);
/// assert_eq!(find_identifying("ci at 10.0.0.12"), Some(PrivacyHit::IpAddress));
/// assert_eq!(find_identifying("ops@example.com"), Some(PrivacyHit::Email));
/// assert_eq!(find_identifying("/home/alice/project"), Some(PrivacyHit::HomePath));
/// assert_eq!(find_identifying("postgres://u:p@db:5432/app"), Some(PrivacyHit::Url));
/// ```
pub fn find_identifying(s: &str) -> Option<PrivacyHit> {
    // One pass over the bytes decides which detectors can match at all: most
    // telemetry values (`linux`, `1.2.3`, `--force`) need none of them.
    let (mut at, mut colons, mut dots, mut slash) = (false, 0usize, 0usize, false);
    for &b in s.as_bytes() {
        match b {
            b'@' => at = true,
            b':' => colons += 1,
            b'.' => dots += 1,
            b'/' | b'\\' => slash = true,
            _ => {}
        }
    }
    if colons > 0 && slash && s.contains("://") {
        return Some(PrivacyHit::Url);
    }
    if at && has_email(s) {
        return Some(PrivacyHit::Email);
    }
    if slash && has_home_path(s) {
        return Some(PrivacyHit::HomePath);
    }
    // Every secret rule needs at least 10 bytes ("-----BEGIN").
    if s.len() >= 10 && has_secret(s) {
        return Some(PrivacyHit::Secret);
    }
    if (dots >= 3 || colons >= 2) && has_ip(s) {
        return Some(PrivacyHit::IpAddress);
    }
    None
}

fn has_email(s: &str) -> bool {
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'@' || i == 0 {
            continue;
        }
        let local_ok = bytes[i - 1].is_ascii_alphanumeric() || matches!(bytes[i - 1], b'.' | b'_' | b'%' | b'+' | b'-');
        let domain: &[u8] = &bytes[i + 1..];
        let domain_end = domain
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-')))
            .unwrap_or(domain.len());
        let domain = &domain[..domain_end];
        if local_ok && domain.len() >= 3 && domain.contains(&b'.') && !domain.starts_with(b".") {
            return true;
        }
    }
    false
}

fn has_home_path(s: &str) -> bool {
    // Every pattern holds a '/' or a '\\'; most values hold neither.
    if !s.bytes().any(|b| b == b'/' || b == b'\\') {
        return false;
    }
    let b = s.as_bytes();
    contains_ignore_case(b, b"/home/")
        || contains_ignore_case(b, b"/users/")
        || contains_ignore_case(b, b"\\users\\")
        || contains_ignore_case(b, b"/root/")
        || b.starts_with(b"~/")
        || contains_ignore_case(b, b" ~/")
}

/// ASCII case-insensitive substring search, without allocating.
fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

fn has_secret(s: &str) -> bool {
    if s.contains("-----BEGIN") {
        return true;
    }
    const PREFIXES: &[&str] = &[
        "eyJ",
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "github_pat_",
        "sk_live_",
        "sk_test_",
        "xoxb-",
        "xoxp-",
        "AKIA",
        "AIza",
        "glpat-",
        "npm_",
    ];
    for token in s.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | '=')) {
        if PREFIXES
            .iter()
            .any(|p| token.starts_with(p) && token.len() >= p.len() + 12)
        {
            return true;
        }
        // A long opaque token with letters and digits mixed, as API keys are.
        if token.len() >= 32
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'/' | b'.'))
            && token.bytes().any(|b| b.is_ascii_digit())
            && token.bytes().any(|b| b.is_ascii_alphabetic())
            && !is_uuid_or_hex(token)
        {
            return true;
        }
    }
    false
}

fn is_uuid_or_hex(token: &str) -> bool {
    token.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

fn has_ip(s: &str) -> bool {
    // IPv4: runs of digits and dots (needs at least three dots).
    let dots = s.bytes().filter(|&b| b == b'.').count();
    for token in s.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
        let token = token.trim_matches('.');
        if dots >= 3 && token.matches('.').count() == 3 && token.parse::<Ipv4Addr>().is_ok() {
            return true;
        }
    }
    // IPv6: runs of hex digits and colons with at least two colons.
    if s.bytes().filter(|&b| b == b':').count() < 2 {
        return false;
    }
    for token in s.split(|c: char| !(c.is_ascii_hexdigit() || c == ':' || c == '.')) {
        if token.matches(':').count() >= 2 && token.parse::<Ipv6Addr>().is_ok() {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_tokens_pass() {
        for ok in [
            "linux",
            "amd64",
            "GitHub Actions",
            "v20.20.2",
            "1.2.3-rc.1+build.5",
            "Travis CI",
            "x64",
            "1.2.3.4.5",
        ] {
            assert_eq!(find_identifying(ok), None, "{ok}");
        }
    }

    #[test]
    fn identifying_values_are_found() {
        let cases = [
            ("alice@example.com", PrivacyHit::Email),
            ("build on 192.168.1.20", PrivacyHit::IpAddress),
            ("fe80::1ff:fe23:4567:890a", PrivacyHit::IpAddress),
            ("https://user:pw@host/x", PrivacyHit::Url),
            ("C:\\Users\\bob\\app", PrivacyHit::HomePath),
            ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", PrivacyHit::Secret),
            ("ghp_abcdefghijklmnopqrstuvwxyz012345", PrivacyHit::Secret),
            ("-----BEGIN PRIVATE KEY-----", PrivacyHit::Secret),
        ];
        for (value, hit) in cases {
            assert_eq!(find_identifying(value), Some(hit), "{value}");
        }
    }
}
