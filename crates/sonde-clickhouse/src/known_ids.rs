//! The event ids the writer knows ClickHouse holds, kept in memory so that
//! a batch of new events is stored without asking ClickHouse about each id.
//!
//! Asking is what a duplicate answer needs, and it is a scan: event ids are
//! random, so the ids of one batch fall in every granule of the product's
//! events, and the lookup grows with the table (49–120 ms for 3,200 ids
//! against 300k rows, more than the insert of the same rows). Instead the
//! writer keeps a Bloom filter of `(product, id)` for the newest
//! [`KnownIds::capacity`] to `2 ×` that many ids it stored or found stored,
//! in two generations: when the newer one is full the older one is dropped.
//! At start it is filled with the newest ids in ClickHouse, hashed there
//! ([`HASH_SQL`], the same SipHash-2-4 as [`hash`]).
//!
//! An id the filter has never seen is new to this writer's window and is
//! stored without a lookup; an id it may have seen (a re-sent event, or a
//! false positive, about one in a million) is looked up exactly, so a
//! duplicate inside the window is answered as a duplicate and a new event
//! is never mistaken for one. A re-sent event older than the window, or
//! stored through another collector since this one started, is stored
//! again and answered as stored: every read counts ids, not rows, so no
//! count changes (see the crate docs).

use std::hash::Hasher;

use fastbloom::BloomFilter;
use siphasher::sip::SipHasher24;

use crate::client::Client;
use crate::ClickHouseError;

/// ClickHouse's expression for [`hash`] of a row's `product` and `id`.
pub const HASH_SQL: &str = "sipHash64(concat(product, '\\0', id))";

/// The false-positive rate each generation is sized for.
const FALSE_POSITIVE: f64 = 1e-6;

/// A fixed seed: the filter lives only in this process, so any seed does,
/// and a fixed one makes its behaviour repeatable.
const SEED: u128 = 0x5eed_0f50_4ede;

/// The hash of an event's `product` and `id`: SipHash-2-4 with a zero key
/// of `product`, a NUL byte and `id`, as ClickHouse's [`HASH_SQL`] gives it.
///
/// ```
/// let h = sonde_clickhouse::known_ids::hash("tool", "0190f5e2-0000-7000-8000-000000000001");
/// assert_ne!(h, sonde_clickhouse::known_ids::hash("other", "0190f5e2-0000-7000-8000-000000000001"));
/// ```
pub fn hash(product: &str, id: &str) -> u64 {
    let mut h = SipHasher24::new();
    h.write(product.as_bytes());
    h.write(&[0]);
    h.write(id.as_bytes());
    h.finish()
}

/// The ids known stored, in two generations of Bloom filters.
#[derive(Debug)]
pub struct KnownIds {
    newer: BloomFilter,
    older: BloomFilter,
    in_newer: usize,
    capacity: usize,
}

fn generation(capacity: usize) -> BloomFilter {
    BloomFilter::with_false_pos(FALSE_POSITIVE)
        .seed(&SEED)
        .expected_items(capacity.max(1))
}

impl KnownIds {
    /// An empty filter remembering at least the newest `capacity` ids.
    pub fn new(capacity: usize) -> Self {
        KnownIds {
            newer: generation(capacity),
            older: generation(1),
            in_newer: 0,
            capacity: capacity.max(1),
        }
    }

    /// How many of the newest ids are always remembered.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Remembers an id by its [`hash`].
    pub fn insert(&mut self, hash: u64) {
        if self.in_newer >= self.capacity {
            self.older = std::mem::replace(&mut self.newer, generation(self.capacity));
            self.in_newer = 0;
        }
        self.newer.insert_hash(hash);
        self.in_newer += 1;
    }

    /// Whether the id of `hash` may have been remembered: `false` means it
    /// was not among the newest [`capacity`](Self::capacity) remembered.
    pub fn may_contain(&self, hash: u64) -> bool {
        self.newer.contains_hash(hash) || self.older.contains_hash(hash)
    }

    /// A filter holding the newest `capacity` ids of the store's `events`
    /// table, by their `seq`, hashed by ClickHouse and streamed.
    ///
    /// # Errors
    /// When ClickHouse cannot answer or answers something else than one
    /// number per line.
    pub fn load(client: &Client, capacity: usize) -> Result<Self, ClickHouseError> {
        // At most `capacity` ids fill the newer generation alone, so the
        // order they arrive in does not matter.
        let mut known = KnownIds::new(capacity);
        client.each_line(
            &format!(
                "SELECT {HASH_SQL} FROM {}.events ORDER BY seq DESC LIMIT {}",
                client.endpoint().database,
                known.capacity
            ),
            |line| {
                let h = line
                    .parse::<u64>()
                    .map_err(|_| ClickHouseError::Line { line: line.to_owned() })?;
                known.insert(h);
                Ok(())
            },
        )?;
        Ok(known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_ids_are_always_remembered_and_the_oldest_forgotten() {
        let mut known = KnownIds::new(1_000);
        for i in 0..5_000u64 {
            known.insert(hash("p", &i.to_string()));
        }
        // The window is the newest 1,000 to 2,000.
        for i in 4_000..5_000u64 {
            assert!(known.may_contain(hash("p", &i.to_string())), "{i} forgotten");
        }
        let old = (0..3_000u64)
            .filter(|i| known.may_contain(hash("p", &i.to_string())))
            .count();
        assert!(old < 5, "{old} ids from outside the window still answer");
        // Another product's id of the same text is another id.
        assert!(!known.may_contain(hash("q", "4999")));
    }
}
