//! Addresses on the network by name: URLs, database connection strings,
//! e-mail addresses, `user@host` logins, host names and Windows machine
//! names.

use super::{ends_token, find_ignore_case, run_end, starts_token, PrivacyHit, Span};

/// URL schemes that are database connection strings.
const DB_SCHEMES: &[&[u8]] = &[
    b"postgres",
    b"postgresql",
    b"mysql",
    b"mysqlx",
    b"mariadb",
    b"mongodb",
    b"mongodb+srv",
    b"redis",
    b"rediss",
    b"sqlserver",
    b"mssql",
    b"oracle",
    b"cockroachdb",
    b"clickhouse",
    b"amqp",
    b"amqps",
    b"cassandra",
    b"neo4j",
    b"neo4j+s",
    b"bolt",
    b"libsql",
    b"prisma",
];

/// Where a URL or connection string ends: at whitespace, a quote, or a
/// closing bracket of the text around it.
fn url_end(b: &[u8], from: usize) -> usize {
    run_end(b, from, |c| {
        !(c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'<' | b'>' | b'`'))
    })
}

/// Pushes every `scheme://…` (a connection string when the scheme is a
/// database's) and every `jdbc:…`.
pub(super) fn urls(b: &[u8], out: &mut Vec<Span>) {
    let mut from = 0;
    while let Some(k) = find_sub(b, b"://", from) {
        // The scheme: letters, digits, `+.-`, starting with a letter.
        let mut s = k;
        while s > 0 && (b[s - 1].is_ascii_alphanumeric() || matches!(b[s - 1], b'+' | b'.' | b'-')) {
            s -= 1;
        }
        while s < k && !b[s].is_ascii_alphabetic() {
            s += 1;
        }
        let end = url_end(b, k + 3);
        if s < k && end > k + 3 {
            let scheme = &b[s..k];
            let hit = if DB_SCHEMES.iter().any(|d| d.eq_ignore_ascii_case(scheme)) {
                PrivacyHit::ConnectionString
            } else {
                PrivacyHit::Url
            };
            let end = trim_trailing(b, s, end);
            out.push(Span { start: s, end, hit });
        }
        from = end.max(k + 3);
    }
    let mut from = 0;
    while let Some(k) = find_ignore_case(b, b"jdbc:", from) {
        let end = url_end(b, k + 5);
        if starts_token(b, k) && end > k + 5 {
            let end = trim_trailing(b, k, end);
            out.push(Span {
                start: k,
                end,
                hit: PrivacyHit::ConnectionString,
            });
        }
        from = end.max(k + 5);
    }
}

/// Leaves sentence punctuation and an unbalanced closing bracket outside.
fn trim_trailing(b: &[u8], start: usize, mut end: usize) -> usize {
    while end > start + 1 && matches!(b[end - 1], b'.' | b',' | b';' | b')' | b']' | b'}') {
        let c = b[end - 1];
        let open = match c {
            b')' => b'(',
            b']' => b'[',
            b'}' => b'{',
            _ => 0,
        };
        if open != 0 && b[start..end].contains(&open) {
            break;
        }
        end -= 1;
    }
    end
}

/// Exact substring search from `from`.
fn find_sub(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from >= hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Words after `@` that name a package version or tag, not a host
/// (`prisma@latest`).
const NOT_HOSTS: &[&str] = &[
    "latest", "next", "beta", "alpha", "canary", "rc", "main", "master", "dev", "stable",
];

/// Pushes every e-mail address and `user@host` login.
pub(super) fn logins(b: &[u8], out: &mut Vec<Span>) {
    for (at, _) in b.iter().enumerate().filter(|(_, &c)| c == b'@') {
        let mut s = at;
        while s > 0 && (b[s - 1].is_ascii_alphanumeric() || matches!(b[s - 1], b'.' | b'_' | b'%' | b'+' | b'-')) {
            s -= 1;
        }
        while s < at && !b[s].is_ascii_alphanumeric() {
            s += 1;
        }
        if s == at {
            continue;
        }
        let e = run_end(b, at + 1, |c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-'));
        let mut domain = &b[at + 1..e];
        while domain.last().is_some_and(|c| matches!(c, b'.' | b'-')) {
            domain = &domain[..domain.len() - 1];
        }
        if domain.is_empty() || !domain[0].is_ascii_alphanumeric() {
            continue;
        }
        let end = at + 1 + domain.len();
        let last = domain.rsplit(|&c| c == b'.').next().unwrap_or(b"");
        if domain.contains(&b'.') && last.len() >= 2 && last.iter().all(u8::is_ascii_alphabetic) {
            out.push(Span {
                start: s,
                end,
                hit: PrivacyHit::Email,
            });
        } else if domain.contains(&b'.') && domain[0].is_ascii_digit() {
            // `pkg@1.2.3`: a version; `root@10.0.0.1` is found as an address.
        } else if domain[0].is_ascii_alphabetic()
            && !NOT_HOSTS.iter().any(|n| n.as_bytes().eq_ignore_ascii_case(domain))
        {
            out.push(Span {
                start: s,
                end,
                hit: PrivacyHit::UserAtHost,
            });
        }
    }
}

/// Last labels that make a dotted name a host name: generic and country
/// top-level domains that do not double as file extensions or common words
/// (`.rs`, `.py`, `.sh`, `.md`, `.pl`, `.so`, `.in`, `.it`, `.is`, `.no`, `.to`
/// are left out), and the private suffixes of local networks.
const SUFFIXES: &[&str] = &[
    "com",
    "net",
    "org",
    "edu",
    "gov",
    "mil",
    "int",
    "io",
    "dev",
    "app",
    "ai",
    "co",
    "info",
    "biz",
    "cloud",
    "tech",
    "xyz",
    "online",
    "site",
    "us",
    "uk",
    "de",
    "fr",
    "nl",
    "eu",
    "ca",
    "au",
    "jp",
    "cn",
    "ru",
    "br",
    "es",
    "ch",
    "se",
    "fi",
    "dk",
    "cz",
    "nz",
    "sg",
    "hk",
    "kr",
    "tw",
    "ie",
    "il",
    "za",
    "mx",
    "ar",
    "pt",
    "gr",
    "hu",
    "ro",
    "ua",
    "vn",
    "id",
    "tr",
    "local",
    "lan",
    "internal",
    "corp",
    "home",
    "localdomain",
    "intranet",
    "private",
    "localhost",
    "arpa",
    "onion",
];

/// Pushes every dotted name whose last label is a known suffix
/// (`build-7.corp.example.com`, `alices-macbook.local`).
pub(super) fn hostnames(b: &[u8], out: &mut Vec<Span>) {
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() || !starts_token(b, i) {
            i += 1;
            continue;
        }
        let end = run_end(b, i, |c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-'));
        let mut run = &b[i..end];
        while run.last().is_some_and(|c| matches!(c, b'.' | b'-')) {
            run = &run[..run.len() - 1];
        }
        if run.contains(&b'.') {
            let last = run.rsplit(|&c| c == b'.').next().unwrap_or(b"");
            let first = run.split(|&c| c == b'.').next().unwrap_or(b"");
            let known = SUFFIXES.iter().any(|s| s.as_bytes().eq_ignore_ascii_case(last));
            let valid = known
                && run
                    .split(|&c| c == b'.')
                    .all(|l| !l.is_empty() && l.len() <= 63 && l[0].is_ascii_alphanumeric());
            // The first label holds a letter: `1.2.de` is no host.
            if valid && first.iter().any(u8::is_ascii_alphabetic) {
                out.push(Span::new(i, i + run.len(), PrivacyHit::Hostname));
            }
        }
        i = end.max(i + 1);
    }
}

/// Pushes Windows default machine names: `DESKTOP-`, `LAPTOP-` or `WIN-`
/// and 4 to 15 capital letters or digits (`DESKTOP-7QK2M9A`).
pub(super) fn windows_names(b: &[u8], out: &mut Vec<Span>) {
    for prefix in [&b"DESKTOP-"[..], b"LAPTOP-", b"WIN-"] {
        let mut from = 0;
        while let Some(k) = find_ignore_case(b, prefix, from) {
            let s = k + prefix.len();
            let e = run_end(b, s, |c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if starts_token(b, k) && (4..=15).contains(&(e - s)) && ends_token(b, e) {
                out.push(Span::new(k, e, PrivacyHit::Hostname));
            }
            from = s;
        }
    }
}
