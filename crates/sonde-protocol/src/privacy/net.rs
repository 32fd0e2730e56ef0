//! IP and MAC addresses.
//!
//! IPv4 in every notation `inet_aton` accepts with four parts — dotted
//! decimal, leading zeros (`010.213.047.198`), octal (`0322.0325.057.0306`),
//! hex (`0xd2.0xd5.0x2f.0xc6`), with or without a port — and as one number
//! (`3520061382`, `0xD1D52FC6`). The two- and three-part forms (`127.1`,
//! `10.1.2`) are not detected: they are versions far more often than
//! addresses. IPv6 in every form `std` parses (compressed, v4-mapped), with
//! brackets or a `%zone`; a run of letters only (`dead::beef`, a Rust path
//! like `std::fs`) is not taken for one.

use std::net::Ipv6Addr;

use super::{ends_token, run_end, starts_token, PrivacyHit, Profile, Span};

/// Pushes every IPv4 and IPv6 address of `b`.
pub(super) fn ip(b: &[u8], p: &Profile, out: &mut Vec<Span>) {
    if p.dots >= 3 || p.digits >= 9 || p.hex_prefix {
        ipv4(b, out);
    }
    if p.colons >= 2 {
        ipv6(b, out);
    }
}

fn push(out: &mut Vec<Span>, start: usize, end: usize, hit: PrivacyHit) {
    out.push(Span { start, end, hit });
}

/// One part of a dotted IPv4: decimal (leading zeros allowed), `0`-prefixed
/// octal or `0x` hex, at most 255.
fn v4_part(t: &[u8]) -> bool {
    if t.is_empty() || t.len() > 4 {
        return false;
    }
    let value = if t.len() > 2 && (t[..2].eq_ignore_ascii_case(b"0x")) {
        std::str::from_utf8(&t[2..])
            .ok()
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    } else if t.iter().all(u8::is_ascii_digit) {
        let dec = std::str::from_utf8(t).ok().and_then(|d| d.parse::<u32>().ok());
        // `0322` is octal to `inet_aton` and decimal to most readers: either
        // reading in range counts.
        let oct = (t.len() > 1 && t[0] == b'0')
            .then(|| std::str::from_utf8(t).ok().and_then(|o| u32::from_str_radix(o, 8).ok()))
            .flatten();
        match (dec, oct) {
            (Some(d), _) if d <= 255 => Some(d),
            (_, Some(o)) => Some(o),
            (d, None) => d,
        }
    } else {
        None
    };
    value.is_some_and(|v| v <= 255)
}

fn ipv4(b: &[u8], out: &mut Vec<Span>) {
    let mut i = 0;
    while i < b.len() {
        if !(b[i].is_ascii_hexdigit() || b[i] == b'x' || b[i] == b'X') || !starts_token(b, i) {
            i += 1;
            continue;
        }
        let end = run_end(b, i, |c| c.is_ascii_alphanumeric() || c == b'.');
        let mut run = &b[i..end];
        // A sentence's full stop is not part of the address.
        while run.last() == Some(&b'.') {
            run = &run[..run.len() - 1];
        }
        let hit = match run.iter().filter(|&&c| c == b'.').count() {
            3 => run.split(|&c| c == b'.').all(v4_part),
            0 => integer_v4(run),
            _ => false,
        };
        // A dotted run that is not one address (`1.2.3.4.5`) has none inside.
        if hit {
            push(out, i, i + run.len(), PrivacyHit::IpAddress);
        }
        i = end.max(i + 1);
    }
}

/// A whole IPv4 as one number: 9 or 10 decimal digits up to 4294967295, or
/// `0x` and 7 or 8 hex digits.
fn integer_v4(t: &[u8]) -> bool {
    if t.len() > 2 && t[..2].eq_ignore_ascii_case(b"0x") {
        let h = &t[2..];
        return (7..=8).contains(&h.len()) && h.iter().all(u8::is_ascii_hexdigit);
    }
    (9..=10).contains(&t.len())
        && t.iter().all(u8::is_ascii_digit)
        && std::str::from_utf8(t)
            .ok()
            .and_then(|d| d.parse::<u64>().ok())
            .is_some_and(|v| (16_777_216..=u64::from(u32::MAX)).contains(&v))
}

fn ipv6(b: &[u8], out: &mut Vec<Span>) {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !(c.is_ascii_hexdigit() || c == b':') || !starts_token(b, i) {
            i += 1;
            continue;
        }
        let end = run_end(b, i, |c| c.is_ascii_hexdigit() || c == b':' || c == b'.');
        let run = &b[i..end];
        let colons = run.iter().filter(|&&c| c == b':').count();
        if colons >= 2 && ends_token(b, end) && run.iter().any(u8::is_ascii_digit) {
            let mut cand = run;
            while cand.last() == Some(&b'.') {
                cand = &cand[..cand.len() - 1];
            }
            if std::str::from_utf8(cand).is_ok_and(|t| t.parse::<Ipv6Addr>().is_ok()) {
                let mut stop = i + cand.len();
                if stop < b.len() && b[stop] == b'%' {
                    stop = run_end(b, stop + 1, |c| c.is_ascii_alphanumeric());
                }
                push(out, i, stop, PrivacyHit::IpAddress);
            }
        }
        i = end.max(i + 1);
    }
}

/// Pushes every MAC address: six hex pairs joined by `:` or `-`, or three
/// hex quads joined by `.`.
pub(super) fn mac(b: &[u8], out: &mut Vec<Span>) {
    let mut i = 0;
    while i + 14 <= b.len() {
        if !b[i].is_ascii_hexdigit() || !starts_token(b, i) {
            i += 1;
            continue;
        }
        let pairs = |sep: u8| {
            i + 17 <= b.len()
                && (0..6).all(|k| b[i + 3 * k].is_ascii_hexdigit() && b[i + 3 * k + 1].is_ascii_hexdigit())
                && (0..5).all(|k| b[i + 3 * k + 2] == sep)
                && ends_token(b, i + 17)
                && (i + 17 == b.len() || b[i + 17] != sep)
        };
        if pairs(b':') || pairs(b'-') {
            push(out, i, i + 17, PrivacyHit::MacAddress);
            i += 17;
            continue;
        }
        let quads = (0..3).all(|k| b[i + 5 * k..i + 5 * k + 4].iter().all(u8::is_ascii_hexdigit))
            && b[i + 4] == b'.'
            && b[i + 9] == b'.'
            && ends_token(b, i + 14)
            && (i + 14 == b.len() || b[i + 14] != b'.');
        if quads {
            push(out, i, i + 14, PrivacyHit::MacAddress);
            i += 14;
            continue;
        }
        i += 1;
    }
}
