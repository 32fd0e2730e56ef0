//! Personal numbers: payment card numbers (Luhn), IBANs (mod 97), phone
//! numbers (E.164 and grouped national forms) and SSN-shaped values.
//!
//! Versions are digits and dots too, so the phone forms are narrow: a `+`
//! at a token start and 8 to 15 digits, `(ddd) ddd-dddd`, or exactly
//! `ddd-ddd-dddd` / `ddd.ddd.dddd` / `ddd ddd dddd`.

use super::{ends_token, run_end, starts_token, PrivacyHit, Profile, Span};

/// Pushes card numbers, phone numbers and SSN-shaped values.
pub(super) fn find(b: &[u8], p: &Profile, out: &mut Vec<Span>) {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'+' && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) && p.plus {
            if let Some(e) = e164(b, i) {
                out.push(Span::new(i, e, PrivacyHit::PhoneNumber));
                i = e;
                continue;
            }
        }
        if c == b'(' {
            if let Some(e) = grouped(b, i, b"(ddd) ddd-dddd") {
                out.push(Span::new(i, e, PrivacyHit::PhoneNumber));
                i = e;
                continue;
            }
        }
        if !c.is_ascii_digit() || !starts_token(b, i) || (i > 0 && b[i - 1] == b'.') {
            i += 1;
            continue;
        }
        if let Some(e) = card(b, i) {
            out.push(Span::new(i, e, PrivacyHit::CardNumber));
            i = e;
            continue;
        }
        if let Some(e) = grouped(b, i, b"ddd-dd-dddd") {
            out.push(Span::new(i, e, PrivacyHit::Ssn));
            i = e;
            continue;
        }
        let phone = [&b"ddd-ddd-dddd"[..], b"ddd.ddd.dddd", b"ddd ddd dddd"]
            .iter()
            .find_map(|shape| grouped(b, i, shape));
        if let Some(e) = phone {
            out.push(Span::new(i, e, PrivacyHit::PhoneNumber));
            i = e;
            continue;
        }
        i = run_end(b, i, |c| c.is_ascii_digit()).max(i + 1);
    }
}

/// `+` then 8 to 15 digits, single spaces, dashes, dots or a bracketed
/// area code between them; returns the end.
fn e164(b: &[u8], plus: usize) -> Option<usize> {
    let mut digits = 0;
    let mut j = plus + 1;
    let mut last_digit_end = j;
    while j < b.len() {
        match b[j] {
            b'0'..=b'9' => {
                digits += 1;
                j += 1;
                last_digit_end = j;
            }
            b' ' | b'-' | b'.' | b'(' | b')' if j + 1 < b.len() && (b[j + 1].is_ascii_digit() || b[j + 1] == b'(') => {
                j += 1;
            }
            b')' if j + 1 < b.len() && b[j + 1] == b' ' => j += 1,
            _ => break,
        }
    }
    ((8..=15).contains(&digits) && plus + 1 < b.len() && b[plus + 1].is_ascii_digit() && ends_token(b, last_digit_end))
        .then_some(last_digit_end)
}

/// Matches `shape` (`d` a digit, any other byte itself) at `at`, bounded on
/// both sides; returns the end.
fn grouped(b: &[u8], at: usize, shape: &[u8]) -> Option<usize> {
    let end = at + shape.len();
    if end > b.len() {
        return None;
    }
    let ok = shape.iter().zip(&b[at..end]).all(|(&s, &c)| match s {
        b'd' => c.is_ascii_digit(),
        _ => c == s,
    });
    (ok && ends_token(b, end) && (end == b.len() || !matches!(b[end], b'-' | b'.'))).then_some(end)
}

/// 13 to 19 digits, single spaces or dashes between groups, passing the Luhn
/// check; returns the end.
fn card(b: &[u8], at: usize) -> Option<usize> {
    let mut digits: Vec<u8> = Vec::with_capacity(19);
    let mut j = at;
    let mut end = at;
    while j < b.len() && digits.len() <= 19 {
        match b[j] {
            c @ b'0'..=b'9' => {
                digits.push(c - b'0');
                j += 1;
                end = j;
            }
            b' ' | b'-' if j + 1 < b.len() && b[j + 1].is_ascii_digit() && !digits.is_empty() => j += 1,
            _ => break,
        }
    }
    ((13..=19).contains(&digits.len()) && ends_token(b, end) && luhn(&digits)).then_some(end)
}

/// The Luhn checksum of card numbers.
fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(k, &d)| {
            let d = u32::from(d);
            if k % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Pushes every IBAN: two capital letters, two check digits, 11 to 30
/// letters or digits (in groups of four separated by single spaces, or not),
/// whose mod-97 checksum is 1.
pub(super) fn iban(b: &[u8], out: &mut Vec<Span>) {
    let mut i = 0;
    while i + 15 <= b.len() {
        let head = b[i].is_ascii_uppercase()
            && b[i + 1].is_ascii_uppercase()
            && b[i + 2].is_ascii_digit()
            && b[i + 3].is_ascii_digit()
            && starts_token(b, i);
        if !head {
            i += 1;
            continue;
        }
        let mut chars: Vec<(u8, usize)> = Vec::with_capacity(34);
        let mut j = i;
        while j < b.len() && chars.len() < 34 {
            let c = b[j];
            if c.is_ascii_uppercase() || c.is_ascii_digit() {
                chars.push((c, j + 1));
                j += 1;
            } else if c == b' ' && j + 1 < b.len() && b[j + 1].is_ascii_alphanumeric() && chars.len().is_multiple_of(4)
            {
                j += 1;
            } else {
                break;
            }
        }
        // The longest prefix that is a valid IBAN and ends a token.
        let found = (15..=chars.len()).rev().find(|&n| {
            let end = chars[n - 1].1;
            let bounded = ends_token(b, end) || (end < b.len() && b[end] == b' ');
            bounded && mod97(&chars[..n])
        });
        if let Some(n) = found {
            let end = chars[n - 1].1;
            out.push(Span {
                start: i,
                end,
                hit: PrivacyHit::Iban,
            });
            i = end;
        } else {
            i += 4;
        }
    }
}

/// The IBAN checksum: the first four characters moved to the end, letters
/// as 10..35, the number mod 97 is 1.
fn mod97(chars: &[(u8, usize)]) -> bool {
    let mut r: u32 = 0;
    for &(c, _) in chars[4..].iter().chain(&chars[..4]) {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        r = if v >= 10 { (r * 100 + v) % 97 } else { (r * 10 + v) % 97 };
    }
    r == 1
}
