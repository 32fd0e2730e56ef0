//! Scrubbing free text (error messages, panic texts): what identifies is
//! replaced, the rest is kept as it is.
//!
//! Three passes, in order: this machine's home directory, user name and host
//! name become `~`, `<user>` and `<host>`; a secret named by its key
//! (`password=…`, `"api_key": "…"`, `Authorization: Bearer …`) has its value
//! replaced by `[redacted:secret]`; then every span [`find_spans`] finds
//! becomes `[redacted:<kind>]` (a URL or a connection string whole, so a
//! URL's credentials go with it). A `~/…` path is kept: after the first pass
//! it names no one. Scrubbing is idempotent.

use std::borrow::Cow;

use crate::privacy::{find_spans, PrivacyHit};

/// Key names whose value is a secret, matched case-insensitively as the
/// whole key or its last `_`/`-`/`.` part (`DB_PASSWORD`, `x-api-key`).
const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "api-key",
    "auth",
    "authorization",
    "credentials",
    "credential",
    "private_key",
    "privatekey",
    "access_key",
    "secret_key",
    "access_token",
    "refresh_token",
    "client_secret",
    "session",
    "sessionid",
    "session_id",
    "cookie",
    "set-cookie",
    "admin_secret",
    "admin-secret",
];

/// Most passes [`Scrubber::scrub`] makes after the first.
const MAX_PASSES: usize = 8;

/// What a redaction of a secret by key looks like.
const REDACTED_SECRET: &str = "[redacted:secret]";

/// Replaces what identifies in free text.
///
/// ```
/// use sonde_protocol::scrub::Scrubber;
/// let s = Scrubber::with_machine(Some("/home/alice"), Some("alice"), Some("alices-box"));
/// assert_eq!(
///     s.scrub("open /home/alice/app/db.toml failed on alices-box: password=hunter2, see 10.0.0.7"),
///     "open ~/app/db.toml failed on <host>: password=[redacted:secret], see [redacted:ip_address]"
/// );
/// assert_eq!(s.scrub("std::io::Error at src/main.rs:12"), "std::io::Error at src/main.rs:12");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    home: Option<String>,
    user: Option<String>,
    host: Option<String>,
}

impl Scrubber {
    /// Detectors only.
    pub fn new() -> Self {
        Scrubber::default()
    }

    /// Also replaces this machine's home directory with `~`, user name with
    /// `<user>`, host name with `<host>`. Empty names, a home of `/`, and
    /// names shorter than 3 bytes (they would match ordinary words) are
    /// ignored.
    pub fn with_machine(home: Option<&str>, user: Option<&str>, host: Option<&str>) -> Self {
        let keep = |v: Option<&str>, min: usize| {
            v.map(|v| v.trim().trim_end_matches(['/', '\\']))
                .filter(|v| v.len() >= min)
                .map(str::to_owned)
        };
        Scrubber {
            home: keep(home, 2),
            user: keep(user, 3),
            host: keep(host, 3),
        }
    }

    /// [`Scrubber::with_machine`] for the machine this runs on: home from
    /// `HOME` (or `USERPROFILE`), user from `USER`, `USERNAME` or `LOGNAME`,
    /// host from `/proc/sys/kernel/hostname`, `/etc/hostname`, `HOSTNAME` or
    /// `COMPUTERNAME`.
    pub fn for_this_machine() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let home = var("HOME").or_else(|| var("USERPROFILE"));
        let user = var("USER").or_else(|| var("USERNAME")).or_else(|| var("LOGNAME"));
        let file = |p: &str| {
            std::fs::read_to_string(p)
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let host = file("/proc/sys/kernel/hostname")
            .or_else(|| file("/etc/hostname"))
            .or_else(|| var("HOSTNAME"))
            .or_else(|| var("COMPUTERNAME"));
        Scrubber::with_machine(home.as_deref(), user.as_deref(), host.as_deref())
    }

    /// Every span found by [`find_spans`] becomes `[redacted:<kind>]` (kind
    /// = [`PrivacyHit::as_str`]); secrets by key name have their value
    /// replaced by `[redacted:secret]`; URLs and connection strings are
    /// replaced whole. Idempotent; ordinary text is returned borrowed.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        // A redaction can expose a span its neighbour hid (`/home/x-o::13`:
        // once the path is `[redacted:home_path]`, `::13` reads as an IPv6
        // address), so passes repeat until one changes nothing. Each pass
        // that changes something replaces a span with a marker no pass
        // matches, so this ends; the bound is a guard.
        let mut out = self.scrub_once(text);
        for _ in 0..MAX_PASSES {
            let Cow::Owned(changed) = &out else {
                break;
            };
            match self.scrub_once(changed) {
                Cow::Borrowed(_) => break,
                Cow::Owned(again) if again == *changed => break,
                Cow::Owned(again) => out = Cow::Owned(again),
            }
        }
        out
    }

    /// One pass of every rule, in order.
    fn scrub_once<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        if let Some(home) = &self.home {
            out = replace_path_prefix(out, home, "~");
        }
        if let Some(host) = &self.host {
            out = replace_word(out, host, "<host>");
            // The short name of a fully qualified host name too.
            if let Some((short, _)) = host.split_once('.') {
                if short.len() >= 3 {
                    out = replace_word(out, short, "<host>");
                }
            }
        }
        if let Some(user) = &self.user {
            out = replace_word(out, user, "<user>");
        }
        out = redact_keyed_secrets(out);
        redact_spans(out)
    }
}

/// Replaces `from` where it begins a path (followed by a separator, or
/// ending the path) with `to`.
fn replace_path_prefix<'a>(text: Cow<'a, str>, from: &str, to: &str) -> Cow<'a, str> {
    if !text.contains(from) {
        return text;
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut from_i = 0;
    while let Some(k) = text[from_i..].find(from).map(|k| k + from_i) {
        let e = k + from.len();
        let ends = e == b.len() || !(b[e].is_ascii_alphanumeric() || matches!(b[e], b'_' | b'-' | b'.'));
        if ends {
            out.push_str(&text[last..k]);
            out.push_str(to);
            last = e;
        }
        from_i = e;
    }
    if last == 0 {
        return text;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

/// Replaces whole-word occurrences of `word` (ASCII case-insensitive).
fn replace_word<'a>(text: Cow<'a, str>, word: &str, to: &str) -> Cow<'a, str> {
    let b = text.as_bytes();
    let w = word.as_bytes();
    if w.is_empty() || b.len() < w.len() {
        return text;
    }
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    let mut hits = Vec::new();
    let mut i = 0;
    while i + w.len() <= b.len() {
        if b[i..i + w.len()].eq_ignore_ascii_case(w)
            && (i == 0 || !is_word(b[i - 1]))
            && (i + w.len() == b.len() || !is_word(b[i + w.len()]))
        {
            hits.push(i);
            i += w.len();
        } else {
            i += 1;
        }
    }
    if hits.is_empty() {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for k in hits {
        out.push_str(&text[last..k]);
        out.push_str(to);
        last = k + w.len();
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

/// Replaces the value of every `key=value`, `key: value`, `"key": "value"`
/// whose key names a secret.
fn redact_keyed_secrets(text: Cow<'_, str>) -> Cow<'_, str> {
    let b = text.as_bytes();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !(b[i].is_ascii_alphabetic()) || (i > 0 && is_key_byte(b[i - 1])) {
            i += 1;
            continue;
        }
        let ke = i + b[i..].iter().take_while(|&&c| is_key_byte(c)).count();
        let key = &text[i..ke];
        if !is_secret_key(key) {
            i = ke.max(i + 1);
            continue;
        }
        // After the key: an optional closing quote, spaces, `=` or `:`, spaces.
        let mut j = ke;
        if j < b.len() && matches!(b[j], b'"' | b'\'') {
            j += 1;
        }
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        // `::` is a path separator (`acme::auth::load`), not a value's.
        if j >= b.len() || !matches!(b[j], b'=' | b':') || b[j..].starts_with(b"::") {
            i = ke;
            continue;
        }
        j += 1;
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        // `Authorization: Bearer x`: the scheme word is kept.
        for scheme in ["Bearer ", "bearer ", "Basic ", "basic ", "Token ", "token "] {
            if text[j..].starts_with(scheme) {
                j += scheme.len();
                break;
            }
        }
        let (vs, ve) = match b.get(j) {
            Some(&q @ (b'"' | b'\'')) => {
                let e = b[j + 1..].iter().position(|&c| c == q).map_or(b.len(), |p| j + 1 + p);
                (j + 1, e)
            }
            _ => {
                let e = j + b[j..]
                    .iter()
                    .take_while(|&&c| {
                        !(c.is_ascii_whitespace()
                            || matches!(c, b',' | b';' | b'&' | b'}' | b')' | b']' | b'"' | b'\''))
                    })
                    .count();
                (j, e)
            }
        };
        let value = &text[vs..ve];
        if !value.is_empty() && !value.starts_with("[redacted:") {
            cuts.push((vs, ve));
        }
        i = ve.max(ke);
    }
    if cuts.is_empty() {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (s, e) in cuts {
        out.push_str(&text[last..s]);
        out.push_str(REDACTED_SECRET);
        last = e;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

fn is_key_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// Whether `key` (or its last `_`/`-`/`.` part, or its last two) names a secret.
fn is_secret_key(key: &str) -> bool {
    let named = |k: &str| SECRET_KEYS.iter().any(|s| s.eq_ignore_ascii_case(k));
    if named(key) {
        return true;
    }
    let parts: Vec<&str> = key.split(['_', '-', '.']).collect();
    let n = parts.len();
    n >= 2 && (named(parts[n - 1]) || named(&key[key.len() - parts[n - 2].len() - 1 - parts[n - 1].len()..]))
}

/// Replaces every detector span, except `~/…` and `~\\…` paths (already anonymous).
fn redact_spans(text: Cow<'_, str>) -> Cow<'_, str> {
    let spans = find_spans(&text);
    let spans: Vec<_> = spans
        .into_iter()
        .filter(|sp| {
            !(sp.hit == PrivacyHit::HomePath
                && (text[sp.start..].starts_with("~/") || text[sp.start..].starts_with("~\\")))
        })
        .filter(|sp| !is_redaction(&text, sp.start, sp.end))
        .collect();
    if spans.is_empty() {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for sp in spans {
        out.push_str(&text[last..sp.start]);
        out.push_str("[redacted:");
        out.push_str(sp.hit.as_str());
        out.push(']');
        last = sp.end;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

/// Whether `text[start..end]` lies inside a `[redacted:…]` marker.
fn is_redaction(text: &str, start: usize, end: usize) -> bool {
    let before = &text[..start];
    match before.rfind("[redacted:") {
        Some(k) => !text[k..end].contains(']') || text[k..].find(']').is_some_and(|c| k + c >= end),
        None => false,
    }
}
