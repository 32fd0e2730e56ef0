//! The writer: one thread that owns every ingest insert. It gathers queued
//! writes into a batch (up to [`WriterOptions::max_batch`] writes or
//! [`WriterOptions::max_delay`], and sooner as soon as the queue is idle),
//! turns them into one `JSONEachRow` insert per table, and answers every
//! write of the batch only once ClickHouse accepted all of its inserts, or
//! once the spill holds them (see [`crate::spill`]). Catalog writes run on
//! the same thread in queue order, each on its own.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use sonde_protocol::ping::Dropped;
use sonde_store::{Day, EventsStored, NewErrorReport, NewEvents, NewPing, Reply, ReportStored, StoreError};

use crate::client::{json_lines, lit, lit_list, Client};
use crate::known_ids::{self, KnownIds};
use crate::spill::{Spill, SpillError};
use crate::{seq, ClickHouseError};

/// Most event ids asked about in one lookup query.
const ID_LOOKUP_CHUNK: usize = 10_000;

/// A queued write.
pub(crate) enum Op {
    Ping(NewPing, Reply<()>),
    Events(NewEvents, Reply<EventsStored>),
    Report(Box<NewErrorReport>, Reply<ReportStored>),
    /// A catalog write: runs alone, answers its own reply.
    Catalog(Box<dyn FnOnce(&Client) + Send>),
}

/// How the writer batches.
#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    /// Most writes in one batch.
    pub max_batch: usize,
    /// Longest a batch gathers under load.
    pub max_delay: Duration,
    /// How long the queue must stay empty for a batch to go early.
    pub idle: Duration,
    /// How long to wait before retrying a spill drain that failed.
    pub retry: Duration,
    /// How many of the newest event ids the writer remembers, to store new
    /// events without asking ClickHouse about them (see
    /// [`crate::known_ids`]; 4M ids take about 29 MB). `0` asks about every
    /// id.
    pub known_ids: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            max_batch: 20_000,
            max_delay: Duration::from_secs(1),
            idle: Duration::from_millis(2),
            retry: Duration::from_millis(250),
            known_ids: 4_000_000,
        }
    }
}

/// State the store reads while the writer runs.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Insert bodies waiting in the spill.
    pub(crate) spilled: AtomicU64,
    /// Rows those bodies hold.
    pub(crate) spilled_rows: AtomicU64,
}

impl Shared {
    /// Publishes the spill's size.
    pub(crate) fn publish(&self, spill: &Spill) {
        self.spilled_rows.store(spill.rows(), Ordering::Release);
        self.spilled.store(spill.len(), Ordering::Release);
    }
}

#[derive(Default)]
struct Batch {
    pings: Vec<(NewPing, Reply<()>)>,
    events: Vec<(NewEvents, Reply<EventsStored>)>,
    reports: Vec<(Box<NewErrorReport>, Reply<ReportStored>)>,
}

impl Batch {
    fn len(&self) -> usize {
        self.pings.len() + self.events.len() + self.reports.len()
    }
}

/// Runs the writer until every sender is gone, then flushes and drains
/// what it can.
pub(crate) fn run(client: Client, mut spill: Spill, rx: Receiver<Op>, shared: Arc<Shared>, options: WriterOptions) {
    let mut w = Writer {
        client,
        spill: &mut spill,
        shared,
        options,
        next_drain: Instant::now(),
        known: None,
        next_load: Instant::now(),
    };
    w.drain();
    loop {
        let first = if w.spill.is_empty() {
            match rx.recv() {
                Ok(op) => op,
                Err(_) => break,
            }
        } else {
            match rx.recv_timeout(options.retry) {
                Ok(op) => op,
                Err(RecvTimeoutError::Timeout) => {
                    w.drain();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        };
        let mut batch = Batch::default();
        let deadline = Instant::now() + options.max_delay;
        let mut next = Some(first);
        while let Some(op) = next.take() {
            match op {
                Op::Catalog(f) => {
                    w.flush(std::mem::take(&mut batch));
                    f(&w.client);
                }
                Op::Ping(p, r) => batch.pings.push((p, r)),
                Op::Events(e, r) => batch.events.push((e, r)),
                Op::Report(e, r) => batch.reports.push((e, r)),
            }
            if batch.len() >= options.max_batch || Instant::now() >= deadline {
                break;
            }
            next = match rx.try_recv() {
                Ok(op) => Some(op),
                Err(TryRecvError::Empty) => rx.recv_timeout(options.idle).ok(),
                Err(TryRecvError::Disconnected) => None,
            };
        }
        w.flush(batch);
    }
    w.drain();
}

struct Writer<'a> {
    client: Client,
    spill: &'a mut Spill,
    shared: Arc<Shared>,
    options: WriterOptions,
    next_drain: Instant,
    /// The event ids known stored, once loaded; until then every id is
    /// looked up.
    known: Option<KnownIds>,
    /// When to try loading [`Self::known`] again after a failure.
    next_load: Instant,
}

/// How long to wait before loading the known ids again after a failure.
const RELOAD: Duration = Duration::from_secs(30);

#[derive(Serialize)]
struct PingRow<'a> {
    product: &'a str,
    id: String,
    seq: u64,
    at_ms: i64,
    day: String,
    signature: &'a str,
    version: &'a str,
    os: &'a str,
    arch: &'a str,
    runtime: &'a str,
    ci: u8,
    ci_name: &'a str,
}

/// A ping whose check was answered `outdated: true` (see
/// [`sonde_store::upgrades`]): the ping's id, seq, day, signature, version
/// and CI flag.
#[derive(Serialize)]
struct NoticeRow<'a> {
    product: &'a str,
    id: String,
    seq: u64,
    at_ms: i64,
    day: String,
    signature: &'a str,
    version: &'a str,
    ci: u8,
}

#[derive(Serialize)]
struct EventRow<'a> {
    product: &'a str,
    id: &'a str,
    seq: u64,
    kind: &'static str,
    test: u8,
    at_ms: i64,
    day: String,
    fields: String,
}

#[derive(Serialize)]
struct RejectionRow<'a> {
    product: &'a str,
    source: &'a str,
    field: &'static str,
    reason: &'static str,
    op: &'a str,
    count: u64,
}

#[derive(Serialize)]
struct ReportRow<'a> {
    product: &'a str,
    report_id: &'a str,
    seq: u64,
    grp: &'a str,
    at_ms: i64,
    day: String,
    version: Option<&'a str>,
    os: Option<&'a str>,
    signature: Option<&'a str>,
    report: String,
}

/// The rejection rows of one write's dropped fields, counted per (field, reason).
fn rejection_rows<'a>(
    product: &'a str,
    source: &'a str,
    op: &'a str,
    dropped: &[Dropped],
    out: &mut Vec<RejectionRow<'a>>,
) {
    let mut counts: Vec<((&'static str, &'static str), u64)> = Vec::new();
    for d in dropped {
        let key = (d.field, d.reason.as_str());
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => counts.push((key, 1)),
        }
    }
    for ((field, reason), count) in counts {
        out.push(RejectionRow {
            product,
            source,
            field,
            reason,
            op,
            count,
        });
    }
}

fn day(at_ms: i64) -> String {
    Day::from_unix_ms(at_ms).to_string()
}

impl Writer<'_> {
    /// Ids of `product`'s events of `kinds` already in ClickHouse among
    /// `ids`. The kinds let the table's primary key `(product, kind, id)`
    /// find the ids, instead of a scan of the product's events.
    fn stored_event_ids(
        &self,
        product: &str,
        kinds: &[&str],
        ids: &[&str],
    ) -> Result<HashSet<String>, ClickHouseError> {
        #[derive(serde::Deserialize)]
        struct Id {
            id: String,
        }
        let db = &self.client.endpoint().database;
        let rows: Vec<Id> = self.client.rows(&format!(
            "SELECT DISTINCT id FROM {db}.events WHERE product = {} AND kind IN {} AND id IN {}",
            lit(product),
            lit_list(kinds.iter().copied()),
            lit_list(ids.iter().copied())
        ))?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    /// The `(product, id)` pairs of a batch's events already in ClickHouse:
    /// one query per product and [`ID_LOOKUP_CHUNK`] ids, not one per write,
    /// so a batch of many small writes costs a few round trips. Once the
    /// known ids are loaded, only the ids they may hold are asked about
    /// (`hashes` holds each event's [`known_ids::hash`], in order).
    fn stored_batch_ids<'b>(
        &self,
        writes: &'b [(NewEvents, Reply<EventsStored>)],
        hashes: &[u64],
    ) -> Result<HashSet<(&'b str, &'b str)>, ClickHouseError> {
        let mut by_product: HashMap<&str, (Vec<&str>, Vec<&str>)> = HashMap::new();
        let mut hash = hashes.iter();
        for (e, _) in writes {
            for x in &e.events {
                let h = hash.next().copied().unwrap_or_default();
                if self.known.as_ref().is_some_and(|k| !k.may_contain(h)) {
                    continue;
                }
                let (kinds, ids) = by_product.entry(e.product.as_str()).or_default();
                if !kinds.contains(&x.kind.as_str()) {
                    kinds.push(x.kind.as_str());
                }
                ids.push(x.id.as_str());
            }
        }
        let mut out = HashSet::new();
        for (product, (kinds, ids)) in by_product {
            for chunk in ids.chunks(ID_LOOKUP_CHUNK) {
                let found = self.stored_event_ids(product, &kinds, chunk)?;
                out.extend(chunk.iter().filter(|id| found.contains(**id)).map(|id| (product, *id)));
            }
        }
        Ok(out)
    }

    /// The groups of `product`'s reports already in ClickHouse among `ids`.
    fn stored_reports(&self, product: &str, ids: &[&str]) -> Result<HashMap<String, String>, ClickHouseError> {
        #[derive(serde::Deserialize)]
        struct Row {
            report_id: String,
            #[serde(rename = "a_grp")]
            grp: String,
        }
        let db = &self.client.endpoint().database;
        let rows: Vec<Row> = self.client.rows(&format!(
            "SELECT report_id, argMin(grp, seq) AS a_grp FROM {db}.error_reports
             WHERE product = {} AND report_id IN {} GROUP BY report_id",
            lit(product),
            lit_list(ids.iter().copied())
        ))?;
        Ok(rows.into_iter().map(|r| (r.report_id, r.grp)).collect())
    }

    /// Writes one batch and answers its writes.
    #[allow(clippy::too_many_lines)]
    fn flush(&mut self, batch: Batch) {
        if batch.len() == 0 {
            return;
        }
        // Whether ClickHouse can be asked which ids it holds; when it cannot
        // (or the spill is not empty, so what it holds is behind), ids are
        // deduplicated within what this writer sees and on read.
        let mut online = self.spill.is_empty();
        let op_ids: Vec<String> = (0..batch.len()).map(|_| seq::random_id()).collect();
        let mut op_id = op_ids.iter();

        let mut pings = Vec::with_capacity(batch.pings.len());
        let mut notices = Vec::new();
        let mut rejections = Vec::new();
        for (p, _) in &batch.pings {
            let ping = &p.ping;
            let id = op_id.next().map(String::as_str).unwrap_or_default();
            let ping_seq = seq::next();
            if let (true, Some(signature), Some(version)) = (p.told_outdated, &ping.signature, &ping.version) {
                notices.push(NoticeRow {
                    product: ping.product.as_str(),
                    id: id.to_owned(),
                    seq: ping_seq,
                    at_ms: ping.received_at_ms,
                    day: day(ping.received_at_ms),
                    signature,
                    version,
                    ci: u8::from(ping.ci.unwrap_or(false)),
                });
            }
            pings.push(PingRow {
                product: ping.product.as_str(),
                id: id.to_owned(),
                seq: ping_seq,
                at_ms: ping.received_at_ms,
                day: day(ping.received_at_ms),
                signature: ping.signature.as_deref().unwrap_or(""),
                version: ping.version.as_deref().unwrap_or(""),
                os: ping.os.as_deref().unwrap_or(""),
                arch: ping.arch.as_deref().unwrap_or(""),
                runtime: ping.runtime_version.as_deref().unwrap_or(""),
                ci: u8::from(ping.ci.unwrap_or(false)),
                ci_name: ping.ci_name.as_deref().unwrap_or(""),
            });
            rejection_rows(ping.product.as_str(), p.source, id, &p.dropped, &mut rejections);
        }

        let mut events = Vec::new();
        let mut event_answers = Vec::with_capacity(batch.events.len());
        let mut seen: HashSet<(&str, &str)> = HashSet::new();
        let hashes: Vec<u64> = batch
            .events
            .iter()
            .flat_map(|(e, _)| {
                e.events
                    .iter()
                    .map(|x| known_ids::hash(e.product.as_str(), x.id.as_str()))
            })
            .collect();
        if online {
            self.load_known();
        }
        let stored = if online {
            match self.stored_batch_ids(&batch.events, &hashes) {
                Ok(s) => s,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot look up stored event ids; deduplicating on read");
                    online = false;
                    HashSet::new()
                }
            }
        } else {
            HashSet::new()
        };
        for (e, _) in &batch.events {
            let product = e.product.as_str();
            let id = op_id.next().map(String::as_str).unwrap_or_default();
            rejection_rows(product, e.source, id, &e.dropped, &mut rejections);
            let mut answer = EventsStored::default();
            for ev in &e.events {
                if stored.contains(&(product, ev.id.as_str())) || !seen.insert((product, ev.id.as_str())) {
                    answer.duplicates += 1;
                    continue;
                }
                answer.stored += 1;
                events.push(EventRow {
                    product,
                    id: &ev.id,
                    seq: seq::next(),
                    kind: ev.kind.as_str(),
                    test: u8::from(ev.test),
                    at_ms: ev.received_at_ms,
                    day: day(ev.received_at_ms),
                    fields: serde_json::to_string(&ev.fields).unwrap_or_else(|_| "{}".into()),
                });
            }
            event_answers.push(answer);
        }

        let mut reports = Vec::new();
        let mut report_answers = Vec::with_capacity(batch.reports.len());
        let mut seen_reports: HashMap<(&str, &str), &str> = HashMap::new();
        for (r, _) in &batch.reports {
            let product = r.product.as_str();
            let id = op_id.next().map(String::as_str).unwrap_or_default();
            rejection_rows(product, NewErrorReport::SOURCE, id, &r.dropped, &mut rejections);
            let report_id = r.report.report_id.as_str();
            let mut stored_group = seen_reports.get(&(product, report_id)).map(|g| (*g).to_owned());
            if stored_group.is_none() && online {
                match self.stored_reports(product, &[report_id]) {
                    Ok(mut found) => stored_group = found.remove(report_id),
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot look up stored report ids; deduplicating on read");
                        online = false;
                    }
                }
            }
            if let Some(group) = stored_group {
                report_answers.push(ReportStored {
                    report_id: report_id.to_owned(),
                    group,
                    duplicate: true,
                });
                continue;
            }
            seen_reports.insert((product, report_id), &r.group);
            reports.push(ReportRow {
                product,
                report_id,
                seq: seq::next(),
                grp: &r.group,
                at_ms: r.received_at_ms,
                day: day(r.received_at_ms),
                version: r.report.version.as_deref(),
                os: r.report.os.as_deref(),
                signature: r.report.signature.as_deref(),
                report: serde_json::to_string(&r.report).unwrap_or_default(),
            });
            report_answers.push(ReportStored {
                report_id: report_id.to_owned(),
                group: r.group.clone(),
                duplicate: false,
            });
        }

        let inserts: Vec<(&'static str, Vec<u8>)> = vec![
            ("pings", json_lines(&pings)),
            ("notices", json_lines(&notices)),
            ("events", json_lines(&events)),
            ("error_reports", json_lines(&reports)),
            ("rejections", json_lines(&rejections)),
        ];
        let outcome = self.deliver(&inserts);
        if let (Ok(()), Some(known)) = (&outcome, self.known.as_mut()) {
            for h in hashes {
                known.insert(h);
            }
        }
        for (_, reply) in batch.pings {
            let _ = reply.send(answer(&outcome, ()));
        }
        for ((_, reply), answer_value) in batch.events.into_iter().zip(event_answers) {
            let _ = reply.send(answer(&outcome, answer_value));
        }
        for ((_, reply), answer_value) in batch.reports.into_iter().zip(report_answers) {
            let _ = reply.send(answer(&outcome, answer_value));
        }
    }

    /// Inserts the batch's bodies, or spills them; `Ok` once either holds
    /// them. When an insert fails, the bodies ClickHouse already accepted
    /// are not spilled again: only that one and the ones after it are.
    ///
    /// While the spill holds anything, it is drained first (at most once per
    /// [`WriterOptions::retry`] after a failure), so a busy queue cannot
    /// keep it waiting and new rows never overtake spilled ones.
    fn deliver(&mut self, inserts: &[(&'static str, Vec<u8>)]) -> Result<(), SharedError> {
        self.drain();
        let mut rest = inserts;
        if self.spill.is_empty() {
            while let Some(((table, body), after)) = rest.split_first() {
                if let Err(e) = self.client.insert(table, body) {
                    tracing::warn!(error = %e, "ClickHouse insert failed; spilling the rest of the batch");
                    break;
                }
                rest = after;
            }
            if rest.is_empty() {
                return Ok(());
            }
        }
        let pushed = self.spill.push(rest);
        self.shared.publish(self.spill);
        match pushed {
            Ok(()) => Ok(()),
            Err(SpillError::Full { .. }) => Err(SharedError::Full),
            Err(SpillError::File(e)) => Err(SharedError::Failed(Arc::new(e))),
        }
    }

    /// Loads the known event ids, unless they are loaded, not wanted, or a
    /// load failed moments ago.
    fn load_known(&mut self) {
        if self.known.is_some() || self.options.known_ids == 0 || Instant::now() < self.next_load {
            return;
        }
        let started = Instant::now();
        match KnownIds::load(&self.client, self.options.known_ids) {
            Ok(known) => {
                tracing::info!(
                    elapsed_ms = started.elapsed().as_millis(),
                    capacity = self.options.known_ids,
                    "known event ids loaded"
                );
                self.known = Some(known);
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot load the known event ids; looking up every id");
                self.next_load = Instant::now() + RELOAD;
            }
        }
    }

    /// Drains the spill into ClickHouse, unless a drain failed moments ago.
    fn drain(&mut self) {
        if self.spill.is_empty() || Instant::now() < self.next_drain {
            return;
        }
        let client = &self.client;
        if let Err(e) = self.spill.drain(|table, body| client.insert(table, body)) {
            tracing::debug!(error = %e, "ClickHouse still unavailable; the spill waits");
            self.next_drain = Instant::now() + self.options.retry;
        }
        self.shared.publish(self.spill);
    }
}

/// A batch's outcome, answered to each of its writes.
#[derive(Debug, Clone)]
enum SharedError {
    Full,
    Failed(Arc<ClickHouseError>),
}

impl From<SharedError> for StoreError {
    fn from(e: SharedError) -> Self {
        match e {
            SharedError::Full => StoreError::QueueFull,
            SharedError::Failed(e) => StoreError::Write { source: e },
        }
    }
}

/// What one write of a batch is answered: `value` if the batch is held.
fn answer<T>(outcome: &Result<(), SharedError>, value: T) -> Result<T, StoreError> {
    outcome.clone().map(|()| value).map_err(Into::into)
}
