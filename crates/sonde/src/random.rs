//! Random ids from the operating system's generator, through `ring` (which
//! the library links anyway for the project hash and TLS): the per-user
//! signature and salt, event ids, spool file names. One source of
//! randomness instead of a UUID crate with a second `getrandom`.

use std::sync::atomic::{AtomicU64, Ordering};

use ring::rand::{SecureRandom, SystemRandom};

/// `N` random bytes; `None` if the operating system refused (not seen on
/// supported systems; callers then do without, they never panic).
pub(crate) fn bytes<const N: usize>() -> Option<[u8; N]> {
    let mut b = [0u8; N];
    SystemRandom::new().fill(&mut b).ok()?;
    Some(b)
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

/// 16 bytes as a UUID of version 4 (RFC 9562), lower case with hyphens.
fn format_v4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC variant
    let h = hex(&b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// A random UUID v4; `None` if no randomness could be had.
pub(crate) fn uuid_v4() -> Option<String> {
    bytes::<16>().map(format_v4)
}

/// A UUID v4 for ids that must be unique but need not be secret (event ids,
/// file names): random, or if no randomness can be had, a hash of the time,
/// the process id and a counter.
pub(crate) fn unique_id() -> String {
    uuid_v4().unwrap_or_else(|| {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let seed = format!(
            "{}.{}.{}",
            crate::state::now_millis(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let digest = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
        let mut b = [0u8; 16];
        b.copy_from_slice(&digest.as_ref()[..16]);
        format_v4(b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4_and_distinct() {
        let a = uuid_v4().unwrap();
        let b = unique_id();
        assert_ne!(a, b);
        for id in [&a, &b] {
            assert_eq!(id.len(), 36);
            assert_eq!(&id[14..15], "4", "{id}");
            assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
            assert!(sonde_protocol::fields::signature(id).is_ok(), "{id}");
        }
        assert_eq!(hex(&[0x00, 0x9f, 0xff]), "009fff");
    }
}
