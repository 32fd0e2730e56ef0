//! The writer thread: the only connection that writes, and group commit.
//!
//! The thread blocks for one op, then takes whatever else is already queued
//! (up to `max_batch`, [`super::MAX_BATCH`] by default; see [`gather`] for how
//! a growing batch is given a moment to grow), applies all of it in one
//! `IMMEDIATE` transaction, commits, and only then answers every op. While it fsyncs, new
//! ops pile up in the queue and form the next batch, so the number of fsyncs
//! per second stays bounded however many requests arrive.
//!
//! Per-month unique signatures (see [`super::first_seen`]), rejection
//! counters and the analytics roll-ups (daily first-seen sets, active counts
//! per day and month, cohorts; see [`crate::activity`]) are maintained here,
//! at ingest, in the transaction of the pings they count, so reading them
//! later is a lookup; so are the day gaps behind the rolling figures
//! ([`super::last_seen`]). The command, console and heartbeat roll-ups are kept
//! the same way for the events of a batch (see [`super::event_stats`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rusqlite::{params, Connection, TransactionBehavior};
use tokio::sync::mpsc;

use super::cohorts::Cohorts;
use super::event_stats::{self, EventStats};
use super::first_seen::{FirstSeen, Seen};
use super::last_seen::LastSeen;
use super::notices::{self, Notices};
use super::queue::{EventRows, Msg, ReportRow, Routes, Slot, Words};
use crate::activity::{Attrs, Dimension};
use crate::{
    AlertRecord, Cause, Day, EventsStored, Month, NewAlert, NewErrorReport, NewPing, NewRelease, Release, ReportStored,
    StoreError, VersionConstraint,
};

pub(crate) fn run(mut conn: Connection, mut rx: mpsc::Receiver<Msg>, max_batch: usize, commits: Arc<AtomicU64>) {
    let mut batch: Vec<Msg> = Vec::with_capacity(max_batch);
    let mut months = MonthCache::default();
    let mut first_seen = FirstSeen::months();
    let mut daily = FirstSeen::days();
    let mut weekly = FirstSeen::weeks();
    let mut cohorts = Cohorts::default();
    let mut last_seen = LastSeen::default();
    let mut events = EventStats::default();
    let mut notices = Notices::default();
    let mut ops: u64 = 0;
    let mut failures = Failures::default();
    // `blocking_recv` returns `None` only once every sender is gone and the
    // queue is empty, so closing the store drains it first.
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        drain(&mut rx, &mut batch, max_batch);
        gather(&mut rx, &mut batch, max_batch);
        ops += batch.len() as u64;
        match apply(
            &mut conn,
            &mut batch,
            Memory {
                months: &mut months,
                first_seen: &mut first_seen,
                daily: &mut daily,
                weekly: &mut weekly,
                cohorts: &mut cohorts,
                last_seen: &mut last_seen,
                events: &mut events,
                notices: &mut notices,
            },
        ) {
            Ok(()) => {
                failures.recovered();
                commits.fetch_add(1, Ordering::Relaxed);
                for msg in batch.drain(..) {
                    msg.answer();
                }
            }
            Err(e) => {
                first_seen.rollback();
                daily.rollback();
                weekly.rollback();
                cohorts.rollback();
                last_seen.rollback();
                events.rollback();
                notices.rollback();
                failures.failed(&e, batch.len());
                let cause: Cause = Arc::new(e);
                for msg in batch.drain(..) {
                    msg.fail(&cause);
                }
            }
        }
    }
    let batches = commits.load(Ordering::Relaxed);
    tracing::info!(ops, batches, "store writer stopped; every queued write was answered");
}

/// Failed batches since the last commit: the first is logged, the rest only
/// counted, so a full disk under load is one log line, not one per batch;
/// the commit that ends the run logs how many failed.
#[derive(Default)]
struct Failures {
    since_commit: u64,
}

impl Failures {
    fn failed(&mut self, e: &rusqlite::Error, ops: usize) {
        self.since_commit += 1;
        if self.since_commit > 1 {
            return;
        }
        if is_disk_full(e) {
            tracing::error!(
                error = %e,
                ops,
                "the disk holding the data directory is full: batch rolled back; every write is refused \
                 (503, Retry-After) until space is freed, and further failures are not logged until a write commits"
            );
        } else {
            tracing::error!(
                error = %e,
                ops,
                "batch rolled back; writes are refused (503) while this lasts, and further failures are not logged \
                 until a write commits"
            );
        }
    }

    fn recovered(&mut self) {
        if self.since_commit > 0 {
            tracing::info!(failed_batches = self.since_commit, "writes commit again");
            self.since_commit = 0;
        }
    }
}

/// Whether `e` is SQLite's "database or disk is full".
fn is_disk_full(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DiskFull))
}

/// Moves whatever is already queued into `batch`, up to `max_batch` ops.
fn drain(rx: &mut mpsc::Receiver<Msg>, batch: &mut Vec<Msg>, max_batch: usize) {
    while batch.len() < max_batch {
        match rx.try_recv() {
            Ok(m) => batch.push(m),
            Err(_) => break,
        }
    }
}

/// How many times the writer gives up its CPU to let a growing batch grow.
const GATHER_ROUNDS: usize = 4;

/// Lets a batch that is still growing grow before it is committed: while
/// the last drain found new ops, the writer yields its CPU once (to the
/// threads answering requests, which are what enqueue) and drains again.
///
/// A commit costs far more than one more row in it (WAL frames, fsync,
/// waking every waiter), so on a busy machine fewer, larger batches answer
/// more requests with the same CPU. Nothing waits on a timer: on an idle
/// machine `yield_now` returns at once, the drain finds nothing and the batch
/// is committed straight away.
fn gather(rx: &mut mpsc::Receiver<Msg>, batch: &mut Vec<Msg>, max_batch: usize) {
    for _ in 0..GATHER_ROUNDS {
        if batch.len() >= max_batch {
            return;
        }
        let before = batch.len();
        std::thread::yield_now();
        drain(rx, batch, max_batch);
        if batch.len() == before {
            return;
        }
    }
}

/// Remembers the month and the name of the last UTC day seen, so pings of
/// the same day do not recompute them.
#[derive(Default)]
struct MonthCache {
    day: Option<i64>,
    month: String,
    day_name: String,
    week: String,
}

impl MonthCache {
    /// The month, the day and the ISO week (`YYYY-MM`, `YYYY-MM-DD`, the
    /// week's Monday `YYYY-MM-DD`) holding `ms`.
    fn get(&mut self, ms: i64) -> (&str, &str, &str) {
        let day = ms.div_euclid(86_400_000);
        if self.day != Some(day) {
            self.day = Some(day);
            self.month = Month::from_unix_ms(ms).to_string();
            let d = Day::from_unix_ms(ms);
            self.day_name = d.to_string();
            self.week = d.week_start().to_string();
        }
        (&self.month, &self.day_name, &self.week)
    }
}

/// What a batch adds to the analytics roll-ups.
#[derive(Default)]
pub(crate) struct ActivityTally {
    /// Signatures new in a period, counted once per distinct (product,
    /// interval, period, attributes): a batch holds few distinct
    /// combinations, so a short list searched by reference (most recent
    /// first) costs no allocation for a ping like the one before it. Each
    /// entry is spread over the period's total and every dimension when
    /// written ([`write_activity`]).
    combos: Vec<Combo>,
    /// `cohort_activity` increments by (product, cohort, month, ci).
    pub(crate) cohorts: HashMap<(String, String, String, bool), i64>,
    /// Signatures seen for the first time ever, by (product, day, ci).
    new: Vec<(String, String, bool, i64)>,
    /// `active_gaps` increments by (product, day, gap, ci) (see
    /// [`super::last_seen`]).
    gaps: Vec<(String, String, i64, bool, i64)>,
}

struct Combo {
    product: String,
    interval: &'static str,
    period: String,
    attrs: Attrs,
    n: i64,
}

impl ActivityTally {
    /// Counts a signature new in `period` of `interval` under `attrs`.
    pub(crate) fn add(&mut self, product: &str, interval: &'static str, period: &str, attrs: &Attrs) {
        let found = self
            .combos
            .iter_mut()
            .rev()
            .find(|c| c.interval == interval && c.period == period && c.product == product && c.attrs == *attrs);
        match found {
            Some(c) => c.n += 1,
            None => self.combos.push(Combo {
                product: product.to_owned(),
                interval,
                period: period.to_owned(),
                attrs: attrs.clone(),
                n: 1,
            }),
        }
    }

    /// Counts a signature seen for the first time ever, on `day`.
    pub(crate) fn add_new(&mut self, product: &str, day: &str, ci: bool) {
        match self
            .new
            .iter_mut()
            .find(|(p, d, c, _)| *c == ci && d == day && p == product)
        {
            Some((_, _, _, n)) => *n += 1,
            None => self.new.push((product.to_owned(), day.to_owned(), ci, 1)),
        }
    }

    /// Counts a signature first active on `day` `gap` days after its
    /// previous active day.
    pub(crate) fn add_gap(&mut self, product: &str, day: &str, gap: i64, ci: bool) {
        match self
            .gaps
            .iter_mut()
            .rev()
            .find(|(p, d, g, c, _)| *g == gap && *c == ci && d == day && p == product)
        {
            Some((.., n)) => *n += 1,
            None => self.gaps.push((product.to_owned(), day.to_owned(), gap, ci, 1)),
        }
    }

    /// `active_counts` increments by (product, interval, dimension, period,
    /// ci, value): each combination in the period's total (empty dimension
    /// and value) and under each dimension's value.
    fn increments(&self) -> HashMap<(&str, &'static str, &'static str, &str, bool, &str), i64> {
        let mut out = HashMap::new();
        for c in &self.combos {
            let key = |dimension: &'static str, value| {
                (
                    c.product.as_str(),
                    c.interval,
                    dimension,
                    c.period.as_str(),
                    c.attrs.ci,
                    value,
                )
            };
            *out.entry(key("", "")).or_default() += c.n;
            for d in Dimension::ALL {
                *out.entry(key(d.as_str(), c.attrs.get(d))).or_default() += c.n;
            }
        }
        for (product, day, ci, n) in &self.new {
            *out.entry((product.as_str(), "day", NEW, day.as_str(), *ci, ""))
                .or_default() += n;
        }
        out
    }
}

/// The `dimension` of the `active_counts` rows (interval `day`, value empty)
/// counting signatures seen for the first time ever that day.
pub(crate) const NEW: &str = "new";

/// What a batch adds to the counters, summed over its ops and written once
/// at the end of the batch.
#[derive(Default)]
struct Tally {
    /// New signatures per `(product, month)`: a batch holds few products, so a
    /// short list searched by `&str` beats a map keyed by owned strings.
    new_signatures: Vec<(String, String, i64)>,
    rejections: HashMap<(String, &'static str, &'static str, &'static str), i64>,
    activity: ActivityTally,
    /// What the batch's events add to the command, console and heartbeat
    /// roll-ups.
    events: event_stats::Tally,
    /// What the batch's events add to `event_rollups`.
    event_totals: EventTotals,
    catalog_changed: bool,
}

impl Tally {
    fn new_signature(&mut self, product: &str, month: &str) {
        match self
            .new_signatures
            .iter_mut()
            .find(|(p, m, _)| p == product && m == month)
        {
            Some((_, _, n)) => *n += 1,
            None => self.new_signatures.push((product.to_owned(), month.to_owned(), 1)),
        }
    }
}

/// The ping path's statements, prepared once per batch on first use.
#[derive(Default)]
struct PingStatements<'c> {
    ping: Option<rusqlite::CachedStatement<'c>>,
    signature: Option<rusqlite::CachedStatement<'c>>,
    daily: Option<rusqlite::CachedStatement<'c>>,
}

const INSERT_PING: &str = "INSERT INTO pings(product, version, os, arch, runtime_version, signature, ci, ci_name,
                   client_family, project_hash, cli_path_hash, received_at_ms)
 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

const INSERT_SIGNATURE: &str = "INSERT INTO monthly_signatures(month, seq, product, signature) VALUES (?1, ?2, ?3, ?4)";

pub(crate) const INSERT_DAILY: &str =
    "INSERT INTO daily_signatures(day, seq, product, signature, ci, version, os, arch, runtime, ci_name)
 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

/// Events and errors to add to `event_rollups`, per (product, kind, test,
/// month, key).
pub(crate) type EventTotals = HashMap<(String, String, bool, String, String), (i64, i64)>;

/// Adds `totals` to `event_rollups`.
pub(crate) fn write_event_totals(tx: &Connection, totals: &EventTotals) -> rusqlite::Result<()> {
    if totals.is_empty() {
        return Ok(());
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO event_rollups(product, kind, test, month, key, n, errors) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(product, kind, test, month, key) DO UPDATE
         SET n = n + excluded.n, errors = errors + excluded.errors",
    )?;
    for ((product, kind, test, month, key), (n, errors)) in totals {
        stmt.execute(params![product, kind, test, month, key, n, errors])?;
    }
    Ok(())
}

/// Writes what a batch adds to the analytics roll-ups.
pub(crate) fn write_activity(tx: &Connection, activity: &ActivityTally) -> rusqlite::Result<()> {
    if !activity.combos.is_empty() || !activity.new.is_empty() {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO active_counts(product, interval, dimension, period, ci, value, n)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(product, interval, dimension, period, ci, value) DO UPDATE SET n = n + excluded.n",
        )?;
        for ((product, interval, dimension, period, ci, value), n) in activity.increments() {
            stmt.execute(params![product, interval, dimension, period, ci, value, n])?;
        }
    }
    if !activity.cohorts.is_empty() {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO cohort_activity(product, cohort, month, ci, n) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(product, cohort, month, ci) DO UPDATE SET n = n + excluded.n",
        )?;
        for ((product, cohort, month, ci), n) in &activity.cohorts {
            stmt.execute(params![product, cohort, month, ci, n])?;
        }
    }
    if !activity.gaps.is_empty() {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO active_gaps(product, day, gap, ci, n) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(product, day, gap, ci) DO UPDATE SET n = n + excluded.n",
        )?;
        for (product, day, gap, ci, n) in &activity.gaps {
            stmt.execute(params![product, day, gap, ci, n])?;
        }
    }
    Ok(())
}

/// `slot`'s statement, prepared (from the connection's cache) the first time.
fn stmt<'a, 'c>(
    slot: &'a mut Option<rusqlite::CachedStatement<'c>>,
    conn: &'c Connection,
    sql: &str,
) -> rusqlite::Result<&'a mut rusqlite::CachedStatement<'c>> {
    if slot.is_none() {
        *slot = Some(conn.prepare_cached(sql)?);
    }
    Ok(slot.as_mut().expect("prepared above"))
}

/// Applies a batch in one transaction and commits it; each op's result is
/// left in its slot, to be sent once this returns `Ok`. An `Err` aborts the
/// whole batch: nothing of it was written.
fn apply(conn: &mut Connection, batch: &mut [Msg], memory: Memory<'_>) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut tally = Tally::default();
    {
        let mut ctx = Ctx {
            tally: &mut tally,
            memory,
            stmts: PingStatements::default(),
        };
        for msg in batch {
            apply_op(&tx, msg, &mut ctx)?;
        }
    }
    if !tally.new_signatures.is_empty() {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO monthly_counts(product, month, n) VALUES (?1, ?2, ?3)
             ON CONFLICT(product, month) DO UPDATE SET n = n + excluded.n",
        )?;
        for (product, month, n) in &tally.new_signatures {
            stmt.execute(params![product, month, n])?;
        }
    }
    if !tally.rejections.is_empty() {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO rejections(product, source, field, reason, count) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(product, source, field, reason) DO UPDATE SET count = count + excluded.count",
        )?;
        for ((product, source, field, reason), n) in &tally.rejections {
            stmt.execute(params![product, source, field, reason, n])?;
        }
    }
    write_activity(&tx, &tally.activity)?;
    event_stats::write(&tx, &tally.events)?;
    write_event_totals(&tx, &tally.event_totals)?;
    if tally.catalog_changed {
        tx.prepare_cached("UPDATE meta SET value = value + 1 WHERE key = 'catalog_generation'")?
            .execute([])?;
    }
    tx.commit()
}

fn count_dropped(tally: &mut Tally, product: &str, source: &'static str, dropped: &[sonde_protocol::ping::Dropped]) {
    for d in dropped {
        *tally
            .rejections
            .entry((product.to_owned(), source, d.field, d.reason.as_str()))
            .or_default() += 1;
    }
}

fn product_exists(tx: &Connection, product: &str) -> rusqlite::Result<bool> {
    tx.prepare_cached("SELECT 1 FROM products WHERE name = ?1")?
        .exists(params![product])
}

/// Row counts of the multi-row event inserts: a batch of `n` events is
/// written with one statement per set bit of `n` (100 = 64 + 32 + 4), so a
/// request's events cost three statement runs instead of a hundred, and
/// every statement text is built once.
pub const EVENT_CHUNKS: [usize; 7] = [64, 32, 16, 8, 4, 2, 1];

/// `INSERT OR IGNORE` of `rows` events, for each size in [`EVENT_CHUNKS`].
pub fn insert_events_sql(rows: usize) -> &'static str {
    static SQL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = SQL.get_or_init(|| {
        EVENT_CHUNKS
            .iter()
            .map(|&n| {
                let values = (0..n)
                    .map(|i| {
                        let p = i * 7;
                        format!(
                            "(?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{})",
                            p + 1,
                            p + 2,
                            p + 3,
                            p + 4,
                            p + 5,
                            p + 6,
                            p + 7
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "INSERT OR IGNORE INTO events(product, id, kind, test, occurred_at_ms, received_at_ms, fields) \
                     VALUES {values}"
                )
            })
            .collect()
    });
    let i = EVENT_CHUNKS.iter().position(|&n| n == rows).expect("a chunk size");
    &all[i]
}

/// Inserts a product's events, ignoring ids already stored; returns how
/// many rows were new, and pushes onto `new` the index of each new row
/// (the roll-ups count those).
fn insert_events(
    tx: &Connection,
    product: &str,
    rows: &[super::queue::EventRow],
    new: &mut Vec<usize>,
) -> rusqlite::Result<u64> {
    let mut stored = 0;
    let mut rest = rows;
    let mut base = 0;
    for &n in &EVENT_CHUNKS {
        while rest.len() >= n {
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            // Rows are appended, so those this statement stores are the
            // ones past the largest `seq` before it.
            let before: i64 = tx
                .prepare_cached("SELECT coalesce(max(seq), 0) FROM events")?
                .query_row([], |r| r.get(0))?;
            let mut stmt = tx.prepare_cached(insert_events_sql(n))?;
            let mut index = 1;
            for e in chunk {
                stmt.raw_bind_parameter(index, product)?;
                stmt.raw_bind_parameter(index + 1, &e.id)?;
                stmt.raw_bind_parameter(index + 2, e.kind)?;
                stmt.raw_bind_parameter(index + 3, e.test)?;
                stmt.raw_bind_parameter(index + 4, e.occurred_at_ms)?;
                stmt.raw_bind_parameter(index + 5, e.received_at_ms)?;
                stmt.raw_bind_parameter(index + 6, &e.fields)?;
                index += 7;
            }
            let added = stmt.raw_execute()?;
            stored += added as u64;
            if added == n {
                new.extend(base..base + n);
            } else if added > 0 {
                new_rows(tx, before, chunk, base, new)?;
            }
            base += n;
        }
    }
    Ok(stored)
}

/// The rows of `chunk` (starting at index `base`) that were stored with a
/// `seq` past `before`: some of the chunk were already stored (a retry) or
/// repeated within it, so which ones are new is read back.
fn new_rows(
    tx: &Connection,
    before: i64,
    chunk: &[super::queue::EventRow],
    base: usize,
    new: &mut Vec<usize>,
) -> rusqlite::Result<()> {
    use rusqlite::types::Value;
    let mut ids: std::collections::HashSet<Vec<u8>> = std::collections::HashSet::new();
    let mut stmt = tx.prepare_cached("SELECT id FROM events WHERE seq > ?1")?;
    let mut rows = stmt.query(params![before])?;
    while let Some(r) = rows.next()? {
        match r.get::<_, Value>(0)? {
            Value::Blob(b) => ids.insert(b),
            Value::Text(t) => ids.insert(t.into_bytes()),
            _ => false,
        };
    }
    for (i, e) in chunk.iter().enumerate() {
        let id = match &e.id {
            super::queue::EventId::Uuid(b) => b.to_vec(),
            super::queue::EventId::Text(t) => t.as_bytes().to_vec(),
        };
        // The first of repeated ids is the one stored.
        if ids.remove(&id) {
            new.push(base + i);
        }
    }
    Ok(())
}

/// What applying a batch shares between its ops.
struct Ctx<'a, 'c> {
    tally: &'a mut Tally,
    memory: Memory<'a>,
    stmts: PingStatements<'c>,
}

/// What the writer thread keeps in memory between batches.
struct Memory<'a> {
    months: &'a mut MonthCache,
    first_seen: &'a mut FirstSeen,
    daily: &'a mut FirstSeen,
    weekly: &'a mut FirstSeen,
    cohorts: &'a mut Cohorts,
    last_seen: &'a mut LastSeen,
    events: &'a mut EventStats,
    notices: &'a mut Notices,
}

/// Applies one op and records its result in its slot. An error aborts the
/// whole batch; an op's own refusal (an unknown product) is its result, and
/// nothing of it was written.
fn apply_op<'c>(tx: &'c Connection, msg: &mut Msg, ctx: &mut Ctx<'_, 'c>) -> rusqlite::Result<()> {
    match msg {
        Msg::Ping(slot) => apply_ping(tx, slot, ctx),
        Msg::Events(slot) => apply_events(tx, slot, ctx),
        Msg::Release(slot) => apply_release(tx, slot, ctx.tally),
        Msg::AddAlert(slot) => apply_add_alert(tx, slot, ctx.tally),
        Msg::RemoveAlert(slot) => apply_remove_alert(tx, slot, ctx.tally),
        Msg::Versions(slot) => apply_versions(tx, slot, ctx.tally),
        Msg::Routes(slot) => apply_routes(tx, slot),
        Msg::ErrorReport(slot) => apply_error_report(tx, slot, ctx.tally),
        Msg::Words(slot) => apply_words(tx, slot),
    }
}

/// Stores a report unless its id is already stored, adding a stored one to
/// its group's roll-ups; either way its dropped fields are counted.
fn apply_error_report(
    tx: &Connection,
    slot: &mut Slot<ReportRow, ReportStored>,
    tally: &mut Tally,
) -> rusqlite::Result<()> {
    let r = &slot.op;
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO error_reports(product, id, group_id, version, os, signature, received_at_ms, report)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            r.product,
            r.id,
            r.group,
            r.version,
            r.os,
            r.signature,
            r.received_at_ms,
            r.json
        ])?;
    let group = if inserted == 1 {
        super::error_groups::record(
            tx,
            &r.product,
            &r.group,
            r.version.as_deref(),
            r.os.as_deref(),
            r.signature.as_deref(),
            r.received_at_ms,
            tx.last_insert_rowid(),
        )?;
        r.group.clone()
    } else {
        tx.prepare_cached("SELECT group_id FROM error_reports WHERE product = ?1 AND id = ?2")?
            .query_row(params![r.product, r.id], |row| row.get(0))?
    };
    count_dropped(tally, &r.product, NewErrorReport::SOURCE, &r.dropped);
    let stored = ReportStored {
        report_id: r.report_id.clone(),
        group,
        duplicate: inserted == 0,
    };
    slot.set(Ok(stored));
    Ok(())
}

fn apply_ping<'c>(tx: &'c Connection, slot: &mut Slot<NewPing, ()>, ctx: &mut Ctx<'_, 'c>) -> rusqlite::Result<()> {
    let NewPing {
        ping,
        source,
        dropped,
        told_outdated,
    } = &slot.op;
    let product = ping.product.as_str();
    stmt(&mut ctx.stmts.ping, tx, INSERT_PING)?.execute(params![
        product,
        ping.version,
        ping.os,
        ping.arch,
        ping.runtime_version,
        ping.signature,
        ping.ci,
        ping.ci_name,
        ping.client_family.as_str(),
        ping.project_hash,
        ping.cli_path_hash,
        ping.received_at_ms,
    ])?;
    if let Some(sig) = &ping.signature {
        let (month, day, week) = ctx.memory.months.get(ping.received_at_ms);
        let mut attrs = None;
        if let Seen::New(seq) = ctx.memory.first_seen.observe(tx, month, product, sig)? {
            stmt(&mut ctx.stmts.signature, tx, INSERT_SIGNATURE)?.execute(params![month, seq, product, sig])?;
            ctx.tally.new_signature(product, month);
            let a = attrs.insert(Attrs::of(ping));
            let (cohort, first_ever) = ctx.memory.cohorts.cohort_of(tx, product, sig, month)?;
            if first_ever {
                ctx.tally.activity.add_new(product, day, a.ci);
            }
            ctx.tally.activity.add(product, "month", month, a);
            *ctx.tally
                .activity
                .cohorts
                .entry((product.to_owned(), cohort, month.to_owned(), a.ci))
                .or_default() += 1;
        }
        if let Seen::New(seq) = ctx.memory.daily.observe(tx, day, product, sig)? {
            let a = attrs.get_or_insert_with(|| Attrs::of(ping));
            // The week's set is observed before the day's row is written: a
            // week loaded now must not already hold this signature.
            if let Seen::New(_) = ctx.memory.weekly.observe(tx, week, product, sig)? {
                ctx.tally.activity.add(product, "week", week, a);
            }
            // So is the latest active day, for the same reason.
            let day_number = ping.received_at_ms.div_euclid(86_400_000);
            let gap = ctx.memory.last_seen.observe(tx, product, sig, day_number)?;
            stmt(&mut ctx.stmts.daily, tx, INSERT_DAILY)?.execute(params![
                day, seq, product, sig, a.ci, a.version, a.os, a.arch, a.runtime, a.ci_name
            ])?;
            ctx.tally.activity.add(product, "day", day, a);
            ctx.tally.activity.add_gap(product, day, gap, a.ci);
        }
        ctx.memory.notices.observe(
            tx,
            &notices::Seen {
                product,
                signature: sig,
                version: ping.version.as_deref(),
                ci: ping.ci.unwrap_or(false),
                told_outdated: *told_outdated,
                day: Day::from_unix_ms(ping.received_at_ms),
                day_name: day,
            },
        )?;
    }
    count_dropped(ctx.tally, product, source, dropped);
    slot.set(Ok(()));
    Ok(())
}

fn apply_events(
    tx: &Connection,
    slot: &mut Slot<EventRows, EventsStored>,
    ctx: &mut Ctx<'_, '_>,
) -> rusqlite::Result<()> {
    let EventRows {
        product,
        source,
        rows,
        dropped,
    } = &slot.op;
    let mut new = Vec::new();
    let stored = insert_events(tx, product, rows, &mut new)?;
    for i in new {
        let e = &rows[i];
        let (key, error) = &e.total;
        let month = crate::Month::from_unix_ms(e.received_at_ms).to_string();
        let total = ctx
            .tally
            .event_totals
            .entry((product.clone(), e.kind.to_owned(), e.test, month, key.clone()))
            .or_default();
        total.0 += 1;
        total.1 += i64::from(*error);
        if let Some(facts) = &e.facts {
            event_stats::count(
                tx,
                ctx.memory.events,
                &mut ctx.tally.events,
                product,
                e.received_at_ms,
                facts,
            )?;
        }
    }
    let duplicates = rows.len() as u64 - stored;
    count_dropped(ctx.tally, product, source, dropped);
    slot.set(Ok(EventsStored { stored, duplicates }));
    Ok(())
}

fn apply_release(
    tx: &Connection,
    slot: &mut Slot<(NewRelease, i64), Release>,
    tally: &mut Tally,
) -> rusqlite::Result<()> {
    let (r, now_ms) = &slot.op;
    tx.prepare_cached("INSERT OR IGNORE INTO products(name, created_at_ms) VALUES (?1, ?2)")?
        .execute(params![r.product, now_ms])?;
    tx.prepare_cached(
        "INSERT INTO releases(product, version, date, download_url, changelog_url, website, package,
                              release_tag, install_command)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(product, version) DO UPDATE SET date = excluded.date,
            download_url = excluded.download_url, changelog_url = excluded.changelog_url,
            website = excluded.website, package = excluded.package,
            release_tag = excluded.release_tag, install_command = excluded.install_command",
    )?
    .execute(params![
        r.product,
        r.version,
        r.date,
        r.download_url,
        r.changelog_url,
        r.website,
        r.package,
        r.release_tag,
        r.install_command
    ])?;
    tally.catalog_changed = true;
    let stored = r.clone();
    slot.set(Ok(stored));
    Ok(())
}

fn apply_add_alert(tx: &Connection, slot: &mut Slot<NewAlert, AlertRecord>, tally: &mut Tally) -> rusqlite::Result<()> {
    let a = &slot.op;
    if !product_exists(tx, &a.product)? {
        let refused = StoreError::UnknownProduct(a.product.clone());
        slot.set(Err(refused));
        return Ok(());
    }
    tx.prepare_cached(
        "INSERT INTO alerts(product, level, message, url, affects, date) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![a.product, a.level, a.message, a.url, a.affects, a.date])?;
    let record = AlertRecord::new(tx.last_insert_rowid(), a.clone());
    tally.catalog_changed = true;
    slot.set(Ok(record));
    Ok(())
}

fn apply_remove_alert(tx: &Connection, slot: &mut Slot<i64, bool>, tally: &mut Tally) -> rusqlite::Result<()> {
    let n = tx
        .prepare_cached("DELETE FROM alerts WHERE id = ?1")?
        .execute(params![slot.op])?;
    if n > 0 {
        tally.catalog_changed = true;
    }
    slot.set(Ok(n > 0));
    Ok(())
}

fn apply_versions(tx: &Connection, slot: &mut Slot<VersionConstraint, ()>, tally: &mut Tally) -> rusqlite::Result<()> {
    let v = &slot.op;
    if !product_exists(tx, &v.product)? {
        let refused = StoreError::UnknownProduct(v.product.clone());
        slot.set(Err(refused));
        return Ok(());
    }
    let excluding = serde_json::to_string(&v.excluding).unwrap_or_else(|_| "[]".into());
    tx.prepare_cached(
        "INSERT INTO version_constraints(product, service, minimum, maximum, excluding)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(product, service) DO UPDATE SET minimum = excluded.minimum,
            maximum = excluded.maximum, excluding = excluded.excluding",
    )?
    .execute(params![v.product, v.service, v.minimum, v.maximum, excluding])?;
    tally.catalog_changed = true;
    slot.set(Ok(()));
    Ok(())
}

fn apply_routes(tx: &Connection, slot: &mut Slot<Routes, usize>) -> rusqlite::Result<()> {
    let Routes {
        product,
        templates,
        now_ms,
    } = &slot.op;
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO route_templates(product, template, created_at_ms) VALUES (?1, ?2, ?3)",
    )?;
    let mut added = 0;
    for t in templates {
        added += stmt.execute(params![product, t, now_ms])?;
    }
    slot.set(Ok(added));
    Ok(())
}

fn apply_words(tx: &Connection, slot: &mut Slot<Words, usize>) -> rusqlite::Result<()> {
    let Words { product, words, now_ms } = &slot.op;
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO vocabulary(product, kind, word, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut added = 0;
    for (kind, word) in words {
        added += stmt.execute(params![product, kind, word, now_ms])?;
    }
    slot.set(Ok(added));
    Ok(())
}
