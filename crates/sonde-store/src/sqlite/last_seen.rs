//! Each signature's latest active day, kept in memory by the writer thread,
//! for the day-gap counts behind the rolling active figures.
//!
//! The distinct signatures active over a range of days are the union of the
//! range's daily sets, which costs a read of every daily row in the range.
//! Instead, when a signature is first seen on a day, the writer records how
//! many days have passed since it was last active ([`gap_of`]), and
//! `active_gaps` counts the daily rows per `(product, day, gap, ci)`. A
//! signature is then counted in a range `[from, to]` exactly once: on its
//! first active day `d` of the range, which is the row whose previous active
//! day lies before `from`, that is whose gap is larger than `d - from` (or
//! [`NO_GAP`]: not active in the [`HORIZON`] days before). So any range of up
//! to `HORIZON + 1` days is a sum over a few hundred counter rows
//! ([`super::reads::active_in`]), exact, whatever the number of signatures.
//!
//! Only the latest day within the horizon matters, so the memory holds the
//! signatures active in the last [`HORIZON`] days (about 40 bytes each),
//! loaded from `daily_signatures` the first time it is needed and dropped
//! (then reloaded) after a rolled-back batch. A signature first seen on a
//! day *before* its latest active day (a clock that went back, a replayed
//! history out of order, or a day older than what memory covers) is not
//! given a gap; its row is counted under [`OUT_OF_ORDER`], and a range near
//! such a row is read from the daily sets instead.

use std::collections::HashMap;

use rusqlite::{params, Connection};

use crate::Day;

/// The longest gap recorded, in days: ranges of up to `HORIZON + 1` days
/// are read from the gap counts.
pub(crate) const HORIZON: i64 = 31;

/// Gap of a signature not active in the [`HORIZON`] days before (or never).
pub(crate) const NO_GAP: i64 = 0;

/// Gap of a signature first seen on a day before its latest active day.
pub(crate) const OUT_OF_ORDER: i64 = -1;

/// The day number (days since 1970-01-01) of `day`.
pub(crate) fn number(day: Day) -> i64 {
    day.start_ms().div_euclid(86_400_000)
}

/// The gap recorded for a signature first active on `day` whose latest
/// active day before it was `last` (if within memory).
pub(crate) fn gap_of(last: Option<i64>, day: i64) -> i64 {
    match last {
        Some(l) if l > day => OUT_OF_ORDER,
        Some(l) if l < day && day - l <= HORIZON => day - l,
        // `l == day` cannot happen for a signature new on `day`.
        _ => NO_GAP,
    }
}

/// The latest active day of every signature active in the last
/// [`HORIZON`] days, per product.
#[derive(Default)]
pub(crate) struct LastSeen {
    loaded: bool,
    /// Signatures in UUID layout as 128-bit numbers, per product.
    uuids: HashMap<String, HashMap<u128, i64>>,
    /// Anything else (not expected: signatures are validated as UUID layout).
    other: HashMap<(String, String), i64>,
    /// The latest day seen.
    newest: i64,
    /// The earliest day whose gaps are known: every signature active in the
    /// `HORIZON` days before it is in memory (set by the load, raised when
    /// older entries are dropped).
    covered_from: i64,
}

impl LastSeen {
    /// Records that `signature` of `product` is active on `day` (a day it
    /// was not active on before) and returns the gap to count it under.
    pub(crate) fn observe(
        &mut self,
        conn: &Connection,
        product: &str,
        signature: &str,
        day: i64,
    ) -> rusqlite::Result<i64> {
        if !self.loaded {
            self.load(conn, day)?;
        }
        let slot = match super::first_seen::uuid_bits(signature) {
            Some(bits) => {
                let map = match self.uuids.get_mut(product) {
                    Some(map) => map,
                    None => self.uuids.entry(product.to_owned()).or_default(),
                };
                map.entry(bits).or_insert(i64::MIN)
            }
            None => self
                .other
                .entry((product.to_owned(), signature.to_owned()))
                .or_insert(i64::MIN),
        };
        let gap = if day < self.covered_from {
            OUT_OF_ORDER
        } else {
            gap_of((*slot != i64::MIN).then_some(*slot), day)
        };
        *slot = (*slot).max(day);
        if day > self.newest {
            self.newest = day;
            if day - self.covered_from > 2 * HORIZON {
                self.prune();
            }
        }
        Ok(gap)
    }

    /// Forgets everything after a batch rolled back; it is reloaded from what
    /// committed the next time it is needed.
    pub(crate) fn rollback(&mut self) {
        *self = LastSeen::default();
    }

    /// Drops the signatures not active within the horizon of the newest day.
    fn prune(&mut self) {
        let keep = self.newest - HORIZON;
        for map in self.uuids.values_mut() {
            map.retain(|_, last| *last >= keep);
        }
        self.other.retain(|_, last| *last >= keep);
        self.covered_from = self.newest;
    }

    /// Loads the daily rows from `HORIZON` days before `day` on: from `day`
    /// on, gaps are known.
    fn load(&mut self, conn: &Connection, day: i64) -> rusqlite::Result<()> {
        let from = Day::from_unix_ms((day - HORIZON) * 86_400_000).to_string();
        let mut stmt = conn.prepare("SELECT day, product, signature FROM daily_signatures WHERE day >= ?1")?;
        let mut rows = stmt.query(params![from])?;
        let mut newest = day;
        while let Some(row) = rows.next()? {
            let d = match row.get_ref(0)?.as_str()?.parse::<Day>() {
                Ok(d) => number(d),
                Err(_) => continue,
            };
            newest = newest.max(d);
            let product = row.get_ref(1)?.as_str()?;
            let signature = row.get_ref(2)?.as_str()?;
            let slot = match super::first_seen::uuid_bits(signature) {
                Some(bits) => self
                    .uuids
                    .entry(product.to_owned())
                    .or_default()
                    .entry(bits)
                    .or_insert(d),
                None => self
                    .other
                    .entry((product.to_owned(), signature.to_owned()))
                    .or_insert(d),
            };
            *slot = (*slot).max(d);
        }
        self.newest = newest;
        self.covered_from = day;
        self.loaded = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{gap_of, HORIZON, NO_GAP, OUT_OF_ORDER};

    #[test]
    fn gaps() {
        assert_eq!(gap_of(None, 100), NO_GAP);
        assert_eq!(gap_of(Some(99), 100), 1);
        assert_eq!(gap_of(Some(100 - HORIZON), 100), HORIZON);
        assert_eq!(gap_of(Some(99 - HORIZON), 100), NO_GAP);
        assert_eq!(gap_of(Some(101), 100), OUT_OF_ORDER);
    }
}
