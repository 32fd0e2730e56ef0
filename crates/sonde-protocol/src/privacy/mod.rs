//! Detectors for values that could identify a person or leak a secret.
//!
//! Telemetry fields are short tokens (an OS name, a CI vendor, a version). A
//! value that holds an e-mail address, an IP address, a host name, a path
//! under a home directory, a credential or a personal number has no business
//! in any of them, so both the client and the collector drop such a value
//! rather than store it, and the [`crate::scrub`] engine replaces what these
//! detectors find in free text. The checks are deliberately broad: a false
//! positive costs one dropped field, a false negative costs a user's privacy.
//!
//! Detection works on substrings: an identifying value glued into a longer
//! one (`1.0.0+AKIA…`, `Open/glpat-…`, `user=alice@example.com;`) is found
//! wherever it starts, since every detector anchors on a boundary between an
//! alphanumeric byte and anything else. [`find_spans`] returns where each
//! finding lies; [`find_identifying`] says only whether, and what.
//!
//! One detector family per file: [`net`] (IP and MAC addresses), [`web`]
//! (URLs, connection strings, e-mail, `user@host`, host names), [`paths`]
//! (home directories, database files), [`secrets`] (credentials by shape) and
//! [`numbers`] (card numbers, IBANs, phone numbers, SSN-shaped values).
//!
//! Speed: every stored string passes through here at ingestion. One pass
//! over the bytes ([`Profile`]) decides which families can match at all; the
//! usual short tokens (`linux`, `1.2.3`, `--force`) need none of them.

mod net;
mod numbers;
mod paths;
mod secrets;
mod web;

/// What kind of identifying value was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrivacyHit {
    /// Something shaped like `name@host.tld`.
    Email,
    /// An IPv4 address in any notation (dotted, leading zeros, hex, octal,
    /// one integer) or an IPv6 address (compressed, zoned, v4-mapped).
    IpAddress,
    /// A URL (`scheme://…`), which may carry a host, credentials or a path.
    Url,
    /// A path under a user's home directory (`/home/x`, `/Users/x`, `C:\Users\x`, `~/`).
    HomePath,
    /// A credential by shape: a JWT, a PEM block, a well-known token prefix, a
    /// bearer value, or a long opaque hex or base64 token.
    Secret,
    /// A database connection string (`postgres://…`, `jdbc:…`, `mongodb+srv://…`).
    ConnectionString,
    /// A host name: a domain under a public suffix, a `.local`/`.lan`/
    /// `.internal`/`.corp` name, or a Windows default machine name.
    Hostname,
    /// A `user@host` login.
    UserAtHost,
    /// A path to a database file (`*.db`, `*.sqlite`, `*.sqlite3`, `*.mdb`).
    DatabasePath,
    /// A payment card number (13 to 19 digits passing the Luhn check).
    CardNumber,
    /// An IBAN (its mod-97 checksum holds).
    Iban,
    /// A MAC address (`00:1a:2b:3c:4d:5e`, `00-1A-…`, `001a.2b3c.4d5e`).
    MacAddress,
    /// A phone number (`+` and 8 to 15 digits, or a grouped national form).
    PhoneNumber,
    /// A value shaped like a US social security number (`ddd-dd-dddd`).
    Ssn,
}

impl PrivacyHit {
    /// Every kind, in a stable order.
    pub const ALL: [PrivacyHit; 14] = [
        PrivacyHit::Email,
        PrivacyHit::IpAddress,
        PrivacyHit::Url,
        PrivacyHit::HomePath,
        PrivacyHit::Secret,
        PrivacyHit::ConnectionString,
        PrivacyHit::Hostname,
        PrivacyHit::UserAtHost,
        PrivacyHit::DatabasePath,
        PrivacyHit::CardNumber,
        PrivacyHit::Iban,
        PrivacyHit::MacAddress,
        PrivacyHit::PhoneNumber,
        PrivacyHit::Ssn,
    ];

    /// A short stable name, used as a drop reason and in `[redacted:<kind>]`.
    pub fn as_str(self) -> &'static str {
        match self {
            PrivacyHit::Email => "email",
            PrivacyHit::IpAddress => "ip_address",
            PrivacyHit::Url => "url",
            PrivacyHit::HomePath => "home_path",
            PrivacyHit::Secret => "secret",
            PrivacyHit::ConnectionString => "connection_string",
            PrivacyHit::Hostname => "hostname",
            PrivacyHit::UserAtHost => "user_at_host",
            PrivacyHit::DatabasePath => "database_path",
            PrivacyHit::CardNumber => "card_number",
            PrivacyHit::Iban => "iban",
            PrivacyHit::MacAddress => "mac_address",
            PrivacyHit::PhoneNumber => "phone_number",
            PrivacyHit::Ssn => "ssn",
        }
    }
}

/// Where an identifying value lies in a string: `s[start..end]`, byte
/// offsets on character boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First byte of the finding.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// What it is.
    pub hit: PrivacyHit,
}

impl Span {
    /// The finding `hit` over `start..end`.
    pub(crate) const fn new(start: usize, end: usize, hit: PrivacyHit) -> Self {
        Span { start, end, hit }
    }
}

/// What one pass over the bytes says about a value: which detector families
/// can match at all.
#[derive(Debug, Clone, Copy, Default)]
struct Profile {
    at: bool,
    colons: usize,
    dots: usize,
    slash: bool,
    tilde: bool,
    dashes: usize,
    plus: bool,
    digits: usize,
    upper: usize,
    lower: usize,
    other: bool,
    /// `0x` or `0X` occurs (a hex IPv4).
    hex_prefix: bool,
}

impl Profile {
    fn of(s: &str) -> Profile {
        let mut p = Profile::default();
        let mut prev = 0u8;
        for &b in s.as_bytes() {
            if prev == b'0' && (b == b'x' || b == b'X') {
                p.hex_prefix = true;
            }
            prev = b;
            match b {
                b'a'..=b'z' => p.lower += 1,
                b'A'..=b'Z' => p.upper += 1,
                b'0'..=b'9' => p.digits += 1,
                b'@' => p.at = true,
                b':' => p.colons += 1,
                b'.' => p.dots += 1,
                b'/' | b'\\' => p.slash = true,
                b'~' => p.tilde = true,
                b'-' => p.dashes += 1,
                b'+' => p.plus = true,
                b'_' => {}
                _ => p.other = true,
            }
        }
        p
    }
}

/// Every identifying value in `s`, in order, overlapping findings merged
/// (the one that starts first, or the longer at the same start, names the
/// merged span).
///
/// ```
/// use sonde_protocol::privacy::{find_spans, PrivacyHit};
/// let s = "1.0.0+AKIAIOSFODNN7EXAMPLE on 010.213.047.198";
/// let spans = find_spans(s);
/// assert_eq!(spans.len(), 2);
/// assert_eq!(&s[spans[0].start..spans[0].end], "AKIAIOSFODNN7EXAMPLE");
/// assert_eq!(spans[0].hit, PrivacyHit::Secret);
/// assert_eq!(spans[1].hit, PrivacyHit::IpAddress);
/// assert!(find_spans("linux 1.2.3 --force").is_empty());
/// ```
pub fn find_spans(s: &str) -> Vec<Span> {
    let mut out = Vec::new();
    detect(s, &mut out);
    merge(out)
}

/// Returns what identifying value `s` holds, if any (the first finding).
///
/// ```
/// use sonde_protocol::privacy::{find_identifying, PrivacyHit};
/// assert_eq!(find_identifying("GitHub Actions"), None);
/// assert_eq!(find_identifying("ci at 10.0.0.12"), Some(PrivacyHit::IpAddress));
/// assert_eq!(find_identifying("ops@example.com"), Some(PrivacyHit::Email));
/// assert_eq!(find_identifying("/home/alice/project"), Some(PrivacyHit::HomePath));
/// assert_eq!(find_identifying("postgres://u:p@db:5432/app"), Some(PrivacyHit::ConnectionString));
/// assert_eq!(find_identifying("Open/glpat-xxxxxxxxxxxxxxxxxxxx"), Some(PrivacyHit::Secret));
/// ```
pub fn find_identifying(s: &str) -> Option<PrivacyHit> {
    let mut out = Vec::new();
    detect(s, &mut out);
    out.iter()
        .min_by_key(|sp| (sp.start, usize::MAX - sp.end))
        .map(|sp| sp.hit)
}

/// Detector families, as bits of a [`plan`].
mod family {
    pub(super) const URLS: u16 = 1;
    pub(super) const LOGINS: u16 = 1 << 1;
    pub(super) const HOSTNAMES: u16 = 1 << 2;
    pub(super) const WINDOWS_NAMES: u16 = 1 << 3;
    pub(super) const HOME: u16 = 1 << 4;
    pub(super) const DATABASE_FILES: u16 = 1 << 5;
    pub(super) const SECRETS: u16 = 1 << 6;
    pub(super) const IP: u16 = 1 << 7;
    pub(super) const MAC: u16 = 1 << 8;
    pub(super) const NUMBERS: u16 = 1 << 9;
    pub(super) const IBAN: u16 = 1 << 10;
}

/// Which detector families can match a value of profile `p` and length
/// `len`: each needs a byte (or a count of bytes) the others do not.
fn plan(p: &Profile, len: usize) -> u16 {
    let letters = p.upper + p.lower;
    let mut f = 0;
    if p.colons > 0 {
        f |= family::URLS;
    }
    if p.at {
        f |= family::LOGINS;
    }
    if p.dots > 0 && letters >= 2 {
        f |= family::HOSTNAMES;
    }
    if p.dashes > 0 && p.upper >= 5 {
        f |= family::WINDOWS_NAMES;
    }
    if p.slash || p.tilde {
        f |= family::HOME;
    }
    if p.dots > 0 && letters >= 3 {
        f |= family::DATABASE_FILES;
    }
    // The shortest secret shape is 14 bytes (`token ` and 8); a short
    // lower-case identifier (`event_triggers`) is none.
    let plain_identifier = p.digits == 0 && p.upper == 0 && p.dashes == 0 && !p.other && !p.plus && !p.slash;
    if len >= 14 && !(plain_identifier && len < 24) {
        f |= family::SECRETS;
    }
    if p.digits > 0 && (p.dots >= 3 || p.colons >= 2 || p.digits >= 7 || p.hex_prefix) {
        f |= family::IP;
    }
    if (p.colons >= 5 || p.dashes >= 5 || p.dots >= 2) && len >= 14 {
        f |= family::MAC;
    }
    if p.digits >= 7 {
        f |= family::NUMBERS;
    }
    if p.upper >= 2 && p.digits >= 2 && len >= 15 {
        f |= family::IBAN;
    }
    f
}

/// Runs every detector family that the value's [`Profile`] allows.
fn detect(s: &str, out: &mut Vec<Span>) {
    let p = Profile::of(s);
    let f = plan(&p, s.len());
    if f == 0 {
        return;
    }
    let b = s.as_bytes();
    let on = |bit: u16| f & bit != 0;
    if on(family::URLS) {
        web::urls(b, out);
    }
    if on(family::LOGINS) {
        web::logins(b, out);
    }
    if on(family::HOSTNAMES) {
        web::hostnames(b, out);
    }
    if on(family::WINDOWS_NAMES) {
        web::windows_names(b, out);
    }
    if on(family::HOME) {
        paths::home(b, out);
    }
    if on(family::DATABASE_FILES) {
        paths::database_files(b, out);
    }
    if on(family::SECRETS) {
        secrets::find(b, &p, out);
    }
    if on(family::IP) {
        net::ip(b, &p, out);
    }
    if on(family::MAC) {
        net::mac(b, out);
    }
    if on(family::NUMBERS) {
        numbers::find(b, &p, out);
    }
    if on(family::IBAN) {
        numbers::iban(b, out);
    }
}

/// Sorts spans and merges those that overlap.
fn merge(mut spans: Vec<Span>) -> Vec<Span> {
    if spans.len() < 2 {
        return spans;
    }
    spans.sort_by_key(|sp| (sp.start, usize::MAX - sp.end));
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for sp in spans {
        match out.last_mut() {
            Some(last) if sp.start < last.end => last.end = last.end.max(sp.end),
            _ => out.push(sp),
        }
    }
    out
}

/// Whether position `i` of `b` starts a token: the start, or after a byte
/// that is not alphanumeric.
fn starts_token(b: &[u8], i: usize) -> bool {
    i == 0 || !b[i - 1].is_ascii_alphanumeric()
}

/// Whether position `j` of `b` ends a token: the end, or before a byte that
/// is not alphanumeric.
fn ends_token(b: &[u8], j: usize) -> bool {
    j >= b.len() || !b[j].is_ascii_alphanumeric()
}

/// End of the run of bytes from `i` that `keep` accepts.
fn run_end(b: &[u8], i: usize, keep: impl Fn(u8) -> bool) -> usize {
    let mut j = i;
    while j < b.len() && keep(b[j]) {
        j += 1;
    }
    j
}

/// ASCII case-insensitive search of `needle` in `hay` from `from`.
fn find_ignore_case(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
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
            "--force",
            "relationships.manual.object",
            "std::io::Error",
            "core::option::Option",
            "src/main.rs:12",
            "No such file or directory (os error 2)",
            "PostgreSQL 15.2 on x86_64-pc-linux-gnu, compiled by gcc (Debian 10.2.1-6) 10.2.1 20210110, 64-bit",
        ] {
            assert_eq!(find_spans(ok), [], "{ok}");
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

    #[test]
    fn common_short_tokens_run_no_detector() {
        // The cost check, without timing: the one pass over the bytes rules
        // every family out for the values most fields hold.
        for v in [
            "linux",
            "darwin",
            "x86_64",
            "arm64",
            "1.2.3",
            "v20.20.2",
            "--force",
            "-v",
            "true",
            "server",
            "tables",
            "event_triggers",
            "v1.0.0",
            "2.36.0",
            "postgres",
        ] {
            assert_eq!(plan(&Profile::of(v), v.len()), 0, "{v}");
        }
    }

    #[test]
    fn spans_are_merged_and_ordered() {
        let s = "see https://alice:pw@db.example.com/x and 10.0.0.1";
        let spans = find_spans(s);
        assert_eq!(spans.len(), 2, "{spans:?}");
        assert_eq!(&s[spans[0].start..spans[0].end], "https://alice:pw@db.example.com/x");
        assert_eq!(spans[0].hit, PrivacyHit::Url);
        assert_eq!(&s[spans[1].start..spans[1].end], "10.0.0.1");
    }
}
