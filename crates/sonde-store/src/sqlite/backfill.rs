//! Filling the analytics roll-ups from the raw pings, once, when a file
//! from before them (schema version 5 or older) is opened.
//!
//! The pings are replayed in storage order with the writer's rules: a
//! signature counts once per day and per month, under the attributes of its
//! first ping there, and its cohort is the first month it was seen in. The
//! sets of the three latest days and months are kept in memory (pings are
//! stored in arrival order, so older periods are done); each period's `seq`
//! counter is kept for the whole replay. Runs inside the migration's
//! transaction, so a file is either upgraded with its history or not at all.
//!
//! The day-gap counts ([`gaps_from_daily`]) are filled the same way, from
//! the daily sets, and the event counters ([`event_totals_from_raw`]) from
//! the raw events kept.

use std::collections::{HashMap, HashSet};

use rusqlite::{params, Connection};

use super::last_seen;
use super::writer::{write_activity, write_event_totals, ActivityTally, EventTotals, INSERT_DAILY};
use crate::activity::Attrs;
use crate::{Day, Month};

/// How many periods of each kind keep their sets.
const PERIODS_KEPT: usize = 3;

/// First-seen sets of the latest periods, and every period's next `seq`.
#[derive(Default)]
struct Window {
    sets: HashMap<String, HashSet<(String, String)>>,
    next_seq: HashMap<String, i64>,
}

impl Window {
    /// The `seq` of `signature` in `period` if it is new there.
    fn insert(&mut self, period: &str, product: &str, signature: &str) -> Option<i64> {
        if !self.sets.contains_key(period) {
            if self.sets.len() >= PERIODS_KEPT {
                let oldest = self.sets.keys().min().cloned().expect("not empty");
                self.sets.remove(&oldest);
            }
            self.sets.insert(period.to_owned(), HashSet::new());
        }
        let set = self.sets.get_mut(period).expect("inserted above");
        if !set.insert((product.to_owned(), signature.to_owned())) {
            return None;
        }
        let next = self.next_seq.entry(period.to_owned()).or_insert(1);
        let seq = *next;
        *next += 1;
        Some(seq)
    }
}

/// Fills `daily_signatures`, `active_counts` (days, weeks, months, and new
/// signatures per day), `signature_cohorts` and `cohort_activity` from
/// `pings`.
pub(crate) fn analytics_from_pings(tx: &Connection) -> rusqlite::Result<()> {
    let mut days = Window::default();
    let mut weeks = Window::default();
    let mut months = Window::default();
    let mut cohorts: HashMap<(String, String), String> = HashMap::new();
    let mut tally = ActivityTally::default();
    let mut insert_daily = tx.prepare(INSERT_DAILY)?;
    let mut insert_cohort =
        tx.prepare("INSERT INTO signature_cohorts(month, seq, product, signature) VALUES (?1, ?2, ?3, ?4)")?;
    let mut pings = tx.prepare(
        "SELECT product, signature, ci, version, os, arch, runtime_version, ci_name, received_at_ms
         FROM pings WHERE signature IS NOT NULL ORDER BY id",
    )?;
    let mut rows = pings.query([])?;
    while let Some(r) = rows.next()? {
        let product: String = r.get(0)?;
        let sig: String = r.get(1)?;
        let text = |i: usize| -> rusqlite::Result<String> { Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default()) };
        let attrs = Attrs {
            ci: r.get::<_, Option<bool>>(2)?.unwrap_or(false),
            version: text(3)?,
            os: text(4)?,
            arch: text(5)?,
            runtime: text(6)?,
            ci_name: text(7)?,
        };
        let ms: i64 = r.get(8)?;
        let month = Month::from_unix_ms(ms).to_string();
        let the_day = Day::from_unix_ms(ms);
        let day = the_day.to_string();
        if let Some(seq) = months.insert(&month, &product, &sig) {
            let cohort = match cohorts.get(&(product.clone(), sig.clone())) {
                Some(cohort) => cohort.clone(),
                None => {
                    insert_cohort.execute(params![month, seq, product, sig])?;
                    tally.add_new(&product, &day, attrs.ci);
                    cohorts.insert((product.clone(), sig.clone()), month.clone());
                    month.clone()
                }
            };
            tally.add(&product, "month", &month, &attrs);
            *tally
                .cohorts
                .entry((product.clone(), cohort, month, attrs.ci))
                .or_default() += 1;
        }
        if let Some(seq) = days.insert(&day, &product, &sig) {
            insert_daily.execute(params![
                day,
                seq,
                product,
                sig,
                attrs.ci,
                attrs.version,
                attrs.os,
                attrs.arch,
                attrs.runtime,
                attrs.ci_name
            ])?;
            tally.add(&product, "day", &day, &attrs);
            let week = the_day.week_start().to_string();
            if weeks.insert(&week, &product, &sig).is_some() {
                tally.add(&product, "week", &week, &attrs);
            }
        }
    }
    write_activity(tx, &tally)
}

/// Fills `active_gaps` from `daily_signatures`, replayed in day order with
/// the writer's rule ([`super::last_seen::gap_of`]), every signature's
/// latest day kept for the whole replay; whatever the table held is
/// replaced.
pub(crate) fn gaps_from_daily(tx: &Connection) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM active_gaps", [])?;
    let mut last: HashMap<(String, String), i64> = HashMap::new();
    let mut tally = ActivityTally::default();
    let mut stmt = tx.prepare("SELECT day, product, signature, ci FROM daily_signatures ORDER BY day, seq")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let day: String = r.get(0)?;
        let Ok(d) = day.parse::<Day>() else { continue };
        let d = last_seen::number(d);
        let product: String = r.get(1)?;
        let signature: String = r.get(2)?;
        let ci: bool = r.get(3)?;
        let slot = last.entry((product.clone(), signature)).or_insert(i64::MIN);
        let gap = last_seen::gap_of((*slot != i64::MIN).then_some(*slot), d);
        *slot = (*slot).max(d);
        tally.add_gap(&product, &day, gap, ci);
    }
    write_activity(tx, &tally)
}

/// Adds every raw event kept to `event_rollups`, which until schema version
/// 11 counted only the events retention had deleted; from then on the
/// writer counts each event as it stores it.
pub(crate) fn event_totals_from_raw(tx: &Connection) -> rusqlite::Result<()> {
    let mut totals = EventTotals::new();
    {
        let mut stmt = tx.prepare("SELECT product, kind, test, received_at_ms, fields FROM events")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let kind: String = r.get(1)?;
            let (key, error) = crate::rollup::rollup_key(&kind, r.get_ref(4)?.as_str()?);
            let month = Month::from_unix_ms(r.get(3)?).to_string();
            let t = totals.entry((r.get(0)?, kind, r.get(2)?, month, key)).or_default();
            t.0 += 1;
            t.1 += i64::from(error);
        }
    }
    write_event_totals(tx, &totals)
}
