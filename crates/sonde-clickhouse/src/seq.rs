//! Ids and orderings the store gives rows: a process-wide increasing
//! sequence (Unix nanoseconds, bumped past the last one handed out) and
//! random ids for writes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static LAST: AtomicU64 = AtomicU64::new(0);

/// Now, Unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The next value of the sequence: above every one handed out before by
/// this process, and about the current time in nanoseconds, so values
/// from several collectors order by when they were made.
pub(crate) fn next() -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let value = now.max(last + 1);
        match LAST.compare_exchange_weak(last, value, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return value,
            Err(seen) => last = seen,
        }
    }
}

/// A random id, 32 hex digits.
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 16];
    // Without OS randomness, fall back to the sequence: still unique here.
    if getrandom::fill(&mut bytes).is_err() {
        bytes[..8].copy_from_slice(&next().to_be_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random number below 1024, for alert ids.
pub(crate) fn random_low() -> i64 {
    let mut bytes = [0u8; 2];
    let _ = getrandom::fill(&mut bytes);
    i64::from(u16::from_be_bytes(bytes) & 0x3ff)
}
