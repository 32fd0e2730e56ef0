//! Command, console and heartbeat roll-ups ([`crate::event_stats`]),
//! maintained by the writer in the transaction of the events they count.
//!
//! - `event_stats` holds, per (product, group, interval `day` or `month`,
//!   period, key), the events, errors and distinct installations: one upsert
//!   per distinct row a batch touches, summed in memory first ([`Tally`]).
//! - Whether an installation is new in a period is decided in memory
//!   ([`Installations`], the pattern of `first_seen.rs`): the writer keeps
//!   the sets of the latest days and months, appends each genuinely new
//!   (period, group, key, installation) to `event_installations` (clustered
//!   on `(period, seq)`, so rows append and a period loads as one range),
//!   and reloads a period's set from there after a restart or a rollback. No
//!   random B-tree write per event. Weeks are answered as unions of the
//!   daily sets in that table.
//! - `heartbeat_latest` holds one row per (product, UTC day, instance) with
//!   its latest metrics, upserted per heartbeat (one per instance per hour
//!   or day: low volume).
//!
//! [`backfill`] replays the raw events of a file from before these tables
//! through the same code, once, in the migration.

use std::collections::{HashMap, HashSet};

use rusqlite::{params, Connection};

use crate::event_stats::{heartbeat_period, parse_metrics, EventFacts, EventGroup, EventStatRow, HeartbeatPeriod};
use crate::{Day, DayRange, Interval, Month};

/// How many periods of each kind stay loaded.
const PERIODS_KEPT: usize = 3;

/// One period's installations per `product \x1f group \x1f key`.
#[derive(Default)]
struct PeriodSet {
    sets: HashMap<String, HashSet<u128>>,
    next_seq: i64,
}

/// First-seen installations of the latest periods of one kind (days or
/// months), loaded from `event_installations` on demand.
#[derive(Default)]
pub(crate) struct Installations {
    sets: HashMap<String, PeriodSet>,
    order: Vec<String>,
}

/// `product \x1f group \x1f key` in `buf`.
fn group_key<'b>(buf: &'b mut String, product: &str, group: EventGroup, key: &str) -> &'b str {
    buf.clear();
    buf.push_str(product);
    buf.push('\x1f');
    buf.push_str(group.as_str());
    buf.push('\x1f');
    buf.push_str(key);
    buf
}

impl Installations {
    /// Records `installation` under `(product, group, key)` in `period`;
    /// the `seq` to store it under if it is new there.
    fn observe(
        &mut self,
        conn: &Connection,
        buf: &mut String,
        period: &str,
        (product, group, key): (&str, EventGroup, &str),
        installation: u128,
    ) -> rusqlite::Result<Option<i64>> {
        if !self.sets.contains_key(period) {
            self.load(conn, buf, period)?;
        }
        let set = self.sets.get_mut(period).expect("loaded above");
        let k = group_key(buf, product, group, key);
        let new = match set.sets.get_mut(k) {
            Some(s) => s.insert(installation),
            None => {
                set.sets.insert(k.to_owned(), HashSet::from([installation]));
                true
            }
        };
        if !new {
            return Ok(None);
        }
        let seq = set.next_seq;
        set.next_seq += 1;
        Ok(Some(seq))
    }

    fn load(&mut self, conn: &Connection, buf: &mut String, period: &str) -> rusqlite::Result<()> {
        let mut set = PeriodSet {
            next_seq: 1,
            ..PeriodSet::default()
        };
        let mut stmt = conn
            .prepare_cached("SELECT seq, product, grp, key, installation FROM event_installations WHERE period = ?1")?;
        let mut rows = stmt.query(params![period])?;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let product: String = row.get(1)?;
            let group = EventGroup::parse(&row.get::<_, String>(2)?);
            let key: String = row.get(3)?;
            let bytes: [u8; 16] = row.get(4)?;
            if let Some(group) = group {
                let k = group_key(buf, &product, group, &key).to_owned();
                set.sets.entry(k).or_default().insert(u128::from_be_bytes(bytes));
            }
            set.next_seq = set.next_seq.max(seq + 1);
        }
        if self.order.len() >= PERIODS_KEPT {
            let oldest = self.order.remove(0);
            self.sets.remove(&oldest);
        }
        self.order.push(period.to_owned());
        self.sets.insert(period.to_owned(), set);
        Ok(())
    }
}

/// What the writer keeps in memory between batches for these roll-ups.
#[derive(Default)]
pub(crate) struct EventStats {
    days: Installations,
    months: Installations,
    /// The day (Unix days) and names of the last event's day and month.
    day: Option<(i64, String, String)>,
    buf: String,
}

impl EventStats {
    /// Forgets every loaded set after a batch rolled back.
    pub(crate) fn rollback(&mut self) {
        *self = EventStats::default();
    }

    fn names(&mut self, received_at_ms: i64) -> (String, String) {
        let d = received_at_ms.div_euclid(86_400_000);
        match &self.day {
            Some((cached, day, month)) if *cached == d => (day.clone(), month.clone()),
            _ => {
                let day = Day::from_unix_ms(received_at_ms).to_string();
                let month = Month::from_unix_ms(received_at_ms).to_string();
                self.day = Some((d, day.clone(), month.clone()));
                (day, month)
            }
        }
    }
}

/// One `event_stats` row's increments.
struct Counts {
    product: String,
    group: EventGroup,
    interval: &'static str,
    period: String,
    key: String,
    n: i64,
    errors: i64,
    installations: i64,
}

/// What a batch adds to `event_stats`, by `product \x1f group \x1f key
/// \x1f interval \x1f period`.
#[derive(Default)]
pub(crate) struct Tally {
    rows: HashMap<String, Counts>,
}

const INSERT_INSTALLATION: &str =
    "INSERT INTO event_installations(period, seq, product, grp, key, installation) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// Counts one stored event of `product` received at `received_at_ms`.
pub(crate) fn count(
    tx: &Connection,
    state: &mut EventStats,
    tally: &mut Tally,
    product: &str,
    received_at_ms: i64,
    facts: &EventFacts,
) -> rusqlite::Result<()> {
    if facts.groups.is_empty() && facts.heartbeat.is_none() {
        return Ok(());
    }
    let (day, month) = state.names(received_at_ms);
    for (group, key) in &facts.groups {
        for (interval, period) in [("day", &day), ("month", &month)] {
            let mut buf = std::mem::take(&mut state.buf);
            let sets = if interval == "day" {
                &mut state.days
            } else {
                &mut state.months
            };
            let new = match facts.installation {
                Some(inst) => {
                    let seq = sets.observe(tx, &mut buf, period, (product, *group, key), inst)?;
                    if let Some(seq) = seq {
                        tx.prepare_cached(INSERT_INSTALLATION)?.execute(params![
                            period,
                            seq,
                            product,
                            group.as_str(),
                            key,
                            &inst.to_be_bytes()[..]
                        ])?;
                    }
                    seq.is_some()
                }
                None => false,
            };
            group_key(&mut buf, product, *group, key);
            buf.push('\x1f');
            buf.push_str(interval);
            buf.push('\x1f');
            buf.push_str(period);
            let c = match tally.rows.get_mut(buf.as_str()) {
                Some(c) => c,
                None => tally.rows.entry(buf.clone()).or_insert(Counts {
                    product: product.to_owned(),
                    group: *group,
                    interval,
                    period: period.clone(),
                    key: key.clone(),
                    n: 0,
                    errors: 0,
                    installations: 0,
                }),
            };
            c.n += 1;
            c.errors += i64::from(facts.error);
            c.installations += i64::from(new);
            state.buf = buf;
        }
    }
    if let Some((instance, metrics)) = &facts.heartbeat {
        tx.prepare_cached(
            "INSERT INTO heartbeat_latest(product, day, instance, received_at_ms, metrics)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(product, day, instance) DO UPDATE
             SET received_at_ms = excluded.received_at_ms, metrics = excluded.metrics
             WHERE excluded.received_at_ms >= heartbeat_latest.received_at_ms",
        )?
        .execute(params![
            product,
            day,
            &instance.to_be_bytes()[..],
            received_at_ms,
            metrics
        ])?;
    }
    Ok(())
}

/// Writes what a batch added to `event_stats`.
pub(crate) fn write(tx: &Connection, tally: &Tally) -> rusqlite::Result<()> {
    if tally.rows.is_empty() {
        return Ok(());
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO event_stats(product, grp, interval, period, key, n, errors, installations)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(product, grp, interval, period, key) DO UPDATE
         SET n = n + excluded.n, errors = errors + excluded.errors,
             installations = installations + excluded.installations",
    )?;
    for c in tally.rows.values() {
        stmt.execute(params![
            c.product,
            c.group.as_str(),
            c.interval,
            c.period,
            c.key,
            c.n,
            c.errors,
            c.installations
        ])?;
    }
    Ok(())
}

/// Fills the roll-ups from the raw events kept, in storage order (run once,
/// by the migration that creates them).
pub(crate) fn backfill(tx: &Connection) -> rusqlite::Result<()> {
    let mut state = EventStats::default();
    let mut tally = Tally::default();
    let mut stmt = tx.prepare(
        "SELECT product, kind, received_at_ms, fields FROM events
         WHERE test = 0 AND kind IN ('command', 'console', 'heartbeat') ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let product: String = r.get(0)?;
        let kind: String = r.get(1)?;
        let received_at_ms: i64 = r.get(2)?;
        let fields: serde_json::Value = serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default();
        if let Some(facts) = EventFacts::of(&kind, false, |n| fields.get(n)) {
            count(tx, &mut state, &mut tally, &product, received_at_ms, &facts)?;
        }
    }
    write(tx, &tally)
}

/// Rows of `group` for `product` per period of `interval` over `range`.
pub(crate) fn event_stats(
    c: &Connection,
    product: &str,
    group: EventGroup,
    range: DayRange,
    interval: Interval,
) -> rusqlite::Result<Vec<EventStatRow>> {
    let periods = interval.periods(range);
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
        return Ok(Vec::new());
    };
    if interval != Interval::Week {
        let stored = if interval == Interval::Day { "day" } else { "month" };
        let mut stmt = c.prepare_cached(
            "SELECT period, key, n, errors, installations FROM event_stats
             WHERE product = ?1 AND grp = ?2 AND interval = ?3 AND period BETWEEN ?4 AND ?5
             ORDER BY period, key",
        )?;
        let rows = stmt.query_map(params![product, group.as_str(), stored, first.name, last.name], |r| {
            Ok(EventStatRow {
                period: r.get(0)?,
                key: r.get(1)?,
                count: r.get::<_, i64>(2)? as u64,
                errors: r.get::<_, i64>(3)? as u64,
                installations: r.get::<_, i64>(4)? as u64,
            })
        })?;
        return rows.collect();
    }
    let mut out = Vec::new();
    for p in periods {
        let (from, to) = (p.days.from.to_string(), p.days.to.to_string());
        let mut counts: std::collections::BTreeMap<String, (u64, u64, HashSet<Vec<u8>>)> = Default::default();
        let mut stmt = c.prepare_cached(
            "SELECT key, SUM(n), SUM(errors) FROM event_stats
             WHERE product = ?1 AND grp = ?2 AND interval = 'day' AND period BETWEEN ?3 AND ?4 GROUP BY key",
        )?;
        let mut rows = stmt.query(params![product, group.as_str(), from, to])?;
        while let Some(r) = rows.next()? {
            let e = counts.entry(r.get(0)?).or_default();
            e.0 = r.get::<_, i64>(1)? as u64;
            e.1 = r.get::<_, i64>(2)? as u64;
        }
        let mut stmt = c.prepare_cached(
            "SELECT key, installation FROM event_installations
             WHERE period BETWEEN ?1 AND ?2 AND length(period) = 10 AND product = ?3 AND grp = ?4",
        )?;
        let mut rows = stmt.query(params![from, to, product, group.as_str()])?;
        while let Some(r) = rows.next()? {
            counts.entry(r.get(0)?).or_default().2.insert(r.get(1)?);
        }
        out.extend(counts.into_iter().map(|(key, (count, errors, inst))| EventStatRow {
            period: p.name.clone(),
            key,
            count,
            errors,
            installations: inst.len() as u64,
        }));
    }
    Ok(out)
}

/// Heartbeat figures of `product` per period of `interval` over `range`,
/// every period included.
pub(crate) fn heartbeats(
    c: &Connection,
    product: &str,
    range: DayRange,
    interval: Interval,
) -> rusqlite::Result<Vec<HeartbeatPeriod>> {
    let mut out = Vec::new();
    let mut stmt = c.prepare_cached(
        "SELECT instance, metrics FROM heartbeat_latest
         WHERE product = ?1 AND day BETWEEN ?2 AND ?3 ORDER BY day",
    )?;
    for p in interval.periods(range) {
        // Later days replace earlier ones: each instance's latest metrics.
        let mut latest: HashMap<Vec<u8>, String> = HashMap::new();
        let mut rows = stmt.query(params![product, p.days.from.to_string(), p.days.to.to_string()])?;
        while let Some(r) = rows.next()? {
            latest.insert(r.get(0)?, r.get(1)?);
        }
        let parsed: Vec<Vec<(String, f64)>> = latest.values().map(|m| parse_metrics(m)).collect();
        out.push(heartbeat_period(p.name, parsed.iter().map(Vec::as_slice)));
    }
    Ok(out)
}
