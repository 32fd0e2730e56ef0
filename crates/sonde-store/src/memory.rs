//! [`MemoryStore`]: the [`Store`] interface in memory, with the same
//! semantics as SQLite — duplicate events ignored by `(product, id)`,
//! alerts and version constraints refused for an unknown product, exact
//! monthly distinct signatures, rejection counters, retention roll-ups,
//! error reports stored once per id and grouped, a catalog generation. It is the reference the store suite runs every
//! backend against, and the store of collector tests that need no file.
//!
//! Analytics keeps only the daily first-seen sets (each signature with the
//! attributes of its first ping of the day) and answers every question —
//! days, weeks, months, ranges, breakdowns, cohorts — by folding them when
//! read, so the counters SQLite keeps at ingest are checked against a
//! computation that has none.
//!
//! Writes apply at once under one lock; their [`Pending`] is already
//! answered. [`MemoryStore::handle`] gives another handle on the same data,
//! as a second process opening the same SQLite file would.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::activity::{Attrs, Distinct};
use crate::error_reports::{Aggregate, ReportRow};
use crate::event_stats::EventFacts;
use crate::rollup::{rollup_key, Totals};
use crate::{
    AlertRecord, BreakdownRow, CatalogData, CohortCell, Day, DayRange, Dimension, ErrorGroup, ErrorGroupDetail,
    EventCount, EventGroup, EventStatRow, EventsStored, HeartbeatPeriod, Interval, Month, NewAlert, NewErrorReport,
    NewEvents, NewPing, NewRelease, Pending, PeriodCount, RejectionCount, Release, ReportStored, RetentionOutcome,
    Store, StoreError, StoredErrorReport, UpgradePeriod, VersionConstraint,
};

/// An in-memory store. Data lives as long as any handle on it.
#[derive(Debug, Default)]
pub struct MemoryStore {
    data: Arc<Mutex<Data>>,
    closed: AtomicBool,
}

/// One raw event as kept.
#[derive(Debug)]
struct StoredEvent {
    product: String,
    id: String,
    kind: &'static str,
    test: bool,
    received_at_ms: i64,
    /// The fields as JSON text, as SQLite keeps them.
    fields: String,
}

/// What a roll-up counts under: (product, kind, test, month, key).
type RollupKey = (String, String, bool, String, String);

#[derive(Debug, Default)]
struct Data {
    generation: u64,
    /// Product name → when it was registered.
    products: BTreeMap<String, i64>,
    /// By (product, version).
    releases: BTreeMap<(String, String), Release>,
    /// By id.
    alerts: BTreeMap<i64, AlertRecord>,
    last_alert_id: i64,
    /// By (product, service).
    versions: BTreeMap<(String, String), VersionConstraint>,
    pings: HashMap<String, u64>,
    signatures: HashMap<(String, Month), HashSet<String>>,
    /// Product → day → signature first seen that day → its attributes.
    daily: HashMap<String, BTreeMap<Day, HashMap<String, Attrs>>>,
    rejections: BTreeMap<(String, String, String, String), u64>,
    /// Pings with a signature and a version, in storage order: (product,
    /// signature, day, version, CI flag, told outdated). Upgrades after a
    /// notice are computed from them when read.
    versioned: Vec<(String, String, Day, String, bool, bool)>,
    events: Vec<StoredEvent>,
    event_ids: HashSet<(String, String)>,
    /// What each stored event adds to the command, console and heartbeat
    /// analytics, in storage order: (product, received at, facts). Kept
    /// when retention deletes the event, as SQLite's roll-ups are.
    event_facts: Vec<(String, i64, EventFacts)>,
    /// Counts of events deleted by retention.
    rollups: BTreeMap<RollupKey, (u64, u64)>,
    /// Product → template → when it was registered.
    routes: BTreeMap<String, BTreeMap<String, i64>>,
    /// Error reports in storage order.
    error_reports: Vec<MemoryReport>,
    /// (product, report id) → group, of the reports kept.
    error_report_ids: HashMap<(String, String), String>,
    /// The storage order of the last report stored.
    last_report_seq: i64,
    /// Product → (kind, word) → when it was registered.
    words: BTreeMap<String, BTreeMap<(String, String), i64>>,
}

/// One error report as kept.
#[derive(Debug)]
struct MemoryReport {
    product: String,
    group: String,
    seq: i64,
    stored: StoredErrorReport,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Another handle on the same data, open even if this one is closed.
    pub fn handle(&self) -> Self {
        MemoryStore {
            data: self.data.clone(),
            closed: AtomicBool::new(false),
        }
    }

    fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies a write at once, unless this handle is closed.
    fn write<T>(&self, f: impl FnOnce(&mut Data) -> Result<T, StoreError>) -> Result<Pending<T>, StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        Ok(Pending::ready(f(&mut self.data())))
    }
}

impl Data {
    fn require_product(&self, product: &str) -> Result<(), StoreError> {
        if self.products.contains_key(product) {
            Ok(())
        } else {
            Err(StoreError::UnknownProduct(product.to_owned()))
        }
    }

    fn count_dropped(&mut self, product: &str, source: &str, dropped: &[sonde_protocol::ping::Dropped]) {
        for d in dropped {
            let key = (
                product.to_owned(),
                source.to_owned(),
                d.field.to_owned(),
                d.reason.as_str().to_owned(),
            );
            *self.rejections.entry(key).or_default() += 1;
        }
    }

    fn record_ping(
        &mut self,
        NewPing {
            ping,
            source,
            dropped,
            told_outdated,
        }: NewPing,
    ) {
        let product = ping.product.as_str();
        *self.pings.entry(product.to_owned()).or_default() += 1;
        if let (Some(sig), Some(version)) = (&ping.signature, &ping.version) {
            self.versioned.push((
                product.to_owned(),
                sig.clone(),
                Day::from_unix_ms(ping.received_at_ms),
                version.clone(),
                ping.ci.unwrap_or(false),
                told_outdated,
            ));
        }
        if let Some(sig) = &ping.signature {
            self.daily
                .entry(product.to_owned())
                .or_default()
                .entry(Day::from_unix_ms(ping.received_at_ms))
                .or_default()
                .entry(sig.clone())
                .or_insert_with(|| Attrs::of(&ping));
        }
        if let Some(sig) = ping.signature {
            let month = Month::from_unix_ms(ping.received_at_ms);
            self.signatures
                .entry((product.to_owned(), month))
                .or_default()
                .insert(sig);
        }
        self.count_dropped(product, source, &dropped);
    }

    fn store_events(&mut self, batch: NewEvents) -> EventsStored {
        let product = batch.product.as_str();
        let mut out = EventsStored::default();
        for e in batch.events {
            if !self.event_ids.insert((product.to_owned(), e.id.clone())) {
                out.duplicates += 1;
                continue;
            }
            out.stored += 1;
            if let Some(facts) = EventFacts::of(e.kind.as_str(), e.test, |n| e.fields.get(n)) {
                self.event_facts.push((product.to_owned(), e.received_at_ms, facts));
            }
            self.events.push(StoredEvent {
                product: product.to_owned(),
                id: e.id,
                kind: e.kind.as_str(),
                test: e.test,
                received_at_ms: e.received_at_ms,
                fields: serde_json::to_string(&e.fields).unwrap_or_else(|_| "{}".into()),
            });
        }
        self.count_dropped(product, batch.source, &batch.dropped);
        out
    }

    fn apply_retention(&mut self, cutoff_ms: i64) -> RetentionOutcome {
        let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.events)
            .into_iter()
            .partition(|e| e.received_at_ms < cutoff_ms);
        self.events = kept;
        let expired_events = expired.len() as u64;
        for e in &expired {
            self.event_ids.remove(&(e.product.clone(), e.id.clone()));
            let (key, error) = rollup_key(e.kind, &e.fields);
            let month = Month::from_unix_ms(e.received_at_ms).to_string();
            let counter = self
                .rollups
                .entry((e.product.clone(), e.kind.to_owned(), e.test, month, key))
                .or_default();
            counter.0 += 1;
            counter.1 += u64::from(error);
        }
        let before = self.error_reports.len();
        let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.error_reports)
            .into_iter()
            .partition(|r| r.stored.received_at_ms < cutoff_ms);
        self.error_reports = kept;
        for r in &expired {
            self.error_report_ids
                .remove(&(r.product.clone(), r.stored.report.report_id.clone()));
        }
        RetentionOutcome {
            deleted: expired_events,
            error_reports_deleted: (before - self.error_reports.len()) as u64,
        }
    }

    fn store_error_report(&mut self, new: NewErrorReport) -> ReportStored {
        let product = new.product.as_str().to_owned();
        self.count_dropped(&product, NewErrorReport::SOURCE, &new.dropped);
        let key = (product.clone(), new.report.report_id.clone());
        if let Some(group) = self.error_report_ids.get(&key) {
            return ReportStored {
                report_id: key.1,
                group: group.clone(),
                duplicate: true,
            };
        }
        self.error_report_ids.insert(key, new.group.clone());
        self.last_report_seq += 1;
        let stored = ReportStored {
            report_id: new.report.report_id.clone(),
            group: new.group.clone(),
            duplicate: false,
        };
        self.error_reports.push(MemoryReport {
            product,
            group: new.group,
            seq: self.last_report_seq,
            stored: StoredErrorReport {
                received_at_ms: new.received_at_ms,
                report: new.report,
            },
        });
        stored
    }

    /// The groups of `product` (only `group`, if given), with their samples.
    fn error_groups(&self, product: &str, group: Option<&str>) -> Vec<ErrorGroupDetail> {
        let mut agg = Aggregate::default();
        let mut by_seq = HashMap::new();
        for r in &self.error_reports {
            if r.product == product && group.is_none_or(|g| r.group == g) {
                agg.add(ReportRow {
                    group: &r.group,
                    version: r.stored.report.version.as_deref(),
                    os: r.stored.report.os.as_deref(),
                    signature: r.stored.report.signature.as_deref(),
                    received_at_ms: r.stored.received_at_ms,
                    seq: r.seq,
                });
                by_seq.insert(r.seq, &r.stored);
            }
        }
        // Every seq the aggregate names was added to `by_seq` above.
        match agg.finish(|seq| Ok::<_, std::convert::Infallible>(by_seq[&seq].clone())) {
            Ok(groups) => groups,
            Err(never) => match never {},
        }
    }

    /// The signatures of `product` active in `range`, each under its first
    /// day's attributes.
    fn distinct(&self, product: &str, range: DayRange) -> Distinct {
        let mut out = Distinct::default();
        if let Some(days) = self.daily.get(product) {
            for sigs in days.range(range.from..=range.to).map(|(_, s)| s) {
                for (sig, attrs) in sigs {
                    out.add(sig, || attrs.clone());
                }
            }
        }
        out
    }

    /// Each signature of `product`: the first day it was seen, and whether
    /// its first ping that day said CI.
    fn first_days(&self, product: &str) -> HashMap<&str, (Day, bool)> {
        let mut first = HashMap::new();
        if let Some(days) = self.daily.get(product) {
            for (day, sigs) in days {
                for (sig, attrs) in sigs {
                    first.entry(sig.as_str()).or_insert((*day, attrs.ci));
                }
            }
        }
        first
    }

    fn cohorts(&self, product: &str, from: Month, to: Month, include_ci: bool) -> Vec<CohortCell> {
        let Some(days) = self.daily.get(product) else {
            return Vec::new();
        };
        let mut first: HashMap<&str, Month> = HashMap::new();
        for (day, sigs) in days {
            for sig in sigs.keys() {
                first.entry(sig).or_insert_with(|| day.month());
            }
        }
        let mut cells: BTreeMap<(Month, Month), u64> = BTreeMap::new();
        let months = Interval::Month.periods(DayRange::new(Day::first_of(from), DayRange::month(to).to));
        for period in months {
            let month = period.days.from.month();
            let active = self.distinct(product, period.days);
            for (sig, attrs) in &active.0 {
                let cohort = first[sig.as_str()];
                if cohort >= from && (include_ci || !attrs.ci) {
                    *cells.entry((cohort, month)).or_default() += 1;
                }
            }
        }
        cells
            .into_iter()
            .map(|((cohort, month), active)| CohortCell {
                cohort: cohort.to_string(),
                month: month.to_string(),
                active,
            })
            .collect()
    }

    /// Event figures of `group` folded from the facts of each event.
    fn event_stats(&self, product: &str, group: EventGroup, range: DayRange, interval: Interval) -> Vec<EventStatRow> {
        crate::event_stats::fold_event_stats(self.facts_of(product), group, interval.periods(range))
    }

    /// Heartbeat figures: each instance's latest heartbeat per period.
    fn heartbeat_stats(&self, product: &str, range: DayRange, interval: Interval) -> Vec<HeartbeatPeriod> {
        crate::event_stats::fold_heartbeats(self.facts_of(product), interval.periods(range))
    }

    /// The facts of `product`'s events, in the order received.
    fn facts_of<'a>(&'a self, product: &'a str) -> impl Iterator<Item = (i64, &'a EventFacts)> + Clone + 'a {
        self.event_facts
            .iter()
            .filter(move |(p, _, _)| p == product)
            .map(|(_, at, f)| (*at, f))
    }

    fn releases(&self, product: Option<&str>) -> Vec<Release> {
        let mut releases: Vec<Release> = self
            .releases
            .values()
            .filter(|r| product.is_none_or(|p| r.product == p))
            .cloned()
            .collect();
        releases.sort_by(|a, b| (&a.product, a.date, &a.version).cmp(&(&b.product, b.date, &b.version)));
        releases
    }

    fn alerts(&self, product: Option<&str>) -> Vec<AlertRecord> {
        self.alerts
            .values()
            .filter(|a| product.is_none_or(|p| a.product == p))
            .cloned()
            .collect()
    }
}

impl Store for MemoryStore {
    fn record_ping(&self, ping: NewPing) -> Result<Pending<()>, StoreError> {
        self.write(|d| {
            d.record_ping(ping);
            Ok(())
        })
    }

    fn store_events(&self, events: NewEvents) -> Result<Pending<EventsStored>, StoreError> {
        self.write(|d| Ok(d.store_events(events)))
    }

    fn publish_release(&self, release: NewRelease, now_ms: i64) -> Result<Pending<Release>, StoreError> {
        self.write(|d| {
            d.products.entry(release.product.clone()).or_insert(now_ms);
            let key = (release.product.clone(), release.version.clone());
            d.releases.insert(key, release.clone());
            d.generation += 1;
            Ok(release)
        })
    }

    fn add_alert(&self, alert: NewAlert) -> Result<Pending<AlertRecord>, StoreError> {
        self.write(|d| {
            d.require_product(&alert.product)?;
            d.last_alert_id += 1;
            let record = AlertRecord::new(d.last_alert_id, alert);
            d.alerts.insert(record.id, record.clone());
            d.generation += 1;
            Ok(record)
        })
    }

    fn remove_alert(&self, id: i64) -> Result<Pending<bool>, StoreError> {
        self.write(|d| {
            let removed = d.alerts.remove(&id).is_some();
            if removed {
                d.generation += 1;
            }
            Ok(removed)
        })
    }

    fn set_versions(&self, constraint: VersionConstraint) -> Result<Pending<()>, StoreError> {
        self.write(|d| {
            d.require_product(&constraint.product)?;
            let key = (constraint.product.clone(), constraint.service.clone());
            d.versions.insert(key, constraint);
            d.generation += 1;
            Ok(())
        })
    }

    fn add_routes(&self, product: &str, templates: Vec<String>, now_ms: i64) -> Result<Pending<usize>, StoreError> {
        self.write(|d| {
            let routes = d.routes.entry(product.to_owned()).or_default();
            let before = routes.len();
            for t in templates {
                routes.entry(t).or_insert(now_ms);
            }
            Ok(routes.len() - before)
        })
    }

    fn store_error_report(&self, report: NewErrorReport) -> Result<Pending<ReportStored>, StoreError> {
        self.write(|d| Ok(d.store_error_report(report)))
    }

    fn add_words(
        &self,
        product: &str,
        words: Vec<(String, String)>,
        now_ms: i64,
    ) -> Result<Pending<usize>, StoreError> {
        self.write(|d| {
            let known = d.words.entry(product.to_owned()).or_default();
            let before = known.len();
            for w in words {
                known.entry(w).or_insert(now_ms);
            }
            Ok(known.len() - before)
        })
    }

    fn apply_retention(&self, cutoff_ms: i64) -> Result<RetentionOutcome, StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        Ok(self.data().apply_retention(cutoff_ms))
    }

    fn catalog_generation(&self) -> Result<u64, StoreError> {
        Ok(self.data().generation)
    }

    fn load_catalog(&self) -> Result<CatalogData, StoreError> {
        let d = self.data();
        Ok(CatalogData {
            generation: d.generation,
            products: d.products.keys().cloned().collect(),
            releases: d.releases(None),
            alerts: d.alerts(None),
            versions: d.versions.values().cloned().collect(),
        })
    }

    fn releases(&self, product: &str) -> Result<Vec<Release>, StoreError> {
        Ok(self.data().releases(Some(product)))
    }

    fn alerts(&self, product: Option<&str>) -> Result<Vec<AlertRecord>, StoreError> {
        Ok(self.data().alerts(product))
    }

    fn monthly_active(&self, product: &str, month: Month) -> Result<u64, StoreError> {
        let d = self.data();
        Ok(d.signatures
            .get(&(product.to_owned(), month))
            .map_or(0, |s| s.len() as u64))
    }

    fn active(
        &self,
        product: &str,
        range: DayRange,
        interval: Interval,
        include_ci: bool,
    ) -> Result<Vec<PeriodCount>, StoreError> {
        let d = self.data();
        let first = d.first_days(product);
        Ok(interval
            .periods(range)
            .into_iter()
            .map(|p| PeriodCount {
                count: d.distinct(product, p.days).count(include_ci),
                new: first
                    .values()
                    .filter(|(day, ci)| p.days.contains(*day) && (include_ci || !ci))
                    .count() as u64,
                period: p.name,
            })
            .collect())
    }

    fn upgrades(
        &self,
        product: &str,
        range: DayRange,
        interval: Interval,
        include_ci: bool,
    ) -> Result<Vec<UpgradePeriod>, StoreError> {
        // Per signature: its notice (day, version, CI flag) and, once seen
        // on a newer version, the days it took.
        let mut notices: HashMap<&str, (Day, &str, bool, Option<u32>)> = HashMap::new();
        let d = self.data();
        for (p, sig, day, version, ci, told) in &d.versioned {
            if p != product {
                continue;
            }
            match notices.get_mut(sig.as_str()) {
                None if *told => {
                    notices.insert(sig, (*day, version, *ci, None));
                }
                Some((notice, noticed, _, upgraded @ None)) if crate::upgrades::is_newer(version, noticed) => {
                    *upgraded = Some(day.days_since(*notice) as u32);
                }
                _ => {}
            }
        }
        let kept = || notices.values().filter(|(_, _, ci, _)| include_ci || !ci);
        Ok(crate::upgrades::fold(
            range,
            interval,
            kept().map(|(day, ..)| (*day, 1)),
            kept().filter_map(|(day, _, _, after)| after.map(|a| (*day, a, 1))),
        ))
    }

    fn active_in(&self, product: &str, range: DayRange, include_ci: bool) -> Result<u64, StoreError> {
        Ok(self.data().distinct(product, range).count(include_ci))
    }

    fn breakdown(
        &self,
        product: &str,
        dimension: Dimension,
        range: DayRange,
        interval: Interval,
        include_ci: bool,
    ) -> Result<Vec<BreakdownRow>, StoreError> {
        let d = self.data();
        let mut out = Vec::new();
        for p in interval.periods(range) {
            for (value, count) in d.distinct(product, p.days).by(dimension, include_ci) {
                out.push(BreakdownRow {
                    period: p.name.clone(),
                    value,
                    count,
                });
            }
        }
        Ok(out)
    }

    fn cohorts(&self, product: &str, from: Month, to: Month, include_ci: bool) -> Result<Vec<CohortCell>, StoreError> {
        Ok(self.data().cohorts(product, from, to, include_ci))
    }

    fn rejections(&self, product: Option<&str>) -> Result<Vec<RejectionCount>, StoreError> {
        let d = self.data();
        Ok(d.rejections
            .iter()
            .filter(|((p, ..), _)| product.is_none_or(|want| p == want))
            .map(|((product, source, field, reason), count)| RejectionCount {
                product: product.clone(),
                source: source.clone(),
                field: field.clone(),
                reason: reason.clone(),
                count: *count,
            })
            .collect())
    }

    fn ping_count(&self, product: &str) -> Result<u64, StoreError> {
        Ok(self.data().pings.get(product).copied().unwrap_or(0))
    }

    fn event_count(&self, product: &str) -> Result<u64, StoreError> {
        Ok(self.data().events.iter().filter(|e| e.product == product).count() as u64)
    }

    fn routes(&self, product: &str) -> Result<Vec<String>, StoreError> {
        let d = self.data();
        Ok(d.routes
            .get(product)
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default())
    }

    fn words(&self, product: &str) -> Result<Vec<(String, String)>, StoreError> {
        let d = self.data();
        Ok(d.words
            .get(product)
            .map(|w| w.keys().cloned().collect())
            .unwrap_or_default())
    }

    fn event_counts(&self, product: &str, kind: &str, include_test: bool) -> Result<Vec<EventCount>, StoreError> {
        let d = self.data();
        let mut totals = Totals::default();
        for ((p, k, test, month, key), (count, errors)) in &d.rollups {
            if p == product && k == kind && (include_test || !test) {
                totals.add(month.clone(), key.clone(), *count, *errors);
            }
        }
        for e in &d.events {
            if e.product == product && e.kind == kind && (include_test || !e.test) {
                totals.add_event(kind, e.received_at_ms, &e.fields);
            }
        }
        Ok(totals.into_counts())
    }

    fn event_stats(
        &self,
        product: &str,
        group: EventGroup,
        range: DayRange,
        interval: Interval,
    ) -> Result<Vec<EventStatRow>, StoreError> {
        Ok(self.data().event_stats(product, group, range, interval))
    }

    fn heartbeat_stats(
        &self,
        product: &str,
        range: DayRange,
        interval: Interval,
    ) -> Result<Vec<HeartbeatPeriod>, StoreError> {
        Ok(self.data().heartbeat_stats(product, range, interval))
    }

    fn error_groups(&self, product: &str) -> Result<Vec<ErrorGroup>, StoreError> {
        Ok(self
            .data()
            .error_groups(product, None)
            .into_iter()
            .map(|d| d.group)
            .collect())
    }

    fn error_group(&self, product: &str, group: &str) -> Result<Option<ErrorGroupDetail>, StoreError> {
        Ok(self.data().error_groups(product, Some(group)).pop())
    }

    fn error_report_count(&self, product: &str) -> Result<u64, StoreError> {
        Ok(self
            .data()
            .error_reports
            .iter()
            .filter(|r| r.product == product)
            .count() as u64)
    }

    fn close(&self) -> Result<(), StoreError> {
        self.closed.store(true, Ordering::Release);
        Ok(())
    }
}
