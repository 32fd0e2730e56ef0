//! Random ids from the operating system's generator, through `ring` (which
//! the library links anyway for the project hash and TLS): the per-user
//! signature and salt (UUID v4), event ids and spool file names (UUID v7),
//! laid out by `sonde_protocol::uuid`. One source of randomness instead of a
//! UUID crate with a second `getrandom`.

use std::sync::atomic::{AtomicU64, Ordering};

use ring::rand::{SecureRandom, SystemRandom};
use sonde_protocol::uuid;

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

/// A random UUID v4; `None` if no randomness could be had.
pub(crate) fn uuid_v4() -> Option<String> {
    bytes::<16>().map(uuid::v4)
}

/// A UUID v7 for ids that must be unique but need not be secret (event ids,
/// file names): time-ordered, so the collector's unique index on event ids
/// is appended to rather than written at random places (and the time it
/// carries is the event's own, already sent as `occurred_at`). The rest is
/// random, or if no randomness can be had, a hash of the time, the process
/// id and a counter.
pub(crate) fn unique_id() -> String {
    let now = crate::state::now_millis();
    let entropy = bytes::<16>().unwrap_or_else(|| {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let seed = format!(
            "{}.{}.{}",
            now,
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let digest = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
        let mut b = [0u8; 16];
        b.copy_from_slice(&digest.as_ref()[..16]);
        b
    });
    uuid::v7(now as u64, entropy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_version_4_and_ids_version_7() {
        let a = uuid_v4().unwrap();
        let b = unique_id();
        assert_ne!(a, b);
        for (id, version) in [(&a, "4"), (&b, "7")] {
            assert_eq!(id.len(), 36);
            assert_eq!(&id[14..15], version, "{id}");
            assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
            assert!(sonde_protocol::shapes::signature(id).is_ok(), "{id}");
        }
        assert_eq!(hex(&[0x00, 0x9f, 0xff]), "009fff");
    }

    #[test]
    fn version_7_ids_start_with_the_time_and_sort_by_it() {
        let id = uuid::v7(0x0190_1234_5678, [0xff; 16]);
        assert_eq!(id, "01901234-5678-7fff-bfff-ffffffffffff");
        let earlier = uuid::v7(1_700_000_000_000, [0xff; 16]);
        let later = uuid::v7(1_700_000_000_001, [0x00; 16]);
        assert!(earlier < later);
        let now = unique_id();
        let ms = u64::from_str_radix(&now[..8], 16).unwrap() << 16 | u64::from_str_radix(&now[9..13], 16).unwrap();
        let clock = crate::state::now_millis() as u64;
        assert!(
            ms <= clock && clock - ms < 60_000,
            "{now} is not from about now ({clock})"
        );
    }
}
