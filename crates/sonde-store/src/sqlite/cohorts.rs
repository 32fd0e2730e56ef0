//! The first-seen month (cohort) of every signature, kept in memory by the
//! writer thread.
//!
//! A signature's cohort is needed once per signature per month, when it is
//! new in the month. Keeping it in a table keyed by signature would cost one
//! random B-tree page written (and fsynced in the WAL) per new signature,
//! which measured as the largest part of the writer's time per ping. Instead
//! `signature_cohorts` is clustered on `(month, seq)` like
//! `monthly_signatures`: a signature's row is appended once, in the month it
//! is first seen, and never looked up by signature. The lookups happen here,
//! in memory: the whole table is loaded the first time a cohort is asked for
//! (after a start or a rolled-back batch), about 18 bytes per signature in
//! two sorted arrays, plus a hash map of the signatures first seen since.
//!
//! Exactness holds for the same reason as in [`super::first_seen`]: only the
//! writer thread writes the table, and after a rollback the memory is dropped
//! and reloaded from what committed.

use std::collections::HashMap;

use rusqlite::Connection;

/// Signatures first seen since the load are merged into the sorted arrays
/// once there are more than this many, or more than an eighth of them.
const MERGE_AT: usize = 1 << 16;

/// One product's signatures and the index of their first month in
/// [`Cohorts::months`].
#[derive(Default)]
struct ProductCohorts {
    /// Signatures in UUID layout as 128-bit numbers, sorted.
    sorted: Vec<u128>,
    /// `months[i]` is the cohort of `sorted[i]`.
    months: Vec<u16>,
    /// Signatures in UUID layout added since the last merge.
    recent: HashMap<u128, u16>,
    /// Anything else (not expected: signatures are validated as UUID layout).
    other: HashMap<String, u16>,
}

impl ProductCohorts {
    fn get(&self, signature: &str) -> Option<u16> {
        match super::first_seen::uuid_bits(signature) {
            Some(bits) => self
                .recent
                .get(&bits)
                .copied()
                .or_else(|| self.sorted.binary_search(&bits).ok().map(|i| self.months[i])),
            None => self.other.get(signature).copied(),
        }
    }

    fn insert(&mut self, signature: &str, month: u16) {
        match super::first_seen::uuid_bits(signature) {
            Some(bits) => {
                self.recent.insert(bits, month);
                if self.recent.len() > MERGE_AT.max(self.sorted.len() / 8) {
                    self.merge();
                }
            }
            None => {
                self.other.insert(signature.to_owned(), month);
            }
        }
    }

    /// Moves `recent` into the sorted arrays.
    fn merge(&mut self) {
        let mut all: Vec<(u128, u16)> = self.sorted.drain(..).zip(self.months.drain(..)).collect();
        all.extend(self.recent.drain());
        all.sort_unstable_by_key(|(bits, _)| *bits);
        self.sorted = all.iter().map(|(bits, _)| *bits).collect();
        self.months = all.iter().map(|(_, m)| *m).collect();
    }
}

/// The cohort of every signature of every product, loaded on first use.
#[derive(Default)]
pub(crate) struct Cohorts {
    loaded: bool,
    products: HashMap<String, ProductCohorts>,
    /// Month names (`YYYY-MM`) by index.
    months: Vec<String>,
    /// The `seq` the next row of each month (by index) is appended under.
    next_seq: Vec<i64>,
}

impl Cohorts {
    /// The month `signature` of `product` was first seen in, recording
    /// `month` as its cohort (and appending it to `signature_cohorts`) if it
    /// has none yet; and whether it has just been recorded (the signature
    /// was never seen before).
    pub(crate) fn cohort_of(
        &mut self,
        tx: &Connection,
        product: &str,
        signature: &str,
        month: &str,
    ) -> rusqlite::Result<(String, bool)> {
        if !self.loaded {
            self.load(tx)?;
        }
        if let Some(i) = self.products.get(product).and_then(|p| p.get(signature)) {
            return Ok((self.months[usize::from(i)].clone(), false));
        }
        let i = self.month_index(month);
        let seq = self.next_seq[usize::from(i)];
        tx.prepare_cached("INSERT INTO signature_cohorts(month, seq, product, signature) VALUES (?1, ?2, ?3, ?4)")?
            .execute(rusqlite::params![month, seq, product, signature])?;
        self.next_seq[usize::from(i)] = seq + 1;
        self.products
            .entry(product.to_owned())
            .or_default()
            .insert(signature, i);
        Ok((month.to_owned(), true))
    }

    /// Forgets everything after a batch rolled back; it is reloaded from what
    /// committed the next time a cohort is asked for.
    pub(crate) fn rollback(&mut self) {
        *self = Cohorts::default();
    }

    fn month_index(&mut self, month: &str) -> u16 {
        match self.months.iter().position(|m| m == month) {
            Some(i) => i as u16,
            None => {
                self.months.push(month.to_owned());
                self.next_seq.push(1);
                (self.months.len() - 1) as u16
            }
        }
    }

    fn load(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut stmt = conn.prepare("SELECT month, seq, product, signature FROM signature_cohorts")?;
        let mut rows = stmt.query([])?;
        let mut pairs: HashMap<String, Vec<(u128, u16)>> = HashMap::new();
        while let Some(row) = rows.next()? {
            let month: String = row.get(0)?;
            let seq: i64 = row.get(1)?;
            let product: String = row.get(2)?;
            let signature: String = row.get(3)?;
            let i = self.month_index(&month);
            let next = &mut self.next_seq[usize::from(i)];
            *next = (*next).max(seq + 1);
            match super::first_seen::uuid_bits(&signature) {
                Some(bits) => pairs.entry(product).or_default().push((bits, i)),
                None => {
                    self.products.entry(product).or_default().other.insert(signature, i);
                }
            }
        }
        for (product, mut all) in pairs {
            all.sort_unstable_by_key(|(bits, _)| *bits);
            let p = self.products.entry(product).or_default();
            p.sorted = all.iter().map(|(bits, _)| *bits).collect();
            p.months = all.iter().map(|(_, m)| *m).collect();
        }
        self.loaded = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::ProductCohorts;

    fn sig(n: u128) -> String {
        let h = format!("{n:032x}");
        format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
    }

    #[test]
    fn lookups_survive_merges() {
        let mut p = ProductCohorts::default();
        for n in 0..(super::MERGE_AT as u128 * 3) {
            p.insert(&sig(n * 7919), (n % 5) as u16);
        }
        for n in 0..(super::MERGE_AT as u128 * 3) {
            assert_eq!(p.get(&sig(n * 7919)), Some((n % 5) as u16));
        }
        assert_eq!(p.get(&sig(1)), None);
        p.insert("not-a-uuid", 3);
        assert_eq!(p.get("not-a-uuid"), Some(3));
    }
}
