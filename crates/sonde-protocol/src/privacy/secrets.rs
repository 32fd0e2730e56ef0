//! Credentials by shape: PEM blocks, JWTs, the token formats of well-known
//! services (AWS, GitHub, GitLab, Slack, Stripe, Google, npm), `Bearer`
//! values, and long opaque tokens (32 or more hex digits, or 32 or more
//! base64 characters mixing letters and digits).

use super::{find_ignore_case, run_end, starts_token, PrivacyHit, Profile, Span};

/// Token prefixes, and how many token bytes must follow each.
const PREFIXES: &[(&[u8], usize)] = &[
    (b"ghp_", 20),
    (b"gho_", 20),
    (b"ghu_", 20),
    (b"ghs_", 20),
    (b"ghr_", 20),
    (b"github_pat_", 20),
    (b"glpat-", 16),
    (b"gldt-", 16),
    (b"glrt-", 16),
    (b"xoxb-", 10),
    (b"xoxp-", 10),
    (b"xoxa-", 10),
    (b"xoxs-", 10),
    (b"xoxr-", 10),
    (b"xapp-", 10),
    (b"sk_live_", 10),
    (b"sk_test_", 10),
    (b"rk_live_", 10),
    (b"pk_live_", 10),
    (b"whsec_", 16),
    (b"AIza", 30),
    (b"npm_", 30),
    (b"pypi-", 30),
    (b"sk-", 32),
    (b"hf_", 30),
    (b"dop_v1_", 30),
    (b"shpat_", 20),
    (b"SG.", 20),
];

/// A byte of a token body.
fn token_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-')
}

/// Pushes every credential found by shape.
pub(super) fn find(b: &[u8], p: &Profile, out: &mut Vec<Span>) {
    let push = |out: &mut Vec<Span>, start, end| {
        out.push(Span {
            start,
            end,
            hit: PrivacyHit::Secret,
        })
    };
    if p.dashes >= 5 {
        let mut from = 0;
        while let Some(k) = find_ignore_case(b, b"-----BEGIN", from) {
            let end = match find_ignore_case(b, b"-----END", k + 10) {
                Some(e) => {
                    // Through the closing `-----` of the END line.
                    let after = run_end(b, e + 8, |c| c != b'\n');
                    after.min(b.len())
                }
                None => b.len(),
            };
            push(out, k, end);
            from = end.max(k + 10);
        }
    }
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() || !starts_token(b, i) {
            i += 1;
            continue;
        }
        // JWT: `eyJ` header, then two more base64url parts.
        if b[i..].starts_with(b"eyJ") {
            let e = run_end(b, i, |c| token_byte(c) || c == b'.');
            if e - i >= 20 && b[i..e].iter().filter(|&&c| c == b'.').count() >= 1 {
                push(out, i, e);
                i = e;
                continue;
            }
        }
        // AWS access key ids: AKIA/ASIA and 16 upper-case letters or digits.
        if b[i..].starts_with(b"AKIA") || b[i..].starts_with(b"ASIA") {
            let e = run_end(b, i + 4, |c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if e - i >= 20 {
                push(out, i, e);
                i = e;
                continue;
            }
        }
        if let Some((pre, min)) = PREFIXES.iter().find(|(pre, _)| b[i..].starts_with(pre)) {
            let e = run_end(b, i + pre.len(), |c| token_byte(c) || (*pre == b"SG." && c == b'.'));
            if e - i - pre.len() >= *min {
                push(out, i, e);
                i = e;
                continue;
            }
        }
        let e = run_end(b, i, |c| {
            c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'_' | b'-')
        });
        if e - i >= 32 && opaque(&b[i..e]) {
            push(out, i, e);
            i = e;
            continue;
        }
        i = run_end(b, i, |c| c.is_ascii_alphanumeric()).max(i + 1);
    }
    bearer(b, out);
}

/// A long run that reads as a random token: 32 or more hex digits, or base64
/// with letters and digits that is not a path of words (`a/b/c`, `x-y-z`
/// runs without capitals are names, not tokens).
fn opaque(t: &[u8]) -> bool {
    let hex = t.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    if hex >= 32 {
        return true;
    }
    let (mut upper, mut lower, mut digit, mut seps) = (0, 0, 0, 0);
    for &c in t {
        match c {
            b'A'..=b'Z' => upper += 1,
            b'a'..=b'z' => lower += 1,
            b'0'..=b'9' => digit += 1,
            b'/' | b'-' | b'_' => seps += 1,
            _ => {}
        }
    }
    digit > 0 && upper + lower > 0 && ((upper > 0 && lower > 0) || seps == 0)
}

/// Pushes the value after `Bearer ` (or `Basic `, `Token `) of eight bytes or
/// more.
fn bearer(b: &[u8], out: &mut Vec<Span>) {
    for word in [&b"bearer "[..], b"basic ", b"token "] {
        let mut from = 0;
        while let Some(k) = find_ignore_case(b, word, from) {
            let s = run_end(b, k + word.len(), |c| c == b' ');
            let e = run_end(b, s, |c| token_byte(c) || matches!(c, b'.' | b'+' | b'/' | b'=' | b'~'));
            if starts_token(b, k) && e - s >= 8 && b[s..e].iter().any(u8::is_ascii_digit) {
                out.push(Span::new(s, e, PrivacyHit::Secret));
            }
            from = e.max(k + word.len());
        }
    }
}
