//! Scrubbing free text (error messages, stack frames) before it is kept or
//! sent: identifying spans become `[redacted:<kind>]`, the home directory
//! `~`, the user name `<user>`, the host name `<host>`.
//!
//! This is the minimal engine: it looks at each whitespace-separated word
//! with the [`crate::privacy`] detectors and replaces a word that holds an
//! e-mail address, an IP address, a URL with credentials, a home-directory
//! path or a secret, and the machine's names where given. The full engine
//! keeps the same API and contract.
//!
//! ```
//! use sonde_protocol::scrub::Scrubber;
//! let s = Scrubber::new();
//! let out = s.scrub("cannot reach ops@example.com at 10.0.0.7");
//! assert!(!out.contains("ops@example.com") && !out.contains("10.0.0.7"));
//! assert_eq!(s.scrub("index out of bounds: the len is 3"), "index out of bounds: the len is 3");
//! ```

use std::borrow::Cow;

use crate::privacy::{find_identifying, PrivacyHit};

/// Removes identifying spans from free text. Idempotent: scrubbing scrubbed
/// text changes nothing.
#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    home: Option<String>,
    user: Option<String>,
    host: Option<String>,
}

impl Scrubber {
    /// The detectors only, no machine names (what the collector runs).
    pub fn new() -> Self {
        Self::default()
    }

    /// The detectors plus this machine's home directory, user and host
    /// names (empty names are ignored).
    pub fn with_machine(home: Option<&str>, user: Option<&str>, host: Option<&str>) -> Self {
        let keep = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        Scrubber {
            home: keep(home)
                .map(|h| h.trim_end_matches(['/', '\\']).to_owned())
                .filter(|h| !h.is_empty()),
            user: keep(user),
            host: keep(host),
        }
    }

    /// [`Scrubber::with_machine`] with the names of the machine it runs on,
    /// from the environment (`HOME`/`USERPROFILE`, `USER`/`USERNAME`,
    /// `HOSTNAME`/`COMPUTERNAME`).
    pub fn for_this_machine() -> Self {
        let var = |a: &str, b: &str| std::env::var(a).or_else(|_| std::env::var(b)).ok();
        let home = var("HOME", "USERPROFILE");
        let user = var("USER", "USERNAME");
        let host = var("HOSTNAME", "COMPUTERNAME");
        Self::with_machine(home.as_deref(), user.as_deref(), host.as_deref())
    }

    /// `text` with every identifying span replaced; borrowed when nothing was.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out: Cow<'a, str> = Cow::Borrowed(text);
        if let Some(home) = &self.home {
            if out.contains(home.as_str()) {
                out = Cow::Owned(out.replace(home.as_str(), "~"));
            }
        }
        for (name, mark) in [(&self.user, "<user>"), (&self.host, "<host>")] {
            if let Some(name) = name {
                if out.contains(name.as_str()) {
                    out = Cow::Owned(replace_word(&out, name, mark));
                }
            }
        }
        if !out.split_whitespace().any(|w| hit(w).is_some()) {
            return out;
        }
        let mut scrubbed = String::with_capacity(out.len());
        let mut rest: &str = &out;
        while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
            scrubbed.push_str(&rest[..start]);
            rest = &rest[start..];
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let word = &rest[..end];
            match hit(word) {
                Some(kind) => {
                    scrubbed.push_str("[redacted:");
                    scrubbed.push_str(kind.as_str());
                    scrubbed.push(']');
                }
                None => scrubbed.push_str(word),
            }
            rest = &rest[end..];
        }
        scrubbed.push_str(rest);
        Cow::Owned(scrubbed)
    }
}

/// What a word holds that must go: any detector hit, URLs only when they
/// carry credentials (`user:password@`).
fn hit(word: &str) -> Option<PrivacyHit> {
    if word.starts_with("[redacted:") {
        return None;
    }
    match find_identifying(word)? {
        PrivacyHit::Url => {
            let after = &word[word.find("://").map_or(0, |i| i + 3)..];
            let authority = after.split(['/', '?', '#']).next().unwrap_or("");
            authority.contains('@').then_some(PrivacyHit::Url)
        }
        // `std::io::Error` holds `d::`, a valid IPv6 address: a Rust path
        // is not one. An address here has a decimal digit in it.
        PrivacyHit::IpAddress => has_address(word).then_some(PrivacyHit::IpAddress),
        other => Some(other),
    }
}

/// Whether `word` holds an IPv4 address, or an IPv6 address with a decimal
/// digit in it.
fn has_address(word: &str) -> bool {
    word.split(|c: char| !(c.is_ascii_hexdigit() || c == ':' || c == '.'))
        .map(|t| t.trim_matches('.'))
        .any(|t| {
            t.parse::<std::net::Ipv4Addr>().is_ok()
                || (t.bytes().any(|b| b.is_ascii_digit()) && t.parse::<std::net::Ipv6Addr>().is_ok())
        })
}

/// `text` with `name` replaced by `mark` where it stands as a word of its
/// own (not inside a longer identifier).
fn replace_word(text: &str, name: &str, mark: &str) -> String {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(name) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + name.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(is_ident) || after.is_some_and(is_ident) {
            out.push_str(name);
        } else {
            out.push_str(mark);
        }
        rest = &rest[i + name.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifying_spans_are_replaced_and_plain_text_is_kept() {
        let s = Scrubber::with_machine(Some("/home/alice"), Some("alice"), Some("build-box"));
        let text = "open /home/alice/app/db.sqlite for alice on build-box: postgres://u:pw@db:5432/x from 10.1.2.3 (mail ops@example.com)";
        let out = s.scrub(text);
        for gone in [
            "/home/alice",
            "alice",
            "build-box",
            "u:pw@",
            "10.1.2.3",
            "ops@example.com",
        ] {
            assert!(!out.contains(gone), "{gone} in {out}");
        }
        assert_eq!(s.scrub(&out), out, "idempotent");
        let plain = "called `Option::unwrap()` on a `None` value at src/main.rs:12:5";
        assert!(matches!(s.scrub(plain), Cow::Borrowed(_)));
    }
}
