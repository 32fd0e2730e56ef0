//! The in-memory first-seen sets of signatures per period (month or day),
//! owned by the writer thread.
//!
//! Deciding "is this signature new this month?" with an `INSERT OR IGNORE`
//! into a unique index dirties one random B-tree page per ping, which under
//! load is most of what every commit writes and fsyncs. Instead the writer
//! keeps each recent month's set in memory (a signature is 16 bytes), writes
//! only genuinely new signatures to `monthly_signatures`, and loads a month's
//! set from that table the first time it needs it (after a restart).
//!
//! `monthly_signatures` is clustered on `(month, seq)` with `seq` counting up
//! per month, so a new signature is appended at the end of its month's range
//! in the one B-tree the table has (no second index to maintain), and loading
//! a month reads one contiguous range. Exactness holds because only this
//! thread writes pings; when a batch rolls back, the in-memory sets are
//! dropped and reloaded from the table, which holds exactly what committed.
//!
//! The daily sets (`daily_signatures`, the analytics roll-ups) follow the
//! same pattern with days for months: [`FirstSeen::days`]. The weekly sets
//! ([`FirstSeen::weeks`]) have no table of their own: a week's set is the
//! union of its days' sets, loaded from `daily_signatures`.

use std::collections::{HashMap, HashSet};

use rusqlite::{params, Connection};

/// How many periods stay loaded; older ones are dropped and reloaded on demand.
const PERIODS_KEPT: usize = 3;

#[derive(Default)]
struct MonthSet {
    /// Signatures in UUID layout, as 128-bit numbers, per product.
    uuids: HashMap<String, HashSet<u128>>,
    /// Anything else (not expected: signatures are validated as UUID layout).
    other: HashSet<(String, String)>,
    /// The `seq` the next new signature of this month is stored under.
    next_seq: i64,
}

/// What [`FirstSeen::observe`] decided about one signature.
pub(crate) enum Seen {
    /// Already counted this month.
    Known,
    /// New this month: store it under this `seq`.
    New(i64),
}

pub(crate) struct FirstSeen {
    sets: HashMap<String, MonthSet>,
    /// Periods in load order, for eviction.
    order: Vec<String>,
    /// Reads a period's set: `seq, product, signature` of the period `?1`
    /// (for weeks: of the days from `?1` to `?2`).
    load_sql: &'static str,
    /// Whether periods are ISO weeks named by their Monday.
    weeks: bool,
}

pub(crate) fn uuid_bits(s: &str) -> Option<u128> {
    sonde_protocol::uuid::parse(s).map(u128::from_be_bytes)
}

impl MonthSet {
    fn insert(&mut self, product: &str, signature: &str) -> bool {
        match uuid_bits(signature) {
            Some(bits) => match self.uuids.get_mut(product) {
                Some(set) => set.insert(bits),
                None => {
                    self.uuids.insert(product.to_owned(), HashSet::from([bits]));
                    true
                }
            },
            None => self.other.insert((product.to_owned(), signature.to_owned())),
        }
    }
}

impl FirstSeen {
    /// The sets per month, kept in `monthly_signatures`.
    pub(crate) fn months() -> Self {
        FirstSeen {
            sets: HashMap::new(),
            order: Vec::new(),
            load_sql: "SELECT seq, product, signature FROM monthly_signatures WHERE month = ?1",
            weeks: false,
        }
    }

    /// The sets per UTC day, kept in `daily_signatures`.
    pub(crate) fn days() -> Self {
        FirstSeen {
            sets: HashMap::new(),
            order: Vec::new(),
            load_sql: "SELECT seq, product, signature FROM daily_signatures WHERE day = ?1",
            weeks: false,
        }
    }

    /// The sets per ISO week (named by its Monday, `YYYY-MM-DD`), loaded as
    /// the union of the week's days in `daily_signatures`. Their `seq`s are
    /// not stored anywhere.
    pub(crate) fn weeks() -> Self {
        FirstSeen {
            sets: HashMap::new(),
            order: Vec::new(),
            load_sql: "SELECT 0, product, signature FROM daily_signatures WHERE day BETWEEN ?1 AND ?2",
            weeks: true,
        }
    }

    /// Records `signature` for `product` in `month` (or day) and says whether
    /// it is new there (loading the period's set from `conn` first if needed).
    pub(crate) fn observe(
        &mut self,
        conn: &Connection,
        month: &str,
        product: &str,
        signature: &str,
    ) -> rusqlite::Result<Seen> {
        if !self.sets.contains_key(month) {
            self.load(conn, month)?;
        }
        let set = self.sets.get_mut(month).expect("loaded above");
        if set.insert(product, signature) {
            let seq = set.next_seq;
            set.next_seq += 1;
            Ok(Seen::New(seq))
        } else {
            Ok(Seen::Known)
        }
    }

    /// Forgets every loaded period after a batch rolled back; each is reloaded
    /// from what committed the next time it is needed.
    pub(crate) fn rollback(&mut self) {
        self.sets.clear();
        self.order.clear();
    }

    fn load(&mut self, conn: &Connection, month: &str) -> rusqlite::Result<()> {
        let mut set = MonthSet {
            next_seq: 1,
            ..MonthSet::default()
        };
        let mut stmt = conn.prepare_cached(self.load_sql)?;
        let mut rows = if self.weeks {
            let sunday = month
                .parse::<crate::Day>()
                .map(|monday| monday.add_days(6).to_string())
                .unwrap_or_default();
            stmt.query(params![month, sunday])?
        } else {
            stmt.query(params![month])?
        };
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let product: String = row.get(1)?;
            let signature: String = row.get(2)?;
            set.insert(&product, &signature);
            set.next_seq = set.next_seq.max(seq + 1);
        }
        if self.order.len() >= PERIODS_KEPT {
            let oldest = self.order.remove(0);
            self.sets.remove(&oldest);
        }
        self.order.push(month.to_owned());
        self.sets.insert(month.to_owned(), set);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::uuid_bits;

    #[test]
    fn uuid_layout_to_bits() {
        assert_eq!(uuid_bits("00000000-0000-0000-0000-00000000000a"), Some(10));
        assert!(uuid_bits("not-a-uuid").is_none());
        assert!(uuid_bits("0000").is_none());
    }
}
